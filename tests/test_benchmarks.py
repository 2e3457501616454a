"""Smoke test of the benchmark helpers: the naive, floor and library searches agree on Mwali."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _script(name: str) -> ModuleType:
    """A benchmark script (not part of the package), imported as its neighbours import each other."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)


def test_naive_floor_and_library_node_times_agree(mwali_network, mwali_facilities):
    bench = _script("run")
    nodes = np.unique(
        np.concatenate(
            [bench.nearest_nodes(mwali_network, mwali_facilities), bench.random_nodes(mwali_network, 3, seed=1)]
        )
    )
    limit_s = 15 * 60.0
    naive = bench.naive_nearest_seconds(bench.networkx_graph(mwali_network), nodes, limit_s=limit_s)
    ours = bench.ours_node_seconds(mwali_network, nodes, limit_s=limit_s)
    floor = bench.floor_seconds(mwali_network, nodes, limit_s=limit_s)

    assert np.isfinite(naive).sum() > len(nodes)  # the searches reach past the facilities themselves
    assert np.all(naive[nodes] == 0.0)
    assert bench.max_difference_s(naive, ours, limit_s=limit_s) <= 1e-6
    assert bench.max_difference_s(floor, ours, limit_s=limit_s) <= 1e-6


def test_the_ems_benchmarks_naive_dispatch_finds_the_same_nearest_station(mwali_network, mwali_facilities):
    """benchmarks/ems.py's naive approach (a networkx search per call) agrees with the library's search."""
    bench = _script("run")
    module = _script("ems")
    stations = np.unique(bench.nearest_nodes(mwali_network, mwali_facilities))
    calls = bench.random_nodes(mwali_network, 20, seed=3)
    graph = bench.networkx_graph(mwali_network).reverse(copy=True)
    _, naive = module.naive_dispatch(graph, stations, calls)
    ours = bench.ours_node_seconds(mwali_network, stations)[calls]
    assert np.isfinite(ours).any()
    assert bench.max_difference_s(naive, ours) <= 1e-6
