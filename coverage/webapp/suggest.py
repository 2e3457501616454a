"""Suggested sites for a scenario: the maximal covering model of :mod:`coverage.siting` on its current stations.

The scenario's open stations of the map's analysis are the existing facilities (kept
open); the model picks the ``k`` new sites among the region's default candidates
(road points and villages) that bring the most people within the scenario's circle,
in the scenario's direction of travel. Each site comes with what it adds, in the
order of the greedy marginal gains, for a planner to accept or reject one by one.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from coverage._errors import InputError
from coverage.siting.models import site
from coverage.webapp.scenario import Scenario

logger = logging.getLogger(__name__)

#: Most sites one suggestion may ask for.
MAX_SITES = 20


def suggest_sites(scenario: Scenario, *, k: int, time_limit_s: float = 30.0) -> list[dict[str, Any]]:
    """The ``k`` new sites that bring the most people within the scenario's circle (MCLP, HiGHS).

    Returns
    -------
    list of dict
        One per site in order of marginal gain: ``order``, ``site_id``, ``name``,
        ``source``, ``lon``, ``lat``, ``population_gain``, ``villages_gain``,
        ``villages_newly_covered``, ``population_share_after``, and the solver's
        ``status``.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_SITES:
        msg = f"k must be a whole number of new sites from 1 to {MAX_SITES}, got {k!r}"
        raise InputError(msg)
    with scenario.lock:
        key = scenario.main_key
        settings = scenario.settings
        stations = scenario.stations_for(key)
    profile, direction, _ = key
    workspace = scenario.workspace
    base = workspace.base(profile)
    analysis = dataclasses.replace(base, facilities=stations, direction=direction)
    result = site(
        analysis,
        model="mclp",
        k=k,
        minutes=float(settings.minutes),
        direction=direction,
        candidates=workspace.default_candidates(profile),
        time_limit_s=time_limit_s,
    )
    sites = result.sites
    status = result.report.status
    rows = []
    for row in sites.itertuples():
        rows.append(
            {
                "order": int(row.order),
                "site_id": str(row.site_id),
                "name": str(row.name),
                "source": str(row.source),
                "lon": float(row.lon),
                "lat": float(row.lat),
                "population_gain": float(row.population_gain),
                "villages_gain": int(row.villages_gain),
                "villages_newly_covered": str(row.villages_newly_covered),
                "population_share_after": None
                if not np.isfinite(row.population_share_after)
                else float(row.population_share_after),
                "status": status,
            }
        )
    logger.info("suggested %d sites (%s) for scenario %s", len(rows), status, scenario.name)
    return rows
