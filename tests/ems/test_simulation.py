"""The simulation against queueing theory: Erlang's loss and C formulas, λ·E[S]/N, and plain coverage."""

from __future__ import annotations

import numpy as np
import pytest

from coverage._errors import InputError
from coverage.ems.analytic import erlang_b, erlang_c
from coverage.ems.simulation import Scenario, ServiceTimes, estimate, simulate, simulate_once


def one_station(ambulances: int, calls_per_year: float) -> Scenario:
    """One station and one place at the station: service is the on-scene time alone."""
    zero = np.zeros((1, 1))
    return Scenario(
        ambulances=np.array([ambulances]),
        base_to_point_s=zero,
        point_to_base_s=zero,
        point_hospital=np.array([-1]),
        point_to_hospital_s=np.array([np.inf]),
        hospital_to_base_s=np.zeros((0, 1)),
        hospital_to_point_s=np.zeros((1, 0)),
        point_share=np.array([1.0]),
        calls_per_year=calls_per_year,
    )


EXPONENTIAL_HOUR = ServiceTimes(
    on_scene_minutes=60.0, handover_minutes=0.0, transport_share=0.0, distribution="exponential"
)


def _inside(value: float, figure, slack: float = 0.0) -> bool:
    return figure.low - slack <= value <= figure.high + slack


def test_lost_calls_match_erlangs_loss_formula():
    # 3 ambulances, 2 calls an hour, 1 hour each: a = 2 erlangs
    scenario = one_station(3, 2.0 * 24 * 365)
    result = simulate(
        scenario, EXPONENTIAL_HOUR, threshold_minutes=10, replications=8, days=120, when_busy="lost", seed=7
    )
    expected = erlang_b(3, 2.0)
    assert _inside(expected, result.figures["lost_share"]), (expected, result.figures["lost_share"])
    # busy fraction of a loss system: λ (1 - B) E[S] / N
    assert _inside(2.0 * (1 - expected) / 3, result.figures["utilisation"], slack=0.002)


def test_waiting_calls_match_erlang_c_and_busy_fraction():
    scenario = one_station(3, 2.0 * 24 * 365)
    result = simulate(scenario, EXPONENTIAL_HOUR, threshold_minutes=10, replications=8, days=120, seed=3)
    assert _inside(erlang_c(3, 2.0), result.figures["waited_share"], slack=0.002)
    # λ·E[S]/N = 2 × 1 / 3
    assert _inside(2.0 / 3.0, result.figures["utilisation"], slack=0.002)
    assert result.figures["lost_share"].mean == 0.0


def test_a_fixed_seed_reproduces_a_run_and_another_seed_does_not():
    scenario = one_station(2, 5000)
    a = simulate_once(scenario, EXPONENTIAL_HOUR, seed=11, days=30)
    b = simulate_once(scenario, EXPONENTIAL_HOUR, seed=11, days=30)
    c = simulate_once(scenario, EXPONENTIAL_HOUR, seed=12, days=30)
    np.testing.assert_array_equal(a.arrival_s, b.arrival_s)
    np.testing.assert_array_equal(a.response_s, b.response_s)
    assert len(a.arrival_s) != len(c.arrival_s) or not np.array_equal(a.arrival_s, c.arrival_s)


