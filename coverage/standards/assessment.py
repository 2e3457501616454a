"""Assessing a region against a plan's standard: every target to pass, fail or cannot-evaluate.

:func:`assess` runs the analyses the targets need (one per profile, direction
and set of facility kinds, sharing the cached network), gives every place its
zone class (central / urban / rural, from the population raster), builds the
inputs of each check in :mod:`coverage.standards.checks`, and returns an
:class:`Assessment`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._i18n import kind_name, zone_class_name
from coverage.analysis.result import Analysis
from coverage.analysis.run import analyze
from coverage.analysis.zones import read_zone_classes, zone_classes_from_population
from coverage.network.prepared import length_network
from coverage.network.profiles import load_profile
from coverage.network.routing import nearest_facility, reach_points
from coverage.network.snapping import attach_points
from coverage.standards.availability import AVAILABILITY_KINDS, check_availability_target
from coverage.standards.checks import (
    ASSUMED,
    CANNOT,
    FAIL,
    NOT_APPLICABLE,
    PASS,
    CheckResult,
    average_service_radius_km,
    check_count_per_unit,
    check_minimum_count,
    check_ratio_to_population,
    check_service_radius,
    check_travel_time,
    exit_status,
)
from coverage.standards.standard import ALL_ZONES, Standard, Target

logger = logging.getLogger(__name__)

#: Within this distance of a village point, a facility counts as the village's own
#: when the check is per village and there are no village polygons.
DEFAULT_VILLAGE_DISTANCE_M = 1000.0


@dataclass(frozen=True)
class Assessment:
    """The results of one standard on one region.

    Attributes
    ----------
    standard : Standard
    results : tuple of CheckResult
        One per target, in the standard's order.
    analyses : dict
        The analyses run, keyed by (profile, direction, facility kinds).
    zone_classes : GeoDataFrame or None
        The central / urban / rural polygons used.
    """

    standard: Standard
    results: tuple[CheckResult, ...]
    analyses: dict[tuple[str, str, tuple[str, ...]], Analysis]
    zone_classes: gpd.GeoDataFrame | None

    @property
    def missed(self) -> bool:
        """True when any target failed."""
        return any(result.status == FAIL for result in self.results)

    @property
    def statuses(self) -> tuple[str, ...]:
        """The status of each target, in the standard's order."""
        return tuple(result.status for result in self.results)

    def exit_status(self, *, allow_unevaluated: bool = False) -> int:
        """0 when the standard is met, else 1 (see :func:`coverage.standards.checks.exit_status`)."""
        return exit_status(self.statuses, allow_unevaluated=allow_unevaluated)

    def table(self, *, lang: str = "en") -> pd.DataFrame:
        """One row per target: label, measured, required, status, shortfall, detail."""
        rows = []
        for target, result in zip(self.standard.targets, self.results, strict=True):
            rows.append(
                {
                    "target": target.id,
                    "label": target.label_zh if lang == "zh" else target.label_en,
                    "kind": target.kind,
                    "zones": ",".join(target.zones),
                    "status": result.status,
                    "measured": None if result.measured is None else round(result.measured, 4),
                    "required": None if result.required is None else round(result.required, 4),
                    "unit": result.unit,
                    "shortfall": "; ".join(f"{k} {v:,.0f}" for k, v in result.shortfall.items() if v),
                    "assumption": result.assumption_zh if lang == "zh" else result.assumption,
                    "detail": result.explanation(lang),
                }
            )
        return pd.DataFrame(rows)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, targets with their wording and quote."""
        return {
            "standard": self.standard.name,
            "title_zh": self.standard.title_zh,
            "title_en": self.standard.title_en,
            "missed": self.missed,
            "targets": [
                {
                    "id": target.id,
                    "label_zh": target.label_zh,
                    "label_en": target.label_en,
                    "quote": target.quote,
                    **result.as_dict(),
                }
                for target, result in zip(self.standard.targets, self.results, strict=True)
            ],
        }

    @property
    def primary_analysis(self) -> Analysis:
        """The analysis of the standard's first travel-time target (its main circle), else the base analysis."""
        for target in self.standard.targets:
            if target.kind == "travel_time" and _analysis_key(target) in self.analyses:
                return self.analyses[_analysis_key(target)]
        return next(iter(self.analyses.values()))

    def travel_limits(self, analysis: Analysis, places: gpd.GeoDataFrame) -> np.ndarray:
        """Minutes of travel each place is allowed by the travel-time targets measured on ``analysis``.

        A place in several targets' zones gets the strictest; a target's dispatch delay
        is taken off its threshold. NaN where no target of that analysis applies.
        """
        classes = zone_class_of(places, self.zone_classes)
        limits = np.full(len(places), np.nan)
        for target in self.standard.targets:
            key = _analysis_key(target)
            if target.kind != "travel_time" or target.minutes is None or self.analyses.get(key) is not analysis:
                continue
            applies = np.ones(len(places), dtype=bool) if ALL_ZONES in target.zones else np.isin(classes, target.zones)
            limit = float(target.minutes) - target.delay_minutes
            limits[applies] = np.fmin(limits[applies], limit)
        return limits


