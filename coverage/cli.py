"""The ``facility-coverage`` command: a thin layer over the library.

Library errors become a one-line message on stderr and exit code 2; progress
bars are shown only on a terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage import __version__
from coverage._errors import CoverageError, InputError
from coverage.batch_cli import add_batch_command, run_batch_command
from coverage.report_cli import HANDLERS as REPORT_HANDLERS
from coverage.report_cli import add_report_commands

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverage.analysis import Analysis
    from coverage.assessment import Assessment
    from coverage.siting import SitingResult
    from coverage.standards import Standard

logger = logging.getLogger("coverage")

EXIT_OK = 0
EXIT_ERROR = 2

DESCRIPTION = """\
Check health-facility coverage on real road networks.

Computes travel times from every village and every populated raster cell to
the nearest health facility (or from the nearest EMS station), builds the
10/15/30-minute isochrones, and reports who lies inside each circle.
With no input files, runs on the embedded default region (Comoros, real
OpenStreetMap data © OpenStreetMap contributors, WorldPop 2020 population)."""

ANALYZE_EPILOG = """\
outputs (in --out):
  coverage.gpkg   layers facilities, villages, isochrones, service_areas,
                  isochrones_by_facility (open in QGIS)
  villages.csv    one row per village: nearest facility, minutes, covered_<T>
                  columns, snap distance, off_network flag (UTF-8 with BOM:
                  Excel shows Chinese names correctly)
  zones.csv       population and villages covered per admin unit and threshold
  summary.json    headline figures per threshold, for scripts

examples:
  facility-coverage analyze
      the default region, car trips from villages to the nearest facility
  facility-coverage analyze --ems --profile ambulance --minutes 10,15,30
      EMS circles: from the nearest ambulance station (or hospital) to places
  facility-coverage analyze county.osm.pbf --facilities clinics.csv --datum gcj02 \\
      --villages villages.csv --population pop.tif --out out/county
      a planner's own extract with facility coordinates copied from Amap

exit status:
  0 success; 2 bad input or another error (nothing is written then)
"""


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
  0 every target met (or could not be evaluated); 1 a target missed and
  --fail-on-miss given; 2 bad input or another error
"""

MAP_EPILOG = """\
outputs:
  --out FILE      one HTML file (default maps/coverage.html). Layers: isochrone
                  bands, people outside the circle, admin units by covered
                  share, villages covered / not (click for name, population,
                  nearest facility, minutes, off-network flag), facilities by
                  kind, candidate sites. Self-contained: opens with no network,
                  only the basemap tiles are fetched.
  --png FILE      the same gaps as a static A4 picture for printed reports

examples:
  facility-coverage map
      the default region, 10/15/30 minutes by car, to maps/coverage.html
  facility-coverage map --standard kaijiang county.osm.pbf --population pop.tif \\
      --out maps/kaijiang.html --png maps/kaijiang.png
      villages judged by the plan's thresholds (central / urban / rural)
  facility-coverage map --sites out/sites/sites.gpkg --basemap none
      with the candidate sites of 'facility-coverage site', no basemap

exit status:
  0 success; 2 bad input or another error (an earlier map is left intact)
"""

SITE_EPILOG = """\
models:
  mclp     the K new stations that cover the most people within T (maximal covering)
  lscp     the fewest new stations so that everyone a candidate can reach is within T
           (set covering); places no candidate reaches are listed, not a failure
  backup   the K new stations that cover the most people twice within T (a second
           station when the nearest ambulance is busy)
  pmedian  the K new stations with the least population-weighted travel time

  Solved exactly (HiGHS mixed-integer programming) within --time-limit; on very large
  instances, or with --solver greedy, a greedy heuristic whose gap to the LP bound is
  reported. Existing facilities stay open unless --free-existing.

outputs (in --out):
  sites.gpkg      layers sites (in order of marginal gain, with the people and
                  villages each newly covers), tradeoff, unreachable (QGIS)
  sites.csv       the same sites for Excel (UTF-8 with BOM)
  tradeoff.csv    covered people for 0..K new stations (with --tradeoff K)
  siting.json     solver status, objective, bound, gap, before/after figures
  standards.csv   with --standard: every target before and after the new stations

examples:
  facility-coverage site --model mclp --k 2 --minutes 30
      where should the next 2 EMS stations go to close the 30-minute gap?
  facility-coverage site --model mclp --k 3 --candidates centres.csv --kinds clinic
      which 3 township health centres should be upgraded (candidates: your file)
  facility-coverage site --model lscp --minutes central=10,urban=15,*=30 \\
      --zone-column zone_class --population pop.tif county.osm.pbf
      plan thresholds by zone class: central city 10, other urban 15, county 30 min
  facility-coverage map --sites out/sites/sites.gpkg
      the chosen sites on the coverage map

exit status:
  0 success; 2 bad input or another error (nothing is written then)
"""

