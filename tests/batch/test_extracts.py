"""Per-region extracts: what a region's extract holds, caching, buffers, and the raster window."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.analysis.demand import population_cells
from coverage.batch.extracts import buffered_region, clip_population, extract_key, extract_path, safe_name, split_osm
from coverage.io.osm import facilities_from_osm, places_from_osm, roads_from_osm
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER

#: A square of sea between Mwali and Ngazidja: no land, no roads.
SEA = shapely.box(43.40, -12.20, 43.42, -12.18)


@pytest.fixture(scope="module")
def outlines() -> dict[str, shapely.Geometry]:
    admin = gpd.read_file(COMOROS_ADMIN)
    islands = admin[admin["admin_level"] == "4"]
    found = {name: geom for name, geom in zip(islands["name_en"], islands.geometry, strict=True)}
    communes = admin[admin["admin_level"] == "8"].dissolve("name")
    found["Fomboni"] = communes.loc["Fomboni"].geometry
    found["sea"] = SEA
    return found


@pytest.fixture(scope="module")
def extracts(tmp_path_factory, outlines):
    """Moheli, Anjouan, the Fomboni commune and a square of sea, cut from the Comoros extract in one split."""
    wanted = {name: outlines[name] for name in ("Moheli", "Anjouan", "Fomboni", "sea")}
    folder = tmp_path_factory.mktemp("extracts")
    return split_osm(COMOROS_PBF, wanted, out_dir=folder), folder


def _edge_set(roads):
    return set(zip(roads.edges["u"], roads.edges["v"], roads.edges["length_m"].round(3), strict=True))


@pytest.mark.parametrize("island", ["Moheli", "Anjouan"])
def test_an_island_extract_holds_what_the_big_file_has_on_the_island(extracts, outlines, island):
    paths, _ = extracts
    outline = outlines[island]
    small = roads_from_osm(paths[island])
    big = roads_from_osm(COMOROS_PBF, boundary=outline)
    assert _edge_set(small) == _edge_set(big)
    assert list(facilities_from_osm(paths[island])["id"]) == list(
        facilities_from_osm(COMOROS_PBF, boundary=outline)["id"]
    )
    assert list(places_from_osm(paths[island])["id"]) == list(places_from_osm(COMOROS_PBF, boundary=outline)["id"])


def test_a_region_in_the_sea_gets_an_empty_extract(extracts):
    paths, _ = extracts
    assert paths["sea"].exists()
    with pytest.raises(InputError, match="no roads"):
        roads_from_osm(paths["sea"])


def test_the_buffer_brings_in_roads_and_facilities_across_the_border(extracts, outlines, tmp_path):
    paths, _ = extracts
    fomboni = outlines["Fomboni"]
    tight = split_osm(COMOROS_PBF, {"Fomboni": fomboni}, out_dir=tmp_path, buffer_m=0)["Fomboni"]
    wide = paths["Fomboni"]
    tight_roads, wide_roads = roads_from_osm(tight), roads_from_osm(wide)
    # every road touching the commune is there whole, and the buffer adds roads that do not touch it
    assert _edge_set(tight_roads) == _edge_set(roads_from_osm(COMOROS_PBF, boundary=fomboni))
    # pieces split at more junctions in the wider extract, so compare the junction nodes and the lengths
    assert set(tight_roads.nodes.index) < set(wide_roads.nodes.index)
    assert tight_roads.edges["length_m"].sum() < wide_roads.edges["length_m"].sum()
    outside = wide_roads.edges.to_crs(4326).disjoint(fomboni)
    assert outside.any()
    # facilities just across the border
    facilities = facilities_from_osm(wide)
    assert len(facilities) > len(facilities_from_osm(tight))
    assert (~facilities.within(fomboni)).any()
    assert facilities.within(buffered_region(fomboni, buffer_m=5000)).all()


def test_extract_key_follows_the_file_the_outline_and_the_buffer(outlines):
    moheli = outlines["Moheli"]
    key = extract_key("a" * 64, moheli, buffer_m=5000)
    assert key == extract_key("a" * 64, moheli, buffer_m=5000)
    assert key != extract_key("b" * 64, moheli, buffer_m=5000)
    assert key != extract_key("a" * 64, moheli, buffer_m=4000)
    assert key != extract_key("a" * 64, shapely.affinity.translate(moheli, 0.001), buffer_m=5000)
    assert extract_path("x", "Grande Comore", key).name == f"Grande_Comore.{key}.osm.pbf"


HOSPITAL_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" version="1" lat="-12.3000" lon="43.7000"/>
  <node id="2" version="1" lat="-12.3000" lon="43.7010"/>
  <node id="3" version="1" lat="-12.3010" lon="43.7010"/>
  <node id="4" version="1" lat="-12.3010" lon="43.7000"/>
  <node id="5" version="1" lat="-12.3020" lon="43.6990"/>
  <node id="6" version="1" lat="-12.3020" lon="43.7030"/>
  <node id="7" version="1" lat="-12.3005" lon="43.7020"><tag k="amenity" v="clinic"/><tag k="name" v="Clinic"/></node>
  <node id="11" version="1" lat="-11.7000" lon="43.2500"/>
  <node id="12" version="1" lat="-11.7000" lon="43.2510"/>
  <node id="13" version="1" lat="-11.7010" lon="43.2510"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/></way>
  <way id="20" version="1"><nd ref="5"/><nd ref="6"/><tag k="highway" v="residential"/></way>
  <way id="30" version="1"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="11"/></way>
  <relation id="100" version="1">
    <member type="way" ref="10" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="amenity" v="hospital"/><tag k="name" v="Hospital"/>
  </relation>
  <relation id="200" version="1">
    <member type="way" ref="30" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="amenity" v="hospital"/><tag k="name" v="Far hospital"/>
  </relation>
</osm>
"""


