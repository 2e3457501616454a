"""Roads from a GIS lines file: a county office's own road layer.

Reads a GeoPackage, Shapefile or GeoJSON of road lines in any CRS, maps its road-class
column to OSM ``highway`` classes (with ``data/road_classes.toml`` or a copy a planner
edits), builds junctions from the lines' end points and returns a
:class:`~coverage.io.roads.Roads` table in the local UTM zone.

How junctions are made (:func:`roads_from_lines`):

- Line end points within ``tolerance_m`` of each other are one junction (clusters are
  chained: A-B and B-C within the tolerance make one node even if A-C is farther). The
  node lies at the mean of the points it joins and the lines' ends are moved onto it.
- A line end within ``tolerance_m`` of the middle of another line (a T-junction drawn
  without a shared vertex, or ending on one of the other line's inner vertices) splits
  that other line there. This also holds for a line whose end comes back onto itself.
- Lines are not split where they cross each other: bridges and overpasses cross
  without a junction, and a GIS layer does not say which crossings are level ones.
  Where two roads do meet at a crossing, the layer should end the lines there (or share
  an end point), as most road layers digitised for routing do.
- Places to check are reported in ``Roads.problems``, one point each, and never
  silently dropped: ``dangling_end`` (an end no other line touches: a dead end, a road
  cut at the map edge, or a gap), ``near_miss_junction`` (an end that touches no other
  line but lies within ``near_miss_m`` of one: likely a digitising error; it is not
  joined) and ``zero_length_line`` (a line of zero length, or shorter than the
  tolerance with both ends on one junction; it is skipped). Each loose end gets one of
  the first two, not both.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.ops import substring

from coverage._config import DATA_DIR
from coverage._errors import ConfigError, InputError
from coverage.io.roads import KNOWN_HIGHWAY_CLASSES, Roads, make_roads

logger = logging.getLogger(__name__)

#: The road-class table shipped with the project (the repository's ``data/road_classes.toml``).
DEFAULT_ROAD_CLASSES = DATA_DIR / "road_classes.toml"

#: Normalised values of a one-way column and the ``oneway`` they mean.
ONEWAY_VALUES: dict[str, int] = {
    "": 0,
    "0": 0,
    "no": 0,
    "n": 0,
    "false": 0,
    "f": 0,
    "否": 0,
    "双向": 0,
    "1": 1,
    "yes": 1,
    "y": 1,
    "true": 1,
    "t": 1,
    "是": 1,
    "单向": 1,
    "-1": -1,
    "reverse": -1,
}

#: Stated speeds above this (km/h) are rejected as typing errors or another unit.
MAX_STATED_SPEED_KPH = 200.0

_LINE_TYPES = {"LineString", "MultiLineString"}


def _normalise(value: object) -> str:
    """Normalise a cell for lookup: NFKC, trimmed, case-folded, ``_``/``-`` as spaces."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    text = re.sub(r"(?<=\w)[_\-]+(?=\w)", " ", text)  # "national_road", "provincial-road"; not "-1"
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class RoadClasses:
    """A table of road-class names and route-number patterns mapped to OSM classes.

    Attributes
    ----------
    classes : Mapping[str, str]
        Normalised name -> OSM ``highway`` class.
    route_numbers : tuple of (re.Pattern, str)
        Patterns matched at the start of the upper-cased value, in order.
    source : str
        Where the table came from, for messages.
    """

    classes: Mapping[str, str]
    route_numbers: tuple[tuple[re.Pattern[str], str], ...]
    source: str

    def highway_of(self, value: object) -> str | None:
        """Return the OSM ``highway`` class of a road-class value, or None when unknown.

        Examples
        --------
        >>> table = load_road_classes()
        >>> table.highway_of("县道"), table.highway_of("G318"), table.highway_of("primary")
        ('secondary', 'trunk', 'primary')
        >>> table.highway_of("National_Road"), table.highway_of("机场路") is None
        ('trunk', True)
        """
        text = _normalise(value)
        osm = text.replace(" ", "_")
        if osm in KNOWN_HIGHWAY_CLASSES:
            return osm
        if text in self.classes:
            return self.classes[text]
        upper = text.upper().replace(" ", "")
        for pattern, highway in self.route_numbers:
            if pattern.match(upper):
                return highway
        return None


def _check_highway(highway: object, *, where: str) -> str:
    if not isinstance(highway, str) or highway not in KNOWN_HIGHWAY_CLASSES:
        msg = (
            f"{where}: {highway!r} is not an OSM highway class; use one of {', '.join(sorted(KNOWN_HIGHWAY_CLASSES))}."
        )
        raise ConfigError(msg)
    return highway


