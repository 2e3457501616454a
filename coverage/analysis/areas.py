"""Areas read from the travel-time surface: isochrone areas, service areas and catchments.

Each is a set of the surface's cells turned into polygons with GDAL's polygonize
(through rasterio): the cells' own edges, so an area holds exactly the cells it
counts, keeps its holes (pockets beyond the threshold or out of reach) and never
claims a cell it does not hold. The figures (area, population) are summed over
the cells, so the people inside an isochrone area are the people the analysis
counts as covered.

- :func:`isochrone_areas`: the cells within each threshold, dissolved per threshold;
- :func:`service_areas`: the nearest-facility partition within a threshold;
- :func:`catchments`: the nearest-facility partition of every reached cell, with
  population, villages and population per unit of capacity;
- :func:`facility_areas`: one (overlapping) area per facility and threshold, on request.

All are GeoDataFrames in WGS84.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from pyproj import CRS, Transformer

from coverage._errors import InputError
from coverage.analysis.grid import Grid
from coverage.analysis.result import checked_thresholds, covered_column
from coverage.analysis.surface import TravelTimeSurface
from coverage.network.offroad import offroad_pairs, sparse_minimum
from coverage.network.prepared import Network
from coverage.network.routing import pair_seconds
from coverage.network.snapping import Attachment

logger = logging.getLogger(__name__)

#: Capacity columns of a facility file, by the name used in the catchments' columns, and the
#: names they go by in facility lists (English and Chinese).
CAPACITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "beds": ("beds", "床位", "床位数", "编制床位", "实有床位"),
    "doctors": ("doctors", "医生", "医生数", "医师", "医师数", "执业医师"),
    "ambulances": ("ambulances", "救护车", "救护车数"),
}
#: The unit of each capacity, for column names such as ``population_per_bed``.
CAPACITY_UNITS = {"beds": "bed", "doctors": "doctor", "ambulances": "ambulance"}


def _to_wgs84(geometries: list[shapely.Geometry], grid: Grid) -> list[shapely.Geometry]:
    if grid.crs.equals(CRS.from_epsg(4326)) or not geometries:
        return geometries
    to_wgs84 = Transformer.from_crs(grid.crs, 4326, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))

    # a vertex at every cell corner first: long straight edges bend when projected, and areas
    # that share cell edges (nested isochrones, neighbouring catchments) must still share them
    dense = shapely.segmentize(np.asarray(geometries, dtype=object), abs(grid.transform.a) * 1.0001)
    return list(shapely.transform(dense, project))


def _labelled_shapes(surface: TravelTimeSurface, positions: np.ndarray, labels: np.ndarray) -> dict[int, list]:
    """Polygons (in the grid's CRS) of the region cells at ``positions``, grouped by their integer ``labels``.

    Cells of one label that touch by an edge become one polygon; cells touching only
    at a corner stay separate polygons (so every polygon is valid).
    """
    import rasterio.features

    grouped: dict[int, list] = defaultdict(list)
    if len(positions) == 0:
        return grouped
    rows = surface.rows[positions]
    cols = surface.cols[positions]
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    window: Grid = surface.grid.window(slice(r0, r1), slice(c0, c1))
    raster = np.full((r1 - r0, c1 - c0), -1, dtype=np.int32)
    raster[rows - r0, cols - c0] = labels.astype(np.int32)
    for geometry, value in rasterio.features.shapes(
        raster, mask=raster >= 0, transform=window.transform, connectivity=4
    ):
        grouped[int(value)].append(shapely.geometry.shape(geometry))
    return grouped


def _multipolygon(polygons: list[shapely.Geometry]) -> shapely.Geometry:
    # polygons from one polygonize never overlap: no union is needed, only a collection
    if not polygons:
        return shapely.MultiPolygon()
    return shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]  # type: ignore[arg-type]


def cells_polygon(surface: TravelTimeSurface, selected: np.ndarray) -> shapely.Geometry:
    """The region cells selected by a boolean mask (per region cell) as one WGS84 (multi)polygon, holes kept."""
    positions = np.flatnonzero(selected)
    shapes = _labelled_shapes(surface, positions, np.zeros(len(positions), dtype=np.int32))
    return _to_wgs84([_multipolygon(shapes.get(0, []))], surface.grid)[0]


def isochrone_areas(surface: TravelTimeSurface, *, minutes: Sequence[float]) -> gpd.GeoDataFrame:
    """The cells within each threshold, one (multi)polygon per threshold.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per threshold: ``minutes``, ``area_km2`` and ``population`` of the
        cells within it, ``cells``, WGS84 geometry (holes kept; empty when no cell is within).
    """
    area_m2 = surface.cell_area_m2()
    rows = []
    for threshold in checked_thresholds(minutes):
        within = surface.within(threshold)
        rows.append(
            {
                "minutes": threshold,
                "area_km2": float(area_m2[within].sum() / 1e6),
                "population": float(surface.population[within].sum()),
                "cells": int(within.sum()),
                "geometry": cells_polygon(surface, within),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _by_facility(surface: TravelTimeSurface, selected: np.ndarray) -> dict[int, shapely.Geometry]:
    positions = np.flatnonzero(selected & (surface.facility >= 0))
    shapes = _labelled_shapes(surface, positions, surface.facility[positions])
    keys = sorted(shapes)
    geometries = _to_wgs84([_multipolygon(shapes[k]) for k in keys], surface.grid)
    return dict(zip(keys, geometries, strict=True))


def service_areas(surface: TravelTimeSurface, *, minutes: float) -> gpd.GeoDataFrame:
    """The nearest-facility partition of the cells within ``minutes``: one row per facility reaching any.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id``, ``minutes``, ``area_km2``, ``population``, WGS84 geometry.
    """
    within = surface.within(minutes)
    polygons = _by_facility(surface, within)
    keys = np.array(sorted(polygons), dtype=np.int64)
    area = np.bincount(
        surface.facility[within], weights=surface.cell_area_m2()[within], minlength=len(surface.facility_ids)
    )
    people = np.bincount(
        surface.facility[within], weights=surface.population[within], minlength=len(surface.facility_ids)
    )
    frame = gpd.GeoDataFrame(
        {
            "facility_id": surface.facility_ids[keys] if len(keys) else np.array([], dtype=str),
            "minutes": float(minutes),
            "area_km2": area[keys] / 1e6,
            "population": people[keys],
        },
        geometry=[polygons[k] for k in keys],
        crs=4326,
    )
    return frame


def capacity_columns(facilities: pd.DataFrame) -> dict[str, str]:
    """The facility file's capacity columns: catchment name (``beds``...) to the file's column."""
    found = {}
    for name, aliases in CAPACITY_COLUMNS.items():
        column = next((c for c in facilities.columns if str(c).strip().lower() in aliases), None)
        if column is not None:
            found[name] = column
    return found


def catchments(
    surface: TravelTimeSurface,
    facilities: gpd.GeoDataFrame,
    *,
    villages: pd.DataFrame | None = None,
    minutes: Sequence[float] = (),
) -> gpd.GeoDataFrame:
    """The nearest-facility partition of the reached cells: one row per facility.

    Parameters
    ----------
    surface : TravelTimeSurface
    facilities : GeoDataFrame
        The facilities searched, in the surface's facility order (``id``, ``name``, ``kind``,
        and capacity columns such as ``beds``, ``doctors``, ``ambulances`` when there are).
    villages : DataFrame, optional
        With ``nearest_facility_id``: counted per facility.
    minutes : sequence of float
        Thresholds: the people of each catchment within each are counted too.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id``, ``facility_name``, ``kind``, ``raster_value`` (the facility's
        value in ``nearest_facility.tif``), ``area_km2``, ``population``,
        ``population_within_<T>``, ``villages``, ``minutes_mean`` (population-weighted)
        and ``minutes_max``; per capacity column its value and ``population_per_<unit>``.
        A facility that is nobody's nearest has an empty geometry and zeros. WGS84.
    """
    k = len(facilities)
    reached = surface.reached
    index = surface.facility[reached]
    people = surface.population[reached]
    seconds = surface.seconds[reached]
    area = np.bincount(index, weights=surface.cell_area_m2()[reached], minlength=k)
    population = np.bincount(index, weights=people, minlength=k)
    weighted = np.bincount(index, weights=people * seconds / 60.0, minlength=k)
    longest = np.full(k, np.nan)
    if len(index):
        np.fmax.at(longest, index, seconds / 60.0)
    polygons = _by_facility(surface, reached)
    frame = pd.DataFrame(
        {
            "facility_id": facilities["id"].astype(str).to_numpy(),
            "facility_name": facilities["name"].astype(str).to_numpy(),
            "kind": facilities["kind"].astype(str).to_numpy(),
            "raster_value": np.arange(1, k + 1),
            "area_km2": area / 1e6,
            "population": population,
        }
    )
    for threshold in checked_thresholds(minutes) if len(minutes) else ():
        within = seconds <= threshold * 60.0
        name = covered_column(threshold).replace("covered_", "population_within_")
        frame[name] = np.bincount(index[within], weights=people[within], minlength=k)
    if villages is not None and "nearest_facility_id" in villages and len(villages):
        counts = villages["nearest_facility_id"].dropna().astype(str).value_counts()
        frame["villages"] = frame["facility_id"].map(counts).fillna(0).astype(int)
    else:
        frame["villages"] = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["minutes_mean"] = np.where(population > 0, weighted / population, np.nan)
    frame["minutes_max"] = longest
    for name, column in capacity_columns(facilities).items():
        values = pd.to_numeric(facilities[column], errors="coerce").to_numpy(dtype=float)
        frame[name] = values
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[f"population_per_{CAPACITY_UNITS[name]}"] = np.where(values > 0, population / values, np.nan)
    geometry = [polygons.get(i) for i in range(k)]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)


def facility_areas(
    surface: TravelTimeSurface,
    network: Network,
    facilities: Attachment,
    *,
    facility_xy: np.ndarray,
    minutes: Sequence[float],
    access_speed_kph: float,
    tolerance_m: float,
) -> gpd.GeoDataFrame:
    """One isochrone area per facility and threshold: the cells each facility reaches within it, nearest or not.

    These overlap (a cell within 15 minutes of two facilities is in both); the
    dissolved areas and the catchments are the ones to count people with. Bounded
    searches from every facility (:func:`coverage.network.routing.pair_seconds`) plus
    the straight off-road trips, read at the surface's cells.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id``, ``minutes``, ``area_km2``, ``population``, WGS84 geometry.
    """
    thresholds = checked_thresholds(minutes)
    cells = surface.attachment
    if cells is None:
        msg = "the travel-time surface has no attachment of its cells: build it with travel_time_surface()"
        raise InputError(msg)
    seconds = pair_seconds(
        network, facilities, cells, direction=surface.direction, cutoff_minutes=thresholds[-1]
    ).tocsr()
    x, y = surface.grid.centres(surface.rows, surface.cols)
    if not surface.grid.crs.equals(network.crs):
        x, y = Transformer.from_crs(surface.grid.crs, network.crs, always_xy=True).transform(x, y)
    straight = offroad_pairs(
        facility_xy,
        np.column_stack([x, y]),
        speed_kph=access_speed_kph,
        max_distance_m=np.maximum(tolerance_m, cells.snap_distance_m),
        cutoff_s=thresholds[-1] * 60.0,
    )
    seconds = sparse_minimum(seconds, straight) if straight.nnz else seconds
    area_m2 = surface.cell_area_m2()
    rows = []
    for j in range(len(facilities)):
        start, end = seconds.indptr[j], seconds.indptr[j + 1]
        reached, times = seconds.indices[start:end], seconds.data[start:end]
        for threshold in thresholds:
            positions = reached[times <= threshold * 60.0]
            shapes = _labelled_shapes(surface, positions, np.zeros(len(positions), dtype=np.int32))
            rows.append(
                {
                    "facility_id": str(facilities.ids[j]),
                    "minutes": threshold,
                    "area_km2": float(area_m2[positions].sum() / 1e6),
                    "population": float(surface.population[positions].sum()),
                    "geometry": _multipolygon(shapes.get(0, [])),
                }
            )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=surface.grid.crs, columns=[*rows[0]] if rows else None)
    frame["geometry"] = _to_wgs84(list(frame.geometry), surface.grid)
    return frame.set_crs(4326, allow_override=True)
