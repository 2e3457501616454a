"""Location models on a coverage matrix, solved exactly with HiGHS or greedily.

The four classic models of facility siting, on plain arrays (no geography):

- :func:`solve_lscp` -- location set covering (Toregas et al. 1971): the fewest new
  sites so that every coverable demand point is covered;
- :func:`solve_mclp` -- maximal covering location (Church & ReVelle 1974): the ``k``
  new sites covering the most weight;
- :func:`solve_backup` -- backup coverage (Hogan & ReVelle 1986): the ``k`` new sites
  maximising the weight covered at least twice;
- :func:`solve_pmedian` -- p-median (Hakimi 1964; ReVelle & Swain 1970): the ``k``
  new sites minimising the weighted travel time, capped at a penalty.

Each takes a sparse candidates x demand matrix (:class:`scipy.sparse.csr_matrix`):
its *stored entries* are the pairs within reach (the coverage pattern), and for
the p-median their values are minutes (an explicit 0.0 is a 0-minute pair).
``fixed`` marks candidates that are already open (existing facilities): they are
always in the solution and do not count towards ``k``.

Before solving, demand points already settled by the fixed sites or that no
candidate can serve are taken out, and points with identical coverage are merged
(their weights added): this is exact and shrinks raster-cell instances many times.

``solver="highs"`` first solves the LP relaxation with HiGHS: when the greedy
solution (or the LP's own, when integral) meets the LP bound it is optimal and
nothing more is needed, as is usual for the covering models. Otherwise HiGHS
solves the mixed-integer programme within what is left of the time limit; stopped
by it, the better of its best solution and the heuristic one is returned with
HiGHS' best bound and the gap. ``solver="greedy"`` adds sites
one at a time by largest marginal gain and states its gap to a bound: the LP
relaxation (HiGHS) and, for the MCLP and the p-median, whose objectives are
submodular, the bound ``f(S) + sum of the k largest marginal gains at S``.
``solver="auto"`` takes HiGHS unless the model has more constraint non-zeros
than :data:`AUTO_MAX_NONZEROS` allows for it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from coverage._errors import InputError

logger = logging.getLogger(__name__)

MODELS: tuple[str, ...] = ("lscp", "mclp", "backup", "pmedian")
SOLVERS: tuple[str, ...] = ("auto", "highs", "greedy")
#: Above this many constraint non-zeros, ``solver="auto"`` uses the greedy heuristic. The
#: p-median's assignment LP is far harder than the covering models' at the same size.
AUTO_MAX_NONZEROS: dict[str, int] = {"lscp": 3_000_000, "mclp": 3_000_000, "backup": 1_000_000, "pmedian": 200_000}
#: Above this many non-zeros, the greedy heuristic skips the LP bound (it would take long).
LP_BOUND_MAX_NONZEROS = 10_000_000
#: Relative gap at which HiGHS stops: near zero, so "optimal" means optimal for any real population.
MIP_REL_GAP = 1e-9

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kMemoryLimit: "memory_limit",
}


@dataclass(frozen=True)
class SolverReport:
    """How a model was solved.

    Attributes
    ----------
    model : str
        ``lscp``, ``mclp``, ``backup`` or ``pmedian``.
    solver : str
        ``highs`` (exact MILP) or ``greedy``.
    status : str
        ``optimal``; ``time_limit`` (HiGHS stopped at the time limit);
        ``no_solution`` (HiGHS found none: the heuristic solution is reported);
        ``heuristic`` (greedy); ``trivial`` (nothing left to decide).
    objective : float
        Value of the solution: sites opened (LSCP), weight covered (MCLP), weight
        covered twice (backup), weighted minutes (p-median). Includes what the
        fixed sites contribute.
    bound : float or None
        Best bound on the optimum (upper for maximising models, lower for
        minimising ones); None when no bound could be computed.
    gap : float or None
        ``|bound - objective| / |objective|``; 0 for a proven optimum.
    seconds : float
        Wall-clock time of the solve (reduction, heuristic and MILP).
    sense : str
        ``max`` or ``min``.
    note : str
        Where the bound comes from, fall-backs taken.
    """

    model: str
    solver: str
    status: str
    objective: float
    bound: float | None
    gap: float | None
    seconds: float
    sense: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Solution:
    """Sites open in a solution.

    Attributes
    ----------
    open : numpy.ndarray
        bool per candidate: open in the solution (fixed candidates included).
    chosen : numpy.ndarray
        int64 indices of the open candidates that are not fixed, ascending.
    report : SolverReport
    uncoverable : numpy.ndarray
        bool per demand point: no candidate (fixed or not) reaches it, so no
        choice of sites can serve it.
    """

    open: np.ndarray
    chosen: np.ndarray
    report: SolverReport
    uncoverable: np.ndarray


# --------------------------------------------------------------------------- checks and reduction


def _checked(
    matrix: sp.spmatrix | sp.sparray,
    weights: np.ndarray | None,
    fixed: np.ndarray | None,
    solver: str,
    time_limit_s: float,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    if solver not in SOLVERS:
        msg = f"solver must be one of {SOLVERS}, got {solver!r}"
        raise InputError(msg)
    if not time_limit_s > 0:
        msg = f"time_limit_s must be a positive number of seconds, got {time_limit_s}"
        raise InputError(msg)
    csr = sp.csr_matrix(matrix)
    csr.sort_indices()
    n_candidates, n_demand = csr.shape
    if weights is None:
        w = np.ones(n_demand)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n_demand,):
            msg = f"weights must have one value per demand point ({n_demand}), got shape {w.shape}"
            raise InputError(msg)
        if not np.isfinite(w).all() or (w < 0).any():
            bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
            msg = f"weights must be finite and >= 0; demand points {bad[:5].tolist()} have {w[bad[:5]].tolist()}"
            raise InputError(msg)
    if fixed is None:
        f = np.zeros(n_candidates, dtype=bool)
    else:
        f = np.asarray(fixed, dtype=bool)
        if f.shape != (n_candidates,):
            msg = f"fixed must have one flag per candidate ({n_candidates}), got shape {f.shape}"
            raise InputError(msg)
    return csr, w, f


def _check_k(k: int | None, free: int, model: str) -> int:
    if k is None or isinstance(k, bool) or int(k) != k or k < 0:
        msg = f"{model}: k must be a whole number of new sites >= 0, got {k!r}"
        raise InputError(msg)
    if k > free:
        msg = f"{model}: k={k} new sites asked for but only {free} candidates can be opened; lower k or add candidates."
        raise InputError(msg)
    return int(k)


def _group_rows(
    rows: sp.csr_matrix, extra: np.ndarray | None = None, *, values: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows: the first row of each group and every row's group number.

    Rows are identical when their stored column indices (and ``extra``, and the
    stored values when ``values``) are equal, compared exactly as bytes.
    """
    indptr, indices, data = rows.indptr, rows.indices, rows.data
    keys = []
    for r in range(rows.shape[0]):
        a, b = indptr[r], indptr[r + 1]
        key = indices[a:b].tobytes()
        if values:
            key += data[a:b].tobytes()
        if extra is not None:
            key += bytes([int(extra[r])])
        keys.append(key)
    codes, _ = pd.factorize(pd.Series(keys, dtype=object))
    first = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype=np.int64)
    # the first occurrence of each group: scatter in reverse so earlier rows win
    order = np.arange(len(codes))[::-1]
    first[codes[order]] = order
    return first, codes.astype(np.int64)


