"""The travel-time surface on the HTML map, with its catchments and the region's outlines.

- :func:`surface_overlay`: the surface in graduated colour classes
  (:func:`coverage.outputs.classes.time_classes`), warped to Web Mercator and
  inlined as one small palette PNG; a click on it tells the class there;
- :class:`Ramp`: a colour-ramp legend (the classes, the density of people outside);
- :func:`catchment_features`: one polygon per facility with its figures in a popup;
- :func:`outline_features`: the admin units' or the region's outline, drawn on top
  of everything so that land shows even with no basemap.

The last two return the keyword arguments of :func:`coverage.outputs.maps.feature`
for each feature; :func:`coverage.outputs.maps.coverage_map` makes the layers.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from coverage._i18n import kind_name, profile_name, text
from coverage.analysis.result import Analysis
from coverage.analysis.surface import TravelTimeSurface
from coverage.outputs.classes import TimeClass, class_picture, facility_colour, hex_to_rgb, time_classes

logger = logging.getLogger(__name__)

#: Longest side of the surface's picture on the HTML map, in pixels.
SURFACE_MAX_PIXELS = 2400
#: Opacity of the surface over the basemap.
SURFACE_OPACITY = 0.7

_CSS = """
.fc-ramp { display: flex; margin: 3px 0 0 0; }
.fc-ramp div { flex: 1; min-width: 26px; }
.fc-ramp i { display: block; height: 12px; border: 1px solid #555; border-right-width: 0; }
.fc-ramp div:last-child i { border-right-width: 1px; }
.fc-ramp b { display: block; font-weight: normal; font-size: 11px; margin-left: -2px; white-space: nowrap; }
.fc-ramp-caption { font-size: 11px; color: #444; }
"""

# The class under a click on the surface, read from the picture's own pixels (no extra data in the page).
_JS = """
function fcSurface(map, overlay, classes, title, heading) {
  var canvas = null;
  var picture = new Image();
  picture.onload = function () {
    canvas = document.createElement('canvas');
    canvas.width = picture.naturalWidth;
    canvas.height = picture.naturalHeight;
    canvas.getContext('2d').drawImage(picture, 0, 0);
  };
  picture.src = overlay._url;
  function classAt(latlng) {
    if (!canvas) { return null; }
    var crs = L.CRS.EPSG3857, b = overlay.getBounds();
    var p = crs.project(latlng), nw = crs.project(b.getNorthWest()), se = crs.project(b.getSouthEast());
    var x = Math.floor((p.x - nw.x) / (se.x - nw.x) * canvas.width);
    var y = Math.floor((nw.y - p.y) / (nw.y - se.y) * canvas.height);
    if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) { return null; }
    var d = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
    if (d[3] === 0) { return null; }
    var best = null, gap = 1e9;
    classes.forEach(function (c) {
      var e = Math.abs(c.rgb[0] - d[0]) + Math.abs(c.rgb[1] - d[1]) + Math.abs(c.rgb[2] - d[2]);
      if (e < gap) { gap = e; best = c; }
    });
    return best;
  }
  map.on('click', function (e) {
    var target = e.originalEvent && e.originalEvent.target;
    // a village, catchment or admin unit under the click shows its own popup
    if (!map.hasLayer(overlay) || (target && target.classList && target.classList.contains('leaflet-interactive'))) {
      return;
    }
    var c = classAt(e.latlng);
    if (c) { L.popup().setLatLng(e.latlng).setContent(fcPopup(title, [[heading, c.label]])).openOn(map); }
  });
  window.fcSurface = {overlay: overlay, classAt: classAt};
}
"""


@dataclass(frozen=True)
class Ramp:
    """A colour-ramp legend: equal boxes, each labelled at its left edge, a last label at the right end.

    Attributes
    ----------
    colours : tuple of str
    labels : tuple of str
        One more than the colours (the edges), plain text.
    caption : str
        A line under the ramp (units), plain text.
    """

    colours: tuple[str, ...]
    labels: tuple[str, ...]
    caption: str = ""

    def html(self) -> str:
        """The legend's HTML (text escaped)."""
        boxes = "".join(
            f'<div><i style="background:{html.escape(colour)}"></i><b>{html.escape(label)}</b></div>'
            for colour, label in zip(self.colours, self.labels, strict=False)
        )
        end = html.escape(self.labels[-1]) if len(self.labels) > len(self.colours) else ""
        caption = f'<div class="fc-ramp-caption">{html.escape(self.caption)}</div>' if self.caption else ""
        return f'<div class="fc-ramp">{boxes}<span class="fc-ramp-end">{end}</span></div>{caption}'


def class_ramp(classes: Sequence[TimeClass], *, caption: str) -> Ramp:
    """The ramp of the travel-time classes: boxes labelled 0, 10, 15, 30, 60 and the last one open."""
    labels = [f"{c.lower:g}" for c in classes]
    return Ramp(tuple(c.colour for c in classes), (*labels, ""), caption=caption)


def density_ramp(max_people: float, *, pixel: str, steps: int = 5, lang: str = "en") -> Ramp:
    """The ramp of the people-outside overlay: its log scale from 1 person to the densest pixel."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    from coverage.outputs.classes import GAP_COLORMAP

    ramp = colormaps[GAP_COLORMAP]
    edges = np.linspace(0.0, 1.0, steps + 1)
    people = np.expm1(edges * np.log1p(max(max_people, 1.0)))
    colours = tuple(to_hex(ramp(0.35 + 0.65 * (lo + hi) / 2)) for lo, hi in itertools.pairwise(edges))
    labels = tuple(f"{max(p, 0):,.0f}" for p in people)
    return Ramp(colours, labels, caption=text("map_density_caption", lang, pixel=pixel))


class _SurfaceScript(MacroElement):
    """Wires the click-for-class popup of the surface picture (a child of the picture, itself on the map)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        fcSurface({{ this._parent._parent.get_name() }}, {{ this._parent.get_name() }}, {{ this.classes }}, {{ this.title }}, {{ this.heading }});
        {% endmacro %}
        """
    )

    def __init__(self, classes: Sequence[TimeClass], title: str, heading: str = "Travel time") -> None:
        super().__init__()
        self._name = "SurfaceScript"
        data = [{"label": c.label, "rgb": list(hex_to_rgb(c.colour))} for c in classes]
        self.classes = _script_text(data)
        self.title = _script_text(title)
        self.heading = _script_text(heading)


def _script_text(value: Any) -> str:
    """JSON that cannot close the page's ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _picture(surface: TravelTimeSurface, classes: Sequence[TimeClass]) -> tuple[np.ndarray, list[list[float]]]:
    """The classes of the region's cells warped to Web Mercator (0 transparent), and the picture's lat/lon bounds."""
    picture, transform = class_picture(surface, classes, "EPSG:3857", max_pixels=SURFACE_MAX_PIXELS)
    height, width = picture.shape
    corners = gpd.GeoSeries(
        gpd.points_from_xy(
            [transform.c, transform.c + transform.a * width], [transform.f + transform.e * height, transform.f]
        ),
        crs=3857,
    ).to_crs(4326)
    bounds = [[corners.y.iloc[0], corners.x.iloc[0]], [corners.y.iloc[1], corners.x.iloc[1]]]
    return picture, bounds


def surface_overlay(
    analysis: Analysis, *, title: str, lang: str = "en"
) -> tuple[folium.raster_layers.ImageOverlay, Ramp] | None:
    """The surface as a picture in the travel-time classes, and its legend ramp; None without a surface.

    The picture is a palette PNG (a few hundred kB for a county at 100 m); a click on
    it opens a popup with the class at that point.
    """
    from PIL import Image

    surface = analysis.surface
    if surface is None or len(surface) == 0:
        return None
    classes = time_classes(analysis.minutes, lang=lang)
    picture, bounds = _picture(surface, classes)
    image = Image.fromarray(picture, mode="P")
    palette = [0, 0, 0]
    for c in classes:
        palette.extend(hex_to_rgb(c.colour))
    image.putpalette(palette + [0, 0, 0] * (256 - len(palette) // 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=0, optimize=True)
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    direction = text("map_to_nearest" if analysis.direction == "to_facility" else "map_from_nearest", lang)
    name = text("map_surface_layer", lang, direction=direction, profile=profile_name(analysis.profile.name, lang))
    overlay = folium.raster_layers.ImageOverlay(
        url, bounds=bounds, name=html.escape(name), opacity=SURFACE_OPACITY, interactive=False, zindex=1
    )
    overlay.add_child(_SurfaceScript(classes, title, text("map_travel_time_row", lang)))
    logger.info("surface picture %d x %d pixels, %.0f kB", picture.shape[1], picture.shape[0], len(url) / 1024)
    caption = text("map_surface_caption", lang, direction=direction, profile=profile_name(analysis.profile.name, lang))
    return overlay, class_ramp(classes, caption=caption)


def add_surface_assets(m: folium.Map) -> None:
    """The surface's script and the ramp's styles, in the page's head (once)."""
    root = m.get_root()
    root.header.add_child(Element(f"<style>{_CSS}</style>"), name="fc_surface_css")  # type: ignore[attr-defined]
    root.header.add_child(Element(f"<script>{_JS}</script>"), name="fc_surface_js")  # type: ignore[attr-defined]


def _number(value: float, digits: int = 0) -> str:
    return "–" if pd.isna(value) else f"{value:,.{digits}f}"


def catchment_features(analysis: Analysis, *, simplify_m: float, lang: str = "en") -> tuple[str, list[dict[str, Any]]]:
    """The catchments (nearest-facility partition): the layer's name and a feature each, with its figures."""
    frame = analysis.catchments
    if frame is None or frame.geometry.notna().sum() == 0:
        return text("map_catchments", lang), []
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    crs = analysis.network.crs
    # simplify the partition as a whole, so that neighbours keep a common edge
    projected = np.asarray(frame.geometry.to_crs(crs).values)
    simplified = gpd.GeoSeries(shapely.coverage_simplify(projected, simplify_m), crs=crs).to_crs(4326)
    within = [c for c in frame.columns if c.startswith("population_within_")]
    features = []
    for row, geometry in zip(frame.itertuples(index=False), simplified, strict=True):
        values = row._asdict()
        rows = [
            (text("map_kind", lang), kind_name(str(values["kind"]), lang)),
            (text("map_area", lang), f"{values['area_km2']:,.1f} km²"),
            (text("map_population", lang), _number(values["population"])),
            *[
                (
                    text("map_within_minutes", lang, minutes=c.removeprefix("population_within_").replace("_", ".")),
                    _number(values[c]),
                )
                for c in within
            ],
            (text("map_villages", lang), str(values["villages"])),
            (text("map_mean_minutes", lang), _number(values["minutes_mean"], 1)),
            (text("map_longest_minutes", lang), _number(values["minutes_max"], 1)),
        ]
        for column, value in values.items():
            if column.startswith("population_per_"):
                unit = column.removeprefix("population_per_")
                rows.append((text("map_people_per", lang, unit=unit), _number(value)))
        colour = facility_colour(int(values["raster_value"]))
        features.append(
            {
                "geometry": geometry,
                "style": {"color": "#444444", "weight": 1.2, "fillColor": colour, "fillOpacity": 0.35},
                "tooltip": text("map_catchment_of", lang, name=values["facility_name"]),
                "popup": (text("map_catchment_of", lang, name=values["facility_name"]), rows),
            }
        )
    return text("map_catchments_layer", lang, n=len(features)), features


def outline_features(analysis: Analysis, *, simplify_m: float, lang: str = "en") -> tuple[str, list[dict[str, Any]]]:
    """The admin units' outlines (else the region's boundary): the layer's name and a line feature each."""
    if analysis.zones is not None and len(analysis.zones):
        geometries = list(analysis.zones.geometry)
        names = [str(z) for z in analysis.zones["zone"]]
        what = text("map_admin_boundaries", lang)
    elif analysis.surface is not None and analysis.surface.boundary is not None:
        geometries, names, what = [analysis.surface.boundary], [analysis.region], text("map_region_boundary", lang)
    else:
        return text("map_boundaries", lang), []
    crs = analysis.network.crs
    simplified = gpd.GeoSeries(geometries, crs=4326).to_crs(crs).simplify(simplify_m).to_crs(4326)
    features = [
        {
            "geometry": shapely.boundary(geometry),
            "style": {"color": "#333333", "weight": 1.6, "opacity": 0.9},
            "tooltip": name,
        }
        for geometry, name in zip(simplified, names, strict=True)
        if geometry is not None and not geometry.is_empty
    ]
    return what, features
