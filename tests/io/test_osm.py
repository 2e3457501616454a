"""Tests of coverage.io.osm: roads, health facilities and places from OSM files.

Expectations are computed independently of the module: the road fixture is parsed
with ``xml.etree`` and projected with pyproj, the Comoros extract is scanned with a
plain pyosmium pass (no area assembly), and the counts are those published in
``data/comoros/PROVENANCE.md``.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from pyproj import Geod, Transformer

from coverage._errors import InputError
from coverage.io.osm import EXCLUDED_HIGHWAYS, facilities_from_osm, places_from_osm, roads_from_osm, utm_crs_for
from tests.conftest import COMOROS, INPUT

FOMBONI = INPUT / "fomboni.osm"
COMOROS_PBF = COMOROS / "comores-latest.osm.pbf"
PROVENANCE = COMOROS / "PROVENANCE.md"

#: Fomboni lies at 43.76 E, 12.28 S: UTM zone 38 south.
UTM_38S = 32738
TO_UTM = Transformer.from_crs(4326, UTM_38S, always_xy=True)


# --- an independent reading of OSM XML -------------------------------------------------


def parse_osm_xml(path: Path) -> tuple[dict[int, tuple[float, float]], list[tuple[int, dict[str, str], list[int]]]]:
    """Node locations and the usable highway ways (id, tags, refs without consecutive repeats)."""
    root = ET.parse(path).getroot()
    nodes = {int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    ways = []
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if "highway" not in tags or tags["highway"] in EXCLUDED_HIGHWAYS or tags.get("area") == "yes":
            continue
        refs: list[int] = []
        for nd in way.iter("nd"):
            ref = int(nd.get("ref"))
            if not refs or refs[-1] != ref:
                refs.append(ref)
        if len(refs) >= 2:
            ways.append((int(way.get("id")), tags, refs))
    return nodes, ways


def split_ways(ways: list[tuple[int, dict[str, str], list[int]]]) -> list[tuple[int, tuple[int, ...]]]:
    """Pieces (way id, node refs) between junctions: nodes used twice or more, and way ends."""
    uses = Counter(ref for _, _, refs in ways for ref in refs)
    junctions = {ref for ref, count in uses.items() if count > 1}
    junctions |= {refs[0] for _, _, refs in ways} | {refs[-1] for _, _, refs in ways}
    pieces = []
    for way_id, _, refs in ways:
        start = 0
        for i in range(1, len(refs)):
            if refs[i] in junctions:
                pieces.append((way_id, tuple(refs[start : i + 1])))
                start = i
    return pieces


def projected_length_m(refs: tuple[int, ...] | list[int], nodes: dict[int, tuple[float, float]]) -> float:
    x, y = TO_UTM.transform(*zip(*(nodes[r] for r in refs), strict=True))
    return float(np.hypot(np.diff(x), np.diff(y)).sum())


def edge_refs(roads, nodes: dict[int, tuple[float, float]]) -> list[tuple[int, ...]]:
    """The OSM node ids along each piece, found from its vertices' projected coordinates.

    ``Roads`` keeps no way id; the vertices identify the nodes (no two nodes of the
    test files share a location).
    """
    ids = list(nodes)
    x, y = TO_UTM.transform(*zip(*(nodes[i] for i in ids), strict=True))
    by_xy = {(round(a, 3), round(b, 3)): i for i, a, b in zip(ids, x, y, strict=True)}
    assert len(by_xy) == len(ids)
    return [
        tuple(by_xy[(round(a, 3), round(b, 3))] for a, b in shapely.get_coordinates(line))
        for line in roads.edges.geometry.values
    ]


@pytest.fixture(scope="module")
def fomboni_xml():
    return parse_osm_xml(FOMBONI)


@pytest.fixture(scope="module")
def fomboni():
    return roads_from_osm(FOMBONI)


# --- roads from the Fomboni extract ------------------------------------------------------


def test_fomboni_counts_match_an_independent_split(fomboni_xml, fomboni):
    nodes, ways = fomboni_xml
    pieces = split_ways(ways)
    junctions = {refs[0] for _, refs in pieces} | {refs[-1] for _, refs in pieces}
    assert len(ways) == 80  # as the fixture's README says
    assert (len(junctions), len(pieces)) == (147, 205)
    assert len(fomboni.nodes) == len(junctions)
    assert set(fomboni.nodes.index) == junctions
    assert len(fomboni.edges) == len(pieces)
    got = edge_refs(fomboni, nodes)
    assert sorted(got) == sorted(refs for _, refs in pieces)
    assert list(fomboni.edges["u"]) == [refs[0] for refs in got]
    assert list(fomboni.edges["v"]) == [refs[-1] for refs in got]
    assert fomboni.crs.to_epsg() == UTM_38S
    assert fomboni.source == "fomboni.osm"


def test_fomboni_geometry_is_the_projected_osm_nodes(fomboni_xml, fomboni):
    nodes, _ = fomboni_xml
    for refs, line in zip(edge_refs(fomboni, nodes), fomboni.edges.geometry.values, strict=True):
        x, y = TO_UTM.transform(*zip(*(nodes[r] for r in refs), strict=True))
        np.testing.assert_allclose(shapely.get_coordinates(line), np.column_stack([x, y]), rtol=0, atol=1e-6)
    node_x, node_y = TO_UTM.transform(*zip(*(nodes[i] for i in fomboni.nodes.index), strict=True))
    np.testing.assert_allclose(shapely.get_x(fomboni.nodes.geometry.values), node_x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(shapely.get_y(fomboni.nodes.geometry.values), node_y, rtol=0, atol=1e-6)


def test_fomboni_total_length_is_the_sum_of_projected_segments(fomboni_xml, fomboni):
    nodes, ways = fomboni_xml
    expected = sum(projected_length_m(refs, nodes) for _, _, refs in ways)
    assert fomboni.edges["length_m"].sum() == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(fomboni.edges["length_m"], shapely.length(fomboni.edges.geometry.values), rtol=1e-12)
    # UTM is near-true here (1.25 degrees from the central meridian): within 0.1 % of geodesic.
    geod = Geod(ellps="WGS84")
    geodesic = sum(geod.line_length(*zip(*(nodes[r] for r in refs), strict=True)) for _, _, refs in ways)
    assert fomboni.edges["length_m"].sum() == pytest.approx(geodesic, rel=1e-3)


def test_every_piece_runs_from_u_to_v(fomboni):
    lines = fomboni.edges.geometry.values
    start = shapely.get_point(lines, 0)
    end = shapely.get_point(lines, -1)
    assert shapely.distance(start, fomboni.nodes.geometry.loc[fomboni.edges["u"]].values).max() == 0
    assert shapely.distance(end, fomboni.nodes.geometry.loc[fomboni.edges["v"]].values).max() == 0


def way_of_edges(roads, nodes, ways) -> list[int]:
    way_of_piece = {refs: way for way, refs in split_ways(ways)}
    return [way_of_piece[refs] for refs in edge_refs(roads, nodes)]


def test_fomboni_oneway_follows_the_tags(fomboni_xml, fomboni):
    nodes, ways = fomboni_xml
    oneway_ways = {way for way, tags, _ in ways if tags.get("oneway") == "yes"}
    roundabouts = {way for way, tags, _ in ways if tags.get("junction") == "roundabout"}
    assert len(oneway_ways) == 14
    assert len(roundabouts) == 2
    assert roundabouts <= oneway_ways
    expected = [1 if way in oneway_ways else 0 for way in way_of_edges(fomboni, nodes, ways)]
    np.testing.assert_array_equal(fomboni.edges["oneway"], expected)
    assert (fomboni.edges["oneway"] == 1).sum() == 26
    assert fomboni.edges["oneway"].dtype == np.int8


def test_attributes_come_from_the_way(fomboni_xml, fomboni):
    nodes, ways = fomboni_xml
    tags_of = {way: tags for way, tags, _ in ways}
    edge_ways = way_of_edges(fomboni, nodes, ways)
    assert list(fomboni.edges["highway"]) == [tags_of[w]["highway"] for w in edge_ways]
    assert list(fomboni.edges["access"]) == [tags_of[w].get("access") for w in edge_ways]
    assert list(fomboni.edges["maxspeed"]) == [tags_of[w].get("maxspeed") for w in edge_ways]
    assert fomboni.edges["highway"].value_counts().to_dict().keys() <= {
        "residential",
        "tertiary",
        "track",
        "service",
        "path",
    }


# --- a hand-written file for the cases the extract lacks ---------------------------------

#: Nodes 0.001 degree apart (about 108.7 m east-west at 12.28 S) near Fomboni.
HANDMADE_NODES = {
    1: (43.7500, -12.2800),
    2: (43.7510, -12.2800),
    3: (43.7520, -12.2800),
    4: (43.7510, -12.2810),
    10: (43.7600, -12.2800),
    11: (43.7610, -12.2800),
    12: (43.7620, -12.2800),
    20: (43.7500, -12.2900),
    21: (43.7510, -12.2900),
    30: (43.7600, -12.2900),
    31: (43.7610, -12.2900),
    32: (43.7610, -12.2910),
    40: (43.7500, -12.3000),
    41: (43.7510, -12.3000),
    42: (43.7520, -12.3000),
    43: (43.7530, -12.3000),
    50: (43.7600, -12.3000),
    51: (43.7610, -12.3000),
    60: (43.7700, -12.3000),
    61: (43.7710, -12.3000),
    62: (43.7700, -12.3100),
    63: (43.7710, -12.3100),
    64: (43.7710, -12.3110),
    70: (43.7800, -12.3000),
    80: (43.7800, -12.3100),
    81: (43.7810, -12.3100),
    82: (43.7810, -12.3110),
    90: (43.7900, -12.3000),
    91: (43.7910, -12.3000),
    92: (43.7920, -12.3000),
    93: (43.7920, -12.3010),
}

#: way id -> (node refs, tags)
HANDMADE_WAYS = {
    101: ([1, 2, 3], {"highway": "residential", "name": "through"}),
    102: ([2, 4], {"highway": "residential"}),  # ends on 101: a three-way junction at node 2
    104: ([10, 11, 11, 12], {"highway": "residential"}),  # repeated consecutive node
    105: ([20, 21], {"highway": "tertiary", "oneway": "-1"}),
    106: ([30, 31, 32, 30], {"highway": "tertiary", "junction": "roundabout"}),
    107: ([40, 41], {"highway": "motorway"}),
    108: ([42, 43], {"highway": "motorway", "oneway": "no"}),
    109: ([50, 51], {"highway": "residential", "oneway": "yes", "maxspeed": "30", "access": "private"}),
    110: ([60, 61], {"highway": "construction"}),
    111: ([62, 63, 64, 62], {"highway": "pedestrian", "area": "yes"}),
    112: ([70, 70], {"highway": "residential"}),  # degenerate: one node twice
    113: ([80, 81, 82, 80], {"building": "yes"}),
    114: ([90, 91, 92, 93, 91], {"highway": "residential"}),  # a lollipop: returns to its own node 91
}


def osm_xml(nodes: dict[int, tuple[float, float]], ways: dict[int, tuple[list[int], dict[str, str]]]) -> str:
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="hand">']
    for node_id, (lon, lat) in nodes.items():
        lines.append(f'  <node id="{node_id}" version="1" lat="{lat}" lon="{lon}"/>')
    for way_id, (refs, tags) in ways.items():
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def handmade(tmp_path_factory):
    path = tmp_path_factory.mktemp("osm") / "handmade.osm"
    path.write_text(osm_xml(HANDMADE_NODES, HANDMADE_WAYS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def handmade_roads(handmade):
    return roads_from_osm(handmade)


def pieces_of(roads, nodes=HANDMADE_NODES) -> dict[tuple[int, ...], int]:
    """One-way value of each piece, by the OSM node ids along it."""
    pieces = dict(zip(edge_refs(roads, nodes), roads.edges["oneway"].astype(int), strict=True))
    assert len(pieces) == len(roads.edges)
    return pieces


def test_handmade_pieces_and_oneway(handmade_roads):
    roads = handmade_roads
    assert pieces_of(roads) == {
        (1, 2): 0,  # way 101, split at node 2 where way 102 ends
        (2, 3): 0,
        (2, 4): 0,  # way 102
        (10, 11, 12): 0,  # way 104 without its repeated node
        (20, 21): -1,  # oneway=-1: only from v to u, geometry kept in way order
        (30, 31, 32, 30): 1,  # roundabout implies one way; a closed ring is one self-loop piece
        (40, 41): 1,  # motorway implies one way
        (42, 43): 0,  # ... unless tagged oneway=no
        (50, 51): 1,
        (90, 91): 0,  # the lollipop: its stick
        (91, 92, 93, 91): 0,  # and its loop
    }
    assert sorted(roads.nodes.index) == [1, 2, 3, 4, 10, 12, 20, 21, 30, 40, 41, 42, 43, 50, 51, 90, 91]
    assert roads.edges["oneway"].dtype == np.int8


def test_handmade_three_way_junction(handmade_roads):
    roads = handmade_roads
    edges = roads.edges
    at_two = edges[(edges["u"] == 2) | (edges["v"] == 2)]
    assert sorted(zip(at_two["u"], at_two["v"], at_two["name"].fillna(""), strict=True)) == [
        (1, 2, "through"),
        (2, 3, "through"),
        (2, 4, ""),
    ]


def test_handmade_repeated_node_is_dropped(handmade_roads):
    roads = handmade_roads
    piece = roads.edges[roads.edges["u"] == 10].iloc[0]
    assert piece["v"] == 12
    assert shapely.get_num_points(piece.geometry) == 3  # 10, 11, 12: the repeat of 11 is gone
    assert 11 not in roads.nodes.index  # not a junction: used by one way, once
    # two steps of 0.001 degree of longitude at 12.28 S: 2 x 108.7 m
    geodesic = Geod(ellps="WGS84").line_length([43.7600, 43.7610, 43.7620], [-12.28, -12.28, -12.28])
    assert geodesic == pytest.approx(2 * 108.77, abs=0.2)
    assert piece["length_m"] == pytest.approx(geodesic, rel=1e-3)


def test_handmade_lollipop_and_ring_lengths(handmade_roads):
    roads = handmade_roads
    edges = roads.edges.set_index(["u", "v"])
    nodes = HANDMADE_NODES
    assert edges.loc[(91, 91), "length_m"] == pytest.approx(projected_length_m([91, 92, 93, 91], nodes), rel=1e-12)
    assert edges.loc[(30, 30), "length_m"] == pytest.approx(projected_length_m([30, 31, 32, 30], nodes), rel=1e-12)


def test_handmade_raw_tags_are_kept(handmade_roads):
    roads = handmade_roads
    row = roads.edges[roads.edges["u"] == 50].iloc[0]
    assert (row["highway"], row["maxspeed"], row["access"]) == ("residential", "30", "private")
    assert np.isnan(row["speed_kph"])


def test_only_degenerate_ways_is_no_roads(tmp_path):
    path = tmp_path / "dots.osm"
    path.write_text(osm_xml({70: (43.78, -12.30)}, {112: ([70, 70], {"highway": "residential"})}), encoding="utf-8")
    with pytest.raises(InputError, match=r"dots\.osm: no roads"):
        roads_from_osm(path)


def test_way_with_missing_nodes_is_skipped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "cut.osm"
    ways = {101: ([1, 2], {"highway": "residential"}), 102: ([2, 999], {"highway": "residential"})}
    path.write_text(osm_xml({1: HANDMADE_NODES[1], 2: HANDMADE_NODES[2]}, ways), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="coverage.io.osm"):
        roads = roads_from_osm(path)
    assert pieces_of(roads) == {(1, 2): 0}
    assert "1 highway ways reference nodes missing" in caplog.text


def test_crs_can_be_given(handmade, handmade_roads):
    roads = roads_from_osm(handmade, crs="EPSG:32638")  # UTM 38 north: same x, y shifted by 10,000 km
    south = handmade_roads
    assert roads.crs.to_epsg() == 32638
    np.testing.assert_allclose(roads.edges["length_m"], south.edges["length_m"], rtol=1e-9)
    shift = shapely.get_y(south.nodes.geometry.values) - shapely.get_y(roads.nodes.geometry.values)
    np.testing.assert_allclose(shift, 10_000_000.0, atol=1e-6)


def test_utm_crs_for_picks_the_zone_and_hemisphere():
    assert utm_crs_for(np.array([43.7]), np.array([-12.3])).to_epsg() == 32738
    assert utm_crs_for(np.array([114.3]), np.array([30.6])).to_epsg() == 32650  # Wuhan


# --- file formats --------------------------------------------------------------------------


def write_pbf(source: Path, target: Path) -> Path:
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(source)):
            writer.add(obj)
    return target


def assert_same_roads(a, b) -> None:
    assert a.nodes.equals(b.nodes)
    assert a.edges.equals(b.edges)
    assert a.crs == b.crs


def test_compressed_and_pbf_give_identical_roads(tmp_path, fomboni):
    data = FOMBONI.read_bytes()
    bz2_path = tmp_path / "fomboni.osm.bz2"
    bz2_path.write_bytes(bz2.compress(data))
    gz_path = tmp_path / "fomboni.osm.gz"
    gz_path.write_bytes(gzip.compress(data))
    pbf_path = write_pbf(FOMBONI, tmp_path / "fomboni.osm.pbf")
    assert pbf_path.stat().st_size < len(data) / 2
    for path in (bz2_path, gz_path, pbf_path):
        roads = roads_from_osm(path)
        assert_same_roads(roads, fomboni)
        assert roads.source == path.name


# --- boundary clipping ---------------------------------------------------------------------


def test_boundary_keeps_ways_with_a_node_inside_whole(fomboni_xml):
    nodes, ways = fomboni_xml
    box = shapely.box(43.755, -12.29, 43.765, -12.28)
    roads = roads_from_osm(FOMBONI, boundary=box)
    inside = {way for way, _, refs in ways if any(box.contains(shapely.Point(nodes[r])) for r in refs)}
    assert 0 < len(inside) < len(ways)
    # kept whole: the pieces are exactly those of the kept ways split among themselves
    kept = [w for w in ways if w[0] in inside]
    assert sorted(edge_refs(roads, nodes)) == sorted(refs for _, refs in split_ways(kept))
    full = sum(projected_length_m(refs, nodes) for _, _, refs in kept)
    assert roads.edges["length_m"].sum() == pytest.approx(full, rel=1e-9)
    # ... so some pieces reach outside the box
    to_lonlat = Transformer.from_crs(roads.crs, 4326, always_xy=True)
    lon, lat = to_lonlat.transform(*shapely.get_coordinates(roads.edges.geometry.values).T)
    assert not shapely.contains_xy(box, lon, lat).all()


def test_boundary_without_roads_is_an_error():
    sea = shapely.box(44.0, -12.6, 44.1, -12.5)  # open sea between Mwali and Mayotte
    with pytest.raises(InputError, match=r"fomboni\.osm: none of its 80 roads lies inside the boundary"):
        roads_from_osm(FOMBONI, boundary=sea)


# --- errors --------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "absent.osm.pbf"
    with pytest.raises(InputError, match="OSM file not found") as error:
        roads_from_osm(path)
    assert str(path) in str(error.value)
    assert "Give the path" in str(error.value)


def test_folder(tmp_path):
    folder = tmp_path / "extract.osm"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder; give the path") as error:
        roads_from_osm(folder)
    assert str(folder) in str(error.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.osm.pbf"
    path.touch()
    with pytest.raises(InputError, match=r"empty \(0 bytes\); download the extract again") as error:
        roads_from_osm(path)
    assert str(path) in str(error.value)


def test_wrong_suffix(tmp_path):
    path = tmp_path / "fomboni.txt"
    path.write_bytes(FOMBONI.read_bytes())
    with pytest.raises(InputError, match=r"not an OSM file name \(expected one of .osm.pbf") as error:
        roads_from_osm(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("keep_bytes", [64 * 1024, 1_000_000])
def test_truncated_comoros_pbf(tmp_path, keep_bytes):
    path = tmp_path / "comores-latest.osm.pbf"
    with open(COMOROS_PBF, "rb") as handle:
        path.write_bytes(handle.read(keep_bytes))
    with pytest.raises(InputError, match="cannot read this OSM file") as error:
        roads_from_osm(path)
    assert str(path) in str(error.value)
    assert "truncated" in str(error.value)
    assert "download it again" in str(error.value)


def test_truncated_small_pbf_for_facilities_and_places(tmp_path):
    whole = write_pbf(FOMBONI, tmp_path / "whole.osm.pbf").read_bytes()
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(whole[: len(whole) // 2])
    for reader in (roads_from_osm, facilities_from_osm, places_from_osm):
        with pytest.raises(InputError, match=r"cut\.osm\.pbf: cannot read this OSM file"):
            reader(path)


def test_not_osm_data(tmp_path):
    path = tmp_path / "notes.osm"
    path.write_text("these are notes, not OpenStreetMap XML\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"notes\.osm: cannot read this OSM file .*download it again"):
        roads_from_osm(path)


def test_file_without_highways(tmp_path):
    path = tmp_path / "buildings.osm"
    path.write_text(osm_xml(HANDMADE_NODES, {113: HANDMADE_WAYS[113], 110: HANDMADE_WAYS[110]}), encoding="utf-8")
    with pytest.raises(
        InputError, match=r"buildings\.osm: no roads \(highway=\* ways\) in this file. Is it the right extract\?"
    ):
        roads_from_osm(path)


# --- facilities and places from the Comoros extract ------------------------------------------

FACILITY_ID = re.compile(r"^(node|way|relation)/[1-9][0-9]*$")


def scan_tags(keys: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Every object carrying one of ``keys``, by ``type/id``, from one plain pyosmium pass."""
    names = {"n": "node", "w": "way", "r": "relation"}
    return {
        f"{names[obj.type_str()]}/{obj.id}": dict(obj.tags)
        for obj in osmium.FileProcessor(str(COMOROS_PBF)).with_filter(osmium.filter.KeyFilter(*keys))
    }


