"""Reading a planner's point files: facilities, villages, candidate sites.

Point lists come as spreadsheets saved to CSV (often GBK-encoded, with Chinese
column names such as 经度/纬度), as GeoJSON, GeoPackage or Shapefile layers, and in
whatever datum the web map they were copied from uses. :func:`read_points` turns
any of these into one GeoDataFrame in WGS84 (EPSG:4326) with a unique string ``id``
column, or stops with an :class:`~coverage._errors.InputError` that names the file,
the row and the column to fix. No row is ever dropped silently.

:func:`check_points_in_extent` then checks the points against the road network's
extent, which catches swapped longitude/latitude columns and files of another area.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from coverage._errors import InputError
from coverage.io.datum import DATUMS, check_datum, geometry_to_wgs84, in_china

logger = logging.getLogger(__name__)

#: File name endings read as delimited text tables with longitude/latitude columns.
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
#: Column names (case-insensitive) recognised as longitude, in order of preference.
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
#: Column names (case-insensitive) recognised as latitude, in order of preference.
LAT_NAMES = ("lat", "latitude", "y", "纬度")
#: Column names (case-insensitive) recognised as the point id, in order of preference.
ID_NAMES = ("id", "code", "编码", "编号")
#: Text encodings tried in turn when none is given; gb18030 is a superset of GBK/GB2312.
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")

#: The keyword arguments messages mention, and how the library names them by default.
OPTION_KEYS = ("lon_column", "lat_column", "id_column", "crs", "layer", "encoding")

_SEPARATORS = (",", "\t", ";", "|")
_MAX_LISTED = 5
_LINE_TYPES = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING, shapely.GeometryType.LINEARRING)
_WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class PointColumns:
    """Which columns of a point file hold what; None: found by their usual names.

    Attributes
    ----------
    lon, lat : str or None
        Coordinate columns of a text table: longitude/latitude, or projected x/y
        with ``crs``.
    crs : str or None
        CRS of projected x/y columns (e.g. ``"EPSG:4547"``).
    id, name, kind, population : str or None
        The id, name, category and population columns.
    layer : str or None
        Layer of a multi-layer file.
    options : mapping
        How messages name each of these (``{"lon_column": "--facilities-lon-column"}``).
    """

    lon: str | None = None
    lat: str | None = None
    crs: str | None = None
    id: str | None = None
    name: str | None = None
    kind: str | None = None
    population: str | None = None
    layer: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


def name_options(message: str, options: Mapping[str, str] | None) -> str:
    """``message`` with the library's argument names (``lon_column=...``) replaced by the caller's.

    The command line passes ``{"lon_column": "--facilities-lon-column", ...}`` so
    that an error names the option a planner types, not a library argument.
    """
    if not options:
        return message
    for key, name in options.items():
        message = message.replace(f"given as {key}=...", f"given as {name}").replace(f"{key}=...", name)
    return message


def _list_items(items: Sequence[str], *, max_listed: int = _MAX_LISTED) -> str:
    """Join the first few items, then say how many more there are."""
    shown = ", ".join(items[:max_listed])
    if len(items) > max_listed:
        shown += f" and {len(items) - max_listed:,} more"
    return shown


def _count(n: int, word: str) -> str:
    """``1 row``, ``12 rows``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _rows_phrase(numbers: Sequence[int] | np.ndarray, word: str) -> str:
    """``row 3`` or ``rows 3, 5, 9, 11, 12 and 4 more``."""
    labels = [str(int(n)) for n in numbers]
    plural = "" if len(labels) == 1 else "s"
    return f"{word}{plural} {_list_items(labels)}"


def _check_path(path: Path, what: str) -> None:
    if not path.exists():
        msg = f"{what} file not found: {path}. Check the path (relative paths start from {Path.cwd()})."
        raise InputError(msg)
    if path.is_dir():
        msg = f"{what} file {path} is a folder; give the path of a CSV, GeoJSON, GeoPackage or Shapefile inside it."
        raise InputError(msg)
    if path.stat().st_size == 0:
        msg = f"{what} file {path} is empty (0 bytes); export the list again."
        raise InputError(msg)


