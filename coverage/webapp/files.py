"""Scenarios on disk and out of the app: GeoJSON of stations and settings, exact analyses, report, CSV, GeoPackage.

- :func:`scenario_geojson` / :func:`read_scenario_geojson`: a scenario as a GeoJSON
  FeatureCollection (one point per station with its id, name, kind, origin and
  status; the settings and the name beside the features), which QGIS opens too;
- :class:`ScenarioStore`: the named scenarios of a folder;
- :func:`scenario_analyses`: the scenario's analyses with exact (unbounded) times
  from ONE fresh multi-source search each, as :func:`coverage.analysis.run.analyze`
  would give them for the same stations; :func:`scenario_assessment` judges every
  target of the standard on them with :func:`coverage.standards.assessment.assess`;
- :func:`report_html`, :func:`villages_csv`, :func:`stations_csv`, :func:`scenario_gpkg`: the exports.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import InputError
from coverage._version import __version__
from coverage.analysis import areas
from coverage.analysis.isochrones import isochrones
from coverage.analysis.result import Analysis, covered_column
from coverage.analysis.surface import TravelTimeSurface
from coverage.io.regions import OSM_ATTRIBUTION
from coverage.network.offroad import direct_offroad
from coverage.network.routing import Reach, nearest_facility, reach_points
from coverage.network.snapping import Attachment, attach_points
from coverage.outputs.files import for_gpkg, villages_table
from coverage.reports.history import compare_statuses, village_status_table
from coverage.reports.page import ReportPage, render_report
from coverage.reports.report import coverage_figures, targets_table, uncovered_table
from coverage.standards.checks import CANNOT, FAIL, PASS
from coverage.webapp.scenario import NEW_PREFIX, Scenario, Station
from coverage.webapp.workspace import Key

if TYPE_CHECKING:
    from coverage.standards.assessment import Assessment

logger = logging.getLogger(__name__)

#: Marks a GeoJSON file as a saved scenario, with the version of its layout.
FORMAT = "facility-coverage-scenario"
FORMAT_VERSION = 1
#: Scenario names: letters (any script), digits, spaces, ``-``, ``_`` and ``.``; no path separators.
NAME_PATTERN = re.compile(r"^[\w\- .]{1,80}$")
#: Largest scenario file read, in bytes.
MAX_FILE_BYTES = 5_000_000


def check_name(name: Any) -> str:
    """A scenario name that is safe as a file name, or an InputError saying what is allowed."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name.strip()) or name.strip(" .") == "":
        msg = (
            f"scenario name {str(name)[:90]!r} is not allowed: use 1 to 80 letters, digits, spaces, '-', '_' or '.', "
            "e.g. 'two new stations'"
        )
        raise InputError(msg)
    return name.strip()


# --------------------------------------------------------------------------- GeoJSON


