"""Benchmark of the EMS simulation: a year of calls on the default region, and 30 replications.

On the shipped Comoros region (ambulance profile, hospitals as stations) it places
30 ambulances with the MEXCLP (at least one per station), derives about 30,000 calls
a year from the villages' population, builds the mission travel-time tables, and
times one simulated year (target: under 10 s) and 30 replications. It compares the
simulation with the naive approach of answering each call with its own networkx
Dijkstra from the stations (timed on a sample of calls, scaled to the year), and
checks that both send the same station at the same time.

Run from the repository root::

    .venv/bin/python benchmarks/ems.py
    .venv/bin/python benchmarks/ems.py --quick     # 5 replications, 100 naive calls

Nothing is written into the repository: caches go to a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np

from coverage.analysis.run import analyze
from coverage.ems.proposal import allocate
from coverage.ems.run import ems_availability
from coverage.ems.simulation import call_arrivals, simulate

CALLS_PER_YEAR = 30_000
AMBULANCES = 30
THRESHOLD_MINUTES = 12.0


# benchmarks/run.py, beside this script: the loading, timing and reporting helpers of every benchmark
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402


def naive_dispatch(graph: nx.DiGraph, station_nodes: np.ndarray, call_nodes: np.ndarray) -> tuple[float, np.ndarray]:
    """The naive approach: one networkx multi-source Dijkstra from the stations per call; seconds per call."""
    started = time.perf_counter()
    seconds = np.empty(len(call_nodes))
    for i, node in enumerate(call_nodes):
        # the reverse graph would be needed for one search per station; per call, search back from the call
        lengths, _ = nx.multi_source_dijkstra(graph, {int(node)}, weight="weight")
        seconds[i] = min(lengths.get(int(s), np.inf) for s in station_nodes)
    return time.perf_counter() - started, seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 replications and 100 naive calls")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    replications = 5 if args.quick else 30
    naive_calls = 100 if args.quick else 300
    print(f"EMS benchmark, {datetime.date.today()}, {run.machine()}")
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        analysis = analyze(profile="ambulance", ems=True, minutes=[THRESHOLD_MINUTES], cache_dir=cache)
        print(f"analysis of the default region (network, snapping, one search): {time.perf_counter() - started:.1f} s")
    population = float(analysis.villages["population"].fillna(0).sum())
    rate = CALLS_PER_YEAR / population * 1000.0
    options = {"threshold_minutes": THRESHOLD_MINUTES, "calls_per_1000": rate, "replications": 0}
    started = time.perf_counter()
    proposal = allocate(analysis, ambulances=AMBULANCES, min_per_station=1, **options)
    print(
        f"MEXCLP: {AMBULANCES} ambulances at {len(analysis.facilities)} stations (at least 1 each), "
        f"{proposal.allocation.report.status} in {proposal.allocation.report.seconds:.2f} s "
        f"(allocate with its two scenario builds: {time.perf_counter() - started:.1f} s)"
    )
    counts = proposal.stations["ambulances_after"].to_numpy()
    started = time.perf_counter()
    result = ems_availability(analysis, ambulances=counts, **options)
    scenario = result.scenario
    print(
        f"scenario: {scenario.n_stations} stations x {scenario.n_points} villages, {len(result.hospitals)} hospitals, "
        f"{scenario.calls_per_year:,.0f} calls a year ({rate:.1f} per 1,000): tables and estimates in "
        f"{time.perf_counter() - started:.2f} s"
    )
    one_s, one = run.timed(
        lambda: simulate(scenario, result.service, threshold_minutes=THRESHOLD_MINUTES, replications=1, seed=1)
    )
    calls = one.figures["calls"].mean
    print(
        f"one simulated year (SimPy): {calls:,.0f} calls in {one_s:.2f} s ({calls / one_s:,.0f} calls/s) "
        f"{run.target(one_s < 10.0, '< 10 s')}"
    )
    many_s, many = run.timed(
        lambda: simulate(scenario, result.service, threshold_minutes=THRESHOLD_MINUTES, replications=replications)
    )
    f = many.figures
    print(
        f"{replications} replications: {many_s:.1f} s; in time {f['in_time_share'].mean:.1%} "
        f"[{f['in_time_share'].low:.1%}–{f['in_time_share'].high:.1%}], call satisfaction "
        f"{f['dispatched_without_wait_share'].mean:.2%} [{f['dispatched_without_wait_share'].low:.2%}–"
        f"{f['dispatched_without_wait_share'].high:.2%}], utilisation {f['utilisation'].mean:.1%}; "
        f"MEXCLP estimate {result.estimates.expected_in_time_share:.1%}"
    )
    # the naive approach: a shortest-path search per call instead of the precomputed tables
    graph = run.networkx_graph(analysis.network).reverse(copy=True)
    rng = np.random.default_rng(0)
    _, points = call_arrivals(scenario, rng, days=365.0)
    sample = points[:naive_calls]
    villages = analysis.villages.iloc[sample]
    call_nodes = run.nearest_nodes(analysis.network, villages)
    station_nodes = run.nearest_nodes(analysis.network, analysis.facilities)
    naive_s, naive_seconds = naive_dispatch(graph, station_nodes, call_nodes)
    per_year = naive_s / len(sample) * calls
    ours = run.ours_node_seconds(analysis.network, np.unique(station_nodes))[call_nodes]
    agree = float(np.nanmax(np.abs(np.where(np.isfinite(ours), ours - naive_seconds, 0.0))))
    print(
        f"naive (networkx Dijkstra per call, {len(sample)} calls): {naive_s:.1f} s, "
        f"{per_year:,.0f} s for a year of calls ({per_year / one_s:,.0f}x the simulation); "
        f"nearest-station times agree within {agree:.2g} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