def _parse_crs(crs: str | int | CRS | None, label: str) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        msg = (
            f"{label}: crs={crs!r} is not a coordinate reference system pyproj knows ({exc}); "
            "give an EPSG code such as 'EPSG:4326'."
        )
        raise InputError(msg) from exc


# ---------------------------------------------------------------- text tables


def _decode(raw: bytes, encoding: str | None, label: str) -> tuple[str, str]:
    """Decode the bytes of a text file with the given or the first working encoding."""
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except LookupError as exc:
            msg = f"{label}: unknown encoding {encoding!r}; use e.g. 'utf-8' or 'gb18030' (for GBK/GB2312 files)."
            raise InputError(msg) from exc
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            msg = (
                f"{label} is not valid {encoding} text (bad bytes {raw[exc.start : exc.end]!r} in line {line}); "
                f"leave the encoding out to detect it (tries {', '.join(ENCODINGS)}), or give the right one."
            )
            raise InputError(msg) from exc
    for candidate in ENCODINGS:
        try:
            return raw.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    msg = (
        f"{label} is not text in any of the encodings {', '.join(ENCODINGS)}; is it a spreadsheet (.xlsx) "
        "or another binary file renamed? Save it as CSV (UTF-8), or pass encoding=... if you know it."
    )
    raise InputError(msg)


def _sniff_separator(text: str) -> str:
    """The most frequent of comma, tab, semicolon and bar in the header line."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _read_text_table(path: Path, *, encoding: str | None, label: str) -> tuple[pd.DataFrame, str]:
    """Read a delimited text file with every cell as text, keeping blank lines as rows."""
    raw = path.read_bytes()
    text, used = _decode(raw, encoding, label)
    if not text.strip().lstrip("\ufeff").strip():
        msg = f"{label} contains only blank lines; export the list again."
        raise InputError(msg)
    sep = _sniff_separator(text)
    try:
        # Everything as text first so that codes keep their leading zeros and bad
        # coordinates can be quoted as written; other columns are re-typed below.
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        msg = (
            f"{label} cannot be read as a table ({exc}). Check that every row has the same number of "
            f"{'tab' if sep == chr(9) else repr(sep)}-separated cells and that quotes are closed."
        )
        raise InputError(msg) from exc
    logger.info("read %s as %s text, separator %r", label, used, sep)
    return table, used


def read_text_table(path: str | os.PathLike[str], *, what: str, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV (or tab-, semicolon- or bar-separated) table with every cell as text.

    The encoding is detected as for point files (UTF-8 with or without BOM, then
    GBK/GB18030) and the separator from the header line; codes keep their leading zeros.

    Raises
    ------
    InputError
        When the file is missing, empty, not text or not a table.
    """
    path = Path(path)
    _check_path(path, what)
    table, _ = _read_text_table(path, encoding=encoding, label=str(path))
    return table


def _retype(column: pd.Series) -> pd.Series:
    """Give a column read as text the type pandas would have inferred (empty cells missing).

    Codes written with leading zeros (Amap's TYPECODE ``090400``, ``编码`` ``0012``) stay
    text: as numbers they would lose the zeros that make them codes.
    """
    values = column.replace("", np.nan)
    if values.dropna().astype(str).str.match(r"^0\d").any():
        return values
    try:
        return pd.to_numeric(values)
    except (ValueError, TypeError):
        return values


