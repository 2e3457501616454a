"""The what-if page as a planner uses it: real uvicorn, real headless Chromium, the network blocked but for the server.

Clicks, drags and popups go through the page; the figures it then shows are checked
against analyze() and assess() run from scratch on the same stations.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import shapely

from coverage.webapp.app import create_app
from coverage.webapp.files import ScenarioStore
from coverage.webapp.scenario import Scenario
from coverage.webapp.server import ServerThread
from tests.conftest import REPO, mwali_inputs
from tests.webapp.reference import assert_same_figures, library_figures

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", REPO / "tests" / "artifacts"))
HOSTILE = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
def served(mwali_workspace, tmp_path):
    scenario = Scenario(mwali_workspace, minutes=15, standard="suizhou")
    app = create_app(scenario, store=ScenarioStore(tmp_path / "scenarios"), basemap="none")
    with ServerThread(app) as server:
        yield server.url, scenario


class Page:
    """A page of the app with every request outside the server aborted (and listed)."""

    def __init__(self, browser, url: str, *, query: str = "") -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        origin = url.rstrip("/")

        def route(request_route):
            if request_route.request.url.startswith(origin):
                request_route.continue_()
            else:
                self.blocked.append(request_route.request.url)
                request_route.abort()

        self.page.route("**/*", route)
        self.page.goto(url + query)
        self.page.wait_for_selector("body[data-ready='1']", timeout=60_000)

    @property
    def version(self) -> int:
        return int(self.page.evaluate("document.body.dataset.version"))

    def wait_version(self, version: int) -> None:
        self.page.wait_for_function(f"Number(document.body.dataset.version) >= {version}", timeout=60_000)

    def click_at(self, lon: float, lat: float) -> None:
        x, y = self.page.evaluate(
            f"(() => {{ const p = window.fcMap.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
        )
        box = self.page.locator("#map").bounding_box()
        self.page.mouse.click(box["x"] + x, box["y"] + y)

    def figures(self) -> dict:
        """The figures the page shows, with the exact values it keeps beside the text."""
        return self.page.evaluate(
            """() => ({
                shares: Object.fromEntries([...document.querySelectorAll('#coverage tr[data-minutes]')].map(
                    tr => [tr.dataset.minutes, [Number(tr.querySelector('.share').dataset.value),
                                                Number(tr.querySelector('.villages').dataset.value),
                                                tr.querySelector('.share').textContent]])),
                targets: Object.fromEntries([...document.querySelectorAll('#targets tr[data-target]')].map(
                    tr => [tr.dataset.target, [tr.dataset.status, tr.dataset.measured === undefined ? null : Number(tr.dataset.measured)]])),
                uncovered: [...document.querySelectorAll('#uncovered tr')].map(tr => tr.dataset.id),
                red: window.fcVillages.filter(v => !v.fcCovered).length,
            })"""
        )

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name))


def _shown_equal_library(shown: dict, view: dict, reference: dict) -> None:
    """What the page shows is the server's view, and the view is what the library computes."""
    assert_same_figures(view, reference)
    for row in view["thresholds"]:
        share, villages, text = shown["shares"][f"{row['minutes']:g}"]
        assert share == pytest.approx(row["population_share"], rel=1e-12)
        assert villages == row["villages_covered"]
        assert f"{100 * row['population_share']:.1f}%" in text
    for target_id, result in reference["targets"].items():
        status, measured = shown["targets"][target_id]
        assert status == result.status
        assert measured == (None if result.measured is None else pytest.approx(result.measured, rel=1e-9))
    outside = reference["villages"][~(reference["villages"]["minutes"] <= view["settings"]["minutes"])]
    assert shown["red"] == len(outside)


