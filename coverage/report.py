"""Scheduled reports: analyze → check → map for one configured region, a dated folder per run, and history.

:func:`run_report` is the whole unattended job behind ``facility-coverage report``:

1. take the history's lock (one run at a time) and hash every input file; when
   the inputs, the configuration's settings and the software version equal those
   of the latest run, stop there: "unchanged since run N", with that run's exit code;
2. run the analysis (:func:`coverage.analysis.analyze`) and every standard's
   targets (:func:`coverage.assessment.assess`);
3. compare each village's status with the latest recorded run;
4. draw the maps (:mod:`coverage.maps`, :mod:`coverage.static_map`) and write
   ``report.html`` (one self-contained page), ``uncovered_villages.csv``,
   ``report.gpkg``, ``summary.json`` and ``run.log`` into a hidden staging folder;
5. in one history transaction, record the run and rename the staging folder to
   the dated run folder.

A run that fails or is killed at any point leaves earlier run folders and the
history as they were; a failed run's log is kept in ``<folder>/failed/``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import logging
import math
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from jinja2 import Environment
from markupsafe import Markup

from coverage import __version__
from coverage.analysis import Analysis, analyze
from coverage.checks import CANNOT, FAIL, PASS
from coverage.history import (
    Run,
    RunDiff,
    changed_inputs,
    compare_statuses,
    insert_run,
    latest_run,
    list_runs,
    lock_history,
    next_run_id,
    open_history,
    run_key,
    village_status,
    village_status_table,
)
from coverage.maps import COVERED_COLOUR, UNCOVERED_COLOUR, DataLayer, coverage_map, feature, map_html
from coverage.network import file_sha256
from coverage.outputs import write_csv, write_json
from coverage.runconfig import RunConfig, load_run_config
from coverage.static_map import draw_static_map

if TYPE_CHECKING:
    from coverage.assessment import Assessment

logger = logging.getLogger(__name__)

EXIT_MET = 0
EXIT_MISSED = 1
EXIT_ERROR = 2

REPORT_HTML = "report.html"
UNCOVERED_CSV = "uncovered_villages.csv"
REPORT_GPKG = "report.gpkg"
SUMMARY_JSON = "summary.json"
RUN_LOG = "run.log"
MAP_PNG = "map.png"
#: Where the log of a failed run is kept, inside the report folder.
FAILED_FOLDER = "failed"
STAGING_PREFIX = ".partial-"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReportResult:
    """The outcome of one :func:`run_report`.

    Attributes
    ----------
    run : int
        The run's number in the history; for an unchanged run, the earlier run's.
    unchanged : bool
        True when the inputs, settings and version equal the latest run's, so
        nothing was computed or written.
    folder : Path
        The run's report folder (the earlier run's when unchanged).
    exit_code : int
        0 every target met (or none could be evaluated), 1 a target missed.
    summary_line : str
        One line for stdout and alert mails.
    targets : DataFrame
        One row per target of every standard (:data:`coverage.history.TARGET_COLUMNS`
        plus ``shortfall`` and ``detail``); empty when unchanged.
    changes : RunDiff or None
        Village changes since the previous run; None for a first or unchanged run.
    uncovered : DataFrame
        The villages outside the circle (:func:`uncovered_table`); empty when unchanged.
    """

    run: int
    unchanged: bool
    folder: Path
    exit_code: int
    summary_line: str
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)
    changes: RunDiff | None = None
    uncovered: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def report_html(self) -> Path:
        """The run's report page."""
        return self.folder / REPORT_HTML


# --- tables ------------------------------------------------------------------------------


def uncovered_table(villages: pd.DataFrame, *, minutes: float) -> pd.DataFrame:
    """The villages outside the circle of ``minutes``, furthest beyond it first.

    Parameters
    ----------
    villages : GeoDataFrame
        An analysis' villages.
    minutes : float
        The circle; a village is outside when its travel time is above it (or
        there is no road route), compared without rounding.

    Returns
    -------
    DataFrame
        ``id``, ``name``, ``zone`` (admin unit), ``population``, ``population_source``,
        ``nearest_facility``, ``minutes``, ``minutes_beyond`` (NaN: no road route),
        ``off_network``, ``snap_distance_m``, ``lon``, ``lat``.
    """
    times = pd.to_numeric(villages["minutes"], errors="coerce")
    outside = ~(times <= minutes).fillna(False).to_numpy(dtype=bool)
    chosen = villages[outside]
    table = pd.DataFrame(
        {
            "id": chosen["id"].astype(str).to_numpy(),
            "name": chosen["name"].fillna("").astype(str).to_numpy(),
            "zone": chosen["zone"].fillna("").astype(str).to_numpy() if "zone" in chosen else "",
            "population": pd.to_numeric(chosen["population"], errors="coerce").round(0).to_numpy(),
            "population_source": chosen["population_source"].to_numpy() if "population_source" in chosen else "",
            "nearest_facility": chosen["nearest_facility_name"].to_numpy(),
            "minutes": times[outside].round(2).to_numpy(),
            "minutes_beyond": (times[outside] - minutes).round(2).to_numpy(),
            "off_network": chosen["off_network"].to_numpy(dtype=bool),
            "snap_distance_m": pd.to_numeric(chosen["snap_distance_m"], errors="coerce").round(1).to_numpy(),
            "lon": chosen.geometry.x.round(6).to_numpy(),
            "lat": chosen.geometry.y.round(6).to_numpy(),
        }
    )
    # no road route at all is the furthest beyond
    order = table["minutes_beyond"].fillna(np.inf)
    return table.assign(_order=order).sort_values(["_order", "name"], ascending=[False, True]).drop(columns="_order")