EXIT_MISSED = 1


def _minutes(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        msg = f"expected minutes like 10,15,30, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not values or min(values) <= 0:
        msg = f"minutes must be positive, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return values


def _kinds(text: str) -> list[str]:
    return [part.strip().lower() for part in text.split(",") if part.strip()]


def add_method_options(parser: argparse.ArgumentParser) -> None:
    """How analyze measures: profile, thresholds, direction, facility kinds."""
    method = parser.add_argument_group("method")
    method.add_argument(
        "--profile",
        default="car",
        metavar="NAME|FILE",
        help="speed profile: car, ambulance, walk, or a copied and edited TOML file (default: %(default)s)",
    )
    method.add_argument(
        "--minutes",
        type=_minutes,
        default=[10.0, 15.0, 30.0],
        metavar="T,T,...",
        help="thresholds in minutes (default: 10,15,30); 'within T' means <= T",
    )
    method.add_argument(
        "--direction",
        choices=["to_facility", "from_facility"],
        default="to_facility",
        help="to_facility: place to facility (reaching care); from_facility: facility to place (EMS) (default: %(default)s)",
    )
    method.add_argument(
        "--kinds", type=_kinds, metavar="K,K,...", help="facility kinds to count, e.g. hospital,clinic (default: all)"
    )
    method.add_argument(
        "--ems",
        action="store_true",
        help="EMS analysis: ambulance stations (hospitals when there are none), trips from the station",
    )
    method.add_argument(
        "--buffer-m",
        type=float,
        default=100.0,
        metavar="M",
        help="half-width of the corridor drawn around reached roads in isochrones (default: %(default)s)",
    )
    method.add_argument(
        "--no-facility-isochrones",
        action="store_true",
        help="skip the per-facility isochrones (faster on large regions)",
    )


def add_region_options(parser: argparse.ArgumentParser) -> None:
    """The region's input files and the runtime options, shared by every command that runs an analysis."""
    inputs = parser.add_argument_group("inputs")
    inputs.add_argument(
        "network",
        nargs="?",
        metavar="OSM_FILE",
        help="road network: OSM extract (.osm.pbf, .osm, .osm.bz2), osmnx .graphml, or GIS lines file "
        "(.gpkg, .shp, .geojson; needs --road-class-column). Default: the embedded Comoros region",
    )
    inputs.add_argument(
        "--facilities",
        metavar="FILE",
        help="facility file (CSV with lon/lat, GeoJSON, GeoPackage, Shapefile) with a kind column; default: health facilities tagged in the OSM file",
    )
    inputs.add_argument(
        "--villages",
        metavar="FILE",
        help="villages/demand places with an optional population column; default: OSM place=city/town/village/hamlet",
    )
    inputs.add_argument(
        "--population", metavar="TIF", help="population raster (WorldPop-style GeoTIFF, people per pixel)"
    )
    inputs.add_argument(
        "--region",
        metavar="NAME",
        help="a shipped seed region (suizhou, dongxihu, lianzhou, yiyang, kaijiang): clips your OSM_FILE to its "
        "real boundary, summarises per county unit, and (for check) picks the matching standard",
    )
    inputs.add_argument(
        "--boundary", metavar="FILE", help="polygon file to clip the region to (roads crossing it are kept whole)"
    )
    inputs.add_argument("--zones", metavar="FILE", help="admin-unit polygons to summarise by")
    inputs.add_argument("--zones-name-column", metavar="COL", help="column naming the admin units (default: name)")
    inputs.add_argument(
        "--zones-where", metavar="QUERY", help="select some zones, e.g. \"admin_level == '8'\" (a pandas query)"
    )
    inputs.add_argument(
        "--datum",
        choices=["wgs84", "gcj02", "bd09"],
        default="wgs84",
        help="datum of the facility and village files: gcj02 for Amap/Tencent, bd09 for Baidu coordinates (default: %(default)s)",
    )
    inputs.add_argument(
        "--road-class-column",
        metavar="COL",
        help="road-class column of a GIS lines file (OSM names or Chinese grades such as 国道/省道/县道)",
    )
    runtime = parser.add_argument_group("runtime")
    runtime.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where prepared networks are cached (default: $FACILITY_COVERAGE_CACHE or ~/.cache/facility-coverage)",
    )
    runtime.add_argument("--no-cache", action="store_true", help="neither read nor write the prepared-network cache")


