"""The ``facility-coverage`` command: its parser and entry point.

Each command lives in its own module of :mod:`coverage.cli` with a ``register``
function that adds its parser (and sets its ``handler``) and a ``run`` function
that takes the parsed options and returns the exit status. Library errors become
a one-line message on stderr and exit status 2; progress bars are shown only on a
terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from coverage._errors import CoverageError
from coverage._i18n import LEVEL_NAMES_ZH, localised_message
from coverage._version import __version__
from coverage.cli import analyze, batch, catalog, check, ems, history, init, report, serve, site
from coverage.cli import map as map_command
from coverage.cli._options import add_lang_option, verbosity_parent
from coverage.cli._runs import EXIT_ERROR

DESCRIPTION = """\
Check health-facility coverage on real road networks.

Computes travel times from every village and every populated raster cell to
the nearest health facility (or from the nearest EMS station), builds the
10/15/30-minute isochrones, and reports who lies inside each circle.
With no input files, runs on the embedded default region (Comoros, real
OpenStreetMap data © OpenStreetMap contributors, WorldPop 2020 population)."""

#: The command modules, in the order ``--help`` lists them.
COMMANDS = (analyze, check, map_command, site, ems, serve, catalog, report, init, history, batch)


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
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more messages (-vv for debugging)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    add_lang_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = [verbosity_parent()]
    for module in COMMANDS:
        module.register(commands, parents)
    return parser


class _Formatter(logging.Formatter):
    """``WARNING: message`` in English, ``警告：消息`` in Chinese (the warnings a planner acts on translated)."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format(self, record: logging.LogRecord) -> str:
        message = localised_message(str(record.msg), record.args, self.lang)
        if self.lang == "zh":
            text = f"{LEVEL_NAMES_ZH.get(record.levelname, record.levelname)}：{message}"
        else:
            text = f"{record.levelname}: {message}"
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


def _configure_logging(verbose: int, quiet: bool, lang: str = "en") -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_Formatter(lang))
    logging.getLogger("coverage").setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``facility-coverage`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet, args.lang)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.handler(args))
    except CoverageError as error:
        print(f"facility-coverage {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except (FileNotFoundError, PermissionError, IsADirectoryError) as error:
        print(f"facility-coverage {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