def _in_zones(frame: pd.DataFrame, zones: Sequence[str]) -> pd.DataFrame:
    if "all" in zones:
        return frame
    return frame[frame["zone_class"].isin(zones)]


def zone_class_of(points: gpd.GeoDataFrame, classes: gpd.GeoDataFrame | None) -> np.ndarray:
    """Zone class of each point; points in no populated block are rural, and all are rural without classes."""
    result = np.full(len(points), "rural", dtype=object)
    if classes is None or classes.empty or points.empty:
        return result
    lon, lat = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    for name, geom in zip(classes["zone_class"], classes.geometry, strict=True):
        if name != "rural":
            result[shapely.contains_xy(geom, lon, lat)] = name
    return result


def _analysis_key(target: Target) -> tuple[str, str, tuple[str, ...]]:
    return (str(target.profile), str(target.direction), tuple(target.facility_kinds))


def analysis_key(
    profile: str, direction: str, *, kinds: Sequence[str] | None = None, ems: bool = False
) -> tuple[str, str, tuple[str, ...]]:
    """The key under which :func:`assess` keeps an analysis run with these options (see its ``analyses``)."""
    return (str(profile), direction, ("ems",) if ems else tuple(kinds or ()))


def _selection(kinds: tuple[str, ...]) -> dict[str, Any]:
    """analyze() options selecting the facilities of a target."""
    if kinds == ("ems",):
        return {"ems": True}
    return {"kinds": list(kinds) if kinds else None}


def assess(
    standard: Standard,
    *,
    zone_classes: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    zone_class_column: str = "zone_class",
    progress: Callable[[str], None] | None = None,
    analyses: dict[tuple[str, str, tuple[str, ...]], Analysis] | None = None,
    **inputs: Any,
) -> Assessment:
    """Evaluate every target of a standard on a region.

    Parameters
    ----------
    standard : Standard
        From :func:`coverage.standards.standard.load_standard`.
    zone_classes : path or GeoDataFrame, optional
        The planner's own central / urban / rural polygons; by default they are
        derived from the population raster by the standard's density thresholds.
    zone_class_column : str
        Column of ``zone_classes`` naming each polygon's class.
    progress : callable, optional
        Called with a short label as each analysis starts.
    analyses : dict, optional
        Analyses of this region already run, keyed by (profile, direction, facility
        kinds) as :attr:`Assessment.analyses`, e.g. ``("car", "to_facility", ())``
        for all facilities. They are reused, and the analyses this call runs are
        added, so several standards checked on one region share them.
    **inputs
        The region's inputs, as for :func:`coverage.analysis.run.analyze` (``osm``,
        ``facilities``, ``villages``, ``population``, ``zones``, ``boundary``,
        ``datum``, ``cache_dir``...). Without them, the embedded default region.

    Returns
    -------
    Assessment
    """
    step = progress or (lambda label: None)
    inputs.setdefault("per_facility_isochrones", False)
    if analyses is None:
        analyses = {}

    def analysis_for(profile: str, direction: str, kinds: tuple[str, ...], minutes: Sequence[float]) -> Analysis:
        key = (profile, direction, kinds)
        given = analyses.get(key)
        if given is not None and given.profile.fingerprint != load_profile(profile).fingerprint:
            # a profile of the same name with other speeds (e.g. the user's copy of car.toml)
            del analyses[key]
        if key not in analyses:
            step(f"analysis: {profile}, {direction.replace('_', ' ')}, {', '.join(kinds) or 'all facilities'}")
            options = {**inputs, **_selection(kinds)}
            analyses[key] = analyze(profile=profile, direction=direction, minutes=minutes, **options)
        return analyses[key]

    # thresholds per analysis, so each runs once with all of its minutes
    thresholds: dict[tuple[str, str, tuple[str, ...]], set[float]] = {}
    for target in standard.targets:
        if target.kind == "travel_time" and target.minutes is not None:
            thresholds.setdefault(_analysis_key(target), set()).add(float(target.minutes))
    # a base analysis for every other check: all facilities, car, to the facility
    base_key = ("car", "to_facility", ())
    base_minutes = sorted(thresholds.get(base_key, {30.0}))

    base = analysis_for(*base_key, minutes=base_minutes)
    # the raster as the analysis counted it: calibrated to official totals when it was
    population = base.population_grid()
    rules = standard.zone_rules
    if isinstance(zone_classes, gpd.GeoDataFrame):
        classes: gpd.GeoDataFrame | None = zone_classes.rename(columns={zone_class_column: "zone_class"}).to_crs(4326)
    elif zone_classes is not None:
        classes = read_zone_classes(zone_classes, column=zone_class_column)
    elif population is not None:
        classes = zone_classes_from_population(
            population,
            central_density_per_km2=rules.central_density_per_km2,
            urban_density_per_km2=rules.urban_density_per_km2,
            block_m=rules.block_m,
        )
    else:
        classes = None
    if classes is None:
        logger.warning(
            "no zone classes (no --zone-classes file and no population raster): every place counts as rural; "
            "targets for central or urban zones cannot be evaluated"
        )

    results = []
    for target in standard.targets:
        step(f"target {target.id}")
        try:
            result = _evaluate(target, standard, base, classes, analysis_for, thresholds)
        except ValueError as error:
            result = CheckResult(target.id, target.kind, CANNOT, None, None, "", detail=str(error))
        results.append(result)
    return Assessment(standard=standard, results=tuple(results), analyses=dict(analyses), zone_classes=classes)


