"""The run history of scheduled reports: one SQLite file, one row per run, every village's status per run.

The history answers "what changed since last time": each run is stored with its
time, the sha256 of every input file, the hash of the configuration's settings,
the software version, its headline figures and target results, and the status
of every village (covered or not within the run's circle, minutes, nearest
facility). Any two runs can be compared village by village (:func:`diff_runs`).

Writes happen in one transaction (:func:`transaction`), so a run that fails or
is killed leaves the history as it was. One report run at a time holds
:func:`lock_history`, an exclusive lock on a ``.lock`` file beside the database;
a second run stops with a clear message instead of waiting or interleaving.

The database uses the standard library's :mod:`sqlite3`; any SQLite tool opens it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from coverage._errors import CoverageError, InputError

logger = logging.getLogger(__name__)

#: Version of the database layout; a history written by a later layout is refused.
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,          -- ISO 8601, UTC
    finished_at TEXT NOT NULL,
    run_key TEXT NOT NULL,             -- sha256 of input hashes + settings hash + version
    config_path TEXT NOT NULL,
    config_sha256 TEXT NOT NULL,       -- the configuration's settings (RunConfig.sha256)
    version TEXT NOT NULL,             -- coverage.__version__
    region TEXT NOT NULL,
    folder TEXT NOT NULL,              -- the run's report folder
    circle_minutes REAL NOT NULL,      -- the threshold of "covered" in village_status
    villages_total INTEGER NOT NULL,
    villages_covered INTEGER NOT NULL,
    population_total REAL,
    population_covered REAL,
    population_share REAL,
    targets_passed INTEGER NOT NULL,
    targets_failed INTEGER NOT NULL,
    targets_cannot INTEGER NOT NULL,
    exit_code INTEGER NOT NULL,
    summary TEXT NOT NULL              -- headline figures, JSON
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (run_key);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, role)
);
CREATE TABLE IF NOT EXISTS village_status (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    village_id TEXT NOT NULL,
    name TEXT,
    zone TEXT,
    population REAL,
    minutes REAL,                      -- NULL: no road route to any facility
    covered INTEGER NOT NULL,          -- 1 when minutes <= circle_minutes
    nearest_facility TEXT,
    off_network INTEGER NOT NULL,
    lon REAL,
    lat REAL,
    PRIMARY KEY (run_id, village_id)
);
CREATE TABLE IF NOT EXISTS target_results (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    standard TEXT NOT NULL,
    target TEXT NOT NULL,
    label_en TEXT,
    label_zh TEXT,
    status TEXT NOT NULL,              -- pass, fail, cannot_evaluate
    measured REAL,
    required REAL,
    unit TEXT,
    PRIMARY KEY (run_id, standard, target)
);
"""

#: Columns of a village status table (:func:`village_status_table`, :func:`village_status`).
STATUS_COLUMNS = (
    "id",
    "name",
    "zone",
    "population",
    "minutes",
    "covered",
    "nearest_facility",
    "off_network",
    "lon",
    "lat",
)
#: Columns of a target results table (:func:`target_results`).
TARGET_COLUMNS = ("standard", "target", "label_en", "label_zh", "status", "measured", "required", "unit")

_RUN_FIELDS = (
    "id",
    "started_at",
    "finished_at",
    "run_key",
    "config_path",
    "config_sha256",
    "version",
    "region",
    "folder",
    "circle_minutes",
    "villages_total",
    "villages_covered",
    "population_total",
    "population_covered",
    "population_share",
    "targets_passed",
    "targets_failed",
    "targets_cannot",
    "exit_code",
    "summary",
)


class HistoryLockedError(CoverageError, RuntimeError):
    """Another report run holds the history's lock."""