def _find_column(columns: Sequence[str], wanted: str | None, names: Sequence[str]) -> str | None:
    """The column named ``wanted`` exactly, else the first of ``names`` present (case-insensitive)."""
    if wanted is not None:
        return wanted if wanted in columns else None
    lowered = {str(c).strip().lower(): c for c in reversed(columns)}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _coordinate_columns(
    columns: Sequence[str], lon_column: str | None, lat_column: str | None, label: str
) -> tuple[str, str]:
    found = ", ".join(repr(str(c)) for c in columns)
    for wanted, axis in ((lon_column, "lon"), (lat_column, "lat")):
        if wanted is not None and wanted not in columns:
            msg = f"{label} has no column {wanted!r} (given as {axis}_column=...); its columns are {found}."
            raise InputError(msg)
    lon = _find_column(columns, lon_column, LON_NAMES)
    lat = _find_column(columns, lat_column, LAT_NAMES)
    if lon is None or lat is None:
        missing = " and ".join(
            f"no {axis} column (accepted names: {', '.join(names)}, any case)"
            for col, names, axis in ((lon, LON_NAMES, "longitude"), (lat, LAT_NAMES, "latitude"))
            if col is None
        )
        msg = (
            f"{label} has {missing}; its columns are {found}. Rename the coordinate columns, "
            "or pass lon_column=... and lat_column=..."
        )
        raise InputError(msg)
    if lon == lat:
        msg = f"{label}: the same column {lon!r} was given for longitude and latitude; pass two different columns."
        raise InputError(msg)
    return lon, lat


def _parse_coordinates(
    table: pd.DataFrame, column: str, row_numbers: np.ndarray, label: str, row_word: str
) -> tuple[np.ndarray, np.ndarray]:
    """Parse one coordinate column; return the values and a mask of empty cells."""
    raw = table[column]
    text = raw.astype(object).where(raw.notna(), "").map(lambda v: str(v).strip())
    empty = (text == "").to_numpy()
    values = pd.to_numeric(text.where(~empty, np.nan), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~empty & np.isnan(values)
    if bad.any():
        where = np.flatnonzero(bad)
        examples = [f"{row_word} {row_numbers[i]}: '{text.iloc[i]}'" for i in where]
        msg = (
            f"{label}: column {column!r} has {_count(len(where), 'value')} that {'is' if len(where) == 1 else 'are'} "
            f"not a number: {_list_items(examples)}. Write decimal degrees with a dot, such as 114.2356 "
            "(not degrees-minutes-seconds or a decimal comma)."
        )
        raise InputError(msg)
    return values, empty


def _points_from_table(
    table: pd.DataFrame,
    *,
    lon_column: str | None,
    lat_column: str | None,
    id_column: str | None,
    crs: CRS | None,
    label: str,
) -> tuple[gpd.GeoDataFrame, np.ndarray, str]:
    """Build points from the longitude/latitude columns of a table read from a spreadsheet-like file."""
    columns = [str(c) for c in table.columns]
    table.columns = pd.Index(columns)
    # Spreadsheet row numbers: the header is row 1.
    row_numbers = np.arange(2, len(table) + 2)
    blank = table.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "").all(axis=1)
    if blank.any():
        logger.warning(
            "%s: skipped %s with no value in any column", label, _rows_phrase(row_numbers[blank.to_numpy()], "row")
        )
        table = table.loc[~blank.to_numpy()].reset_index(drop=True)
        row_numbers = row_numbers[~blank.to_numpy()]
    if len(table) == 0:
        msg = f"{label} has a header row ({', '.join(repr(c) for c in columns)}) but no data rows; add the points."
        raise InputError(msg)
    lon_col, lat_col = _coordinate_columns(columns, lon_column, lat_column, label)
    lon, lon_empty = _parse_coordinates(table, lon_col, row_numbers, label, "row")
    lat, lat_empty = _parse_coordinates(table, lat_col, row_numbers, label, "row")
    if (lon_empty | lat_empty).any():
        where = np.flatnonzero(lon_empty | lat_empty)
        details = [
            f"row {row_numbers[i]}: "
            + " and ".join(c for c, e in ((repr(lon_col), lon_empty[i]), (repr(lat_col), lat_empty[i])) if e)
            + " empty"
            for i in where
        ]
        msg = (
            f"{label}: missing coordinates in {_count(len(where), 'row')}: {_list_items(details)}. "
            "Fill them in (look the places up on a map), or delete those rows."
        )
        raise InputError(msg)
    geographic = crs is None or crs.is_geographic
    if geographic:
        _check_ranges(lon, lat, row_numbers, label, "row", lon_col=lon_col, lat_col=lat_col)
    logger.info("%s: coordinates from columns %r (longitude) and %r (latitude)", label, lon_col, lat_col)
    # The id column stays text so that codes keep leading zeros ("0012").
    keep_text = {lon_col, lat_col, _find_column(columns, id_column, ID_NAMES)}
    table = table.copy()
    for column in table.columns:
        if column not in keep_text and pd.api.types.is_string_dtype(table[column]):
            table[column] = _retype(table[column])
    table[lon_col] = lon
    table[lat_col] = lat
    if "geometry" in table.columns:
        table = table.rename(columns={"geometry": "geometry_original"})
        logger.warning("%s: the file's own 'geometry' column is kept as 'geometry_original'", label)
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=crs or _WGS84)
    points.attrs["coordinate_columns"] = (lon_col, lat_col)
    return points, row_numbers, "row"


