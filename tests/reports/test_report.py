"""Scheduled reports on the real Mwali island: dated folders, history, changes, exit codes, safety.

The real pipeline (analysis, targets, maps) runs three times in this module: a first
run, a run on a facility file with one new station (which also meets a count target),
and a run that fails half-way (a bad coordinate in its facility file).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from coverage._i18n import display_width
from coverage.cli.main import main
from coverage.io.osm import facilities_from_osm
from coverage.network.prepared import file_sha256
from coverage.reports.config import load_run_config
from coverage.reports.history import list_runs, open_history, village_status
from coverage.reports.page import trend_svg
from coverage.reports.report import REPORT_HTML, ReportResult, run_report, uncovered_table
from tests.conftest import COMOROS_PBF, COMOROS_RASTER, INPUT, REPO

MWALI = INPUT / "mwali_boundary.geojson"
HOSTILE = "<img src=x onerror=alert(1)>"
CHINESE = "瓦拉村"

STANDARD = """\
title_zh = "测试标准"
title_en = "Test standard"
plan = "test"

[[target]]
id = "car_30min_half"
kind = "travel_time"
label_zh = "30分钟内覆盖一半人口"
label_en = "Half the people within 30 minutes by car"
quote = "30分钟"
minutes = 30
profile = "car"
direction = "to_facility"
required_share = 0.5
"""

SEVEN_FACILITIES = """
[[target]]
id = "seven_facilities"
kind = "minimum_count"
label_zh = "至少7个医疗机构"
label_en = "At least 7 facilities"
quote = "至少7个"
min_count = 7
"""


def cli(argv: list[str]) -> int:
    """The facility-coverage command."""
    return main(argv)


def _rel(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


def write_config(
    folder: Path, name: str, *, facilities: str, standard: str | None, population: bool = True, extra: str = ""
) -> Path:
    text = f"""\
name = "Mwali"

[inputs]
osm = "{_rel(COMOROS_PBF, folder)}"
boundary = "{_rel(MWALI, folder)}"
zones = "{_rel(MWALI, folder)}"
zones_name_column = "name_en"
facilities = "{facilities}"
villages = "villages.geojson"
{f'population = "{_rel(COMOROS_RASTER, folder)}"' if population else ""}

[analysis]
minutes = [15, 30]
cache_dir = "cache"

[check]
standards = [{f'"{standard}"' if standard else ""}]

[report]
folder = "reports"
{extra}
"""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A county folder: facility and village files from the real extract, two standards, a config."""
    folder = tmp_path_factory.mktemp("county")
    boundary = gpd.read_file(MWALI).geometry.union_all()
    facilities = facilities_from_osm(COMOROS_PBF, boundary=boundary)
    table = pd.DataFrame(
        {
            "id": facilities["id"],
            "name": facilities["name"],
            "kind": facilities["kind"],
            "lon": facilities.geometry.x,
            "lat": facilities.geometry.y,
        }
    )
    table.to_csv(folder / "facilities.csv", index=False)
    from coverage.io.osm import places_from_osm

    places = places_from_osm(COMOROS_PBF, boundary=boundary)[["id", "name", "place", "geometry"]]
    ouallah = places.index[places["name"].str.contains("Ouallah")][0]
    itsamia = places.index[places["name"].str.contains("Itsamia")][0]
    places.loc[ouallah, "name"] = CHINESE
    places.loc[itsamia, "name"] = HOSTILE
    places.to_file(folder / "villages.geojson")
    # the same facilities and one new station at Ouallah, outside the 30-minute circle today
    station = places.loc[ouallah].geometry
    new = pd.DataFrame([{"id": "new/1", "name": "New EMS station", "kind": "ems", "lon": station.x, "lat": station.y}])
    pd.concat([table, new]).to_csv(folder / "facilities_new.csv", index=False)
    (folder / "standard.toml").write_text(STANDARD + SEVEN_FACILITIES, encoding="utf-8")
    config = write_config(folder, "county.toml", facilities="facilities.csv", standard="standard.toml")
    return {
        "folder": folder,
        "config": config,
        "ouallah": places.loc[ouallah, "id"],
        "itsamia": places.loc[itsamia, "id"],
    }