def scenario_geojson(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a GeoJSON FeatureCollection: every station, the settings and the name."""
    features = [
        {
            "type": "Feature",
            # full precision: a reloaded scenario has its stations exactly where they were
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "origin": s.origin,
                "status": "open" if s.open else "closed",
                "moved": s.moved,
            },
        }
        for s in scenario.stations.values()
    ]
    return {
        "type": "FeatureCollection",
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": scenario.name,
        "region": scenario.workspace.region,
        "saved_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "software": f"facility-coverage {__version__}",
        "settings": scenario.settings.as_dict(),
        "attribution": scenario.workspace.attribution,
        "features": features,
    }


def read_scenario_geojson(data: Any, *, source: str = "the scenario") -> tuple[str, dict[str, Any], list[Station]]:
    """The name, settings and stations of a saved scenario; an InputError naming the feature and field otherwise."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or data.get("format") != FORMAT:
        msg = f'{source} is not a saved scenario: expected a GeoJSON FeatureCollection with "format": "{FORMAT}"'
        raise InputError(msg)
    if data.get("format_version") != FORMAT_VERSION:
        msg = f"{source}: format_version {data.get('format_version')!r} is not supported (this version reads {FORMAT_VERSION})"
        raise InputError(msg)
    name = check_name(data.get("name", "scenario"))
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        msg = f"{source}: settings must be an object, got {type(settings).__name__}"
        raise InputError(msg)
    features = data.get("features")
    if not isinstance(features, list):
        msg = f"{source}: features must be a list of station points"
        raise InputError(msg)
    stations = [_station(feature, f"{source}: feature {n}") for n, feature in enumerate(features, start=1)]
    ids = [s.id for s in stations]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        msg = f"{source}: station ids {repeated[:5]} appear more than once"
        raise InputError(msg)
    return name, settings, stations


def _station(feature: Any, where: str) -> Station:
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        msg = f"{where} is not a GeoJSON feature with properties"
        raise InputError(msg)
    geometry = feature.get("geometry") or {}
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (
        not isinstance(geometry, dict)
        or geometry.get("type") != "Point"
        or not isinstance(coordinates, list)
        or len(coordinates) < 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates[:2])
    ):
        msg = f"{where}: geometry must be a Point with [longitude, latitude]"
        raise InputError(msg)
    p = feature["properties"]
    for field in ("id", "name", "kind"):
        if not isinstance(p.get(field), str) or not p[field].strip():
            msg = f"{where}: property {field!r} must be non-empty text, got {p.get(field)!r}"
            raise InputError(msg)
    origin = p.get("origin", "new" if str(p["id"]).startswith(NEW_PREFIX) else "existing")
    status = p.get("status", "open")
    if origin not in ("existing", "new") or status not in ("open", "closed"):
        msg = f"{where}: origin must be 'existing' or 'new' and status 'open' or 'closed', got {origin!r}, {status!r}"
        raise InputError(msg)
    if origin == "new" and status == "closed":
        msg = f"{where}: a new station cannot be closed; leave it out instead"
        raise InputError(msg)
    return Station(
        id=p["id"].strip(),
        name=p["name"].strip(),
        kind=p["kind"].strip().lower(),
        lon=float(coordinates[0]),
        lat=float(coordinates[1]),
        origin=origin,
        open=status == "open",
        moved=bool(p.get("moved", False)) and origin == "existing",
    )


def apply_saved(scenario: Scenario, data: Any, *, source: str = "the scenario") -> None:
    """Load a saved scenario into ``scenario`` (its stations, settings and name); nothing changes on error."""
    name, settings, stations = read_scenario_geojson(data, source=source)
    known = {k: v for k, v in settings.items() if k in ("profile", "direction", "minutes", "standard", "new_kind")}
    with scenario.lock:
        scenario.check_settings(**known)
        before = list(scenario.stations.values())
        scenario.replace_stations(stations)
        try:
            scenario.update_settings(**known)
        except Exception:
            scenario.replace_stations(before)
            raise
        scenario.name = name


