"""Incremental nearest-station times: after any sequence of edits, a fresh multi-source search's times.

The reference is :func:`coverage.network.routing.nearest_facility` (itself checked against
networkx in test_routing.py) on the stations open at the end, with the same horizon as
its limit, read at the points with :func:`~coverage.network.routing.reach_points`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.network.incremental import IncrementalReach
from coverage.network.offroad import direct_offroad
from coverage.network.routing import nearest_facility, reach_points
from coverage.network.snapping import Attachment, attach_points
from tests.handmade import handmade_network, xy

HORIZON_MINUTES = 20.0


@pytest.fixture(scope="module")
def pool(mwali_network, mwali_places, mwali_facilities):
    """Where stations may stand: the island's facilities, villages and points spread over its roads."""
    network = mwali_network
    rng = np.random.default_rng(7)
    segments = rng.choice(network.n_segments, size=60, replace=False)
    on_roads = gpd.GeoSeries(
        [network.seg_geometry[s].interpolate(rng.uniform(0, 1), normalized=True) for s in segments],
        crs=network.crs,
    )
    spots = gpd.GeoSeries(
        [*mwali_facilities.to_crs(network.crs).geometry, *mwali_places.to_crs(network.crs).geometry, *on_roads],
        crs=network.crs,
    )
    return attach_points(network, spots, access_speed_kph=5.0, tolerance_m=1000.0)


@pytest.fixture(scope="module")
def targets(mwali_network, mwali_places, pool):
    """Points whose times are kept: the villages, and the pool itself (stations sharing pieces with points)."""
    villages = attach_points(mwali_network, mwali_places, access_speed_kph=5.0, tolerance_m=1000.0)
    return {"villages": villages, "spots": pool}


def _station(pool: Attachment, index: int, station_id: str) -> Attachment:
    one = pool.subset(np.array([index]))
    return Attachment(**{**one.__dict__, "ids": np.array([station_id])})


def _fresh(network, stations: list[Attachment], direction: str, targets: dict[str, Attachment]):
    """Node and point seconds of one multi-source search from the given stations."""
    if not stations:
        return np.full(network.n_nodes, np.inf), {name: np.full(len(att), np.inf) for name, att in targets.items()}
    together = Attachment(
        **{
            key: np.concatenate([getattr(s, key) for s in stations])
            for key in (
                "ids",
                "segment",
                "fraction",
                "snap_distance_m",
                "access_s",
                "snapped_xy",
                "off_network",
                "small_piece",
            )
        }
    )
    reach = nearest_facility(network, together, direction=direction, limit_s=HORIZON_MINUTES * 60.0)
    return reach.node_seconds, {name: reach_points(network, reach, att)[0] for name, att in targets.items()}


def _check(engine: IncrementalReach, network, stations: dict[str, Attachment], direction: str, targets) -> None:
    nodes, points = _fresh(network, list(stations.values()), direction, targets)
    np.testing.assert_array_equal(engine.node_seconds, nodes)
    for name, seconds in points.items():
        np.testing.assert_array_equal(engine.point_seconds(name), seconds)
        # the nearest station named is one whose own time to the point is the point's time
        nearest = engine.point_station(name)
        assert ((nearest == None) == ~np.isfinite(seconds)).all()  # noqa: E711 (object array)
    assert set(engine.stations) == set(stations)


edits = st.lists(
    st.tuples(st.sampled_from(["add", "add", "remove", "move"]), st.integers(0, 10_000), st.integers(0, 10_000)),
    min_size=1,
    max_size=14,
)


