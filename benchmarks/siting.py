"""Benchmarks of the siting engine: the coverage matrix and the MCLP solve, on real road networks.

On the shipped Comoros region it times the coverage matrix (candidate sites and
existing facilities x villages, and x the 203,208 populated raster cells, cut at
30 minutes) and the MCLP for 5 new stations on it; targets: both under 10 s. On the
Porto bench graph (``../shared/data/bench-porto``, found and loaded with the
helpers of ``benchmarks/run.py``) it does the same with road candidates, 100
drawn existing stations and 20,000 drawn demand points. In both it compares the
matrix build with the naive approach, one networkx ``single_source_dijkstra`` per
candidate, on a subset of candidates, and checks that the two give the same times.

Run from the repository root::

    .venv/bin/python benchmarks/siting.py            # everything
    .venv/bin/python benchmarks/siting.py --quick    # Comoros only

Nothing is written into the repository: caches go to temporary folders.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import scipy.sparse as sp

from coverage.analysis.run import analyze
from coverage.network.prepared import Network
from coverage.network.profiles import load_profile
from coverage.network.routing import pair_seconds
from coverage.network.snapping import Attachment, attach_points
from coverage.siting.candidates import road_candidates
from coverage.siting.models import coverage_matrix, default_candidates, site
from coverage.siting.solvers import solve_mclp

logger = logging.getLogger(__name__)

CUTOFF_MINUTES = 30.0
K = 5
#: Candidates searched one by one by the naive approach; its time is scaled up linearly to all candidates.
NAIVE_SUBSET = 40
PORTO_EXISTING = 100
PORTO_DEMAND = 20_000


# benchmarks/run.py, beside this script: the loading, timing and reporting helpers of every benchmark
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402


def naive_pair_seconds(
    graph: nx.DiGraph, network: Network, nodes: np.ndarray, demand: Attachment, *, limit_s: float
) -> sp.csr_matrix:
    """The naive matrix: one networkx Dijkstra per candidate node, then each point read from its piece's ends."""
    seg = demand.segment
    node_u, node_v = network.seg_u[seg], network.seg_v[seg]
    with np.errstate(invalid="ignore"):
        via_u = np.where(demand.fraction <= 0, 0.0, demand.fraction * network.seg_forward_s[seg]) + demand.access_s
        via_v = (
            np.where(demand.fraction >= 1, 0.0, (1 - demand.fraction) * network.seg_backward_s[seg]) + demand.access_s
        )
    rows = []
    for node in nodes:
        lengths = nx.single_source_dijkstra_path_length(graph, int(node), cutoff=limit_s, weight="weight")
        node_seconds = np.full(network.n_nodes, np.inf)
        node_seconds[np.fromiter(lengths.keys(), dtype=np.int64)] = np.fromiter(lengths.values(), dtype=np.float64)
        seconds = np.minimum(node_seconds[node_u] + via_u, node_seconds[node_v] + via_v)
        seconds[seconds > limit_s] = np.inf
        rows.append(seconds)
    dense = np.vstack(rows)
    r, c = np.nonzero(np.isfinite(dense))
    return sp.csr_matrix((dense[r, c], (r, c)), shape=dense.shape)