def _inland(workspace, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    x, y = shapely.get_coordinates(workspace.outline.representative_point())[0]
    return float(x + dx), float(y + dy)


def _near_uncovered(scenario: Scenario, n: int) -> tuple[float, float]:
    """Beside the n-th most populous village outside the circle (a station there changes the figures)."""
    village_id = scenario.view()["uncovered"][n]["id"]
    villages = scenario.workspace.base("car").villages
    point = villages.geometry[villages["id"] == village_id].iloc[0]
    return float(point.x) + 0.002, float(point.y) + 0.002


def test_add_move_and_remove_a_station_redraw_the_library_figures(browser, served, mwali_workspace, tmp_path):
    url, scenario = served
    opened = Page(browser, url)
    page = opened.page
    try:
        start = opened.figures()
        # click: a new station where the planner clicked
        lon, lat = _near_uncovered(scenario, 0)
        opened.click_at(lon, lat)
        opened.wait_version(1)
        new = scenario.stations["new-1"]
        # where the planner clicked, to the pixel
        assert new.lon == pytest.approx(lon, abs=1e-3)
        assert new.lat == pytest.approx(lat, abs=1e-3)
        added = opened.figures()
        assert added != start
        _shown_equal_library(added, scenario.view(), library_figures(scenario, mwali_inputs(tmp_path)))
        opened.screenshot("webapp_added.png")

        # drag it about 2 km
        marker = page.locator(".leaflet-marker-icon[title='new-1']")
        box = marker.bounding_box()
        target = page.evaluate(
            f"(() => {{ const p = window.fcMap.latLngToContainerPoint([{lat + 0.015}, {lon + 0.01}]); return [p.x, p.y]; }})()"
        )
        map_box = page.locator("#map").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(map_box["x"] + target[0], map_box["y"] + target[1], steps=8)
        page.mouse.up()
        opened.wait_version(2)
        assert scenario.stations["new-1"].lon == pytest.approx(lon + 0.01, abs=2e-3)
        assert scenario.stations["new-1"].lat == pytest.approx(lat + 0.015, abs=2e-3)
        _shown_equal_library(opened.figures(), scenario.view(), library_figures(scenario, mwali_inputs(tmp_path)))

        # click it, then "Remove": the figures are those of the start again
        marker.click()
        # a popup just closed may still be fading out: the button of the one opened
        page.locator(".leaflet-popup .fc-remove", has_text="Remove").last.click()
        opened.wait_version(3)
        assert "new-1" not in scenario.stations
        assert opened.figures() == start

        # an existing facility is closed from its popup, and reopened
        existing = next(s for s in scenario.stations.values() if s.origin == "existing")
        page.locator(f".leaflet-marker-icon[title='{existing.name}']").first.click()
        page.locator(".leaflet-popup .fc-remove", has_text="Close").last.click()
        opened.wait_version(4)
        assert not scenario.stations[existing.id].open
        assert page.locator(".fc-closed").count() == 1
        closed = opened.figures()
        assert closed["shares"] != start["shares"]
        opened.screenshot("webapp_closed.png")
        page.locator(".fc-closed").click()
        page.locator(".leaflet-popup button", has_text="Reopen").last.click()
        opened.wait_version(5)
        assert opened.figures() == start

        timings = page.evaluate("window.fcTimings")
        assert [t["action"] for t in timings] == ["add", "move", "remove", "remove", "reopen"]
        assert all(t["ms"] > 0 for t in timings)
        assert opened.errors == []
        assert opened.blocked == []
    finally:
        page.close()


def test_a_click_outside_the_region_is_refused_with_its_reason(browser, served, mwali_workspace):
    url, scenario = served
    opened = Page(browser, url)
    try:
        opened.page.evaluate("() => { window.fcMap.setZoom(9); }")
        opened.page.wait_for_timeout(300)
        west, south, _, _ = (float(v) for v in shapely.bounds(mwali_workspace.outline))
        opened.click_at(west - 0.15, south - 0.05)
        opened.page.wait_for_selector("#message.error", timeout=30_000)
        assert "outside the region Mwali" in opened.page.locator("#message").inner_text()
        assert opened.version == 0
        assert all(s.origin == "existing" for s in scenario.stations.values())
    finally:
        opened.page.close()


def test_suggested_sites_are_accepted_one_by_one(browser, served):
    url, scenario = served
    opened = Page(browser, url)
    page = opened.page
    try:
        before = opened.figures()["shares"]["15"][0]
        page.locator("#suggest").click()
        page.wait_for_selector("#suggestions tr[data-order='2']", timeout=120_000)
        assert page.locator(".fc-suggested").count() == 2
        opened.screenshot("webapp_suggested.png")
        page.locator("#suggestions tr[data-order='1'] button.accept").click()
        opened.wait_version(1)
        assert page.locator("#suggestions tr").count() == 1
        assert page.locator(".fc-suggested").count() == 1
        after = opened.figures()["shares"]["15"][0]
        assert after > before
        page.locator("#suggestions tr[data-order='2'] button.reject").click()
        page.wait_for_function("document.querySelectorAll('#suggestions tr').length === 0")
        assert [s.origin for s in scenario.stations.values()].count("new") == 1
        assert opened.errors == []
    finally:
        page.close()


def test_a_saved_scenario_reloads_in_the_page(browser, served, mwali_workspace):
    url, scenario = served
    opened = Page(browser, url)
    page = opened.page
    try:
        opened.click_at(*_near_uncovered(scenario, 0))
        opened.wait_version(1)
        saved = opened.figures()
        page.locator("#scenario-name").fill("east 东")
        page.locator("#save").click()
        page.wait_for_selector("#saved tr[data-name='east 东']")
        opened.click_at(*_near_uncovered(scenario, 0))
        opened.wait_version(2)
        assert opened.figures() != saved
        page.locator("#saved tr[data-name='east 东'] button.load").click()
        opened.wait_version(3)
        assert opened.figures() == saved
        assert scenario.name == "east 东"
        assert sorted(s for s in scenario.stations if s.startswith("new-")) == ["new-1"]
        # compared side by side with the current scenario
        page.locator("#saved tr[data-name='east 东'] input.compare-pick").check()
        page.locator("#compare-button").click()
        page.wait_for_selector("#compare table")
        assert page.locator("#compare th").count() == 3
        opened.screenshot("webapp_compare.png")
        assert opened.errors == []
    finally:
        page.close()


def test_the_page_speaks_chinese_and_shows_names_as_text(browser, served, mwali_workspace):
    url, scenario = served
    lon, lat = _inland(mwali_workspace)
    scenario.add(lon, lat, name=HOSTILE)
    opened = Page(browser, url, query="?lang=zh")
    page = opened.page
    try:
        assert "选址推演" in page.locator("h1").inner_text()
        assert "覆盖情况" in page.locator("#content").inner_text()
        statuses = {page.locator("#targets tr[data-target] td:first-child").nth(i).inner_text() for i in range(5)}
        assert statuses <= {"达标", "未达标", "无法评估", "基于假设", "不适用"}
        page.locator(".leaflet-marker-icon.fc-new").click()
        assert HOSTILE in page.locator(".leaflet-popup-content").inner_text()
        assert page.locator("img[src='x']").count() == 0
        assert page.evaluate("window.__xss") is None
        assert "OpenStreetMap contributors" in page.locator(".leaflet-control-attribution").inner_text()
        opened.screenshot("webapp_zh.png")
        assert opened.errors == []
    finally:
        page.close()
