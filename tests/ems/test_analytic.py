"""Erlang's formulas and MEXCLP expected coverage against their textbook values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coverage._errors import InputError
from coverage.ems.analytic import busy_fraction, erlang_b, erlang_c, mexclp_expected_coverage, mexclp_weights


def _erlang_b_direct(c: int, a: float) -> float:
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


@given(c=st.integers(0, 30), a=st.floats(0.0, 40.0))
def test_erlang_b_recursion_equals_the_formula(c, a):
    assert erlang_b(c, a) == pytest.approx(_erlang_b_direct(c, a), rel=1e-9, abs=1e-12)


def test_erlang_c_textbook_value():
    # M/M/2 with a = 1 erlang: P(wait) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 3.0) == 1.0
    assert erlang_c(5, 0.0) == 0.0


def test_busy_fraction_and_expected_coverage():
    assert busy_fraction(3.0, 1.0, 10) == pytest.approx(0.3)
    assert busy_fraction(30.0, 1.0, 10) == 1.0
    assert mexclp_expected_coverage(np.array([0, 1, 3]), 0.2) == pytest.approx([0.0, 0.8, 1 - 0.008])
    assert mexclp_weights(0.2, 3).sum() == pytest.approx(1 - 0.2**3)


def test_bad_numbers_are_refused():
    with pytest.raises(InputError, match="servers"):
        erlang_b(-1, 1.0)
    with pytest.raises(InputError, match="load"):
        erlang_b(2, float("nan"))
    with pytest.raises(InputError, match="busy"):
        mexclp_expected_coverage(np.array([1]), 1.5)
