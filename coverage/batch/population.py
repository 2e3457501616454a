"""The population of a batch calibrated to official totals: per region, or the embedded raster once per island.

A batch's regions (counties, townships) are often the very units whose census totals
a plan uses: ``population_totals`` gives one total per region, matched by its id or
name (or a column of the regions file). Each task then calibrates its own window of
the raster (or its villages) to its region's total, so that the people the region's
analysis counts add up to it exactly; no worker reads the whole raster.

The embedded default raster is calibrated to the 2017 census island totals instead,
when no totals are given: once for the batch, island by island, written beside the
extracts with its credit in its tags; the tasks cut their windows from it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.analysis.calibration import CALIBRATED, NO_TOTAL, NO_UNIT, PopulationCalibration, calibrate_grid
from coverage.analysis.demand import PopulationGrid, read_population_grid
from coverage.analysis.totals import PopulationTotals, read_population_totals, totals_from_zones
from coverage.analysis.zones import read_zone_table, read_zones
from coverage.batch.task import json_key
from coverage.io.credits import credit_tags, raster_credit
from coverage.io.regions import Region

logger = logging.getLogger(__name__)

#: Status of a region whose task failed: its calibration is not known.
NOT_COMPUTED = "not_computed"


@dataclass(frozen=True)
class BatchPopulation:
    """The raster the regions' windows are cut from.

    Attributes
    ----------
    path : Path
        The raster given, or its calibrated copy.
    sha256 : str
        A key of its content (the raster's hash, with the totals and units it was calibrated to).
    credit : str
        Its data credit.
    calibration : PopulationCalibration or None
        How it was calibrated, unit by unit.
    """

    path: Path
    sha256: str
    credit: str
    calibration: PopulationCalibration | None = None


def region_totals(
    regions: gpd.GeoDataFrame,
    totals: str | os.PathLike[str] | pd.DataFrame | Mapping[str, float] | None,
    totals_column: str | None,
    *,
    label: str,
) -> PopulationTotals:
    """Each region's official total, indexed by region id: matched by id or name, or from a column of the regions.

    Raises
    ------
    InputError
        As :func:`coverage.analysis.totals.read_population_totals`.
    """
    table = pd.DataFrame(regions.drop(columns=regions.geometry.name)).rename(columns={"region_id": "zone"})
    table.insert(1, "region_id", table["zone"])
    if totals_column is not None:
        return totals_from_zones(totals_column, units=table, label=label)
    if totals is None:
        msg = "no population totals given for the regions"
        raise ValueError(msg)
    return read_population_totals(totals, units=table)


def calibrated_default_raster(
    raster: str | os.PathLike[str], *, raster_sha256: str, region: Region, out_dir: str | os.PathLike[str]
) -> BatchPopulation:
    """The embedded raster calibrated to its region's census totals, unit by unit, written once into ``out_dir``."""
    raster = Path(raster)
    credit, licence = raster_credit(raster)
    if region.population_totals is None or region.zones is None:
        return BatchPopulation(path=raster, sha256=raster_sha256, credit=credit)
    options: dict[str, Any] = {"name_column": region.zones_name_column, "where": region.zones_where}
    units = read_zones(region.zones, **options)
    totals = read_population_totals(region.population_totals, units=read_zone_table(region.zones, **options))
    key = json_key({"raster": raster_sha256, "totals": _totals_key(totals), "units": _units_key(units)})
    path = Path(out_dir) / f"{raster.name.split('.')[0]}.calibrated.{key[:24]}.tif"
    grid, calibration = calibrate_grid(read_population_grid(raster), units, totals)
    credit = f"{credit}, calibrated to {region.population_totals_credit or totals.source}"
    if not path.exists():
        write_population_grid(grid, path, tags=credit_tags(credit, licence))
    logger.info("population raster calibrated for the batch: %s; wrote %s", calibration.describe(), path)
    return BatchPopulation(path=path, sha256=key, credit=credit, calibration=calibration)


def calibration_by_region(summary: pd.DataFrame, totals: PopulationTotals, *, basis: str) -> pd.DataFrame:
    """The batch's ``population_calibration.csv`` for per-region totals: one row per region, then unmatched totals.

    ``summary`` holds the regions' rows (``region_id``, ``name``, ``status`` and the
    ``population_*`` figures each task returned, see :func:`coverage.batch.task.calibration_figures`).
    """
    rows = []
    for row in summary.to_dict(orient="records"):
        official = totals.totals.get(row["region_id"])
        status = row.get("population_calibration")
        if not isinstance(status, str) or not status:
            status = NO_TOTAL if official is None else NOT_COMPUTED
        rows.append(
            {
                "unit": row["region_id"],
                "name": row["name"],
                "status": status,
                "official_population": official,
                "population_before": row.get("population_before"),
                "factor": row.get("population_factor"),
                "population_after": row.get("population") if status == CALIBRATED else None,
                basis: row.get("population_places"),
            }
        )
    for unit, people in zip(totals.unmatched["unit"], totals.unmatched["official_population"], strict=True):
        rows.append({"unit": unit, "name": "", "status": NO_UNIT, "official_population": people})
    return pd.DataFrame(rows)


def _totals_key(totals: PopulationTotals) -> list[list[object]]:
    return [[str(unit), float(people)] for unit, people in sorted(totals.totals.items())]


def _units_key(units: gpd.GeoDataFrame) -> str:
    digest = hashlib.sha256()
    for name, geometry in zip(units["zone"].astype(str), units.geometry, strict=True):
        digest.update(name.encode())
        digest.update(shapely.to_wkb(geometry))
    return digest.hexdigest()


def write_population_grid(grid: PopulationGrid, path: str | os.PathLike[str], *, tags: dict[str, str]) -> Path:
    """Write a population grid as a compressed GeoTIFF (people per pixel, float64) with tags, atomically."""
    import rasterio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".partial-{path.name}")
    profile = {
        "driver": "GTiff",
        "width": grid.values.shape[1],
        "height": grid.values.shape[0],
        "count": 1,
        "dtype": "float64",
        "crs": grid.crs.to_wkt(),
        "transform": grid.transform,
        "compress": "deflate",
    }
    try:
        with rasterio.open(temporary, "w", **profile) as dst:
            dst.write(np.asarray(grid.values, dtype=np.float64), 1)
            dst.update_tags(**tags)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
