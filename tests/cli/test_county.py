"""A county's own files, end to end through the command line: no editing, trustworthy verdicts.

The files are those a Chinese health commission holds (see :mod:`tests.county`): an
Amap export in GBK with GCJ-02 columns, a graded road layer with gaps, a boundary
file of two districts, subdistrict polygons, villages without population. Every
figure asserted here is worked out from the files themselves, independently of the
tool.
"""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage.cli.main import main
from coverage.io.datum import gcj02_to_wgs84
from tests.county import ACROSS_BORDER, BORDER_KM, FAR_AWAY, build_county


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return build_county(tmp_path_factory.mktemp("county"))


def _inputs(county, *, facilities=None, villages=None) -> list[str]:
    return [
        str(county.roads),
        "--road-class-column",
        "道路等级",
        "--boundary",
        str(county.boundary),
        "--boundary-where",
        "name == '本区'",
        "--border-km",
        str(BORDER_KM),
        "--zones",
        str(county.subdistricts),
        "--facilities",
        str(facilities or county.facilities),
        "--facilities-lon-column",
        "XGCJ",
        "--facilities-lat-column",
        "YGCJ",
        "--facilities-datum",
        "gcj02",
        "--kind-map",
        "amap",
        "--villages",
        str(villages or county.villages),
    ]


@pytest.fixture(scope="module")
def analyzed(county, tmp_path_factory):
    out = tmp_path_factory.mktemp("analyzed")
    cache = tmp_path_factory.mktemp("cache")
    code = main(["analyze", *_inputs(county), "--cache-dir", str(cache), "--out", str(out)])
    assert code == 0
    return out


def test_the_files_are_what_a_commission_holds(county):
    raw = county.facilities.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    table = pd.read_csv(county.facilities, encoding="gbk")
    assert list(table.columns) == ["ID", "NAME", "TYPE", "TYPECODE", "XGCJ", "YGCJ"]
    assert set(county.kinds.values()) >= {
        "hospital",
        "health_centre",
        "community_health_centre",
        "community_health_station",
        "village_clinic",
        "ems",
        "clinic",
        "",
    }
    roads = gpd.read_file(county.roads)
    assert (roads["道路等级"] == "").sum() == county.blank_lines
    assert county.blank_lines > county.lines // 3


def test_kinds_flags_and_coordinates_as_worked_out_from_the_file(county, analyzed):
    facilities = gpd.read_file(analyzed / "coverage.gpkg", layer="facilities").set_index("id")
    kept = {fid: kind for fid, kind in county.kinds.items() if kind and fid not in FAR_AWAY}
    assert dict(facilities["kind"]) == kept
    assert sorted(facilities.index[facilities["outside_boundary"]]) == sorted(ACROSS_BORDER)
    # field names distinct even ignoring case (GeoPackage, QGIS): the file's ID and NAME kept aside
    names = [c.lower() for c in facilities.reset_index().columns]
    assert len(names) == len(set(names))
    assert {"ID_input", "NAME_input", "XGCJ_gcj02", "YGCJ_gcj02"} <= set(facilities.columns)
    # the geometry is WGS84: the GCJ-02 columns converted back
    table = pd.read_csv(county.facilities, encoding="gbk").set_index("ID").loc[facilities.index]
    lon, lat = gcj02_to_wgs84(table["XGCJ"].to_numpy(), table["YGCJ"].to_numpy())
    assert np.allclose(facilities.geometry.x, lon, atol=1e-7)
    assert np.allclose(facilities.geometry.y, lat, atol=1e-7)


def test_what_was_mapped_dropped_and_left_out_is_recorded(county, analyzed):
    notes = json.loads((analyzed / "summary.json").read_text(encoding="utf-8"))["notes"]
    facilities = notes["facilities"]
    assert facilities["kind_map"] == "amap"
    assert facilities["unmapped_values"] == {"医疗保健服务;医疗保健服务场所;医疗保健服务场所": 1}
    assert sum(facilities["dropped"].values()) == 2
    assert facilities["left_out"]["ids"] == list(FAR_AWAY)
    assert facilities["outside_boundary"] == len(ACROSS_BORDER)
    assert notes["boundary"]["border_km"] == BORDER_KM
    problems = gpd.read_file(analyzed / "coverage.gpkg", layer="road_problems")
    defaulted = problems[problems["problem"] == "default_road_class"]
    assert defaulted["detail"].str.contains("'(blank)'", regex=False).any()


def test_warnings_say_what_was_assumed(county, tmp_path, caplog):
    args = [a for a in _inputs(county) if a not in ("--boundary-where", "name == '本区'")]
    with caplog.at_level(logging.WARNING, logger="coverage"):
        assert main(["analyze", *args, "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o")]) == 0
    text = caplog.text
    assert "2 boundary polygons (本区, 邻区) are joined into one region" in text
    assert f"{county.blank_lines} of {county.lines} road lines" in text
    assert "left out by the 'amap' kind map" in text
    assert "kept under that name" in text


