"""``facility-coverage ems``: ambulance availability, a simulated year of calls, and where ambulances should go."""

from __future__ import annotations

import argparse
import textwrap
import time
from typing import TYPE_CHECKING, Any

from coverage.cli._options import (
    Commands,
    add_allow_unevaluated_option,
    add_command,
    add_out_option,
    add_region_options,
    add_standard_option,
    add_zone_class_options,
    minutes_list,
    whole_number,
)
from coverage.cli._runs import EXIT_OK, StepBar, analyze_from_args, check_region_options, show_progress

if TYPE_CHECKING:
    from coverage.ems.proposal import Proposal
    from coverage.ems.run import EmsResult

EMS_EPILOG = """\
actions:
  simulate  the availability of today's fleet: busy fractions, Erlang's probability
            that an ambulance is free, MEXCLP expected coverage, and a simulated year
            of calls (replications with 95% confidence intervals)
  allocate  where N ambulances should be based (MEXCLP on HiGHS), optionally with K
            new stations among candidate sites; the region simulated before and after

inputs:
  stations  the facility file's EMS stations (kind ems; hospitals when there are none)
            with an 'ambulances' column and optional 'negative_pressure' and 'smart'
            columns; without 'ambulances', --ambulances-per-station is assumed
  calls     population x --calls-per-1000 a year (default 21.7: Beijing 2017, Chinese
            Medical Journal 2020;133(11):1268-75), or --call-records FILE (time,
            lon/lat, optional priority), snapped to the roads like villages

outputs (in --out):
  ems.json          headline figures with confidence intervals, fleet, calls, settings,
                    per admin unit and per station (and the proposal's before/after)
  ems_villages.csv  per village: calls, ambulances within T, MEXCLP expected coverage,
                    simulated share in time, waited, mean response (UTF-8 with BOM)
  ems_stations.csv  per station: ambulances, busy fraction, utilisation, missions
  ems_zones.csv     per admin unit: calls, expected and simulated share in time
  ems_allocation.csv  (allocate) ambulances per station before and after
  ems_map.html      the coverage map with the probability of a timely response

examples:
  facility-coverage ems simulate --minutes 12
  facility-coverage ems simulate county.osm.pbf --facilities stations.csv \\
      --call-records calls_2024.csv --on-scene-minutes 20 --replications 30
  facility-coverage ems allocate --ambulances 30 --new-stations 2

exit status:
  0 success; 1 with --fail-on-miss: an availability or fleet target of --standard
  missed, not evaluated, or measured on stand-in stations or assumed ambulance
  counts (--allow-unevaluated: only missed ones count); 2 bad input or another
  error (nothing is written then)
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``ems`` command (with its actions ``simulate`` and ``allocate``) to the sub-commands."""
    parser = add_command(
        commands,
        "ems",
        help="ambulance availability: a simulated year of calls, and where ambulances should be based",
        description=textwrap.dedent(
            """\
            A station inside the circle does not help a caller when its ambulances are
            all out. Estimates how often a call is answered in time from the stations'
            ambulances and the calls of the region (population times a call rate, or
            call records), simulates a year of calls on the road network (nearest free
            ambulance, queueing, transport to the nearest hospital, return to base),
            and proposes where ambulances and new stations should go."""
        ),
        epilog=EMS_EPILOG,
        parents=parents,
    )
    actions = parser.add_subparsers(dest="ems_action", metavar="ACTION", required=True)
    for action, text in (
        ("simulate", "today's fleet: estimates and a simulated year of calls"),
        ("allocate", "where N ambulances (and K new stations) should be based, before and after"),
    ):
        sub = add_command(
            actions, action, help=text, description=text[0].upper() + text[1:] + ".", epilog=EMS_EPILOG, parents=parents
        )
        add_region_options(sub)
        _add_ems_options(sub)
        if action == "allocate":
            _add_allocation_options(sub.add_argument_group("allocation"))
        sub.set_defaults(handler=run, command="ems")
    return parser


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        msg = f"expected a share from 0 to 1 (75% is 0.75), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _minutes(text: str) -> float:
    return minutes_list(text)[0]