#: A facility whose leg to its road alone takes more than this share of a target's
#: minutes is named in the verdict: the road it needs is probably missing from the map.
ACCESS_SHARE = 0.25
#: Units a count per unit can be made over, and the zone levels that provide them.
_UNIT_LEVELS = {"township": ("township", "subdistrict"), "subdistrict": ("township", "subdistrict")}
STAND_IN = (
    "hospitals stand in for EMS stations: the facility data has none (kind 'ems')",
    "以医院代替急救站：医疗机构数据中没有急救站（类别 ems）",
)


def _evaluate(
    target: Target,
    standard: Standard,
    base: Analysis,
    classes: gpd.GeoDataFrame | None,
    analysis_for: Callable[..., Analysis],
    thresholds: dict[tuple[str, str, tuple[str, ...]], set[float]],
) -> CheckResult:
    """One target's verdict: never a pass on missing, stand-in or inapplicable data."""
    kinds = tuple(target.facility_kinds)
    chosen = _facilities_of(base, kinds)
    hospitals = base.facilities[base.facilities["kind"] == "hospital"]
    stand_in = kinds == ("ems",) and chosen.empty and len(hospitals) > 0
    if kinds and chosen.empty and not (stand_in and target.kind in ("travel_time", "service_radius")):
        return missing_kinds(target, base, kinds)
    missing = missing_data_verdict(target, base, classes)
    if missing is not None:
        return missing
    if target.kind == "travel_time":
        key = _analysis_key(target)
        run = analysis_for(*key, minutes=sorted(thresholds[key]))
        result = _travel_time(target, run, classes, standard.household_size)
    elif target.kind == "service_radius":
        run = analysis_for("ambulance", "from_facility", kinds, minutes=[30.0])
        stations = run.facilities if stand_in else _facilities_of(run, kinds)
        result = _service_radius(target, run, classes, stations)
    elif target.kind == "count_per_unit":
        result = _count_per_unit(target, base)
    elif target.kind == "ratio_to_population":
        result = _ratio(target, base, classes)
    elif target.kind in AVAILABILITY_KINDS:
        # the fleet shares from the station file; calls answered need the EMS simulation (coverage.ems)
        result = check_availability_target(target, figures=None, stations=chosen)
    else:
        result = check_minimum_count(chosen, target=target.id, min_count=int(target.min_count or 0))
    return assumed_result(result) if stand_in else result


