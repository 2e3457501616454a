"""The main job: from a region's inputs to travel times, isochrones and coverage.

:func:`analyze` chains the library's steps (network, facilities, demand,
snapping, one multi-source search, the travel-time surface, isochrone areas,
catchments, coverage) and returns an :class:`~coverage.analysis.result.Analysis`;
the CLI, notebooks, standards and reports all call it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputError
from coverage.analysis import areas
from coverage.analysis.calibration import (
    PopulationCalibration,
    calibrate_grid,
    calibrate_villages,
    with_region,
)
from coverage.analysis.demand import PopulationGrid, population_cells, read_population_grid
from coverage.analysis.flags import warn_flagged
from coverage.analysis.grid import DEFAULT_CELL_M, Grid, cells_inside, population_on_grid, surface_grid, zones_of_cells
from coverage.analysis.isochrones import DEFAULT_BUFFER_M, facility_isochrones, isochrones, service_areas
from coverage.analysis.labels import name_unnamed
from coverage.analysis.memo import file_key, geometry_key, remember, remember_table
from coverage.analysis.places import (
    PlaceNotes,
    no_emergency,
    read_facilities,
    read_villages,
    region_around,
    select_facilities,
    warn_shared_points,
)
from coverage.analysis.places import Region as PlaceRegion
from coverage.analysis.result import DEFAULT_MINUTES, Analysis, checked_thresholds, covered_column
from coverage.analysis.surface import STEP as SURFACE_STEP
from coverage.analysis.surface import TravelTimeSurface, travel_time_surface
from coverage.analysis.totals import PopulationTotals, read_population_totals, totals_from_zones
from coverage.analysis.zones import (
    assign_zones,
    check_zones_overlap,
    read_boundary,
    read_zone_table,
    read_zones,
    urban_area_from_population,
)
from coverage.io.credits import (
    SourceNote,
    credit_line,
    network_note,
    points_note,
    population_note,
    totals_note,
    zones_note,
)
from coverage.io.gis_roads import DEFAULT_ROAD_CLASS
from coverage.io.kinds import DEFAULT_KIND_MAP, NO_KIND_MAP, KindMap, load_kind_map
from coverage.io.points import PointColumns
from coverage.io.regions import Region, default_region, shipped_credit
from coverage.network.offroad import direct_offroad
from coverage.network.prepared import Network, default_cache_dir, file_sha256
from coverage.network.profiles import Profile, load_profile
from coverage.network.routing import Reach, check_direction, nearest_facility, reach_points
from coverage.network.snapping import Attachment, attach_points
from coverage.network.sources import load_network

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: The steps :func:`analyze` reports to its ``progress`` callable (labels ``"step: detail"`` refine a step).
ANALYZE_STEPS = 10

#: How isochrone areas are drawn: the surface's cells within T, or corridors along the roads reached.
ISOCHRONE_METHODS = ("surface", "roads")


def _coverage_columns(
    frame: gpd.GeoDataFrame,
    attachment: Attachment,
    seconds: np.ndarray,
    facility_index: np.ndarray,
    facilities: gpd.GeoDataFrame,
    minutes: Sequence[float],
    direct: np.ndarray,
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
    frame["direct_offroad"] = direct
    frame["snap_distance_m"] = attachment.snap_distance_m
    frame["off_network"] = attachment.off_network
    frame["small_piece"] = attachment.small_piece
    return frame


def analyze(
    osm: str | os.PathLike[str] | None = None,
    *,
    facilities: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    villages: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    population: str | os.PathLike[str] | None = None,
    population_totals: str | os.PathLike[str] | pd.DataFrame | Mapping[str, float] | PopulationTotals | None = None,
    population_totals_column: str | None = None,
    calibrate_default: bool = True,
    zones: str | os.PathLike[str] | None = None,
    zones_name_column: str | None = None,
    zones_where: str | None = None,
    boundary: shapely.Geometry | str | os.PathLike[str] | None = None,
    boundary_where: str | None = None,
    border_km: float | None = None,
    zones_level: str | None = None,
    profile: str | os.PathLike[str] | Profile = "car",
    direction: str = "to_facility",
    minutes: Sequence[float] = DEFAULT_MINUTES,
    kinds: Sequence[str] | None = None,
    ems: bool = False,
    datum: str = "wgs84",
    facilities_datum: str | None = None,
    villages_datum: str | None = None,
    facility_columns: PointColumns | None = None,
    village_columns: PointColumns | None = None,
    kind_map: str | os.PathLike[str] | KindMap | None = DEFAULT_KIND_MAP,
    road_class_column: str | None = None,
    default_road_class: str | None = DEFAULT_ROAD_CLASS,
    isochrone_method: str = "surface",
    buffer_m: float = DEFAULT_BUFFER_M,
    cell_m: float = DEFAULT_CELL_M,
    per_facility_isochrones: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> Analysis:
    """Compute travel times, coverage and isochrones for a region.

    With no arguments, runs on the embedded default region (Comoros): roads,
    facilities and villages from its OSM extract, population from its raster
    calibrated to the 2017 census island totals, summaries per island.

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
        ``place=city/town/village/hamlet`` (none for other road sources: the
        population raster's cells are the demand then).
    population : path, optional
        Population GeoTIFF; each populated cell becomes a weighted demand point, and
        the travel-time surface lies on its grid.
    population_totals : path, DataFrame, mapping or PopulationTotals, optional
        Official population per admin unit of ``zones`` (a CSV with a unit name or
        code column and a population column, a table, a mapping of unit to people,
        or totals already matched to the units). Each unit's raster cells are scaled so that they add up to its
        total, keeping the raster's pattern inside the unit; without a raster, the
        villages' populations are (see :mod:`coverage.analysis.calibration`).
    population_totals_column : str, optional
        Take the totals from this column of the ``zones`` file instead.
    calibrate_default : bool
        With the default region, calibrate its raster to the 2017 census island
        totals (False: the raster's own figures).
    zones : path, optional
        Admin-unit polygons to summarise by.
    zones_name_column : str, optional
        Column naming the admin units.
    zones_where : str, optional
        pandas query selecting some of the zones, e.g. ``"admin_level == '8'"``.
    boundary : shapely geometry or path, optional
        WGS84 polygon, or a polygon file, of the region: villages and cells are taken
        inside it; roads and facilities inside it plus ``border_km``.
    boundary_where : str, optional
        pandas query selecting the rows of a boundary file (e.g. ``"name == '东西湖区'"``);
        several polygons left are joined, with a warning.
    border_km : float, optional
        Width of the border around the boundary whose roads and facilities count: a
        hospital just across the border serves villages inside (its facilities are
        flagged ``outside_boundary``). Default: the distance the profile's top speed
        covers in the longest threshold, the farthest a facility can serve from.
    zones_level : str, optional
        What the zones are (``county``, ``township``...); ``county`` zones (as the
        seed-region presets have) cannot stand in for township or subdistrict units.
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
    facilities_datum, villages_datum : str, optional
        The datum of one of them, when the two differ (default: ``datum``).
    facility_columns, village_columns : PointColumns, optional
        Which columns of the files hold the coordinates, id, name, category and
        population (default: found by their usual names).
    kind_map : str, path, KindMap or None
        How the facility file's categories become kinds: a shipped map (``zh``, the
        default: Chinese category names; ``amap``: Amap exports), a TOML file, or
        None / ``"none"`` to take the category column's values as they are.
    road_class_column : str, optional
        Road-class column when ``osm`` is a GIS lines file.
    default_road_class : str or None
        The class of a GIS road line whose class is blank or unknown (None refuses them).
    isochrone_method : {"surface", "roads"}
        ``surface``: the isochrone areas are the cells of the travel-time surface within
        each threshold (their people are the covered people); ``roads``: corridors of
        ``buffer_m`` along the roads reached in time.
    buffer_m : float
        Half-width of the corridor drawn around reached roads (``roads`` isochrones).
    cell_m : float
        Side of the surface's cells in metres when there is no population raster.
    per_facility_isochrones : bool
        Also build one isochrone per facility and threshold (slow with many facilities).
    cache_dir : path, optional
        Where prepared networks are cached.
    use_cache : bool
        Reuse and write the prepared-network cache.
    progress : callable, optional
        Called with a short label as each of the :data:`ANALYZE_STEPS` steps starts, and
        with ``"step: detail"`` labels (progress, an estimate of the time left) within a long step.
    """
    step = progress or (lambda label: None)
    check_direction(direction)
    thresholds = checked_thresholds(minutes)
    if isochrone_method not in ISOCHRONE_METHODS:
        msg = f"isochrone_method must be one of {ISOCHRONE_METHODS}, got {isochrone_method!r}"
        raise InputError(msg)
    if ems:
        direction = "from_facility"
    region: Region | None = None
    totals_credit: str | None = None
    if osm is None:
        region = default_region()
        osm = region.osm
        own_population = population is not None
        population = population if population is not None else region.population
        if zones is None:
            zones = region.zones
            zones_name_column = region.zones_name_column
            zones_where = region.zones_where
            given = population_totals is not None or population_totals_column is not None
            if calibrate_default and not own_population and not given and region.population_totals is not None:
                population_totals, totals_credit = region.population_totals, region.population_totals_credit
    osm = Path(osm)
    profile = profile if isinstance(profile, Profile) else load_profile(profile)
    clip = read_boundary(boundary, where=boundary_where) if isinstance(boundary, str | os.PathLike) else boundary
    kinds_by = _kind_map(kind_map)
    notes = PlaceNotes()

    step("zones")
    zone_frame = None
    if zones is not None:
        zone_frame = remember(
            ("zones", file_key(zones), zones_name_column, zones_where),
            lambda: read_zones(zones, name_column=zones_name_column, where=zones_where),
        )
        if clip is None and region is not None:
            if zones != region.zones:  # the planner's own zones on the embedded region
                check_zones_overlap(zone_frame, region.boundary(), source=str(zones), region=region.name)
            clip = zone_frame.geometry.union_all()
    totals = _population_totals(
        population_totals, population_totals_column, zones=zones, name_column=zones_name_column, where=zones_where
    )
    grid, calibration, urban_area = (
        # the raster read, calibrated and its urban area derived once per process (check runs several analyses)
        remember(
            ("population", file_key(population), file_key(zones), zones_name_column, zones_where, _totals_key(totals)),
            lambda: _population_grid(population, zone_frame, totals),
        )
        if population is not None
        else (None, None, None)
    )
    area = region_around(clip, border_km=border_km, profile=profile, minutes=thresholds)

    step("road network")
    network = load_network(
        osm,
        profile=profile,
        boundary=area.border_area,
        urban_area=urban_area,
        class_column=road_class_column,
        default_class=default_road_class,
        cache_dir=cache_dir,
        use_cache=use_cache,
    )
    _warn_defaulted_roads(network)
    extent = network.extent_lonlat()
    if zone_frame is not None:
        check_zones_overlap(zone_frame, shapely.box(*extent), source=str(zones), region=f"of {osm.name}")
    # the points read from the inputs are kept beside the network, for the next run on the same files
    points_cache = Path(cache_dir or default_cache_dir()) if use_cache else None

    step("facilities")
    every_facility, facility_notes = _remembered(
        "facilities",
        facilities,
        osm,
        (
            geometry_key(area.outline),
            geometry_key(area.border_area),
            facilities_datum or datum,
            repr(facility_columns),
            *_kind_map_key(kinds_by),
        ),
        extent,
        lambda: _facilities_with_notes(
            facilities,
            osm=osm,
            region=area,
            datum=facilities_datum or datum,
            extent=extent,
            columns=facility_columns,
            kind_map=kinds_by,
        ),
        points_cache,
    )
    notes.facilities.update(facility_notes)
    facility_frame = select_facilities(every_facility, kinds=kinds, ems=ems)
    if facility_frame.empty:
        refused = int(((every_facility["kind"] == "hospital") & no_emergency(every_facility)).sum())
        wanted = (
            f"facility of kind {', '.join(kinds)}"
            if kinds
            else (
                "EMS station or hospital taking emergencies"
                + (f" ({refused} hospitals are tagged emergency=no)" if refused else "")
                if ems
                else "health facility"
            )
        )
        source = "the facility file" if facilities is not None else f"{osm.name} within the region"
        msg = (
            f"no {wanted} in {source}: there is nothing to measure travel times to. "
            "Give a facility file with --facilities, other --kinds, or a larger region."
        )
        raise InputError(msg)

    facility_source = (
        osm.name
        if facilities is None
        else (f"facilities file {facilities}" if isinstance(facilities, str | os.PathLike) else "the facilities")
    )
    warn_shared_points(facility_frame, source=facility_source)

    step("population")
    cells = None
    if grid is not None and population is not None:
        # read once per process for a raster, a boundary and the totals it was calibrated to
        cells = remember(
            ("cells", file_key(population), geometry_key(clip), _totals_key(totals)),
            lambda: population_cells(grid, boundary=clip, label=Path(population).name),
        )

    step("villages")
    village_frame, village_notes = _remembered(
        "villages",
        villages,
        osm,
        (
            geometry_key(area.outline),
            villages_datum or datum,
            repr(village_columns),
            file_key(population),
            file_key(zones),
            zones_name_column,
            zones_where,
        ),
        extent,
        lambda: _villages_with_notes(
            villages,
            osm=osm,
            region=area,
            datum=villages_datum or datum,
            extent=extent,
            cells=cells,
            columns=village_columns,
            zones=zone_frame,
        ),
        points_cache,
    )
    notes.villages.update(village_notes)
    if village_frame.empty and cells is None:
        logger.warning(
            "no villages and no population raster: the results hold travel times and areas but no population "
            "figures; give --population or --villages"
        )
    speed, tolerance = profile.access_speed_kph, profile.snap_tolerance_m
    # the surface covers the boundary, else the admin units (a batch region), else the land the roads reach
    region_outline = clip if clip is not None else (zone_frame.geometry.union_all() if zone_frame is not None else None)
    if region_outline is None and cells is not None:
        cells = _near_the_network(cells, extent, tolerance)
    cell_grid = surface_grid(
        network_crs=network.crs,
        extent_lonlat=extent,
        boundary=region_outline,
        population=population,
        cells_bounds=tuple(cells.total_bounds) if cells is not None and len(cells) else None,
        cell_m=cell_m,
        margin_m=tolerance,
    )
    people_grid, cell_rows, cell_cols = (
        population_on_grid(cell_grid, cells)
        if cells is not None
        else (None, np.zeros(0, np.int64), np.zeros(0, np.int64))
    )
    if cells is not None:
        cells["zone"] = zones_of_cells(cell_grid, zone_frame, cell_rows, cell_cols)
    if calibration is not None and cells is not None:
        calibration = with_region(calibration, cells)
    elif totals is not None and zone_frame is not None:
        village_frame, calibration = calibrate_villages(village_frame, totals, units=zone_frame["zone"].tolist())
    # unnamed places get their kind, where they are and their id, so that every list can be acted on
    village_frame = name_unnamed(
        village_frame,
        places=village_frame,
        crs=network.crs,
        kind_column="place",
        default_kind="village",
        zones=village_frame["zone"].to_numpy(),
    )
    facility_frame = facility_frame.assign(zone=assign_zones(facility_frame, zone_frame).to_numpy())
    facility_frame = name_unnamed(
        facility_frame,
        places=village_frame,
        crs=network.crs,
        kind_column="kind",
        default_kind="facility",
        zones=facility_frame["zone"].to_numpy(),
    )

    step("snapping")
    # a facility's leg to its road is its yard or driveway (driven by a vehicle profile); a place's is walked
    facility_att = attach_points(
        network, facility_frame, access_speed_kph=profile.facility_access_speed_kph, tolerance_m=tolerance
    )
    village_att = attach_points(network, village_frame, access_speed_kph=speed, tolerance_m=tolerance)
    warn_flagged(
        facility_att, what="facilities", tolerance_m=tolerance, access_speed_kph=profile.facility_access_speed_kph
    )
    warn_flagged(village_att, what="villages", frame=village_frame, tolerance_m=tolerance, access_speed_kph=speed)
    facility_xy = _projected_xy(facility_frame, network)

    step("travel times")
    reach = nearest_facility(network, facility_att, direction=direction)  # type: ignore[arg-type]
    facility_frame = _with_snapping(facility_frame, facility_att)
    seconds, index = reach_points(network, reach, village_att)
    seconds, index, direct = direct_offroad(
        _projected_xy(village_frame, network),
        seconds,
        index,
        facility_xy=facility_xy,
        speed_kph=speed,
        max_distance_m=np.maximum(tolerance, village_att.snap_distance_m),
        facility_ids=facility_att.ids,
    )
    village_frame = _coverage_columns(village_frame, village_att, seconds, index, facility_frame, thresholds, direct)

    step(SURFACE_STEP)
    surface = travel_time_surface(
        network,
        reach,
        grid=cell_grid,
        inside=_region_cells(cell_grid, region_outline),
        facility_xy=facility_xy,
        access_speed_kph=speed,
        tolerance_m=tolerance,
        population=people_grid,
        within_reach_of_roads=region_outline is None,
        boundary=region_outline,
        cache_dir=cache_dir,
        use_cache=use_cache,
        progress=step,
    )
    cell_att = None
    if cells is not None:
        cells, cell_att = _cells_from_surface(
            cells, surface, cell_rows, cell_cols, facility_frame, thresholds, tolerance_m=tolerance
        )
        warn_flagged(cell_att, what="cells", frame=cells, tolerance_m=tolerance, access_speed_kph=speed)

    step("isochrones")
    if isochrone_method == "surface":
        iso = areas.isochrone_areas(surface, minutes=thresholds)
        partition = areas.service_areas(surface, minutes=thresholds[-1])
    else:
        iso = _isochrones_with_population(network, reach, thresholds, buffer_m, cells)
        partition = service_areas(network, reach, minutes=thresholds[-1], buffer_m=buffer_m).to_crs(4326)
    if not per_facility_isochrones:
        per_facility = gpd.GeoDataFrame({"facility_id": [], "minutes": [], "area_km2": []}, geometry=[], crs=4326)
    elif isochrone_method == "surface":
        per_facility = areas.facility_areas(
            surface,
            network,
            facility_att,
            facility_xy=facility_xy,
            minutes=thresholds,
            access_speed_kph=speed,
            tolerance_m=tolerance,
        )
    else:
        per_facility = facility_isochrones(
            network, facility_att, direction=direction, minutes=thresholds, buffer_m=buffer_m
        ).to_crs(4326)
    step("catchments")
    catchment_frame = areas.catchments(surface, facility_frame, villages=village_frame, minutes=thresholds)
    if totals_credit is None and isinstance(population_totals, str | os.PathLike):
        totals_credit = shipped_credit(population_totals)  # the census totals shipped with the default region
    sources = _source_notes(
        osm,
        facilities=facilities,
        villages=villages,
        population=population,
        zones=zones,
        region=region,
        calibration=calibration,
        totals_credit=totals_credit,
    )
    # the raster's credit says what it was calibrated to; the totals are named there
    raster_calibrated = calibration is not None and calibration.basis == "raster cells"
    attribution = credit_line(note for note in sources if not (raster_calibrated and note.role == "population totals"))
    # the profile by its settings: it may have been changed in memory, or its file removed since
    inputs: dict[str, dict[str, str]] = {"profile": {"path": str(profile.path), "sha256": profile.fingerprint}}
    for key, value in (
        ("network", osm),
        ("facilities", facilities),
        ("villages", villages),
        ("population", population),
        ("population_totals", population_totals),
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
        service_areas=partition,
        facility_isochrones=per_facility,
        zones=zone_frame,
        attribution=attribution,
        inputs=inputs,
        outline=clip,
        zones_level=zones_level,
        notes=_notes(notes, area, facility_frame, ems=ems),
        population_calibration=calibration,
        sources=sources,
        attachments={
            name: att
            for name, att in (("facilities", facility_att), ("villages", village_att), ("cells", cell_att))
            if att is not None
        },
        surface=surface,
        catchments=catchment_frame,
    )


def _kind_map(kind_map: str | os.PathLike[str] | KindMap | None) -> KindMap | None:
    if kind_map is None or isinstance(kind_map, KindMap):
        return kind_map
    if str(kind_map) == NO_KIND_MAP:
        return None
    return load_kind_map(kind_map)


def _warn_defaulted_roads(network: Network) -> None:
    """Repeat, on every run (the network may come from the cache), that some road classes were assumed."""
    problems = network.problems
    defaulted = problems[problems["problem"] == "default_road_class"]
    if len(defaulted):
        logger.warning(
            "%s: road classes assumed for some lines (blank or unknown class): %s",
            network.source,
            "; ".join(defaulted["detail"].astype(str)),
        )


def _notes(notes: PlaceNotes, area: PlaceRegion, facilities: gpd.GeoDataFrame, *, ems: bool) -> dict[str, Any]:
    """What the analysis assumed and left out, for summary.json."""
    record: dict[str, Any] = {"facilities": notes.facilities, "villages": notes.villages}
    if area.outline is not None:
        record["boundary"] = {"border_km": round(area.border_km, 3)}
    if ems and not (facilities["kind"] == "ems").any():
        record["stand_in"] = {
            "for": "ems",
            "by": "hospital",
            "count": len(facilities),
            "note": "no ambulance stations in the facility data: hospitals stand in as EMS bases",
        }
    return record


def _population_totals(
    source: str | os.PathLike[str] | pd.DataFrame | Mapping[str, float] | PopulationTotals | None,
    column: str | None,
    *,
    zones: str | os.PathLike[str] | None,
    name_column: str | None,
    where: str | None,
) -> PopulationTotals | None:
    """The official totals asked for, matched to the units of the zones; None when none were asked for."""
    if source is not None and column is not None:
        msg = (
            "give the population totals either as a file (population_totals) or as a column of the zones "
            "(population_totals_column), not both"
        )
        raise InputError(msg)
    if isinstance(source, PopulationTotals):
        return source  # already matched to the units (e.g. a batch region's own total)
    if column is not None:
        units = _unit_table(zones, name_column, where, f"population totals column {column!r}")
        return totals_from_zones(column, units=units, label=Path(str(zones)).name)
    if source is None:
        return None
    return read_population_totals(source, units=_unit_table(zones, name_column, where, "population totals"))


def _unit_table(
    zones: str | os.PathLike[str] | None, name_column: str | None, where: str | None, what: str
) -> pd.DataFrame:
    if zones is None:
        msg = (
            f"{what}: calibrating to official totals needs the admin units they are for; "
            "give their polygons with --zones (and --zones-name-column to name them)."
        )
        raise InputError(msg)
    return read_zone_table(zones, name_column=name_column, where=where)


def _source_notes(
    osm: Path,
    *,
    facilities: object,
    villages: object,
    population: str | os.PathLike[str] | None,
    zones: str | os.PathLike[str] | None,
    region: Region | None,
    calibration: PopulationCalibration | None,
    totals_credit: str | None,
) -> tuple[SourceNote, ...]:
    """Every input of the analysis with the credit it must carry."""
    notes = [
        network_note(osm),
        points_note("facilities", facilities, osm=osm),
        points_note("villages", villages, osm=osm),
    ]
    totals = None
    if calibration is not None:
        totals = totals_note(calibration.source, totals_credit)
    if population is not None:
        calibrated = calibration is not None and calibration.basis == "raster cells" and len(calibration.factors)
        notes.append(population_note(population, calibrated_to=totals.credit if calibrated and totals else None))
    if totals is not None:
        notes.append(totals)
    if zones is not None:
        notes.append(zones_note(zones, credit=shipped_credit(zones)))
    return tuple(notes)


def _near_the_network(
    cells: gpd.GeoDataFrame, extent: tuple[float, float, float, float], margin_m: float
) -> gpd.GeoDataFrame:
    """The populated cells within the network's extent grown by ``margin_m`` (no boundary: the roads' region)."""
    lat = (extent[1] + extent[3]) / 2
    dx = margin_m / (111_320.0 * max(np.cos(np.radians(lat)), 0.2))
    dy = margin_m / 110_574.0
    lon, lat_ = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
    near = (lon >= extent[0] - dx) & (lon <= extent[2] + dx) & (lat_ >= extent[1] - dy) & (lat_ <= extent[3] + dy)
    if not near.all():
        logger.warning(
            "no boundary given: %d populated cells (%.0f people) of the raster lie beyond the road network's extent "
            "and are left out of the region; give --boundary (or --zones) to count them",
            int((~near).sum()),
            float(cells.loc[~near, "population"].sum()),
        )
    return cells[near].reset_index(drop=True)


def _remembered(
    what: str,
    given: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    osm: Path,
    options: tuple[object, ...],
    extent: tuple[float, float, float, float],
    read: Callable[[], tuple[gpd.GeoDataFrame, dict[str, Any]]],
    folder: Path | None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Points and their notes, read from a file (or the OSM extract) once; a GeoDataFrame given is read as is.

    A user's file is checked against the network's extent, so its entry is per extent;
    OSM's points do not depend on it (the networks of two profiles differ in extent).
    """
    if isinstance(given, gpd.GeoDataFrame):
        return read()
    source = (file_key(given), extent) if given is not None else ("osm", file_key(osm))
    return remember_table((what, source, options), read, folder=folder)