def _add_ems_options(parser: argparse.ArgumentParser) -> None:
    method = parser.add_argument_group("ambulances and calls")
    method.add_argument("--minutes", type=_minutes, default=12.0, metavar="T", help="response threshold (default: 12)")
    method.add_argument(
        "--profile", default="ambulance", metavar="NAME|FILE", help="speed profile (default: %(default)s)"
    )
    method.add_argument(
        "--ambulances-per-station",
        type=whole_number(0),
        default=1,
        metavar="N",
        help="ambulances assumed per station when the file has no 'ambulances' column (default: %(default)s)",
    )
    method.add_argument(
        "--calls-per-1000",
        type=float,
        default=None,
        metavar="R",
        help="calls per 1,000 residents a year (default: 21.7)",
    )
    method.add_argument("--call-records", metavar="FILE", help="past calls: time, lon/lat, optional priority")
    method.add_argument("--call-records-years", type=float, metavar="Y", help="the period the records cover")
    method.add_argument(
        "--hospitals", metavar="FILE", help="where patients are taken (default: the region's hospitals)"
    )
    service = parser.add_argument_group("missions")
    service.add_argument("--on-scene-minutes", type=float, default=15.0, metavar="M", help="(default: %(default)s)")
    service.add_argument("--handover-minutes", type=float, default=15.0, metavar="M", help="(default: %(default)s)")
    service.add_argument(
        "--transport-share",
        type=_share,
        default=1.0,
        metavar="S",
        help="share of patients taken to hospital (default: %(default)s)",
    )
    service.add_argument(
        "--dispatch-minutes",
        type=float,
        default=0.0,
        metavar="M",
        help="call taking and turnout added to every response (default: %(default)s)",
    )
    service.add_argument(
        "--service-distribution",
        choices=["lognormal", "exponential", "fixed"],
        default="lognormal",
        help="how on-scene and hand-over times vary (default: %(default)s)",
    )
    simulation = parser.add_argument_group("simulation")
    simulation.add_argument(
        "--replications", type=whole_number(0), default=10, metavar="N", help="simulated years (default: %(default)s)"
    )
    simulation.add_argument("--seed", type=int, default=0, help="the same seed reproduces a run (default: 0)")
    simulation.add_argument(
        "--days", type=float, default=365.0, metavar="D", help="length of each run (default: %(default)s)"
    )
    simulation.add_argument(
        "--when-busy",
        choices=["queue", "lost"],
        default="queue",
        help="calls finding no free ambulance wait, or go to outside help (default: %(default)s)",
    )
    checks = parser.add_argument_group("targets and outputs")
    add_standard_option(checks, help="check the availability and fleet targets of this standard")
    checks.add_argument(
        "--fail-on-miss",
        action="store_true",
        help="exit 1 when a target is missed, could not be evaluated or rests on stand-in data",
    )
    add_allow_unevaluated_option(checks)
    add_zone_class_options(checks)
    checks.add_argument("--no-map", action="store_true", help="do not write ems_map.html")
    add_out_option(checks, "out/ems")


def _add_allocation_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--ambulances", type=whole_number(0), metavar="N", help="ambulances to place (default: today's)")
    group.add_argument(
        "--new-stations", type=whole_number(0), default=0, metavar="K", help="new stations to open (default: 0)"
    )
    group.add_argument("--candidates", metavar="FILE", help="candidate sites for new stations (default: road points)")
    group.add_argument("--max-per-station", type=whole_number(1), metavar="N", help="most ambulances at one station")
    group.add_argument(
        "--min-per-station",
        type=whole_number(0),
        default=0,
        metavar="N",
        help="fewest ambulances at each existing station (default: 0)",
    )
    group.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="HiGHS time limit (default: 60)")


def ems_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`coverage.ems.run.ems_availability` from the command's options."""
    from coverage.ems.calls import DEFAULT_CALLS_PER_1000
    from coverage.ems.simulation import ServiceTimes

    return {
        "threshold_minutes": args.minutes,
        "default_ambulances": args.ambulances_per_station,
        "calls_per_1000": DEFAULT_CALLS_PER_1000 if args.calls_per_1000 is None else args.calls_per_1000,
        "call_records": args.call_records,
        "call_records_years": args.call_records_years,
        "hospitals": args.hospitals,
        "service": ServiceTimes(
            on_scene_minutes=args.on_scene_minutes,
            handover_minutes=args.handover_minutes,
            transport_share=args.transport_share,
            dispatch_minutes=args.dispatch_minutes,
            distribution=args.service_distribution,
        ),
        "replications": args.replications,
        "seed": args.seed,
        "days": args.days,
        "when_busy": args.when_busy,
        "datum": args.datum,
    }


def run(args: argparse.Namespace) -> int:
    from coverage.ems.proposal import allocate
    from coverage.ems.run import ems_availability
    from coverage.outputs.ems_outputs import ems_map, write_ems
    from coverage.outputs.maps import save_map

    started = time.perf_counter()
    # every option checked before the minutes of simulating
    from coverage.outputs.paths import check_out_folder
    from coverage.standards.standard import load_standard

    check_region_options(args)
    for name in args.standard or []:
        load_standard(name)
    check_out_folder(args.out)
    args.ems, args.direction, args.kinds = True, "from_facility", None
    analysis = analyze_from_args(args, minutes=[args.minutes])
    bar = StepBar(5 if args.ems_action == "simulate" else 11, enabled=show_progress(args))
    try:
        options = {**ems_options(args), "progress": bar}
        proposal = None
        if args.ems_action == "allocate":
            proposal = allocate(
                analysis,
                ambulances=args.ambulances,
                new_stations=args.new_stations,
                candidates=args.candidates,
                max_per_station=args.max_per_station,
                min_per_station=args.min_per_station,
                time_limit_s=args.time_limit,
                **options,
            )
            result = proposal.before
        else:
            result = ems_availability(analysis, **options)
    finally:
        bar.close()
    # calls answered as simulated for the proposal (or today); fleet shares from today's station file
    status, checks = _check_standards(args, proposal.after if proposal else result, result.fleet.stations)
    written = write_ems(result, args.out, proposal=proposal)
    if not args.no_map:
        path = written["json"].parent / "ems_map.html"
        save_map(ems_map(analysis, proposal.after if proposal else result, proposal=proposal), path)
        written["map"] = path
    if not args.quiet:
        _print_result(result, "today" if proposal else None)
        if proposal is not None:
            _print_proposal(proposal)
        for line in checks:
            print(line)
        print(f"wrote {', '.join(str(p) for p in written.values())} in {time.perf_counter() - started:.1f} s")
        print(analysis.attribution)
    return status


