"""Siting new facilities: where the next stations should go, on the engine's travel times.

The flow:

1. candidate sites (:mod:`coverage.siting.candidates`): points along the roads, villages,
   a planner's list; flagged ones (off the roads, in the exclusion layer) are left
   out and counted;
2. ONE coverage matrix (:func:`coverage_matrix`): travel times from every candidate
   and every existing facility to every demand point (villages or raster cells) up
   to a cutoff, from bounded searches on the prepared network's arrays;
3. a location model on that matrix (:mod:`coverage.siting.solvers`): LSCP, MCLP, backup
   coverage or p-median, solved exactly with HiGHS or greedily;
4. a :class:`SitingResult`: the chosen sites in order of marginal gain with the
   people and villages each newly covers, the solver report, what was left out
   and what no site can reach, and a trade-off table of coverage against the
   number of new stations.

Existing facilities are already open: they stay in every solution unless freed.
Travel is timed station → place (``from_facility``, the EMS trip) by default.
"Within T minutes" means ``seconds <= T * 60`` as everywhere in the package.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from coverage._errors import InputError
from coverage.analysis.labels import place_phrases
from coverage.analysis.result import Analysis
from coverage.analysis.zones import assign_zones
from coverage.io.points import PointColumns
from coverage.network.routing import nearest_facility, pair_seconds, reach_points
from coverage.network.snapping import Attachment, attach_points
from coverage.siting.candidates import (
    CANDIDATE_COLUMNS,
    DEFAULT_SPACING_M,
    Exclusion,
    candidates_from,
    combine_candidates,
    exclusion_area,
    road_candidates,
)
from coverage.siting.solvers import (
    MODELS,
    SolverReport,
    greedy_order,
    solve_backup,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
)

logger = logging.getLogger(__name__)

#: Default cap of p-median times, as a multiple of the largest coverage threshold.
PMEDIAN_CUTOFF_FACTOR = 2.0

Minutes: TypeAlias = float | Mapping[str, float] | Callable[[gpd.GeoDataFrame], Any] | np.ndarray | Sequence[float]


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class CoverageMatrix:
    """Travel times from candidate sites (and existing facilities) to demand points, up to a cutoff.

    Attributes
    ----------
    candidate_ids : numpy.ndarray
        str id of each row: candidates kept, then existing facilities (``existing/<id>``).
    demand_ids : numpy.ndarray
        str id of each column (village or cell ids, in the analysis' order).
    weights : numpy.ndarray
        float64 population of each demand point (missing population counts 0).
    seconds : scipy.sparse.csr_matrix
        Candidates x demand; a stored entry is a pair within the cutoff, its value
        the seconds of the trip (an explicit 0.0 is a 0-second trip). Absent pairs
        are farther than the cutoff or unreachable.
    cutoff_minutes : float
    existing : numpy.ndarray
        bool per row: an existing facility (fixed open unless freed).
    direction : str
        ``from_facility`` (site → place) or ``to_facility`` (place → site).
    demand : str
        ``villages`` or ``cells``.
    candidates : geopandas.GeoDataFrame
        The rows' sites (candidate columns, WGS84), aligned with ``candidate_ids``.
    attachment : Attachment
        The rows' attachment to the network.
    dropped_candidates : dict
        Candidates left out, by reason (``off_network``, ``excluded``).
    """

    candidate_ids: np.ndarray
    demand_ids: np.ndarray
    weights: np.ndarray
    seconds: sp.csr_matrix
    cutoff_minutes: float
    existing: np.ndarray
    direction: str
    demand: str
    candidates: gpd.GeoDataFrame = field(repr=False)
    attachment: Attachment = field(repr=False)
    dropped_candidates: dict[str, int] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(candidates, demand points)."""
        return self.seconds.shape

    @property
    def minutes(self) -> sp.csr_matrix:
        """The same matrix with minutes as values."""
        return sp.csr_matrix((self.seconds.data / 60.0, self.seconds.indices, self.seconds.indptr), shape=self.shape)

    def covers(self, threshold_minutes: float | np.ndarray) -> sp.csr_matrix:
        """bool matrix: candidate i reaches demand point j within its threshold (``seconds <= T * 60``).

        Parameters
        ----------
        threshold_minutes : float or numpy.ndarray
            One threshold, or one per demand point; at most the cutoff.
        """
        limit_s = np.broadcast_to(np.asarray(threshold_minutes, dtype=np.float64), (self.shape[1],)) * 60.0
        if limit_s.max(initial=0.0) > self.cutoff_minutes * 60.0 + 1e-9:
            msg = (
                f"a threshold of {limit_s.max() / 60.0:g} min exceeds the matrix cutoff of "
                f"{self.cutoff_minutes:g} min; build the matrix with cutoff_minutes >= the largest threshold."
            )
            raise InputError(msg)
        within = self.seconds.data <= limit_s[self.seconds.indices]
        entry_row = np.repeat(np.arange(self.shape[0]), np.diff(self.seconds.indptr))
        return sp.csr_matrix(
            (np.ones(int(within.sum()), dtype=bool), (entry_row[within], self.seconds.indices[within])),
            shape=self.shape,
        )

    def table(self) -> pd.DataFrame:
        """The matrix in long format: ``candidate_id``, ``demand_id``, ``minutes``."""
        coo = self.seconds.tocoo()
        return pd.DataFrame(
            {
                "candidate_id": self.candidate_ids[coo.row],
                "demand_id": self.demand_ids[coo.col],
                "minutes": coo.data / 60.0,
            }
        )


def _prepare_candidates(
    analysis: Analysis, candidates: gpd.GeoDataFrame, *, existing: bool, exclude: Exclusion
) -> tuple[gpd.GeoDataFrame, Attachment, np.ndarray, dict[str, int]]:
    """Kept candidates and existing facilities, their attachment, the existing flags and the drop counts."""
    network, profile = analysis.network, analysis.profile
    # candidates and existing facilities are stations: their leg to the road is driven
    speed, tolerance = profile.facility_access_speed_kph, profile.snap_tolerance_m
    if any(column not in candidates for column in CANDIDATE_COLUMNS):
        candidates = candidates_from(
            candidates, network=network, kind="file", access_speed_kph=speed, tolerance_m=tolerance
        )
    frames = [_core_columns(candidates)]
    if existing:
        facilities = candidates_from(
            analysis.facilities, network=network, kind="existing", access_speed_kph=speed, tolerance_m=tolerance
        )
        # existing facilities given as candidates too are the open ones, not a second copy
        frames = [_core_columns(candidates[~candidates["id"].isin(facilities["id"])]), _core_columns(facilities)]
    frame = combine_candidates(*frames)
    attachment = attach_points(
        network, frame, access_speed_kph=speed, tolerance_m=tolerance, ids=frame["id"].to_numpy(str)
    )
    is_existing = (frame["source"] == "existing").to_numpy()
    # existing facilities stay whatever their flags: they are there already
    excluded = frame["excluded"].to_numpy(dtype=bool).copy()
    area = exclusion_area(exclude)
    if area is not None:
        excluded |= frame.geometry.within(area).to_numpy()
    excluded &= ~is_existing
    off = attachment.off_network & ~excluded & ~is_existing
    dropped = {"excluded": int(excluded.sum()), "off_network": int(off.sum())}
    keep = ~(excluded | off)
    if (~keep).any():
        logger.warning(
            "left out %d of %d candidate sites: %d in the exclusion layer, %d more than %.0f m from a road",
            int((~keep).sum()),
            int((~is_existing).sum()),
            dropped["excluded"],
            dropped["off_network"],
            tolerance,
        )
    if not (keep & ~is_existing).any():
        if is_existing.all():
            msg = (
                "every candidate is an existing facility, which is open already, so there is nothing to choose. "
                "To upgrade existing facilities, give them as ordinary candidates (candidates_from(..., kind='file')), "
                "or let the model choose among all facilities with free_existing=True."
            )
        else:
            msg = "no candidate sites left (all were off the roads or excluded); give other candidates or a smaller exclusion layer."
        raise InputError(msg)
    return frame[keep].reset_index(drop=True), attachment.subset(keep), is_existing[keep], dropped


def _core_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The candidate columns, ``source_id`` (the id without its prefix when absent) and the geometry."""
    core = frame[[*CANDIDATE_COLUMNS, "geometry"]].copy()
    ids = frame["id"].astype(str)
    core.insert(
        len(CANDIDATE_COLUMNS),
        "source_id",
        frame["source_id"] if "source_id" in frame else ids.str.split("/", n=1).str[-1],
    )
    return core


def _attached(analysis: Analysis, frame: gpd.GeoDataFrame, what: str) -> Attachment:
    """The analysis' own attachment of its villages or cells (``what``), else the points attached anew."""
    ids = frame["id"].to_numpy(str)
    known = analysis.attachments.get(what)
    same = (
        known is not None
        and len(known) == len(frame)
        and "snap_distance_m" in frame
        and np.array_equal(known.snap_distance_m, frame["snap_distance_m"].to_numpy(dtype=float))
    )
    if known is not None and same:
        return dataclasses.replace(known, ids=ids)
    profile = analysis.profile
    return attach_points(
        analysis.network,
        frame,
        access_speed_kph=profile.access_speed_kph,
        tolerance_m=profile.snap_tolerance_m,
        ids=ids,
    )


def _demand_frame(analysis: Analysis, demand: str) -> gpd.GeoDataFrame:
    if demand == "villages":
        return analysis.villages
    if demand == "cells":
        if analysis.cells is None:
            msg = "demand='cells' needs a population raster in the analysis (analyze(population=...)); or use demand='villages'."
            raise InputError(msg)
        return analysis.cells
    msg = f"demand must be 'villages' or 'cells', got {demand!r}"
    raise InputError(msg)


def _weights(frame: gpd.GeoDataFrame, demand: str) -> np.ndarray:
    population = pd.to_numeric(frame["population"], errors="coerce").to_numpy(dtype=np.float64)
    missing = ~np.isfinite(population)
    if missing.all() and len(population):
        logger.warning("no %s has a population: every one weighs 1 (covering %s, not people)", demand, demand)
        return np.ones(len(population))
    if missing.any():
        logger.warning("%d of %d %s have no population and weigh 0", int(missing.sum()), len(population), demand)
    return np.where(missing, 0.0, np.maximum(population, 0.0))


def coverage_matrix(
    analysis: Analysis,
    candidates: gpd.GeoDataFrame,
    *,
    cutoff_minutes: float,
    demand: str = "villages",
    direction: str = "from_facility",
    existing: bool = True,
    exclude: Exclusion = None,
) -> CoverageMatrix:
    """Build the coverage matrix of candidate sites (and existing facilities) over the demand points.

    Parameters
    ----------
    analysis : Analysis
        The region's network, profile, facilities, villages and cells.
    candidates : GeoDataFrame
        Candidate sites, e.g. from :func:`~coverage.siting.candidates.road_candidates`
        (a plain point frame is read as a planner's list). Flagged ones
        (``off_network``, ``excluded``) are left out and counted.
    cutoff_minutes : float
        Longest trip kept (at least the largest threshold of the models to run).
    demand : {"villages", "cells"}
        Demand points: the analysis' villages, or its populated raster cells.
    direction : {"from_facility", "to_facility"}
        Trips from the site to the place (EMS), or from the place to the site.
    existing : bool
        Add the analysis' facilities as rows ``existing/<id>`` (always kept, even off the roads).
    exclude : shapely geometry, GeoDataFrame, GeoSeries or path, optional
        Polygons where no new site may go.

    Returns
    -------
    CoverageMatrix
    """
    started = time.perf_counter()
    frame = _demand_frame(analysis, demand)
    sites, site_att, is_existing, dropped = _prepare_candidates(
        analysis, candidates, existing=existing, exclude=exclude
    )
    demand_att = _attached(analysis, frame, demand)
    seconds = pair_seconds(analysis.network, site_att, demand_att, direction=direction, cutoff_minutes=cutoff_minutes)
    seconds = _with_offroad(analysis, sites, frame, demand_att, seconds, cutoff_minutes=cutoff_minutes)
    matrix = CoverageMatrix(
        candidate_ids=sites["id"].to_numpy(str),
        demand_ids=frame["id"].to_numpy(str),
        weights=_weights(frame, demand),
        seconds=seconds,
        cutoff_minutes=float(cutoff_minutes),
        existing=is_existing,
        direction=direction,
        demand=demand,
        candidates=sites,
        attachment=site_att,
        dropped_candidates=dropped,
    )
    logger.info(
        "coverage matrix: %d sites (%d existing) x %d %s, %d pairs within %g min, %.2f s",
        len(sites),
        int(is_existing.sum()),
        len(frame),
        demand,
        seconds.nnz,
        cutoff_minutes,
        time.perf_counter() - started,
    )
    return matrix


def _with_offroad(
    analysis: Analysis,
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    demand_att: Attachment,
    seconds: sp.csr_matrix,
    *,
    cutoff_minutes: float,
) -> sp.csr_matrix:
    """The network times with the straight off-road trips between close sites and places, as the analysis times them."""
    from coverage.network.offroad import offroad_pairs, sparse_minimum

    crs = analysis.network.crs
    straight = offroad_pairs(
        shapely.get_coordinates(shapely.point_on_surface(np.asarray(sites.geometry.to_crs(crs).values))),
        shapely.get_coordinates(shapely.point_on_surface(np.asarray(demand.geometry.to_crs(crs).values))),
        speed_kph=analysis.profile.access_speed_kph,
        max_distance_m=np.maximum(analysis.profile.snap_tolerance_m, demand_att.snap_distance_m),
        cutoff_s=cutoff_minutes * 60.0,
    )
    return sparse_minimum(seconds, straight) if straight.nnz else seconds


def default_candidates(
    analysis: Analysis, *, spacing_m: float = DEFAULT_SPACING_M, exclude: Exclusion = None
) -> gpd.GeoDataFrame:
    """Road points every ``spacing_m`` plus the villages: the candidate sites :func:`site` uses by default.

    A road point is named by its road class and where it is: ``secondary road, 1.2 km NE
    of Fomboni, Mwali``; its id (``road/252``) stays in ``id``.
    """
    profile = analysis.profile
    roads = road_candidates(analysis.network, spacing_m=spacing_m, exclude=exclude)
    if len(roads):
        zones = assign_zones(roads, analysis.zones).to_numpy()
        places = place_phrases(roads, analysis.villages, crs=analysis.network.crs, zones=zones)
        roads["name"] = [f"{highway} road, {place}" for highway, place in zip(roads["highway"], places, strict=True)]
    villages = candidates_from(
        analysis.villages,
        network=analysis.network,
        kind="village",
        exclude=exclude,
        access_speed_kph=profile.facility_access_speed_kph,
        tolerance_m=profile.snap_tolerance_m,
    )
    return combine_candidates(roads, villages)


# --------------------------------------------------------------------------- thresholds


def demand_thresholds(frame: gpd.GeoDataFrame, minutes: Minutes, *, zone_column: str = "zone") -> np.ndarray:
    """Threshold in minutes of each demand point.

    Parameters
    ----------
    frame : GeoDataFrame
        The demand points (``analysis.villages`` or ``analysis.cells``).
    minutes : float, mapping, callable or array
        One threshold for all; a mapping from the values of ``zone_column`` to
        minutes (key ``"*"`` for every other value), e.g. ``{"central": 10,
        "urban": 15, "*": 30}``; a function of the frame returning one value per
        row; or one value per row.
    zone_column : str
        Column the mapping's keys refer to.

    Returns
    -------
    numpy.ndarray
        float64 minutes per row, all positive.
    """
    if isinstance(minutes, Mapping):
        if zone_column not in frame:
            msg = f"thresholds by zone need a {zone_column!r} column in the demand points; columns are {', '.join(map(str, frame.columns))}."
            raise InputError(msg)
        zones = frame[zone_column].astype(str).to_numpy()
        table = {str(key): float(value) for key, value in minutes.items()}
        unknown = sorted(set(zones) - set(table))
        if unknown and "*" not in table:
            msg = f"no threshold for the {zone_column} values {unknown[:5]}; add them to the mapping or give a default with key '*'."
            raise InputError(msg)
        values = np.array([table.get(zone, table.get("*", np.nan)) for zone in zones], dtype=np.float64)
    elif callable(minutes):
        values = np.asarray(minutes(frame), dtype=np.float64)
    else:
        values = np.broadcast_to(np.asarray(minutes, dtype=np.float64), (len(frame),)).copy()
    if values.shape != (len(frame),):
        msg = f"thresholds: need one value per demand point ({len(frame)}), got shape {values.shape}"
        raise InputError(msg)
    if not (np.isfinite(values).all() and (values > 0).all()):
        bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
        msg = f"thresholds must be positive minutes; rows {bad[:5].tolist()} have {values[bad[:5]].tolist()}"
        raise InputError(msg)
    return values


def _describe(minutes: Minutes) -> str | float | dict[str, float]:
    if isinstance(minutes, Mapping):
        return {str(k): float(v) for k, v in minutes.items()}
    if isinstance(minutes, int | float | np.integer | np.floating):
        return float(minutes)
    return "per demand point"


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class SitingResult:
    """Where new sites should go, and what they bring.

    Attributes
    ----------
    model : str
        ``lscp``, ``mclp``, ``backup`` or ``pmedian``.
    sites : geopandas.GeoDataFrame
        The sites the model opened (not the fixed existing ones), WGS84, in order
        of marginal gain: ``site_id``, ``name``, ``source`` (road, village, file,
        existing), ``source_id`` (the id in its source), ``order`` (1 = largest gain), ``objective_gain`` (the model's
        own gain: people newly within the threshold for LSCP/MCLP, newly covered
        twice for backup, person-minutes saved for the p-median),
        ``population_gain`` and ``villages_gain`` (newly within the threshold),
        ``villages_newly_covered`` (their names), ``population_covered_after``,
        ``population_share_after``, ``villages_covered_after`` (with the sites up
        to this one and the existing ones), ``minutes_to_nearest_existing``,
        ``snap_distance_m``, ``lon``, ``lat``, ``geometry``.
    report : SolverReport
        Model, solver, status, objective, best bound, gap, seconds.
    demand : str
        ``villages`` or ``cells``: what the population figures count.
    minutes : float, dict or str
        The thresholds as given (a number, a mapping by zone, or "per demand point").
    population_total, population_covered_before, population_covered_after : float
        People in the demand points; within their threshold of the existing
        facilities; and with the new sites too.
    villages_total, villages_covered_before, villages_covered_after : int
    dropped_candidates : dict
        Candidates left out, by reason (``off_network``, ``excluded``).
    unreachable : geopandas.GeoDataFrame
        Demand points no candidate and no existing facility reaches within their
        threshold: ``id``, ``name``, ``population``, ``zone``, ``minutes_threshold``,
        ``off_network``, ``small_piece``, ``geometry``.
    closed_existing : list of str
        Existing facilities the model did not keep (only with ``free_existing``).
    tradeoff : pandas.DataFrame or None
        Covered population (MCLP) for 0..K new sites: ``new_sites``,
        ``population_covered``, ``population_share``, ``population_gain``,
        ``villages_covered``, ``status``, ``gap``, ``solver``.
    matrix : CoverageMatrix
        The matrix solved on, to reuse with ``site(..., matrix=...)``.
    """

    model: str
    sites: gpd.GeoDataFrame
    report: SolverReport
    demand: str
    minutes: str | float | dict[str, float]
    population_total: float
    population_covered_before: float
    population_covered_after: float
    villages_total: int
    villages_covered_before: int
    villages_covered_after: int
    dropped_candidates: dict[str, int]
    unreachable: gpd.GeoDataFrame
    closed_existing: list[str]
    tradeoff: pd.DataFrame | None
    matrix: CoverageMatrix = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """Headline figures, the solver report and the sites (JSON-ready)."""
        share = self.population_covered_after / self.population_total if self.population_total else None
        return {
            "model": self.model,
            "new_sites": len(self.sites),
            "minutes": self.minutes,
            "demand": self.demand,
            "direction": self.matrix.direction,
            "solver": self.report.as_dict(),
            "population_total": round(self.population_total, 1),
            "population_covered_before": round(self.population_covered_before, 1),
            "population_covered_after": round(self.population_covered_after, 1),
            "population_share_after": share,
            "villages_total": self.villages_total,
            "villages_covered_before": self.villages_covered_before,
            "villages_covered_after": self.villages_covered_after,
            "dropped_candidates": self.dropped_candidates,
            "unreachable": {
                "points": len(self.unreachable),
                "population": round(float(self.unreachable["population"].sum()), 1),
                "first": self.unreachable["name"].astype(str).head(20).tolist(),
            },
            "closed_existing": self.closed_existing,
            "sites": pd.DataFrame(self.sites.drop(columns="geometry")).to_dict(orient="records"),
            "tradeoff": None if self.tradeoff is None else self.tradeoff.to_dict(orient="records"),
        }


def _covered(cover_by_demand: sp.csr_matrix, is_open: np.ndarray) -> np.ndarray:
    """bool per demand point: at least one open row covers it (``cover_by_demand`` is demand x sites)."""
    return np.asarray(cover_by_demand @ is_open.astype(np.float64)).ravel() > 0


def _unreachable(
    frame: gpd.GeoDataFrame, cover: sp.csr_matrix, weights: np.ndarray, thresholds: np.ndarray, demand: str
) -> gpd.GeoDataFrame:
    reachable = np.zeros(cover.shape[1], dtype=bool)
    reachable[cover.indices] = True
    rows = frame[~reachable]
    names = rows["name"].astype(str) if "name" in rows else rows["id"].astype(str)
    names = names.where(names.str.strip() != "", rows["id"].astype(str))
    result = gpd.GeoDataFrame(
        {
            "id": rows["id"].astype(str).to_numpy(),
            "name": names.to_numpy(),
            "population": weights[~reachable],
            "zone": rows["zone"].to_numpy() if "zone" in rows else "",
            "minutes_threshold": thresholds[~reachable],
            "off_network": rows["off_network"].to_numpy(dtype=bool) if "off_network" in rows else False,
            "small_piece": rows["small_piece"].to_numpy(dtype=bool) if "small_piece" in rows else False,
        },
        geometry=rows.geometry.to_numpy(),
        crs=4326,
    )
    if len(result):
        # raster cells have no names worth listing; villages do
        listed = (
            "" if demand == "cells" else ": " + ", ".join(result["name"].head(5)) + (" ..." if len(result) > 5 else "")
        )
        logger.warning(
            "%s %s (%s people) are beyond reach of every candidate and existing facility within their threshold%s",
            f"{len(result):,}",
            "populated raster cells" if demand == "cells" else demand,
            f"{float(result['population'].sum()):,.0f}",
            listed,
        )
    return result


def _solve_model(
    model: str,
    matrix: CoverageMatrix,
    cover: sp.csr_matrix,
    fixed: np.ndarray,
    *,
    k: int,
    penalty_minutes: float,
    solver: str,
    time_limit_s: float,
) -> tuple[np.ndarray, SolverReport]:
    if model == "lscp":
        solution = solve_lscp(cover, fixed=fixed, solver=solver, time_limit_s=time_limit_s)
    elif model == "mclp":
        solution = solve_mclp(cover, matrix.weights, k=k, fixed=fixed, solver=solver, time_limit_s=time_limit_s)
    elif model == "backup":
        solution = solve_backup(cover, matrix.weights, k=k, fixed=fixed, solver=solver, time_limit_s=time_limit_s)
    else:
        solution = solve_pmedian(
            matrix.minutes,
            matrix.weights,
            k=k,
            penalty_minutes=penalty_minutes,
            fixed=fixed,
            solver=solver,
            time_limit_s=time_limit_s,
        )
    return solution.chosen, solution.report


def _tradeoff(
    matrix: CoverageMatrix,
    cover: sp.csr_matrix,
    fixed: np.ndarray,
    village_cover_t: sp.csr_matrix,
    *,
    k_max: int,
    solver: str,
    time_limit_s: float,
) -> pd.DataFrame:
    """MCLP for 0..k_max new sites on the same matrix."""
    rows = []
    total = float(matrix.weights.sum())
    previous = None
    for k in range(0, k_max + 1):
        solution = solve_mclp(cover, matrix.weights, k=k, fixed=fixed, solver=solver, time_limit_s=time_limit_s)
        covered = solution.report.objective
        rows.append(
            {
                "new_sites": k,
                "population_covered": round(covered, 1),
                "population_share": covered / total if total else None,
                "population_gain": None if previous is None else round(covered - previous, 1),
                "villages_covered": int(_covered(village_cover_t, solution.open).sum()),
                "status": solution.report.status,
                "gap": solution.report.gap,
                "solver": solution.report.solver,
            }
        )
        previous = covered
    return pd.DataFrame(rows)


def _site_table(
    analysis: Analysis,
    matrix: CoverageMatrix,
    order: np.ndarray,
    gains: np.ndarray,
    cover: sp.csr_matrix,
    village_cover: sp.csr_matrix,
    covered: np.ndarray,
    village_covered: np.ndarray,
) -> gpd.GeoDataFrame:
    """One row per opened site, in order, with what each adds to the points already ``covered``."""
    villages = analysis.villages
    names = villages["name"].astype(str).to_numpy()
    names = np.where(np.char.strip(names.astype(str)) != "", names, villages["id"].astype(str).to_numpy())
    total = float(matrix.weights.sum())
    covered, village_covered = covered.copy(), village_covered.copy()
    records = []
    for position, row in enumerate(order, start=1):
        reached = cover.indices[cover.indptr[row] : cover.indptr[row + 1]]
        new = reached[~covered[reached]]
        covered[new] = True
        reached_villages = village_cover.indices[village_cover.indptr[row] : village_cover.indptr[row + 1]]
        new_villages = np.unique(reached_villages[~village_covered[reached_villages]])
        village_covered[new_villages] = True
        after = float(matrix.weights[covered].sum())
        records.append(
            {
                "order": position,
                "objective_gain": float(gains[position - 1]),
                "population_gain": float(matrix.weights[new].sum()),
                "villages_gain": len(new_villages),
                "villages_newly_covered": "; ".join(names[new_villages]),
                "population_covered_after": after,
                "population_share_after": after / total if total else np.nan,
                "villages_covered_after": int(village_covered.sum()),
            }
        )
    chosen = matrix.candidates.iloc[order].reset_index(drop=True)
    table = pd.DataFrame(records, columns=list(_SITE_FIGURES))
    table.insert(0, "site_id", chosen["id"].to_numpy())
    table.insert(1, "name", chosen["name"].to_numpy())
    table.insert(2, "source", chosen["source"].to_numpy())
    table.insert(3, "source_id", chosen["source_id"].astype(str).to_numpy())
    table["minutes_to_nearest_existing"] = _minutes_to_existing(analysis, matrix, order)
    table["snap_distance_m"] = chosen["snap_distance_m"].to_numpy(dtype=np.float64)
    table["lon"] = chosen.geometry.x.round(6).to_numpy()
    table["lat"] = chosen.geometry.y.round(6).to_numpy()
    return gpd.GeoDataFrame(table, geometry=chosen.geometry.to_numpy(), crs=4326)


_SITE_FIGURES = (
    "order",
    "objective_gain",
    "population_gain",
    "villages_gain",
    "villages_newly_covered",
    "population_covered_after",
    "population_share_after",
    "villages_covered_after",
)


def _minutes_to_existing(analysis: Analysis, matrix: CoverageMatrix, rows: np.ndarray) -> np.ndarray:
    """Minutes from the nearest existing facility to each site (in the matrix' direction)."""
    existing = np.flatnonzero(matrix.existing)
    if len(existing) == 0 or len(rows) == 0:
        return np.full(len(rows), np.nan)
    reach = nearest_facility(
        analysis.network,
        matrix.attachment.subset(existing),
        direction=matrix.direction,  # type: ignore[arg-type]
    )
    seconds, _ = reach_points(analysis.network, reach, matrix.attachment.subset(rows))
    return np.where(np.isfinite(seconds), seconds / 60.0, np.nan)


def site(
    analysis: Analysis,
    *,
    model: str = "mclp",
    k: int | None = None,
    minutes: Minutes = 30.0,
    zone_column: str = "zone",
    candidates: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    candidate_columns: PointColumns | None = None,
    candidates_datum: str = "wgs84",
    spacing_m: float = DEFAULT_SPACING_M,
    exclude: Exclusion = None,
    free_existing: bool = False,
    demand: str | None = None,
    direction: str = "from_facility",
    cutoff_minutes: float | None = None,
    time_limit_s: float = 60.0,
    solver: str = "auto",
    tradeoff_k: int | None = None,
    matrix: CoverageMatrix | None = None,
) -> SitingResult:
    """Choose sites for new facilities with a location model on the engine's travel times.

    Parameters
    ----------
    analysis : Analysis
        The region (network, profile, existing facilities, villages, cells).
    model : {"mclp", "lscp", "backup", "pmedian"}
        ``mclp``: the ``k`` new sites covering the most people within the
        threshold; ``lscp``: the fewest new sites covering every reachable demand
        point; ``backup``: the ``k`` new sites maximising the people covered
        twice; ``pmedian``: the ``k`` new sites minimising people x minutes to
        the nearest site (minutes capped at the cutoff).
    k : int, optional
        New sites to open (not for ``lscp``).
    minutes : float, mapping, callable or array
        Threshold(s) in minutes, see :func:`demand_thresholds`: e.g. ``30``, or
        ``{"central": 10, "urban": 15, "*": 30}`` by ``zone_column``.
    zone_column : str
        Column of the demand points the mapping's keys refer to.
    candidates : GeoDataFrame or path, optional
        Candidate sites; default road points every ``spacing_m`` plus the villages.
        A path is read as a planner's point list (:func:`~coverage.siting.candidates.candidates_from`).
    candidate_columns : PointColumns, optional
        Which columns of a candidate file hold the coordinates, id and name.
    candidates_datum : {"wgs84", "gcj02", "bd09"}
        The datum of a candidate file.
    spacing_m : float
        Spacing of the default road candidates.
    exclude : shapely geometry, GeoDataFrame, GeoSeries or path, optional
        Polygons where no new site may go.
    free_existing : bool
        Let the model close existing facilities (they become ordinary candidates
        and count towards ``k``); by default they stay open.
    demand : {"cells", "villages"}, optional
        Demand points; default the raster cells when the analysis has them.
    direction : {"from_facility", "to_facility"}
        Trips from the site (EMS, default) or to the site (reaching care).
    cutoff_minutes : float, optional
        Longest trip in the matrix; default the largest threshold (coverage models)
        or twice it (p-median, whose times are capped there).
    time_limit_s : float
        Time limit of the solver.
    solver : {"auto", "highs", "greedy"}
        Exact MILP (HiGHS), greedy, or HiGHS unless the model is very large.
    tradeoff_k : int, optional
        Also tabulate the MCLP coverage for 0..``tradeoff_k`` new sites.
    matrix : CoverageMatrix, optional
        A matrix built before (for the same analysis) to reuse; ``candidates``,
        ``exclude``, ``demand``, ``direction`` and ``cutoff_minutes`` are then ignored.

    Returns
    -------
    SitingResult
    """
    if model not in MODELS:
        msg = f"model must be one of {MODELS}, got {model!r}"
        raise InputError(msg)
    if model == "lscp" and k is not None:
        msg = "model='lscp' finds the number of sites itself; leave k out (or use model='mclp' for a given k)."
        raise InputError(msg)
    if model != "lscp" and (k is None or k < 1):
        msg = f"model={model!r} needs k, the number of new sites (>= 1), got {k!r}"
        raise InputError(msg)
    if tradeoff_k is not None and (isinstance(tradeoff_k, bool) or int(tradeoff_k) != tradeoff_k or tradeoff_k < 1):
        msg = f"tradeoff_k must be a whole number of new sites >= 1, got {tradeoff_k!r}"
        raise InputError(msg)
    if matrix is None:
        demand = demand or ("cells" if analysis.cells is not None else "villages")
        frame = _demand_frame(analysis, demand)
        thresholds = demand_thresholds(frame, minutes, zone_column=zone_column)
        largest = float(thresholds.max()) if len(thresholds) else 1.0
        cutoff = cutoff_minutes or (largest * PMEDIAN_CUTOFF_FACTOR if model == "pmedian" else largest)
        if candidates is None:
            candidate_frame = default_candidates(analysis, spacing_m=spacing_m, exclude=exclude)
        elif isinstance(candidates, gpd.GeoDataFrame):
            candidate_frame = candidates
        else:
            profile = analysis.profile
            candidate_frame = candidates_from(
                candidates,
                network=analysis.network,
                kind="file",
                exclude=exclude,
                datum=candidates_datum,
                columns=candidate_columns,
                access_speed_kph=profile.facility_access_speed_kph,
                tolerance_m=profile.snap_tolerance_m,
            )
        matrix = coverage_matrix(
            analysis, candidate_frame, cutoff_minutes=cutoff, demand=demand, direction=direction, exclude=exclude
        )
    else:
        frame = _demand_frame(analysis, matrix.demand)
        if len(frame) != matrix.shape[1]:
            msg = f"the matrix has {matrix.shape[1]} demand points but the analysis has {len(frame)} {matrix.demand}; build the matrix from this analysis."
            raise InputError(msg)
        thresholds = demand_thresholds(frame, minutes, zone_column=zone_column)
    if matrix.direction != analysis.direction:
        logger.info("siting times trips %s; the analysis' own figures are %s", matrix.direction, analysis.direction)
    village_thresholds = (
        thresholds if matrix.demand == "villages" else _village_thresholds(analysis.villages, minutes, zone_column)
    )
    cover = matrix.covers(thresholds)
    fixed = matrix.existing & (not free_existing)
    chosen, report = _solve_model(
        model,
        matrix,
        cover,
        fixed,
        k=k or 0,
        penalty_minutes=matrix.cutoff_minutes,
        solver=solver,
        time_limit_s=time_limit_s,
    )
    cover_t = cover.T.tocsr()
    village_cover = _village_cover(analysis, matrix, village_thresholds)
    village_cover_t = village_cover.T.tocsr()
    order, gains = greedy_order(
        model,
        matrix.minutes if model == "pmedian" else cover,
        matrix.weights,
        chosen,
        fixed=fixed,
        penalty_minutes=matrix.cutoff_minutes,
    )
    sites = _site_table(
        analysis,
        matrix,
        order,
        gains,
        cover,
        village_cover,
        _covered(cover_t, fixed),
        _covered(village_cover_t, fixed),
    )
    is_open = fixed.copy()
    is_open[chosen] = True
    before = _covered(cover_t, matrix.existing)
    after = _covered(cover_t, is_open)
    tradeoff = (
        _tradeoff(matrix, cover, fixed, village_cover_t, k_max=tradeoff_k, solver=solver, time_limit_s=time_limit_s)
        if tradeoff_k
        else None
    )
    result = SitingResult(
        model=model,
        sites=sites,
        report=report,
        demand=matrix.demand,
        minutes=_describe(minutes),
        population_total=float(matrix.weights.sum()),
        population_covered_before=float(matrix.weights[before].sum()),
        population_covered_after=float(matrix.weights[after].sum()),
        villages_total=len(analysis.villages),
        villages_covered_before=int(_covered(village_cover_t, matrix.existing).sum()),
        villages_covered_after=int(_covered(village_cover_t, is_open).sum()),
        dropped_candidates=dict(matrix.dropped_candidates),
        unreachable=_unreachable(frame, cover, matrix.weights, thresholds, matrix.demand),
        closed_existing=[str(i) for i in matrix.candidate_ids[matrix.existing & ~is_open]],
        tradeoff=tradeoff,
        matrix=matrix,
    )
    logger.info(
        "%s: %d new sites; people covered %.0f -> %.0f of %.0f (%s)",
        model,
        len(sites),
        result.population_covered_before,
        result.population_covered_after,
        result.population_total,
        report.status,
    )
    idle = int((sites["objective_gain"] <= 0).sum()) if len(sites) else 0
    if idle:
        logger.warning(
            "%s: %d of the %d sites add nothing to the objective (everyone they could reach is served already); "
            "fewer new stations do as well",
            model,
            idle,
            len(sites),
        )
    return result


def _village_thresholds(villages: gpd.GeoDataFrame, minutes: Minutes, zone_column: str) -> np.ndarray:
    if not isinstance(minutes, Mapping) and not callable(minutes) and np.ndim(minutes) > 0:
        msg = (
            "with demand='cells', thresholds given as an array cannot be applied to the villages; "
            "give a mapping {zone: minutes} (with zone_column) or a function of the frame instead."
        )
        raise InputError(msg)
    return demand_thresholds(villages, minutes, zone_column=zone_column)


def _village_cover(analysis: Analysis, matrix: CoverageMatrix, thresholds: np.ndarray) -> sp.csr_matrix:
    """Which matrix rows reach which villages within their thresholds (the matrix itself for village demand)."""
    if matrix.demand == "villages":
        return matrix.covers(thresholds)
    village_att = _attached(analysis, analysis.villages, "villages")
    seconds = pair_seconds(
        analysis.network,
        matrix.attachment,
        village_att,
        direction=matrix.direction,
        cutoff_minutes=float(thresholds.max()) if len(thresholds) else matrix.cutoff_minutes,
    )
    within = seconds.data <= (thresholds * 60.0)[seconds.indices]
    entry_row = np.repeat(np.arange(seconds.shape[0]), np.diff(seconds.indptr))
    return sp.csr_matrix(
        (np.ones(int(within.sum()), dtype=bool), (entry_row[within], seconds.indices[within])), shape=seconds.shape
    )


# --------------------------------------------------------------------------- writing