#: Around the hospital and the road of HOSPITAL_OSM, away from the far hospital.
HERE = shapely.box(43.695, -12.305, 43.705, -12.295)


def test_a_hospital_mapped_as_a_multipolygon_comes_with_its_untagged_ways(tmp_path):
    source = tmp_path / "hospital.osm"
    source.write_text(HOSPITAL_OSM, encoding="utf-8")
    paths = split_osm(source, {"here": HERE}, out_dir=tmp_path / "out", buffer_m=0)
    facilities = facilities_from_osm(paths["here"])
    assert sorted(facilities["id"]) == ["node/7", "relation/100"]
    assert roads_from_osm(paths["here"]).edges["highway"].tolist() == ["residential"]


def test_extracts_are_cached_and_replaced_when_the_buffer_changes(tmp_path):
    source = tmp_path / "hospital.osm"
    source.write_text(HOSPITAL_OSM, encoding="utf-8")
    folder = tmp_path / "out"
    first = split_osm(source, {"here": HERE}, out_dir=folder, buffer_m=0)["here"]
    written = first.stat().st_mtime_ns
    assert split_osm(source, {"here": HERE}, out_dir=folder, buffer_m=0)["here"] == first
    assert first.stat().st_mtime_ns == written
    wider = split_osm(source, {"here": HERE}, out_dir=folder, buffer_m=200)["here"]
    assert wider != first
    assert wider.exists()
    assert not first.exists()  # the extract made with the other buffer is gone
    assert [path.name for path in folder.iterdir()] == [wider.name]


def test_the_population_window_has_the_cells_of_the_region(tmp_path, outlines):
    moheli = outlines["Moheli"]
    window = clip_population(COMOROS_RASTER, moheli, tmp_path / "moheli.tif")
    small = population_cells(window)
    big = population_cells(COMOROS_RASTER, boundary=moheli)
    assert len(small) == len(big)
    assert small["population"].sum() == pytest.approx(big["population"].sum(), rel=1e-12)
    order_small = np.lexsort((small.geometry.x, small.geometry.y))
    order_big = np.lexsort((big.geometry.x, big.geometry.y))
    np.testing.assert_allclose(small.geometry.x.to_numpy()[order_small], big.geometry.x.to_numpy()[order_big])
    np.testing.assert_array_equal(small["population"].to_numpy()[order_small], big["population"].to_numpy()[order_big])


def test_a_raster_that_misses_the_region_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not cover the region"):
        clip_population(COMOROS_RASTER, shapely.box(100, 30, 101, 31), tmp_path / "far.tif")


@given(st.text(max_size=30))
def test_safe_names_are_file_names(text):
    name = safe_name(text)
    assert re.fullmatch(r"[\w.-]*", name)
    assert not name.startswith((".", "_"))
    assert not name.endswith((".", "_"))
    assert safe_name(name) == name
