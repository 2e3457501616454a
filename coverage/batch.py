"""Batch runs: every region of a province (or a country) analysed on Dask distributed.

:func:`run_batch` takes a polygon file of regions (counties, townships, islands)
and a big OSM file, cuts the OSM file once into one extract per region
(:mod:`coverage.extracts`), and runs each region as one task on a Dask cluster: a
``LocalCluster`` of worker processes by default, or an existing cluster
(``dask scheduler`` / ``dask worker`` on other machines) given by its address or
as a ``distributed.Client``.

Per region, in ``out_dir/regions/<id>/``: what ``analyze`` writes, what ``check``
writes for each standard, the region's HTML map ``map.html``, and ``done.json``,
written last, holding the key of the region's inputs and settings. A later run
skips the regions whose key is unchanged, so a batch killed midway resumes where
it stopped and a changed facility file recomputes only its region. A region that
fails (bad data, no roads) is retried, then recorded with its error while the
others go on.

Combined, in ``out_dir``: ``summary.csv`` and ``summary.gpkg`` (one row per
region) and ``index.html``, a map of the regions shaded by result, each linking to
its own map.

What a region's analysis counts: roads and facilities come from the region plus
the extract's buffer (a detour through the neighbouring county, a hospital just
across the border), villages and people from the region alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage import __version__
from coverage._errors import InputError
from coverage.analysis import DEFAULT_MINUTES, analyze, checked_thresholds
from coverage.extracts import (
    BOUNDARY_TOLERANCE_M,
    DEFAULT_EXTRACT_BUFFER_M,
    buffered_region,
    clip_population,
    extract_key,
    geometry_sha256,
    safe_name,
    split_osm,
)
from coverage.isochrones import DEFAULT_BUFFER_M
from coverage.network import file_sha256
from coverage.outputs import STANDARDS_CSV, STANDARDS_JSON, staged, write_csv, write_json
from coverage.profiles import Profile, load_profile
from coverage.regions import OSM_ATTRIBUTION, WORLDPOP_ATTRIBUTION, default_region
from coverage.routing import check_direction
from coverage.zones import read_polygons, select_rows

if TYPE_CHECKING:
    from distributed import Client

    from coverage.assessment import Assessment

logger = logging.getLogger(__name__)

#: Times a failed region is tried again before it is recorded as failed.
DEFAULT_RETRIES = 2
#: Bump when a region's outputs change meaning, so finished regions are computed again.
BATCH_FORMAT = 1

REGIONS_DIR = "regions"
DONE_JSON = "done.json"
MAP_HTML = "map.html"
SUMMARY_CSV = "summary.csv"
SUMMARY_GPKG = "summary.gpkg"
INDEX_HTML = "index.html"
#: File endings looked for in a facilities or villages folder, in this order.
POINT_SUFFIXES = (".csv", ".geojson", ".json", ".gpkg", ".shp", ".tsv", ".txt")

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"

#: Columns of the summary before the per-threshold and per-target ones.
LEADING_COLUMNS = ("region_id", "name", "status", "error", "seconds", "peak_memory_mb", "population", "villages")


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


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did.

    Attributes
    ----------
    out_dir : Path
    summary : GeoDataFrame
        One row per region (WGS84 polygons): ``region_id``, ``name``, ``status``
        (``ok``, ``failed``, ``skipped``), ``error``, ``seconds``, ``peak_memory_mb``,
        ``population``, ``villages``, ``facilities``, ``population_share_<T>`` and
        ``villages_covered_<T>`` per threshold, ``<standard>:<target>`` (pass, fail,
        cannot_evaluate) per target, ``targets_missed``, ``folder``.
    dashboard_link : str or None
        The Dask dashboard, when a cluster was used.
    """

    out_dir: Path
    summary: gpd.GeoDataFrame
    dashboard_link: str | None

    def ids(self, status: str) -> list[str]:
        """Ids of the regions with this status."""
        return [str(v) for v in self.summary.loc[self.summary["status"] == status, "region_id"]]

    @property
    def ok(self) -> list[str]:
        """Regions computed in this run."""
        return self.ids(OK)

    @property
    def failed(self) -> list[str]:
        """Regions that failed, after their retries."""
        return self.ids(FAILED)

    @property
    def skipped(self) -> list[str]:
        """Regions whose inputs and settings had not changed since they were finished."""
        return self.ids(SKIPPED)


