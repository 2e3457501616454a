"""The points of an analysis: a user's facility and village files (or OSM's), read and selected.

Facilities and villages come from the user's files (any point format, any datum)
or, by default, from the OSM extract; :func:`select_facilities` keeps the kinds a
question is about.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputError
from coverage.analysis.demand import population_by_nearest_place
from coverage.io.osm import OSM_SUFFIXES, facilities_from_osm, places_from_osm
from coverage.io.points import check_points_in_extent, read_points

logger = logging.getLogger(__name__)


def select_facilities(facilities: gpd.GeoDataFrame, *, kinds: Sequence[str] | None, ems: bool) -> gpd.GeoDataFrame:
    """Keep the facilities of the kinds asked for; for EMS, ambulance stations or else hospitals.

    Plans site EMS stations at medical institutions ("依托医疗机构设置急救站点"), so when a
    region has no ambulance station the hospitals serve as EMS bases.
    """
    if ems:
        stations = facilities[facilities["kind"] == "ems"]
        if len(stations):
            return stations.reset_index(drop=True)
        logger.warning(
            "no ambulance stations (kind 'ems'): using the %d hospitals as EMS bases",
            int((facilities["kind"] == "hospital").sum()),
        )
        kinds = ["hospital"]
    if kinds:
        unknown = sorted(set(kinds) - set(facilities["kind"].astype(str)))
        selected = facilities[facilities["kind"].isin(kinds)]
        if unknown:
            logger.warning(
                "no facilities of kind %s (kinds present: %s)", unknown, sorted(facilities["kind"].astype(str).unique())
            )
        return selected.reset_index(drop=True)
    return facilities.reset_index(drop=True)


def _is_osm(path: Path) -> bool:
    return path.name.lower().endswith(OSM_SUFFIXES)


def _user_points(
    source: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    what: str,
    datum: str,
    extent: tuple[float, float, float, float],
    name_columns: tuple[str, ...],
) -> tuple[gpd.GeoDataFrame, str]:
    """A user's points (file or GeoDataFrame) in WGS84 with unique str ``id`` and a ``name``, inside the network."""
    if isinstance(source, gpd.GeoDataFrame):
        if source.crs is None:
            msg = f"the {what} GeoDataFrame has no CRS; set one (e.g. `.set_crs(4326)` for longitude/latitude)."
            raise InputError(msg)
        frame = source.to_crs(4326).reset_index(drop=True)
        label = f"the {what} GeoDataFrame"
        frame["id"] = frame["id"].astype(str) if "id" in frame else (frame.index + 1).astype(str)
        duplicated = frame["id"][frame["id"].duplicated()].unique()
        if len(duplicated):
            msg = f"{label}: duplicate ids {', '.join(map(repr, duplicated[:5]))}; every point needs its own id."
            raise InputError(msg)
    else:
        frame = read_points(source, datum=datum, what=what)
        label = str(source)
    check_points_in_extent(frame, extent, source=label)
    if "name" not in frame:
        found = [c for c in name_columns if c in frame]
        frame["name"] = frame[found[0]].astype(str) if found else frame["id"]
    return frame, label


def read_facilities(
    source: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    *,
    osm: Path,
    boundary: shapely.Geometry | None,
    datum: str,
    extent: tuple[float, float, float, float],
) -> gpd.GeoDataFrame:
    if source is None:
        if not _is_osm(osm):
            msg = f"{osm.name} is not an OSM extract, so it has no facilities: give a facility file with --facilities."
            raise InputError(msg)
        return facilities_from_osm(osm, boundary=boundary)
    frame, label = _user_points(
        source, what="facilities", datum=datum, extent=extent, name_columns=("名称", "机构名称", "NAME", "Name")
    )
    if "kind" not in frame:
        logger.warning("%s has no 'kind' column: every row counts as kind 'facility'", label)
        frame["kind"] = "facility"
    frame["kind"] = frame["kind"].astype(str).str.strip().str.lower()
    return frame


def read_villages(
    source: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    *,
    osm: Path,
    boundary: shapely.Geometry | None,
    datum: str,
    extent: tuple[float, float, float, float],
    cells: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    if source is None:
        if not _is_osm(osm):
            msg = f"{osm.name} is not an OSM extract, so it has no villages: give a village file with --villages."
            raise InputError(msg)
        frame = places_from_osm(osm, boundary=boundary)
        name = osm.name
    else:
        frame, name = _user_points(
            source, what="villages", datum=datum, extent=extent, name_columns=("名称", "村名", "NAME", "Name")
        )
    population_column = next((c for c in ("population", "人口", "POP", "pop") if c in frame), None)
    stated = (
        pd.to_numeric(frame[population_column], errors="coerce")
        if population_column
        else pd.Series(np.nan, index=frame.index)
    )
    frame["population_source"] = np.where(stated.notna(), "stated", "none")
    frame["population"] = stated
    if cells is not None and stated.isna().any():
        estimate = population_by_nearest_place(frame, cells)
        missing = stated.isna()
        frame.loc[missing, "population"] = estimate[missing]
        frame.loc[missing, "population_source"] = "raster_nearest_place"
        logger.info(
            "%s: population of %d of %d villages estimated from the raster (cells to their nearest village)",
            name,
            int(missing.sum()),
            len(frame),
        )
    if frame.empty:
        msg = f"{name}: no villages to analyse (no place=city/town/village/hamlet inside the region). Give a village file with --villages."
        raise InputError(msg)
    return frame.reset_index(drop=True)
