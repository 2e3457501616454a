"""Tests of coverage.network.prepared (the prepared CSR network) and coverage.network.sources (reading and caching).

Hand-made road tables check single rules with figures worked out by hand; the real
Mwali roads (from the Comoros extract) check the same rules at scale against an
independent computation; the cache is exercised on the small Fomboni extract.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import coverage.network.sources
from coverage._errors import InputError
from coverage.io.osm import roads_from_osm
from coverage.io.roads import Roads, make_roads
from coverage.network.prepared import (
    CACHE_FORMAT,
    SMALL_PIECE_SHARE,
    Network,
    cache_key,
    default_cache_dir,
    file_sha256,
    load_cached_network,
    prepare_network,
    save_network,
)
from coverage.network.profiles import load_profile
from coverage.network.sources import load_network, read_roads
from tests.conftest import DATA, INPUT

FOMBONI = INPUT / "fomboni.osm"
PROFILES = DATA / "profiles"

#: A plausible UTM 38S position (Mwali) for hand-made coordinates in metres.
X0, Y0 = 500_000.0, 8_640_000.0


def make_tiny_roads(
    points: dict[int, tuple[float, float]],
    pieces: list[tuple[list[int], dict[str, object]]],
    *,
    source: str = "tiny",
) -> Roads:
    """Roads from hand coordinates (metres from X0, Y0); each piece runs along its point ids."""
    nodes = gpd.GeoDataFrame(
        index=pd.Index(list(points), name="node"),
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in points.values()],
        crs=32738,
    )
    rows = [
        {"u": refs[0], "v": refs[-1], "highway": "residential", "oneway": 0, **attributes}
        for refs, attributes in pieces
    ]
    lines = [shapely.LineString([(X0 + points[r][0], Y0 + points[r][1]) for r in refs]) for refs, _ in pieces]
    edges = gpd.GeoDataFrame(rows, geometry=lines, crs=32738)
    return make_roads(nodes, edges, source=source)


def graph_entries(graph) -> dict[tuple[int, int], float]:
    coo = graph.tocoo()
    return {(int(r), int(c)): float(w) for r, c, w in zip(coo.row, coo.col, coo.data, strict=True)}


@pytest.fixture(scope="module")
def walk():
    return load_profile("walk")


@pytest.fixture(scope="module")
def residential_s_per_m(car) -> float:
    """Seconds per metre on a rural residential road by car (16 km/h in car.toml)."""
    return 3.6 / car.rural_kph["residential"]


# --- the CSR matrix, on hand-made roads --------------------------------------------------


def test_parallel_pieces_keep_the_fastest(car, residential_s_per_m):
    # 1 --100 m-- 2, and a detour 1 -> 3 -> 2 of 2 x 111.8 m
    points = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (50.0, 100.0)}
    roads = make_tiny_roads(points, [([1, 3, 2], {}), ([1, 2], {})])
    network = prepare_network(roads, car)
    assert network.n_segments == 2  # both pieces stay in the segment arrays
    assert list(network.node_ids) == [1, 2]  # 3 is only a shape point
    np.testing.assert_allclose(network.seg_length_m, [2 * np.hypot(50, 100), 100.0])
    assert graph_entries(network.graph) == {
        (0, 1): pytest.approx(100 * residential_s_per_m),
        (1, 0): pytest.approx(100 * residential_s_per_m),
    }
    assert 100 * residential_s_per_m == pytest.approx(22.5)  # 100 m at 16 km/h


def test_parallel_pieces_keep_the_fastest_per_direction(car, residential_s_per_m):
    # the short piece is one-way 2 -> 1 (oneway=-1): from 1 to 2 only the detour is left
    points = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (50.0, 100.0)}
    roads = make_tiny_roads(points, [([1, 2], {"oneway": -1}), ([1, 3, 2], {})])
    network = prepare_network(roads, car)
    detour_m = 2 * np.hypot(50, 100)
    assert graph_entries(network.graph) == {
        (0, 1): pytest.approx(detour_m * residential_s_per_m),
        (1, 0): pytest.approx(100 * residential_s_per_m),
    }
    assert network.reverse_graph[1, 0] == pytest.approx(detour_m * residential_s_per_m)


def test_self_loops_stay_pieces_but_not_graph_edges(car):
    points = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (0.0, 50.0), 4: (-50.0, 50.0)}
    roads = make_tiny_roads(points, [([1, 2], {}), ([1, 3, 4, 1], {})])
    network = prepare_network(roads, car)
    assert network.n_segments == 2
    assert network.seg_u[1] == network.seg_v[1] == 0
    assert set(graph_entries(network.graph)) == {(0, 1), (1, 0)}
    assert network.components.n_components == 1


def test_zero_length_piece_stays_an_edge(car):
    # two OSM nodes at one location (a mapping slip) joined by a piece of 0 m: 0 s, still an edge
    points = {1: (0.0, 0.0), 2: (0.0, 0.0), 3: (100.0, 0.0)}
    roads = make_tiny_roads(points, [([1, 2], {}), ([2, 3], {})])
    network = prepare_network(roads, car)
    assert graph_entries(network.graph)[(0, 1)] == 0.0
    assert network.graph.nnz == 4
    assert network.components.n_components == 1


def test_one_way_pieces(car, residential_s_per_m):
    points = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (200.0, 0.0)}
    roads = make_tiny_roads(points, [([1, 2], {"oneway": 1}), ([2, 3], {"oneway": -1})])
    network = prepare_network(roads, car)
    assert network.seg_forward_s.tolist() == [pytest.approx(100 * residential_s_per_m), np.inf]
    assert network.seg_backward_s.tolist() == [np.inf, pytest.approx(100 * residential_s_per_m)]
    assert set(graph_entries(network.graph)) == {(0, 1), (2, 1)}
    assert network.components.n_components == 1  # weakly connected


def test_profile_that_can_use_nothing(car):
    points = {1: (0.0, 0.0), 2: (100.0, 0.0)}
    roads = make_tiny_roads(points, [([1, 2], {"highway": "footway"})], source="paths.gpkg")
    with pytest.raises(
        InputError, match=r"paths\.gpkg: profile 'car' can use none of the 1 roads \(classes found: footway\)"
    ):
        prepare_network(roads, car)


def test_access_closes_pieces(car):
    points = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (200.0, 0.0)}
    roads = make_tiny_roads(points, [([1, 2], {}), ([2, 3], {"access": "private"})])
    network = prepare_network(roads, car)
    assert network.n_segments == 1
    assert list(network.node_ids) == [1, 2]


# --- the CSR matrix, on the real Mwali roads ---------------------------------------------


@pytest.fixture(scope="module")
def car_edges(mwali_roads, car):
    """The Mwali pieces a car can use, found from the tags without the profile code."""
    edges = mwali_roads.edges
    assert edges["access"].isna().all()
    assert edges["maxspeed"].isna().all()
    assert set(edges["highway"]) == {"residential", "tertiary", "track", "unclassified", "path", "service"}
    return edges[edges["highway"] != "path"].reset_index(drop=True)


def test_mwali_pieces_the_car_cannot_use_are_absent(mwali_roads, mwali_network, car_edges):
    assert "path" not in set(mwali_network.seg_highway)
    assert mwali_network.n_segments == len(car_edges) == 1440
    assert list(mwali_network.node_ids[mwali_network.seg_u]) == list(car_edges["u"])
    assert list(mwali_network.node_ids[mwali_network.seg_v]) == list(car_edges["v"])
    assert set(mwali_network.node_ids) == set(car_edges["u"]) | set(car_edges["v"])
    # nodes reached only by paths are not in the car network
    assert len(mwali_roads.nodes) == 1120
    assert mwali_network.n_nodes == 1091
    np.testing.assert_array_equal(np.sort(mwali_network.node_ids), mwali_network.node_ids)


def test_mwali_travel_times_and_one_way(mwali_network, car_edges, car):
    kph = car_edges["highway"].map(car.rural_kph).to_numpy()
    seconds = car_edges["length_m"].to_numpy() * 3.6 / kph
    oneway = car_edges["oneway"].to_numpy()
    assert (oneway == 1).sum() == 35
    assert (oneway == -1).sum() == 0
    np.testing.assert_allclose(mwali_network.seg_forward_s, seconds, rtol=1e-12)
    np.testing.assert_allclose(mwali_network.seg_backward_s[oneway == 0], seconds[oneway == 0], rtol=1e-12)
    assert np.isinf(mwali_network.seg_backward_s[oneway == 1]).all()
    np.testing.assert_array_equal(mwali_network.seg_length_m, car_edges["length_m"])
    assert mwali_network.seg_u.dtype == mwali_network.seg_v.dtype == np.int32
    assert mwali_network.crs.to_epsg() == 32738
    assert (mwali_network.profile, mwali_network.source) == ("car", "comores-latest.osm.pbf")


def test_mwali_graph_is_the_fastest_finite_pair(mwali_network):
    expected: dict[tuple[int, int], float] = {}
    for u, v, forward, backward in zip(
        mwali_network.seg_u, mwali_network.seg_v, mwali_network.seg_forward_s, mwali_network.seg_backward_s, strict=True
    ):
        for a, b, seconds in ((u, v, forward), (v, u, backward)):
            if a != b and np.isfinite(seconds):
                expected[(int(a), int(b))] = min(seconds, expected.get((int(a), int(b)), np.inf))
    assert (mwali_network.seg_u == mwali_network.seg_v).sum() == 2  # two real self-loops
    assert graph_entries(mwali_network.graph) == expected
    assert mwali_network.graph.has_sorted_indices
    assert mwali_network.graph.shape == (mwali_network.n_nodes, mwali_network.n_nodes)


def test_walk_profile_ignores_oneway(mwali_roads, walk):
    network = prepare_network(mwali_roads, walk)
    assert not walk.honour_oneway
    assert network.n_segments == len(mwali_roads.edges) == 1485  # paths included
    assert np.isfinite(network.seg_forward_s).all()
    np.testing.assert_array_equal(network.seg_forward_s, network.seg_backward_s)
    coo = network.graph.tocoo()
    assert (network.graph != network.graph.T).nnz == 0  # symmetric
    assert len(coo.data) > 0


def test_urban_area_gives_urban_speeds(mwali_roads, mwali_boundary, car, car_edges):
    network = prepare_network(mwali_roads, car, urban_area=mwali_boundary)
    kph = car_edges["highway"].map(car.urban_kph).to_numpy()
    np.testing.assert_allclose(network.seg_forward_s, car_edges["length_m"].to_numpy() * 3.6 / kph, rtol=1e-12)


# --- components ----------------------------------------------------------------------------


def union_find_sizes(n: int, seg_u: np.ndarray, seg_v: np.ndarray) -> np.ndarray:
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for u, v in zip(seg_u, seg_v, strict=True):
        parent[find(int(u))] = find(int(v))
    roots = np.array([find(i) for i in range(n)])
    return roots


def test_mwali_components(mwali_network):
    roots = union_find_sizes(mwali_network.n_nodes, mwali_network.seg_u, mwali_network.seg_v)
    _, expected_sizes = np.unique(roots, return_counts=True)
    sizes = np.bincount(mwali_network.component)
    assert sorted(sizes, reverse=True) == sorted(expected_sizes, reverse=True) == [1089, 2]
    assert list(sizes) == sorted(sizes, reverse=True)  # 0 is the largest
    # same partition: nodes share a label exactly when they share a root
    pairs = set(zip(roots, mwali_network.component, strict=True))
    assert len(pairs) == len(sizes)
    report = mwali_network.components
    assert (report.n_components, report.largest_nodes, report.small_pieces, report.small_piece_nodes) == (2, 1089, 1, 2)
    assert mwali_network.small_piece.sum() == 2
    assert str(report).startswith("the network has 2 disconnected pieces: the largest holds 1,089 nodes")
    assert mwali_network.component.dtype == np.int32


def chain_and_fragment(chain_nodes: int, fragment_nodes: int) -> Roads:
    """A straight chain of nodes 1000..., and a separate fragment with the lowest ids 1...."""
    points = {1000 + i: (100.0 * i, 0.0) for i in range(chain_nodes)}
    points |= {1 + i: (100.0 * i, 5000.0) for i in range(fragment_nodes)}
    pieces = [([1000 + i, 1001 + i], {"oneway": i % 2}) for i in range(chain_nodes - 1)]
    pieces += [([1 + i, 2 + i], {}) for i in range(fragment_nodes - 1)]
    return make_tiny_roads(points, pieces)


def test_small_piece_is_under_the_share(car):
    assert SMALL_PIECE_SHARE == 0.01
    network = prepare_network(chain_and_fragment(298, 2), car)  # 2 of 300 nodes: 0.67 %
    fragment = network.node_ids < 1000
    assert fragment.sum() == 2
    assert network.n_nodes == 300
    # scipy numbers the fragment (lowest node index) first; the largest piece must become 0
    assert (network.component[fragment] == 1).all()
    assert (network.component[~fragment] == 0).all()
    np.testing.assert_array_equal(network.small_piece, fragment)
    report = network.components
    assert (report.n_components, report.largest_nodes, report.small_pieces, report.small_piece_nodes) == (2, 298, 1, 2)
    assert "1 small pieces (under 1% of the nodes each) hold 2 nodes" in str(report)
    assert "300 nodes" in repr(network)
    assert "2 pieces" in repr(network)


def test_a_piece_of_exactly_the_share_is_not_small(car):
    network = prepare_network(chain_and_fragment(297, 3), car)  # 3 of 300 nodes: exactly 1 %
    assert not network.small_piece.any()
    assert network.components.small_pieces == 0
    assert network.components.n_components == 2


def test_one_piece_report(car):
    network = prepare_network(chain_and_fragment(5, 0), car)
    assert str(network.components) == "the network is one connected piece"
    assert not network.small_piece.any()


# --- save and load -------------------------------------------------------------------------


def assert_same_network(a: Network, b: Network) -> None:
    for name in (
        "node_ids",
        "node_xy",
        "seg_u",
        "seg_v",
        "seg_forward_s",
        "seg_backward_s",
        "seg_length_m",
        "seg_highway",
        "component",
        "small_piece",
    ):
        left, right = getattr(a, name), getattr(b, name)
        assert left.dtype == right.dtype, name
        np.testing.assert_array_equal(left, right, err_msg=name)
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(a.graph, name), getattr(b.graph, name), err_msg=name)
    assert len(a.seg_geometry) == len(b.seg_geometry)
    coords_a, index_a = shapely.get_coordinates(a.seg_geometry, return_index=True)
    coords_b, index_b = shapely.get_coordinates(b.seg_geometry, return_index=True)
    np.testing.assert_array_equal(coords_a, coords_b)
    np.testing.assert_array_equal(index_a, index_b)
    assert a.crs == b.crs
    assert (a.profile, a.source) == (b.profile, b.source)


def test_save_and_load_round_trip_is_exact(mwali_network, tmp_path):
    path = tmp_path / "deep" / "folder" / "mwali.npz"
    save_network(mwali_network, path)
    assert [p.name for p in path.parent.iterdir()] == ["mwali.npz"]  # no temporary left behind
    loaded = load_cached_network(path)
    assert_same_network(mwali_network, loaded)
    assert loaded.crs.to_epsg() == 32738
    assert repr(loaded) == repr(mwali_network)


# --- the cache in load_network ---------------------------------------------------------------


def forbid_reading(monkeypatch) -> None:
    def read_roads_forbidden(*args, **kwargs):
        msg = "the OSM file was read although a cached network exists"
        raise AssertionError(msg)

    monkeypatch.setattr(coverage.network.sources, "read_roads", read_roads_forbidden)


def count_reads(monkeypatch) -> list[str]:
    calls: list[str] = []
    original = coverage.network.sources.read_roads

    def counting(path, **kwargs):
        calls.append(str(path))
        return original(path, **kwargs)

    monkeypatch.setattr(coverage.network.sources, "read_roads", counting)
    return calls


def test_second_load_uses_the_cache(tmp_path, monkeypatch, car):
    first = load_network(FOMBONI, cache_dir=tmp_path)
    cached = list(tmp_path.iterdir())
    assert len(cached) == 1
    assert re.fullmatch(r"fomboni\.osm\.car\.[0-9a-f]{24}\.npz", cached[0].name)
    forbid_reading(monkeypatch)
    second = load_network(FOMBONI, cache_dir=tmp_path, profile=car)
    assert_same_network(first, second)
    assert_same_network(first, prepare_network(roads_from_osm(FOMBONI), car))
    assert list(tmp_path.iterdir()) == cached


def test_an_edited_profile_gets_its_own_cache(tmp_path, monkeypatch):
    text = (PROFILES / "car.toml").read_text(encoding="utf-8")
    head, rural = text.split("[rural_kph]")
    rural, n = re.subn(r"(?m)^residential = 16\.0", "residential = 20.0", rural)
    assert n == 1
    edited_path = tmp_path / "car_faster.toml"
    edited_path.write_text(head + "[rural_kph]" + rural, encoding="utf-8")
    edited = load_profile(edited_path)
    assert edited.name == "car"
    assert edited.rural_kph["residential"] == 20.0

    cache = tmp_path / "cache"
    plain = load_network(FOMBONI, cache_dir=cache)
    faster = load_network(FOMBONI, cache_dir=cache, profile=str(edited_path))
    assert len(list(cache.iterdir())) == 2
    residential = plain.seg_highway == "residential"
    assert residential.sum() > 0
    np.testing.assert_allclose(faster.seg_forward_s[residential], plain.seg_forward_s[residential] * 16 / 20)
    np.testing.assert_array_equal(faster.seg_forward_s[~residential], plain.seg_forward_s[~residential])
    forbid_reading(monkeypatch)
    assert_same_network(load_network(FOMBONI, cache_dir=cache, profile=edited), faster)


def test_a_boundary_gets_its_own_cache(tmp_path, monkeypatch):
    whole = load_network(FOMBONI, cache_dir=tmp_path)
    box = shapely.box(43.755, -12.29, 43.765, -12.28)
    clipped = load_network(FOMBONI, cache_dir=tmp_path, boundary=box)
    assert len(list(tmp_path.iterdir())) == 2
    assert 0 < clipped.n_segments < whole.n_segments
    other_box = shapely.box(43.755, -12.29, 43.766, -12.28)
    calls = count_reads(monkeypatch)
    assert_same_network(load_network(FOMBONI, cache_dir=tmp_path, boundary=box), clipped)
    assert calls == []
    load_network(FOMBONI, cache_dir=tmp_path, boundary=other_box)
    assert len(calls) == 1
    assert len(list(tmp_path.iterdir())) == 3


def test_a_changed_file_gets_its_own_cache(tmp_path, monkeypatch):
    copy = tmp_path / "fomboni.osm"
    shutil.copyfile(FOMBONI, copy)
    cache = tmp_path / "cache"
    load_network(copy, cache_dir=cache)
    with open(copy, "a", encoding="utf-8") as handle:
        handle.write("\n")  # same roads, other bytes: the hash changes
    calls = count_reads(monkeypatch)
    load_network(copy, cache_dir=cache)
    assert len(calls) == 1
    assert len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "last_bytes_cut"])
def test_a_corrupt_cache_is_ignored_and_rebuilt(tmp_path, monkeypatch, caplog, damage):
    original = load_network(FOMBONI, cache_dir=tmp_path)
    (cache_file,) = tmp_path.iterdir()
    data = cache_file.read_bytes()
    damaged = {
        "garbage": b"this is not an npz file",
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "last_bytes_cut": data[:-30],
    }[damage]
    cache_file.write_bytes(damaged)
    calls = count_reads(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="coverage.network.sources"):
        rebuilt = load_network(FOMBONI, cache_dir=tmp_path)
    assert "cannot be read" in caplog.text or "does not match the checksum" in caplog.text
    assert cache_file.name in caplog.text
    assert len(calls) == 1
    assert_same_network(original, rebuilt)
    assert_same_network(original, load_cached_network(cache_file))  # written again, whole


def _rewrite_cache(path, **changes):
    """The cache file with some arrays replaced, its checksum left as it was (an edit, or damage on disk)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


