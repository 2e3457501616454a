"""The ambulance fleet: how many ambulances each station has, and of which sort.

The station file (the facility file) may carry an ``ambulances`` column (on-duty
ambulances per station) and optional ``negative_pressure`` and ``smart`` columns
(how many of them are negative-pressure, "smart" ambulances: the plans' 负压型
and 智能型 shares). Counts are checked row by row; a file without the
``ambulances`` column gets an assumed count per station, said so in every output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import InputError

logger = logging.getLogger(__name__)

AMBULANCES = "ambulances"
#: Optional columns counting ambulances of a sort, each at most the station's ``ambulances``.
SORT_COLUMNS: tuple[str, ...] = ("negative_pressure", "smart")


@dataclass(frozen=True)
class Fleet:
    """Stations and their ambulances.

    Attributes
    ----------
    stations : geopandas.GeoDataFrame
        ``id``, ``name``, ``kind``, ``ambulances`` and, when the file gives them,
        ``negative_pressure`` and ``smart``; WGS84.
    counts_source : str
        Where the counts come from (the file's column, or the count assumed per station).
    assumed : bool
        True when the counts were not in the file.
    substituted : bool
        True when the stations are not EMS stations (kind ``ems``) but stand-ins
        such as hospitals.
    """

    stations: gpd.GeoDataFrame
    counts_source: str
    assumed: bool
    substituted: bool

    @property
    def ambulances(self) -> np.ndarray:
        """int64 ambulances per station."""
        return self.stations[AMBULANCES].to_numpy(dtype=np.int64)

    @property
    def total(self) -> int:
        return int(self.ambulances.sum())

    def share(self, column: str) -> float | None:
        """Share of the fleet of one sort (``negative_pressure``, ``smart``); None when the file has no such column."""
        if column not in self.stations or self.total == 0:
            return None
        return float(self.stations[column].sum()) / self.total

    def as_dict(self) -> dict[str, object]:
        return {
            "stations": len(self.stations),
            "ambulances": self.total,
            "counts_source": self.counts_source,
            "assumed": self.assumed,
            "substituted": self.substituted,
            **{f"{column}_share": self.share(column) for column in SORT_COLUMNS},
        }


def _whole_numbers(frame: pd.DataFrame, column: str, label: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values < 0) | (values % 1 != 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        ident = frame["id"].iloc[row] if "id" in frame else row + 1
        value = frame[column].iloc[row]
        shown = "nothing" if pd.isna(value) else repr(value.item() if hasattr(value, "item") else value)
        msg = (
            f"{label}: station {ident!r} (row {row + 1}) has {column} = {shown}; "
            f"give a whole number >= 0 for every station ({int(bad.sum())} rows need fixing)."
        )
        raise InputError(msg)
    return values.to_numpy(dtype=np.int64)


def fleet_from(
    stations: gpd.GeoDataFrame,
    *,
    default_ambulances: int = 1,
    label: str = "the station file",
) -> Fleet:
    """The fleet of the stations: counts from their ``ambulances`` column, or ``default_ambulances`` each.

    Parameters
    ----------
    stations : GeoDataFrame
        The EMS stations (an analysis' ``facilities`` with ``ems=True``).
    default_ambulances : int
        Ambulances assumed per station when there is no ``ambulances`` column.
    label : str
        How messages name the stations' file.

    Returns
    -------
    Fleet
    """
    if isinstance(default_ambulances, bool) or int(default_ambulances) != default_ambulances or default_ambulances < 0:
        msg = f"default_ambulances must be a whole number >= 0, got {default_ambulances!r}"
        raise InputError(msg)
    if stations.empty:
        msg = f"{label}: no stations; an EMS simulation needs at least one station with ambulances."
        raise InputError(msg)
    frame = stations.copy()
    if AMBULANCES in frame:
        frame[AMBULANCES] = _whole_numbers(frame, AMBULANCES, label)
        source, assumed = f"the {AMBULANCES!r} column of {label}", False
    else:
        frame[AMBULANCES] = int(default_ambulances)
        source, assumed = f"assumed: {default_ambulances} per station ({label} has no {AMBULANCES!r} column)", True
        logger.warning(
            "%s has no %r column: assuming %d ambulance(s) per station; add the column for real figures",
            label,
            AMBULANCES,
            default_ambulances,
        )
    for column in SORT_COLUMNS:
        if column in frame:
            frame[column] = _whole_numbers(frame, column, label)
            over = frame[column] > frame[AMBULANCES]
            if over.any():
                row = int(np.flatnonzero(over.to_numpy())[0])
                msg = (
                    f"{label}: station {frame['id'].iloc[row]!r} (row {row + 1}) has {frame[column].iloc[row]} "
                    f"{column} ambulances but only {frame[AMBULANCES].iloc[row]} ambulances; "
                    f"{column} counts some of its ambulances, so it cannot be larger."
                )
                raise InputError(msg)
    substituted = bool((frame["kind"].astype(str) != "ems").any()) if "kind" in frame else False
    if frame[AMBULANCES].sum() == 0:
        msg = f"{label}: the stations have no ambulances at all (every {AMBULANCES} is 0)."
        raise InputError(msg)
    columns = [c for c in ("id", "name", "kind", AMBULANCES, *SORT_COLUMNS) if c in frame]
    return Fleet(
        stations=gpd.GeoDataFrame(frame[columns], geometry=frame.geometry.to_numpy(), crs=frame.crs),
        counts_source=source,
        assumed=assumed,
        substituted=substituted,
    )