def targets_table(assessments: Sequence[Assessment]) -> pd.DataFrame:
    """Every target of every standard: labels in both languages, status, figures, shortfall, detail."""
    rows = []
    for assessment in assessments:
        english = assessment.table(lang="en")
        chinese = assessment.table(lang="zh")
        for (_, row), label_zh in zip(english.iterrows(), chinese["label"], strict=True):
            rows.append(
                {
                    "standard": assessment.standard.name,
                    "target": row["target"],
                    "label_en": row["label"],
                    "label_zh": label_zh,
                    "status": row["status"],
                    "measured": row["measured"],
                    "required": row["required"],
                    "unit": row["unit"],
                    "shortfall": row["shortfall"],
                    "detail": row["detail"],
                }
            )
    columns = ["standard", "target", "label_en", "label_zh", "status", "measured", "required", "unit"]
    return pd.DataFrame(rows, columns=[*columns, "shortfall", "detail"])


def coverage_figures(analysis: Analysis, *, minutes: float) -> dict[str, Any]:
    """Villages and people within the circle: people from the raster cells, else from the villages."""
    villages = analysis.villages
    times = pd.to_numeric(villages["minutes"], errors="coerce")
    covered = (times <= minutes).fillna(False)
    figures: dict[str, Any] = {
        "circle_minutes": minutes,
        "villages_total": len(villages),
        "villages_covered": int(covered.sum()),
        "villages_uncovered": int(len(villages) - covered.sum()),
    }
    cells = analysis.cells
    places = cells if cells is not None and len(cells) else villages
    people = pd.to_numeric(places["population"], errors="coerce").fillna(0.0)
    inside = (pd.to_numeric(places["minutes"], errors="coerce") <= minutes).fillna(False)
    total = float(people.sum())
    figures.update(
        population_total=round(total, 1),
        population_covered=round(float(people[inside].sum()), 1),
        population_share=float(people[inside].sum()) / total if total else None,
        population_basis="raster cells" if places is cells else "villages",
    )
    return figures


# --- the job -----------------------------------------------------------------------------


def input_hashes(config: RunConfig) -> dict[str, dict[str, str]]:
    """Each input file of a run with its sha256, by role."""
    return {role: {"path": str(path), "sha256": file_sha256(path)} for role, path in config.input_files().items()}


