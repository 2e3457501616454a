"""Benchmarks of the travel-time surface, side by side with today's method in one run.

"Today's method" is the library as it was before the surface: the revision
``BASELINE`` of this repository, taken from git history (``git archive``) into a
temporary folder and run from there with the same Python environment, its own
``data/`` and an empty cache of its own. Every figure runs in a fresh process
(``--worker``), so the imports, the caches on disk and the peak memory are those of
a real run, and a process's in-memory caches do not flatter a "warm" figure.

Run from the repository root (needs ``git`` and the repository's history)::

    .venv/bin/python benchmarks/surface.py            # everything, about 14 minutes on 2 cores
    .venv/bin/python benchmarks/surface.py --quick    # without today's per-facility polygons (Porto, the city)
    .venv/bin/python benchmarks/surface.py --only city --quick

The inputs of the Porto cases are drawn on the Porto bench graph's own roads with a
fixed seed (see ``benchmarks/README.md``). Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: The last revision before the travel-time surface: today's method.
BASELINE = "1f975eac142f7266eeb12e0bc181faedc61e53d9"
PORTO_PBF = REPO.parent / "shared" / "data" / "bench-porto" / "porto_portugal.osm.pbf"
SEED = 20240601
THRESHOLDS = (10.0, 15.0, 30.0)
#: The city case of the issue: a whole city's facilities and places.
CITY_FACILITIES, CITY_PLACES = 7_487, 15_000
PORTO_FACILITIES, PORTO_PLACES = 50, 2_000
# benchmarks/run.py, beside this script: the loading, timing and reporting helpers of every benchmark
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

#: Facilities of the isochrone comparison (as in benchmarks/run.py).
ISOCHRONE_FACILITIES = 100
#: Cell sides of the scaling run: about 1x, 2x and 4x the cells.
SCALING_CELLS_M = (200.0, 141.4, 100.0)
#: The parts of the run, in order (``--only``).
SECTIONS = ("default", "isochrones", "porto", "scaling", "city")
#: Facilities whose corridor polygons are timed to estimate today's per-facility polygons on the city.
CITY_PER_FACILITY_SAMPLE = 100


# --------------------------------------------------------------------------- the worker (a fresh process per figure)


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def _analysis_figures(result: Any) -> dict[str, Any]:
    summary = result.summary()
    iso = result.isochrones.set_index("minutes")
    return {
        "covered": {str(row["minutes"]): row.get("population_covered") for row in summary["thresholds"]},
        "isochrone_population": {str(m): float(iso.loc[m, "population"]) for m in iso.index},
        "isochrone_km2": {str(m): float(iso.loc[m, "area_km2"]) for m in iso.index},
        "cells": None if result.cells is None else len(result.cells),
        "villages": len(result.villages),
        "facilities": len(result.facilities),
    }


def worker(task: str, options: dict[str, Any]) -> dict[str, Any]:
    """Run one measured task in this process and return its figures."""
    import logging

    # the library is imported before the clock starts: imports cost the same in every run
    import coverage.analysis.run
    import coverage.cli.main
    import coverage.outputs.files

    logging.basicConfig(level=logging.ERROR)
    started, cpu = time.perf_counter(), time.process_time()
    figures: dict[str, Any] = {}
    if task == "analyze":
        result = coverage.analysis.run.analyze(**options["kwargs"])
        figures = _analysis_figures(result)
        if options.get("out"):
            coverage.outputs.files.write_outputs(result, options["out"])
    elif task == "cli":
        figures["exit"] = coverage.cli.main.main(options["argv"])
    elif task == "porto_isochrones":
        figures = _porto_isochrones(options)
    elif task == "scaling":
        figures = _scaling(options)
    elif task == "per_facility_sample":
        figures = _per_facility_sample(options)
    else:
        msg = f"unknown task {task}"
        raise ValueError(msg)
    return {
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "peak_mb": _peak_mb(),
        **figures,
    }


def _porto_reach(cache_dir: str, n_facilities: int) -> tuple[Any, Any, Any]:
    import shapely

    from coverage.network.profiles import load_profile
    from coverage.network.routing import nearest_facility
    from coverage.network.snapping import attach_points
    from coverage.network.sources import load_network

    car = load_profile("car")
    network = load_network(PORTO_PBF, profile=car, cache_dir=cache_dir)
    nodes = bench.random_nodes(network, n_facilities, seed=SEED)
    import geopandas as gpd

    points = gpd.GeoSeries(shapely.points(network.node_xy[nodes]), crs=network.crs)
    facilities = attach_points(network, points, access_speed_kph=car.access_speed_kph, tolerance_m=car.snap_tolerance_m)
    reach = nearest_facility(network, facilities, direction="from_facility")
    return network, reach, shapely.get_coordinates(points.values)


def _surface(network: Any, reach: Any, facility_xy: Any, cell_m: float, cache_dir: str) -> Any:
    import numpy as np

    from coverage.analysis.grid import grid_of_cells
    from coverage.analysis.surface import travel_time_surface
    from coverage.network.profiles import load_profile

    car = load_profile("car")
    west, south = network.node_xy.min(axis=0) - car.snap_tolerance_m
    east, north = network.node_xy.max(axis=0) + car.snap_tolerance_m
    grid = grid_of_cells(network.crs, bounds=(west, south, east, north), cell_m=cell_m)
    return travel_time_surface(
        network,
        reach,
        grid=grid,
        inside=np.ones(grid.shape, dtype=bool),
        facility_xy=facility_xy,
        access_speed_kph=car.access_speed_kph,
        tolerance_m=car.snap_tolerance_m,
        within_reach_of_roads=True,
        cache_dir=cache_dir,
    )


def _timed(func: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def _porto_isochrones(options: dict[str, Any]) -> dict[str, Any]:
    """Three dissolved thresholds on Porto: the road corridors beside the surface's cells."""
    from coverage.analysis import areas
    from coverage.analysis.isochrones import isochrones
    from coverage.analysis.surface import _memory

    network, reach, facility_xy = _porto_reach(options["cache_dir"], ISOCHRONE_FACILITIES)
    corridor_s, corridor = _timed(lambda: isochrones(network, reach, minutes=THRESHOLDS))
    first_s, surface = _timed(lambda: _surface(network, reach, facility_xy, 100.0, options["cache_dir"]))
    _memory.clear()
    again_s, surface = _timed(lambda: _surface(network, reach, facility_xy, 100.0, options["cache_dir"]))
    areas_s, iso = _timed(lambda: areas.isochrone_areas(surface, minutes=THRESHOLDS))
    return {
        "corridor_s": corridor_s,
        "corridor_km2": [float(a) for a in corridor["area_km2"]],
        "surface_first_s": first_s,
        "surface_cached_s": again_s,
        "areas_s": areas_s,
        "surface_km2": [float(a) for a in iso["area_km2"]],
        "cells": len(surface),
    }


