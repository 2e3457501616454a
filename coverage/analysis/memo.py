"""Inputs read once per process: the analyses of one region share their facilities, villages and cells.

``check`` runs an analysis per profile and facility selection of a standard (four
for the five presets), a report runs several, a notebook re-runs ``analyze`` with
other thresholds: each would read the same OSM points, raster cells and zones
again. :func:`remember` keeps the last few results, keyed by what they depend on
(a file by its path, size and modification time, so an edited file is read
again), and hands out copies, so an analysis may change its own frames freely.

:func:`remember_table` keeps a point table (facilities, villages) with the notes
its reading made, and replays the warnings logged meanwhile each time it is reused;
with a ``folder`` it is also kept there as a small GeoPackage, so the next run on
the same files skips the passes over the OSM extract and the raster estimates, as
it skips building the network.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import shapely

from coverage._notices import mark_given, warn_once
from coverage._version import __version__

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Results kept (the largest are the raster cells: about 30 MB for 200,000 cells).
SIZE = 12

_results: OrderedDict[Hashable, Any] = OrderedDict()


def file_key(path: str | os.PathLike[str] | None) -> tuple[str, int, int] | None:
    """A file's identity for the memo: resolved path, size and modification time (None for no file)."""
    if path is None:
        return None
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_size, stat.st_mtime_ns


def geometry_key(geometry: shapely.Geometry | None) -> str | None:
    """A geometry's identity for the memo: the sha256 of its WKB."""
    if geometry is None:
        return None
    return hashlib.sha256(shapely.to_wkb(geometry)).hexdigest()


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or a copy of its result when a call with the same key came before in this process."""
    if key in _results:
        _results.move_to_end(key)
        logger.debug("reusing %s", key[0] if isinstance(key, tuple) else key)
        return copy.deepcopy(_results[key])
    result = compute()
    _keep(key, result)
    return result


def _keep(key: Hashable, result: Any) -> None:
    _results[key] = copy.deepcopy(result)
    while len(_results) > SIZE:
        _results.popitem(last=False)


Table = tuple[gpd.GeoDataFrame, dict[str, Any]]


def remember_table(
    key: Hashable, compute: Callable[[], Table], *, folder: str | os.PathLike[str] | None = None
) -> Table:
    """A point table and its notes, read once: from this process's memory, from ``folder``, or by ``compute()``.

    The messages logged while the table was read (warnings, and info messages when
    they are shown) are logged again each time it is reused, so a later run still says
    what was left out or assumed.

    Parameters
    ----------
    key : hashable
        What the table depends on (files by :func:`file_key`, geometries by :func:`geometry_key`).
    compute : callable
        Reads the table; returns it with a JSON-ready dict of notes.
    folder : path, optional
        Where the table is also kept as a GeoPackage, for later processes.
    """
    if key in _results:
        _results.move_to_end(key)
        frame, notes, records = copy.deepcopy(_results[key])
        _replay(records)
        return frame, notes
    stored = Path(folder) / f"points.{_digest(key)}.gpkg" if folder is not None else None
    found = _read(stored) if stored is not None and stored.exists() else None
    if found is not None:
        frame, notes, records = found
        _replay(records)
    else:
        with _captured() as records:
            frame, notes = compute()
        if stored is not None and len(frame):
            _write(stored, frame, notes, records)
    _keep(key, (frame, notes, records))
    return copy.deepcopy(frame), copy.deepcopy(notes)


#: A message logged while a table was read: logger name, level, template and arguments (JSON-ready).
Record = tuple[str, int, str, list[Any]]


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)


class _Capture(logging.Handler):
    def __init__(self, records: list[Record]) -> None:
        super().__init__(level=logging.INFO)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        # the template and its arguments, not the text: the command line words messages in the planner's language
        args = record.args if isinstance(record.args, tuple) else ((record.args,) if record.args else ())
        self.records.append((record.name, record.levelno, str(record.msg), [_plain(a) for a in args]))
        if record.levelno >= logging.WARNING:
            mark_given(record.getMessage())  # said now: a replay within this run does not say it again


@contextmanager
def _captured() -> Iterator[list[Record]]:
    """The messages the library logs meanwhile, at the levels it is set to show (nothing more is shown)."""
    records: list[Record] = []
    handler = _Capture(records)
    package = logging.getLogger("coverage")
    package.addHandler(handler)
    try:
        yield records
    finally:
        package.removeHandler(handler)


def _replay(records: list[Record]) -> None:
    for name, level, template, args in records:
        if level >= logging.WARNING:
            # said once per run: a command running several analyses of one region reuses the table each time
            warn_once(logging.getLogger(name), template, *args)
        else:
            logging.getLogger(name).log(level, template, *args)


def _digest(key: Hashable) -> str:
    # the version too: another release may read its points otherwise
    return hashlib.sha256(json.dumps([__version__, key], default=str).encode()).hexdigest()[:24]


def _read(path: Path) -> tuple[gpd.GeoDataFrame, dict[str, Any], list[Record]] | None:
    import pyogrio

    try:
        frame = gpd.read_file(path, engine="pyogrio")
        meta = json.loads((pyogrio.read_info(path).get("layer_metadata") or {})["coverage"])
        records = [
            (str(name), int(level), str(template), list(args)) for name, level, template, args in meta["records"]
        ]
        return frame[meta["columns"]], meta["notes"], records
    except Exception as error:  # an unreadable cache is ignored, never an error
        logger.warning("ignoring unreadable cache %s (%s)", path, error)
        return None


def _write(path: Path, frame: gpd.GeoDataFrame, notes: dict[str, Any], records: list[Record]) -> None:
    """Write atomically; a failure only costs the next run the reading."""
    try:
        meta = json.dumps({"columns": list(frame.columns), "notes": notes, "records": records}, default=str)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".gpkg")
        os.close(handle)
        os.unlink(temporary)  # the driver creates the file itself
        try:
            table = frame.copy()
            for column in table.columns:
                if column != table.geometry.name and table[column].dtype == object:
                    table[column] = table[column].astype("string")
            # GeoPackage puts the geometry last: the frame's own column order goes with it
            table.to_file(temporary, driver="GPKG", engine="pyogrio", layer_metadata={"coverage": meta})
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except Exception as error:
        logger.warning("could not write the cache %s (%s); continuing without it", path, error)


def clear() -> None:
    """Forget every result (e.g. to time a first run in a benchmark)."""
    _results.clear()