def test_calls_follow_the_hourly_profile():
    profile = np.zeros(24)
    profile[8:12] = 0.25  # every call between 08:00 and 12:00
    scenario = one_station(50, 20000)
    scenario = Scenario(**{**scenario.__dict__, "hourly_profile": profile})
    log = simulate_once(scenario, EXPONENTIAL_HOUR, seed=1, days=60)
    hours = (log.arrival_s // 3600) % 24
    assert set(np.unique(hours)) <= {8, 9, 10, 11}
    # about 20,000 / 365 × 60 calls
    assert abs(len(log.arrival_s) - 20000 / 365 * 60) < 4 * np.sqrt(20000 / 365 * 60)


def test_ambulances_that_are_never_busy_give_the_plain_coverage():
    # three places: 5 min, 11 min and 20 min from the only station; threshold 12 min
    seconds = np.array([[300.0], [660.0], [1200.0]])
    share = np.array([0.5, 0.3, 0.2])
    scenario = Scenario(
        ambulances=np.array([500]),
        base_to_point_s=seconds,
        point_to_base_s=seconds,
        point_hospital=np.array([-1, -1, -1]),
        point_to_hospital_s=np.full(3, np.inf),
        hospital_to_base_s=np.zeros((0, 1)),
        hospital_to_point_s=np.zeros((3, 0)),
        point_share=share,
        calls_per_year=5000,
    )
    result = simulate(scenario, ServiceTimes(), threshold_minutes=12, replications=5, seed=2)
    assert result.figures["waited_share"].mean == 0.0
    # every call at a covered place is in time, none elsewhere
    assert result.points["in_time_share"].tolist() == [1.0, 1.0, 0.0]
    assert _inside(0.8, result.figures["in_time_share"])


def test_the_nearest_free_ambulance_is_sent_and_waiting_calls_are_served():
    # two stations, one ambulance each; the place is 2 min from station 0 and 9 min from station 1
    seconds = np.array([[120.0, 540.0]])
    scenario = Scenario(
        ambulances=np.array([1, 1]),
        base_to_point_s=seconds,
        point_to_base_s=seconds,
        point_hospital=np.array([0]),
        point_to_hospital_s=np.array([600.0]),
        hospital_to_base_s=np.array([[300.0, 300.0]]),
        hospital_to_point_s=np.array([[600.0]]),
        point_share=np.array([1.0]),
        calls_per_year=3 * 24 * 365,
    )
    log = simulate_once(scenario, ServiceTimes(), seed=4, days=5)
    first_choice = log.response_s[~log.waited]
    assert np.isclose(first_choice, 120.0).sum() > 0
    assert np.all(np.isclose(first_choice, 120.0) | np.isclose(first_choice, 540.0))
    assert log.waited.any()
    assert np.isfinite(log.response_s).all()  # every waiting call was served in the end


def test_estimate_has_a_confidence_interval():
    figure = estimate(np.array([1.0, 2.0, 3.0]))
    assert figure.mean == 2.0
    assert figure.low < 2.0 < figure.high
    assert np.isnan(estimate(np.array([1.0])).low)


def test_bad_settings_are_refused():
    with pytest.raises(InputError, match="transport_share"):
        ServiceTimes(transport_share=75)
    with pytest.raises(InputError, match="distribution"):
        ServiceTimes(distribution="normal")
    with pytest.raises(InputError, match="when_busy"):
        simulate_once(one_station(1, 10), ServiceTimes(), when_busy="drop")
    with pytest.raises(InputError, match="replications"):
        simulate(one_station(1, 10), ServiceTimes(), threshold_minutes=12, replications=0)


def test_waiting_calls_stay_on_their_island_and_go_most_urgent_then_oldest_first():
    # island A: one station, two places (priority 1 and 2), overloaded; island B: one station, one
    # place, no road to A. B's ambulance must never take A's waiting calls however long A's queue
    inf = np.inf
    to_place = np.array([[60.0, inf], [60.0, inf], [inf, 60.0]])
    scenario = Scenario(
        ambulances=np.array([1, 1]),
        base_to_point_s=to_place,
        point_to_base_s=to_place,
        point_hospital=np.array([-1, -1, -1]),
        point_to_hospital_s=np.array([inf, inf, inf]),
        hospital_to_base_s=np.zeros((0, 2)),
        hospital_to_point_s=np.zeros((3, 0)),
        point_share=np.array([0.45, 0.45, 0.10]),
        calls_per_year=2.5 * 24 * 365,  # about 2.25 calls an hour on A for one ambulance an hour each
        point_priority=np.array([2, 1, 1]),
    )
    log = simulate_once(scenario, EXPONENTIAL_HOUR, seed=11, days=20)
    on_a = np.isin(log.point, [0, 1])
    assert log.waited[on_a].sum() > 100  # a long queue on A
    assert not (on_a & (log.station == 1)).any()  # never served from B
    assert not (~on_a & (log.station == 0)).any()
    # each time A's ambulance took a waiting call it was the most urgent, then the oldest, of those waiting
    served = np.flatnonzero(log.waited & on_a & np.isfinite(log.response_s))
    dispatched = log.arrival_s[served] + log.response_s[served] - 60.0  # when the ambulance left for it
    for call, leaving in zip(served, dispatched, strict=True):
        waiting = served[(log.arrival_s[served] <= leaving) & (dispatched > leaving)]
        if len(waiting):
            key = (scenario.point_priority[log.point[call]], log.arrival_s[call])
            assert key <= min((scenario.point_priority[log.point[w]], log.arrival_s[w]) for w in waiting)