@dataclass(frozen=True)
class Run:
    """One recorded run.

    Attributes
    ----------
    id : int
        Run number, from 1.
    started_at, finished_at : str
        ISO 8601 times in UTC.
    run_key : str
        Identifies the run's inputs, settings and software version (:func:`run_key`).
    config_path, config_sha256 : str
        The configuration file and the hash of its settings.
    version : str
        The software version that made the run.
    region : str
    folder : str
        The run's report folder.
    circle_minutes : float
        The circle villages are covered or uncovered for.
    villages_total, villages_covered : int
    population_total, population_covered, population_share : float or None
        Population within the circle (raster cells, else villages).
    targets_passed, targets_failed, targets_cannot : int
        Target results, over every standard.
    exit_code : int
        0 every target met, 1 a target missed.
    summary : dict
        Headline figures (JSON).
    inputs : dict
        Each input's ``path`` and ``sha256``, by role.
    """

    id: int
    started_at: str
    finished_at: str
    run_key: str
    config_path: str
    config_sha256: str
    version: str
    region: str
    folder: str
    circle_minutes: float
    villages_total: int
    villages_covered: int
    population_total: float | None
    population_covered: float | None
    population_share: float | None
    targets_passed: int
    targets_failed: int
    targets_cannot: int
    exit_code: int
    summary: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def villages_uncovered(self) -> int:
        """Villages outside the circle."""
        return self.villages_total - self.villages_covered

    @property
    def missed(self) -> bool:
        """True when a target failed."""
        return self.targets_failed > 0


@dataclass(frozen=True)
class RunDiff:
    """What changed between two runs, village by village.

    Each table has ``id``, ``name``, ``zone``, ``population``, ``minutes_before``,
    ``minutes_after`` and ``nearest_facility`` (of the later run), largest
    population first.

    Attributes
    ----------
    before, after : int or None
        The runs compared; None for a run not recorded yet.
    newly_uncovered : DataFrame
        Covered before, uncovered now.
    newly_covered : DataFrame
        Uncovered before, covered now.
    still_uncovered : DataFrame
        Uncovered in both runs.
    appeared, disappeared : DataFrame
        Villages only in the later or only in the earlier run (a changed village
        file, or ids that are not stable).
    changed_inputs : dict
        Role to (sha256 before, sha256 after) of every input that differs.
    circle_before, circle_after : float or None
        The circles of the two runs; when they differ, statuses changed by definition.
    """

    before: int | None
    after: int | None
    newly_uncovered: pd.DataFrame
    newly_covered: pd.DataFrame
    still_uncovered: pd.DataFrame
    appeared: pd.DataFrame
    disappeared: pd.DataFrame
    changed_inputs: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    circle_before: float | None = None
    circle_after: float | None = None

    @property
    def changed(self) -> bool:
        """True when any village changed status, appeared or disappeared."""
        return any(len(t) for t in (self.newly_uncovered, self.newly_covered, self.appeared, self.disappeared))

    def counts(self) -> dict[str, int]:
        """Villages per kind of change (JSON-ready)."""
        return {
            "newly_uncovered": len(self.newly_uncovered),
            "newly_covered": len(self.newly_covered),
            "still_uncovered": len(self.still_uncovered),
            "appeared": len(self.appeared),
            "disappeared": len(self.disappeared),
        }


# --- keys and tables -----------------------------------------------------------------


def run_key(input_sha256: Mapping[str, str], *, config_sha256: str, version: str) -> str:
    """The key of a run: equal keys mean identical inputs, settings and software.

    Parameters
    ----------
    input_sha256 : mapping
        Role (``network``, ``facilities``...) to the sha256 of that file.
    config_sha256 : str
        Hash of the configuration's settings.
    version : str
        Software version.

    Examples
    --------
    >>> a = run_key({"network": "ab12"}, config_sha256="cd34", version="0.1.0")
    >>> a == run_key({"network": "ab12"}, config_sha256="cd34", version="0.1.1")
    False
    """
    text = json.dumps([sorted(input_sha256.items()), config_sha256, version])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def village_status_table(villages: pd.DataFrame, *, minutes: float) -> pd.DataFrame:
    """Each village's status within the circle of ``minutes``, as the history stores it.

    Parameters
    ----------
    villages : GeoDataFrame
        An analysis' villages (``id``, ``name``, ``zone``, ``population``,
        ``minutes``, ``nearest_facility_name``, ``off_network``, point geometry).
    minutes : float
        The circle: a village is covered when its travel time is at most this,
        compared without rounding.

    Returns
    -------
    DataFrame
        :data:`STATUS_COLUMNS`, one row per village.
    """
    times = pd.to_numeric(villages["minutes"], errors="coerce")
    geometry = villages.geometry if "geometry" in villages else None
    table = pd.DataFrame(
        {
            "id": villages["id"].astype(str).to_numpy(),
            "name": villages["name"].fillna("").astype(str).to_numpy(),
            "zone": villages["zone"].fillna("").astype(str).to_numpy() if "zone" in villages else "",
            "population": pd.to_numeric(villages["population"], errors="coerce").to_numpy(),
            "minutes": times.to_numpy(),
            "covered": (times <= minutes).fillna(False).to_numpy(dtype=bool),
            "nearest_facility": villages["nearest_facility_name"].to_numpy(),
            "off_network": villages["off_network"].fillna(False).to_numpy(dtype=bool),
            "lon": geometry.x.to_numpy() if geometry is not None else float("nan"),
            "lat": geometry.y.to_numpy() if geometry is not None else float("nan"),
        }
    )
    return table


