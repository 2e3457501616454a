"""Where and when EMS calls come from: population times a call rate, or a file of call records.

Two sources of demand:

- :func:`demand_from_population`: each village (or raster cell) generates
  ``population × calls_per_1000 / 1000`` calls a year, spread evenly over the hours
  of the day. The default rate, :data:`DEFAULT_CALLS_PER_1000`, is Beijing's
  pre-hospital EMS demand (see :data:`CALL_RATE_SOURCE`); set your service's own.
- :func:`read_call_records` and :func:`demand_from_records`: a CSV (or any point
  file) of past calls with a time, lon/lat and optional priority. Its calls are
  snapped to the roads like villages; the yearly volume comes from the period the
  records span, and the hour-of-day profile from their times.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import InputError
from coverage.io.points import read_points
from coverage.network.prepared import Network
from coverage.network.snapping import Attachment, attach_points

logger = logging.getLogger(__name__)

#: Calls per 1,000 residents per year used when the run gives no rate.
DEFAULT_CALLS_PER_1000 = 21.7
#: Where :data:`DEFAULT_CALLS_PER_1000` comes from.
CALL_RATE_SOURCE = (
    "Beijing pre-hospital EMS demand of 2,172 cases per 100,000 residents in 2017 (Huang W. et al., "
    "Trends and characteristics in pre-hospital emergency care in Beijing from 2008 to 2017, "
    "Chinese Medical Journal 2020;133(11):1268-1275, doi:10.1097/CM9.0000000000000770)"
)
TIME_COLUMNS: tuple[str, ...] = ("time", "datetime", "call_time", "呼叫时间", "时间")
PRIORITY_COLUMNS: tuple[str, ...] = ("priority", "优先级", "级别")
#: Records spanning less than this many days give a warning: a year's volume is extrapolated from them.
SHORT_SPAN_DAYS = 28


@dataclass(frozen=True)
class CallDemand:
    """Demand points of a simulation, with their calls.

    Attributes
    ----------
    points : geopandas.GeoDataFrame
        ``id``, ``name``, ``zone``, ``calls_per_year``, ``priority`` and ``village_id``
        (the village a point belongs to: itself for villages; the nearest village for
        call records), WGS84.
    attachment : Attachment
        The points attached to the network, row for row.
    hourly_profile : numpy.ndarray
        24 shares of the calls by hour of day.
    source : str
        How the calls were derived (for the outputs).
    """

    points: gpd.GeoDataFrame
    attachment: Attachment
    hourly_profile: np.ndarray
    source: str

    @property
    def calls_per_year(self) -> float:
        return float(self.points["calls_per_year"].sum())

    @property
    def share(self) -> np.ndarray:
        """Share of the calls at each point."""
        calls = self.points["calls_per_year"].to_numpy(dtype=np.float64)
        total = calls.sum()
        return calls / total if total > 0 else np.full(len(calls), 1.0 / max(len(calls), 1))


def flat_profile() -> np.ndarray:
    """The same share of calls in every hour of the day."""
    return np.full(24, 1.0 / 24.0)


def demand_from_population(
    places: gpd.GeoDataFrame,
    attachment: Attachment,
    *,
    calls_per_1000: float = DEFAULT_CALLS_PER_1000,
    what: str = "villages",
) -> CallDemand:
    """Calls at each place: its population times ``calls_per_1000`` per 1,000 a year.

    Parameters
    ----------
    places : GeoDataFrame
        Villages or raster cells with ``id``, ``population`` and ``zone``.
    attachment : Attachment
        Their attachment to the network.
    calls_per_1000 : float
        Calls per 1,000 residents per year.
    """
    if not (np.isfinite(calls_per_1000) and calls_per_1000 > 0):
        msg = f"calls_per_1000 must be a positive number of calls per 1,000 residents a year, got {calls_per_1000!r}"
        raise InputError(msg)
    population = pd.to_numeric(places["population"], errors="coerce").fillna(0.0).clip(lower=0.0)
    if population.sum() <= 0:
        msg = f"the {what} have no population, so no calls can be derived; give a population column or raster, or call records."
        raise InputError(msg)
    missing = int(pd.to_numeric(places["population"], errors="coerce").isna().sum())
    if missing:
        logger.warning("%d of %d %s have no population and generate no calls", missing, len(places), what)
    points = gpd.GeoDataFrame(
        {
            "id": places["id"].astype(str).to_numpy(),
            "name": places["name"].astype(str).to_numpy() if "name" in places else places["id"].astype(str).to_numpy(),
            "zone": places["zone"].to_numpy() if "zone" in places else "",
            "population": population.to_numpy(),
            "calls_per_year": population.to_numpy() * calls_per_1000 / 1000.0,
            "priority": 1,
            "village_id": places["id"].astype(str).to_numpy() if what == "villages" else "",
        },
        geometry=places.geometry.to_numpy(),
        crs=places.crs,
    )
    source = f"population of the {what} × {calls_per_1000:g} calls per 1,000 a year"
    if calls_per_1000 == DEFAULT_CALLS_PER_1000:
        source += f" (default: {CALL_RATE_SOURCE})"
    return CallDemand(points=points, attachment=attachment, hourly_profile=flat_profile(), source=source)


def read_call_records(
    path: str | os.PathLike[str],
    *,
    datum: str = "wgs84",
    time_column: str | None = None,
    priority_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a file of past calls: a time, lon/lat (any datum) and an optional priority per call.

    Returns
    -------
    GeoDataFrame
        ``id``, ``time`` (datetime64), ``priority`` (int, 1 most urgent), WGS84 points.
    """
    frame = read_points(path, datum=datum, what="call records")
    name = os.fspath(path)
    column = time_column or next((c for c in frame.columns if str(c).strip().lower() in TIME_COLUMNS), None)
    if column is None or column not in frame:
        wanted = f"column {time_column!r}" if time_column else f"a time column ({', '.join(TIME_COLUMNS)})"
        msg = f"{name}: no {wanted}; columns are {', '.join(map(str, frame.columns))}. Name the time column with --call-time-column."
        raise InputError(msg)
    times = pd.to_datetime(frame[column], errors="coerce")
    bad = times.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = (
            f"{name}: row {row + 1} (id {frame['id'].iloc[row]!r}) has {column} = {frame[column].iloc[row]!r}, "
            f"not a date and time; write e.g. 2024-03-01 14:05 ({int(bad.sum())} rows need fixing)."
        )
        raise InputError(msg)
    pcol = priority_column or next((c for c in frame.columns if str(c).strip().lower() in PRIORITY_COLUMNS), None)
    if pcol is not None and pcol not in frame:
        msg = f"{name}: no priority column {pcol!r}; columns are {', '.join(map(str, frame.columns))}."
        raise InputError(msg)
    if pcol is not None:
        priority = pd.to_numeric(frame[pcol], errors="coerce")
        bad = priority.isna() | (priority < 1) | (priority % 1 != 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            msg = f"{name}: row {row + 1} has {pcol} = {frame[pcol].iloc[row]!r}; priorities are whole numbers from 1 (most urgent)."
            raise InputError(msg)
    else:
        priority = pd.Series(1, index=frame.index)
    return gpd.GeoDataFrame(
        {"id": frame["id"].astype(str), "time": times, "priority": priority.astype(np.int64)},
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )


def hourly_profile(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Share of the calls in each hour of the day (0-23)."""
    counts = np.bincount(pd.DatetimeIndex(times).hour, minlength=24).astype(np.float64)
    return counts / counts.sum() if counts.sum() else flat_profile()


def demand_from_records(
    records: gpd.GeoDataFrame,
    network: Network,
    *,
    access_speed_kph: float,
    tolerance_m: float,
    villages: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    years: float | None = None,
) -> CallDemand:
    """Demand points from call records: each record a point snapped to the roads, weighted by the yearly volume.

    Parameters
    ----------
    records : GeoDataFrame
        From :func:`read_call_records`.
    network : Network
    access_speed_kph, tolerance_m : float
        Snapping settings (the profile's), as for villages.
    villages : GeoDataFrame, optional
        Each call is attributed to its nearest village (for per-village figures).
    zones : GeoDataFrame, optional
        Admin units (``zone`` column).
    years : float, optional
        The period the records cover; default the span from the first to the last
        call (with one mean gap added, so a whole period is not cut short).
    """
    from coverage.analysis.zones import assign_zones

    if records.empty:
        msg = "the call records are empty; give at least one call, or derive calls from population."
        raise InputError(msg)
    times = pd.DatetimeIndex(records["time"])
    if years is None:
        span_s = (times.max() - times.min()).total_seconds()
        span_s += span_s / max(len(times) - 1, 1)
        years = span_s / (365.0 * 86400.0)
        if years <= 0:
            msg = "the call records all have the same time: give the period they cover (call_records_years)."
            raise InputError(msg)
        if years * 365.0 < SHORT_SPAN_DAYS:
            logger.warning(
                "the call records span only %.1f days; a year's calls are extrapolated from them", years * 365
            )
    elif not (np.isfinite(years) and years > 0):
        msg = f"years must be a positive number, got {years!r}"
        raise InputError(msg)
    attachment = attach_points(
        network,
        records,
        access_speed_kph=access_speed_kph,
        tolerance_m=tolerance_m,
        ids=records["id"].to_numpy(str),
    )
    village_id = np.full(len(records), "", dtype=object)
    if villages is not None and len(villages):
        projected = records.to_crs(network.crs)
        nearest = gpd.sjoin_nearest(
            projected[["geometry"]], villages[["id", "geometry"]].to_crs(network.crs), how="left"
        )
        nearest = nearest[~nearest.index.duplicated()]
        village_id = nearest["id"].astype(str).to_numpy()
    points = gpd.GeoDataFrame(
        {
            "id": records["id"].astype(str).to_numpy(),
            "name": records["id"].astype(str).to_numpy(),
            "zone": assign_zones(records, zones).to_numpy(),
            "population": np.nan,
            "calls_per_year": np.full(len(records), 1.0 / years),
            "priority": records["priority"].to_numpy(dtype=np.int64),
            "village_id": village_id,
        },
        geometry=records.geometry.to_numpy(),
        crs=records.crs,
    )
    source = f"{len(records):,} call records over {years:.2f} years ({len(records) / years:,.0f} calls a year)"
    return CallDemand(points=points, attachment=attachment, hourly_profile=hourly_profile(times), source=source)
