"""Proposals: where N ambulances (and K new stations) should be based, simulated before and after.

:func:`allocate` builds the coverage pattern of today's stations (and, when
siting, of candidate sites) over the calls' places within the threshold, solves
the MEXCLP on HiGHS (:mod:`coverage.ems.allocation`) with the busy fraction of
today's load, and simulates the region with today's fleet and with the proposal
on the same calls (the same seed).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from coverage._errors import InputError
from coverage.analysis.result import Analysis
from coverage.ems.allocation import Allocation, allocate_ambulances
from coverage.ems.fleet import SORT_COLUMNS
from coverage.ems.run import EmsResult, attach, ems_availability
from coverage.network.routing import pair_seconds
from coverage.network.snapping import Attachment


@dataclass(frozen=True)
class Proposal:
    """Where the ambulances (and new stations) should go, and the region before and after.

    Attributes
    ----------
    allocation : Allocation
        The MEXCLP solution over the existing stations and, when siting, the candidates.
    stations : geopandas.GeoDataFrame
        Per station of the proposal (existing, then new ones): ``ambulances_before``,
        ``ambulances_after``, ``new`` (a new site), ``source``.
    before, after : EmsResult
        The region simulated with today's fleet and with the proposal, on the same calls.
    requested_new_stations : int
        New stations asked for (the MEXCLP may open fewer when more add nothing).
    """

    allocation: Allocation
    stations: gpd.GeoDataFrame
    before: EmsResult
    after: EmsResult
    requested_new_stations: int = 0

    def comparison(self) -> pd.DataFrame:
        """The headline figures before and after (rows: figures; columns: before, after)."""
        rows = []
        for name in (
            "in_time_share",
            "dispatched_without_wait_share",
            "waited_share",
            "mean_response_minutes",
            "p90_response_minutes",
            "utilisation",
        ):
            rows.append({"figure": name, "before": self.before.figure(name), "after": self.after.figure(name)})
        rows.append(
            {
                "figure": "expected_in_time_share",
                "before": self.before.estimates.expected_in_time_share,
                "after": self.after.estimates.expected_in_time_share,
            }
        )
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        return {
            "solver": self.allocation.report.as_dict(),
            "stations": pd.DataFrame(self.stations.drop(columns="geometry")).to_dict(orient="records"),
            "comparison": self.comparison().to_dict(orient="records"),
        }


def allocate(
    analysis: Analysis,
    *,
    ambulances: int | None = None,
    new_stations: int = 0,
    candidates: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    max_per_station: int | None = None,
    min_per_station: int = 0,
    time_limit_s: float = 60.0,
    **options: Any,
) -> Proposal:
    """Allocate ambulances to stations (and choose new stations) by MEXCLP expected coverage.

    Parameters
    ----------
    analysis : Analysis
        From ``analyze(..., ems=True)``.
    ambulances : int, optional
        Ambulances to place; default today's fleet.
    new_stations : int
        New stations to open among ``candidates`` (0: only today's stations).
    candidates : GeoDataFrame or path, optional
        Candidate sites for new stations; default road points and villages
        (:func:`coverage.siting.models.default_candidates`).
    max_per_station : int, optional
        Most ambulances at one station (default: no limit).
    min_per_station : int
        Fewest ambulances at each existing station (e.g. 1 to keep every station staffed).
    time_limit_s : float
        HiGHS time limit.
    **options
        Passed to :func:`~coverage.ems.run.ems_availability` for both simulations (threshold_minutes, replications, seed,
        service, calls_per_1000, call_records...).

    Returns
    -------
    Proposal
    """
    before = ems_availability(analysis, **options)
    total = before.fleet.total if ambulances is None else ambulances
    threshold = before.threshold_minutes
    limit_s = threshold * 60.0 - before.service.dispatch_minutes * 60.0
    weights = before.demand.points["calls_per_year"].to_numpy(dtype=np.float64)
    existing = before.scenario.base_to_point_s.T  # stations x points
    rows = [sp.csr_matrix(existing <= limit_s)]
    new_frame = None
    if new_stations:
        new_frame, new_att = _candidate_sites(analysis, candidates)
        seconds = pair_seconds(
            analysis.network,
            new_att,
            before.demand.attachment,
            direction="from_facility",
            cutoff_minutes=max(limit_s / 60.0, 1e-6),
        )
        within = seconds.copy()
        within.data = within.data <= limit_s
        within.eliminate_zeros()
        rows.append(within.astype(bool))
    cover = sp.vstack(rows, format="csr")
    n_existing = existing.shape[0]
    fixed = np.zeros(cover.shape[0], dtype=bool)
    fixed[:n_existing] = True
    minimum = np.zeros(cover.shape[0], dtype=np.int64)
    minimum[:n_existing] = min_per_station
    # the busy fraction of the proposal's fleet, from today's load
    busy = min(before.estimates.offered_load_erlangs / total, 0.99) if total else 0.0
    allocation = allocate_ambulances(
        cover,
        weights,
        ambulances=total,
        busy=busy,
        capacity=total if max_per_station is None else max_per_station,
        minimum=minimum,
        fixed_open=fixed if new_stations else None,
        new_sites=new_stations if new_stations else None,
        time_limit_s=time_limit_s,
    )
    counts = allocation.ambulances
    if new_frame is None:
        after = ems_availability(analysis, ambulances=counts[:n_existing], **options)
        table = before.fleet.stations.assign(
            ambulances_before=before.fleet.ambulances, ambulances_after=counts, new=False
        )
    else:
        chosen = np.flatnonzero(counts[n_existing:] > 0)
        opened = new_frame.iloc[chosen]
        after = _ems_with_new_stations(
            analysis, before, opened, counts[:n_existing], counts[n_existing:][chosen], options
        )
        old = before.fleet.stations.assign(
            ambulances_before=before.fleet.ambulances, ambulances_after=counts[:n_existing], new=False
        )
        added = gpd.GeoDataFrame(
            {
                "id": opened["id"].astype(str).to_numpy(),
                "name": opened["name"].astype(str).to_numpy(),
                "kind": "ems",
                "ambulances_before": 0,
                "ambulances_after": counts[n_existing:][chosen],
                "new": True,
            },
            geometry=opened.geometry.to_numpy(),
            crs=4326,
        )
        table = pd.concat([old, added], ignore_index=True)
    columns = [
        c for c in ("id", "name", "kind", "ambulances_before", "ambulances_after", "new", "geometry") if c in table
    ]
    stations = gpd.GeoDataFrame(table[columns], geometry="geometry", crs=4326)
    stations["lon"] = stations.geometry.x.round(6)
    stations["lat"] = stations.geometry.y.round(6)
    return Proposal(
        allocation=allocation, stations=stations, before=before, after=after, requested_new_stations=new_stations
    )


def _candidate_sites(
    analysis: Analysis, candidates: gpd.GeoDataFrame | str | os.PathLike[str] | None
) -> tuple[gpd.GeoDataFrame, Attachment]:
    from coverage.siting.candidates import candidates_from
    from coverage.siting.models import default_candidates

    profile = analysis.profile
    if candidates is None:
        frame = default_candidates(analysis)
    elif isinstance(candidates, gpd.GeoDataFrame) and "off_network" in candidates:
        frame = candidates
    else:
        frame = candidates_from(
            candidates,
            network=analysis.network,
            kind="file",
            access_speed_kph=profile.access_speed_kph,
            tolerance_m=profile.snap_tolerance_m,
        )
    keep = ~(frame["off_network"].to_numpy(dtype=bool) | frame["excluded"].to_numpy(dtype=bool))
    frame = frame[keep].reset_index(drop=True)
    if frame.empty:
        msg = "no candidate sites for new stations (all off the roads or excluded); give other candidates."
        raise InputError(msg)
    return frame, attach(analysis, frame)


def _ems_with_new_stations(
    analysis: Analysis,
    before: EmsResult,
    opened: gpd.GeoDataFrame,
    existing_counts: np.ndarray,
    new_counts: np.ndarray,
    options: dict[str, Any],
) -> EmsResult:
    """The region simulated with the new stations added to the facilities (kind ``ems``)."""
    added = gpd.GeoDataFrame(
        {
            "id": opened["id"].astype(str).to_numpy(),
            "name": opened["name"].astype(str).to_numpy(),
            "kind": "ems",
            "ambulances": new_counts,
        },
        geometry=opened.geometry.to_numpy(),
        crs=4326,
    )
    # the proposal's counts everywhere: the stations' own column may be missing (assumed counts)
    existing = analysis.facilities.assign(ambulances=existing_counts).drop(columns=list(SORT_COLUMNS), errors="ignore")
    facilities = pd.concat([existing, added], ignore_index=True)
    extended = dataclasses.replace(
        analysis,
        facilities=gpd.GeoDataFrame(facilities, geometry="geometry", crs=4326),
        attachments={k: v for k, v in analysis.attachments.items() if k != "facilities"},
    )
    options = {**options, "hospitals": options.get("hospitals", before.hospitals)}
    return ems_availability(extended, ambulances=np.concatenate([existing_counts, new_counts]), **options)