@pytest.mark.parametrize("change", ["faster_roads", "inconsistent_arrays", "no_checksum"])
def test_a_changed_cache_is_not_trusted_and_rebuilt(tmp_path, monkeypatch, caplog, change):
    original = load_network(FOMBONI, cache_dir=tmp_path)
    (cache_file,) = tmp_path.iterdir()
    if change == "faster_roads":  # every trip twice as fast: the shares would rise, silently
        _rewrite_cache(cache_file, seg_forward_s=original.seg_forward_s / 2, seg_backward_s=original.seg_backward_s / 2)
    elif change == "inconsistent_arrays":  # pieces pointing at nodes that do not exist
        _rewrite_cache(cache_file, seg_v=original.seg_v + original.n_nodes)
    else:
        with np.load(cache_file, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files if name != "sha256"}
        with open(cache_file, "wb") as handle:
            np.savez(handle, **arrays)
    calls = count_reads(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="coverage.network.sources"):
        rebuilt = load_network(FOMBONI, cache_dir=tmp_path)
    expected = "holds no checksum" if change == "no_checksum" else "does not match the checksum written with it"
    assert expected in caplog.text
    assert "building it again from fomboni.osm" in caplog.text
    assert len(calls) == 1
    assert_same_network(original, rebuilt)
    assert_same_network(original, load_cached_network(cache_file))