def _site_minutes(text: str) -> float | dict[str, float]:
    """``30`` or ``central=10,urban=15,*=30``."""
    if "=" not in text:
        return _minutes(text)[0]
    mapping: dict[str, float] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        try:
            minutes = float(value)
        except ValueError:
            msg = f"expected ZONE=MINUTES pairs like central=10,urban=15,*=30, got {part!r}"
            raise argparse.ArgumentTypeError(msg) from None
        if not key.strip() or minutes <= 0:
            msg = f"expected ZONE=MINUTES with positive minutes, got {part!r}"
            raise argparse.ArgumentTypeError(msg)
        mapping[key.strip()] = minutes
    return mapping


def add_zone_class_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The planner's own zone classes, for commands that apply a standard."""
    parser.add_argument(
        "--zone-classes",
        metavar="FILE",
        help="your central / urban / rural polygons (default: derived from --population by the standard's densities)",
    )
    parser.add_argument(
        "--zone-class-column", default="zone_class", metavar="COL", help="their class column (default: %(default)s)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``facility-coverage`` command."""
    parser = argparse.ArgumentParser(
        prog="facility-coverage",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'facility-coverage COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # -v/-q work before or after the command name
    verbosity = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option not given after the command keeps the value given before it
    verbosity.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more messages (-vv for debugging)"
    )
    verbosity.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more messages (-vv for debugging)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = commands.add_parser(
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
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbosity],
    )
    add_region_options(analyze)
    add_method_options(analyze)
    analyze.add_argument("--out", default="out", metavar="DIR", help="output folder (default: %(default)s)")

    check = commands.add_parser(
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
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbosity],
    )
    check.add_argument(
        "--standard",
        action="append",
        metavar="NAME|FILE",
        help="standard preset (see 'facility-coverage standards list') or TOML file; repeatable (default: all presets)",
    )
    add_region_options(check)
    add_zone_class_options(check)
    check.add_argument(
        "--lang", choices=["zh", "en"], default="en", help="language of the printed table (default: %(default)s)"
    )
    check.add_argument("--fail-on-miss", action="store_true", help="exit with status 1 when any target is missed")
    check.add_argument("--out", default="out", metavar="DIR", help="output folder (default: %(default)s)")

    map_ = commands.add_parser(
        "map",
        help="draw the coverage map: one self-contained HTML file, and a PNG for print",
        description=textwrap.dedent(
            """\
            Draw the coverage map of a region.

            Runs the analysis (or, with --standard, the standard's checks) and writes
            one HTML file a planner can open offline and send: layers to toggle, a
            legend, a scale bar and the data credits. Names from OSM and your files are
            always shown as text. With --standard, each village is judged by the
            threshold its zone class has in the plan, and the targets are listed with
            pass or fail; the standard's main circle then sets the profile, direction
            and thresholds, and the method options are not used."""
        ),
        epilog=MAP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbosity],
    )
    add_region_options(map_)
    add_method_options(map_)
    drawing = map_.add_argument_group("map")
    drawing.add_argument("--standard", metavar="NAME|FILE", help="judge villages by this standard and list its targets")
    add_zone_class_options(drawing)
    drawing.add_argument("--sites", metavar="FILE", help="candidate sites to show (sites.gpkg or sites.csv of 'site')")
    drawing.add_argument(
        "--covered-minutes",
        type=float,
        metavar="T",
        help="threshold that makes a village covered (default: the largest of --minutes)",
    )
    drawing.add_argument("--title", metavar="TEXT", help="map title (default: the region's name)")
    drawing.add_argument(
        "--basemap",
        default="osm",
        metavar="osm|none|URL",
        help="background tiles: osm, none, or a tile URL with {z}/{x}/{y} (default: %(default)s)",
    )
    drawing.add_argument("--basemap-attribution", metavar="TEXT", help="credit line of a tile URL given as --basemap")
    drawing.add_argument(
        "--self-contained",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="inline the map's JavaScript and CSS so it opens with no network (default: on)",
    )
    drawing.add_argument(
        "--simplify-m",
        type=float,
        default=20.0,
        metavar="M",
        help="simplify polygons to this tolerance, in metres, to keep the file small (default: %(default)s)",
    )
    drawing.add_argument(
        "--out", default="maps/coverage.html", metavar="FILE", help="HTML file to write (default: %(default)s)"
    )
    drawing.add_argument("--png", metavar="FILE", help="also draw a static PNG map for printing")

    site = commands.add_parser(
        "site",
        help="candidate sites for new stations: exact location models on the travel times",
        description=textwrap.dedent(
            """\
            Choose sites for new stations with a location-allocation model.

            Builds one sparse coverage matrix of travel times from every candidate
            site to every demand point (populated raster cells, or villages) on the
            region's road network, then solves the chosen model exactly with HiGHS.
            Candidates are road points every --spacing-m along drivable roads plus the
            villages, or your own file; candidates off the network or in --exclude are
            dropped and counted. The sites are listed in order of marginal gain."""
        ),
        epilog=SITE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[verbosity],
    )
    add_region_options(site)
    siting = site.add_argument_group("siting")
    siting.add_argument(
        "--model", choices=["mclp", "lscp", "backup", "pmedian"], default="mclp", help="(default: %(default)s)"
    )
    siting.add_argument("--k", type=int, metavar="N", help="new stations to open (mclp, backup, pmedian; default 1)")
    siting.add_argument(
        "--minutes",
        type=_site_minutes,
        default=30.0,
        metavar="T|ZONE=T,...",
        help="threshold in minutes, or one per zone: central=10,urban=15,*=30 (* for the rest) (default: 30)",
    )
    siting.add_argument(
        "--zone-column",
        default="zone",
        metavar="COL",
        help="what the zones of --minutes name: zone (the admin units of --zones) or zone_class "
        "(central / urban / rural, from --zone-classes or the population raster) (default: %(default)s)",
    )
    add_zone_class_options(siting)
    siting.add_argument(
        "--candidates", metavar="FILE", help="candidate sites (points file); default: road points and villages"
    )
    siting.add_argument(
        "--spacing-m", type=float, default=1500.0, metavar="M", help="spacing of road candidates (default: %(default)s)"
    )
    siting.add_argument("--exclude", metavar="FILE", help="polygons where no new station may go (water, reserves...)")
    siting.add_argument("--free-existing", action="store_true", help="let the model close existing facilities too")
    siting.add_argument(
        "--demand",
        choices=["cells", "villages"],
        help="what to cover (default: raster cells with --population, else villages)",
    )
    siting.add_argument(
        "--profile", default="ambulance", metavar="NAME|FILE", help="speed profile (default: %(default)s)"
    )
    siting.add_argument(
        "--direction",
        choices=["from_facility", "to_facility"],
        default="from_facility",
        help="from_facility: station to place (EMS); to_facility: place to station (default: %(default)s)",
    )
    siting.add_argument(
        "--kinds", type=_kinds, metavar="K,K,...", help="existing facility kinds that count (default: all)"
    )
    siting.add_argument("--ems", action="store_true", help="existing EMS stations only (hospitals when there are none)")
    siting.add_argument("--tradeoff", type=int, metavar="K", help="also tabulate covered people for 0..K new stations")
    siting.add_argument(
        "--solver",
        choices=["auto", "highs", "greedy"],
        default="auto",
        help="(default: %(default)s: HiGHS unless very large)",
    )
    siting.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        metavar="S",
        help="solver time limit in seconds (default: %(default)s)",
    )
    siting.add_argument(
        "--standard",
        action="append",
        metavar="NAME|FILE",
        help="also check this standard before and after the new stations (repeatable)",
    )
    siting.add_argument(
        "--site-kind",
        default="ems",
        metavar="KIND",
        help="facility kind of the new stations in --standard checks (default: %(default)s)",
    )
    siting.add_argument("--out", default="out/sites", metavar="DIR", help="output folder (default: %(default)s)")

    standards = commands.add_parser(
        "standards",
        help="list the standard presets or show one",
        description="List the shipped standard presets (one per plan), or print one to copy and edit.",
        parents=[verbosity],
    )
    standards.add_argument(
        "action", choices=["list", "show"], help="list: names and titles; show: the TOML text of NAME"
    )
    standards.add_argument("name", nargs="?", help="preset name (for show)")

    profiles = commands.add_parser(
        "profiles",
        help="list the speed profiles or show one",
        description="List the shipped speed profiles, or print one to copy and edit.",
    )
    profiles.add_argument(
        "action", choices=["list", "show"], help="list: names and descriptions; show: the TOML text of NAME"
    )
    profiles.add_argument("name", nargs="?", help="profile name (for show)")
    add_report_commands(commands, [verbosity])
    add_batch_command(commands, [verbosity])
    return parser


