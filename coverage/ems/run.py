"""EMS availability of a region: from an analysis to the share of calls answered in time.

:func:`ems_availability` takes an :class:`~coverage.analysis.result.Analysis` run with
``ems=True`` (its facilities are the stations, its villages the places), builds
the travel times a mission needs on the same network (station → place, place →
nearest hospital, hospital → station, and back), and returns an
:class:`EmsResult`: the fleet, the calls, the closed-form estimates, the
simulated year(s) and the per-village and per-admin-unit tables.

Where the ambulances should go is :mod:`coverage.ems.proposal`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from coverage._errors import InputError
from coverage.analysis.places import Region, read_facilities
from coverage.analysis.result import Analysis
from coverage.ems.analytic import AnalyticEstimates, availability_estimates, mission_seconds
from coverage.ems.calls import DEFAULT_CALLS_PER_1000, CallDemand, demand_from_population, demand_from_records
from coverage.ems.calls import read_call_records as _read_call_records
from coverage.ems.fleet import SORT_COLUMNS, Fleet, fleet_from
from coverage.ems.simulation import Scenario, ServiceTimes, SimulationResult, simulate
from coverage.io.points import read_points
from coverage.network.offroad import with_straight_walks
from coverage.network.routing import nearest_facility, pair_seconds, reach_points
from coverage.network.snapping import Attachment, attach_points

logger = logging.getLogger(__name__)

#: Longest drive kept in the travel-time tables; places farther from every station are not reached.
DEFAULT_CUTOFF_MINUTES = 180.0
DEFAULT_THRESHOLD_MINUTES = 12.0

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- travel times


def _dense(matrix: sp.csr_matrix) -> np.ndarray:
    """A sparse seconds matrix as dense float64 with inf for the pairs not stored."""
    dense = np.full(matrix.shape, np.inf)
    coo = matrix.tocoo()
    dense[coo.row, coo.col] = coo.data
    return dense


def attach(analysis: Analysis, frame: gpd.GeoDataFrame) -> Attachment:
    """The points of ``frame`` attached to the analysis' network with its profile's snapping settings."""
    profile = analysis.profile
    return attach_points(
        analysis.network,
        frame,
        access_speed_kph=profile.access_speed_kph,
        tolerance_m=profile.snap_tolerance_m,
        ids=frame["id"].astype(str).to_numpy(),
    )


def build_scenario(
    analysis: Analysis,
    stations: Attachment,
    ambulances: np.ndarray,
    demand: CallDemand,
    hospitals: Attachment | None,
    *,
    cutoff_minutes: float = DEFAULT_CUTOFF_MINUTES,
) -> Scenario:
    """The simulation's arrays on the analysis' network for one set of stations.

    Station → place and place → station from bounded searches
    (:func:`~coverage.network.routing.pair_seconds`), place → nearest hospital from
    one multi-source search, hospital → station and hospital → place from bounded
    searches.
    """
    network, points = analysis.network, demand.attachment
    # with the straight walks between a station and a place close to it, as the analysis times them
    walks = {
        "speed_kph": analysis.profile.access_speed_kph,
        "tolerance_m": analysis.profile.snap_tolerance_m,
        "cutoff_s": cutoff_minutes * 60.0,
    }
    base_to_point = _dense(
        with_straight_walks(
            pair_seconds(network, stations, points, direction="from_facility", cutoff_minutes=cutoff_minutes),
            stations,
            points,
            **walks,
        )
    ).T.copy()
    point_to_base = _dense(
        with_straight_walks(
            pair_seconds(network, stations, points, direction="to_facility", cutoff_minutes=cutoff_minutes),
            stations,
            points,
            **walks,
        )
    ).T.copy()
    n_points, n_stations = base_to_point.shape
    if hospitals is not None and len(hospitals):
        reach = nearest_facility(network, hospitals, direction="to_facility", limit_s=cutoff_minutes * 60.0)
        to_hospital, hospital = reach_points(network, reach, points)
        hospital_to_base = _dense(
            pair_seconds(network, hospitals, stations, direction="from_facility", cutoff_minutes=cutoff_minutes)
        )
        hospital_to_point = _dense(
            pair_seconds(network, hospitals, points, direction="from_facility", cutoff_minutes=cutoff_minutes)
        ).T.copy()
    else:
        to_hospital, hospital = np.full(n_points, np.inf), np.full(n_points, -1, dtype=np.int64)
        hospital_to_base, hospital_to_point = np.zeros((0, n_stations)), np.zeros((n_points, 0))
    return Scenario(
        ambulances=np.asarray(ambulances, dtype=np.int64),
        base_to_point_s=base_to_point,
        point_to_base_s=point_to_base,
        point_hospital=np.where(np.isfinite(to_hospital), hospital, -1).astype(np.int64),
        point_to_hospital_s=to_hospital,
        hospital_to_base_s=hospital_to_base,
        hospital_to_point_s=hospital_to_point,
        point_share=demand.share,
        calls_per_year=demand.calls_per_year,
        hourly_profile=demand.hourly_profile,
        point_priority=demand.points["priority"].to_numpy(dtype=np.int64),
    )


def estimates_for(scenario: Scenario, service: ServiceTimes, *, threshold_minutes: float) -> AnalyticEstimates:
    """Closed-form estimates of a scenario (its nearest stations with ambulances answering first)."""
    dispatch_s = service.dispatch_minutes * 60.0
    staffed = scenario.ambulances > 0
    times = np.where(staffed[None, :], scenario.base_to_point_s, np.inf)
    nearest = np.where(np.isfinite(times).any(axis=1), times.argmin(axis=1), -1)
    rows = np.arange(scenario.n_points)
    station = np.maximum(nearest, 0)
    hospital = scenario.point_hospital
    back = np.full(scenario.n_points, np.inf)
    has = hospital >= 0
    if has.any():
        back[has] = scenario.hospital_to_base_s[hospital[has], station[has]]
    mission = mission_seconds(
        np.where(nearest >= 0, times[rows, station], np.inf),
        scenario.point_to_base_s[rows, station],
        scenario.point_to_hospital_s,
        back,
        on_scene_s=service.on_scene_minutes * 60.0,
        handover_s=service.handover_minutes * 60.0,
        transport_share=service.transport_share,
    )
    return availability_estimates(
        ambulances=scenario.ambulances,
        base_to_point_s=scenario.base_to_point_s + dispatch_s,
        mission_s=mission,
        nearest_station=nearest,
        calls_per_year=scenario.point_share * scenario.calls_per_year,
        limit_s=threshold_minutes * 60.0,
        groups=station_groups(scenario),
    )


def station_groups(scenario: Scenario) -> np.ndarray:
    """Label per station: stations that reach a common place (directly or through others) share a label."""
    from scipy.sparse.csgraph import connected_components

    reach = sp.csr_matrix(np.isfinite(scenario.base_to_point_s))  # points x stations
    n_points = reach.shape[0]
    graph = sp.bmat([[None, reach], [reach.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    return labels[n_points:].astype(np.int64)


# --------------------------------------------------------------------------- inputs


def _hospitals(
    analysis: Analysis, hospitals: str | os.PathLike[str] | gpd.GeoDataFrame | None, datum: str
) -> gpd.GeoDataFrame:
    """Where patients are taken: the given file, else the hospitals among the analysis' facilities or its source."""
    if isinstance(hospitals, gpd.GeoDataFrame):
        return hospitals.to_crs(4326).reset_index(drop=True)
    if hospitals is not None:
        return read_points(hospitals, datum=datum, what="hospitals")
    known = analysis.facilities[analysis.facilities["kind"] == "hospital"]
    if len(known):
        return known.reset_index(drop=True)
    source = analysis.inputs.get("facilities", {}).get("path")
    network_path = analysis.inputs.get("network", {}).get("path")
    if network_path is None:
        return known
    # the whole network's hospitals: a patient may be taken across the region's border
    facilities = read_facilities(
        source, osm=Path(network_path), region=Region(), datum=datum, extent=analysis.network.extent_lonlat()
    )
    return facilities[facilities["kind"] == "hospital"].reset_index(drop=True)


