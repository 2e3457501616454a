"""Tests of coverage.io.graphml: roads from osmnx graphs."""

from __future__ import annotations

import logging
import socket
import time
import urllib.parse

import networkx as nx
import osmnx
import pytest
import shapely

from coverage._errors import InputError, NetworkUnavailableError
from coverage.io.gis_roads import roads_from_lines
from coverage.io.graphml import roads_from_graph, roads_from_graphml, roads_from_place
from tests.conftest import INPUT

GRAPHML = INPUT / "fomboni.graphml"


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return osmnx.load_graphml(GRAPHML)


@pytest.fixture(scope="module")
def roads():
    return roads_from_graphml(GRAPHML)


def test_counts_match_the_directed_graph(graph, roads):
    # Every one-way edge once, and each two-way road (two directed edges) once.
    one_way = sum(1 for _, _, data in graph.edges(data=True) if data["oneway"])
    two_way = sum(1 for _, _, data in graph.edges(data=True) if not data["oneway"])
    assert (one_way, two_way) == (25, 346)
    assert len(roads.edges) == one_way + two_way // 2 == 198
    assert len(roads.nodes) == len(graph) - nx.number_of_isolates(graph) == 140
    assert roads.source == "fomboni.graphml"
    assert roads.crs.to_epsg() == 32738


def test_oneway_edges_keep_their_direction(graph, roads):
    one_way = roads.edges[roads.edges["oneway"] == 1]
    assert len(one_way) == 25
    for u, v in zip(one_way["u"], one_way["v"], strict=True):
        assert graph.has_edge(u, v)
        assert all(data["oneway"] for data in graph.get_edge_data(u, v).values())
    assert set(roads.edges["oneway"]) == {0, 1}


def test_geometry_runs_from_u_to_v(roads):
    start = shapely.get_point(roads.edges.geometry.values, 0)
    end = shapely.get_point(roads.edges.geometry.values, -1)
    assert shapely.distance(start, roads.nodes.geometry.loc[roads.edges["u"]].values).max() < 1e-6
    assert shapely.distance(end, roads.nodes.geometry.loc[roads.edges["v"]].values).max() < 1e-6


def test_merged_edges_with_highway_lists(graph, roads):
    merged = {
        frozenset((u, v)): data["highway"] for u, v, data in graph.edges(data=True) if isinstance(data["highway"], list)
    }
    assert sorted(map(sorted, merged.values())) == [["path", "residential"], ["residential", "track"]]
    pairs = roads.edges.apply(lambda row: frozenset((row["u"], row["v"])), axis=1)
    resolved = roads.edges.loc[pairs.isin(list(merged)), "highway"]
    assert resolved.tolist() == ["residential", "residential"]


def test_same_roads_as_the_gis_lines_of_the_same_ways(roads):
    lines = roads_from_lines(INPUT / "fomboni_roads.gpkg", class_column="道路等级")
    assert roads.edges["length_m"].sum() == pytest.approx(lines.edges["length_m"].sum(), abs=0.01)


def _graph(edges: list[tuple[int, int, dict]], *, crs: str = "EPSG:32649") -> nx.MultiDiGraph:
    """A small osmnx-style projected graph on nodes 1-4 of a 100 m square."""
    graph = nx.MultiDiGraph(crs=crs)
    for node, (x, y) in {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100)}.items():
        graph.add_node(node, x=700_000.0 + x, y=3_500_000.0 + y)
    for u, v, data in edges:
        graph.add_edge(u, v, **data)
    return graph


def test_lists_are_resolved_deterministically():
    two_way = {"oneway": False}
    graph = _graph(
        [
            (1, 2, {"highway": ["secondary", "tertiary", "tertiary"], "maxspeed": ["50", "30"], **two_way}),
            (2, 1, {"highway": ["secondary", "tertiary", "tertiary"], "maxspeed": ["50", "30"], **two_way}),
            (2, 3, {"highway": ["secondary", "primary"], "name": ["B road", "A road"], "oneway": True}),
            (3, 4, {"highway": "residential", "access": ["yes", "private"], "oneway": True}),
        ]
    )
    edges = roads_from_graph(graph, source="test").edges.set_index(["u", "v"])
    assert edges.loc[(1, 2), "highway"] == "tertiary"  # the most frequent
    assert edges.loc[(1, 2), "maxspeed"] == "30;50"
    assert edges.loc[(2, 3), "highway"] == "primary"  # a tie goes to the higher class
    assert edges.loc[(2, 3), "name"] == "A road;B road"
    assert edges.loc[(3, 4), "access"] == "private"  # the most restrictive
    assert edges["oneway"].tolist() == [0, 1, 1]


