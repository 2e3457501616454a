"""Evaluating one planning target on the engine's outputs.

Each kind of target has one small function that takes plain tables (the places
with their travel times, the facilities, the zones) and returns a
:class:`CheckResult`: pass, fail or cannot-evaluate, the measured and required
figures, the shortfall, and the results per zone. None of them reads OSM or
routes: the analysis (:mod:`coverage.analysis.run`) supplies their inputs.

A target that cannot be measured (a missing attribute, no population) is
``cannot_evaluate``; one measured on stand-in data (hospitals standing in for the
EMS stations the data lacks) is ``assumed``; one for a zone class the region does
not have is ``not_applicable``. None of them is a pass.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

PASS = "pass"
FAIL = "fail"
CANNOT = "cannot_evaluate"
#: Measured, but on stand-in data (hospitals for missing EMS stations): never a pass.
ASSUMED = "assumed"
#: The target's zones do not exist in the region (no urban area, no rural part).
NOT_APPLICABLE = "not_applicable"
#: Every status, in the order reports list them.
STATUSES = (PASS, FAIL, ASSUMED, CANNOT, NOT_APPLICABLE)
#: Statuses that leave a target unconfirmed: a scheduled run must not take them for a pass.
UNCONFIRMED = (ASSUMED, CANNOT)

#: Share of households per person used when the demand table has no household column
#: and the standard states none: China's 2020 census average of 2.62 persons per household.
DEFAULT_HOUSEHOLD_SIZE = 2.62


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one target.

    Attributes
    ----------
    target : str
        The target's id.
    kind : str
        Kind of check (``travel_time``, ``service_radius``...).
    status : str
        One of :data:`STATUSES`: ``"pass"``, ``"fail"``, ``"assumed"``,
        ``"cannot_evaluate"`` or ``"not_applicable"``.
    measured : float or None
        The figure measured (a share, a radius in km, a count, a ratio).
    required : float or None
        The figure the target asks for.
    unit : str
        Unit of ``measured`` and ``required`` (``"share"``, ``"km"``, ``"facilities"``...).
    shortfall : dict
        What is missing to meet the target: ``people``, ``households``,
        ``villages``, ``facilities``, ``units`` (only the relevant ones).
    detail : str
        One sentence explaining the figure and the basis used.
    by_zone : pandas.DataFrame
        The same figures per zone class (central / urban / rural), when meaningful.
    by_unit : pandas.DataFrame
        The same figures per admin unit, when meaningful.
    worst : pandas.DataFrame
        The places or units furthest from the target, worst first.
    detail_zh : str
        ``detail`` in Chinese.
    assumption, assumption_zh : str
        What the figure rests on that the data did not say (hospitals standing in
        for EMS stations), in English and Chinese; empty when nothing was assumed.
    """

    target: str
    kind: str
    status: str
    measured: float | None
    required: float | None
    unit: str
    shortfall: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    by_zone: pd.DataFrame = field(default_factory=pd.DataFrame)
    worst: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_unit: pd.DataFrame = field(default_factory=pd.DataFrame)
    detail_zh: str = ""
    assumption: str = ""
    assumption_zh: str = ""

    def explanation(self, lang: str = "en") -> str:
        """The detail sentence in ``lang``, with the assumption first when there is one."""
        detail = self.detail_zh if lang == "zh" and self.detail_zh else self.detail
        assumption = self.assumption_zh if lang == "zh" and self.assumption_zh else self.assumption
        if not assumption:
            return detail
        return f"{assumption}；{detail}" if lang == "zh" else f"{assumption}; {detail}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (tables as lists of records)."""
        return {
            "target": self.target,
            "kind": self.kind,
            "status": self.status,
            "measured": self.measured,
            "required": self.required,
            "unit": self.unit,
            "shortfall": self.shortfall,
            "detail": self.detail,
            "detail_zh": self.detail_zh,
            "assumption": self.assumption,
            "assumption_zh": self.assumption_zh,
            "by_zone": self.by_zone.to_dict(orient="records"),
            "by_unit": self.by_unit.to_dict(orient="records"),
            "worst": self.worst.to_dict(orient="records"),
        }


def _status(ok: bool) -> str:
    return PASS if ok else FAIL


def household_weights(places: pd.DataFrame, *, household_size: float) -> tuple[pd.Series, str]:
    """Households per place: the ``households`` column, else population / household size.

    Returns
    -------
    households : pandas.Series
    basis : str
        Which was used, for the report.
    """
    if "households" in places and places["households"].notna().all():
        return places["households"].astype(float), "households column of the demand file"
    if household_size <= 0:
        msg = f"household_size must be positive, got {household_size}"
        raise ValueError(msg)
    return (
        places["population"].fillna(0).astype(float) / household_size,
        f"population / {household_size:g} persons per household",
    )


