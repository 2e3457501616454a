"""MEXCLP allocation on HiGHS, checked against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.ems.allocation import allocate_ambulances, expected_covered


def _brute_force(cover, weights, ambulances, busy, capacity=None, fixed=None, new_sites=None):
    n_sites = cover.shape[0]
    best = -1.0
    for counts in itertools.product(range(ambulances + 1), repeat=n_sites):
        counts = np.array(counts)
        if counts.sum() != ambulances:
            continue
        if capacity is not None and (counts > capacity).any():
            continue
        if new_sites is not None and ((counts > 0) & ~fixed).sum() > new_sites:
            continue
        best = max(best, expected_covered(cover, weights, counts, busy))
    return best


def test_mexclp_spreads_ambulances_when_they_are_often_busy():
    # two stations, each reaching one of two equal places: 2 ambulances go one to each
    cover = sp.csr_matrix(np.array([[1, 0], [0, 1]], dtype=bool))
    result = allocate_ambulances(cover, np.array([10.0, 10.0]), ambulances=2, busy=0.5)
    assert result.ambulances.tolist() == [1, 1]
    assert result.expected_covered == pytest.approx(10.0)
    assert result.report.status == "optimal"


def test_a_second_ambulance_goes_where_the_demand_is():
    cover = sp.csr_matrix(np.array([[1, 0], [0, 1]], dtype=bool))
    result = allocate_ambulances(cover, np.array([100.0, 40.0]), ambulances=3, busy=0.5)
    # 100 (1 - 0.25) + 40 (0.5) = 95 beats 100 (1 - 0.125) = 87.5 and 100 (0.5) + 40 (0.75) = 80
    assert result.ambulances.tolist() == [2, 1]
    assert result.expected_covered == pytest.approx(95.0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_sites=st.integers(1, 4),
    n_places=st.integers(1, 7),
    ambulances=st.integers(0, 5),
    busy=st.floats(0.0, 0.9),
)
def test_mexclp_equals_brute_force(seed, n_sites, n_places, ambulances, busy):
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix(rng.random((n_sites, n_places)) < 0.5)
    weights = rng.integers(0, 50, n_places).astype(float)
    result = allocate_ambulances(cover, weights, ambulances=ambulances, busy=busy)
    assert result.ambulances.sum() == ambulances
    assert result.expected_covered == pytest.approx(_brute_force(cover, weights, ambulances, busy), rel=1e-7, abs=1e-7)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), ambulances=st.integers(1, 4), new_sites=st.integers(0, 2))
def test_siting_by_expected_coverage_equals_brute_force(seed, ambulances, new_sites):
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix(rng.random((4, 6)) < 0.45)
    weights = rng.integers(1, 30, 6).astype(float)
    fixed = np.array([True, False, False, False])
    capacity = np.array([ambulances, 2, 2, 2])
    if capacity.sum() < ambulances:
        return
    result = allocate_ambulances(
        cover, weights, ambulances=ambulances, busy=0.3, capacity=capacity, fixed_open=fixed, new_sites=new_sites
    )
    assert ((result.ambulances > 0) & ~fixed).sum() <= new_sites
    expected = _brute_force(cover, weights, ambulances, 0.3, capacity=capacity, fixed=fixed, new_sites=new_sites)
    assert result.expected_covered == pytest.approx(expected, rel=1e-7, abs=1e-7)


def test_minimum_per_station_is_kept():
    cover = sp.csr_matrix(np.array([[1, 1], [0, 0], [0, 1]], dtype=bool))
    result = allocate_ambulances(cover, np.array([5.0, 5.0]), ambulances=4, busy=0.4, minimum=1)
    assert (result.ambulances >= 1).all()
    assert result.ambulances.sum() == 4


def test_impossible_requests_are_clear_errors():
    cover = sp.csr_matrix(np.ones((2, 2), dtype=bool))
    with pytest.raises(InputError, match="cannot be placed"):
        allocate_ambulances(cover, np.ones(2), ambulances=5, busy=0.2, capacity=2)
    with pytest.raises(InputError, match="busy"):
        allocate_ambulances(cover, np.ones(2), ambulances=1, busy=1.0)
    with pytest.raises(InputError, match="weights"):
        allocate_ambulances(cover, np.ones(3), ambulances=1, busy=0.2)
