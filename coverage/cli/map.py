"""``facility-coverage map``: the coverage map, one self-contained HTML file and a PNG for print."""

from __future__ import annotations

import argparse
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage._errors import InputError
from coverage._i18n import text
from coverage.cli._options import (
    Commands,
    add_basemap_option,
    add_command,
    add_method_options,
    add_out_option,
    add_region_options,
    add_standard_option,
    add_zone_class_options,
    metres,
    positive_minutes,
)
from coverage.cli._runs import EXIT_OK, analysis_inputs, analyze_from_args, assess_from_args, check_region_options

if TYPE_CHECKING:
    import geopandas as gpd

    from coverage.analysis.result import Analysis
    from coverage.outputs.siting_map import SitingRun
    from coverage.standards.assessment import Assessment

MAP_EPILOG = """\
outputs:
  --out FILE      one HTML file (default maps/coverage.html). Layers: the
                  travel-time surface in classes (click for the class), admin
                  outlines, catchments (click for area, population, villages),
                  people outside the circle, admin units by covered share,
                  villages covered / not (click for name, population, nearest
                  facility, minutes, off-network flag), facilities by kind,
                  candidate sites. Self-contained: opens with no network, only
                  the basemap tiles are fetched.
  --png FILE      the same gaps as a static A4 picture for printed reports

examples:
  facility-coverage map
      the default region, 10/15/30 minutes by car, to maps/coverage.html
  facility-coverage map --standard kaijiang county.osm.pbf --population pop.tif \\
      --out maps/kaijiang.html --png maps/kaijiang.png
      villages judged by the plan's thresholds (central / urban / rural)
  facility-coverage map --sites out/sites/sites.gpkg --basemap none
      with the candidate sites of 'facility-coverage site', no basemap
  facility-coverage map --lang zh --standard dongxihu --png maps/dongxihu.png ...
      title, legend, layers, popups, kind names and verdicts in Chinese (the PNG
      needs a Chinese font: Debian's fonts-noto-cjk or fonts-wqy-zenhei)

exit status:
  0 success; 2 bad input or another error (an earlier map is left intact)
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``map`` command to the sub-commands."""
    parser = add_command(
        commands,
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
            their status (pass, FAIL, assumed, cannot evaluate, not applicable); the
            standard's main circle then sets the profile, direction and thresholds,
            and the method options are not used."""
        ),
        epilog=MAP_EPILOG,
        parents=parents,
    )
    add_region_options(parser)
    add_method_options(parser)
    drawing = parser.add_argument_group("map")
    add_standard_option(drawing, help="judge villages by this standard and list its targets", repeatable=False)
    add_zone_class_options(drawing)
    drawing.add_argument("--sites", metavar="FILE", help="candidate sites to show (sites.gpkg or sites.csv of 'site')")
    drawing.add_argument(
        "--covered-minutes",
        type=positive_minutes,
        metavar="T",
        help="threshold that makes a village covered (default: the largest of --minutes)",
    )
    drawing.add_argument("--title", metavar="TEXT", help="map title (default: the region's name)")
    add_basemap_option(drawing)
    drawing.add_argument("--basemap-attribution", metavar="TEXT", help="credit line of a tile URL given as --basemap")
    drawing.add_argument(
        "--self-contained",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="inline the map's JavaScript and CSS so it opens with no network (default: on)",
    )
    drawing.add_argument(
        "--simplify-m",
        type=metres,
        default=20.0,
        metavar="M",
        help="simplify polygons to this tolerance, in metres, to keep the file small (default: %(default)s)",
    )
    add_out_option(drawing, "maps/coverage.html", what="HTML file to write")
    drawing.add_argument("--png", metavar="FILE", help="also draw a static PNG map for printing")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from coverage.outputs.maps import check_basemap, coverage_map, save_map
    from coverage.outputs.paths import check_out_file
    from coverage.outputs.siting_map import read_siting
    from coverage.outputs.static_map import draw_static_map
    from coverage.standards.standard import load_standard

    started = time.perf_counter()
    # every option is checked before the minutes of computing
    check_region_options(args)
    out = check_out_file(args.out, suffixes=(".html", ".htm"), what="the map")
    if args.png:
        check_out_file(args.png, option="--png", suffixes=(".png",), what="the static map")
    check_basemap(args.basemap, args.basemap_attribution)
    standard = load_standard(args.standard) if args.standard else None
    siting = read_siting(args.sites) if args.sites else None
    if siting is not None:
        _take_siting_settings(args, siting)
    sites = read_sites(args.sites, from_site=siting is not None) if args.sites else None
    assessment: Assessment | None = None
    after: Analysis | None = None
    if standard is not None:
        assessment = assess_from_args(args, standard)
        analysis = assessment.primary_analysis
    else:
        analysis = analyze_from_args(args)
    if siting is not None and sites is not None:
        analysis, after = _before_and_after(args, siting, analysis, sites)
    lang = getattr(args, "lang", "en")
    options = {
        "assessment": assessment,
        "sites": sites,
        "minutes": args.covered_minutes,
        "title": args.title,
        "lang": lang,
    }
    extra = []
    if after is not None and siting is not None and sites is not None:
        from coverage.outputs.siting_map import before_after_layers, before_after_line

        extra = before_after_layers(analysis, after, minutes=args.covered_minutes)
        change = before_after_line(analysis, after, minutes=args.covered_minutes)
        options["title"] = args.title or f"{after.region}: {len(sites)} new sites ({siting.model}); {change}"
    shown = after if after is not None else analysis
    m = coverage_map(
        shown,
        **options,
        basemap=args.basemap,
        basemap_attribution=args.basemap_attribution,
        simplify_m=args.simplify_m,
        extra_layers=extra,
    )
    size = save_map(m, out, self_contained=args.self_contained)
    written = [f"{out} ({size / 1e6:.1f} MB)"]
    if args.png:
        draw_static_map(shown, args.png, **options, simplify_m=args.simplify_m)
        written.append(str(args.png))
    if not args.quiet:
        if after is not None:
            print(options["title"])
        print(text("wrote_in", lang, files=", ".join(written), seconds=time.perf_counter() - started))
        print(analysis.attribution)
    return EXIT_OK


def _take_siting_settings(args: argparse.Namespace, siting: SitingRun) -> None:
    """Draw the siting's own analysis: its profile, direction, facilities and threshold, unless the options contradict them."""
    if args.standard:
        msg = (
            f"--sites {args.sites} draws the siting run's own before and after; the standard's targets before and "
            "after the sites are in standards.csv of 'facility-coverage site --standard'. Leave out --standard here."
        )
        raise InputError(msg)
    chosen = {"profile": siting.profile, "direction": siting.direction, "kinds": siting.kinds, "ems": siting.ems}
    defaults = {"profile": "car", "direction": "to_facility", "kinds": None, "ems": False}
    for name, value in chosen.items():
        given = getattr(args, name)
        if given != defaults[name] and given != value:
            option = f"--{name}"
            msg = (
                f"{option} {given}: the sites of {args.sites} were chosen with {option} {value} "
                f"({siting.path}); leave {option} out to draw them on their own analysis, or run 'site' again."
            )
            raise InputError(msg)
        setattr(args, name, value)
    if isinstance(siting.minutes, dict) and args.covered_minutes is None:
        shown = ", ".join(f"{zone}={minutes:g}" for zone, minutes in siting.minutes.items())
        msg = (
            f"--sites {args.sites}: the sites were chosen with a threshold per zone ({shown}); the map judges every "
            "place by one threshold: give it with --covered-minutes T."
        )
        raise InputError(msg)
    if args.covered_minutes is None:
        args.covered_minutes = float(siting.minutes)  # type: ignore[arg-type]
    args.minutes = sorted({*args.minutes, args.covered_minutes})


def _before_and_after(
    args: argparse.Namespace, siting: SitingRun, before: Analysis, sites: gpd.GeoDataFrame
) -> tuple[Analysis, Analysis]:
    """The analysis the sites were chosen on, checked to be of the same inputs, and the same with the sites open."""
    import dataclasses

    from coverage.analysis.grid import DEFAULT_CELL_M
    from coverage.analysis.isochrones import DEFAULT_BUFFER_M
    from coverage.analysis.run import analyze
    from coverage.io.kinds import NO_KIND_MAP
    from coverage.outputs.siting_map import check_same_inputs, sites_as_facilities

    check_same_inputs(siting, before, sites_path=args.sites)
    facilities = sites_as_facilities(before.facilities, sites, kind=siting.site_kind)
    # the facilities as the siting saw them: already kinds, in WGS84, with their names
    inputs = {**analysis_inputs(args), "facilities": facilities, "facility_columns": None, "kind_map": NO_KIND_MAP}
    after = analyze(
        **inputs,
        profile=before.profile,
        direction=before.direction,
        minutes=before.minutes,
        buffer_m=getattr(args, "buffer_m", DEFAULT_BUFFER_M),
        isochrone_method=getattr(args, "isochrones", "surface"),
        cell_m=getattr(args, "cell_m", DEFAULT_CELL_M),
        per_facility_isochrones=False,
    )
    # the sites are drawn as sites; the facility layers keep the existing ones
    existing = after.facilities[after.facilities["id"].isin(before.facilities["id"])]
    return before, dataclasses.replace(after, facilities=existing.reset_index(drop=True))


def read_sites(path: str, *, from_site: bool = False) -> gpd.GeoDataFrame:
    """Candidate sites from the site command's sites.gpkg (layer sites) or sites.csv, or any point file."""
    from coverage.io.points import read_points

    layer = "sites" if Path(path).suffix.lower() == ".gpkg" else None
    id_column = "site_id" if (layer or from_site) else None
    return read_points(path, layer=layer, id_column=id_column, what="candidate sites")