class _StepBar:
    """Progress over the named steps of a run, drawn only on a terminal."""

    def __init__(self, steps: int, *, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=steps, disable=not enabled, unit="step", bar_format="{l_bar}{bar:20}| {n_fmt}/{total_fmt} [{elapsed}]"
        )
        self.started = False

    def __call__(self, label: str) -> None:
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_description(label)

    def close(self) -> None:
        if self.started:
            self.bar.update(1)
        self.bar.close()


def _analyze_from_args(
    args: argparse.Namespace, *, minutes: Sequence[float] | None = None, per_facility_isochrones: bool = False
) -> Analysis:
    """Run analyze() on the command's region and method options, with a progress bar on a terminal."""
    from coverage.analysis import analyze
    from coverage.isochrones import DEFAULT_BUFFER_M

    bar = _StepBar(8, enabled=sys.stderr.isatty() and not args.quiet)
    try:
        return analyze(
            **_analysis_inputs(args),
            profile=args.profile,
            direction=args.direction,
            minutes=args.minutes if minutes is None else minutes,
            kinds=args.kinds,
            ems=args.ems,
            buffer_m=getattr(args, "buffer_m", DEFAULT_BUFFER_M),  # site has no --buffer-m
            per_facility_isochrones=per_facility_isochrones,
            progress=bar,
        )
    finally:
        bar.close()