def check_travel_time(
    places: pd.DataFrame,
    *,
    target: str,
    minutes: float,
    required_share: float = 1.0,
    basis: str = "population",
    delay_minutes: float = 0.0,
    household_size: float = DEFAULT_HOUSEHOLD_SIZE,
    zone_column: str = "zone",
    worst: int = 10,
) -> CheckResult:
    """Share of population, households or villages within ``minutes`` of a facility.

    Parameters
    ----------
    places : pandas.DataFrame
        One row per demand place (village or raster cell) already restricted to the
        target's zones: ``minutes`` (travel time to/from the nearest facility of the
        kinds that count, NaN when unreached), ``population``, optionally
        ``households``, ``name`` and a zone column.
    minutes : float
        Threshold. A place is within when ``minutes + delay_minutes <= minutes``
        threshold, compared without rounding.
    required_share : float
        Share of the basis that must be within (1.0 = everyone).
    basis : {"population", "households", "villages"}
        What the share counts.
    delay_minutes : float
        Fixed dispatch/turnout delay added to every travel time.
    """
    if places.empty:
        return CheckResult(
            target,
            "travel_time",
            NOT_APPLICABLE,
            None,
            required_share,
            "share",
            detail="no places in the target's zones",
            detail_zh="目标适用区域内没有居民点",
        )
    total_minutes = places["minutes"].astype(float) + delay_minutes
    within = (total_minutes <= minutes).fillna(False).to_numpy(dtype=bool)
    if basis == "population":
        weight = places["population"].fillna(0).astype(float)
        basis_text, basis_zh = "population", "人口"
    elif basis == "households":
        weight, how = household_weights(places, household_size=household_size)
        basis_text, basis_zh = f"households ({how})", "户数"
    elif basis == "villages":
        weight = pd.Series(1.0, index=places.index)
        basis_text, basis_zh = "villages (each counts once)", "村庄（每村计一次）"
    else:
        msg = f"basis must be population, households or villages, got {basis!r}"
        raise ValueError(msg)
    total = float(weight.sum())
    if total <= 0:
        return CheckResult(
            target,
            "travel_time",
            CANNOT,
            None,
            required_share,
            "share",
            detail=f"the places hold no {basis}",
            detail_zh=f"这些地点没有{basis_zh}数据",
        )
    covered = float(weight[within].sum())
    share = covered / total
    ok = share >= required_share - 1e-12
    # the shortfall: how much of the basis must still be brought within to meet the share
    missing = max(0.0, required_share * total - covered)
    shortfall = {basis: missing, "places_outside": float((~within).sum())}
    if basis != "population":
        people = places["population"].fillna(0).astype(float)
        shortfall["people_outside"] = float(people[~within].sum())
    zone = places[zone_column] if zone_column in places else pd.Series("", index=places.index)
    frame = pd.DataFrame({"zone": zone, "total": weight, "covered": weight.where(within, 0.0)})
    by_zone = frame.groupby("zone")[["total", "covered"]].sum()
    by_zone["share"] = by_zone["covered"] / by_zone["total"].where(by_zone["total"] > 0)
    by_zone["status"] = np.where(by_zone["share"] >= required_share - 1e-12, PASS, FAIL)
    outside = places[~within].assign(beyond_minutes=total_minutes[~within] - minutes)
    columns = [c for c in ("id", "name", zone_column, "population", "minutes", "beyond_minutes") if c in outside]
    worst_places = outside.sort_values(["population", "beyond_minutes"], ascending=False).head(worst)[columns]
    delay = f" plus {delay_minutes:g} min delay" if delay_minutes else ""
    delay_zh = f"（另加 {delay_minutes:g} 分钟出车准备）" if delay_minutes else ""
    detail = f"{share:.1%} of the {basis_text} is within {minutes:g} min{delay}; the target is {required_share:.0%}"
    detail_zh = f"{share:.1%} 的{basis_zh}在 {minutes:g} 分钟内{delay_zh}；目标为 {required_share:.0%}"
    return CheckResult(
        target,
        "travel_time",
        _status(ok),
        share,
        required_share,
        "share",
        shortfall,
        detail,
        by_zone.reset_index(),
        worst_places.reset_index(drop=True),
        detail_zh=detail_zh,
    )


def average_service_radius_km(area_km2: float, stations: int) -> float:
    """The plans' average service radius: sqrt(area / (π · stations)), in km; inf without stations."""
    if stations <= 0:
        return math.inf
    return math.sqrt(area_km2 / (math.pi * stations))