def _scaling(options: dict[str, Any]) -> dict[str, Any]:
    """Isochrone areas and catchments on Porto at three cell sizes (about 1x, 2x, 4x the cells)."""
    import geopandas as gpd
    import shapely

    from coverage.analysis import areas

    network, reach, facility_xy = _porto_reach(options["cache_dir"], ISOCHRONE_FACILITIES)
    facilities = gpd.GeoDataFrame(
        {
            "id": [f"F{i}" for i in range(len(facility_xy))],
            "name": [f"F{i}" for i in range(len(facility_xy))],
            "kind": "clinic",
        },
        geometry=shapely.points(facility_xy),
        crs=network.crs,
    )
    rows = []
    for cell_m in SCALING_CELLS_M:
        surface = _surface(network, reach, facility_xy, cell_m, options["cache_dir"])
        iso_s, _ = _timed(lambda surface=surface: areas.isochrone_areas(surface, minutes=THRESHOLDS))
        catch_s, _ = _timed(lambda surface=surface: areas.catchments(surface, facilities, minutes=THRESHOLDS))
        rows.append({"cell_m": cell_m, "cells": len(surface), "isochrones_s": iso_s, "catchments_s": catch_s})
    return {"rows": rows}


def _per_facility_sample(options: dict[str, Any]) -> dict[str, Any]:
    """Today's per-facility corridor polygons for a sample of the city's facilities (to estimate the whole)."""
    import geopandas as gpd
    import pandas as pd

    from coverage.analysis.isochrones import facility_isochrones
    from coverage.network.profiles import load_profile
    from coverage.network.snapping import attach_points
    from coverage.network.sources import load_network

    car = load_profile("car")
    network = load_network(PORTO_PBF, profile=car, cache_dir=options["cache_dir"])
    table = pd.read_csv(options["facilities"]).head(options["sample"])
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326)
    attached = attach_points(network, points, access_speed_kph=car.access_speed_kph, tolerance_m=car.snap_tolerance_m)
    seconds, polygons = _timed(
        lambda: facility_isochrones(network, attached, minutes=THRESHOLDS, direction="to_facility")
    )
    return {"sample_s": seconds, "polygons": len(polygons)}