def _check_ranges(
    lon: np.ndarray,
    lat: np.ndarray,
    row_numbers: np.ndarray,
    label: str,
    row_word: str,
    *,
    lon_col: str = "longitude",
    lat_col: str = "latitude",
) -> None:
    """Raise when a longitude is beyond ±180 or a latitude beyond ±90 degrees."""
    bad = ~(np.abs(lon) <= 180.0) | ~(np.abs(lat) <= 90.0)
    if not bad.any():
        return
    where = np.flatnonzero(bad)
    examples = [f"{row_word} {row_numbers[i]}: {lon_col} {lon[i]:g}, {lat_col} {lat[i]:g}" for i in where]
    if np.all(np.abs(lon[where]) > 1000) or np.all(np.abs(lat[where]) > 1000):
        hint = (
            "These look like projected coordinates in metres, not degrees: pass crs=... with the CRS they are in "
            "(e.g. 'EPSG:4547' for CGCS2000 3-degree Gauss-Kruger at 114°E, 'EPSG:4526' when x starts with the "
            "zone number 38), or convert them to longitude/latitude."
        )
    elif np.all(np.abs(lat[where]) > 90) and np.all(np.abs(lon[where]) <= 90):
        hint = "The longitude and latitude columns look swapped; swap them, or pass lon_column=... and lat_column=..."
    else:
        hint = "Longitude must be within -180..180 and latitude within -90..90 degrees; correct those rows."
    msg = f"{label}: coordinates out of range in {_count(len(where), row_word)}: {_list_items(examples)}. {hint}"
    raise InputError(msg)


# ---------------------------------------------------------------- GIS layers


def _choose_layer(path: Path, layer: str | None, label: str) -> str | None:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and a few others for broken files
        msg = (
            f"{label} cannot be opened as a GIS file ({exc}). Check that it opens in QGIS; "
            "for a shapefile keep the .shp, .shx and .dbf files together."
        )
        raise InputError(msg) from exc
    names = [str(row[0]) for row in layers]
    if layer is not None:
        if layer not in names:
            msg = f"{label} has no layer {layer!r}; its layers are {', '.join(repr(n) for n in names)}."
            raise InputError(msg)
        return layer
    if len(names) > 1:
        spatial = [str(row[0]) for row in layers if row[1] is not None]
        if len(spatial) == 1:
            return spatial[0]
        listed = ", ".join(repr(n) for n in names)
        msg = f"{label} has {len(names)} layers ({listed}); pass layer=... to say which to read."
        raise InputError(msg)
    return None


