"""Bad input and hostile places, through the command as a user runs it.

Every case: exit status 2, one line naming the file, option or value and what to
do, no traceback, and the outputs of an earlier run byte for byte as they were.
The earlier outputs come from one real analysis of Mwali (the shipped Comoros
extract), made once for the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from coverage.cli.main import main
from coverage.io.osm import facilities_from_osm, places_from_osm
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER, INPUT, REPO

MWALI = INPUT / "mwali_boundary.geojson"
DONGXIHU = INPUT / "dongxihu_420112_wgs84.geojson"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fails(capsys, argv: list[str]) -> str:
    """Run the command; check it failed with exit status 2 and one clean line; return that line."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_info:  # argparse: a bad option value
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert "not expected" not in err  # a failure the library words itself, not the safety net
    lines = [line for line in err.splitlines() if line.startswith("facility-coverage") or "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def mwali(cache_dir):
    """The options of an analysis of Mwali, the smallest island."""
    return [COMOROS_PBF, "--boundary", MWALI, "--cache-dir", cache_dir]


@pytest.fixture(scope="module")
def earlier(tmp_path_factory, mwali):
    """The outputs of an earlier, successful run, which no failing run may touch."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main(["analyze", *map(str, mwali), "--no-facility-isochrones", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def earlier_bytes(earlier):
    return snapshot(earlier)


def analyze_fails(capsys, mwali, earlier, earlier_bytes, *extra) -> str:
    line = fails(capsys, ["analyze", *mwali, "--no-facility-isochrones", "--out", earlier, *extra])
    assert snapshot(earlier) == earlier_bytes
    assert not [p for p in earlier.iterdir() if p.name.startswith(".partial")]
    return line


@pytest.fixture
def unwritable(tmp_path):
    """A folder this user cannot create files in: a read-only one, or (for root) the kernel's /sys."""
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    for folder in (Path("/sys/fs"), Path("/sys"), Path("/proc/sys")):
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError:
            yield folder
            return
    pytest.skip("no folder here refuses new files to this user")


# --- where outputs go ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["analyze", "check", "site"])
def test_an_out_folder_that_cannot_be_written(capsys, mwali, unwritable, command):
    out = unwritable / "county"
    line = fails(capsys, [command, *mwali, "--out", out])
    assert f"--out {out}: cannot write in {unwritable}" in line
    assert "choose a folder you can write to" in line
    assert not out.exists()


def test_a_map_file_that_cannot_be_written(capsys, mwali, unwritable, earlier, earlier_bytes):
    out = unwritable / "maps" / "county.html"
    line = fails(capsys, ["map", *mwali, "--out", out])
    assert f"--out {out}: cannot write in {unwritable}" in line
    png = unwritable / "county.png"
    line = fails(capsys, ["map", *mwali, "--out", earlier / "map.html", "--png", png])
    assert f"--png {png}" in line
    assert snapshot(earlier) == earlier_bytes


def test_an_out_folder_that_is_a_file(capsys, mwali, earlier, earlier_bytes, tmp_path):
    summary = earlier / "summary.json"
    line = fails(capsys, ["analyze", *mwali, "--out", summary])
    assert f"--out {summary}: a file of that name exists" in line
    assert "give a folder name" in line
    line = fails(capsys, ["analyze", *mwali, "--out", summary / "inside"])
    assert f"{summary} is a file, so no folder can be made there; give another --out" in line
    folder = tmp_path / "county.html"
    folder.mkdir()
    line = fails(capsys, ["map", *mwali, "--out", folder])
    assert f"--out {folder} is a folder; give the name of a file ending in .html" in line
    assert snapshot(earlier) == earlier_bytes


def test_a_failed_run_leaves_no_empty_output_folder(capsys, mwali, tmp_path, monkeypatch):
    from coverage.outputs import files

    def disk_full(data, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(files, "write_json", disk_full)
    out = tmp_path / "new" / "county"
    line = fails(capsys, ["analyze", *mwali, "--no-facility-isochrones", "--out", out])
    assert "summary.json: no space left on device; the disk is full" in line
    assert not (tmp_path / "new").exists()


# --- polygon files -------------------------------------------------------------------------


def _bow_tie(path: Path, *, crs_member: bool = True) -> Path:
    """A zone over Mwali whose outline crosses itself (drawn corner to corner in the wrong order)."""
    west, south, east, north = gpd.read_file(MWALI).total_bounds
    ring = [[west, south], [east, north], [east, south], [west, north], [west, south]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "Mwali"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        ],
    }
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


@pytest.mark.parametrize("option", ["--zones", "--boundary"])
def test_a_self_crossing_polygon(capsys, mwali, earlier, earlier_bytes, tmp_path, option):
    bow_tie = _bow_tie(tmp_path / "bow_tie.geojson")
    args = (
        [*mwali, option, bow_tie] if option == "--zones" else [COMOROS_PBF, "--cache-dir", mwali[-1], option, bow_tie]
    )
    line = fails(capsys, ["analyze", *args, "--out", earlier])
    assert f"{option.strip('-')} file {bow_tie}" in line
    assert "feature 1 ('Mwali'): Self-intersection" in line
    assert "Fix Geometries" in line
    assert snapshot(earlier) == earlier_bytes


def test_zones_in_metres_under_a_degree_crs(capsys, mwali, earlier, earlier_bytes, tmp_path):
    projected = gpd.read_file(MWALI).to_crs(32738)  # UTM 38S, then saved without saying so
    geometry = json.loads(projected.to_json())["features"][0]["geometry"]
    path = tmp_path / "zones_metres.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": "Mwali"}, "geometry": geometry}],
            }
        ),
        encoding="utf-8",
    )
    line = analyze_fails(capsys, mwali, earlier, earlier_bytes, "--zones", path)
    assert f"zones file {path}" in line
    assert "are not longitude/latitude degrees" in line
    assert "Set CRS" in line


