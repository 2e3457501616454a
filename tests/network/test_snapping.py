"""Attaching points to road edges: exact hand-checked cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage._errors import InputError
from coverage.network.snapping import attach_points
from tests.handmade import CRS_M, handmade_network, xy


def _points(*coords):
    return gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(len(coords))]}, geometry=[shapely.Point(xy(*c)) for c in coords], crs=CRS_M
    )


def test_point_is_projected_on_the_nearest_edge_not_node():
    network = handmade_network()
    # 50 m north of A-B at x=250: nearest node A is 255 m away, the edge 50 m
    att = attach_points(network, _points((250, 50)), access_speed_kph=5.0, tolerance_m=100.0)
    assert att.segment.tolist() == [0]
    assert att.fraction[0] == pytest.approx(0.25)
    assert att.snap_distance_m[0] == pytest.approx(50.0)
    assert att.access_s[0] == pytest.approx(50.0 / (5.0 / 3.6))  # 36 s
    np.testing.assert_allclose(att.snapped_xy[0], xy(250, 0))
    assert not att.off_network[0]
    assert att.ids.tolist() == ["p0"]


def test_far_points_are_flagged_not_dropped():
    network = handmade_network()
    att = attach_points(network, _points((250, 50), (1500, -3000)), access_speed_kph=5.0, tolerance_m=1000.0)
    assert len(att) == 2
    assert att.off_network.tolist() == [False, True]
    assert att.segment[1] == 1  # B-C is nearest
    assert att.snap_distance_m[1] == pytest.approx(3000.0)
    assert att.access_s[1] == pytest.approx(3000.0 / (5.0 / 3.6))


def test_points_are_reprojected_from_wgs84():
    network = handmade_network()
    projected = _points((1000, 600))
    att = attach_points(network, projected.to_crs(4326), access_speed_kph=5.0, tolerance_m=100.0)
    assert att.segment.tolist() == [2]
    assert att.fraction[0] == pytest.approx(0.6, abs=1e-6)
    assert att.snap_distance_m[0] == pytest.approx(0.0, abs=1e-3)


def test_points_without_crs_are_refused():
    network = handmade_network()
    with pytest.raises(InputError, match="no CRS"):
        attach_points(network, gpd.GeoSeries([shapely.Point(0, 0)]), access_speed_kph=5, tolerance_m=10)


def test_polygons_are_reduced_to_a_point_inside():
    network = handmade_network()
    square = shapely.box(*xy(400, 100), *xy(600, 300))
    att = attach_points(network, gpd.GeoSeries([square], crs=CRS_M), access_speed_kph=5, tolerance_m=1000)
    assert att.segment.tolist() == [0]
    assert 0.4 <= att.fraction[0] <= 0.6


def test_small_disconnected_pieces_are_flagged(mwali_network):
    small = np.flatnonzero(mwali_network.small_piece[mwali_network.seg_u])
    big = np.flatnonzero(~mwali_network.small_piece[mwali_network.seg_u])
    assert len(small)
    assert len(big)
    midpoints = shapely.line_interpolate_point(mwali_network.seg_geometry[[small[0], big[0]]], 0.5, normalized=True)
    att = attach_points(
        mwali_network, gpd.GeoSeries(midpoints, crs=mwali_network.crs), access_speed_kph=5, tolerance_m=100
    )
    assert att.small_piece.tolist() == [True, False]
