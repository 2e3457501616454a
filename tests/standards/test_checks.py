"""Each kind of check on small hand-computed tables (no OSM, no routing)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coverage.standards.checks import (
    CANNOT,
    FAIL,
    NOT_APPLICABLE,
    PASS,
    average_service_radius_km,
    check_count_per_unit,
    check_minimum_count,
    check_ratio_to_population,
    check_service_radius,
    check_travel_time,
)

PLACES = pd.DataFrame(
    {
        "id": ["a", "b", "c", "d"],
        "name": ["甲村", "乙村", "丙村", "丁村"],
        "zone": ["urban", "urban", "rural", "rural"],
        "population": [1000.0, 3000.0, 2000.0, 4000.0],
        "minutes": [5.0, 15.0, 15.000001, np.nan],
    }
)


def test_travel_time_share_of_population_with_the_edge_inclusive():
    result = check_travel_time(PLACES, target="t", minutes=15)
    # a and b are within (15 <= 15); c is a microsecond over; d is unreached
    assert result.measured == pytest.approx(4000 / 10000)
    assert result.status == FAIL
    assert result.shortfall["population"] == pytest.approx(6000)
    assert result.shortfall["places_outside"] == 2
    assert result.worst["name"].tolist() == ["丁村", "丙村"]
    zones = result.by_zone.set_index("zone")
    assert zones.loc["urban", "share"] == 1.0
    assert zones.loc["rural", "share"] == 0.0


def test_travel_time_required_share_and_delay():
    assert check_travel_time(PLACES, target="t", minutes=15, required_share=0.4).status == PASS
    # a 1-minute dispatch delay pushes b (15 min) out
    delayed = check_travel_time(PLACES, target="t", minutes=15, required_share=0.4, delay_minutes=1)
    assert delayed.measured == pytest.approx(0.1)
    assert delayed.status == FAIL


def test_travel_time_households_from_population_or_a_column():
    derived = check_travel_time(PLACES, target="t", minutes=15, basis="households", household_size=2.5)
    assert derived.measured == pytest.approx(4000 / 10000)
    assert "2.5 persons per household" in derived.detail or "household" in derived.detail
    with_column = PLACES.assign(households=[100.0, 100.0, 100.0, 700.0])
    counted = check_travel_time(with_column, target="t", minutes=15, basis="households", required_share=0.9)
    assert counted.measured == pytest.approx(200 / 1000)
    assert counted.shortfall["households"] == pytest.approx(0.9 * 1000 - 200)
    assert counted.shortfall["people_outside"] == pytest.approx(6000)


def test_travel_time_villages_basis_and_empty_input():
    assert check_travel_time(PLACES, target="t", minutes=15, basis="villages").measured == 0.5
    # no place in the target's zones: the target does not apply (never a pass)
    assert check_travel_time(PLACES.iloc[:0], target="t", minutes=15).status == NOT_APPLICABLE


def test_average_service_radius_formula():
    # 314.159 km² and 4 stations: sqrt(314.159 / (π · 4)) = sqrt(25) = 5 km
    assert average_service_radius_km(math.pi * 100, 4) == pytest.approx(5.0)
    assert average_service_radius_km(100, 0) == math.inf


def test_service_radius_range_reports_both_ends():
    zones = pd.DataFrame({"zone": ["rural"], "area_km2": [math.pi * 15**2 * 3], "stations": [3]})
    places = PLACES.assign(straight_km=[2.0, 12.0, 25.0, np.nan], network_km=[3.0, 18.0, 31.0, np.nan])
    result = check_service_radius(places, zones, target="r", radius_km=(10.0, 20.0))
    assert result.measured == pytest.approx(15.0)  # inside 10–20 km: passes the high end
    assert result.status == PASS
    row = result.by_zone.iloc[0]
    assert not row["within_low"]
    assert row["within_high"]
    # people farther than 20 km: c by straight line and by road, d (unreached) both
    assert result.shortfall["people_beyond_straight_line"] == 6000
    assert result.shortfall["people_beyond_by_road"] == 6000
    assert "facilities" not in result.shortfall


def test_service_radius_missed_counts_the_stations_needed():
    zones = pd.DataFrame({"zone": ["urban"], "area_km2": [math.pi * 25 * 10], "stations": [2]})
    result = check_service_radius(pd.DataFrame(), zones, target="r", radius_km=(5.0, 5.0))
    assert result.measured == pytest.approx(math.sqrt(250 / 2))
    assert result.status == FAIL
    assert result.shortfall["facilities"] == 8  # 10 stations give exactly 5 km


def test_count_per_unit():
    units = pd.DataFrame({"unit": ["一村", "二村", "三村"], "facilities": [1, 0, 2]})
    result = check_count_per_unit(units, target="c", min_count=1)
    assert result.status == FAIL
    assert result.measured == pytest.approx(2 / 3)
    assert result.shortfall == {"units": 1.0, "facilities": 1.0}
    assert result.worst["unit"].tolist() == ["二村"]
    assert check_count_per_unit(units, target="c", min_count=0).status == PASS
    assert check_count_per_unit(units.iloc[:0], target="c", min_count=1).status == CANNOT


def test_ratio_to_population_with_the_300_percent_base():
    facilities = pd.DataFrame({"ambulances": [4, 3, 2]})
    # Kaijiang: 1 per 30,000 of 300% of 400,000 people -> 40 ambulances needed
    result = check_ratio_to_population(
        facilities,
        target="amb",
        population=400_000,
        resource="ambulances",
        per_population=30_000,
        population_multiplier=3.0,
    )
    assert result.required == pytest.approx(40.0)
    assert result.measured == 9
    assert result.status == FAIL
    assert result.shortfall["ambulances"] == 31
    plain = check_ratio_to_population(
        facilities, target="amb", population=270_000, resource="ambulances", per_population=30_000
    )
    assert plain.required == pytest.approx(9.0)
    assert plain.status == PASS


def test_ratio_to_population_never_passes_without_data():
    missing_column = check_ratio_to_population(
        pd.DataFrame({"beds": [10]}), target="amb", population=1e5, resource="ambulances", per_population=3e4
    )
    assert missing_column.status == CANNOT
    assert "ambulances" in missing_column.detail
    missing_value = check_ratio_to_population(
        pd.DataFrame({"ambulances": [3, None]}), target="amb", population=1e5, resource="ambulances", per_population=3e4
    )
    assert missing_value.status == CANNOT
    counted = check_ratio_to_population(
        pd.DataFrame(index=range(2)), target="chc", population=250_000, resource="count", per_population=100_000
    )
    assert counted.status == FAIL
    assert counted.shortfall["facilities"] == 1


def test_minimum_count():
    assert check_minimum_count(pd.DataFrame(index=range(9)), target="m", min_count=9).status == PASS
    missed = check_minimum_count(pd.DataFrame(index=range(7)), target="m", min_count=9)
    assert missed.status == FAIL
    assert missed.shortfall == {"facilities": 2.0}


def test_results_serialise():
    result = check_travel_time(PLACES, target="t", minutes=15)
    data = result.as_dict()
    assert data["status"] == FAIL
    assert isinstance(data["by_zone"], list)
    assert data["worst"][0]["name"] == "丁村"