def test_use_cache_false_writes_and_reads_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    load_network(FOMBONI, cache_dir=cache, use_cache=False)
    assert not cache.exists()
    load_network(FOMBONI, cache_dir=cache)
    (cache_file,) = cache.iterdir()
    stamp = cache_file.stat().st_mtime_ns
    calls = count_reads(monkeypatch)
    load_network(FOMBONI, cache_dir=cache, use_cache=False)
    assert len(calls) == 1  # the existing cache was not used
    assert list(cache.iterdir()) == [cache_file]
    assert cache_file.stat().st_mtime_ns == stamp


def test_an_unwritable_cache_folder_is_a_warning(tmp_path, caplog):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="coverage.network.sources"):
        network = load_network(FOMBONI, cache_dir=blocker)
    assert network.n_segments > 0
    assert "could not write the network cache" in caplog.text


def test_load_network_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match=r"road network file not found: .*absent\.osm\.pbf"):
        load_network(tmp_path / "absent.osm.pbf", cache_dir=tmp_path)
    folder = tmp_path / "roads.osm"
    folder.mkdir()
    with pytest.raises(InputError, match=r"roads\.osm is a folder"):
        load_network(folder, cache_dir=tmp_path)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FACILITY_COVERAGE_CACHE", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("FACILITY_COVERAGE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "facility-coverage"


