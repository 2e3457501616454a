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

from coverage import __version__
from coverage._errors import CoverageError

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


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs an analysis."""
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
    runtime = parser.add_argument_group("runtime")
    runtime.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where prepared networks are cached (default: $FACILITY_COVERAGE_CACHE or ~/.cache/facility-coverage)",
    )
    runtime.add_argument("--no-cache", action="store_true", help="neither read nor write the prepared-network cache")


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
    add_analysis_options(analyze)
    analyze.add_argument("--out", default="out", metavar="DIR", help="output folder (default: %(default)s)")

    profiles = commands.add_parser(
        "profiles",
        help="list the speed profiles or show one",
        description="List the shipped speed profiles, or print one to copy and edit.",
    )
    profiles.add_argument(
        "action", choices=["list", "show"], help="list: names and descriptions; show: the TOML text of NAME"
    )
    profiles.add_argument("name", nargs="?", help="profile name (for show)")
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


def _run_analyze(args: argparse.Namespace) -> int:
    from coverage.analysis import analyze
    from coverage.outputs import write_outputs

    started = time.perf_counter()
    bar = _StepBar(8, enabled=sys.stderr.isatty() and not args.quiet)
    try:
        analysis = analyze(
            args.network,
            facilities=args.facilities,
            villages=args.villages,
            population=args.population,
            zones=args.zones,
            boundary=args.boundary,
            zones_name_column=args.zones_name_column,
            zones_where=args.zones_where,
            profile=args.profile,
            direction=args.direction,
            minutes=args.minutes,
            kinds=args.kinds,
            ems=args.ems,
            datum=args.datum,
            road_class_column=args.road_class_column,
            buffer_m=args.buffer_m,
            per_facility_isochrones=not args.no_facility_isochrones,
            cache_dir=args.cache_dir,
            use_cache=not args.no_cache,
            progress=bar,
        )
    finally:
        bar.close()
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
    handlers = {"analyze": _run_analyze, "profiles": _run_profiles}
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
