"""``facility-coverage history``: the recorded report runs, or two of them compared village by village."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coverage._errors import CoverageError
from coverage._i18n import display_width, text
from coverage.cli._options import Commands, add_command
from coverage.cli._runs import EXIT_ERROR, EXIT_OK, error_line

HISTORY_EPILOG = """\
RUN is a run number (as listed), 'latest' or 'previous' (the one before the latest).

examples:
  facility-coverage history --config county.toml
  facility-coverage history --db reports/history.sqlite --diff previous latest
  facility-coverage history --config county.toml --diff 1 latest --json

exit status:
  0 success; 2 no such history or run
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``history`` command to the sub-commands."""
    history = add_command(
        commands,
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
        parents=parents,
    )
    source = history.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="FILE", help="the run configuration whose history to read")
    source.add_argument("--db", metavar="FILE", help="the history database itself (history.sqlite)")
    history.add_argument("--diff", nargs=2, metavar=("RUN_A", "RUN_B"), help="compare run RUN_A with the later RUN_B")
    history.add_argument("--json", action="store_true", help="print JSON instead of text, for scripts")
    history.set_defaults(handler=run)
    return history


def _history_path(args: argparse.Namespace) -> Path:
    from coverage.reports.config import DEFAULT_CONFIG_NAME, load_run_config

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


def _pad(value: str, width: int, *, right: bool = False) -> str:
    """``value`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    space = " " * max(0, width - display_width(value))
    return space + value if right else value + space


def _print_runs(runs: Sequence[Any], lang: str = "en") -> None:
    columns = text("history_columns", lang).split("|")
    rows = [
        [
            str(run.id),
            run.started_at,
            run.version,
            _share(run.population_share),
            text("history_outside", lang, outside=run.villages_uncovered, total=run.villages_total),
            f"{run.targets_passed}/{run.targets_failed}/{run.targets_cannot}",
            str(run.exit_code),
        ]
        for run in runs
    ]
    table = [columns, *rows]
    widths = [max(display_width(cells[i]) for cells in table) for i in range(len(columns))]
    right = {0, 3, 4, 6}
    for cells in table:
        print(
            "  ".join(_pad(c, w, right=i in right) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
        )
    if runs:
        print(text("history_legend", lang, minutes=runs[-1].circle_minutes))


def _village_line(row: Any, lang: str = "en") -> str:
    def minutes(value: Any) -> str:
        return text("no_road_route", lang) if value is None or value != value else f"{value:.1f}"

    place = f"{row.name} ({row.zone})" if row.zone else str(row.name)
    if str(row.id) not in place:  # named villages: the id too, to find them in the village file
        place += f" [id {row.id}]"
    people = "" if row.population != row.population else text("village_people", lang, people=row.population)
    return text(
        "village_minutes",
        lang,
        place=place,
        people=people,
        before=minutes(row.minutes_before),
        after=minutes(row.minutes_after),
    )


def _print_diff(diff: Any, first: Any, second: Any, lang: str = "en") -> None:
    print(text("history_runs", lang, a=first.id, a_at=first.started_at, b=second.id, b_at=second.started_at))
    print(text("history_inputs", lang, items=", ".join(diff.changed_inputs) or text("none", lang)))
    if first.config_sha256 != second.config_sha256:
        print(text("history_settings", lang))
    if first.version != second.version:
        print(text("history_version", lang, a=first.version, b=second.version))
    if diff.circle_before != diff.circle_after:
        print(text("history_circle", lang, a=diff.circle_before, b=diff.circle_after))
    colon = "：" if lang == "zh" else ":"
    for name in ("newly_uncovered", "newly_covered", "still_uncovered", "appeared", "disappeared"):
        table = getattr(diff, name)
        if name in ("appeared", "disappeared") and table.empty:
            continue
        print(f"{text(name, lang)} ({len(table)}){colon if len(table) else ''}")
        for row in table.itertuples(index=False):
            print(_village_line(row, lang))


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


def run(args: argparse.Namespace) -> int:
    """``facility-coverage history``: list the runs, or compare two (``--diff``)."""
    from coverage.reports.history import diff_runs, get_run, list_runs, open_history, runs_table

    try:
        connection = open_history(_history_path(args), create=False)
    except CoverageError as error:
        print(error_line("history", error), file=sys.stderr)
        return EXIT_ERROR
    lang = getattr(args, "lang", "en")
    try:
        if args.diff:
            first, second = (get_run(connection, ref) for ref in args.diff)
            diff = diff_runs(connection, first.id, second.id)
            if args.json:
                print(json.dumps(_diff_json(diff), ensure_ascii=False, indent=2))
            else:
                _print_diff(diff, first, second, lang)
            return EXIT_OK
        runs = list_runs(connection)
        if args.json:
            print(runs_table(runs).to_json(orient="records", force_ascii=False, indent=2))
        elif not runs:
            print(text("history_none", lang))
        else:
            _print_runs(runs, lang)
        return EXIT_OK
    except CoverageError as error:
        print(error_line("history", error), file=sys.stderr)
        return EXIT_ERROR
    finally:
        connection.close()
