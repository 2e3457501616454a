"""Zones: admin units to summarise by, and urban areas where urban speeds and standards apply.

Admin units come from a polygon file. Urban areas come from a polygon layer or
are derived from the population raster by a density threshold.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
import shapely.ops
from pyproj import CRS

from coverage._errors import InputError

if TYPE_CHECKING:
    from coverage.analysis.demand import PopulationGrid

logger = logging.getLogger(__name__)

#: A population raster: its file, or its values in memory.
PopulationSource: TypeAlias = "str | os.PathLike[str] | PopulationGrid"

#: People per km² above which a block of the raster counts as urban. China's urban-rural
#: classification (国家统计局《统计上划分城乡的规定》) works on built-up contiguity, not a
#: density figure; 1,500 /km² over 1 km blocks is the threshold of the EU/OECD "degree of
#: urbanisation" (urban centres), used here as a documented, editable default.
URBAN_DENSITY_PER_KM2 = 1500.0
#: Side of the blocks the raster is summed over before the density test, in metres.
URBAN_BLOCK_M = 1000.0


def read_zones(
    path: str | os.PathLike[str],
    *,
    name_column: str | None = None,
    layer: str | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """Read admin units (or other zones) as WGS84 polygons with a ``zone`` name column.

    Parameters
    ----------
    path : str or path-like
        Polygon file (GeoJSON, GeoPackage, Shapefile).
    name_column : str, optional
        Column naming each unit; default the first of ``name``, ``NAME``, ``名称``.
    layer : str, optional
        Layer of a multi-layer file.
    where : str, optional
        A pandas query selecting some units, e.g. ``"admin_level == '4'"``.
    """
    path = Path(path)
    zones, name_column = _zone_rows(path, name_column=name_column, layer=layer, where=where)
    zones = zones.to_crs(4326)
    out = gpd.GeoDataFrame(
        {"zone": zones[name_column].astype(str).to_numpy()}, geometry=zones.geometry.to_numpy(), crs=4326
    )
    out = out.dissolve("zone", as_index=False)
    _warn_overlaps(out, path)
    return out[["zone", "geometry"]]


def read_zone_table(
    path: str | os.PathLike[str],
    *,
    name_column: str | None = None,
    layer: str | None = None,
    where: str | None = None,
) -> pd.DataFrame:
    """The attribute table of the zones :func:`read_zones` reads: one row per polygon, no geometry.

    Returns
    -------
    pandas.DataFrame
        The file's columns as they are, plus ``zone``, the name :func:`read_zones`
        gives the polygon's unit; for matching other tables (e.g. census totals by
        name or code) to the units.
    """
    zones, name_column = _zone_rows(Path(path), name_column=name_column, layer=layer, where=where)
    table = pd.DataFrame(zones.drop(columns=zones.geometry.name)).reset_index(drop=True)
    table.insert(0, "zone", zones[name_column].astype(str).to_numpy())
    return table


def _zone_rows(
    path: Path, *, name_column: str | None, layer: str | None, where: str | None
) -> tuple[gpd.GeoDataFrame, str]:
    """The selected polygons of a zones file and the column naming them."""
    zones = select_rows(read_polygons(path, layer=layer, what="zones"), where, label=str(path), what="zones")
    if zones.empty:
        msg = f"{path}: no polygons match {where!r}."
        raise InputError(msg)
    if name_column is None:
        name_column = next((c for c in ("name", "NAME", "名称", "zone") if c in zones), None)
    if name_column is None or name_column not in zones:
        msg = f"{path}: no column {name_column!r} to name the zones; columns are {', '.join(map(str, zones.columns))}."
        raise InputError(msg)
    return zones, name_column


def select_rows(frame: gpd.GeoDataFrame, where: str | None, *, label: str, what: str) -> gpd.GeoDataFrame:
    """The rows of ``frame`` a pandas query selects (all without one); a bad query names the columns there are."""
    if not where:
        return frame
    try:
        return frame.query(where)
    except Exception as error:
        msg = (
            f"{label}: cannot select {what} with {where!r} ({error}); columns are {', '.join(map(str, frame.columns))}."
        )
        raise InputError(msg) from error


def _warn_overlaps(zones: gpd.GeoDataFrame, path: Path) -> None:
    """Warn when zones overlap (e.g. a country and its provinces in one file): points go to the first."""
    projected = zones.to_crs(zones.estimate_utm_crs())
    total = float(projected.area.sum())
    union = float(projected.geometry.union_all().area)
    if total > 1.01 * union:
        logger.warning(
            "%s: the zones overlap (their areas add up to %.0f%% of their union); each place goes to the first "
            "zone holding it. Select one level, e.g. with a where query such as \"admin_level == '8'\".",
            path.name,
            100 * total / union,
        )


def read_polygons(
    path: str | os.PathLike[str], *, layer: str | None, what: str, repair: bool = False
) -> gpd.GeoDataFrame:
    """The polygons of a vector file, checked: it exists, reads, has a CRS in which its coordinates make
    sense, holds polygons, and they are valid (with ``repair``, invalid ones are made valid, with a warning)."""
    path = Path(path)
    if not path.exists():
        msg = f"{what} file not found: {path}"
        raise InputError(msg)
    if path.is_dir():
        msg = f"{what} file {path} is a folder; give the path of a polygon file (GeoJSON, GeoPackage, Shapefile)."
        raise InputError(msg)
    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as error:
        msg = (
            f"{what} file {path}: cannot read this polygon file ({error}). Give a GeoJSON, GeoPackage or "
            "Shapefile that opens in QGIS."
        )
        raise InputError(msg) from error
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{what} file {path} has no geometry (a table?); {what} must be polygons, in a GeoJSON, GeoPackage or Shapefile."
        raise InputError(msg)
    if frame.crs is None:
        msg = f"{what} file {path}: the file has no CRS; add a .prj (Shapefile) or a crs member, e.g. EPSG:4326."
        raise InputError(msg)
    polygons = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        found = ", ".join(sorted(set(frame.geom_type.dropna()))) or "nothing"
        msg = f"{what} file {path}: no polygons in this file (found {found}); {what} must be polygons."
        raise InputError(msg)
    _check_degrees(polygons, path, what)
    return _checked_valid(polygons, path, what, repair=repair)


def _feature_label(frame: gpd.GeoDataFrame, index: object) -> str:
    """``feature 3 ('Fomboni')``: its place in the file and its name, when it has one."""
    position = frame.index.get_loc(index)
    number = (position if isinstance(position, int) else 0) + 1
    name = next((frame.at[index, c] for c in ("name", "NAME", "名称", "name_en") if c in frame), None)
    return f"feature {number}" + (f" ({str(name)!r})" if isinstance(name, str) and name else "")


def _check_degrees(frame: gpd.GeoDataFrame, path: Path, what: str) -> None:
    """Refuse coordinates that cannot be degrees in a file whose CRS (declared, or GeoJSON's default) says they are."""
    if not CRS.from_user_input(frame.crs).is_geographic:
        return
    west, south, east, north = frame.total_bounds
    if max(abs(west), abs(east)) <= 180 and max(abs(south), abs(north)) <= 90:
        return
    msg = (
        f"{what} file {path}: its coordinates (x {west:,.0f} to {east:,.0f}, y {south:,.0f} to {north:,.0f}) are not "
        f"longitude/latitude degrees, yet its CRS is {frame.crs.to_string()} (a GeoJSON without a crs member is "
        "longitude/latitude by definition). They look like metres of a projected CRS: save the file again with its "
        "own CRS (in QGIS: Layer > Set CRS, then Export > Save Features As), or reproject it to EPSG:4326."
    )
    raise InputError(msg)


def _checked_valid(frame: gpd.GeoDataFrame, path: Path, what: str, *, repair: bool) -> gpd.GeoDataFrame:
    """Refuse self-crossing ("bow-tie") and other invalid polygons, naming them and how to repair them."""
    geometry = np.asarray(frame.geometry.values)
    invalid = ~shapely.is_valid(geometry)
    if not invalid.any():
        return frame
    where = np.flatnonzero(invalid)
    listed = [f"{_feature_label(frame, frame.index[i])}: {shapely.is_valid_reason(geometry[i])}" for i in where[:5]]
    more = f" and {len(where) - 5} more" if len(where) > 5 else ""
    if repair:
        logger.warning(
            "%s file %s: %d invalid polygons repaired (%s%s)", what, path, len(where), "; ".join(listed), more
        )
        repaired = geometry.copy()
        repaired[where] = shapely.make_valid(geometry[where])
        return frame.set_geometry(gpd.GeoSeries(repaired, index=frame.index, crs=frame.crs))
    msg = (
        f"{what} file {path}: {len(where)} of its polygons {'is' if len(where) == 1 else 'are'} not valid "
        f"({'; '.join(listed)}{more}); an outline that crosses itself has no clear inside. Repair them (in QGIS: "
        "Vector > Geometry Tools > Fix Geometries; in Python: shapely.make_valid) and give the repaired file."
    )
    raise InputError(msg)


def check_zones_overlap(zones: gpd.GeoDataFrame, area: shapely.Geometry | None, *, source: str, region: str) -> None:
    """Refuse zones none of which overlaps the region's ``area`` (a WGS84 polygon or box)."""
    if zones.empty or area is None or shapely.is_empty(area):
        return
    if shapely.intersects(np.asarray(zones.geometry.values), area).any():
        return
    west, south, east, north = zones.total_bounds
    a_west, a_south, a_east, a_north = shapely.bounds(area)
    msg = (
        f"zones file {source}: none of its {len(zones)} zones overlaps the region {region} (the zones lie within "
        f"lon {west:.4f} to {east:.4f}, lat {south:.4f} to {north:.4f}; the region within lon {a_west:.4f} to "
        f"{a_east:.4f}, lat {a_south:.4f} to {a_north:.4f}). Give the admin units of this region (--zones), or the "
        "road network of the zones' area."
    )
    raise InputError(msg)


#: The zone classes the plans' standards distinguish.
ZONE_CLASS_VALUES = ("central", "urban", "rural")


def read_zone_classes(
    path: str | os.PathLike[str], *, column: str = "zone_class", layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read a planner's own central / urban / rural polygons.

    Parameters
    ----------
    path : path
        Polygon file with a column naming each polygon's class.
    column : str
        That column; its values must be ``central``, ``urban`` or ``rural`` (or
        中心城区 / 城区 / 农村).

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_class`` and WGS84 geometry, one row per class.
    """
    path = Path(path)
    polygons = read_polygons(path, layer=layer, what="zone classes")
    if column not in polygons:
        msg = (
            f"{path}: no column {column!r} with the zone classes; columns are {', '.join(map(str, polygons.columns))}."
        )
        raise InputError(msg)
    chinese = {"中心城区": "central", "城区": "urban", "城市": "urban", "农村": "rural", "乡村": "rural"}
    values = polygons[column].astype(str).str.strip().replace(chinese).str.lower()
    unknown = sorted(set(values) - set(ZONE_CLASS_VALUES))
    if unknown:
        msg = (
            f"{path}: column {column!r} has values {', '.join(map(repr, unknown))}; allowed: "
            f"{', '.join(ZONE_CLASS_VALUES)} (or 中心城区, 城区, 农村)."
        )
        raise InputError(msg)
    frame = gpd.GeoDataFrame({"zone_class": values.to_numpy()}, geometry=polygons.geometry.to_numpy(), crs=polygons.crs)
    return frame.to_crs(4326).dissolve("zone_class", as_index=False)[["zone_class", "geometry"]]


def read_boundary(
    path: str | os.PathLike[str], *, layer: str | None = None, where: str | None = None
) -> shapely.Geometry:
    """Read a polygon file as one WGS84 outline (the union of its polygons, or of those ``where`` selects).

    A file of several polygons (13 districts of a city) is joined into one outline
    with a warning naming them: select one with ``where`` (``--boundary-where``).
    """
    polygons = select_rows(read_polygons(path, layer=layer, what="boundary"), where, label=str(path), what="boundary")
    if polygons.empty:
        msg = f"{path}: no polygon matches --boundary-where {where!r}."
        raise InputError(msg)
    if len(polygons) > 1:
        name = next((c for c in ("name", "NAME", "名称") if c in polygons), None)
        names = ", ".join(polygons[name].astype(str).head(6)) if name else "unnamed"
        more = f" and {len(polygons) - 6} more" if len(polygons) > 6 else ""
        logger.warning(
            "%s: %d boundary polygons (%s%s) are joined into one region; to analyse one of them, select it with "
            "--boundary-where, e.g. \"%s == '...'\"",
            Path(path).name,
            len(polygons),
            names,
            more,
            name or "name",
        )
    return polygons.to_crs(4326).geometry.union_all()


def assign_zones(
    points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None, *, max_distance_m: float = 1000.0
) -> pd.Series:
    """Name of the zone holding each point.

    Points just outside every zone (on a coast or border that the zone polygons
    draw slightly differently) get the nearest zone within ``max_distance_m``;
    farther points get ``""``.
    """
    if zones is None or zones.empty or points.empty:
        return pd.Series("", index=points.index, dtype=object)
    geometry = points.geometry if points.crs is None or points.crs.equals(4326) else points.geometry.to_crs(4326)
    lon, lat = shapely.get_x(np.asarray(geometry.values)), shapely.get_y(np.asarray(geometry.values))
    return pd.Series(zones_at(lon, lat, zones, max_distance_m=max_distance_m), index=points.index, dtype=object)


def zones_at(
    lon: np.ndarray, lat: np.ndarray, zones: gpd.GeoDataFrame | None, *, max_distance_m: float = 1000.0
) -> np.ndarray:
    """Name of the zone holding each WGS84 position (see :func:`assign_zones`), as an object array.

    A position inside several zones keeps the first zone listed; one outside every
    zone gets the nearest within ``max_distance_m`` (measured in the zones' UTM zone).
    """
    result = np.full(len(lon), "", dtype=object)
    if zones is None or zones.empty or len(lon) == 0:
        return result
    from pyproj import Transformer

    from coverage.io.osm import utm_crs_for

    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    names = zones["zone"].to_numpy(dtype=object)
    for name, geom in zip(names, np.asarray(zones.geometry.to_crs(4326).values), strict=True):
        shapely.prepare(geom)  # fast point-in-polygon tests against detailed coastlines
        inside = (result == "") & shapely.contains_xy(geom, lon, lat)
        result[inside] = name
    outside = np.flatnonzero(result == "")
    if not len(outside) or max_distance_m <= 0:
        return result
    west, south, east, north = zones.total_bounds
    crs = utm_crs_for(np.array([west, east]), np.array([south, north]))
    zone_geoms = np.asarray(zones.geometry.to_crs(crs).values)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon[outside], lat[outside])
    points = np.asarray(shapely.points(np.asarray(x), np.asarray(y)))
    shapely.prepare(zone_geoms)  # prepared: distance tests in logarithmic time
    near = np.column_stack([shapely.dwithin(geom, points, max_distance_m) for geom in zone_geoms])
    count = near.sum(axis=1)
    single = count == 1
    result[outside[single]] = names[near[single].argmax(axis=1)]
    several = np.flatnonzero(count > 1)
    if len(several):
        # near two zones (a shared border): the nearer, the first listed on a tie
        distance = np.column_stack([shapely.distance(geom, points[several]) for geom in zone_geoms])
        distance[~near[several]] = np.inf
        result[outside[several]] = names[distance.argmin(axis=1)]
    return result


def _density_blocks(source: PopulationSource, block_m: float) -> tuple[np.ndarray, Any, CRS, int]:
    """People per km² over blocks of about ``block_m`` on a side; with the blocks' transform, CRS and size in pixels."""
    from coverage.analysis.demand import PopulationGrid, read_population_grid

    grid = source if isinstance(source, PopulationGrid) else read_population_grid(source)
    transform, crs = grid.transform, grid.crs
    top, bottom = transform.f, transform.f + transform.e * grid.values.shape[0]
    if crs.is_geographic:
        lat = (top + bottom) / 2
        pixel_w = abs(transform.a) * 111_320 * np.cos(np.radians(lat))
        pixel_h = abs(transform.e) * 110_574
    else:
        pixel_w, pixel_h = abs(transform.a), abs(transform.e)
    k = max(1, round(block_m / np.sqrt(pixel_w * pixel_h)))
    blocks = grid.block_sum(k)
    return blocks.values / (k * k * pixel_w * pixel_h / 1e6), blocks.transform, crs, k


def _polygons_of(mask: np.ndarray, transform: Any, crs: CRS) -> shapely.Geometry:
    """The cells of a boolean block mask as one WGS84 (multi)polygon."""
    import rasterio.features
    from pyproj import Transformer

    shapes = [
        shapely.geometry.shape(geom)
        for geom, value in rasterio.features.shapes(mask.astype(np.uint8), transform=transform)
        if value == 1
    ]
    if not shapes:
        return shapely.MultiPolygon()
    area = shapely.union_all(shapes)
    if not crs.is_geographic:
        to_wgs84 = Transformer.from_crs(crs, 4326, always_xy=True)
        area = shapely.ops.transform(to_wgs84.transform, area)
    return area


def urban_area_from_population(
    source: PopulationSource,
    *,
    density_per_km2: float = URBAN_DENSITY_PER_KM2,
    block_m: float = URBAN_BLOCK_M,
) -> shapely.Geometry:
    """Urban area derived from a population raster: blocks denser than a threshold.

    The raster is summed over blocks of about ``block_m`` on a side, each block's
    density compared with ``density_per_km2``, and the dense blocks merged.

    Parameters
    ----------
    source : path or PopulationGrid
        A population GeoTIFF, or a grid in memory (e.g. calibrated to census totals).
    density_per_km2 : float
        People per km² from which a block is urban.
    block_m : float
        Side of the blocks, in metres.

    Returns
    -------
    shapely geometry
        (Multi)polygon in WGS84; empty when no block is dense enough.
    """
    density, transform, crs, k = _density_blocks(source, block_m)
    dense = density >= density_per_km2
    logger.info(
        "%s: urban area of %d dense blocks (>= %g people/km2 over %d-pixel blocks)",
        Path(source).name if isinstance(source, str | os.PathLike) else "population grid",
        int(dense.sum()),
        density_per_km2,
        k,
    )
    return _polygons_of(dense, transform, crs)


def zone_classes_from_population(
    source: PopulationSource,
    *,
    central_density_per_km2: float,
    urban_density_per_km2: float = URBAN_DENSITY_PER_KM2,
    block_m: float = URBAN_BLOCK_M,
) -> gpd.GeoDataFrame:
    """Central city, other urban and rural zones derived from population density.

    Blocks of about ``block_m`` at or above ``central_density_per_km2`` are
    ``central``; at or above ``urban_density_per_km2`` ``urban``; populated blocks
    below are ``rural`` (standards such as "10 minutes in the central city, 15 in
    other urban areas, 30 at county level" apply per class). ``source`` is a
    population GeoTIFF or a grid in memory (e.g. calibrated to census totals).

    Returns
    -------
    geopandas.GeoDataFrame
        Up to three rows, ``zone_class`` and WGS84 (multi)polygon geometry.
    """
    if central_density_per_km2 < urban_density_per_km2:
        msg = f"the central-city density ({central_density_per_km2:g}/km²) must be at least the urban one ({urban_density_per_km2:g}/km²)"
        raise InputError(msg)
    density, transform, crs, _ = _density_blocks(source, block_m)
    masks = {
        "central": density >= central_density_per_km2,
        "urban": (density >= urban_density_per_km2) & (density < central_density_per_km2),
        "rural": (density > 0) & (density < urban_density_per_km2),
    }
    rows = [(name, _polygons_of(mask, transform, crs)) for name, mask in masks.items() if mask.any()]
    return gpd.GeoDataFrame({"zone_class": [name for name, _ in rows]}, geometry=[geom for _, geom in rows], crs=4326)
