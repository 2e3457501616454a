"""The ems command (simulate, allocate) through its entry point, on the real Mwali island."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from coverage.cli.main import main
from tests.conftest import COMOROS_PBF, COMOROS_RASTER


@pytest.fixture(scope="module")
def region(tmp_path_factory, mwali_boundary, mwali_facilities):
    """Mwali's boundary, and a station file with ambulance counts (hospitals as stations too)."""
    folder = tmp_path_factory.mktemp("ems_cli")
    boundary = folder / "mwali.geojson"
    gpd.GeoDataFrame({"name": ["Mwali"]}, geometry=[mwali_boundary], crs=4326).to_file(boundary)
    frame = mwali_facilities[mwali_facilities["kind"].isin(["hospital", "clinic"])].reset_index(drop=True)
    stations = pd.DataFrame(
        {
            "id": "ems-" + frame["id"],
            "name": frame["name"],
            "kind": "ems",
            "lon": frame.geometry.x,
            "lat": frame.geometry.y,
            "ambulances": 1,
            "negative_pressure": [1] + [0] * (len(frame) - 1),
            "smart": 1,
        }
    )
    path = folder / "stations.csv"
    stations.to_csv(path, index=False)
    return {"boundary": boundary, "stations": path, "cache": folder / "cache"}


def _args(region, *extra):
    return [
        "ems",
        *extra,
        str(COMOROS_PBF),
        "--boundary",
        str(region["boundary"]),
        "--facilities",
        str(region["stations"]),
        "--population",
        str(COMOROS_RASTER),
        "--cache-dir",
        str(region["cache"]),
    ]


def test_simulate_writes_every_output_and_checks_dongxihu(tmp_path, region, capsys):
    out = tmp_path / "ems"
    code = main(
        [*_args(region, "simulate"), "--replications", "3", "--days", "90", "--standard", "dongxihu", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "call satisfaction" in printed
    assert "平均急救呼叫满足率达到96%以上" in printed
    assert "© OpenStreetMap contributors" in printed
    assert {p.name for p in out.iterdir()} == {
        "ems.json",
        "ems_villages.csv",
        "ems_stations.csv",
        "ems_zones.csv",
        "ems_map.html",
    }
    summary = json.loads((out / "ems.json").read_text(encoding="utf-8"))
    figure = summary["simulation"]["figures"]["in_time_share"]
    assert figure["ci_low"] <= figure["mean"] <= figure["ci_high"]
    assert summary["fleet"]["negative_pressure_share"] < 0.4
    villages = pd.read_csv(out / "ems_villages.csv", encoding="utf-8-sig")
    assert {"timely_probability", "expected_coverage", "in_time_share"} <= set(villages.columns)
    page = (out / "ems_map.html").read_text(encoding="utf-8")
    assert "Timely response within 12 min" in page
    assert "OpenStreetMap contributors" in page


def test_a_missed_target_fails_with_fail_on_miss(tmp_path, region, capsys):
    code = main(
        [
            *_args(region, "simulate"),
            "--replications",
            "1",
            "--days",
            "30",
            "--standard",
            "dongxihu",
            "--fail-on-miss",
            "--no-map",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 1  # only one of several ambulances is negative-pressure
    assert "[FAIL]" in capsys.readouterr().out


def test_allocate_prints_before_and_after(tmp_path, region, capsys):
    out = tmp_path / "alloc"
    code = main([*_args(region, "allocate"), "--replications", "2", "--days", "60", "--no-map", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "proposal: MEXCLP optimal" in printed
    assert "->" in printed
    allocation = pd.read_csv(out / "ems_allocation.csv", encoding="utf-8-sig")
    assert allocation["ambulances_after"].sum() == allocation["ambulances_before"].sum()


def test_bad_input_is_a_clear_error(tmp_path, region, capsys):
    records = tmp_path / "calls.csv"
    records.write_text("lon,lat\n43.7,-12.3\n", encoding="utf-8")
    code = main([*_args(region, "simulate"), "--call-records", str(records), "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "calls.csv" in err
    assert "time column" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()
