"""Tests of coverage.io.gis_roads: roads from GIS lines files."""

from __future__ import annotations

import itertools
import json
import logging
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import ConfigError, InputError
from coverage.io.gis_roads import DEFAULT_ROAD_CLASSES, build_topology, load_road_classes, roads_from_lines
from tests.conftest import INPUT

GPKG = INPUT / "fomboni_roads.gpkg"
SHP = INPUT / "fomboni_roads_3857.shp"
FLAWED = INPUT / "fomboni_roads_flawed.gpkg"

#: A projected CRS for hand-made lines (UTM 49N, around Suizhou, Hubei) and an origin in it.
UTM49N = "EPSG:32649"
X0, Y0 = 700_000.0, 3_500_000.0


def _write(tmp_path: Path, lines: list[list[tuple[float, ...]]], name: str = "lines.gpkg", **columns) -> Path:
    """Write hand-made lines (metre offsets from the origin) with a class column."""
    geometry = [shapely.LineString([(X0 + p[0], Y0 + p[1], *p[2:]) for p in line]) for line in lines]
    data = {"class": columns.pop("classes", ["县道"] * len(lines)), **columns}
    path = tmp_path / name
    gpd.GeoDataFrame(data, geometry=geometry, crs=UTM49N).to_file(path)
    return path


def _read(path: Path, **options) -> object:
    return roads_from_lines(path, class_column="class", **options)


def _expected_from_osm_ids() -> tuple[int, int]:
    """Junctions and pieces expected from the OSM node ids of fomboni.osm, by hand-checkable rules.

    Junctions are the distinct way end nodes; a way is cut at every inner node that is
    another way's end (a T-junction), and not where ways only cross.
    """
    ways = [
        [node.ref for node in way.nodes]
        for way in osmium.FileProcessor(str(INPUT / "fomboni.osm"), osmium.osm.WAY)
        if "highway" in way.tags
    ]
    ends = {ref for way in ways for ref in (way[0], way[-1])}
    pieces = sum(1 + sum(ref in ends for ref in way[1:-1]) for way in ways)
    return len(ends), pieces


def test_geopackage_counts_match_osm_node_ids():
    roads = roads_from_lines(GPKG, class_column="道路等级", oneway_column="单向", name_column="名称")
    n_nodes, n_edges = _expected_from_osm_ids()
    assert (len(roads.nodes), len(roads.edges)) == (n_nodes, n_edges) == (120, 151)
    assert roads.source == "fomboni_roads.gpkg (layer roads)"
    assert roads.crs.to_epsg() == 32738
    assert set(roads.edges["highway"]) == {"tertiary", "unclassified", "track", "service", "path"}
    assert set(roads.problems["problem"]) == {"dangling_end"}
    # Geometry ends lie on their junctions.
    start = shapely.get_point(roads.edges.geometry.values, 0)
    assert np.allclose(shapely.distance(start, roads.nodes.geometry.loc[roads.edges["u"]].values), 0)


def test_shapefile_in_another_crs_gives_the_same_network():
    gpkg = roads_from_lines(GPKG, class_column="道路等级", oneway_column="单向")
    shp = roads_from_lines(SHP, class_column="GRADE", oneway_column="ONEWAY", speed_column="SPEED", name_column="NAME")
    assert shp.source == "fomboni_roads_3857.shp"
    assert (len(shp.nodes), len(shp.edges)) == (len(gpkg.nodes), len(gpkg.edges))
    assert shp.edges["length_m"].sum() == pytest.approx(gpkg.edges["length_m"].sum(), abs=0.01)
    assert (shp.edges["oneway"] == 1).sum() == (gpkg.edges["oneway"] == 1).sum() > 0
    # Route numbers Y001/Z002 and technical grades map to OSM classes; speeds are kept.
    tertiary = shp.edges["highway"] == "tertiary"
    assert (shp.edges.loc[tertiary, "speed_kph"] == 40).all()
    assert shp.edges.loc[shp.edges["highway"] == "track", "speed_kph"].isna().all()
    assert set(shp.edges["highway"]) == set(gpkg.edges["highway"])


