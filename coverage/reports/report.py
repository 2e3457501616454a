"""Scheduled reports: analyze → check → map for one configured region, a dated folder per run, and history.

:func:`run_report` is the whole unattended job behind ``facility-coverage report``:

1. take the history's lock (one run at a time) and hash every input file; when
   the inputs, the configuration's settings and the software version equal those
   of the latest run, stop there: "unchanged since run N", with that run's exit code;
2. run the analysis (:func:`coverage.analysis.run.analyze`) and every standard's
   targets (:func:`coverage.standards.assessment.assess`);
3. compare each village's status with the latest recorded run;
4. draw the maps (:mod:`coverage.outputs.maps`, :mod:`coverage.outputs.static_map`) and write
   ``report.html`` (one self-contained page), ``uncovered_villages.csv``,
   ``report.gpkg``, ``summary.json`` and ``run.log`` into a hidden staging folder;
5. in one history transaction, record the run and rename the staging folder to
   the dated run folder.

A run that fails or is killed at any point leaves earlier run folders and the
history as they were; a failed run's log is kept in ``<folder>/failed/``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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

from coverage._i18n import LANGUAGES, text
from coverage._version import __version__
from coverage.analysis.result import Analysis
from coverage.analysis.run import analyze
from coverage.network.prepared import file_sha256
from coverage.outputs.files import write_csv, write_json, write_layer
from coverage.outputs.maps import (
    COVERED_COLOUR,
    UNCOVERED_COLOUR,
    DataLayer,
    check_basemap,
    coverage_map,
    feature,
    map_html,
)
from coverage.outputs.paths import check_out_file, check_out_folder
from coverage.outputs.static_map import draw_static_map
from coverage.reports.config import RunConfig, load_run_config, with_overrides
from coverage.reports.history import (
    Run,
    RunDiff,
    changed_inputs,
    check_history_kept,
    compare_statuses,
    insert_run,
    latest_run,
    list_runs,
    lock_history,
    next_run_id,
    open_history,
    run_folders,
    run_key,
    village_status,
    village_status_table,
)
from coverage.reports.page import ReportPage, render_report
from coverage.standards.checks import ASSUMED, CANNOT, FAIL, NOT_APPLICABLE, PASS, exit_status

if TYPE_CHECKING:
    from coverage.standards.assessment import Assessment

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
        One row per target of every standard (:data:`coverage.reports.history.TARGET_COLUMNS`
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
        for (_, row), (_, zh) in zip(english.iterrows(), chinese.iterrows(), strict=True):
            rows.append(
                {
                    "standard": assessment.standard.name,
                    "target": row["target"],
                    "label_en": row["label"],
                    "label_zh": zh["label"],
                    "status": row["status"],
                    "measured": row["measured"],
                    "required": row["required"],
                    "unit": row["unit"],
                    "shortfall": row["shortfall"],
                    "assumption": row["assumption"],
                    "detail": row["detail"],
                    "detail_zh": zh["detail"],
                }
            )
    columns = ["standard", "target", "label_en", "label_zh", "status", "measured", "required", "unit"]
    return pd.DataFrame(rows, columns=[*columns, "shortfall", "assumption", "detail", "detail_zh"])


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
        population_basis=analysis.population_basis,
    )
    if analysis.population_basis == "none":
        # no population data: a share of "people" would be a share of nothing
        figures.update(population_total=None, population_covered=None, population_share=None)
    return figures


def population_line(analysis: Analysis, lang: str = "en") -> str:
    """What the report's people are: the basis, and how they were calibrated to official totals."""
    basis = {"raster cells": "basis_cells", "villages": "basis_villages"}.get(
        analysis.population_basis, "no_population"
    )
    line = text(basis, lang)
    if analysis.population_calibration is not None:
        line += ("；" if lang == "zh" else "; ") + analysis.population_calibration.describe(lang)
    return line


# --- the job -----------------------------------------------------------------------------


def input_hashes(config: RunConfig) -> dict[str, dict[str, str]]:
    """Each input file of a run with its sha256, by role."""
    return {role: {"path": str(path), "sha256": file_sha256(path)} for role, path in config.input_files().items()}


