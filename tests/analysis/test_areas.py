"""Areas from the travel-time surface on real data: isochrones that hold the covered people, catchments that partition."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.analysis.areas import capacity_columns, catchments, cells_polygon, facility_areas, service_areas
from coverage.analysis.result import covered_column
from coverage.analysis.run import analyze
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER


@pytest.fixture(scope="module")
def mwali_run(tmp_path_factory, mwali_boundary, mwali_facilities):
    # a capacity column, as a facility list from a health bureau has
    facilities = mwali_facilities.drop(columns=["osm_tags"]).assign(
        beds=np.arange(len(mwali_facilities)) * 10 + 5, 医生数=3
    )
    return analyze(
        COMOROS_PBF,
        facilities=facilities,
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
        zones=COMOROS_ADMIN,
        zones_name_column="name",
        zones_where="admin_level == '8'",
        minutes=[10, 15, 30],
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


def _metric(frame):
    return frame.to_crs(frame.estimate_utm_crs())


def test_the_people_inside_each_isochrone_area_are_the_covered_people(mwali_run):
    cells = mwali_run.cells
    lon, lat = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
    people = cells["population"].to_numpy()
    summary = {row["minutes"]: row for row in mwali_run.summary()["thresholds"]}
    for row in mwali_run.isochrones.itertuples():
        # counted geometrically: the populated cells whose centre lies in the polygon
        inside = shapely.contains_xy(row.geometry, lon, lat)
        assert people[inside].sum() == pytest.approx(summary[row.minutes]["population_covered"], abs=0.05)
        assert row.population == pytest.approx(people[inside].sum())
        # and they are exactly the cells flagged covered
        assert (inside == cells[covered_column(row.minutes)].to_numpy()).all()


def test_isochrone_areas_are_nested_valid_and_larger_than_road_corridors(mwali_run):
    iso = mwali_run.isochrones
    assert iso["minutes"].tolist() == [10.0, 15.0, 30.0]
    assert shapely.is_valid(iso.geometry.values).all()
    assert (np.diff(iso["area_km2"]) > 0).all()
    metric = _metric(iso)
    for small, large in itertools.pairwise(metric.geometry):
        assert shapely.difference(small, large).area < 1e-6 * large.area
    # the area is the cells' area (the polygon measured in UTM agrees to a fraction of a percent)
    assert metric.area.to_numpy() / 1e6 == pytest.approx(iso["area_km2"].to_numpy(), rel=0.01)


@pytest.fixture(scope="module")
def reached_cells(mwali_run):
    surface = mwali_run.surface
    x, y = surface.grid.centres(surface.rows, surface.cols)
    return surface, x, y


def test_catchments_partition_the_reachable_cells(mwali_run, reached_cells):
    surface, x, y = reached_cells
    frame = mwali_run.catchments
    assert len(frame) == len(mwali_run.facilities)
    assert frame["facility_id"].tolist() == mwali_run.facilities["id"].tolist()
    drawn = frame[frame.geometry.notna()]
    assert shapely.is_valid(drawn.geometry.values).all()
    # no overlaps: the areas of the parts add up to the area of their union
    metric = _metric(drawn)
    union = shapely.union_all(metric.geometry.values)
    assert metric.area.sum() == pytest.approx(union.area, rel=1e-7)
    # the union is the reachable cells, no more, no less
    reachable = gpd.GeoSeries([cells_polygon(surface, surface.reached)], crs=4326).to_crs(metric.crs).iloc[0]
    assert shapely.symmetric_difference(union, reachable).area < 1e-6 * reachable.area
    # every reached cell's centre is in exactly one catchment, its nearest facility's
    holder = np.full(len(surface), -1)
    for number, geometry in zip(drawn["raster_value"], drawn.geometry, strict=True):
        inside = shapely.contains_xy(geometry, x, y)
        assert (holder[inside] == -1).all()
        holder[inside] = number - 1
    assert (holder == surface.facility).all()


def test_catchment_figures_add_up(mwali_run):
    frame = mwali_run.catchments
    surface = mwali_run.surface
    assert frame["population"].sum() == pytest.approx(surface.population[surface.reached].sum())
    assert frame["area_km2"].sum() == pytest.approx(surface.cell_area_m2()[surface.reached].sum() / 1e6)
    villages = mwali_run.villages
    assert frame["villages"].sum() == villages["nearest_facility_id"].notna().sum()
    # the people within T in each catchment add up to the covered people
    for row in mwali_run.summary()["thresholds"]:
        column = covered_column(row["minutes"]).replace("covered_", "population_within_")
        assert frame[column].sum() == pytest.approx(row["population_covered"], abs=0.05)
    # capacity: beds from an English column, doctors from a Chinese one
    assert capacity_columns(mwali_run.facilities) == {"beds": "beds", "doctors": "医生数"}
    expected = frame["population"] / mwali_run.facilities["beds"].to_numpy()
    np.testing.assert_allclose(frame["population_per_bed"], expected)
    np.testing.assert_allclose(frame["population_per_doctor"], frame["population"] / 3)
    served = frame["population"] > 0
    assert (frame.loc[served, "minutes_mean"] <= frame.loc[served, "minutes_max"]).all()


def test_a_facility_that_is_nobodys_nearest_keeps_its_row(mwali_run):
    facilities = mwali_run.facilities
    twin = pd.concat([facilities, facilities.iloc[[0]].assign(id="twin", name="twin")], ignore_index=True)
    surface = mwali_run.surface
    frame = catchments(surface, twin, villages=mwali_run.villages)
    assert len(frame) == len(twin)
    row = frame.iloc[-1]
    assert row["facility_id"] == "twin"
    assert row["population"] == 0
    assert row["area_km2"] == 0
    assert row.geometry is None


def test_service_areas_are_the_catchments_within_the_threshold(mwali_run):
    areas = service_areas(mwali_run.surface, minutes=15)
    by_id = mwali_run.catchments.set_index("facility_id")
    for row in areas.itertuples():
        catchment = by_id.loc[row.facility_id]
        assert shapely.difference(row.geometry, catchment.geometry).area < 1e-9
        assert row.population == pytest.approx(catchment["population_within_15"])
    assert areas["population"].sum() == pytest.approx(mwali_run.isochrones.set_index("minutes").loc[15, "population"])


def test_per_facility_areas_overlap_and_their_union_is_the_dissolved_area(mwali_run):
    network = mwali_run.network
    facility_xy = shapely.get_coordinates(mwali_run.facilities.geometry.to_crs(network.crs).values)
    profile = mwali_run.profile
    per = facility_areas(
        mwali_run.surface,
        network,
        mwali_run.attachments["facilities"],
        facility_xy=facility_xy,
        minutes=[10, 15],
        access_speed_kph=profile.access_speed_kph,
        tolerance_m=profile.snap_tolerance_m,
    )
    assert len(per) == 2 * len(mwali_run.facilities)
    assert per.crs.to_epsg() == 4326
    dissolved = mwali_run.isochrones.set_index("minutes")
    for threshold, group in per.groupby("minutes"):
        union = shapely.union_all(group.geometry.values)
        expected = dissolved.loc[threshold, "geometry"]
        assert shapely.symmetric_difference(union, expected).area < 1e-6 * expected.area
        # they overlap: together they count people more than once
        assert group["population"].sum() >= dissolved.loc[threshold, "population"]
    # each facility's area holds its own service area (where it is the nearest, within T)
    served = service_areas(mwali_run.surface, minutes=15).set_index("facility_id")
    own = per[per["minutes"] == 15].set_index("facility_id")
    for facility_id, row in served.iterrows():
        assert shapely.difference(row.geometry, own.loc[facility_id, "geometry"]).area < 1e-9