@pytest.fixture(scope="module")
def first(workspace) -> ReportResult:
    return run_report(workspace["config"])


@pytest.fixture(scope="module")
def again(workspace, first) -> ReportResult:
    return run_report(workspace["config"])


@pytest.fixture(scope="module")
def changed(workspace, again) -> ReportResult:
    config = write_config(workspace["folder"], "county.toml", facilities="facilities_new.csv", standard="standard.toml")
    return run_report(config)


def _runs(workspace):
    connection = open_history(workspace["folder"] / "reports" / "history.sqlite", create=False)
    try:
        return list_runs(connection)
    finally:
        connection.close()


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under the report folder but the history database and its lock."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith("history.sqlite")
    }


# --- the first run -----------------------------------------------------------------------


def test_a_run_writes_a_dated_folder_with_every_file(first, workspace):
    assert not first.unchanged
    assert first.run == 1
    assert first.folder.parent == workspace["folder"] / "reports"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d{6}", first.folder.name)
    names = {p.name for p in first.folder.iterdir()}
    assert {"report.html", "uncovered_villages.csv", "report.gpkg", "summary.json", "run.log"} <= names
    assert not list(first.folder.parent.glob(".partial-*"))
    log = (first.folder / "run.log").read_text(encoding="utf-8")
    assert "INFO coverage.reports.report: run 1 of" in log
    assert "INFO coverage.io.points: read" in log  # the library's details, not shown on the console
    assert f"recording run 1 as {first.folder}" in log


def test_a_missed_target_gives_exit_code_1_and_one_summary_line(first):
    assert first.exit_code == 1
    assert set(first.targets["status"]) == {"pass", "fail"}
    assert "\n" not in first.summary_line
    assert "targets 1 met, 1 missed" in first.summary_line
    assert "2 of 18 villages outside 30 min" in first.summary_line
    assert "first run" in first.summary_line


def test_the_uncovered_villages_are_the_ones_beyond_the_circle(first, workspace):
    table = first.uncovered
    assert set(table["id"]) == {workspace["ouallah"], workspace["itsamia"]}
    assert (table["minutes"] > 30).all()
    assert table["minutes_beyond"].tolist() == sorted(table["minutes_beyond"], reverse=True)
    assert (table["minutes_beyond"] - (table["minutes"] - 30)).abs().max() < 0.011


