"""Benchmarks of the facility coverage analyzer on real OpenStreetMap road networks.

Times each stage of the library (reading and preparing the network, the
on-disk cache, the multi-source coverage search, travel-time tables,
isochrone polygons, the full ``analyze()``) on the shipped Comoros region and,
when present beside the checkout, the Porto bench graph
(``../shared/data/bench-porto/porto_portugal.osm.pbf``). Each figure is put
next to two yardsticks: the bare compiled floor (one
``scipy.sparse.csgraph.dijkstra`` call on the same arrays) and the naive
approach (one networkx search per facility in Python), whose node times are
checked against ours so the comparison is honest.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # everything
    .venv/bin/python benchmarks/run.py --quick    # no Porto naive run, no full analyze()

Nothing is written into the repository: caches go to temporary folders.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from coverage.io.osm import facilities_from_osm, roads_from_osm
from coverage.network.prepared import Network, prepare_network
from coverage.network.profiles import load_profile
from coverage.network.routing import nearest_facility, reach_points, travel_time_table
from coverage.network.snapping import Attachment, attach_points

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
#: The Porto bench graph, looked for beside the checkout (``../shared`` from the repository root).
PORTO_PBF = REPO.parent / "shared" / "data" / "bench-porto" / "porto_portugal.osm.pbf"

SEED = 20240601
THRESHOLDS_MINUTES = (10.0, 15.0, 30.0)
#: Cutoff of the naive searches, of the bounded search compared with them, and of the travel-time table.
CUTOFF_MINUTES = 30.0
PORTO_FACILITIES = 100
PORTO_DEMAND = 2_000
#: Facilities searched one by one in the naive run on Porto; the rest is extrapolated linearly.
PORTO_NAIVE_SUBSET = 10
TABLE_ORIGINS = 200
TABLE_DESTINATIONS = 2_000
#: Largest random offset of a drawn demand point from its road, in metres (so snapping has work to do).
DEMAND_OFFSET_M = 50.0

T = TypeVar("T")


# --------------------------------------------------------------------------- helpers (also used by the tests)


def random_nodes(network: Network, n: int, *, seed: int) -> np.ndarray:
    """Draw ``n`` distinct road nodes, outside small disconnected pieces, reproducibly.

    Returns
    -------
    numpy.ndarray
        int64 node indices, sorted.
    """
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero(~network.small_piece)
    return np.sort(rng.choice(candidates, size=min(n, len(candidates)), replace=False)).astype(np.int64)


def random_road_points(network: Network, n: int, *, seed: int, offset_m: float = 0.0) -> gpd.GeoSeries:
    """Draw ``n`` points at random positions along the roads (length-weighted), reproducibly.

    Parameters
    ----------
    network : Network
    n : int
        Number of points.
    seed : int
        Seed of the random draw.
    offset_m : float
        Move each point off its road by up to this many metres in x and in y.

    Returns
    -------
    geopandas.GeoSeries
        Points in the network's CRS, on pieces outside small disconnected pieces.
    """
    rng = np.random.default_rng(seed)
    usable = np.flatnonzero(~network.small_piece[network.seg_u])
    weights = network.seg_length_m[usable] / network.seg_length_m[usable].sum()
    segment = rng.choice(usable, size=n, p=weights)
    xy = shapely.get_coordinates(
        shapely.line_interpolate_point(network.seg_geometry[segment], rng.random(n), normalized=True)
    )
    if offset_m > 0:
        xy = xy + rng.uniform(-offset_m, offset_m, size=(n, 2))
    return gpd.GeoSeries(shapely.points(xy), crs=network.crs)


def nearest_nodes(network: Network, points: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Index of the road node nearest to each point (straight line, in the network's CRS)."""
    xy = shapely.get_coordinates(np.asarray(points.to_crs(network.crs).geometry.values))
    _, index = cKDTree(network.node_xy).query(xy)
    return np.asarray(index, dtype=np.int64)


