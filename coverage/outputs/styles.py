"""QGIS styles: the layers of ``coverage.gpkg`` and the surface rasters open coloured as on the HTML map.

QGIS reads a layer's default style from the GeoPackage's ``layer_styles`` table (the
QGIS GeoPackage styling extension: one row per layer with its QML and
``useAsDefault``), and a raster's from a ``.qml`` file of the same name beside it.
:func:`add_layer_styles` writes that table; :func:`traveltime_qml` and
:func:`nearest_facility_qml` the raster styles. The colours come from the same
definitions as the maps (:mod:`coverage.outputs.classes`, :mod:`coverage.outputs.maps`).
"""

from __future__ import annotations

import datetime
import logging
import os
import sqlite3
import uuid
from collections.abc import Sequence
from contextlib import closing
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from coverage.analysis.result import Analysis, covered_column
from coverage.outputs.classes import FACILITY_COLOUR_EXPRESSION, facility_colour, hex_to_rgb, time_classes

logger = logging.getLogger(__name__)

QGIS_VERSION = "3.28.0"
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


def _rgba(colour: str, alpha: float = 1.0) -> str:
    red, green, blue = hex_to_rgb(colour)
    return f"{red},{green},{blue},{round(alpha * 255)}"


def _options(properties: dict[str, str]) -> str:
    """Symbol-layer properties in both forms QGIS 3 reads (``Option`` map and the older ``prop``)."""
    options = "".join(
        f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in properties.items()
    )
    props = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in properties.items())
    return f'<Option type="Map">{options}</Option>{props}'


def _data_defined(name: str, expression: str) -> str:
    return (
        '<data_defined_properties><Option type="Map"><Option type="QString" name="name" value=""/>'
        '<Option name="properties" type="Map">'
        f'<Option name={quoteattr(name)} type="Map"><Option type="bool" name="active" value="true"/>'
        f'<Option type="QString" name="expression" value={quoteattr(expression)}/>'
        '<Option type="int" name="type" value="3"/></Option>'
        '</Option><Option type="QString" name="type" value="collection"/></Option></data_defined_properties>'
    )


def fill_symbol(
    name: str,
    colour: str | None,
    *,
    alpha: float = 1.0,
    outline: str = "#333333",
    width_mm: float = 0.26,
    fill_expression: str = "",
) -> str:
    """A polygon symbol: ``colour`` (None: no fill) with an outline."""
    properties = {
        "color": _rgba(colour or "#ffffff", alpha if colour else 0.0),
        "style": "solid" if colour else "no",
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{width_mm:g}",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
    }
    extra = _data_defined("fillColor", fill_expression) if fill_expression else ""
    return (
        f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{_options(properties)}{extra}</layer></symbol>'
    )


def marker_symbol(
    name: str, colour: str, *, shape: str = "circle", size_mm: float = 2.4, outline: str = "#ffffff"
) -> str:
    """A point symbol: a simple marker (circle, square, diamond, cross...)."""
    properties = {
        "name": shape,
        "color": _rgba(colour),
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": "0.3",
        "outline_width_unit": "MM",
        "size": f"{size_mm:g}",
        "size_unit": "MM",
        "angle": "0",
        "scale_method": "diameter",
    }
    return (
        f'<symbol type="marker" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0">{_options(properties)}</layer></symbol>'
    )


def _document(renderer: str, *, opacity: float = 1.0) -> str:
    return (
        f'{DOCTYPE}\n<qgis version="{QGIS_VERSION}" styleCategories="Symbology">\n{renderer}\n'
        f"<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode><layerOpacity>{opacity:g}</layerOpacity>\n</qgis>\n"
    )


def single_symbol_qml(symbol: str) -> str:
    """A style drawing every feature with one symbol (named ``0``)."""
    return _document(
        '<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">'
        f"<symbols>{symbol}</symbols></renderer-v2>"
    )


def categorized_qml(attribute: str, categories: Sequence[tuple[str, str, str]], *, order_by: str = "") -> str:
    """A style by the values of ``attribute``: (value, label, symbol XML named by position) per category."""
    items = "".join(
        f'<category value={quoteattr(value)} label={quoteattr(label)} symbol="{i}" render="true"/>'
        for i, (value, label, _) in enumerate(categories)
    )
    symbols = "".join(symbol for _, _, symbol in categories)
    return _document(
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} symbollevels="0" forceraster="0" '
        f'enableorderby="{int(bool(order_by))}" referencescale="-1"><categories>{items}</categories>'
        f"<symbols>{symbols}</symbols>{_order(order_by)}</renderer-v2>"
    )