def test_parallel_and_reversed_edges():
    # Two different two-way roads between nodes 1 and 2, and a one-way road beside them.
    north = shapely.LineString([(700_000, 3_500_000), (700_050, 3_500_020), (700_100, 3_500_000)])
    south = shapely.LineString([(700_000, 3_500_000), (700_050, 3_499_980), (700_100, 3_500_000)])
    east = shapely.LineString([(700_000, 3_500_000), (700_050, 3_499_950), (700_100, 3_500_000)])
    back = {"oneway": False, "reversed": True}
    graph = _graph(
        [
            (1, 2, {"highway": "residential", "geometry": north, "oneway": False, "reversed": False}),
            (2, 1, {"highway": "residential", "geometry": north.reverse(), **back}),
            (2, 1, {"highway": "service", "geometry": south.reverse(), "oneway": False, "reversed": False}),
            (1, 2, {"highway": "service", "geometry": south, **back}),
            (1, 2, {"highway": "tertiary", "geometry": east, "oneway": True, "reversed": False}),
            # a merged two-way edge whose parts ran both ways: the first in node order is kept
            (3, 4, {"highway": "track", "oneway": False, "reversed": [False, True]}),
            (4, 3, {"highway": "track", "oneway": False, "reversed": [False, True]}),
        ]
    )
    edges = roads_from_graph(graph, source="test").edges
    assert len(edges) == 4
    by_class = edges.set_index("highway")
    assert (by_class.loc["residential", "u"], by_class.loc["residential", "oneway"]) == (1, 0)
    assert (by_class.loc["service", "u"], by_class.loc["service", "oneway"]) == (2, 0)  # as the way was drawn
    assert (by_class.loc["tertiary", "u"], by_class.loc["tertiary", "oneway"]) == (1, 1)
    assert (by_class.loc["track", "u"], by_class.loc["track", "v"], by_class.loc["track", "oneway"]) == (3, 4, 0)
    assert by_class.loc["residential", "length_m"] == pytest.approx(north.length)


def test_two_way_edge_without_its_twin_is_read_one_way(caplog):
    graph = _graph([(1, 2, {"highway": "residential", "oneway": False}), (2, 3, {"highway": "residential"})])
    with caplog.at_level(logging.WARNING, logger="coverage.io.graphml"):
        edges = roads_from_graph(graph, source="test").edges
    assert edges["oneway"].tolist() == [1, 1]
    assert "1 two-way edges have no edge back" in caplog.text


def test_unprojected_graph_is_projected_to_utm():
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_node(10, x=43.7500, y=-12.2800)
    graph.add_node(11, x=43.7510, y=-12.2800)
    graph.add_edge(10, 11, highway="primary", oneway=True)
    roads = roads_from_graph(graph, source="test")
    assert roads.crs.to_epsg() == 32738
    assert roads.edges["length_m"].iloc[0] == pytest.approx(108.7, abs=0.5)


def test_input_errors(tmp_path):
    with pytest.raises(InputError, match="GraphML file not found"):
        roads_from_graphml(tmp_path / "missing.graphml")
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph>", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read it as an osmnx GraphML file"):
        roads_from_graphml(broken)
    no_crs = _graph([(1, 2, {"highway": "primary"})])
    del no_crs.graph["crs"]
    with pytest.raises(InputError, match="no 'crs' attribute"):
        roads_from_graph(no_crs, source="test")
    no_xy = _graph([(1, 2, {"highway": "primary"})])
    del no_xy.nodes[2]["x"]
    with pytest.raises(InputError, match=r"1 nodes have no x/y coordinates \(first: 2\)"):
        roads_from_graph(no_xy, source="test")
    with pytest.raises(InputError, match="no edges"):
        roads_from_graph(_graph([]), source="test")
    with pytest.raises(InputError, match="either a place name"):
        roads_from_place()
    with pytest.raises(InputError, match="either a place name"):
        roads_from_place("Fomboni", polygon=shapely.box(0, 0, 1, 1))


@pytest.fixture
def offline(monkeypatch):
    """Skip on a machine that can reach the Overpass API; keep osmnx from waiting long."""
    host = urllib.parse.urlparse(osmnx.settings.overpass_url).hostname
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        pass
    else:
        pytest.skip(f"this machine resolves {host}, so the offline error cannot be shown here")
    monkeypatch.setattr(osmnx.settings, "requests_timeout", 5)
    monkeypatch.setattr(osmnx.settings, "use_cache", False)


@pytest.mark.parametrize(
    "where", [{"query": "Fomboni, Mwali, Comoros"}, {"polygon": shapely.box(43.7530, -12.2810, 43.7540, -12.2800)}]
)
@pytest.mark.usefixtures("offline")
def test_offline_download_raises_network_unavailable(where):
    started = time.monotonic()
    with pytest.raises(NetworkUnavailableError, match=r"seems to be offline.*roads_from_osm"):
        roads_from_place(**where)
    assert time.monotonic() - started < 15
