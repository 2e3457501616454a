"""Availability and fleet-share targets: the checks, and the Dongxihu preset's call satisfaction."""

from __future__ import annotations

import pandas as pd
import pytest

from coverage._errors import ConfigError
from coverage.standards.availability import check_call_share, check_fleet_share, evaluate_availability
from coverage.standards.checks import ASSUMED, CANNOT, FAIL, PASS
from coverage.standards.standard import load_standard


def test_call_satisfaction_passes_at_the_share_and_fails_below():
    ok = check_call_share(
        {"dispatched_without_wait_share": 0.96, "calls": 1000},
        target="t",
        metric="dispatched_without_wait",
        required_share=0.96,
    )
    assert ok.status == PASS
    low = check_call_share(
        {"dispatched_without_wait_share": 0.95, "calls": 1000},
        target="t",
        metric="dispatched_without_wait",
        required_share=0.96,
    )
    assert low.status == FAIL
    assert low.shortfall["calls"] == pytest.approx(10.0)


def test_without_a_simulation_or_on_stand_ins_it_never_passes():
    assert check_call_share(None, target="t", metric="dispatched_without_wait", required_share=0.9).status == CANNOT
    stand_in = check_call_share(
        {"dispatched_without_wait_share": 1.0, "substituted": True},
        target="t",
        metric="dispatched_without_wait",
        required_share=0.9,
    )
    assert stand_in.status == ASSUMED
    assert stand_in.measured == 1.0
    assert "stand-in stations" in stand_in.detail
    low = check_call_share(
        {"dispatched_without_wait_share": 0.5, "assumed": True},
        target="t",
        metric="dispatched_without_wait",
        required_share=0.9,
    )
    assert low.status == FAIL


def test_within_minutes_needs_the_same_threshold():
    figures = {"in_time_share": 0.93, "threshold_minutes": 12.0}
    assert check_call_share(figures, target="t", metric="within_minutes", required_share=0.9, minutes=12).status == PASS
    other = check_call_share(figures, target="t", metric="within_minutes", required_share=0.9, minutes=15)
    assert other.status == CANNOT
    assert "--minutes 15" in other.detail


def test_fleet_shares_from_the_station_counts():
    stations = pd.DataFrame({"ambulances": [3, 2], "negative_pressure": [1, 1], "smart": [3, 2]})
    negative = check_fleet_share(stations, target="np", column="negative_pressure", required_share=0.4)
    assert negative.status == PASS
    assert negative.measured == pytest.approx(0.4)
    short = check_fleet_share(
        stations.assign(negative_pressure=[0, 1]), target="np", column="negative_pressure", required_share=0.4
    )
    assert short.status == FAIL
    assert short.shortfall["negative_pressure"] == 1.0
    assert (
        check_fleet_share(stations.drop(columns="smart"), target="s", column="smart", required_share=0.8).status
        == CANNOT
    )


def test_dongxihu_has_the_call_satisfaction_and_fleet_targets():
    standard = load_standard("dongxihu")
    stations = pd.DataFrame({"ambulances": [5], "negative_pressure": [2], "smart": [4]})
    figures = {"dispatched_without_wait_share": 0.97}
    results = {target.id: check for target, check in evaluate_availability(standard, figures, stations)}
    assert set(results) == {"call_satisfaction_96", "negative_pressure_share_40", "smart_share_80"}
    assert {check.status for check in results.values()} == {PASS}
    target = next(t for t in standard.targets if t.id == "call_satisfaction_96")
    assert "平均急救呼叫满足率达到96%以上" in target.quote


def test_availability_keys_are_validated(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'title_zh = "x"\ntitle_en = "x"\nplan = "x"\n[[target]]\nid = "a"\nkind = "availability"\n'
        'label_zh = "x"\nlabel_en = "x"\nquote = "x"\nmetric = "within_minutes"\nrequired_share = 0.9\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="minutes"):
        load_standard(path)
    path.write_text(path.read_text(encoding="utf-8").replace("within_minutes", "whatever"), encoding="utf-8")
    with pytest.raises(ConfigError, match="metric"):
        load_standard(path)
