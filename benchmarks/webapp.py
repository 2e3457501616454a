"""Benchmark of the what-if web app: click-to-redraw latency, driving the page with a real browser.

On the shipped default region (Comoros: 40 facilities, 167 villages, 203,208 populated
raster cells) it starts ``serve``'s app on uvicorn, opens the page in headless Chromium
(Debian's, through Playwright; every request outside the server aborted) and makes
edits as a planner would: clicks on the map that add a station beside a village,
drags of the new stations, and removals through a station's popup. The page records,
for each edit, the time from the user's action to the redrawn page (the answer
applied, the map and the panel drawn, two animation frames later): the figures are
its percentiles, with the server's own share. Target: p95 under 200 ms.

In the same run, the same station sets are replayed on the server side to compare the
incremental update (one bounded search from the changed station, combined with the
stored times) with the naive approach of recomputing from scratch (one multi-source
search over all the stations and the times of every village and cell, per analysis
the page needs), and with re-running ``analyze()`` for the scenario.

Run from the repository root::

    .venv/bin/python benchmarks/webapp.py                       # 60 edits, with the suizhou standard
    .venv/bin/python benchmarks/webapp.py --quick               # 15 edits
    .venv/bin/python benchmarks/webapp.py --standard none       # the map's figures only

Nothing is written into the repository: caches and saved scenarios go to temporary folders.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from coverage.analysis.run import analyze
from coverage.network.routing import nearest_facility, reach_points
from coverage.network.snapping import attach_points
from coverage.webapp.app import create_app
from coverage.webapp.files import ScenarioStore
from coverage.webapp.scenario import Scenario, Station
from coverage.webapp.server import ServerThread
from coverage.webapp.workspace import Workspace

logger = logging.getLogger(__name__)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TARGET_P95_MS = 200.0


def percentiles(values: Sequence[float]) -> str:
    """p50 / p90 / p95 / max of some milliseconds, as one line."""
    if not len(values):
        return "no samples"
    a = np.asarray(values, dtype=float)
    return (
        f"p50 {np.percentile(a, 50):7.1f}  p90 {np.percentile(a, 90):7.1f}  "
        f"p95 {np.percentile(a, 95):7.1f}  max {a.max():7.1f}  (n={len(a)})"
    )


def from_scratch(scenario: Scenario) -> None:
    """The naive update: per analysis the page needs, attach every station and search from all of them anew."""
    for key in dict.fromkeys([scenario.main_key, *scenario.target_keys()]):
        profile, direction, _ = key
        base = scenario.workspace.base(profile)
        stations = scenario.stations_for(key)
        if stations.empty:
            continue
        attached = attach_points(
            base.network,
            stations,
            access_speed_kph=base.profile.facility_access_speed_kph,
            tolerance_m=base.profile.snap_tolerance_m,
        )
        reach = nearest_facility(base.network, attached, direction=direction)  # type: ignore[arg-type]
        for name in ("villages", "cells"):
            if name in base.attachments:
                reach_points(base.network, reach, base.attachments[name])


def drive(url: str, scenario: Scenario, *, edits: int, seed: int) -> tuple[list[dict], list[dict[str, Station]]]:
    """Edit the scenario through the page; the page's timings and the station sets after each edit."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    rng = np.random.default_rng(seed)
    villages = scenario.workspace.base(scenario.main_key[0]).villages
    # beside the villages, off their markers
    spots = [(float(g.x) + 0.006, float(g.y) + 0.004) for g in villages.geometry]
    history: list[dict[str, Station]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        origin = url.rstrip("/")
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(origin) else r.abort())
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        box = page.locator("#map").bounding_box()
        assert box is not None

        def point(lon: float, lat: float) -> tuple[float, float]:
            x, y = page.evaluate(
                f"(() => {{ const p = window.fcMap.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
            )
            return box["x"] + x, box["y"] + y

        def visible(x: float, y: float) -> bool:
            return (
                box["x"] + 400 < x < box["x"] + box["width"] - 20 and box["y"] + 80 < y < box["y"] + box["height"] - 40
            )

        version = 0
        while version < edits:
            page.evaluate("() => { window.fcMap.closePopup(); }")
            new = [s for s in scenario.stations.values() if s.origin == "new"]
            action = rng.choice(["add", "add", "move", "remove"]) if new else "add"
            if action == "add":
                lon, lat = spots[int(rng.integers(len(spots)))]
                x, y = point(lon, lat)
                if not visible(x, y):
                    continue
                page.mouse.click(x, y)
            else:
                station = new[int(rng.integers(len(new)))]
                marker = page.locator(f".leaflet-marker-icon[title='{station.name}']")
                if action == "move":
                    start = marker.bounding_box()
                    lon, lat = spots[int(rng.integers(len(spots)))]
                    x, y = point(lon, lat)
                    if start is None or not visible(x, y):
                        continue
                    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
                    page.mouse.down()
                    page.mouse.move(x, y, steps=4)
                    page.mouse.up()
                else:
                    try:
                        marker.click(timeout=5_000)
                        # the popup being opened (one closing may still fade out)
                        page.locator(".leaflet-popup .fc-remove", has_text="Remove").last.click(timeout=5_000)
                    except PlaywrightError:
                        continue
            # the answer, or a click that did not edit (a village's popup, a place refused): then try another
            try:
                page.wait_for_function(
                    f"Number(document.body.dataset.version) > {version} || document.querySelector('.leaflet-popup') "
                    "|| document.getElementById('message').className === 'error'",
                    timeout=30_000,
                )
            except PlaywrightTimeout:
                logger.warning("%s: no answer within 30 s, trying another edit", action)
            logger.info("%s -> version %s", action, page.evaluate("document.body.dataset.version"))
            if int(page.evaluate("Number(document.body.dataset.version)")) <= version:
                page.evaluate("() => { window.fcMap.closePopup(); }")
                continue
            version += 1
            history.append(dict(scenario.stations))
        timings = page.evaluate("window.fcTimings")
        browser.close()
    return timings, history