def attachment_at_nodes(network: Network, nodes: np.ndarray) -> Attachment:
    """Facilities sitting exactly on road nodes: the end of a piece touching each node, no access leg.

    Searching from these gives the same node times as a plain search from the
    nodes, whichever piece a snap would have picked.
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    n = network.n_nodes
    # the first piece starting at each node, else the first piece ending there
    first_u = np.full(n, -1, dtype=np.int64)
    first_v = np.full(n, -1, dtype=np.int64)
    pieces = np.arange(network.n_segments)
    first_u[network.seg_u[::-1]] = pieces[::-1]
    first_v[network.seg_v[::-1]] = pieces[::-1]
    at_u = first_u[nodes] >= 0
    segment = np.where(at_u, first_u[nodes], first_v[nodes])
    k = len(nodes)
    return Attachment(
        ids=np.array([f"node{i}" for i in nodes], dtype=str),
        segment=segment,
        fraction=np.where(at_u, 0.0, 1.0),
        snap_distance_m=np.zeros(k),
        access_s=np.zeros(k),
        snapped_xy=network.node_xy[nodes],
        off_network=np.zeros(k, dtype=bool),
        small_piece=network.small_piece[nodes],
    )


def ours_node_seconds(network: Network, nodes: np.ndarray, *, limit_s: float = np.inf) -> np.ndarray:
    """Seconds from the nearest of ``nodes`` to every node, with the library's multi-source search."""
    reach = nearest_facility(network, attachment_at_nodes(network, nodes), direction="from_facility", limit_s=limit_s)
    return reach.node_seconds


def floor_seconds(network: Network, nodes: np.ndarray, *, limit_s: float = np.inf) -> np.ndarray:
    """The bare compiled floor: one ``scipy.sparse.csgraph.dijkstra`` from all ``nodes`` at once."""
    return dijkstra(network.graph, directed=True, indices=np.asarray(nodes), min_only=True, limit=limit_s)


def networkx_graph(network: Network) -> nx.DiGraph:
    """The naive graph: a networkx DiGraph of the same directed edges, weight in seconds."""
    graph = network.graph.tocoo()
    naive = nx.DiGraph()
    naive.add_nodes_from(range(network.n_nodes))
    naive.add_weighted_edges_from(zip(graph.row.tolist(), graph.col.tolist(), graph.data.tolist(), strict=True))
    return naive


def naive_nearest_seconds(graph: nx.DiGraph, nodes: Sequence[int] | np.ndarray, *, limit_s: float) -> np.ndarray:
    """The naive approach: one networkx Dijkstra per facility node, cut at ``limit_s``, minimum per node."""
    best = np.full(graph.number_of_nodes(), np.inf)
    for node in nodes:
        lengths = nx.single_source_dijkstra_path_length(graph, int(node), cutoff=limit_s, weight="weight")
        reached = np.fromiter(lengths.keys(), dtype=np.int64, count=len(lengths))
        seconds = np.fromiter(lengths.values(), dtype=np.float64, count=len(lengths))
        np.minimum.at(best, reached, seconds)
    return best


def max_difference_s(a: np.ndarray, b: np.ndarray, *, limit_s: float = np.inf) -> float:
    """Largest difference in seconds between two node-time arrays (``inf`` = unreached).

    A node reached on one side only counts as agreeing when the reached time is
    within 1e-6 s of ``limit_s`` (sums taken in another order may fall either side).
    """
    both = np.isfinite(a) & np.isfinite(b)
    largest = float(np.max(np.abs(a[both] - b[both]), initial=0.0))
    one_side = np.isfinite(a) != np.isfinite(b)
    if one_side.any():
        reached = np.where(np.isfinite(a), a, b)[one_side]
        if np.any(reached < limit_s - 1e-6):
            return np.inf
    return largest


# --------------------------------------------------------------------------- measuring and printing


def timed(func: Callable[[], T], *, repeats: int = 1) -> tuple[float, T]:
    """Median wall-clock seconds of ``repeats`` calls, and the last call's result."""
    times = []
    result: Any = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def format_seconds(seconds: float) -> str:
    """Seconds as ``12.3 ms`` or ``4.56 s``."""
    if seconds < 1.0:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass
class Row:
    """One printed figure."""

    region: str
    measure: str
    value: str
    detail: str
    peak_mb: float


class Report:
    """Collects the figures, printing each as it is measured."""

    columns = ("region", "measure", "value", "peak RSS", "detail")
    widths = (8, 56, 10, 8, 0)

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self._header()

    def _line(self, cells: Sequence[str]) -> None:
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, self.widths, strict=True)).rstrip(), flush=True)

    def _header(self) -> None:
        self._line(self.columns)
        self._line(["-" * max(w, 6) for w in self.widths])

    def add(self, region: str, measure: str, value: str, detail: str = "") -> None:
        """Record and print one figure with the peak memory so far."""
        row = Row(region, measure, value, detail, peak_rss_mb())
        self.rows.append(row)
        self._line([row.region, row.measure, row.value, f"{row.peak_mb:,.0f} MB", row.detail])

    def note(self, region: str, text: str) -> None:
        """Print a line that is not a figure (a skipped stage)."""
        self._line([region, f"({text})", "", "", ""])


