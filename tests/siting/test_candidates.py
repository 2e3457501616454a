"""Candidate sites on the real Mwali network: road points, villages, a planner's file."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage._errors import InputError
from coverage.siting.candidates import (
    CANDIDATE_COLUMNS,
    candidates_from,
    combine_candidates,
    exclusion_area,
    road_candidates,
)

SPACING_M = 1500.0


@pytest.fixture(scope="module")
def roads_1500(mwali_network):
    return road_candidates(mwali_network, spacing_m=SPACING_M)


def test_road_candidates_lie_on_the_roads_about_one_spacing_apart(mwali_network, roads_1500):
    frame = roads_1500
    assert list(frame.columns[: len(CANDIDATE_COLUMNS)]) == list(CANDIDATE_COLUMNS)
    assert frame.crs.to_epsg() == 4326
    assert frame["id"].is_unique
    assert frame["id"].str.fullmatch(r"road/\d+").all()
    assert (frame["source"] == "road").all()
    assert not frame["off_network"].any()
    assert not frame["excluded"].any()
    projected = np.asarray(frame.geometry.to_crs(mwali_network.crs).values)
    # on a road piece (sampled on the geometry, so within rounding of the reprojection)
    _, distance = mwali_network.segment_tree.query_nearest(projected, return_distance=True)
    assert distance.max() < 0.01
    # about one spacing apart: the typical distance to the nearest other candidate
    xy = shapely.get_coordinates(projected)
    pairwise = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(pairwise, np.inf)
    assert 0.5 * SPACING_M <= np.median(pairwise.min(axis=1)) <= 1.5 * SPACING_M
    # every road junction is within about one square's diagonal of a candidate
    gaps = np.min(np.hypot(*(mwali_network.node_xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)), axis=1)
    assert gaps.max() <= 1.6 * SPACING_M


def test_finer_spacing_gives_more_candidates(mwali_network, roads_1500):
    finer = road_candidates(mwali_network, spacing_m=SPACING_M / 2)
    assert len(finer) > 2 * len(roads_1500)


def test_excluded_road_candidates_are_flagged_not_dropped(mwali_network, roads_1500):
    # a 3 km square around Fomboni, the island's capital
    area = shapely.box(43.73, -12.30, 43.76, -12.27)
    flagged = road_candidates(mwali_network, spacing_m=SPACING_M, exclude=area)
    assert len(flagged) == len(roads_1500)
    inside = shapely.contains_xy(area, flagged.geometry.x, flagged.geometry.y)
    assert inside.any()
    assert (flagged["excluded"].to_numpy() == inside).all()
    # the same polygon as a GeoDataFrame in another CRS
    frame = gpd.GeoDataFrame(geometry=[area], crs=4326).to_crs(mwali_network.crs)
    assert exclusion_area(frame).equals_exact(area, tolerance=1e-9) or exclusion_area(frame).area == pytest.approx(
        area.area, rel=1e-6
    )


def test_bad_spacing_is_refused(mwali_network):
    with pytest.raises(InputError, match="spacing_m"):
        road_candidates(mwali_network, spacing_m=0)


def test_villages_as_candidates_keep_their_ids(mwali_network, mwali_places):
    frame = candidates_from(mwali_places, network=mwali_network, kind="village")
    assert len(frame) == len(mwali_places)
    assert (frame["id"] == "village/" + mwali_places["id"].astype(str)).all()
    assert (frame["source_id"] == mwali_places["id"].astype(str)).all()
    assert (frame["source"] == "village").all()
    assert (frame["snap_distance_m"] >= 0).all()


def test_file_candidates_flag_points_off_the_roads(tmp_path, mwali_network, mwali_facilities):
    points = mwali_facilities.geometry.representative_point()
    table = pd.DataFrame(
        {
            "id": [f"hc{i}" for i in range(len(points))] + ["sea"],
            "名称": [f"卫生院 {i}" for i in range(len(points))] + ["海上"],
            "lon": [*points.x.round(7), 43.70],
            "lat": [*points.y.round(7), -12.20],  # 5 km north of the coast, at sea
        }
    )
    path = tmp_path / "township_centres.csv"
    table.to_csv(path, index=False, encoding="utf-8")
    frame = candidates_from(path, network=mwali_network)
    assert frame["id"].tolist() == [f"file/{i}" for i in table["id"]]
    assert frame["name"].tolist() == table["名称"].tolist()
    assert frame["off_network"].tolist() == [False] * len(points) + [True]
    assert frame.loc[frame["source_id"] == "sea", "snap_distance_m"].iloc[0] > 1000


def test_candidate_inputs_are_checked(mwali_network, mwali_places):
    with pytest.raises(InputError, match="kind"):
        candidates_from(mwali_places, network=mwali_network, kind="road")
    doubled = pd.concat([mwali_places.head(2), mwali_places.head(1)], ignore_index=True)
    with pytest.raises(InputError, match="duplicate ids"):
        candidates_from(gpd.GeoDataFrame(doubled, crs=4326), network=mwali_network, kind="village")
    villages = candidates_from(mwali_places, network=mwali_network, kind="village")
    with pytest.raises(InputError, match="more than once"):
        combine_candidates(villages, villages.head(1))
    with pytest.raises(InputError, match="no CRS"):
        exclusion_area(gpd.GeoSeries([shapely.box(0, 0, 1, 1)]))