def _assess_from_args(
    args: argparse.Namespace,
    standard: Standard,
    *,
    analyses: dict[tuple[str, str, tuple[str, ...]], Analysis] | None = None,
    **overrides: Any,
) -> Assessment:
    """Run assess() on the command's region options (``overrides`` replace some), with a progress bar on a terminal."""
    from coverage.assessment import assess

    bar = _StepBar(len(standard.targets) + 3, enabled=sys.stderr.isatty() and not args.quiet)
    try:
        return assess(
            standard,
            zone_classes=args.zone_classes,
            zone_class_column=args.zone_class_column,
            progress=bar,
            analyses=analyses,
            **{**_analysis_inputs(args), **overrides},
        )
    finally:
        bar.close()


def _run_analyze(args: argparse.Namespace) -> int:
    from coverage.outputs import write_outputs

    started = time.perf_counter()
    analysis = _analyze_from_args(args, per_facility_isochrones=not args.no_facility_isochrones)
    written = write_outputs(analysis, args.out)
    summary = analysis.summary()
    if not args.quiet:
        print(
            f"{summary['region']}: {summary['facilities']['total']} facilities, {summary['villages']['total']} villages, profile {summary['profile']}, {summary['direction'].replace('_', ' ')}"
        )
        for row in summary["thresholds"]:
            people = ""
            if row.get("population_share") is not None:
                people = f"{row['population_covered']:,.0f} of {row['population_total']:,.0f} people ({row['population_share']:.1%}), "
            print(
                f"  within {row['minutes']:g} min: {people}{row['villages_covered']} of {row['villages_total']} villages"
            )
        print(f"wrote {', '.join(str(p) for p in written.values())} in {time.perf_counter() - started:.1f} s")
        print(analysis.attribution)
    return EXIT_OK


