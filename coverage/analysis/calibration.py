"""Population calibrated to official totals: each admin unit's people scaled to its census figure.

Gridded population (WorldPop, GHS-POP) often disagrees with the census totals a
plan is written on (in China, the township figures of the seventh census, 七普).
The usual cure (WHO AccessMod, many national programmes) is to rescale the raster
so that each admin unit's cells add up to the unit's official total while keeping
the raster's pattern inside the unit: every cell of a unit is multiplied by the same
factor, the unit's total divided by its raster sum. Village populations given in a
village file (when there is no raster) are scaled the same way.

The totals come from :mod:`coverage.analysis.totals`; :func:`calibrate_grid`
and :func:`calibrate_villages` scale the people and return a
:class:`PopulationCalibration`: each unit's factor, and everything that could not
be calibrated (units without cells, units without a total, totals naming no unit,
people outside every unit), which is reported, never dropped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.analysis.demand import PopulationGrid, populated_pixels
from coverage.analysis.totals import PopulationTotals
from coverage.analysis.zones import zones_at

logger = logging.getLogger(__name__)

#: A unit whose people were scaled to its total.
CALIBRATED = "calibrated"
#: A unit with a total but no populated raster cell: its people cannot be placed.
NO_CELLS = "no_cells"
#: A unit with a total but no village (village basis).
NO_VILLAGES = "no_villages"
#: A unit whose villages do not all have a population: not scaled (the unknown ones would stay 0).
VILLAGES_WITHOUT_POPULATION = "villages_without_population"
#: A unit whose places hold 0 people: there is no pattern to scale.
NO_POPULATION = "no_population"
#: A unit without an official total: its people keep the raster's (or the village file's) figures.
NO_TOTAL = "no_total"
#: A row of the totals naming no unit of the zones.
NO_UNIT = "no_unit"
#: The places of the region outside every unit, kept as they are.
OUTSIDE_UNITS = "outside_units"

#: Unit label of the row counting the places outside every unit.
OUTSIDE_LABEL = "(outside every unit)"

_MAX_LISTED = 5


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


@dataclass(frozen=True)
class PopulationCalibration:
    """How a population was calibrated to official totals, unit by unit.

    Attributes
    ----------
    source : str
        Where the totals came from.
    basis : str
        ``"raster cells"`` (a population raster was scaled) or ``"villages"`` (the
        village file's populations were).
    units : pandas.DataFrame
        One row per admin unit: ``unit``, ``status`` (``calibrated``, ``no_cells``
        or ``no_villages``, ``villages_without_population``, ``no_population``,
        ``no_total``), ``official_population``, ``population_before`` (the raster's
        or the villages' sum), ``factor`` (official / before), ``population_after``,
        ``places`` (cells or villages in the unit) and, once known,
        ``population_in_region`` (the part inside the analysed region).
    unmatched : pandas.DataFrame
        Rows of the totals naming no unit (``unit``, ``official_population``).
    outside_places : int
        Cells (or villages) of the region outside every unit, left as they were.
    outside_population : float
        Their people.
    """

    source: str
    basis: str
    units: pd.DataFrame
    unmatched: pd.DataFrame
    outside_places: int = 0
    outside_population: float = 0.0

    @property
    def factors(self) -> pd.Series:
        """The factor of each calibrated unit, by unit name."""
        done = self.units[self.units["status"] == CALIBRATED]
        return pd.Series(done["factor"].to_numpy(dtype=float), index=done["unit"].to_numpy(), name="factor")

    def describe(self, lang: str = "en") -> str:
        """One line: how many units were calibrated to what, the range of factors, what was not calibrated."""
        from coverage._i18n import CALIBRATION_STATUS_NAMES, text

        factors = self.factors
        line = text("calibrated_units", lang, done=len(factors), units=len(self.units), source=self.source)
        if len(factors) > 1:
            line += text("calibration_factors", lang, low=factors.min(), high=factors.max())
        elif len(factors):
            line += text("calibration_factor", lang, factor=factors.iloc[0])
        problems = self.units[self.units["status"] != CALIBRATED]
        if len(problems):
            named = [
                f"{unit} ({CALIBRATION_STATUS_NAMES.get(status, {}).get(lang, status)})"
                for unit, status in zip(problems["unit"], problems["status"], strict=True)
            ]
            line += text("not_calibrated", lang, units=_listed(named))
        if len(self.unmatched):
            line += text("totals_without_unit", lang, n=len(self.unmatched))
        if self.outside_places:
            places = text("cells" if self.basis == "raster cells" else "villages", lang)
            line += text("outside_units", lang, n=self.outside_places, places=places, people=self.outside_population)
        return line

    def table(self) -> pd.DataFrame:
        """The CSV form: every unit, then the totals naming no unit, then the places outside every unit."""
        units = self.units.copy()
        rows = [units]
        if len(self.unmatched):
            rows.append(self.unmatched.assign(status=NO_UNIT))
        if self.outside_places:
            rows.append(
                pd.DataFrame(
                    {
                        "unit": [OUTSIDE_LABEL],
                        "status": [OUTSIDE_UNITS],
                        "population_before": [self.outside_population],
                        "population_after": [self.outside_population],
                        "places": [self.outside_places],
                        "population_in_region": [self.outside_population],
                    }
                )
            )
        table = pd.concat(rows, ignore_index=True)
        columns = [
            "unit",
            "status",
            "official_population",
            "population_before",
            "factor",
            "population_after",
            "places",
            "population_in_region",
        ]
        table = table.reindex(columns=[c for c in columns if c in table.columns])
        for column in ("official_population", "population_before", "population_after", "population_in_region"):
            if column in table:
                table[column] = table[column].astype(float).round(1)
        table["factor"] = table["factor"].astype(float).round(6)
        table["places"] = table["places"].astype("Int64")
        return table.rename(columns={"places": "cells" if self.basis == "raster cells" else "villages"})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for summary.json."""
        factors = self.factors
        return {
            "source": self.source,
            "basis": self.basis,
            "units_calibrated": len(factors),
            "units": len(self.units),
            "factor_min": float(factors.min()) if len(factors) else None,
            "factor_max": float(factors.max()) if len(factors) else None,
            "official_total": float(self.units["official_population"].sum(skipna=True)),
            "population_before": float(self.units["population_before"].sum()),
            "population_after": float(self.units["population_after"].sum()),
            "outside_units": {"places": self.outside_places, "population": self.outside_population},
            "table": [
                {str(k): (None if pd.isna(v) else v) for k, v in row.items()}
                for row in self.table().astype(object).to_dict(orient="records")
            ],
        }


def _unit_table(
    names: Sequence[str], before: pd.Series, counts: pd.Series, totals: PopulationTotals, *, basis: str
) -> pd.DataFrame:
    """Each unit's status and factor from its people before, its count of places and its official total."""
    rows = []
    empty = NO_CELLS if basis == "raster cells" else NO_VILLAGES
    for unit in names:
        official = totals.totals.get(unit)
        people = float(before.get(unit, 0.0))
        places = int(counts.get(unit, 0))
        factor = math.nan
        if official is None or math.isnan(official):
            status, after = NO_TOTAL, people
        elif places == 0:
            status, after = empty, 0.0
        elif people <= 0:
            status, after = NO_POPULATION, 0.0
        else:
            status, factor, after = CALIBRATED, float(official) / people, float(official)
        rows.append(
            {
                "unit": unit,
                "status": status,
                "official_population": math.nan if official is None else float(official),
                "population_before": people,
                "factor": factor,
                "population_after": after,
                "places": places,
            }
        )
    return pd.DataFrame(rows)


def _warn(calibration: PopulationCalibration) -> None:
    units = calibration.units
    place = "populated cell" if calibration.basis == "raster cells" else "village"
    for status, text in (
        (NO_CELLS, f"have a population total but no {place}: their people cannot be placed"),
        (NO_VILLAGES, f"have a population total but no {place}: their people cannot be placed"),
        (VILLAGES_WITHOUT_POPULATION, "have villages without a population: not calibrated"),
        (NO_POPULATION, "hold 0 people before calibration: nothing to scale"),
        (NO_TOTAL, "have no population total: their people stay as the source gives them"),
    ):
        chosen = units.loc[units["status"] == status, "unit"].astype(str).tolist()
        if chosen:
            logger.warning("%s: %d units %s: %s", calibration.source, len(chosen), text, _listed(chosen))
    if len(calibration.unmatched):
        logger.warning(
            "%s: %d rows name no unit of the zones and are not used: %s",
            calibration.source,
            len(calibration.unmatched),
            _listed(calibration.unmatched["unit"].astype(str).tolist()),
        )


def _pixel_units(grid: PopulationGrid, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and unit of every populated pixel (``""`` outside every unit), by the rule of :func:`coverage.analysis.zones.assign_zones`."""
    row, col, lon, lat = populated_pixels(grid)
    units = np.full(len(row), "", dtype=object)
    west, south, east, north = zones.total_bounds
    margin = 0.02  # degrees, beyond assign_zones' 1 km
    near = (lon >= west - margin) & (lon <= east + margin) & (lat >= south - margin) & (lat <= north + margin)
    if near.any():
        units[near] = zones_at(lon[near], lat[near], zones)
    return row, col, units


def calibrate_grid(
    grid: PopulationGrid, zones: gpd.GeoDataFrame, totals: PopulationTotals
) -> tuple[PopulationGrid, PopulationCalibration]:
    """Scale a population grid so that each unit's cells add up to its official total.

    Each populated pixel belongs to the unit holding its centre (or the nearest unit
    within 1 km, as :func:`coverage.analysis.zones.assign_zones` assigns places);
    all pixels of a unit are multiplied by the unit's total over its raster sum, so
    the pattern inside the unit is kept. Units without a total, units without
    cells, totals naming no unit and pixels outside every unit are left as they
    are and reported.

    Parameters
    ----------
    grid : PopulationGrid
        The raster, people per pixel.
    zones : GeoDataFrame
        The admin units (``zone`` and WGS84 polygons, as :func:`read_zones` gives).
    totals : PopulationTotals
        From :func:`read_population_totals` or :func:`totals_from_zones`.

    Returns
    -------
    (PopulationGrid, PopulationCalibration)
        The calibrated grid, and each unit's factor and status.
    """
    row, col, units = _pixel_units(grid, zones)
    values = grid.values[row, col]
    frame = pd.DataFrame({"unit": units, "people": values})
    grouped = frame[frame["unit"] != ""].groupby("unit")["people"]
    table = _unit_table(zones["zone"].astype(str).tolist(), grouped.sum(), grouped.size(), totals, basis="raster cells")
    calibration = PopulationCalibration(
        source=totals.source, basis="raster cells", units=table, unmatched=totals.unmatched
    )
    _warn(calibration)
    logger.info("population raster: %s", calibration.describe())
    return _scaled(grid, row, col, units, calibration.factors), calibration


def apply_calibration(
    grid: PopulationGrid, zones: gpd.GeoDataFrame, calibration: PopulationCalibration
) -> PopulationGrid:
    """The grid with the factors of an earlier calibration applied again (same units, same rule)."""
    row, col, units = _pixel_units(grid, zones)
    return _scaled(grid, row, col, units, calibration.factors)


def _scaled(
    grid: PopulationGrid, row: np.ndarray, col: np.ndarray, units: np.ndarray, factors: pd.Series
) -> PopulationGrid:
    codes, names = pd.factorize(units)
    scale = np.array([float(factors.get(name, 1.0)) for name in names])[codes] if len(names) else np.ones(0)
    values = grid.values.copy()
    values[row, col] = grid.values[row, col] * scale
    return PopulationGrid(values=values, transform=grid.transform, crs=grid.crs)


def calibrate_villages(
    villages: gpd.GeoDataFrame, totals: PopulationTotals, *, units: Sequence[str]
) -> tuple[gpd.GeoDataFrame, PopulationCalibration]:
    """Scale the villages' populations so that each unit's villages add up to its official total.

    Only units whose every village has a population are scaled (a village without
    one would stay at 0 while its neighbours took its people); the others are
    reported as ``villages_without_population``.

    Parameters
    ----------
    villages : GeoDataFrame
        With ``zone`` (from :func:`assign_zones`), ``population`` and ``population_source``.
    totals : PopulationTotals
    units : sequence of str
        Every unit's name, in the zones' order.

    Returns
    -------
    (GeoDataFrame, PopulationCalibration)
        The villages (``population_source`` of scaled ones ends in ``_calibrated``) and the calibration.
    """
    population = pd.to_numeric(villages["population"], errors="coerce")
    zone = villages["zone"].astype(str)
    grouped = population.groupby(zone)
    table = _unit_table(list(units), grouped.sum(min_count=0), zone.value_counts(), totals, basis="villages")
    missing = population.isna().groupby(zone).any()
    incomplete = table["unit"].map(missing).fillna(False).astype(bool) & (table["status"] != NO_TOTAL)
    table["status"] = table["status"].where(~incomplete, VILLAGES_WITHOUT_POPULATION)
    table["factor"] = table["factor"].where(~incomplete, math.nan)
    table["population_after"] = table["population_after"].where(~incomplete, table["population_before"])
    calibration = PopulationCalibration(source=totals.source, basis="villages", units=table, unmatched=totals.unmatched)
    factors = calibration.factors
    scale = zone.map(factors)
    scaled = villages.copy()
    chosen = scale.notna().to_numpy()
    scaled.loc[chosen, "population"] = population[chosen] * scale[chosen]
    scaled.loc[chosen, "population_source"] = scaled.loc[chosen, "population_source"].astype(str) + "_calibrated"
    calibration = with_region(calibration, scaled)
    _warn(calibration)
    logger.info("village populations: %s", calibration.describe())
    return scaled, calibration


def with_region(calibration: PopulationCalibration, places: pd.DataFrame) -> PopulationCalibration:
    """The calibration with what the analysed region holds: each unit's people in it, and those outside every unit.

    ``places`` are the analysis' cells (raster basis) or villages, with ``zone`` and
    ``population`` columns; a unit cut by the region's boundary holds fewer people
    in the region than its official total.
    """
    people = pd.to_numeric(places["population"], errors="coerce").fillna(0.0)
    zone = places["zone"].astype(str)
    in_region = people.groupby(zone).sum()
    units = calibration.units.assign(population_in_region=calibration.units["unit"].map(in_region).fillna(0.0))
    outside = zone == ""
    if outside.any():
        logger.warning(
            "%d %s (%.0f people) of the region lie outside every unit: not calibrated",
            int(outside.sum()),
            "cells" if calibration.basis == "raster cells" else "villages",
            float(people[outside].sum()),
        )
    return PopulationCalibration(
        source=calibration.source,
        basis=calibration.basis,
        units=units,
        unmatched=calibration.unmatched,
        outside_places=int(outside.sum()),
        outside_population=float(people[outside].sum()),
    )
