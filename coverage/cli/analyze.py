"""``facility-coverage analyze``: travel times, isochrones and village coverage for a region."""

from __future__ import annotations

import argparse
import textwrap
import time
from typing import TYPE_CHECKING, Any

from coverage.cli._options import Commands, add_command, add_method_options, add_out_option, add_region_options
from coverage.cli._runs import EXIT_OK, analyze_from_args, check_region_options

if TYPE_CHECKING:
    from coverage.analysis.result import Analysis

ANALYZE_EPILOG = """\
outputs (in --out):
  coverage.gpkg   layers facilities, villages, isochrones, service_areas,
                  catchments, isochrones_by_facility, road_problems,
                  flagged_cells (populated cells off the roads or on small
                  road pieces); each opens styled in QGIS (layer_styles table)
  traveltime.tif  minutes to the nearest facility for every cell of the region
                  (float32, tiled, compressed, overviews; nodata where unreached)
  nearest_facility.tif
                  the nearest facility of every cell (its row in the facilities
                  layer, from 1); both with a .qml style beside them
  catchments.csv  per facility: area, population, villages, minutes, population
                  per bed / doctor / ambulance when the facility file has them
  villages.csv    one row per village: nearest facility, minutes, covered_<T>
                  columns, snap distance, off_network flag (UTF-8 with BOM:
                  Excel shows Chinese names correctly)
  zones.csv       population and villages covered per admin unit and threshold
  summary.json    headline figures per threshold, the population's basis and
                  calibration, the sources and their credits, for scripts
  population_calibration.csv
                  with --population-totals (and on the default region): each
                  admin unit's official total, raster sum, factor and status

examples:
  facility-coverage analyze
      the default region, car trips from villages to the nearest facility
  facility-coverage analyze --ems --profile ambulance --minutes 10,15,30
      EMS circles: from the nearest ambulance station (or hospital) to places
  facility-coverage analyze county.osm.pbf --facilities clinics.csv --datum gcj02 \\
      --villages villages.csv --population pop.tif --out out/county
      a planner's own extract with facility coordinates copied from Amap
  facility-coverage analyze county.osm.pbf --population pop.tif \\
      --zones townships.gpkg --population-totals census2020.csv
      the raster scaled to the seventh-census township totals (七普)

exit status:
  0 success; 2 bad input or another error: one line naming the file or option and
  the fix (-vv for the traceback); nothing is written, earlier outputs stay as they were
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``analyze`` command to the sub-commands."""
    parser = add_command(
        commands,
        "analyze",
        help="travel times, isochrones and village coverage for a region",
        description=textwrap.dedent(
            """\
            Travel times, isochrones and village coverage for a region.

            Reads the road network, attaches every facility, village and populated
            raster cell to its nearest road (with an off-road leg at the profile's
            access speed; points beyond the profile's tolerance are flagged
            off_network, never dropped), runs one multi-source search, and writes
            the results to --out."""
        ),
        epilog=ANALYZE_EPILOG,
        parents=parents,
    )
    add_region_options(parser)
    add_method_options(parser)
    add_out_option(parser, "out")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from coverage._i18n import text
    from coverage.outputs.files import write_outputs
    from coverage.outputs.paths import check_out_folder

    check_region_options(args)
    check_out_folder(args.out)
    started = time.perf_counter()
    analysis = analyze_from_args(args, per_facility_isochrones=args.facility_isochrones)
    written = write_outputs(analysis, args.out)
    if not args.quiet:
        lang = getattr(args, "lang", "en")
        print_figures(analysis, lang=lang)
        files = ", ".join(str(p) for p in written.values())
        print(text("wrote_in", lang, files=files, seconds=time.perf_counter() - started))
        print(analysis.attribution)
    return EXIT_OK


def print_figures(analysis: Analysis, *, lang: str = "en") -> None:
    """The headline figures on stdout: per threshold, people (or the villages' populations) and villages within it."""
    from coverage._i18n import profile_name, text

    summary = analysis.summary()
    population = summary["population"]
    direction = text(summary["direction"], lang)
    print(
        text(
            "headline",
            lang,
            region=summary["region"],
            facilities=summary["facilities"]["total"],
            villages=summary["villages"]["total"],
            profile=profile_name(summary["profile"], lang),
            direction=direction,
        )
    )
    for row in summary["thresholds"]:
        figures = {"minutes": row["minutes"], "vc": row["villages_covered"], "vt": row["villages_total"]}
        if row.get("population_share") is not None:
            total, covered = row["population_total"], row["population_covered"]
            print(text("within_people", lang, covered=covered, total=total, share=covered / total, **figures))
        elif population["basis"] == "villages" and row["village_population_total"]:
            total, covered = row["village_population_total"], row["village_population_covered"]
            print(text("within_village_people", lang, covered=covered, total=total, share=covered / total, **figures))
        else:
            print(text("within_villages", lang, **figures))
    if population["basis"] == "villages" and population["villages_without_population"]:
        print(text("people_from_villages", lang, missing=population["villages_without_population"]))
    if analysis.population_calibration is not None:
        print(text("population_line", lang, text=analysis.population_calibration.describe(lang)))
