"""A discrete-event simulation of a year of EMS calls, on SimPy.

Calls arrive as a Poisson process whose rate follows the hour of the day; each
is placed at one of the demand points drawn by its share of the calls. The
nearest free ambulance (by travel time from its station) is sent; when none that
can reach the place is free, the call waits in a queue (or, with
``when_busy="lost"``, is handed to outside help and counted as not served). A
mission is: drive to the place, on-scene time, then either take the patient to
the place's nearest hospital and hand over, or drive back; an ambulance that
becomes free takes the oldest waiting call it can reach (from the hospital, or
from its station), else it returns to its station and is free again there.

Everything is plain arrays (:class:`Scenario`), so the model is checked without
geography against queueing formulas: with one station, Poisson calls and
exponential service, the share of calls lost equals Erlang's loss formula, the
share that wait Erlang's C formula, and the busy fraction ``λ·E[S]/N``.

A run is reproducible: the same seed gives the same calls and the same figures.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import simpy
from scipy import stats

from coverage._errors import InputError

logger = logging.getLogger(__name__)

HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600.0
DISTRIBUTIONS: tuple[str, ...] = ("fixed", "exponential", "lognormal")
WHEN_BUSY: tuple[str, ...] = ("queue", "lost")


@dataclass(frozen=True)
class ServiceTimes:
    """The non-driving parts of a mission, as data a planner sets for the service.

    Attributes
    ----------
    on_scene_minutes : float
        Mean time at the scene (assessment, treatment, loading).
    handover_minutes : float
        Mean time at the hospital handing the patient over.
    transport_share : float
        Share of calls whose patient is taken to hospital (the rest are treated on scene).
    dispatch_minutes : float
        Fixed call-taking and turnout time added to every response (0: the
        response time is the driving time, as in the plans' emergency circles).
    distribution : {"lognormal", "exponential", "fixed"}
        How on-scene and hand-over times vary around their means.
    cv : float
        Coefficient of variation of the lognormal times.
    """

    on_scene_minutes: float = 15.0
    handover_minutes: float = 15.0
    transport_share: float = 1.0
    dispatch_minutes: float = 0.0
    distribution: str = "lognormal"
    cv: float = 0.5

    def __post_init__(self) -> None:
        for name in ("on_scene_minutes", "handover_minutes", "dispatch_minutes"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                msg = f"{name} must be a number of minutes >= 0, got {value!r}"
                raise InputError(msg)
        if not 0.0 <= self.transport_share <= 1.0:
            msg = f"transport_share must be a share from 0 to 1 (75% is 0.75), got {self.transport_share!r}"
            raise InputError(msg)
        if self.distribution not in DISTRIBUTIONS:
            msg = f"distribution must be one of {DISTRIBUTIONS}, got {self.distribution!r}"
            raise InputError(msg)
        if not (math.isfinite(self.cv) and self.cv > 0):
            msg = f"cv must be a positive number, got {self.cv!r}"
            raise InputError(msg)

    def sample_s(self, rng: np.random.Generator, mean_minutes: float, size: int) -> np.ndarray:
        """``size`` durations in seconds around ``mean_minutes``."""
        mean_s = mean_minutes * 60.0
        if mean_s == 0 or self.distribution == "fixed":
            return np.full(size, mean_s)
        if self.distribution == "exponential":
            return rng.exponential(mean_s, size)
        sigma2 = math.log1p(self.cv**2)
        return rng.lognormal(math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2), size)


@dataclass(frozen=True)
class Scenario:
    """Stations, ambulances, demand points and the travel times between them, as arrays.

    Attributes
    ----------
    ambulances : numpy.ndarray
        int, ambulances based at each station.
    base_to_point_s : numpy.ndarray
        float64 points x stations: seconds from each station to each point (inf: not reached).
    point_to_base_s : numpy.ndarray
        float64 points x stations: seconds back from each point to each station.
    point_hospital : numpy.ndarray
        int, the hospital each point's patients are taken to (-1: none reachable).
    point_to_hospital_s : numpy.ndarray
        float64 seconds from each point to that hospital.
    hospital_to_base_s : numpy.ndarray
        float64 hospitals x stations.
    hospital_to_point_s : numpy.ndarray
        float64 points x hospitals: seconds from a hospital to a waiting call's place.
    point_share : numpy.ndarray
        Share of the calls at each point (sums to 1).
    calls_per_year : float
        Mean number of calls in a year.
    hourly_profile : numpy.ndarray
        24 shares of the day's calls by hour of day (sums to 1).
    point_priority : numpy.ndarray, optional
        int priority of the calls at each point (1 most urgent); waiting calls are
        taken most urgent first, then oldest first.
    """

    ambulances: np.ndarray
    base_to_point_s: np.ndarray
    point_to_base_s: np.ndarray
    point_hospital: np.ndarray
    point_to_hospital_s: np.ndarray
    hospital_to_base_s: np.ndarray
    hospital_to_point_s: np.ndarray
    point_share: np.ndarray
    calls_per_year: float
    hourly_profile: np.ndarray = field(default_factory=lambda: np.full(HOURS_PER_DAY, 1.0 / HOURS_PER_DAY))
    point_priority: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return int(self.base_to_point_s.shape[0])

    @property
    def n_stations(self) -> int:
        return int(self.base_to_point_s.shape[1])

    def with_ambulances(self, ambulances: np.ndarray) -> Scenario:
        """The same scenario with another fleet (e.g. a proposed allocation)."""
        from dataclasses import replace

        return replace(self, ambulances=np.asarray(ambulances, dtype=np.int64))


@dataclass(frozen=True)
class CallLog:
    """Every call of one simulated run.

    Attributes
    ----------
    arrival_s, point, response_s, waited, lost, station : numpy.ndarray
        Per call: arrival time, demand point, seconds from the call to the
        ambulance at the place (NaN when none came), whether it waited for an
        ambulance, whether it was lost (``when_busy="lost"``), the station of the
        ambulance sent (-1 none).
    busy_s : numpy.ndarray
        Seconds the ambulances of each station spent on missions (summed over them).
    horizon_s : float
    """

    arrival_s: np.ndarray
    point: np.ndarray
    response_s: np.ndarray
    waited: np.ndarray
    lost: np.ndarray
    station: np.ndarray
    busy_s: np.ndarray
    horizon_s: float


def call_arrivals(scenario: Scenario, rng: np.random.Generator, *, days: float) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times (seconds) and demand points of the calls of ``days`` days: Poisson by hour of day."""
    hours = math.ceil(days * HOURS_PER_DAY)
    profile = np.asarray(scenario.hourly_profile, dtype=np.float64)
    rate = scenario.calls_per_year / 365.0 * profile[np.arange(hours) % HOURS_PER_DAY]
    # the last hour may be partial
    rate[-1] *= days * HOURS_PER_DAY - (hours - 1)
    counts = rng.poisson(rate)
    start = np.repeat(np.arange(hours, dtype=np.float64), counts)
    width = np.repeat(np.where(np.arange(hours) == hours - 1, days * HOURS_PER_DAY - (hours - 1), 1.0), counts)
    arrivals = np.sort((start + rng.random(len(start)) * width) * SECONDS_PER_HOUR)
    points = rng.choice(scenario.n_points, size=len(arrivals), p=scenario.point_share)
    return arrivals, points


def _check_scenario(scenario: Scenario) -> None:
    n_points, n_stations = scenario.base_to_point_s.shape
    ambulances = np.asarray(scenario.ambulances)
    if ambulances.shape != (n_stations,) or (ambulances < 0).any():
        msg = f"ambulances must be {n_stations} whole numbers >= 0 (one per station), got {ambulances!r}"
        raise InputError(msg)
    if scenario.point_to_base_s.shape != (n_points, n_stations):
        msg = "point_to_base_s must have the shape of base_to_point_s (points x stations)"
        raise InputError(msg)
    share = np.asarray(scenario.point_share)
    if share.shape != (n_points,) or not np.isclose(share.sum(), 1.0) or (share < 0).any():
        msg = "point_share must be one share >= 0 per demand point, summing to 1"
        raise InputError(msg)
    profile = np.asarray(scenario.hourly_profile)
    if profile.shape != (HOURS_PER_DAY,) or not np.isclose(profile.sum(), 1.0) or (profile < 0).any():
        msg = "hourly_profile must be 24 shares >= 0 summing to 1"
        raise InputError(msg)
    if not (math.isfinite(scenario.calls_per_year) and scenario.calls_per_year >= 0):
        msg = f"calls_per_year must be a number >= 0, got {scenario.calls_per_year!r}"
        raise InputError(msg)


def simulate_once(
    scenario: Scenario,
    service: ServiceTimes,
    *,
    seed: int | np.random.SeedSequence | None = 0,
    days: float = 365.0,
    when_busy: str = "queue",
) -> CallLog:
    """Simulate ``days`` days of calls once.

    Parameters
    ----------
    scenario : Scenario
    service : ServiceTimes
    seed : int or numpy.random.SeedSequence
        The same seed gives the same run.
    days : float
        Length of the run.
    when_busy : {"queue", "lost"}
        A call that finds no free ambulance able to reach it waits for one, or is
        lost (handed to outside help; Erlang's loss system).

    Returns
    -------
    CallLog
    """
    if when_busy not in WHEN_BUSY:
        msg = f"when_busy must be one of {WHEN_BUSY}, got {when_busy!r}"
        raise InputError(msg)
    if not (math.isfinite(days) and days > 0):
        msg = f"days must be a positive number, got {days!r}"
        raise InputError(msg)
    _check_scenario(scenario)
    rng = np.random.default_rng(seed)
    arrivals, points = call_arrivals(scenario, rng, days=days)
    n = len(arrivals)
    scene_s = service.sample_s(rng, service.on_scene_minutes, n)
    handover_s = service.sample_s(rng, service.handover_minutes, n)
    transport = rng.random(n) < service.transport_share
    return _Run(scenario, arrivals, points, scene_s, handover_s, transport, when_busy, days).log()


class _Run:
    """One run's state: SimPy environment, free ambulances per station, the queue of waiting calls."""

    def __init__(
        self,
        scenario: Scenario,
        arrivals: np.ndarray,
        points: np.ndarray,
        scene_s: np.ndarray,
        handover_s: np.ndarray,
        transport: np.ndarray,
        when_busy: str,
        days: float,
    ) -> None:
        self.s = scenario
        self.env = simpy.Environment()
        self.arrivals, self.points = arrivals, points
        self.scene_s, self.handover_s, self.transport = scene_s, handover_s, transport
        self.when_busy = when_busy
        self.horizon_s = days * HOURS_PER_DAY * SECONDS_PER_HOUR
        n = len(arrivals)
        self.response_s = np.full(n, np.nan)
        self.waited = np.zeros(n, dtype=bool)
        self.lost = np.zeros(n, dtype=bool)
        self.station = np.full(n, -1, dtype=np.int64)
        self.busy_s = np.zeros(scenario.n_stations)
        self.idle = np.asarray(scenario.ambulances, dtype=np.int64).copy()
        self.reachable = np.isfinite(scenario.base_to_point_s).any(axis=1)
        priority = scenario.point_priority
        self.priority = (
            np.ones(scenario.n_points, dtype=np.int64) if priority is None else np.asarray(priority, dtype=np.int64)
        )
        # places reached from the same stations and hospitals form a group: an ambulance reaches every
        # waiting call of a group or none, so a free one looks at each group's oldest call only
        reach = np.concatenate(
            [np.isfinite(scenario.base_to_point_s), np.isfinite(scenario.hospital_to_point_s)], axis=1
        )
        self.group = np.unique(reach, axis=0, return_inverse=True)[1].reshape(-1)
        #: waiting calls, oldest first, by (priority, group)
        self.waiting: dict[tuple[int, int], deque[int]] = {}
        self.env.process(self._calls())

    def log(self) -> CallLog:
        # missions still running at the end of the year finish (their responses count)
        self.env.run()
        # calls still waiting had no ambulance able to reach them (e.g. their stations have none)
        for queue in self.waiting.values():
            self.waited[list(queue)] = True
        return CallLog(
            arrival_s=self.arrivals,
            point=self.points,
            response_s=self.response_s,
            waited=self.waited,
            lost=self.lost,
            station=self.station,
            busy_s=self.busy_s,
            horizon_s=self.horizon_s,
        )

    def _calls(self) -> Any:
        env, base = self.env, self.s.base_to_point_s
        now = 0.0
        for call in range(len(self.arrivals)):
            yield env.timeout(self.arrivals[call] - now)
            now = self.arrivals[call]
            point = self.points[call]
            if not self.reachable[point]:
                continue  # no station reaches the place: counted as not reached
            times = np.where(self.idle > 0, base[point], np.inf)
            station = int(times.argmin())
            if np.isfinite(times[station]):
                self.idle[station] -= 1
                env.process(self._mission(station, call, float(times[station])))
            elif self.when_busy == "lost":
                self.lost[call] = True
            else:
                key = (int(self.priority[point]), int(self.group[point]))
                self.waiting.setdefault(key, deque()).append(call)

    def _next_waiting(self, seconds_to: Callable[[int], float]) -> tuple[int, float] | None:
        """The most urgent, then oldest, waiting call this ambulance can reach, and its driving time."""
        best: tuple[int, int] | None = None  # (priority, call): calls are numbered in the order they came
        chosen: deque[int] | None = None
        for (priority, _), queue in self.waiting.items():
            if (
                queue
                and (best is None or (priority, queue[0]) < best)
                and np.isfinite(seconds_to(self.points[queue[0]]))
            ):
                best, chosen = (priority, queue[0]), queue
        if chosen is None:
            return None
        call = chosen.popleft()
        self.waited[call] = True
        return call, seconds_to(self.points[call])

    def _mission(self, station: int, call: int, leg_s: float) -> Any:
        env, s = self.env, self.s
        started = env.now
        while True:
            self.station[call] = station
            yield env.timeout(leg_s)
            self.response_s[call] = env.now - self.arrivals[call]
            yield env.timeout(self.scene_s[call])
            point = self.points[call]
            hospital = int(s.point_hospital[point])
            nxt = None
            if self.transport[call] and hospital >= 0:
                yield env.timeout(s.point_to_hospital_s[point] + self.handover_s[call])
                nxt = self._next_waiting(partial(_from_hospital, s, hospital))
                if nxt is None:
                    yield env.timeout(s.hospital_to_base_s[hospital, station])
            else:
                yield env.timeout(s.point_to_base_s[point, station])
            if nxt is None:
                nxt = self._next_waiting(partial(_from_station, s, station))
            if nxt is None:
                break
            call, leg_s = nxt
        self.idle[station] += 1
        self.busy_s[station] += env.now - started


def _from_hospital(scenario: Scenario, hospital: int, point: int) -> float:
    return float(scenario.hospital_to_point_s[point, hospital])


def _from_station(scenario: Scenario, station: int, point: int) -> float:
    return float(scenario.base_to_point_s[point, station])


# --------------------------------------------------------------------------- replications


@dataclass(frozen=True)
class Estimate:
    """A figure over replications: mean and 95% confidence interval (Student's t)."""

    mean: float
    low: float
    high: float
    replications: int

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "ci_low": self.low, "ci_high": self.high, "replications": self.replications}