def test_cache_key_and_file_hash(tmp_path):
    assert cache_key("a", "b") == cache_key("a", "b")
    assert len({cache_key("a", "b"), cache_key("b", "a"), cache_key("ab"), cache_key("a", "b", "")}) == 4
    assert re.fullmatch(r"[0-9a-f]{24}", cache_key())
    assert CACHE_FORMAT >= 1
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 5000)  # over one read block
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


# --- read_roads dispatch ----------------------------------------------------------------------


def test_read_roads_picks_the_reader(monkeypatch):
    import coverage.io.gis_roads
    import coverage.io.graphml

    osm = read_roads(FOMBONI)
    assert osm.edges.equals(roads_from_osm(FOMBONI).edges)
    calls = []
    monkeypatch.setattr(
        coverage.io.graphml, "roads_from_graphml", lambda path: calls.append(("graphml", Path(path).name))
    )
    monkeypatch.setattr(
        coverage.io.gis_roads,
        "roads_from_lines",
        lambda path, **kwargs: calls.append(("lines", Path(path).name, kwargs)),
    )
    box = shapely.box(43.755, -12.29, 43.765, -12.28)
    read_roads(INPUT / "fomboni.graphml")
    read_roads(INPUT / "FOMBONI_ROADS.GPKG", class_column="道路等级", layer="roads", boundary=box)
    assert calls == [
        ("graphml", "fomboni.graphml"),
        (
            "lines",
            "FOMBONI_ROADS.GPKG",
            {"layer": "roads", "class_column": "道路等级", "boundary": box, "default_class": "unclassified"},
        ),
    ]


