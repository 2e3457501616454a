"""``facility-coverage site``: candidate sites for new stations, exact location models on the travel times."""

from __future__ import annotations

import argparse
import math
import textwrap
import time
from typing import TYPE_CHECKING, Any

from coverage._errors import InputError
from coverage._i18n import profile_name, status_word, text
from coverage.cli._options import (
    Commands,
    add_column_options,
    add_command,
    add_kind_options,
    add_out_option,
    add_profile_options,
    add_region_options,
    add_standard_option,
    add_zone_class_options,
    minutes_list,
    positive_metres,
    positive_seconds,
    whole_number,
)
from coverage.cli._runs import EXIT_OK, analyze_from_args, assess_from_args, check_region_options, point_columns

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverage.analysis.result import Analysis
    from coverage.siting.models import SitingResult
    from coverage.standards.standard import Standard

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
  facility-coverage site --ems --profile ambulance --model mclp --k 2 --minutes 30
      where should the next 2 EMS stations go to close the 30-minute gap?
      (ambulance trips from the station; without --ems, trips to the facility by car,
      as in analyze and map)
  facility-coverage site --model mclp --k 3 --candidates centres.csv --kinds clinic
      which 3 township health centres should be upgraded (candidates: your file)
  facility-coverage site --model lscp --minutes central=10,urban=15,*=30 \\
      --zone-column zone_class --population pop.tif county.osm.pbf
      plan thresholds by zone class: central city 10, other urban 15, county 30 min
  facility-coverage map --sites out/sites/sites.gpkg
      the chosen sites on the coverage map, before and after, with the siting's
      own profile, direction and threshold (read from siting.json)

exit status:
  0 success; 2 bad input or another error (nothing is written then)
"""


def site_minutes(text: str) -> float | dict[str, float]:
    """``30`` or ``central=10,urban=15,*=30``."""
    if "=" not in text:
        return minutes_list(text)[0]
    mapping: dict[str, float] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        try:
            minutes = float(value)
        except ValueError:
            msg = f"expected ZONE=MINUTES pairs like central=10,urban=15,*=30, got {part!r}"
            raise argparse.ArgumentTypeError(msg) from None
        if not key.strip() or not (math.isfinite(minutes) and minutes > 0):
            msg = f"expected ZONE=MINUTES with positive minutes, got {part!r}"
            raise argparse.ArgumentTypeError(msg)
        mapping[key.strip()] = minutes
    return mapping


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``site`` command to the sub-commands."""
    parser = add_command(
        commands,
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
        parents=parents,
    )
    add_region_options(parser)
    _add_model_options(parser.add_argument_group("siting"))
    _add_candidate_options(parser.add_argument_group("candidates and demand"))
    add_column_options(parser, "candidates")
    parser.set_defaults(handler=run)
    return parser


def _add_model_options(siting: argparse._ArgumentGroup) -> None:
    siting.add_argument(
        "--model", choices=["mclp", "lscp", "backup", "pmedian"], default="mclp", help="(default: %(default)s)"
    )
    siting.add_argument(
        "--k", type=whole_number(1), metavar="N", help="new stations to open (mclp, backup, pmedian; default 1)"
    )
    siting.add_argument(
        "--minutes",
        type=site_minutes,
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
    # the defaults of analyze and map, so that the map of the sites shows what they were chosen on
    add_profile_options(siting, profile="car", direction="to_facility")
    siting.add_argument(
        "--tradeoff", type=whole_number(1), metavar="K", help="also tabulate covered people for 0..K new stations"
    )
    siting.add_argument(
        "--solver",
        choices=["auto", "highs", "greedy"],
        default="auto",
        help="(default: %(default)s: HiGHS unless very large)",
    )
    siting.add_argument(
        "--time-limit",
        type=positive_seconds,
        default=60.0,
        metavar="S",
        help="solver time limit in seconds (default: %(default)s)",
    )
    add_standard_option(siting, help="also check this standard before and after the new stations")
    siting.add_argument(
        "--site-kind",
        metavar="KIND",
        help="facility kind of the new stations in --standard checks (default: ems with --ems, else clinic)",
    )
    add_out_option(siting, "out/sites")


def _add_candidate_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--candidates", metavar="FILE", help="candidate sites (points file); default: road points and villages"
    )
    group.add_argument(
        "--spacing-m",
        type=positive_metres,
        default=1500.0,
        metavar="M",
        help="spacing of road candidates (default: %(default)s)",
    )
    group.add_argument("--exclude", metavar="FILE", help="polygons where no new station may go (water, reserves...)")
    group.add_argument("--free-existing", action="store_true", help="let the model close existing facilities too")
    group.add_argument(
        "--demand",
        choices=["cells", "villages"],
        help="what to cover (default: raster cells with --population, else villages)",
    )
    add_kind_options(group, kinds_help="existing facility kinds that count (default: all)")


