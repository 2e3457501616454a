"""One region's task, run on a Dask worker: analyze, check, map, written to the region's folder.

A task gets a :class:`RegionTask` (plain data), computes the region, writes its
folder through a staging folder and ``done.json`` last, and returns the region's
figures; a failure becomes :class:`RegionFailed` with the time and memory it used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from coverage.analysis.calibration import PopulationCalibration
from coverage.analysis.run import analyze
from coverage.analysis.totals import PopulationTotals
from coverage.batch.extracts import clip_population
from coverage.io.points import PointColumns
from coverage.outputs.files import STANDARDS_CSV, STANDARDS_JSON, staged, write_json

if TYPE_CHECKING:
    from coverage.standards.assessment import Assessment

logger = logging.getLogger(__name__)

DONE_JSON = "done.json"


MAP_HTML = "map.html"


OK = "ok"


FAILED = "failed"


SKIPPED = "skipped"


class RegionFailed(RuntimeError):
    """One region's task failed; carries the time and memory it used, for the summary."""

    def __init__(self, message: str, seconds: float, peak_memory_mb: float | None) -> None:
        super().__init__(message, seconds, peak_memory_mb)
        self.message = message
        self.seconds = seconds
        self.peak_memory_mb = peak_memory_mb

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class RegionTask:
    """Everything one region's task needs, as plain data sent to a worker.

    Paths must be readable (and ``folder``, ``aux_dir`` writable) on the worker: with
    a cluster of several machines, put them on a shared file system.
    """

    region_id: str
    name: str
    geometry_wkb: bytes
    area_wkb: bytes
    extract: str
    folder: str
    aux_dir: str
    key: str
    facilities: str | None
    villages: str | None
    population: str | None
    population_window: str | None
    outline: str
    standards: tuple[str, ...]
    options: dict[str, Any]
    record: dict[str, Any]
    population_total: float | None = None
    population_totals_source: str = "the population totals"


class _PeakMemory:
    """Peak resident memory of this process while a task runs.

    On Linux the kernel's high-water mark is reset at the start (``/proc/self/clear_refs``)
    and read at the end; elsewhere a thread samples the resident size with psutil.
    """

    def __enter__(self) -> _PeakMemory:
        self._sampled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            self._kernel = True
        except OSError:
            self._kernel = False
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        import psutil

        process = psutil.Process()
        while not self._stop.is_set():
            self._sampled = max(self._sampled, process.memory_info().rss)
            self._stop.wait(0.05)

    def peak_mb(self) -> float | None:
        if self._kernel:
            try:
                with open("/proc/self/status") as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            return round(int(line.split()[1]) / 1024, 1)
            except OSError:
                return None
        return round(self._sampled / 2**20, 1) if self._sampled else None

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)


class _RegionFailureFilter(logging.Filter):
    """Drops a worker's "Compute Failed" record of a RegionFailed: the batch records the error itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        failed_region = any(isinstance(arg, str) and arg.startswith(f"{RegionFailed.__name__}(") for arg in args)
        return not (str(record.msg).startswith("Compute Failed") and failed_region)


def _quiet_region_failures() -> None:
    """Keep a worker's log free of a traceback per attempt of every region with unusable data."""
    worker_logger = logging.getLogger("distributed.worker")
    if not any(isinstance(f, _RegionFailureFilter) for f in worker_logger.filters):
        worker_logger.addFilter(_RegionFailureFilter())


def run_region(task: RegionTask) -> dict[str, Any]:
    """Analyse one region and write its folder; the function each Dask task runs.

    Returns
    -------
    dict
        The region's row of the summary.

    Raises
    ------
    RegionFailed
        Whatever went wrong, with the time and memory used.
    """
    _quiet_region_failures()
    started = time.perf_counter()
    with _PeakMemory() as memory:
        try:
            row = _compute_region(task)
            row.update(seconds=round(time.perf_counter() - started, 2), peak_memory_mb=memory.peak_mb())
            # last, and atomically: a region counts as finished only once its key is stored
            done = Path(task.folder) / DONE_JSON
            partial = done.with_name(f".{DONE_JSON}.partial")
            write_json(
                {"key": task.key, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **task.record, "row": row}, partial
            )
            os.replace(partial, done)
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            raise RegionFailed(message, round(time.perf_counter() - started, 2), memory.peak_mb()) from error
    return row