# --------------------------------------------------------------------------- the parent: inputs, runs, table


@dataclass
class Code:
    """A version of the library to run: its PYTHONPATH (None: this checkout) and its own cache folder."""

    name: str
    pythonpath: str | None
    cache_dir: str


def run(code: Code, task: str, options: dict[str, Any], *, timeout_s: float = 3600) -> dict[str, Any]:
    """Run a task in a fresh process of ``code``; its figures, or ``{"error": ...}``."""
    env = dict(os.environ)
    env["FACILITY_COVERAGE_CACHE"] = code.cache_dir
    if code.pythonpath:
        env["PYTHONPATH"] = code.pythonpath
    else:
        env.pop("PYTHONPATH", None)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", task, json.dumps(options)]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout_s, cwd=tempfile.gettempdir(), check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout_s:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " / ".join(tail) or f"exit {done.returncode}"}
    result = json.loads(lines[-1].removeprefix("RESULT "))
    result["stderr"] = done.stderr
    return result


def baseline_code(workspace: Path, revision: str) -> Code | None:
    """Today's library, extracted from git history into ``workspace/baseline``; None when git cannot."""
    folder = workspace / "baseline"
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "coverage", "data"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return Code("today", str(folder), str(workspace / "cache-today"))


def write_points(
    path: Path, points: Any, *, prefix: str, kind: str | None = None, population: float | None = None
) -> Path:
    """Points as a CSV a planner would give (id, name, kind or population, lon, lat)."""
    import pandas as pd

    lonlat = points.to_crs(4326)
    table = pd.DataFrame(
        {"id": [f"{prefix}{i}" for i in range(len(points))], "name": [f"{prefix}{i}" for i in range(len(points))]}
    )
    if kind is not None:
        table["kind"] = kind
    if population is not None:
        table["population"] = population
    table["lon"] = lonlat.x.to_numpy()
    table["lat"] = lonlat.y.to_numpy()
    table.to_csv(path, index=False)
    return path


def porto_inputs(workspace: Path, cache_dir: str) -> dict[str, Path]:
    """The Porto cases' points, drawn on the bench graph's roads with a fixed seed."""
    from coverage.network.sources import load_network

    network = load_network(PORTO_PBF, cache_dir=cache_dir)
    draws = {
        "facilities50": (PORTO_FACILITIES, 0.0, "F", "clinic", None),
        "villages2000": (PORTO_PLACES, 50.0, "V", None, 500.0),
        "facilities7487": (CITY_FACILITIES, 0.0, "F", "clinic", None),
        "places15000": (CITY_PLACES, 50.0, "P", None, 100.0),
    }
    paths = {}
    for i, (name, (n, offset, prefix, kind, population)) in enumerate(draws.items()):
        points = bench.random_road_points(network, n, seed=SEED + 10 + i, offset_m=offset)
        paths[name] = write_points(workspace / f"{name}.csv", points, prefix=prefix, kind=kind, population=population)
    return paths


