"""Tests for coverage.network.profiles: maxspeed parsing, profile files and edge speeds."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coverage._errors import ConfigError, InputError
from coverage.io.roads import KNOWN_HIGHWAY_CLASSES
from coverage.network.profiles import (
    PROFILES_DIR,
    Profile,
    edge_speeds_kph,
    list_profiles,
    load_profile,
    parse_maxspeed,
    unparsed_maxspeed_counts,
)

CAR_TOML = PROFILES_DIR / "car.toml"


def _edited(tmp_path: Path, old: str, new: str, *, name: str = "edited.toml", source: Path = CAR_TOML) -> Path:
    """Copy a shipped profile with one piece of text replaced."""
    text = source.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {source.name}"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --- parse_maxspeed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        (" 50 ", 50.0),
        ("50 km/h", 50.0),
        ("50 kmh", 50.0),
        ("50kmh", 50.0),
        ("50 kph", 50.0),
        ("30 mph", 30 * 1.609344),
        ("30mph", 30 * 1.609344),
        ("10 knots", 18.52),
        ("7.5", 7.5),
        ("50;30", 30.0),
        ("50|30", 30.0),
        ("80; 60 ;100", 60.0),
        ("50;none", 50.0),
        ("CN:urban", 50.0),
        ("cn:urban", 50.0),
        ("CN:motorway", 120.0),
        ("FR:urban", 50.0),
        ("DE:zone30", 30.0),
        ("DE:zone:30", 30.0),
        ("DE:living_street", 20.0),
        ("BE-VLG:rural", 80.0),
        (50, 50.0),
        (50.0, 50.0),
        (np.int64(40), 40.0),
        (np.float32(40.0), 40.0),
        (["50", "30"], 30.0),
        (("60", "30 mph"), 30 * 1.609344),
        ("['50', '30']", 30.0),
    ],
)
def test_parse_maxspeed_values(value: object, expected: float) -> None:
    assert parse_maxspeed(value, urban=True) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        "none",
        "walk",
        "signals",
        "variable",
        "",
        "   ",
        None,
        math.nan,
        np.nan,
        pd.NA,
        "0",
        0,
        -30,
        "-30",
        "1000",
        math.inf,
        True,
        "fast",
        "50 furlongs",
        "50,30",
        "CN:nonsense",
        "CN:",
        ":urban",
        [],
        ["none", "walk"],
        object(),
        {"a": 1},
        b"\xff\xfe",
    ],
)
def test_parse_maxspeed_unusable_gives_nan(value: object) -> None:
    assert math.isnan(parse_maxspeed(value, urban=True))
    assert math.isnan(parse_maxspeed(value, urban=False))


@pytest.mark.parametrize(
    ("value", "urban_kph", "rural_kph"),
    [
        ("CN:urban", 50.0, 50.0),  # 实施条例 art. 45(2), urban road
        ("CN:rural", 70.0, 70.0),  # art. 45(2), 公路
        ("CN:living_street", 30.0, 40.0),  # art. 45(1), no centre line
        ("CN:trunk", 50.0, 70.0),  # a class kind takes the urban or rural default
        ("RU:trunk", 50.0, 80.0),  # generic fallback
        ("50", 50.0, 50.0),
    ],
)
def test_parse_maxspeed_urban_flag(value: str, urban_kph: float, rural_kph: float) -> None:
    assert parse_maxspeed(value, urban=True) == urban_kph
    assert parse_maxspeed(value, urban=False) == rural_kph


@given(st.text())
def test_parse_maxspeed_never_raises_on_text(text: str) -> None:
    kph = parse_maxspeed(text, urban=True)
    assert isinstance(kph, float)
    assert math.isnan(kph) or 0 < kph <= 300


_raw_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children),
    max_leaves=10,
)


@given(_raw_values, st.booleans())
def test_parse_maxspeed_never_raises_on_any_value(value: object, urban: bool) -> None:
    kph = parse_maxspeed(value, urban=urban)
    assert math.isnan(kph) or 0 < kph <= 300


@given(st.integers(min_value=1, max_value=186), st.sampled_from(["", " km/h", " mph"]))
def test_parse_maxspeed_reads_numbers_with_units(number: int, unit: str) -> None:
    factor = 1.609344 if unit == " mph" else 1.0
    assert parse_maxspeed(f"{number}{unit}", urban=False) == pytest.approx(number * factor)


def test_unparsed_maxspeed_counts() -> None:
    values = ["50", "none", "none", None, math.nan, "", "abc", ["x", "y"], ["50", "x"], "CN:urban"]
    counts = unparsed_maxspeed_counts(values)
    assert counts.to_dict() == {"none": 2, "abc": 1, "('x', 'y')": 1}
    assert unparsed_maxspeed_counts(["50", None]).empty


# --- shipped profiles ---------------------------------------------------------------


def test_list_profiles_has_the_shipped_three() -> None:
    assert {"ambulance", "car", "walk"} <= set(list_profiles())


@pytest.mark.parametrize("name", ["ambulance", "car", "walk"])
def test_shipped_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert isinstance(profile, Profile)
    assert profile.name == name
    assert Path(profile.path).name == f"{name}.toml"
    assert len(profile.sha256) == 64
    assert profile.urban_source
    assert profile.rural_source
    assert set(profile.urban_kph) == set(profile.rural_kph)
    assert set(profile.urban_kph) <= KNOWN_HIGHWAY_CLASSES
    assert all(0 < kph <= 120 for kph in [*profile.urban_kph.values(), *profile.rural_kph.values()])
    assert name in repr(profile)
    assert hash(profile) == hash(load_profile(name))


def test_shipped_profiles_cover_the_road_classes() -> None:
    roads = {"motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential"}
    roads |= {"living_street", "service", "road", "track"}
    links = {f"{c}_link" for c in ("motorway", "trunk", "primary", "secondary", "tertiary")}
    car, ambulance, walk = load_profile("car"), load_profile("ambulance"), load_profile("walk")
    assert roads | links <= set(car.urban_kph)
    assert set(ambulance.urban_kph) == set(car.urban_kph)
    assert "footway" not in car.urban_kph
    paths = {"footway", "path", "pedestrian", "steps", "cycleway", "bridleway"}
    assert paths | (roads | links) - {"motorway", "motorway_link"} <= set(walk.urban_kph)
    assert "motorway" not in walk.urban_kph  # pedestrians may not enter 高速公路


def test_walk_profile_ignores_vehicle_rules() -> None:
    walk = load_profile("walk")
    assert walk.mode == "walk"
    assert not walk.honour_oneway
    assert not walk.honour_maxspeed
    assert set(walk.urban_kph.values()) | set(walk.rural_kph.values()) == {4.5}


def test_ambulance_is_car_times_documented_factor_capped() -> None:
    """The ambulance file's figures follow the rule its header and the README state."""
    car, ambulance = load_profile("car"), load_profile("ambulance")
    for table in ("urban_kph", "rural_kph"):
        car_kph, ambulance_kph = getattr(car, table), getattr(ambulance, table)
        for cls, kph in car_kph.items():
            assert ambulance_kph[cls] == pytest.approx(min(kph * 1.2, 100.0)), (table, cls)
    assert ambulance.maxspeed_factor == 1.2
    assert car.maxspeed_factor == 1.0


