"""Where the ambulances should be: MEXCLP allocation and siting by expected coverage, on HiGHS.

Daskin's (1983) maximum expected covering location problem: each ambulance is busy
with the system-wide probability ``q``, independently, so a place within reach of
``n`` ambulances is served in time with probability ``1 - q**n``, and the k-th
ambulance within reach adds ``(1 - q) q**(k-1)`` of the place's calls. The model
chooses how many ambulances each station gets (and, when siting, which new stations
open) to maximise the expected calls served in time.

Like :mod:`coverage.siting.solvers` it works on a plain sparse sites x places
coverage pattern and weights (no geography), so it is checked against brute force
on small instances. Places with identical coverage are merged (weights added)
before solving, which is exact.

Variables: ``x_i`` whole ambulances at site ``i`` (at most its capacity),
``z_i`` a new site open (siting only), ``y_gk`` in [0, 1] the k-th ambulance
covering place group ``g``. Since the gains fall with ``k``, the optimum fills
``y_g1, y_g2, ...`` in order, so ``y`` need not be integer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from coverage._errors import InputError
from coverage.ems.analytic import mexclp_weights

# the HiGHS runner and the grouping of identical coverage of the siting models, shared
from coverage.siting.solvers import SolverReport, _gap, _group_rows, _highs_version, _run_highs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Allocation:
    """Ambulances per site chosen by the MEXCLP.

    Attributes
    ----------
    ambulances : numpy.ndarray
        int64 ambulances at each site (row of the coverage pattern).
    open : numpy.ndarray
        bool per site: holds at least one ambulance, or is fixed open.
    expected_covered : float
        Expected weight (calls) served in time, ``sum_j w_j (1 - q**n_j)``.
    report : SolverReport
        Status, objective, bound and gap of the solve.
    """

    ambulances: np.ndarray
    open: np.ndarray
    expected_covered: float
    report: SolverReport


def expected_covered(cover: sp.spmatrix, weights: np.ndarray, ambulances: np.ndarray, busy: float) -> float:
    """``sum_j w_j (1 - q**n_j)`` where ``n_j`` counts the ambulances of the sites covering place ``j``."""
    within = np.asarray(sp.csr_matrix(cover, dtype=np.float64).T @ np.asarray(ambulances, dtype=np.float64)).ravel()
    return float(np.dot(weights, np.where(within > 0, 1.0 - np.power(busy, within), 0.0)))


def _checked_inputs(
    cover: sp.spmatrix,
    weights: np.ndarray,
    ambulances: int,
    busy: float,
    capacity: np.ndarray | int | None,
    minimum: np.ndarray | int | None,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    csr = sp.csr_matrix(cover, dtype=bool).astype(np.float64)
    n_sites, n_places = csr.shape
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_places,) or not np.isfinite(w).all() or (w < 0).any():
        msg = f"weights must be {n_places} finite numbers >= 0 (one per place), got shape {w.shape}"
        raise InputError(msg)
    if isinstance(ambulances, bool) or int(ambulances) != ambulances or ambulances < 0:
        msg = f"ambulances must be a whole number >= 0, got {ambulances!r}"
        raise InputError(msg)
    if not 0.0 <= busy < 1.0:
        msg = f"busy must be a share from 0 to below 1, got {busy!r}: at 1 no ambulance is ever free"
        raise InputError(msg)
    cap = np.broadcast_to(np.asarray(ambulances if capacity is None else capacity, dtype=np.int64), (n_sites,)).copy()
    low = np.broadcast_to(np.asarray(0 if minimum is None else minimum, dtype=np.int64), (n_sites,)).copy()
    if (cap < 0).any() or (low < 0).any() or (low > cap).any():
        msg = "capacity and minimum must be whole numbers >= 0 per site, with minimum <= capacity"
        raise InputError(msg)
    if low.sum() > ambulances or cap.sum() < ambulances:
        msg = (
            f"{ambulances} ambulances cannot be placed: the sites need at least {int(low.sum())} "
            f"and hold at most {int(cap.sum())}; change the number of ambulances, the minimum or the capacity per station."
        )
        raise InputError(msg)
    return csr, w, cap, low


def allocate_ambulances(
    cover: sp.spmatrix,
    weights: np.ndarray,
    *,
    ambulances: int,
    busy: float,
    capacity: np.ndarray | int | None = None,
    minimum: np.ndarray | int | None = None,
    fixed_open: np.ndarray | None = None,
    new_sites: int | None = None,
    time_limit_s: float = 60.0,
) -> Allocation:
    """Place ``ambulances`` at the sites to maximise the expected calls served in time (MEXCLP).

    Parameters
    ----------
    cover : scipy.sparse matrix
        sites x places, a stored (true) entry when the site reaches the place in time.
    weights : numpy.ndarray
        Calls (or people) at each place.
    ambulances : int
        Ambulances to place, all of them.
    busy : float
        System-wide busy fraction ``q`` in [0, 1).
    capacity : int or array, optional
        Most ambulances per site (default: no limit but the total).
    minimum : int or array, optional
        Fewest ambulances per site (e.g. 1 at every existing station).
    fixed_open : numpy.ndarray, optional
        bool per site; with ``new_sites``, the sites open already (existing stations).
    new_sites : int, optional
        Siting: at most this many sites not in ``fixed_open`` may open; without it,
        every site may hold ambulances.
    time_limit_s : float
        Time limit of HiGHS.

    Returns
    -------
    Allocation
    """
    started = time.perf_counter()
    csr, w, cap, low = _checked_inputs(cover, weights, ambulances, busy, capacity, minimum)
    n_sites = csr.shape[0]
    siting = new_sites is not None
    fixed = np.zeros(n_sites, dtype=bool) if fixed_open is None else np.asarray(fixed_open, dtype=bool)
    if new_sites is not None and (isinstance(new_sites, bool) or int(new_sites) != new_sites or new_sites < 0):
        msg = f"new_sites must be a whole number >= 0, got {new_sites!r}"
        raise InputError(msg)
    # places with identical coverage merge; places nobody reaches drop out (they add nothing)
    places = csr.T.tocsr()
    reached = np.diff(places.indptr) > 0
    first, codes = _group_rows(places[reached])
    group_weight = np.bincount(codes, weights=w[reached], minlength=len(first))
    groups = places[reached][first]
    reach_cap = np.asarray(groups @ cap.astype(np.float64)).ravel()
    levels = np.minimum(reach_cap, ambulances).astype(np.int64)
    gains = mexclp_weights(busy, int(levels.max(initial=0)))
    candidates = np.flatnonzero(~fixed) if siting else np.zeros(0, dtype=np.int64)
    n_x, n_z, n_y = n_sites, len(candidates), int(levels.sum())
    n_groups = len(first)
    # y columns: group g's levels k = 0..levels[g]-1, consecutive
    y_group = np.repeat(np.arange(n_groups), levels)
    y_level = np.arange(n_y) - np.repeat(np.cumsum(levels) - levels, levels)
    cost = np.concatenate([np.zeros(n_x + n_z), group_weight[y_group] * gains[y_level]])
    upper = np.concatenate([cap.astype(np.float64), np.ones(n_z), np.ones(n_y)])
    integer = np.concatenate([np.ones(n_x + n_z, dtype=bool), np.zeros(n_y, dtype=bool)])
    blocks: list[sp.csr_matrix] = []
    lower_rows: list[np.ndarray] = []
    upper_rows: list[np.ndarray] = []
    # sum x = N
    blocks.append(sp.hstack([sp.csr_matrix(np.ones((1, n_x))), sp.csr_matrix((1, n_z + n_y))]))
    lower_rows.append(np.array([float(ambulances)]))
    upper_rows.append(np.array([float(ambulances)]))
    # sum_k y_gk - sum_{i covers g} x_i <= 0
    y_part = sp.csr_matrix((np.ones(n_y), (y_group, np.arange(n_y))), shape=(n_groups, n_y))
    blocks.append(sp.hstack([-groups, sp.csr_matrix((n_groups, n_z)), y_part]))
    lower_rows.append(np.full(n_groups, -np.inf))
    upper_rows.append(np.zeros(n_groups))
    # x_i >= minimum_i
    with_min = np.flatnonzero(low > 0)
    if len(with_min):
        rows = sp.csr_matrix((np.ones(len(with_min)), (np.arange(len(with_min)), with_min)), shape=(len(with_min), n_x))
        blocks.append(sp.hstack([rows, sp.csr_matrix((len(with_min), n_z + n_y))]))
        lower_rows.append(low[with_min].astype(np.float64))
        upper_rows.append(np.full(len(with_min), np.inf))
    if siting:
        # a site not yet open holds ambulances only when opened: x_i - cap_i z_i <= 0; sum z <= new_sites
        x_rows = sp.csr_matrix((np.ones(n_z), (np.arange(n_z), candidates)), shape=(n_z, n_x))
        z_rows = sp.diags(-cap[candidates].astype(np.float64), format="csr", shape=(n_z, n_z))
        blocks.append(sp.hstack([x_rows, z_rows, sp.csr_matrix((n_z, n_y))]))
        lower_rows.append(np.full(n_z, -np.inf))
        upper_rows.append(np.zeros(n_z))
        blocks.append(sp.hstack([sp.csr_matrix((1, n_x)), sp.csr_matrix(np.ones((1, n_z))), sp.csr_matrix((1, n_y))]))
        lower_rows.append(np.array([-np.inf]))
        upper_rows.append(np.array([float(new_sites or 0)]))
        # valid inequality tightening the relaxation: a place is covered once only by an open site,
        # y_g1 - sum_{new i covers g} z_i <= 1 if a site open already covers g, else 0
        first_level = np.cumsum(levels) - levels
        has_level = levels > 0
        y_first = sp.csr_matrix(
            (np.ones(int(has_level.sum())), (np.flatnonzero(has_level), first_level[has_level])), shape=(n_groups, n_y)
        )
        covered_fixed = np.asarray(groups[:, np.flatnonzero(fixed)].sum(axis=1)).ravel() > 0
        blocks.append(sp.hstack([sp.csr_matrix((n_groups, n_x)), -groups[:, candidates], y_first]))
        lower_rows.append(np.full(n_groups, -np.inf))
        upper_rows.append(covered_fixed.astype(np.float64))
    run = _run_highs(
        cost=cost,
        upper=upper,
        integer=integer,
        matrix=sp.vstack(blocks, format="csr"),
        row_lower=np.concatenate(lower_rows),
        row_upper=np.concatenate(upper_rows),
        maximize=True,
        time_limit_s=time_limit_s,
    )
    if run.values is None:
        msg = f"HiGHS found no allocation ({run.status}) within {time_limit_s:g} s; give it more time (time_limit_s)."
        raise InputError(msg)
    counts = np.rint(run.values[:n_x]).astype(np.int64)
    value = expected_covered(csr, w, counts, busy)
    is_open = (counts > 0) | fixed
    report = SolverReport(
        model="mexclp",
        solver="highs",
        status=run.status,
        objective=value,
        bound=run.bound,
        gap=_gap(value, run.bound, True),
        seconds=time.perf_counter() - started,
        sense="max",
        note=f"HiGHS {_highs_version()}; {n_groups} place groups, busy fraction {busy:.3f}",
    )
    logger.info(
        "MEXCLP: %d ambulances at %d of %d sites, expected %.1f of %.1f calls in time (%s)",
        ambulances,
        int((counts > 0).sum()),
        n_sites,
        value,
        float(w.sum()),
        run.status,
    )
    return Allocation(ambulances=counts, open=is_open, expected_covered=value, report=report)
