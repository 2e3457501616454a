"""Straight off-road trips between a place and a nearby facility."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely

from coverage._errors import InputError
from coverage.analysis.run import analyze
from coverage.network.offroad import direct_offroad, offroad_pairs, sparse_minimum
from tests.conftest import COMOROS_PBF

SPEED = 5.0  # km/h: 1.3889 m/s


def test_the_quicker_of_the_network_and_the_straight_walk():
    places = np.array([[0.0, 0.0], [1000.0, 0.0], [5000.0, 0.0], [0.0, 900.0]])
    network_s = np.array([500.0, 100.0, np.inf, np.inf])
    nearest = np.array([1, 1, -1, -1])
    facilities = np.array([[0.0, 100.0], [900.0, 0.0]])
    seconds, facility, direct = direct_offroad(
        places, network_s, nearest, facility_xy=facilities, speed_kph=SPEED, max_distance_m=1000.0
    )
    # 100 m to facility 0 (72 s) beats the 500 s network route
    assert seconds[0] == pytest.approx(100 / (SPEED / 3.6))
    assert facility[0] == 0
    assert direct[0]
    # 100 m to facility 1 (72 s) beats the 100 s network route too
    assert seconds[1] == pytest.approx(72.0)
    assert facility[1] == 1
    assert direct[1]
    # 4.1 km away: beyond the longest straight walk allowed, stays unreached
    assert np.isinf(seconds[2])
    assert facility[2] == -1
    assert not direct[2]
    # unreached by road but 800 m from facility 0: walks
    assert seconds[3] == pytest.approx(800 / (SPEED / 3.6))
    assert facility[3] == 0


@pytest.mark.parametrize("ids", [["node/10", "H-0", "node/9"], ["node/9", "node/10", "H-0"]])
def test_facilities_at_one_point_the_first_by_id_is_walked_to(ids):
    """As in the search (routing.stand_ins): of facilities at one point, the first by id serves."""
    places = np.array([[0.0, 0.0], [0.0, 50.0]])
    facilities = np.array([[0.0, 100.0], [0.0, 100.0], [0.0, 100.0]])
    seconds, facility, direct = direct_offroad(
        places,
        np.full(2, np.inf),
        np.full(2, -1),
        facility_xy=facilities,
        speed_kph=SPEED,
        max_distance_m=500.0,
        facility_ids=np.array(ids),
    )
    assert direct.all()
    assert [ids[i] for i in facility] == ["H-0", "H-0"]
    assert seconds[1] == pytest.approx(50 / (SPEED / 3.6))


def test_per_place_limits_and_ties_keep_the_network():
    places = np.array([[0.0, 0.0], [0.0, 0.0]])
    facilities = np.array([[0.0, 1500.0]])
    walk = 1500 / (SPEED / 3.6)
    seconds, _, direct = direct_offroad(
        places,
        np.array([np.inf, walk]),
        np.array([-1, 0]),
        facility_xy=facilities,
        speed_kph=SPEED,
        max_distance_m=np.array([2000.0, 2000.0]),
    )
    assert seconds[0] == pytest.approx(walk)
    assert direct[0]
    assert seconds[1] == pytest.approx(walk)
    assert not direct[1]
    seconds, _, direct = direct_offroad(
        places[:1], np.array([np.inf]), np.array([-1]), facility_xy=facilities, speed_kph=SPEED, max_distance_m=1000.0
    )
    assert np.isinf(seconds[0])
    assert not direct[0]


def test_nothing_to_do_and_bad_speed():
    seconds, facility, direct = direct_offroad(
        np.zeros((0, 2)),
        np.zeros(0),
        np.zeros(0, dtype=np.int64),
        facility_xy=np.zeros((0, 2)),
        speed_kph=5,
        max_distance_m=1,
    )
    assert len(seconds) == len(facility) == len(direct) == 0
    with pytest.raises(InputError, match="off-road speed"):
        direct_offroad(
            np.zeros((1, 2)), np.zeros(1), np.zeros(1), facility_xy=np.zeros((1, 2)), speed_kph=0, max_distance_m=1
        )


def test_a_village_at_a_facility_away_from_the_road_is_zero_minutes(tmp_path, mwali_boundary, mwali_network):
    # a point 170 m straight off the middle of a Mwali road piece
    piece = int(np.argmax(mwali_network.seg_length_m))
    line = mwali_network.seg_geometry[piece]
    middle = shapely.line_interpolate_point(line, 0.5, normalized=True)
    ahead = shapely.line_interpolate_point(line, 0.5 + 1.0 / line.length, normalized=True)
    dx, dy = ahead.x - middle.x, ahead.y - middle.y
    norm = np.hypot(dx, dy)
    spot = shapely.Point(middle.x - dy / norm * 170, middle.y + dx / norm * 170)
    spot = gpd.GeoSeries([spot], crs=mwali_network.crs).to_crs(4326).iloc[0]
    facilities = gpd.GeoDataFrame({"id": ["clinic"], "name": ["clinic"], "kind": ["clinic"]}, geometry=[spot], crs=4326)
    villages = gpd.GeoDataFrame({"id": ["here"], "name": ["here"]}, geometry=[spot], crs=4326)
    result = analyze(COMOROS_PBF, facilities=facilities, villages=villages, boundary=mwali_boundary, cache_dir=tmp_path)
    village = result.villages.iloc[0]
    assert village["minutes"] == pytest.approx(0.0, abs=1e-9)
    assert village["direct_offroad"]
    # through the network it would walk 170 m to the road and back: about 4 minutes
    assert village["snap_distance_m"] == pytest.approx(170, abs=30)


def test_offroad_pairs_match_brute_force_and_merge_with_network_times():
    rng = np.random.default_rng(5)
    sources = rng.uniform(0, 3000, size=(20, 2))
    targets = rng.uniform(0, 3000, size=(200, 2))
    limit = rng.uniform(200, 900, size=200)
    pairs = offroad_pairs(sources, targets, speed_kph=SPEED, max_distance_m=limit, cutoff_s=500.0)
    distance = np.hypot(sources[:, None, 0] - targets[None, :, 0], sources[:, None, 1] - targets[None, :, 1])
    seconds = distance / (SPEED / 3.6)
    expected = np.where((distance <= limit[None, :]) & (seconds <= 500.0), seconds, np.nan)
    dense = np.full(expected.shape, np.nan)
    coo = pairs.tocoo()
    dense[coo.row, coo.col] = coo.data
    np.testing.assert_allclose(dense, expected)
    assert np.isfinite(expected).sum() > 20
    # merged with network times: the smaller where both, either where one, stored zeros kept
    network = sp.csr_matrix((np.array([0.0, 1e6]), (np.array([0, 0]), np.array([0, 1]))), shape=pairs.shape)
    merged = sparse_minimum(network, pairs).toarray()
    both = np.where(np.isnan(dense), np.inf, dense)
    assert sparse_minimum(network, pairs)[0, 0] == 0.0
    assert sparse_minimum(network, pairs).nnz >= pairs.nnz
    assert merged[0, 1] == pytest.approx(min(1e6, both[0, 1]))
    rest = (slice(1, None), slice(None))
    np.testing.assert_allclose(np.where(np.isnan(dense[rest]), 0, dense[rest]), merged[rest])