@dataclass(frozen=True)
class _Reduced:
    """The part of a model still to decide: groups of identical demand rows over the free candidates."""

    rows: sp.csr_matrix  # groups x free candidates; values: savings (p-median) or 1
    weights: np.ndarray  # weight of each group
    counts: np.ndarray  # demand points in each group
    extra: np.ndarray  # fixed sites covering each group (backup), else zeros
    free: np.ndarray  # candidate index of each column
    offset: float  # objective part already settled by the fixed sites


def _reduce(
    demand_rows: sp.csr_matrix,
    weights: np.ndarray,
    keep: np.ndarray,
    free: np.ndarray,
    extra: np.ndarray,
    *,
    values: bool,
) -> _Reduced:
    kept = np.flatnonzero(keep)
    sub = demand_rows[kept]
    first, codes = _group_rows(sub, extra[kept], values=values)
    grouped = sub[first].tocsr()
    grouped.sort_indices()
    return _Reduced(
        rows=grouped,
        weights=np.bincount(codes, weights=weights[kept], minlength=len(first)),
        counts=np.bincount(codes, minlength=len(first)).astype(np.float64),
        extra=extra[kept][first].astype(np.float64),
        free=free,
        offset=0.0,
    )


def _coverage_parts(
    cover: sp.csr_matrix, fixed: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """Demand x free-candidate pattern, free candidate indices, fixed and free coverer counts per demand point."""
    pattern = cover.copy()
    pattern.data = np.ones_like(pattern.data, dtype=np.float64)
    free = np.flatnonzero(~fixed)
    by_demand = pattern.T.tocsr()
    fixed_count = (
        np.asarray(by_demand[:, np.flatnonzero(fixed)].sum(axis=1)).ravel() if fixed.any() else np.zeros(cover.shape[1])
    )
    free_rows = by_demand[:, free].tocsr()
    free_rows.sort_indices()
    free_count = np.diff(free_rows.indptr).astype(np.float64)
    return free_rows, free, fixed_count, free_count


# --------------------------------------------------------------------------- greedy


def _entry_rows(matrix: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


@dataclass
class _Greedy:
    """A greedy run on a reduced model: columns added, in order, and the marginal gains."""

    order: list[int]
    gains: list[float]
    bound: float | None  # submodular upper bound on the reduced objective, when valid


def _greedy(model: str, reduced: _Reduced, k: int | None) -> _Greedy:
    """Add columns of the reduced model one at a time by largest marginal gain (lowest index on ties)."""
    columns = reduced.rows.T.tocsr()  # free candidates x groups
    entry_group = columns.indices
    entry_column = _entry_rows(columns)
    n_columns = columns.shape[0]
    allowed = np.ones(n_columns, dtype=bool)
    w = reduced.weights
    count = reduced.extra.copy()  # sites covering each group (fixed ones first)
    best_saving = np.zeros(len(w))  # p-median: savings reached so far per group
    order: list[int] = []
    gains: list[float] = []

    def gain_vector() -> tuple[np.ndarray, np.ndarray]:
        if model == "pmedian":
            saving = np.maximum(columns.data - best_saving[entry_group], 0.0) * w[entry_group]
            return np.bincount(entry_column, weights=saving, minlength=n_columns), np.zeros(n_columns)
        if model == "backup":
            second = np.bincount(entry_column, weights=(w * (count == 1))[entry_group], minlength=n_columns)
            first = np.bincount(entry_column, weights=(w * (count == 0))[entry_group], minlength=n_columns)
            return second, first
        if model == "lscp":
            open_rows = reduced.counts * (count == 0)
            return np.bincount(entry_column, weights=open_rows[entry_group], minlength=n_columns), np.bincount(
                entry_column, weights=(w * (count == 0))[entry_group], minlength=n_columns
            )
        return np.bincount(entry_column, weights=(w * (count == 0))[entry_group], minlength=n_columns), np.zeros(
            n_columns
        )

    limit = n_columns if k is None else k
    while len(order) < limit and allowed.any():
        main, tie = gain_vector()
        if model == "lscp" and not (main[allowed] > 0).any():
            break
        candidates = np.flatnonzero(allowed)
        # largest main gain, then largest tie-break gain, then lowest index
        pick = candidates[np.lexsort((candidates, -tie[candidates], -main[candidates]))[0]]
        order.append(int(pick))
        gains.append(float(main[pick]))
        allowed[pick] = False
        a, b = columns.indptr[pick], columns.indptr[pick + 1]
        groups = columns.indices[a:b]
        count[groups] += 1
        if model == "pmedian":
            best_saving[groups] = np.maximum(best_saving[groups], columns.data[a:b])
    bound = None
    if model in ("mclp", "pmedian") and k is not None:
        main, _ = gain_vector()
        rest = np.sort(main[allowed])[::-1][:k]
        bound = float(sum(gains) + rest.sum())
    return _Greedy(order=order, gains=gains, bound=bound)


# --------------------------------------------------------------------------- HiGHS


def _quiet_highs() -> highspy.Highs:
    """A HiGHS instance with its log off.

    HiGHS prints a banner to the C-level stdout when the first instance of a
    process is made, whatever its options; it is sent to /dev/null here so that a
    command's stdout carries only its own lines.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            _flush_c_stdout()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def _flush_c_stdout() -> None:
    libc = ctypes.CDLL(None)
    libc.fflush(None)


@dataclass(frozen=True)
class _Run:
    status: str
    values: np.ndarray | None
    objective: float | None
    bound: float | None


def _run_highs(
    *,
    cost: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray,
    matrix: sp.spmatrix | sp.sparray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximize: bool,
    time_limit_s: float,
    relax: bool = False,
) -> _Run:
    """Solve ``max/min cost @ x`` s.t. ``row_lower <= matrix @ x <= row_upper``, ``0 <= x <= upper``."""
    csc = sp.csc_matrix(matrix)
    csc.sort_indices()
    n_rows, n_cols = csc.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    if not relax:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(flag)] for flag in integer]
    h = _quiet_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    h.passModel(lp)
    h.run()
    model_status = h.getModelStatus()
    status = _STATUS.get(model_status, h.modelStatusToString(model_status).lower().replace(" ", "_"))
    info = h.getInfo()
    has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else None
    if relax:
        bound = objective if status == "optimal" else None
    elif status == "optimal":
        bound = objective
    else:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    return _Run(status=status, values=values, objective=objective, bound=bound)


def _highs_version() -> str:
    return f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"


def _gap(objective: float, bound: float | None, maximize: bool) -> float | None:
    if bound is None:
        return None
    difference = bound - objective if maximize else objective - bound
    return max(difference, 0.0) / max(abs(objective), 1e-9)


# --------------------------------------------------------------------------- the models


@dataclass(frozen=True)
class _Formulation:
    """A MILP over [x (free candidates), y (groups), ...] for :func:`_run_highs`."""

    cost: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    matrix: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray


def _formulate(model: str, reduced: _Reduced, k: int | None) -> _Formulation:
    """The mixed-integer programme of a reduced model; x (one per free candidate) comes first."""
    rows = reduced.rows
    n_groups, n_x = rows.shape
    ones_x = np.ones(n_x)
    cardinality = sp.csr_matrix(ones_x.reshape(1, -1))
    if model == "lscp":
        # every group covered at least once
        return _Formulation(
            cost=ones_x,
            upper=ones_x,
            integer=np.ones(n_x, dtype=bool),
            matrix=rows.astype(np.float64),
            row_lower=np.ones(n_groups),
            row_upper=np.full(n_groups, np.inf),
        )
    if model in ("mclp", "backup"):
        pattern = rows.copy().astype(np.float64)
        pattern.data[:] = 1.0
        if model == "mclp":
            # y_g <= sum_j a_gj x_j  (y continuous: integral at the optimum for integral x)
            link = sp.hstack([pattern, -sp.identity(n_groups, format="csr")], format="csr")
            lower, upper_rows = np.zeros(n_groups), np.full(n_groups, np.inf)
            y_integer = np.zeros(n_groups, dtype=bool)
        else:
            # 2 u_g - sum_j a_gj x_j <= (fixed sites covering g); u binary
            link = sp.hstack([-pattern, 2.0 * sp.identity(n_groups, format="csr")], format="csr")
            lower, upper_rows = np.full(n_groups, -np.inf), reduced.extra
            y_integer = np.ones(n_groups, dtype=bool)
        card = sp.hstack([cardinality, sp.csr_matrix((1, n_groups))], format="csr")
        return _Formulation(
            cost=np.concatenate([np.zeros(n_x), reduced.weights]),
            upper=np.ones(n_x + n_groups),
            integer=np.concatenate([np.ones(n_x, dtype=bool), y_integer]),
            matrix=sp.vstack([link, card], format="csr"),
            row_lower=np.concatenate([lower, [k]]),
            row_upper=np.concatenate([upper_rows, [k]]),
        )
    # p-median in savings form: max sum w_g s_gj z_gj, sum_j z_gj <= 1, z_gj <= x_j
    n_z = rows.nnz
    group_of = _entry_rows(rows)
    assign = sp.csr_matrix((np.ones(n_z), (group_of, np.arange(n_z))), shape=(n_groups, n_z))
    link = sp.hstack(
        [
            -sp.csr_matrix((np.ones(n_z), (np.arange(n_z), rows.indices)), shape=(n_z, n_x)),
            sp.identity(n_z, format="csr"),
        ],
        format="csr",
    )
    card = sp.hstack([cardinality, sp.csr_matrix((1, n_z))], format="csr")
    return _Formulation(
        cost=np.concatenate([np.zeros(n_x), reduced.weights[group_of] * rows.data]),
        upper=np.ones(n_x + n_z),
        integer=np.concatenate([np.ones(n_x, dtype=bool), np.zeros(n_z, dtype=bool)]),
        matrix=sp.vstack([sp.hstack([sp.csr_matrix((n_groups, n_x)), assign]), link, card], format="csr"),
        row_lower=np.concatenate([np.full(n_groups, -np.inf), np.full(n_z, -np.inf), [k]]),
        row_upper=np.concatenate([np.ones(n_groups), np.zeros(n_z), [k]]),
    )


def _solution_vector(model: str, reduced: _Reduced, chosen: list[int]) -> np.ndarray:
    """The full MILP vector of a set of chosen columns."""
    x = np.zeros(reduced.rows.shape[1])
    x[chosen] = 1.0
    covered = reduced.rows @ x
    if model == "lscp":
        return x
    if model == "mclp":
        return np.concatenate([x, np.minimum(covered, 1.0)])
    if model == "backup":
        return np.concatenate([x, (covered + reduced.extra >= 2).astype(np.float64)])
    # p-median: each group takes its largest saving among the chosen columns
    z = np.zeros(reduced.rows.nnz)
    value = np.where(x[reduced.rows.indices] > 0, reduced.rows.data, -np.inf)
    group_of = _entry_rows(reduced.rows)
    order = np.lexsort((-value, group_of))
    first = order[np.r_[True, group_of[order][1:] != group_of[order][:-1]]] if len(order) else order
    z[first[np.isfinite(value[first])]] = 1.0
    return np.concatenate([x, z])


def _reduced_value(model: str, reduced: _Reduced, chosen: list[int]) -> float:
    """Objective of the reduced model (without the offset) for chosen columns."""
    x = np.zeros(reduced.rows.shape[1])
    x[chosen] = 1.0
    if model == "lscp":
        return float(len(chosen))
    if model == "pmedian":
        start = _solution_vector(model, reduced, chosen)
        z = start[reduced.rows.shape[1] :]
        return float((reduced.weights[_entry_rows(reduced.rows)] * reduced.rows.data * z).sum())
    covered = reduced.rows @ x + reduced.extra
    need = 1 if model == "mclp" else 2
    return float(reduced.weights[covered >= need].sum())


@dataclass(frozen=True)
class _Outcome:
    """What solving a reduced model gave: chosen columns, by which solver, and the reduced objective and bound."""

    columns: list[int]
    solver: str
    status: str
    value: float
    bound: float | None
    note: str


def _tightest(bounds: list[tuple[float, str]], maximize: bool) -> tuple[float | None, str]:
    if not bounds:
        return None, "no bound computed"
    value, source = min(bounds) if maximize else max(bounds)
    return value, source


def _solve(
    model: str,
    reduced: _Reduced,
    k: int | None,
    *,
    solver: str,
    time_limit_s: float,
    started: float,
) -> _Outcome:
    """Solve a reduced model with HiGHS or greedily (see the module docstring)."""
    maximize = model != "lscp"
    greedy = _greedy(model, reduced, k)
    greedy_value = _reduced_value(model, reduced, greedy.order)
    if reduced.rows.shape[0] == 0:
        label = "greedy" if solver == "greedy" else "highs"
        return _Outcome(greedy.order, label, "trivial", greedy_value, greedy_value, "nothing left to decide")
    formulation = _formulate(model, reduced, k if k is not None else 0)
    size = formulation.matrix.nnz
    limit = AUTO_MAX_NONZEROS[model]
    use_highs = solver == "highs" or (solver == "auto" and size <= limit)
    remaining = max(time_limit_s - (time.perf_counter() - started), 0.1)
    bounds: list[tuple[float, str]] = []
    if greedy.bound is not None:
        bounds.append((greedy.bound, "submodular bound of the greedy solution"))
    lscp_round = (lambda v: float(np.ceil(v - 1e-6))) if model == "lscp" else (lambda v: v)
    highs_kwargs = {
        "cost": formulation.cost,
        "upper": formulation.upper,
        "integer": formulation.integer,
        "matrix": formulation.matrix,
        "row_lower": formulation.row_lower,
        "row_upper": formulation.row_upper,
        "maximize": maximize,
    }
    n_x = reduced.rows.shape[1]
    # the LP relaxation first: a bound for the greedy solution, and often (covering
    # models) integral or met by the greedy solution, which proves it optimal at once
    lp = (
        _run_highs(**highs_kwargs, time_limit_s=remaining, relax=True)
        if use_highs or size <= LP_BOUND_MAX_NONZEROS
        else None
    )
    best_order, best_value, best_label = greedy.order, greedy_value, "greedy"
    if lp is not None and lp.bound is not None:
        bounds.append((lscp_round(lp.bound), "LP relaxation (HiGHS)"))
        if lp.values is not None and (np.minimum(lp.values[:n_x], 1.0 - lp.values[:n_x]) <= 1e-6).all():
            lp_order = np.flatnonzero(lp.values[:n_x] > 0.5).tolist()
            lp_value = _reduced_value(model, reduced, lp_order)
            if (lp_value > best_value) if maximize else (lp_value < best_value):
                best_order, best_value, best_label = lp_order, lp_value, "integral LP"
    bound, source = _tightest(bounds, maximize)
    tolerance = MIP_REL_GAP * max(1.0, abs(best_value))
    if use_highs and bound is not None and ((bound - best_value) if maximize else (best_value - bound)) <= tolerance:
        note = f"HiGHS {_highs_version()}, {size:,} non-zeros; optimal: the solution meets the LP relaxation bound"
        return _Outcome(best_order, "highs", "optimal", best_value, bound, note)
    run = (
        _run_highs(**highs_kwargs, time_limit_s=max(time_limit_s - (time.perf_counter() - started), 0.1))
        if use_highs
        else None
    )
    if run is not None and run.bound is not None:
        bounds.append((lscp_round(run.bound), "HiGHS"))
    if run is not None and run.values is not None and run.objective is not None:
        chosen = np.flatnonzero(run.values[:n_x] > 0.5).tolist()
        value = _reduced_value(model, reduced, chosen)
        note = f"HiGHS {_highs_version()}, {size:,} non-zeros"
        if abs(value - run.objective) > 1e-6 * max(1.0, abs(value)):
            logger.warning(
                "%s: HiGHS objective %.9g differs from its solution's value %.9g", model, run.objective, value
            )
        if run.status == "optimal":
            return _Outcome(chosen, "highs", "optimal", value, run.bound, note)
        note += f"; stopped ({run.status}, limit {time_limit_s:g} s)"
        if (best_value > value) if maximize else (best_value < value):
            chosen, value = best_order, best_value
            note += f"; the {best_label} solution is better than the MILP's best and is reported"
        bound, source = _tightest(bounds, maximize)
        return _Outcome(chosen, "highs", run.status, value, bound, f"{note}; bound: {source}")
    if use_highs:
        note = f"HiGHS found no MILP solution ({'not run' if run is None else run.status}); the best of greedy and LP"
        bound, source = _tightest(bounds, maximize)
        return _Outcome(best_order, "highs", "no_solution", best_value, bound, f"{note}; bound: {source}")
    if solver == "auto":
        note = f"greedy: the model has {size:,} non-zeros, above {limit:,} for solver='auto'"
    else:
        note = "greedy"
    bound, source = _tightest(bounds, maximize)
    return _Outcome(greedy.order, "greedy", "heuristic", greedy_value, bound, f"{note}; bound: {source}")


def _finish(
    model: str,
    fixed: np.ndarray,
    reduced: _Reduced,
    outcome: _Outcome,
    *,
    uncoverable: np.ndarray,
    started: float,
    cost_total: float = 0.0,
) -> Solution:
    solver, status, value, bound = outcome.solver, outcome.status, outcome.value, outcome.bound
    chosen = np.sort(reduced.free[np.asarray(outcome.columns, dtype=np.int64)])
    is_open = fixed.copy()
    is_open[chosen] = True
    maximize = model != "pmedian" and model != "lscp"
    if model == "pmedian":
        # savings -> weighted minutes: total at the baseline minus savings
        objective = cost_total - value
        full_bound = None if bound is None else cost_total - bound
    else:
        objective = reduced.offset + value
        full_bound = None if bound is None else reduced.offset + bound
    report = SolverReport(
        model=model,
        solver=solver,
        status=status,
        objective=float(objective),
        bound=None if full_bound is None else float(full_bound),
        gap=0.0 if status in ("optimal", "trivial") else _gap(objective, full_bound, maximize),
        seconds=time.perf_counter() - started,
        sense="max" if maximize else "min",
        note=outcome.note,
    )
    logger.info(
        "%s: %d new sites, objective %.6g (%s, %s, gap %s) in %.2f s",
        model,
        len(chosen),
        report.objective,
        solver,
        status,
        "n/a" if report.gap is None else f"{report.gap:.2%}",
        report.seconds,
    )
    return Solution(open=is_open, chosen=chosen, report=report, uncoverable=uncoverable)


def solve_mclp(
    cover: sp.spmatrix | sp.sparray,
    weights: np.ndarray,
    *,
    k: int,
    fixed: np.ndarray | None = None,
    solver: str = "auto",
    time_limit_s: float = 60.0,
) -> Solution:
    """Maximal covering: the ``k`` new sites that cover the most weight.

    Parameters
    ----------
    cover : scipy sparse matrix
        Candidates x demand; a stored entry means the candidate covers the point.
    weights : numpy.ndarray
        Weight (population) of each demand point, >= 0.
    k : int
        New sites to open, besides the fixed ones.
    fixed : numpy.ndarray, optional
        bool per candidate: already open (existing facilities).
    solver : {"auto", "highs", "greedy"}
    time_limit_s : float
        Time limit of the whole solve.

    Returns
    -------
    Solution
        ``report.objective`` is the weight covered by the fixed and new sites.
    """
    started = time.perf_counter()
    csr, w, f = _checked(cover, weights, fixed, solver, time_limit_s)
    k = _check_k(k, int((~f).sum()), "mclp")
    rows, free, fixed_count, free_count = _coverage_parts(csr, f)
    keep = (fixed_count == 0) & (free_count > 0) & (w > 0)
    reduced = _reduce(rows, w, keep, free, np.zeros(len(w)), values=False)
    reduced = _with_offset(reduced, float(w[fixed_count > 0].sum()))
    outcome = _solve("mclp", reduced, k, solver=solver, time_limit_s=time_limit_s, started=started)
    return _finish("mclp", f, reduced, outcome, uncoverable=(fixed_count + free_count) == 0, started=started)


def solve_lscp(
    cover: sp.spmatrix | sp.sparray,
    *,
    fixed: np.ndarray | None = None,
    solver: str = "auto",
    time_limit_s: float = 60.0,
) -> Solution:
    """Location set covering: the fewest new sites covering every demand point that can be covered.

    Demand points no candidate covers cannot be served by any choice: they are
    left out of the model and flagged in ``Solution.uncoverable`` (the caller
    reports them); the model is solved for the rest.

    Returns
    -------
    Solution
        ``report.objective`` is the number of new sites.
    """
    started = time.perf_counter()
    csr, w, f = _checked(cover, None, fixed, solver, time_limit_s)
    rows, free, fixed_count, free_count = _coverage_parts(csr, f)
    uncoverable = (fixed_count + free_count) == 0
    if uncoverable.any():
        logger.info(
            "lscp: %d of %d demand points no candidate covers; solving for the rest", int(uncoverable.sum()), len(w)
        )
    keep = (fixed_count == 0) & (free_count > 0)
    reduced = _reduce(rows, w, keep, free, np.zeros(len(w)), values=False)
    outcome = _solve("lscp", reduced, None, solver=solver, time_limit_s=time_limit_s, started=started)
    return _finish("lscp", f, reduced, outcome, uncoverable=uncoverable, started=started)


def solve_backup(
    cover: sp.spmatrix | sp.sparray,
    weights: np.ndarray,
    *,
    k: int,
    fixed: np.ndarray | None = None,
    solver: str = "auto",
    time_limit_s: float = 60.0,
) -> Solution:
    """Backup coverage: the ``k`` new sites maximising the weight covered at least twice.

    Returns
    -------
    Solution
        ``report.objective`` is the weight within reach of two or more open sites.
    """
    started = time.perf_counter()
    csr, w, f = _checked(cover, weights, fixed, solver, time_limit_s)
    k = _check_k(k, int((~f).sum()), "backup")
    rows, free, fixed_count, free_count = _coverage_parts(csr, f)
    fixed_count = np.minimum(fixed_count, 2)
    keep = (fixed_count < 2) & (fixed_count + free_count >= 2) & (w > 0)
    reduced = _reduce(rows, w, keep, free, fixed_count, values=False)
    reduced = _with_offset(reduced, float(w[fixed_count >= 2].sum()))
    outcome = _solve("backup", reduced, k, solver=solver, time_limit_s=time_limit_s, started=started)
    return _finish("backup", f, reduced, outcome, uncoverable=(fixed_count + free_count) == 0, started=started)


def solve_pmedian(
    minutes: sp.spmatrix | sp.sparray,
    weights: np.ndarray,
    *,
    k: int,
    penalty_minutes: float,
    fixed: np.ndarray | None = None,
    solver: str = "auto",
    time_limit_s: float = 60.0,
) -> Solution:
    """p-median: the ``k`` new sites minimising the weighted travel time to the nearest open site.

    Each demand point counts the minutes to its nearest open site, capped at
    ``penalty_minutes``; a pair not stored in the matrix (beyond its cutoff)
    counts as the penalty. With the penalty at the matrix cutoff this is the
    p-median on times capped at the cutoff.

    Parameters
    ----------
    minutes : scipy sparse matrix
        Candidates x demand; stored values are minutes (explicit zeros allowed).
    penalty_minutes : float
        Minutes counted for a point with no open site within the matrix.

    Returns
    -------
    Solution
        ``report.objective`` is the sum of weight x minutes.
    """
    started = time.perf_counter()
    csr, w, f = _checked(minutes, weights, fixed, solver, time_limit_s)
    if not (np.isfinite(penalty_minutes) and penalty_minutes > 0):
        msg = f"penalty_minutes must be a positive number, got {penalty_minutes}"
        raise InputError(msg)
    k = _check_k(k, int((~f).sum()), "pmedian")
    csr = sp.csr_matrix(
        (np.minimum(csr.data.astype(np.float64), penalty_minutes), csr.indices, csr.indptr), shape=csr.shape
    )
    by_demand = csr.T.tocsr()
    by_demand.sort_indices()
    n_candidates, n_demand = csr.shape
    entry_demand = _entry_rows(by_demand)
    entry_fixed = f[by_demand.indices]
    # baseline: minutes to the nearest fixed site, or the penalty
    baseline = np.full(n_demand, float(penalty_minutes))
    np.minimum.at(baseline, entry_demand[entry_fixed], by_demand.data[entry_fixed])
    free = np.flatnonzero(~f)
    column_of = np.full(n_candidates, -1, dtype=np.int64)
    column_of[free] = np.arange(len(free))
    saving = baseline[entry_demand] - by_demand.data
    useful = ~entry_fixed & (saving > 0)
    savings = sp.csr_matrix(
        (saving[useful], (entry_demand[useful], column_of[by_demand.indices[useful]])), shape=(n_demand, len(free))
    )
    savings.sort_indices()
    reachable = np.zeros(n_demand, dtype=bool)
    reachable[entry_demand] = True
    keep = (np.diff(savings.indptr) > 0) & (w > 0)
    reduced = _reduce(savings, w, keep, free, np.zeros(n_demand), values=True)
    cost_total = float((w * baseline).sum())
    outcome = _solve("pmedian", reduced, k, solver=solver, time_limit_s=time_limit_s, started=started)
    return _finish("pmedian", f, reduced, outcome, uncoverable=~reachable, started=started, cost_total=cost_total)


def _with_offset(reduced: _Reduced, offset: float) -> _Reduced:
    return _Reduced(
        rows=reduced.rows,
        weights=reduced.weights,
        counts=reduced.counts,
        extra=reduced.extra,
        free=reduced.free,
        offset=offset,
    )


def greedy_order(
    model: str,
    matrix: sp.spmatrix | sp.sparray,
    weights: np.ndarray,
    chosen: np.ndarray,
    *,
    fixed: np.ndarray | None = None,
    penalty_minutes: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Order chosen sites by marginal gain: the largest first, then the largest given those, and so on.

    Parameters
    ----------
    model : str
        Whose gain: ``mclp`` and ``lscp`` (weight newly covered), ``backup``
        (weight newly covered twice), ``pmedian`` (weighted minutes saved).
    matrix : scipy sparse matrix
        The coverage pattern (or minutes, for the p-median), candidates x demand.
    chosen : numpy.ndarray
        Candidate indices to order (not fixed ones).

    Returns
    -------
    order : numpy.ndarray
        The candidate indices of ``chosen``, in order.
    gains : numpy.ndarray
        The marginal gain of each, in that order.
    """
    csr, w, f = _checked(matrix, weights, fixed, "greedy", 1.0)
    chosen = np.asarray(chosen, dtype=np.int64)
    if len(chosen) == 0:
        return chosen, np.zeros(0)
    if model == "pmedian":
        if penalty_minutes is None:
            msg = "greedy_order: penalty_minutes is needed for the p-median"
            raise InputError(msg)
        by_demand = sp.csr_matrix(csr.T)
        entry_demand = _entry_rows(by_demand)
        entry_fixed = f[by_demand.indices]
        baseline = np.full(csr.shape[1], float(penalty_minutes))
        np.minimum.at(baseline, entry_demand[entry_fixed], np.minimum(by_demand.data[entry_fixed], penalty_minutes))
        sub = csr[chosen].tocsr()
        saving = baseline[sub.indices] - np.minimum(sub.data, penalty_minutes)
        rows = sp.csr_matrix((np.maximum(saving, 0.0), sub.indices, sub.indptr), shape=sub.shape).T.tocsr()
        extra = np.zeros(csr.shape[1])
    else:
        pattern = csr.copy()
        pattern.data = np.ones_like(pattern.data, dtype=np.float64)
        rows = pattern[chosen].T.tocsr()
        extra = np.asarray(pattern[np.flatnonzero(f)].sum(axis=0)).ravel() if f.any() else np.zeros(csr.shape[1])
    reduced = _Reduced(
        rows=rows,
        weights=w,
        counts=np.ones(len(w)),
        extra=extra,
        free=chosen,
        offset=0.0,
    )
    # LSCP sites are ordered by the weight they newly cover, like MCLP ones
    run = _greedy("mclp" if model == "lscp" else model, reduced, len(chosen))
    return chosen[np.asarray(run.order, dtype=np.int64)], np.asarray(run.gains)