def _check_options(args: argparse.Namespace) -> list[Standard]:
    """Every option that can be checked before the minutes of computing; the standards, loaded."""
    from coverage.outputs.paths import check_out_folder
    from coverage.standards.standard import load_standard

    if args.model == "lscp" and args.k is not None:
        msg = "--k does not apply to lscp, which finds the fewest stations itself; leave it out or use --model mclp"
        raise InputError(msg)
    check_region_options(args)
    default_region = args.network is None
    if args.zone_column == "zone_class" and not (args.zone_classes or args.population or default_region):
        msg = "--zone-column zone_class needs the zone classes: give --zone-classes FILE or a --population raster"
        raise InputError(msg)
    if args.demand == "cells" and not (args.population or default_region):
        msg = "--demand cells counts the people of a population raster: give --population TIF, or --demand villages"
        raise InputError(msg)
    standards = [load_standard(name) for name in args.standard or []]
    check_out_folder(args.out)
    return standards


def _settings(args: argparse.Namespace, analysis: Analysis, direction: str, site_kind: str) -> dict[str, Any]:
    """What the siting ran on, for siting.json: 'map --sites' draws the same analysis, before and after."""
    return {
        "region": analysis.region,
        "profile": analysis.profile.name,
        "profile_sha256": analysis.profile.fingerprint,
        "direction": direction,
        "kinds": args.kinds,
        "ems": bool(args.ems),
        "site_kind": site_kind,
        "zone_column": args.zone_column,
        "inputs": analysis.inputs,
    }


def run(args: argparse.Namespace) -> int:
    from coverage.outputs.files import write_sites
    from coverage.siting.models import site

    started = time.perf_counter()
    standards = _check_options(args)
    model = args.model
    k = args.k if args.k is not None else (None if model == "lscp" else 1)
    # as in analyze: an EMS question times the trip from the station
    direction = "from_facility" if args.ems else args.direction
    site_kind = args.site_kind or ("ems" if args.ems else "clinic")
    analysis = analyze_from_args(args, minutes=sorted(_threshold_values(args.minutes)))
    if args.zone_column == "zone_class":
        analysis = _with_zone_classes(analysis, args)
    result = site(
        analysis,
        model=model,
        k=k,
        minutes=args.minutes,
        zone_column=args.zone_column,
        candidates=args.candidates,
        candidate_columns=point_columns(args, "candidates"),
        candidates_datum=args.candidates_datum or args.datum,
        spacing_m=args.spacing_m,
        exclude=args.exclude,
        free_existing=args.free_existing,
        demand=args.demand,
        direction=direction,
        time_limit_s=args.time_limit,
        solver=args.solver,
        tradeoff_k=args.tradeoff,
    )
    comparison = _standards_before_after(args, standards, analysis, result.sites, site_kind) if standards else None
    written = write_sites(
        result,
        args.out,
        tables=None if comparison is None else {"standards.csv": comparison},
        credit=analysis.attribution,
        sources=analysis.sources,
        settings=_settings(args, analysis, direction, site_kind),
    )
    if not args.quiet:
        lang = getattr(args, "lang", "en")
        trips = text("trips_from_facility" if direction == "from_facility" else "trips_to_facility", lang)
        context = text(
            "site_context", lang, region=analysis.region, profile=profile_name(analysis.profile.name, lang), trips=trips
        )
        _print_siting(result, comparison, context=context, lang=lang)
        files = ", ".join(str(p) for p in written.values())
        print(text("wrote_in", lang, files=files, seconds=time.perf_counter() - started))
        print(analysis.attribution)
    return EXIT_OK


def _threshold_values(minutes: float | dict[str, float]) -> set[float]:
    return set(minutes.values()) if isinstance(minutes, dict) else {float(minutes)}