def _points_within(
    path: str, area: shapely.Geometry, *, datum: str, what: str, region: str, columns: PointColumns | None
) -> gpd.GeoDataFrame:
    """The points of a batch-wide file near one region (the analysis then flags and cuts them exactly)."""
    from coverage.io.points import read_points

    columns = columns or PointColumns()
    points = read_points(
        path,
        datum=datum,
        what=what,
        lon_column=columns.lon,
        lat_column=columns.lat,
        id_column=columns.id,
        crs=columns.crs,
        options=columns.options,
    )
    inside = points[points.within(area)]
    if len(inside) < len(points):
        logger.info("%s: %d of %d %s of %s lie in this region", region, len(inside), len(points), what, Path(path).name)
    return inside.reset_index(drop=True)


def _compute_region(task: RegionTask) -> dict[str, Any]:
    from coverage.outputs.files import write_assessment, write_outputs
    from coverage.outputs.maps import coverage_map, save_map
    from coverage.standards.assessment import analysis_key, assess
    from coverage.standards.standard import load_standard

    folder = Path(task.folder)
    (folder / DONE_JSON).unlink(missing_ok=True)
    if folder.is_dir():
        # staging folders of an attempt that was killed (one task per region runs at a time)
        for left in folder.glob(".partial-*"):
            shutil.rmtree(left, ignore_errors=True)
    geometry = shapely.from_wkb(task.geometry_wkb)
    area = shapely.from_wkb(task.area_wkb)
    options = dict(task.options)
    datum = options.pop("datum")
    basemap = options.pop("basemap")
    facility_columns, village_columns = options.pop("facility_columns"), options.pop("village_columns")
    facilities_datum = options.pop("facilities_datum") or datum
    villages_datum = options.pop("villages_datum") or datum
    population = None
    if task.population is not None and task.population_window is not None:
        population = Path(task.population_window)
        if not population.exists():
            clip_population(task.population, geometry, population)
    outline = Path(task.outline)
    if not outline.exists():
        partial = outline.with_name(f".partial-{outline.name}")
        gpd.GeoDataFrame({"zone": [task.name]}, geometry=[geometry], crs=4326).to_file(partial, driver="GeoJSON")
        os.replace(partial, outline)
    # the batch-wide files cut to the region's area; the analysis takes facilities from the region plus its
    # border (flagged outside_boundary) and villages and people from the region alone
    facilities = (
        _points_within(
            task.facilities, area, datum=facilities_datum, what="facilities", region=task.name, columns=facility_columns
        )
        if task.facilities
        else None
    )
    villages = (
        _points_within(
            task.villages, area, datum=villages_datum, what="villages", region=task.name, columns=village_columns
        )
        if task.villages
        else None
    )
    inputs: dict[str, Any] = {
        "osm": task.extract,
        "facilities": facilities,
        "villages": villages,
        "population": population,
        # the people the region counts (its cells, or its villages) add up to its official total
        "population_totals": None
        if task.population_total is None
        else PopulationTotals(task.population_totals_source, pd.Series({task.name: task.population_total})),
        "zones": outline,
        "zones_name_column": "zone",
        "boundary": geometry,
        "border_km": options.pop("border_km"),
        "facility_columns": facility_columns,
        "village_columns": village_columns,
        "kind_map": options.pop("kind_map"),
        "road_class_column": options.pop("road_class_column"),
        "default_road_class": options.pop("default_road_class"),
        "cache_dir": options.pop("cache_dir"),
        "use_cache": options.pop("use_cache"),
    }
    analysis = dataclasses.replace(analyze(**inputs, **options), region=task.name)
    # the standards reuse this analysis when they need the same one, and share the others
    known = {
        analysis_key(analysis.profile.name, options["direction"], kinds=options["kinds"], ems=options["ems"]): analysis
    }
    assessments: list[Assessment] = [assess(load_standard(name), analyses=known, **inputs) for name in task.standards]
    drawn = analysis
    if assessments:
        drawn = dataclasses.replace(assessments[0].primary_analysis, region=task.name)
    with staged(folder) as staging:
        write_outputs(analysis, staging)
        for assessment in assessments:
            write_assessment(assessment, staging if len(assessments) == 1 else staging / assessment.standard.name)
        page = coverage_map(
            drawn,
            assessment=assessments[0] if assessments else None,
            title=f"{task.name}: health-facility coverage",
            basemap=basemap,
        )
        save_map(page, staging / MAP_HTML)
        # staged() moves files, not into an existing folder: clear this region's old per-standard folders
        written = {path.name for path in staging.iterdir()}
        for old in folder.iterdir():
            if old.is_dir() and old.name in written:
                shutil.rmtree(old)
    for old in folder.iterdir():
        # outputs of earlier settings (a standard no longer asked for) would mislead
        if old.name in written:
            continue
        if old.is_dir() and (old / STANDARDS_JSON).exists() and not old.name.startswith("."):
            shutil.rmtree(old)
        elif old.name in (STANDARDS_JSON, STANDARDS_CSV):
            old.unlink()
    return _figures(analysis, assessments)