def _analysis_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """The region inputs of analyze's options, as keyword arguments of the library."""
    boundary, zones, zones_name_column = args.boundary, args.zones, args.zones_name_column
    if args.region:
        from coverage.regions import region_preset_path

        preset = region_preset_path(args.region)
        if not args.network:
            msg = f"--region {args.region} clips a road network to that county: give your OSM extract of the area as OSM_FILE"
            raise InputError(msg)
        boundary = boundary or preset
        if zones is None:
            zones, zones_name_column = preset, "name"
    return {
        "osm": args.network,
        "facilities": args.facilities,
        "villages": args.villages,
        "population": args.population,
        "zones": zones,
        "zones_name_column": zones_name_column,
        "zones_where": args.zones_where,
        "boundary": boundary,
        "datum": args.datum,
        "road_class_column": args.road_class_column,
        "cache_dir": args.cache_dir,
        "use_cache": not args.no_cache,
    }


def _run_check(args: argparse.Namespace) -> int:
    from coverage.checks import FAIL, PASS
    from coverage.outputs import write_assessment
    from coverage.standards import list_standards, load_standard

    names = args.standard or ([args.region] if args.region else list_standards())
    standards = [load_standard(name) for name in names]
    shared: dict[tuple[str, str, tuple[str, ...]], Analysis] = {}  # analyses the standards have in common
    missed = False
    for standard in standards:
        assessment = _assess_from_args(args, standard, analyses=shared)
        out = Path(args.out) / standard.name if len(standards) > 1 else Path(args.out)
        write_assessment(assessment, out)
        missed = missed or assessment.missed
        if args.quiet:
            continue
        title = standard.title_zh if args.lang == "zh" else standard.title_en
        print(f"{title} ({standard.name})")
        marks = {PASS: "pass", FAIL: "FAIL"}
        for row in assessment.table(lang=args.lang).itertuples():
            status = marks.get(str(row.status), "cannot evaluate")
            print(f"  [{status:^15}] {row.label}")
            print(f"                    {row.detail}")
        print(f"  wrote {out / 'standards.json'}, {out / 'standards.csv'}")
    return EXIT_MISSED if (missed and args.fail_on_miss) else EXIT_OK


def _run_map(args: argparse.Namespace) -> int:
    from coverage.maps import coverage_map, save_map
    from coverage.standards import load_standard
    from coverage.static_map import draw_static_map

    started = time.perf_counter()
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        msg = f"--out {out}: the map is written as HTML; give a file name ending in .html"
        raise InputError(msg)
    if args.png and Path(args.png).suffix.lower() != ".png":
        msg = f"--png {args.png}: give a file name ending in .png"
        raise InputError(msg)
    sites = _read_sites(args.sites) if args.sites else None
    assessment: Assessment | None = None
    if args.standard:
        assessment = _assess_from_args(args, load_standard(args.standard))
        analysis = assessment.primary_analysis
    else:
        analysis = _analyze_from_args(args)
    options = {"assessment": assessment, "sites": sites, "minutes": args.covered_minutes, "title": args.title}
    m = coverage_map(
        analysis,
        **options,
        basemap=args.basemap,
        basemap_attribution=args.basemap_attribution,
        simplify_m=args.simplify_m,
    )
    size = save_map(m, out, self_contained=args.self_contained)
    written = [f"{out} ({size / 1e6:.1f} MB)"]
    if args.png:
        draw_static_map(analysis, args.png, **options, simplify_m=args.simplify_m)
        written.append(str(args.png))
    if not args.quiet:
        print(f"wrote {', '.join(written)} in {time.perf_counter() - started:.1f} s")
        print(analysis.attribution)
    return EXIT_OK


