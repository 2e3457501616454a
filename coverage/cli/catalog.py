"""``facility-coverage standards`` and ``profiles``: list the shipped presets, or print one to copy and edit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from coverage.cli._options import Commands
from coverage.cli._runs import EXIT_ERROR, EXIT_OK


def register(commands: Commands, parents: list[Any]) -> None:
    """Add the ``standards`` and ``profiles`` commands to the sub-commands."""
    for name, what, example, handler in (
        ("standards", "standard presets (one per plan)", "kaijiang", run_standards),
        ("profiles", "speed profiles", "car", run_profiles),
    ):
        parser = commands.add_parser(
            name,
            help=f"list the {what.split(' (')[0]} or show one",
            description=f"List the shipped {what}, or print one to copy and edit (e.g. '{name} show {example}').",
            parents=parents,
        )
        parser.add_argument(
            "action", choices=["list", "show"], help="list: names and titles; show: the TOML text of NAME"
        )
        parser.add_argument("name", nargs="?", help="preset name (for show)")
        parser.set_defaults(handler=handler)


def run_standards(args: argparse.Namespace) -> int:
    from coverage.standards.standard import list_standards, load_standard

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


def run_profiles(args: argparse.Namespace) -> int:
    from coverage.network.profiles import list_profiles, load_profile

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