def check_service_radius(
    places: pd.DataFrame,
    zones: pd.DataFrame,
    *,
    target: str,
    radius_km: tuple[float, float],
    worst: int = 10,
) -> CheckResult:
    """EMS service radius, both readings of the plans.

    Parameters
    ----------
    places : pandas.DataFrame
        Demand places in the target's zones with ``straight_km`` and ``network_km``
        to the nearest station (NaN unreached), ``population``.
    zones : pandas.DataFrame
        One row per zone the target applies to: ``zone``, ``area_km2``, ``stations``
        (stations inside the zone).
    radius_km : (low, high)
        The radius, or a range such as 10–20 km; both ends are reported, and the
        target passes when the measured figure is within the high end.

    Returns
    -------
    CheckResult
        ``measured`` is the average radius over all the zones together (reading b);
        ``by_zone`` has each zone's average radius against both ends; the
        shortfall counts people farther than the high end by straight line and by
        road (reading a).
    """
    low, high = radius_km
    if zones.empty or zones["area_km2"].sum() <= 0:
        return CheckResult(
            target,
            "service_radius",
            NOT_APPLICABLE,
            None,
            high,
            "km",
            detail="the region has no area of the target's zones",
            detail_zh="本区域没有该目标适用的区域",
        )
    area = float(zones["area_km2"].sum())
    stations = int(zones["stations"].sum())
    radius = average_service_radius_km(area, stations)
    per_zone = zones.assign(
        average_radius_km=[
            average_service_radius_km(a, int(s)) for a, s in zip(zones["area_km2"], zones["stations"], strict=True)
        ]
    )
    per_zone["within_low"] = per_zone["average_radius_km"] <= low
    per_zone["within_high"] = per_zone["average_radius_km"] <= high
    # a zone with no area of its class has no radius to meet
    per_zone["status"] = np.where(
        per_zone["area_km2"] <= 0, NOT_APPLICABLE, np.where(per_zone["within_high"], PASS, FAIL)
    )
    shortfall: dict[str, float] = {}
    worst_places = pd.DataFrame()
    if not places.empty:
        people = places["population"].fillna(0).astype(float)
        straight_far = ~(places["straight_km"] <= high).fillna(False).to_numpy(dtype=bool)
        road_far = ~(places["network_km"] <= high).fillna(False).to_numpy(dtype=bool)
        shortfall = {
            "people_beyond_straight_line": float(people[straight_far].sum()),
            "people_beyond_by_road": float(people[road_far].sum()),
            "villages_beyond_by_road": float(road_far.sum()),
        }
        columns = [c for c in ("id", "name", "zone", "population", "straight_km", "network_km") if c in places]
        worst_places = (
            places[road_far].sort_values("population", ascending=False).head(worst)[columns].reset_index(drop=True)
        )
    # the stations needed for the average radius to reach the high end: area / (π R²)
    needed = math.ceil(area / (math.pi * high**2))
    if needed > stations:
        shortfall["facilities"] = float(needed - stations)
    ends = f"{low:g} km" if low == high else f"{low:g}–{high:g} km"
    ends_zh = f"{low:g} 公里" if low == high else f"{low:g}–{high:g} 公里"
    if stations:
        detail = f"average service radius {radius:.2f} km over {area:,.0f} km² of land and {stations} stations (target {ends})"
        detail_zh = (
            f"平均服务半径 {radius:.2f} 公里（陆地面积 {area:,.0f} 平方公里，站点 {stations} 个；目标 {ends_zh}）"
        )
    else:
        detail = f"no stations in these zones ({area:,.0f} km² of land; target {ends}): {needed} are needed"
        detail_zh = f"这些区域内没有站点（陆地面积 {area:,.0f} 平方公里；目标 {ends_zh}）：需要 {needed} 个"
    return CheckResult(
        target,
        "service_radius",
        _status(radius <= high),
        radius,
        high,
        "km",
        shortfall,
        detail,
        per_zone.reset_index(drop=True),
        worst_places,
        detail_zh=detail_zh,
    )