def bench_naive(
    report: object, name: str, network: Network, demand: Attachment, *, full_s: float, n_sites: int
) -> None:
    """The matrix from candidates at road nodes: ours and the naive networkx loop, timed and compared."""
    limit_s = CUTOFF_MINUTES * 60.0
    nodes = run.random_nodes(network, NAIVE_SUBSET, seed=run.SEED + 7)
    sites = run.attachment_at_nodes(network, nodes)
    ours_s, ours = run.timed(lambda: pair_seconds(network, sites, demand, cutoff_minutes=CUTOFF_MINUTES), repeats=3)
    build_s, graph = run.timed(lambda: run.networkx_graph(network))
    naive_s, naive = run.timed(lambda: naive_pair_seconds(graph, network, nodes, demand, limit_s=limit_s))
    scaled_s = naive_s * n_sites / len(nodes)
    report.add(  # type: ignore[attr-defined]
        name,
        f"naive matrix: networkx Dijkstra per candidate ({len(nodes)} of {n_sites})",
        run.format_seconds(naive_s),
        f"scaled to all {n_sites} sites: {run.format_seconds(scaled_s)}; graph build {run.format_seconds(build_s)} not counted",
    )
    report.add(  # type: ignore[attr-defined]
        name,
        f"ours: pair_seconds, same {len(nodes)} candidates",
        run.format_seconds(ours_s),
        f"median of 3; naive / ours {naive_s / ours_s:,.0f}x; full matrix above vs naive scaled: {scaled_s / full_s:,.1f}x",
    )
    same_pairs = ours.nnz == naive.nnz and (ours.indices == naive.indices).all()
    difference = float(np.max(np.abs(ours.data - naive.data), initial=0.0)) if same_pairs else np.inf
    report.add(  # type: ignore[attr-defined]
        name,
        "check: naive vs ours, same pairs and times",
        f"{difference:.1e} s",
        f"{ours.nnz:,} pairs within {CUTOFF_MINUTES:g} min; {'equal to 1e-6 s' if difference <= 1e-6 else 'DIFFER'}",
    )


def comoros(report: object) -> None:
    """The shipped region: candidates, matrix and MCLP k=5 on villages and on raster cells."""
    with tempfile.TemporaryDirectory(prefix="coverage-bench-siting-") as cache_dir:
        setup_s, analysis = run.timed(
            lambda: analyze(direction="from_facility", per_facility_isochrones=False, cache_dir=cache_dir)
        )
    cells = 0 if analysis.cells is None else len(analysis.cells)
    report.add(  # type: ignore[attr-defined]
        "Comoros",
        "setup: analyze(), EMS direction, no per-facility polygons",
        run.format_seconds(setup_s),
        f"{len(analysis.facilities)} facilities, {len(analysis.villages)} villages, {cells:,} cells",
    )
    candidates_s, candidates = run.timed(lambda: default_candidates(analysis))
    report.add(  # type: ignore[attr-defined]
        "Comoros",
        "candidates: road points every 1.5 km + villages",
        run.format_seconds(candidates_s),
        f"{len(candidates):,} candidates",
    )
    profile = analysis.profile
    for demand in ("villages", "cells"):
        matrix_s, matrix = run.timed(
            lambda demand=demand: coverage_matrix(analysis, candidates, cutoff_minutes=CUTOFF_MINUTES, demand=demand)
        )
        detail = f"{matrix.shape[0]:,} sites x {matrix.shape[1]:,} {demand}, {matrix.seconds.nnz:,} pairs"
        if demand == "cells":
            # the cells keep the attachment analyze() made; snapping them again would cost this much
            frame = analysis.cells
            snap_s, attached = run.timed(
                lambda frame=frame: attach_points(
                    analysis.network,
                    frame,
                    access_speed_kph=profile.access_speed_kph,
                    tolerance_m=profile.snap_tolerance_m,
                )
            )
            times_s, _ = run.timed(
                lambda attached=attached, rows=matrix.attachment: pair_seconds(
                    analysis.network, rows, attached, cutoff_minutes=CUTOFF_MINUTES
                )
            )
            detail += (
                f"; times {run.format_seconds(times_s)}, the cells' attachment from analyze() reused "
                f"(snapping them again: {run.format_seconds(snap_s)})"
            )
        report.add(  # type: ignore[attr-defined]
            "Comoros",
            f"coverage_matrix x {demand}, {CUTOFF_MINUTES:g}-min cutoff",
            run.format_seconds(matrix_s),
            f"{detail}; {run.target(matrix_s < 10, '< 10 s')}",
        )
        solve_s, result = run.timed(lambda matrix=matrix: site(analysis, model="mclp", k=K, minutes=30, matrix=matrix))
        r = result.report
        report.add(  # type: ignore[attr-defined]
            "Comoros",
            f"site(model='mclp', k={K}) on the {demand} matrix",
            run.format_seconds(solve_s),
            f"solver {r.seconds:.2f} s, {r.solver} {r.status}, gap {r.gap:.1e}; covered "
            f"{result.population_covered_before:,.0f} -> {result.population_covered_after:,.0f} people; "
            + run.target(solve_s < 10, "< 10 s"),
        )
        if demand == "cells":
            bench_naive(report, "Comoros", analysis.network, attached, full_s=times_s, n_sites=matrix.shape[0])