def _order(order_by: str) -> str:
    # largest values drawn first, so that smaller nested areas stay on top
    if not order_by:
        return ""
    return f'<orderby><orderByClause asc="0" nullsFirst="0">{escape(order_by)}</orderByClause></orderby>'


def rule_qml(rules: Sequence[tuple[str, str, str]]) -> str:
    """A rule-based style: (filter expression or ``ELSE``, label, symbol XML named by position) per rule."""
    items = "".join(
        f'<rule key="{{{uuid.uuid5(uuid.NAMESPACE_URL, label)}}}" filter={quoteattr(expression)} symbol="{i}" '
        f"label={quoteattr(label)}/>"
        for i, (expression, label, _) in enumerate(rules)
    )
    symbols = "".join(symbol for _, _, symbol in rules)
    return _document(
        '<renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">'
        f'<rules key="{{{uuid.uuid5(uuid.NAMESPACE_URL, "root")}}}">{items}</rules><symbols>{symbols}</symbols>'
        "</renderer-v2>"
    )


def isochrones_qml(thresholds: Sequence[float]) -> str:
    """The isochrone areas in the colour of their class, nearest on top."""
    classes = time_classes(thresholds)
    categories = []
    for i, threshold in enumerate(sorted(thresholds)):
        colour = classes[i].colour
        label = f"within {threshold:g} min"
        categories.append((f"{float(threshold):g}", label, fill_symbol(str(i), colour, alpha=0.6, outline=colour)))
    return categorized_qml("minutes", categories, order_by='"minutes"')


def villages_qml(minutes: float) -> str:
    """Villages blue within the largest threshold, red outside."""
    from coverage.outputs.maps import COVERED_COLOUR, UNCOVERED_COLOUR

    column = covered_column(minutes)
    return rule_qml(
        [
            (f'"{column}"', f"within {minutes:g} min", marker_symbol("0", COVERED_COLOUR, size_mm=2.2)),
            ("ELSE", f"outside {minutes:g} min", marker_symbol("1", UNCOVERED_COLOUR, size_mm=2.8, outline="#000000")),
        ]
    )


def facilities_qml(kinds: Sequence[str]) -> str:
    """Facilities by kind, in the map's colours and shapes."""
    from coverage.outputs.maps import FACILITY_ICONS, OTHER_ICON

    shapes = {"square": "square", "diamond": "diamond", "circle": "circle"}
    categories = []
    for i, kind in enumerate(sorted(set(kinds))):
        _, colour, shape = FACILITY_ICONS.get(kind, OTHER_ICON)
        categories.append((kind, kind, marker_symbol(str(i), colour, shape=shapes.get(shape, "circle"), size_mm=3.2)))
    _, colour, _ = OTHER_ICON
    categories.append(("", "other", marker_symbol(str(len(categories)), colour, size_mm=3.0)))
    return categorized_qml("kind", categories)


def catchments_qml() -> str:
    """Catchments filled with one pale colour per facility (as on the map), dark outlines."""
    return single_symbol_qml(
        fill_symbol(
            "0", "#cccccc", alpha=0.45, outline="#444444", width_mm=0.3, fill_expression=FACILITY_COLOUR_EXPRESSION
        )
    )


def outline_qml(colour: str = "#444444") -> str:
    """Polygons drawn as outlines only."""
    return single_symbol_qml(fill_symbol("0", None, outline=colour, width_mm=0.3))


def road_problems_qml() -> str:
    """Places in the road source to look at: small red crosses."""
    return single_symbol_qml(marker_symbol("0", "#d7191c", shape="cross2", size_mm=2.6, outline="#d7191c"))


def _raster_document(renderer: str) -> str:
    return (
        f'{DOCTYPE}\n<qgis version="{QGIS_VERSION}" styleCategories="Symbology">\n<pipe>'
        '<provider><resampling enabled="false" zoomedInResamplingMethod="nearestNeighbour" '
        'zoomedOutResamplingMethod="nearestNeighbour" maxOversampling="2"/></provider>'
        f"{renderer}"
        '<brightnesscontrast brightness="0" contrast="0" gamma="1"/>'
        '<huesaturation saturation="0" grayscaleMode="0" colorizeOn="0" colorizeRed="255" colorizeGreen="128" '
        'colorizeBlue="128" colorizeStrength="100" invertColors="0"/>'
        '<rasterresampler maxOversampling="2"/></pipe>\n<blendMode>0</blendMode>\n</qgis>\n'
    )