def test_flawed_copy_reports_the_near_miss_and_the_dangling_end():
    changed = json.loads((INPUT / "fomboni_roads_flawed.json").read_text())
    good = roads_from_lines(GPKG, class_column="道路等级")
    flawed = roads_from_lines(FLAWED, class_column="道路等级")
    frame = gpd.read_file(FLAWED, fid_as_index=True).to_crs(flawed.crs)
    near = flawed.problems[flawed.problems["problem"] == "near_miss_junction"]
    assert len(near) == 1
    near_fid = frame.index[frame["osm_id"] == changed["near_miss"]][0]
    near_end = shapely.get_point(frame.geometry.loc[near_fid], -1)
    assert near.geometry.iloc[0].distance(near_end) < 1e-6
    assert f"line fid {near_fid} " in near["detail"].iloc[0]
    distance_m = float(near["detail"].iloc[0].split(" is ")[1].split(" m ")[0])
    assert 3 <= distance_m <= 8
    dangling_fid = frame.index[frame["osm_id"] == changed["dangling"]][0]
    dangling_end = shapely.get_point(frame.geometry.loc[dangling_fid], -1)
    dangling = flawed.problems[flawed.problems["problem"] == "dangling_end"]
    assert dangling.distance(dangling_end).min() < 1e-6
    # Two T-junctions fewer: the two through lines stay whole.
    assert len(dangling) == (good.problems["problem"] == "dangling_end").sum() + 1
    assert len(flawed.edges) == len(good.edges) - 2


def test_two_lines_meeting_within_tolerance_share_one_node(tmp_path):
    path = _write(tmp_path, [[(0, 0), (100, 0)], [(100.5, 0), (200, 0)]])
    roads = _read(path, tolerance_m=1.0)
    assert (len(roads.nodes), len(roads.edges)) == (3, 2)
    middle = roads.nodes.geometry.x.sort_values().iloc[1] - X0
    assert middle == pytest.approx(100.25)
    assert roads.edges["length_m"].sum() == pytest.approx(200.0)
    assert list(roads.problems["problem"]) == ["dangling_end", "dangling_end"]
    # With a smaller tolerance they stay apart, and both ends are near misses.
    apart = _read(path, tolerance_m=0.1)
    assert len(apart.nodes) == 4
    assert (apart.problems["problem"] == "near_miss_junction").sum() == 2


def test_near_miss_is_reported_and_not_joined(tmp_path):
    path = _write(tmp_path, [[(0, 0), (200, 0)], [(100, 5), (100, 100)]])
    roads = _read(path, tolerance_m=1.0, near_miss_m=10.0)
    assert (len(roads.nodes), len(roads.edges)) == (4, 2)
    near = roads.problems[roads.problems["problem"] == "near_miss_junction"]
    assert len(near) == 1
    assert near.geometry.iloc[0].distance(shapely.Point(X0 + 100, Y0 + 5)) < 1e-6
    assert "5.0 m from line fid 1" in near["detail"].iloc[0]
    assert (roads.problems["problem"] == "dangling_end").sum() == 3
    # Raising the tolerance joins it as a T-junction.
    joined = _read(path, tolerance_m=6.0, near_miss_m=10.0)
    assert (len(joined.nodes), len(joined.edges)) == (4, 3)


def test_dangling_ends_far_from_other_lines(tmp_path):
    path = _write(tmp_path, [[(0, 0), (200, 0)], [(100, 50), (100, 100)]])
    roads = _read(path)
    assert list(roads.problems["problem"]) == ["dangling_end"] * 4
    assert all("touches no other line" in detail for detail in roads.problems["detail"])


def test_t_junction_without_a_shared_vertex_splits_the_through_line(tmp_path):
    path = _write(tmp_path, [[(0, 0), (200, 0)], [(100, 0.4), (100, 100)]])
    roads = _read(path, tolerance_m=1.0)
    assert (len(roads.nodes), len(roads.edges)) == (4, 3)
    # The through line's two halves, and the stem from the junction (moved to y=0.2).
    assert sorted(roads.edges["length_m"]) == pytest.approx([99.8, 100.0, 100.0], abs=0.01)
    junction = roads.nodes.geometry[np.bincount(np.r_[roads.edges["u"], roads.edges["v"]]) == 3]
    assert len(junction) == 1
    assert (junction.x.iloc[0] - X0, junction.y.iloc[0] - Y0) == pytest.approx((100.0, 0.2))
    assert (roads.problems["problem"] == "dangling_end").sum() == 3


