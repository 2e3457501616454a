"""Closed-form availability estimates: Erlang's formulas, busy fractions, MEXCLP expected coverage.

These are the classic approximations of EMS planning, on plain numbers:

- :func:`erlang_b` -- Erlang's loss formula: the probability that a call finds all
  ``servers`` ambulances busy when such calls are lost (M/G/c/c; it depends on the
  service time only through its mean);
- :func:`erlang_c` -- the probability that a call has to wait when calls queue
  instead (M/M/c);
- :func:`mexclp_expected_coverage` -- Daskin's (1983) maximum expected covering
  location model: with each ambulance busy independently with probability ``q``,
  a place within reach of ``n`` ambulances is served in time with probability
  ``1 - q**n``.
"""

from __future__ import annotations

import math

import numpy as np

from coverage._errors import InputError


def _check_servers(servers: int) -> int:
    if isinstance(servers, bool) or int(servers) != servers or servers < 0:
        msg = f"servers must be a whole number of ambulances >= 0, got {servers!r}"
        raise InputError(msg)
    return int(servers)


def erlang_b(servers: int, load_erlangs: float) -> float:
    """Erlang's loss formula B(c, a): the share of calls that find every ambulance busy.

    Parameters
    ----------
    servers : int
        Ambulances ``c``.
    load_erlangs : float
        Offered load ``a = λ · E[S]`` (calls per hour times hours per call).

    Returns
    -------
    float
        Blocking probability; 1 with no ambulance, 0 with no load.

    Examples
    --------
    >>> round(erlang_b(2, 1.0), 4)
    0.2
    >>> erlang_b(0, 1.0), erlang_b(3, 0.0)
    (1.0, 0.0)
    """
    c = _check_servers(servers)
    if not load_erlangs >= 0 or not math.isfinite(load_erlangs):
        msg = f"load_erlangs must be a finite number >= 0, got {load_erlangs!r}"
        raise InputError(msg)
    # the stable recursion B(k) = a B(k-1) / (k + a B(k-1)), B(0) = 1
    blocking = 1.0
    for k in range(1, c + 1):
        blocking = load_erlangs * blocking / (k + load_erlangs * blocking)
    return blocking


def erlang_c(servers: int, load_erlangs: float) -> float:
    """Erlang's C formula: the share of calls that must wait, when calls queue (M/M/c).

    Returns 1 when the load reaches the number of ambulances (the queue grows without end).

    Examples
    --------
    >>> round(erlang_c(2, 1.0), 4)
    0.3333
    """
    c = _check_servers(servers)
    if c == 0 or load_erlangs >= c:
        return 1.0
    blocking = erlang_b(c, load_erlangs)
    return c * blocking / (c - load_erlangs * (1.0 - blocking))


def busy_fraction(calls_per_hour: float, service_hours: float, ambulances: int) -> float:
    """The share of time an ambulance is busy, ``λ · E[S] / N`` (capped at 1).

    Examples
    --------
    >>> busy_fraction(2.0, 1.5, 10)
    0.3
    """
    n = _check_servers(ambulances)
    if n == 0:
        return 1.0
    return min(1.0, calls_per_hour * service_hours / n)


def mexclp_expected_coverage(ambulances_within: np.ndarray, busy: float) -> np.ndarray:
    """Probability that a call is served in time: ``1 - q**n`` for ``n`` ambulances within reach.

    Parameters
    ----------
    ambulances_within : numpy.ndarray
        Ambulances within the threshold of each place.
    busy : float
        System-wide busy fraction ``q`` (each ambulance busy independently).

    Examples
    --------
    >>> mexclp_expected_coverage(np.array([0, 1, 2]), 0.5).tolist()
    [0.0, 0.5, 0.75]
    """
    if not 0.0 <= busy <= 1.0:
        msg = f"busy must be a share between 0 and 1, got {busy!r}"
        raise InputError(msg)
    n = np.asarray(ambulances_within, dtype=np.float64)
    return np.where(n > 0, 1.0 - np.power(busy, n), 0.0)


def mexclp_weights(busy: float, levels: int) -> np.ndarray:
    """The gain of the k-th ambulance within reach, ``(1 - q) q**(k-1)`` for k = 1..levels."""
    return (1.0 - busy) * np.power(busy, np.arange(levels, dtype=np.float64))
