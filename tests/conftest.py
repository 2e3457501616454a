"""Shared fixtures: the real Comoros extract shipped in data/, read once per session."""

from __future__ import annotations

import os
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
COMOROS_CENSUS = COMOROS / "population_totals_rgph2017.csv"
#: Debian's chromium (``.ci/run`` installs it), driven by Playwright in the browser tests.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def admin() -> gpd.GeoDataFrame:
    return gpd.read_file(COMOROS_ADMIN)


@pytest.fixture(scope="session")
def mwali_boundary(admin):
    """Mwali (Mohéli), the smallest island: a few thousand road pieces."""
    return admin[admin["name_en"] == "Moheli"].geometry.union_all()


@pytest.fixture(scope="session")
def mwali_roads(mwali_boundary):
    from coverage.io.osm import roads_from_osm

    return roads_from_osm(COMOROS_PBF, boundary=mwali_boundary)


@pytest.fixture(scope="session")
def car():
    from coverage.network.profiles import load_profile

    return load_profile("car")


@pytest.fixture(scope="session")
def mwali_network(mwali_roads, car):
    from coverage.network.prepared import prepare_network

    return prepare_network(mwali_roads, car)


@pytest.fixture(scope="session")
def mwali_facilities(mwali_boundary):
    from coverage.io.osm import facilities_from_osm

    return facilities_from_osm(COMOROS_PBF, boundary=mwali_boundary)


@pytest.fixture(scope="session")
def mwali_places(mwali_boundary):
    from coverage.io.osm import places_from_osm

    return places_from_osm(COMOROS_PBF, boundary=mwali_boundary)


@pytest.fixture(scope="session")
def calibrated_mwali(tmp_path_factory, mwali_boundary):
    """Mwali with the raster calibrated to the 2017 census island totals, summarised per island."""
    from coverage.analysis.run import analyze

    return analyze(
        COMOROS_PBF,
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
        zones=COMOROS_ADMIN,
        zones_name_column="name_en",
        zones_where="admin_level == '4'",
        population_totals=COMOROS_CENSUS,
        per_facility_isochrones=False,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


#: Text from OSM or a user's file that a careless page would run as markup.
HOSTILE_NAME = '<img src=x onerror="window.__xss=1">'
HOSTILE_KIND = "</script><script>window.__xss=2</script>"


@pytest.fixture(scope="session")
def hostile_analysis(tmp_path_factory, mwali_boundary, mwali_facilities, mwali_places):
    """Mwali with admin units and the population raster, where one village and one facility kind carry markup."""
    from coverage.analysis.run import analyze

    villages = mwali_places.copy()
    villages.loc[villages.index[0], "name"] = HOSTILE_NAME
    facilities = mwali_facilities.drop(columns=["osm_tags"], errors="ignore").copy()
    facilities.loc[facilities.index[0], "kind"] = HOSTILE_KIND
    return analyze(
        COMOROS_PBF,
        facilities=facilities,
        villages=villages,
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
        zones=COMOROS_ADMIN,
        zones_name_column="name",
        zones_where="admin_level == '8'",
        minutes=[10, 15, 30],
        per_facility_isochrones=False,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


@pytest.fixture(scope="session")
def hostile_map(hostile_analysis):
    from coverage.outputs.maps import coverage_map

    return coverage_map(hostile_analysis, basemap="osm")


MWALI_BOUNDARY = INPUT / "mwali_boundary.geojson"


def mwali_inputs(cache_dir: Path) -> dict:
    """analyze() inputs of Mwali: the shipped extract clipped to the island, its raster and admin units."""
    return {
        "osm": COMOROS_PBF,
        "boundary": MWALI_BOUNDARY,
        "population": COMOROS_RASTER,
        "zones": COMOROS_ADMIN,
        "zones_name_column": "name",
        "zones_where": "admin_level == '8'",
        "cache_dir": cache_dir,
    }


@pytest.fixture(scope="session")
def mwali_workspace(tmp_path_factory):
    """The what-if workspace of Mwali, offering two standards (loaded once: a few seconds per profile)."""
    from coverage.webapp.workspace import Workspace

    return Workspace(
        mwali_inputs(tmp_path_factory.mktemp("webapp-cache")), standards=["suizhou", "lianzhou"], name="Mwali"
    )


@pytest.fixture(scope="session")
def default_analysis(tmp_path_factory):
    """The README's main job: the embedded default region (the three islands), as ``analyze`` runs it."""
    from coverage.analysis.run import analyze

    return analyze(cache_dir=tmp_path_factory.mktemp("default-cache"))


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, the network left to each page to block; the tests fail without it under CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not at {CHROMIUM}: .ci/run installs Debian's chromium package")
        pytest.skip(f"Chromium is not at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()
