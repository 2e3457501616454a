"""The planner's places: EMS bases, facilities sharing a point."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np

from coverage.analysis.places import ems_bases, no_emergency, warn_shared_points


def _facilities(kinds, tags):
    return gpd.GeoDataFrame(
        {
            "id": [f"n/{i}" for i in range(len(kinds))],
            "name": [f"F{i}" for i in range(len(kinds))],
            "kind": kinds,
            "osm_tags": tags,
        },
        geometry=gpd.points_from_xy(np.arange(len(kinds)) * 0.01 + 43.7, [-12.3] * len(kinds)),
        crs=4326,
    )


def test_ems_bases_are_stations_else_hospitals_taking_emergencies(caplog):
    tags = [
        "amenity=hospital",
        "amenity=hospital; emergency=no",
        "healthcare=hospital; emergency=yes",
        "amenity=clinic",
    ]
    frame = _facilities(["hospital", "hospital", "hospital", "clinic"], tags)
    assert no_emergency(frame).tolist() == [False, True, False, False]
    with caplog.at_level(logging.WARNING, logger="coverage"):
        assert ems_bases(frame)["id"].tolist() == ["n/0", "n/2"]
    assert "1 hospitals take no emergencies (emergency=no) and are no EMS bases: F1 (n/1)" in caplog.text
    assert "the 2 hospitals stand in as EMS bases" in caplog.text
    with_station = _facilities(["hospital", "ems"], ["amenity=hospital", "emergency=ambulance_station"])
    assert ems_bases(with_station)["id"].tolist() == ["n/1"]
    from_file = _facilities(["hospital", "hospital"], ["", ""]).drop(columns="osm_tags").assign(emergency=["否", ""])
    assert ems_bases(from_file)["id"].tolist() == ["n/1"]


def test_facilities_sharing_a_point_are_named(caplog):
    frame = _facilities(["hospital", "clinic", "clinic"], ["", "", ""])
    frame.loc[2, "geometry"] = frame.geometry[0]
    with caplog.at_level(logging.WARNING, logger="coverage"):
        warn_shared_points(frame, source="f.csv")
        warn_shared_points(frame.iloc[[0, 1]], source="g.csv")
    assert caplog.text.count("share") == 1
    assert "f.csv: 2 facilities share 1 points: 'F0' (id n/0) and 'F2' (id n/2) at lon 43.700000" in caplog.text