def call_demand(
    analysis: Analysis,
    *,
    calls_per_1000: float = DEFAULT_CALLS_PER_1000,
    call_records: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    call_records_years: float | None = None,
    datum: str = "wgs84",
) -> CallDemand:
    """The calls of a region: from its villages' population, or from call records snapped like villages."""
    if call_records is None:
        villages = analysis.villages
        known = analysis.attachments.get("villages")
        attachment = (
            dataclasses.replace(known, ids=villages["id"].astype(str).to_numpy())
            if known is not None and len(known) == len(villages)
            else attach(analysis, villages)
        )
        return demand_from_population(villages, attachment, calls_per_1000=calls_per_1000)
    records = (
        call_records if isinstance(call_records, gpd.GeoDataFrame) else _read_call_records(call_records, datum=datum)
    )
    profile = analysis.profile
    return demand_from_records(
        records,
        analysis.network,
        access_speed_kph=profile.access_speed_kph,
        tolerance_m=profile.snap_tolerance_m,
        villages=analysis.villages,
        zones=analysis.zones,
        years=call_records_years,
    )


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class EmsResult:
    """EMS availability of a region.

    Attributes
    ----------
    region : str
    fleet : Fleet
    demand : CallDemand
    service : ServiceTimes
    threshold_minutes : float
    scenario : Scenario
        The arrays the simulation ran on.
    estimates : AnalyticEstimates
    simulation : SimulationResult or None
        None when no simulation was asked for (``replications=0``).
    villages : geopandas.GeoDataFrame
        Per village: ``calls_per_year``, ``minutes`` (nearest station with
        ambulances), ``ambulances_within``, ``expected_coverage`` (MEXCLP),
        ``simulated_calls``, ``in_time_share``, ``waited_share``,
        ``mean_response_minutes``, and ``timely_probability``: the simulated share
        when the village had calls, else the MEXCLP estimate.
    zones : pandas.DataFrame
        Per admin unit: calls, calls in time, in-time share, expected share.
    stations : geopandas.GeoDataFrame
        Per station: ambulances, busy fraction (alone), free probability (alone),
        simulated utilisation and missions.
    hospitals : geopandas.GeoDataFrame
    attribution : str
    """

    region: str
    fleet: Fleet
    demand: CallDemand
    service: ServiceTimes
    threshold_minutes: float
    scenario: Scenario
    estimates: AnalyticEstimates
    simulation: SimulationResult | None
    villages: gpd.GeoDataFrame
    zones: pd.DataFrame
    stations: gpd.GeoDataFrame
    hospitals: gpd.GeoDataFrame
    attribution: str

    def figure(self, name: str) -> float | None:
        """A simulated figure's mean (``in_time_share``, ``dispatched_without_wait_share``...), None without simulation."""
        if self.simulation is None or name not in self.simulation.figures:
            return None
        return self.simulation.figures[name].mean

    def target_figures(self) -> dict[str, Any]:
        """The figures availability targets are judged on (plain values for the standards stage)."""
        figures: dict[str, Any] = {
            "threshold_minutes": self.threshold_minutes,
            "substituted": self.fleet.substituted,
            "assumed": self.fleet.assumed,
        }
        if self.simulation is not None:
            figures.update({name: value.mean for name, value in self.simulation.figures.items()})
        return figures

    def summary(self) -> dict[str, Any]:
        """Headline figures (JSON-ready)."""
        return {
            "region": self.region,
            "threshold_minutes": self.threshold_minutes,
            "fleet": self.fleet.as_dict(),
            "calls": {
                "per_year": self.demand.calls_per_year,
                "source": self.demand.source,
                "demand_points": len(self.demand.points),
                "demand_points_off_network": int(self.demand.attachment.off_network.sum()),
                "demand_points_unreached": int((~np.isfinite(self.scenario.base_to_point_s).any(axis=1)).sum()),
                "hourly_profile": [round(float(v), 5) for v in self.demand.hourly_profile],
            },
            "service": dataclasses.asdict(self.service),
            "hospitals": len(self.hospitals),
            "estimates": self.estimates.as_dict(),
            "simulation": None if self.simulation is None else self.simulation.as_dict(),
            "zones": self.zones.to_dict(orient="records"),
            "attribution": self.attribution,
        }


