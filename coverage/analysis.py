"""The main job: from a region's inputs to travel times, isochrones and coverage.

:func:`analyze` chains the library's steps (network, facilities, demand,
snapping, one multi-source search, isochrones, coverage) and returns an
:class:`Analysis`; the CLI, notebooks, standards and reports all call it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputError
from coverage.demand import population_by_nearest_place, population_cells
from coverage.isochrones import DEFAULT_BUFFER_M, facility_isochrones, isochrones, service_areas
from coverage.network import Network, file_sha256
from coverage.osm import OSM_SUFFIXES, facilities_from_osm, places_from_osm
from coverage.points import check_points_in_extent, read_points
from coverage.profiles import Profile, load_profile
from coverage.regions import OSM_ATTRIBUTION, WORLDPOP_ATTRIBUTION, Region, default_region
from coverage.routing import Reach, check_direction, nearest_facility, reach_points
from coverage.snapping import Attachment, attach_points
from coverage.sources import load_network
from coverage.zones import assign_zones, read_boundary, read_zones, urban_area_from_population

logger = logging.getLogger(__name__)

DEFAULT_MINUTES = (10.0, 15.0, 30.0)
Progress = Callable[[str], None]


def checked_thresholds(minutes: Sequence[float]) -> tuple[float, ...]:
    """Thresholds in minutes, ascending and distinct; an InputError unless all are positive."""
    thresholds = tuple(sorted({float(m) for m in minutes}))
    if not thresholds or thresholds[0] <= 0:
        msg = f"minutes must be positive numbers, got {list(minutes)}"
        raise InputError(msg)
    return thresholds


def covered_column(minutes: float) -> str:
    """Name of the column telling whether a place is within ``minutes`` (``covered_15``)."""
    return f"covered_{minutes:g}".replace(".", "_")


@dataclass(frozen=True)
class Analysis:
    """Travel times, coverage and isochrones of one region.

    All GeoDataFrames are in WGS84 (EPSG:4326), ready for maps and GIS files.

    Attributes
    ----------
    region : str
        Name of the region.
    network : Network
        The prepared network the times were computed on.
    profile : Profile
    direction : str
        ``"to_facility"`` (place → facility) or ``"from_facility"`` (EMS, facility → place).
    minutes : tuple of float
        Thresholds, ascending.
    facilities : GeoDataFrame
        ``id``, ``name``, ``kind``, snapping columns.
    villages : GeoDataFrame
        ``id``, ``name``, ``population``, ``population_source``, ``zone``,
        ``nearest_facility_id``, ``nearest_facility_name``, ``minutes``,
        ``covered_<T>`` per threshold, ``snap_distance_m``, ``off_network``,
        ``small_piece``.
    cells : GeoDataFrame or None
        Populated raster cells with the same coverage columns.
    isochrones : GeoDataFrame
        Dissolved area per threshold with ``area_km2`` and ``population``.
    service_areas : GeoDataFrame
        Nearest-facility partition within the largest threshold.
    facility_isochrones : GeoDataFrame
        One polygon per facility and threshold.
    zones : GeoDataFrame or None
        Admin units.
    attribution : str
        Data credits to show with every output.
    inputs : dict
        Each input file's ``path`` and ``sha256``, by role (``network``, ``facilities``...).
    attachments : dict
        How ``facilities``, ``villages`` and ``cells`` (the keys) were attached to the
        network, row for row, for later searches on the same points (e.g. siting).
    """

    region: str
    network: Network
    profile: Profile
    direction: str
    minutes: tuple[float, ...]
    facilities: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame | None
    isochrones: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    facility_isochrones: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame | None
    attribution: str
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict, repr=False, compare=False)

    def road_problems(self) -> gpd.GeoDataFrame:
        """Places in the road source to look at (dangling ends, near-miss junctions...), WGS84 points."""
        problems = self.network.problems
        frame = gpd.GeoDataFrame(
            {"problem": problems["problem"].to_numpy(), "detail": problems["detail"].to_numpy()},
            geometry=gpd.points_from_xy(problems["x"], problems["y"]),
            crs=self.network.crs,
        )
        return frame.to_crs(4326)

    def summary(self) -> dict[str, Any]:
        """Headline figures per threshold, overall and per zone (JSON-ready)."""
        return summarise(self)

    def zone_table(self) -> pd.DataFrame:
        """Covered population and villages per zone and threshold (long format)."""
        return zone_table(self)


def summarise(analysis: Analysis) -> dict[str, Any]:
    """Headline figures of an analysis (see :meth:`Analysis.summary`)."""
    villages = analysis.villages
    cells = analysis.cells
    per_threshold = []
    for threshold in analysis.minutes:
        column = covered_column(threshold)
        row: dict[str, Any] = {"minutes": threshold}
        if cells is not None and len(cells):
            total = float(cells["population"].sum())
            covered = float(cells.loc[cells[column], "population"].sum())
            row.update(
                population_total=round(total, 1),
                population_covered=round(covered, 1),
                population_share=covered / total if total else None,
            )
        row.update(
            villages_total=len(villages),
            villages_covered=int(villages[column].sum()),
            village_population_covered=round(float(villages.loc[villages[column], "population"].fillna(0).sum()), 1),
            village_population_total=round(float(villages["population"].fillna(0).sum()), 1),
        )
        iso = analysis.isochrones[analysis.isochrones["minutes"] == threshold]
        if len(iso):
            row.update(isochrone_area_km2=round(float(iso["area_km2"].iloc[0]), 3))
        per_threshold.append(row)
    return {
        "region": analysis.region,
        "profile": analysis.profile.name,
        "direction": analysis.direction,
        "network": {
            "source": analysis.network.source,
            "nodes": analysis.network.n_nodes,
            "road_pieces": analysis.network.n_segments,
            "pieces": analysis.network.components.n_components,
            "small_pieces": analysis.network.components.small_pieces,
        },
        "facilities": {
            "total": len(analysis.facilities),
            "by_kind": {str(k): int(v) for k, v in analysis.facilities["kind"].value_counts().items()},
            "off_network": int(analysis.facilities["off_network"].sum()),
        },
        "road_problems": {str(k): int(v) for k, v in analysis.network.problems["problem"].value_counts().items()},
        "villages": {
            "total": len(villages),
            "off_network": int(villages["off_network"].sum()),
            "on_small_pieces": int(villages["small_piece"].sum()),
            "unreached": int(villages["minutes"].isna().sum()),
        },
        "thresholds": per_threshold,
        "zones": zone_table(analysis).to_dict(orient="records"),
        "inputs": analysis.inputs,
        "attribution": analysis.attribution,
    }


def zone_table(analysis: Analysis) -> pd.DataFrame:
    """Population and villages covered per zone and threshold."""
    rows = []
    source = analysis.cells if analysis.cells is not None and len(analysis.cells) else analysis.villages
    basis = "cells" if source is analysis.cells else "villages"
    for zone, group in source.groupby("zone"):
        villages = analysis.villages[analysis.villages["zone"] == zone]
        for threshold in analysis.minutes:
            column = covered_column(threshold)
            total = float(group["population"].fillna(0).sum())
            covered = float(group.loc[group[column], "population"].fillna(0).sum())
            rows.append(
                {
                    "zone": zone or "(outside every zone)",
                    "minutes": threshold,
                    "population_total": round(total, 1),
                    "population_covered": round(covered, 1),
                    "population_share": covered / total if total else None,
                    "villages_total": len(villages),
                    "villages_covered": int(villages[column].sum()),
                    "population_basis": basis,
                }
            )
    return pd.DataFrame(rows)


def _coverage_columns(
    frame: gpd.GeoDataFrame,
    attachment: Attachment,
    seconds: np.ndarray,
    facility_index: np.ndarray,
    facilities: gpd.GeoDataFrame,
    minutes: Sequence[float],
) -> gpd.GeoDataFrame:
    frame = frame.copy()
    ids = facilities["id"].to_numpy()
    names = facilities["name"].to_numpy()
    reached = facility_index >= 0
    frame["nearest_facility_id"] = np.where(reached, ids[np.maximum(facility_index, 0)], None)
    frame["nearest_facility_name"] = np.where(reached, names[np.maximum(facility_index, 0)], None)
    frame["minutes"] = np.where(np.isfinite(seconds), seconds / 60.0, np.nan)
    for threshold in minutes:
        frame[covered_column(threshold)] = seconds <= threshold * 60.0
    frame["snap_distance_m"] = attachment.snap_distance_m
    frame["off_network"] = attachment.off_network
    frame["small_piece"] = attachment.small_piece
    return frame


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


def analyze(
    osm: str | os.PathLike[str] | None = None,
    *,
    facilities: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    villages: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    population: str | os.PathLike[str] | None = None,
    zones: str | os.PathLike[str] | None = None,
    zones_name_column: str | None = None,
    zones_where: str | None = None,
    boundary: shapely.Geometry | str | os.PathLike[str] | None = None,
    profile: str | os.PathLike[str] | Profile = "car",
    direction: str = "to_facility",
    minutes: Sequence[float] = DEFAULT_MINUTES,
    kinds: Sequence[str] | None = None,
    ems: bool = False,
    datum: str = "wgs84",
    road_class_column: str | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    per_facility_isochrones: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> Analysis:
    """Compute travel times, coverage and isochrones for a region.

    With no arguments, runs on the embedded default region (Comoros): roads,
    facilities and villages from its OSM extract, population from its raster,
    summaries per island.

    Parameters
    ----------
    osm : path, optional
        Road network: OSM extract, osmnx GraphML or GIS lines file. Default: the
        embedded region, with its population raster and zones.
    facilities : path or GeoDataFrame, optional
        Facility file (CSV with lon/lat, GeoJSON, GeoPackage, Shapefile) with a
        ``kind`` column; default the health facilities tagged in the OSM file.
    villages : path or GeoDataFrame, optional
        Demand places with an optional ``population`` column; default OSM
        ``place=city/town/village/hamlet``.
    population : path, optional
        Population GeoTIFF; each populated cell becomes a weighted demand point.
    zones : path, optional
        Admin-unit polygons to summarise by.
    zones_name_column : str, optional
        Column naming the admin units.
    zones_where : str, optional
        pandas query selecting some of the zones, e.g. ``"admin_level == '8'"``.
    boundary : shapely geometry or path, optional
        WGS84 polygon, or a polygon file, clipping roads, facilities, villages and cells.
    profile : str or Profile
        Speed profile name (``car``, ``ambulance``, ``walk``) or TOML path.
    direction : {"to_facility", "from_facility"}
        Trip direction: place → facility (reaching care) or facility → place (EMS).
    minutes : sequence of float
        Thresholds in minutes.
    kinds : sequence of str, optional
        Facility kinds to count (``hospital``, ``clinic``, ``doctors``, ``ems``...).
    ems : bool
        EMS analysis: ambulance stations (or hospitals when there are none), trips
        from the station.
    datum : {"wgs84", "gcj02", "bd09"}
        Datum of the user's facility and village files.
    road_class_column : str, optional
        Road-class column when ``osm`` is a GIS lines file.
    buffer_m : float
        Half-width of the corridor drawn around reached roads in isochrones.
    per_facility_isochrones : bool
        Also build one isochrone per facility and threshold.
    cache_dir : path, optional
        Where prepared networks are cached.
    use_cache : bool
        Reuse and write the prepared-network cache.
    progress : callable, optional
        Called with a short label as each step starts.
    """
    step = progress or (lambda label: None)
    check_direction(direction)
    thresholds = checked_thresholds(minutes)
    if ems:
        direction = "from_facility"
    region: Region | None = None
    if osm is None:
        region = default_region()
        osm = region.osm
        population = population if population is not None else region.population
        if zones is None:
            zones = region.zones
            zones_name_column = region.zones_name_column
            zones_where = region.zones_where
    osm = Path(osm)
    profile = profile if isinstance(profile, Profile) else load_profile(profile)
    clip = read_boundary(boundary) if isinstance(boundary, str | os.PathLike) else boundary

    step("zones")
    zone_frame = None
    if zones is not None:
        zone_frame = read_zones(zones, name_column=zones_name_column, where=zones_where)
        if clip is None and region is not None:
            clip = zone_frame.geometry.union_all()
    urban_area = urban_area_from_population(population) if population is not None else None

    step("road network")
    network = load_network(
        osm,
        profile=profile,
        boundary=clip,
        urban_area=urban_area,
        class_column=road_class_column,
        cache_dir=cache_dir,
        use_cache=use_cache,
    )
    extent = network.extent_lonlat()

    step("facilities")
    facility_frame = _read_facilities(facilities, osm=osm, boundary=clip, datum=datum, extent=extent)
    facility_frame = select_facilities(facility_frame, kinds=kinds, ems=ems)
    if facility_frame.empty:
        wanted = (
            f"facility of kind {', '.join(kinds)}"
            if kinds
            else ("EMS station or hospital" if ems else "health facility")
        )
        source = "the facility file" if facilities is not None else f"{osm.name} within the region"
        msg = (
            f"no {wanted} in {source}: there is nothing to measure travel times to. "
            "Give a facility file with --facilities, other --kinds, or a larger region."
        )
        raise InputError(msg)

    step("population")
    cells = population_cells(population, boundary=clip) if population is not None else None

    step("villages")
    village_frame = _read_villages(villages, osm=osm, boundary=clip, datum=datum, extent=extent, cells=cells)
    village_frame["zone"] = assign_zones(village_frame, zone_frame).to_numpy()
    if cells is not None:
        cells["zone"] = assign_zones(cells, zone_frame).to_numpy()

    step("snapping")
    speed, tolerance = profile.access_speed_kph, profile.snap_tolerance_m
    facility_att = attach_points(network, facility_frame, access_speed_kph=speed, tolerance_m=tolerance)
    village_att = attach_points(network, village_frame, access_speed_kph=speed, tolerance_m=tolerance)
    cell_att = (
        attach_points(network, cells, access_speed_kph=speed, tolerance_m=tolerance) if cells is not None else None
    )

    step("travel times")
    reach = nearest_facility(network, facility_att, direction=direction)  # type: ignore[arg-type]
    facility_frame = _with_snapping(facility_frame, facility_att)
    seconds, index = reach_points(network, reach, village_att)
    village_frame = _coverage_columns(village_frame, village_att, seconds, index, facility_frame, thresholds)
    if cells is not None and cell_att is not None:
        seconds, index = reach_points(network, reach, cell_att)
        cells = _coverage_columns(cells, cell_att, seconds, index, facility_frame, thresholds)

    step("isochrones")
    iso = _isochrones_with_population(network, reach, thresholds, buffer_m, cells)
    areas = service_areas(network, reach, minutes=thresholds[-1], buffer_m=buffer_m).to_crs(4326)
    per_facility = (
        facility_isochrones(network, facility_att, direction=direction, minutes=thresholds, buffer_m=buffer_m).to_crs(
            4326
        )
        if per_facility_isochrones
        else gpd.GeoDataFrame({"facility_id": [], "minutes": [], "area_km2": []}, geometry=[], crs=4326)
    )
    attribution = (
        region.attribution
        if region is not None
        else OSM_ATTRIBUTION + (f"; {WORLDPOP_ATTRIBUTION}" if population is not None else "")
    )
    # the profile by its settings: it may have been changed in memory, or its file removed since
    inputs: dict[str, dict[str, str]] = {"profile": {"path": str(profile.path), "sha256": profile.fingerprint}}
    for key, value in (
        ("network", osm),
        ("facilities", facilities),
        ("villages", villages),
        ("population", population),
        ("zones", zones),
        ("boundary", boundary),
    ):
        if isinstance(value, str | os.PathLike):
            # the hash tells a later run whether this input changed
            inputs[key] = {"path": str(value), "sha256": file_sha256(value)}
    return Analysis(
        region=region.name if region is not None else osm.name,
        network=network,
        profile=profile,
        direction=direction,
        minutes=thresholds,
        facilities=facility_frame,
        villages=village_frame,
        cells=cells,
        isochrones=iso,
        service_areas=areas,
        facility_isochrones=per_facility,
        zones=zone_frame,
        attribution=attribution,
        inputs=inputs,
        attachments={
            name: att
            for name, att in (("facilities", facility_att), ("villages", village_att), ("cells", cell_att))
            if att is not None
        },
    )


def _with_snapping(frame: gpd.GeoDataFrame, attachment: Attachment) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["snap_distance_m"] = attachment.snap_distance_m
    frame["off_network"] = attachment.off_network
    frame["small_piece"] = attachment.small_piece
    return frame


def _isochrones_with_population(
    network: Network, reach: Reach, thresholds: tuple[float, ...], buffer_m: float, cells: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    iso = isochrones(network, reach, minutes=thresholds, buffer_m=buffer_m)
    if cells is not None and len(cells):
        projected = cells.geometry.to_crs(network.crs)
        x, y = projected.x.to_numpy(), projected.y.to_numpy()
        weights = cells["population"].to_numpy()
        iso["population"] = [float(weights[shapely.contains_xy(polygon, x, y)].sum()) for polygon in iso.geometry]
    else:
        iso["population"] = np.nan
    return iso.to_crs(4326)


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


def _read_facilities(
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


def _read_villages(
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