def target(ok: bool, text: str) -> str:
    """``target <text>: met`` or ``... MISSED``."""
    return f"target {text}: {'met' if ok else 'MISSED'}"


# --------------------------------------------------------------------------- stages


@dataclass
class Inputs:
    """A region's prepared network and the points benchmarked on it."""

    name: str
    network: Network
    facilities: gpd.GeoSeries | gpd.GeoDataFrame
    demand: gpd.GeoSeries | gpd.GeoDataFrame
    demand_label: str


def bench_load(
    report: Report, name: str, path: Path, *, boundary: shapely.Geometry | None, cold_target_s: float | None
) -> Network:
    """Stage 1: read OSM + prepare (car), then load_network through an empty and a filled cache."""
    from coverage.network.sources import load_network

    profile = load_profile("car")
    read_s, roads = timed(lambda: roads_from_osm(path, boundary=boundary))
    prepare_s, network = timed(lambda: prepare_network(roads, profile))
    cold_s = read_s + prepare_s
    detail = f"read {format_seconds(read_s)} + prepare {format_seconds(prepare_s)}; {network.n_nodes:,} nodes, {network.graph.nnz:,} directed edges"
    if cold_target_s is not None:
        detail += f"; {target(cold_s < cold_target_s, f'< {cold_target_s:g} s')}"
    report.add(name, "cold load: read OSM + prepare network (car)", format_seconds(cold_s), detail)
    with tempfile.TemporaryDirectory(prefix="coverage-bench-cache-") as cache_dir:
        first_s, _ = timed(lambda: load_network(path, profile=profile, boundary=boundary, cache_dir=cache_dir))
        report.add(
            name,
            "load_network, empty cache (read, prepare, save)",
            format_seconds(first_s),
            "includes sha256 of the file",
        )
        cached_s, cached = timed(
            lambda: load_network(path, profile=profile, boundary=boundary, cache_dir=cache_dir), repeats=3
        )
    if cached.n_nodes != network.n_nodes or cached.graph.nnz != network.graph.nnz:
        logger.warning("the cached network differs from the freshly prepared one: %r vs %r", cached, network)
    detail = "median of 3, second and later calls"
    if cold_target_s is not None:
        detail += f"; {target(cached_s < 0.5, '< 0.5 s')}"
    report.add(name, "cached load: load_network, cache filled", format_seconds(cached_s), detail)
    return network


