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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class AnalyticEstimates:
    """Closed-form availability figures of a scenario.

    Attributes
    ----------
    calls_per_hour : float
    mean_service_minutes : float
        Mean mission length (drive out, on scene, transport and hand-over, drive back)
        with the nearest station answering.
    offered_load_erlangs : float
        ``λ · E[S]``: ambulances busy on average.
    busy_fraction : float
        ``λ · E[S] / N`` (capped at 1): the system-wide ``q`` of the MEXCLP.
    free_probability : float
        ``1 - B(N, a)``: Erlang's probability that a call finds an ambulance free when the
        fleet of its group of stations (those that can stand in for each other) answers
        it, pooled; weighted over the groups by their calls.
    wait_probability : float
        Erlang's C: the probability that a call must wait, calls queueing (per group, weighted).
    expected_in_time_share : float
        MEXCLP: calls served in time, ``sum_j w_j (1 - q**n_j) / sum_j w_j``.
    plain_in_time_share : float
        Calls within the threshold of a station with ambulances, as if they were never busy.
    station_busy : numpy.ndarray
        Busy fraction of each station answering its own nearest calls alone.
    station_free_probability : numpy.ndarray
        ``1 - B(n_s, a_s)`` of each station alone.
    point_ambulances_within : numpy.ndarray
        Ambulances within the threshold of each demand point.
    point_expected : numpy.ndarray
        MEXCLP probability that a call at each point is served in time.
    """

    calls_per_hour: float
    mean_service_minutes: float
    offered_load_erlangs: float
    busy_fraction: float
    free_probability: float
    wait_probability: float
    expected_in_time_share: float
    plain_in_time_share: float
    station_busy: np.ndarray
    station_free_probability: np.ndarray
    point_ambulances_within: np.ndarray
    point_expected: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return {
            "calls_per_hour": self.calls_per_hour,
            "mean_service_minutes": self.mean_service_minutes,
            "offered_load_erlangs": self.offered_load_erlangs,
            "busy_fraction": self.busy_fraction,
            "free_probability": self.free_probability,
            "wait_probability": self.wait_probability,
            "expected_in_time_share": self.expected_in_time_share,
            "plain_in_time_share": self.plain_in_time_share,
        }


def mission_seconds(
    base_to_point_s: np.ndarray,
    point_to_base_s: np.ndarray,
    point_to_hospital_s: np.ndarray,
    hospital_back_s: np.ndarray,
    *,
    on_scene_s: float,
    handover_s: float,
    transport_share: float,
) -> np.ndarray:
    """Mean mission seconds per point when its nearest station answers (inf where none reaches it).

    ``hospital_back_s`` is, per point, the drive from its hospital back to that station
    (inf without a hospital: the patient is then not transported).
    """
    out = base_to_point_s
    transported = np.isfinite(point_to_hospital_s) & np.isfinite(hospital_back_s)
    back = np.where(
        transported,
        transport_share * (np.where(transported, point_to_hospital_s + hospital_back_s, 0.0) + handover_s)
        + (1.0 - transport_share) * point_to_base_s,
        point_to_base_s,
    )
    return out + on_scene_s + back


def availability_estimates(
    *,
    ambulances: np.ndarray,
    base_to_point_s: np.ndarray,
    mission_s: np.ndarray,
    nearest_station: np.ndarray,
    calls_per_year: np.ndarray,
    limit_s: float,
    groups: np.ndarray | None = None,
) -> AnalyticEstimates:
    """Busy fractions, Erlang probabilities and MEXCLP expected coverage of a fleet.

    Parameters
    ----------
    ambulances : numpy.ndarray
        Ambulances per station.
    base_to_point_s : numpy.ndarray
        points x stations seconds (response legs, dispatch time included).
    mission_s : numpy.ndarray
        Mean mission seconds per point (see :func:`mission_seconds`), inf where unreached.
    nearest_station : numpy.ndarray
        The station answering each point first (-1 none).
    calls_per_year : numpy.ndarray
        Calls at each point.
    limit_s : float
        The response threshold in seconds.
    groups : numpy.ndarray, optional
        Label per station of the stations that can stand in for each other (e.g. one
        per island); Erlang's pooled figures are computed per group and weighted by
        its calls. Default: one group.
    """
    amb = np.asarray(ambulances, dtype=np.int64)
    calls = np.asarray(calls_per_year, dtype=np.float64)
    served = (nearest_station >= 0) & np.isfinite(mission_s)
    hourly = calls / (365.0 * 24.0)
    load_by_point = np.where(served, hourly * np.where(served, mission_s, 0.0) / 3600.0, 0.0)
    load = float(load_by_point.sum())
    rate = float(hourly[served].sum())
    total = int(amb.sum())
    q = busy_fraction(rate, load / rate if rate else 0.0, total) if total else 1.0
    station_load = np.bincount(nearest_station[served], weights=load_by_point[served], minlength=len(amb))
    with np.errstate(divide="ignore", invalid="ignore"):
        station_busy = np.where(amb > 0, np.minimum(station_load / np.maximum(amb, 1), 1.0), np.nan)
    station_free = np.array(
        [1.0 - erlang_b(int(n), float(a)) if n > 0 else 0.0 for n, a in zip(amb, station_load, strict=True)]
    )
    labels = np.zeros(len(amb), dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    free = wait = 0.0
    for label in np.unique(labels):
        mine = labels == label
        group_load = float(station_load[mine].sum())
        group_rate = float(np.bincount(nearest_station[served], weights=hourly[served], minlength=len(amb))[mine].sum())
        share = group_rate / rate if rate else 0.0
        free += share * (1.0 - erlang_b(int(amb[mine].sum()), group_load))
        wait += share * erlang_c(int(amb[mine].sum()), group_load)
    within = np.asarray((base_to_point_s <= limit_s) @ amb, dtype=np.float64)
    expected = mexclp_expected_coverage(within, min(q, 1.0))
    weight = calls.sum()
    return AnalyticEstimates(
        calls_per_hour=rate,
        mean_service_minutes=load / rate * 60.0 if rate else float("nan"),
        offered_load_erlangs=load,
        busy_fraction=q,
        free_probability=free if rate else 1.0,
        wait_probability=wait if rate else 0.0,
        expected_in_time_share=float(np.dot(calls, expected) / weight) if weight else float("nan"),
        plain_in_time_share=float(calls[within > 0].sum() / weight) if weight else float("nan"),
        station_busy=station_busy,
        station_free_probability=station_free,
        point_ambulances_within=within,
        point_expected=expected,
    )