def _run_site(args: argparse.Namespace) -> int:
    from coverage.outputs import write_sites
    from coverage.siting import site

    started = time.perf_counter()
    model = args.model
    k = args.k if args.k is not None else (None if model == "lscp" else 1)
    if model == "lscp" and args.k is not None:
        msg = "--k does not apply to lscp, which finds the fewest stations itself; leave it out or use --model mclp"
        raise InputError(msg)
    analysis = _analyze_from_args(args, minutes=sorted(_threshold_values(args.minutes)))
    if args.zone_column == "zone_class":
        analysis = _with_zone_classes(analysis, args)
    result = site(
        analysis,
        model=model,
        k=k,
        minutes=args.minutes,
        zone_column=args.zone_column,
        candidates=args.candidates,
        spacing_m=args.spacing_m,
        exclude=args.exclude,
        free_existing=args.free_existing,
        demand=args.demand,
        direction=args.direction,
        time_limit_s=args.time_limit,
        solver=args.solver,
        tradeoff_k=args.tradeoff,
    )
    comparison = _standards_before_after(args, analysis, result.sites) if args.standard else None
    written = write_sites(result, args.out, tables=None if comparison is None else {"standards.csv": comparison})
    if not args.quiet:
        _print_siting(result, comparison)
        print(f"wrote {', '.join(str(p) for p in written.values())} in {time.perf_counter() - started:.1f} s")
        print(analysis.attribution)
    return EXIT_OK


def _threshold_values(minutes: float | dict[str, float]) -> set[float]:
    return set(minutes.values()) if isinstance(minutes, dict) else {float(minutes)}


def _with_zone_classes(analysis: Analysis, args: argparse.Namespace) -> Analysis:
    """The analysis with a ``zone_class`` column (central / urban / rural) on its villages and cells."""
    import dataclasses

    from coverage.assessment import zone_class_of
    from coverage.standards import CENTRAL_DENSITY_PER_KM2
    from coverage.zones import read_zone_classes, zone_classes_from_population

    if args.zone_classes:
        classes = read_zone_classes(args.zone_classes, column=args.zone_class_column)
    elif args.population:
        classes = zone_classes_from_population(args.population, central_density_per_km2=CENTRAL_DENSITY_PER_KM2)
    else:
        msg = "--zone-column zone_class needs the zone classes: give --zone-classes FILE or a --population raster"
        raise InputError(msg)
    villages = analysis.villages.assign(zone_class=zone_class_of(analysis.villages, classes))
    cells = analysis.cells
    if cells is not None:
        cells = cells.assign(zone_class=zone_class_of(cells, classes))
    return dataclasses.replace(analysis, villages=villages, cells=cells)