def seconds_text(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


class Table:
    """The figures as they come: measure, ours, today's, ratio, target."""

    widths = (60, 12, 12, 9, 0)

    def __init__(self) -> None:
        self.line(("measure", "ours", "today's", "today/ours", "detail"))
        self.line(tuple("-" * max(w, 6) for w in self.widths))

    def line(self, cells: Sequence[str]) -> None:
        print("  ".join(c.ljust(w) for c, w in zip(cells, self.widths, strict=True)).rstrip(), flush=True)

    def row(self, measure: str, ours: float | None, today: float | None, detail: str = "") -> None:
        ratio = f"{today / ours:.1f}x" if ours and today else "–"
        self.line((measure, seconds_text(ours), seconds_text(today), ratio, detail))

    def note(self, text: str) -> None:
        self.line((f"({text})", "", "", "", ""))


def loaded() -> bool:
    """The machine runs other work: more runnable processes than cores (wall-clock times are inflated)."""
    return hasattr(os, "getloadavg") and os.getloadavg()[0] > (os.cpu_count() or 1)


def target(ok: bool, text: str) -> str:
    return f"target {text}: {'met' if ok else 'MISSED'}"


def timed_target(result: dict[str, Any], limit_s: float, text: str) -> str:
    """A time target judged on wall-clock time, or on CPU time (said so) when other work loads the machine."""
    if loaded():
        return f"{target(result['cpu_s'] < limit_s, text)} on CPU time (machine loaded; wall {result['wall_s']:.1f} s)"
    return target(result["wall_s"] < limit_s, text)


def _value(result: dict[str, Any], key: str = "wall_s") -> float | None:
    return None if "error" in result else result[key]


def _fail(table: Table, what: str, result: dict[str, Any]) -> bool:
    if "error" in result:
        table.note(f"{what} FAILED: {result['error']}")
        return True
    return False


def default_region(table: Table, ours: Code, today: Code | None) -> None:
    """analyze() on the default region: a first run and a second one (fresh processes), and check."""
    results = {}
    for code in [c for c in (ours, today) if c is not None]:
        kwargs: dict[str, Any] = {"cache_dir": code.cache_dir}
        results[code.name] = [run(code, "analyze", {"kwargs": kwargs}) for _ in range(2)]
    mine = results["ours"]
    theirs = results.get("today", [{"error": "no baseline"}] * 2)
    if _fail(table, "default region analyze", mine[0]) or _fail(table, "default region analyze", mine[1]):
        return
    table.row(
        "default region analyze(), first run (empty caches)",
        mine[0]["wall_s"],
        _value(theirs[0]),
        f"CPU {mine[0]['cpu_s']:.2f} s (today {theirs[0].get('cpu_s', 0):.2f} s)",
    )
    table.row(
        "default region analyze(), second run (fresh process)",
        mine[1]["wall_s"],
        _value(theirs[1]),
        f"CPU {mine[1]['cpu_s']:.2f} s (today {theirs[1].get('cpu_s', 0):.2f} s); {timed_target(mine[1], 3, '< 3 s')}",
    )
    key = "cpu_s" if loaded() else "wall_s"
    ratio = mine[0][key] / mine[1][key]
    old_ratio = (
        f"; today {theirs[0][key] / theirs[1][key]:.2f}x"
        if "error" not in theirs[0] and "error" not in theirs[1]
        else ""
    )
    table.line(
        ("  first / second run", f"{ratio:.2f}x", "", "", f"{target(ratio >= 3, '>= 3x')} ({key[:-2]} time){old_ratio}")
    )
    figures = mine[1]
    for t in THRESHOLDS:
        key = str(t)
        iso, covered = figures["isochrone_population"][key], figures["covered"][key]
        before = (
            ""
            if "error" in theirs[1]
            else f" (today's corridor: {theirs[1]['isochrone_population'][key]:,.0f} people on {theirs[1]['isochrone_km2'][key]:,.0f} km²)"
        )
        table.line(
            (
                f"  {t:g}-min area: people inside / headline covered",
                f"{iso:,.0f}",
                f"{covered:,.0f}",
                "",
                f"{figures['isochrone_km2'][key]:,.0f} km²{before}",
            )
        )
    checks: dict[str, list[dict[str, Any]]] = {}
    for code in [c for c in (ours, today) if c is not None]:
        out = str(Path(code.cache_dir).parent / f"check-{code.name}")
        # the first run builds the ambulance and walk networks (and, for ours, their cells' snapping)
        checks[code.name] = [run(code, "cli", {"argv": ["-q", "check", "--out", out]}) for _ in range(2)]
    mine_check = checks["ours"]
    theirs_check = checks.get("today", [{"error": "no baseline"}] * 2)
    if not _fail(table, "check", mine_check[0]) and not _fail(table, "check", mine_check[1]):
        table.row(
            "check, the five presets, first run (empty caches but the car's)",
            mine_check[0]["wall_s"],
            _value(theirs_check[0]),
            f"CPU {mine_check[0]['cpu_s']:.2f} s (today {theirs_check[0].get('cpu_s', 0):.2f} s)",
        )
        table.row(
            "check, the five presets, second run",
            mine_check[1]["wall_s"],
            _value(theirs_check[1]),
            f"CPU {mine_check[1]['cpu_s']:.2f} s (today {theirs_check[1].get('cpu_s', 0):.2f} s); "
            + timed_target(mine_check[1], 8, "< 8 s"),
        )


def porto_isochrones(table: Table, ours: Code) -> None:
    result = run(ours, "porto_isochrones", {"cache_dir": ours.cache_dir})
    if _fail(table, "Porto isochrones", result):
        return
    corridor, areas = result["corridor_s"], result["areas_s"]
    km2 = ", ".join(f"{a:,.0f}" for a in result["surface_km2"])
    old_km2 = ", ".join(f"{a:,.0f}" for a in result["corridor_km2"])
    table.row(
        "Porto: 3 dissolved isochrones, surface cells vs road corridors",
        areas,
        corridor,
        f"{ISOCHRONE_FACILITIES} facilities; {target(areas < 2, '< 2 s')}; areas {km2} km² (corridors {old_km2})",
    )
    table.row(
        "  with the surface computed: cells snapped, first run",
        result["surface_first_s"] + areas,
        corridor,
        f"{result['cells']:,} cells of 100 m",
    )
    table.row("  with the surface computed: snapping from the cache", result["surface_cached_s"] + areas, corridor, "")


def porto_analyze(table: Table, ours: Code, today: Code | None, inputs: dict[str, Path], *, quick: bool) -> None:
    kwargs = {
        "osm": str(PORTO_PBF),
        "facilities": str(inputs["facilities50"]),
        "villages": str(inputs["villages2000"]),
    }
    mine = run(ours, "analyze", {"kwargs": {**kwargs, "cache_dir": ours.cache_dir}})
    if _fail(table, "Porto analyze", mine):
        return
    theirs: dict[str, Any] = {"error": "no baseline"}
    if today is not None and not quick:
        theirs = run(today, "analyze", {"kwargs": {**kwargs, "cache_dir": today.cache_dir}})
    lean: dict[str, Any] = {"error": "no baseline"}
    if today is not None:
        lean = run(
            today, "analyze", {"kwargs": {**kwargs, "cache_dir": today.cache_dir, "per_facility_isochrones": False}}
        )
    table.row(
        f"Porto analyze(), {PORTO_FACILITIES} facilities, {PORTO_PLACES:,} places, catchments",
        mine["wall_s"],
        _value(theirs),
        f"CPU {mine['cpu_s']:.2f} s; {timed_target(mine, 10, '< 10 s')}"
        + ("; today's run skipped (--quick)" if quick else "; today's default: per-facility polygons"),
    )
    table.row("  today without per-facility polygons", mine["wall_s"], _value(lean), "")


def scaling(table: Table, ours: Code) -> None:
    result = run(ours, "scaling", {"cache_dir": ours.cache_dir})
    if _fail(table, "scaling", result):
        return
    rows = result["rows"]
    base = rows[0]
    for row in rows:
        cells = row["cells"] / base["cells"]
        iso = row["isochrones_s"] / base["isochrones_s"]
        catch = row["catchments_s"] / base["catchments_s"]
        table.line(
            (
                f"  Porto {row['cell_m']:g} m cells: isochrones + catchments",
                seconds_text(row["isochrones_s"] + row["catchments_s"]),
                "",
                "",
                f"{row['cells']:,} cells ({cells:.2f}x): isochrones {iso:.2f}x, catchments {catch:.2f}x; "
                + target(iso <= cells * 1.1 and catch <= cells * 1.1, "growth <= cells"),
            )
        )


def city(
    table: Table, ours: Code, today: Code | None, inputs: dict[str, Path], workspace: Path, *, quick: bool
) -> None:
    """The city's first run (empty caches on both sides): what a planner waits for, with its progress lines."""
    ours = Code(ours.name, ours.pythonpath, str(workspace / "city-cache-ours"))
    today = Code(today.name, today.pythonpath, str(workspace / "city-cache-today")) if today is not None else None
    argv = [
        "analyze",
        str(PORTO_PBF),
        "--facilities",
        str(inputs["facilities7487"]),
        "--villages",
        str(inputs["places15000"]),
    ]
    mine = run(ours, "cli", {"argv": [*argv, "--out", str(workspace / "city-ours")]})
    if _fail(table, "city", mine):
        return
    theirs: dict[str, Any] = {"error": "no baseline"}
    estimate: dict[str, Any] = {"error": "no baseline"}
    if today is not None:
        theirs = run(
            today, "cli", {"argv": [*argv, "--no-facility-isochrones", "--out", str(workspace / "city-today")]}
        )
    if today is not None and not quick:
        estimate = run(
            today,
            "per_facility_sample",
            {
                "cache_dir": today.cache_dir,
                "facilities": str(inputs["facilities7487"]),
                "sample": CITY_PER_FACILITY_SAMPLE,
            },
        )
    table.row(
        f"city: {CITY_FACILITIES:,} facilities, {CITY_PLACES:,} places, first run, analyze + write",
        mine["wall_s"],
        _value(theirs),
        f"CPU {mine['cpu_s']:.1f} s; peak {mine['peak_mb']:,.0f} MB (today {theirs.get('peak_mb', 0):,.0f} MB, "
        f"without per-facility polygons); {timed_target(mine, 60, '< 60 s')}; {target(mine['peak_mb'] < 2048, '< 2 GB')}",
    )
    if "error" not in estimate:
        whole = estimate["sample_s"] * CITY_FACILITIES / CITY_PER_FACILITY_SAMPLE
        table.row(
            "  today's default adds per-facility polygons (estimated)",
            mine["wall_s"],
            whole + _value(theirs) if _value(theirs) else None,
            f"{estimate['sample_s']:.1f} s for {CITY_PER_FACILITY_SAMPLE} facilities, scaled to {CITY_FACILITIES:,}",
        )
    lines = [line for line in mine["stderr"].splitlines() if line.startswith(("[", "      "))]
    table.line(
        ("  progress printed off a terminal", f"{len(lines)} lines", "", "", (lines[-1].strip() if lines else "none"))
    )


def machine() -> str:
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM"
    load = f"; load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}{load}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip today's per-facility polygons on Porto (minutes)")
    parser.add_argument("--baseline", default=BASELINE, help="revision of today's method (default: %(default).12s)")
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this part (repeatable): " + ", ".join(SECTIONS),
    )
    parser.add_argument("--worker", nargs=2, metavar=("TASK", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        task, options = args.worker
        print("RESULT " + json.dumps(worker(task, json.loads(options))))
        return 0
    if not PORTO_PBF.exists():
        print(
            f"the Porto bench graph is missing ({os.path.relpath(PORTO_PBF, REPO)}); it is needed here", file=sys.stderr
        )
        return 2
    started = time.perf_counter()
    print(f"travel-time surface benchmarks, {datetime.date.today().isoformat()}{' (--quick)' if args.quick else ''}")
    print(machine())
    print("wall-clock times of the measured call, each in a fresh process; 'today' is revision " + args.baseline[:12])
    print()
    with tempfile.TemporaryDirectory(prefix="coverage-bench-surface-") as folder:
        workspace = Path(folder)
        ours = Code("ours", None, str(workspace / "cache-ours"))
        today = baseline_code(workspace, args.baseline)
        table = Table()
        if today is None:
            table.note(f"today's method not available: git cannot read revision {args.baseline[:12]}")
        inputs = porto_inputs(workspace, ours.cache_dir)
        chosen = set(args.only or SECTIONS)
        if "default" in chosen:
            default_region(table, ours, today)
        if "isochrones" in chosen:
            porto_isochrones(table, ours)
        if "porto" in chosen:
            porto_analyze(table, ours, today, inputs, quick=args.quick)
        if "scaling" in chosen:
            scaling(table, ours)
        if "city" in chosen:
            city(table, ours, today, inputs, workspace, quick=args.quick)
    print()
    print(f"whole run {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