def missing_kinds(target: Target, base: Analysis, kinds: tuple[str, ...]) -> CheckResult:
    """cannot-evaluate: the facility data has none of the target's kinds (stand-ins never count in a count)."""
    found = sorted(base.facilities["kind"].astype(str).unique())
    present, present_zh = ", ".join(found), "、".join(kind_name(k, "zh") for k in found)
    wanted, wanted_zh = ", ".join(kinds), "、".join(kind_name(k, "zh") for k in kinds)
    count_note = " (hospitals do not count as EMS stations in a count)" if kinds == ("ems",) else ""
    count_note_zh = "（清点数量时医院不能代替急救站）" if kinds == ("ems",) else ""
    return CheckResult(
        target.id,
        target.kind,
        CANNOT,
        None,
        None,
        "",
        detail=f"the facility data has no facilities of kind {wanted}{count_note} (kinds present: {present}); "
        "give a facility file whose categories name them (see --kind-map)",
        detail_zh=f"医疗机构数据中没有{wanted_zh}（{wanted}）{count_note_zh}（现有类别：{present_zh}）；"
        "请提供标明这些类别的医疗机构文件（参见 --kind-map）",
    )


def missing_data_verdict(target: Target, base: Analysis, classes: gpd.GeoDataFrame | None) -> CheckResult | None:
    """cannot-evaluate or not-applicable when the target's population or zones are not there."""
    needs_people = target.kind == "ratio_to_population" or (
        target.kind == "travel_time" and target.basis in ("population", "households")
    )
    if needs_people and not has_population(base):
        return CheckResult(
            target.id,
            target.kind,
            CANNOT,
            None,
            None,
            "",
            detail="no population data: give a population raster (--population) or a population column in the "
            "village file; without it the share of people cannot be measured",
            detail_zh="没有人口数据：请提供人口栅格（--population）或村庄文件中的人口列；否则无法计算人口比例",
        )
    zoned = ALL_ZONES not in target.zones and target.kind != "count_per_unit" and target.kind != "minimum_count"
    if zoned and classes is None:
        return CheckResult(
            target.id,
            target.kind,
            CANNOT,
            None,
            None,
            "",
            detail=f"the target is for {', '.join(target.zones)} zones, and the region's zone classes are unknown: "
            "give --zone-classes or a population raster to derive them",
            detail_zh=f"该目标适用于{'、'.join(zone_class_name(z, 'zh') for z in target.zones)}，但本区域的城乡分区未知："
            "请提供 --zone-classes 或人口栅格",
        )
    if zoned and classes is not None and shapely.is_empty(_zone_land(classes, target.zones, base.outline)):
        names = ", ".join(target.zones)
        return CheckResult(
            target.id,
            target.kind,
            NOT_APPLICABLE,
            None,
            None,
            "",
            detail=f"the region has no {names} area, so this target does not apply",
            detail_zh=f"本区域没有{'、'.join(zone_class_name(z, 'zh') for z in target.zones)}，该目标不适用",
        )
    return None


def no_places_in_zones(target: Target) -> CheckResult:
    """A travel-time target whose zone classes hold no populated place: it does not apply."""
    names = ", ".join(target.zones)
    return CheckResult(
        target.id,
        "travel_time",
        NOT_APPLICABLE,
        None,
        target.required_share,
        "share",
        detail=f"no populated place lies in the {names} zones, so this target does not apply",
        detail_zh=f"{'、'.join(zone_class_name(z, 'zh') for z in target.zones)}内没有居民点，该目标不适用",
    )


def has_population(analysis: Analysis) -> bool:
    """True when the analysis knows people: a raster's cells, or a stated population for every village."""
    if analysis.cells is not None and len(analysis.cells):
        return True
    villages = analysis.villages
    return bool(len(villages)) and bool((villages["population_source"] != "none").all())


def assumed_result(result: CheckResult) -> CheckResult:
    """A result measured on stand-in facilities: never a pass."""
    status = ASSUMED if result.status == PASS else result.status
    return dataclasses.replace(result, status=status, assumption=STAND_IN[0], assumption_zh=STAND_IN[1])


def _zone_land(classes: gpd.GeoDataFrame, zones: Sequence[str], outline: shapely.Geometry | None) -> shapely.Geometry:
    """The land of the region in the given zone classes: the class polygons inside the boundary."""
    chosen = classes[classes["zone_class"].isin(zones)]
    area = chosen.geometry.union_all() if len(chosen) else shapely.Polygon()
    return area.intersection(outline) if outline is not None and not area.is_empty else area