_MINMAX = (
    "<minMaxOrigin><limits>None</limits><extent>WholeRaster</extent><statAccuracy>Estimated</statAccuracy>"
    "<cumulativeCutLower>0.02</cumulativeCutLower><cumulativeCutUpper>0.98</cumulativeCutUpper>"
    "<stdDevFactor>2</stdDevFactor></minMaxOrigin>"
)


def traveltime_qml(analysis: Analysis) -> str:
    """``traveltime.tif`` in the map's classes: each colour up to its class's upper bound (a discrete ramp, ``<=``)."""
    classes = time_classes(analysis.minutes)
    items = "".join(
        f'<item alpha="255" value="{"inf" if c.upper == float("inf") else f"{c.upper:g}"}" '
        f"label={quoteattr(c.label)} color={quoteattr(c.colour)}/>"
        for c in classes
    )
    top = classes[-2].upper
    return _raster_document(
        f'<rasterrenderer type="singlebandpseudocolor" band="1" opacity="0.8" alphaBand="-1" '
        f'classificationMin="0" classificationMax="{top:g}" nodataColor=""><rasterTransparency/>{_MINMAX}'
        f'<rastershader><colorrampshader colorRampType="DISCRETE" classificationMode="1" clip="0" '
        f'labelPrecision="0" minimumValue="0" maximumValue="{top:g}">{items}</colorrampshader></rastershader>'
        "</rasterrenderer>"
    )


def nearest_facility_qml(facilities: pd.DataFrame) -> str:
    """``nearest_facility.tif`` as a palette: one colour and label (name and id) per facility."""
    entries = "".join(
        f'<paletteEntry value="{i}" color={quoteattr(facility_colour(i))} alpha="255" '
        f"label={quoteattr(f'{name} ({fid})')}/>"
        for i, (fid, name) in enumerate(
            zip(facilities["id"].astype(str), facilities["name"].astype(str), strict=True), start=1
        )
    )
    return _raster_document(
        '<rasterrenderer type="paletted" band="1" opacity="0.8" alphaBand="-1" nodataColor="">'
        f"<rasterTransparency/>{_MINMAX}<colorPalette>{entries}</colorPalette></rasterrenderer>"
    )


def layer_styles(analysis: Analysis, layers: Sequence[str]) -> dict[str, str]:
    """The QML of each layer of ``coverage.gpkg`` that has a style, by layer name."""
    largest = max(analysis.minutes)
    styles = {
        "isochrones": isochrones_qml(analysis.minutes),
        "villages": villages_qml(largest),
        "facilities": facilities_qml(analysis.facilities["kind"].astype(str).tolist()),
        "catchments": catchments_qml(),
        "service_areas": outline_qml("#2b8cbe"),
        "isochrones_by_facility": outline_qml("#41ab5d"),
        "road_problems": road_problems_qml(),
    }
    return {name: qml for name, qml in styles.items() if name in layers}


_CREATE = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


def add_layer_styles(path: str | os.PathLike[str], styles: dict[str, str], *, description: str = "") -> int:
    """Store QGIS styles in a GeoPackage's ``layer_styles`` table as each layer's default.

    Parameters
    ----------
    path : path
        The GeoPackage, already holding the layers.
    styles : dict
        QML by layer name; layers absent from the file are skipped.
    description : str
        Stored with each style.

    Returns
    -------
    int
        The number of styles stored.
    """
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with closing(sqlite3.connect(path)) as db, db:
        columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        db.execute(_CREATE)
        registered = db.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone()
        if not registered:
            # described as the layers are: what it holds, then the data's sources
            about = "QGIS layer styles: the default style of each layer" + (
                f". Sources: {description}" if description else ""
            )
            db.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                "VALUES ('layer_styles', 'attributes', 'layer_styles', ?, ?)",
                (about, now),
            )
        rows = [
            ("", "", layer, columns[layer], layer, qml, "", 1, description, "", now)
            for layer, qml in styles.items()
            if layer in columns
        ]
        db.execute(
            f"DELETE FROM layer_styles WHERE f_table_name IN ({','.join('?' * len(rows))})", [r[2] for r in rows]
        )
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner, update_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    return len(rows)