def check_count_per_unit(
    units: pd.DataFrame,
    *,
    target: str,
    min_count: int,
    worst: int = 20,
) -> CheckResult:
    """At least ``min_count`` facilities in each unit (village, township, subdistrict).

    Parameters
    ----------
    units : pandas.DataFrame
        One row per unit: ``unit`` (its name), ``facilities`` (how many of the kinds
        that count lie in it, or within the distance of a village point).
    """
    if units.empty:
        return CheckResult(
            target,
            "count_per_unit",
            CANNOT,
            None,
            float(min_count),
            "units",
            detail="no units to count in",
            detail_zh="没有可统计的单元",
        )
    short = units["facilities"] < min_count
    share = 1.0 - float(short.mean())
    missing = float((min_count - units.loc[short, "facilities"]).sum())
    detail = f"{int((~short).sum())} of {len(units)} units have at least {min_count} (share {share:.1%})"
    detail_zh = f"{int((~short).sum())} / {len(units)} 个单元至少有 {min_count} 个（占 {share:.1%}）"
    lacking = units[short].sort_values("facilities").head(worst).reset_index(drop=True)
    return CheckResult(
        target,
        "count_per_unit",
        _status(not short.any()),
        share,
        1.0,
        "share of units",
        {"units": float(short.sum()), "facilities": missing},
        detail,
        pd.DataFrame(),
        lacking,
        detail_zh=detail_zh,
    )


def check_ratio_to_population(
    facilities: pd.DataFrame,
    *,
    target: str,
    population: float,
    resource: str,
    per_population: float,
    population_multiplier: float = 1.0,
) -> CheckResult:
    """At least one ``resource`` per ``per_population`` people.

    ``resource`` is a numeric facility column (ambulances, beds, doctors) summed over
    the facilities that count, or ``"count"`` for the number of facilities. A
    missing column, or missing values in it, make the target ``cannot_evaluate``.
    The population base is ``population * population_multiplier`` (Kaijiang plans
    ambulances on 300% of the county population).
    """
    base = population * population_multiplier
    # the rule implies a whole number of resources: 1 per 30,000 for 45,000 people is 2
    required = float(math.ceil(base / per_population - 1e-9))
    if resource == "count":
        have = float(len(facilities))
    elif resource not in facilities:
        return CheckResult(
            target,
            "ratio_to_population",
            CANNOT,
            None,
            required,
            resource,
            detail=f"the facility data has no {resource!r} column; add it to the facility file to evaluate this target",
            detail_zh=f"医疗机构数据中没有 {resource!r} 列；请在医疗机构文件中加入该列",
        )
    else:
        values = pd.to_numeric(facilities[resource], errors="coerce")
        if values.isna().any() or facilities.empty:
            return CheckResult(
                target,
                "ratio_to_population",
                CANNOT,
                None,
                required,
                resource,
                detail=f"{int(values.isna().sum())} of {len(values)} facilities have no {resource!r} value",
                detail_zh=f"{len(values)} 个机构中有 {int(values.isna().sum())} 个没有 {resource!r} 数值",
            )
        have = float(values.sum())
    multiplier = f" x {population_multiplier:g}" if population_multiplier != 1 else ""
    needed = f"; {required:.0f} needed (1 per {per_population:,.0f})"
    needed_zh = f"；需要 {required:.0f}（每 {per_population:,.0f} 人 1）"
    if have:
        detail = f"{have:g} {resource} for {population:,.0f}{multiplier} people: one per {base / have:,.0f}{needed}"
        detail_zh = f"{population:,.0f}{multiplier} 人有 {have:g} {resource}：每 {base / have:,.0f} 人一{needed_zh}"
    else:
        detail = f"no {resource} for {base:,.0f} people{needed}"
        detail_zh = f"{base:,.0f} 人没有 {resource}{needed_zh}"
    return CheckResult(
        target,
        "ratio_to_population",
        _status(have >= required),
        have,
        required,
        resource,
        {"facilities" if resource == "count" else resource: max(0.0, required - have)},
        detail,
        detail_zh=detail_zh,
    )


def check_minimum_count(facilities: pd.DataFrame, *, target: str, min_count: int) -> CheckResult:
    """At least ``min_count`` facilities of the kinds that count in the region."""
    have = len(facilities)
    return CheckResult(
        target,
        "minimum_count",
        _status(have >= min_count),
        float(have),
        float(min_count),
        "facilities",
        {"facilities": float(max(0, min_count - have))},
        f"{have} facilities; the target is at least {min_count}",
        detail_zh=f"共 {have} 个；目标为至少 {min_count} 个",
    )


def exit_status(statuses: list[str] | tuple[str, ...], *, allow_unevaluated: bool = False) -> int:
    """The exit status of an unattended run over these target statuses: 0 met, 1 not met.

    A run is not met when a target failed; when a target could not be evaluated or
    was measured on stand-in data (unless ``allow_unevaluated``); and always when
    no target at all could be evaluated (every one cannot-evaluate or not
    applicable), since such a run checked nothing.
    """
    if any(status == FAIL for status in statuses):
        return 1
    evaluated = [s for s in statuses if s in (PASS, FAIL, ASSUMED)]
    if statuses and not evaluated:
        return 1
    if not allow_unevaluated and any(status in UNCONFIRMED for status in statuses):
        return 1
    return 0