def test_zones_that_miss_the_region_are_blamed(capsys, mwali, earlier, earlier_bytes):
    line = analyze_fails(capsys, mwali, earlier, earlier_bytes, "--zones", DONGXIHU)
    assert f"zones file {DONGXIHU}: none of its 1 zones overlaps the region" in line
    assert "comores-latest.osm.pbf: none of its" not in line  # the road network is not blamed
    # on the embedded region too, where the zones would clip the roads
    line = fails(capsys, ["analyze", "--zones", DONGXIHU, "--out", earlier])
    assert f"zones file {DONGXIHU}: none of its 1 zones overlaps the region Comoros" in line
    assert snapshot(earlier) == earlier_bytes


def test_batch_regions_without_an_id(capsys, tmp_path):
    out = tmp_path / "batch"
    line = fails(capsys, ["batch", "--regions", COMOROS_ADMIN, "--id-column", "name_en", "--out", out])
    assert f"{COMOROS_ADMIN}: 13 of 17 rows have no usable id in column 'name_en' (empty)" in line
    assert "rows 4, 5, 6" in line
    assert '--where, e.g. "name_en.notna()"' in line
    assert not out.exists()


# --- reports, history, init ----------------------------------------------------------------


def test_report_history_that_cannot_be_written(capsys, tmp_path, unwritable):
    config = tmp_path / "county.toml"
    config.write_text(f'[report]\nfolder = "reports"\nhistory = "{unwritable / "history.sqlite"}"\n', encoding="utf-8")
    line = fails(capsys, ["report", "--config", config, "-q"])
    assert f"county.toml: [report] history {unwritable / 'history.sqlite'}: cannot write in {unwritable}" in line
    assert not (tmp_path / "reports").exists()


def test_report_folder_that_is_a_file(capsys, tmp_path):
    (tmp_path / "reports").write_text("not a folder", encoding="utf-8")
    config = tmp_path / "county.toml"
    config.write_text('[report]\nfolder = "reports"\n', encoding="utf-8")
    line = fails(capsys, ["report", "--config", config])
    assert f"county.toml: [report] folder {tmp_path / 'reports'}: a file of that name exists" in line
    assert (tmp_path / "reports").read_text(encoding="utf-8") == "not a folder"


def test_an_emptied_history_is_refused(capsys, tmp_path):
    """Run folders that a 0-byte history does not know: numbering again from 1 would mislead."""
    reports = tmp_path / "reports"
    for number, name in ((1, "2025-01-01_060000"), (2, "2025-02-01_060000")):
        (reports / name).mkdir(parents=True)
        (reports / name / "summary.json").write_text(json.dumps({"run": number}), encoding="utf-8")
    (reports / "history.sqlite").write_bytes(b"")
    before = snapshot(reports)
    config = tmp_path / "county.toml"
    config.write_text('[report]\nfolder = "reports"\n', encoding="utf-8")
    line = fails(capsys, ["report", "--config", config])
    assert f"the run history {reports / 'history.sqlite'} is empty (0 bytes)" in line
    assert "runs 1, 2" in line
    assert "Restore history.sqlite from a backup, or move those run folders out" in line
    assert snapshot(reports) == before