def test_rural_car_is_not_slower_than_urban() -> None:
    car = load_profile("car")
    for cls, kph in car.urban_kph.items():
        assert car.rural_kph[cls] >= kph, cls


def test_load_profile_by_path(tmp_path: Path) -> None:
    by_name = load_profile("car")
    by_path = load_profile(CAR_TOML)
    by_str = load_profile(str(CAR_TOML))
    assert by_path.urban_kph == by_name.urban_kph
    assert by_str.sha256 == by_name.sha256


def test_copied_and_edited_profile_changes_speeds(tmp_path: Path) -> None:
    path = _edited(tmp_path, 'name = "car"', 'name = "county_car"', name="county_car.toml")
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^residential = 12\.0", "residential = 20.0", text)
    text = text.replace('source = "CJJ 37-2012', 'source = "县交通运输局 2023 survey; CJJ 37-2012', 1)
    path.write_text(text, encoding="utf-8")

    edited, shipped = load_profile(path), load_profile("car")
    assert edited.name == "county_car"
    assert edited.urban_kph["residential"] == 20.0
    assert edited.rural_kph["residential"] == shipped.rural_kph["residential"]
    assert edited.urban_source.startswith("县交通运输局")
    assert edited.sha256 != shipped.sha256
    assert edited.path == str(path)

    edges = pd.DataFrame({"highway": ["residential", "residential"], "maxspeed": [None, None]})
    urban = np.array([True, False])
    np.testing.assert_allclose(edge_speeds_kph(edited, edges, urban), [20.0, shipped.rural_kph["residential"]])


