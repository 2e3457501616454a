"""Tests for coverage.io.points: reading facility and village files, and the extent check.

The fixtures are real hospitals of the Comoros OSM extract written as CSV (UTF-8 and
GBK), GeoJSON and Shapefile (see tests/input_data/make_point_fixtures.py); the
GCJ-02 cases use the real Dongxihu (Wuhan) boundary in GCJ-02 and WGS84.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage._errors import InputError
from coverage.io.datum import gcj02_to_bd09, gcj02_to_wgs84
from coverage.io.points import check_points_in_extent, read_points
from tests.conftest import INPUT

CSV = INPUT / "hospitals.csv"
GBK_CSV = INPUT / "hospitals_gbk.csv"
GEOJSON = INPUT / "hospitals.geojson"
AREAS = INPUT / "hospital_areas.geojson"
UTM_SHP = INPUT / "hospitals_utm38s.shp"
NOPRJ_SHP = INPUT / "hospitals_noprj.shp"
DONGXIHU_GCJ02 = INPUT / "dongxihu_420112_gcj02.geojson"
DONGXIHU_WGS84 = INPUT / "dongxihu_420112_wgs84.geojson"

# Extent of the Comoros road network (lon_min, lat_min, lon_max, lat_max).
COMOROS_EXTENT = (43.2, -12.45, 44.55, -11.35)
N_HOSPITALS = 11


@pytest.fixture(scope="module")
def hospitals() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype={"id": str})


def _xy(points: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(points.geometry.values)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _csv_lines(path: Path = CSV) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# ---------------------------------------------------------------- reading each format


def test_reads_utf8_csv_with_ids_from_the_id_column(hospitals, caplog):
    with caplog.at_level(logging.INFO, logger="coverage.io.points"):
        points = read_points(CSV, what="facilities")
    assert isinstance(points, gpd.GeoDataFrame)
    assert points.crs.to_epsg() == 4326
    assert list(points.columns) == ["id", "name", "healthcare", "lon", "lat", "geometry"]
    assert points["id"].tolist() == hospitals["id"].tolist()
    assert all(isinstance(v, str) for v in points["id"])
    assert "Centre de santé de Mitsoudjé" in points["name"].tolist()
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy(), atol=1e-12)
    assert (points.geom_type == "Point").all()
    assert "utf-8" in caplog.text
    assert "ids from column 'id'" in caplog.text


def test_reads_gbk_csv_with_chinese_column_names(hospitals, caplog):
    raw = GBK_CSV.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really GBK, not UTF-8
    with caplog.at_level(logging.INFO, logger="coverage.io.points"):
        points = read_points(GBK_CSV)
    assert "gb18030" in caplog.text
    assert "ids from column '编号'" in caplog.text
    assert list(points.columns) == ["id", "编号", "医院名称", "经度", "纬度", "示例地名", "geometry"]
    # Codes keep their leading zeros.
    assert points["id"].tolist()[:3] == ["001", "002", "003"]
    assert points["编号"].tolist()[:3] == ["001", "002", "003"]
    assert points["示例地名"].iloc[1] == "武汉市东西湖区"
    assert points["医院名称"].iloc[1] == "Centre de santé de Mitsoudjé"
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy(), atol=1e-12)


def test_explicit_encoding_is_used_and_a_wrong_one_is_reported(tmp_path):
    points = read_points(GBK_CSV, encoding="gbk")
    assert points["示例地名"].iloc[0] == "随州市曾都区"
    with pytest.raises(InputError) as info:
        read_points(GBK_CSV, encoding="utf-8")
    message = str(info.value)
    assert "hospitals_gbk.csv" in message
    assert "not valid utf-8" in message
    assert "line 1" in message
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_points(GBK_CSV, encoding="klingon")


def test_utf8_with_bom_and_tab_separated_text(tmp_path, hospitals):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + CSV.read_bytes())
    points = read_points(bom)
    assert points.columns[1] == "name"  # no BOM glued to the first column name
    assert points["id"].tolist() == hospitals["id"].tolist()
    tabbed = _write(tmp_path / "hospitals.txt", "\n".join(line.replace(",", "\t") for line in _csv_lines()) + "\n")
    assert np.allclose(_xy(read_points(tabbed)), hospitals[["lon", "lat"]].to_numpy())


def test_coordinate_columns_are_found_in_any_case_or_given(tmp_path, hospitals):
    lines = _csv_lines()
    upper = _write(
        tmp_path / "upper.csv", "\n".join([lines[0].replace("lon", "Longitude").replace("lat", "LAT"), *lines[1:]])
    )
    assert np.allclose(_xy(read_points(upper)), hospitals[["lon", "lat"]].to_numpy())
    odd = _write(tmp_path / "odd.csv", "\n".join([lines[0].replace("lon", "east").replace("lat", "north"), *lines[1:]]))
    points = read_points(odd, lon_column="east", lat_column="north")
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy())


def test_rows_numbered_as_ids_when_there_is_no_id_column(tmp_path, caplog):
    lines = [",".join(line.split(",")[1:]) for line in _csv_lines()]
    path = _write(tmp_path / "no_id.csv", "\n".join(lines) + "\n")
    with caplog.at_level(logging.INFO, logger="coverage.io.points"):
        points = read_points(path)
    assert points["id"].tolist() == [str(i) for i in range(1, N_HOSPITALS + 1)]
    assert "using data row numbers" in caplog.text


def test_id_column_option_and_the_files_own_id_column(tmp_path):
    points = read_points(CSV, id_column="lon")
    assert points["id"].iloc[0] == "44.4006947"
    assert "id_original" in points.columns
    with pytest.raises(InputError) as info:
        read_points(CSV, id_column="code")
    assert "hospitals.csv" in str(info.value)
    assert "'code'" in str(info.value)
    assert "'name'" in str(info.value)


def test_reads_geojson_points(hospitals):
    points = read_points(GEOJSON)
    assert points.crs.to_epsg() == 4326
    assert points["id"].tolist() == hospitals["id"].tolist()
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy(), atol=1e-9)


def test_reads_projected_shapefile_and_reprojects_to_wgs84(hospitals):
    assert gpd.read_file(UTM_SHP).crs.to_epsg() == 32738
    points = read_points(UTM_SHP)
    assert points.crs.to_epsg() == 4326
    assert points["id"].tolist() == hospitals["id"].tolist()
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy(), atol=1e-8)


def test_shapefile_without_prj_needs_a_crs(hospitals):
    with pytest.raises(InputError) as info:
        read_points(NOPRJ_SHP, what="villages")
    message = str(info.value)
    assert "villages file" in message
    assert "hospitals_noprj.shp" in message
    assert ".prj" in message
    assert "crs=" in message
    points = read_points(NOPRJ_SHP, crs="EPSG:32738")
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy(), atol=1e-8)


def test_polygons_are_reduced_to_a_point_inside():
    areas = gpd.read_file(AREAS)
    points = read_points(AREAS, id_column="osm_id")
    assert len(points) == len(areas) == 17
    assert (points.geom_type == "Point").all()
    assert points["id"].tolist() == [str(v) for v in areas["osm_id"]]
    assert "Hôpital El Maarouf" in points["name"].tolist()
    assert all(area.contains(point) for area, point in zip(areas.geometry, points.geometry, strict=True))


def test_reads_a_geopackage_layer(tmp_path, hospitals):
    path = tmp_path / "health.gpkg"
    gpd.read_file(GEOJSON).to_file(path, layer="hospitals")
    assert read_points(path)["id"].tolist() == hospitals["id"].tolist()
    gpd.read_file(AREAS).to_file(path, layer="areas")
    with pytest.raises(InputError) as info:
        read_points(path)
    assert "health.gpkg" in str(info.value)
    assert "'hospitals'" in str(info.value)
    assert "layer=" in str(info.value)
    assert len(read_points(path, layer="areas", id_column="osm_id")) == 17
    with pytest.raises(InputError, match="no layer 'clinics'"):
        read_points(path, layer="clinics")


def test_reads_a_spreadsheet_without_geometry(tmp_path, hospitals):
    path = tmp_path / "hospitals.xlsx"
    table = pd.read_csv(GBK_CSV, encoding="gbk", dtype={"编号": str})
    try:
        import pyogrio

        pyogrio.write_dataframe(table, path, driver="XLSX")
    except Exception as exc:  # the GDAL build may lack the XLSX writer
        pytest.skip(f"cannot write XLSX here: {exc}")
    points = read_points(path)
    assert "示例地名" in points.columns
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy(), atol=1e-9)


# ---------------------------------------------------------------- datums


def test_gcj02_csv_is_converted_to_wgs84_like_the_real_boundary_pair(tmp_path):
    gcj = shapely.get_coordinates(gpd.read_file(DONGXIHU_GCJ02).geometry.values)[:40]
    wgs = shapely.get_coordinates(gpd.read_file(DONGXIHU_WGS84).geometry.values)[:40]
    table = pd.DataFrame({"编号": [f"V{i}" for i in range(40)], "经度": gcj[:, 0], "纬度": gcj[:, 1]})
    path = tmp_path / "villages_gcj02.csv"
    table.to_csv(path, index=False, encoding="gbk")
    points = read_points(path, datum="gcj02")
    assert np.abs(_xy(points) - wgs).max() <= 0.5e-7 + 1e-12
    # The file's own columns keep the numbers as written.
    assert np.allclose(points["经度_gcj02"], gcj[:, 0])  # the file's coordinates, named by their datum
    bd_lon, bd_lat = gcj02_to_bd09(gcj[:, 0], gcj[:, 1])
    table["经度"], table["纬度"] = bd_lon, bd_lat
    table.to_csv(path, index=False)
    points = read_points(path, datum="BD-09")
    assert np.abs(_xy(points) - wgs).max() <= 0.5e-7 + 1e-9


def test_gcj02_polygon_file_gives_a_wgs84_point_inside_the_true_boundary():
    points = read_points(DONGXIHU_GCJ02, datum="gcj02", id_column="adcode")
    assert points["id"].tolist() == ["420112"]
    assert points["district"].iloc[0] == "东西湖区"
    gcj_point = gpd.read_file(DONGXIHU_GCJ02).geometry.iloc[0].representative_point()
    lon, lat = gcj02_to_wgs84([gcj_point.x], [gcj_point.y])
    assert _xy(points)[0] == pytest.approx([lon[0], lat[0]], abs=1e-12)
    assert gpd.read_file(DONGXIHU_WGS84).geometry.iloc[0].contains(points.geometry.iloc[0])


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_a_chinese_datum_outside_china_is_refused(datum):
    # BD-09 would shift every Comoros hospital by about a kilometre, GCJ-02 by nothing: both are a wrong option
    with pytest.raises(InputError, match=rf"datum {datum} \(--datum\).*11 points of 11 lie outside China") as info:
        read_points(CSV, datum=datum)
    assert "row 2 (id" in str(info.value)
    assert "--datum wgs84" in str(info.value)


def test_a_geometry_column_in_a_csv_is_kept(tmp_path):
    path = _write(tmp_path / "wkt.csv", "id,lon,lat,geometry\n1,43.3,-11.7,POINT (1 2)\n")
    points = read_points(path)
    assert points["geometry_original"].iloc[0] == "POINT (1 2)"
    assert points.geometry.iloc[0].equals(shapely.Point(43.3, -11.7))


def test_unknown_datum_names_the_file_and_the_choices():
    with pytest.raises(InputError) as info:
        read_points(CSV, datum="baidu")
    message = str(info.value)
    assert "hospitals.csv" in message
    assert "'baidu'" in message
    assert all(d in message for d in ("wgs84", "gcj02", "bd09"))


# ---------------------------------------------------------------- errors


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(InputError, match=r"facilities file not found: .*nowhere\.csv"):
        read_points(tmp_path / "nowhere.csv", what="facilities")
    with pytest.raises(InputError, match="is a folder"):
        read_points(tmp_path)


def test_empty_files(tmp_path):
    with pytest.raises(InputError, match=r"empty\.csv is empty \(0 bytes\)"):
        read_points(_write(tmp_path / "empty.csv", ""))
    with pytest.raises(InputError, match=r"blank\.csv contains only blank lines"):
        read_points(_write(tmp_path / "blank.csv", "\n\n  \n"))
    with pytest.raises(InputError) as info:
        read_points(_write(tmp_path / "header.csv", _csv_lines()[0] + "\n"))
    assert "header.csv" in str(info.value)
    assert "no data rows" in str(info.value)
    empty_json = _write(tmp_path / "none.geojson", '{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match=r"none\.geojson has no features"):
        read_points(empty_json)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_unreadable_files(tmp_path):
    garbage = tmp_path / "broken.gpkg"
    garbage.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    with pytest.raises(InputError) as info:
        read_points(garbage)
    assert "broken.gpkg" in str(info.value)
    assert "cannot be" in str(info.value)
    truncated = tmp_path / "cut.geojson"
    truncated.write_text(GEOJSON.read_text(encoding="utf-8")[:300], encoding="utf-8")
    with pytest.raises(InputError, match=r"cut\.geojson cannot be"):
        read_points(truncated)
    binary = tmp_path / "sheet.csv"
    binary.write_bytes(b"PK\x03\x04" + bytes(range(128, 256)) * 4)
    with pytest.raises(InputError, match=r"sheet\.csv is not text"):
        read_points(binary)
    ragged = _write(tmp_path / "ragged.csv", "id,lon,lat\n1,43.3,-11.7\n2,43.4,-11.8,extra,cells\n")
    with pytest.raises(InputError, match=r"ragged\.csv cannot be read as a table.*line 3"):
        read_points(ragged)


def test_no_coordinate_columns_lists_what_was_found_and_accepted(tmp_path):
    path = _write(tmp_path / "names.csv", "编号,名称,地址\n1,卫生院,东西湖区\n")
    with pytest.raises(InputError) as info:
        read_points(path)
    message = str(info.value)
    assert "names.csv" in message
    assert "'编号', '名称', '地址'" in message
    assert "经度" in message
    assert "纬度" in message
    assert "longitude" in message
    assert "lon_column=" in message
    with pytest.raises(InputError, match=r"no column 'east' \(given as lon_column=...\)"):
        read_points(CSV, lon_column="east")


def test_non_numeric_coordinates_name_rows_and_column(tmp_path):
    lines = _csv_lines()
    lines[3] = lines[3].replace("43.2861297", "43°17'10\"")
    lines[6] = lines[6].replace("-11.3842921", '"-11,38"')
    path = _write(tmp_path / "typos.csv", "\n".join(lines) + "\n")
    with pytest.raises(
        InputError, match=r"typos\.csv: column 'lon' has 1 value that is not a number: row 4: '43°17'10\"'"
    ) as info:
        read_points(path)
    assert "43°17'10" in str(info.value)
    lines[3] = _csv_lines()[3]
    path = _write(tmp_path / "typos.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"typos\.csv: column 'lat' .*: row 7: '-11,38'.*decimal"):
        read_points(path)


def test_many_bad_rows_are_listed_up_to_five(tmp_path):
    lines = _csv_lines()
    bad = [lines[0]] + [line.replace(line.split(",")[3], "n/a") for line in lines[1:]]
    path = _write(tmp_path / "bad.csv", "\n".join(bad) + "\n")
    with pytest.raises(InputError) as info:
        read_points(path)
    message = str(info.value)
    listed = "row 2: 'n/a', row 3: 'n/a', row 4: 'n/a', row 5: 'n/a', row 6: 'n/a' and 6 more"
    assert f"11 values that are not a number: {listed}" in message


def test_out_of_range_coordinates(tmp_path):
    lines = _csv_lines()
    lines[2] = lines[2].replace("43.2796781", "243.2796781")
    path = _write(tmp_path / "range.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"range\.csv: coordinates out of range in 1 row: row 3: lon 243\.28"):
        read_points(path)
    swapped = ["id,lon,lat", "1,-11.7,43.3", "2,-11.8,143.3"]
    with pytest.raises(InputError, match="look swapped"):
        read_points(_write(tmp_path / "swapped.csv", "\n".join(swapped)))
    metres = ["id,x,y", "1,38512345.1,3394567.2"]
    with pytest.raises(InputError, match=r"projected coordinates in metres.*crs="):
        read_points(_write(tmp_path / "metres.csv", "\n".join(metres)))


def test_projected_csv_read_with_a_crs(tmp_path, hospitals):
    utm = gpd.read_file(UTM_SHP)
    table = pd.DataFrame({"id": hospitals["id"], "X": utm.geometry.x, "Y": utm.geometry.y})
    path = tmp_path / "utm.csv"
    table.to_csv(path, index=False)
    points = read_points(path, crs="EPSG:32738")
    assert np.allclose(_xy(points), hospitals[["lon", "lat"]].to_numpy(), atol=1e-8)
    assert points["X_epsg32738"].iloc[0] == pytest.approx(utm.geometry.x.iloc[0])  # metres, named by their CRS
    with pytest.raises(InputError, match="crs='EPSG:99999'"):
        read_points(path, crs="EPSG:99999")


def test_missing_coordinates_name_rows_and_columns(tmp_path):
    lines = _csv_lines()
    lines[4] = lines[4].replace("43.4347146", "")
    lines[9] = lines[9].replace("43.6751004,-12.2580776", ",")
    path = _write(tmp_path / "gaps.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        read_points(path)
    message = str(info.value)
    assert "gaps.csv" in message
    assert "missing coordinates in 2 rows: row 5: 'lon' empty, row 10" in message
    assert "row 5: 'lon' empty" in message
    assert "row 10: 'lon' and 'lat' empty" in message


def test_fully_blank_rows_are_skipped_with_a_warning_and_rows_keep_their_numbers(tmp_path, caplog):
    lines = _csv_lines()
    lines.insert(3, ",,,,")
    lines.insert(6, "")
    lines[8] = lines[8].replace("43.3268519", "")
    path = _write(tmp_path / "blanks.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"missing coordinates in 1 row: row 9: 'lon' empty"):
        read_points(path)
    lines[8] = _csv_lines()[6]
    path = _write(tmp_path / "blanks.csv", "\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="coverage.io.points"):
        points = read_points(path)
    assert len(points) == N_HOSPITALS
    assert "skipped rows 4, 7 with no value" in caplog.text


def test_duplicate_and_empty_ids(tmp_path):
    lines = _csv_lines()
    first_id = lines[1].split(",")[0]
    lines[4] = first_id + lines[4][lines[4].index(",") :]
    lines[7] = first_id + lines[7][lines[7].index(",") :]
    path = _write(tmp_path / "dups.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        read_points(path)
    message = str(info.value)
    assert "dups.csv" in message
    assert "duplicate ids in column 'id'" in message
    assert f"'{first_id}' (rows 2, 5, 8)" in message
    lines = _csv_lines()
    lines[4] = lines[4][lines[4].index(",") :]
    path = _write(tmp_path / "noid.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"noid\.csv: empty id in column 'id' in row 5"):
        read_points(path)


@pytest.mark.filterwarnings("ignore:Several features with id:RuntimeWarning")
def test_duplicate_ids_in_a_gis_file_name_features(tmp_path):
    frame = gpd.read_file(GEOJSON)
    frame.loc[3, "id"] = frame.loc[0, "id"]
    path = tmp_path / "dups.geojson"
    frame.to_file(path)
    with pytest.raises(InputError, match=r"dups\.geojson: duplicate ids .*features 1, 4"):
        read_points(path)


def test_lines_are_refused(tmp_path):
    frame = gpd.read_file(GEOJSON)
    lines = gpd.GeoDataFrame(
        {"id": ["a", "b"]},
        geometry=[shapely.LineString(frame.geometry.iloc[0:2]), shapely.LineString(frame.geometry.iloc[2:4])],
        crs="EPSG:4326",
    )
    path = tmp_path / "roads.geojson"
    lines.to_file(path)
    with pytest.raises(InputError) as info:
        read_points(path, what="facilities")
    message = str(info.value)
    assert "facilities file" in message
    assert "roads.geojson" in message
    assert "features 1, 2 are lines (linestring)" in message
    assert "points or polygons" in message


def test_features_without_geometry_are_refused(tmp_path):
    frame = gpd.read_file(GEOJSON)
    frame.loc[2, "geometry"] = None
    path = tmp_path / "holes.geojson"
    frame.to_file(path)
    with pytest.raises(InputError, match=r"holes\.geojson: no geometry in feature 3"):
        read_points(path)


def test_out_of_range_geometry_in_a_gis_file(tmp_path):
    frame = gpd.read_file(GEOJSON)
    frame.loc[1, "geometry"] = shapely.Point(-11.8, 143.3)
    path = tmp_path / "swapped.geojson"
    frame.to_file(path)
    with pytest.raises(
        InputError,
        match=r"swapped\.geojson: coordinates out of range in 1 feature: feature 2: longitude -11\.8, latitude 143\.3",
    ):
        read_points(path)


# ---------------------------------------------------------------- extent check


def test_points_inside_the_extent_pass():
    points = read_points(CSV)
    check_points_in_extent(points, COMOROS_EXTENT, source="hospitals.csv")
    # Within the margin: the whole set fits a slightly smaller box plus 0.1°.
    lon_min, lat_min, lon_max, lat_max = points.total_bounds
    check_points_in_extent(points, (lon_min + 0.09, lat_min + 0.09, lon_max - 0.09, lat_max - 0.09), source="x")


def test_swapped_longitude_and_latitude_are_recognised(tmp_path):
    lines = _csv_lines()
    header = lines[0].replace("lon", "TMP").replace("lat", "lon").replace("TMP", "lat")
    path = _write(tmp_path / "swapped.csv", "\n".join([header, *lines[1:]]) + "\n")
    points = read_points(path)  # in range, so reading alone cannot tell
    with pytest.raises(InputError) as info:
        check_points_in_extent(points, COMOROS_EXTENT, source="swapped.csv")
    message = str(info.value)
    assert message.startswith("longitude and latitude look swapped in swapped.csv, rows")
    assert "2716272375" in message
    assert "and 6 more" in message


def test_points_outside_are_listed_with_the_extent():
    points = read_points(CSV)
    moheli_only = (43.6, -12.45, 43.9, -12.2)
    with pytest.raises(InputError) as info:
        check_points_in_extent(points, moheli_only, source="hospitals.csv")
    message = str(info.value)
    assert "of 11 points in hospitals.csv are outside" in message
    assert "2716272375" in message
    assert "lon 43.6000 to 43.9000" in message
    check_points_in_extent(points.iloc[6:], moheli_only, source="hospitals.csv")


def test_extent_check_accepts_projected_points_and_refuses_bad_extents():
    projected = read_points(CSV).to_crs("EPSG:32738")
    check_points_in_extent(projected, COMOROS_EXTENT, source="hospitals")
    with pytest.raises(InputError, match="min <= max"):
        check_points_in_extent(projected, (44.0, -11.0, 43.0, -12.0), source="hospitals")
