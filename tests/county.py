"""A county's own files, built from the shipped data: what a Chinese health commission holds.

Mohéli (Mwali), from the shipped OpenStreetMap extract, is moved to Hubei (its
road shapes, villages, communes and coast kept, every coordinate shifted by one
offset) so that Chinese datums apply, and written the way a commission's files
come:

- ``roads.gpkg``: the road lines graded 县道 / 乡道 / 村道 in a ``道路等级`` column, a
  third of them with no grade at all;
- ``boundary.geojson``: the district (本区) and a neighbouring one (邻区) in one file;
- ``subdistricts.geojson``: the 13 communes, as the district's subdistricts (街道);
- ``facilities.csv``: an Amap export in GBK, columns ``ID``, ``NAME``, ``TYPE``,
  ``TYPECODE``, ``XGCJ``, ``YGCJ`` (GCJ-02), with one row of every category the
  ``amap`` kind map knows, dental and pharmacy rows, a category it does not know,
  two hospitals just across the border and one far away;
- ``villages.csv``: the villages (村名, lon, lat in WGS84), without population.

:data:`EXPECTED_KINDS` says, row by row, what a planner expects each facility to be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.io.datum import wgs84_to_gcj02
from coverage.io.osm import places_from_osm, roads_from_osm
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF

#: The shift that takes Mohéli to eastern Hubei, near Wuhan (degrees).
SHIFT_LON, SHIFT_LAT = 70.35, 42.95
#: OSM classes as a county road layer grades them (blank: no grade recorded).
GRADES = {"tertiary": "县道", "unclassified": "乡道", "residential": "村道", "track": "", "path": "", "service": ""}

#: ID, NAME, TYPE, TYPECODE of each facility row, and the kind a planner expects ("" dropped).
ROWS = [
    ("F01", "本区人民医院", "医疗保健服务;综合医院;三级甲等医院", "090101", "hospital"),
    ("F02", "本区中医医院", "医疗保健服务;专科医院;专科医院", "090200", "hospital"),
    ("F03", "城关镇卫生院", "医疗保健服务;综合医院;卫生院", "090102", "health_centre"),
    ("F04", "河口乡中心卫生院", "医疗保健服务;综合医院;综合医院", "090100", "health_centre"),
    ("F05", "城关街道社区卫生服务中心", "医疗保健服务;综合医院;综合医院", "090100", "community_health_centre"),
    ("F06", "新村社区卫生服务站", "医疗保健服务;诊所;诊所", "090300", "community_health_station"),
    ("F07", "本区急救中心", "医疗保健服务;急救中心;急救中心", "090400", "ems"),
    ("F08", "仁和诊所", "医疗保健服务;诊所;诊所", "090300", "clinic"),
    ("F09", "美奥口腔", "医疗保健服务;专科医院;口腔医院", "090202", ""),
    ("F10", "老百姓大药房", "医疗保健服务;医药保健销售店;药房", "090601", ""),
    (
        "F11",
        "康乐健康咨询",
        "医疗保健服务;医疗保健服务场所;医疗保健服务场所",
        "090000",
        "医疗保健服务;医疗保健服务场所;医疗保健服务场所",
    ),
    ("F12", "邻区人民医院", "医疗保健服务;综合医院;综合医院", "090100", "hospital"),
    ("F13", "邻区第二医院", "医疗保健服务;综合医院;综合医院", "090100", "hospital"),
    ("F14", "远郊医院", "医疗保健服务;综合医院;综合医院", "090100", "hospital"),
]
#: Rows that are village clinics (卫生室), one at each of these villages (by position in the village list).
CLINIC_VILLAGES = (0, 3, 6, 9, 12)
#: Rows across the border: two 3 km off the coast (they serve the district), one 80 km away (left out).
ACROSS_BORDER = ("F12", "F13")
FAR_AWAY = ("F14",)
BORDER_KM = 10.0


@dataclass(frozen=True)
class County:
    """The files of the county, and the facts a test checks against."""

    folder: Path
    roads: Path
    boundary: Path
    subdistricts: Path
    facilities: Path
    villages: Path
    kinds: dict[str, str]
    villages_frame: gpd.GeoDataFrame
    clinics: gpd.GeoDataFrame
    outline: shapely.Geometry
    lines: int
    blank_lines: int


def _moved(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    return geometry.translate(xoff=SHIFT_LON, yoff=SHIFT_LAT)


def build_county(folder: Path) -> County:
    """Write the county's files into ``folder`` (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    admin = gpd.read_file(COMOROS_ADMIN)
    island = admin[admin["name_en"] == "Moheli"].geometry.union_all()
    outline = _moved(gpd.GeoSeries([island], crs=4326)).iloc[0]

    # roads: the island's road pieces as a lines layer; every third line has no grade
    roads = roads_from_osm(COMOROS_PBF, boundary=island).edges.to_crs(4326)
    grades = roads["highway"].map(GRADES).fillna("").to_numpy(dtype=object)
    grades[::3] = ""
    lines = gpd.GeoDataFrame(
        {"道路名称": roads["name"].fillna("").to_numpy(), "道路等级": grades}, geometry=_moved(roads.geometry), crs=4326
    )
    roads_path = folder / "roads.gpkg"
    lines.to_file(roads_path, layer="roads", driver="GPKG")

    # the district and a neighbour, in one boundary file
    neighbour = shapely.box(*shapely.bounds(outline)).buffer(0.3).difference(outline.buffer(0.02))
    boundary = gpd.GeoDataFrame({"name": ["本区", "邻区"]}, geometry=[outline, neighbour], crs=4326)
    boundary_path = folder / "boundary.geojson"
    boundary.to_file(boundary_path, driver="GeoJSON")

    communes = admin[(admin["admin_level"] == "8") & admin.geometry.within(island.buffer(0.01))]
    subdistricts = gpd.GeoDataFrame(
        {"name": [f"街道{i + 1:02d}" for i in range(len(communes))]}, geometry=_moved(communes.geometry), crs=4326
    )
    subdistricts_path = folder / "subdistricts.geojson"
    subdistricts.to_file(subdistricts_path, driver="GeoJSON")

    places = places_from_osm(COMOROS_PBF, boundary=island).reset_index(drop=True)
    village_points = _moved(places.geometry)
    villages = gpd.GeoDataFrame(
        {"村名": [f"第{i + 1}村" for i in range(len(places))]}, geometry=village_points.to_numpy(), crs=4326
    )
    villages_path = folder / "villages.csv"
    pd.DataFrame(
        {"村名": villages["村名"], "lon": villages.geometry.x.round(7), "lat": villages.geometry.y.round(7)}
    ).to_csv(villages_path, index=False, encoding="utf-8")

    facilities, kinds = _facilities(places, village_points, outline)
    clinics = facilities[facilities["ID"].str.startswith("V")]
    lon, lat = wgs84_to_gcj02(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy())
    table = pd.DataFrame(
        {
            "ID": facilities["ID"],
            "NAME": facilities["NAME"],
            "TYPE": facilities["TYPE"],
            "TYPECODE": facilities["TYPECODE"],
            "XGCJ": np.round(lon, 7),
            "YGCJ": np.round(lat, 7),
        }
    )
    facilities_path = folder / "facilities.csv"
    table.to_csv(facilities_path, index=False, encoding="gbk")
    return County(
        folder=folder,
        roads=roads_path,
        boundary=boundary_path,
        subdistricts=subdistricts_path,
        facilities=facilities_path,
        villages=villages_path,
        kinds=kinds,
        villages_frame=villages,
        clinics=clinics,
        outline=outline,
        lines=len(lines),
        blank_lines=int((grades == "").sum()),
    )