def load_road_classes(
    path: str | os.PathLike[str] | None = None, *, extra: Mapping[str, str] | None = None
) -> RoadClasses:
    """Read and check a road-class table (``data/road_classes.toml`` by default).

    Parameters
    ----------
    path : str or path-like, optional
        A TOML file with a ``[classes]`` table (name = OSM class) and optional
        ``[[route_numbers]]`` entries (``pattern``, ``highway``).
    extra : Mapping[str, str], optional
        More names, added on top of the file's (they win on a clash).

    Raises
    ------
    ConfigError
        When the file cannot be parsed or maps a name to something that is not an
        OSM highway class.
    """
    path = Path(path) if path is not None else DEFAULT_ROAD_CLASSES
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except FileNotFoundError as error:
        msg = f"road-class table not found: {path}. Copy data/road_classes.toml and give the copy's path."
        raise ConfigError(msg) from error
    except tomllib.TOMLDecodeError as error:
        msg = f"{path}: not valid TOML ({error}). Compare it with data/road_classes.toml."
        raise ConfigError(msg) from error
    unknown_tables = set(data) - {"classes", "route_numbers"}
    if unknown_tables:
        msg = f"{path}: unknown tables {sorted(unknown_tables)}; only [classes] and [[route_numbers]] are read."
        raise ConfigError(msg)
    raw_classes = data.get("classes", {})
    if not isinstance(raw_classes, dict):
        msg = f"{path}: [classes] must be a table of name = OSM class lines."
        raise ConfigError(msg)
    classes = {
        _normalise(name): _check_highway(highway, where=f"{path} [classes] {name!r}")
        for name, highway in raw_classes.items()
    }
    for name, highway in (extra or {}).items():
        classes[_normalise(name)] = _check_highway(highway, where=f"class_map entry {name!r}")
    route_numbers = []
    for number, entry in enumerate(data.get("route_numbers", []), start=1):
        where = f"{path} [[route_numbers]] entry {number}"
        if not isinstance(entry, dict) or set(entry) != {"pattern", "highway"}:
            msg = f"{where}: needs exactly the keys pattern and highway, got {entry!r}."
            raise ConfigError(msg)
        try:
            pattern = re.compile(str(entry["pattern"]))
        except re.error as error:
            msg = f"{where}: pattern {entry['pattern']!r} is not a valid regular expression ({error})."
            raise ConfigError(msg) from error
        route_numbers.append((pattern, _check_highway(entry["highway"], where=where)))
    source = path.name if extra is None else f"{path.name} and the given class_map"
    return RoadClasses(classes=classes, route_numbers=tuple(route_numbers), source=source)


def _class_table(class_map: str | os.PathLike[str] | Mapping[str, str] | None) -> RoadClasses:
    if class_map is None:
        return load_road_classes()
    if isinstance(class_map, Mapping):
        return load_road_classes(extra=class_map)
    return load_road_classes(class_map)