def _village_table(
    analysis: Analysis,
    demand: CallDemand,
    scenario: Scenario,
    estimates: AnalyticEstimates,
    simulation: SimulationResult | None,
    service: ServiceTimes,
    threshold_minutes: float,
    stations: Attachment,
    cutoff_minutes: float,
) -> gpd.GeoDataFrame:
    villages = analysis.villages
    dispatch_s = service.dispatch_minutes * 60.0
    by_village = demand.points["village_id"].astype(str).to_numpy()
    same_points = len(demand.points) == len(villages) and np.array_equal(by_village, villages["id"].astype(str))
    if same_points:
        base = scenario.base_to_point_s
    else:
        village_att = attach(analysis, villages)
        base = _dense(
            pair_seconds(
                analysis.network, stations, village_att, direction="from_facility", cutoff_minutes=cutoff_minutes
            )
        ).T
    staffed = np.where((scenario.ambulances > 0)[None, :], base + dispatch_s, np.inf)
    within = np.asarray((staffed <= threshold_minutes * 60.0) @ scenario.ambulances, dtype=np.float64)
    q = min(estimates.busy_fraction, 1.0)
    table = pd.DataFrame(
        {
            "id": villages["id"].astype(str).to_numpy(),
            "name": villages["name"].astype(str).to_numpy(),
            "zone": villages["zone"].to_numpy(),
            "population": pd.to_numeric(villages["population"], errors="coerce").to_numpy(),
            "minutes": np.where(
                np.isfinite(staffed.min(axis=1, initial=np.inf)), staffed.min(axis=1, initial=np.inf) / 60.0, np.nan
            ),
            "ambulances_within": within.astype(np.int64),
            "expected_coverage": np.where(within > 0, 1.0 - np.power(q, within), 0.0),
        }
    )
    calls = demand.points.groupby(by_village)["calls_per_year"].sum()
    table["calls_per_year"] = table["id"].map(calls).fillna(0.0).to_numpy()
    if simulation is not None:
        points = simulation.points.assign(village_id=by_village)
        points["response_total"] = points["mean_response_minutes"].fillna(0.0) * (points["calls"])
        grouped = points.groupby("village_id")[["calls", "in_time", "waited", "response_total"]].sum()
        sim = grouped.reindex(table["id"]).fillna(0.0)
        n = sim["calls"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            table["simulated_calls"] = n.astype(np.int64)
            table["in_time_share"] = np.where(n > 0, sim["in_time"].to_numpy() / n, np.nan)
            table["waited_share"] = np.where(n > 0, sim["waited"].to_numpy() / n, np.nan)
            table["mean_response_minutes"] = np.where(n > 0, sim["response_total"].to_numpy() / n, np.nan)
        table["timely_probability"] = np.where(n > 0, table["in_time_share"], table["expected_coverage"])
    else:
        table["timely_probability"] = table["expected_coverage"]
    return gpd.GeoDataFrame(table, geometry=villages.geometry.to_numpy(), crs=4326)


def _zone_table(demand: CallDemand, estimates: AnalyticEstimates, simulation: SimulationResult | None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "zone": demand.points["zone"].fillna("").astype(str).replace("", "(outside every zone)").to_numpy(),
            "calls_per_year": demand.points["calls_per_year"].to_numpy(),
            "expected": demand.points["calls_per_year"].to_numpy() * estimates.point_expected,
        }
    )
    if simulation is not None:
        frame["simulated_calls"] = simulation.points["calls"].to_numpy()
        frame["in_time"] = simulation.points["in_time"].to_numpy()
        frame["waited"] = simulation.points["waited"].to_numpy()
    table = frame.groupby("zone", as_index=False).sum()
    table["expected_share"] = table["expected"] / table["calls_per_year"].where(table["calls_per_year"] > 0)
    if simulation is not None:
        calls = table["simulated_calls"].where(table["simulated_calls"] > 0)
        table["in_time_share"] = table["in_time"] / calls
        table["waited_share"] = table["waited"] / calls
    return table.drop(columns=["expected"])


