"""The travel-time surface: every cell timed as a place at its centre, checked against networkx and by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from coverage.analysis import surface as surface_module
from coverage.analysis.areas import isochrone_areas
from coverage.analysis.demand import population_cells
from coverage.analysis.grid import cells_inside, grid_of_cells, surface_grid
from coverage.analysis.surface import snap_cells, travel_time_surface
from coverage.network.offroad import direct_offroad
from coverage.network.routing import nearest_facility, reach_points
from coverage.network.snapping import attach_points
from tests.conftest import COMOROS_RASTER
from tests.handmade import CRS_M, pocket_network, xy
from tests.reference import nearest_times

ACCESS_KPH = 5.0
TOLERANCE_M = 1000.0


def _facilities(network, points):
    frame = gpd.GeoDataFrame(
        {"id": [f"F{i}" for i in range(len(points))]}, geometry=[shapely.Point(xy(*p)) for p in points], crs=CRS_M
    )
    return frame, attach_points(network, frame, access_speed_kph=ACCESS_KPH, tolerance_m=TOLERANCE_M)


def _pocket_surface(tmp_path, *, facility=(0, 0), cell_m=100.0):
    network = pocket_network()
    frame, facilities = _facilities(network, [facility])
    reach = nearest_facility(network, facilities, direction="from_facility")
    x0, y0 = xy(-500, -500)
    grid = grid_of_cells(CRS_M, bounds=(x0, y0, x0 + 5000, y0 + 5000), cell_m=cell_m)
    return travel_time_surface(
        network,
        reach,
        grid=grid,
        inside=np.ones(grid.shape, dtype=bool),
        facility_xy=shapely.get_coordinates(frame.geometry.values),
        access_speed_kph=ACCESS_KPH,
        tolerance_m=TOLERANCE_M,
        cache_dir=tmp_path,
    )


def _lonlat(x, y):
    return Transformer.from_crs(CRS_M, 4326, always_xy=True).transform(x, y)


def test_an_unreachable_pocket_is_nodata_and_a_hole_in_every_isochrone(tmp_path):
    surface = _pocket_surface(tmp_path)
    minutes = surface.minutes_grid()
    # the cells nearest to the cut-off road inside the ring are reached by no facility
    centre = surface.grid.cells_of(*xy(2000, 2000))
    assert np.isnan(minutes[centre[0], centre[1]])
    unreached = ~surface.reached
    assert 20 < unreached.sum() < 0.2 * len(surface)
    iso = isochrone_areas(surface, minutes=[60, 600])
    for polygon in iso.geometry:
        # the pocket is a hole: inside the outer ring of the area, outside the area itself
        assert shapely.get_num_interior_rings(shapely.get_parts(polygon)).sum() >= 1
        assert not polygon.contains(shapely.Point(*_lonlat(*xy(2000, 2000))))
        assert shapely.Polygon(polygon.geoms[0].exterior if hasattr(polygon, "geoms") else polygon.exterior).contains(
            shapely.Point(*_lonlat(*xy(2000, 2000)))
        )
        assert polygon.contains(shapely.Point(*_lonlat(*xy(150, 2000))))  # beside the ring road


def test_land_beyond_the_threshold_inside_the_ring_is_a_hole(tmp_path):
    surface = _pocket_surface(tmp_path)
    iso = isochrone_areas(surface, minutes=[10])
    polygon = iso.geometry.iloc[0]
    # 900 m from the ring: 648 s of walking alone, beyond 10 minutes; the ring itself is within them near A
    assert not polygon.contains(shapely.Point(*_lonlat(*xy(900, 1000))))
    assert polygon.contains(shapely.Point(*_lonlat(*xy(50, 1000))))
    # every cell counted is inside the polygon, every other cell outside
    x, y = surface.grid.centres(surface.rows, surface.cols)
    lon, lat = _lonlat(x, y)
    assert (shapely.contains_xy(polygon, lon, lat) == surface.within(10)).all()


def test_a_cell_at_a_facility_that_sits_off_the_road_takes_no_time(tmp_path):
    # the facility is 300 m off the ring: a cell at its spot would otherwise walk there and back (2 x 216 s)
    surface = _pocket_surface(tmp_path, facility=(2000, 300))
    row, col = surface.grid.cells_of(*xy(2000, 300))
    at = surface.positions(np.array([row]), np.array([col]))[0]
    x, y = surface.grid.centres(np.array([row]), np.array([col]))
    straight = np.hypot(x[0] - xy(2000, 300)[0], y[0] - xy(2000, 300)[1]) / (ACCESS_KPH / 3.6)
    assert surface.direct[at]
    assert surface.seconds[at] == pytest.approx(straight)
    assert surface.seconds[at] < 60.0


@pytest.fixture(scope="module")
def mwali_setup(mwali_network, mwali_facilities, mwali_boundary):
    facilities = attach_points(mwali_network, mwali_facilities, access_speed_kph=ACCESS_KPH, tolerance_m=TOLERANCE_M)
    facility_xy = shapely.get_coordinates(mwali_facilities.geometry.to_crs(mwali_network.crs).values)
    grid = surface_grid(
        network_crs=mwali_network.crs,
        extent_lonlat=mwali_network.extent_lonlat(),
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
    )
    return facilities, facility_xy, grid, cells_inside(grid, mwali_boundary)


@pytest.mark.parametrize("direction", ["to_facility", "from_facility"])
def test_a_cells_minutes_are_the_engines_time_at_its_centre(tmp_path, mwali_network, mwali_setup, direction):
    network = mwali_network
    facilities, facility_xy, grid, inside = mwali_setup
    reach = nearest_facility(network, facilities, direction=direction)
    surface = travel_time_surface(
        network,
        reach,
        grid=grid,
        inside=inside,
        facility_xy=facility_xy,
        access_speed_kph=ACCESS_KPH,
        tolerance_m=TOLERANCE_M,
        cache_dir=tmp_path,
    )
    assert len(surface) == inside.sum()
    rng = np.random.default_rng(7)
    sample = np.concatenate([rng.choice(len(surface), 150, replace=False), np.flatnonzero(surface.direct)[:30]])
    x, y = grid.centres(surface.rows[sample], surface.cols[sample])
    lon, lat = Transformer.from_crs(grid.crs, 4326, always_xy=True).transform(x, y)
    places = gpd.GeoDataFrame({"id": [f"c{i}" for i in sample]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    attached = attach_points(network, places, access_speed_kph=ACCESS_KPH, tolerance_m=TOLERANCE_M)

    # the engine at the cell centre, as for a village placed there
    seconds, index = reach_points(network, reach, attached)
    place_xy = shapely.get_coordinates(places.geometry.to_crs(network.crs).values)
    seconds, index, _ = direct_offroad(
        place_xy,
        seconds,
        index,
        facility_xy=facility_xy,
        speed_kph=ACCESS_KPH,
        max_distance_m=np.maximum(TOLERANCE_M, attached.snap_distance_m),
    )
    np.testing.assert_allclose(surface.seconds[sample], seconds, rtol=0, atol=1e-6)
    assert (surface.facility[sample] == np.where(np.isfinite(seconds), index, -1)).all()

    # networkx on the same roads with each cell spliced into its road piece, and the straight walks by brute force
    reference, _ = nearest_times(network, facilities, attached, reverse=direction == "to_facility")
    distance = np.hypot(place_xy[:, None, 0] - facility_xy[None, :, 0], place_xy[:, None, 1] - facility_xy[None, :, 1])
    allowed = distance <= np.maximum(TOLERANCE_M, attached.snap_distance_m)[:, None]
    walk = np.where(allowed, distance / (ACCESS_KPH / 3.6), np.inf).min(axis=1)
    np.testing.assert_allclose(surface.seconds[sample], np.minimum(reference, walk), rtol=0, atol=1e-6)


def test_the_cells_snapping_is_cached_on_disk_and_shared(tmp_path, mwali_network, mwali_setup, monkeypatch):
    _, _, grid, inside = mwali_setup
    surface_module._memory.clear()
    first = snap_cells(mwali_network, grid, inside, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("cells.*.npz"))) == 1
    surface_module._memory.clear()

    def no_snapping(*args, **kwargs):
        raise AssertionError("the cells were snapped again")

    monkeypatch.setattr(surface_module, "snap_to_roads", no_snapping)
    again = snap_cells(mwali_network, grid, inside, cache_dir=tmp_path)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    # another set of cells is another entry
    fewer = inside.copy()
    fewer[np.nonzero(inside)[0][0], np.nonzero(inside)[1][0]] = False
    monkeypatch.undo()
    snap_cells(mwali_network, grid, fewer, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("cells.*.npz"))) == 2


@pytest.mark.parametrize("damage", ["edited", "no checksum", "truncated"])
def test_a_damaged_or_edited_cells_cache_is_snapped_again(tmp_path, mwali_network, mwali_setup, caplog, damage):
    """As the network cache: a cells cache that does not match its checksum is never trusted."""
    _, _, grid, inside = mwali_setup
    surface_module._memory.clear()
    first = snap_cells(mwali_network, grid, inside, cache_dir=tmp_path)
    (path,) = tmp_path.glob("cells.*.npz")
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    if damage == "edited":
        arrays["distance"] = arrays["distance"] * 0.5  # a plausible file, every cell twice as close to its road
        np.savez(path, **arrays)
    elif damage == "no checksum":
        np.savez(path, **{k: v for k, v in arrays.items() if k != "sha256"})
    else:
        path.write_bytes(path.read_bytes()[:200])
    surface_module._memory.clear()
    again = snap_cells(mwali_network, grid, inside, cache_dir=tmp_path)
    assert "cannot be used" in caplog.text
    assert "snapping the cells again" in caplog.text
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    # rewritten whole: the next run trusts it
    caplog.clear()
    surface_module._memory.clear()
    snap_cells(mwali_network, grid, inside, cache_dir=tmp_path)
    assert "cannot be used" not in caplog.text


def test_without_the_cache_nothing_is_written(tmp_path, mwali_network, mwali_setup):
    _, _, grid, inside = mwali_setup
    surface_module._memory.clear()
    snap_cells(mwali_network, grid, inside, cache_dir=tmp_path, use_cache=False)
    assert not list(tmp_path.glob("cells.*"))


def test_populated_cells_are_the_rasters_cells(mwali_network, mwali_setup, mwali_boundary):
    _, _, grid, inside = mwali_setup
    cells = population_cells(COMOROS_RASTER, boundary=mwali_boundary)
    rows, cols = grid.cells_of(cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy())
    assert (rows >= 0).all()
    # every populated cell lies inside the region, at the centre of its grid cell
    assert inside[rows, cols].all()
    x, y = grid.centres(rows, cols)
    np.testing.assert_allclose(x, cells.geometry.x, atol=1e-9)
    np.testing.assert_allclose(y, cells.geometry.y, atol=1e-9)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fx=st.floats(-300, 4300),
    fy=st.floats(-300, 4300),
    first=st.floats(1, 30),
    extra=st.floats(0.5, 30),
)
def test_areas_are_nested_and_count_their_cells(tmp_path, fx, fy, first, extra):
    surface = _pocket_surface(tmp_path, facility=(fx, fy), cell_m=200.0)
    small, large = isochrone_areas(surface, minutes=[first, first + extra]).itertuples()
    assert small.cells <= large.cells
    assert small.area_km2 == pytest.approx(small.cells * 0.04)
    # the same cell edges, up to the reprojection to WGS84 of edges the larger area runs straight along
    assert shapely.difference(small.geometry, large.geometry).area <= 1e-6 * large.geometry.area
    # a cell is within T exactly when its time is at most T minutes, no rounding
    assert small.cells == int((surface.seconds <= first * 60.0).sum())


def test_positions_of_cells_in_and_out_of_the_region(tmp_path):
    surface = _pocket_surface(tmp_path, cell_m=500.0)
    rows, cols = surface.rows, surface.cols
    np.testing.assert_array_equal(surface.positions(rows, cols), np.arange(len(surface)))
    n_rows, n_cols = surface.grid.shape
    outside = surface.positions(np.array([-1, 0, n_rows, 0]), np.array([0, -1, 0, n_cols]))
    assert (outside == -1).all()
