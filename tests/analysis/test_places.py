"""Reading the planner's places: stated populations, EMS bases, facilities sharing a point."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage._errors import InputError
from coverage.analysis.places import ems_bases, no_emergency, stated_population, warn_shared_points


def _villages(values):
    return pd.DataFrame(
        {
            "id": [str(i) for i in range(1, len(values) + 1)],
            "name": ["A", "B", "", "D"][: len(values)],
            "population": values,
        }
    )


def test_stated_population_reads_numbers_and_leaves_blanks_to_the_raster():
    stated = stated_population(_villages(["1,234", " 56 ", "", "7 890"]), "population", label="v.csv")
    np.testing.assert_array_equal(stated.to_numpy(), [1234.0, 56.0, np.nan, 7890.0])
    numeric = stated_population(_villages([10.0, np.nan, 0.0]), "population", label="v.csv")
    np.testing.assert_array_equal(numeric.to_numpy(), [10.0, np.nan, 0.0])


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        (["12", "many", "3"], "id 2 (B): 'many'"),
        ([1.0, -500.0], "id 2 (B): -500"),
        (["1", "2", "约300"], "id 3: '约300'"),
    ],
)
def test_stated_population_refuses_what_is_not_a_number_of_people(values, shown):
    with pytest.raises(InputError, match="column 'population' must be a number of people") as info:
        stated_population(_villages(values), "population", label="villages file v.csv")
    assert shown in str(info.value)
    assert str(info.value).startswith("villages file v.csv:")


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
    assert "left out, as they take no emergencies (emergency=no): F1 (n/1)" in caplog.text
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