@pytest.fixture(scope="module")
def comoros_facilities():
    return facilities_from_osm(COMOROS_PBF)


@pytest.fixture(scope="module")
def comoros_places():
    return places_from_osm(COMOROS_PBF)


def test_provenance_hospital_counts_hold(comoros_facilities):
    provenance = PROVENANCE.read_text(encoding="utf-8")
    assert "| amenity=hospital | 28 (11 nodes, 17 ways) |" in provenance
    assert "| amenity=clinic | 8 (7 nodes, 1 way) |" in provenance
    assert "| amenity=doctors | 3 |" in provenance
    assert "| emergency=ambulance_station | 0 |" in provenance
    tagged = scan_tags(("amenity", "healthcare"))
    amenity_hospital = [i for i, tags in tagged.items() if tags.get("amenity") == "hospital"]
    assert Counter(i.split("/")[0] for i in amenity_hospital) == {"node": 11, "way": 17}

    kinds = comoros_facilities.set_index("id")["kind"]
    assert set(amenity_hospital) <= set(kinds[kinds == "hospital"].index)
    # One more hospital than PROVENANCE's 28: a way tagged healthcare=hospital without
    # amenity=hospital. The other six healthcare=hospital objects also carry amenity=hospital.
    healthcare_only = {
        i for i, tags in tagged.items() if tags.get("healthcare") == "hospital" and tags.get("amenity") != "hospital"
    }
    assert healthcare_only == {"way/404863922"}
    assert sum(tags.get("healthcare") == "hospital" for tags in tagged.values()) == 7
    assert kinds.value_counts().to_dict() == {"hospital": 28 + 1, "clinic": 8, "doctors": 3}


