"""The result of an analysis: travel times and coverage of one region, and its headline figures.

:class:`Analysis` holds the region's facilities, villages and raster cells with
their times and coverage flags, the isochrones and the network they were computed
on; :func:`summarise` and :func:`zone_table` turn it into the figures a planner reads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from coverage._errors import InputError
from coverage._i18n import text
from coverage.analysis.calibration import PopulationCalibration, apply_calibration
from coverage.analysis.demand import PopulationGrid, read_population_grid
from coverage.analysis.surface import TravelTimeSurface
from coverage.io.credits import SourceNote
from coverage.network.prepared import Network
from coverage.network.profiles import Profile
from coverage.network.snapping import Attachment

logger = logging.getLogger(__name__)

DEFAULT_MINUTES = (10.0, 15.0, 30.0)


def checked_thresholds(minutes: Sequence[float]) -> tuple[float, ...]:
    """Thresholds in minutes, ascending and distinct; an InputError unless all are positive."""
    thresholds = tuple(sorted({float(m) for m in minutes}))
    if not thresholds or thresholds[0] <= 0:
        msg = f"minutes must be positive numbers, got {list(minutes)}"
        raise InputError(msg)
    return thresholds


def covered_column(minutes: float) -> str:
    """Name of the column telling whether a place is within ``minutes`` (``covered_15``)."""
    return f"covered_{minutes:g}".replace(".", "_")


@dataclass(frozen=True)
class Analysis:
    """Travel times, coverage and isochrones of one region.

    All GeoDataFrames are in WGS84 (EPSG:4326), ready for maps and GIS files.

    Attributes
    ----------
    region : str
        Name of the region.
    network : Network
        The prepared network the times were computed on.
    profile : Profile
    direction : str
        ``"to_facility"`` (place → facility) or ``"from_facility"`` (EMS, facility → place).
    minutes : tuple of float
        Thresholds, ascending.
    facilities : GeoDataFrame
        ``id``, ``name``, ``kind``, snapping columns.
    villages : GeoDataFrame
        ``id``, ``name``, ``population``, ``population_source``, ``zone``,
        ``nearest_facility_id``, ``nearest_facility_name``, ``minutes``,
        ``covered_<T>`` per threshold, ``snap_distance_m``, ``off_network``,
        ``small_piece``.
    cells : GeoDataFrame or None
        Populated raster cells with the same coverage columns.
    isochrones : GeoDataFrame
        Dissolved area per threshold with ``area_km2`` and ``population``: the cells of the
        travel-time surface within the threshold (or, with ``isochrones="roads"``, corridors
        along the roads reached).
    service_areas : GeoDataFrame
        Nearest-facility partition within the largest threshold.
    facility_isochrones : GeoDataFrame
        One polygon per facility and threshold (empty unless asked for).
    zones : GeoDataFrame or None
        Admin units.
    attribution : str
        Data credits to show with every output.
    inputs : dict
        Each input file's ``path`` and ``sha256``, by role (``network``, ``facilities``...).
    attachments : dict
        How ``facilities``, ``villages`` and ``cells`` (the keys) were attached to the
        network, row for row, for later searches on the same points (e.g. siting).
    outline : shapely geometry or None
        The region's boundary (WGS84): its land area, for the plans' zone radii.
    zones_level : str or None
        What the admin units are (``county`` for a seed-region preset), when known.
    notes : dict
        What reading the inputs assumed and left out (kind mapping, facilities across
        the border, points left out, stand-ins), as summary.json records it.
    population_calibration : PopulationCalibration or None
        How the population was calibrated to official totals per admin unit, when it was.
    sources : tuple of SourceNote
        Every input with the credit it must carry (``attribution`` joins them).
    surface : TravelTimeSurface or None
        Minutes to (or from) the nearest facility for every cell of the region.
    catchments : GeoDataFrame or None
        The nearest-facility partition of the surface, one row per facility, with
        area, population, villages and population per unit of capacity.
    """

    region: str
    network: Network
    profile: Profile
    direction: str
    minutes: tuple[float, ...]
    facilities: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame | None
    isochrones: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    facility_isochrones: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame | None
    attribution: str
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict, repr=False, compare=False)
    outline: shapely.Geometry | None = field(default=None, repr=False, compare=False)
    zones_level: str | None = None
    notes: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    population_calibration: PopulationCalibration | None = field(default=None, compare=False)
    sources: tuple[SourceNote, ...] = ()

    surface: TravelTimeSurface | None = field(default=None, repr=False, compare=False)
    catchments: gpd.GeoDataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def population_basis(self) -> str:
        """What the people counted are: ``"raster cells"``, ``"villages"`` (their populations) or ``"none"``."""
        if self.cells is not None and len(self.cells):
            return "raster cells"
        if pd.to_numeric(self.villages["population"], errors="coerce").notna().any():
            return "villages"
        return "none"

    def population_grid(self) -> PopulationGrid | None:
        """The population raster as the analysis counted it (calibrated, when it was); None without a raster."""
        raster = self.inputs.get("population")
        if raster is None:
            return None
        calibration = self.population_calibration

        def read() -> PopulationGrid:
            grid = read_population_grid(raster["path"])
            if calibration is not None and calibration.basis == "raster cells" and self.zones is not None:
                grid = apply_calibration(grid, self.zones, calibration)
            return grid

        # each standard checked asks for it: read once per process for a raster, zones and calibration
        from coverage.analysis.memo import remember

        factors = None if calibration is None else calibration.units[["unit", "factor"]].to_json()
        zones = None if self.zones is None else self.zones["zone"].to_json()
        return remember(("population grid", raster["path"], raster["sha256"], factors, zones), read)

    def road_problems(self) -> gpd.GeoDataFrame:
        """Places in the road source to look at (dangling ends, near-miss junctions...), WGS84 points."""
        problems = self.network.problems
        frame = gpd.GeoDataFrame(
            {"problem": problems["problem"].to_numpy(), "detail": problems["detail"].to_numpy()},
            geometry=gpd.points_from_xy(problems["x"], problems["y"]),
            crs=self.network.crs,
        )
        return frame.to_crs(4326)

    def summary(self) -> dict[str, Any]:
        """Headline figures per threshold, overall and per zone (JSON-ready)."""
        return summarise(self)

    def zone_table(self) -> pd.DataFrame:
        """Covered population and villages per zone and threshold (long format)."""
        return zone_table(self)


def summarise(analysis: Analysis) -> dict[str, Any]:
    """Headline figures of an analysis (see :meth:`Analysis.summary`)."""
    villages = analysis.villages
    cells = analysis.cells
    basis = analysis.population_basis
    per_threshold = []
    for threshold in analysis.minutes:
        column = covered_column(threshold)
        row: dict[str, Any] = {"minutes": threshold}
        if cells is not None and len(cells):
            total = float(cells["population"].sum())
            covered = float(cells.loc[cells[column], "population"].sum())
            row.update(
                population_total=round(total, 1),
                population_covered=round(covered, 1),
                population_share=covered / total if total else None,
            )
        known = basis != "none"
        row.update(
            villages_total=len(villages),
            villages_covered=int(villages[column].sum()),
            village_population_covered=round(float(villages.loc[villages[column], "population"].fillna(0).sum()), 1)
            if known
            else None,
            village_population_total=round(float(villages["population"].fillna(0).sum()), 1) if known else None,
        )
        iso = analysis.isochrones[analysis.isochrones["minutes"] == threshold]
        if len(iso):
            row.update(isochrone_area_km2=round(float(iso["area_km2"].iloc[0]), 3))
        per_threshold.append(row)
    return {
        "region": analysis.region,
        "profile": analysis.profile.name,
        "direction": analysis.direction,
        "network": {
            "source": analysis.network.source,
            "nodes": analysis.network.n_nodes,
            "road_pieces": analysis.network.n_segments,
            "pieces": analysis.network.components.n_components,
            "small_pieces": analysis.network.components.small_pieces,
        },
        "facilities": {
            "total": len(analysis.facilities),
            "by_kind": {str(k): int(v) for k, v in analysis.facilities["kind"].value_counts().items()},
            "off_network": int(analysis.facilities["off_network"].sum()),
            "outside_boundary": int(analysis.facilities.get("outside_boundary", pd.Series(dtype=bool)).sum()),
            "list": _facility_list(analysis.facilities),
        },
        "road_problems": {str(k): int(v) for k, v in analysis.network.problems["problem"].value_counts().items()},
        "villages": {
            "total": len(villages),
            "off_network": int(villages["off_network"].sum()),
            "on_small_pieces": int(villages["small_piece"].sum()),
            "unreached": int(villages["minutes"].isna().sum()),
        },
        "population": population_summary(analysis),
        "thresholds": per_threshold,
        "surface": surface_summary(analysis),
        "zones": zone_table(analysis).to_dict(orient="records"),
        "inputs": analysis.inputs,
        "notes": analysis.notes,
        "source": {"credit": analysis.attribution, "inputs": [note.as_dict() for note in analysis.sources]},
        "attribution": analysis.attribution,
    }


#: What the shares of each population basis are of.
POPULATION_NOTES = {
    "raster cells": text("basis_cells"),
    "villages": text("basis_villages"),
    "none": text("no_population"),
}


def population_summary(analysis: Analysis) -> dict[str, Any]:
    """What the people counted are, where they come from, and how they were calibrated (JSON-ready)."""
    basis = analysis.population_basis
    population = pd.to_numeric(analysis.villages["population"], errors="coerce")
    calibration = analysis.population_calibration
    source = next((note.credit for note in analysis.sources if note.role == "population"), None)
    return {
        "basis": basis,
        "note": POPULATION_NOTES[basis],
        "source": source,
        "villages_without_population": int(population.isna().sum()),
        "calibration": calibration.as_dict() if calibration is not None else None,
    }


def _facility_list(facilities: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Each facility counted: id, name, kind and what admitted it (its OSM tags, or the user's file)."""
    admitted = facilities["admitted_by"] if "admitted_by" in facilities else pd.Series("", index=facilities.index)
    return [
        {"id": str(fid), "name": str(name), "kind": str(kind), "admitted_by": str(by) if pd.notna(by) else ""}
        for fid, name, kind, by in zip(facilities["id"], facilities["name"], facilities["kind"], admitted, strict=True)
    ]


