"""The ``report``, ``init`` and ``history`` commands of ``facility-coverage``: scheduled reports.

:func:`add_report_commands` registers the three sub-commands on the command's
sub-parsers; :data:`HANDLERS` maps each command name to its handler, which takes
the parsed arguments and returns the exit status. The handlers are thin: the
work is done by :mod:`coverage.report`, :mod:`coverage.runconfig` and
:mod:`coverage.history`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from coverage._errors import CoverageError

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_MISSED = 1
EXIT_ERROR = 2

REPORT_EPILOG = """\
what a run writes (in the configuration's [report] folder):
  <date>_<time>/report.html            one self-contained page to print or mail: the
                                       targets with pass/fail, the coverage map, the
                                       villages outside the circle, changes since the
                                       last run and the trend of the covered share
  <date>_<time>/uncovered_villages.csv for Excel (UTF-8 with BOM: Chinese names intact)
  <date>_<time>/report.gpkg            layers villages (status, change), uncovered_villages,
                                       facilities, isochrones (open in QGIS)
  <date>_<time>/summary.json           headline figures, targets, changes, input hashes
  <date>_<time>/map.png                the static map (the page shows it when printed)
  <date>_<time>/run.log                every step of the run in detail
  history.sqlite                       one row per run, every village's status per run
  failed/<date>_<time>.log             the log of a run that failed

  A run whose input files, settings and software version equal the latest run's
  computes nothing and writes nothing: it prints "unchanged since run N" and exits
  with that run's status. Each run's folder appears only when the run is complete
  and recorded; a failed or killed run leaves earlier reports and the history as
  they were. A second run on the same history while one is running stops at once.

examples:
  facility-coverage init county.toml && facility-coverage report --config county.toml
  crontab: 0 6 1 * *  cd /srv/coverage && facility-coverage report --config county.toml -q || mail-alert

exit status:
  0 every target met (or none could be evaluated); 1 a target missed; 2 an error
  (bad configuration or input, another run in progress); details in run.log
"""

INIT_EPILOG = """\
The starter runs as written on the embedded region (Comoros, real OpenStreetMap
data © OpenStreetMap contributors, WorldPop 2020 population); its comments say how
to point it at your own road network, facility and village files. Paths in the
file are relative to its folder.

examples:
  facility-coverage init                    writes ./coverage-report.toml
  facility-coverage init county/report.toml

exit status:
  0 written; 2 the file exists (give --force to replace it) or cannot be written
"""

HISTORY_EPILOG = """\
RUN is a run number (as listed), 'latest' or 'previous' (the one before the latest).

examples:
  facility-coverage history --config county.toml
  facility-coverage history --db reports/history.sqlite --diff previous latest
  facility-coverage history --config county.toml --diff 1 latest --json

exit status:
  0 success; 2 no such history or run
"""


def add_report_commands(commands: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Register the ``report``, ``init`` and ``history`` sub-commands.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        What ``parser.add_subparsers(dest="command")`` returned.
    parents : sequence of ArgumentParser
        Parsers whose options every sub-command takes too (``-v``/``-q``).
    """
    report = commands.add_parser(
        "report",
        help="scheduled report of a configured region: targets, map, uncovered villages, changes",
        description=textwrap.dedent(
            """\
            Run the scheduled report of one region: analyze, check the plan's targets,
            draw the coverage map, write a dated folder and record the run in the history.

            Everything comes from the configuration file (write a starter with
            'facility-coverage init'): road network, facility and village files,
            population raster, zones, profile, thresholds, standards, output folder
            and language. Made for unattended runs: no prompts, one summary line on
            stdout, details in the run's run.log, a progress bar only on a terminal."""
        ),
        epilog=REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=list(parents),
    )
    report.add_argument("--config", required=True, metavar="FILE", help="the run configuration (TOML)")
    report.add_argument(
        "--force", action="store_true", help="run and record even when nothing changed since the latest run"
    )

    init = commands.add_parser(
        "init",
        help="write a commented starter configuration for 'report'",
        description="Write a commented starter configuration for 'facility-coverage report'.",
        epilog=INIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=list(parents),
    )
    init.add_argument(
        "path",
        nargs="?",
        default="coverage-report.toml",
        metavar="FILE",
        help="where to write it (default: %(default)s)",
    )
    init.add_argument("--force", action="store_true", help="replace an existing file")

    history = commands.add_parser(
        "history",
        help="list the recorded report runs, or compare two of them village by village",
        description=textwrap.dedent(
            """\
            List the runs recorded in a report history (time, software version, covered
            share, villages outside the circle, targets met and missed), or compare two
            runs: the villages newly uncovered, newly covered and still uncovered, and
            the input files that changed."""
        ),
        epilog=HISTORY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=list(parents),
    )
    source = history.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="FILE", help="the run configuration whose history to read")
    source.add_argument("--db", metavar="FILE", help="the history database itself (history.sqlite)")
    history.add_argument("--diff", nargs=2, metavar=("RUN_A", "RUN_B"), help="compare run RUN_A with the later RUN_B")
    history.add_argument("--json", action="store_true", help="print JSON instead of text, for scripts")