def _with_zone_classes(analysis: Analysis, args: argparse.Namespace) -> Analysis:
    """The analysis with a ``zone_class`` column (central / urban / rural) on its villages and cells."""
    import dataclasses

    from coverage.analysis.zones import read_zone_classes, zone_classes_from_population
    from coverage.standards.assessment import zone_class_of
    from coverage.standards.standard import CENTRAL_DENSITY_PER_KM2

    grid = analysis.population_grid()  # calibrated as the analysis counted it
    if args.zone_classes:
        classes = read_zone_classes(args.zone_classes, column=args.zone_class_column)
    elif grid is not None:
        classes = zone_classes_from_population(grid, central_density_per_km2=CENTRAL_DENSITY_PER_KM2)
    else:
        msg = "--zone-column zone_class needs the zone classes: give --zone-classes FILE or a --population raster"
        raise InputError(msg)
    villages = analysis.villages.assign(zone_class=zone_class_of(analysis.villages, classes))
    cells = analysis.cells
    if cells is not None:
        cells = cells.assign(zone_class=zone_class_of(cells, classes))
    return dataclasses.replace(analysis, villages=villages, cells=cells)


def _standards_before_after(
    args: argparse.Namespace, standards: list[Standard], analysis: Analysis, sites: gpd.GeoDataFrame, site_kind: str
) -> pd.DataFrame:
    """Every target of the chosen standards, with the existing facilities and with the new stations added."""
    import geopandas as gpd
    import pandas as pd

    from coverage.standards.assessment import analysis_key

    rows = []
    # the standards reuse the siting analysis when they need the same one, and share the others
    known = {analysis_key(analysis.profile.name, analysis.direction, kinds=args.kinds, ems=args.ems): analysis}
    for standard in standards:
        before = assess_from_args(args, standard, analyses=known)
        everything = before.analyses[analysis_key("car", "to_facility")].facilities
        added = gpd.GeoDataFrame(
            {
                "id": sites["site_id"].astype(str),
                "name": sites["name"].astype(str),
                "kind": site_kind,
            },
            geometry=sites.geometry.to_numpy(),
            crs=sites.crs,
        )
        combined = pd.concat([everything[["id", "name", "kind", "geometry"]], added], ignore_index=True)
        after = assess_from_args(args, standard, facilities=gpd.GeoDataFrame(combined, geometry="geometry", crs=4326))
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


def _print_siting(result: SitingResult, comparison: pd.DataFrame | None, *, context: str, lang: str = "en") -> None:
    report = result.report
    gap = "" if report.gap is None else text("site_gap", lang, gap=report.gap)
    print(
        text(
            "site_headline",
            lang,
            model=result.model,
            n=len(result.sites),
            solver=report.solver,
            status=report.status,
            gap=gap,
            seconds=report.seconds,
        )
    )
    print(context)
    total = result.population_total or float("nan")
    print(
        text(
            "site_people",
            lang,
            before=result.population_covered_before,
            after=result.population_covered_after,
            total=result.population_total,
            share_before=result.population_covered_before / total,
            share_after=result.population_covered_after / total,
            vb=result.villages_covered_before,
            va=result.villages_covered_after,
            vt=result.villages_total,
        )
    )
    for row in result.sites.itertuples():
        idle = text("site_idle", lang) if row.objective_gain <= 0 else ""
        print(
            text(
                "site_row",
                lang,
                order=row.order,
                name=row.name,
                source=row.source,
                lon=row.lon,
                lat=row.lat,
                people=row.population_gain,
                villages=row.villages_gain,
                idle=idle,
            )
        )
    dropped = {k: v for k, v in result.dropped_candidates.items() if v}
    if dropped:
        print(text("site_dropped", lang, items=", ".join(f"{v} {k.replace('_', ' ')}" for k, v in dropped.items())))
    unreachable = result.unreachable
    if len(unreachable) and result.demand == "cells":
        print(text("site_unreachable_cells", lang, n=len(unreachable), people=unreachable["population"].sum()))
    elif len(unreachable):
        names = ", ".join(unreachable["name"].astype(str).head(5))
        more = text("and_more", lang, n=len(unreachable) - 5) if len(unreachable) > 5 else ""
        print(text("site_unreachable_villages", lang, n=len(unreachable), names=names, more=more))
    if result.tradeoff is not None:
        items = "; ".join(f"{r.new_sites}: {r.population_share:.1%}" for r in result.tradeoff.itertuples())
        print(text("site_tradeoff", lang, items=items))
    if comparison is not None:
        for record in comparison.to_dict("records"):
            before, after = (
                status_word(str(record["status_before"]), lang),
                status_word(str(record["status_after"]), lang),
            )
            label = str(record["label_zh"] if lang == "zh" else record["label_en"])
            print(f"  [{before} -> {after}] {record['standard']}: {label}")
