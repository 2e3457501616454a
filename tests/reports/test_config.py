"""Run configurations: the starter, relative paths, validation messages with file, line and key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import ConfigError
from coverage.io.regions import default_region
from coverage.reports.config import KEYS, load_run_config, read_facility_files, starter_config
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER, INPUT

MWALI = INPUT / "mwali_boundary.geojson"
HOSPITALS = INPUT / "hospitals.csv"


def _write(folder: Path, text: str, name: str = "county.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _rel(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


def _error(folder: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_run_config(_write(folder, text))
    return str(info.value)


def test_the_starter_loads_as_written_and_names_the_shipped_data(tmp_path):
    folder = tmp_path / "county" / "config"
    folder.mkdir(parents=True)
    text = starter_config(folder)
    assert str(tmp_path) not in text  # paths relative to the file's folder, so the folder can move
    config = load_run_config(_write(folder, text))
    region = default_region()
    assert config.population == region.population.resolve()
    assert config.population_totals == region.population_totals.resolve()  # the census island totals
    assert config.zones == region.zones.resolve()
    assert config.zones_where == "admin_level == '4'"
    assert config.osm is None  # the embedded region: its extract clipped to the islands
    assert config.standards == ("yiyang",)
    assert config.folder == folder / "reports"
    assert config.history == folder / "reports" / "history.sqlite"
    files = config.input_files()
    assert files["network"] == region.osm
    assert {"network", "profile", "population", "population_totals", "zones", "standard:yiyang"} <= set(files)
    assert config.region_inputs()["population_totals"] == config.population_totals


def test_paths_are_relative_to_the_config_folder(tmp_path):
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    text = f"""
[inputs]
osm = "{_rel(COMOROS_PBF, folder)}"
boundary = "{_rel(MWALI, folder)}"
facilities = "{_rel(HOSPITALS, folder)}"
[report]
folder = "../out"
history = "../out/runs.sqlite"
"""
    config = load_run_config(_write(folder, text))
    assert config.osm == COMOROS_PBF.resolve()
    assert config.boundary == MWALI.resolve()
    assert config.facilities == (HOSPITALS.resolve(),)
    assert config.folder == (tmp_path / "a" / "out").resolve()
    assert config.history == (tmp_path / "a" / "out" / "runs.sqlite").resolve()
    assert config.region_inputs()["facilities"] == HOSPITALS.resolve()


def test_the_circle_is_always_one_of_the_thresholds(tmp_path):
    config = load_run_config(_write(tmp_path, "[analysis]\nminutes = [30, 10]\ncircle_minutes = 20\n"))
    assert config.minutes == (10.0, 20.0, 30.0)
    assert config.circle_minutes == 20.0
    assert load_run_config(_write(tmp_path, "[analysis]\nminutes = [15, 45]\n")).circle_minutes == 45.0


def test_a_region_preset_sets_the_boundary_and_zones(tmp_path):
    text = f'[inputs]\nosm = "{_rel(COMOROS_PBF, tmp_path)}"\nregion = "kaijiang"\n'
    inputs = load_run_config(_write(tmp_path, text)).region_inputs()
    assert Path(inputs["boundary"]).name == "kaijiang.geojson"
    assert inputs["zones"] == inputs["boundary"]
    assert inputs["zones_name_column"] == "name"


def test_several_facility_files_become_one_table_with_distinct_ids(tmp_path):
    second = tmp_path / "stations.csv"
    second.write_text("id,name,kind,lon,lat\n1,Station Fomboni,ems,43.7425,-12.2806\n", encoding="utf-8")
    text = f'[inputs]\nfacilities = ["{_rel(HOSPITALS, tmp_path)}", "stations.csv"]\n'
    config = load_run_config(_write(tmp_path, text))
    facilities = read_facility_files(config.facilities, datum="wgs84")
    assert len(facilities) == 11 + 1
    assert facilities["id"].is_unique
    assert facilities["id"].iloc[-1] == "stations:1"
    assert set(config.input_files()) >= {"facilities:1", "facilities:2"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[analysis]\nprofile = 'car'\nminuts = [10]\n", [":3:", "'analysis.minuts'", "did you mean 'minutes'"]),
        ("name = 'x'\nprofile = 'car'\n", [":2:", "'profile'", "belongs in the [analysis] table"]),
        ("[anaylsis]\nminutes = [10]\n", [":1:", "unknown table 'anaylsis'", "did you mean 'analysis'"]),
        ("[report]\nminutes = [10]\n", [":2:", "'report.minutes'", "belongs in [analysis]"]),
        ("[analysis]\nminutes = '30'\n", [":2:", "'analysis.minutes'", "list of numbers", "'30'"]),
        ("[analysis]\nminutes = [10, -5]\n", [":2:", "[10, -5]", "above 0"]),
        ("[analysis]\nprofile = 'cra'\n", [":2:", "'cra'", "did you mean 'car'"]),
        ("[analysis]\ndirection = 'to_facilty'\n", ["did you mean 'to_facility'"]),
        ("[analysis]\nems = 'yes'\n", ["true or false", "'yes'"]),
        ("[check]\nstandards = ['lianzou']\n", [":2:", "'check.standards'", "did you mean 'lianzhou'"]),
        ("[report]\nlanguage = 'fr'\n", [":2:", "'fr'", "'en', 'zh'"]),
        ("[inputs]\nfacilities = 'clinics.csv'\n", [":2:", "'inputs.facilities'", "clinics.csv", "relative to"]),
        ("[inputs]\nregion = 'kaijiang'\n", ["inputs.osm", "OSM extract"]),
        ("[inputs]\nregion = 'kaijang'\nosm = 'PBF'\n", ["did you mean 'kaijiang'"]),
        ("[analysis]\nprofile = car\n", ["not valid TOML", "line 2", "'profile = car'"]),
        ("analysis = 3\n", ["'analysis'", "must be a table"]),
        (
            "[inputs]\nzones = 'ZONES'\npopulation_totals = 'ZONES'\npopulation_totals_column = 'pop'\n",
            [":4:", "'inputs.population_totals_column'", "keep one of them"],
        ),
        ("[inputs]\npopulation_totals_column = 'pop'\n", [":2:", "names a column of zones, but no zones file"]),
        ("[inputs]\npopulation_totals = 'census.csv'\n", [":2:", "'inputs.population_totals'", "census.csv"]),
    ],
)
def test_mistakes_name_the_file_line_and_key(tmp_path, text, words):
    text = text.replace("PBF", _rel(COMOROS_PBF, tmp_path)).replace("ZONES", _rel(COMOROS_ADMIN, tmp_path))
    message = _error(tmp_path, text)
    assert str(tmp_path / "county.toml") in message
    for word in words:
        assert word in message


def test_a_bad_standard_file_is_reported_with_the_config_key(tmp_path):
    (tmp_path / "plan.toml").write_text('title_zh = "x"\n', encoding="utf-8")
    message = _error(tmp_path, "[check]\nstandards = ['plan.toml']\n")
    assert "'check.standards'" in message
    assert "missing key" in message


def test_a_missing_config_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="facility-coverage init"):
        load_run_config(tmp_path / "nothing.toml")


def test_every_documented_key_is_in_the_starter(tmp_path):
    text = starter_config(tmp_path)
    for table, keys in KEYS.items():
        if table:
            assert f"[{table}]" in text
        for key in keys:
            assert f"{key} =" in text, key


def test_the_settings_hash_ignores_comments_and_the_output_folder(tmp_path):
    base = load_run_config(_write(tmp_path, "[analysis]\nminutes = [15, 30]\n")).sha256
    commented = "# monthly run\n[analysis]\nminutes = [15, 30]  # the plan's circles\n[report]\nfolder = 'elsewhere'\n"
    assert load_run_config(_write(tmp_path, commented)).sha256 == base
    assert load_run_config(_write(tmp_path, "[analysis]\nminutes = [15, 31]\n")).sha256 != base
    assert load_run_config(_write(tmp_path, "[report]\nlanguage = 'zh'\n")).sha256 != base


def test_moving_the_folder_keeps_the_settings_hash(tmp_path):
    text = "[inputs]\npopulation = 'pop.tif'\n"
    hashes = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "pop.tif").write_bytes(COMOROS_RASTER.read_bytes()[:10])
        hashes.append(load_run_config(_write(folder, text)).sha256)
    assert hashes[0] == hashes[1]


@settings(max_examples=40, deadline=None)
@given(
    minutes=st.lists(st.integers(1, 240), min_size=1, max_size=5, unique=True),
    comment=st.text(alphabet=st.characters(categories=["L", "N", "Zs"]), max_size=20),
    blank_lines=st.integers(0, 3),
)
def test_any_valid_thresholds_load_in_order_whatever_the_comments(tmp_path_factory, minutes, comment, blank_lines):
    folder = tmp_path_factory.mktemp("config")
    text = f"# {comment}\n" + "\n" * blank_lines + f"[analysis]  # {comment}\nminutes = {minutes}\n"
    config = load_run_config(_write(folder, text))
    assert config.minutes == tuple(sorted(float(m) for m in minutes))
    assert config.circle_minutes == max(minutes)
    plain = load_run_config(_write(folder, f"[analysis]\nminutes = {minutes}\n", name="plain.toml"))
    assert plain.sha256 == config.sha256


@settings(max_examples=30, deadline=None)
@given(before=st.integers(0, 4), key=st.sampled_from(sorted(KEYS["analysis"])))
def test_the_line_of_a_misspelt_key_is_exact(tmp_path_factory, before, key):
    folder = tmp_path_factory.mktemp("config")
    lines = ["[analysis]", *(f"# note {i}" for i in range(before)), f"{key}x = 1"]
    message = _error(folder, "\n".join(lines) + "\n")
    assert f":{len(lines)}: key 'analysis.{key}x'" in message