def _facilities(
    places: gpd.GeoDataFrame, village_points: gpd.GeoSeries, outline: shapely.Geometry
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The facility rows in WGS84 (moved), and the kind expected of each id."""
    utm = gpd.GeoSeries([outline], crs=4326).estimate_utm_crs()
    projected = gpd.GeoSeries([outline], crs=4326).to_crs(utm).iloc[0]
    centre = projected.centroid
    points = []
    # inside the district: 150 m inland from every other village
    inside = village_points.to_crs(utm).to_numpy()
    for index in range(11):
        village = inside[(2 * index + 1) % len(inside)]
        step = np.array([centre.x - village.x, centre.y - village.y])
        step *= 150.0 / max(np.hypot(*step), 1.0)
        point = shapely.Point(village.x + step[0], village.y + step[1])
        points.append(point if projected.contains(point) else village)
    coast = (
        projected.exterior if projected.geom_type == "Polygon" else max(projected.geoms, key=lambda g: g.area).exterior
    )
    for distance_m in (3000.0, 3000.0, 80_000.0):
        anchor = coast.interpolate(coast.length * (0.2 if len(points) == 11 else 0.6))
        direction = np.array([anchor.x - centre.x, anchor.y - centre.y])
        direction /= np.hypot(*direction)
        points.append(shapely.Point(anchor.x + distance_m * direction[0], anchor.y + distance_m * direction[1]))
    rows = pd.DataFrame(ROWS, columns=["ID", "NAME", "TYPE", "TYPECODE", "kind"])
    frame = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(points, crs=utm).to_crs(4326).to_numpy(), crs=4326)
    clinics = gpd.GeoDataFrame(
        {
            "ID": [f"V{i:02d}" for i in CLINIC_VILLAGES],
            "NAME": [f"第{i + 1}村卫生室" for i in CLINIC_VILLAGES],
            "TYPE": "医疗保健服务;诊所;诊所",
            "TYPECODE": "090300",
            "kind": "village_clinic",
        },
        geometry=village_points.iloc[list(CLINIC_VILLAGES)].to_numpy(),
        crs=4326,
    )
    frame = gpd.GeoDataFrame(pd.concat([frame, clinics], ignore_index=True), geometry="geometry", crs=4326)
    kinds = dict(zip(frame["ID"], frame["kind"], strict=True))
    return frame.drop(columns="kind"), kinds