# --- report --------------------------------------------------------------------------


class _Progress:
    """The current step and elapsed time on stderr, only on a terminal."""

    def __init__(self, *, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=None, disable=not enabled, bar_format="{desc} [{elapsed}]", file=sys.stderr)

    def __call__(self, label: str) -> None:
        self.bar.set_description_str(label)

    def close(self) -> None:
        self.bar.close()


def _error_line(command: str, error: BaseException) -> str:
    notes = "; ".join(getattr(error, "__notes__", []))
    text = str(error) or type(error).__name__
    if not isinstance(error, CoverageError | OSError):
        text = f"{type(error).__name__}: {text}"
    return f"facility-coverage {command}: error: {text}" + (f" ({notes})" if notes else "")


def run_report_command(args: argparse.Namespace) -> int:
    """``facility-coverage report``: one summary line on stdout; 0 met, 1 missed, 2 error."""
    from coverage.report import run_report

    quiet = bool(getattr(args, "quiet", False))
    progress = _Progress(enabled=sys.stderr.isatty() and not quiet)
    try:
        result = run_report(args.config, force=args.force, progress=progress)
    except Exception as error:
        # every failure, not only the library's own errors, is exit status 2: 1 means a target missed
        progress.close()
        logger.debug("report failed", exc_info=True)
        print(_error_line("report", error), file=sys.stderr)
        return EXIT_ERROR
    progress.close()
    if not quiet:
        print(result.summary_line)
    return result.exit_code


# --- init ----------------------------------------------------------------------------