class ScenarioStore:
    """The saved scenarios of a folder, one ``<name>.geojson`` each."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        """The file of a scenario name (checked: it cannot leave the folder)."""
        return self.folder / f"{check_name(name)}.geojson"

    def names(self) -> list[str]:
        """The saved scenarios, by name."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name[: -len(".geojson")] for p in self.folder.glob("*.geojson") if p.is_file())

    def save(self, scenario: Scenario, name: str) -> Path:
        """Save a scenario under a name (atomically: a failed write leaves an earlier file intact)."""
        path = self.path(name)
        data = scenario_geojson(scenario)
        data["name"] = check_name(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(partial, path)
        logger.info("saved scenario %s to %s", name, path)
        return path

    def read(self, name: str) -> dict[str, Any]:
        """A saved scenario's GeoJSON."""
        path = self.path(name)
        if not path.is_file():
            msg = f"no saved scenario {name!r} in {self.folder}; saved: {', '.join(self.names()) or 'none'}"
            raise InputError(msg)
        if path.stat().st_size > MAX_FILE_BYTES:
            msg = f"{path}: larger than {MAX_FILE_BYTES // 1_000_000} MB, not a scenario file"
            raise InputError(msg)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            msg = f"{path}: not valid JSON ({error})"
            raise InputError(msg) from error


# --------------------------------------------------------------------------- exact analyses


def scenario_analysis(scenario: Scenario, key: Key, *, with_isochrones: bool = False) -> Analysis:
    """The analysis of one key for the scenario's stations, times from one fresh unbounded multi-source search.

    Its travel-time surface is timed anew for the stations (the region's cells, as analysed); its
    isochrone areas and catchments are read from it only ``with_isochrones`` (for maps and exports),
    else the isochrones are the region's as analysed and there are no catchments.
    """
    profile, direction, _ = key
    base = scenario.workspace.base(profile)
    facilities = scenario.stations_for(key)
    network = base.network
    minutes = base.minutes
    if facilities.empty:
        villages = _times(
            base.villages, np.full(len(base.villages), np.inf), np.full(len(base.villages), -1), facilities, minutes
        )
        cells = (
            _times(base.cells, np.full(len(base.cells), np.inf), np.full(len(base.cells), -1), facilities, minutes)
            if base.cells is not None
            else None
        )
        surface = (
            dataclasses.replace(
                base.surface,
                seconds=np.full(len(base.surface), np.inf),
                facility=np.full(len(base.surface), -1, dtype=np.int32),
                direct=np.zeros(len(base.surface), dtype=bool),
                facility_ids=np.zeros(0, dtype=str),
                direction=direction,
            )
            if base.surface is not None
            else None
        )
        return dataclasses.replace(
            base,
            direction=direction,
            facilities=facilities,
            villages=villages,
            cells=cells,
            surface=surface,
            catchments=None,
        )
    profile_settings = base.profile
    attachment = attach_points(
        network,
        facilities,
        access_speed_kph=profile_settings.facility_access_speed_kph,
        tolerance_m=profile_settings.snap_tolerance_m,
    )
    reach = nearest_facility(network, attachment, direction=direction)  # type: ignore[arg-type]
    village_s, village_i, _ = _with_walks(base, attachment, base.attachments["villages"], reach)
    villages = _times(base.villages, village_s, village_i, facilities, minutes)
    cells = None
    if base.cells is not None and "cells" in base.attachments:
        cell_s, cell_i, _ = _with_walks(base, attachment, base.attachments["cells"], reach)
        cells = _times(base.cells, cell_s, cell_i, facilities, minutes)
    surface = _scenario_surface(base, attachment, reach)
    iso, catchment_frame = base.isochrones, None
    if with_isochrones and surface is not None:
        iso = areas.isochrone_areas(surface, minutes=minutes)
        catchment_frame = areas.catchments(surface, facilities, villages=villages, minutes=minutes)
    elif with_isochrones:
        iso = isochrones(network, reach, minutes=minutes).to_crs(4326)
        iso["population"] = np.nan
    facilities = facilities.assign(
        snap_distance_m=attachment.snap_distance_m,
        off_network=attachment.off_network,
        small_piece=attachment.small_piece,
    )
    return dataclasses.replace(
        base,
        direction=direction,
        facilities=facilities,
        villages=villages,
        cells=cells,
        isochrones=iso,
        attachments={**base.attachments, "facilities": attachment},
        surface=surface,
        catchments=catchment_frame,
    )


def _scenario_surface(base: Analysis, stations: Attachment, reach: Reach) -> TravelTimeSurface | None:
    """The region's travel-time surface timed from the scenario's stations (its cells attached as analysed)."""
    surface = base.surface
    if surface is None or surface.attachment is None:
        return None
    seconds, index, direct = _with_walks(base, stations, surface.attachment, reach)
    reached = np.isfinite(seconds)
    return dataclasses.replace(
        surface,
        seconds=seconds,
        facility=np.where(reached, index, -1).astype(np.int32),
        direct=direct,
        facility_ids=np.asarray(stations.ids),
        direction=reach.direction,
    )


def _with_walks(
    base: Analysis, stations: Attachment, points: Attachment, reach: Reach
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The points' times from a search, with the straight off-road walks of close points, as analyze() times them.

    Returns the seconds, the nearest station's index and whether the straight walk won.
    """
    seconds, index = reach_points(base.network, reach, points)
    if points.point_xy is None or stations.point_xy is None:
        return seconds, index, np.zeros(len(seconds), dtype=bool)
    profile = base.profile
    return direct_offroad(
        points.point_xy,
        seconds,
        index,
        facility_xy=stations.point_xy,
        speed_kph=profile.access_speed_kph,
        max_distance_m=np.maximum(profile.snap_tolerance_m, points.snap_distance_m),
        facility_ids=stations.ids,
    )


def _times(
    frame: gpd.GeoDataFrame,
    seconds: np.ndarray,
    index: np.ndarray,
    facilities: gpd.GeoDataFrame,
    minutes: tuple[float, ...],
) -> gpd.GeoDataFrame:
    """The coverage columns of :func:`coverage.analysis.run.analyze` for new times."""
    frame = frame.copy()
    reached = index >= 0
    ids = facilities["id"].to_numpy() if len(facilities) else np.array([None])
    names = facilities["name"].to_numpy() if len(facilities) else np.array([None])
    frame["nearest_facility_id"] = np.where(reached, ids[np.maximum(index, 0)], None)
    frame["nearest_facility_name"] = np.where(reached, names[np.maximum(index, 0)], None)
    frame["minutes"] = np.where(np.isfinite(seconds), seconds / 60.0, np.nan)
    for threshold in minutes:
        frame[covered_column(threshold)] = seconds <= threshold * 60.0
    return frame


def scenario_analyses(scenario: Scenario) -> dict[Key, Analysis]:
    """Exact analyses of every key the scenario's figures and its standard's targets need (as assess keys them)."""
    keys = [scenario.main_key, ("car", "to_facility", ())]
    if scenario.settings.standard:
        standard = scenario.workspace.standard(scenario.settings.standard)
        for target in standard.targets:
            if target.kind == "travel_time" and target.minutes is not None:
                keys.append((str(target.profile), str(target.direction), tuple(target.facility_kinds)))
            elif target.kind == "service_radius":
                keys.append(("ambulance", "from_facility", tuple(target.facility_kinds)))
    return {key: scenario_analysis(scenario, key) for key in dict.fromkeys(keys)}


def scenario_assessment(
    scenario: Scenario, *, analyses: dict[Key, Analysis] | None = None, only_other_targets: bool = False
) -> Assessment | None:
    """Every target of the scenario's standard judged by :func:`~coverage.standards.assessment.assess`.

    Parameters
    ----------
    only_other_targets : bool
        Judge only the targets that are not travel-time targets (the page judges
        those at every click).
    """
    from coverage.standards.assessment import assess

    name = scenario.settings.standard
    if not name:
        return None
    standard = scenario.workspace.standard(name)
    if only_other_targets:
        standard = dataclasses.replace(standard, targets=tuple(t for t in standard.targets if t.kind != "travel_time"))
        if not standard.targets:
            return None
    analyses = dict(analyses if analyses is not None else scenario_analyses(scenario))
    classes = scenario.workspace.place_classes(name).polygons
    return assess(
        standard,
        zone_classes=classes,
        analyses=analyses,
        **{k: v for k, v in scenario.workspace.inputs.items() if k != "facilities"},
    )


# --------------------------------------------------------------------------- exports


def villages_csv(scenario: Scenario) -> bytes:
    """The villages with the scenario's times (UTF-8 with BOM, for Excel)."""
    analysis = scenario_analysis(scenario, scenario.main_key)
    table = villages_table(analysis)
    table[f"within_{scenario.settings.minutes:g}_min"] = (
        analysis.villages["minutes"].le(scenario.settings.minutes).to_numpy()
    )
    return table.to_csv(index=False).encode("utf-8-sig")


def stations_csv(scenario: Scenario) -> bytes:
    """Every station of the scenario with its origin and status (UTF-8 with BOM)."""
    table = pd.DataFrame([s.as_dict() for s in scenario.stations.values()])
    table["status"] = np.where(table["open"], "open", "closed")
    return table.drop(columns="open").to_csv(index=False).encode("utf-8-sig")


def scenario_gpkg(scenario: Scenario) -> bytes:
    """A GeoPackage with layers ``stations``, ``villages`` (times and status), ``uncovered_villages``, ``isochrones``."""
    analysis = scenario_analysis(scenario, scenario.main_key, with_isochrones=True)
    stations = pd.DataFrame([s.as_dict() for s in scenario.stations.values()])
    stations["status"] = np.where(stations["open"], "open", "closed")
    layers = {
        "stations": gpd.GeoDataFrame(
            stations.drop(columns=["open"]), geometry=gpd.points_from_xy(stations["lon"], stations["lat"]), crs=4326
        ),
        "villages": analysis.villages.drop(columns=[c for c in analysis.villages if c.startswith("covered_")]).assign(
            covered=analysis.villages["minutes"].le(scenario.settings.minutes).to_numpy()
        ),
        "uncovered_villages": _uncovered_layer(analysis, scenario.settings.minutes),
        "isochrones": analysis.isochrones,
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.gpkg"
        for layer, frame in layers.items():
            for_gpkg(frame).to_file(path, layer=layer, driver="GPKG")
        return path.read_bytes()


def _uncovered_layer(analysis: Analysis, minutes: float) -> gpd.GeoDataFrame:
    table = uncovered_table(analysis.villages, minutes=minutes)
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326)


def report_html(scenario: Scenario, *, language: str = "en") -> str:
    """The scenario as the report page of ``facility-coverage report``: targets, map, uncovered villages, changes.

    The changes are those from the region as it is (its facilities, none added or
    closed) to the scenario.
    """
    from coverage.outputs.maps import coverage_map, map_html
    from coverage.outputs.static_map import draw_static_map

    circle = float(scenario.settings.minutes)
    analyses = scenario_analyses(scenario)
    analysis = scenario_analysis(scenario, scenario.main_key, with_isochrones=True)
    analyses[scenario.main_key] = analysis
    assessment = scenario_assessment(scenario, analyses=analyses)
    targets = targets_table([assessment] if assessment is not None else [])
    now = Scenario(scenario.workspace, name="now", **_settings_of(scenario))
    before = scenario_analysis(now, now.main_key)
    changes = compare_statuses(
        village_status_table(before.villages, minutes=circle), village_status_table(analysis.villages, minutes=circle)
    )
    figures = coverage_figures(analysis, minutes=circle)
    figures_now = coverage_figures(before, minutes=circle)
    basis = "people" if figures["population_share"] is not None else "villages"

    def share(f: dict[str, Any]) -> float:
        if basis == "people":
            return float(f["population_share"])
        return f["villages_covered"] / f["villages_total"] if f["villages_total"] else float("nan")

    today = dt.date.today().isoformat()
    trend = pd.DataFrame(
        {
            "run": ["now", scenario.name],
            "date": [today, today],
            "share": [share(figures_now), share(figures)],
            "basis": basis,
            "minutes": circle,
        }
    )
    new = [s for s in scenario.stations.values() if s.origin == "new" or s.moved]
    sites = gpd.GeoDataFrame(
        {"site_id": [s.id for s in new], "name": [s.name for s in new], "order": list(range(1, len(new) + 1))},
        geometry=gpd.points_from_xy([s.lon for s in new], [s.lat for s in new]),
        crs=4326,
    )
    title = f"{scenario.workspace.region}: {scenario.name}"
    m = coverage_map(analysis, minutes=circle, title=title, sites=sites if len(sites) else None, lang=language)
    with tempfile.TemporaryDirectory() as folder:
        drawn = draw_static_map(analysis, Path(folder) / "map.png", minutes=circle, title=title, lang=language)
        png = drawn.read_bytes()
    counts = targets["status"].value_counts()
    passed, failed, cannot = (int(counts.get(status, 0)) for status in (PASS, FAIL, CANNOT))
    closed = sum(1 for s in scenario.stations.values() if not s.open)
    line = (
        f"{title}: {len(new)} new or moved stations, {closed} closed; "
        f"targets {passed} met, {failed} missed" + (f", {cannot} not evaluable" if cannot else "") + "; "
        f"{figures['villages_uncovered']} of {figures['villages_total']} villages outside {circle:g} min"
    )
    label = ("情景：" if language == "zh" else "Scenario: ") + scenario.name
    page = ReportPage(
        title=title,
        language=language,
        run=0,
        started_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        version=__version__,
        config_path=f"scenario {scenario.name}",
        profile=analysis.profile.name,
        direction=analysis.direction,
        figures=figures,
        thresholds=analysis.summary()["thresholds"],
        standards=[(assessment.standard.title_zh, assessment.standard.title_en, assessment.standard.name)]
        if assessment is not None
        else [],
        targets=targets,
        uncovered=uncovered_table(analysis.villages, minutes=circle),
        changes=changes,
        trend=trend,
        map_html=map_html(m, self_contained=True),
        map_png=png,
        attribution=analysis.attribution or OSM_ATTRIBUTION,
        inputs=analysis.inputs,
        exit_code=1 if failed else 0,
        summary_line=line,
        run_label=label,
        since_label=("相对现状" if language == "zh" else "Compared with the region as it is"),
    )
    return render_report(page)


def _settings_of(scenario: Scenario) -> dict[str, Any]:
    s = scenario.settings
    return {
        "profile": s.profile,
        "direction": s.direction,
        "minutes": s.minutes,
        "standard": s.standard,
        "kinds": s.kinds,
    }


def compare(scenarios: list[Scenario]) -> dict[str, Any]:
    """Shares per threshold and every travel-time target's verdict of several scenarios, side by side."""
    columns = []
    for scenario in scenarios:
        view = scenario.view()
        columns.append(
            {
                "name": scenario.name,
                "new": sum(1 for s in scenario.stations.values() if s.origin == "new"),
                "moved": sum(1 for s in scenario.stations.values() if s.moved),
                "closed": sum(1 for s in scenario.stations.values() if not s.open),
                "thresholds": view["thresholds"],
                "targets": view["targets"],
            }
        )
    return {"scenarios": columns}