def _standards_before_after(args: argparse.Namespace, analysis: Analysis, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every target of the chosen standards, with the existing facilities and with the new stations added."""
    import geopandas as gpd
    import pandas as pd

    from coverage.assessment import analysis_key
    from coverage.standards import load_standard

    rows = []
    # the standards reuse the siting analysis when they need the same one, and share the others
    known = {analysis_key(analysis.profile.name, analysis.direction, kinds=args.kinds, ems=args.ems): analysis}
    for name in args.standard:
        standard = load_standard(name)
        before = _assess_from_args(args, standard, analyses=known)
        everything = before.analyses[analysis_key("car", "to_facility")].facilities
        added = gpd.GeoDataFrame(
            {
                "id": sites["site_id"].astype(str),
                "name": sites["name"].astype(str),
                "kind": args.site_kind,
            },
            geometry=sites.geometry.to_numpy(),
            crs=sites.crs,
        )
        combined = pd.concat([everything[["id", "name", "kind", "geometry"]], added], ignore_index=True)
        after = _assess_from_args(args, standard, facilities=gpd.GeoDataFrame(combined, geometry="geometry", crs=4326))
        for target, old, new in zip(standard.targets, before.results, after.results, strict=True):
            rows.append(
                {
                    "standard": standard.name,
                    "target": target.id,
                    "label_zh": target.label_zh,
                    "label_en": target.label_en,
                    "status_before": old.status,
                    "measured_before": old.measured,
                    "status_after": new.status,
                    "measured_after": new.measured,
                    "required": new.required,
                    "unit": new.unit,
                }
            )
    return pd.DataFrame(rows)


def _print_siting(result: SitingResult, comparison: pd.DataFrame | None) -> None:
    report = result.report
    gap = "" if report.gap is None else f", gap {report.gap:.2%}"
    print(
        f"{result.model}: {len(result.sites)} new sites, solver {report.solver} {report.status}{gap} in {report.seconds:.1f} s"
    )
    total = result.population_total or float("nan")
    print(
        f"  people within the threshold: {result.population_covered_before:,.0f} -> {result.population_covered_after:,.0f}"
        f" of {result.population_total:,.0f} ({result.population_covered_before / total:.1%} -> "
        f"{result.population_covered_after / total:.1%}); villages {result.villages_covered_before} -> "
        f"{result.villages_covered_after} of {result.villages_total}"
    )
    for row in result.sites.itertuples():
        idle = " (adds nothing: everyone it reaches is served already)" if row.objective_gain <= 0 else ""
        print(
            f"  {row.order}. {row.name} ({row.source}, {row.lat:.5f}, {row.lon:.5f}): +{row.population_gain:,.0f} people, "
            f"+{row.villages_gain} villages{idle}"
        )
    dropped = {k: v for k, v in result.dropped_candidates.items() if v}
    if dropped:
        print("  candidates dropped: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in dropped.items()))
    unreachable = result.unreachable
    if len(unreachable) and result.demand == "cells":
        print(
            f"  {len(unreachable):,} populated cells ({unreachable['population'].sum():,.0f} people) are beyond every "
            "candidate's reach in time (most lie far from any road); listed in sites.gpkg, layer unreachable"
        )
    elif len(unreachable):
        names = ", ".join(unreachable["name"].astype(str).head(5))
        more = f" and {len(unreachable) - 5} more" if len(unreachable) > 5 else ""
        print(f"  no candidate reaches {len(unreachable)} villages in time: {names}{more}")
    if result.tradeoff is not None:
        print(
            "  new stations -> people covered: "
            + "; ".join(f"{r.new_sites}: {r.population_share:.1%}" for r in result.tradeoff.itertuples())
        )
    if comparison is not None:
        for row in comparison.itertuples():
            print(f"  [{row.status_before} -> {row.status_after}] {row.standard}: {row.label_en}")


def _read_sites(path: str) -> gpd.GeoDataFrame:
    """Candidate sites from the site command's sites.gpkg (layer sites) or sites.csv, or any point file."""
    from coverage.points import read_points

    layer = "sites" if Path(path).suffix.lower() == ".gpkg" else None
    return read_points(path, layer=layer, id_column="site_id" if layer else None, what="candidate sites")


def _run_standards(args: argparse.Namespace) -> int:
    from coverage.standards import list_standards, load_standard

    if args.action == "list":
        for name in list_standards():
            standard = load_standard(name)
            print(f"{name:12} {standard.title_zh}  ({len(standard.targets)} targets)")
        return EXIT_OK
    if not args.name:
        print("facility-coverage standards show: give a preset name, e.g. 'kaijiang'", file=sys.stderr)
        return EXIT_ERROR
    print(Path(load_standard(args.name).path).read_text(encoding="utf-8"), end="")
    return EXIT_OK


def _run_profiles(args: argparse.Namespace) -> int:
    from coverage.profiles import list_profiles, load_profile

    if args.action == "list":
        for name in list_profiles():
            print(f"{name:12} {load_profile(name).description}")
        return EXIT_OK
    if not args.name:
        print("facility-coverage profiles show: give a profile name, e.g. 'car'", file=sys.stderr)
        return EXIT_ERROR
    profile = load_profile(args.name)
    print(Path(profile.path).read_text(encoding="utf-8"), end="")
    return EXIT_OK


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    logging.getLogger("coverage").setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``facility-coverage`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    handlers = {
        "analyze": _run_analyze,
        "check": _run_check,
        "map": _run_map,
        "site": _run_site,
        "standards": _run_standards,
        "profiles": _run_profiles,
        **REPORT_HANDLERS,
        "batch": run_batch_command,
    }
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        return handlers[args.command](args)
    except CoverageError as error:
        print(f"facility-coverage {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except (FileNotFoundError, PermissionError, IsADirectoryError) as error:
        print(f"facility-coverage {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