def far_from_roads(analysis: Analysis, facilities: gpd.GeoDataFrame, minutes: float) -> tuple[str, str]:
    """Facilities whose access leg alone takes more than ACCESS_SHARE of ``minutes``, as a sentence (en, zh)."""
    if facilities.empty or "snap_distance_m" not in facilities:
        return "", ""
    speed_mps = analysis.profile.facility_access_speed_kph / 3.6
    access = facilities["snap_distance_m"].to_numpy(dtype=float) / speed_mps / 60.0
    far = np.flatnonzero(access > ACCESS_SHARE * minutes)
    if not len(far):
        return "", ""
    order = far[np.argsort(-access[far])]
    listed = [
        f"{facilities['name'].iloc[i]} ({facilities['snap_distance_m'].iloc[i]:,.0f} m, {access[i]:.1f} min)"
        for i in order[:5]
    ]
    more = f" and {len(order) - 5} more" if len(order) > 5 else ""
    en = (
        f"{len(order)} facilities lie far from a mapped road: their leg to the road alone takes more than "
        f"{ACCESS_SHARE:.0%} of the {minutes:g} min ({'; '.join(listed)}{more}); check for roads missing from the map"
    )
    zh = (
        f"{len(order)} 个机构距已知道路较远，仅进出道路就超过 {minutes:g} 分钟的 {ACCESS_SHARE:.0%}"
        f"（{'；'.join(listed)}{more}）；请核查地图是否缺少道路"
    )
    return en, zh


def _facilities_of(analysis: Analysis, kinds: Sequence[str]) -> gpd.GeoDataFrame:
    facilities = analysis.facilities
    if not kinds:
        return facilities
    return facilities[facilities["kind"].isin(kinds)]


