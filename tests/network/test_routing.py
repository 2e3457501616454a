"""Travel times checked against an independent networkx Dijkstra on the same graph."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.network.routing import nearest_facility, reach_points, travel_time_table
from coverage.network.snapping import attach_points
from tests.reference import nearest_times


def _random_points(network, rng, count):
    """Points scattered around random road pieces of the network (up to ~300 m off the road)."""
    seg = rng.integers(0, network.n_segments, count)
    on_road = shapely.line_interpolate_point(network.seg_geometry[seg], rng.random(count), normalized=True)
    dx, dy = rng.normal(0, 120, count), rng.normal(0, 120, count)
    points = shapely.points(shapely.get_x(on_road) + dx, shapely.get_y(on_road) + dy)
    return gpd.GeoSeries(points, crs=network.crs)


def _attach(network, points):
    return attach_points(network, points, access_speed_kph=5.0, tolerance_m=500.0)


@pytest.mark.parametrize("direction", ["from_facility", "to_facility"])
@pytest.mark.parametrize("seed", [1, 2])
def test_nearest_facility_matches_networkx(mwali_network, direction, seed):
    rng = np.random.default_rng(seed)
    facilities = _attach(mwali_network, _random_points(mwali_network, rng, 6))
    places = _attach(mwali_network, _random_points(mwali_network, rng, 300))
    reach = nearest_facility(mwali_network, facilities, direction=direction)
    seconds, facility = reach_points(mwali_network, reach, places)
    expected_points, expected_nodes = nearest_times(
        mwali_network, facilities, places, reverse=direction == "to_facility"
    )
    np.testing.assert_allclose(reach.node_seconds, expected_nodes, rtol=0, atol=1e-6)
    np.testing.assert_allclose(seconds, expected_points, rtol=0, atol=1e-6)
    assert np.isfinite(seconds).sum() > 250  # most of Mwali is connected
    # the facility named is one that achieves that time
    for j in np.flatnonzero(np.isfinite(seconds))[:40]:
        single = facilities.subset(np.array([facility[j]]))
        one, _ = nearest_times(mwali_network, single, places.subset(np.array([j])), reverse=direction == "to_facility")
        assert one[0] == pytest.approx(seconds[j], abs=1e-6)


def test_one_way_streets_make_directions_differ(mwali_network):
    """Mwali has one-way pieces (roundabouts, oneway=yes); the two directions must differ somewhere."""
    assert np.isinf(mwali_network.seg_forward_s).any() or np.isinf(mwali_network.seg_backward_s).any()
    rng = np.random.default_rng(7)
    facilities = _attach(mwali_network, _random_points(mwali_network, rng, 3))
    a = nearest_facility(mwali_network, facilities, direction="from_facility").node_seconds
    b = nearest_facility(mwali_network, facilities, direction="to_facility").node_seconds
    both = np.isfinite(a) & np.isfinite(b)
    assert np.abs(a[both] - b[both]).max() > 1.0


def test_travel_time_table_matches_networkx(mwali_network):
    rng = np.random.default_rng(3)
    origins = _attach(mwali_network, _random_points(mwali_network, rng, 5))
    destinations = _attach(mwali_network, _random_points(mwali_network, rng, 40))
    table = travel_time_table(mwali_network, origins, destinations, cutoff_minutes=20)
    assert list(table.columns) == ["origin_id", "destination_id", "minutes"]
    for i in range(len(origins)):
        expected, _ = nearest_times(mwali_network, origins.subset(np.array([i])), destinations, reverse=False)
        rows = table[table["origin_id"] == origins.ids[i]].set_index("destination_id")["minutes"]
        within = expected <= 20 * 60
        assert set(rows.index) == set(destinations.ids[within])
        np.testing.assert_allclose(rows.loc[destinations.ids[within]].to_numpy() * 60, expected[within], atol=1e-6)


def test_travel_time_table_searches_from_the_smaller_side(mwali_network):
    """Many origins and few destinations run on the reversed graph; the answer must not change."""
    rng = np.random.default_rng(4)
    many = _attach(mwali_network, _random_points(mwali_network, rng, 30))
    few = _attach(mwali_network, _random_points(mwali_network, rng, 3))
    forward = travel_time_table(mwali_network, few, many, cutoff_minutes=15)
    backward = travel_time_table(mwali_network, many, few, cutoff_minutes=15)
    expected = {}
    for j in range(len(many)):
        t, _ = nearest_times(mwali_network, many.subset(np.array([j])), few, reverse=False)
        for k in np.flatnonzero(t <= 15 * 60):
            expected[(many.ids[j], few.ids[k])] = t[k] / 60
    got = {(o, d): m for o, d, m in backward.itertuples(index=False)}
    assert got.keys() == expected.keys()
    assert all(abs(got[key] - expected[key]) < 1e-8 for key in got)
    assert len(forward) > 0


def test_threshold_edge_is_inclusive(mwali_network):
    """A pair exactly T minutes apart is within T (<=, no rounding)."""
    rng = np.random.default_rng(5)
    origins = _attach(mwali_network, _random_points(mwali_network, rng, 1))
    destinations = _attach(mwali_network, _random_points(mwali_network, rng, 30))
    full = travel_time_table(mwali_network, origins, destinations, cutoff_minutes=240)
    exact = float(full["minutes"].iloc[len(full) // 2])
    cut = travel_time_table(mwali_network, origins, destinations, cutoff_minutes=exact)
    assert cut["minutes"].max() == exact
    assert len(cut) == int((full["minutes"] <= exact).sum())


def test_empty_facility_set_is_an_error(mwali_network):
    empty = _attach(mwali_network, gpd.GeoSeries([], crs=mwali_network.crs))
    with pytest.raises(InputError, match="facility set is empty"):
        nearest_facility(mwali_network, empty)


def test_unknown_direction(mwali_network):
    rng = np.random.default_rng(0)
    facilities = _attach(mwali_network, _random_points(mwali_network, rng, 1))
    with pytest.raises(InputError, match="direction must be one of"):
        nearest_facility(mwali_network, facilities, direction="sideways")  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000), count=st.integers(1, 8), direction=st.sampled_from(["from_facility", "to_facility"])
)
def test_adding_a_facility_never_increases_a_time(mwali_network, seed, count, direction):
    rng = np.random.default_rng(seed)
    facilities = _attach(mwali_network, _random_points(mwali_network, rng, count + 1))
    places = _attach(mwali_network, _random_points(mwali_network, rng, 50))
    fewer = facilities.subset(np.arange(count))
    before, _ = reach_points(mwali_network, nearest_facility(mwali_network, fewer, direction=direction), places)
    after, _ = reach_points(mwali_network, nearest_facility(mwali_network, facilities, direction=direction), places)
    assert np.all(after <= before + 1e-9)


@pytest.mark.parametrize("direction", ["from_facility", "to_facility"])
def test_facilities_at_one_point_tie_by_id_order(mwali_network, direction):
    """Two facilities at one point: every place gets the first by id, whatever order they are listed in."""
    rng = np.random.default_rng(11)
    spots = _random_points(mwali_network, rng, 3)
    points = gpd.GeoSeries([spots.iloc[0], spots.iloc[0], spots.iloc[1], spots.iloc[2], spots.iloc[1]], crs=spots.crs)
    ids = np.array(["node/10", "node/9", "way/2", "way/1", "way/3"])  # node/9 comes before node/10 (numbers as numbers)
    places = _attach(mwali_network, _random_points(mwali_network, rng, 400))
    chosen = {}
    for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 4, 0, 3, 2]):
        facilities = attach_points(
            mwali_network, points.iloc[order], access_speed_kph=5.0, tolerance_m=500.0, ids=ids[order]
        )
        reach = nearest_facility(mwali_network, facilities, direction=direction)
        seconds, facility = reach_points(mwali_network, reach, places)
        named = np.where(facility >= 0, facilities.ids[np.maximum(facility, 0)], "")
        chosen[tuple(order)] = (named, seconds)
        # the first by id at each shared point serves; the other never does
        served = set(named[named != ""])
        assert not {"node/10", "way/3"} & served
        assert {"node/9", "way/2"} <= served
    (first, first_seconds), *others = chosen.values()
    for named, seconds in others:
        np.testing.assert_array_equal(named, first)
        np.testing.assert_array_equal(seconds, first_seconds)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3), st.sampled_from([0.0, 0.5, 1.0]), st.sampled_from([0.0, 10.0]), st.integers(0, 30)
        ),
        min_size=0,
        max_size=25,
        unique_by=lambda t: t[3],
    )
)
def test_stand_ins_are_the_first_by_id_at_each_place(rows):
    """Checked against the plain definition: among the points at one place, the one whose id comes first."""
    from coverage.network.routing import id_order, stand_ins
    from coverage.network.snapping import Attachment

    n = len(rows)
    ids = np.array([f"node/{r[3]}" for r in rows], dtype=str)
    points = Attachment(
        ids=ids,
        segment=np.array([r[0] for r in rows], dtype=np.int64),
        fraction=np.array([r[1] for r in rows], dtype=float),
        snap_distance_m=np.zeros(n),
        access_s=np.array([r[2] for r in rows], dtype=float),
        snapped_xy=np.zeros((n, 2)),
        off_network=np.zeros(n, dtype=bool),
        small_piece=np.zeros(n, dtype=bool),
    )
    rank = id_order(ids)
    expected = [min((j for j in range(n) if rows[j][:3] == rows[i][:3]), key=lambda j: rank[j]) for i in range(n)]
    assert stand_ins(points).tolist() == expected
    assert sorted(ids[rank.argsort()].tolist(), key=lambda t: int(t.split("/")[1])) == ids[rank.argsort()].tolist()
