"""Admin zones, boundaries and urban areas from the shipped Comoros files."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage._errors import InputError
from coverage.analysis.demand import population_cells
from coverage.analysis.zones import assign_zones, read_boundary, read_zones, urban_area_from_population
from tests.conftest import COMOROS_ADMIN, COMOROS_RASTER, INPUT


def test_read_zones_selects_a_level_and_dissolves_duplicates():
    communes = read_zones(COMOROS_ADMIN, where="admin_level == '8'")
    # Djando and M'lédjélé appear several times in the source (relation + closed ways): one zone each
    assert sorted(communes["zone"]) == sorted(
        ["Djando", "Fomboni", "M'lédjélé", "Moili Mdjini", "Moimbao", "Moimbassa"]
    )
    assert communes.crs.to_epsg() == 4326


def test_overlapping_zones_are_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="coverage"):
        read_zones(COMOROS_ADMIN)
    assert "overlap" in caplog.text


def test_bad_zone_query_names_the_columns():
    with pytest.raises(InputError, match="admin_level"):
        read_zones(COMOROS_ADMIN, where="level ==== 8")
    with pytest.raises(InputError, match="no polygons match"):
        read_zones(COMOROS_ADMIN, where="admin_level == '99'")


def test_missing_name_column():
    with pytest.raises(InputError, match="no column 'nom'"):
        read_zones(COMOROS_ADMIN, name_column="nom")


def test_a_points_file_is_not_a_boundary():
    with pytest.raises(InputError, match="no polygons in this file"):
        read_boundary(INPUT / "hospitals.geojson")
    with pytest.raises(InputError, match="boundary file not found"):
        read_boundary(INPUT / "nowhere.geojson")


def test_assign_zones_inside_on_the_coast_and_far_away():
    islands = read_zones(COMOROS_ADMIN, where="admin_level == '4'", name_column="name_en")
    grande_comore = islands[islands["zone"] == "Grande Comore"].to_crs(32738).geometry.iloc[0]
    # a point exactly 300 m off the coast, and one 3 km off
    ring_300 = shapely.buffer(grande_comore, 300).exterior
    ring_3000 = shapely.buffer(grande_comore, 3000).exterior
    offshore = [ring_300.interpolate(0.3, normalized=True), ring_3000.interpolate(0.3, normalized=True)]
    moroni = gpd.GeoSeries([shapely.Point(43.2551, -11.7022)], crs=4326).to_crs(32738).iloc[0]
    points = gpd.GeoDataFrame(geometry=[moroni, *offshore], crs=32738)
    assert not islands.to_crs(32738).geometry.contains(offshore[0]).any()
    assert assign_zones(points, islands).tolist() == ["Grande Comore", "Grande Comore", ""]


def test_urban_area_holds_the_densest_cells_and_not_the_sparse_ones():
    urban = urban_area_from_population(COMOROS_RASTER)
    cells = population_cells(COMOROS_RASTER)
    densest = cells.geometry.iloc[int(cells["population"].argmax())]
    assert urban.contains(densest)
    # 1,500 people/km² over a ~90 m pixel is ~12 people; blocks of ~1 km of cells under 2 cannot reach it
    sparse = cells[cells["population"] < 2].geometry
    assert shapely.contains_xy(urban, sparse.x, sparse.y).mean() < 0.05
    stricter = urban_area_from_population(COMOROS_RASTER, density_per_km2=5000)
    assert stricter.area < urban.area
    assert np.isclose(stricter.difference(urban).area, 0.0)


def test_zone_classes_partition_the_populated_blocks():
    from coverage.analysis.zones import zone_classes_from_population

    classes = zone_classes_from_population(COMOROS_RASTER, central_density_per_km2=3000, urban_density_per_km2=1500)
    assert set(classes["zone_class"]) == {"central", "urban", "rural"}
    by_class = dict(zip(classes["zone_class"], classes.geometry, strict=True))
    # central + other urban together are exactly the urban area at the urban threshold
    urban = urban_area_from_population(COMOROS_RASTER, density_per_km2=1500)
    together = by_class["central"].union(by_class["urban"])
    assert together.symmetric_difference(urban).area < 1e-9
    assert by_class["central"].intersection(by_class["rural"]).area < 1e-12
    with pytest.raises(InputError, match="central-city density"):
        zone_classes_from_population(COMOROS_RASTER, central_density_per_km2=100, urban_density_per_km2=1500)


def test_places_just_outside_go_to_the_nearest_zone_within_the_distance(mwali_boundary):
    """The fast rule (prepared polygons) against a plain nearest-polygon search on Mwali's communes and cells."""
    communes = read_zones(COMOROS_ADMIN, where="admin_level == '8'")
    cells = population_cells(COMOROS_RASTER, boundary=mwali_boundary)
    # points on the sea side too: the cells moved 600 m and 1.5 km south
    moved = [cells.geometry.translate(yoff=-offset) for offset in (0.0, 0.0054, 0.0135)]
    points = gpd.GeoDataFrame(geometry=np.concatenate([np.asarray(m.values) for m in moved]), crs=4326)
    ours = assign_zones(points, communes).to_numpy()

    crs = communes.estimate_utm_crs()
    zone_geoms = np.asarray(communes.geometry.to_crs(crs).values)
    point_geoms = np.asarray(points.geometry.to_crs(crs).values)
    expected = np.full(len(points), "", dtype=object)
    for name, geom in zip(communes["zone"], zone_geoms, strict=True):
        expected[(expected == "") & shapely.contains(geom, point_geoms)] = name
    outside = np.flatnonzero(expected == "")
    index, nearest = shapely.STRtree(zone_geoms).query_nearest(point_geoms[outside], max_distance=1000.0)
    # equidistant zones (overlapping communes share a coast): the first listed
    first = pd.Series(nearest).groupby(index).min()
    expected[outside[first.index.to_numpy()]] = communes["zone"].to_numpy()[first.to_numpy()]
    differ = ours != expected
    # only a point on an edge could be counted differently (inside tested in degrees, distances in metres)
    assert differ.sum() <= len(points) * 1e-4, points[differ]
    assert (ours == "").sum() > 0  # some of the moved cells are far out at sea
    assert (ours[len(cells) :] != "").sum() > 0  # and some just off the coast are kept
