"""Isochrones from reached edges: hand-checked partial edges and properties on real roads."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage.analysis.isochrones import _linework, facility_isochrones, isochrones, reached_intervals, service_areas
from coverage.network.routing import nearest_facility, reach_points
from coverage.network.snapping import attach_points
from tests.handmade import CRS_M, handmade_network, xy


def _facility(network, x, y):
    points = gpd.GeoDataFrame({"id": ["F"]}, geometry=[shapely.Point(xy(x, y))], crs=CRS_M)
    return attach_points(network, points, access_speed_kph=5.0, tolerance_m=100.0)


def test_hand_checked_times_and_partial_edges():
    network = handmade_network()
    facility = _facility(network, 250, 50)  # on A-B at 0.25, 36 s off-road
    reach = nearest_facility(network, facility, direction="from_facility")
    # A: 36 + 25; B: 36 + 75; C: B + 100 (one way B->C); D: B + 200
    np.testing.assert_allclose(reach.node_seconds, [61.0, 111.0, 211.0, 311.0])
    intervals = reached_intervals(
        network, reach.node_seconds, reach.node_facility, facility, reverse=False, limit_s=150.0
    )
    lines = _linework(network, intervals)
    reached = shapely.union_all(lines)
    # all of A-B, 39% of B-C ((150-111)/100), 19.5% of B-D ((150-111)/200)
    assert reached.length == pytest.approx(1000 + 390 + 195)
    assert reached.covers(shapely.Point(xy(1390, 0)))
    assert not reached.intersects(shapely.Point(xy(1391, 0)))
    assert reached.covers(shapely.Point(xy(1000, 195)))


def test_one_way_edge_is_not_reached_against_its_direction():
    network = handmade_network()
    facility = _facility(network, 2000, 30)  # at C, the dead end of the one-way B->C
    reach = nearest_facility(network, facility, direction="from_facility")
    assert np.isinf(reach.node_seconds[[0, 1, 3]]).all()
    back = nearest_facility(network, facility, direction="to_facility")
    # to reach the facility at C, drive A->B (100 s) then B->C (100 s); +21.6 s walking from the road
    assert back.node_seconds[0] == pytest.approx(200.0 + 30 / (5 / 3.6))


def test_same_edge_trip_does_not_detour_through_a_node():
    network = handmade_network()
    facility = _facility(network, 250, 50)
    place = attach_points(
        network,
        gpd.GeoDataFrame({"id": ["Q"]}, geometry=[shapely.Point(xy(750, 0))], crs=CRS_M),
        access_speed_kph=5.0,
        tolerance_m=100.0,
    )
    for direction in ("from_facility", "to_facility"):
        seconds, index = reach_points(network, nearest_facility(network, facility, direction=direction), place)
        assert seconds[0] == pytest.approx(36.0 + 50.0)  # along A-B, not via A or B (136 s)
        assert index[0] == 0


def test_isochrone_polygons_on_the_handmade_network():
    network = handmade_network()
    facility = _facility(network, 250, 50)
    reach = nearest_facility(network, facility, direction="from_facility")
    iso = isochrones(network, reach, minutes=[2.5, 10], buffer_m=10.0)
    assert iso["minutes"].tolist() == [2.5, 10.0]
    small, large = iso.geometry
    # a 10 m corridor around 1,585 m of road, plus round ends
    assert small.area == pytest.approx(1585 * 20, rel=0.05)
    assert large.area == pytest.approx(3000 * 20, rel=0.05)
    assert not small.contains(shapely.Point(xy(1000, 500)))
    assert large.contains(shapely.Point(xy(1000, 500)))


@pytest.fixture(scope="module")
def mwali_reach(mwali_network, mwali_facilities):
    facilities = attach_points(mwali_network, mwali_facilities, access_speed_kph=5.0, tolerance_m=1000.0)
    return nearest_facility(mwali_network, facilities, direction="from_facility")


def test_nodes_within_time_are_inside_and_later_nodes_are_not_reached(mwali_network, mwali_reach):
    limit_s = 12 * 60.0
    iso = isochrones(mwali_network, mwali_reach, minutes=[12], buffer_m=50.0)
    polygon = iso.geometry.iloc[0]
    reached = mwali_reach.node_seconds <= limit_s
    assert 10 < reached.sum() < mwali_network.n_nodes
    x, y = mwali_network.node_xy[reached].T
    assert shapely.contains_xy(polygon, x, y).all()
    # in the reached intervals, an unreached node is never included
    intervals = reached_intervals(
        mwali_network,
        mwali_reach.node_seconds,
        mwali_reach.node_facility,
        mwali_reach.facilities,
        reverse=False,
        limit_s=limit_s,
    )
    seg = intervals["segment"].to_numpy()
    includes_u = intervals["start"].to_numpy() == 0
    includes_v = intervals["end"].to_numpy() == 1
    touched = np.concatenate([mwali_network.seg_u[seg[includes_u]], mwali_network.seg_v[seg[includes_v]]])
    assert reached[touched].all()


def test_holes_are_kept_and_no_unreached_land_is_claimed(mwali_network, mwali_reach):
    iso = isochrones(mwali_network, mwali_reach, minutes=[30], buffer_m=100.0)
    polygon = iso.geometry.iloc[0]
    hull = shapely.convex_hull(polygon)
    # a road-corridor area is far smaller than the hull of the reached roads
    assert polygon.area < 0.5 * hull.area
    # nodes not reached in 30 minutes are inside only when within the corridor of a reached road
    # (on Mwali: a 2-node fragment cut off from, but lying beside, a reached road)
    unreached = np.flatnonzero(mwali_reach.node_seconds > 30 * 60)
    assert len(unreached) > 0
    intervals = reached_intervals(
        mwali_network,
        mwali_reach.node_seconds,
        mwali_reach.node_facility,
        mwali_reach.facilities,
        reverse=False,
        limit_s=30 * 60.0,
    )
    roads = shapely.union_all(_linework(mwali_network, intervals))
    points = shapely.points(mwali_network.node_xy[unreached])
    inside = shapely.contains(polygon, points)
    assert (shapely.distance(roads, points[inside]) <= 100.0 + 1.0).all()
    assert not inside[shapely.distance(roads, points) > 110.0].any()


def test_service_areas_and_facility_isochrones(mwali_network, mwali_reach):
    areas = service_areas(mwali_network, mwali_reach, minutes=15)
    assert set(areas["facility_id"]) <= set(mwali_reach.facilities.ids)
    assert len(areas) >= 2
    per = facility_isochrones(mwali_network, mwali_reach.facilities, minutes=[10, 15])
    assert len(per) == 2 * len(mwali_reach.facilities)
    dissolved = isochrones(mwali_network, mwali_reach, minutes=[15]).geometry.iloc[0]
    union = shapely.union_all(per[per["minutes"] == 15].geometry.to_numpy())
    # the dissolved area is the union of the per-facility areas (up to drawing tolerance)
    assert union.symmetric_difference(dissolved).area < 0.01 * dissolved.area


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.floats(1, 40), extra=st.floats(0.5, 30))
def test_a_longer_threshold_never_shrinks_the_isochrone(mwali_network, mwali_reach, first, extra):
    iso = isochrones(mwali_network, mwali_reach, minutes=[first, first + extra], buffer_m=50.0)
    small, large = iso.geometry
    # only slivers left by approximating round caps with chords (< 1 m thick at a 50 m corridor)
    assert shapely.buffer(small.difference(large), -1.0).area == pytest.approx(0.0, abs=1e-6), (first, extra)
