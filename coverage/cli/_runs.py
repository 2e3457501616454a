"""What the commands that run an analysis share: the library's inputs from the options, progress bars.

The commands are a thin layer over the library: these helpers turn the parsed
options into the keyword arguments of :func:`coverage.analysis.run.analyze` and
:func:`coverage.standards.assessment.assess`, and draw progress on a terminal.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage._errors import CoverageError, InputError

if TYPE_CHECKING:
    from coverage.analysis.result import Analysis
    from coverage.io.points import PointColumns
    from coverage.standards.assessment import Assessment
    from coverage.standards.standard import Standard

EXIT_OK = 0
EXIT_MISSED = 1
EXIT_ERROR = 2


class StepBar:
    """Progress over the named steps of a run: a bar on a terminal, else lines on stderr once the run is long.

    A label ``"step: detail"`` whose step is the current one refines it (progress
    within the step, an estimate of the time left) instead of starting a new step.
    Off a terminal (a log file, a scheduled job), nothing is printed for a run that
    ends within ``quiet_s`` seconds; a longer one prints each step and detail with
    the time elapsed, so a log shows where a long run is.
    """

    def __init__(self, steps: int, *, enabled: bool, log: bool = False, quiet_s: float = 5.0) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=steps, disable=not enabled, unit="step", bar_format="{l_bar}{bar:20}| {n_fmt}/{total_fmt} [{elapsed}]"
        )
        self.total = steps
        self.log = log and not enabled
        self.quiet_s = quiet_s
        self.started_at = time.perf_counter()
        self.done = 0
        self.current: str | None = None
        self.pending: list[str] = []

    def _line(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started_at
        self.pending.append(f"{text} [{elapsed:.1f} s]")
        if self.log and elapsed >= self.quiet_s:
            for line in self.pending:
                print(line, file=sys.stderr, flush=True)
            self.pending.clear()
        elif len(self.pending) > 50:
            del self.pending[:-50]

    def __call__(self, label: str) -> None:
        head, _, detail = label.partition(":")
        if detail and head == self.current:
            self.bar.set_description(label)
            self._line(f"      {label}")
            return
        if self.current is not None:
            self.bar.update(1)
            self.done += 1
        self.current = head
        self.bar.set_description(label)
        self._line(f"[{min(self.done + 1, self.total)}/{self.total}] {label}")

    def close(self) -> None:
        if self.current is not None:
            self.bar.update(1)
        self.bar.close()


def show_progress(args: argparse.Namespace) -> bool:
    """Progress bars only on a terminal, and not with -q."""
    return sys.stderr.isatty() and not getattr(args, "quiet", False)


def point_columns(args: argparse.Namespace, role: str) -> PointColumns:
    """The ``--ROLE-...-column`` options of one point file as :class:`~coverage.io.points.PointColumns`."""
    from coverage.cli._options import COLUMN_FIELDS
    from coverage.io.points import PointColumns

    def given(field: str) -> str | None:
        return getattr(args, f"{role}_{field}", None)

    fields = {field: given(f"{field}_column") for field in COLUMN_FIELDS[role]}
    options = {
        "lon_column": f"--{role}-lon-column",
        "lat_column": f"--{role}-lat-column",
        "crs": f"--{role}-crs",
        **{f"{field}_column": f"--{role}-{field}-column" for field in COLUMN_FIELDS[role]},
    }
    return PointColumns(lon=given("lon_column"), lat=given("lat_column"), crs=given("crs"), **fields, options=options)


#: Options naming input files, as (attribute of the parsed options, option as typed).
FILE_OPTIONS = (
    ("network", "OSM_FILE"),
    ("facilities", "--facilities"),
    ("villages", "--villages"),
    ("population", "--population"),
    ("zones", "--zones"),
    ("boundary", "--boundary"),
    ("zone_classes", "--zone-classes"),
    ("candidates", "--candidates"),
    ("exclude", "--exclude"),
    ("sites", "--sites"),
    ("call_records", "--call-records"),
    ("hospitals", "--hospitals"),
)


def check_input_files(args: argparse.Namespace) -> None:
    """Every input file the options name exists and is a file (the readers check what is inside)."""
    for attribute, option in FILE_OPTIONS:
        value = getattr(args, attribute, None)
        if value is None:
            continue
        path = Path(value)
        if not path.exists():
            msg = f"{option} {value}: no such file (relative paths start from {Path.cwd()}); check the path."
            raise InputError(msg)
        if path.is_dir():
            msg = f"{option} {value} is a folder; give the path of a file inside it."
            raise InputError(msg)


def check_region_options(args: argparse.Namespace) -> None:
    """What a command that runs an analysis can check before any work: files, region preset, profile.

    Raises
    ------
    CoverageError
        Naming the option, the value and what to give instead.
    """
    from coverage.network.profiles import load_profile

    check_input_files(args)
    analysis_inputs(args)  # --region: a known preset, with an OSM_FILE to clip
    if getattr(args, "profile", None) is not None:
        load_profile(args.profile)


def analysis_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """The region inputs of the region options, as keyword arguments of the library."""
    boundary, zones, zones_name_column = args.boundary, args.zones, args.zones_name_column
    zones_level = None
    if args.region:
        from coverage.io.regions import region_preset_path

        preset = region_preset_path(args.region)
        if not args.network:
            msg = f"--region {args.region} clips a road network to that county: give your OSM extract of the area as OSM_FILE"
            raise InputError(msg)
        boundary = boundary or preset
        if zones is None:
            # the preset's polygons are county-level units: they cannot stand in for townships
            zones, zones_name_column, zones_level = preset, "name", "county"
    return {
        "osm": args.network,
        "facilities": args.facilities,
        "villages": args.villages,
        "population": args.population,
        **population_totals_inputs(args.population_totals),
        "zones": zones,
        "zones_name_column": zones_name_column,
        "zones_where": args.zones_where,
        "zones_level": zones_level,
        "boundary": boundary,
        "boundary_where": args.boundary_where,
        "border_km": args.border_km,
        "datum": args.datum,
        "facilities_datum": args.facilities_datum,
        "villages_datum": args.villages_datum,
        "facility_columns": point_columns(args, "facilities"),
        "village_columns": point_columns(args, "villages"),
        "kind_map": args.kind_map,
        "road_class_column": args.road_class_column,
        "default_road_class": args.default_road_class,
        "cache_dir": args.cache_dir,
        "use_cache": not args.no_cache,
    }


#: File endings that make --population-totals a file even when it does not exist (so a typo says "not found").
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def population_totals_inputs(text: str | None) -> dict[str, Any]:
    """``--population-totals`` as keyword arguments of the library: a file, a column of the zones, or ``none``."""
    if text is None:
        return {}
    if text.strip().lower() == "none":
        return {"calibrate_default": False}
    path = Path(text).expanduser()
    if path.exists() or path.suffix.lower() in TABLE_SUFFIXES or "/" in text or os.sep in text:
        return {"population_totals": path}
    return {"population_totals_column": text}


def analyze_from_args(
    args: argparse.Namespace, *, minutes: Sequence[float] | None = None, per_facility_isochrones: bool = False
) -> Analysis:
    """Run analyze() on the command's region and method options, with a progress bar on a terminal."""
    from coverage.analysis.grid import DEFAULT_CELL_M
    from coverage.analysis.isochrones import DEFAULT_BUFFER_M
    from coverage.analysis.run import ANALYZE_STEPS, analyze

    bar = StepBar(ANALYZE_STEPS, enabled=show_progress(args), log=not getattr(args, "quiet", False))
    try:
        return analyze(
            **analysis_inputs(args),
            profile=args.profile,
            direction=args.direction,
            minutes=args.minutes if minutes is None else minutes,
            kinds=args.kinds,
            ems=args.ems,
            buffer_m=getattr(args, "buffer_m", DEFAULT_BUFFER_M),  # site has no --buffer-m
            isochrone_method=getattr(args, "isochrones", "surface"),
            cell_m=getattr(args, "cell_m", DEFAULT_CELL_M),
            per_facility_isochrones=per_facility_isochrones,
            progress=bar,
        )
    finally:
        bar.close()


