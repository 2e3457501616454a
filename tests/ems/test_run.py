"""EMS availability on the real Mwali island: the fleet, calls, travel times, simulation and proposals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coverage._errors import InputError
from coverage.analysis.run import analyze
from coverage.ems.calls import DEFAULT_CALLS_PER_1000, read_call_records
from coverage.ems.fleet import fleet_from
from coverage.ems.proposal import allocate
from coverage.ems.run import ems_availability
from coverage.ems.simulation import ServiceTimes
from tests.conftest import COMOROS_PBF, COMOROS_RASTER


@pytest.fixture(scope="module")
def station_file(tmp_path_factory, mwali_facilities):
    """Mwali's hospitals and clinics as EMS stations with ambulance counts, in a CSV like a county's."""
    frame = mwali_facilities[mwali_facilities["kind"].isin(["hospital", "clinic"])].reset_index(drop=True)
    stations = pd.DataFrame(
        {
            "id": "ems-" + frame["id"],
            "name": frame["name"],
            "kind": "ems",
            "lon": frame.geometry.x,
            "lat": frame.geometry.y,
            "ambulances": [2 if i == 0 else 1 for i in range(len(frame))],
            "negative_pressure": [1 if i == 0 else 0 for i in range(len(frame))],
            "smart": [1] * len(frame),
        }
    )
    # the hospitals the patients are taken to, in the same file
    hospitals = frame[frame["kind"] == "hospital"]
    table = pd.concat(
        [
            stations,
            pd.DataFrame(
                {
                    "id": hospitals["id"],
                    "name": hospitals["name"],
                    "kind": "hospital",
                    "lon": hospitals.geometry.x,
                    "lat": hospitals.geometry.y,
                }
            ),
        ],
        ignore_index=True,
    )
    path = tmp_path_factory.mktemp("stations") / "stations.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def mwali_ems(tmp_path_factory, mwali_boundary, station_file):
    return analyze(
        COMOROS_PBF,
        facilities=station_file,
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
        profile="ambulance",
        ems=True,
        minutes=[12, 30],
        per_facility_isochrones=False,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


@pytest.fixture(scope="module")
def result(mwali_ems):
    return ems_availability(mwali_ems, threshold_minutes=12, replications=4, seed=5)


def test_the_fleet_comes_from_the_station_file(result, station_file):
    stations = pd.read_csv(station_file)
    stations = stations[stations["kind"] == "ems"]
    assert result.fleet.total == stations["ambulances"].sum()
    assert not result.fleet.assumed
    assert not result.fleet.substituted
    assert result.fleet.share("negative_pressure") == pytest.approx(1 / stations["ambulances"].sum())
    assert result.fleet.share("smart") == pytest.approx(len(stations) / stations["ambulances"].sum())


def test_station_times_reproduce_the_analysis(result, mwali_ems):
    # the nearest station's time to each village is the analysis' own multi-source search
    nearest = result.scenario.base_to_point_s.min(axis=1) / 60.0
    expected = mwali_ems.villages["minutes"].to_numpy()
    reached = np.isfinite(expected)
    np.testing.assert_allclose(nearest[reached], expected[reached], rtol=1e-9)


def test_calls_come_from_population_at_the_documented_rate(result, mwali_ems):
    population = mwali_ems.villages["population"].fillna(0).sum()
    assert result.demand.calls_per_year == pytest.approx(population * DEFAULT_CALLS_PER_1000 / 1000)
    assert "Chinese Medical Journal" in result.demand.source
    calls = result.simulation.figures["calls"].mean
    assert abs(calls - result.demand.calls_per_year) < 5 * np.sqrt(result.demand.calls_per_year)


def test_village_and_zone_tables(result, mwali_ems):
    villages = result.villages
    assert len(villages) == len(mwali_ems.villages)
    assert {"expected_coverage", "in_time_share", "timely_probability", "ambulances_within", "waited_share"} <= set(
        villages.columns
    )
    assert villages["timely_probability"].between(0, 1).all()
    # a village no station reaches within 12 minutes is never reached in time
    outside = villages["ambulances_within"] == 0
    assert (villages.loc[outside, "timely_probability"] == 0).all()
    assert result.zones["calls_per_year"].sum() == pytest.approx(result.demand.calls_per_year)
    figures = result.simulation.figures
    assert figures["in_time_share"].low <= figures["in_time_share"].mean <= figures["in_time_share"].high
    assert 0 < figures["utilisation"].mean < 1


def test_with_ambulances_never_busy_the_in_time_share_is_the_plain_coverage(mwali_ems):
    many = np.full(len(mwali_ems.facilities), 200)
    free = ems_availability(mwali_ems, threshold_minutes=12, ambulances=many, replications=3, seed=1, days=120)
    assert free.simulation.figures["waited_share"].mean == 0
    simulated = free.villages["in_time_share"]
    called = free.villages["simulated_calls"] > 0
    covered = mwali_ems.villages["covered_12"].to_numpy()
    np.testing.assert_array_equal(simulated[called].to_numpy(), covered[called.to_numpy()].astype(float))
    weights = free.demand.points["calls_per_year"].to_numpy()
    plain = weights[covered].sum() / weights.sum()
    assert free.estimates.plain_in_time_share == pytest.approx(plain)
    figure = free.simulation.figures["in_time_share"]
    assert figure.low - 0.01 <= plain <= figure.high + 0.01


def test_a_fixed_seed_reproduces_the_run(mwali_ems, result):
    again = ems_availability(mwali_ems, threshold_minutes=12, replications=4, seed=5)
    assert again.summary()["simulation"] == result.summary()["simulation"]
    other = ems_availability(mwali_ems, threshold_minutes=12, replications=4, seed=6)
    assert other.summary()["simulation"] != result.summary()["simulation"]


def test_call_records_give_the_volume_and_the_hourly_profile(tmp_path, mwali_ems):
    villages = mwali_ems.villages.head(20)
    rng = np.random.default_rng(0)
    n = 400
    pick = rng.integers(0, len(villages), n)
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 182, n), unit="D")
    times = times + pd.to_timedelta(rng.choice([9, 10, 20], n), unit="h")
    records = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "time": times.strftime("%Y-%m-%d %H:%M"),
            "lon": villages.geometry.x.to_numpy()[pick],
            "lat": villages.geometry.y.to_numpy()[pick],
            "priority": rng.integers(1, 3, n),
        }
    )
    path = tmp_path / "calls.csv"
    records.to_csv(path, index=False)
    result = ems_availability(mwali_ems, call_records=path, call_records_years=0.5, replications=2, days=60)
    assert result.demand.calls_per_year == pytest.approx(n / 0.5)
    profile = result.demand.hourly_profile
    assert set(np.flatnonzero(profile)) == {9, 10, 20}
    # every record is attributed to its village
    assert set(result.demand.points["village_id"]) <= set(villages["id"].astype(str))
    assert result.villages.loc[~result.villages["id"].isin(villages["id"]), "simulated_calls"].sum() == 0


def test_bad_call_records_name_the_row(tmp_path):
    path = tmp_path / "calls.csv"
    pd.DataFrame({"time": ["2024-01-01 10:00", "yesterday"], "lon": [43.7, 43.7], "lat": [-12.3, -12.3]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match=r"row 2.*yesterday"):
        read_call_records(path)


def test_bad_ambulance_counts_name_the_station(mwali_ems):
    stations = mwali_ems.facilities.assign(ambulances=["2"] + ["x"] * (len(mwali_ems.facilities) - 1))
    with pytest.raises(InputError, match=r"row 2\) has ambulances = 'x'"):
        fleet_from(stations, label="stations.csv")
    too_many = mwali_ems.facilities.assign(negative_pressure=5)
    with pytest.raises(InputError, match="cannot be larger"):
        fleet_from(too_many, label="stations.csv")


def test_allocation_never_lowers_the_expected_coverage(mwali_ems):
    proposal = allocate(mwali_ems, threshold_minutes=12, replications=2, seed=3, days=90)
    assert proposal.stations["ambulances_after"].sum() == proposal.before.fleet.total
    assert proposal.allocation.report.status == "optimal"
    before = proposal.before.estimates.expected_in_time_share
    after = proposal.after.estimates.expected_in_time_share
    assert after >= before - 1e-12
    table = proposal.comparison()
    assert set(table["figure"]) >= {"in_time_share", "dispatched_without_wait_share"}


def test_new_stations_by_expected_coverage(mwali_ems):
    proposal = allocate(mwali_ems, threshold_minutes=12, new_stations=1, ambulances=6, replications=2, seed=3, days=60)
    new = proposal.stations[proposal.stations["new"]]
    assert len(new) <= 1
    assert proposal.stations["ambulances_after"].sum() == 6
    assert proposal.after.estimates.expected_in_time_share >= proposal.before.estimates.expected_in_time_share - 1e-12


def test_patients_go_to_the_hospitals_of_the_station_file(result, station_file):
    hospitals = pd.read_csv(station_file).query("kind == 'hospital'")
    assert len(result.hospitals) == len(hospitals) > 0
    assert (result.scenario.point_hospital >= 0).any()


def test_service_times_enter_the_mission(mwali_ems):
    quick = ems_availability(mwali_ems, service=ServiceTimes(on_scene_minutes=5, handover_minutes=5), replications=0)
    slow = ems_availability(mwali_ems, service=ServiceTimes(on_scene_minutes=40, handover_minutes=40), replications=0)
    assert slow.estimates.mean_service_minutes == pytest.approx(quick.estimates.mean_service_minutes + 70)
    assert slow.estimates.busy_fraction > quick.estimates.busy_fraction
    assert quick.simulation is None


def test_new_stations_when_the_counts_are_assumed(mwali_ems):
    import dataclasses

    bare = dataclasses.replace(
        mwali_ems, facilities=mwali_ems.facilities.drop(columns=["ambulances", "negative_pressure", "smart"])
    )
    proposal = allocate(bare, threshold_minutes=12, new_stations=1, ambulances=5, replications=1, days=30)
    assert proposal.before.fleet.assumed
    assert proposal.stations["ambulances_after"].sum() == 5
    assert proposal.after.fleet.total == 5