# --------------------------------------------------------------------------- regions


def read_regions(
    source: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    where: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read the regions of a batch: one per polygon, or per id when several rows share one.

    Parameters
    ----------
    source : path or GeoDataFrame
        Polygon file (GeoJSON, GeoPackage, Shapefile) or GeoDataFrame with a CRS.
    id_column : str, optional
        Column identifying each region; it names the region's output folder. Default
        the first of ``id``, ``region_id``, ``code``, ``adcode``, else the name
        column, else the row number.
    name_column : str, optional
        Column with the name shown on maps; default the first of ``name``, ``NAME``,
        ``名称``, else the id.
    where : str, optional
        pandas query selecting some rows, e.g. ``"admin_level == '8'"``.
    layer : str, optional
        Layer of a multi-layer file.

    Returns
    -------
    GeoDataFrame
        ``region_id``, ``name`` and WGS84 (multi)polygons; rows sharing an id are one
        region (a county and its islands).

    Raises
    ------
    InputError
        When the file is missing or holds no polygons, a column is missing, or two
        ids become the same folder name.
    """

    if isinstance(source, gpd.GeoDataFrame):
        label = "the regions GeoDataFrame"
        if source.crs is None:
            msg = f"{label} has no CRS; set one (e.g. `.set_crs(4326)` for longitude/latitude)."
            raise InputError(msg)
        frame = source[source.geom_type.isin(["Polygon", "MultiPolygon"])]
    else:
        label = str(source)
        frame = read_polygons(source, layer=layer, what="regions")
    frame = select_rows(frame, where, label=label, what="regions")
    if frame.empty:
        msg = f"{label}: no polygons to run{f' match {where!r}' if where else ''}."
        raise InputError(msg)
    for given, option in ((id_column, "--id-column"), (name_column, "--name-column")):
        if given is not None and given not in frame:
            msg = f"{label}: no column {given!r} ({option}); columns are {', '.join(map(str, frame.columns))}."
            raise InputError(msg)
    names = name_column or next((c for c in ("name", "NAME", "名称") if c in frame), None)
    ids = id_column or next((c for c in ("id", "region_id", "code", "adcode") if c in frame), None) or names
    frame = frame.to_crs(4326)
    region_id = (
        frame[ids].astype(str).str.strip()
        if ids
        else pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype(str)
    )
    blank = frame.index[region_id.map(safe_name) == ""]
    if len(blank):
        row = frame.index.get_loc(blank[0]) + 1
        msg = f"{label}: row {row} has no usable id in column {ids!r} ({frame.loc[blank[0], ids]!r}); give every region an id."
        raise InputError(msg)
    regions = gpd.GeoDataFrame(
        {
            "region_id": region_id.to_numpy(),
            "name": (frame[names].fillna(region_id).astype(str) if names else region_id).to_numpy(),
        },
        geometry=shapely.make_valid(np.asarray(frame.geometry.values)),
        crs=4326,
    )
    if regions["region_id"].duplicated().any():
        logger.info("%s: rows sharing an id are merged into one region", label)
        regions = regions.dissolve("region_id", aggfunc="first", as_index=False)[["region_id", "name", "geometry"]]
    folders = regions["region_id"].map(safe_name)
    clash = folders[folders.duplicated(keep=False)]
    if len(clash):
        pairs = ", ".join(repr(v) for v in regions.loc[clash.index, "region_id"][:4])
        msg = f"{label}: the ids {pairs} give the same folder name {clash.iloc[0]!r}; make the ids distinct."
        raise InputError(msg)
    return regions.reset_index(drop=True)


def region_folder(out_dir: str | os.PathLike[str], region_id: str) -> Path:
    """The output folder of one region: ``out_dir/regions/<id>``."""
    return Path(out_dir) / REGIONS_DIR / safe_name(region_id)


def _own_file(folder: str | os.PathLike[str] | None, region_id: str) -> Path | None:
    """The region's own file in a folder (``<id>.csv``, ``<id>.geojson``...), if there is one."""
    if folder is None:
        return None
    for suffix in POINT_SUFFIXES:
        candidate = Path(folder) / f"{safe_name(region_id)}{suffix}"
        if candidate.exists():
            return candidate
    return None


# --------------------------------------------------------------------------- the task


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


def _points_within(path: str, area: shapely.Geometry, *, datum: str, what: str, region: str) -> gpd.GeoDataFrame:
    from coverage.points import read_points

    points = read_points(path, datum=datum, what=what)
    inside = points[points.within(area)]
    if len(inside) < len(points):
        logger.info("%s: %d of %d %s of %s lie in this region", region, len(inside), len(points), what, Path(path).name)
    return inside.reset_index(drop=True)


def _compute_region(task: RegionTask) -> dict[str, Any]:
    from coverage.assessment import analysis_key, assess
    from coverage.maps import coverage_map, save_map
    from coverage.osm import places_from_osm
    from coverage.outputs import write_assessment, write_outputs
    from coverage.standards import load_standard

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
    # facilities from the region plus the buffer, places from the region alone
    facilities = (
        _points_within(task.facilities, area, datum=datum, what="facilities", region=task.name)
        if task.facilities
        else None
    )
    villages = (
        _points_within(task.villages, geometry, datum=datum, what="villages", region=task.name)
        if task.villages
        else places_from_osm(task.extract, boundary=geometry)
    )
    inputs: dict[str, Any] = {
        "osm": task.extract,
        "facilities": facilities,
        "villages": villages,
        "population": population,
        "zones": outline,
        "zones_name_column": "zone",
        "datum": datum,
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


def _threshold_label(minutes: float) -> str:
    return f"{minutes:g}".replace(".", "_")


def _figures(analysis: Any, assessments: Sequence[Assessment]) -> dict[str, Any]:
    """A region's row of the summary: people, villages, facilities, covered shares, targets."""
    from coverage.checks import FAIL

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
    }
    for threshold in summary["thresholds"]:
        label = _threshold_label(threshold["minutes"])
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


# --------------------------------------------------------------------------- the batch


def _json_key(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _read_done(folder: Path) -> dict[str, Any] | None:
    try:
        with open(folder / DONE_JSON, encoding="utf-8") as handle:
            done: dict[str, Any] = json.load(handle)
    except (OSError, ValueError):
        return None
    return done


def start_client(
    *, scheduler: str | None = None, workers: int | None = None, memory_limit: str | int | None = "auto"
) -> tuple[Client, Any]:
    """Connect to a Dask scheduler, or start a local cluster of worker processes.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); without it a
        ``LocalCluster`` is started: ``workers`` processes of one thread each.
    workers : int, optional
        Number of local worker processes; default one per core.
    memory_limit : str or int
        Memory limit of each local worker (``"4GiB"``; ``"auto"``: the machine's memory
        shared equally). A worker past it is restarted and its task tried again.

    Returns
    -------
    (Client, LocalCluster or None)
        Close both when done (the cluster is None for a given scheduler).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        if workers is not None:
            logger.warning("--workers is for a local cluster; the cluster at %s has its own workers", scheduler)
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as error:
            msg = f"cannot reach the Dask scheduler at {scheduler} ({error}). Start it with 'dask scheduler' and give its address, e.g. tcp://10.0.0.5:8786."
            raise InputError(msg) from error
    if workers is not None and workers < 1:
        msg = f"workers must be at least 1, got {workers}"
        raise InputError(msg)
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=":0",
    )
    return Client(cluster), cluster


def run_batch(
    regions: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    out_dir: str | os.PathLike[str],
    osm: str | os.PathLike[str] | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    where: str | None = None,
    standards: Sequence[str | os.PathLike[str]] = (),
    facilities: str | os.PathLike[str] | None = None,
    facilities_dir: str | os.PathLike[str] | None = None,
    villages: str | os.PathLike[str] | None = None,
    villages_dir: str | os.PathLike[str] | None = None,
    population: str | os.PathLike[str] | None = None,
    datum: str = "wgs84",
    profile: str | os.PathLike[str] = "car",
    direction: str = "to_facility",
    minutes: Sequence[float] = DEFAULT_MINUTES,
    kinds: Sequence[str] | None = None,
    ems: bool = False,
    buffer_m: float = DEFAULT_BUFFER_M,
    per_facility_isochrones: bool = True,
    extract_buffer_m: float = DEFAULT_EXTRACT_BUFFER_M,
    extracts_dir: str | os.PathLike[str] | None = None,
    client: Client | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    memory_limit: str | int | None = "auto",
    retries: int = DEFAULT_RETRIES,
    force: bool = False,
    basemap: str = "osm",
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    progress: bool = False,
) -> BatchResult:
    """Analyse every region of a polygon file on Dask distributed, skipping the finished ones.

    Parameters
    ----------
    regions : path or GeoDataFrame
        One region per polygon (see :func:`read_regions`).
    out_dir : path
        Output folder: ``regions/<id>/`` per region, ``summary.csv``, ``summary.gpkg``,
        ``index.html``.
    osm : path, optional
        The big OSM file covering every region; default the embedded Comoros extract
        (and its population raster, unless ``population`` is given).
    id_column, name_column, where : str, optional
        See :func:`read_regions`.
    standards : sequence of str
        Standard presets or TOML files to check each region against (as ``check``).
    facilities, villages : path, optional
        Facility / village file of the whole batch (as for ``analyze``); each region
        takes the facilities within its buffered outline and the villages within its
        outline. Default: those tagged in OSM.
    facilities_dir, villages_dir : path, optional
        Folders of per-region files named after the region id (``<id>.csv``,
        ``<id>.geojson``, ``<id>.gpkg``...); a region's own file replaces the
        batch-wide one.
    population : path, optional
        Population raster of the whole batch; each task reads only its region's window.
    datum, profile, direction, minutes, kinds, ems, buffer_m, per_facility_isochrones
        As for :func:`coverage.analysis.analyze` (``buffer_m`` is the isochrones' corridor).
    extract_buffer_m : float
        How far beyond its outline each region's roads and facilities are taken, in metres.
    extracts_dir : path, optional
        Where the per-region extracts are kept; default ``out_dir/extracts``. Share it
        between batches on the same OSM file.
    client : distributed.Client, optional
        An existing client (e.g. in a notebook); it is left open.
    scheduler : str, optional
        Address of a running Dask scheduler; without it and without ``client``, a
        ``LocalCluster`` is started and closed at the end.
    workers : int, optional
        Local worker processes (one thread each); default one per core.
    memory_limit : str or int
        Memory limit of each local worker.
    retries : int
        Times a failed region is tried again before it is recorded as failed.
    force : bool
        Recompute every region, even those whose inputs are unchanged.
    basemap : str
        Basemap of the maps (``osm``, ``none`` or a tile URL).
    cache_dir, use_cache
        The prepared-network cache of the workers.
    progress : bool
        Show a progress bar (tqdm) over the regions.

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        For a problem with the batch as a whole (a missing regions file, bad options,
        an unreachable scheduler); a region's own problem is recorded in the summary.
    """
    from coverage.standards import load_standard

    check_direction(direction)
    thresholds = checked_thresholds(minutes)
    if retries < 0:
        msg = f"retries must be 0 or more, got {retries}"
        raise InputError(msg)
    if extract_buffer_m < 0:
        msg = f"the extract buffer must be 0 or more metres, got {extract_buffer_m}"
        raise InputError(msg)
    frame = read_regions(regions, id_column=id_column, name_column=name_column, where=where)
    if osm is None:
        default = default_region()
        osm = default.osm
        population = population if population is not None else default.population
    osm = Path(osm)
    for label, value in (("OSM file", osm), ("facility file", facilities), ("village file", villages)):
        if value is not None and not Path(value).is_file():
            msg = f"{label} not found: {value}"
            raise InputError(msg)
    if population is not None and not Path(population).is_file():
        msg = f"population raster not found: {population}"
        raise InputError(msg)
    for label, folder_option in (("facilities", facilities_dir), ("villages", villages_dir)):
        if folder_option is not None and not Path(folder_option).is_dir():
            msg = f"{label} folder not found: {folder_option} (it holds one file per region, named <id>.csv, <id>.geojson...)"
            raise InputError(msg)
    loaded = [load_standard(name) for name in standards]
    chosen = profile if isinstance(profile, Profile) else load_profile(profile)
    out = Path(out_dir)
    extracts = Path(extracts_dir) if extracts_dir is not None else out / "extracts"

    started = time.perf_counter()
    logger.info("hashing %s", osm.name)
    osm_sha = file_sha256(osm)
    shared = {
        "facilities": file_sha256(facilities) if facilities else None,
        "villages": file_sha256(villages) if villages else None,
        "population": file_sha256(population) if population else None,
    }
    options: dict[str, Any] = {
        "profile": chosen.path,
        "direction": direction,
        "minutes": list(thresholds),
        "kinds": list(kinds) if kinds else None,
        "ems": ems,
        "buffer_m": buffer_m,
        "per_facility_isochrones": per_facility_isochrones,
        "datum": datum,
        "basemap": basemap,
    }
    settings = {
        **{k: v for k, v in options.items() if k != "profile"},
        "profile_sha256": chosen.fingerprint,
        "extract_buffer_m": extract_buffer_m,
        "standards": {standard.name: file_sha256(standard.path) for standard in loaded},
    }
    runtime = {"cache_dir": str(cache_dir) if cache_dir is not None else None, "use_cache": use_cache}

    rows: dict[str, dict[str, Any]] = {}
    pending: list[tuple[str, str, shapely.Geometry, dict[str, Any], str]] = []
    for region_id, name, geometry in zip(frame["region_id"], frame["name"], frame.geometry, strict=True):
        own_facilities = _own_file(facilities_dir, region_id)
        own_villages = _own_file(villages_dir, region_id)
        record = {
            "region_id": region_id,
            "name": name,
            "software": __version__,
            "format": BATCH_FORMAT,
            "inputs": {
                "osm": {"path": str(osm), "sha256": osm_sha},
                "region_sha256": geometry_sha256(geometry),
                "extract": extract_key(osm_sha, geometry, buffer_m=extract_buffer_m),
                "facilities": _file_record(own_facilities, facilities, shared["facilities"]),
                "villages": _file_record(own_villages, villages, shared["villages"]),
                "population": None if population is None else {"path": str(population), "sha256": shared["population"]},
            },
            "settings": settings,
        }
        # the key leaves out paths: moving the inputs does not make finished regions stale
        key = _json_key(
            {
                "record": {k: v for k, v in record.items() if k != "inputs"},
                "inputs": {k: (v["sha256"] if isinstance(v, dict) else v) for k, v in record["inputs"].items()},
            }
        )
        done = None if force else _read_done(region_folder(out, region_id))
        if done is not None and done.get("key") == key and isinstance(done.get("row"), dict):
            rows[region_id] = {**done["row"], "status": SKIPPED, "error": ""}
            continue
        pending.append((region_id, name, geometry, record, key))
    logger.info(
        "%d regions: %d unchanged since their last run (skipped), %d to compute", len(frame), len(rows), len(pending)
    )

    dashboard = None
    if pending:
        paths = split_osm(
            osm,
            {rid: geom for rid, _, geom, _, _ in pending},
            out_dir=extracts,
            buffer_m=extract_buffer_m,
            source_sha256=osm_sha,
        )
        tasks = []
        for region_id, name, geometry, record, key in pending:
            own_facilities = _own_file(facilities_dir, region_id)
            own_villages = _own_file(villages_dir, region_id)
            geometry_key = record["inputs"]["region_sha256"][:16]
            window = None
            if population is not None:
                window_key = _json_key(
                    {"raster": shared["population"], "region": geometry_key, "tolerance": BOUNDARY_TOLERANCE_M}
                )
                window = str(extracts / f"{safe_name(region_id)}.{window_key[:24]}.tif")
            tasks.append(
                RegionTask(
                    region_id=region_id,
                    name=name,
                    geometry_wkb=shapely.to_wkb(geometry),
                    area_wkb=shapely.to_wkb(buffered_region(geometry, buffer_m=extract_buffer_m)),
                    extract=str(paths[region_id]),
                    folder=str(region_folder(out, region_id)),
                    aux_dir=str(extracts),
                    key=key,
                    facilities=str(own_facilities or facilities) if (own_facilities or facilities) else None,
                    villages=str(own_villages or villages) if (own_villages or villages) else None,
                    population=str(population) if population is not None else None,
                    population_window=window,
                    outline=str(
                        extracts / f"{safe_name(region_id)}.{_json_key({'g': geometry_key, 'n': name})[:24]}.geojson"
                    ),
                    standards=tuple(standard.path for standard in loaded),
                    options={**options, **runtime},
                    record=record,
                )
            )
        # the largest regions first: they finish last otherwise
        tasks.sort(key=lambda task: -Path(task.extract).stat().st_size)
        dashboard = _run_tasks(
            tasks,
            rows,
            client=client,
            scheduler=scheduler,
            workers=workers,
            memory_limit=memory_limit,
            retries=retries,
            total=len(frame),
            progress=progress,
        )
    summary = _summary_frame(frame, rows, thresholds)
    attribution = OSM_ATTRIBUTION + (f"; {WORLDPOP_ATTRIBUTION}" if population is not None else "")
    write_summary(summary, out, attribution=attribution, minutes=thresholds[-1], basemap=basemap)
    counts = summary["status"].value_counts()
    logger.info(
        "batch of %d regions in %.1f s: %d ok, %d failed, %d skipped; wrote %s",
        len(summary),
        time.perf_counter() - started,
        int(counts.get(OK, 0)),
        int(counts.get(FAILED, 0)),
        int(counts.get(SKIPPED, 0)),
        out / SUMMARY_CSV,
    )
    return BatchResult(out_dir=out, summary=summary, dashboard_link=dashboard)


def _file_record(
    own: Path | None, shared: str | os.PathLike[str] | None, shared_sha: str | None
) -> dict[str, str] | None:
    if own is not None:
        return {"path": str(own), "sha256": file_sha256(own)}
    if shared is not None and shared_sha is not None:
        return {"path": str(shared), "sha256": shared_sha}
    return None


def _run_tasks(
    tasks: list[RegionTask],
    rows: dict[str, dict[str, Any]],
    *,
    client: Client | None,
    scheduler: str | None,
    workers: int | None,
    memory_limit: str | int | None,
    retries: int,
    total: int,
    progress: bool,
) -> str | None:
    """Run the tasks on Dask, filling ``rows`` as they finish; returns the dashboard address."""
    from contextlib import ExitStack, nullcontext

    from distributed import as_completed
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    own_cluster = None
    if client is None:
        local_workers = min(workers or os.cpu_count() or 1, len(tasks)) if not scheduler else workers
        client, own_cluster = start_client(scheduler=scheduler, workers=local_workers, memory_limit=memory_limit)
        own_client = True
    else:
        own_client = False
    dashboard = client.dashboard_link if _has_dashboard(client) else None
    if dashboard:
        logger.info("Dask dashboard: %s", dashboard)
    bar = tqdm(total=total, initial=len(rows), unit="region", disable=not progress, desc="regions")
    counts = {OK: 0, FAILED: 0}
    try:
        with ExitStack() as stack:
            stack.enter_context(logging_redirect_tqdm() if progress else nullcontext())
            futures = {
                client.submit(
                    run_region,
                    task,
                    key=f"region-{safe_name(task.region_id)}-{uuid.uuid4().hex[:8]}",
                    retries=retries,
                    pure=False,
                ): task
                for task in tasks
            }
            for future in as_completed(futures):
                task = futures.pop(future)
                try:
                    row = {**future.result(), "status": OK, "error": ""}
                except RegionFailed as error:
                    row = {
                        "status": FAILED,
                        "error": error.message,
                        "seconds": error.seconds,
                        "peak_memory_mb": error.peak_memory_mb,
                    }
                except Exception as error:  # a worker lost (memory limit), a cancelled task
                    row = {
                        "status": FAILED,
                        "error": f"{type(error).__name__}: {error}",
                        "seconds": None,
                        "peak_memory_mb": None,
                    }
                finally:
                    future.release()
                rows[task.region_id] = row
                counts[row["status"]] += 1
                remaining = len(futures)
                bar.update(1)
                bar.set_postfix(ok=counts[OK], failed=counts[FAILED], remaining=remaining)
                if row["status"] == OK:
                    logger.info(
                        "%s: ok in %.1f s, peak %s MB (%d done, %d failed, %d remaining)",
                        task.name,
                        row["seconds"],
                        row["peak_memory_mb"],
                        counts[OK],
                        counts[FAILED],
                        remaining,
                    )
                else:
                    logger.warning(
                        "%s: failed after %d retries: %s (%d done, %d failed, %d remaining)",
                        task.name,
                        retries,
                        row["error"],
                        counts[OK],
                        counts[FAILED],
                        remaining,
                    )
    finally:
        bar.close()
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()
    return dashboard


def _has_dashboard(client: Client) -> bool:
    try:
        return "dashboard" in client.scheduler_info().get("services", {})
    except Exception:  # an older scheduler without the services entry
        return False


def _summary_frame(
    frame: gpd.GeoDataFrame, rows: dict[str, dict[str, Any]], thresholds: tuple[float, ...]
) -> gpd.GeoDataFrame:
    """One row per region, in the regions file's order, with its polygon."""
    table = pd.DataFrame(
        [
            {**rows.get(rid, {}), "region_id": rid, "name": name}
            for rid, name in zip(frame["region_id"], frame["name"], strict=True)
        ]
    )
    threshold_columns = [
        f"{kind}_{_threshold_label(m)}" for kind in ("population_share", "villages_covered") for m in thresholds
    ]
    for column in (*LEADING_COLUMNS, "facilities", *threshold_columns):
        if column not in table:
            table[column] = None
    targets = sorted(c for c in table.columns if ":" in c)
    if targets and "targets_missed" not in table:
        table["targets_missed"] = None
    table["folder"] = [f"{REGIONS_DIR}/{safe_name(rid)}" for rid in table["region_id"]]
    order = [*LEADING_COLUMNS, "facilities", *threshold_columns, *targets]
    order += [c for c in ("targets_missed",) if c in table]
    order += [c for c in table.columns if c not in order and c != "folder"] + ["folder"]
    table["error"] = table["error"].fillna("")
    counts = ["villages", "facilities", *(c for c in table.columns if c.startswith("villages_covered_"))]
    for column in [*counts, *(["targets_missed"] if "targets_missed" in table else [])]:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("Int64")
    for column in (
        "seconds",
        "peak_memory_mb",
        "population",
        *(c for c in table.columns if c.startswith("population_share_")),
    ):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return gpd.GeoDataFrame(table[order], geometry=frame.geometry.to_numpy(), crs=4326)


# --------------------------------------------------------------------------- combined outputs


def write_summary(
    summary: gpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    *,
    attribution: str = OSM_ATTRIBUTION,
    minutes: float | None = None,
    basemap: str = "osm",
) -> dict[str, Path]:
    """Write ``summary.csv`` (UTF-8 with BOM), ``summary.gpkg`` and ``index.html`` into ``out_dir``, all or nothing."""
    from coverage.maps import save_map

    table = pd.DataFrame(summary.drop(columns="geometry"))
    with staged(out_dir) as staging:
        write_csv(table, staging / SUMMARY_CSV)
        layer = summary.copy()
        for column in layer.columns:
            if column != "geometry" and layer[column].dtype == object:
                layer[column] = layer[column].astype("string")
        layer.to_file(staging / SUMMARY_GPKG, layer="regions", driver="GPKG")
        save_map(province_map(summary, attribution=attribution, minutes=minutes, basemap=basemap), staging / INDEX_HTML)
    return {name: Path(out_dir) / name for name in (SUMMARY_CSV, SUMMARY_GPKG, INDEX_HTML)}


#: Colour of a region that failed, and of one without a figure.
FAILED_COLOUR = "#7f7f7f"
PASS_COLOUR = "#1a9641"
MISSED_COLOUR = "#d7191c"


def province_map(
    summary: gpd.GeoDataFrame,
    *,
    attribution: str = OSM_ATTRIBUTION,
    minutes: float | None = None,
    basemap: str = "osm",
    simplify_m: float = 100.0,
) -> Any:
    """The map of a batch: each region shaded by its result, linking to its own map.

    With standards, a region is green when it meets every target and red when it
    misses one; without, it is shaded by the share of people within ``minutes``
    (default the largest threshold). Failed regions are grey. Names are shown as text.

    Returns
    -------
    folium.Map
        Save it with :func:`coverage.maps.save_map`.
    """
    from coverage.maps import SHARE_CLASSES, DataLayer, add_legend, feature, new_map

    shares = [str(c) for c in summary.columns if str(c).startswith("population_share_")]
    share_column: str | None = shares[-1] if shares else None
    if minutes is not None and f"population_share_{_threshold_label(minutes)}" in summary:
        share_column = f"population_share_{_threshold_label(minutes)}"
    label = share_column.removeprefix("population_share_").replace("_", ".") if share_column else ""
    judged = "targets_missed" in summary
    crs = summary.estimate_utm_crs()
    outlines = summary.to_crs(crs).simplify(simplify_m).to_crs(4326)
    features = []
    # larger regions first, so that a region drawn inside another stays clickable
    order = np.argsort(-summary.to_crs(crs).area.to_numpy(), kind="stable")
    for (_, row), outline in zip(summary.iloc[order].iterrows(), outlines.iloc[order], strict=True):
        status = str(row["status"])
        value = row[share_column] if share_column else None
        share_known = value is not None and not pd.isna(value)
        share = float(value) if value is not None and share_known else float("nan")
        if status == FAILED:
            colour, headline = FAILED_COLOUR, "failed"
        elif judged:
            missed = row.get("targets_missed")
            n_missed = 0 if missed is None or pd.isna(missed) else int(missed)
            colour = PASS_COLOUR if n_missed == 0 else MISSED_COLOUR
            headline = "every target met" if n_missed == 0 else f"{n_missed} target(s) missed"
        else:
            colour = next((c for upper, c in SHARE_CLASSES if share_known and share <= upper), SHARE_CLASSES[-1][1])
            colour = colour if share_known else FAILED_COLOUR
            headline = f"{share:.0%} within {label} min" if share_known else "no figure"
        rows_shown: list[tuple[str, ...]] = [("Status", status), ("Result", headline)]
        if status == FAILED:
            rows_shown.append(("Error", str(row["error"])[:300]))
        else:
            if not pd.isna(row.get("population")):
                rows_shown.append(("People", f"{float(row['population']):,.0f}"))
            if share_known:
                rows_shown.append((f"Within {label} min", f"{share:.1%}"))
            rows_shown.append(("Region map", "open", f"{urllib.parse.quote(str(row['folder']))}/{MAP_HTML}"))
        features.append(
            feature(
                outline,
                style={
                    "color": "#333333",
                    "weight": 1,
                    "fillColor": colour,
                    "fillOpacity": 0.55,
                    **({"dashArray": "4 4"} if status == FAILED else {}),
                },
                tooltip=f"{row['name']}: {headline}",
                popup=(str(row["name"]), rows_shown),
            )
        )
    counts = summary["status"].value_counts()
    west, south, east, north = (float(v) for v in summary.total_bounds)
    m = new_map(
        (west, south, east, north),
        title=f"{len(summary)} regions: health-facility coverage",
        subtitle=", ".join(f"{int(counts.get(s, 0))} {s}" for s in (OK, SKIPPED, FAILED))
        + "; click a region for its map",
        attribution=attribution,
        basemap=basemap,
    )
    DataLayer(features, name="Regions").add_to(m)
    if judged:
        legend = [("Targets", [("every target met", PASS_COLOUR), ("a target missed", MISSED_COLOUR)])]
    else:
        edges = [0.0, *(upper for upper, _ in SHARE_CLASSES)]
        legend = [
            (
                f"People within {label} min",
                [(f"{lo:.0%}–{hi:.0%}", colour) for lo, (hi, colour) in zip(edges, SHARE_CLASSES, strict=False)],
            )
        ]
    legend.append(("Regions", [("failed (see summary.csv)", FAILED_COLOUR)]))
    add_legend(m, legend)
    return m
