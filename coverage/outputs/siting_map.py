"""The map of a siting run: its sites over the analysis they were chosen on, before and after.

``facility-coverage site`` keeps what it ran on in ``siting.json`` (profile, trip
direction, threshold, facility selection, the sha256 of every input file).
:func:`read_siting` reads it back beside ``sites.gpkg``/``sites.csv``;
:func:`sites_as_facilities` adds the sites to the existing facilities for the
"after" analysis, and :func:`before_after_layers` draws what changes: the area
within the threshold before the new sites, and the villages they newly cover.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import InputError
from coverage.analysis.result import Analysis
from coverage.outputs.files import SITING_JSON
from coverage.outputs.maps import COVERED_COLOUR, DataLayer, covered_mask, feature

logger = logging.getLogger(__name__)

#: Colour of the "before" outline: the circle of the existing facilities alone.
BEFORE_COLOUR = "#555555"


@dataclass(frozen=True)
class SitingRun:
    """What a siting run ran on, from its ``siting.json``.

    Attributes
    ----------
    path : Path
        The ``siting.json`` read.
    model : str
    minutes : float or dict
        The threshold, or one per zone.
    profile, direction : str
    kinds : list of str or None
        The existing facility kinds that counted.
    ems : bool
    site_kind : str
        The kind the new sites get in the "after" analysis.
    inputs : dict
        Each input's ``path`` and ``sha256``, by role, as the analysis recorded them.
    figures : dict
        ``population_covered_before/after``, ``population_total``, ``villages_covered_before/after``,
        ``villages_total`` as the siting computed them.
    """

    path: Path
    model: str
    minutes: float | dict[str, float]
    profile: str
    direction: str
    kinds: list[str] | None
    ems: bool
    site_kind: str
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


def read_siting(sites_path: str | os.PathLike[str]) -> SitingRun | None:
    """The siting run beside a ``sites.gpkg`` or ``sites.csv``, or None when there is no ``siting.json`` there.

    Raises
    ------
    InputError
        When ``siting.json`` is there but unreadable, or written before it kept its settings.
    """
    path = Path(sites_path).with_name(SITING_JSON)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        msg = f"{path}: cannot read the siting run beside --sites ({error}); run 'facility-coverage site' again."
        raise InputError(msg) from error
    settings = data.get("settings") if isinstance(data, dict) else None
    if not isinstance(settings, dict):
        msg = (
            f"{path} does not say what the sites were chosen on (profile, direction, inputs): it was written by an "
            "earlier version. Run 'facility-coverage site' again to draw its sites before and after."
        )
        raise InputError(msg)
    minutes = data.get("minutes")
    if not isinstance(minutes, int | float | dict):
        msg = f"{path}: the siting's threshold {minutes!r} is not minutes; run 'facility-coverage site' again."
        raise InputError(msg)
    return SitingRun(
        path=path,
        model=str(data.get("model", "")),
        minutes=float(minutes) if isinstance(minutes, int | float) else {str(k): float(v) for k, v in minutes.items()},
        profile=str(settings["profile"]),
        direction=str(settings["direction"]),
        kinds=settings.get("kinds"),
        ems=bool(settings.get("ems", False)),
        site_kind=str(settings.get("site_kind", "clinic")),
        inputs=settings.get("inputs", {}),
        figures={
            key: data.get(key)
            for key in (
                "population_total",
                "population_covered_before",
                "population_covered_after",
                "villages_total",
                "villages_covered_before",
                "villages_covered_after",
            )
        },
    )


def check_same_inputs(siting: SitingRun, analysis: Analysis, *, sites_path: str | os.PathLike[str]) -> None:
    """Refuse to draw sites over an analysis of other input files than the siting's.

    Raises
    ------
    InputError
        Naming each input that differs and the file the siting used.
    """
    differ = []
    for role in sorted(set(siting.inputs) | set(analysis.inputs)):
        before = siting.inputs.get(role, {})
        now = analysis.inputs.get(role, {})
        if before.get("sha256") != now.get("sha256"):
            used = before.get("path", "none")
            given = now.get("path", "none")
            differ.append(f"{role}: the siting used {used}, this map {given}")
    if differ:
        msg = (
            f"--sites {sites_path}: the sites were chosen on other inputs than this map's ({'; '.join(differ)}). "
            "Give the map the same inputs as the 'facility-coverage site' run (a file changed since then: run site again)."
        )
        raise InputError(msg)


def sites_as_facilities(existing: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *, kind: str) -> gpd.GeoDataFrame:
    """The existing facilities and the new sites in one WGS84 facility table (``id``, ``name``, ``kind``)."""
    ids = sites["site_id"] if "site_id" in sites else sites["id"]
    added = gpd.GeoDataFrame(
        {"id": ids.astype(str).to_numpy(), "name": sites["name"].astype(str).to_numpy(), "kind": kind},
        geometry=sites.to_crs(4326).geometry.to_numpy(),
        crs=4326,
    )
    clash = sorted(set(added["id"]) & set(existing["id"].astype(str)))
    if clash:
        msg = f"new sites and existing facilities share the ids {clash[:5]}; give the sites their own ids."
        raise InputError(msg)
    combined = pd.concat([existing[["id", "name", "kind", "geometry"]], added], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=4326)


def before_after_layers(before: Analysis, after: Analysis, *, minutes: float) -> list[DataLayer]:
    """The map layers of what the new sites change: the circle before them, and the villages they newly cover."""
    layers = []
    iso = before.isochrones[before.isochrones["minutes"] == minutes]
    if len(iso):
        outline = iso.geometry.union_all()
        layers.append(
            DataLayer(
                [
                    feature(
                        outline,
                        style={"color": BEFORE_COLOUR, "weight": 2, "dashArray": "6 4", "fill": False},
                        tooltip=f"within {minutes:g} min before the new sites",
                    )
                ],
                name=f"Before the new sites: within {minutes:g} min",
            )
        )
    limit = np.full(len(after.villages), float(minutes))
    was = covered_mask(before.villages, limit)
    now = covered_mask(after.villages, limit)
    newly = after.villages[now & ~was]
    features = [
        feature(
            row.geometry,
            style={"radius": 14, "color": COVERED_COLOUR, "weight": 3, "fill": False},
            tooltip=f"{row.name}: newly within {minutes:g} min ({row.minutes:.1f} min, {row.nearest_facility_name})",
        )
        for row in newly.itertuples()
    ]
    word = "village" if len(features) == 1 else "villages"
    layers.append(DataLayer(features, name=f"Newly covered by the new sites: {len(features)} {word}"))
    return layers


def before_after_line(before: Analysis, after: Analysis, *, minutes: float) -> str:
    """``villages within 15 min 58 → 64 of 167; people 31.2% → 35.0%``, for a map's title."""
    limit = float(minutes)
    villages = len(after.villages)
    was = int(covered_mask(before.villages, np.full(villages, limit)).sum())
    now = int(covered_mask(after.villages, np.full(villages, limit)).sum())
    line = f"villages within {limit:g} min {was} → {now} of {villages}"
    if after.cells is not None and len(after.cells) and before.cells is not None:
        people = after.cells["population"].to_numpy(dtype=float)
        total = float(people.sum())
        if total > 0:
            share_before = float(people[covered_mask(before.cells, np.full(len(people), limit))].sum()) / total
            share_after = float(people[covered_mask(after.cells, np.full(len(people), limit))].sum()) / total
            line += f"; people {share_before:.1%} → {share_after:.1%}"
    return line
