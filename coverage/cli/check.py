"""``facility-coverage check``: a region against the targets of a health plan."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage.cli._options import (
    Commands,
    add_allow_unevaluated_option,
    add_command,
    add_out_option,
    add_region_options,
    add_standard_option,
    add_zone_class_options,
)
from coverage.cli._runs import EXIT_OK, assess_from_args, check_region_options

if TYPE_CHECKING:
    from coverage.analysis.result import Analysis
    from coverage.standards.assessment import Assessment

CHECK_EPILOG = """\
outputs (in --out, per standard in --out/<standard>/):
  standards.json  every target: its Chinese wording and quote, status, measured
                  and required figures, shortfall, per-zone figures, worst places
  standards.csv   one row per target with Chinese and English labels (UTF-8 with
                  BOM for Excel)

examples:
  facility-coverage check --standard lianzhou
  facility-coverage check --standard my_county.toml county.osm.pbf --facilities f.csv \\
      --population pop.tif --fail-on-miss --lang zh

exit status:
  0 success; with --fail-on-miss, 0 only when every target is met or not
  applicable
  1 with --fail-on-miss: a target missed, could not be evaluated, or was
    measured on stand-in data (hospitals for missing EMS stations); with
    --allow-unevaluated only a missed target counts, but a run in which no
    target could be evaluated at all still exits 1
  2 bad input or another error
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``check`` command to the sub-commands."""
    parser = add_command(
        commands,
        "check",
        help="check a plan's targets (emergency circles, service radii, per-village rules)",
        description=textwrap.dedent(
            """\
            Check a region against the targets of a health plan.

            Each target of the standard (a shipped preset such as kaijiang, or your own
            TOML file) is evaluated on the region's analysis and reported as pass, fail
            or cannot-evaluate, with the measured figure, the shortfall (people,
            households, villages, facilities) and the worst places."""
        ),
        epilog=CHECK_EPILOG,
        parents=parents,
    )
    add_standard_option(
        parser, help="standard preset (see 'facility-coverage standards list') or TOML file (default: all presets)"
    )
    add_region_options(parser)
    add_zone_class_options(parser)
    parser.add_argument(
        "--fail-on-miss",
        action="store_true",
        help="exit with status 1 when a target is missed, could not be evaluated or rests on stand-in data",
    )
    add_allow_unevaluated_option(parser)
    add_out_option(parser, "out")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Check every standard asked for; print each target's verdict; the exit status of the run."""
    from coverage.outputs.files import write_assessment
    from coverage.outputs.paths import check_out_folder
    from coverage.standards.checks import exit_status
    from coverage.standards.standard import list_standards, load_standard

    check_region_options(args)
    names = args.standard or ([args.region] if args.region else list_standards())
    standards = [load_standard(name) for name in names]
    check_out_folder(args.out)
    shared: dict[tuple[str, str, tuple[str, ...]], Analysis] = {}  # analyses the standards have in common
    statuses: list[str] = []
    for standard in standards:
        assessment = assess_from_args(args, standard, analyses=shared)
        out = Path(args.out) / standard.name if len(standards) > 1 else Path(args.out)
        write_assessment(assessment, out)
        statuses.extend(assessment.statuses)
        if not args.quiet:
            _print_assessment(assessment, out, lang=args.lang)
    if not args.quiet and shared:
        _print_population(next(iter(shared.values())), lang=args.lang)
    if not args.fail_on_miss:
        return EXIT_OK
    return exit_status(statuses, allow_unevaluated=args.allow_unevaluated)


def _print_population(analysis: Analysis, *, lang: str) -> None:
    """What the verdicts' people are (calibrated to what, or none at all), and the data credits."""
    from coverage._i18n import text

    calibration = analysis.population_calibration
    if calibration is not None:
        print(text("population_line", lang, text=calibration.describe(lang)).strip())
    elif analysis.population_basis == "none":
        print(text("population_line", lang, text=text("no_population", lang)).strip())
    print(analysis.attribution)


def _print_assessment(assessment: Assessment, out: Path, *, lang: str) -> None:
    from coverage._i18n import centred, status_word, text

    standard = assessment.standard
    title = standard.title_zh if lang == "zh" else standard.title_en
    print(f"{title} ({standard.name})")
    for row in assessment.table(lang=lang).itertuples():
        print(f"  [{centred(status_word(str(row.status), lang), 15)}] {row.label}")
        print(f"                    {row.detail}")
    print("  " + text("wrote", lang, files=f"{out / 'standards.json'}, {out / 'standards.csv'}"))