def test_init_where_nothing_can_be_written(capsys, unwritable, tmp_path):
    line = fails(capsys, ["init", unwritable / "county.toml"])
    assert f"FILE {unwritable / 'county.toml'}: cannot write in {unwritable}" in line
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    line = fails(capsys, ["init", tmp_path / "afile" / "county.toml"])
    assert "is a file, so the folder for county.toml cannot be made" in line


def test_history_of_an_empty_file(capsys, tmp_path):
    (tmp_path / "history.sqlite").write_bytes(b"")
    line = fails(capsys, ["history", "--db", tmp_path / "history.sqlite"])
    assert "is empty (0 bytes), not a run history" in line
    assert (tmp_path / "history.sqlite").read_bytes() == b""


def test_history_into_a_closed_pipe_ends_quietly(tmp_path):
    """'history | head': the reader goes away first; no BrokenPipeError, the command's own status."""
    from coverage.reports.history import open_history

    open_history(tmp_path / "history.sqlite").close()
    process = subprocess.Popen(
        [sys.executable, "-m", "coverage", "history", "--db", str(tmp_path / "history.sqlite")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone before the first line is written
    err = process.stderr.read().decode()
    assert process.wait() == 0
    assert "BrokenPipeError" not in err
    assert "Traceback" not in err


# --- options checked before any work --------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--time-limit", "-1"], "argument --time-limit: expected a positive number of seconds, got '-1'"),
        (["--time-limit", "nan"], "argument --time-limit: expected a positive number of seconds, got 'nan'"),
        (["--minutes", "central=nan,*=30"], "argument --minutes: expected ZONE=MINUTES with positive minutes"),
        (["--spacing-m", "0"], "argument --spacing-m: expected a positive number of metres, got '0'"),
        (["--model", "lscp", "--k", "2"], "--k does not apply to lscp"),
        (["--standard", "nosuch"], "nosuch"),
        (
            ["--demand", "cells", "--population", COMOROS_RASTER, "--candidates", "nowhere.csv"],
            "--candidates nowhere.csv: no such file",
        ),
        (["--zone-column", "zone_class"], "--zone-column zone_class needs the zone classes"),
    ],
)
def test_site_options_are_checked_before_any_work(capsys, tmp_path, extra, message):
    cache = tmp_path / "cache"  # a network read or prepared would be cached here
    line = fails(
        capsys, ["site", COMOROS_PBF, "--boundary", MWALI, "--cache-dir", cache, "--out", tmp_path / "s", *extra]
    )
    assert message in line
    assert not cache.exists()
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--basemap", "satellite"], "--basemap 'satellite': expected 'osm', 'none' or a tile URL"),
        (
            ["--basemap", "https://t.example.org/{z}/{x}/{y}.png"],
            "needs its credit line too (--basemap-attribution TEXT)",
        ),
        (["--covered-minutes", "inf"], "argument --covered-minutes: expected a positive number of minutes, got 'inf'"),
        (["--simplify-m", "-1"], "argument --simplify-m: expected 0 or more metres, got '-1'"),
        (["--standard", "nosuch"], "nosuch"),
        (["--png", "map.jpg"], "--png map.jpg: the static map is written as PNG"),
    ],
)
def test_map_options_are_checked_before_any_work(capsys, tmp_path, extra, message):
    cache = tmp_path / "cache"
    line = fails(
        capsys, ["map", COMOROS_PBF, "--boundary", MWALI, "--cache-dir", cache, "--out", tmp_path / "m.html", *extra]
    )
    assert message in line
    assert not cache.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--standard", "nosuch"], "nosuch"),
        (["--call-records", "calls.csv"], "--call-records calls.csv: no such file"),
        (["--out", "/dev/null/ems"], "--out /dev/null/ems: /dev/null is a file, so no folder can be made there"),
    ],
)
def test_ems_options_are_checked_before_any_work(capsys, tmp_path, extra, message):
    cache = tmp_path / "cache"
    line = fails(capsys, ["ems", "simulate", COMOROS_PBF, "--boundary", MWALI, "--cache-dir", cache, *extra])
    assert message in line
    assert not cache.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--minutes", "nan"], "argument --minutes: expected minutes like 10,15,30, each a positive number, got 'nan'"),
        (["--minutes", "15,inf"], "got '15,inf'"),
        (["--buffer-m", "-5"], "argument --buffer-m: expected 0 or more metres, got '-5'"),
        (["--buffer-m", "nan"], "argument --buffer-m: expected 0 or more metres, got 'nan'"),
        (["--profile", "sportscar"], "sportscar"),
        (["--facilities", "nowhere.csv"], "--facilities nowhere.csv: no such file"),
    ],
)
def test_analyze_numbers_and_names_refused(capsys, mwali, earlier, earlier_bytes, extra, message):
    assert message in analyze_fails(capsys, mwali, earlier, earlier_bytes, *extra)


