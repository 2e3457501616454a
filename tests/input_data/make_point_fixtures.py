"""Remake the point-file fixtures used by tests/test_points.py and tests/test_datum.py.

Run from the repository root:

    python tests/input_data/make_point_fixtures.py

Hospitals come from the real Comoros OSM extract in ``data/comoros/`` (ODbL,
© OpenStreetMap contributors): every ``amenity=hospital`` node, and every hospital
drawn as an area. The Dongxihu (Wuhan) boundary pair is copied from the shared
``china-seed-admin-boundaries`` data set when it is found beside the repository
(``../shared/data/``); otherwise the committed copies are left as they are.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import geopandas as gpd
import osmium
import pandas as pd
import shapely
from shapely import wkb

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PBF = REPO / "data" / "comoros" / "comores-latest.osm.pbf"
CHINA_BOUNDARIES = REPO.parent / "shared" / "data" / "china-seed-admin-boundaries"
DONGXIHU = "420112"

# Real county names of the five plans' regions (from the seed boundaries' index.csv),
# put in a column of the GBK file only to test that Chinese text survives decoding.
CHINESE_PLACE_NAMES = ("随州市曾都区", "武汉市东西湖区", "清远市连州市", "益阳市赫山区", "达州市开江县", "随州市广水市")


def read_hospitals(pbf: Path) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Return hospital nodes (lon/lat table) and hospital areas (polygons) from an OSM file."""
    nodes = []
    areas = []
    factory = osmium.geom.WKBFactory()
    processor = (
        osmium.FileProcessor(str(pbf)).with_filter(osmium.filter.TagFilter(("amenity", "hospital"))).with_areas()
    )
    for obj in processor:
        if isinstance(obj, osmium.osm.Node):
            nodes.append(
                {
                    "id": obj.id,
                    "name": obj.tags.get("name", ""),
                    "healthcare": obj.tags.get("healthcare", ""),
                    "lon": round(obj.location.lon, 7),
                    "lat": round(obj.location.lat, 7),
                }
            )
        elif isinstance(obj, osmium.osm.Area):
            geometry = wkb.loads(factory.create_multipolygon(obj), hex=True)
            areas.append(
                {
                    "osm_type": "way" if obj.from_way() else "relation",
                    "osm_id": obj.orig_id(),
                    "name": obj.tags.get("name", ""),
                    "geometry": shapely.set_precision(geometry, 1e-7),
                }
            )
    table = pd.DataFrame(nodes).sort_values("id").reset_index(drop=True)
    polygons = gpd.GeoDataFrame(areas, geometry="geometry", crs="EPSG:4326").sort_values("osm_id")
    return table, polygons.reset_index(drop=True)


def write_fixtures(out: Path = HERE) -> None:
    """Write every point fixture into ``out``."""
    table, polygons = read_hospitals(PBF)
    logger.info("read %d hospital nodes and %d hospital areas from %s", len(table), len(polygons), PBF.name)

    table.to_csv(out / "hospitals.csv", index=False, encoding="utf-8")

    chinese = pd.DataFrame(
        {
            "编号": [f"{i:03d}" for i in range(1, len(table) + 1)],
            "医院名称": table["name"],
            "经度": table["lon"],
            "纬度": table["lat"],
            "示例地名": [CHINESE_PLACE_NAMES[i % len(CHINESE_PLACE_NAMES)] for i in range(len(table))],
        }
    )
    chinese.to_csv(out / "hospitals_gbk.csv", index=False, encoding="gbk")

    points = gpd.GeoDataFrame(
        table[["id", "name", "healthcare"]],
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs="EPSG:4326",
    )
    points.to_file(out / "hospitals.geojson", driver="GeoJSON", COORDINATE_PRECISION=7)
    polygons.to_file(out / "hospital_areas.geojson", driver="GeoJSON", COORDINATE_PRECISION=7)

    utm = points.to_crs("EPSG:32738")
    utm.to_file(out / "hospitals_utm38s.shp", encoding="utf-8")
    utm.to_file(out / "hospitals_noprj.shp", encoding="utf-8")
    (out / "hospitals_noprj.prj").unlink()

    if CHINA_BOUNDARIES.is_dir():
        for datum in ("gcj02", "wgs84"):
            shutil.copyfile(
                CHINA_BOUNDARIES / datum / f"{DONGXIHU}.geojson", out / f"dongxihu_{DONGXIHU}_{datum}.geojson"
            )
    else:
        logger.warning("%s not found; the Dongxihu boundary pair was not copied", CHINA_BOUNDARIES)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    write_fixtures()