def compare_statuses(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    before_run: int | None = None,
    after_run: int | None = None,
) -> RunDiff:
    """Compare two village status tables (:data:`STATUS_COLUMNS`) by village id."""
    merged = before[["id", "covered", "minutes"]].merge(
        after[["id", "name", "zone", "population", "covered", "minutes", "nearest_facility"]],
        on="id",
        how="outer",
        suffixes=("_before", "_after"),
        indicator=True,
    )
    gone = merged["_merge"] == "left_only"
    if gone.any():
        # villages no longer in the input keep the name they had
        names = before.set_index("id")[["name", "zone", "population"]]
        for column in ("name", "zone", "population"):
            merged[column] = merged[column].astype(object)
            merged.loc[gone, column] = merged.loc[gone, "id"].map(names[column])
    both = merged["_merge"] == "both"
    was = merged["covered_before"].astype("boolean").fillna(False)
    now = merged["covered_after"].astype("boolean").fillna(False)
    columns = ["id", "name", "zone", "population", "minutes_before", "minutes_after", "nearest_facility"]

    def pick(mask: pd.Series) -> pd.DataFrame:
        chosen = merged.loc[mask.to_numpy(dtype=bool), columns]
        return chosen.sort_values(["population", "id"], ascending=[False, True], na_position="last").reset_index(
            drop=True
        )

    return RunDiff(
        before=before_run,
        after=after_run,
        newly_uncovered=pick(both & was & ~now),
        newly_covered=pick(both & ~was & now),
        still_uncovered=pick(both & ~was & ~now),
        appeared=pick(merged["_merge"] == "right_only"),
        disappeared=pick(gone),
    )


# --- run folders ---------------------------------------------------------------------

#: A dated run folder: ``2025-03-01_060000``, or ``2025-03-01_060000_run7`` when two runs started in one second.
RUN_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{6}(_run\d+)?$")


