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
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from coverage._errors import CoverageError
from coverage._i18n import LEVEL_NAMES_ZH, localised_message
from coverage._notices import once_per_run
from coverage._version import __version__
from coverage.cli import analyze, batch, catalog, check, ems, history, init, report, serve, site
from coverage.cli import map as map_command
from coverage.cli._options import add_lang_option, verbosity_parent
from coverage.cli._runs import EXIT_ERROR, error_line

logger = logging.getLogger(__name__)

#: Exit status of a run stopped with Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

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


class _BarSafeHandler(logging.StreamHandler):
    """Log lines on stderr that do not overwrite a progress bar: the bar is cleared, the line printed, the bar redrawn."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:
            self.handleError(record)


def _configure_logging(verbose: int, quiet: bool, lang: str = "en") -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    root = logging.getLogger()
    if not root.handlers:  # as logging.basicConfig: a program embedding the command keeps its own handlers
        root.addHandler(_BarSafeHandler(sys.stderr))
        root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(_Formatter(lang))
    logging.getLogger("coverage").setLevel(level)
    # warnings of the libraries read underneath go through the same handler: under -q they are not shown
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(level)


class _PipeSafe:
    """Standard output that stops writing, quietly, once its reader has gone (``history | head``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self.closed_by_reader = True
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.closed_by_reader = True

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


@contextmanager
def _pipe_safe_stdout() -> Iterator[None]:
    """Run a command whose reader may close standard output early; its exit status stays its own."""
    wrapper = _PipeSafe(sys.stdout)
    sys.stdout = wrapper
    try:
        yield
    finally:
        sys.stdout = wrapper.stream
        wrapper.flush()
        if wrapper.closed_by_reader:
            # the interpreter flushes stdout again at exit: point it at nothing, so that it cannot fail there
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):  # no file descriptor (an embedding program's stream)
                pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``facility-coverage`` command; returns the exit status.

    Errors never end in a traceback: the library's own errors and failures of the
    file system (a folder that cannot be written, a full disk) print one line
    naming what failed and what to do; anything unexpected prints its type and
    message, with the traceback only with ``-vv``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet, args.lang)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    with _pipe_safe_stdout(), once_per_run():
        try:
            return int(args.handler(args))
        except KeyboardInterrupt:
            print(f"facility-coverage {args.command}: interrupted; outputs of earlier runs are intact", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (CoverageError, OSError) as error:
            logger.debug("the error in full", exc_info=True)
            print(error_line(args.command, error), file=sys.stderr)
            return EXIT_ERROR
        except Exception as error:
            # not one of the failures the library words itself: say what it was, keep the traceback for -vv
            logger.debug("the error in full", exc_info=True)
            hint = "run again with -vv to see where it happened, and report it with that output"
            print(f"{error_line(args.command, error)}; this was not expected: {hint}", file=sys.stderr)
            return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
