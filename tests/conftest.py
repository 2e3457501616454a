"""Shared fixtures: the real Comoros extract shipped in data/, read once per session."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
INPUT = Path(__file__).resolve().parent / "input_data"
COMOROS = DATA / "comoros"
COMOROS_PBF = COMOROS / "comores-latest.osm.pbf"
COMOROS_RASTER = COMOROS / "com_ppp_2020_UNadj.tif"
COMOROS_ADMIN = COMOROS / "admin_boundaries_osm.geojson"


@pytest.fixture(scope="session")
def admin() -> gpd.GeoDataFrame:
    return gpd.read_file(COMOROS_ADMIN)


@pytest.fixture(scope="session")
def mwali_boundary(admin):
    """Mwali (Mohéli), the smallest island: a few thousand road pieces."""
    return admin[admin["name_en"] == "Moheli"].geometry.union_all()


@pytest.fixture(scope="session")
def mwali_roads(mwali_boundary):
    from coverage.osm import roads_from_osm

    return roads_from_osm(COMOROS_PBF, boundary=mwali_boundary)


@pytest.fixture(scope="session")
def car():
    from coverage.profiles import load_profile

    return load_profile("car")


@pytest.fixture(scope="session")
def mwali_network(mwali_roads, car):
    from coverage.network import prepare_network

    return prepare_network(mwali_roads, car)


@pytest.fixture(scope="session")
def mwali_facilities(mwali_boundary):
    from coverage.osm import facilities_from_osm

    return facilities_from_osm(COMOROS_PBF, boundary=mwali_boundary)


@pytest.fixture(scope="session")
def mwali_places(mwali_boundary):
    from coverage.osm import places_from_osm

    return places_from_osm(COMOROS_PBF, boundary=mwali_boundary)
