"""``facility-coverage init``: write a commented starter configuration for ``report``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from coverage._errors import CoverageError
from coverage.cli._options import Commands, add_command
from coverage.cli._runs import EXIT_ERROR, EXIT_OK, error_line

INIT_EPILOG = """\
The starter runs as written on the embedded region (Comoros, real OpenStreetMap
data © OpenStreetMap contributors, WorldPop 2020 population); its comments say how
to point it at your own road network, facility and village files. Paths in the
file are relative to its folder.

examples:
  facility-coverage init                    writes ./coverage-report.toml
  facility-coverage init county/report.toml

exit status:
  0 written; 2 the file exists (give --force to replace it) or cannot be written
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``init`` command to the sub-commands."""
    init = add_command(
        commands,
        "init",
        help="write a commented starter configuration for 'report'",
        description="Write a commented starter configuration for 'facility-coverage report'.",
        epilog=INIT_EPILOG,
        parents=parents,
    )
    init.add_argument(
        "path",
        nargs="?",
        default="coverage-report.toml",
        metavar="FILE",
        help="where to write it (default: %(default)s)",
    )
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(handler=run)
    return init


def run(args: argparse.Namespace) -> int:
    """``facility-coverage init``: write the starter configuration."""
    from coverage.outputs.paths import check_out_file
    from coverage.reports.config import starter_config

    path = Path(args.path)
    if path.is_dir():
        path = path / "coverage-report.toml"
    if path.exists() and not args.force:
        print(
            f"facility-coverage init: error: {path} exists; give another file name, or --force to replace it.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        check_out_file(path, option="FILE")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = starter_config(path.parent)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except (OSError, CoverageError) as error:
        print(error_line("init", error), file=sys.stderr)
        return EXIT_ERROR
    if not getattr(args, "quiet", False):
        print(f"wrote {path}; edit it, then run: facility-coverage report --config {path}")
    return EXIT_OK
