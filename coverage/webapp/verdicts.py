"""A plan's travel-time targets judged at every click, with the assessment's own rules and check.

:func:`coverage.standards.assessment.assess` judges a ``travel_time`` target on tables
of every populated raster cell: seconds of pandas work, too slow for a click. The
share only depends on which places are within the threshold, so here the places in
the target's zones are summed into two rows (within, outside) and given to the
library's own :func:`~coverage.standards.checks.check_travel_time`; the villages (a
few hundred rows) go to it as they are. The rules around the check are the
assessment's too, called from it: the kinds of facilities missing, no population or
no zone classes (cannot evaluate), zones absent from the region (not applicable),
facilities far from a mapped road (named), hospitals standing in for EMS stations
(assumed, never met). What the page leaves out are the tables per admin unit and
the worst places: the report export has them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.analysis.result import Analysis
from coverage.standards.assessment import (  # the assessment's rules: the page says what a report says
    assumed_result,
    far_from_roads,
    missing_data_verdict,
    missing_kinds,
    no_places_in_zones,
)
from coverage.standards.checks import CheckResult, check_travel_time
from coverage.standards.standard import ALL_ZONES, Target

#: Minutes given to the summed row of the places within the threshold (any delay keeps it within).
_WITHIN_MINUTES = -1e12


@dataclass(frozen=True)
class Demand:
    """Demand points with their travel times for one target's analysis.

    Attributes
    ----------
    seconds : numpy.ndarray
        float64 seconds to (or from) the nearest facility that counts; ``inf`` unreached.
    population : numpy.ndarray
        float64 people (NaN: unknown).
    zone_class : numpy.ndarray
        ``central`` / ``urban`` / ``rural`` per point.
    households : numpy.ndarray or None
        Households per point when the demand file states them all.
    frame : pandas.DataFrame or None
        The points as a table (villages: ``id``, ``name``, ``population``...), given
        to the check as they are; None for raster cells, which are summed.
    """

    seconds: np.ndarray
    population: np.ndarray
    zone_class: np.ndarray
    households: np.ndarray | None = None
    frame: pd.DataFrame | None = None


def _in_zones(zone_class: np.ndarray, zones: tuple[str, ...], masks: dict[Any, np.ndarray] | None) -> np.ndarray:
    """Which places lie in the zones; kept in ``masks`` (by the array and the zones) for the next click."""
    key = (id(zone_class), len(zone_class), zones)
    if masks is not None and key in masks:
        return masks[key]
    mask = np.ones(len(zone_class), dtype=bool) if ALL_ZONES in zones else np.isin(zone_class, zones)
    if masks is not None:
        masks[key] = mask
    return mask


def _table(demand: Demand, mask: np.ndarray, target: Target) -> tuple[Callable[[], pd.DataFrame], tuple[Any, ...]]:
    """The places in the zones as check_travel_time reads them (as they are, or summed into within / outside).

    Returns the table's maker and what its verdict depends on (the places within, their people), so
    that an unchanged target is not checked again.
    """
    minutes = np.where(np.isfinite(demand.seconds[mask]), demand.seconds[mask] / 60.0, np.nan)
    within = (minutes + target.delay_minutes) <= float(target.minutes or 0)
    if demand.frame is not None:
        frame = demand.frame

        def rows() -> pd.DataFrame:
            table = frame[mask].copy()
            table["minutes"] = minutes
            table["zone_class"] = demand.zone_class[mask]
            return table

        return rows, ("rows", id(frame), mask.tobytes(), within.tobytes())
    people = demand.population[mask]
    summed = {
        "minutes": [_WITHIN_MINUTES, np.nan],
        "population": [float(np.nansum(people[within])), float(np.nansum(people[~within]))],
    }
    if demand.households is not None:
        households = demand.households[mask]
        summed["households"] = [float(households[within].sum()), float(households[~within].sum())]
    key = ("summed", *(tuple(v) for v in summed.values()))
    return lambda: pd.DataFrame(summed), key


#: Most verdicts kept for reuse by :func:`travel_time_verdict` (a memo the caller keeps).
MEMO_SIZE = 512


def _check(
    target: Target,
    table: tuple[Callable[[], pd.DataFrame], tuple[Any, ...]],
    basis: str,
    household_size: float,
    memo: dict[Any, CheckResult] | None,
) -> CheckResult:
    make, depends = table
    key = (target, basis, household_size, depends)
    if memo is not None and key in memo:
        return memo[key]
    result = check_travel_time(
        make(),
        target=target.id,
        minutes=float(target.minutes or 0),
        required_share=target.required_share,
        basis=basis,
        delay_minutes=target.delay_minutes,
        household_size=household_size,
        zone_column="zone_class",
    )
    if memo is not None:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = result
    return result


def travel_time_verdict(
    target: Target,
    *,
    base: Analysis,
    analysis: Analysis,
    classes: gpd.GeoDataFrame | None,
    places: Demand,
    villages: Demand,
    household_size: float,
    masks: dict[Any, np.ndarray] | None = None,
    missing_data: Callable[[Target], CheckResult | None] | None = None,
    memo: dict[Any, CheckResult] | None = None,
) -> CheckResult:
    """A ``travel_time`` target's verdict, as :func:`~coverage.standards.assessment.assess` gives it.

    Parameters
    ----------
    target : Target
    base : Analysis
        The region with every open station as its facilities (for the kinds present).
    analysis : Analysis
        The target's analysis: its profile, and the stations counting for it as
        facilities (with their snapping columns).
    classes : GeoDataFrame or None
        The zone classes.
    places : Demand
        What the share counts: the raster cells, or the villages without a raster.
    villages : Demand
        The villages (counted when the target counts villages, and in the shortfall).
    household_size : float
        The standard's persons per household.
    masks : dict, optional
        A cache of the zone masks, kept by the caller from one call to the next.
    missing_data : callable, optional
        The assessment's check for missing population or zones (by target), cached by
        the caller: it does not depend on the stations.
    memo : dict, optional
        Checks already made, kept by the caller: a target whose places within are
        the same as at the last click is not checked again.
    """
    kinds = tuple(target.facility_kinds)
    facilities = base.facilities
    chosen = facilities[facilities["kind"].isin(kinds)] if kinds else facilities
    stand_in = kinds == ("ems",) and chosen.empty and bool((facilities["kind"] == "hospital").any())
    if kinds and chosen.empty and not stand_in:
        return missing_kinds(target, base, kinds)
    missing = missing_data(target) if missing_data is not None else missing_data_verdict(target, base, classes)
    if missing is not None:
        return missing
    in_places = _in_zones(places.zone_class, target.zones, masks)
    if not in_places.any():
        return no_places_in_zones(target)
    in_villages = _in_zones(villages.zone_class, target.zones, masks)
    village_table = _table(villages, in_villages, target)
    named = _check(target, village_table, "population", household_size, memo)
    villages_outside = {"villages_outside": named.shortfall.get("places_outside", 0.0)}
    if target.basis == "villages":
        result = _check(target, village_table, "villages", household_size, memo)
    else:
        result = _check(target, _table(places, in_places, target), target.basis, household_size, memo)
    shortfall = {k: v for k, v in result.shortfall.items() if k != "places_outside"} | villages_outside
    far_en, far_zh = far_from_roads(analysis, analysis.facilities, float(target.minutes or 0))
    if far_en:
        result = dataclasses.replace(
            result, detail=f"{result.detail}. {far_en}", detail_zh=f"{result.detail_zh}。{far_zh}"
        )
    result = dataclasses.replace(result, shortfall=shortfall, by_zone=pd.DataFrame(), worst=pd.DataFrame())
    return assumed_result(result) if stand_in else result


def verdict_dict(result: CheckResult) -> dict[str, Any]:
    """The figures of a verdict the page shows, as plain JSON values."""
    return {
        "target": result.target,
        "kind": result.kind,
        "status": result.status,
        "measured": result.measured,
        "required": result.required,
        "unit": result.unit,
        "shortfall": result.shortfall,
        "detail": result.detail,
        "detail_zh": result.detail_zh,
        "assumption": result.assumption,
        "assumption_zh": result.assumption_zh,
    }