def _verdicts(folder) -> dict[str, str]:
    data = json.loads((folder / "standards.json").read_text(encoding="utf-8"))
    return {target["id"]: target["status"] for target in data["targets"]}


def _within_2km(county) -> float:
    """Share of villages with a village clinic within 2 km, worked out with shapely."""
    utm = county.villages_frame.estimate_utm_crs()
    villages = county.villages_frame.to_crs(utm).geometry.to_numpy()
    clinics = county.clinics.to_crs(utm).geometry.to_numpy()
    near = [min(v.distance(c) for c in clinics) <= 2000.0 for v in villages]
    return float(np.mean(near))


def test_check_dongxihu_verdicts_never_pass_on_missing_data(county, tmp_path):
    out = tmp_path / "check"
    code = main(
        [
            "check",
            "--standard",
            "dongxihu",
            *_inputs(county),
            "--cache-dir",
            str(tmp_path),
            "--out",
            str(out),
            "--fail-on-miss",
        ]
    )
    assert code == 1
    verdicts = _verdicts(out)
    assert verdicts == {
        # no population: neither a raster nor a population column
        "ems_12min": "cannot_evaluate",
        "ambulances_per_30k": "cannot_evaluate",
        "chc_per_30k_100k": "cannot_evaluate",
        "village_doctors_per_1000": "cannot_evaluate",
        # call satisfaction needs the ambulance simulation (ems); no fleet-share columns in the file
        "call_satisfaction_96": "cannot_evaluate",
        "negative_pressure_share_40": "cannot_evaluate",
        "smart_share_80": "cannot_evaluate",
        # one 急救中心 in the file, nine asked for
        "ems_stations_min9": "fail",
        # 2 health centres and 1 community health centre for 13 subdistricts
        "health_centre_per_subdistrict": "fail",
        "chc_per_subdistrict": "fail",
        "village_clinic_per_village": "fail" if _within_2km(county) < 1 else "pass",
    }
    data = json.loads((out / "standards.json").read_text(encoding="utf-8"))
    clinic = next(t for t in data["targets"] if t["id"] == "village_clinic_per_village")
    assert clinic["measured"] == pytest.approx(_within_2km(county))
    centres = next(t for t in data["targets"] if t["id"] == "health_centre_per_subdistrict")
    subdistricts = gpd.read_file(county.subdistricts)
    assert centres["measured"] == pytest.approx(_units_with_kind(county, subdistricts, "health_centre"))


def _units_with_kind(county, subdistricts, kind) -> float:
    table = pd.read_csv(county.facilities, encoding="gbk")
    chosen = table[table["ID"].map(county.kinds) == kind]
    lon, lat = gcj02_to_wgs84(chosen["XGCJ"].to_numpy(), chosen["YGCJ"].to_numpy())
    points = gpd.points_from_xy(lon, lat, crs=4326)
    return float(np.mean([bool(points.within(unit).any()) for unit in subdistricts.geometry]))


def test_stand_in_hospitals_never_pass_and_never_count_as_stations(county, tmp_path):
    table = pd.read_csv(county.facilities, encoding="gbk", dtype=str)
    without_ems = tmp_path / "no_ems.csv"
    table[table["TYPECODE"] != "090400"].to_csv(without_ems, index=False, encoding="gbk")
    villages = pd.read_csv(county.villages)
    villages["常住人口"] = 1000
    peopled = tmp_path / "villages_pop.csv"
    villages.to_csv(peopled, index=False)
    out = tmp_path / "check"
    inputs = _inputs(county, facilities=without_ems, villages=peopled)
    code = main(["check", "--standard", "dongxihu", *inputs, "--cache-dir", str(tmp_path), "--out", str(out)])
    assert code == 0  # without --fail-on-miss the check only reports
    verdicts = _verdicts(out)
    assert verdicts["ems_12min"] in ("assumed", "fail")
    assert verdicts["ems_stations_min9"] == "cannot_evaluate"
    data = json.loads((out / "standards.json").read_text(encoding="utf-8"))
    circle = next(t for t in data["targets"] if t["id"] == "ems_12min")
    assert "hospitals stand in for EMS stations" in circle["assumption"]
    assert "以医院代替急救站" in circle["assumption_zh"]
    csv = pd.read_csv(out / "standards.csv", encoding="utf-8-sig")
    assert "hospitals stand in" in csv.set_index("target").loc["ems_12min", "assumption"]


def test_a_run_that_evaluates_nothing_exits_1_even_when_unevaluated_targets_are_allowed(county, tmp_path):
    # lianzhou's only target counts households: no population, nothing can be evaluated
    args = ["check", "--standard", "lianzhou", *_inputs(county), "--cache-dir", str(tmp_path), "--out", str(tmp_path)]
    assert main(args) == 0
    assert main([*args, "--fail-on-miss"]) == 1
    assert main([*args, "--fail-on-miss", "--allow-unevaluated"]) == 1
    assert set(_verdicts(tmp_path).values()) == {"cannot_evaluate"}