def replay(workspace: Workspace, settings: dict, history: list[dict[str, Station]]) -> tuple[list[float], list[float]]:
    """Milliseconds of each edit's incremental update and of the naive from-scratch recompute, same station sets."""
    scenario = Scenario(workspace, **settings)
    incremental, naive = [], []
    for stations in history:
        started = time.perf_counter()
        scenario._edit(stations)
        incremental.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        from_scratch(scenario)
        naive.append((time.perf_counter() - started) * 1e3)
    return incremental, naive


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 edits instead of 60")
    parser.add_argument("--edits", type=int, help="number of edits (default 60, 15 with --quick)")
    parser.add_argument(
        "--standard", default="suizhou", help="standard judged at each click, or 'none' (default: suizhou)"
    )
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    logging.getLogger("coverage").setLevel(logging.ERROR)
    logger.setLevel(logging.INFO if os.environ.get("BENCH_DEBUG") else logging.WARNING)
    if not Path(CHROMIUM).exists():
        print(f"Chromium is not at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)", file=sys.stderr)
        return 2
    edits = args.edits or (15 if args.quick else 60)
    standard = None if args.standard == "none" else args.standard
    print(
        f"what-if web app benchmark, {datetime.date.today().isoformat()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (other programs' work slows every figure)"
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        workspace = Workspace({"cache_dir": Path(folder) / "cache"}, standards=[standard] if standard else None)
        settings = {"minutes": 30.0, "standard": standard}
        scenario = Scenario(workspace, **settings)
        loaded = time.perf_counter() - started
        base = workspace.base("car")
        cells = 0 if base.cells is None else len(base.cells)
        print(
            f"region {workspace.region}: {base.network.n_nodes:,} nodes, {base.network.n_segments:,} road pieces, "
            f"{len(base.facilities)} facilities, {len(base.villages)} villages, {cells:,} cells; "
            f"standard {standard or 'none'} ({len(scenario.target_keys())} target analyses); loaded in {loaded:.1f} s"
        )
        app = create_app(scenario, store=ScenarioStore(Path(folder) / "scenarios"), basemap="none")
        with ServerThread(app) as server:
            timings, history = drive(server.url, scenario, edits=edits, seed=args.seed)
        print(f"\nclick to redraw in Chromium, ms ({edits} edits)")
        for action in ("add", "move", "remove"):
            chosen = [t["ms"] for t in timings if t["action"] == action]
            print(f"  {action:<7} {percentiles(chosen)}")
        every = [t["ms"] for t in timings]
        print(f"  {'all':<7} {percentiles(every)}")
        print(f"  answer  {percentiles([t['network_ms'] for t in timings])}   (request sent to answer read)")
        print(f"  server  {percentiles([t['server_ms'] for t in timings])}   (update + figures, in the answer)")
        incremental, naive = replay(workspace, settings, history)
        print("\nserver-side update of the times, same station sets, ms")
        print(f"  incremental (one bounded search per changed station)  {percentiles(incremental)}")
        print(f"  from scratch (one multi-source search per analysis)   {percentiles(naive)}")
        started = time.perf_counter()
        analyze(
            facilities=scenario.open_frame()[["id", "name", "kind", "geometry"]],
            per_facility_isochrones=False,
            cache_dir=Path(folder) / "cache",
        )
        print(
            f"  re-running analyze() for the last scenario            {(time.perf_counter() - started) * 1e3:7.0f} ms (once)"
        )
        p95 = float(np.percentile(every, 95))
        verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
        print(f"\ntarget p95 < {TARGET_P95_MS:.0f} ms click to redraw: {p95:.0f} ms, {verdict}")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