# --- what used to be accepted silently ------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [("many", "'many'"), ("-500", "-500")])
def test_a_village_population_that_is_not_a_number_of_people(
    capsys, mwali, earlier, earlier_bytes, tmp_path, value, shown
):
    places = places_from_osm(COMOROS_PBF, boundary=gpd.read_file(MWALI).geometry.union_all())
    table = pd.DataFrame(
        {
            "id": places["id"],
            "name": places["name"],
            "population": ["1200"] * len(places),
            "lon": places.geometry.x,
            "lat": places.geometry.y,
        }
    )
    table.loc[3, "population"] = value
    path = tmp_path / "villages.csv"
    table.to_csv(path, index=False)
    line = analyze_fails(capsys, mwali, earlier, earlier_bytes, "--villages", path, "--population", COMOROS_RASTER)
    assert f"{path}: column 'population'" in line
    assert "must hold numbers of people, 0 or more" in line
    assert f"id {table.loc[3, 'id']}: {shown}" in line
    assert "leave the cells blank to estimate" in line


@pytest.mark.parametrize("datum", ["bd09", "gcj02"])
def test_a_chinese_datum_outside_china(capsys, mwali, earlier, earlier_bytes, datum):
    hospitals = INPUT / "hospitals.csv"
    line = analyze_fails(capsys, mwali, earlier, earlier_bytes, "--facilities", hospitals, "--datum", datum)
    assert f"facilities file {hospitals}: datum {datum} (--datum)" in line
    assert "lie outside China" in line
    assert "give --datum wgs84" in line


def test_no_ems_base_when_the_only_hospital_takes_no_emergencies(capsys, tmp_path):
    """A healthcare=hospital tagged emergency=no (a therapy practice) is no EMS base."""
    text = (INPUT / "fomboni.osm").read_text(encoding="utf-8")
    hospital = '<tag k="amenity" v="hospital"/>'
    assert text.count(hospital) == 1
    path = tmp_path / "fomboni_therapy.osm"
    path.write_text(text.replace(hospital, hospital + '\n    <tag k="emergency" v="no"/>'), encoding="utf-8")
    around_fomboni = shapely.box(43.70, -12.32, 43.80, -12.25)
    places = places_from_osm(COMOROS_PBF, boundary=around_fomboni)
    villages = tmp_path / "villages.csv"
    pd.DataFrame(
        {"id": places["id"], "name": places["name"], "lon": places.geometry.x, "lat": places.geometry.y}
    ).to_csv(villages, index=False)
    options = ["--villages", villages, "--cache-dir", tmp_path / "cache", "--no-facility-isochrones"]
    out = tmp_path / "out"
    line = fails(capsys, ["analyze", path, "--ems", *options, "--out", out])
    assert "no EMS station or hospital taking emergencies (1 hospitals are tagged emergency=no)" in line
    assert not out.exists()
    # for reaching care it is still a hospital, and summary.json says which tag made it one
    assert main(["analyze", *map(str, [path, *options]), "--out", str(out), "-q"]) == 0
    listed = json.loads((out / "summary.json").read_text(encoding="utf-8"))["facilities"]["list"]
    assert [(f["kind"], f["admitted_by"]) for f in listed] == [("hospital", "amenity=hospital")]


def test_facilities_of_the_real_extract_tagged_emergency_no_are_not_ems_bases():
    from coverage.analysis.places import ems_bases

    facilities = facilities_from_osm(COMOROS_PBF)
    therapy = facilities[facilities["osm_tags"].str.contains("emergency=no")]
    assert therapy["id"].tolist() == ["way/404358862"]  # a real hospital of Grande Comore
    bases = ems_bases(facilities)
    assert "way/404358862" not in set(bases["id"])
    assert len(bases) == (facilities["kind"] == "hospital").sum() - 1