def assess_from_args(
    args: argparse.Namespace,
    standard: Standard,
    *,
    analyses: dict[tuple[str, str, tuple[str, ...]], Analysis] | None = None,
    **overrides: Any,
) -> Assessment:
    """Run assess() on the command's region options (``overrides`` replace some), with a progress bar on a terminal."""
    from coverage.standards.assessment import assess

    bar = StepBar(len(standard.targets) + 3, enabled=show_progress(args))
    try:
        return assess(
            standard,
            zone_classes=args.zone_classes,
            zone_class_column=args.zone_class_column,
            progress=bar,
            analyses=analyses,
            **{**analysis_inputs(args), **overrides},
        )
    finally:
        bar.close()


#: What to do about a failure of the file system, by errno.
_OS_FIXES = {
    errno.EACCES: "check the permissions of that path, or choose a location you can write to",
    errno.EPERM: "check the permissions of that path, or choose a location you can write to",
    errno.EROFS: "the file system is read-only: choose a location on a writable disk",
    errno.ENOSPC: "the disk is full: free some space, or choose a location on another disk",
    errno.EDQUOT: "the disk quota is used up: free some space, or choose another location",
    errno.EEXIST: "a file of that name is in the way: remove it, or choose another name",
    errno.ENOTDIR: "a file stands where a folder is needed: remove it, or choose another location",
    errno.EISDIR: "a folder stands where a file is needed: give a file name, or remove the folder",
    errno.ENOENT: "check the path (relative paths start from the current folder)",
    errno.ENAMETOOLONG: "give a shorter path",
}


def os_error_text(error: OSError) -> str:
    """A failure of the file system in words: the path, what happened, what to do."""
    what = (error.strerror or str(error) or type(error).__name__).rstrip(".")
    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    where = f"{' -> '.join(paths)}: " if paths else ""
    fix = _OS_FIXES.get(error.errno or -1)
    return f"{where}{what[:1].lower()}{what[1:]}" + (f"; {fix}" if fix else "")


def error_line(command: str, error: BaseException) -> str:
    """The one line a command prints on stderr for an error (the error's type too when it is not one of ours)."""
    notes = "; ".join(getattr(error, "__notes__", []))
    if isinstance(error, CoverageError):
        text = str(error) or type(error).__name__
    elif isinstance(error, OSError):
        text = os_error_text(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return f"facility-coverage {command}: error: {text}" + (f" ({notes})" if notes else "")
