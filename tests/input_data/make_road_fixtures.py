"""Make the road fixtures of the GIS-lines and GraphML reader tests from the real Comoros extract.

Run from the repository root: ``python tests/input_data/make_road_fixtures.py``.

Makes, around Fomboni (Mwali island, Comoros), bbox 43.745-43.775 E, 12.295-12.265 S:

- ``fomboni.osm``: every ``highway=*`` way with a node in the bbox (complete, with all
  its nodes) and the tagged amenity/healthcare/emergency/place nodes in the bbox.
  Kept as it is when it exists already (the OSM reader tests may share it).
- ``fomboni.graphml``: the osmnx graph of ``fomboni.osm`` (``graph_from_xml``,
  simplified, all components kept), saved with ``osmnx.save_graphml``.
- ``fomboni_roads.gpkg`` (layer ``roads``, EPSG:4326): one line per OSM way, with a
  Chinese administrative-grade column ``道路等级``, ``名称`` (name), ``单向`` (是/否) and
  ``osm_id``.
- ``fomboni_roads_3857.shp`` (EPSG:3857): the same lines with technical grades and
  route numbers in ``GRADE``, ``ONEWAY`` (1/0), ``SPEED`` (km/h or empty), ``NAME``.
- ``fomboni_roads_flawed.gpkg`` (layer ``roads``): the GeoPackage lines with two
  deliberate digitising errors: the end of one way that meets another way in a
  T-junction pulled back 5 m along itself (a near miss), and the end of another way
  pulled back 30 m from its junction (a dangling end). The changed ways are listed in
  ``fomboni_roads_flawed.json``.

Data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import osmnx
import shapely
import shapely.ops

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[1] / "data" / "comoros" / "comores-latest.osm.pbf"
WEST, SOUTH, EAST, NORTH = 43.745, -12.295, 43.775, -12.265
POI_KEYS = ("amenity", "healthcare", "emergency", "place")

#: OSM class -> Chinese administrative grade (GeoPackage) and technical grade / route number (Shapefile).
ADMIN_GRADE = {
    "tertiary": "乡道",
    "residential": "村道",
    "service": "专用公路",
    "track": "等外公路",
    "path": "path",  # an OSM name, passed through unchanged
}
TECHNICAL_GRADE = {
    "tertiary": "Y001",  # a township-road route number
    "residential": "四级公路",
    "service": "Z002",
    "track": "等外公路",
    "path": "path",
}
SPEED_KPH = {"tertiary": 40.0, "residential": 30.0}


def _inside(location: osmium.osm.Location) -> bool:
    return location.valid() and WEST <= location.lon <= EAST and SOUTH <= location.lat <= NORTH


def make_osm(path: Path) -> None:
    """Write the highway ways touching the bbox, with their nodes, as OSM XML."""
    way_ids: set[int] = set()
    node_ids: set[int] = set()
    for obj in osmium.FileProcessor(str(SOURCE), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if obj.is_node():
            if len(obj.tags) and _inside(obj.location) and any(key in obj.tags for key in POI_KEYS):
                node_ids.add(obj.id)
        elif "highway" in obj.tags and any(_inside(node.location) for node in obj.nodes):
            way_ids.add(obj.id)
            node_ids.update(node.ref for node in obj.nodes)
    writer = osmium.SimpleWriter(str(path))
    try:
        for obj in osmium.FileProcessor(str(SOURCE), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node() and obj.id in node_ids:
                writer.add_node(obj)
            elif obj.is_way() and obj.id in way_ids:
                writer.add_way(obj)
    finally:
        writer.close()


def read_ways(path: Path) -> gpd.GeoDataFrame:
    """One WGS84 line per highway way of an OSM file, with its tags."""
    rows = []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if obj.is_way() and "highway" in obj.tags:
            rows.append(
                {
                    "osm_id": obj.id,
                    "highway": obj.tags["highway"],
                    "oneway": obj.tags.get("oneway", ""),
                    "name": obj.tags.get("name"),
                    "geometry": shapely.LineString([(node.lon, node.lat) for node in obj.nodes]),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def make_flawed(ways: gpd.GeoDataFrame, path: Path) -> dict[str, int]:
    """Copy the ways with one near miss (5 m) and one dangling end (30 m) made on purpose.

    Both are made on ways whose last point lies on the middle of exactly one other way
    (a T-junction), by pulling that end back along the way. The near miss is kept only
    when the new end is 3-8 m from that other way and farther from every other line;
    the dangling end only when the new end is more than 15 m from any other line.
    """
    utm = ways.estimate_utm_crs()
    lines = ways.to_crs(utm).geometry.to_numpy()
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    chosen: dict[str, int] = {}
    flawed = ways.copy()
    for i, end_point in enumerate(ends):
        if lines[i].length < 60 or ways["highway"].iloc[i] not in ("residential", "tertiary"):
            continue
        others = np.flatnonzero(np.arange(len(lines)) != i)
        on_end = shapely.dwithin(starts[others], end_point, 1) | shapely.dwithin(ends[others], end_point, 1)
        touching = others[shapely.dwithin(lines[others], end_point, 0.01)]
        if on_end.any() or len(touching) != 1:
            continue
        for key, pull_m in (("near_miss", 5.0), ("dangling", 30.0)):
            if key in chosen:
                continue
            cut = shapely.ops.substring(lines[i], 0, lines[i].length - pull_m)
            distance = shapely.distance(lines[others], shapely.get_point(cut, -1))
            to_through = float(shapely.distance(lines[touching[0]], shapely.get_point(cut, -1)))
            if key == "near_miss" and not (3 <= to_through <= 8 and distance.min() >= to_through):
                continue
            if key == "dangling" and distance.min() <= 15:
                continue
            chosen[key] = i
            flawed.loc[flawed.index[i], "geometry"] = gpd.GeoSeries([cut], crs=utm).to_crs(4326).iloc[0]
            break
        if len(chosen) == 2:
            break
    _chinese(flawed).to_file(path, layer="roads", driver="GPKG")
    return {key: int(ways["osm_id"].iloc[i]) for key, i in chosen.items()}


def _chinese(ways: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "道路等级": ways["highway"].map(ADMIN_GRADE),
            "名称": ways["name"],
            "单向": np.where(ways["oneway"] == "yes", "是", "否"),
            "osm_id": ways["osm_id"],
        },
        geometry=ways.geometry.values,
        crs=ways.crs,
    )


def main() -> None:
    osm_path = HERE / "fomboni.osm"
    if not osm_path.exists():
        make_osm(osm_path)
    ways = read_ways(osm_path)
    if set(ways["highway"]) - set(ADMIN_GRADE):
        msg = f"classes without a fixture grade: {set(ways['highway']) - set(ADMIN_GRADE)}"
        raise SystemExit(msg)

    graph = osmnx.graph_from_xml(osm_path, simplify=True, retain_all=True)
    osmnx.save_graphml(graph, HERE / "fomboni.graphml")

    _chinese(ways).to_file(HERE / "fomboni_roads.gpkg", layer="roads", driver="GPKG")
    shp = gpd.GeoDataFrame(
        {
            "GRADE": ways["highway"].map(TECHNICAL_GRADE),
            "ONEWAY": np.where(ways["oneway"] == "yes", 1, 0),
            "SPEED": ways["highway"].map(SPEED_KPH),
            "NAME": ways["name"],
        },
        geometry=ways.geometry.values,
        crs=4326,
    ).to_crs(3857)
    shp.to_file(HERE / "fomboni_roads_3857.shp", encoding="UTF-8")

    chosen = make_flawed(ways, HERE / "fomboni_roads_flawed.gpkg")
    (HERE / "fomboni_roads_flawed.json").write_text(json.dumps(chosen, indent=1) + "\n")
    print(f"{len(ways)} ways, graph {len(graph)} nodes {len(graph.edges)} edges; flawed ways {chosen}")


if __name__ == "__main__":
    main()