def _read_layer(
    path: Path,
    *,
    layer: str | None,
    crs: CRS | None,
    label: str,
    lon_column: str | None,
    lat_column: str | None,
    id_column: str | None,
) -> tuple[gpd.GeoDataFrame, np.ndarray, str]:
    chosen = _choose_layer(path, layer, label)
    if chosen is not None:
        label = f"{label} layer {chosen!r}"
    try:
        frame = pyogrio.read_dataframe(path, layer=chosen)
    except Exception as exc:  # corrupt content surfaces only when the features are read
        msg = f"{label} cannot be read ({exc}). Check that it opens in QGIS, or export it again."
        raise InputError(msg) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        # A layer without geometry (a spreadsheet sheet, an attribute table): use its lon/lat columns.
        return _points_from_table(
            frame, lon_column=lon_column, lat_column=lat_column, id_column=id_column, crs=crs, label=label
        )
    if len(frame) == 0:
        msg = f"{label} has no features; export the points again."
        raise InputError(msg)
    row_numbers = np.arange(1, len(frame) + 1)
    if frame.crs is None:
        if crs is None:
            msg = (
                f"{label} has no coordinate reference system (for a shapefile: no .prj file beside the .shp). "
                "Copy the .prj that came with the data next to it, or pass crs=... with the CRS the coordinates "
                "are in (e.g. crs='EPSG:4326' for longitude/latitude degrees, 'EPSG:32650' for UTM zone 50N)."
            )
            raise InputError(msg)
        frame = frame.set_crs(crs)
        logger.warning("%s has no CRS; using the given crs %s", label, crs.to_string())
    elif crs is not None and CRS.from_user_input(frame.crs) != crs:
        logger.warning(
            "%s declares its CRS %s; the given crs %s is not used", label, frame.crs.to_string(), crs.to_string()
        )
    geometry = frame.geometry.values
    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    if missing.any():
        msg = (
            f"{label}: no geometry in {_rows_phrase(row_numbers[missing], 'feature')}. "
            "Give those features a location in a GIS, or delete them."
        )
        raise InputError(msg)
    types = np.asarray(shapely.get_type_id(geometry))
    is_line = np.isin(types, [int(t) for t in _LINE_TYPES])
    if is_line.any():
        where = np.flatnonzero(is_line)
        msg = (
            f"{label}: {_rows_phrase(row_numbers[where], 'feature')} {'is a line' if len(where) == 1 else 'are lines'} "
            f"({shapely.GeometryType(types[where[0]]).name.lower()}), "
            "but facilities and villages must be points or polygons. Use lines as a road network instead, "
            "or convert them to points (e.g. their centroids) in a GIS."
        )
        raise InputError(msg)
    not_point = types != int(shapely.GeometryType.POINT)
    if not_point.any():
        geoms = np.asarray(geometry).copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
        logger.info(
            "%s: %d polygon or multi-point features reduced to one point inside each", label, int(not_point.sum())
        )
    frame = frame.set_geometry(shapely.force_2d(frame.geometry.values), crs=frame.crs)
    if not CRS.from_user_input(frame.crs).equals(_WGS84, ignore_axis_order=True):
        logger.info("%s: reprojecting from %s to EPSG:4326", label, frame.crs.to_string())
        frame = frame.to_crs(_WGS84)
    _check_ranges(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), row_numbers, label, "feature")
    return frame, row_numbers, "feature"


# ---------------------------------------------------------------- ids


def _id_strings(values: pd.Series) -> pd.Series:
    """Ids as text: integers without ``.0``, text stripped, missing as None."""
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if len(finite) and np.all(np.mod(finite.to_numpy(), 1) == 0):
            return values.map(lambda v: None if pd.isna(v) else str(int(v)))
    return values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() or None)


def _assign_ids(
    points: gpd.GeoDataFrame, id_column: str | None, row_numbers: np.ndarray, row_word: str, label: str
) -> gpd.GeoDataFrame:
    columns = [str(c) for c in points.columns if c != points.geometry.name]
    if id_column is not None and id_column not in columns:
        listed = ", ".join(repr(c) for c in columns)
        msg = f"{label} has no column {id_column!r} (given as id_column=...); its columns are {listed}."
        raise InputError(msg)
    source = _find_column(columns, id_column, ID_NAMES)
    points = points.copy()
    if source is None:
        ids = pd.Series([str(i) for i in range(1, len(points) + 1)], index=points.index)
        logger.info(
            "%s: no id column (looked for %s); using data row numbers 1..%d as ids",
            label,
            ", ".join(ID_NAMES),
            len(points),
        )
    else:
        ids = _id_strings(points[source])
        missing = ids.isna().to_numpy()
        if missing.any():
            msg = (
                f"{label}: empty id in column {source!r} in {_rows_phrase(row_numbers[missing], row_word)}. "
                "Fill in the ids, or pass id_column=... naming a column that is filled in everywhere."
            )
            raise InputError(msg)
        duplicated = ids.duplicated(keep=False).to_numpy()
        if duplicated.any():
            groups = [
                f"{value!r} ({_rows_phrase(row_numbers[np.flatnonzero((ids == value).to_numpy())], row_word)})"
                for value in dict.fromkeys(ids[duplicated])
            ]
            msg = (
                f"{label}: duplicate ids in column {source!r}: {_list_items(groups)}. Every point needs its own id: "
                "correct them, or pass id_column=... naming a column with unique values."
            )
            raise InputError(msg)
        logger.info("%s: ids from column %r", label, source)
        if source != "id" and "id" in columns:
            points = points.rename(columns={"id": "id_original"})
            logger.warning("%s: the file's own 'id' column is kept as 'id_original'", label)
    points["id"] = ids.astype(str)
    ordered = ["id", *[c for c in points.columns if c not in ("id", points.geometry.name)], points.geometry.name]
    return points[ordered]