def run_report(
    config: RunConfig | str | os.PathLike[str],
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> ReportResult:
    """Run the scheduled report of a region: analyze → check → map → dated folder → history.

    Parameters
    ----------
    config : RunConfig or path
        A loaded configuration or the path of its TOML file.
    force : bool
        Run and record even when nothing changed since the latest run.
    progress : callable, optional
        Called with a short label as each step starts.

    Returns
    -------
    ReportResult

    Raises
    ------
    HistoryLockedError
        When another run holds the history's lock; nothing is changed.
    CoverageError
        For bad inputs (see :func:`coverage.analysis.analyze`); earlier run
        folders and the history are left as they were, the run's log is kept in
        ``<folder>/failed/`` and named in a note on the exception.
    """
    if not isinstance(config, RunConfig):
        config = load_run_config(config)
    step = progress or (lambda label: None)
    folder = config.folder
    folder.mkdir(parents=True, exist_ok=True)
    connection = open_history(config.history)
    try:
        with lock_history(config.history):
            _remove_stale_staging(folder)
            step("hashing inputs")
            inputs = input_hashes(config)
            key = run_key(
                {role: item["sha256"] for role, item in inputs.items()},
                config_sha256=config.sha256,
                version=__version__,
            )
            latest = latest_run(connection)
            if latest is not None and latest.run_key == key and not force:
                earlier = _run_folder(config, latest)
                if earlier.is_dir():
                    return _unchanged(config, latest, earlier)
                logger.warning("the folder of run %d (%s) is gone: running again", latest.id, earlier)
            return _new_run(config, connection, inputs=inputs, key=key, latest=latest, step=step)
    finally:
        connection.close()


def _remove_stale_staging(folder: Path) -> None:
    """Remove staging folders left by killed runs (safe: we hold the lock)."""
    for stale in folder.glob(f"{STAGING_PREFIX}*"):
        if stale.is_dir():
            logger.info("removing %s, left by an interrupted run", stale)
            shutil.rmtree(stale, ignore_errors=True)


def _run_folder(config: RunConfig, run: Run) -> Path:
    path = Path(run.folder)
    return path if path.is_absolute() else config.history.parent / path


def _stored_folder(config: RunConfig, path: Path) -> str:
    """A run folder as the history stores it: relative to the history's folder when inside it."""
    try:
        return path.relative_to(config.history.parent).as_posix()
    except ValueError:
        return str(path)


def _unchanged(config: RunConfig, latest: Run, folder: Path) -> ReportResult:
    figures = latest.summary.get("coverage", {})
    line = (
        f"{latest.region}: unchanged since run {latest.id} ({latest.started_at[:16].replace('T', ' ')}): "
        f"{_targets_phrase(latest.targets_passed, latest.targets_failed, latest.targets_cannot)}; "
        f"{latest.villages_uncovered} of {latest.villages_total} villages outside {latest.circle_minutes:g} min"
        f"{_share_phrase(figures.get('population_share'))}; report {folder / REPORT_HTML}"
    )
    logger.info(line)
    return ReportResult(run=latest.id, unchanged=True, folder=folder, exit_code=latest.exit_code, summary_line=line)


def _targets_phrase(passed: int, failed: int, cannot: int) -> str:
    if passed + failed + cannot == 0:
        return "no targets configured"
    parts = [f"{passed} met", f"{failed} missed"]
    if cannot:
        parts.append(f"{cannot} not evaluable")
    return "targets " + ", ".join(parts)


def _share_phrase(share: float | None) -> str:
    return "" if share is None else f" ({1 - share:.1%} of people)"


class _Forward(logging.Handler):
    """Passes records on to the root logger's handlers, as propagation would."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger().handle(record)


class _RunLog:
    """Writes the package's INFO messages into a run's ``run.log`` while the run lasts.

    The console shows what it showed before: the package logger stops propagating
    for the run, and only records at the level it had before are passed on.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.logger = logging.getLogger("coverage")
        shown = self.logger.getEffectiveLevel()
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.handler.setLevel(min(shown, logging.INFO))
        self.forward = _Forward(shown)
        self.saved = (self.logger.level, self.logger.propagate)

    def __enter__(self) -> _RunLog:
        self.logger.addHandler(self.handler)
        if self.logger.propagate:
            self.logger.addHandler(self.forward)
            self.logger.propagate = False
        self.logger.setLevel(self.handler.level)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.removeHandler(self.forward)
        self.logger.setLevel(self.saved[0])
        self.logger.propagate = self.saved[1]
        self.handler.close()


def _new_run(
    config: RunConfig,
    connection: Any,
    *,
    inputs: dict[str, dict[str, str]],
    key: str,
    latest: Run | None,
    step: Progress,
) -> ReportResult:
    started = dt.datetime.now().astimezone()
    run_id = next_run_id(connection)
    # mkdir, not mkdtemp: the run folder gets the usual permissions (umask), not owner-only
    staging = config.folder / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        with _RunLog(staging / RUN_LOG) as log:
            try:
                logger.info(
                    "run %d of %s (facility-coverage %s, settings %s)",
                    run_id,
                    config.path,
                    __version__,
                    config.sha256[:12],
                )
                for role, item in inputs.items():
                    logger.info("input %s: %s (sha256 %s)", role, item["path"], item["sha256"][:16])
                run, statuses, targets, result = _compute_and_write(
                    config,
                    connection,
                    staging=staging,
                    run_id=run_id,
                    started=started,
                    inputs=inputs,
                    key=key,
                    latest=latest,
                    step=step,
                )
                logger.info("recording run %d as %s", run_id, result.folder)
            except BaseException as error:
                logger.exception("run %d failed: %s", run_id, error)
                _note_failed_log(error, config.folder, log.path, started)
                raise
        # the log is closed before the folder is renamed (Windows cannot rename a folder with an open file)
        try:
            _record_and_publish(connection, run, statuses, targets, staging=staging, final=result.folder)
        except BaseException as error:
            with open(staging / RUN_LOG, "a", encoding="utf-8") as handle:
                handle.write(f"run {run_id} failed while recording: {error!r}\n")
            _note_failed_log(error, config.folder, staging / RUN_LOG, started)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("run %d recorded; report %s", run_id, result.report_html)
    return result


def _note_failed_log(error: BaseException, folder: Path, log: Path, started: dt.datetime) -> None:
    """Keep a failed run's log in ``<folder>/failed/`` and name it in a note on the error."""
    kept = _keep_failed_log(folder, log, started)
    if kept is not None and isinstance(error, Exception):
        error.add_note(f"details: {kept}")


def _keep_failed_log(folder: Path, log: Path, started: dt.datetime) -> Path | None:
    target = folder / FAILED_FOLDER / f"{started.strftime('%Y-%m-%d_%H%M%S')}.log"
    try:
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(log, target)
    except OSError:
        return None
    return target


def _compute_and_write(
    config: RunConfig,
    connection: Any,
    *,
    staging: Path,
    run_id: int,
    started: dt.datetime,
    inputs: dict[str, dict[str, str]],
    key: str,
    latest: Run | None,
    step: Progress,
) -> tuple[Run, pd.DataFrame, pd.DataFrame, ReportResult]:
    """Analyze, check, map and write every file into ``staging``; the run to record and its result."""
    from coverage.assessment import assess
    from coverage.standards import load_standard

    region_inputs = config.region_inputs()
    circle = config.circle_minutes
    step("analysis")
    analysis = analyze(
        **region_inputs,
        profile=config.profile,
        direction=config.direction,
        minutes=config.minutes,
        kinds=list(config.kinds) if config.kinds else None,
        ems=config.ems,
        buffer_m=config.buffer_m,
        per_facility_isochrones=False,
    )
    assessments = []
    for name in config.standards:
        standard = load_standard(name)
        step(f"targets: {standard.name}")
        assessments.append(
            assess(
                standard,
                zone_classes=config.zone_classes,
                zone_class_column=config.zone_class_column,
                **region_inputs,
            )
        )
    targets = targets_table(assessments)
    missed = bool((targets["status"] == FAIL).any())
    exit_code = EXIT_MISSED if missed else EXIT_MET

    step("changes")
    statuses = village_status_table(analysis.villages, minutes=circle)
    changes = None
    if latest is not None:
        changes = dataclasses.replace(
            compare_statuses(village_status(connection, latest.id), statuses, before_run=latest.id, after_run=run_id),
            changed_inputs=changed_inputs(latest, inputs),
            circle_before=latest.circle_minutes,
            circle_after=circle,
        )
    figures = coverage_figures(analysis, minutes=circle)
    trend = _trend(list_runs(connection), run_id, started, figures)
    uncovered = uncovered_table(analysis.villages, minutes=circle)
    title = config.name or analysis.region

    step("map")
    map_document, map_png = _maps(config, analysis, changes, staging=staging, title=title)

    step("report")
    finished = dt.datetime.now().astimezone()
    counts = targets["status"].value_counts()
    passed, failed, cannot = (int(counts.get(status, 0)) for status in (PASS, FAIL, CANNOT))
    line = (
        f"{title}: run {run_id}: {_targets_phrase(passed, failed, cannot)}; "
        f"{figures['villages_uncovered']} of {figures['villages_total']} villages outside {circle:g} min"
        f"{_share_phrase(figures['population_share'])}"
        f"{_changes_phrase(changes)}"
    )
    summary = _summary(
        config,
        analysis,
        run_id=run_id,
        started=started,
        finished=finished,
        key=key,
        inputs=inputs,
        figures=figures,
        targets=targets,
        changes=changes,
        exit_code=exit_code,
        uncovered=uncovered,
    )
    page = ReportPage(
        title=title,
        language=config.language,
        run=run_id,
        started_at=started.isoformat(timespec="seconds"),
        version=__version__,
        config_path=str(config.path),
        profile=analysis.profile.name,
        direction=analysis.direction,
        figures=figures,
        thresholds=analysis.summary()["thresholds"],
        standards=[(a.standard.title_zh, a.standard.title_en, a.standard.name) for a in assessments],
        targets=targets,
        uncovered=uncovered,
        changes=changes,
        trend=trend,
        map_html=map_document,
        map_png=map_png,
        attribution=analysis.attribution,
        inputs=inputs,
        exit_code=exit_code,
        summary_line=line,
    )
    (staging / REPORT_HTML).write_text(render_report(page), encoding="utf-8")
    write_csv(_with_changes(uncovered, changes), staging / UNCOVERED_CSV)
    _write_gpkg(analysis, statuses, uncovered, changes, staging / REPORT_GPKG)
    write_json(summary, staging / SUMMARY_JSON)

    step("history")
    final = _dated_folder(config.folder, started, run_id)
    run = Run(
        id=run_id,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"),
        run_key=key,
        config_path=str(config.path),
        config_sha256=config.sha256,
        version=__version__,
        region=title,
        folder=_stored_folder(config, final),
        circle_minutes=circle,
        villages_total=figures["villages_total"],
        villages_covered=figures["villages_covered"],
        population_total=figures["population_total"],
        population_covered=figures["population_covered"],
        population_share=figures["population_share"],
        targets_passed=passed,
        targets_failed=failed,
        targets_cannot=cannot,
        exit_code=exit_code,
        summary={k: v for k, v in summary.items() if k not in {"analysis", "uncovered_villages"}},
        inputs=inputs,
    )
    logger.info(line)
    result = ReportResult(
        run=run_id,
        unchanged=False,
        folder=final,
        exit_code=exit_code,
        summary_line=f"{line}; report {final / REPORT_HTML}",
        targets=targets,
        changes=changes,
        uncovered=uncovered,
    )
    return run, statuses, targets, result


def _record_and_publish(
    connection: Any, run: Run, statuses: pd.DataFrame, targets: pd.DataFrame, *, staging: Path, final: Path
) -> None:
    """Record the run and rename its staging folder to ``final``, in one transaction.

    The folder appears only with its record: when the insert, the rename or the
    commit fails, the record is rolled back and the folder moved back.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        insert_run(connection, run, villages=statuses, targets=targets)
        os.rename(staging, final)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    try:
        connection.execute("COMMIT")
    except BaseException:
        os.rename(final, staging)
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _dated_folder(folder: Path, started: dt.datetime, run_id: int) -> Path:
    path = folder / started.strftime("%Y-%m-%d_%H%M%S")
    return path if not path.exists() else folder / f"{path.name}_run{run_id}"


def _changes_phrase(changes: RunDiff | None) -> str:
    if changes is None:
        return "; first run"
    return (
        f"; since run {changes.before}: {len(changes.newly_uncovered)} newly uncovered, "
        f"{len(changes.newly_covered)} newly covered"
    )


def _trend(runs: Sequence[Run], run_id: int, started: dt.datetime, figures: dict[str, Any]) -> pd.DataFrame:
    """Covered share per run, this one last: of people when every run has it, else of villages."""
    rows = [
        {
            "run": run.id,
            "date": run.started_at[:10],
            "people": run.population_share,
            "villages": run.villages_covered / run.villages_total if run.villages_total else None,
            "minutes": run.circle_minutes,
        }
        for run in runs
    ]
    rows.append(
        {
            "run": run_id,
            "date": started.date().isoformat(),
            "people": figures["population_share"],
            "villages": figures["villages_covered"] / figures["villages_total"] if figures["villages_total"] else None,
            "minutes": figures["circle_minutes"],
        }
    )
    frame = pd.DataFrame(rows)
    basis = "people" if frame["people"].notna().all() else "villages"
    return pd.DataFrame(
        {
            "run": frame["run"],
            "date": frame["date"],
            "share": frame[basis].astype(float),
            "basis": basis,
            "minutes": frame["minutes"],
        }
    )


def _maps(
    config: RunConfig, analysis: Analysis, changes: RunDiff | None, *, staging: Path, title: str
) -> tuple[str, bytes]:
    """The interactive map's HTML document and the static map's PNG bytes (also kept as ``map.png``)."""
    circle = config.circle_minutes
    changed = changes is not None and (len(changes.newly_uncovered) or len(changes.newly_covered))
    m = coverage_map(
        analysis,
        minutes=circle,
        title=title,
        basemap=config.basemap,
        basemap_attribution=config.basemap_attribution,
        extra_layers=[_change_layer(analysis, changes)] if changes is not None and changed else [],
    )
    document = map_html(m, self_contained=True)
    png = draw_static_map(analysis, staging / MAP_PNG, minutes=circle, title=title)
    return document, png.read_bytes()


def _change_layer(analysis: Analysis, changes: RunDiff) -> DataLayer:
    """Rings around the villages whose status changed since the previous run."""
    villages = analysis.villages.set_index(analysis.villages["id"].astype(str))
    features = []
    for table, colour, word in (
        (changes.newly_uncovered, UNCOVERED_COLOUR, "newly uncovered"),
        (changes.newly_covered, COVERED_COLOUR, "newly covered"),
    ):
        for row in table.itertuples(index=False):
            if row.id not in villages.index:
                continue
            features.append(
                feature(
                    villages.loc[row.id].geometry,
                    style={"radius": 14, "color": colour, "weight": 3, "fill": False},
                    tooltip=f"{row.name}: {word} since run {changes.before}",
                )
            )
    return DataLayer(features, name=f"Changed since run {changes.before} ({len(features)})")


def _with_changes(uncovered: pd.DataFrame, changes: RunDiff | None) -> pd.DataFrame:
    """The uncovered table with a ``change`` column: newly_uncovered, still_uncovered or first_run."""
    table = uncovered.copy()
    if changes is None:
        table["change"] = "first_run"
        return table
    newly = set(changes.newly_uncovered["id"])
    still = set(changes.still_uncovered["id"])
    table["change"] = [
        "newly_uncovered" if i in newly else "still_uncovered" if i in still else "new_village" for i in table["id"]
    ]
    return table


def _change_of_each(statuses: pd.DataFrame, changes: RunDiff | None) -> list[str]:
    if changes is None:
        return ["first_run"] * len(statuses)
    kinds = {}
    for name in ("newly_uncovered", "newly_covered", "still_uncovered", "appeared"):
        for village in getattr(changes, name)["id"]:
            kinds[village] = name
    return [kinds.get(i, "still_covered") for i in statuses["id"]]


def _for_gpkg(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.copy()
    for column in frame.columns:
        if column != "geometry" and frame[column].dtype == object:
            frame[column] = frame[column].astype("string")
    return frame


def _write_gpkg(
    analysis: Analysis,
    statuses: pd.DataFrame,
    uncovered: pd.DataFrame,
    changes: RunDiff | None,
    path: Path,
) -> None:
    """Layers ``villages`` (status and change), ``uncovered_villages``, ``facilities`` and ``isochrones``."""
    villages = gpd.GeoDataFrame(
        statuses.drop(columns=["lon", "lat"]).assign(change=_change_of_each(statuses, changes)),
        geometry=analysis.villages.geometry.to_numpy(),
        crs=4326,
    )
    outside = gpd.GeoDataFrame(
        _with_changes(uncovered, changes),
        geometry=gpd.points_from_xy(uncovered["lon"], uncovered["lat"]),
        crs=4326,
    )
    facilities = analysis.facilities[[c for c in ("id", "name", "kind", "off_network") if c in analysis.facilities]]
    layers = {
        "villages": villages,
        "uncovered_villages": outside,
        "facilities": gpd.GeoDataFrame(facilities, geometry=analysis.facilities.geometry, crs=4326),
        "isochrones": analysis.isochrones,
    }
    for layer, frame in layers.items():
        _for_gpkg(frame).to_file(path, layer=layer, driver="GPKG")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _summary(
    config: RunConfig,
    analysis: Analysis,
    *,
    run_id: int,
    started: dt.datetime,
    finished: dt.datetime,
    key: str,
    inputs: dict[str, dict[str, str]],
    figures: dict[str, Any],
    targets: pd.DataFrame,
    changes: RunDiff | None,
    exit_code: int,
    uncovered: pd.DataFrame,
) -> dict[str, Any]:
    change_part: dict[str, Any] | None = None
    if changes is not None:
        change_part = {
            "previous_run": changes.before,
            **changes.counts(),
            "changed_inputs": sorted(changes.changed_inputs),
            "newly_uncovered": _records(changes.newly_uncovered[["id", "name", "zone", "minutes_after"]]),
            "newly_covered": _records(changes.newly_covered[["id", "name", "zone", "minutes_after"]]),
        }
    return {
        "run": run_id,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "region": config.name or analysis.region,
        "config": {"path": str(config.path), "sha256": config.sha256},
        "version": __version__,
        "run_key": key,
        "exit_code": exit_code,
        "targets_met": exit_code == EXIT_MET,
        "profile": analysis.profile.name,
        "direction": analysis.direction,
        "coverage": figures,
        "targets": _records(targets),
        "changes": change_part,
        "uncovered_villages": _records(uncovered[["id", "name", "zone", "population", "minutes", "minutes_beyond"]]),
        "inputs": inputs,
        "analysis": analysis.summary(),
        "attribution": analysis.attribution,
    }


# --- the page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPage:
    """Everything the report page shows; :func:`render_report` turns it into HTML."""

    title: str
    language: str
    run: int
    started_at: str
    version: str
    config_path: str
    profile: str
    direction: str
    figures: dict[str, Any]
    thresholds: list[dict[str, Any]]
    standards: list[tuple[str, str, str]]
    targets: pd.DataFrame
    uncovered: pd.DataFrame
    changes: RunDiff | None
    trend: pd.DataFrame
    map_html: str | None
    map_png: bytes | None
    attribution: str
    inputs: dict[str, dict[str, str]]
    exit_code: int
    summary_line: str


#: The page's words in each language.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "report": "Coverage report",
        "run_n": "Run {n}",
        "targets": "Targets of the plan",
        "no_targets": "No targets configured: add standards to the [check] table of the configuration.",
        "target": "Target",
        "status": "Status",
        "measured": "Measured",
        "required": "Required",
        "shortfall": "Shortfall",
        "detail": "How it was measured",
        "pass": "met",
        "fail": "MISSED",
        "cannot_evaluate": "cannot evaluate",
        "all_met": "All evaluated targets are met.",
        "some_missed": "Targets missed",
        "map": "Coverage map",
        "coverage": "Coverage",
        "within": "Within",
        "people": "People",
        "villages": "Villages",
        "uncovered": "Villages outside the {m:g}-minute circle",
        "none_uncovered": "Every village is within the circle.",
        "name": "Village",
        "zone": "Admin unit",
        "population": "Population",
        "nearest": "Nearest facility",
        "minutes": "Minutes",
        "beyond": "Beyond the circle (min)",
        "no_route": "no road route",
        "off_network": "off the road network",
        "changes": "Changes since the last run",
        "first_run": "This is the first run: nothing to compare yet.",
        "since": "Since run {n}",
        "newly_uncovered": "Newly uncovered",
        "newly_covered": "Newly covered",
        "still_uncovered": "Still uncovered",
        "appeared": "New villages in the input",
        "disappeared": "Villages no longer in the input",
        "none": "none",
        "changed_inputs": "Inputs changed",
        "no_changed_inputs": "none",
        "circle_changed": "The circle changed from {a:g} to {b:g} minutes: statuses changed by definition.",
        "before": "before",
        "after": "now",
        "trend": "Covered share over the runs",
        "trend_people": "share of people within {m:g} min",
        "trend_villages": "share of villages within {m:g} min",
        "inputs": "Inputs",
        "role": "Role",
        "file": "File",
        "generated": "Made by facility-coverage {v} from {c}",
        "direction_to_facility": "from each place to the nearest facility",
        "direction_from_facility": "from the nearest facility to each place",
        "profile": "Profile",
        "print_note": "Printed copy: the static map below replaces the interactive one.",
    },
    "zh": {
        "report": "医疗设施覆盖报告",
        "run_n": "第 {n} 次运行",
        "targets": "规划目标",
        "no_targets": "未配置目标：请在配置文件的 [check] 表中加入标准。",
        "target": "目标",
        "status": "状态",
        "measured": "实测",
        "required": "要求",
        "shortfall": "缺口",
        "detail": "测算方法",
        "pass": "达标",
        "fail": "未达标",
        "cannot_evaluate": "无法评估",
        "all_met": "所有可评估目标均已达标。",
        "some_missed": "未达标目标",
        "map": "覆盖地图",
        "coverage": "覆盖情况",
        "within": "时间圈",
        "people": "人口",
        "villages": "村庄",
        "uncovered": "{m:g}分钟圈以外的村庄",
        "none_uncovered": "所有村庄均在圈内。",
        "name": "村庄",
        "zone": "行政单元",
        "population": "人口",
        "nearest": "最近设施",
        "minutes": "分钟",
        "beyond": "超出（分钟）",
        "no_route": "无道路可达",
        "off_network": "远离路网",
        "changes": "与上次运行相比的变化",
        "first_run": "这是首次运行，暂无可比较的记录。",
        "since": "自第 {n} 次运行以来",
        "newly_uncovered": "新增未覆盖",
        "newly_covered": "新增覆盖",
        "still_uncovered": "仍未覆盖",
        "appeared": "输入中新增的村庄",
        "disappeared": "输入中已删除的村庄",
        "none": "无",
        "changed_inputs": "变化的输入",
        "no_changed_inputs": "无",
        "circle_changed": "时间圈由 {a:g} 分钟改为 {b:g} 分钟，状态变化源于定义变化。",
        "before": "之前",
        "after": "现在",
        "trend": "历次运行的覆盖比例",
        "trend_people": "{m:g}分钟内人口比例",
        "trend_villages": "{m:g}分钟内村庄比例",
        "inputs": "输入文件",
        "role": "用途",
        "file": "文件",
        "generated": "由 facility-coverage {v} 根据 {c} 生成",
        "direction_to_facility": "从各地到最近设施",
        "direction_from_facility": "从最近设施到各地",
        "profile": "出行方式",
        "print_note": "打印版：下方静态地图代替交互地图。",
    },
}

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  color: #1f2328; max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 22px; margin: 0 0 4px 0; } h2 { font-size: 17px; margin: 24px 0 8px 0; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 14px; margin: 12px 0 4px 0; }
.meta { color: #57606a; font-size: 12px; }
.summary { padding: 8px 12px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
.summary.ok { background: #dafbe1; border: 1px solid #4ac26b; } .summary.missed { background: #ffebe9; border: 1px solid #ff8182; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; white-space: nowrap; }
.pass { color: #1a7f37; font-weight: 700; } .fail { color: #cf222e; font-weight: 700; } .cannot_evaluate { color: #6e7781; font-weight: 700; }
.small { font-size: 12px; color: #57606a; }
iframe.map { width: 100%; height: 620px; border: 1px solid #d0d7de; }
img.map { width: 100%; display: none; }
.changes { display: flex; gap: 16px; flex-wrap: wrap; } .changes > div { flex: 1 1 300px; }
svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
footer { margin-top: 24px; font-size: 12px; color: #57606a; border-top: 1px solid #d0d7de; padding-top: 6px; }
.print-only { display: none; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  iframe.map, .screen-only { display: none; }
  img.map, .print-only { display: block; }
  h2 { break-after: avoid; } tr { break-inside: avoid; }
}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ 'zh-CN' if page.language == 'zh' else 'en' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ w.report }}: {{ page.title }} ({{ run_n }})</title>
<style>{{ css }}</style>
</head>
<body>
<header>
<h1>{{ w.report }}: {{ page.title }}</h1>
<div class="meta">{{ run_n }} · {{ page.started_at }} · {{ w.profile }} {{ page.profile }},
{{ direction }} · facility-coverage {{ page.version }}</div>
<div class="summary {{ 'missed' if page.exit_code else 'ok' }}">{{ page.summary_line }}</div>
</header>

<section id="targets">
<h2>{{ w.targets }}</h2>
{% if not standards %}<p>{{ w.no_targets }}</p>{% endif %}
{% for s in standards %}
<h3>{{ s.title }} <span class="small">({{ s.name }})</span></h3>
<table>
<tr><th>{{ w.target }}</th><th>{{ w.status }}</th><th>{{ w.measured }}</th><th>{{ w.required }}</th><th>{{ w.shortfall }}</th><th>{{ w.detail }}</th></tr>
{% for t in s.targets %}
<tr><td>{{ t.label }}</td><td class="{{ t.status }}">{{ w[t.status] }}</td><td class="num">{{ t.measured }}</td>
<td class="num">{{ t.required }}</td><td>{{ t.shortfall }}</td><td class="small">{{ t.detail }}</td></tr>
{% endfor %}
</table>
{% endfor %}
</section>

<section id="map">
<h2>{{ w.map }}</h2>
{% if page.map_html %}<iframe class="map" title="{{ w.map }}" sandbox="allow-scripts allow-popups" srcdoc="{{ page.map_html }}"></iframe>{% endif %}
{% if png %}<p class="small print-only">{{ w.print_note }}</p><img class="map" alt="{{ w.map }}" src="data:image/png;base64,{{ png }}">{% endif %}
</section>

<section id="coverage">
<h2>{{ w.coverage }}</h2>
<table>
<tr><th>{{ w.within }}</th><th>{{ w.people }}</th><th>{{ w.villages }}</th></tr>
{% for t in thresholds %}
<tr><td>{{ t.minutes }} min</td><td class="num">{{ t.people }}</td><td class="num">{{ t.villages }}</td></tr>
{% endfor %}
</table>
</section>

<section id="uncovered">
<h2>{{ uncovered_title }} ({{ uncovered|length }})</h2>
{% if not uncovered %}<p>{{ w.none_uncovered }}</p>{% else %}
<table>
<tr><th>{{ w.name }}</th><th>{{ w.zone }}</th><th>{{ w.population }}</th><th>{{ w.nearest }}</th><th>{{ w.minutes }}</th><th>{{ w.beyond }}</th></tr>
{% for v in uncovered %}
<tr><td>{{ v.name }}{% if v.off_network %} <span class="small">({{ w.off_network }})</span>{% endif %}</td><td>{{ v.zone }}</td>
<td class="num">{{ v.population }}</td><td>{{ v.nearest }}</td><td class="num">{{ v.minutes }}</td><td class="num">{{ v.beyond }}</td></tr>
{% endfor %}
</table>
{% endif %}
</section>

<section id="changes">
<h2>{{ w.changes }}</h2>
{% if not changes %}<p>{{ w.first_run }}</p>{% else %}
<p><b>{{ changes.since }}</b>. {{ w.changed_inputs }}: {{ changes.inputs }}.</p>
{% if changes.circle_note %}<p>{{ changes.circle_note }}</p>{% endif %}
<div class="changes">
{% for group in changes.groups %}
<div><h3>{{ group.title }} ({{ group.rows|length }})</h3>
{% if not group.rows %}<p class="small">{{ w.none }}</p>{% else %}
<table><tr><th>{{ w.name }}</th><th>{{ w.zone }}</th><th>{{ w.population }}</th><th>{{ w.minutes }} ({{ w.before }} → {{ w.after }})</th></tr>
{% for v in group.rows %}<tr><td>{{ v.name }}</td><td>{{ v.zone }}</td><td class="num">{{ v.population }}</td><td class="num">{{ v.minutes }}</td></tr>{% endfor %}
</table>{% endif %}
</div>
{% endfor %}
</div>
{% endif %}
<h3>{{ w.trend }}</h3>
{{ trend_svg }}
</section>

<footer>
<div>{{ page.attribution }}</div>
<div>{{ generated }}</div>
<table class="small">
<tr><th>{{ w.role }}</th><th>{{ w.file }}</th><th>sha256</th></tr>
{% for role, item in page.inputs.items() %}<tr><td>{{ role }}</td><td>{{ item.path }}</td><td><code>{{ item.sha256[:16] }}</code></td></tr>{% endfor %}
</table>
</footer>
</body>
</html>
"""

_ENVIRONMENT = Environment(autoescape=True, keep_trailing_newline=True)


def _number(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def _figure(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    number = float(value)
    if unit == "share":
        return f"{number:.1%}"
    text = f"{number:,.0f}" if number == round(number) else f"{number:,.2f}"
    return f"{text} {unit}".strip()


def _minutes_text(value: Any, missing: str, *, sign: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    return f"{sign}{float(value):.1f}"


def _minutes_pair(before: Any, after: Any, no_route: str) -> str:
    return f"{_minutes_text(before, no_route)} → {_minutes_text(after, no_route)}"


def render_report(page: ReportPage) -> str:
    """The report page as one self-contained HTML document.

    Every text from the inputs (place and facility names, labels, paths) is
    HTML-escaped by the template; the interactive map is embedded as an
    ``iframe`` ``srcdoc`` (escaped once more, sandboxed) and the static map as a
    base64 PNG shown when printing. No external script, style or font is loaded.
    """
    w = WORDS.get(page.language, WORDS["en"])
    standards = []
    for title_zh, title_en, name in page.standards:
        rows = page.targets[page.targets["standard"] == name]
        standards.append(
            {
                "title": title_zh if page.language == "zh" else title_en,
                "name": name,
                "targets": [
                    {
                        "label": row.label_zh if page.language == "zh" else row.label_en,
                        "status": row.status if row.status in (PASS, FAIL, CANNOT) else CANNOT,
                        "measured": _figure(row.measured, str(row.unit or "")),
                        "required": _figure(row.required, str(row.unit or "")),
                        "shortfall": str(row.shortfall or "").replace("_", " "),
                        "detail": row.detail,
                    }
                    for row in rows.itertuples(index=False)
                ],
            }
        )
    thresholds = []
    for row in page.thresholds:
        people = (
            f"{row['population_covered']:,.0f} / {row['population_total']:,.0f} ({row['population_share']:.1%})"
            if row.get("population_share") is not None
            else f"{row['village_population_covered']:,.0f} / {row['village_population_total']:,.0f}"
        )
        thresholds.append(
            {
                "minutes": f"≤ {row['minutes']:g}",
                "people": people,
                "villages": f"{row['villages_covered']} / {row['villages_total']}",
            }
        )
    uncovered = [
        {
            "name": row.name,
            "zone": row.zone,
            "population": _number(row.population),
            "nearest": row.nearest_facility if isinstance(row.nearest_facility, str) else "–",
            "minutes": _minutes_text(row.minutes, w["no_route"]),
            "beyond": _minutes_text(row.minutes_beyond, "–", sign="+"),
            "off_network": bool(row.off_network),
        }
        for row in page.uncovered.itertuples(index=False)
    ]
    changes = None
    if page.changes is not None:
        diff = page.changes
        groups = []
        for name in ("newly_uncovered", "newly_covered", "still_uncovered", "appeared", "disappeared"):
            table = getattr(diff, name)
            if name in ("appeared", "disappeared") and table.empty:
                continue
            groups.append(
                {
                    "title": w[name],
                    "rows": [
                        {
                            "name": row.name,
                            "zone": row.zone,
                            "population": _number(row.population),
                            "minutes": _minutes_pair(row.minutes_before, row.minutes_after, w["no_route"]),
                        }
                        for row in table.itertuples(index=False)
                    ],
                }
            )
        circle_note = ""
        if diff.circle_before is not None and diff.circle_before != diff.circle_after:
            circle_note = w["circle_changed"].format(a=diff.circle_before, b=diff.circle_after)
        changes = {
            "since": w["since"].format(n=diff.before),
            "inputs": ", ".join(diff.changed_inputs) or w["no_changed_inputs"],
            "circle_note": circle_note,
            "groups": groups,
        }
    png = base64.b64encode(page.map_png).decode("ascii") if page.map_png else ""
    direction = w.get(f"direction_{page.direction}", page.direction)
    return _ENVIRONMENT.from_string(_TEMPLATE).render(
        page=page,
        w=w,
        css=Markup(_CSS),
        direction=direction,
        standards=standards,
        thresholds=thresholds,
        uncovered=uncovered,
        uncovered_title=w["uncovered"].format(m=page.figures["circle_minutes"]),
        changes=changes,
        trend_svg=Markup(trend_svg(page.trend, language=page.language)),
        png=png,
        generated=w["generated"].format(v=page.version, c=page.config_path),
        run_n=w["run_n"].format(n=page.run),
    )


def trend_svg(trend: pd.DataFrame, *, language: str = "en", width: int = 560, height: int = 170) -> str:
    """A small line chart of the covered share per run, as inline SVG (every label escaped).

    Parameters
    ----------
    trend : DataFrame
        ``run``, ``date``, ``share`` (0–1, NaN allowed), ``basis`` and ``minutes``, oldest first.
    """
    w = WORDS.get(language, WORDS["en"])
    left, right, top, bottom = 44, 48, 12, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    points = trend.dropna(subset=["share"]).reset_index(drop=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img">'
    ]
    basis = str(trend["basis"].iloc[0]) if len(trend) else "people"
    minutes = float(trend["minutes"].iloc[-1]) if len(trend) else 0.0
    label = w["trend_people" if basis == "people" else "trend_villages"].format(m=minutes)
    parts.append(f"<title>{html.escape(label)}</title>")
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + inner_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{fraction:.0%}</text>')
    n = len(points)

    def x_of(i: int) -> float:
        return left + (inner_w / 2 if n == 1 else inner_w * i / (n - 1))

    coordinates = [(x_of(i), top + inner_h * (1 - float(s))) for i, s in enumerate(points["share"])]
    if n > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#0969da" stroke-width="2"/>')
    step = max(1, math.ceil(n / 12))
    for i, ((x, y), row) in enumerate(zip(coordinates, points.to_dict(orient="records"), strict=True)):
        tip = html.escape(f"{w['run_n'].format(n=row['run'])} ({row['date']}): {row['share']:.1%}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#0969da"><title>{tip}</title></circle>')
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 18}" text-anchor="middle">#{html.escape(str(row["run"]))}</text>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{height - 5}" text-anchor="middle">{html.escape(str(row["date"]))}</text>'
            )
    if n:
        parts.append(
            f'<text x="{coordinates[-1][0]:.1f}" y="{coordinates[-1][1] - 8:.1f}" text-anchor="middle" '
            f'fill="#0969da">{float(points["share"].iloc[-1]):.1%}</text>'
        )
    parts.append("</svg>")
    return f'<figure class="trend">{"".join(parts)}<figcaption class="small">{html.escape(label)}</figcaption></figure>'