def porto(report: object) -> None:
    """The bench graph: road candidates, drawn stations and demand points."""
    network = run.bench_load(report, "Porto", run.PORTO_PBF, boundary=None, cold_target_s=None)
    profile = load_profile("car")
    speed, tolerance = profile.access_speed_kph, profile.snap_tolerance_m
    candidates_s, candidates = run.timed(lambda: road_candidates(network, spacing_m=1500.0))
    existing = run.attachment_at_nodes(network, run.random_nodes(network, PORTO_EXISTING, seed=run.SEED))
    sites = attach_points(network, candidates, access_speed_kph=speed, tolerance_m=tolerance)
    rows = Attachment(
        **{
            field: np.concatenate([getattr(sites, field), getattr(existing, field)])
            for field in Attachment.__dataclass_fields__
        }
    )
    fixed = np.concatenate([np.zeros(len(sites), dtype=bool), np.ones(len(existing), dtype=bool)])
    points = run.random_road_points(network, PORTO_DEMAND, seed=run.SEED + 3, offset_m=run.DEMAND_OFFSET_M)
    demand = attach_points(network, gpd.GeoDataFrame(geometry=points), access_speed_kph=speed, tolerance_m=tolerance)
    weights = np.random.default_rng(run.SEED + 4).integers(1, 500, size=len(demand)).astype(np.float64)
    report.add(  # type: ignore[attr-defined]
        "Porto",
        "candidates: road points every 1.5 km",
        run.format_seconds(candidates_s),
        f"{len(candidates):,} candidates + {PORTO_EXISTING} drawn existing stations; {len(demand):,} drawn demand points",
    )
    matrix_s, matrix = run.timed(lambda: pair_seconds(network, rows, demand, cutoff_minutes=CUTOFF_MINUTES))
    report.add(  # type: ignore[attr-defined]
        "Porto",
        f"pair_seconds: sites x demand, {CUTOFF_MINUTES:g}-min cutoff",
        run.format_seconds(matrix_s),
        f"{matrix.shape[0]:,} x {matrix.shape[1]:,}, {matrix.nnz:,} pairs; {run.target(matrix_s < 10, '< 10 s')}",
    )
    cover = sp.csr_matrix((np.ones(matrix.nnz, dtype=bool), matrix.indices, matrix.indptr), shape=matrix.shape)
    solve_s, solution = run.timed(lambda: solve_mclp(cover, weights, k=K, fixed=fixed, solver="highs"))
    r = solution.report
    report.add(  # type: ignore[attr-defined]
        "Porto",
        f"solve_mclp k={K} (100 stations fixed)",
        run.format_seconds(solve_s),
        f"{r.solver} {r.status}, gap {r.gap if r.gap is None else f'{r.gap:.1e}'}; {run.target(solve_s < 10, '< 10 s')}",
    )
    bench_naive(report, "Porto", network, demand, full_s=matrix_s, n_sites=matrix.shape[0])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the siting benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the shipped Comoros region only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    print(f"siting benchmarks, {datetime.date.today().isoformat()}{' (--quick)' if args.quick else ''}")
    print(run.machine())
    print()
    report = run.Report()
    start = time.perf_counter()
    failed = 0

    def guarded(region: str, func: Callable[[], None]) -> None:
        nonlocal failed
        try:
            func()
        except Exception as error:
            failed += 1
            logger.error("%s: benchmark stage failed", region, exc_info=True)
            report.note(region, f"FAILED: {type(error).__name__}: {error}")

    guarded("Comoros", lambda: comoros(report))
    if args.quick:
        report.note("Porto", "skipped (--quick)")
    elif run.PORTO_PBF.exists():
        guarded("Porto", lambda: porto(report))
    else:
        report.note("Porto", f"skipped: {run.PORTO_PBF.name} not found beside the checkout")
    print()
    print(f"peak memory {run.peak_rss_mb():,.0f} MB; whole run {run.format_seconds(time.perf_counter() - start)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
