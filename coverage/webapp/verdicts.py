"""A plan's travel-time targets judged from arrays of times, fast enough to redraw at every click.

:func:`travel_time_verdict` gives the figures :func:`coverage.standards.assessment.assess`
gives for a ``travel_time`` target (status, measured share, required share, shortfall,
the sentence saying how it was measured) from the times of the demand points, their
population and their zone class, with numpy sums instead of the assessment's tables
(which also list the worst places and every admin unit: the report export has those).
The same rules: the share counts every populated raster cell (villages without a
raster, or when the target counts villages); a place is within when
``minutes + delay <= threshold``, compared without rounding; the target passes when
the share is at least the required share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from coverage.standards.checks import CANNOT, FAIL, PASS
from coverage.standards.standard import ALL_ZONES, Target


@dataclass(frozen=True)
class Demand:
    """Demand points with their travel times for one target's analysis.

    Attributes
    ----------
    seconds : numpy.ndarray
        float64 seconds to (or from) the nearest facility that counts; ``inf`` unreached.
    population : numpy.ndarray
        float64 people (NaN: unknown, counts 0).
    zone_class : numpy.ndarray
        ``central`` / ``urban`` / ``rural`` per point.
    households : numpy.ndarray or None
        Households per point when the demand file states them all.
    """

    seconds: np.ndarray
    population: np.ndarray
    zone_class: np.ndarray
    households: np.ndarray | None = None


@dataclass(frozen=True)
class Verdict:
    """One target's outcome, JSON-ready through :meth:`as_dict`."""

    target: str
    kind: str
    status: str
    measured: float | None
    required: float | None
    unit: str
    shortfall: dict[str, float]
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON values."""
        return {
            "target": self.target,
            "kind": self.kind,
            "status": self.status,
            "measured": self.measured,
            "required": self.required,
            "unit": self.unit,
            "shortfall": self.shortfall,
            "detail": self.detail,
        }


def _in_zones(zone_class: np.ndarray, zones: tuple[str, ...], masks: dict[Any, np.ndarray] | None) -> np.ndarray:
    """Which places lie in the zones; kept in ``masks`` (by the array and the zones) for the next click."""
    key = (id(zone_class), len(zone_class), zones)
    if masks is not None and key in masks:
        return masks[key]
    mask = np.ones(len(zone_class), dtype=bool) if ALL_ZONES in zones else np.isin(zone_class, zones)
    if masks is not None:
        masks[key] = mask
    return mask


def _share(
    demand: Demand, mask: np.ndarray, target: Target, basis: str, household_size: float
) -> tuple[float, float, np.ndarray, str]:
    """Covered and total weight of the places in ``mask`` (as check_travel_time counts them)."""
    seconds = demand.seconds[mask]
    # minutes as the analysis has them (seconds / 60); inf + delay <= T is False: unreached places are outside
    within = (seconds / 60.0 + target.delay_minutes) <= float(target.minutes or 0)
    population = np.nan_to_num(demand.population[mask], nan=0.0)
    if basis == "population":
        weight, basis_text = population, "population"
    elif basis == "households":
        if demand.households is not None:
            weight, how = demand.households[mask].astype(float), "households column of the demand file"
        else:
            weight, how = population / household_size, f"population / {household_size:g} persons per household"
        basis_text = f"households ({how})"
    else:
        weight, basis_text = np.ones(int(mask.sum())), "villages (each counts once)"
    total = float(weight.sum())
    covered = float(weight[within].sum())
    return covered, total, within, basis_text


def travel_time_verdict(
    target: Target,
    *,
    places: Demand,
    villages: Demand,
    household_size: float,
    cells: bool,
    masks: dict[Any, np.ndarray] | None = None,
) -> Verdict:
    """A ``travel_time`` target's verdict, as :func:`~coverage.standards.assessment.assess` would give it.

    Parameters
    ----------
    target : Target
    places : Demand
        The demand the share counts: raster cells, or the villages when there is no raster.
    villages : Demand
        The villages (counted when the target's basis is villages, and named in the shortfall).
    household_size : float
        The standard's persons per household.
    cells : bool
        Whether ``places`` are raster cells.
    masks : dict, optional
        A cache of the zone masks, kept by the caller from one call to the next
        (the zone class arrays must stay the same objects).
    """
    threshold = float(target.minutes or 0)
    required = float(target.required_share)

    def cannot(detail: str) -> Verdict:
        return Verdict(target.id, "travel_time", CANNOT, None, required, "share", {}, detail)

    in_places = _in_zones(places.zone_class, target.zones, masks)
    if not in_places.any():
        return cannot(
            f"no populated place lies in the zones {', '.join(target.zones)} (zone classes from the population "
            "raster by the standard's density thresholds, or no raster given)"
        )
    in_villages = _in_zones(villages.zone_class, target.zones, masks)
    if target.basis == "villages":
        demand, mask = villages, in_villages
    else:
        demand, mask = places, in_places
    if not mask.any():
        return cannot("no places in the target's zones")
    covered, total, within, basis_text = _share(demand, mask, target, target.basis, household_size)
    if total <= 0:
        return cannot(f"the places hold no {target.basis}")
    share = covered / total
    status = PASS if share >= required - 1e-12 else FAIL
    shortfall: dict[str, float] = {target.basis: max(0.0, required * total - covered)}
    if target.basis != "population":
        people = np.nan_to_num(demand.population[mask], nan=0.0)
        shortfall["people_outside"] = float(people[~within].sum())
    # counted as the assessment counts them: villages in the zones, when they hold people
    _, people_total, villages_within, _ = _share(villages, in_villages, target, "population", household_size)
    shortfall["villages_outside"] = float((~villages_within).sum()) if people_total > 0 else 0.0
    delay = f" plus {target.delay_minutes:g} min delay" if target.delay_minutes else ""
    detail = f"{share:.1%} of the {basis_text} is within {threshold:g} min{delay}; the target is {required:.0%}"
    return Verdict(target.id, "travel_time", status, share, required, "share", shortfall, detail)