def _station_table(fleet: Fleet, estimates: AnalyticEstimates, simulation: SimulationResult | None) -> gpd.GeoDataFrame:
    table = fleet.stations.copy()
    table["busy_fraction_alone"] = estimates.station_busy
    table["free_probability_alone"] = estimates.station_free_probability
    if simulation is not None:
        table["utilisation"] = simulation.stations["utilisation"].to_numpy()
        table["missions_per_year"] = simulation.stations["missions"].to_numpy()
    return table


def ems_availability(
    analysis: Analysis,
    *,
    threshold_minutes: float = DEFAULT_THRESHOLD_MINUTES,
    default_ambulances: int = 1,
    ambulances: np.ndarray | None = None,
    calls_per_1000: float = DEFAULT_CALLS_PER_1000,
    call_records: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    call_records_years: float | None = None,
    hospitals: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    service: ServiceTimes | None = None,
    replications: int = 10,
    seed: int = 0,
    days: float = 365.0,
    when_busy: str = "queue",
    cutoff_minutes: float = DEFAULT_CUTOFF_MINUTES,
    datum: str = "wgs84",
    progress: Progress | None = None,
) -> EmsResult:
    """EMS availability of an analysed region: estimates and a simulated year of calls.

    Parameters
    ----------
    analysis : Analysis
        From ``analyze(..., ems=True)``: its facilities are the stations (an
        ``ambulances`` column gives their fleets), its villages the places.
    threshold_minutes : float
        A call is in time when an ambulance is there within this many minutes.
    default_ambulances : int
        Ambulances per station when the station file has no ``ambulances`` column.
    ambulances : numpy.ndarray, optional
        Ambulances per station, replacing the file's (e.g. a proposed allocation).
    calls_per_1000 : float
        Calls per 1,000 residents a year (without call records).
    call_records : path or GeoDataFrame, optional
        Past calls (time, lon/lat, optional priority); they replace the population-based calls.
    call_records_years : float, optional
        The period the records cover (default: their span).
    hospitals : path or GeoDataFrame, optional
        Where patients are taken (nearest by road); default the region's hospitals.
    service : ServiceTimes, optional
        On-scene, hand-over, transport share, dispatch minutes.
    replications : int
        Simulated years (0: estimates only).
    seed : int
        The same seed reproduces the run.
    days : float
        Length of each simulated run.
    when_busy : {"queue", "lost"}
        Calls finding no free ambulance wait, or are handed to outside help.
    cutoff_minutes : float
        Longest drive kept in the travel-time tables.
    datum : str
        Datum of the call-record and hospital files.
    progress : callable, optional
        Called with a short label as each step starts.

    Returns
    -------
    EmsResult
    """
    step = progress or (lambda label: None)
    service = service or ServiceTimes()
    if not (np.isfinite(threshold_minutes) and 0 < threshold_minutes <= cutoff_minutes):
        msg = f"threshold_minutes must be above 0 and at most cutoff_minutes ({cutoff_minutes:g}), got {threshold_minutes!r}"
        raise InputError(msg)
    step("fleet")
    source = analysis.inputs.get("facilities", analysis.inputs.get("network", {"path": "the stations"}))
    label = Path(source["path"]).name
    fleet = fleet_from(analysis.facilities, default_ambulances=default_ambulances, label=label)
    if ambulances is not None:
        counts = np.asarray(ambulances, dtype=np.int64)
        if counts.shape != (len(fleet.stations),) or (counts < 0).any():
            msg = f"ambulances must give a whole number >= 0 for each of the {len(fleet.stations)} stations"
            raise InputError(msg)
        # which ambulances of a sort move where is not known: the sorts' counts are left out
        stations = fleet.stations.assign(ambulances=counts).drop(columns=list(SORT_COLUMNS), errors="ignore")
        fleet = dataclasses.replace(fleet, stations=stations, counts_source="given allocation", assumed=False)
    step("calls")
    demand = call_demand(
        analysis,
        calls_per_1000=calls_per_1000,
        call_records=call_records,
        call_records_years=call_records_years,
        datum=datum,
    )
    step("travel times")
    hospital_frame = _hospitals(analysis, hospitals, datum)
    if hospital_frame.empty and service.transport_share > 0:
        logger.warning("no hospitals in the region: patients are treated on scene (no transport legs)")
    station_att = _station_attachment(analysis, fleet)
    hospital_att = attach(analysis, hospital_frame) if len(hospital_frame) else None
    scenario = build_scenario(
        analysis, station_att, fleet.ambulances, demand, hospital_att, cutoff_minutes=cutoff_minutes
    )
    unreached = ~np.isfinite(scenario.base_to_point_s).any(axis=1)
    if unreached.any():
        logger.warning(
            "%d of %d demand points (%.1f calls a year) are beyond %g min of every station: their calls are not reached",
            int(unreached.sum()),
            len(unreached),
            float(demand.points["calls_per_year"].to_numpy()[unreached].sum()),
            cutoff_minutes,
        )
    step("estimates")
    estimates = estimates_for(scenario, service, threshold_minutes=threshold_minutes)
    simulation = None
    if replications:
        step("simulation")
        simulation = simulate(
            scenario,
            service,
            threshold_minutes=threshold_minutes,
            replications=replications,
            seed=seed,
            days=days,
            when_busy=when_busy,
        )
    villages = _village_table(
        analysis, demand, scenario, estimates, simulation, service, threshold_minutes, station_att, cutoff_minutes
    )
    return EmsResult(
        region=analysis.region,
        fleet=fleet,
        demand=demand,
        service=service,
        threshold_minutes=float(threshold_minutes),
        scenario=scenario,
        estimates=estimates,
        simulation=simulation,
        villages=villages,
        zones=_zone_table(demand, estimates, simulation),
        stations=_station_table(fleet, estimates, simulation),
        hospitals=hospital_frame,
        attribution=analysis.attribution,
    )


def _station_attachment(analysis: Analysis, fleet: Fleet) -> Attachment:
    known = analysis.attachments.get("facilities")
    if known is not None and len(known) == len(fleet.stations):
        return dataclasses.replace(known, ids=fleet.stations["id"].astype(str).to_numpy())
    return attach(analysis, fleet.stations)