# ---------------------------------------------------------------- public API


def read_points(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    datum: str = "wgs84",
    id_column: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
    crs: str | int | CRS | None = None,
    what: str = "points",
    options: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read facilities, villages or other points from a CSV, GeoJSON, GeoPackage or Shapefile.

    Parameters
    ----------
    path : str or os.PathLike
        The file. ``.csv``, ``.txt`` and ``.tsv`` are read as text tables with
        longitude/latitude columns; anything else is opened as a GIS layer with
        pyogrio (GeoJSON, GeoPackage, Shapefile, ...). A layer without geometry
        (e.g. an ``.xlsx`` sheet) is read like a CSV.
    layer : str, optional
        Layer to read from a multi-layer file such as a GeoPackage. Needed only
        when the file has more than one spatial layer.
    datum : str, default "wgs84"
        The datum of the coordinates: ``"wgs84"`` (GPS, OpenStreetMap),
        ``"gcj02"`` (Amap/Gaode, Tencent) or ``"bd09"`` (Baidu). Applied after
        reprojection to EPSG:4326, since GCJ-02 data is usually labelled EPSG:4326.
    id_column : str, optional
        Column holding the point ids. By default the first of ``id``, ``code``,
        ``编码``, ``编号`` present (any case); without one, data row numbers
        ``"1"``, ``"2"``, ... are used. Ids must be filled in and unique.
    lon_column, lat_column : str, optional
        Coordinate columns of a text table. By default the first present (any case)
        of ``lon, lng, long, longitude, x, 经度`` and ``lat, latitude, y, 纬度``.
    encoding : str, optional
        Text encoding of a CSV. By default ``utf-8-sig``, ``utf-8`` and
        ``gb18030`` (which reads GBK and GB2312) are tried in turn.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates when the file does not say: a shapefile without
        its ``.prj``, or a CSV whose x/y columns are projected metres. A CRS the
        file declares itself takes precedence (with a warning).
    what : str, default "points"
        What the file holds (``"facilities"``, ``"villages"``), for messages.
    options : mapping, optional
        How the caller names the arguments in messages, e.g.
        ``{"lon_column": "--facilities-lon-column"}`` (see :func:`name_options`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per row/feature of the file, in file order, CRS EPSG:4326 in
        WGS84: a string column ``id`` first, then all the file's other columns,
        then point ``geometry`` (polygons reduced to a point inside them). The
        coordinate columns of a text table hold the parsed numbers as written
        (before any datum conversion). Rows of a text table with no value in any
        cell are skipped with a warning naming them; no other row is dropped.

    Raises
    ------
    InputError
        When the file is missing, unreadable or empty; coordinate columns cannot
        be found; a coordinate is missing, not a number or out of range; ids are
        missing or duplicated; features are lines; a GIS file has no CRS; or the
        datum is unknown. The message names the file, the rows and the columns.
    """
    try:
        return _read_points(
            Path(path),
            layer=layer,
            datum=datum,
            id_column=id_column,
            lon_column=lon_column,
            lat_column=lat_column,
            encoding=encoding,
            crs=crs,
            what=what,
        )
    except InputError as error:
        if not options:
            raise
        raise InputError(name_options(str(error), options)) from error


def _read_points(
    path: Path,
    *,
    layer: str | None,
    datum: str,
    id_column: str | None,
    lon_column: str | None,
    lat_column: str | None,
    encoding: str | None,
    crs: str | int | CRS | None,
    what: str,
) -> gpd.GeoDataFrame:
    label = f"{what} file {path}"
    key = check_datum(datum, source=label)
    _check_path(path, what)
    assumed_crs = _parse_crs(crs, label)
    detail = ""
    if path.suffix.lower() in TEXT_SUFFIXES:
        table, used = _read_text_table(path, encoding=encoding, label=label)
        points, row_numbers, row_word = _points_from_table(
            table, lon_column=lon_column, lat_column=lat_column, id_column=id_column, crs=assumed_crs, label=label
        )
        detail = f"encoding {used}, "
        projected = assumed_crs is not None and not assumed_crs.equals(_WGS84, ignore_axis_order=True)
        if projected:
            points = points.to_crs(_WGS84)
            xy = shapely.get_coordinates(points.geometry.values)
            _check_ranges(xy[:, 0], xy[:, 1], row_numbers, label, row_word)
        tag = _crs_tag(assumed_crs) if projected else (key if key != "wgs84" else None)
        if tag is not None:
            points = _tag_coordinate_columns(points, tag, label)
    else:
        points, row_numbers, row_word = _read_layer(
            path,
            layer=layer,
            crs=assumed_crs,
            label=label,
            lon_column=lon_column,
            lat_column=lat_column,
            id_column=id_column,
        )
    points = _assign_ids(points, id_column, row_numbers, row_word, label)
    if key != "wgs84":
        _check_in_china(points, key, row_numbers, row_word, label)
        points = points.set_geometry(geometry_to_wgs84(points.geometry, datum=key))
    points = points.set_crs(_WGS84, allow_override=True)
    points.index = pd.RangeIndex(len(points))
    converted = "converted to WGS84" if key != "wgs84" else "unchanged"
    logger.info("read %d %s from %s (%sdatum %s, %s)", len(points), what, path.name, detail, key, converted)
    return points


def _crs_tag(crs: CRS | None) -> str:
    epsg = crs.to_epsg() if crs is not None else None
    return f"epsg{epsg}" if epsg else "projected"


def _tag_coordinate_columns(points: gpd.GeoDataFrame, tag: str, label: str) -> gpd.GeoDataFrame:
    """Rename the coordinate columns read from a table so that their names say their datum or CRS."""
    used = points.attrs.get("coordinate_columns", ())
    renames = {column: f"{column}_{tag}" for column in used if tag.lower() not in str(column).lower()}
    if renames:
        logger.info("%s: coordinate columns %s renamed to say they are %s", label, ", ".join(renames), tag)
    return points.rename(columns=renames)


def _check_in_china(points: gpd.GeoDataFrame, datum: str, row_numbers: np.ndarray, row_word: str, label: str) -> None:
    """Refuse a Chinese web-map datum for points outside China: converting them would move them for nothing.

    GCJ-02 and BD-09 exist only inside China's rectangle; coordinates outside it
    are WGS84 already, and BD-09's rotation would still shift them by ~1 km.
    """
    xy = shapely.get_coordinates(points.geometry.values)
    outside = ~in_china(xy[:, 0], xy[:, 1])
    if not outside.any():
        return
    where = np.flatnonzero(outside)
    ids = points["id"].astype(str).to_numpy()
    examples = [f"{row_word} {row_numbers[i]} (id {ids[i]}) at lon {xy[i, 0]:.5f}, lat {xy[i, 1]:.5f}" for i in where]
    msg = (
        f"{label}: datum {datum} (--datum) is used only by Chinese web maps, but {_count(len(where), 'point')} of "
        f"{len(points):,} lie outside China: {_list_items(examples)}. Points outside China are in WGS84 already: "
        "give --datum wgs84 (or split the file by datum)."
    )
    raise InputError(msg)


def outside_extent(
    points: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float],
    *,
    source: str,
    tolerance_deg: float = 0.1,
) -> np.ndarray:
    """Which points lie outside the road network's extent (plus a margin).

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Points as returned by :func:`read_points` (an ``id`` column is used in
        messages when present).
    extent : tuple of float
        ``(lon_min, lat_min, lon_max, lat_max)`` of the network in WGS84 degrees.
    source : str
        Where the points came from (a file name), for messages.
    tolerance_deg : float, default 0.1
        Margin around the extent, in degrees (0.1° is about 11 km), within which
        points still count as inside.

    Returns
    -------
    numpy.ndarray
        True for the points outside.

    Raises
    ------
    InputError
        When swapping longitude and latitude would put every point outside inside
        the extent: the file's coordinate columns are swapped.
    """
    if len(extent) != 4:
        msg = f"extent must be (lon_min, lat_min, lon_max, lat_max), got {extent!r}."
        raise InputError(msg)
    lon_min, lat_min, lon_max, lat_max = (float(v) for v in extent)
    if not (lon_min <= lon_max and lat_min <= lat_max):
        msg = f"extent {extent!r} is not (lon_min, lat_min, lon_max, lat_max) with min <= max."
        raise InputError(msg)
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    if points.crs is not None and not CRS.from_user_input(points.crs).equals(_WGS84, ignore_axis_order=True):
        points = points.to_crs(_WGS84)
    xy = shapely.get_coordinates(points.geometry.representative_point().values)
    lon, lat = xy[:, 0], xy[:, 1]

    def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (
            (x >= lon_min - tolerance_deg)
            & (x <= lon_max + tolerance_deg)
            & (y >= lat_min - tolerance_deg)
            & (y <= lat_max + tolerance_deg)
        )

    outside = ~inside(lon, lat)
    if outside.any() and inside(lat[outside], lon[outside]).all():
        where = np.flatnonzero(outside)
        ids = _point_ids(points)
        first = where[0]
        msg = (
            f"longitude and latitude look swapped in {source}, rows with id {_list_items([ids[i] for i in where])}: "
            f"e.g. id {ids[first]} has longitude {lon[first]:.6f} and latitude {lat[first]:.6f}, but the road "
            f"network covers {_box(extent, tolerance_deg)}. Swap the two columns (or pass lon_column=... and "
            "lat_column=...) and run again."
        )
        raise InputError(msg)
    return np.asarray(outside)


def _point_ids(points: gpd.GeoDataFrame) -> list[str]:
    return [str(v) for v in (points["id"] if "id" in points else range(1, len(points) + 1))]


def _box(extent: tuple[float, float, float, float], tolerance_deg: float) -> str:
    lon_min, lat_min, lon_max, lat_max = extent
    return f"lon {lon_min:.4f} to {lon_max:.4f}, lat {lat_min:.4f} to {lat_max:.4f}, with a {tolerance_deg:g}° margin"


def check_points_in_extent(
    points: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float],
    *,
    source: str,
    tolerance_deg: float = 0.1,
) -> None:
    """Raise unless every point lies within the road network's extent (see :func:`outside_extent`).

    Raises
    ------
    InputError
        When points are outside the extent plus margin; the message says when
        swapping longitude and latitude would put them inside.
    """
    outside = outside_extent(points, extent, source=source, tolerance_deg=tolerance_deg)
    if not outside.any():
        return
    where = np.flatnonzero(outside)
    xy = shapely.get_coordinates(points.to_crs(_WGS84).geometry.representative_point().values)
    ids = _point_ids(points)
    examples = [f"id {ids[i]} at ({xy[i, 0]:.5f}, {xy[i, 1]:.5f})" for i in where]
    msg = (
        f"{len(where):,} of {len(points):,} points in {source} are outside the road network "
        f"({_box(extent, tolerance_deg)}); {_list_items(examples)}. Check that the file and the road network cover "
        "the same area, that the coordinates are longitude/latitude degrees, or use a larger road extract."
    )
    raise InputError(msg)


__all__ = [
    "DATUMS",
    "ENCODINGS",
    "ID_NAMES",
    "LAT_NAMES",
    "LON_NAMES",
    "PointColumns",
    "check_points_in_extent",
    "name_options",
    "outside_extent",
    "read_points",
]
