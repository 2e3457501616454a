"""Coverage maps a planner can open and send: one HTML file built on folium (Leaflet).

:func:`coverage_map` draws an analysis as toggleable layers with a legend:
isochrone bands, facilities by kind, villages coloured covered / uncovered, where
the uncovered people live (from the population raster), admin units shaded by
covered share and candidate sites. :func:`save_map` writes it self-contained: the
Leaflet JavaScript and CSS shipped in ``coverage/static`` are inlined, so the map
renders with no network; basemap tiles are the only remote part.

Names come from OpenStreetMap and users' files, so no text is ever given to the
browser as HTML: popups, tooltips and labels are built in the page with
``textContent``, layer names and legend entries are escaped, and the data embedded
in the page's scripts cannot close a ``<script>`` element.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from coverage._errors import InputError
from coverage._i18n import kind_name, profile_name, status_word, text
from coverage.analysis.result import Analysis

if TYPE_CHECKING:
    from coverage.standards.assessment import Assessment

logger = logging.getLogger(__name__)

LEAFLET_VERSION = "1.9.4"
STATIC_DIR = Path(__file__).with_name("static") / "leaflet"
LEAFLET_CDN = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/"

#: Basemaps by name; ``none`` draws the data layers on a plain background.
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_TILES_ATTRIBUTION = (
    'Basemap &copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
BASEMAPS = ("osm", "none")

#: Colours of the isochrone bands, nearest first: the same band has the same colour on every map.
BAND_COLOURS = ("#006d2c", "#41ab5d", "#a1d99b", "#d9f0d3", "#f7fcf5")
COVERED_COLOUR = "#2166ac"
UNCOVERED_COLOUR = "#e31a1c"
SITE_COLOUR = "#ffbf00"
#: Admin units by covered share: (upper bound of the class, colour).
SHARE_CLASSES = ((0.5, "#d7191c"), (0.7, "#fdae61"), (0.9, "#a6d96a"), (1.0, "#1a9641"))

#: Facility icons by kind: (letter, css colour, shape); other kinds get a grey circle.
FACILITY_ICONS = {
    "hospital": ("H", "#b2182b", "square"),
    "ems": ("A", "#e66101", "diamond"),
    "clinic": ("C", "#2166ac", "circle"),
    "doctors": ("D", "#5e3c99", "circle"),
}
OTHER_ICON = ("•", "#636363", "circle")

#: Defaults keeping the default region's map well under 10 MB.
DEFAULT_SIMPLIFY_M = 20.0
COORDINATE_DECIMALS = 5  # about 1 m
GAP_MAX_PIXELS = 1200
GAP_MIN_PIXEL_M = 250.0
#: Radius of village markers in screen pixels (by population, between these).
VILLAGE_MIN_RADIUS, VILLAGE_MAX_RADIUS = 2.5, 6.0
#: Map panes of the pictures, under the vector layers whatever the order they are switched on in.
SURFACE_PANE, GAP_PANE = "fcSurface", "fcGap"

_CSS = """
.fc-box { background: rgba(255,255,255,0.93); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, sans-serif; color: #222; }
.fc-title { position: absolute; top: 10px; left: 54px; z-index: 1000;
  max-width: calc(100% - 420px); }
.fc-title h1 { font-size: 15px; margin: 0 0 2px 0; }
.fc-legend { position: absolute; bottom: 24px; right: 10px; z-index: 1000; max-width: 300px;
  max-height: 45%; overflow-y: auto; }
.fc-legend h2 { font-size: 12px; margin: 6px 0 2px 0; }
.fc-legend ul { list-style: none; margin: 0; padding: 0; }
.fc-legend li { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.fc-legend li > span:first-child { flex: none; white-space: nowrap; }
.fc-swatch { width: 14px; height: 12px; border: 1px solid #555; flex: none; }
.fc-dot { width: 10px; height: 10px; border-radius: 50%; border: 1px solid #333; flex: none; }
.fc-pass { color: #1a7f37; font-weight: bold; } .fc-fail { color: #cf222e; font-weight: bold; }
.fc-cannot, .fc-cannot_evaluate { color: #6e7781; font-weight: bold; }
.fc-assumed { color: #bc4c00; font-weight: bold; } .fc-not_applicable { color: #6e7781; }
.fc-icon { display: flex; align-items: center; justify-content: center; box-sizing: border-box;
  font: bold 11px/1 system-ui, sans-serif; color: #fff; border: 2px solid #fff;
  box-shadow: 0 0 3px rgba(0,0,0,0.6); }
.fc-icon span { display: flex; align-items: center; justify-content: center; width: 100%; height: 100%;
  border-radius: inherit; }
.fc-circle { border-radius: 50%; } .fc-square { border-radius: 3px; }
.fc-diamond { transform: rotate(45deg); border-radius: 2px; } .fc-diamond span { transform: rotate(-45deg); }
.fc-star { border-radius: 50%; color: #000; border-color: #000; }
.fc-popup table { border-collapse: collapse; margin-top: 4px; }
.fc-popup td { padding: 1px 6px 1px 0; vertical-align: top; }
.fc-popup td:first-child { color: #555; white-space: nowrap; }
"""

# Builds every layer of the page from plain data; text only ever reaches the page through textContent.
_JS = """
window.fcLayers = {};
function fcText(tag, text, cls) {
  var e = document.createElement(tag);
  e.textContent = text;
  if (cls) { e.className = cls; }
  return e;
}
function fcPopup(title, rows) {
  var box = fcText('div', '', 'fc-popup');
  box.appendChild(fcText('b', title));
  var table = document.createElement('table');
  rows.forEach(function (row) {
    var tr = table.insertRow();
    tr.insertCell().textContent = row[0];
    var cell = tr.insertCell();
    if (row.length > 2 && !/^\\s*(javascript|data|vbscript):/i.test(row[2])) {
      var a = fcText('a', row[1]);
      a.href = row[2];
      cell.appendChild(a);
    } else {
      cell.textContent = row[1];
    }
  });
  box.appendChild(table);
  return box;
}
function fcLayer(name, data) {
  var layer = L.geoJSON(data, {
    style: function (f) { return f.properties.style || {}; },
    pointToLayer: function (f, latlng) {
      var p = f.properties;
      if (p.icon) {
        var icon = L.divIcon({className: 'fc-icon ' + p.icon.cls, html: fcText('span', p.icon.text),
                              iconSize: [p.icon.size, p.icon.size]});
        icon.options.html.style.background = p.icon.colour;
        return L.marker(latlng, {icon: icon, title: p.tooltip || '', keyboard: false});
      }
      return L.circleMarker(latlng, p.style || {});
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      if (p.popup) { layer.bindPopup(function () { return fcPopup(p.popup[0], p.popup[1]); }); }
      if (p.tooltip && !p.icon) { layer.bindTooltip(fcText('span', p.tooltip), {sticky: true}); }
    }
  });
  window.fcLayers[name] = layer;
  return layer;
}
"""


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` are escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class DataLayer(folium.map.Layer):
    """A GeoJSON layer drawn by the page's ``fcLayer`` from plain feature data (see :func:`feature`)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = fcLayer({{ this.key }}, {{ this.data }});
        {% endmacro %}
        """
    )

    def __init__(self, features: Sequence[dict[str, Any]], *, name: str, show: bool = True) -> None:
        # layer names are shown by Leaflet's layer control as HTML
        super().__init__(name=html.escape(name), overlay=True, control=True, show=show)
        self._name = "DataLayer"
        self.key = _script_json(name)
        self.data = _script_json({"type": "FeatureCollection", "features": list(features)})
        self.count = len(features)


class _Attribution(MacroElement):
    """Data credits in the map's attribution control, whatever the basemap (plain text).

    The credits of every source can take two lines on a laptop's screen: the legend
    and the scale bar are kept above them.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text }});
        (function () {
            function fcAboveCredits() {
                var credits = document.querySelector('.leaflet-control-attribution');
                if (!credits) { return; }
                var legend = document.querySelector('.fc-legend');
                if (legend) { legend.style.bottom = (credits.offsetHeight + 8) + 'px'; }
                var left = document.querySelector('.leaflet-bottom.leaflet-left');
                if (left) { left.style.bottom = credits.offsetHeight + 'px'; }
            }
            window.addEventListener('load', fcAboveCredits);
            window.addEventListener('resize', fcAboveCredits);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = _script_json(html.escape(text))


class _FitOnLoad(MacroElement):
    """Fit the map again once the page is laid out.

    A map inside an ``iframe srcdoc`` (e.g. in a report) can run before its frame
    has a size, and Leaflet then fits to an empty box, at the deepest zoom.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.addEventListener('load', function () {
            {{ this._parent.get_name() }}.invalidateSize();
            {{ this._parent.get_name() }}.fitBounds({{ this.bounds }}, {{ this.options }});
        });
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], options: dict[str, Any]) -> None:
        super().__init__()
        self._name = "FitOnLoad"
        self.bounds = json.dumps(bounds)
        self.options = json.dumps(options)


def _root(m: folium.Map) -> Figure:
    return cast(Figure, m.get_root())


def _rounded(geometry: shapely.Geometry) -> dict[str, Any]:
    geometry = shapely.transform(geometry, lambda xy: np.round(xy, COORDINATE_DECIMALS))
    return json.loads(shapely.to_geojson(geometry))


def feature(
    geometry: shapely.Geometry,
    *,
    style: dict[str, Any] | None = None,
    popup: tuple[str, Sequence[Sequence[str]]] | None = None,
    tooltip: str | None = None,
    icon: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One feature of a :class:`DataLayer`, WGS84 geometry rounded to about 1 m.

    Parameters
    ----------
    geometry : shapely geometry
        In WGS84 longitude/latitude.
    style : dict, optional
        Leaflet path options (``color``, ``fillColor``, ``radius``...); points
        without an icon are drawn as circle markers with it.
    popup : (title, rows), optional
        Rows of (label, value) or (label, text, href) shown as a table on click; all plain text.
    tooltip : str, optional
        Shown on hover (as the marker's title for icons).
    icon : dict, optional
        ``{"text", "colour", "cls", "size"}`` of a marker drawn as a small badge.
    """
    properties: dict[str, Any] = {}
    if style is not None:
        properties["style"] = style
    if popup is not None:
        properties["popup"] = [str(popup[0]), [[str(part) for part in row] for row in popup[1]]]
    if tooltip is not None:
        properties["tooltip"] = str(tooltip)
    if icon is not None:
        properties["icon"] = icon
    return {"type": "Feature", "geometry": _rounded(geometry), "properties": properties}


def check_basemap(basemap: str, basemap_attribution: str | None = None, *, source: str = "--basemap") -> None:
    """Refuse a basemap other than ``osm``, ``none`` or a tile URL with ``{z}/{x}/{y}`` and its credit line.

    ``source`` says where the value came from (an option, a configuration key), for the message.
    """
    if basemap in ("osm", "none"):
        return
    if not all(part in basemap for part in ("{z}", "{x}", "{y}")):
        msg = f"{source} {basemap!r}: expected 'osm', 'none' or a tile URL with {{z}}, {{x}} and {{y}}"
        raise InputError(msg)
    if not basemap_attribution:
        msg = f"{source} {basemap!r}: a custom tile URL needs its credit line too ({source}-attribution TEXT)"
        raise InputError(msg)


def new_map(
    bounds: tuple[float, float, float, float],
    *,
    title: str,
    attribution: str,
    subtitle: str = "",
    basemap: str = "osm",
    basemap_attribution: str | None = None,
) -> folium.Map:
    """An empty map fitted to ``bounds`` with a title, scale bar and attribution.

    Parameters
    ----------
    bounds : (west, south, east, north)
        In degrees.
    title, subtitle : str
        Shown at the top of the map (plain text).
    attribution : str
        Data credits, e.g. ``"© OpenStreetMap contributors; Population: WorldPop"``,
        shown in the corner whatever the basemap.
    basemap : str
        ``"osm"`` (OpenStreetMap tiles), ``"none"`` (no tiles), or a tile URL with
        ``{z}``, ``{x}`` and ``{y}`` (then ``basemap_attribution`` is required).
    basemap_attribution : str, optional
        Credit of a custom tile URL (plain text).
    """
    west, south, east, north = (float(v) for v in bounds)
    if not (np.isfinite([west, south, east, north]).all() and west <= east and south <= north):
        msg = f"cannot fit a map to bounds {bounds}: expected finite (west, south, east, north) in degrees"
        raise InputError(msg)
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True, zoom_start=10)
    # only Leaflet is needed: folium's jQuery, Bootstrap and icon fonts are left out
    m.default_js = [("leaflet", LEAFLET_CDN + "leaflet.js")]
    m.default_css = [("leaflet_css", LEAFLET_CDN + "leaflet.css")]
    if basemap == "osm":
        folium.TileLayer(OSM_TILES, attr=OSM_TILES_ATTRIBUTION, name="OpenStreetMap", max_zoom=19).add_to(m)
    elif basemap != "none":
        check_basemap(basemap, basemap_attribution)
        folium.TileLayer(basemap, attr=html.escape(str(basemap_attribution)), name="Basemap").add_to(m)
    root = _root(m)
    root.header.add_child(Element(f"<style>{_CSS}</style>"), name="fc_css")
    root.header.add_child(Element(f"<script>{_JS}</script>"), name="fc_js")
    root.html.add_child(
        Element(
            f'<div class="fc-box fc-title"><h1>{html.escape(title)}</h1>'
            + (f"<div>{html.escape(subtitle)}</div>" if subtitle else "")
            + "</div>"
        ),
        name="fc_title",
    )
    m.add_child(_Attribution(attribution))
    # room for the title above and the layer control and legend on the right
    corners = [[south, west], [north, east]]
    padding = {"paddingTopLeft": [10, 70], "paddingBottomRight": [320, 10]}
    m.fit_bounds(corners, padding_top_left=(10, 70), padding_bottom_right=(320, 10))
    m.add_child(_FitOnLoad(corners, padding))
    return m


def add_legend(m: folium.Map, sections: Sequence[tuple[str, Any]], *, lang: str = "en") -> None:
    """A legend box: sections of (heading, [(label, css colour or class), ...]) or (heading, ramp).

    A ``colour`` starting with ``#`` draws a swatch; ``dot:#rrggbb`` a round dot;
    ``status:NAME`` (a status of :data:`coverage.standards.checks.STATUSES`; also plain
    ``pass``/``fail``/``cannot``) the status word in ``lang``. Labels are plain text. A
    ramp is an object with an ``html()`` method (see :class:`coverage.outputs.map_surface.Ramp`).
    """
    parts = ['<div class="fc-box fc-legend">']
    for heading, items in sections:
        if hasattr(items, "html"):
            parts.append(f"<h2>{html.escape(heading)}</h2>{items.html()}")
            continue
        parts.append(f"<h2>{html.escape(heading)}</h2><ul>")
        for label, colour in items:
            if colour.startswith("status:") or colour in ("pass", "fail", "cannot"):
                status = {"cannot": "cannot_evaluate"}.get(colour, colour).removeprefix("status:")
                mark = f'<span class="fc-{html.escape(status)}">{html.escape(status_word(status, lang))}</span>'
            elif colour.startswith("dot:"):
                mark = f'<span class="fc-dot" style="background:{html.escape(colour[4:])}"></span>'
            else:
                mark = f'<span class="fc-swatch" style="background:{html.escape(colour)}"></span>'
            parts.append(f"<li>{mark}<span>{html.escape(label)}</span></li>")
        parts.append("</ul>")
    parts.append("</div>")
    _root(m).html.add_child(Element("".join(parts)), name="fc_legend")


def _minutes_text(value: float, lang: str = "en") -> str:
    return text("map_not_reached", lang) if not np.isfinite(value) else f"{value:.1f}"


def direction_words(analysis: Analysis, lang: str = "en") -> str:
    """``to the nearest facility`` or ``from the nearest facility``, in ``lang``."""
    return text("map_to_nearest" if analysis.direction == "to_facility" else "map_from_nearest", lang)


def isochrone_bands(
    analysis: Analysis, *, simplify_m: float = DEFAULT_SIMPLIFY_M
) -> list[tuple[str, shapely.Geometry, str]]:
    """(label, polygon, colour) of each band between consecutive thresholds, nearest first.

    Polygons are in the network's projected CRS, simplified to ``simplify_m``; a band
    is the threshold's area minus all nearer ones (simplified polygons of nested areas
    may cross each other), so bands never overlap.
    """
    iso = analysis.isochrones.to_crs(analysis.network.crs)
    bands = []
    inner = shapely.Polygon()
    lower = 0.0
    for i, threshold in enumerate(analysis.minutes):
        rows = iso[iso["minutes"] == threshold]
        if rows.empty:
            continue
        outer = shapely.simplify(rows.geometry.union_all(), simplify_m)
        band = shapely.difference(outer, inner) if not inner.is_empty else outer
        if not band.is_empty:
            bands.append((f"{lower:g}–{threshold:g} min", band, BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)]))
        inner = shapely.union(inner, outer) if not inner.is_empty else outer
        lower = threshold
    return bands


def place_limits(
    analysis: Analysis, places: gpd.GeoDataFrame, *, minutes: float, assessment: Assessment | None = None
) -> np.ndarray:
    """Minutes within which each place counts as covered: ``minutes``, or its zone class's threshold in the standard."""
    limits = np.full(len(places), float(minutes))
    if assessment is not None:
        by_standard = assessment.travel_limits(analysis, places)
        limits = np.where(np.isnan(by_standard), limits, by_standard)
    return limits


def covered_mask(places: pd.DataFrame, limits: np.ndarray) -> np.ndarray:
    """True where a place's time is within its limit (unreached places are not)."""
    return places["minutes"].fillna(np.inf).to_numpy(dtype=float) <= limits


def headline(analysis: Analysis, *, minutes: float, assessment: Assessment | None = None, lang: str = "en") -> str:
    """One line under a map's title: profile, direction, villages and people within the threshold."""
    villages, cells = analysis.villages, analysis.cells
    judged = text("map_standard_thresholds" if assessment is not None else "map_minutes", lang, minutes=minutes)
    covered = covered_mask(villages, place_limits(analysis, villages, minutes=minutes, assessment=assessment))
    line = text(
        "map_headline",
        lang,
        profile=profile_name(analysis.profile.name, lang),
        direction=direction_words(analysis, lang),
        covered=int(covered.sum()),
        total=len(villages),
        judged=judged,
    )
    if cells is not None and len(cells):
        people = cells["population"].to_numpy(dtype=float)
        inside = people[covered_mask(cells, place_limits(analysis, cells, minutes=minutes, assessment=assessment))]
        line += text("map_headline_people", lang, share=inside.sum() / people.sum())
    return line


def _facility_icon(kind: str) -> tuple[str, str, str]:
    return FACILITY_ICONS.get(kind, OTHER_ICON)


def _off_network_text(row: Any, lang: str) -> str:
    if row.off_network:
        return text("map_off_network_yes", lang, metres=row.snap_distance_m)
    return text("map_no", lang)


def _facility_layers(facilities: gpd.GeoDataFrame, lang: str = "en") -> list[DataLayer]:
    layers = []
    for kind, group in facilities.groupby(facilities["kind"].astype(str), sort=True):
        letter, colour, shape = _facility_icon(kind)
        shown = kind_name(kind, lang)
        features = [
            feature(
                row.geometry,
                tooltip=f"{row.name} ({shown})",
                icon={"text": letter, "colour": colour, "cls": f"fc-{shape}", "size": 20},
                popup=(
                    str(row.name),
                    [
                        (text("map_kind", lang), shown),
                        (text("map_id", lang), str(row.id)),
                        (text("map_off_network", lang), _off_network_text(row, lang)),
                    ],
                ),
            )
            for row in group.itertuples()
        ]
        layers.append(DataLayer(features, name=text("map_facilities_layer", lang, kind=shown, n=len(group))))
    return layers


def _village_layer(villages: gpd.GeoDataFrame, limits: np.ndarray, lang: str = "en") -> DataLayer:
    features = []
    population = villages["population"].to_numpy(dtype=float)
    for row, limit, people in zip(villages.itertuples(), limits, population, strict=True):
        minutes = float(row.minutes) if pd.notna(row.minutes) else np.inf
        covered = minutes <= limit
        # small enough not to hide the travel-time surface at the opening zoom
        radius = float(np.clip(2.0 + np.sqrt(np.nan_to_num(people)) / 40.0, VILLAGE_MIN_RADIUS, VILLAGE_MAX_RADIUS))
        style = {
            "radius": radius,
            "color": "#333333" if not row.off_network else "#000000",
            "weight": 1 if not row.off_network else 2,
            "dashArray": "2 2" if row.off_network else None,
            "fillColor": COVERED_COLOUR if covered else UNCOVERED_COLOUR,
            "fillOpacity": 0.85,
        }
        beyond = text("map_beyond", lang, minutes=minutes - limit) if not covered and np.isfinite(minutes) else ""
        answer = text("map_yes", lang) if covered else text("map_no", lang) + beyond
        nearest = row.nearest_facility_name
        rows = [
            (
                text("map_population", lang),
                text("map_unknown", lang) if np.isnan(people) else f"{people:,.0f} ({row.population_source})",
            ),
            (text("map_admin_unit", lang), str(row.zone) if isinstance(row.zone, str) and row.zone else "–"),
            (text("map_nearest_facility", lang), str(nearest) if pd.notna(nearest) else text("map_none", lang)),
            (text("map_minutes_row", lang), _minutes_text(minutes, lang)),
            (text("map_within", lang), text("map_within_value", lang, limit=limit, answer=answer)),
            (text("map_off_network", lang), _off_network_text(row, lang)),
        ]
        if row.small_piece:
            rows.append((text("map_small_piece", lang), text("map_small_piece_yes", lang)))
        features.append(
            feature(
                row.geometry,
                style={k: v for k, v in style.items() if v is not None},
                tooltip=str(row.name),
                popup=(str(row.name), rows),
            )
        )
    covered = int(covered_mask(villages, limits).sum())
    return DataLayer(features, name=text("map_villages_layer", lang, covered=covered, outside=len(villages) - covered))


def _gap_overlay(
    cells: gpd.GeoDataFrame, limits: np.ndarray, lang: str = "en"
) -> tuple[folium.raster_layers.ImageOverlay, float, float] | None:
    """Uncovered people per pixel as a transparent PNG, binned in Web Mercator so it sits exactly on the map."""
    outside = ~covered_mask(cells, limits)
    if not outside.any():
        return None
    lon = cells.geometry.x.to_numpy()
    lat = cells.geometry.y.to_numpy()
    x, y = shapely.get_coordinates(gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(3857).geometry.array).T
    # pixels a few raster cells wide (finer ones leave a moiré of empty pixels), at most GAP_MAX_PIXELS across
    span = max(x.max() - x.min(), y.max() - y.min(), 1.0)
    pixel_m = max(span / GAP_MAX_PIXELS, GAP_MIN_PIXEL_M)
    nx = max(int(np.ceil((x.max() - x.min()) / pixel_m)) + 1, 1)
    ny = max(int(np.ceil((y.max() - y.min()) / pixel_m)) + 1, 1)
    x0, y1 = x.min() - pixel_m / 2, y.max() + pixel_m / 2
    col = np.clip(((x[outside] - x0) / pixel_m).astype(int), 0, nx - 1)
    row = np.clip(((y1 - y[outside]) / pixel_m).astype(int), 0, ny - 1)
    people = np.zeros((ny, nx))
    np.add.at(people, (row, col), cells["population"].to_numpy(dtype=float)[outside])
    from matplotlib import colormaps
    from matplotlib import pyplot as plt

    scaled = np.log1p(people) / np.log1p(people.max()) if people.max() > 0 else people
    rgba = colormaps["RdPu"](0.35 + 0.65 * scaled)
    rgba[..., 3] = np.where(people > 0, 0.55 + 0.4 * scaled, 0.0)
    buffer = io.BytesIO()
    plt.imsave(buffer, rgba, format="png")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    corners = gpd.GeoSeries(gpd.points_from_xy([x0, x0 + nx * pixel_m], [y1 - ny * pixel_m, y1]), crs=3857).to_crs(4326)
    bounds = [[corners.y.iloc[0], corners.x.iloc[0]], [corners.y.iloc[1], corners.x.iloc[1]]]
    total = float(cells["population"].to_numpy(dtype=float)[outside].sum())
    name = text("map_people_outside_layer", lang, people=total)
    # hidden at first: the travel-time surface already shows the land beyond the circle
    overlay = folium.raster_layers.ImageOverlay(
        url, bounds=bounds, name=html.escape(name), interactive=False, pane=GAP_PANE, show=False
    )
    return overlay, pixel_m, float(people.max())


def _share_colour(share: float) -> str:
    for upper, colour in SHARE_CLASSES:
        if share <= upper:
            return colour
    return SHARE_CLASSES[-1][1]


def _zone_layer(
    zones: gpd.GeoDataFrame, places: pd.DataFrame, limits: np.ndarray, simplify_m: float, lang: str = "en"
) -> DataLayer:
    weights = places["population"].fillna(0).to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            "zone": places["zone"].to_numpy(),
            "people": weights,
            "covered": np.where(covered_mask(places, limits), weights, 0.0),
        }
    )
    totals: dict[Any, dict[Any, float]] = frame.groupby("zone")[["people", "covered"]].sum().to_dict("index")
    crs = zones.estimate_utm_crs()
    simplified = zones.to_crs(crs).simplify(simplify_m).to_crs(4326)
    features = []
    for name, geometry in zip(zones["zone"], simplified, strict=True):
        people = totals.get(name, {}).get("people", 0.0)
        covered = totals.get(name, {}).get("covered", 0.0)
        share = covered / people if people else float("nan")
        colour = "#bdbdbd" if np.isnan(share) else _share_colour(share)
        share_text = text("map_no_population", lang) if np.isnan(share) else f"{share:.0%}"
        features.append(
            feature(
                geometry,
                style={"color": "#444444", "weight": 1.5, "fillColor": colour, "fillOpacity": 0.45},
                tooltip=text("map_covered_tooltip", lang, name=name, share=share_text),
                popup=(
                    str(name),
                    [
                        (text("map_covered_share", lang), share_text),
                        (
                            text("map_people_covered", lang),
                            text("map_people_covered_value", lang, covered=covered, people=people),
                        ),
                    ],
                ),
            )
        )
    return DataLayer(features, name=text("map_zones_layer", lang), show=False)


def _site_layer(sites: gpd.GeoDataFrame, lang: str = "en") -> DataLayer:
    sites = sites.to_crs(4326) if sites.crs is not None else sites
    order = sites["order"] if "order" in sites else pd.Series(range(1, len(sites) + 1), index=sites.index)
    features = []
    for (_, row), rank in zip(sites.iterrows(), order, strict=True):
        name = str(row.get("name") or row.get("site_id") or text("map_site", lang, rank=rank))
        rows = [(text("map_order", lang), str(rank))]
        for label, column, fmt in (
            ("map_source", "source", "{}"),
            ("map_people_gain", "population_gain", "{:,.0f}"),
            ("map_villages_gain", "villages_gain", "{:,.0f}"),
            ("map_people_after", "population_covered_after", "{:,.0f}"),
        ):
            if column in row and pd.notna(row[column]):
                rows.append((text(label, lang), fmt.format(row[column])))
        heading = text("map_candidate", lang, rank=rank, name=name)
        features.append(
            feature(
                row.geometry,
                tooltip=heading,
                icon={"text": str(rank), "colour": SITE_COLOUR, "cls": "fc-star", "size": 22},
                popup=(heading, rows),
            )
        )
    return DataLayer(features, name=text("map_sites_layer", lang, n=len(sites)))


def _bounds(frames: Iterable[gpd.GeoDataFrame | None]) -> tuple[float, float, float, float]:
    boxes = np.array([frame.total_bounds for frame in frames if frame is not None and len(frame)])
    if not len(boxes):
        msg = "nothing to map: the analysis has no facilities, villages or isochrones"
        raise InputError(msg)
    return (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())


def coverage_map(
    analysis: Analysis,
    *,
    assessment: Assessment | None = None,
    sites: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    title: str | None = None,
    basemap: str = "osm",
    basemap_attribution: str | None = None,
    simplify_m: float = DEFAULT_SIMPLIFY_M,
    extra_layers: Sequence[folium.map.Layer] = (),
    extra_legend: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
    lang: str = "en",
) -> folium.Map:
    """The coverage map of an analysis, as a folium Map (shown inline in notebooks).

    Parameters
    ----------
    analysis : Analysis
        From :func:`coverage.analysis.run.analyze` (or ``assessment.primary_analysis``).
    assessment : Assessment, optional
        A standard's results: its targets are listed with pass / fail, and each
        village is judged by the threshold its zone class has in the standard.
    sites : GeoDataFrame, optional
        Candidate sites (e.g. a siting result's ``sites``), drawn in their ``order``.
    minutes : float, optional
        Threshold that makes a place covered; default the standard's (with an
        assessment) or the analysis' largest.
    title : str, optional
        Default: the region, profile and direction.
    basemap, basemap_attribution : str
        See :func:`new_map`.
    simplify_m : float
        Polygons are simplified to this tolerance in metres.
    extra_layers : sequence of folium layers
        More layers to draw and list in the layer control (e.g. a
        :class:`DataLayer` of the villages changed since a previous run).
    extra_legend : sequence of (heading, [(label, colour), ...])
        Legend sections of the extra layers (see :func:`add_legend`).
    lang : {"en", "zh"}
        Language of the title, legend, layer names, popups and kind names.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`.
    """
    if minutes is None:
        minutes = max(analysis.minutes)
    if minutes <= 0:
        msg = f"minutes must be positive, got {minutes}"
        raise InputError(msg)
    villages, cells = analysis.villages, analysis.cells

    def limits_of(places: gpd.GeoDataFrame) -> np.ndarray:
        return place_limits(analysis, places, minutes=float(minutes), assessment=assessment)

    village_limits = limits_of(villages)
    direction = direction_words(analysis, lang)
    m = new_map(
        _bounds([analysis.isochrones, analysis.facilities, villages]),
        title=title or text("map_title", lang, region=analysis.region),
        subtitle=headline(analysis, minutes=float(minutes), assessment=assessment, lang=lang),
        attribution=analysis.attribution,
        basemap=basemap,
        basemap_attribution=basemap_attribution,
    )
    from coverage.outputs.map_surface import (
        add_surface_assets,
        catchment_features,
        density_ramp,
        outline_features,
        surface_overlay,
    )

    legend: list[tuple[str, Any]] = []
    folium.map.CustomPane(SURFACE_PANE, z_index=350, pointer_events=False).add_to(m)
    folium.map.CustomPane(GAP_PANE, z_index=360, pointer_events=False).add_to(m)
    add_surface_assets(m)
    drawn = surface_overlay(analysis, title=title or analysis.region, lang=lang)
    travel_time = text("map_travel_time", lang, profile=profile_name(analysis.profile.name, lang))
    if drawn is not None:
        overlay, ramp = drawn
        overlay.options["pane"] = SURFACE_PANE
        overlay.add_to(m)
        legend.append((travel_time, ramp))
    else:
        bands = isochrone_bands(analysis, simplify_m=simplify_m)
        for label, projected, colour in reversed(bands):
            geometry = gpd.GeoSeries([projected], crs=analysis.network.crs).to_crs(4326).iloc[0]
            style = {"color": colour, "weight": 0.5, "fillColor": colour, "fillOpacity": 0.55}
            DataLayer(
                [feature(geometry, style=style, tooltip=f"{label} {direction}")],
                name=text("map_band_layer", lang, label=label),
            ).add_to(m)
        legend.append((travel_time, [(label, colour) for label, _, colour in bands]))
    name, features = catchment_features(analysis, simplify_m=simplify_m, lang=lang)
    if features:
        DataLayer([feature(**f) for f in features], name=name, show=False).add_to(m)
    if cells is not None and len(cells):
        gap = _gap_overlay(cells, limits_of(cells), lang)
        if gap is not None:
            overlay, pixel_m, densest = gap
            overlay.add_to(m)
            pixel = f"{pixel_m:,.0f} m" if pixel_m < 1000 else f"{pixel_m / 1000:.1f} km"
            legend.append((text("map_people_outside", lang), density_ramp(densest, pixel=pixel, lang=lang)))
    if analysis.zones is not None and len(analysis.zones):
        places = cells if cells is not None and len(cells) else villages
        _zone_layer(analysis.zones, places, limits_of(places), simplify_m, lang).add_to(m)
        edges = [0.0, *(upper for upper, _ in SHARE_CLASSES)]
        legend.append(
            (
                text("map_zones_legend", lang),
                [(f"{lo:.0%}–{hi:.0%}", colour) for lo, (hi, colour) in zip(edges, SHARE_CLASSES, strict=False)],
            )
        )
    _village_layer(villages, village_limits, lang).add_to(m)
    legend.append(
        (
            text("map_villages", lang),
            [
                (text("map_villages_within", lang), f"dot:{COVERED_COLOUR}"),
                (text("map_villages_outside", lang), f"dot:{UNCOVERED_COLOUR}"),
            ],
        )
    )
    for layer in _facility_layers(analysis.facilities, lang):
        layer.add_to(m)
    kinds = sorted(analysis.facilities["kind"].astype(str).unique())
    legend.append((text("map_facilities", lang), [(kind_name(kind, lang), _facility_icon(kind)[1]) for kind in kinds]))
    if sites is not None and len(sites):
        _site_layer(sites, lang).add_to(m)
        legend.append((text("map_sites", lang), [(text("map_sites_item", lang), SITE_COLOUR)]))
    if assessment is not None:
        legend.append(_targets_legend(assessment, lang))
    for extra in extra_layers:
        extra.add_to(m)
    name, features = outline_features(analysis, simplify_m=simplify_m, lang=lang)
    if features:
        DataLayer([feature(**f) for f in features], name=name).add_to(m)
    legend.extend((heading, list(items)) for heading, items in extra_legend)
    add_legend(m, legend, lang=lang)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def _targets_legend(assessment: Assessment, lang: str) -> tuple[str, list[tuple[str, str]]]:
    """The standard's targets with their status words; a stand-in's assumption written after its label."""
    standard = assessment.standard
    items = []
    for target, result in zip(standard.targets, assessment.results, strict=True):
        label = target.label_zh if lang == "zh" else target.label_en
        assumption = (result.assumption_zh if lang == "zh" else result.assumption) or ""
        if assumption:
            label += ("：" if lang == "zh" else ": ") + assumption
        items.append((label, f"status:{result.status}"))
    return (standard.title_zh if lang == "zh" else standard.title_en), items


def leaflet_assets() -> tuple[str, str]:
    """The shipped Leaflet JavaScript and CSS (its images as data URIs), to inline into a page."""
    script = (STATIC_DIR / "leaflet.js").read_text(encoding="utf-8")
    script = re.sub(r"//# sourceMappingURL=\S+\s*$", "", script)
    css = (STATIC_DIR / "leaflet.css").read_text(encoding="utf-8")

    def image(match: re.Match[str]) -> str:
        data = base64.b64encode((STATIC_DIR / "images" / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return script, re.sub(r"url\(images/([\w.-]+\.png)\)", image, css)


def _inline_assets(page: str) -> str:
    """Replace the Leaflet links with the shipped files' contents; refuse any other external script or style."""
    script, css = leaflet_assets()
    page = page.replace(f'<script src="{LEAFLET_CDN}leaflet.js"></script>', f"<script>{script}</script>")
    page = page.replace(f'<link rel="stylesheet" href="{LEAFLET_CDN}leaflet.css"/>', f"<style>{css}</style>")
    external = re.findall(r'<script[^>]+src="([^"]+)"|<link[^>]+href="(https?:[^"]+)"', page)
    if external:
        urls = ", ".join(a or b for a, b in external)
        msg = f"cannot make the map self-contained: it still loads {urls}"
        raise InputError(msg)
    return page


def map_html(m: folium.Map, *, self_contained: bool = True) -> str:
    """The whole HTML document of a map; with ``self_contained`` it needs no network but for basemap tiles."""
    page = _root(m).render()
    return _inline_assets(page) if self_contained else page


def save_map(m: folium.Map, path: str | os.PathLike[str], *, self_contained: bool = True) -> int:
    """Write a map to an HTML file (atomically: a failure leaves an earlier file intact).

    Returns
    -------
    int
        The file's size in bytes.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        msg = f"{path}: a map is written as HTML; give a file name ending in .html"
        raise InputError(msg)
    page = map_html(m, self_contained=self_contained)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)
    size = path.stat().st_size
    logger.info("wrote %s (%.1f MB)", path, size / 1e6)
    return size