def test_t_junction_on_an_inner_vertex_splits_the_through_line(tmp_path):
    path = _write(tmp_path, [[(0, 0), (100, 0), (200, 0)], [(100, 0), (100, 100)]])
    roads = _read(path)
    assert (len(roads.nodes), len(roads.edges)) == (4, 3)


def test_crossing_lines_are_not_joined(tmp_path):
    # A bridge: the lines cross without a junction.
    path = _write(tmp_path, [[(0, 0), (200, 0)], [(100, -100), (100, 100)]])
    roads = _read(path)
    assert (len(roads.nodes), len(roads.edges)) == (4, 2)


def test_line_whose_end_comes_back_onto_itself(tmp_path):
    path = _write(tmp_path, [[(0, 0), (100, 0), (100, 50), (50, 50), (50, 0.3)]])
    roads = _read(path)
    assert (len(roads.nodes), len(roads.edges)) == (2, 2)
    loop = roads.edges[roads.edges["u"] == roads.edges["v"]]
    assert len(loop) == 1
    assert loop["length_m"].iloc[0] == pytest.approx(50 + 50 + 50 + 50, abs=0.5)


def test_zero_length_lines_are_reported_and_skipped(tmp_path, caplog):
    path = _write(tmp_path, [[(0, 0), (100, 0)], [(300, 300), (300, 300)], [(100, 0), (100, 0.2)]])
    with caplog.at_level(logging.INFO, logger="coverage.io.gis_roads"):
        roads = _read(path)
    assert len(roads.edges) == 1
    zero = roads.problems[roads.problems["problem"] == "zero_length_line"]
    assert len(zero) == 2
    assert any("fid 2 has zero length" in detail for detail in zero["detail"])
    assert any("fid 3 is shorter than tolerance_m" in detail for detail in zero["detail"])
    assert "'zero_length_line': 2" in caplog.text


def test_multilinestrings_are_split_and_z_dropped(tmp_path):
    parts = shapely.MultiLineString([[(X0, Y0, 5), (X0 + 100, Y0, 6)], [(X0 + 100, Y0, 6), (X0 + 100, Y0 + 80, 7)]])
    path = tmp_path / "multi.gpkg"
    gpd.GeoDataFrame({"class": ["乡道"]}, geometry=[parts], crs=UTM49N).to_file(path)
    roads = _read(path)
    assert (len(roads.nodes), len(roads.edges)) == (3, 2)
    assert not roads.edges.geometry.has_z.any()
    assert set(roads.edges["highway"]) == {"tertiary"}


def test_oneway_values(tmp_path):
    values = ["是", "否", "-1", "yes", "1", "True", "no", None]
    lines = [[(0, 100 * i), (50, 100 * i)] for i in range(len(values))]
    path = _write(tmp_path, lines, name="oneway.geojson", oneway=values)
    roads = _read(path, oneway_column="oneway")
    assert roads.edges.sort_values("length_m", kind="stable")["oneway"].tolist() == [1, 0, -1, 1, 1, 1, 0, 0]


def test_unknown_oneway_values_name_the_rows(tmp_path):
    path = _write(tmp_path, [[(0, 0), (50, 0)], [(0, 100), (50, 100)]], oneway=["是", "maybe"])
    with pytest.raises(InputError, match=r"'maybe'.*fid 2.*1/yes/true/是"):
        _read(path, oneway_column="oneway")


def test_speed_column(tmp_path):
    lines = [[(0, 100 * i), (50, 100 * i)] for i in range(3)]
    path = _write(tmp_path, lines, speed=[40.0, 0.0, None])
    roads = _read(path, speed_column="speed")
    assert roads.edges["speed_kph"].iloc[0] == 40.0
    assert roads.edges["speed_kph"].iloc[1:].isna().all()
    bad = _write(tmp_path, lines, name="bad.gpkg", speed=["40", "fast", "-5"])
    with pytest.raises(InputError, match=r"'fast'.*fid 2"):
        _read(bad, speed_column="speed")


