"""The HTML map as a planner sees it: opened in real headless Chromium with the network blocked.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it), driven by
Playwright; ``$CHROMIUM`` points elsewhere. Screenshots are kept in
``$TEST_ARTIFACTS`` (default ``tests/artifacts/``) to look at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pytest

from coverage.outputs.maps import coverage_map, save_map
from tests.conftest import HOSTILE_KIND, HOSTILE_NAME, REPO

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", REPO / "tests" / "artifacts"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not at {CHROMIUM}: .ci/run installs Debian's chromium package")
        pytest.skip(f"Chromium is not at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@dataclass
class Opened:
    page: object
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def _open(browser, path: Path) -> Opened:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    opened = Opened(page)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))

    def route(request_route):
        url = request_route.request.url
        if url.startswith("file:"):
            request_route.continue_()
        else:
            opened.blocked.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_function("window.L !== undefined && document.querySelector('.leaflet-container') !== null")
    page.wait_for_timeout(300)
    return opened


@pytest.fixture(scope="module")
def map_file(hostile_map, tmp_path_factory):
    path = tmp_path_factory.mktemp("maps") / "mwali.html"
    save_map(hostile_map, path)
    return path


def _screenshot(opened: Opened, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / name))


def _layer_sizes(page) -> dict[str, int]:
    return page.evaluate(
        "Object.fromEntries(Object.entries(window.fcLayers).map(([name, layer]) => [name, layer.getLayers().length]))"
    )


def test_the_map_renders_offline_with_every_feature(browser, map_file, hostile_analysis):
    opened = _open(browser, map_file)
    page = opened.page
    try:
        assert opened.errors == []
        # nothing but basemap tiles was requested: the page itself needs no network
        assert opened.blocked
        assert all(url.startswith("https://tile.openstreetmap.org/") for url in opened.blocked)
        analysis = hostile_analysis
        sizes = _layer_sizes(page)
        villages_layer = next(name for name in sizes if name.startswith("Villages"))
        assert sizes[villages_layer] == len(analysis.villages)
        assert sum(n for name, n in sizes.items() if name.startswith("Facilities")) == len(analysis.facilities)
        # what is drawn: a marker per facility, a path per band and village (admin units start hidden)
        bands = sum(1 for name in sizes if name.startswith("Isochrone band"))
        assert page.locator(".leaflet-marker-pane .leaflet-marker-icon").count() == len(analysis.facilities)
        assert page.locator(".leaflet-overlay-pane path").count() == bands + len(analysis.villages)
        assert page.locator(".leaflet-overlay-pane img.leaflet-image-layer").count() == 1  # population gap
        assert page.locator(".leaflet-control-scale").count() == 1
        assert "OpenStreetMap contributors" in page.locator(".leaflet-control-attribution").inner_text()
        assert page.locator(".fc-legend").is_visible()
        assert page.locator(".fc-title").is_visible()
        _screenshot(opened, "map_mwali.png")
    finally:
        page.close()


def test_toggling_a_layer_hides_and_shows_it(browser, map_file, hostile_analysis):
    opened = _open(browser, map_file)
    page = opened.page
    try:
        paths = page.locator(".leaflet-overlay-pane path")
        before = paths.count()
        villages = page.locator(".leaflet-control-layers-overlays label", has_text="Villages")
        villages.click()
        assert paths.count() == before - len(hostile_analysis.villages)
        zones = page.locator(".leaflet-control-layers-overlays label", has_text="Admin units")
        zones.click()
        assert paths.count() == before - len(hostile_analysis.villages) + len(hostile_analysis.zones)
        villages.click()
        assert paths.count() == before + len(hostile_analysis.zones)
        assert opened.errors == []
    finally:
        page.close()


def test_hostile_names_show_as_text_and_run_nothing(browser, map_file):
    opened = _open(browser, map_file)
    page = opened.page
    try:
        # the facility kind is a layer name in the control: shown, not run
        control = page.locator(".leaflet-control-layers-overlays").inner_text()
        assert HOSTILE_KIND in control
        # the village's popup and tooltip
        page.evaluate(
            """name => {
                const layer = Object.entries(window.fcLayers).find(([key]) => key.startsWith('Villages'))[1];
                const village = layer.getLayers().find(l => l.feature.properties.tooltip === name);
                village.openPopup();
                village.openTooltip();
            }""",
            HOSTILE_NAME,
        )
        page.wait_for_timeout(200)
        assert HOSTILE_NAME in page.locator(".leaflet-popup-content").inner_text()
        assert HOSTILE_NAME in page.locator(".leaflet-tooltip").inner_text()
        assert page.locator("img[src='x']").count() == 0
        assert page.evaluate("window.__xss") is None
        assert opened.errors == []
        _screenshot(opened, "map_hostile_popup.png")
    finally:
        page.close()


def test_without_a_basemap_nothing_is_requested(browser, hostile_analysis, tmp_path):
    villages = hostile_analysis.villages
    sites = gpd.GeoDataFrame(
        {"site_id": ["road/1", "road/2"], "order": [1, 2], "population_gain": [900.0, 250.0]},
        geometry=list(villages.geometry.head(2)),
        crs=4326,
    )
    path = tmp_path / "plain.html"
    save_map(coverage_map(hostile_analysis, basemap="none", sites=sites, minutes=15), path)
    opened = _open(browser, path)
    page = opened.page
    try:
        assert opened.blocked == []
        assert opened.errors == []
        markers = page.locator(".leaflet-marker-pane .leaflet-marker-icon")
        assert markers.count() == len(hostile_analysis.facilities) + 2
        assert page.locator(".fc-star").count() == 2
        _screenshot(opened, "map_sites_no_basemap.png")
    finally:
        page.close()
