"""Credits name the sources actually used: OpenStreetMap only for OSM data, the raster's producer, a calibration."""

from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine

from coverage.io.credits import (
    OSM_CREDIT,
    SourceNote,
    credit_line,
    credit_tags,
    network_note,
    points_note,
    population_note,
    raster_credit,
)
from tests.conftest import COMOROS_PBF, COMOROS_RASTER, INPUT


def _raster(path, tags=None):
    profile = {
        "driver": "GTiff",
        "width": 2,
        "height": 2,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(0.01, 0, 44.0, 0, -0.01, -12.0),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((2, 2), dtype="float32"), 1)
        if tags:
            dst.update_tags(**tags)
    return path


def test_roads_are_credited_to_openstreetmap_only_when_they_come_from_it():
    assert network_note(COMOROS_PBF).credit == OSM_CREDIT
    assert network_note(INPUT / "fomboni.graphml").credit == OSM_CREDIT  # osmnx writes the OSM ids
    county = network_note(INPUT / "fomboni_roads.gpkg")
    assert "OpenStreetMap" not in county.credit
    assert "fomboni_roads.gpkg" in county.credit


def test_places_from_the_extract_or_from_a_file():
    assert points_note("facilities", None, osm=COMOROS_PBF).credit == OSM_CREDIT
    own = points_note("facilities", INPUT / "hospitals.csv", osm=COMOROS_PBF)
    assert own.credit == "hospitals.csv (the facilities file given)"


def test_rasters_are_credited_to_their_producer(tmp_path):
    assert raster_credit(COMOROS_RASTER) == ("WorldPop 2020, UN-adjusted (CC BY 4.0)", "CC BY 4.0")
    assert raster_credit(_raster(tmp_path / "chn_ppp_2020.tif"))[0].startswith("WorldPop 2020 ")
    assert raster_credit(_raster(tmp_path / "GHS_POP_E2020_GLOBE_R2023A.tif"))[0].startswith("GHS-POP")
    tagged = _raster(tmp_path / "pop.tif", {"TIFFTAG_COPYRIGHT": "湖北省统计局 2020"})
    assert raster_credit(tagged) == ("湖北省统计局 2020", "")
    assert raster_credit(_raster(tmp_path / "mine.tif"))[0] == "mine.tif (the population raster given)"


def test_a_derived_raster_carries_its_credit_in_its_tags(tmp_path):
    credit = "WorldPop 2020 (CC BY 4.0), calibrated to census.csv"
    # named like a WorldPop file, but the tags say what it became
    path = _raster(tmp_path / "com_ppp_2020_UNadj.calibrated.tif", credit_tags(credit, "CC BY 4.0"))
    assert raster_credit(path) == (credit, "CC BY 4.0")


def test_a_calibrated_raster_says_so():
    note = population_note(COMOROS_RASTER, calibrated_to="census.csv")
    assert note.credit.endswith(", calibrated to census.csv")
    assert note.licence == "CC BY 4.0"


def test_one_credit_line_names_each_source_once():
    notes = [
        SourceNote("roads", "x.osm.pbf", OSM_CREDIT),
        SourceNote("facilities", "x.osm.pbf", OSM_CREDIT),
        SourceNote("villages", "v.csv", "v.csv (the villages file given)"),
        SourceNote("population", "p.tif", "WorldPop"),
    ]
    assert credit_line(notes) == (
        f"Roads, facilities: {OSM_CREDIT}; Villages: v.csv (the villages file given); Population: WorldPop"
    )