# --- malformed profiles -------------------------------------------------------------


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown profile 'bicycle'.*ambulance, car, walk.*path"):
        load_profile("bicycle")


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"profile file not found: .*nowhere\.toml"):
        load_profile(tmp_path / "nowhere.toml")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "profiles.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        load_profile(folder)


def test_invalid_toml_reports_file_and_line(tmp_path: Path) -> None:
    path = _edited(tmp_path, 'mode = "drive"', "mode = drive", name="broken.toml")
    line = path.read_text(encoding="utf-8").splitlines().index("mode = drive") + 1
    with pytest.raises(ConfigError, match=rf"broken\.toml: not valid TOML: .*line {line}\b.*'mode = drive'") as info:
        load_profile(path)
    assert isinstance(info.value, ValueError)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(CAR_TOML.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(ConfigError, match=r"gbk\.toml: not UTF-8 .*Save the file as UTF-8"):
        load_profile(path)


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = _edited(tmp_path, "honour_oneway = true", "honor_oneway = true", name="typo.toml")
    with pytest.raises(ConfigError, match=r"typo\.toml: unknown key 'honor_oneway' \(did you mean 'honour_oneway'\?\)"):
        load_profile(path)


def test_missing_key(tmp_path: Path) -> None:
    path = _edited(tmp_path, "snap_tolerance_m = 1000.0\n", "", name="short.toml")
    with pytest.raises(ConfigError, match=r"short\.toml: missing key 'snap_tolerance_m'"):
        load_profile(path)


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("residential = 12.0", "residential = 0", r"key 'urban_kph\.residential' must be above 0, got 0"),
        ("residential = 12.0", "residential = -5.0", r"key 'urban_kph\.residential' must be above 0"),
        ("residential = 12.0", 'residential = "12"', r"key 'urban_kph\.residential' must be a number.*a string '12'"),
        ("residential = 12.0", "residential = true", r"key 'urban_kph\.residential' must be a number.*a boolean"),
        ("residential = 12.0", "residential = 1200.0", r"'urban_kph\.residential' is 1200\.0, above .* 200"),
        ("residential = 12.0", "residental = 12.0", r"'urban_kph\.residental' is not an OSM .*'residential'"),
        ("access_speed_kph = 5.0", "access_speed_kph = 0.0", r"key 'access_speed_kph' must be above 0"),
        ("maxspeed_factor = 1.0", 'maxspeed_factor = "1"', r"key 'maxspeed_factor' must be a number"),
        ('mode = "drive"', 'mode = "bus"', r"key 'mode' is 'bus'; allowed values: 'drive', 'walk'"),
        ("honour_oneway = true", 'honour_oneway = "yes"', r"key 'honour_oneway' must be true or false"),
        ('name = "car"', "name = 3", r"key 'name' must be a non-empty string"),
        ('closed_access = ["no"', 'closed_access = [1, "no"', r"key 'closed_access' must be a list"),
        ("[urban_kph]", "urban_kph = 30\n[other]", r"unknown key 'other'"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, old: str, new: str, pattern: str) -> None:
    path = _edited(tmp_path, old, new, name="bad_values.toml")
    with pytest.raises(ConfigError, match=r"bad_values\.toml: .*" + pattern):
        load_profile(path)


def test_speed_table_needs_a_source(tmp_path: Path) -> None:
    text = CAR_TOML.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^source = .*\n", "", text, count=1)
    path = tmp_path / "nosource.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"nosource\.toml: \[urban_kph\] needs a source"):
        load_profile(path)


def test_urban_and_rural_tables_must_match(tmp_path: Path) -> None:
    text = CAR_TOML.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^track = 12\.0.*\n", "", text, count=1)  # only from [urban_kph]
    path = tmp_path / "uneven.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"uneven\.toml: class 'track' is in \[rural_kph\] but not in \[urban_kph\]"):
        load_profile(path)


# --- edge_speeds_kph ----------------------------------------------------------------


@pytest.fixture
def edges() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "highway": [
                "primary",  # 0 class speed, rural
                "primary",  # 1 class speed, urban
                "primary",  # 2 posted 40 lowers rural 48
                "primary",  # 3 posted 100 does not raise
                "residential",  # 4 access private: closed to car
                "residential",  # 5 access "private;delivery": delivery is open
                "footway",  # 6 not a car class
                "tertiary",  # 7 stated speed wins for drive
                "secondary",  # 8 unparsable maxspeed: class speed
                "motorway",  # 9 list maxspeed from a merged edge: lowest
                "track",  # 10 access no
                "made_up",  # 11 unknown class
            ],
            "maxspeed": [None, None, "40", "100", None, None, None, "30", "fast", ["100", "80"], None, None],
            "speed_kph": [np.nan] * 7 + [55.0] + [np.nan] * 4,
            "access": [None, None, None, None, "private", "private;delivery", None, None, None, None, "no", None],
        }
    )