def _demand(analysis: Analysis, classes: gpd.GeoDataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cells (or villages when there is no raster) and villages, with their zone class."""
    villages = analysis.villages.assign(zone_class=zone_class_of(analysis.villages, classes))
    cells = analysis.cells
    if cells is None or cells.empty:
        return villages, villages
    return cells.assign(zone_class=zone_class_of(cells, classes)), villages


def _travel_time(
    target: Target, analysis: Analysis, classes: gpd.GeoDataFrame | None, household_size: float
) -> CheckResult:
    places, villages = _demand(analysis, classes)

    def run(frame: pd.DataFrame, basis: str, zone_column: str = "zone_class") -> CheckResult:
        return check_travel_time(
            _in_zones(frame, target.zones),
            target=target.id,
            minutes=float(target.minutes or 0),
            required_share=target.required_share,
            basis=basis,
            delay_minutes=target.delay_minutes,
            household_size=household_size,
            zone_column=zone_column,
        )

    def with_units(result: CheckResult, frame: pd.DataFrame, basis: str) -> CheckResult:
        # the same figures per admin unit (the analysis' zones column)
        by_unit = run(frame, basis, zone_column="zone").by_zone.rename(columns={"zone": "unit"})
        return dataclasses.replace(result, by_unit=by_unit)

    if _in_zones(places, target.zones).empty:
        return no_places_in_zones(target)
    named = run(villages, "population")
    villages_outside = {"villages_outside": named.shortfall.get("places_outside", 0.0)}
    if target.basis == "villages":
        result = run(villages, "villages")
    else:
        # the share counts every populated cell; the places named and counted are villages, not cells
        result = run(places, target.basis)
        result = dataclasses.replace(result, worst=named.worst)
    shortfall = {k: v for k, v in result.shortfall.items() if k != "places_outside"} | villages_outside
    basis_places = villages if target.basis == "villages" else places
    far_en, far_zh = far_from_roads(analysis, analysis.facilities, float(target.minutes or 0))
    if far_en:
        result = dataclasses.replace(
            result, detail=f"{result.detail}. {far_en}", detail_zh=f"{result.detail_zh}。{far_zh}"
        )
    return with_units(dataclasses.replace(result, shortfall=shortfall), basis_places, target.basis)


def _service_radius(
    target: Target, analysis: Analysis, classes: gpd.GeoDataFrame | None, stations: gpd.GeoDataFrame
) -> CheckResult:
    network = analysis.network
    _, villages = _demand(analysis, classes)
    places = _in_zones(villages, target.zones)
    crs = network.crs
    if classes is not None and ALL_ZONES not in target.zones:
        # land only: each class's polygons clipped to the region's boundary (zone blocks reach into the sea)
        zone_geoms = gpd.GeoDataFrame(
            {"zone_class": list(target.zones)},
            geometry=[_zone_land(classes, [zone], analysis.outline) for zone in target.zones],
            crs=4326,
        )
    else:
        outline = _region_land(analysis)
        zone_geoms = gpd.GeoDataFrame({"zone_class": ["all"]}, geometry=[outline], crs=4326)
    projected = zone_geoms.to_crs(crs)
    station_xy = stations.geometry.to_crs(crs)
    zones = pd.DataFrame(
        {
            "zone": projected["zone_class"].to_numpy(),
            "area_km2": projected.area.to_numpy() / 1e6,
            "stations": [int(geom.contains(station_xy).sum()) for geom in projected.geometry],
        }
    )
    table = pd.DataFrame(places.drop(columns="geometry")).copy()
    if len(places) and len(stations):
        place_xy = places.geometry.to_crs(crs)
        tree = shapely.STRtree(np.asarray(station_xy.values))
        _, distance = tree.query_nearest(np.asarray(place_xy.values), return_distance=True, all_matches=False)
        table["straight_km"] = distance / 1000.0
        metres = length_network(network)
        station_att = attach_points(
            metres, stations, access_speed_kph=3.6, tolerance_m=analysis.profile.snap_tolerance_m
        )
        place_att = attach_points(metres, places, access_speed_kph=3.6, tolerance_m=analysis.profile.snap_tolerance_m)
        reach = nearest_facility(metres, station_att, direction="from_facility")
        road_m, _ = reach_points(metres, reach, place_att)
        table["network_km"] = np.where(np.isfinite(road_m), road_m / 1000.0, np.nan)
    else:
        table["straight_km"] = np.nan
        table["network_km"] = np.nan
    result = check_service_radius(table, zones, target=target.id, radius_km=target.radius_km or (0.0, 0.0))
    return dataclasses.replace(result, by_unit=_radius_by_unit(analysis, projected, station_xy, result.required))


def _region_land(analysis: Analysis) -> shapely.Geometry:
    """The region's area: its boundary, else its admin units, else the hull of its roads (WGS84)."""
    if analysis.outline is not None:
        return analysis.outline
    if analysis.zones is not None:
        return analysis.zones.geometry.union_all()
    hull = shapely.convex_hull(shapely.MultiPoint(analysis.network.node_xy))
    return gpd.GeoSeries([hull], crs=analysis.network.crs).to_crs(4326).iloc[0]


def _radius_by_unit(
    analysis: Analysis, zone_area: gpd.GeoDataFrame, station_xy: gpd.GeoSeries, high_km: float | None
) -> pd.DataFrame:
    """Average service radius per admin unit, over the part of the unit in the target's zones."""
    if analysis.zones is None or high_km is None:
        return pd.DataFrame()
    crs = zone_area.crs
    area = zone_area.geometry.union_all()
    rows = []
    for name, geom in zip(analysis.zones["zone"], analysis.zones.to_crs(crs).geometry, strict=True):
        part = geom.intersection(area)
        stations = int(part.contains(station_xy).sum()) if not part.is_empty else 0
        radius = average_service_radius_km(part.area / 1e6, stations)
        rows.append({"unit": name, "area_km2": part.area / 1e6, "stations": stations, "average_radius_km": radius})
    frame = pd.DataFrame(rows)
    # a unit with no land in the target's zone classes has no radius to meet
    frame["status"] = np.where(
        frame["area_km2"] <= 0, NOT_APPLICABLE, np.where(frame["average_radius_km"] <= high_km, PASS, FAIL)
    )
    frame.loc[frame["area_km2"] <= 0, "average_radius_km"] = np.nan
    return frame


def _count_per_unit(target: Target, analysis: Analysis) -> CheckResult:
    facilities = _facilities_of(analysis, target.facility_kinds)
    if target.unit == "village":
        villages = analysis.villages
        crs = analysis.network.crs
        distance_m = target.unit_distance_m or DEFAULT_VILLAGE_DISTANCE_M
        village_xy = np.asarray(villages.geometry.to_crs(crs).values)
        facility_xy = np.asarray(facilities.geometry.to_crs(crs).values)
        near, _ = shapely.STRtree(facility_xy).query(village_xy, predicate="dwithin", distance=distance_m)
        counts = np.bincount(near, minlength=len(villages))
        units = pd.DataFrame(
            {"unit": villages["name"].to_numpy(), "id": villages["id"].to_numpy(), "facilities": counts}
        )
        result = check_count_per_unit(units, target=target.id, min_count=int(target.min_count or 1))
        return dataclasses.replace(
            result, detail=f"{result.detail}; a facility within {distance_m:g} m counts for a village"
        )
    unit_zh = {"township": "乡镇", "subdistrict": "街道", "county": "县"}.get(str(target.unit), str(target.unit))
    level = analysis.zones_level
    accepted = _UNIT_LEVELS.get(str(target.unit), (str(target.unit),))
    problem = None
    if analysis.zones is None:
        problem = ("there are no admin-unit polygons", "没有行政区划面")
    elif level is not None and level not in accepted:
        problem = (f"the admin units are {level}-level", f"现有行政区划为{level}级")
    elif len(analysis.zones) < 2 and str(target.unit) != "county":
        problem = (
            f"the admin units hold only one polygon ({analysis.zones['zone'].iloc[0]}), the whole region rather than "
            f"its {target.unit}s",
            f"行政区划只有一个面（{analysis.zones['zone'].iloc[0]}），是整个区域而不是各{unit_zh}",
        )
    if problem is not None:
        return CheckResult(
            target.id,
            "count_per_unit",
            CANNOT,
            None,
            None,
            "units",
            detail=f"this target counts per {target.unit}, and {problem[0]}: give the {target.unit} polygons with "
            "--zones (and --zones-where to pick the level); a whole region never stands in for its units",
            detail_zh=f"该目标按{unit_zh}统计，但{problem[1]}：请用 --zones 提供各{unit_zh}的行政区划面"
            "（可用 --zones-where 选择层级）；不能以整个区域代替各单元",
        )
    zones = analysis.zones
    if zones is None:  # for the type checker: problem above covers it
        return check_count_per_unit(pd.DataFrame(), target=target.id, min_count=int(target.min_count or 1))
    lon, lat = facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy()
    per_unit = [int(shapely.contains_xy(geom, lon, lat).sum()) for geom in zones.geometry]
    units = pd.DataFrame({"unit": zones["zone"].to_numpy(), "facilities": per_unit})
    return check_count_per_unit(units, target=target.id, min_count=int(target.min_count or 1))


def _ratio(target: Target, analysis: Analysis, classes: gpd.GeoDataFrame | None) -> CheckResult:
    places = _in_zones(_demand(analysis, classes)[0], target.zones)
    chosen = _facilities_of(analysis, target.facility_kinds)
    result = _ratio_for(target, places, chosen)
    if analysis.zones is None or result.status == CANNOT:
        return result
    lon, lat = chosen.geometry.x.to_numpy(), chosen.geometry.y.to_numpy()
    rows = []
    for unit, outline in zip(analysis.zones["zone"], analysis.zones.geometry, strict=True):
        part = _ratio_for(target, places[places["zone"] == unit], chosen[shapely.contains_xy(outline, lon, lat)])
        rows.append({"unit": unit, "have": part.measured, "required": part.required, "status": part.status})
    return dataclasses.replace(result, by_unit=pd.DataFrame(rows))


def _ratio_for(target: Target, places: pd.DataFrame, chosen: gpd.GeoDataFrame) -> CheckResult:
    """The ratio target for some places and the facilities that serve them."""
    population = float(places["population"].fillna(0).sum())
    high = target.per_population_range[1] if target.per_population_range else float(target.per_population or 1)
    result = check_ratio_to_population(
        pd.DataFrame(chosen.drop(columns="geometry")),
        target=target.id,
        population=population,
        resource=target.resource or "count",
        per_population=high,
        population_multiplier=target.population_multiplier,
    )
    if target.per_population_range is None or result.required is None:
        return result
    # a range "1 per 30k–100k" passes at its lenient end (one per 100k); report what the strict end asks too
    low = target.per_population_range[0]
    strict = math.ceil(population * target.population_multiplier / low - 1e-9)
    return dataclasses.replace(
        result,
        detail=f"{result.detail}; range 1 per {low:,.0f}–{high:,.0f}: {result.required:.0f}–{strict} needed",
        detail_zh=f"{result.detail_zh}；按每 {low:,.0f}–{high:,.0f} 人 1 个：需要 {result.required:.0f}–{strict} 个",
    )