def test_facilities_are_exactly_the_tagged_objects(comoros_facilities):
    tagged = scan_tags(("amenity", "healthcare", "emergency"))
    wanted = {
        i
        for i, tags in tagged.items()
        if tags.get("amenity") in ("hospital", "clinic", "doctors")
        or tags.get("healthcare") in ("hospital", "clinic", "centre", "doctor")
        or tags.get("emergency") == "ambulance_station"
    }
    ids = comoros_facilities["id"]
    assert ids.is_unique
    assert set(ids) == wanted
    assert ids.str.match(FACILITY_ID).all()
    assert Counter(i.split("/")[0] for i in ids) == {"node": 21, "way": 19}
    # healthcare=pharmacy and healthcare=yes are not facilities of any kind
    pharmacies = {i for i, tags in tagged.items() if tags.get("healthcare") in ("pharmacy", "yes")}
    assert len(pharmacies) == 9
    assert not pharmacies & set(ids)


def test_facility_attributes(comoros_facilities):
    frame = comoros_facilities.set_index("id")
    assert comoros_facilities.crs.to_epsg() == 4326
    row = frame.loc["way/144754191"]
    assert (row["name"], row["kind"]) == ("Hôpital El Maarouf", "hospital")
    assert "amenity=hospital" in row["osm_tags"].split("; ")
    assert frame.loc["way/404863922", "kind"] == "hospital"
    assert (comoros_facilities.geometry.geom_type == "Point").all()