def _population_grid(
    population: str | os.PathLike[str], zones: gpd.GeoDataFrame | None, totals: PopulationTotals | None
) -> tuple[PopulationGrid, PopulationCalibration | None, shapely.Geometry]:
    """The population raster, calibrated to the totals when there are, and the urban area derived from it."""
    grid = read_population_grid(population)
    calibration: PopulationCalibration | None = None
    if totals is not None and zones is not None:
        grid, calibration = calibrate_grid(grid, zones, totals)
    return grid, calibration, urban_area_from_population(grid)


def _region_cells(grid: Grid, outline: shapely.Geometry | None) -> np.ndarray:
    """The grid's cells of the region (all without an outline), computed once per process for a grid and outline."""
    if outline is None:
        return np.ones(grid.shape, dtype=bool)
    key = ("region cells", repr(tuple(grid.transform)), grid.shape, grid.crs.to_wkt(), geometry_key(outline))
    return remember(key, lambda: cells_inside(grid, outline))


def _totals_key(totals: PopulationTotals | None) -> str | None:
    """The identity of the totals a raster was calibrated to, for the memo: every unit and its people."""
    if totals is None:
        return None
    text = json.dumps([totals.source, [[str(k), float(v)] for k, v in totals.totals.items()]])
    return hashlib.sha256(text.encode()).hexdigest()