def run_report(
    config: RunConfig | str | os.PathLike[str],
    *,
    force: bool = False,
    allow_unevaluated: bool | None = None,
    language: str | None = None,
    progress: Progress | None = None,
) -> ReportResult:
    """Run the scheduled report of a region: analyze → check → map → dated folder → history.

    Parameters
    ----------
    config : RunConfig or path
        A loaded configuration or the path of its TOML file.
    force : bool
        Run and record even when nothing changed since the latest run.
    allow_unevaluated : bool, optional
        Overrides the configuration's ``check.allow_unevaluated``: targets that could
        not be evaluated do not make the run exit 1 (see
        :func:`coverage.standards.checks.exit_status`).
    language : {"en", "zh"}, optional
        Overrides the configuration's ``report.language``: the page, the map and the
        summary line in that language.
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
        For bad inputs (see :func:`coverage.analysis.run.analyze`); earlier run
        folders and the history are left as they were, the run's log is kept in
        ``<folder>/failed/`` and named in a note on the exception.
    """
    if not isinstance(config, RunConfig):
        config = load_run_config(config)
    if allow_unevaluated is not None and allow_unevaluated != config.allow_unevaluated:
        config = with_overrides(config, allow_unevaluated=allow_unevaluated)
    if language is not None and language != config.language:
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
        config = with_overrides(config, language=language)
    step = progress or (lambda label: None)
    folder = config.folder
    _check_locations(config)
    check_history_kept(config.history, run_folders(folder))
    folder.mkdir(parents=True, exist_ok=True)
    connection = open_history(config.history)
    try:
        with lock_history(config.history):
            _remove_stale_staging(folder)
            _set_aside_unrecorded(config, connection)
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


def _check_locations(config: RunConfig) -> None:
    """The report folder and the history can be written, and the basemap is usable: checked before any work."""
    where = config.path.name
    check_out_folder(config.folder, option=f"{where}: [report] folder")
    check_out_file(config.history, option=f"{where}: [report] history")
    check_basemap(config.basemap, config.basemap_attribution, source=f"{where}: [report] basemap")


def _set_aside_unrecorded(config: RunConfig, connection: Any) -> None:
    """Move run folders the history does not know to ``failed/`` (call under the lock).

    A run killed between publishing its folder and committing its record leaves a
    complete-looking folder claiming the next run number; the next run would claim
    it too. Such folders are moved aside, named as unrecorded; any other folder the
    history does not know means the history was replaced, and the run stops.
    """
    next_id = next_run_id(connection)
    recorded = {_run_folder(config, run).resolve() for run in list_runs(connection)}
    strays = []
    for path, claimed in run_folders(config.folder):
        if path.resolve() in recorded:
            continue
        if claimed == next_id:
            target = config.folder / FAILED_FOLDER / f"{path.name}_unrecorded_run{claimed}"
            target.parent.mkdir(exist_ok=True)
            os.replace(path, target)
            logger.warning(
                "%s: the folder of run %d, stopped before the history recorded it; moved to %s (not in the history)",
                path,
                claimed,
                target,
            )
        else:
            strays.append((path, claimed))
    check_history_kept(config.history, strays, recorded_runs=len(recorded))


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
    lang = config.language
    line = text(
        "report_unchanged",
        lang,
        title=latest.region,
        run=latest.id,
        when=latest.started_at[:16].replace("T", " "),
        targets=_targets_phrase(latest.targets_passed, latest.targets_failed, latest.targets_cannot, lang=lang),
        outside=latest.villages_uncovered,
        total=latest.villages_total,
        minutes=latest.circle_minutes,
        share=_share_phrase(figures.get("population_share"), lang),
        report=folder / REPORT_HTML,
    )
    logger.info(line)
    return ReportResult(run=latest.id, unchanged=True, folder=folder, exit_code=latest.exit_code, summary_line=line)


def _targets_phrase(passed: int, failed: int, cannot: int, not_applicable: int = 0, *, lang: str = "en") -> str:
    if passed + failed + cannot + not_applicable == 0:
        return text("no_targets", lang)
    phrase = text("targets_counts", lang, met=passed, missed=failed)
    if cannot:
        phrase += text("targets_unconfirmed", lang, n=cannot)
    if not_applicable:
        phrase += text("targets_not_applicable", lang, n=not_applicable)
    return phrase


def _share_phrase(share: float | None, lang: str = "en") -> str:
    return "" if share is None else text("people_outside_share", lang, share=1 - share)