def surface_summary(analysis: Analysis) -> dict[str, Any] | None:
    """Figures of the travel-time surface: its cells, their size, how many are reached, the catchments."""
    surface = analysis.surface
    if surface is None:
        return None
    reached = surface.reached
    area_m2 = surface.cell_area_m2()
    return {
        "cells": len(surface),
        "cell_size_m": round(surface.grid.cell_size_m(), 1),
        "area_km2": round(float(area_m2.sum() / 1e6), 3),
        "reached_cells": int(reached.sum()),
        "unreached_area_km2": round(float(area_m2[~reached].sum() / 1e6), 3),
        "unreached_population": round(float(surface.population[~reached].sum()), 1),
        "direct_offroad_cells": int(surface.direct.sum()),
        "catchments": 0 if analysis.catchments is None else int(analysis.catchments.geometry.notna().sum()),
    }


def zone_table(analysis: Analysis) -> pd.DataFrame:
    """Population and villages covered per zone and threshold."""
    rows = []
    source = analysis.cells if analysis.cells is not None and len(analysis.cells) else analysis.villages
    basis = {"raster cells": "cells", "villages": "villages", "none": "none"}[analysis.population_basis]
    for zone, group in source.groupby("zone"):
        villages = analysis.villages[analysis.villages["zone"] == zone]
        for threshold in analysis.minutes:
            column = covered_column(threshold)
            total = float(group["population"].fillna(0).sum())
            covered = float(group.loc[group[column], "population"].fillna(0).sum())
            known = basis != "none"
            rows.append(
                {
                    "zone": zone or "(outside every zone)",
                    "minutes": threshold,
                    "population_total": round(total, 1) if known else None,
                    "population_covered": round(covered, 1) if known else None,
                    "population_share": covered / total if total and known else None,
                    "villages_total": len(villages),
                    "villages_covered": int(villages[column].sum()),
                    "population_basis": basis,
                }
            )
    return pd.DataFrame(rows)
