"""``facility-coverage report``: the scheduled report of one configured region.

A thin layer over :func:`coverage.reports.report.run_report`: one summary line on
stdout, the details in the run's ``run.log``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from typing import Any

from coverage.cli._options import Commands, add_allow_unevaluated_option, add_command
from coverage.cli._runs import EXIT_ERROR, error_line

logger = logging.getLogger(__name__)

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
  0 every target met or not applicable
  1 a target missed, could not be evaluated, or rests on stand-in data (with
    --allow-unevaluated or check.allow_unevaluated only a missed target counts,
    but a run in which no target could be evaluated still exits 1)
  2 an error (bad configuration or input, another run in progress); details in
    run.log
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``report`` command to the sub-commands."""
    report = add_command(
        commands,
        "report",
        help="scheduled report of a configured region: targets, map, uncovered villages, changes",
        description=textwrap.dedent(
            """\
            Run the scheduled report of one region: analyze, check the plan's targets,
            draw the coverage map, write a dated folder and record the run in the history.

            Everything comes from the configuration file (write a starter with
            'facility-coverage init'): road network, facility and village files,
            population raster, zones, profile, thresholds, standards, output folder
            and language ('--lang zh' gives the page, the map and the summary line in
            Chinese whatever the file says). Made for unattended runs: no prompts, one summary line on
            stdout, details in the run's run.log, a progress bar only on a terminal."""
        ),
        epilog=REPORT_EPILOG,
        parents=parents,
    )
    report.add_argument("--config", required=True, metavar="FILE", help="the run configuration (TOML)")
    add_allow_unevaluated_option(report)
    report.add_argument(
        "--force", action="store_true", help="run and record even when nothing changed since the latest run"
    )
    report.set_defaults(handler=run)
    return report


class _Progress:
    """The current step and elapsed time on stderr, only on a terminal."""

    def __init__(self, *, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=None, disable=not enabled, bar_format="{desc} [{elapsed}]", file=sys.stderr)

    def __call__(self, label: str) -> None:
        self.bar.set_description_str(label)

    def close(self) -> None:
        self.bar.close()


def run(args: argparse.Namespace) -> int:
    """``facility-coverage report``: one summary line on stdout; 0 met, 1 missed, 2 error."""
    from coverage.reports.report import run_report

    quiet = bool(getattr(args, "quiet", False))
    progress = _Progress(enabled=sys.stderr.isatty() and not quiet)
    try:
        result = run_report(
            args.config,
            force=args.force,
            allow_unevaluated=args.allow_unevaluated or None,
            # --lang zh overrides the configuration's language; the default leaves it as configured
            language="zh" if getattr(args, "lang", "en") == "zh" else None,
            progress=progress,
        )
    except Exception as error:
        # every failure, not only the library's own errors, is exit status 2: 1 means a target missed
        progress.close()
        logger.debug("report failed", exc_info=True)
        print(error_line("report", error), file=sys.stderr)
        return EXIT_ERROR
    progress.close()
    if not quiet:
        print(result.summary_line)
    return result.exit_code