def test_blank_and_unknown_classes_take_the_default_class_with_a_warning(tmp_path, caplog):
    lines = [[(0, 100 * i), (50, 100 * i)] for i in range(5)]
    path = _write(tmp_path, lines, classes=["县道", "机场路", "机场路", None, "G318"])
    with caplog.at_level(logging.WARNING, logger="coverage.io.gis_roads"):
        roads = _read(path)
    assert sorted(roads.edges["highway"]) == ["secondary", "trunk", "unclassified", "unclassified", "unclassified"]
    assert "3 of 5 road lines (0.1 km) have a blank or unknown class" in caplog.text
    defaulted = roads.problems[roads.problems["problem"] == "default_road_class"]
    assert sorted(defaulted["detail"]) == [
        "1 lines (0.1 km) with class '(blank)' in column 'class' were read as 'unclassified'",
        "2 lines (0.1 km) with class '机场路' in column 'class' were read as 'unclassified'",
    ]
    assert sorted(_read(path, default_class="track").edges["highway"]) == [
        "secondary",
        "track",
        "track",
        "track",
        "trunk",
    ]


def test_a_layer_with_no_known_class_is_refused(tmp_path):
    lines = [[(0, 100 * i), (50, 100 * i)] for i in range(3)]
    path = _write(tmp_path, lines, classes=["机场路", None, "x"])
    with pytest.raises(InputError, match="none of its 3 lines has a road class this tool knows"):
        _read(path)


def test_unknown_classes_are_listed_with_counts(tmp_path):
    lines = [[(0, 100 * i), (50, 100 * i)] for i in range(5)]
    path = _write(tmp_path, lines, classes=["县道", "机场路", "机场路", None, "G318"])
    with pytest.raises(InputError) as error:
        _read(path, default_class=None)
    message = str(error.value)
    assert "'机场路' (2 lines)" in message
    assert "'(blank)' (1 lines)" in message
    assert "国道" in message  # the accepted names are listed
    assert "road_classes.toml" in message
    assert "class_map=" in message