def run_init_command(args: argparse.Namespace) -> int:
    """``facility-coverage init``: write the starter configuration."""
    from coverage.runconfig import starter_config

    path = Path(args.path)
    if path.is_dir():
        path = path / "coverage-report.toml"
    if path.exists() and not args.force:
        print(
            f"facility-coverage init: error: {path} exists; give another file name, or --force to replace it.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = starter_config(path.parent)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError as error:
        print(_error_line("init", error), file=sys.stderr)
        return EXIT_ERROR
    if not getattr(args, "quiet", False):
        print(f"wrote {path}; edit it, then run: facility-coverage report --config {path}")
    return EXIT_OK


# --- history -------------------------------------------------------------------------


def _history_path(args: argparse.Namespace) -> Path:
    from coverage.runconfig import DEFAULT_CONFIG_NAME, load_run_config

    if args.db:
        return Path(args.db)
    config = args.config
    if config is None:
        if not Path(DEFAULT_CONFIG_NAME).is_file():
            from coverage._errors import InputError

            msg = f"give --config FILE or --db FILE (there is no {DEFAULT_CONFIG_NAME} here)."
            raise InputError(msg)
        config = DEFAULT_CONFIG_NAME
    return load_run_config(config).history


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _print_runs(runs: Sequence[Any]) -> None:
    print(f"{'run':>4}  {'started':25}  {'version':8}  {'covered':>8}  {'outside':>12}  targets met/missed/n.a.  exit")
    for run in runs:
        outside = f"{run.villages_uncovered} of {run.villages_total}"
        targets = f"{run.targets_passed}/{run.targets_failed}/{run.targets_cannot}"
        print(
            f"{run.id:>4}  {run.started_at:25}  {run.version:8}  {_share(run.population_share):>8}  "
            f"{outside:>12}  {targets:23}  {run.exit_code}"
        )
    if runs:
        print(f"covered: share of people within {runs[-1].circle_minutes:g} min; outside: villages beyond it")


def _village_line(row: Any) -> str:
    def minutes(value: Any) -> str:
        return "no road route" if value is None or value != value else f"{value:.1f}"

    place = f"{row.name} ({row.zone})" if row.zone else str(row.name)
    people = "" if row.population != row.population else f", {row.population:,.0f} people"
    return f"  {place}{people}: {minutes(row.minutes_before)} → {minutes(row.minutes_after)} min"


def _print_diff(diff: Any, first: Any, second: Any) -> None:
    print(f"run {first.id} ({first.started_at}) → run {second.id} ({second.started_at})")
    print(f"inputs changed: {', '.join(diff.changed_inputs) or 'none'}")
    if first.config_sha256 != second.config_sha256:
        print("settings changed (the configuration's settings hash differs)")
    if first.version != second.version:
        print(f"software version: {first.version} → {second.version}")
    if diff.circle_before != diff.circle_after:
        print(f"the circle changed from {diff.circle_before:g} to {diff.circle_after:g} min")
    for name, title in (
        ("newly_uncovered", "newly uncovered"),
        ("newly_covered", "newly covered"),
        ("still_uncovered", "still uncovered"),
        ("appeared", "new villages in the input"),
        ("disappeared", "villages no longer in the input"),
    ):
        table = getattr(diff, name)
        if name in ("appeared", "disappeared") and table.empty:
            continue
        print(f"{title} ({len(table)}){':' if len(table) else ''}")
        for row in table.itertuples(index=False):
            print(_village_line(row))


def _diff_json(diff: Any) -> dict[str, Any]:
    def records(table: Any) -> list[dict[str, Any]]:
        return json.loads(table.to_json(orient="records", force_ascii=False))

    return {
        "before": diff.before,
        "after": diff.after,
        "changed_inputs": {role: {"before": a, "after": b} for role, (a, b) in diff.changed_inputs.items()},
        "circle_before": diff.circle_before,
        "circle_after": diff.circle_after,
        **{
            name: records(getattr(diff, name))
            for name in ("newly_uncovered", "newly_covered", "still_uncovered", "appeared", "disappeared")
        },
    }


def run_history_command(args: argparse.Namespace) -> int:
    """``facility-coverage history``: list the runs, or compare two (``--diff``)."""
    from coverage.history import diff_runs, get_run, list_runs, open_history, runs_table

    try:
        connection = open_history(_history_path(args), create=False)
    except CoverageError as error:
        print(_error_line("history", error), file=sys.stderr)
        return EXIT_ERROR
    try:
        if args.diff:
            first, second = (get_run(connection, ref) for ref in args.diff)
            diff = diff_runs(connection, first.id, second.id)
            if args.json:
                print(json.dumps(_diff_json(diff), ensure_ascii=False, indent=2))
            else:
                _print_diff(diff, first, second)
            return EXIT_OK
        runs = list_runs(connection)
        if args.json:
            print(runs_table(runs).to_json(orient="records", force_ascii=False, indent=2))
        elif not runs:
            print("no runs recorded yet")
        else:
            _print_runs(runs)
        return EXIT_OK
    except CoverageError as error:
        print(_error_line("history", error), file=sys.stderr)
        return EXIT_ERROR
    finally:
        connection.close()


#: Handler of each command: call with the parsed arguments, returns the exit status.
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "report": run_report_command,
    "init": run_init_command,
    "history": run_history_command,
}