def _read_layer(path: Path, layer: str | None, encoding: str | None) -> tuple[gpd.GeoDataFrame, str]:
    """Read one layer of a vector file with its fids as index; return it and a source name."""
    import pyogrio

    if not path.exists():
        msg = f"road lines file not found: {path}. Give a GeoPackage, Shapefile or GeoJSON of road lines."
        raise InputError(msg)
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except pyogrio.errors.DataSourceError as error:
        msg = (
            f"{path}: cannot open this as a GIS file ({error}). Give a GeoPackage, Shapefile or GeoJSON of road lines."
        )
        raise InputError(msg) from error
    if layer is None and len(layers) > 1:
        msg = f"{path.name} holds {len(layers)} layers ({', '.join(layers)}); choose the road lines with layer=..."
        raise InputError(msg)
    if layer is not None and layer not in layers:
        msg = f"{path.name} has no layer {layer!r}; its layers are {', '.join(layers)}."
        raise InputError(msg)
    layer_name = layer if layer is not None else layers[0]
    source = f"{path.name} (layer {layer_name})" if layer is not None or path.suffix.lower() == ".gpkg" else path.name
    kwargs: dict[str, Any] = {"encoding": encoding} if encoding else {}
    try:
        frame = gpd.read_file(path, layer=layer_name, engine="pyogrio", fid_as_index=True, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        msg = f"{source}: cannot read the lines ({error})."
        raise InputError(msg) from error
    return frame, source


def _check_columns(frame: gpd.GeoDataFrame, source: str, columns: dict[str, str | None]) -> None:
    available = [column for column in frame.columns if column != frame.geometry.name]
    for option, column in columns.items():
        if column is not None and column not in frame.columns:
            msg = (
                f"{source}: no column {column!r} (given as {option}); "
                f"the columns are {', '.join(map(repr, available))}."
            )
            raise InputError(msg)


def _rows(index: pd.Index, *, limit: int = 10) -> str:
    shown = ", ".join(str(value) for value in index[:limit])
    return shown + (f" and {len(index) - limit:,} more" if len(index) > limit else "")


#: The class a road line gets when its class is blank or not known (``--default-road-class``).
DEFAULT_ROAD_CLASS = "unclassified"


def _map_classes(
    values: pd.Series, table: RoadClasses, *, source: str, column: str, default_class: str | None
) -> tuple[np.ndarray, dict[str, int]]:
    """OSM class of every row, and the rows per unknown value (blank included) given ``default_class``.

    Raises
    ------
    InputError
        When no value at all is known, or when some are not and ``default_class`` is None;
        the message lists the unknown values with their counts.
    """
    unknown: Counter[str] = Counter()
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    mapped = [table.highway_of(value) for value in uniques]
    for code, value in enumerate(uniques):
        if mapped[code] is None:
            shown = _normalise(value)
            unknown[shown if shown else "(blank)"] += int((codes == code).sum())
    known_rows = len(values) - sum(unknown.values())
    if unknown and (default_class is None or known_rows == 0):
        listed = ", ".join(f"{value!r} ({count:,} lines)" for value, count in unknown.most_common(12))
        accepted = ", ".join(sorted(table.classes))
        patterns = ", ".join(pattern.pattern for pattern, _ in table.route_numbers)
        example = next(iter(unknown))
        none_known = (
            f"none of its {len(values):,} lines has a road class this tool knows, so the layer cannot be used "
            f"as a network (is {column!r} the class column?). "
            if known_rows == 0
            else ""
        )
        msg = (
            f"{source}, column {column!r}: {none_known}{len(unknown)} road-class values are not known: {listed}. "
            f"Known: OSM highway classes ({', '.join(sorted(KNOWN_HIGHWAY_CLASSES))}); "
            f"the names in {table.source} ({accepted}); and route numbers matching {patterns}. "
            f"To add a name, copy data/road_classes.toml, add a line such as "
            f'"{"" if example == "(blank)" else example}" = "unclassified" under [classes], and pass the copy as '
            f"class_map=...; or pass a dict such as class_map={{{'' if example == '(blank)' else example!r}: 'track'}}."
        )
        raise InputError(msg)
    if unknown:
        _check_highway(default_class, where=f"default road class for {source}")
        mapped = [default_class if m is None else m for m in mapped]
    return np.asarray(mapped, dtype=object)[codes], dict(unknown.most_common())


def _parse_oneway(values: pd.Series, *, source: str, column: str) -> np.ndarray:
    normalised = values.astype(object).map(_normalise)
    parsed = normalised.map(ONEWAY_VALUES)
    bad = parsed.isna()
    if bad.any():
        seen = ", ".join(repr(value) for value in pd.unique(values[bad].astype(str))[:10])
        msg = (
            f"{source}, column {column!r}: one-way values {seen} are not understood (features with fid "
            f"{_rows(values.index[bad])}). Use 1/yes/true/是 (one way along the line's direction), "
            f"-1 (one way against it) or 0/no/false/否 (both ways)."
        )
        raise InputError(msg)
    return parsed.to_numpy(dtype=np.int8)


def _parse_speed(values: pd.Series, *, source: str, column: str) -> np.ndarray:
    blank = values.isna() | (values.astype(object).map(_normalise) == "")
    speed = pd.to_numeric(values.where(~blank), errors="coerce")
    bad = speed.isna() & ~blank
    if bad.any():
        seen = ", ".join(repr(value) for value in pd.unique(values[bad].astype(str))[:10])
        msg = (
            f"{source}, column {column!r}: speeds {seen} are not numbers in km/h "
            f"(features with fid {_rows(values.index[bad])}). Leave the cell empty where no speed is known."
        )
        raise InputError(msg)
    out_of_range = (speed < 0) | (speed > MAX_STATED_SPEED_KPH)
    if out_of_range.any():
        msg = (
            f"{source}, column {column!r}: speeds must be between 0 and {MAX_STATED_SPEED_KPH:.0f} km/h, got "
            f"{', '.join(f'{value:g}' for value in speed[out_of_range].unique()[:10])} (features with fid "
            f"{_rows(values.index[out_of_range])}). Is the column in another unit?"
        )
        raise InputError(msg)
    zero = speed == 0
    if zero.any():
        # Shapefiles store an empty number as 0: read it as "no stated speed".
        logger.info(
            "%s: %d lines with speed 0 in %r are read as having no stated speed", source, int(zero.sum()), column
        )
    return speed.where(~zero).to_numpy(dtype=np.float64)


def _boundary_in(boundary: object, crs: object) -> shapely.Geometry:
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        series = boundary.geometry if isinstance(boundary, gpd.GeoDataFrame) else boundary
        if series.crs is None:
            series = series.set_crs(4326)
        return series.to_crs(crs).union_all()
    if isinstance(boundary, shapely.Geometry):
        return gpd.GeoSeries([boundary], crs=4326).to_crs(crs).iloc[0]
    msg = f"boundary must be a shapely polygon or a GeoDataFrame in WGS84, got {type(boundary).__name__}."
    raise InputError(msg)


def roads_from_lines(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    class_column: str,
    class_map: str | os.PathLike[str] | Mapping[str, str] | None = None,
    speed_column: str | None = None,
    oneway_column: str | None = None,
    name_column: str | None = None,
    tolerance_m: float = 1.0,
    near_miss_m: float = 10.0,
    boundary: shapely.Geometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    encoding: str | None = None,
    default_class: str | None = DEFAULT_ROAD_CLASS,
) -> Roads:
    """Read a GIS road-lines file into a :class:`~coverage.io.roads.Roads` table.

    Parameters
    ----------
    path : str or path-like
        A GeoPackage, Shapefile or GeoJSON of road lines, in any CRS.
    layer : str, optional
        The layer to read; needed when the file holds more than one.
    class_column : str
        Column of road classes: OSM names, Chinese administrative, technical or urban
        grades (国道, 二级公路, 主干路...), route numbers (G318, X012) or English names.
    class_map : path, Mapping or None
        A copy of ``data/road_classes.toml`` to use instead of it, or a dict of more
        names added on top of it.
    speed_column : str, optional
        Column of travel speeds in km/h (``speed_kph``); empty or 0 means not stated.
    oneway_column : str, optional
        Column of one-way flags: 1/yes/true/是 along the line, -1 against it,
        0/no/false/否 or empty both ways.
    name_column : str, optional
        Column of road names.
    tolerance_m : float
        End points closer than this are one junction (see the module notes).
    near_miss_m : float
        Loose ends closer than this to another line are reported as near misses.
    boundary : shapely geometry or GeoDataFrame, optional
        A polygon in WGS84 (or a GeoDataFrame in any CRS): only lines intersecting it
        are kept, whole.
    encoding : str, optional
        Text encoding of a Shapefile without a ``.cpg`` file (often ``"GBK"`` for
        files from Chinese offices).
    default_class : str or None
        OSM class given to lines whose class is blank or not known (``unclassified``:
        a minor public road), with a warning counting them and their length and one
        ``default_road_class`` problem per value; None refuses such a layer. A layer
        with no known class at all is always refused.

    Returns
    -------
    Roads
        In the local UTM zone; ``problems`` lists the loose ends, near misses and
        skipped zero-length lines.

    Raises
    ------
    InputError
        For a missing file, layer or column, a file without a CRS, geometries that
        are not lines, unknown road classes, or unreadable speed or one-way values.
    """
    if not tolerance_m >= 0 or not near_miss_m >= tolerance_m:
        msg = f"need 0 <= tolerance_m <= near_miss_m, got tolerance_m={tolerance_m}, near_miss_m={near_miss_m}."
        raise InputError(msg)
    path = Path(path)
    frame, source = _read_layer(path, layer, encoding)
    _check_columns(
        frame,
        source,
        {
            "class_column": class_column,
            "speed_column": speed_column,
            "oneway_column": oneway_column,
            "name_column": name_column,
        },
    )
    if frame.crs is None:
        msg = (
            f"{source}: the file has no coordinate reference system, so its lines cannot be placed. "
            f"Set the CRS the data was made in and save again: for a Shapefile the .prj file is missing "
            f"(QGIS: Layer Properties > Source > Assigned CRS, then Export > Save Features As), or run "
            f"`ogr2ogr -a_srs EPSG:4490 fixed.gpkg {path.name}` (EPSG:4490 is CGCS2000, usual for "
            f"Chinese official data; EPSG:4326 is WGS84)."
        )
        raise InputError(msg)
    frame = _drop_empty(frame, source)
    _check_line_types(frame, source)
    highway, defaulted = _map_classes(
        frame[class_column], _class_table(class_map), source=source, column=class_column, default_class=default_class
    )
    attributes = pd.DataFrame(
        {
            "fid": frame.index.to_numpy(),
            "highway": highway,
            "oneway": _parse_oneway(frame[oneway_column], source=source, column=oneway_column)
            if oneway_column
            else np.zeros(len(frame), dtype=np.int8),
            "speed_kph": _parse_speed(frame[speed_column], source=source, column=speed_column)
            if speed_column
            else np.full(len(frame), np.nan),
            "name": frame[name_column].astype(object).where(frame[name_column].notna(), None).to_numpy()
            if name_column
            else np.full(len(frame), None, dtype=object),
        }
    )
    geometry = frame.geometry
    if boundary is not None:
        inside = geometry.intersects(_boundary_in(boundary, frame.crs)).to_numpy()
        if not inside.any():
            msg = (
                f"{source}: none of its {len(frame):,} lines intersects the boundary. Check that the "
                f"boundary covers the same area (and is in WGS84 longitude/latitude)."
            )
            raise InputError(msg)
        logger.info("%s: kept %d of %d lines intersecting the boundary", source, int(inside.sum()), len(frame))
        geometry = geometry[inside]
        attributes = attributes[inside].reset_index(drop=True)
    utm = geometry.estimate_utm_crs()
    projected = shapely.force_2d(np.asarray(geometry.to_crs(utm).values))
    parts, row = shapely.get_parts(projected, return_index=True)
    attributes = attributes.iloc[row].reset_index(drop=True)

    problems = _defaulted_problems(frame, class_column, defaulted, default_class, source=source, utm=utm)
    zero = shapely.length(parts) == 0
    for i in np.flatnonzero(zero):
        problems.append(
            {
                "problem": "zero_length_line",
                "detail": f"line fid {attributes['fid'].iloc[i]} has zero length; it was skipped.",
                "geometry": shapely.get_point(parts[i], 0),
            }
        )
    parts = parts[~zero]
    attributes = attributes[~zero].reset_index(drop=True)
    if len(parts) == 0:
        msg = f"{source}: no road lines of non-zero length were read."
        raise InputError(msg)

    topology = build_topology(parts, tolerance_m=tolerance_m, near_miss_m=near_miss_m)
    edges = gpd.GeoDataFrame(
        attributes.iloc[topology.line].reset_index(drop=True).assign(u=topology.u, v=topology.v),
        geometry=topology.geometry,
        crs=utm,
    )
    nodes = gpd.GeoDataFrame(
        index=pd.Index(np.arange(len(topology.node_xy), dtype=np.int64), name="node"),
        geometry=shapely.points(topology.node_xy),
        crs=utm,
    )
    fids = attributes["fid"].to_numpy()
    for kind, line, other, point, distance_m in topology.problems:
        problems.append(
            {
                "problem": kind,
                "detail": _problem_detail(kind, fids, line, other, distance_m, tolerance_m),
                "geometry": point,
            }
        )
    problem_frame = gpd.GeoDataFrame(
        pd.DataFrame(problems, columns=["problem", "detail", "geometry"]), geometry="geometry", crs=utm
    )
    counts = problem_frame["problem"].value_counts().to_dict()
    logger.info(
        "%s: %d lines -> %d junctions and %d road pieces; %d ends joined onto the middle of another line; problems: %s",
        source,
        len(parts),
        len(nodes),
        len(edges),
        topology.t_junctions,
        counts or "none",
    )
    return make_roads(nodes, edges, source=source, problems=problem_frame)


def _defaulted_problems(
    frame: gpd.GeoDataFrame,
    class_column: str,
    defaulted: dict[str, int],
    default_class: str | None,
    *,
    source: str,
    utm: object,
) -> list[dict[str, object]]:
    """One ``default_road_class`` problem per unknown class value, at its longest line; a warning with the totals."""
    if not defaulted:
        return []
    values = frame[class_column].astype(object).map(_normalise).replace("", "(blank)")
    projected = frame.geometry.to_crs(utm)
    lengths = projected.length
    problems: list[dict[str, object]] = []
    for value, count in defaulted.items():
        rows = values == value
        longest = lengths[rows].idxmax()
        problems.append(
            {
                "problem": "default_road_class",
                "detail": f"{count:,} lines ({lengths[rows].sum() / 1000:,.1f} km) with class {value!r} in column "
                f"{class_column!r} were read as {default_class!r}",
                "geometry": shapely.line_interpolate_point(shapely.force_2d(projected[longest]), 0.5, normalized=True),
            }
        )
    total = sum(defaulted.values())
    km = float(lengths[values.isin(list(defaulted))].sum()) / 1000
    logger.warning(
        "%s: %d of %d road lines (%.1f km) have a blank or unknown class in column %r (%s) and are read as %r "
        "(--default-road-class); listed in the road_problems layer",
        source,
        total,
        len(frame),
        km,
        class_column,
        ", ".join(f"{v!r} {c}" for v, c in list(defaulted.items())[:6]),
        default_class,
    )
    return problems


def _problem_detail(kind: str, fids: np.ndarray, line: int, other: int, distance_m: float, tolerance_m: float) -> str:
    if kind == "near_miss_junction":
        return (
            f"an end of line fid {fids[line]} is {distance_m:.1f} m from line fid {fids[other]} but not joined "
            f"(tolerance_m={tolerance_m:g}); if the roads meet, move the end onto the line in the source, "
            f"or raise tolerance_m."
        )
    if kind == "dangling_end":
        return (
            f"an end of line fid {fids[line]} touches no other line: "
            f"a dead end, a road cut at the map's edge, or a gap."
        )
    return (
        f"line fid {fids[line]} is shorter than tolerance_m={tolerance_m:g} "
        f"and both its ends are one junction; it was skipped."
    )


def _drop_empty(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.all():
        msg = f"{source}: none of its {len(frame):,} features has a geometry."
        raise InputError(msg)
    if empty.any():
        logger.warning(
            "%s: %d features have no geometry and were not read (fid %s)",
            source,
            int(empty.sum()),
            _rows(frame.index[empty]),
        )
    return frame[~empty]


def _check_line_types(frame: gpd.GeoDataFrame, source: str) -> None:
    types = frame.geometry.geom_type
    other = ~types.isin(list(_LINE_TYPES))
    if other.any():
        seen = ", ".join(f"{kind} ({count:,})" for kind, count in types[other].value_counts().items())
        msg = (
            f"{source}: road lines must be LineStrings or MultiLineStrings; found {seen} "
            f"(features with fid {_rows(frame.index[other])}). Is this the road layer? "
            f"Remove or convert these features (QGIS: Polygons to Lines)."
        )
        raise InputError(msg)


@dataclass(frozen=True)
class Topology:
    """Road pieces and junctions built from lines by :func:`build_topology`.

    Attributes
    ----------
    node_xy : numpy.ndarray
        (n, 2) junction coordinates.
    line : numpy.ndarray
        Index of the input line each piece comes from.
    u, v : numpy.ndarray
        Junction index at the start and end of each piece.
    geometry : numpy.ndarray
        Piece LineStrings, digitised like their line, ends on their junctions.
    t_junctions : int
        Line ends joined onto the middle of a line (which was split there).
    problems : list of tuple
        ``(kind, line, other_line, point, distance_m)`` for every loose end
        (``dangling_end``, ``near_miss_junction``) and collapsed line
        (``zero_length_line``); ``other_line`` is -1 when there is none.
    """

    node_xy: np.ndarray
    line: np.ndarray
    u: np.ndarray
    v: np.ndarray
    geometry: np.ndarray
    t_junctions: int
    problems: list[tuple[str, int, int, shapely.Point, float]]


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` items joined by index ``pairs``."""
    if len(pairs) == 0:
        return np.arange(n)
    matrix = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(matrix, directed=False)[1]


def build_topology(lines: np.ndarray, *, tolerance_m: float, near_miss_m: float) -> Topology:
    """Make junctions and road pieces from projected lines (see the module notes for the rules).

    Parameters
    ----------
    lines : numpy.ndarray of shapely.LineString
        Lines of non-zero length in a projected CRS (metres).
    tolerance_m, near_miss_m : float
        Join distance, and distance below which a loose end is a near miss.
    """
    n = len(lines)
    lengths = shapely.length(lines)
    # End point k belongs to line k // 2: even k is its start, odd k its end.
    end_xy = np.empty((2 * n, 2))
    end_xy[0::2] = shapely.get_coordinates(shapely.get_point(lines, 0))
    end_xy[1::2] = shapely.get_coordinates(shapely.get_point(lines, -1))
    end_points: np.ndarray = np.asarray(shapely.points(end_xy))
    close = cKDTree(end_xy).query_pairs(tolerance_m, output_type="ndarray")
    label = _components(2 * n, close)

    # Ends on the middle of a line: other lines, and the end's own line coming back.
    tree = shapely.STRtree(lines)
    point_k, line_j = tree.query(end_points, predicate="dwithin", distance=tolerance_m)
    own = line_j == point_k // 2
    joined = (label[point_k] == label[2 * line_j]) | (label[point_k] == label[2 * line_j + 1])
    candidate_k, candidate_j = point_k[~own & ~joined], line_j[~own & ~joined]
    position = np.asarray(shapely.line_locate_point(lines[candidate_j], end_points[candidate_k]), dtype=np.float64)
    self_k, self_position = _self_touching_ends(lines, lengths, end_points, tolerance_m)
    candidate_k = np.concatenate([candidate_k, self_k])
    candidate_j = np.concatenate([candidate_j, self_k // 2])
    position = np.concatenate([position, self_position])

    extra_pairs: list[tuple[int, int]] = []
    splits: dict[int, list[tuple[float, int]]] = {}
    for k, j, s in zip(candidate_k.tolist(), candidate_j.tolist(), position.tolist(), strict=True):
        if s <= 1e-9:
            extra_pairs.append((k, 2 * j))
        elif s >= lengths[j] - 1e-9:
            extra_pairs.append((k, 2 * j + 1))
        else:
            splits.setdefault(j, []).append((s, k))
    # Several ends on one line within the tolerance of each other are one junction.
    for entries in splits.values():
        entries.sort()
        for (s0, k0), (s1, k1) in itertools.pairwise(entries):
            if s1 - s0 <= tolerance_m:
                extra_pairs.append((k0, k1))
    if extra_pairs:
        label = _components(
            2 * n, np.vstack([close, np.asarray(extra_pairs)]) if len(close) else np.asarray(extra_pairs)
        )

    piece_line, piece_geometry, piece_u, piece_v = _cut_lines(lines, lengths, label, splits)
    # Junction positions: the mean of the ends and split points they join.
    split_xy = [
        (label[k], *shapely.get_coordinates(shapely.line_interpolate_point(lines[j], s))[0])
        for j, entries in splits.items()
        for s, k in entries
    ]
    all_label = np.concatenate([label, np.asarray([row[0] for row in split_xy], dtype=np.int64)])
    all_xy = np.vstack([end_xy, np.asarray([row[1:] for row in split_xy]).reshape(-1, 2)])
    used, node_of_label = np.unique(np.concatenate([piece_u, piece_v]), return_inverse=True)
    lookup = np.full(label.max() + 1, -1, dtype=np.int64)
    lookup[used] = np.arange(len(used))
    node = lookup[all_label]
    keep = node >= 0
    count = np.bincount(node[keep], minlength=len(used))
    node_xy = np.column_stack(
        [np.bincount(node[keep], weights=all_xy[keep, i], minlength=len(used)) / count for i in (0, 1)]
    )
    u, v = node_of_label[: len(piece_u)], node_of_label[len(piece_u) :]
    geometry = _snap_ends(piece_geometry, node_xy[u], node_xy[v])

    problems: list[tuple[str, int, int, shapely.Point, float]] = []
    collapsed = shapely.length(geometry) == 0
    for i in np.flatnonzero(collapsed):
        problems.append(("zero_length_line", int(piece_line[i]), -1, shapely.Point(node_xy[u[i]]), 0.0))
    if collapsed.any():
        piece_line, u, v, geometry = piece_line[~collapsed], u[~collapsed], v[~collapsed], geometry[~collapsed]
        used, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
        node_xy = node_xy[used]
        u, v = inverse[: len(u)], inverse[len(u) :]
    problems.extend(_loose_ends(node_xy, piece_line, u, v, geometry, tolerance_m, near_miss_m))
    t_junctions = sum(len(entries) for entries in splits.values())
    return Topology(node_xy, piece_line, u, v, geometry, t_junctions, problems)


def _self_touching_ends(
    lines: np.ndarray, lengths: np.ndarray, end_points: np.ndarray, tolerance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """End points that come back within the tolerance of their own line's middle.

    Returns the end point indices and their positions along their line.
    """
    coords, index = shapely.get_coordinates(lines, return_index=True)
    vertices = np.bincount(index, minlength=len(lines))
    found_k: list[int] = []
    found_s: list[float] = []
    candidates = np.flatnonzero((vertices >= 3) & (lengths > 4 * tolerance_m))
    if len(candidates) == 0:
        return np.asarray(found_k, dtype=np.int64), np.asarray(found_s)
    # Cheap filter: the line without its last (first) segment comes within the tolerance of its end (start).
    first = np.r_[0, np.cumsum(vertices)[:-1]]
    last = first + vertices - 1
    for which, drop in ((0, first), (1, last)):
        mask = np.ones(len(coords), dtype=bool)
        mask[drop] = False
        wanted = np.isin(index, candidates) & mask
        line_ids, compact = np.unique(index[wanted], return_inverse=True)
        shortened = shapely.linestrings(coords[wanted], indices=compact)
        near = shapely.dwithin(shortened, end_points[2 * line_ids + which], tolerance_m)
        for line_id in line_ids[near].tolist():
            length = lengths[line_id]
            k = 2 * line_id + which
            start, end = (2 * tolerance_m, length) if which == 0 else (0.0, length - 2 * tolerance_m)
            far_part = substring(lines[line_id], start, end)
            if shapely.dwithin(far_part, end_points[k], tolerance_m):
                found_k.append(k)
                found_s.append(
                    start + float(shapely.line_locate_point(cast(shapely.LineString, far_part), end_points[k]))
                )
    return np.asarray(found_k, dtype=np.int64), np.asarray(found_s)


def _cut_lines(
    lines: np.ndarray, lengths: np.ndarray, label: np.ndarray, splits: dict[int, list[tuple[float, int]]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pieces of the lines between their ends and split points, with their end labels."""
    whole = np.setdiff1d(np.arange(len(lines)), np.fromiter(splits, dtype=np.int64, count=len(splits)))
    piece_line = [whole]
    piece_geometry = [lines[whole]]
    piece_u = [label[2 * whole]]
    piece_v = [label[2 * whole + 1]]
    cut_line: list[int] = []
    cut_geometry: list[shapely.LineString] = []
    cut_u: list[int] = []
    cut_v: list[int] = []
    for j, entries in splits.items():
        stops = [
            (0.0, int(label[2 * j])),
            *((s, int(label[k])) for s, k in entries),
            (float(lengths[j]), int(label[2 * j + 1])),
        ]
        for (s0, a), (s1, b) in itertools.pairwise(stops):
            if s1 - s0 <= 1e-9 and a == b:
                continue
            cut_line.append(j)
            cut_geometry.append(cast(shapely.LineString, substring(lines[j], s0, s1)))
            cut_u.append(a)
            cut_v.append(b)
    piece_line.append(np.asarray(cut_line, dtype=np.int64))
    piece_geometry.append(np.asarray(cut_geometry, dtype=object))
    piece_u.append(np.asarray(cut_u, dtype=np.int64))
    piece_v.append(np.asarray(cut_v, dtype=np.int64))
    return (
        np.concatenate(piece_line),
        np.concatenate(piece_geometry),
        np.concatenate(piece_u),
        np.concatenate(piece_v),
    )


def _snap_ends(geometry: np.ndarray, start_xy: np.ndarray, end_xy: np.ndarray) -> np.ndarray:
    """Move each line's first and last vertex onto the given points."""
    coords, index = shapely.get_coordinates(geometry, return_index=True)
    counts = np.bincount(index, minlength=len(geometry))
    first = np.r_[0, np.cumsum(counts)[:-1]]
    coords[first] = start_xy
    coords[first + counts - 1] = end_xy
    return np.asarray(shapely.linestrings(coords, indices=index))


def _loose_ends(
    node_xy: np.ndarray,
    piece_line: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    geometry: np.ndarray,
    tolerance_m: float,
    near_miss_m: float,
) -> list[tuple[str, int, int, shapely.Point, float]]:
    """A ``dangling_end`` or ``near_miss_junction`` for every junction only one piece reaches."""
    degree = np.bincount(np.concatenate([u, v]), minlength=len(node_xy))
    loose = np.flatnonzero(degree == 1)
    if len(loose) == 0:
        return []
    # The piece reaching each loose end, and the junction at its other end.
    piece_of = np.full(len(node_xy), -1, dtype=np.int64)
    piece_of[u[degree[u] == 1]] = np.flatnonzero(degree[u] == 1)
    piece_of[v[degree[v] == 1]] = np.flatnonzero(degree[v] == 1)
    own_piece = piece_of[loose]
    far_node = np.where(u[own_piece] == loose, v[own_piece], u[own_piece])
    points: np.ndarray = np.asarray(shapely.points(node_xy[loose]))
    tree = shapely.STRtree(geometry)
    which, piece = tree.query(points, predicate="dwithin", distance=near_miss_m)
    # Pieces meeting the loose end's own piece at its far junction are its neighbours, not near misses.
    neighbour = (piece == own_piece[which]) | (u[piece] == far_node[which]) | (v[piece] == far_node[which])
    which, piece = which[~neighbour], piece[~neighbour]
    distance = shapely.distance(points[which], geometry[piece])
    nearest = pd.DataFrame({"which": which, "piece": piece, "distance": distance}).sort_values("distance")
    nearest = nearest.drop_duplicates("which")
    near_piece = dict(zip(nearest["which"].tolist(), nearest["piece"].tolist(), strict=True))
    near_distance = dict(zip(nearest["which"].tolist(), nearest["distance"].tolist(), strict=True))
    found: list[tuple[str, int, int, shapely.Point, float]] = []
    for i in range(len(loose)):
        line = int(piece_line[own_piece[i]])
        if i in near_piece:
            other = int(piece_line[near_piece[i]])
            found.append(("near_miss_junction", line, other, points[i], near_distance[i]))
        else:
            found.append(("dangling_end", line, -1, points[i], math.nan))
    return found