def test_facility_areas_are_reduced_to_a_point_inside(comoros_facilities):
    way_ids = {int(i.split("/")[1]): i for i in comoros_facilities["id"] if i.startswith("way/")}
    polygons = {}
    processor = (
        osmium.FileProcessor(str(COMOROS_PBF), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("amenity", "healthcare"))
    )
    for obj in processor:
        if obj.is_way() and obj.id in way_ids:
            coords = [(n.lon, n.lat) for n in obj.nodes]
            assert coords[0] == coords[-1], f"way {obj.id} is not closed"
            polygons[way_ids[obj.id]] = shapely.Polygon(coords)
    assert len(polygons) == 19
    points = comoros_facilities.set_index("id").geometry
    for facility_id, polygon in polygons.items():
        assert polygon.contains(points[facility_id]), facility_id


def test_facilities_within_a_boundary(comoros_facilities, mwali_facilities, mwali_boundary):
    inside = comoros_facilities[comoros_facilities.within(mwali_boundary)]
    assert 0 < len(mwali_facilities) < len(comoros_facilities)
    assert set(mwali_facilities["id"]) == set(inside["id"])
    assert mwali_facilities.index.tolist() == list(range(len(mwali_facilities)))


def test_provenance_place_counts_hold(comoros_places):
    provenance = PROVENANCE.read_text(encoding="utf-8")
    published = {"city": 3, "town": 23, "village": 138, "hamlet": 3}
    for place, count in published.items():
        assert re.search(rf"\| place={place} \| {count}\b", provenance), place
    assert comoros_places["place"].value_counts().to_dict() == published
    villages = comoros_places[comoros_places["place"] == "village"]
    assert Counter(i.split("/")[0] for i in villages["id"]) == {"node": 126, "way": 12}
    assert comoros_places["id"].str.match(FACILITY_ID).all()
    assert comoros_places["id"].is_unique


