"""Siting on the real Mwali island: the coverage matrix, the four models, the result and its files.

The exact solutions are checked against brute-force enumeration on small
instances and against pysal/spopt (which solves with PuLP/CBC, an independent
second solver) on the island's villages.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.analysis.result import covered_column
from coverage.analysis.run import analyze
from coverage.network.routing import pair_seconds, travel_time_table
from coverage.network.snapping import attach_points
from coverage.outputs.files import write_sites
from coverage.siting.models import CoverageMatrix, coverage_matrix, default_candidates, demand_thresholds, site
from coverage.siting.solvers import solve_backup, solve_lscp, solve_mclp, solve_pmedian
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER, REPO

REQUIRED_SITE_COLUMNS = {
    "site_id",
    "name",
    "source",
    "order",
    "population_gain",
    "villages_gain",
    "population_covered_after",
    "minutes_to_nearest_existing",
    "geometry",
}


@pytest.fixture(scope="module")
def mwali(tmp_path_factory, mwali_boundary):
    """EMS analysis of Mwali (station -> place) with raster cells and admin zones."""
    return analyze(
        COMOROS_PBF,
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
        zones=COMOROS_ADMIN,
        zones_name_column="name",
        zones_where="admin_level == '8'",
        minutes=[10, 15, 30],
        direction="from_facility",
        per_facility_isochrones=False,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


@pytest.fixture(scope="module")
def candidates(mwali):
    return default_candidates(mwali)


@pytest.fixture(scope="module")
def village_matrix(mwali, candidates):
    return coverage_matrix(mwali, candidates, cutoff_minutes=30, demand="villages")


@pytest.fixture(scope="module")
def cell_matrix(mwali, candidates):
    return coverage_matrix(mwali, candidates, cutoff_minutes=30, demand="cells")


def _attached(analysis, frame):
    profile = analysis.profile
    return attach_points(
        analysis.network,
        frame,
        access_speed_kph=profile.access_speed_kph,
        tolerance_m=profile.snap_tolerance_m,
        ids=frame["id"].to_numpy(str),
    )


# --------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("direction", ["from_facility", "to_facility"])
def test_matrix_equals_travel_time_table(mwali, cell_matrix, direction):
    cells = mwali.cells
    some = np.arange(0, len(cells), 11)
    demand = _attached(mwali, cells).subset(some)
    sites = cell_matrix.attachment
    ours = pair_seconds(mwali.network, sites, demand, direction=direction, cutoff_minutes=30)
    if direction == "from_facility":
        table = travel_time_table(mwali.network, sites, demand, cutoff_minutes=30)
        rows, cols = table["origin_id"], table["destination_id"]
    else:
        table = travel_time_table(mwali.network, demand, sites, cutoff_minutes=30)
        rows, cols = table["destination_id"], table["origin_id"]
    reference = sp.csr_matrix(
        (
            table["minutes"].to_numpy() * 60.0,
            (pd.Index(sites.ids).get_indexer(rows), pd.Index(demand.ids).get_indexer(cols)),
        ),
        shape=ours.shape,
    )
    assert ours.nnz == reference.nnz > 1000
    assert (ours.indices == reference.indices).all()
    assert (ours.indptr == reference.indptr).all()
    assert np.abs(ours.data - reference.data).max() < 1e-6


def test_matrix_rows_of_existing_facilities_reproduce_the_analysis(mwali, cell_matrix, village_matrix):
    for matrix, frame in ((cell_matrix, mwali.cells), (village_matrix, mwali.villages)):
        assert matrix.existing.sum() == len(mwali.facilities)
        assert list(matrix.demand_ids) == frame["id"].astype(str).tolist()
        for threshold in mwali.minutes:
            by_existing = np.asarray(matrix.covers(threshold)[np.flatnonzero(matrix.existing)].sum(axis=0)).ravel() > 0
            assert (by_existing == frame[covered_column(threshold)].to_numpy()).all()


def test_within_means_seconds_at_most_t_times_60():
    seconds = sp.csr_matrix(
        (np.array([0.0, 1800.0, 1800.0000001]), np.array([0, 1, 2]), np.array([0, 3])), shape=(1, 3)
    )
    matrix = CoverageMatrix(
        candidate_ids=np.array(["a"]),
        demand_ids=np.array(["x", "y", "z"]),
        weights=np.ones(3),
        seconds=seconds,
        cutoff_minutes=31.0,
        existing=np.array([False]),
        direction="from_facility",
        demand="villages",
        candidates=gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=4326),
        attachment=None,  # type: ignore[arg-type]
    )
    assert matrix.covers(30.0).toarray().tolist() == [[True, True, False]]  # a stored 0-second trip counts
    assert matrix.covers(np.array([1.0, 29.99, 31.0])).toarray().tolist() == [[True, False, True]]
    with pytest.raises(InputError, match="cutoff"):
        matrix.covers(45.0)


# --------------------------------------------------------------------------- exact = brute force


def _brute_force(times: np.ndarray, weights: np.ndarray, fixed: np.ndarray, threshold: float, k: int, penalty: float):
    """Best objectives of the four models by enumerating every set of k free sites (times: sites x demand)."""
    free = np.flatnonzero(~fixed)
    within = times <= threshold

    def sets(size):
        for chosen in itertools.combinations(free, size):
            yield np.concatenate([np.flatnonzero(fixed), np.asarray(chosen, dtype=np.int64)])

    count = [within[s].sum(axis=0) for s in sets(k)]
    mclp = max(float(weights[c >= 1].sum()) for c in count)
    backup = max(float(weights[c >= 2].sum()) for c in count)
    pmedian = min(float((weights * np.minimum(penalty, times[s].min(axis=0, initial=np.inf))).sum()) for s in sets(k))
    coverable = within.any(axis=0)
    lscp = next(
        size for size in range(len(free) + 1) if any((within[s].sum(axis=0)[coverable] >= 1).all() for s in sets(size))
    )
    return mclp, backup, pmedian, lscp


def _solve_all(times: np.ndarray, weights: np.ndarray, fixed: np.ndarray, threshold: float, k: int, penalty: float):
    stored = np.isfinite(times)
    rows, cols = np.nonzero(stored)
    minutes = sp.csr_matrix((times[rows, cols], (rows, cols)), shape=times.shape)
    cover = sp.csr_matrix(times <= threshold)
    return (
        solve_mclp(cover, weights, k=k, fixed=fixed, solver="highs").report.objective,
        solve_backup(cover, weights, k=k, fixed=fixed, solver="highs").report.objective,
        solve_pmedian(minutes, weights, k=k, penalty_minutes=penalty, fixed=fixed, solver="highs").report.objective,
        solve_lscp(cover, fixed=fixed, solver="highs").report.objective,
    )


@pytest.mark.parametrize(("threshold", "k"), [(10.0, 1), (15.0, 2), (30.0, 3)])
def test_exact_equals_brute_force_on_mwali(village_matrix, threshold, k):
    minutes = village_matrix.minutes
    dense = np.full(minutes.shape, np.inf)
    coo = minutes.tocoo()
    dense[coo.row, coo.col] = coo.data
    # the existing facilities and the 11 candidates reaching most villages within 15 minutes
    free = np.flatnonzero(~village_matrix.existing)
    reach = (dense[free] <= 15).sum(axis=1)
    rows = np.concatenate([np.flatnonzero(village_matrix.existing), free[np.argsort(-reach, kind="stable")[:11]]])
    times, fixed = dense[rows], village_matrix.existing[rows]
    expected = _brute_force(times, village_matrix.weights, fixed, threshold, k, penalty=30.0)
    assert _solve_all(times, village_matrix.weights, fixed, threshold, k, penalty=30.0) == pytest.approx(expected)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data())
def test_exact_equals_brute_force_on_random_instances(data):
    n_sites = data.draw(st.integers(2, 7))
    n_demand = data.draw(st.integers(1, 12))
    times = np.array(
        data.draw(
            st.lists(
                st.one_of(st.just(np.inf), st.floats(0, 40)), min_size=n_sites * n_demand, max_size=n_sites * n_demand
            )
        )
    ).reshape(n_sites, n_demand)
    weights = np.array(data.draw(st.lists(st.integers(0, 100), min_size=n_demand, max_size=n_demand)), dtype=float)
    fixed = np.array(data.draw(st.lists(st.booleans(), min_size=n_sites, max_size=n_sites)))
    k = data.draw(st.integers(0, int((~fixed).sum())))
    threshold = data.draw(st.sampled_from([5.0, 15.0, 30.0]))
    expected = _brute_force(times, weights, fixed, threshold, k, penalty=35.0)
    assert _solve_all(times, weights, fixed, threshold, k, penalty=35.0) == pytest.approx(expected)


# --------------------------------------------------------------------------- a second solver: spopt


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3.3 announces its 4.0 API
def test_mclp_and_lscp_objectives_equal_spopt(village_matrix):
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    minutes = village_matrix.minutes.tocoo()
    cost = np.full(village_matrix.shape, np.inf)
    cost[minutes.row, minutes.col] = minutes.data
    cost = cost.T  # spopt: clients x facilities
    weights = village_matrix.weights
    fixed = village_matrix.existing
    for threshold in (10.0, 15.0, 30.0):
        cover = village_matrix.covers(threshold)
        for k in (1, 3):
            ours = solve_mclp(cover, weights, k=k, fixed=fixed, solver="highs")
            theirs = locate.MCLP.from_cost_matrix(
                cost,
                weights,
                service_radius=threshold,
                p_facilities=k + int(fixed.sum()),
                predefined_facilities_arr=fixed.astype(int),
            ).solve(pulp.PULP_CBC_CMD(msg=False), results=False)
            assert ours.report.objective == pytest.approx(theirs.problem.objective.value(), rel=1e-9)
        lscp = solve_lscp(cover, fixed=fixed, solver="highs")
        coverable = ~lscp.uncoverable
        theirs = locate.LSCP.from_cost_matrix(
            cost[coverable], service_radius=threshold, predefined_facilities_arr=fixed.astype(int)
        ).solve(pulp.PULP_CBC_CMD(msg=False), results=False)
        # spopt counts the predefined sites in its objective
        assert lscp.report.objective + fixed.sum() == pytest.approx(theirs.problem.objective.value())


# --------------------------------------------------------------------------- properties


@settings(max_examples=20, deadline=None, derandomize=True)
@given(k=st.integers(1, 6), threshold=st.floats(5.0, 29.0))
def test_more_sites_or_more_minutes_never_cover_fewer(village_matrix, k, threshold):
    weights, fixed = village_matrix.weights, village_matrix.existing
    base = solve_mclp(village_matrix.covers(threshold), weights, k=k, fixed=fixed, solver="highs")
    more_sites = solve_mclp(village_matrix.covers(threshold), weights, k=k + 1, fixed=fixed, solver="highs")
    more_minutes = solve_mclp(village_matrix.covers(threshold + 1.0), weights, k=k, fixed=fixed, solver="highs")
    assert more_sites.report.objective >= base.report.objective - 1e-6
    assert more_minutes.report.objective >= base.report.objective - 1e-6


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    model=st.sampled_from(["lscp", "mclp", "backup", "pmedian"]),
    solver=st.sampled_from(["highs", "greedy"]),
    seed=st.integers(0, 10_000),
)
def test_fixed_sites_are_always_open(village_matrix, model, solver, seed):
    rng = np.random.default_rng(seed)
    fixed = rng.random(village_matrix.shape[0]) < 0.1
    cover = village_matrix.covers(15.0)
    weights = village_matrix.weights
    if model == "lscp":
        solution = solve_lscp(cover, fixed=fixed, solver=solver)
    elif model == "mclp":
        solution = solve_mclp(cover, weights, k=2, fixed=fixed, solver=solver)
    elif model == "backup":
        solution = solve_backup(cover, weights, k=2, fixed=fixed, solver=solver)
    else:
        solution = solve_pmedian(village_matrix.minutes, weights, k=2, penalty_minutes=30, fixed=fixed, solver=solver)
    assert solution.open[fixed].all()
    assert not fixed[solution.chosen].any()
    if model != "lscp":
        assert len(solution.chosen) == 2


# --------------------------------------------------------------------------- site()


def test_mclp_sites_in_order_of_gain_with_cumulative_figures(mwali, cell_matrix):
    result = site(mwali, model="mclp", k=3, minutes=15, matrix=cell_matrix, tradeoff_k=4)
    sites = result.sites
    assert set(sites.columns) >= REQUIRED_SITE_COLUMNS
    assert sites.crs.to_epsg() == 4326
    assert sites["order"].tolist() == [1, 2, 3]
    assert not (sites["source"] == "existing").any()
    assert (np.diff(sites["population_gain"]) <= 1e-9).all()
    cumulative = result.population_covered_before + sites["population_gain"].cumsum()
    assert np.allclose(sites["population_covered_after"], cumulative)
    assert sites["population_covered_after"].iloc[-1] == pytest.approx(result.population_covered_after)
    assert result.population_covered_after == pytest.approx(result.report.objective)
    assert result.report.solver == "highs"
    assert result.report.status == "optimal"
    assert result.report.gap == 0.0
    assert (sites["minutes_to_nearest_existing"] > 0).all()
    # the trade-off table starts from the existing facilities and reaches the same optimum at k=3
    table = result.tradeoff
    assert table["new_sites"].tolist() == [0, 1, 2, 3, 4]
    assert table["population_covered"].iloc[0] == pytest.approx(result.population_covered_before, abs=0.05)
    assert table["population_covered"].iloc[3] == pytest.approx(result.population_covered_after, abs=0.05)
    assert (np.diff(table["population_covered"]) >= 0).all()
    village_gains = sites["villages_gain"].sum()
    assert result.villages_covered_after - result.villages_covered_before == village_gains


def test_zone_thresholds(mwali, village_matrix):
    villages = mwali.villages
    zones = sorted(set(villages["zone"]))
    assert "Fomboni" in zones
    thresholds = demand_thresholds(villages, {"Fomboni": 10, "*": 30})
    assert (thresholds[villages["zone"].to_numpy() == "Fomboni"] == 10).all()
    assert (thresholds[villages["zone"].to_numpy() != "Fomboni"] == 30).all()
    assert (demand_thresholds(villages, lambda frame: np.where(frame["zone"] == "Fomboni", 10, 30)) == thresholds).all()
    with pytest.raises(InputError, match="no threshold"):
        demand_thresholds(villages, {"Fomboni": 10})
    zoned = site(mwali, model="mclp", k=2, minutes={"Fomboni": 10, "*": 30}, matrix=village_matrix)
    assert zoned.minutes == {"Fomboni": 10.0, "*": 30.0}
    assert zoned.population_covered_after >= zoned.population_covered_before


def test_lscp_names_demand_no_site_can_reach_and_covers_the_rest(mwali, candidates):
    sea = gpd.GeoDataFrame(
        {"id": ["sea-point"], "name": ["Islet (test point at sea)"], "population": [120.0], "zone": [""]},
        geometry=[shapely.Point(43.70, -12.20)],
        crs=4326,
    )
    villages = pd.concat([mwali.villages, sea], ignore_index=True)
    analysis = dataclasses.replace(mwali, villages=gpd.GeoDataFrame(villages, crs=4326), cells=None)
    result = site(analysis, model="lscp", minutes=30, candidates=candidates)
    assert result.demand == "villages"
    assert result.unreachable["id"].tolist() == ["sea-point"]
    assert result.unreachable["name"].tolist() == ["Islet (test point at sea)"]
    assert result.unreachable["population"].tolist() == [120.0]
    assert result.villages_covered_after == len(villages) - 1
    assert result.report.status == "optimal"
    assert result.report.objective == len(result.sites)


def test_free_existing_lets_the_model_close_facilities(mwali, village_matrix):
    kept = site(mwali, model="mclp", k=2, minutes=15, matrix=village_matrix)
    freed = site(mwali, model="mclp", k=len(mwali.facilities), minutes=15, matrix=village_matrix, free_existing=True)
    assert kept.closed_existing == []
    assert len(freed.sites) == len(mwali.facilities)
    reopened = (freed.sites["source"] == "existing").sum()
    assert reopened + len(freed.closed_existing) == len(mwali.facilities)
    # relocating every station can only do better than keeping them all and adding none
    assert freed.population_covered_after >= kept.population_covered_before


def test_greedy_states_its_gap_to_a_bound(mwali, cell_matrix):
    exact = site(mwali, model="mclp", k=4, minutes=15, matrix=cell_matrix, solver="highs")
    greedy = site(mwali, model="mclp", k=4, minutes=15, matrix=cell_matrix, solver="greedy")
    assert greedy.report.solver == "greedy"
    assert greedy.report.status == "heuristic"
    assert greedy.report.objective <= exact.report.objective + 1e-6
    assert greedy.report.bound >= exact.report.objective - 1e-6
    expected_gap = (greedy.report.bound - greedy.report.objective) / greedy.report.objective
    assert greedy.report.gap == pytest.approx(expected_gap)


def test_backup_and_pmedian_through_site(mwali, village_matrix):
    backup = site(mwali, model="backup", k=2, minutes=30, matrix=village_matrix)
    assert backup.report.model == "backup"
    assert backup.report.objective <= backup.population_covered_after + 1e-6
    pmedian = site(mwali, model="pmedian", k=2, minutes=30, matrix=village_matrix)
    assert pmedian.report.sense == "min"
    assert (np.diff(pmedian.sites["objective_gain"]) <= 1e-9).all()


def test_candidates_off_the_roads_or_excluded_are_left_out_and_counted(mwali, tmp_path):
    facilities = mwali.facilities.geometry.representative_point()
    path = tmp_path / "centres.csv"
    pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(len(facilities))] + ["sea"],
            "lon": [*facilities.x, 43.70],
            "lat": [*facilities.y, -12.20],
        }
    ).to_csv(path, index=False)
    fomboni = shapely.box(43.73, -12.30, 43.76, -12.27)
    inside = int(shapely.contains_xy(fomboni, facilities.x, facilities.y).sum())
    assert inside > 0
    result = site(mwali, model="mclp", k=1, minutes=15, candidates=path, exclude=fomboni, demand="villages")
    assert result.dropped_candidates == {"excluded": inside, "off_network": 1}
    assert result.sites["source"].tolist() == ["file"]
    assert result.sites["source_id"].iloc[0] in {f"c{i}" for i in range(len(facilities))}
    chosen = result.sites.geometry
    assert not shapely.contains_xy(fomboni, chosen.x, chosen.y).any()


def test_site_inputs_are_checked(mwali, village_matrix):
    with pytest.raises(InputError, match="model must be"):
        site(mwali, model="pcenter", k=1, matrix=village_matrix)
    with pytest.raises(InputError, match="needs k"):
        site(mwali, model="mclp", matrix=village_matrix)
    with pytest.raises(InputError, match="leave k out"):
        site(mwali, model="lscp", k=2, matrix=village_matrix)
    with pytest.raises(InputError, match="k=500"):
        site(mwali, model="mclp", k=500, matrix=village_matrix)
    with pytest.raises(InputError, match="population raster"):
        site(dataclasses.replace(mwali, cells=None), model="mclp", k=1, demand="cells")


# --------------------------------------------------------------------------- files


def test_write_sites_all_or_nothing(mwali, village_matrix, tmp_path, monkeypatch):
    result = site(mwali, model="mclp", k=2, minutes=15, matrix=village_matrix, tradeoff_k=3)
    written = write_sites(result, tmp_path / "out")
    assert set(written) == {"sites.gpkg", "sites.csv", "siting.json", "tradeoff.csv"}
    layers = {name for name, _ in pyogrio.list_layers(written["sites.gpkg"])}
    assert {"sites", "tradeoff"} <= layers
    sites = gpd.read_file(written["sites.gpkg"], layer="sites")
    assert set(sites.columns) >= REQUIRED_SITE_COLUMNS
    assert sites.crs.to_epsg() == 4326
    assert written["sites.csv"].read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(written["sites.csv"], encoding="utf-8-sig")
    assert table["site_id"].tolist() == result.sites["site_id"].tolist()

    import coverage.outputs.files

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(coverage.outputs.files, "write_csv", broken)
    before = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()}
    with pytest.raises(OSError, match="disk full"):
        write_sites(site(mwali, model="mclp", k=1, minutes=15, matrix=village_matrix), tmp_path / "out")
    after = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()}
    assert after == before


def test_benchmark_naive_matrix_agrees_with_ours(mwali, village_matrix):
    """The naive networkx matrix of benchmarks/siting.py gives our times (so its comparison is fair)."""
    path = REPO / "benchmarks" / "siting.py"
    spec = importlib.util.spec_from_file_location("coverage_benchmarks_siting", path)
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    network = mwali.network
    nodes = bench.run.random_nodes(network, 6, seed=3)
    demand = _attached(mwali, mwali.villages)
    ours = pair_seconds(network, bench.run.attachment_at_nodes(network, nodes), demand, cutoff_minutes=30)
    naive = bench.naive_pair_seconds(bench.run.networkx_graph(network), network, nodes, demand, limit_s=1800.0)
    assert ours.nnz == naive.nnz > 0
    assert (ours.indices == naive.indices).all()
    assert np.abs(ours.data - naive.data).max() < 1e-6


def test_existing_facilities_as_the_only_candidates_say_what_to_do(mwali):
    from coverage.siting.candidates import candidates_from

    open_already = candidates_from(mwali.facilities, network=mwali.network, kind="existing")
    with pytest.raises(InputError, match=r"open already.*kind='file'"):
        site(mwali, model="mclp", k=1, minutes=15, candidates=open_already, demand="villages")
    upgrades = candidates_from(mwali.facilities, network=mwali.network, kind="file")
    result = site(mwali, model="mclp", k=1, minutes=15, candidates=upgrades, demand="villages", free_existing=True)
    assert len(result.sites) >= 1


def test_the_analysis_attachment_is_reused_only_for_its_own_points(mwali):
    from coverage.siting.models import _attached

    own = _attached(mwali, mwali.villages, "villages")
    assert own.segment is mwali.attachments["villages"].segment  # not snapped again
    moved = mwali.villages.copy()
    moved["snap_distance_m"] = moved["snap_distance_m"] + 1.0  # other points
    fresh = _attached(mwali, moved, "villages")
    assert fresh.segment is not own.segment
    assert np.array_equal(fresh.segment, own.segment)  # same places, same roads
