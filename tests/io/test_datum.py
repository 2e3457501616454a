"""Tests for coverage.io.datum: GCJ-02 / BD-09 conversions against published values and real data."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.io.datum import (
    DATUMS,
    bd09_to_gcj02,
    check_datum,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometry_to_wgs84,
    in_china,
    to_wgs84,
    wgs84_to_gcj02,
)
from tests.conftest import INPUT

DONGXIHU_GCJ02 = INPUT / "dongxihu_420112_gcj02.geojson"
DONGXIHU_WGS84 = INPUT / "dongxihu_420112_wgs84.geojson"

# The shipped WGS84 copy was made with the same published formula, iterated to
# <1e-9 degrees and then rounded to 7 decimals, so it can differ from an exact
# inverse by at most half of the last digit, 5e-8 degrees (~5 mm), plus float noise.
SHIPPED_ROUNDING_DEG = 0.5e-7 + 1e-12

# Points inside mainland China where the offset is defined and smooth.
china_lon = st.floats(min_value=73.7, max_value=134.9, allow_nan=False)
china_lat = st.floats(min_value=18.2, max_value=53.5, allow_nan=False)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on a 6,371 km sphere)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def test_forward_matches_published_values():
    # Published results of the reference JavaScript implementation (coordtransform,
    # test/app.js) for Tiananmen, Beijing (116.404, 39.915).
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41024449916938, abs=1e-12)
    assert float(lat) == pytest.approx(39.91640428150164, abs=1e-12)
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41036949371029, abs=1e-12)
    assert float(lat) == pytest.approx(39.92133699351021, abs=1e-12)


def test_inverses_agree_with_published_one_step_approximations_to_a_few_centimetres():
    # The reference one-step inverses are approximations; the exact inverses differ
    # from them only slightly here, and reproduce the input exactly when re-applied.
    lon, lat = gcj02_to_wgs84(116.404, 39.915)
    assert _metres(float(lon), float(lat), 116.39775550083061, 39.91359571849836) < 0.1
    back = wgs84_to_gcj02(lon, lat)
    assert np.allclose(back, (116.404, 39.915), atol=1e-11, rtol=0)
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert _metres(float(lon), float(lat), 116.39762729119315, 39.90865673957631) < 0.1
    back = gcj02_to_bd09(lon, lat)
    assert np.allclose(back, (116.404, 39.915), atol=1e-11, rtol=0)


@pytest.mark.parametrize(
    ("place", "lon", "lat"),
    [("Beijing, Tiananmen", 116.3975, 39.9087), ("Wuhan, Dongxihu", 114.137, 30.62), ("Suizhou", 113.38, 31.69)],
)
def test_gcj02_offset_is_300_to_700_metres_in_the_seed_regions(place, lon, lat):
    g_lon, g_lat = wgs84_to_gcj02([lon], [lat])
    offset_m = _metres(lon, lat, float(g_lon[0]), float(g_lat[0]))
    assert 300 <= offset_m <= 700, place
    b_lon, b_lat = gcj02_to_bd09(g_lon, g_lat)
    assert _metres(lon, lat, float(b_lon[0]), float(b_lat[0])) > offset_m  # Baidu adds its own shift


def test_dongxihu_offset_matches_the_shipped_note():
    # PROVENANCE of the boundary data: near Dongxihu GCJ lon +0.0057°, lat -0.0023°.
    g_lon, g_lat = wgs84_to_gcj02([114.14], [30.68])
    assert float(g_lon[0] - 114.14) == pytest.approx(0.0057, abs=0.0002)
    assert float(g_lat[0] - 30.68) == pytest.approx(-0.0023, abs=0.0002)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(43.2553, -11.7022), (-0.1276, 51.5072), (151.2093, -33.8688), (72.0, 30.0), (100.0, 56.0), (100.0, 0.5)],
)
def test_points_outside_china_are_unchanged(lon, lat):
    assert not in_china([lon], [lat])[0]
    for function in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = function([lon], [lat])
        assert (out_lon[0], out_lat[0]) == (lon, lat)
    for datum in ("gcj02", "wgs84"):
        out_lon, out_lat = to_wgs84([lon], [lat], datum=datum)
        assert (out_lon[0], out_lat[0]) == (lon, lat)


def test_nan_stays_nan_and_shapes_are_kept():
    lon = np.array([[114.1, np.nan], [43.2, 114.2]])
    lat = np.array([[30.6, 30.6], [-11.7, np.nan]])
    for function in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02):
        out_lon, out_lat = function(lon, lat)
        assert out_lon.shape == out_lat.shape == (2, 2)
        assert np.isnan(out_lon[0, 1])
        assert np.isnan(out_lat[1, 1])
        assert np.isfinite(out_lon[0, 0])
        assert np.isfinite(out_lat[0, 0])


def test_mismatched_shapes_are_refused():
    with pytest.raises(InputError, match="differ in shape"):
        wgs84_to_gcj02([1.0, 2.0], [1.0])


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_round_trip_wgs84_gcj02(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02([lon], [lat])
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert abs(w_lon[0] - lon) < 1e-7
    assert abs(w_lat[0] - lat) < 1e-7


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_round_trip_gcj02_bd09(lon, lat):
    b_lon, b_lat = gcj02_to_bd09([lon], [lat])
    g_lon, g_lat = bd09_to_gcj02(b_lon, b_lat)
    assert abs(g_lon[0] - lon) < 1e-7
    assert abs(g_lat[0] - lat) < 1e-7


@settings(max_examples=100, deadline=None)
@given(china_lon, china_lat)
def test_to_wgs84_undoes_every_datum(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02([lon], [lat])
    b_lon, b_lat = gcj02_to_bd09(g_lon, g_lat)
    for datum, (x, y) in {"wgs84": ([lon], [lat]), "gcj02": (g_lon, g_lat), "bd09": (b_lon, b_lat)}.items():
        w_lon, w_lat = to_wgs84(x, y, datum=datum)
        assert abs(w_lon[0] - lon) < 1e-7, datum
        assert abs(w_lat[0] - lat) < 1e-7, datum


def test_datum_names_are_normalised_and_unknown_ones_listed():
    assert check_datum("GCJ-02") == "gcj02"
    assert check_datum("BD_09") == "bd09"
    assert check_datum("WGS84") == "wgs84"
    with pytest.raises(InputError) as info:
        to_wgs84([114.0], [30.0], datum="cgcs2000")
    message = str(info.value)
    assert "'cgcs2000'" in message
    for datum in DATUMS:
        assert datum in message
    with pytest.raises(InputError, match=r"villages\.csv: unknown datum 'mars'"):
        check_datum("mars", source="villages.csv")


def test_real_dongxihu_boundary_gcj02_to_wgs84_matches_the_shipped_copy():
    gcj = gpd.read_file(DONGXIHU_GCJ02)
    wgs = gpd.read_file(DONGXIHU_WGS84)
    assert gcj["adcode"].tolist() == wgs["adcode"].tolist() == ["420112"]
    converted = geometry_to_wgs84(gcj.geometry, datum="gcj02")
    assert converted.crs.to_epsg() == 4326
    ours = shapely.get_coordinates(converted.values)
    shipped = shapely.get_coordinates(wgs.geometry.values)
    assert ours.shape == shipped.shape
    assert len(ours) > 500
    assert np.abs(ours - shipped).max() <= SHIPPED_ROUNDING_DEG
    # The conversion moved every vertex by the expected 300-700 m.
    original = shapely.get_coordinates(gcj.geometry.values)
    moved_m = [_metres(*a, *b) for a, b in zip(original[::50], ours[::50], strict=True)]
    assert min(moved_m) > 300
    assert max(moved_m) < 700
    assert converted.iloc[0].is_valid
    assert converted.iloc[0].geom_type == gcj.geometry.iloc[0].geom_type


def test_geometry_to_wgs84_keeps_any_geometry_type_z_and_index():
    geoms = gpd.GeoSeries(
        [
            shapely.Point(114.1, 30.6, 25.0),
            shapely.LineString([(114.1, 30.6), (114.2, 30.7)]),
            shapely.Polygon([(114.1, 30.6), (114.2, 30.6), (114.2, 30.7)]),
            shapely.GeometryCollection([shapely.Point(114.1, 30.6)]),
            None,
        ],
        index=[10, 11, 12, 13, 14],
        crs="EPSG:4326",
    )
    out = geometry_to_wgs84(geoms, datum="gcj02")
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out.iloc[0].has_z
    assert out.iloc[0].z == 25.0
    lon, lat = gcj02_to_wgs84([114.1], [30.6])
    for geom in out.iloc[:4]:
        first = shapely.get_coordinates(geom)[0]
        assert first == pytest.approx([lon[0], lat[0]], abs=1e-12)
    assert out.iloc[4] is None
    unchanged = geometry_to_wgs84(geoms, datum="wgs84")
    assert unchanged.iloc[1].equals(geoms.iloc[1])


def test_geometry_to_wgs84_refuses_projected_geometry():
    geoms = gpd.GeoSeries([shapely.Point(500_000, 3_400_000)], crs="EPSG:32650")
    with pytest.raises(InputError, match=r"to_crs\('EPSG:4326'\)"):
        geometry_to_wgs84(geoms, datum="gcj02")
