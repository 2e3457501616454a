"""Tests for coverage.standards.standard: the shipped plan presets and the validation of standard files."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import ConfigError
from coverage.network.profiles import PROFILES_DIR
from coverage.standards.standard import (
    DEFAULT_HOUSEHOLD_SIZE,
    DEFAULT_ZONE_RULES,
    STANDARDS_DIR,
    TARGET_KINDS,
    ZONE_CLASSES,
    Standard,
    Target,
    list_standards,
    load_standard,
)
from tests.conftest import REPO

#: The seed plans, beside the checkout in CI; the quote tests skip without them.
SEEDS = REPO.parent / "shared" / "seeds"
PRESETS = ("suizhou", "dongxihu", "lianzhou", "yiyang", "kaijiang")
KAIJIANG = STANDARDS_DIR / "kaijiang.toml"

MINIMAL = """\
title_zh = "某县规划"
title_en = "A county plan"
plan = "test"

[[target]]
id = "ems_15min"
kind = "travel_time"
label_zh = "15分钟急救圈"
label_en = "15-minute emergency circle"
quote = "形成“15分钟急救圈”。"
minutes = 15
profile = "ambulance"
direction = "from_facility"
"""


def _write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _edited(tmp_path: Path, old: str, new: str, *, source: Path = KAIJIANG, name: str = "edited.toml") -> Path:
    """Copy a shipped standard with one piece of text replaced."""
    text = source.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {source.name}"
    return _write(tmp_path, text.replace(old, new, 1), name)


def _targets(name: str) -> dict[str, Target]:
    return {target.id: target for target in load_standard(name).targets}


# --- shipped presets ---------------------------------------------------------------------


def test_list_standards_has_the_five_presets() -> None:
    assert set(PRESETS) <= set(list_standards())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_is_complete(name: str) -> None:
    standard = load_standard(name)
    assert isinstance(standard, Standard)
    assert standard.name == name
    assert standard.region == name
    assert re.fullmatch(r"00[0-4]", standard.plan)
    assert standard.title_zh
    assert standard.title_en
    assert 2.0 < standard.household_size < 3.5
    assert standard.household_size_source
    assert standard.zone_rules.central_density_per_km2 >= standard.zone_rules.urban_density_per_km2
    assert len(standard.sha256) == 64
    ids = [target.id for target in standard.targets]
    assert len(ids) == len(set(ids))
    for target in standard.targets:
        assert target.kind in TARGET_KINDS
        assert target.quote
        assert target.label_zh
        assert target.label_en
        assert target.zones == ("all",) or set(target.zones) <= set(ZONE_CLASSES)
        if target.kind == "travel_time":
            assert target.profile in ("ambulance", "car", "walk")
            assert target.direction == ("from_facility" if target.facility_kinds == ("ems",) else "to_facility")


def test_suizhou_targets() -> None:
    targets = _targets("suizhou")
    expected_minutes = {"ems_10min_central": 10, "ems_15min_urban": 15, "ems_30min_county": 30}
    for target_id, minutes in expected_minutes.items():
        target = targets[target_id]
        assert (target.kind, target.minutes, target.profile, target.direction) == (
            "travel_time",
            minutes,
            "ambulance",
            "from_facility",
        )
        assert target.facility_kinds == ("ems",)
    assert targets["ems_10min_central"].zones == ("central",)
    assert targets["ems_15min_urban"].zones == ("urban",)
    assert targets["ems_radius_urban"].radius_km == (5.0, 5.0)
    assert targets["ems_radius_urban"].zones == ("central", "urban")
    assert targets["ems_radius_rural"].radius_km == (10.0, 20.0)
    assert targets["care_circle_15min_urban"].minutes == 15
    assert targets["care_circle_30min_rural"].minutes == 30
    assert targets["care_circle_30min_rural"].zones == ("rural",)
    for target_id in ("care_circle_15min_urban", "care_circle_30min_rural"):
        assert targets[target_id].profile == "car"
        assert targets[target_id].direction == "to_facility"
        assert {"hospital", "health_centre", "village_clinic"} <= set(targets[target_id].facility_kinds)
    chc = targets["chc_per_30k_100k"]
    assert (chc.kind, chc.resource, chc.per_population_range) == ("ratio_to_population", "count", (30000.0, 100000.0))
    assert chc.per_population is None
    assert targets["chc_per_subdistrict"].unit == "subdistrict"


def test_dongxihu_targets() -> None:
    targets = _targets("dongxihu")
    assert targets["ems_12min"].minutes == 12
    assert targets["ems_12min"].zones == ("all",)
    stations = targets["ems_stations_min9"]
    assert (stations.kind, stations.min_count, stations.facility_kinds) == ("minimum_count", 9, ("ems",))
    ambulances = targets["ambulances_per_30k"]
    assert (ambulances.resource, ambulances.per_population, ambulances.population_multiplier) == (
        "ambulances",
        30000.0,
        1.0,
    )
    clinic = targets["village_clinic_per_village"]
    assert (clinic.kind, clinic.unit, clinic.min_count, clinic.unit_distance_m) == (
        "count_per_unit",
        "village",
        1,
        2000,
    )
    assert targets["health_centre_per_subdistrict"].unit == "subdistrict"
    assert targets["health_centre_per_subdistrict"].facility_kinds == ("health_centre",)
    assert targets["village_doctors_per_1000"].per_population == 1000


def test_lianzhou_households_within_15_minutes() -> None:
    standard = load_standard("lianzhou")
    (target,) = standard.targets
    assert (target.minutes, target.required_share, target.basis, target.direction) == (
        15,
        0.9,
        "households",
        "to_facility",
    )
    assert target.profile == "walk"
    assert "walk" in target.note.lower()
    assert standard.household_size == 2.63


def test_yiyang_targets() -> None:
    targets = _targets("yiyang")
    assert targets["care_circle_15min"].minutes == 15
    assert targets["ambulances_per_30k"].population_multiplier == 1.0
    assert targets["ambulances_per_30k_county"].population_multiplier == 3.0


def test_kaijiang_targets() -> None:
    targets = _targets("kaijiang")
    ambulances = targets["ambulances_per_30k"]
    assert (ambulances.kind, ambulances.resource, ambulances.per_population, ambulances.population_multiplier) == (
        "ratio_to_population",
        "ambulances",
        30000.0,
        3.0,
    )
    assert targets["ems_radius_urban"].radius_km == (5.0, 5.0)
    assert targets["ems_radius_rural"].radius_km == (10.0, 20.0)
    assert targets["ems_radius_rural"].zones == ("rural",)
    township = targets["health_centre_per_township"]
    assert (township.unit, township.min_count) == ("township", 1)
    assert "sub_centre" in township.facility_kinds
    assert targets["village_clinic_per_village"].unit == "village"
    sub = targets["sub_centres_3"]
    assert (sub.kind, sub.min_count, sub.facility_kinds) == ("minimum_count", 3, ("sub_centre",))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed plans (../shared/seeds) are not beside the checkout")
@pytest.mark.parametrize("name", PRESETS)
def test_quotes_are_verbatim_in_the_seed_plan(name: str) -> None:
    standard = load_standard(name)
    (seed,) = SEEDS.glob(f"{standard.plan}_*.txt")
    text = seed.read_text(encoding="utf-8")
    for target in standard.targets:
        assert target.quote in text, f"{name}: quote of {target.id} not in {seed.name}"


def test_readme_documents_every_key() -> None:
    from coverage.standards.standard import _COMMON_KEYS, _KIND_KEYS, _TOP_LEVEL_KEYS, _ZONE_RULE_KEYS

    readme = (STANDARDS_DIR / "README.md").read_text(encoding="utf-8")
    keys = [*_TOP_LEVEL_KEYS, *_ZONE_RULE_KEYS, *_COMMON_KEYS, *(k for keys in _KIND_KEYS.values() for k in keys)]
    for key in keys:
        assert f"`{key}`" in readme or f"`[{key}]`" in readme or f"`[[{key}]]`" in readme, key
    for kind in TARGET_KINDS:
        assert f'kind = "{kind}"' in readme


# --- a planner's own file ----------------------------------------------------------------


def test_planner_copy_of_a_preset_loads(tmp_path: Path) -> None:
    path = _edited(tmp_path, "per_population = 30000", "per_population = 25000", name="my_county.toml")
    standard = load_standard(path)
    assert standard.name == "my_county"
    assert standard.path == str(path)
    assert _targets("kaijiang")["ambulances_per_30k"].per_population == 30000
    assert {t.id: t for t in standard.targets}["ambulances_per_30k"].per_population == 25000
    assert standard.sha256 != load_standard("kaijiang").sha256


def test_minimal_file_takes_the_defaults(tmp_path: Path) -> None:
    standard = load_standard(_write(tmp_path, MINIMAL))
    assert standard.region is None
    assert standard.household_size == DEFAULT_HOUSEHOLD_SIZE
    assert "2.62" in standard.household_size_source
    assert standard.zone_rules == DEFAULT_ZONE_RULES
    (target,) = standard.targets
    assert target.zones == ("all",)
    assert target.facility_kinds == ()
    assert (target.delay_minutes, target.required_share, target.basis, target.note) == (0.0, 1.0, "population", "")


def test_profile_path_is_relative_to_the_standard(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    shutil.copy(PROFILES_DIR / "car.toml", tmp_path / "profiles" / "my_car.toml")
    standard = load_standard(_write(tmp_path, MINIMAL.replace('"ambulance"', '"profiles/my_car.toml"')))
    assert standard.targets[0].profile == str((tmp_path / "profiles" / "my_car.toml").resolve())


def test_zones_and_kinds_are_normalised(tmp_path: Path) -> None:
    text = MINIMAL + 'zones = ["rural", "Central"]\nfacility_kinds = ["EMS", "hospital", "ems"]\ndelay_minutes = 2\n'
    (target,) = load_standard(_write(tmp_path, text)).targets
    assert target.zones == ("central", "rural")
    assert target.facility_kinds == ("ems", "hospital")
    assert target.delay_minutes == 2.0


def test_standard_path_object_and_name_resolution(tmp_path: Path) -> None:
    assert load_standard(KAIJIANG).name == "kaijiang"
    with pytest.raises(ConfigError, match=r"unknown standard 'kaijang' \(did you mean 'kaijiang'\?\)"):
        load_standard("kaijang")
    with pytest.raises(ConfigError, match="standard file not found"):
        load_standard(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_standard(tmp_path)


# --- malformed files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        (
            "minutes = 15",
            "minutes = -5",
            r"key 'target\[1\]\.minutes' \(id 'ems_15min', block at line 5\) is -5; allowed",
        ),
        ("minutes = 15", 'minutes = "15"', r"'target\[1\]\.minutes'.*must be a number \(no quotes\), got a string"),
        ("minutes = 15", "minutes = 15000", r"'target\[1\]\.minutes'.*above the maximum of 1440"),
        ("minutes = 15", "minuts = 15", r"'target\[1\]\.minuts'.*is unknown \(did you mean 'minutes'\?\)"),
        ("minutes = 15\n", "", r"'target\[1\]\.minutes'.*is missing.*needs minutes, profile, direction"),
        (
            'direction = "from_facility"',
            'direction = "outbound"',
            r"'target\[1\]\.direction'.*'from_facility', 'to_facility'",
        ),
        (
            'profile = "ambulance"',
            'profile = "ambulence"',
            r"'target\[1\]\.profile'.*did you mean 'ambulance'.*shipped",
        ),
        ('profile = "ambulance"', 'profile = "nowhere/car.toml"', r"'target\[1\]\.profile'.*no file"),
        (
            'kind = "travel_time"',
            'kind = "travel_times"',
            r"'target\[1\]\.kind'.*did you mean 'travel_time'.*minimum_count",
        ),
        (
            'kind = "travel_time"',
            'kind = "service_radius"',
            r"'target\[1\]\.minutes'.*does not apply to kind 'service_radius'",
        ),
        ('id = "ems_15min"', 'id = "EMS 15"', r"'target\[1\]\.id'.*lower case letters"),
        ('id = "ems_15min"\n', "", r"target\[1\] \(block at line 5\) has no 'id'"),
        ('label_zh = "15分钟急救圈"\n', "", r"'target\[1\]\.label_zh'.*is missing"),
        ('title_zh = "某县规划"\n', "", r"missing key 'title_zh'"),
        ('plan = "test"', 'plan = "test"\nname = "x"', r"unknown key 'name' \(a standard's name is its file name\)"),
        (
            'plan = "test"',
            'plan = "test"\nminutes = 5',
            r"unknown key 'minutes' \(target keys go inside a \[\[target\]\] block\)",
        ),
        ("[[target]]", "[target]", r"single table; write each target as a \[\[target\]\] block"),
        ('plan = "test"', 'plan = "test"\nhousehold_size = 2.5', r"'household_size' needs household_size_source"),
        ('plan = "test"', 'plan = "test"\nhousehold_size = 0', r"'household_size' is 0; allowed"),
        ('quote = "形成“15分钟急救圈”。"', "quote = 形成", r"not valid TOML: .*line 10.*'quote = 形成'"),
    ],
)
def test_malformed_file_names_file_and_key(tmp_path: Path, old: str, new: str, pattern: str) -> None:
    assert old in MINIMAL, f"test setup: {old!r}"
    path = _write(tmp_path, MINIMAL.replace(old, new, 1), "bad.toml")
    with pytest.raises(ConfigError) as info:
        load_standard(path)
    message = str(info.value)
    assert str(path) in message
    assert re.search(pattern, message), message


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        ("required_share = 90", r"'target\[1\]\.required_share'.*above the maximum of 1 \(a share: 90% is 0\.9\)"),
        ("required_share = 0", r"'target\[1\]\.required_share'.*is 0; allowed: the share"),
        ('basis = "people"', r"'target\[1\]\.basis'.*'population', 'households', 'villages'"),
        ("delay_minutes = 15", r"'target\[1\]\.delay_minutes'.*not below minutes"),
        ("delay_minutes = -1", r"'target\[1\]\.delay_minutes'.*is -1"),
        ('zones = ["suburb"]', r"'target\[1\]\.zones'.*unknown zone class 'suburb'.*'central', 'urban', 'rural'"),
        ('zones = ["all", "rural"]', r"'target\[1\]\.zones'.*\"all\" cannot be combined"),
        ("zones = []", r"'target\[1\]\.zones' .*must be a list"),
        ("facility_kinds = [1]", r"'target\[1\]\.facility_kinds'.*must be a list of facility kinds"),
        ("radius_km = 5", r"'target\[1\]\.radius_km'.*does not apply to kind 'travel_time'.*service_radius"),
    ],
)
def test_malformed_travel_time_values(tmp_path: Path, extra: str, pattern: str) -> None:
    path = _write(tmp_path, MINIMAL + extra + "\n", "bad.toml")
    with pytest.raises(ConfigError, match=pattern) as info:
        load_standard(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("radius_km = [10, 20]", "radius_km = [20, 10]", r"'target\[2\]\.radius_km'.*low \(20\) above high \(10\)"),
        (
            "radius_km = [10, 20]",
            "radius_km = [10, 20, 30]",
            r"'target\[2\]\.radius_km'.*one number or a list \[low, high\]",
        ),
        ("radius_km = [10, 20]", 'radius_km = "10-20"', r"'target\[2\]\.radius_km'.*one number or a list"),
        ("radius_km = 5", "radius_km = 0", r"'target\[1\]\.radius_km'.*above 0"),
        ("per_population = 30000\n", "", r"'target\[3\]\.per_population'.*exactly one of them \(neither given\)"),
        ("per_population = 30000", "per_population = 30000\nper_population_range = [1, 2]", r"exactly one.*both given"),
        (
            "population_multiplier = 3.0",
            "population_multiplier = 300",
            r"'target\[3\]\.population_multiplier'.*above the maximum of 100",
        ),
        ('unit = "township"', 'unit = "town"', r"'target\[4\]\.unit'.*'village', 'township', 'subdistrict', 'county'"),
        ("min_count = 3", "min_count = 2.5", r"'target\[6\]\.min_count' \(id 'sub_centres_3'.*whole number"),
        ("min_count = 3", "min_count = 0", r"'target\[6\]\.min_count'.*from 1"),
        ("unit_distance_m = 2000", "unit_distance_m = -1", r"'target\[5\]\.unit_distance_m'.*is -1"),
        ('id = "ems_radius_rural"', 'id = "ems_radius_urban"', r"'target\[2\]\.id'.*repeats the id of target\[1\]"),
        ("block_m = 1000.0", "block_m = 1000.0\ncolour = 1", r"unknown key 'zone_rules\.colour'"),
        ("block_m = 1000.0\n", "", r"\[zone_rules\] is missing 'block_m'"),
        (
            "central_density_per_km2 = 5000.0",
            "central_density_per_km2 = 500.0",
            r"'zone_rules\.central_density_per_km2'.*below urban",
        ),
    ],
)
def test_malformed_preset_copy_names_file_and_key(tmp_path: Path, old: str, new: str, pattern: str) -> None:
    path = _edited(tmp_path, old, new)
    with pytest.raises(ConfigError, match=pattern) as info:
        load_standard(path)
    assert str(path) in str(info.value)


def test_error_names_the_block_line(tmp_path: Path) -> None:
    path = _edited(tmp_path, "min_count = 3", "min_count = -3")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [number for number, line in enumerate(lines, start=1) if line == "[[target]]"][5]
    with pytest.raises(ConfigError, match=rf"block at line {header}\)"):
        load_standard(path)


def test_gbk_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(MINIMAL.encode("gbk"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text.*Save the file as UTF-8"):
        load_standard(path)


def test_no_targets_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.split("[[target]]")[0] + "target = []\n")
    with pytest.raises(ConfigError, match=r"no targets; add at least one \[\[target\]\] block"):
        load_standard(path)


# --- properties --------------------------------------------------------------------------

_radius = st.floats(min_value=0.001, max_value=1000.0, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(low=_radius, high=_radius)
def test_radius_pairs_load_in_order_or_fail(low: float, high: float) -> None:
    text = KAIJIANG.read_text(encoding="utf-8").replace("radius_km = [10, 20]", f"radius_km = [{low!r}, {high!r}]")
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), text)
        if low <= high:
            assert {t.id: t for t in load_standard(path).targets}["ems_radius_rural"].radius_km == (low, high)
        else:
            with pytest.raises(ConfigError, match=r"target\[2\]\.radius_km"):
                load_standard(path)


@settings(max_examples=30, deadline=None)
@given(radius=_radius)
def test_single_radius_is_a_degenerate_range(radius: float) -> None:
    text = KAIJIANG.read_text(encoding="utf-8").replace("radius_km = 5", f"radius_km = {radius!r}")
    with tempfile.TemporaryDirectory() as folder:
        standard = load_standard(_write(Path(folder), text))
    assert {t.id: t for t in standard.targets}["ems_radius_urban"].radius_km == (radius, radius)


def test_readme_example_loads(tmp_path: Path) -> None:
    readme = (STANDARDS_DIR / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```toml\n(.*?)```", readme, flags=re.DOTALL)
    standard = load_standard(_write(tmp_path, example, "my_county.toml"))
    assert [t.id for t in standard.targets] == ["ems_15min", "clinic_per_village"]
    assert standard.targets[0].delay_minutes == 2.0