def test_place_ways_are_reduced_to_points_and_values_can_be_chosen():
    suburbs = places_from_osm(COMOROS_PBF, place_values=("suburb", "neighbourhood"))
    assert suburbs["place"].value_counts().to_dict() == {"neighbourhood": 23, "suburb": 1}
    assert (suburbs.geometry.geom_type == "Point").all()


def test_place_population(comoros_places):
    frame = comoros_places.set_index("id")
    assert frame.loc["node/339324562", "name"].startswith("Moroni")
    assert frame.loc["node/339324562", "population"] == 111329.0
    assert frame.loc["node/2317587042", "population"] == 2638.0  # Hahaya, a town
    # "1000 à 3000" and "600habitant" are not numbers
    assert np.isnan(frame.loc["node/4052711226", "population"])
    assert np.isnan(frame.loc["node/4337126136", "population"])
    assert comoros_places["population"].notna().sum() == 4


def test_places_within_a_boundary(comoros_places, mwali_places, mwali_boundary):
    inside = comoros_places[comoros_places.within(mwali_boundary)]
    assert set(mwali_places["id"]) == set(inside["id"])
    assert 0 < len(mwali_places) < len(comoros_places)


def test_handmade_file_has_no_facilities_or_places(handmade):
    assert len(facilities_from_osm(handmade)) == 0
    assert len(places_from_osm(handmade)) == 0