def bench_coverage(report: Report, inputs: Inputs, *, repeats: int, naive_subset: int | None, run_naive: bool) -> Any:
    """Stages 2-4: multi-source coverage, the compiled floor and the naive networkx approach."""
    name, network = inputs.name, inputs.network
    profile = load_profile("car")
    speed, tolerance = profile.access_speed_kph, profile.snap_tolerance_m

    snap_s, facility_att = timed(
        lambda: attach_points(network, inputs.facilities, access_speed_kph=speed, tolerance_m=tolerance)
    )
    snap_demand_s, demand_att = timed(
        lambda: attach_points(network, inputs.demand, access_speed_kph=speed, tolerance_m=tolerance)
    )
    report.add(
        name,
        "snapping: attach_points (facilities + demand)",
        format_seconds(snap_s + snap_demand_s),
        f"F={len(facility_att):,} facilities, D={len(demand_att):,} {inputs.demand_label}; first call builds the tree",
    )

    def coverage() -> tuple[np.ndarray, np.ndarray]:
        reach = nearest_facility(network, facility_att, direction="from_facility")
        return reach_points(network, reach, demand_att)

    search_s, reach = timed(lambda: nearest_facility(network, facility_att, direction="from_facility"), repeats=repeats)
    ours_s, (seconds, _) = timed(coverage, repeats=repeats)
    reached = np.isfinite(seconds).mean()
    report.add(
        name,
        "multi-source coverage: nearest_facility + reach_points",
        format_seconds(ours_s),
        f"median of {repeats}; the search alone {format_seconds(search_s)}; {reached:.1%} of demand points reached",
    )

    facility_nodes = nearest_nodes(network, inputs.facilities)
    floor_s, floor = timed(lambda: floor_seconds(network, facility_nodes), repeats=repeats)
    report.add(
        name,
        "floor: csgraph.dijkstra(min_only) from facility nodes",
        format_seconds(floor_s),
        f"median of {repeats}; facilities at their nearest node",
    )
    for what, ratio in (("search + reach_points", ours_s / floor_s), ("search alone", search_s / floor_s)):
        report.add(name, f"ratio ours / floor ({what})", f"{ratio:.2f}x", target(ratio <= 2.0, "within 2x"))
    at_nodes = ours_node_seconds(network, facility_nodes)
    difference = max_difference_s(at_nodes, floor)
    report.add(name, "check: ours at facility nodes vs floor", f"{difference:.1e} s", "largest node-time difference")

    if not run_naive:
        report.note(name, "naive networkx run skipped (--quick)")
        return reach
    limit_s = CUTOFF_MINUTES * 60.0
    build_s, graph = timed(lambda: networkx_graph(network))
    report.add(
        name,
        "naive: build networkx DiGraph from the arrays",
        format_seconds(build_s),
        f"{graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges",
    )
    unique_nodes = np.unique(facility_nodes)
    subset = unique_nodes if naive_subset is None else unique_nodes[:naive_subset]
    subset_s, naive = timed(lambda: naive_nearest_seconds(graph, subset, limit_s=limit_s))
    naive_all_s = subset_s * len(unique_nodes) / len(subset)
    how = (
        f"all {len(subset)} facility nodes"
        if len(subset) == len(unique_nodes)
        else f"extrapolated from {len(subset)} of {len(unique_nodes)} facility nodes ({format_seconds(subset_s)} measured)"
    )
    report.add(
        name,
        f"naive: one networkx Dijkstra per facility ({CUTOFF_MINUTES:g} min)",
        format_seconds(naive_all_s),
        how,
    )
    bounded_s, _ = timed(lambda: ours_node_seconds(network, unique_nodes, limit_s=limit_s), repeats=repeats)
    speedup = naive_all_s / bounded_s
    report.add(
        name,
        f"ours, same facilities and {CUTOFF_MINUTES:g}-min limit",
        format_seconds(bounded_s),
        f"median of {repeats}; nearest_facility(limit_s={limit_s:g})",
    )
    report.add(
        name,
        "speed ratio naive / ours",
        f"{speedup:,.0f}x",
        target(speedup >= 1000, ">= 1000x on the bench graph") if name == "Porto" else "graph build not counted",
    )
    ours_subset = ours_node_seconds(network, subset, limit_s=limit_s)
    difference = max_difference_s(naive, ours_subset, limit_s=limit_s)
    agree = difference <= 1e-6
    report.add(
        name,
        "check: naive vs ours on the nodes (same subset)",
        f"{difference:.1e} s",
        f"{np.isfinite(naive).sum():,} nodes reached; {'equal to 1e-6 s' if agree else 'DIFFER'}",
    )
    if not agree:
        logger.warning("%s: the naive and the library node times differ by %.3g s", name, difference)
    return reach


def bench_table(report: Report, inputs: Inputs, *, repeats: int) -> None:
    """Stage 5: a travel-time table from random origins to demand points, cut at 30 minutes."""
    network = inputs.network
    profile = load_profile("car")
    speed, tolerance = profile.access_speed_kph, profile.snap_tolerance_m
    origins = attach_points(
        network,
        random_road_points(network, TABLE_ORIGINS, seed=SEED + 1, offset_m=DEMAND_OFFSET_M),
        access_speed_kph=speed,
        tolerance_m=tolerance,
    )
    demand = inputs.demand
    if len(demand) > TABLE_DESTINATIONS:
        rng = np.random.default_rng(SEED + 2)
        demand = demand.iloc[np.sort(rng.choice(len(demand), size=TABLE_DESTINATIONS, replace=False))]
    destinations = attach_points(network, demand, access_speed_kph=speed, tolerance_m=tolerance)
    table_s, table = timed(
        lambda: travel_time_table(network, origins, destinations, cutoff_minutes=CUTOFF_MINUTES), repeats=repeats
    )
    report.add(
        inputs.name,
        f"travel_time_table {len(origins)} x {len(destinations):,}, {CUTOFF_MINUTES:g}-min cutoff",
        format_seconds(table_s),
        f"median of {repeats}; {len(table):,} pairs within the cutoff",
    )