def _check_standards(args: argparse.Namespace, result: EmsResult, stations: Any) -> tuple[int, list[str]]:
    """Availability and fleet targets of ``--standard``: exit status and one line per target."""
    if not args.standard:
        return EXIT_OK, []
    from coverage._i18n import status_word
    from coverage.standards.availability import evaluate_availability
    from coverage.standards.checks import exit_status
    from coverage.standards.standard import load_standard

    lines: list[str] = []
    statuses: list[str] = []
    for name in args.standard:
        standard = load_standard(name)
        for target, check in evaluate_availability(standard, result.target_figures(), stations):
            lines.append(
                f"  [{status_word(check.status)}] {standard.name}: {target.label_en} ({target.label_zh}): {check.detail}"
            )
            statuses.append(check.status)
    if not lines:
        lines.append("  the standards given have no availability or fleet targets")
    if not args.fail_on_miss:
        return EXIT_OK, lines
    return exit_status(statuses, allow_unevaluated=args.allow_unevaluated), lines


def _ci(result: EmsResult, name: str) -> str:
    figure = result.simulation.figures[name] if result.simulation else None
    if figure is None or figure.replications < 2:
        return ""
    return f" [{figure.low:.1%}–{figure.high:.1%}]"


def _print_result(result: EmsResult, label: str | None) -> None:
    fleet, est = result.fleet, result.estimates
    prefix = f"{label}: " if label else ""
    t = result.threshold_minutes
    print(
        f"{prefix}{result.region}: {len(fleet.stations)} stations, {fleet.total} ambulances ({fleet.counts_source}), "
        f"{result.demand.calls_per_year:,.0f} calls a year"
    )
    print(
        f"  estimates: busy {est.busy_fraction:.1%}, ambulance free {est.free_probability:.1%} (Erlang), "
        f"{est.expected_in_time_share:.1%} of calls within {t:g} min (MEXCLP; {est.plain_in_time_share:.1%} if never busy)"
    )
    sim = result.simulation
    if sim is not None:
        f = sim.figures
        print(
            f"  simulated {f['calls'].replications} x {sim.days:g} days: {f['in_time_share'].mean:.1%} of calls within "
            f"{t:g} min{_ci(result, 'in_time_share')}, mean response {f['mean_response_minutes'].mean:.1f} min, "
            f"90th percentile {f['p90_response_minutes'].mean:.1f} min"
        )
        print(
            f"  dispatched without waiting {f['dispatched_without_wait_share'].mean:.1%}"
            f"{_ci(result, 'dispatched_without_wait_share')} (call satisfaction), waited {f['waited_share'].mean:.1%}, "
            f"utilisation {f['utilisation'].mean:.1%}"
        )


def _print_proposal(proposal: Proposal) -> None:
    report = proposal.allocation.report
    stations = proposal.stations
    moved = stations[stations["ambulances_before"] != stations["ambulances_after"]]
    print(
        f"proposal: MEXCLP {report.status} in {report.seconds:.1f} s, {int(stations['ambulances_after'].sum())} ambulances "
        f"at {int((stations['ambulances_after'] > 0).sum())} stations ({int(stations['new'].sum())} new); "
        f"stations whose fleet changes: {len(moved)}"
    )
    asked = proposal.requested_new_stations
    if asked and int(stations["new"].sum()) < asked:
        print(
            f"  only {int(stations['new'].sum())} of the {asked} new stations asked for are worth an ambulance "
            "(with the minimum per existing station, the fleet has none to spare for more)"
        )
    for record in proposal.comparison().to_dict(orient="records"):
        name, before, after = str(record["figure"]), record["before"], record["after"]
        if before is None or after is None:
            continue
        unit = " min" if "minutes" in name else ""
        fmt = "{:.1f}" if unit else "{:.1%}"
        print(f"  {name.replace('_', ' ')}: {fmt.format(before)}{unit} -> {fmt.format(after)}{unit}")
