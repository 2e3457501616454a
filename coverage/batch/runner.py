"""Batch runs: every region of a province (or a country) analysed on Dask distributed.

:func:`run_batch` takes a polygon file of regions (counties, townships, islands)
and a big OSM file, cuts the OSM file once into one extract per region
(:mod:`coverage.batch.extracts`), and runs each region as one task on a Dask cluster: a
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
import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from coverage._errors import InputError
from coverage._version import __version__
from coverage.analysis.grid import DEFAULT_CELL_M
from coverage.analysis.isochrones import DEFAULT_BUFFER_M
from coverage.analysis.places import is_osm
from coverage.analysis.result import DEFAULT_MINUTES, checked_thresholds
from coverage.batch.extracts import (
    BOUNDARY_TOLERANCE_M,
    DEFAULT_EXTRACT_BUFFER_M,
    buffered_region,
    extract_key,
    geometry_sha256,
    safe_name,
    split_osm,
)
from coverage.io.credits import SourceNote, credit_line, network_note, raster_credit
from coverage.io.gis_roads import DEFAULT_ROAD_CLASS
from coverage.io.kinds import DEFAULT_KIND_MAP, NO_KIND_MAP, load_kind_map
from coverage.io.osm import OSM_SUFFIXES
from coverage.io.points import PointColumns
from coverage.io.regions import default_region
from coverage.network.prepared import file_sha256
from coverage.network.profiles import Profile, load_profile
from coverage.network.routing import check_direction
from coverage.network.sources import LINE_SUFFIXES
from coverage.outputs.files import POPULATION_CALIBRATION_CSV, staged, write_csv

if TYPE_CHECKING:
    from distributed import Client


from coverage.batch.population import (
    BatchPopulation,
    calibrated_default_raster,
    calibration_by_region,
    region_totals,
)
from coverage.batch.regions import own_file, read_regions, region_folder
from coverage.batch.summary import SUMMARY_CSV, summary_frame, write_summary
from coverage.batch.task import FAILED, OK, SKIPPED, RegionFailed, RegionTask, json_key, read_done, run_region

logger = logging.getLogger(__name__)


#: Times a failed region is tried again before it is recorded as failed.
DEFAULT_RETRIES = 2


#: Bump when a region's outputs change meaning, so finished regions are computed again.
BATCH_FORMAT = 1


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
    population_totals: str | os.PathLike[str] | pd.DataFrame | Mapping[str, float] | None = None,
    population_totals_column: str | None = None,
    calibrate_default: bool = True,
    datum: str = "wgs84",
    facilities_datum: str | None = None,
    villages_datum: str | None = None,
    facility_columns: PointColumns | None = None,
    village_columns: PointColumns | None = None,
    kind_map: str | os.PathLike[str] | None = DEFAULT_KIND_MAP,
    road_class_column: str | None = None,
    default_road_class: str | None = DEFAULT_ROAD_CLASS,
    profile: str | os.PathLike[str] = "car",
    direction: str = "to_facility",
    minutes: Sequence[float] = DEFAULT_MINUTES,
    kinds: Sequence[str] | None = None,
    ems: bool = False,
    buffer_m: float = DEFAULT_BUFFER_M,
    isochrone_method: str = "surface",
    cell_m: float = DEFAULT_CELL_M,
    per_facility_isochrones: bool = False,
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
        The road network covering every region: a big OSM file (cut once into one
        extract per region), an osmnx GraphML file or a GIS lines file (each region
        reads the lines near it); default the embedded Comoros extract (and its
        population raster, unless ``population`` is given).
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
    population_totals : path, DataFrame or mapping, optional
        Official population per region (a CSV or table with a region id or name column
        and a population column, or a mapping of id to people): each region's cells
        (or villages) are scaled to add up to its total (see
        :mod:`coverage.batch.population`); the factors go to ``population_calibration.csv``.
    population_totals_column : str, optional
        Or the column of the regions file holding them.
    calibrate_default : bool
        With the embedded raster and no totals, calibrate it to the 2017 census island totals.
    datum, facilities_datum, villages_datum, facility_columns, village_columns, kind_map
        How the facility and village files are read, as for :func:`coverage.analysis.run.analyze`.
    road_class_column, default_road_class
        For a GIS lines file: its road-class column, and the class of lines where it is blank.
    profile, direction, minutes, kinds, ems, isochrone_method, buffer_m, cell_m, per_facility_isochrones
        As for :func:`coverage.analysis.run.analyze`.
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
    from coverage.standards.standard import load_standard

    check_direction(direction)
    thresholds = checked_thresholds(minutes)
    if retries < 0:
        msg = f"retries must be 0 or more, got {retries}"
        raise InputError(msg)
    if extract_buffer_m < 0:
        msg = f"the extract buffer must be 0 or more metres, got {extract_buffer_m}"
        raise InputError(msg)
    keep = [population_totals_column] if population_totals_column else []
    frame = read_regions(regions, id_column=id_column, name_column=name_column, where=where, keep_columns=keep)
    default = None
    if osm is None:
        default = default_region()
        osm = default.osm
        if population is None:
            population = default.population
        elif population_totals is None and population_totals_column is None:
            default = None  # the island totals are for the embedded raster, not the one given
    osm = Path(osm)
    split = is_osm(osm)
    if not split and osm.suffix.lower() not in (".graphml", *LINE_SUFFIXES):
        msg = (
            f"{osm}: unknown road network format for a batch. Give an OSM extract ({', '.join(OSM_SUFFIXES)}), "
            f"an osmnx .graphml file, or a GIS lines file ({', '.join(LINE_SUFFIXES)}) with --road-class-column."
        )
        raise InputError(msg)
    if osm.suffix.lower() in LINE_SUFFIXES and road_class_column is None:
        msg = f"{osm}: a GIS lines file needs the name of its road-class column (--road-class-column)."
        raise InputError(msg)
    for label, value in (("road network file", osm), ("facility file", facilities), ("village file", villages)):
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
    totals = None
    if population_totals is not None or population_totals_column is not None:
        label = str(regions) if not isinstance(regions, gpd.GeoDataFrame) else "the regions"
        totals = region_totals(frame, population_totals, population_totals_column, label=label)
    people: BatchPopulation | None = None
    if population is not None and shared["population"] is not None:
        if totals is None and default is not None and calibrate_default:
            people = calibrated_default_raster(
                population, raster_sha256=shared["population"], region=default, out_dir=extracts
            )
            population, shared["population"] = people.path, people.sha256
        else:
            credit = raster_credit(population)[0]
            if totals is not None:
                credit = f"{credit}, calibrated to {totals.source} per region"
            people = BatchPopulation(path=Path(population), sha256=shared["population"], credit=credit)
        if people.calibration is not None:
            with staged(out) as staging:
                write_csv(people.calibration.table(), staging / POPULATION_CALIBRATION_CSV)
    options: dict[str, Any] = {
        "profile": chosen.path,
        "direction": direction,
        "minutes": list(thresholds),
        "kinds": list(kinds) if kinds else None,
        "ems": ems,
        "buffer_m": buffer_m,
        "isochrone_method": isochrone_method,
        "cell_m": cell_m,
        "per_facility_isochrones": per_facility_isochrones,
        "datum": datum,
        "facilities_datum": facilities_datum,
        "villages_datum": villages_datum,
        "kind_map": str(kind_map) if kind_map is not None else None,
        "road_class_column": road_class_column,
        "default_road_class": default_road_class,
        "basemap": basemap,
    }
    columns = {"facility_columns": facility_columns, "village_columns": village_columns}
    settings = {
        **{k: v for k, v in options.items() if k != "profile"},
        **{key: _columns_record(value) for key, value in columns.items()},
        "kind_map_sha256": _kind_map_sha256(kind_map),
        "profile_sha256": chosen.fingerprint,
        "extract_buffer_m": extract_buffer_m,
        "standards": {standard.name: file_sha256(standard.path) for standard in loaded},
    }
    runtime = {"cache_dir": str(cache_dir) if cache_dir is not None else None, "use_cache": use_cache}

    rows: dict[str, dict[str, Any]] = {}
    pending: list[tuple[str, str, shapely.Geometry, dict[str, Any], str]] = []
    for region_id, name, geometry in zip(frame["region_id"], frame["name"], frame.geometry, strict=True):
        own_facilities = own_file(facilities_dir, region_id)
        own_villages = own_file(villages_dir, region_id)
        record = {
            "region_id": region_id,
            "name": name,
            "software": __version__,
            "format": BATCH_FORMAT,
            "inputs": {
                "osm": {"path": str(osm), "sha256": osm_sha},
                "region_sha256": geometry_sha256(geometry),
                "extract": extract_key(osm_sha, geometry, buffer_m=extract_buffer_m) if split else None,
                "facilities": _file_record(own_facilities, facilities, shared["facilities"]),
                "villages": _file_record(own_villages, villages, shared["villages"]),
                "population": None if population is None else {"path": str(population), "sha256": shared["population"]},
                "population_total": None if totals is None else totals.totals.get(region_id),
            },
            "settings": settings,
        }
        # the key leaves out paths: moving the inputs does not make finished regions stale
        key = json_key(
            {
                "record": {k: v for k, v in record.items() if k != "inputs"},
                "inputs": {k: (v["sha256"] if isinstance(v, dict) else v) for k, v in record["inputs"].items()},
            }
        )
        done = None if force else read_done(region_folder(out, region_id))
        if done is not None and done.get("key") == key and isinstance(done.get("row"), dict):
            rows[region_id] = {**done["row"], "status": SKIPPED, "error": ""}
            continue
        pending.append((region_id, name, geometry, record, key))
    logger.info(
        "%d regions: %d unchanged since their last run (skipped), %d to compute", len(frame), len(rows), len(pending)
    )

    dashboard = None
    if pending:
        # an OSM file is cut once; a GraphML or GIS lines file is read by each region, clipped to its area
        paths = (
            split_osm(
                osm,
                {rid: geom for rid, _, geom, _, _ in pending},
                out_dir=extracts,
                buffer_m=extract_buffer_m,
                source_sha256=osm_sha,
            )
            if split
            else {rid: osm for rid, _, _, _, _ in pending}
        )
        tasks = []
        for region_id, name, geometry, record, key in pending:
            own_facilities = own_file(facilities_dir, region_id)
            own_villages = own_file(villages_dir, region_id)
            geometry_key = record["inputs"]["region_sha256"][:16]
            window = None
            if population is not None:
                window_key = json_key(
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
                        extracts / f"{safe_name(region_id)}.{json_key({'g': geometry_key, 'n': name})[:24]}.geojson"
                    ),
                    standards=tuple(standard.path for standard in loaded),
                    options={**options, **runtime, **columns, "border_km": extract_buffer_m / 1000.0},
                    record=record,
                    population_total=record["inputs"]["population_total"],
                    population_totals_source=totals.source if totals is not None else "",
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
    summary = summary_frame(frame, rows, thresholds)
    notes = [network_note(osm)]
    if people is not None:
        notes.append(SourceNote("population", people.path.name, people.credit))
    write_summary(summary, out, attribution=credit_line(notes), minutes=thresholds[-1], basemap=basemap)
    if totals is not None:
        basis = "cells" if population is not None else "villages"
        with staged(out) as staging:
            write_csv(calibration_by_region(summary, totals, basis=basis), staging / POPULATION_CALIBRATION_CSV)
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


def _columns_record(columns: PointColumns | None) -> dict[str, Any] | None:
    if columns is None:
        return None
    return {k: v for k, v in dataclasses.asdict(columns).items() if k != "options" and v is not None}


def _kind_map_sha256(kind_map: str | os.PathLike[str] | None) -> str | None:
    """The kind map's file hash: editing the rules recomputes the regions."""
    if kind_map is None or str(kind_map) == NO_KIND_MAP:
        return None
    return file_sha256(load_kind_map(kind_map).path)


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
