"""Readable places for unnamed points, checked against geodesic distances and bearings (pyproj.Geod)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from coverage.analysis.labels import name_unnamed, place_phrases, unnamed_mask

UTM_38S = 32738
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@pytest.fixture(scope="module")
def named(mwali_places):
    return mwali_places[mwali_places["name"] != ""].reset_index(drop=True)


@settings(max_examples=40, deadline=None)
@given(st.floats(43.63, 43.88), st.floats(-12.39, -12.25))
def test_a_phrase_names_the_nearest_village_its_distance_and_direction(named, lon, lat):
    point = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326)
    (phrase,) = place_phrases(point, named, crs=UTM_38S)
    geod = Geod(ellps="WGS84")
    bearings, _, metres = geod.inv(
        named.geometry.x.to_numpy(), named.geometry.y.to_numpy(), np.full(len(named), lon), np.full(len(named), lat)
    )
    nearest = int(np.argmin(metres))
    if metres[nearest] < 240:
        assert phrase == f"at {named['name'][nearest]}"
        return
    match = re.fullmatch(r"(\d+\.\d) km ([NESW]{1,2}) of (.+)", phrase)
    assert match, phrase
    assert (
        match.group(3) == named["name"][nearest] or metres[named["name"] == match.group(3)].min() < metres[nearest] + 5
    )
    assert float(match.group(1)) == pytest.approx(metres[nearest] / 1000, abs=0.06)  # UTM scale within 0.1%
    sector = COMPASS[round((bearings[nearest] % 360) / 45) % 8]
    neighbours = {COMPASS[(COMPASS.index(sector) + d) % 8] for d in (-1, 0, 1)}
    assert match.group(2) in neighbours  # grid north and true north differ by a fraction of a degree here


def test_without_named_places_the_admin_unit_or_the_coordinates():
    points = gpd.GeoSeries(gpd.points_from_xy([43.7, 43.8], [-12.3, -12.35]), crs=4326)
    nobody = gpd.GeoDataFrame({"name": ["", None]}, geometry=gpd.points_from_xy([43.7, 43.7], [-12.3, -12.3]), crs=4326)
    assert place_phrases(points, nobody, crs=UTM_38S, zones=["Moheli", ""]) == [
        "in Moheli",
        "at lon 43.80000, lat -12.35000",
    ]


def test_unnamed_rows_get_kind_place_and_id(named):
    frame = gpd.GeoDataFrame(
        {
            "id": ["node/1", "way/2", "7", "node/4"],
            "name": ["hospital node/1 (unnamed)", "  ", "7", "Hôpital de Fomboni"],
            "kind": ["hospital", "clinic", "", "hospital"],
        },
        geometry=gpd.points_from_xy([43.75] * 4, [-12.29] * 4),
        crs=4326,
    )
    assert unnamed_mask(frame).tolist() == [True, True, True, False]
    labelled = name_unnamed(frame, places=named, crs=UTM_38S, kind_column="kind", default_kind="facility")
    assert labelled["name"][3] == "Hôpital de Fomboni"
    for name, kind, fid in zip(labelled["name"][:3], ["hospital", "clinic", "facility"], frame["id"][:3], strict=True):
        assert re.fullmatch(rf"unnamed {kind} (at |\d+\.\d km [NESW]+ of ).+ \({re.escape(fid)}\)", name)
    assert labelled["unnamed"].tolist() == [True, True, True, False]
    pd.testing.assert_series_equal(labelled["id"], frame["id"])
