"""The EMS outputs: ``ems.json``, ``ems_villages.csv`` and the map layer of a timely response.

:func:`write_ems` writes the availability of a region (and a proposal's
before/after, when given) into a folder; :func:`timely_layer` is the map layer of
each village's probability that an ambulance is there in time, and
:func:`ems_map` the coverage map with it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.analysis.result import Analysis
from coverage.ems.proposal import Proposal
from coverage.ems.run import EmsResult
from coverage.outputs.files import staged, write_csv, write_json
from coverage.outputs.maps import DataLayer, coverage_map, feature

#: Classes of the probability of a timely response: (upper bound, colour), red to green.
TIMELY_CLASSES: tuple[tuple[float, str], ...] = (
    (0.25, "#d7191c"),
    (0.5, "#fdae61"),
    (0.75, "#ffffbf"),
    (0.9, "#a6d96a"),
    (1.0, "#1a9641"),
)
NEW_STATION_COLOUR = "#ffbf00"


def _rounded_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    for column in table.columns:
        if table[column].dtype.kind == "f":
            table[column] = table[column].round(4)
    table["lon"] = frame.geometry.x.round(6).to_numpy()
    table["lat"] = frame.geometry.y.round(6).to_numpy()
    return table


def ems_summary(result: EmsResult, proposal: Proposal | None = None) -> dict[str, Any]:
    """Everything of ``ems.json``: headline figures, stations, and the proposal's before/after."""
    summary = result.summary()
    summary["stations"] = _rounded_table(result.stations).to_dict(orient="records")
    if proposal is not None:
        summary["proposal"] = proposal.summary()
        summary["proposal"]["after"] = proposal.after.summary()
    return summary


def write_ems(
    result: EmsResult, out_dir: str | os.PathLike[str], *, proposal: Proposal | None = None
) -> dict[str, Path]:
    """Write ``ems.json``, ``ems_villages.csv``, ``ems_stations.csv``, ``ems_zones.csv`` (and ``ems_allocation.csv``).

    Files appear only when all are written (earlier outputs stay as they were otherwise).
    The CSV files are UTF-8 with a byte-order mark, so Excel shows Chinese names.
    """
    out = Path(out_dir)
    names = {
        "json": "ems.json",
        "villages": "ems_villages.csv",
        "stations": "ems_stations.csv",
        "zones": "ems_zones.csv",
    }
    if proposal is not None:
        names["allocation"] = "ems_allocation.csv"
    with staged(out) as staging:
        write_json(ems_summary(result, proposal), staging / names["json"])
        write_csv(_rounded_table(result.villages), staging / names["villages"])
        write_csv(_rounded_table(result.stations), staging / names["stations"])
        write_csv(result.zones.round(4), staging / names["zones"])
        if proposal is not None:
            write_csv(pd.DataFrame(proposal.stations.drop(columns="geometry")), staging / names["allocation"])
    return {key: out / name for key, name in names.items()}


def _timely_colour(probability: float) -> str:
    for upper, colour in TIMELY_CLASSES:
        if probability <= upper:
            return colour
    return TIMELY_CLASSES[-1][1]


def _percent(value: float) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.0%}"


def timely_layer(result: EmsResult) -> DataLayer:
    """Villages coloured by the probability that an ambulance is there within the threshold."""
    features = []
    villages = result.villages
    simulated = "in_time_share" in villages
    threshold = result.threshold_minutes
    people = np.nan_to_num(villages["population"].to_numpy(dtype=float))
    # one size larger than the coverage map's village dots, which it covers
    radii = np.clip(3.0 + np.sqrt(people) / 15.0, 4.0, 12.0) + 1.5
    for row, radius in zip(villages.itertuples(), radii, strict=True):
        probability = float(row.timely_probability)
        rows = [
            ("Admin unit", str(row.zone) if isinstance(row.zone, str) and row.zone else "–"),
            ("Calls a year", f"{row.calls_per_year:,.0f}"),
            ("Nearest station", "none" if pd.isna(row.minutes) else f"{row.minutes:.1f} min"),
            (f"Ambulances within {threshold:g} min", f"{row.ambulances_within}"),
            ("Expected coverage (MEXCLP)", _percent(row.expected_coverage)),
        ]
        if simulated:
            rows += [
                ("Simulated calls", f"{row.simulated_calls:,}"),
                (f"Reached within {threshold:g} min", _percent(row.in_time_share)),
                ("Waited for an ambulance", _percent(row.waited_share)),
                (
                    "Mean response",
                    "–" if pd.isna(row.mean_response_minutes) else f"{row.mean_response_minutes:.1f} min",
                ),
            ]
        features.append(
            feature(
                row.geometry,
                style={
                    "radius": float(radius),
                    "color": "#333333",
                    "weight": 1,
                    "fillColor": _timely_colour(probability),
                    "fillOpacity": 0.9,
                },
                tooltip=f"{row.name}: {_percent(probability)} in time",
                popup=(str(row.name), rows),
            )
        )
    share = result.figure("in_time_share")
    overall = share if share is not None else result.estimates.expected_in_time_share
    return DataLayer(features, name=f"Timely response within {threshold:g} min: {overall:.0%} of calls")


def new_station_layer(proposal: Proposal) -> DataLayer | None:
    """The proposal's new stations and the ambulances of each."""
    new = proposal.stations[proposal.stations["new"]]
    if new.empty:
        return None
    features = [
        feature(
            row.geometry,
            tooltip=f"New station: {row.name} ({row.ambulances_after} ambulances)",
            icon={"text": str(row.ambulances_after), "colour": NEW_STATION_COLOUR, "cls": "fc-star", "size": 22},
            popup=(f"New station: {row.name}", [("Ambulances", str(row.ambulances_after))]),
        )
        for row in new.itertuples()
    ]
    return DataLayer(features, name=f"Proposed new stations ({len(new)})")


def timely_legend(result: EmsResult) -> tuple[str, list[tuple[str, str]]]:
    """The legend section of :func:`timely_layer`."""
    edges = [0.0, *(upper for upper, _ in TIMELY_CLASSES)]
    return (
        f"Probability of an ambulance within {result.threshold_minutes:g} min",
        [(f"{lo:.0%}–{hi:.0%}", f"dot:{colour}") for lo, (hi, colour) in zip(edges, TIMELY_CLASSES, strict=False)],
    )


def ems_map(analysis: Analysis, result: EmsResult, *, proposal: Proposal | None = None, **options: Any) -> folium.Map:
    """The coverage map of the EMS analysis with the timely-response layer (and the proposal's new stations)."""
    layers: list[folium.map.Layer] = [timely_layer(result)]
    legend = [timely_legend(result)]
    if proposal is not None:
        layer = new_station_layer(proposal)
        if layer is not None:
            layers.append(layer)
            legend.append(("Proposal", [("new station (its ambulances)", NEW_STATION_COLOUR)]))
    options.setdefault("title", f"{result.region}: ambulances in time")
    return coverage_map(analysis, minutes=result.threshold_minutes, extra_layers=layers, extra_legend=legend, **options)