class _Forward(logging.Handler):
    """Passes records on to the root logger's handlers, as propagation would, without tracebacks.

    The run's log keeps a failure's traceback; the console shows its one line.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.exc_text:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
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
    from coverage.standards.assessment import analysis_key, assess
    from coverage.standards.standard import load_standard

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
    # the standards reuse this analysis when they need the same one, and share the others
    known = {analysis_key(analysis.profile.name, config.direction, kinds=config.kinds, ems=config.ems): analysis}
    assessments = []
    for name in config.standards:
        standard = load_standard(name)
        step(f"targets: {standard.name}")
        assessments.append(
            assess(
                standard,
                zone_classes=config.zone_classes,
                zone_class_column=config.zone_class_column,
                analyses=known,
                **region_inputs,
            )
        )
    ems_result = None
    if config.ems_simulation is not None:
        from coverage.reports.ems_section import judge_availability, simulate_region, write_section_files

        step("ambulances")
        ems_result = simulate_region(config, analysis, region_inputs)
        assessments = judge_availability(assessments, ems_result)
        write_section_files(ems_result, staging)
    targets = targets_table(assessments)
    target_statuses = tuple(str(s) for s in targets["status"])
    unmet = exit_status(target_statuses, allow_unevaluated=config.allow_unevaluated)
    exit_code = EXIT_MISSED if unmet else EXIT_MET

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
    passed, failed, not_applicable = (int(counts.get(status, 0)) for status in (PASS, FAIL, NOT_APPLICABLE))
    # the history's third count is every target not confirmed: not evaluable, or measured on stand-in data
    cannot = int(counts.get(CANNOT, 0)) + int(counts.get(ASSUMED, 0))
    lang = config.language
    line = text(
        "report_line",
        lang,
        title=title,
        run=run_id,
        targets=_targets_phrase(passed, failed, cannot, not_applicable, lang=lang),
        outside=figures["villages_uncovered"],
        total=figures["villages_total"],
        minutes=circle,
        share=_share_phrase(figures["population_share"], lang),
        changes=_changes_phrase(changes, lang),
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
        ems=None if ems_result is None else _ems_page(ems_result, config.language),
        population_note=population_line(analysis, config.language),
    )
    if ems_result is not None:
        summary["ems"] = ems_result.summary()
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
        summary_line=line + text("report_at", config.language, report=final / REPORT_HTML),
        targets=targets,
        changes=changes,
        uncovered=uncovered,
    )
    return run, statuses, targets, result


def _ems_page(result: Any, language: str) -> dict[str, Any]:
    from coverage.reports.ems_section import page_section

    return page_section(result, language=language)


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


def _changes_phrase(changes: RunDiff | None, lang: str = "en") -> str:
    if changes is None:
        return text("first_run", lang)
    return text(
        "since_run", lang, run=changes.before, lost=len(changes.newly_uncovered), gained=len(changes.newly_covered)
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
    changed = changes is not None and bool(len(changes.newly_uncovered) or len(changes.newly_covered))
    m = coverage_map(
        analysis,
        minutes=circle,
        title=title,
        basemap=config.basemap,
        basemap_attribution=config.basemap_attribution,
        extra_layers=[_change_layer(analysis, changes, config.language)] if changes is not None and changed else [],
        lang=config.language,
    )
    document = map_html(m, self_contained=True)
    png = draw_static_map(analysis, staging / MAP_PNG, minutes=circle, title=title, lang=config.language)
    return document, png.read_bytes()


def _change_layer(analysis: Analysis, changes: RunDiff, lang: str = "en") -> DataLayer:
    """Rings around the villages whose status changed since the previous run."""
    villages = analysis.villages.set_index(analysis.villages["id"].astype(str))
    features = []
    for table, colour, word in (
        (changes.newly_uncovered, UNCOVERED_COLOUR, text("newly_uncovered", lang)),
        (changes.newly_covered, COVERED_COLOUR, text("newly_covered", lang)),
    ):
        for row in table.itertuples(index=False):
            if row.id not in villages.index:
                continue
            features.append(
                feature(
                    villages.loc[row.id].geometry,
                    style={"radius": 14, "color": colour, "weight": 3, "fill": False},
                    tooltip=text("map_changed_since", lang, name=row.name, word=word, run=changes.before),
                )
            )
    return DataLayer(features, name=text("map_changed_layer", lang, run=changes.before, n=len(features)))


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
        write_layer(frame, path, layer, credit=analysis.attribution, sources=analysis.sources)


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