def test_edge_speeds_for_car(edges: pd.DataFrame) -> None:
    car = load_profile("car")
    urban = np.zeros(len(edges), dtype=bool)
    urban[1] = True
    speeds = edge_speeds_kph(car, edges, urban)
    assert speeds.dtype == np.float64
    expected = [
        car.rural_kph["primary"],
        car.urban_kph["primary"],
        40.0,
        car.rural_kph["primary"],
        0.0,
        car.rural_kph["residential"],
        0.0,
        55.0,
        car.rural_kph["secondary"],
        80.0,
        0.0,
        0.0,
    ]
    np.testing.assert_allclose(speeds, expected)


def test_edge_speeds_for_ambulance_and_walk(edges: pd.DataFrame) -> None:
    urban = np.zeros(len(edges), dtype=bool)
    ambulance = edge_speeds_kph(load_profile("ambulance"), edges, urban)
    assert ambulance[2] == pytest.approx(48.0)  # limit 40 x 1.2
    assert ambulance[4] > 0  # private compound road open to an ambulance
    assert ambulance[10] == 0.0  # access=no
    assert ambulance[7] == 55.0  # a stated speed is used as given

    walk = edge_speeds_kph(load_profile("walk"), edges, urban)
    np.testing.assert_allclose(walk[[0, 2, 3, 4, 5, 6, 7, 8]], 4.5)  # no limits, no stated vehicle speeds
    assert walk[9] == 0.0  # motorway
    assert walk[10] == 0.0  # access=no
    assert walk[11] == 0.0


def test_edge_speeds_without_optional_columns() -> None:
    car = load_profile("car")
    edges = pd.DataFrame({"highway": ["primary", "footway"]})
    np.testing.assert_allclose(edge_speeds_kph(car, edges, np.array([False, False])), [48.0, 0.0])
    empty = edge_speeds_kph(car, pd.DataFrame({"highway": pd.Series([], dtype=str)}), np.zeros(0, dtype=bool))
    assert empty.shape == (0,)


