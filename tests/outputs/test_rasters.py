"""The surface's GeoTIFFs, the catchments table and the QGIS styles written with an analysis."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from coverage.outputs.classes import classify_minutes, time_classes
from coverage.outputs.files import write_outputs
from coverage.outputs.rasters import OVERVIEW_MIN_PIXELS


@pytest.fixture(scope="module")
def written(hostile_analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return out, write_outputs(hostile_analysis, out)


def test_every_file_is_written(written):
    out, files = written
    assert {
        "coverage.gpkg",
        "traveltime.tif",
        "traveltime.qml",
        "nearest_facility.tif",
        "nearest_facility.qml",
        "catchments.csv",
        "villages.csv",
        "zones.csv",
        "summary.json",
    } == set(files)
    assert sorted(p.name for p in out.iterdir()) == sorted(files)


def test_traveltime_tif_holds_the_surface(written, hostile_analysis):
    out, _ = written
    surface = hostile_analysis.surface
    with rasterio.open(out / "traveltime.tif") as src:
        assert src.dtypes == ("float32",)
        assert src.crs.to_epsg() == 4326
        assert src.transform == surface.grid.transform
        assert (src.height, src.width) == surface.grid.shape
        assert np.isnan(src.nodata)
        assert src.profile["tiled"]
        assert src.profile["compress"] == "deflate"
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.units == ("minutes",)
        assert "OpenStreetMap contributors" in src.tags()["TIFFTAG_COPYRIGHT"]
        values = src.read(1)
    at = values[surface.rows, surface.cols]
    reached = surface.reached
    np.testing.assert_allclose(at[reached], (surface.seconds[reached] / 60).astype(np.float32))
    assert np.isnan(at[~reached]).all()
    outside = np.ones(surface.grid.shape, dtype=bool)
    outside[surface.rows, surface.cols] = False
    assert np.isnan(values[outside]).all()


def test_nearest_facility_tif_numbers_the_facilities_layer(written, hostile_analysis):
    out, _ = written
    surface = hostile_analysis.surface
    with rasterio.open(out / "nearest_facility.tif") as src:
        assert src.dtypes == ("int32",)
        assert src.nodata == 0
        values = src.read(1)
    at = values[surface.rows, surface.cols]
    np.testing.assert_array_equal(at, surface.facility + 1)
    layer = gpd.read_file(out / "coverage.gpkg", layer="facilities")
    catchments = pd.read_csv(out / "catchments.csv", encoding="utf-8-sig")
    # raster value n is the n-th row of the facilities layer and of catchments.csv
    assert catchments["facility_id"].astype(str).tolist() == layer["id"].astype(str).tolist()
    assert catchments["raster_value"].tolist() == list(range(1, len(layer) + 1))


def test_overviews_when_the_raster_is_larger_than_a_tile(written):
    out, _ = written
    for name in ("traveltime.tif", "nearest_facility.tif"):
        with rasterio.open(out / name) as src:
            large = max(src.width, src.height) > OVERVIEW_MIN_PIXELS
            assert bool(src.overviews(1)) == large
            assert large  # Mwali's window is about 400 x 250 cells


def test_the_raster_styles_are_qgis_documents_in_the_maps_classes(written, hostile_analysis):
    out, _ = written
    root = ET.parse(out / "traveltime.qml").getroot()
    assert root.tag == "qgis"
    renderer = root.find("pipe/rasterrenderer")
    assert renderer.get("type") == "singlebandpseudocolor"
    shader = renderer.find("rastershader/colorrampshader")
    assert shader.get("colorRampType") == "DISCRETE"
    classes = time_classes(hostile_analysis.minutes)
    items = shader.findall("item")
    assert [item.get("color") for item in items] == [c.colour for c in classes]
    assert [item.get("value") for item in items] == ["10", "15", "30", "60", "inf"]
    # QGIS's discrete ramp colours a value with the first item whose value is >= it: <= T, as "within T"
    values = np.array([0.0, 10.0, 10.0001, 30.0, 45.0, 1000.0])
    assert classify_minutes(values, classes).tolist() == [1, 1, 2, 3, 4, 5]
    palette = ET.parse(out / "nearest_facility.qml").getroot().find("pipe/rasterrenderer")
    assert palette.get("type") == "paletted"
    entries = palette.findall("colorPalette/paletteEntry")
    assert len(entries) == len(hostile_analysis.facilities)
    assert entries[0].get("value") == "1"


def test_every_layer_of_the_geopackage_has_a_default_qgis_style(written, hostile_analysis):
    out, _ = written
    gpkg = out / "coverage.gpkg"
    layers = set(gpd.list_layers(gpkg)["name"])
    assert {"isochrones", "catchments", "service_areas", "villages", "facilities"} <= layers
    with sqlite3.connect(gpkg) as db:
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
        geometry_columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    assert contents["layer_styles"] == "attributes"
    styled = {row[0]: row for row in rows}
    assert {"isochrones", "villages", "facilities", "catchments", "service_areas", "road_problems"} <= set(styled)
    for name, (_, column, _, qml, default) in styled.items():
        assert default == 1
        assert column == geometry_columns[name]
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.find("renderer-v2") is not None, name
    # the isochrones' categories are the thresholds, in the map's colours, nearest drawn on top
    renderer = ET.fromstring(styled["isochrones"][3].split("\n", 1)[1]).find("renderer-v2")
    assert renderer.get("attr") == "minutes"
    assert [c.get("value") for c in renderer.findall("categories/category")] == ["10", "15", "30"]
    assert renderer.find("orderby/orderByClause").get("asc") == "0"
    kinds = ET.fromstring(styled["facilities"][3].split("\n", 1)[1]).findall("renderer-v2/categories/category")
    assert {c.get("value") for c in kinds} >= set(hostile_analysis.facilities["kind"].astype(str))
    # the layers still read as they did
    assert len(gpd.read_file(gpkg, layer="catchments")) == len(hostile_analysis.facilities)


def test_catchments_csv_opens_in_excel(written, hostile_analysis):
    out, _ = written
    raw = (out / "catchments.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out / "catchments.csv", encoding="utf-8-sig")
    assert {"facility_id", "facility_name", "kind", "area_km2", "population", "villages", "minutes_mean"} <= set(table)
    assert table["population"].sum() == pytest.approx(hostile_analysis.catchments["population"].sum(), abs=1)


def test_a_failed_write_keeps_the_earlier_outputs(tmp_path, hostile_analysis, monkeypatch):
    write_outputs(hostile_analysis, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    import coverage.outputs.rasters as rasters

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rasters, "_write_cog", broken)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(hostile_analysis, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