def run_folders(folder: str | os.PathLike[str]) -> list[tuple[Path, int]]:
    """The dated run folders in a report folder, with the run number each one's ``summary.json`` claims."""
    folder = Path(folder)
    found: list[tuple[Path, int]] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if not (path.is_dir() and RUN_FOLDER.match(path.name)):
            continue
        try:
            claimed = json.loads((path / "summary.json").read_text(encoding="utf-8"))["run"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a run folder of ours
        if isinstance(claimed, int):
            found.append((path, claimed))
    return found


def check_history_kept(
    history: str | os.PathLike[str], unknown: Sequence[tuple[Path, int]], *, recorded_runs: int | None = None
) -> None:
    """Refuse to go on when run folders exist that the history does not know (it was emptied, lost or replaced).

    With ``recorded_runs`` None, ``history`` has not been opened yet: only a
    missing or empty (0-byte) history is judged, against all of ``unknown``.

    Raises
    ------
    InputError
        Naming the history, the folders and the two ways out.
    """
    history = Path(history)
    if recorded_runs is None and history.is_file() and history.stat().st_size > 0:
        return
    if not unknown:
        return
    claims = sorted({claimed for _, claimed in unknown})
    runs = f"run {claims[0]}" if len(claims) == 1 else f"runs {', '.join(map(str, claims[:6]))}"
    folders = ", ".join(str(path) for path, _ in unknown[:3]) + (
        f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
    )
    if recorded_runs is None or recorded_runs == 0:
        state = (
            "is missing"
            if not history.exists()
            else ("is empty (0 bytes)" if history.stat().st_size == 0 else "holds no runs")
        )
    else:
        state = f"holds {recorded_runs} runs but not these"
    msg = (
        f"the run history {history} {state}, while the report folder holds the folders of {runs} ({folders}): "
        "the history was emptied, lost or replaced, and a new run would number and compare itself wrongly. "
        f"Restore {history.name} from a backup, or move those run folders out of {unknown[0][0].parent} to start "
        "a new history."
    )
    raise InputError(msg)


# --- the database --------------------------------------------------------------------


def open_history(path: str | os.PathLike[str], *, create: bool = True) -> sqlite3.Connection:
    """Open (and with ``create``, make) a run history database.

    The connection is in autocommit mode: writes go through :func:`transaction`.

    Raises
    ------
    InputError
        When ``create`` is False and there is no such file, or the file is not a
        history database this version can read.
    """
    path = Path(path)
    if not create:
        return _open_for_reading(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    except sqlite3.Error as error:
        raise _not_writable(path, error) from error
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        with transaction(connection):
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            else:
                _check_layout(path, row[0])
    except sqlite3.OperationalError as error:
        connection.close()
        raise _not_writable(path, error) from error
    except sqlite3.DatabaseError as error:
        connection.close()
        raise _not_a_history(path, str(error)) from error
    except BaseException:
        connection.close()
        raise
    return connection


def _not_a_history(path: Path, why: str) -> InputError:
    return InputError(f"{path}: not a run history database ({why}); give the history.sqlite a report run wrote.")


def _check_layout(path: Path, layout: str) -> None:
    if int(layout) > SCHEMA_VERSION:
        msg = (
            f"{path}: run history of layout {layout}, written by a later version of facility-coverage "
            f"(this one reads layout {SCHEMA_VERSION}); upgrade, or give another --db."
        )
        raise InputError(msg)


def _open_for_reading(path: Path) -> sqlite3.Connection:
    """An existing history, opened read-only: it may lie on a share this user cannot write."""
    if not path.is_file():
        msg = f"no run history at {path}: run 'facility-coverage report --config FILE' first, or give --db FILE."
        raise InputError(msg)
    if path.stat().st_size == 0:
        msg = f"{path} is empty (0 bytes), not a run history; restore it from a backup, or give the history.sqlite a report run wrote."
        raise InputError(msg)
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as error:
        msg = f"cannot read the run history {path} ({error}); check that this user can read it."
        raise InputError(msg) from error
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        connection.execute("SELECT id FROM runs LIMIT 1").fetchall()
        if row is None:
            raise _not_a_history(path, "no layout recorded")
        _check_layout(path, row[0])
    except sqlite3.DatabaseError as error:
        connection.close()
        raise _not_a_history(path, str(error)) from error
    except BaseException:
        connection.close()
        raise
    return connection


def _not_writable(path: Path, error: sqlite3.Error) -> InputError:
    """The history cannot be opened or written (a read-only folder or file, a full disk): say where and what to do."""
    msg = (
        f"cannot open the run history {path} for writing ({error}): check that {path.parent} and {path.name} "
        "can be written by this user and the disk has room, or give another history path ([report] history)."
    )
    return InputError(msg)


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An immediate transaction: committed when the block ends, rolled back when it raises."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def lock_path(history: str | os.PathLike[str]) -> Path:
    """The lock file beside a history database."""
    return Path(f"{os.fspath(history)}.lock")


@contextmanager
def lock_history(history: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the exclusive lock of a history for a run; fail at once when another run holds it.

    The lock is an OS file lock on ``<history>.lock`` (``flock`` on POSIX), so it
    is released when its holder ends, even when killed: there are no stale locks.

    Raises
    ------
    HistoryLockedError
        When another run holds the lock. The message names the holder's process.
    """
    path = lock_path(history)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held open for the whole block)
    try:
        if not _try_lock(handle):
            holder = _read_holder(path)
            msg = (
                f"another report run is using the history {history} ({holder}); this run stopped without "
                "changing anything. Run again when that one has finished (runs at once on the same history are "
                "refused so that they cannot mix up their records)."
            )
            raise HistoryLockedError(msg)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {now_utc()}\n")
        handle.flush()
        yield path
    finally:
        _unlock(handle)
        handle.close()


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError:  # not locked by us
        pass


def _read_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return f"held by {text}" if text else "holder unknown"


def now_utc() -> str:
    """The current time, ISO 8601 in UTC to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def next_run_id(connection: sqlite3.Connection) -> int:
    """The number the next recorded run gets (call under :func:`lock_history`)."""
    row = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM runs").fetchone()
    return int(row[0])


def _none_if_nan(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _none_if_nan(value.item())
    return value


def insert_run(
    connection: sqlite3.Connection,
    run: Run,
    *,
    villages: pd.DataFrame,
    targets: pd.DataFrame | None = None,
) -> int:
    """Insert a run, its inputs, its village statuses and its target results.

    Call inside :func:`transaction` so that all of it is written or none.

    Parameters
    ----------
    connection : sqlite3.Connection
    run : Run
        Its ``id`` is used as given (see :func:`next_run_id`).
    villages : DataFrame
        :data:`STATUS_COLUMNS`.
    targets : DataFrame, optional
        :data:`TARGET_COLUMNS`.

    Returns
    -------
    int
        The run's id.
    """
    values = [getattr(run, name) for name in _RUN_FIELDS]
    values[_RUN_FIELDS.index("summary")] = json.dumps(run.summary, ensure_ascii=False, default=str)
    connection.execute(
        f"INSERT INTO runs ({', '.join(_RUN_FIELDS)}) VALUES ({', '.join('?' * len(_RUN_FIELDS))})",
        [_none_if_nan(v) for v in values],
    )
    connection.executemany(
        "INSERT INTO run_inputs VALUES (?, ?, ?, ?)",
        [(run.id, role, item["path"], item["sha256"]) for role, item in sorted(run.inputs.items())],
    )
    status_rows = [
        (
            run.id,
            str(row.id),
            _none_if_nan(row.name),
            _none_if_nan(row.zone),
            _none_if_nan(row.population),
            _none_if_nan(row.minutes),
            int(bool(row.covered)),
            _none_if_nan(row.nearest_facility),
            int(bool(row.off_network)),
            _none_if_nan(row.lon),
            _none_if_nan(row.lat),
        )
        for row in villages[list(STATUS_COLUMNS)].itertuples(index=False)
    ]
    connection.executemany("INSERT INTO village_status VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", status_rows)
    if targets is not None and len(targets):
        connection.executemany(
            "INSERT INTO target_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (run.id, *(_none_if_nan(v) for v in row))
                for row in targets[list(TARGET_COLUMNS)].itertuples(index=False, name=None)
            ],
        )
    logger.info("recorded run %d (%d villages, key %s)", run.id, len(status_rows), run.run_key[:12])
    return run.id


def list_runs(connection: sqlite3.Connection) -> list[Run]:
    """Every recorded run, oldest first."""
    rows = connection.execute(f"SELECT {', '.join(_RUN_FIELDS)} FROM runs ORDER BY id").fetchall()
    inputs: dict[int, dict[str, dict[str, str]]] = {}
    for run_id, role, path, sha256 in connection.execute("SELECT run_id, role, path, sha256 FROM run_inputs"):
        inputs.setdefault(run_id, {})[role] = {"path": path, "sha256": sha256}
    runs = []
    for row in rows:
        fields = dict(zip(_RUN_FIELDS, row, strict=True))
        fields["summary"] = json.loads(fields["summary"])
        runs.append(Run(**fields, inputs=inputs.get(fields["id"], {})))
    return runs


def latest_run(connection: sqlite3.Connection) -> Run | None:
    """The most recent run, or None in an empty history."""
    runs = list_runs(connection)
    return runs[-1] if runs else None


def get_run(connection: sqlite3.Connection, ref: str | int) -> Run:
    """A run by number (``3``, ``"#3"``), or ``"latest"`` / ``"previous"`` (the one before the latest).

    Raises
    ------
    InputError
        When there is no such run; the message gives the runs there are.
    """
    runs = list_runs(connection)
    text = str(ref).strip().lower().lstrip("#")
    if not runs:
        msg = f"no run {ref!r}: the history is empty; run 'facility-coverage report --config FILE' first."
        raise InputError(msg)
    span = f"runs are {runs[0].id}–{runs[-1].id}" if len(runs) > 1 else f"the only run is {runs[0].id}"
    if text == "latest":
        return runs[-1]
    if text == "previous":
        if len(runs) < 2:
            msg = f"no previous run: {span}."
            raise InputError(msg)
        return runs[-2]
    if not text.isdigit():
        msg = f"run {ref!r} is not a run number, 'latest' or 'previous' ({span})."
        raise InputError(msg)
    for run in runs:
        if run.id == int(text):
            return run
    msg = f"no run {text} in the history ({span}; see 'facility-coverage history')."
    raise InputError(msg)


def village_status(connection: sqlite3.Connection, run_id: int) -> pd.DataFrame:
    """The village statuses of a run (:data:`STATUS_COLUMNS`)."""
    frame = pd.read_sql_query(
        "SELECT village_id AS id, name, zone, population, minutes, covered, nearest_facility, off_network, lon, lat "
        "FROM village_status WHERE run_id = ? ORDER BY village_id",
        connection,
        params=(run_id,),
    )
    frame["covered"] = frame["covered"].astype(bool)
    frame["off_network"] = frame["off_network"].astype(bool)
    frame["minutes"] = frame["minutes"].astype(float)
    return frame


def target_results(connection: sqlite3.Connection, run_id: int) -> pd.DataFrame:
    """The target results of a run (:data:`TARGET_COLUMNS`)."""
    return pd.read_sql_query(
        f"SELECT {', '.join(TARGET_COLUMNS)} FROM target_results WHERE run_id = ? ORDER BY rowid",
        connection,
        params=(run_id,),
    )


def changed_inputs(before: Run, after: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[str | None, str | None]]:
    """Role to (sha256 before, sha256 after) of every input that differs between a run and ``after``."""
    roles = sorted(set(before.inputs) | set(after))
    changes = {}
    for role in roles:
        old = before.inputs.get(role, {}).get("sha256")
        new = after.get(role, {}).get("sha256")
        if old != new:
            changes[role] = (old, new)
    return changes


def diff_runs(connection: sqlite3.Connection, before: str | int, after: str | int) -> RunDiff:
    """Compare two recorded runs village by village.

    Parameters
    ----------
    before, after : str or int
        Run numbers, ``"latest"`` or ``"previous"``.
    """
    first, second = get_run(connection, before), get_run(connection, after)
    diff = compare_statuses(
        village_status(connection, first.id),
        village_status(connection, second.id),
        before_run=first.id,
        after_run=second.id,
    )
    return dataclasses.replace(
        diff,
        changed_inputs=changed_inputs(first, second.inputs),
        circle_before=first.circle_minutes,
        circle_after=second.circle_minutes,
    )


def runs_table(runs: Sequence[Run]) -> pd.DataFrame:
    """Runs as a table: number, time, version, covered share, villages uncovered, targets."""
    return pd.DataFrame(
        [
            {
                "run": run.id,
                "started_at": run.started_at,
                "version": run.version,
                "circle_minutes": run.circle_minutes,
                "population_share": run.population_share,
                "villages_uncovered": run.villages_uncovered,
                "villages_total": run.villages_total,
                "targets_passed": run.targets_passed,
                "targets_failed": run.targets_failed,
                "targets_cannot": run.targets_cannot,
                "exit_code": run.exit_code,
                "folder": run.folder,
            }
            for run in runs
        ]
    )
