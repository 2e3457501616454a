"""The run history: schema, one transaction per run, run references, village diffs, the lock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.reports.history import (
    SCHEMA_VERSION,
    HistoryLockedError,
    Run,
    compare_statuses,
    diff_runs,
    get_run,
    insert_run,
    latest_run,
    list_runs,
    lock_history,
    next_run_id,
    open_history,
    run_key,
    target_results,
    transaction,
    village_status,
    village_status_table,
)
from tests.conftest import REPO


@pytest.fixture(scope="module")
def villages(mwali_places):
    """The 18 real villages of Mwali, with made-up travel times (one unreached)."""
    frame = mwali_places[["id", "name", "geometry"]].copy()
    frame["zone"] = "Moheli"
    frame["population"] = np.arange(len(frame)) * 1000.0 + 500.0
    frame["minutes"] = np.linspace(5.0, 45.0, len(frame))
    frame.loc[frame.index[-1], "minutes"] = np.nan
    frame["nearest_facility_name"] = "Hospital"
    frame["off_network"] = False
    return frame


def _run(run_id: int, statuses: pd.DataFrame, *, facilities_sha: str = "f1", key: str = "k") -> Run:
    covered = int(statuses["covered"].sum())
    return Run(
        id=run_id,
        started_at=f"2025-0{run_id}-01T06:00:00+03:00",
        finished_at=f"2025-0{run_id}-01T06:01:00+03:00",
        run_key=key,
        config_path="county.toml",
        config_sha256="c1",
        version="0.1.0",
        region="Mwali",
        folder=f"2025-0{run_id}-01_060000",
        circle_minutes=30.0,
        villages_total=len(statuses),
        villages_covered=covered,
        population_total=None,
        population_covered=None,
        population_share=None,
        targets_passed=1,
        targets_failed=0,
        targets_cannot=0,
        exit_code=0,
        summary={"region": "Mwali"},
        inputs={
            "network": {"path": "m.osm.pbf", "sha256": "n1"},
            "facilities": {"path": "f.csv", "sha256": facilities_sha},
        },
    )


TARGETS = pd.DataFrame(
    [
        {
            "standard": "yiyang",
            "target": "care_circle_15min",
            "label_en": "15-minute medical circle",
            "label_zh": "15分钟就医圈",
            "status": "pass",
            "measured": 1.0,
            "required": 1.0,
            "unit": "share",
        }
    ]
)


def test_a_run_is_stored_and_read_back(tmp_path, villages):
    path = tmp_path / "history.sqlite"
    statuses = village_status_table(villages, minutes=30.0)
    connection = open_history(path)
    with transaction(connection):
        insert_run(connection, _run(1, statuses), villages=statuses, targets=TARGETS)
    connection.close()

    connection = open_history(path, create=False)
    (run,) = list_runs(connection)
    assert run.id == 1
    assert run.inputs["facilities"] == {"path": "f.csv", "sha256": "f1"}
    assert run.summary == {"region": "Mwali"}
    assert run.villages_uncovered == int((~statuses["covered"]).sum())
    stored = village_status(connection, 1)
    assert len(stored) == len(villages) == 18
    expected = statuses.sort_values("id").reset_index(drop=True)
    pd.testing.assert_series_equal(stored["covered"], expected["covered"])
    assert stored["minutes"].isna().sum() == 1  # the unreached village keeps no time
    assert stored["name"].tolist() == expected["name"].tolist()
    assert target_results(connection, 1)["label_zh"].tolist() == ["15分钟就医圈"]
    assert connection.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)


def test_the_circle_is_inclusive_and_unreached_villages_are_uncovered(villages):
    frame = villages.copy()
    frame["minutes"] = [30.0, 30.000001, np.nan] + [1.0] * (len(frame) - 3)
    statuses = village_status_table(frame, minutes=30.0)
    assert statuses["covered"].tolist()[:3] == [True, False, False]


def test_a_failure_inside_the_transaction_leaves_nothing(tmp_path, villages):
    statuses = village_status_table(villages, minutes=30.0)
    connection = open_history(tmp_path / "history.sqlite")
    broken = statuses.copy()
    broken.loc[broken.index[5], "id"] = broken["id"].iloc[0]  # a duplicate village id fails half-way
    with pytest.raises(sqlite3.IntegrityError), transaction(connection):
        insert_run(connection, _run(1, statuses), villages=broken, targets=TARGETS)
    assert list_runs(connection) == []
    assert connection.execute("SELECT COUNT(*) FROM village_status").fetchone()[0] == 0
    assert next_run_id(connection) == 1


def _two_runs(tmp_path, villages):
    connection = open_history(tmp_path / "history.sqlite")
    first = village_status_table(villages, minutes=30.0)
    faster = villages.copy()
    faster.loc[faster["minutes"] > 40, "minutes"] = 12.0  # a new station near the far villages
    faster.loc[faster.index[0], "minutes"] = 31.0  # and a road closed near the first
    second = village_status_table(faster, minutes=30.0)
    with transaction(connection):
        insert_run(connection, _run(1, first), villages=first)
    with transaction(connection):
        insert_run(connection, _run(2, second, facilities_sha="f2"), villages=second)
    return connection, first, second


def test_runs_are_found_by_number_latest_or_previous(tmp_path, villages):
    connection, _, _ = _two_runs(tmp_path, villages)
    assert get_run(connection, "latest").id == 2
    assert get_run(connection, "previous").id == 1
    assert get_run(connection, "#1").id == 1
    assert get_run(connection, 2).id == 2
    assert latest_run(connection).id == 2
    with pytest.raises(InputError, match=r"no run 7 in the history \(runs are 1–2"):
        get_run(connection, "7")
    with pytest.raises(InputError, match="not a run number"):
        get_run(connection, "last")


def test_an_empty_or_missing_history_says_what_to_do(tmp_path):
    with pytest.raises(InputError, match="facility-coverage report --config"):
        open_history(tmp_path / "none.sqlite", create=False)
    connection = open_history(tmp_path / "empty.sqlite")
    with pytest.raises(InputError, match="history is empty"):
        get_run(connection, "latest")
    assert latest_run(connection) is None


def test_a_file_that_is_not_a_history_is_refused(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("monthly notes", encoding="utf-8")
    with pytest.raises(InputError, match="not a run history"):
        open_history(path)


def test_a_history_from_a_later_version_is_refused(tmp_path):
    path = tmp_path / "history.sqlite"
    connection = open_history(path)
    connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    connection.close()
    with pytest.raises(InputError, match="later version"):
        open_history(path)


def test_the_diff_names_exactly_the_villages_that_changed(tmp_path, villages):
    connection, first, _ = _two_runs(tmp_path, villages)
    diff = diff_runs(connection, "previous", "latest")
    far_reached = set(villages.loc[villages["minutes"] > 40, "id"])
    assert set(diff.newly_covered["id"]) == far_reached
    assert diff.newly_uncovered["id"].tolist() == [villages["id"].iloc[0]]
    assert set(diff.still_uncovered["id"]) == set(first.loc[~first["covered"], "id"]) - far_reached
    assert diff.changed_inputs == {"facilities": ("f1", "f2")}
    assert diff.counts()["newly_uncovered"] == 1
    assert diff.newly_uncovered["minutes_before"].iloc[0] == pytest.approx(5.0)
    assert diff.newly_uncovered["minutes_after"].iloc[0] == pytest.approx(31.0)
    assert diff.changed
    assert not diff_runs(connection, 2, 2).changed


def test_villages_that_appear_or_disappear_are_listed_apart(villages):
    statuses = village_status_table(villages, minutes=30.0)
    diff = compare_statuses(statuses.iloc[:-2], statuses.iloc[2:])
    assert set(diff.disappeared["id"]) == set(statuses["id"].iloc[:2])
    assert set(diff.appeared["id"]) == set(statuses["id"].iloc[-2:])
    assert diff.disappeared["name"].tolist()  # a gone village keeps its name
    assert diff.newly_covered.empty
    assert diff.newly_uncovered.empty


statuses_strategy = st.dictionaries(
    st.sampled_from([f"node/{i}" for i in range(12)]), st.booleans(), min_size=0, max_size=12
)


def _table(covered: dict[str, bool]) -> pd.DataFrame:
    ids = sorted(covered)
    return pd.DataFrame(
        {
            "id": ids,
            "name": ids,
            "zone": "",
            "population": 1.0,
            "minutes": [10.0 if covered[i] else 50.0 for i in ids],
            "covered": [covered[i] for i in ids],
            "nearest_facility": "H",
            "off_network": False,
            "lon": 0.0,
            "lat": 0.0,
        }
    )


@settings(max_examples=80, deadline=None)
@given(before=statuses_strategy, after=statuses_strategy)
def test_every_village_lands_in_exactly_one_kind_of_change(before, after):
    diff = compare_statuses(_table(before), _table(after))
    both = set(before) & set(after)
    assert set(diff.appeared["id"]) == set(after) - set(before)
    assert set(diff.disappeared["id"]) == set(before) - set(after)
    assert set(diff.newly_uncovered["id"]) == {i for i in both if before[i] and not after[i]}
    assert set(diff.newly_covered["id"]) == {i for i in both if not before[i] and after[i]}
    assert set(diff.still_uncovered["id"]) == {i for i in both if not before[i] and not after[i]}


def test_the_run_key_changes_with_any_input_the_settings_or_the_version():
    base = run_key({"network": "a", "facilities": "b"}, config_sha256="c", version="0.1.0")
    assert base == run_key({"facilities": "b", "network": "a"}, config_sha256="c", version="0.1.0")
    assert base != run_key({"network": "a", "facilities": "B"}, config_sha256="c", version="0.1.0")
    assert base != run_key({"network": "a"}, config_sha256="c", version="0.1.0")
    assert base != run_key({"network": "a", "facilities": "b"}, config_sha256="C", version="0.1.0")
    assert base != run_key({"network": "a", "facilities": "b"}, config_sha256="c", version="0.2.0")


def test_a_second_holder_of_the_lock_is_refused_with_the_first_ones_pid(tmp_path):
    path = tmp_path / "history.sqlite"
    with lock_history(path) as lock:
        assert "pid" in lock.read_text(encoding="utf-8")
        pattern = r"another report run is using the history .* \(held by pid \d+"
        with pytest.raises(HistoryLockedError, match=pattern), lock_history(path):
            pass
    with lock_history(path):  # released at the end of the block
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="kills with SIGKILL")
def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "history.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from coverage.reports.history import lock_history\n"
            "with lock_history(sys.argv[1]):\n    print('locked', flush=True); sys.stdin.read()",
            str(path),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(HistoryLockedError, match=f"pid {holder.pid}"), lock_history(path):
            pass
    finally:
        holder.kill()
        holder.wait()
    with lock_history(path):  # the OS released the dead holder's lock
        pass


# --- run folders the history does not know --------------------------------------------------


def _run_folder(reports, name, run):
    folder = reports / name
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"run": run}), encoding="utf-8")
    return folder


def test_run_folders_are_the_dated_ones_with_a_run_number(tmp_path):
    from coverage.reports.history import run_folders

    first = _run_folder(tmp_path, "2025-01-01_060000", 1)
    second = _run_folder(tmp_path, "2025-01-01_060000_run2", 2)
    _run_folder(tmp_path, "failed", 9)  # not a dated name
    (tmp_path / "2025-03-01_060000").mkdir()  # no summary.json: not ours
    assert run_folders(tmp_path) == [(first, 1), (second, 2)]
    assert run_folders(tmp_path / "missing") == []


def test_a_lost_or_emptied_history_with_run_folders_is_refused(tmp_path):
    from coverage.reports.history import check_history_kept

    folders = [(_run_folder(tmp_path, "2025-01-01_060000", 1), 1)]
    history = tmp_path / "history.sqlite"
    with pytest.raises(
        InputError, match=r"history\.sqlite is missing, while the report folder holds the folders of run 1"
    ):
        check_history_kept(history, folders)
    history.write_bytes(b"")
    with pytest.raises(InputError, match=r"is empty \(0 bytes\)"):
        check_history_kept(history, folders)
    check_history_kept(history, [])  # a new history beside no run folders is fine
    open_history(history).close()
    check_history_kept(history, folders)  # a history with content is judged run by run, once opened
    with pytest.raises(InputError, match="holds 3 runs but not these"):
        check_history_kept(history, folders, recorded_runs=3)


def test_history_opened_for_reading_changes_nothing(tmp_path):
    path = tmp_path / "history.sqlite"
    open_history(path).close()
    before = path.read_bytes()
    connection = open_history(path, create=False)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("INSERT INTO meta VALUES ('x', 'y')")
    connection.close()
    assert path.read_bytes() == before