def estimate(values: np.ndarray) -> Estimate:
    """Mean and 95% confidence interval of independent replications' values (NaNs left out)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(v.mean())
    if len(v) < 2:
        return Estimate(mean, math.nan, math.nan, len(v))
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return Estimate(mean, mean - half, mean + half, len(v))


@dataclass(frozen=True)
class SimulationResult:
    """Figures of a simulation over its replications.

    Attributes
    ----------
    figures : dict of Estimate
        ``in_time_share`` (calls reached within the threshold; calls lost or never
        reached count as not in time), ``mean_response_minutes``,
        ``p90_response_minutes`` (of the calls reached), ``waited_share`` (calls that
        waited for an ambulance), ``dispatched_without_wait_share`` (the call
        satisfaction figure), ``lost_share``, ``unreached_share`` (no station
        reaches the place), ``utilisation`` (ambulance busy time over the run), ``calls``.
    points : pandas.DataFrame
        Per demand point, pooled over replications: ``calls``, ``in_time``, ``waited``,
        ``in_time_share``, ``mean_response_minutes``.
    stations : pandas.DataFrame
        Per station: ``ambulances``, ``utilisation`` (mean over replications), ``missions``.
    threshold_minutes : float
    seed : int
    days : float
    when_busy : str
    """

    figures: dict[str, Estimate]
    points: pd.DataFrame
    stations: pd.DataFrame
    threshold_minutes: float
    seed: int
    days: float
    when_busy: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold_minutes": self.threshold_minutes,
            "seed": self.seed,
            "days": self.days,
            "when_busy": self.when_busy,
            "figures": {name: value.as_dict() for name, value in self.figures.items()},
        }


def _replication_figures(log: CallLog, scenario: Scenario, limit_s: float, dispatch_s: float) -> dict[str, float]:
    n = len(log.arrival_s)
    response = log.response_s + dispatch_s
    reached = np.isfinite(response)
    ambulance_s = float(np.sum(scenario.ambulances)) * log.horizon_s
    return {
        "calls": float(n),
        "in_time_share": float((response <= limit_s).sum() / n) if n else math.nan,
        "mean_response_minutes": float(response[reached].mean() / 60.0) if reached.any() else math.nan,
        "p90_response_minutes": float(np.quantile(response[reached], 0.9) / 60.0) if reached.any() else math.nan,
        "waited_share": float(log.waited.mean()) if n else math.nan,
        "dispatched_without_wait_share": float((reached & ~log.waited).sum() / n) if n else math.nan,
        "lost_share": float(log.lost.mean()) if n else math.nan,
        "unreached_share": float((~reached & ~log.lost).sum() / n) if n else math.nan,
        "utilisation": float(log.busy_s.sum() / ambulance_s) if ambulance_s else math.nan,
    }


def simulate(
    scenario: Scenario,
    service: ServiceTimes,
    *,
    threshold_minutes: float,
    replications: int = 10,
    seed: int = 0,
    days: float = 365.0,
    when_busy: str = "queue",
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate ``replications`` independent runs of ``days`` days and summarise them.

    Parameters
    ----------
    scenario : Scenario
    service : ServiceTimes
    threshold_minutes : float
        A call is in time when the ambulance is at the place within this many minutes
        of the call (``<=``, dispatch minutes included).
    replications : int
        Independent runs; their spread gives the confidence intervals.
    seed : int
        Seed of the whole simulation: each replication gets its own stream from it.
    days : float
    when_busy : {"queue", "lost"}
    progress : callable, optional
        Called with (replications done, replications) after each.

    Returns
    -------
    SimulationResult
    """
    if isinstance(replications, bool) or int(replications) != replications or replications < 1:
        msg = f"replications must be a whole number >= 1, got {replications!r}"
        raise InputError(msg)
    if not (math.isfinite(threshold_minutes) and threshold_minutes > 0):
        msg = f"threshold_minutes must be a positive number, got {threshold_minutes!r}"
        raise InputError(msg)
    limit_s = threshold_minutes * 60.0
    dispatch_s = service.dispatch_minutes * 60.0
    n_points, n_stations = scenario.n_points, scenario.n_stations
    calls = np.zeros(n_points)
    in_time = np.zeros(n_points)
    waited = np.zeros(n_points)
    response_sum = np.zeros(n_points)
    reached_calls = np.zeros(n_points)
    missions = np.zeros(n_stations)
    busy_s = np.zeros(n_stations)
    horizon_s = days * HOURS_PER_DAY * SECONDS_PER_HOUR
    rows = []
    for index, stream in enumerate(np.random.SeedSequence(seed).spawn(int(replications))):
        log = simulate_once(scenario, service, seed=stream, days=days, when_busy=when_busy)
        rows.append(_replication_figures(log, scenario, limit_s, dispatch_s))
        response = log.response_s + dispatch_s
        reached = np.isfinite(response)
        calls += np.bincount(log.point, minlength=n_points)
        in_time += np.bincount(log.point, weights=response <= limit_s, minlength=n_points)
        waited += np.bincount(log.point, weights=log.waited, minlength=n_points)
        reached_calls += np.bincount(log.point, weights=reached, minlength=n_points)
        response_sum += np.bincount(log.point[reached], weights=response[reached], minlength=n_points)
        sent = log.station >= 0
        missions += np.bincount(log.station[sent], minlength=n_stations)
        busy_s += log.busy_s
        if progress is not None:
            progress(index + 1, int(replications))
    table = pd.DataFrame(rows)
    figures = {name: estimate(table[name].to_numpy()) for name in table.columns}
    with np.errstate(invalid="ignore", divide="ignore"):
        points = pd.DataFrame(
            {
                "calls": calls,
                "in_time": in_time,
                "waited": waited,
                "in_time_share": np.where(calls > 0, in_time / calls, np.nan),
                "mean_response_minutes": np.where(reached_calls > 0, response_sum / reached_calls / 60.0, np.nan),
            }
        )
        ambulances = np.asarray(scenario.ambulances, dtype=np.float64)
        stations = pd.DataFrame(
            {
                "ambulances": np.asarray(scenario.ambulances),
                "utilisation": np.where(ambulances > 0, busy_s / (ambulances * horizon_s * replications), np.nan),
                "missions": missions / replications,
            }
        )
    logger.info(
        "simulated %d x %g days: %.1f%% of calls within %g min, %.1f%% waited, utilisation %.1f%%",
        replications,
        days,
        100 * figures["in_time_share"].mean,
        threshold_minutes,
        100 * figures["waited_share"].mean,
        100 * figures["utilisation"].mean,
    )
    return SimulationResult(
        figures=figures,
        points=points,
        stations=stations,
        threshold_minutes=float(threshold_minutes),
        seed=int(seed),
        days=float(days),
        when_busy=when_busy,
    )