def bench_isochrones(report: Report, inputs: Inputs, reach: Any, *, per_facility: bool) -> None:
    """Stage 6: dissolved isochrones, and optionally one per facility."""
    from coverage.analysis.isochrones import facility_isochrones, isochrones

    network = inputs.network
    minutes = "/".join(f"{m:g}" for m in THRESHOLDS_MINUTES)
    iso_s, iso = timed(lambda: isochrones(network, reach, minutes=THRESHOLDS_MINUTES))
    areas = ", ".join(f"{row.area_km2:,.0f}" for row in iso.itertuples())
    report.add(inputs.name, f"isochrones, dissolved, {minutes} min", format_seconds(iso_s), f"areas {areas} km2")
    if not per_facility:
        return
    profile = load_profile("car")
    facilities = attach_points(
        network, inputs.facilities, access_speed_kph=profile.access_speed_kph, tolerance_m=profile.snap_tolerance_m
    )
    each_s, each = timed(
        lambda: facility_isochrones(network, facilities, direction="from_facility", minutes=THRESHOLDS_MINUTES)
    )
    report.add(
        inputs.name,
        f"facility_isochrones, {minutes} min",
        format_seconds(each_s),
        f"{len(each):,} polygons ({len(facilities)} facilities x {len(THRESHOLDS_MINUTES)}), {os.cpu_count()} threads",
    )


def bench_analyze(report: Report) -> None:
    """Stage 7: the full job on the default region, with an empty then a filled cache."""
    from coverage.analysis.run import analyze

    with tempfile.TemporaryDirectory(prefix="coverage-bench-analyze-") as cache_dir:
        cold_s, result = timed(lambda: analyze(cache_dir=cache_dir))
        cells = 0 if result.cells is None else len(result.cells)
        report.add(
            "Comoros",
            "analyze(), default region, empty cache",
            format_seconds(cold_s),
            f"{len(result.facilities)} facilities, {cells:,} cells, {len(result.villages):,} villages; "
            + target(cold_s < 30, "< 30 s"),
        )
        warm_s, _ = timed(lambda: analyze(cache_dir=cache_dir))
        report.add("Comoros", "analyze(), default region, cache filled", format_seconds(warm_s), "second call")
        lean_s, _ = timed(lambda: analyze(cache_dir=cache_dir, per_facility_isochrones=False))
        report.add(
            "Comoros",
            "analyze(per_facility_isochrones=False), cache filled",
            format_seconds(lean_s),
            "the same without one polygon per facility",
        )


def naive_calibration(
    grid: Any, zones: gpd.GeoDataFrame, totals: dict[str, float]
) -> tuple[np.ndarray, dict[str, float]]:
    """The naive calibration: for each unit in Python, a mask of the pixels whose centre it holds, their sum, scaled."""
    import rasterio.features

    values = grid.values.copy()
    factors = {}
    for name, polygon in zip(zones["zone"], zones.geometry, strict=True):
        inside = rasterio.features.geometry_mask(
            [polygon], out_shape=values.shape, transform=grid.transform, invert=True, all_touched=False
        )
        people = float(grid.values[inside].sum())
        if name in totals and people > 0:
            factors[name] = totals[name] / people
            values[inside] = grid.values[inside] * factors[name]
    return values, factors


def bench_calibration(report: Report) -> None:
    """Stage 8: the raster calibrated to the census island totals, against the per-unit naive loop."""
    from coverage.analysis.calibration import calibrate_grid
    from coverage.analysis.demand import read_population_grid
    from coverage.analysis.totals import read_population_totals
    from coverage.analysis.zones import read_zone_table, read_zones
    from coverage.io.regions import default_region

    region = default_region()
    if region.zones is None or region.population is None or region.population_totals is None:
        report.note("Comoros", "calibration skipped: the default region has no census totals")
        return
    options = {"name_column": region.zones_name_column, "where": region.zones_where}
    zones = read_zones(region.zones, **options)
    totals = read_population_totals(region.population_totals, units=read_zone_table(region.zones, **options))
    grid = read_population_grid(region.population)
    ours_s, (calibrated_grid, calibration) = timed(lambda: calibrate_grid(grid, zones, totals), repeats=3)
    naive_s, (naive, naive_factors) = timed(lambda: naive_calibration(grid, zones, totals.totals.to_dict()), repeats=3)
    # the naive masks take the pixels whose centre lies inside a polygon; the coastal ones just outside
    # keep the raster's people, so its islands do not add up to the census
    official = float(totals.totals.sum())
    detail = (
        f"{int((grid.values > 0).sum()):,} populated pixels, {len(zones)} units: {float(calibrated_grid.values.sum()):,.0f} "
        f"people after (census {official:,.0f}); naive per-unit masks {format_seconds(naive_s)}, "
        f"{float(naive.sum()):,.0f} people after ({float(naive.sum()) - official:+,.0f} on coastal cells left "
        "uncalibrated); factors "
        + ", ".join(
            f"{unit} {factor:.3f} (naive {naive_factors.get(unit, float('nan')):.3f})"
            for unit, factor in calibration.factors.items()
        )
    )
    report.add("Comoros", "calibrate_grid, WorldPop raster to census island totals", format_seconds(ours_s), detail)