def test_the_page_shows_targets_map_table_and_credits_with_nothing_remote(first):
    page = (first.folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "Half the people within 30 minutes by car" in page
    assert "MISSED" in page
    assert "© OpenStreetMap contributors" in page
    assert "srcdoc=" in page
    assert re.search(r'<img class="map"[^>]* src="data:image/png;base64,[A-Za-z0-9+/]{1000}', page)
    assert "@media print" in page
    assert CHINESE in page
    assert "This is the first run" in page
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    for document in (page, inner):
        assert not re.search(r"<script[^>]+src=", document)
        assert not re.search(r"<link[^>]+href=\"https?:", document)
    assert "L.map(" in inner  # the interactive map itself, Leaflet inlined
    assert ".invalidateSize();" in inner  # fitted again once the frame is laid out


def test_every_name_is_escaped_in_the_page_and_the_map(first):
    page = (first.folder / REPORT_HTML).read_text(encoding="utf-8")
    assert HOSTILE not in page
    assert html.escape(HOSTILE, quote=False) in page
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert "onerror=alert(1)" in inner  # the name is on the map...
    assert "<img src=x" not in inner  # ...as text


def test_the_csv_opens_in_excel_with_chinese_names(first):
    raw = (first.folder / "uncovered_villages.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(first.folder / "uncovered_villages.csv", encoding="utf-8-sig")
    assert set(table["name"]) == {CHINESE, HOSTILE}
    expected = {"name", "zone", "population", "nearest_facility", "minutes", "minutes_beyond", "change"}
    assert expected <= set(table.columns)
    assert set(table["change"]) == {"first_run"}


def test_the_geopackage_has_the_layers_for_gis(first):
    layers = set(gpd.list_layers(first.folder / "report.gpkg")["name"])
    assert {"villages", "uncovered_villages", "facilities", "isochrones"} <= layers
    villages = gpd.read_file(first.folder / "report.gpkg", layer="villages")
    assert len(villages) == 18
    assert int((~villages["covered"]).sum()) == 2


def test_the_summary_and_the_history_record_the_inputs(first, workspace):
    summary = json.loads((first.folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"] == 1
    assert summary["exit_code"] == 1
    assert summary["coverage"]["villages_uncovered"] == 2
    assert summary["inputs"]["facilities"]["sha256"] == file_sha256(workspace["folder"] / "facilities.csv")
    assert summary["inputs"]["network"]["sha256"] == file_sha256(COMOROS_PBF)
    (run,) = _runs(workspace)[:1]
    assert run.inputs == summary["inputs"]
    assert run.version == summary["version"]
    assert run.config_sha256 == load_run_config(workspace["config"]).sha256


# --- history ----------------------------------------------------------------------------


def test_identical_inputs_make_no_new_run(first, again, workspace):
    assert again.unchanged
    assert again.run == 1
    assert again.folder == first.folder
    assert again.exit_code == first.exit_code == 1
    assert "unchanged since run 1" in again.summary_line
    assert [p.name for p in (workspace["folder"] / "reports").iterdir() if p.is_dir()] == [first.folder.name]


def test_a_new_station_shows_exactly_the_villages_that_changed(first, changed, workspace):
    assert changed.run == 2
    assert changed.folder != first.folder
    assert first.folder.is_dir()
    changes = changed.changes
    assert changes is not None
    assert changes.before == 1
    assert changes.changed_inputs.keys() == {"facilities"}
    assert changes.newly_covered["id"].tolist() == [workspace["ouallah"]]
    assert changes.newly_uncovered.empty
    assert changes.still_uncovered["id"].tolist() == [workspace["itsamia"]]
    assert "1 newly covered" in changed.summary_line
    assert changed.exit_code == 0  # the seventh facility meets the count target
    assert "targets 2 met, 0 missed" in changed.summary_line
    page = (changed.folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "Newly covered (1)" in page
    assert "Changed since run 1" in html.unescape(page)  # the map rings the changed village
    assert page.count("<circle ") == 2  # two runs in the trend chart
    summary = json.loads((changed.folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["changes"]["newly_covered"][0]["name"] == CHINESE
    assert [run.id for run in _runs(workspace)] == [1, 2]


def test_the_history_command_lists_and_compares_runs(changed, workspace, capsys):
    config = str(workspace["config"])
    assert cli(["history", "--config", config]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^\s+1\s", listed, re.M)
    assert re.search(r"^\s+2\s", listed, re.M)
    assert cli(["history", "--config", config, "--diff", "previous", "latest"]) == 0
    diff = capsys.readouterr().out
    assert "inputs changed: facilities" in diff
    assert "newly covered (1):" in diff
    assert CHINESE in diff
    assert "newly uncovered (0)" in diff
    db = str(workspace["folder"] / "reports" / "history.sqlite")
    assert cli(["history", "--db", db, "--diff", "1", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [v["id"] for v in data["newly_covered"]] == [workspace["ouallah"]]
    assert cli(["history", "--db", db, "--diff", "1", "9"]) == 2
    assert "no run 9" in capsys.readouterr().err


def test_the_history_reads_in_chinese(changed, workspace, capsys):
    config = str(workspace["config"])
    assert cli(["--lang", "zh", "history", "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["运行", "开始时间", "版本"]
    assert "覆盖：30 分钟内人口比例" in lines[-1]
    # the columns line up in a terminal, where a Chinese character takes two columns
    assert len({display_width(line) for line in lines[:-1]}) == 1
    assert cli(["history", "--config", config, "--diff", "previous", "latest", "--lang", "zh"]) == 0
    diff = capsys.readouterr().out
    assert "变化的输入：facilities" in diff
    assert "新增覆盖 (1)：" in diff
    assert "新增未覆盖 (0)" in diff
    assert re.search(r"分钟$", diff.splitlines()[-1]) or "无道路可达" in diff
    assert not re.search(r"newly|uncovered|inputs changed|people", diff)


def test_the_village_statuses_of_each_run_are_kept(changed, workspace):
    connection = open_history(workspace["folder"] / "reports" / "history.sqlite", create=False)
    try:
        before, after = village_status(connection, 1), village_status(connection, 2)
    finally:
        connection.close()
    assert len(before) == len(after) == 18
    assert not before.set_index("id").loc[workspace["ouallah"], "covered"]
    assert after.set_index("id").loc[workspace["ouallah"], "covered"]


def test_the_report_command_prints_one_line_and_exits_with_the_targets_status(changed, workspace, capsys):
    config = workspace["folder"] / "county.toml"  # now the config with the new station: unchanged
    assert cli(["report", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "unchanged since run 2" in out


# --- safety ----------------------------------------------------------------------------


def test_a_failure_in_the_middle_of_a_run_leaves_reports_and_history_intact(changed, workspace, capsys):
    reports = workspace["folder"] / "reports"
    before = _snapshot(reports)
    table = pd.read_csv(workspace["folder"] / "facilities_new.csv", encoding="utf-8-sig", dtype=str)
    table.loc[2, "lon"] = "43°45'E"  # found only when the run reads the facility file
    table.to_csv(workspace["folder"] / "facilities_broken.csv", index=False)
    config = write_config(
        workspace["folder"], "broken.toml", facilities="facilities_broken.csv", standard=None, population=False
    )
    assert cli(["report", "--config", str(config), "-q"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("facility-coverage report: error:")
    assert "facilities_broken.csv" in error
    assert "43°45'E" in error
    assert "details:" in error
    assert "Traceback" not in error
    assert error.count("\n") == 1  # one line, even though run.log keeps the traceback
    assert [run.id for run in _runs(workspace)] == [1, 2]
    after = _snapshot(reports)
    failed = [name for name in after if name.startswith("failed/")]
    assert len(failed) == 1
    log = after[failed[0]].decode("utf-8")
    assert "run 3 failed" in log
    assert "Traceback" in log
    assert {k: v for k, v in after.items() if k not in failed} == before
    assert not list(reports.glob(".partial-*"))


@pytest.mark.skipif(sys.platform == "win32", reason="kills with SIGKILL")
def test_a_killed_run_leaves_reports_and_history_intact(changed, workspace):
    reports = workspace["folder"] / "reports"
    before = _snapshot(reports)
    config = workspace["folder"] / "county.toml"
    code = "import sys; from coverage.reports.report import run_report; run_report(sys.argv[1], force=True)"
    process = subprocess.Popen([sys.executable, "-c", code, str(config)], cwd=REPO, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(reports.glob(".partial-*")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # mid-way: the analysis has just started
    assert process.wait() == -signal.SIGKILL
    assert list(reports.glob(".partial-*"))  # what a killed run leaves behind...
    assert [run.id for run in _runs(workspace)] == [1, 2]
    assert {k: v for k, v in _snapshot(reports).items() if not k.startswith(".partial-")} == before
    result = run_report(config)  # ...is cleared by the next run, which has nothing new to do
    assert result.unchanged
    assert result.run == 2
    assert not list(reports.glob(".partial-*"))


@pytest.mark.skipif(sys.platform == "win32", reason="kills with SIGKILL")
def test_a_run_killed_right_after_its_folder_appeared_is_set_aside(changed, workspace, tmp_path, capsys):
    """kill -9 between publishing the dated folder and committing its record: the next run must not claim its number too."""
    import shutil

    county = tmp_path / "county"
    shutil.copytree(workspace["folder"], county, ignore=shutil.ignore_patterns("cache"))
    reports = county / "reports"
    config = write_config(county, "county.toml", facilities="facilities_new.csv", standard="standard.toml")
    # the run kills itself the moment its folder has its dated name, before the history commits
    code = (
        "import os, signal, sys\n"
        "real = os.rename\n"
        "def rename(src, dst):\n"
        "    real(src, dst)\n"
        "    if '.partial-' in str(src):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.rename = rename\n"
        "from coverage.reports.report import run_report\n"
        "run_report(sys.argv[1], force=True)\n"
    )
    process = subprocess.run([sys.executable, "-c", code, str(config)], cwd=REPO, capture_output=True, check=False)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    history = open_history(reports / "history.sqlite", create=False)
    try:
        assert [run.id for run in list_runs(history)] == [1, 2]
        recorded = {Path(run.folder).name for run in list_runs(history)}
    finally:
        history.close()
    (orphan,) = [
        p for p in reports.iterdir() if re.fullmatch(r"[\d-]+_\d{6}(_run\d+)?", p.name) and p.name not in recorded
    ]
    assert json.loads((orphan / "summary.json").read_text(encoding="utf-8"))["run"] == 3  # complete-looking
    assert cli(["report", "--config", str(config), "--force"]) in (0, 1)
    assert "run 3" in capsys.readouterr().out
    assert not orphan.exists()
    assert (reports / "failed" / f"{orphan.name}_unrecorded_run3" / "summary.json").is_file()
    claims = [
        json.loads((p / "summary.json").read_text(encoding="utf-8"))["run"]
        for p in reports.iterdir()
        if (p / "summary.json").is_file()
    ]
    assert sorted(claims) == [1, 2, 3]  # one folder per run number


def test_a_second_run_is_refused_while_the_first_holds_the_lock(changed, workspace, capsys):
    config = workspace["folder"] / "county.toml"
    started, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold(label: str) -> None:
        # the first step of a run, taken with the lock held
        if label == "hashing inputs":
            started.set()
            release.wait(timeout=60)

    def first_run() -> None:
        try:
            outcome["result"] = run_report(config, progress=hold)
        except BaseException as error:  # reported by the assertions below
            outcome["error"] = error

    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        assert started.wait(timeout=60), outcome.get("error")
        assert cli(["report", "--config", str(config)]) == 2
        error = capsys.readouterr().err
        assert "another report run is using the history" in error
        assert f"pid {os.getpid()}" in error
    finally:
        release.set()
        thread.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert isinstance(result, ReportResult)
    assert result.unchanged  # the first run went on as if alone
    assert result.exit_code == 0
    assert [run.id for run in _runs(workspace)] == [1, 2]


# --- init and the pieces ------------------------------------------------------------------


def test_init_writes_a_starter_that_loads_and_never_overwrites(tmp_path, capsys):
    path = tmp_path / "county" / "report.toml"
    assert cli(["init", str(path)]) == 0
    assert f"facility-coverage report --config {path}" in capsys.readouterr().out
    config = load_run_config(path)
    assert config.folder == path.parent / "reports"
    path.write_text("# my edits\n", encoding="utf-8")
    assert cli(["init", str(path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# my edits\n"
    assert cli(["init", str(path), "--force"]) == 0
    assert load_run_config(path).standards == ("yiyang",)


@pytest.mark.parametrize("command", ["report", "init", "history"])
def test_help_reads_like_a_manual(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert "exit status:" in text


def test_a_history_that_does_not_exist_is_a_clear_error(tmp_path, capsys):
    assert cli(["history", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no run history at" in capsys.readouterr().err


def test_a_bad_config_is_exit_code_2_with_the_line(tmp_path, capsys):
    path = tmp_path / "county.toml"
    path.write_text("[analysis]\nminuts = [30]\n", encoding="utf-8")
    assert cli(["report", "--config", str(path)]) == 2
    assert f"{path}:2: key 'analysis.minuts'" in capsys.readouterr().err


def test_the_trend_chart_escapes_and_scales():
    trend = pd.DataFrame(
        {"run": [1, 2, 3], "date": ["<b>", "2025-02-01", "2025-03-01"], "share": [0.5, float("nan"), 1.0]}
    ).assign(basis="people", minutes=30.0)
    svg = trend_svg(trend)
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert svg.count("<circle ") == 2  # a run without a figure is skipped
    assert "100.0%" in svg


def test_the_report_records_the_population_calibration(workspace, tmp_path):
    for name in ("facilities.csv", "villages.geojson"):
        shutil.copy(workspace["folder"] / name, tmp_path / name)
    (tmp_path / "census.csv").write_text("island,population\nMoheli,51567\n", encoding="utf-8")
    config = write_config(tmp_path, "county.toml", facilities="facilities.csv", standard=None)
    text = config.read_text(encoding="utf-8").replace("[analysis]", 'population_totals = "census.csv"\n\n[analysis]')
    config.write_text(text, encoding="utf-8")
    result = run_report(config)
    summary = json.loads((result.folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["coverage"]["population_total"] == pytest.approx(51567)
    calibration = summary["analysis"]["population"]["calibration"]
    assert calibration["units_calibrated"] == 1
    assert calibration["table"][0]["unit"] == "Moheli"
    assert summary["inputs"]["population_totals"]["sha256"] == file_sha256(tmp_path / "census.csv")
    assert "calibrated to census.csv" in summary["attribution"]
    page = (result.folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "1 of 1 units calibrated to census.csv (factor 0.146)" in page
    assert "calibrated to census.csv" in page.split("<footer>")[1]


def test_a_village_exactly_on_the_circle_is_covered():
    villages = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "name": ["on", "beyond", "unreached"],
            "zone": "",
            "population": 1.0,
            "population_source": "stated",
            "nearest_facility_name": "H",
            "minutes": [30.0, 30.01, float("nan")],
            "off_network": False,
            "snap_distance_m": 1.0,
        }
    )
    frame = gpd.GeoDataFrame(villages, geometry=gpd.points_from_xy([0, 0, 0], [0, 0, 0]), crs=4326)
    table = uncovered_table(frame, minutes=30.0)
    assert table["name"].tolist() == ["unreached", "beyond"]


def _page(language: str):
    from coverage.reports.history import compare_statuses
    from coverage.reports.page import ReportPage

    def statuses(covered: bool) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": ["1", "2"],
                "name": [CHINESE, "<i>x</i>"],
                "zone": "",
                "population": [1200.0, 50.0],
                "minutes": [20.0 if covered else 35.0, 50.0],
                "covered": [covered, False],
                "nearest_facility": "H",
                "off_network": False,
                "lon": 0.0,
                "lat": 0.0,
            }
        )

    target = {
        "standard": "s",
        "target": "a",
        "label_en": "Half within 30 minutes",
        "label_zh": "30分钟内覆盖一半人口",
        "status": "fail",
        "measured": 0.4,
        "required": 0.5,
        "unit": "share",
        "shortfall": "people 1200",
        "detail": "40% <b>",
    }
    trend = pd.DataFrame({"run": [3, 4], "date": ["2025-03-01", "2025-04-01"], "share": [0.7, 0.65]})
    return ReportPage(
        title="某县",
        language=language,
        run=4,
        started_at="2025-04-01T06:00:00+08:00",
        version="0.1.0",
        config_path="county.toml",
        profile="car",
        direction="to_facility",
        figures={"circle_minutes": 30.0},
        thresholds=[
            {
                "minutes": 30.0,
                "population_covered": 650.0,
                "population_total": 1000.0,
                "population_share": 0.65,
                "villages_covered": 0,
                "villages_total": 2,
            }
        ],
        standards=[("测试标准", "Test standard", "s")],
        targets=pd.DataFrame([target]),
        uncovered=uncovered_table(
            gpd.GeoDataFrame(
                statuses(False)
                .rename(columns={"nearest_facility": "nearest_facility_name"})
                .assign(snap_distance_m=1.0),
                geometry=gpd.points_from_xy([0, 0], [0, 0]),
                crs=4326,
            ),
            minutes=30.0,
        ),
        changes=compare_statuses(statuses(True), statuses(False), before_run=3, after_run=4),
        trend=trend.assign(basis="people", minutes=30.0),
        map_html=None,
        map_png=None,
        attribution="© OpenStreetMap contributors",
        inputs={"network": {"path": "a.osm.pbf", "sha256": "0" * 64}},
        exit_code=1,
        summary_line="某县: run 4",
    )


def test_the_page_speaks_chinese_when_asked():
    from coverage.reports.page import WORDS, render_report

    assert WORDS["en"].keys() == WORDS["zh"].keys()
    page = render_report(_page("zh"))
    assert '<html lang="zh-CN">' in page
    for words in (
        "规划目标",
        "未达标",
        "30分钟内覆盖一半人口",
        "30分钟圈以外的村庄 (2)",
        "新增未覆盖 (1)",
        "第 4 次运行",
    ):
        assert words in page
    assert "<i>x</i>" not in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page
    assert "40% &lt;b&gt;" in page
    english = render_report(_page("en"))
    assert "Newly uncovered (1)" in english
    assert "20.0 → 35.0" in english