@pytest.mark.parametrize("direction", ["from_facility", "to_facility"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=edits)
def test_any_sequence_of_edits_gives_the_times_of_a_fresh_search(mwali_network, pool, targets, direction, sequence):
    network = mwali_network
    engine = IncrementalReach(network, direction=direction, horizon_minutes=HORIZON_MINUTES, points=targets)
    opened = _edited(engine, pool, sequence)
    _check(engine, network, opened, direction, targets)


WALK_M = 400.0


@pytest.mark.parametrize("direction", ["from_facility", "to_facility"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=edits)
def test_with_straight_walks_the_times_are_the_analysis_times(mwali_network, pool, targets, direction, sequence):
    """A station close to a point also gets the straight walk, as analyze() adds it to a fresh search."""
    network = mwali_network
    engine = IncrementalReach(
        network,
        direction=direction,
        horizon_minutes=HORIZON_MINUTES,
        points=targets,
        walk_speed_kph=5.0,
        walk_m=WALK_M,
    )
    opened = _edited(engine, pool, sequence)
    _, fresh = _fresh(network, list(opened.values()), direction, targets)
    for name, points in targets.items():
        expected = fresh[name]
        if opened:
            expected, _, _ = direct_offroad(
                points.point_xy,
                fresh[name],
                np.zeros(len(points), dtype=np.int64),
                facility_xy=np.concatenate([s.point_xy for s in opened.values()]),
                speed_kph=5.0,
                max_distance_m=np.maximum(WALK_M, points.snap_distance_m),
            )
        np.testing.assert_allclose(engine.point_seconds(name), expected, rtol=1e-12, atol=0)


def _edited(engine: IncrementalReach, pool: Attachment, sequence) -> dict[str, Attachment]:
    """The stations open after a few opened together and a sequence of edits (as the web app makes them)."""
    # start from a few stations opened together (one batch of searches), as the web app does
    opened = {f"s{i}": _station(pool, i, f"s{i}") for i in range(3)}
    engine.add(
        Attachment(**{key: np.concatenate([getattr(s, key) for s in opened.values()]) for key in opened["s0"].__dict__})
    )
    counter = 3
    for action, a, b in sequence:
        if action == "add" or not opened:
            station_id = f"s{counter}"
            counter += 1
            opened[station_id] = _station(pool, a % len(pool), station_id)
            change = engine.add(opened[station_id])
            assert change.stations == (station_id,)
        elif action == "remove":
            station_id = sorted(opened)[a % len(opened)]
            del opened[station_id]
            engine.remove(station_id)
        else:
            station_id = sorted(opened)[a % len(opened)]
            opened[station_id] = _station(pool, b % len(pool), station_id)
            engine.move(station_id, pool.subset(np.array([b % len(pool)])))
    return opened


def test_times_match_after_each_edit_and_points_added_later(mwali_network, pool, targets):
    network = mwali_network
    engine = IncrementalReach(network, direction="from_facility", horizon_minutes=HORIZON_MINUTES)
    opened: dict[str, Attachment] = {}
    for i in (0, 5, 9, 40):
        opened[f"s{i}"] = _station(pool, i, f"s{i}")
        engine.add(opened[f"s{i}"])
    engine.add_points("villages", targets["villages"])
    _check(engine, network, opened, "from_facility", {"villages": targets["villages"]})
    engine.remove(["s5", "s9"])
    del opened["s5"], opened["s9"]
    engine.add_points("spots", targets["spots"])
    _check(engine, network, opened, "from_facility", targets)
    engine.remove(["s0", "s40"])
    _check(engine, network, {}, "from_facility", targets)
    assert engine.reach().node_facility.max() == -1


def test_the_reach_is_a_multi_source_search(mwali_network, pool):
    engine = IncrementalReach(mwali_network, direction="to_facility", horizon_minutes=np.inf)
    engine.add(pool.subset(np.arange(6)))
    engine.remove(str(pool.ids[2]))
    reach = engine.reach()
    fresh = nearest_facility(mwali_network, pool.subset(np.array([0, 1, 3, 4, 5])), direction="to_facility")
    np.testing.assert_array_equal(reach.node_seconds, fresh.node_seconds)
    assert list(reach.facilities.ids) == [str(i) for i in pool.ids[[0, 1, 3, 4, 5]]]
    # each node's station is one that reaches it in that time
    reached = reach.node_facility >= 0
    assert (reach.node_facility[reached] < 5).all()


def test_an_edit_recomputes_only_what_it_touches(mwali_network, pool, targets):
    engine = IncrementalReach(mwali_network, direction="from_facility", horizon_minutes=10.0, points=targets)
    engine.add(pool.subset(np.arange(5)))
    change = engine.add(_station(pool, 50, "new"))
    assert 0 < len(change.nodes) < mwali_network.n_nodes
    assert len(change.points["villages"]) < len(targets["villages"])
    # nodes the new station is nearest to are exactly those it improved
    assert set(np.flatnonzero(engine.node_station() == "new")) <= set(change.nodes)


def test_handmade_one_way_street():
    """B -> C is one way: from a station at C nothing is reached but C; towards C, A and B are."""
    network = handmade_network()
    at_c = attach_points(
        network,
        gpd.GeoSeries(gpd.points_from_xy([xy(2000, 0)[0]], [xy(2000, 0)[1]]), crs=network.crs),
        access_speed_kph=5.0,
        tolerance_m=100.0,
        ids=np.array(["c"]),
    )
    outward = IncrementalReach(network, direction="from_facility", horizon_minutes=60)
    outward.add(at_c)
    assert np.isinf(outward.node_seconds[[0, 1, 3]]).all()
    inward = IncrementalReach(network, direction="to_facility", horizon_minutes=60)
    inward.add(at_c)
    np.testing.assert_allclose(inward.node_seconds, [200.0, 100.0, 0.0, 300.0])
    inward.remove("c")
    assert np.isinf(inward.node_seconds).all()


def test_bad_edits_are_refused_and_change_nothing(mwali_network, pool, targets):
    engine = IncrementalReach(mwali_network, direction="from_facility", horizon_minutes=HORIZON_MINUTES, points=targets)
    engine.add(_station(pool, 0, "a"))
    before = engine.point_seconds("villages")
    with pytest.raises(InputError, match="no open station 'zzz'"):
        engine.remove("zzz")
    with pytest.raises(InputError, match="open already"):
        engine.add(_station(pool, 3, "a"))
    with pytest.raises(InputError, match="no open station"):
        engine.move("zzz", pool.subset(np.array([1])))
    with pytest.raises(InputError, match="no point set"):
        engine.point_seconds("cells")
    with pytest.raises(InputError, match="horizon_minutes"):
        IncrementalReach(mwali_network, horizon_minutes=0)
    np.testing.assert_array_equal(engine.point_seconds("villages"), before)
    assert engine.stations == ("a",)