def test_read_roads_errors(tmp_path):
    with pytest.raises(InputError, match=r"fomboni_roads\.gpkg: a GIS lines file needs .*--road-class-column"):
        read_roads(INPUT / "fomboni_roads.gpkg")
    with pytest.raises(InputError, match=r"roads\.csv: unknown road network format.*\.osm\.pbf.*\.graphml.*\.gpkg"):
        read_roads(tmp_path / "roads.csv")


def test_length_network_gives_road_distances():
    from coverage.network.prepared import length_network
    from coverage.network.routing import nearest_facility
    from coverage.network.snapping import attach_points
    from tests.handmade import CRS_M, handmade_network, xy

    network = length_network(handmade_network())
    facility = attach_points(
        network,
        gpd.GeoDataFrame({"id": ["F"]}, geometry=[shapely.Point(xy(250, 50))], crs=CRS_M),
        access_speed_kph=3.6,
        tolerance_m=100,
    )
    reach = nearest_facility(network, facility, direction="from_facility")
    # 50 m off-road, then along the roads; C only through the one-way B->C
    np.testing.assert_allclose(reach.node_seconds, [300.0, 800.0, 1800.0, 1800.0])
    back = nearest_facility(network, facility, direction="to_facility")
    assert np.isinf(back.node_seconds[2])