def test_edge_speeds_checks_inputs() -> None:
    car = load_profile("car")
    with pytest.raises(InputError, match="one bool per road piece"):
        edge_speeds_kph(car, pd.DataFrame({"highway": ["primary"]}), np.zeros(2, dtype=bool))
    with pytest.raises(InputError, match="no 'highway' column"):
        edge_speeds_kph(car, pd.DataFrame({"road_class": ["primary"]}), np.zeros(1, dtype=bool))


def test_edge_speeds_warns_about_non_osm_classes(caplog: pytest.LogCaptureFixture) -> None:
    edges = pd.DataFrame({"highway": ["['residential', 'tertiary']", "footway"]})
    with caplog.at_level("WARNING", logger="coverage.network.profiles"):
        speeds = edge_speeds_kph(load_profile("car"), edges, np.zeros(2, dtype=bool))
    assert list(speeds) == [0.0, 0.0]
    assert "['residential', 'tertiary']" in caplog.text
    assert "'footway'" not in caplog.text  # an OSM class the car simply does not use


def test_edge_speeds_is_fast_on_a_county_sized_table() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    classes = np.array(["primary", "secondary", "residential", "footway", "track", "service"])
    maxspeeds = np.array([None, None, None, "40", "60", "30 mph", "50;30", "CN:urban", "none"], dtype=object)
    edges = pd.DataFrame(
        {
            "highway": classes[rng.integers(0, len(classes), n)],
            "maxspeed": maxspeeds[rng.integers(0, len(maxspeeds), n)],
            "speed_kph": np.full(n, np.nan),
            "access": np.array([None, None, None, "private"], dtype=object)[rng.integers(0, 4, n)],
        }
    )
    urban = rng.random(n) < 0.3
    car = load_profile("car")
    start = time.perf_counter()
    speeds = edge_speeds_kph(car, edges, urban)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    assert speeds.shape == (n,)
    assert np.all((speeds == 0) | ((speeds > 0) & (speeds <= 120)))


def test_edge_speeds_on_real_roads(mwali_roads) -> None:
    """Mwali (Comoros) roads read from the shipped OSM extract, every shipped profile."""
    edges = mwali_roads.edges
    urban = np.zeros(len(edges), dtype=bool)
    assert unparsed_maxspeed_counts(edges["maxspeed"]).empty
    for name in list_profiles():
        profile = load_profile(name)
        speeds = edge_speeds_kph(profile, edges, urban)
        in_profile = edges["highway"].isin(list(profile.rural_kph)).to_numpy()
        closed = edges["access"].isin(list(profile.closed_access)).to_numpy()
        assert np.all(speeds[in_profile & ~closed] > 0), name
        assert np.all(speeds[~in_profile | closed] == 0), name
        assert speeds.max() <= max(profile.rural_kph.values()), name
    walk = edge_speeds_kph(load_profile("walk"), edges, urban)
    car = edge_speeds_kph(load_profile("car"), edges, urban)
    paths = (edges["highway"] == "path").to_numpy()
    assert paths.any()
    assert np.all(walk[paths] == 4.5)
    assert np.all(car[paths] == 0.0)


def test_the_fingerprint_follows_the_speeds_not_the_file(tmp_path):
    import dataclasses

    shipped = load_profile("car")
    commented = tmp_path / "car.toml"
    commented.write_text("# my copy\n" + Path(shipped.path).read_text(encoding="utf-8"), encoding="utf-8")
    copy = load_profile(commented)
    assert copy.sha256 != shipped.sha256
    assert copy.fingerprint == shipped.fingerprint  # a comment changes no travel time
    slower = dataclasses.replace(shipped, rural_kph={k: v * 0.75 for k, v in shipped.rural_kph.items()})
    assert slower.sha256 == shipped.sha256  # the same file...
    assert slower.fingerprint != shipped.fingerprint  # ...but other speeds: another cache entry
