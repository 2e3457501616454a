"""The HTML map as a planner sees it: opened in real headless Chromium with the network blocked.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it), driven by
Playwright; ``$CHROMIUM`` points elsewhere. Screenshots are kept in
``$TEST_ARTIFACTS`` (default ``tests/artifacts/``) to look at.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

from coverage.outputs.classes import classify_minutes, hex_to_rgb, time_classes
from coverage.outputs.maps import coverage_map, save_map
from tests.conftest import HOSTILE_KIND, HOSTILE_NAME, REPO

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", REPO / "tests" / "artifacts"))


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
        # what is drawn: a marker per facility, a path per village and admin outline (admin units, catchments hidden)
        assert sizes["Admin boundaries"] == len(analysis.zones)
        assert page.locator(".leaflet-marker-pane .leaflet-marker-icon").count() == len(analysis.facilities)
        assert page.locator(".leaflet-overlay-pane path").count() == len(analysis.villages) + len(analysis.zones)
        assert page.locator(".leaflet-fcSurface-pane img.leaflet-image-layer").count() == 1  # the travel-time surface
        assert page.locator(".leaflet-fcGap-pane img").count() == 0  # people outside the circle: hidden at first
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


@pytest.fixture(scope="module")
def default_map_file(default_analysis, tmp_path_factory):
    path = tmp_path_factory.mktemp("default-map") / "comoros.html"
    save_map(coverage_map(default_analysis, basemap="none"), path)
    return path


def _map_name(page) -> str:
    return page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")


def _screen(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)


def test_the_default_map_shows_the_surface_in_classes_with_its_ramp(browser, default_map_file, default_analysis):
    analysis = default_analysis
    classes = time_classes(analysis.minutes)
    opened = _open(browser, default_map_file)
    page = opened.page
    try:
        page.wait_for_function("window.fcSurface !== undefined")
        assert opened.errors == []
        assert opened.blocked == []
        picture = page.locator(".leaflet-fcSurface-pane img.leaflet-image-layer")
        assert picture.count() == 1
        assert picture.is_visible()
        box = picture.bounding_box()
        assert box["width"] > 500
        assert box["height"] > 400
        control = page.locator(".leaflet-control-layers-overlays").inner_text()
        assert "Travel time to the nearest facility (car)" in control

        # the legend: one box per class in the classes' colours, labelled 0 10 15 30 60 at their left edges
        ramp = page.locator(".fc-legend .fc-ramp").first
        boxes = ramp.locator("div i")
        assert boxes.count() == len(classes) == 5
        colours = [boxes.nth(i).evaluate("e => getComputedStyle(e).backgroundColor") for i in range(boxes.count())]
        assert colours == [f"rgb({r}, {g}, {b})" for r, g, b in (hex_to_rgb(c.colour) for c in classes)]
        assert ramp.locator("div b").all_inner_texts() == ["0", "10", "15", "30", "60"]
        assert "minutes to the nearest facility" in page.locator(".fc-legend").inner_text()
        # the people-outside overlay is hidden at first, its density scale is in the legend
        assert "People outside the circle" in page.locator(".fc-legend").inner_text()
        assert page.locator(".fc-legend .fc-ramp").count() == 2

        # the picture's class at cell centres is the surface's class there (cells inside a patch of one class)
        surface = analysis.surface
        grid = surface.minutes_grid()
        klass = classify_minutes(grid, classes)
        rows, cols = surface.rows, surface.cols
        inner = (rows > 1) & (rows < grid.shape[0] - 2) & (cols > 1) & (cols < grid.shape[1] - 2)
        same = inner.copy()
        for dr in (-2, -1, 0, 1, 2):
            for dc in (-2, -1, 0, 1, 2):
                same &= (
                    klass[np.clip(rows + dr, 0, grid.shape[0] - 1), np.clip(cols + dc, 0, grid.shape[1] - 1)]
                    == klass[rows, cols]
                )
        picked = np.random.default_rng(3).choice(np.flatnonzero(same & surface.reached), 60, replace=False)
        lon, lat = surface.grid.centres(rows[picked], cols[picked])
        seen = page.evaluate(
            "points => points.map(p => { const c = window.fcSurface.classAt(L.latLng(p[1], p[0])); return c && c.label; })",
            [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)],
        )
        expected = [classes[k - 1].label for k in klass[rows[picked], cols[picked]]]
        assert seen == expected
        assert {label for label in expected} >= {"0–10 min", "more than 60 min"}

        # a click on the surface tells the class there (on a cell with no marker, outline or box over it)
        name = _map_name(page)
        clickable = page.evaluate(
            """([name, points]) => points.map(p => {
                const at = window[name].latLngToContainerPoint(L.latLng(p[1], p[0]));
                const element = document.elementFromPoint(at.x, at.y);
                const free = element && element.classList.contains('leaflet-container');
                return free ? [at.x, at.y] : null;
            })""",
            [name, [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]],
        )
        first = next(i for i, at in enumerate(clickable) if at is not None)
        page.mouse.click(*clickable[first])
        page.wait_for_timeout(200)
        popup = page.locator(".leaflet-popup-content").inner_text()
        assert "Travel time" in popup
        assert expected[first] in popup
        _screenshot(opened, "map_default_surface.png")
    finally:
        page.close()


def test_village_markers_leave_the_surface_visible_and_outlines_show_the_land(
    browser, default_map_file, default_analysis
):
    opened = _open(browser, default_map_file)
    page = opened.page
    try:
        page.wait_for_function("window.fcSurface !== undefined")
        page.wait_for_timeout(300)
        with_villages = _screen(page)
        page.locator(".leaflet-control-layers-overlays label", has_text="Villages").click()
        page.wait_for_timeout(200)
        without = _screen(page)
        background = np.array([0xDD, 0xDD, 0xDD])  # Leaflet's container with no basemap
        land = np.abs(without - background).sum(axis=2) > 30
        hidden = (np.abs(with_villages - without).sum(axis=2) > 30) & land
        # at the opening zoom the villages cover a small part of what the surface shows
        assert hidden.sum() < 0.05 * land.sum()
        # the islands' outlines are drawn from the start (offline, they show where land is)
        sizes = _layer_sizes(page)
        assert sizes["Admin boundaries"] == len(default_analysis.zones)
        assert page.locator(".leaflet-overlay-pane path").count() >= len(default_analysis.zones)
    finally:
        page.close()


def test_catchments_are_an_optional_layer_with_popups(browser, default_map_file, default_analysis):
    opened = _open(browser, default_map_file)
    page = opened.page
    try:
        paths = page.locator(".leaflet-overlay-pane path")
        before = paths.count()
        drawn = default_analysis.catchments.geometry.notna().sum()
        page.locator(".leaflet-control-layers-overlays label", has_text="Catchments").click()
        assert paths.count() == before + drawn
        first = default_analysis.catchments.dropna(subset=["geometry"]).iloc[0]
        page.evaluate(
            """name => {
                const layer = Object.entries(window.fcLayers).find(([key]) => key.startsWith('Catchments'))[1];
                layer.getLayers().find(l => l.feature.properties.tooltip === 'Catchment of ' + name).openPopup();
            }""",
            str(first["facility_name"]),
        )
        page.wait_for_timeout(200)
        popup = page.locator(".leaflet-popup-content").inner_text()
        assert "Population" in popup
        assert f"{first['population']:,.0f}" in popup
        assert opened.errors == []
        _screenshot(opened, "map_default_catchments.png")
    finally:
        page.close()