def test_class_map_dict_extends_and_toml_copy_replaces(tmp_path):
    lines = [[(0, 100 * i), (50, 100 * i)] for i in range(2)]
    path = _write(tmp_path, lines, classes=["机场路", "国道"])
    roads = _read(path, class_map={"机场路": "primary"})
    assert roads.edges["highway"].tolist() == ["primary", "trunk"]
    copy = tmp_path / "my_classes.toml"
    copy.write_text('[classes]\n"机场路" = "secondary"\n"国道" = "primary"\n', encoding="utf-8")
    assert _read(path, class_map=copy).edges["highway"].tolist() == ["secondary", "primary"]
    copy.write_text('[classes]\n"机场路" = "airport_road"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'airport_road' is not an OSM highway class"):
        _read(path, class_map=copy)


@pytest.mark.parametrize(
    ("value", "highway"),
    [
        ("高速公路", "motorway"),
        ("国道", "trunk"),
        ("省道", "primary"),
        ("县道", "secondary"),
        (" 乡道 ", "tertiary"),
        ("村道", "unclassified"),
        ("专用公路", "service"),
        ("一级公路", "trunk"),
        ("二级公路", "primary"),
        ("三级公路", "tertiary"),
        ("四级公路", "unclassified"),
        ("等外公路", "track"),
        ("快速路", "trunk"),
        ("主干路", "primary"),
        ("次干路", "secondary"),
        ("支路", "residential"),
        ("G318", "trunk"),
        ("Ｇ３１８", "trunk"),
        ("G4", "motorway"),
        ("G1501", "motorway"),
        ("S203", "primary"),
        ("x012", "secondary"),
        ("Y001", "tertiary"),
        ("C123", "unclassified"),
        ("Z002", "service"),
        ("Expressway", "motorway"),
        ("National_Road", "trunk"),
        ("provincial-road", "primary"),
        ("motorway_link", "motorway_link"),
        ("Primary", "primary"),
        ("机场路", None),
        ("G", None),
        ("", None),
    ],
)
def test_road_class_table(value, highway):
    assert load_road_classes().highway_of(value) == highway


def test_shipped_table_is_valid_and_complete():
    table = load_road_classes(DEFAULT_ROAD_CLASSES)
    assert len(table.classes) > 50
    assert len(table.route_numbers) == 8


def test_file_without_crs_says_how_to_fix(tmp_path):
    for suffix in (".shp", ".shx", ".dbf", ".cpg"):
        shutil.copy(SHP.with_suffix(suffix), tmp_path / f"roads{suffix}")
    with pytest.raises(InputError, match=r"roads\.shp: the file has no coordinate reference system.*\.prj.*EPSG:4490"):
        roads_from_lines(tmp_path / "roads.shp", class_column="GRADE")


def test_gbk_shapefile_without_cpg(tmp_path):
    path = _write(tmp_path, [[(0, 0), (50, 0)]], name="gbk.shp", classes=["省道"])
    gpd.read_file(path).to_file(path, encoding="GBK")
    (tmp_path / "gbk.cpg").unlink(missing_ok=True)
    assert _read(path, encoding="GBK").edges["highway"].tolist() == ["primary"]


def test_layer_and_column_errors(tmp_path):
    path = _write(tmp_path, [[(0, 0), (50, 0)]])
    gpd.GeoDataFrame({"class": ["国道"]}, geometry=[shapely.Point(X0, Y0)], crs=UTM49N).to_file(path, layer="poi")
    with pytest.raises(InputError, match=r"holds 2 layers \(lines, poi\); choose the road lines with layer="):
        _read(path)
    assert len(_read(path, layer="lines").edges) == 1
    with pytest.raises(InputError, match="no layer 'roads'"):
        _read(path, layer="roads")
    with pytest.raises(InputError, match=r"road lines must be LineStrings.*Point \(1\)"):
        _read(path, layer="poi")
    with pytest.raises(InputError, match=r"no column 'grade' \(given as class_column\); the columns are 'class'"):
        roads_from_lines(path, layer="lines", class_column="grade")
    with pytest.raises(InputError, match="not found"):
        _read(tmp_path / "missing.gpkg")


def test_boundary_keeps_intersecting_lines():
    whole = roads_from_lines(GPKG, class_column="道路等级")
    frame = gpd.read_file(GPKG)
    west = shapely.box(43.74, -12.30, 43.755, -12.26)
    kept = roads_from_lines(GPKG, class_column="道路等级", boundary=west)
    assert 0 < len(kept.edges) < len(whole.edges)
    expected_lines = int(frame.intersects(west).sum())
    assert kept.edges.geometry.union_all().length == pytest.approx(
        frame[frame.intersects(west)].to_crs(kept.crs).length.sum(), abs=0.01
    )
    assert expected_lines < len(frame)
    as_frame = gpd.GeoDataFrame(geometry=[west], crs=4326).to_crs(3857)
    assert len(roads_from_lines(GPKG, class_column="道路等级", boundary=as_frame).edges) == len(kept.edges)
    with pytest.raises(InputError, match="none of its 80 lines intersects the boundary"):
        roads_from_lines(GPKG, class_column="道路等级", boundary=shapely.box(10, 10, 11, 11))


@settings(max_examples=30, deadline=None)
@given(
    cuts=st.lists(st.floats(0.05, 0.95), min_size=1, max_size=6, unique=True),
    jitter=st.floats(0.0, 0.4),
    seed=st.integers(0, 2**16),
)
def test_a_line_cut_into_pieces_is_rebuilt(cuts, jitter, seed):
    """Cutting a road into consecutive lines (ends moved by less than the tolerance) gives a chain back."""
    rng = np.random.default_rng(seed)
    road = shapely.LineString([(0, 0), (300, 40), (600, -30), (900, 10)])
    stops = [0.0, *sorted(c * road.length for c in cuts), road.length]
    stops = [s for i, s in enumerate(stops) if i == 0 or s - stops[i - 1] > 5]
    pieces = []
    for a, b in itertools.pairwise(stops):
        coords = shapely.get_coordinates(shapely.ops.substring(road, a, b))
        coords[0] += rng.uniform(-jitter, jitter, 2) / 2
        coords[-1] += rng.uniform(-jitter, jitter, 2) / 2
        pieces.append(shapely.LineString(coords))
    order = rng.permutation(len(pieces))
    topology = build_topology(np.asarray(pieces, dtype=object)[order], tolerance_m=1.0, near_miss_m=10.0)
    assert len(topology.line) == len(pieces)
    assert len(topology.node_xy) == len(pieces) + 1
    degree = np.bincount(np.r_[topology.u, topology.v])
    assert sorted(degree.tolist()) == [1, 1] + [2] * (len(pieces) - 1)
    assert [problem[0] for problem in topology.problems] == ["dangling_end", "dangling_end"]
    assert shapely.length(topology.geometry).sum() == pytest.approx(road.length, abs=len(pieces) * jitter + 1e-6)
    start = shapely.get_coordinates(shapely.get_point(topology.geometry, 0))
    assert np.allclose(start, topology.node_xy[topology.u])
