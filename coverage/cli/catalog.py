"""``facility-coverage standards``, ``profiles`` and ``kind-maps``: list the shipped files, or print one to copy.

Each is a folder of TOML files under ``data/`` that a planner copies and edits:
the plans' standards, the speed profiles, and the kind maps that turn a facility
file's categories into kinds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coverage.cli._options import Commands
from coverage.cli._runs import EXIT_ERROR, EXIT_OK


@dataclass(frozen=True)
class _Catalog:
    """A folder of shipped TOML files: how to list them and where each one's file is."""

    command: str
    what: str
    example: str
    entries: Callable[[], Iterator[tuple[str, str]]]
    path: Callable[[str], str]


def _standards() -> Iterator[tuple[str, str]]:
    from coverage.standards.standard import list_standards, load_standard

    for name in list_standards():
        standard = load_standard(name)
        yield name, f"{standard.title_zh}  ({len(standard.targets)} targets)"


def _profiles() -> Iterator[tuple[str, str]]:
    from coverage.network.profiles import list_profiles, load_profile

    for name in list_profiles():
        yield name, load_profile(name).description


def _kind_maps() -> Iterator[tuple[str, str]]:
    from coverage.io.kinds import list_kind_maps, load_kind_map

    for name in list_kind_maps():
        yield name, load_kind_map(name).title
    yield "none", "the category column's values as they are, lower-cased"


def _standard_path(name: str) -> str:
    from coverage.standards.standard import load_standard

    return str(load_standard(name).path)


def _profile_path(name: str) -> str:
    from coverage.network.profiles import load_profile

    return str(load_profile(name).path)


def _kind_map_path(name: str) -> str:
    from coverage.io.kinds import load_kind_map

    return load_kind_map(name).path


CATALOGS = (
    _Catalog("standards", "standard presets (one per plan)", "kaijiang", _standards, _standard_path),
    _Catalog("profiles", "speed profiles", "car", _profiles, _profile_path),
    _Catalog("kind-maps", "kind maps (facility categories to kinds)", "amap", _kind_maps, _kind_map_path),
)


def register(commands: Commands, parents: list[Any]) -> None:
    """Add the ``standards``, ``profiles`` and ``kind-maps`` commands to the sub-commands."""
    for catalog in CATALOGS:
        parser = commands.add_parser(
            catalog.command,
            help=f"list the {catalog.what.split(' (')[0]} or show one",
            description=f"List the shipped {catalog.what}, or print one to copy and edit "
            f"(e.g. '{catalog.command} show {catalog.example}').",
            parents=parents,
        )
        parser.add_argument(
            "action", choices=["list", "show"], help="list: names and titles; show: the TOML text of NAME"
        )
        parser.add_argument("name", nargs="?", help="the name (for show)")
        parser.set_defaults(handler=_runner(catalog))


def _runner(catalog: _Catalog) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        if args.action == "list":
            for name, description in catalog.entries():
                print(f"{name:12} {description}")
            return EXIT_OK
        if not args.name:
            print(
                f"facility-coverage {catalog.command} show: give a name, e.g. '{catalog.example}'",
                file=sys.stderr,
            )
            return EXIT_ERROR
        print(Path(catalog.path(args.name)).read_text(encoding="utf-8"), end="")
        return EXIT_OK

    return run