def _kind_map_key(kind_map: KindMap | None) -> tuple[object, ...]:
    if kind_map is None:
        return (NO_KIND_MAP,)
    path = Path(kind_map.path) if kind_map.path else None
    return (kind_map.name, file_key(path) if path is not None and path.is_file() else kind_map.path)


def _facilities_with_notes(source: Any, **options: Any) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    notes = PlaceNotes()
    frame = read_facilities(source, notes=notes, **options)
    return frame, notes.facilities


def _villages_with_notes(
    source: Any, *, zones: gpd.GeoDataFrame | None, **options: Any
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    notes = PlaceNotes()
    frame = read_villages(source, notes=notes, required=False, **options)
    frame["zone"] = assign_zones(frame, zones).to_numpy()
    return frame, notes.villages


def _projected_xy(frame: gpd.GeoDataFrame, network: Network) -> np.ndarray:
    """(n, 2) coordinates of a frame's points (a point inside for other shapes) in the network's CRS."""
    geoms = np.asarray(frame.geometry.to_crs(network.crs).values)
    if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
        geoms = shapely.point_on_surface(geoms)
    return shapely.get_coordinates(geoms).reshape(-1, 2)


def _cells_from_surface(
    cells: gpd.GeoDataFrame,
    surface: TravelTimeSurface,
    rows: np.ndarray,
    cols: np.ndarray,
    facilities: gpd.GeoDataFrame,
    thresholds: tuple[float, ...],
    *,
    tolerance_m: float,
) -> tuple[gpd.GeoDataFrame, Attachment]:
    """The populated cells' times and attachment, read from the surface (one computation for both).

    Without a boundary, populated cells farther than the snap tolerance from any road are
    outside the region (the surface's); they are left out of the demand and counted.
    """
    at = surface.positions(rows, cols)
    if surface.attachment is None:
        msg = "the travel-time surface has no attachment of its cells"
        raise InputError(msg)
    far = at < 0
    if far.any():
        logger.warning(
            "no boundary given: %d populated cells (%.0f people) lie more than %g m from any road and are left "
            "out of the region; give --boundary (or --zones) to count them",
            int(far.sum()),
            float(cells.loc[far, "population"].sum()),
            tolerance_m,
        )
        cells, at = cells[~far].reset_index(drop=True), at[~far]
    attachment = dataclasses.replace(surface.attachment.subset(at), ids=cells["id"].astype(str).to_numpy())
    frame = _coverage_columns(
        cells,
        attachment,
        surface.seconds[at],
        surface.facility[at].astype(np.int64),
        facilities,
        thresholds,
        surface.direct[at],
    )
    return frame, attachment


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
