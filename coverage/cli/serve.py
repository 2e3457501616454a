"""``facility-coverage serve``: the what-if web app of a region, on a local web server."""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

from coverage._errors import InputError
from coverage.cli._options import (
    Commands,
    add_basemap_option,
    add_command,
    add_kind_options,
    add_profile_options,
    add_region_options,
    add_standard_option,
    add_zone_class_options,
    minutes_list,
    whole_number,
)
from coverage.cli._runs import EXIT_OK, StepBar, analysis_inputs, show_progress

logger = logging.getLogger(__name__)

SERVE_EPILOG = """\
the page:
  The travel time of every road (coloured bands), the villages within the circle
  (blue) or outside it (red), the stations, the covered shares and the verdict of
  every travel-time target of the plan. Click the map to add a station, drag one to
  move it, click one to remove it (an existing facility is closed, and can be
  reopened). The figures are redrawn after each change: one bounded search from the
  changed station, combined with the stored times of the others. Change the
  profile, direction, circle and standard on the page; "Suggest" runs the maximal
  covering model for the current scenario, site by site to accept or reject.
  Scenarios are saved by name as GeoJSON (stations and settings) in --scenarios,
  reloaded, compared side by side, and exported as the report page, CSV and
  GeoPackage. The page needs no network (basemap tiles aside).

access:
  The server listens on 127.0.0.1 (this machine only) unless --host says otherwise.
  Any other address needs a token, printed with the address at start (or give
  --token): the page must be opened with ?token=... Anyone who can reach the address
  and has the token can change the scenario.

examples:
  facility-coverage serve
      the default region (Comoros) at http://127.0.0.1:8765/
  facility-coverage serve --config county.toml --lang zh
      the region, method and standards of a report configuration, in Chinese
  facility-coverage serve county.osm.pbf --facilities clinics.csv --villages villages.csv \\
      --population pop.tif --standard kaijiang --ems --profile ambulance --covered-minutes 15
  facility-coverage serve --host 0.0.0.0 --port 8080
      for the meeting room: the address and its token are printed

exit status:
  0 stopped with Ctrl+C; 2 bad input, or the port is taken
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``serve`` command to the sub-commands."""
    parser = add_command(
        commands,
        "serve",
        help="what-if siting in the browser: add, move or close stations and see coverage and verdicts redrawn",
        description=textwrap.dedent(
            """\
            Start the what-if web app of a region on a local web server.

            Loads the region once (as 'analyze' does), then serves a page where a
            planner adds, moves and closes stations on the map and sees the covered
            shares, the villages outside the circle and the plan's travel-time
            targets redrawn at each click."""
        ),
        epilog=SERVE_EPILOG,
        parents=parents,
    )
    add_region_options(parser)
    parser.add_argument(
        "--config", metavar="FILE", help="take the region, method and standards from a report configuration"
    )
    method = parser.add_argument_group("method (the page can change them)")
    add_profile_options(method, profile="car", direction="to_facility")
    method.add_argument(
        "--minutes",
        type=minutes_list,
        default=[10.0, 15.0, 30.0],
        metavar="T,T,...",
        help="thresholds whose covered shares are shown (default: 10,15,30)",
    )
    method.add_argument(
        "--covered-minutes",
        type=float,
        metavar="T",
        help="the circle the map is about (default: the largest of --minutes)",
    )
    add_kind_options(method, kinds_help="facility kinds that count on the map, e.g. hospital,clinic (default: all)")
    add_standard_option(method, help="a standard offered on the page (the first is selected; default: none selected)")
    add_zone_class_options(method)
    method.add_argument(
        "--horizon-minutes",
        type=float,
        metavar="T",
        help="bound of the searches (default: twice the largest threshold in use); farther places show as 'more than'",
    )
    server = parser.add_argument_group("server")
    server.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)"
    )
    server.add_argument(
        "--port", type=whole_number(0), default=8765, help="port (default: %(default)s; 0: any free port)"
    )
    server.add_argument(
        "--token",
        metavar="TEXT",
        help="access token the page must present (default: a random one for a non-loopback --host)",
    )
    add_basemap_option(server)
    server.add_argument("--basemap-attribution", metavar="TEXT", help="credit line of a tile URL given as --basemap")
    server.add_argument(
        "--scenarios", metavar="DIR", help="folder of the saved scenarios (default: scenarios/, beside --config)"
    )
    server.add_argument("--name", metavar="TEXT", help="the region's name on the page")
    parser.set_defaults(handler=run)
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The workspace's and the scenario's settings, from --config or the options."""
    from coverage.webapp.workspace import kinds_key

    if args.config:
        from coverage.reports.config import load_run_config

        config = load_run_config(args.config)
        return {
            "inputs": config.region_inputs(),
            "profile": config.profile,
            "direction": "from_facility" if config.ems else config.direction,
            "minutes": list(config.minutes),
            "circle": config.circle_minutes,
            "kinds": kinds_key(kinds=config.kinds, ems=config.ems),
            "standards": list(config.standards),
            "zone_classes": config.zone_classes,
            "zone_class_column": config.zone_class_column,
            # --lang (every command has it) sets the page's language; left at its default, the configuration's
            "language": config.language if getattr(args, "lang", "en") == "en" else args.lang,
            "basemap": config.basemap if args.basemap == "osm" else args.basemap,
            "basemap_attribution": args.basemap_attribution or config.basemap_attribution,
            "scenarios": Path(args.scenarios) if args.scenarios else config.path.parent / "scenarios",
            "name": args.name or config.name,
        }
    return {
        "inputs": {**analysis_inputs(args)},
        "profile": args.profile,
        "direction": "from_facility" if args.ems else args.direction,
        "minutes": list(args.minutes),
        "circle": args.covered_minutes or max(args.minutes),
        "kinds": kinds_key(kinds=args.kinds, ems=args.ems),
        "standards": list(args.standard or []),
        "zone_classes": args.zone_classes,
        "zone_class_column": args.zone_class_column,
        "language": getattr(args, "lang", "en"),
        "basemap": args.basemap,
        "basemap_attribution": args.basemap_attribution,
        "scenarios": Path(args.scenarios or "scenarios"),
        "name": args.name,
    }


def _access(args: argparse.Namespace) -> tuple[str | None, list[str] | None]:
    """The token (None on the loopback without --token) and the host names answered to."""
    from coverage.webapp.server import is_loopback, new_token

    if is_loopback(args.host):
        return args.token, None
    token = args.token or new_token()
    if len(token) < 12:
        msg = f"--token must be at least 12 characters on an address others can reach, got {len(token)}"
        raise InputError(msg)
    return token, ["*"]


def _address(host: str, port: int, token: str | None) -> str:
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "[::]") else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def run(args: argparse.Namespace) -> int:
    """``facility-coverage serve``: load the region, print the address, serve until Ctrl+C."""
    from coverage.webapp.app import create_app
    from coverage.webapp.files import ScenarioStore
    from coverage.webapp.scenario import Scenario
    from coverage.webapp.server import check_port_free, serve_forever
    from coverage.webapp.workspace import Workspace

    if args.config and (args.network or args.facilities or args.villages or args.population):
        msg = "--config gives the region: leave out OSM_FILE, --facilities, --villages and --population, or leave out --config"
        raise InputError(msg)
    settings = _settings(args)
    basemap = settings["basemap"]
    if basemap not in ("osm", "none") and not all(part in basemap for part in ("{z}", "{x}", "{y}")):
        msg = f"--basemap {basemap!r}: expected osm, none or a tile URL with {{z}}, {{x}} and {{y}}"
        raise InputError(msg)
    if basemap not in ("osm", "none") and not settings["basemap_attribution"]:
        msg = f"--basemap {basemap!r}: a custom tile URL needs its attribution (--basemap-attribution TEXT)"
        raise InputError(msg)
    token, hosts = _access(args)
    port = check_port_free(args.host, args.port)
    bar = StepBar(3, enabled=show_progress(args))
    try:
        workspace = Workspace(
            settings["inputs"],
            minutes=settings["minutes"],
            standards=settings["standards"] or None,
            zone_classes=settings["zone_classes"],
            zone_class_column=settings["zone_class_column"],
            horizon_minutes=args.horizon_minutes,
            progress=bar,
            name=settings["name"],
        )
        bar("scenario")
        scenario = Scenario(
            workspace,
            name="scenario",
            profile=settings["profile"],
            direction=settings["direction"],
            minutes=settings["circle"],
            kinds=settings["kinds"],
            standard=settings["standards"][0] if settings["standards"] else None,
        )
    finally:
        bar.close()
    app = create_app(
        scenario,
        store=ScenarioStore(settings["scenarios"]),
        language=settings["language"],
        token=token,
        basemap=basemap,
        basemap_attribution=settings["basemap_attribution"],
        allowed_hosts=hosts,
    )
    print(f"{workspace.region}: what-if siting at {_address(args.host, port, token)}  (Ctrl+C to stop)", flush=True)
    print(workspace.attribution, flush=True)
    # uvicorn stops on Ctrl+C by itself; a second Ctrl+C while it shuts down ends here too
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(app, host=args.host, port=port, log_level="warning" if args.verbose < 2 else "info")
    print("stopped", file=sys.stderr)
    return EXIT_OK