def threshold_label(minutes: float) -> str:
    return f"{minutes:g}".replace(".", "_")


def _figures(analysis: Any, assessments: Sequence[Assessment]) -> dict[str, Any]:
    """A region's row of the summary: people, villages, facilities, covered shares, targets."""
    from coverage.standards.checks import FAIL

    summary = analysis.summary()
    cells = analysis.cells
    has_cells = cells is not None and len(cells)
    population = (
        float(cells["population"].sum()) if has_cells else float(analysis.villages["population"].fillna(0).sum())
    )
    row: dict[str, Any] = {
        "population": round(population, 1),
        "villages": len(analysis.villages),
        "facilities": len(analysis.facilities),
        **calibration_figures(analysis.population_calibration),
    }
    for threshold in summary["thresholds"]:
        label = threshold_label(threshold["minutes"])
        if has_cells:
            share = threshold.get("population_share")
        else:
            total = threshold["village_population_total"]
            share = threshold["village_population_covered"] / total if total else None
        row[f"population_share_{label}"] = None if share is None else round(float(share), 4)
        row[f"villages_covered_{label}"] = int(threshold["villages_covered"])
    missed = 0
    for assessment in assessments:
        for target, result in zip(assessment.standard.targets, assessment.results, strict=True):
            row[f"{assessment.standard.name}:{target.id}"] = result.status
            missed += result.status == FAIL
    if assessments:
        row["targets_missed"] = missed
    return row


def calibration_figures(calibration: PopulationCalibration | None) -> dict[str, Any]:
    """A region's calibration to its official total as scalar columns of its summary row (none without one)."""
    if calibration is None or calibration.units.empty:
        return {}
    unit = calibration.units.iloc[0]
    factor = float(unit["factor"])
    return {
        "population_calibration": str(unit["status"]),
        "population_official": None if pd.isna(unit["official_population"]) else float(unit["official_population"]),
        "population_before": round(float(unit["population_before"]), 1),
        "population_factor": None if math.isnan(factor) else round(factor, 6),
        "population_places": int(unit["places"]),
    }


def json_key(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def read_done(folder: Path) -> dict[str, Any] | None:
    try:
        with open(folder / DONE_JSON, encoding="utf-8") as handle:
            done: dict[str, Any] = json.load(handle)
    except (OSError, ValueError):
        return None
    return done