def comoros_inputs(report: Report, *, repeats: int, run_naive: bool, per_facility: bool) -> None:
    """All stages on the shipped Comoros region (the three islands)."""
    from coverage.analysis.demand import population_cells
    from coverage.io.regions import default_region

    region = default_region()
    boundary_s, boundary = timed(region.boundary)
    report.add("Comoros", "region boundary (three islands)", format_seconds(boundary_s), "read once, reused below")
    network = bench_load(report, "Comoros", region.osm, boundary=boundary, cold_target_s=None)
    facilities = facilities_from_osm(region.osm, boundary=boundary)
    if region.population is None:
        msg = "the default region has no population raster; the benchmarks need its cells as demand points"
        raise RuntimeError(msg)
    cells = population_cells(region.population, boundary=boundary)
    inputs = Inputs("Comoros", network, facilities, cells, "population cells")
    reach = bench_coverage(report, inputs, repeats=repeats, naive_subset=None, run_naive=run_naive)
    bench_table(report, inputs, repeats=repeats)
    bench_isochrones(report, inputs, reach, per_facility=per_facility)


def porto_inputs(report: Report, *, repeats: int, run_naive: bool) -> None:
    """All stages on the Porto bench graph, with drawn facilities and demand points."""
    network = bench_load(report, "Porto", PORTO_PBF, boundary=None, cold_target_s=10.0)
    facility_nodes = random_nodes(network, PORTO_FACILITIES, seed=SEED)
    facilities = gpd.GeoSeries(shapely.points(network.node_xy[facility_nodes]), crs=network.crs)
    demand = random_road_points(network, PORTO_DEMAND, seed=SEED + 3, offset_m=DEMAND_OFFSET_M)
    inputs = Inputs("Porto", network, facilities, demand, "random road points")
    reach = bench_coverage(report, inputs, repeats=repeats, naive_subset=PORTO_NAIVE_SUBSET, run_naive=run_naive)
    bench_table(report, inputs, repeats=repeats)
    bench_isochrones(report, inputs, reach, per_facility=False)


def machine() -> str:
    """One line describing this machine."""
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{memory}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, networkx {nx.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fast smoke run: skip Porto's naive run and the full analyze()"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    repeats = 3 if args.quick else 5

    print(f"facility coverage benchmarks, {datetime.date.today().isoformat()}{' (--quick)' if args.quick else ''}")
    print(machine())
    print("times are wall clock; 'peak RSS' is the process's peak resident memory so far (ru_maxrss)")
    print()
    report = Report()
    start = time.perf_counter()
    failed = 0

    def guarded(region: str, func: Callable[[], None]) -> None:
        # a failing stage is reported in the table and the other stages still run
        nonlocal failed
        try:
            func()
        except Exception as error:
            failed += 1
            logger.warning("%s: benchmark stage failed", region, exc_info=True)
            report.note(region, f"FAILED: {type(error).__name__}: {error}")

    guarded("Comoros", lambda: comoros_inputs(report, repeats=repeats, run_naive=True, per_facility=True))
    if PORTO_PBF.exists():
        guarded("Porto", lambda: porto_inputs(report, repeats=repeats, run_naive=not args.quick))
    else:
        report.note("Porto", f"skipped: {os.path.relpath(PORTO_PBF, REPO)} not found beside the checkout")
    guarded("Comoros", lambda: bench_calibration(report))
    if args.quick:
        report.note("Comoros", "full analyze() skipped (--quick)")
    else:
        guarded("Comoros", lambda: bench_analyze(report))
    print()
    print(f"peak memory {peak_rss_mb():,.0f} MB; whole run {format_seconds(time.perf_counter() - start)}")
    if failed:
        print(f"{failed} stage(s) failed; see the messages above and on stderr")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