def test_facility_rings_the_area_assembler_rejects_are_kept(tmp_path):
    nodes = {
        1: (43.750, -12.280),
        2: (43.751, -12.280),
        3: (43.750, -12.281),
        4: (43.751, -12.281),
        5: (43.760, -12.280),
        6: (43.761, -12.280),
        7: (43.761, -12.281),
        8: (43.770, -12.280),
        9: (43.771, -12.280),
        10: (43.771, -12.281),
        11: (43.780, -12.280),
        12: (43.781, -12.280),
    }
    ways = {
        # a bow-tie: the ring crosses itself between 2-3 and 4-1 (a common digitising slip)
        201: ([1, 2, 3, 4, 1], {"amenity": "hospital", "name": "bow-tie"}),
        202: ([5, 6, 7, 5], {"amenity": "hospital", "name": "not an area", "area": "no"}),
        203: ([8, 9, 10, 8], {"amenity": "clinic", "name": "triangle"}),
        204: ([11, 12], {"amenity": "doctors", "name": "open way"}),
    }
    path = tmp_path / "rings.osm"
    path.write_text(osm_xml(nodes, ways), encoding="utf-8")
    frame = facilities_from_osm(path).set_index("id")
    assert sorted(frame.index) == ["way/201", "way/202", "way/203", "way/204"]
    assert frame.loc["way/201", "kind"] == "hospital"
    bow_tie = shapely.MultiPolygon(
        [
            shapely.Polygon([nodes[1], nodes[2], (43.7505, -12.2805)]),
            shapely.Polygon([nodes[3], nodes[4], (43.7505, -12.2805)]),
        ]
    )
    assert bow_tie.contains(frame.geometry["way/201"])
    assert shapely.Polygon([nodes[5], nodes[6], nodes[7]]).contains(frame.geometry["way/202"])
    assert shapely.Polygon([nodes[8], nodes[9], nodes[10]]).contains(frame.geometry["way/203"])
    assert shapely.LineString([nodes[11], nodes[12]]).distance(frame.geometry["way/204"]) < 1e-12


def test_unnamed_facilities_get_a_readable_label():
    facilities = facilities_from_osm(COMOROS_PBF)
    assert (facilities["name"].str.len() > 0).all()
    unnamed = facilities[facilities["name"].str.endswith("(unnamed)")]
    assert len(unnamed) > 0
    assert all(f"{row.kind} {row.id}" in row.name for row in unnamed.itertuples())
