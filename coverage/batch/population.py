"""The population raster of a batch, calibrated once to official totals before it is cut per region.

A batch's regions (counties, townships) are often the very units whose census
totals a plan uses: ``population_totals`` gives one total per region (matched by
its id or name, or a column of the regions file). The raster is calibrated once,
unit by unit (:mod:`coverage.analysis.calibration`), written beside the extracts
with its credit in its tags, and each task cuts its region's window from it, so no
worker reads the whole raster. With the embedded default region's raster and no
totals given, it is calibrated to the 2017 census island totals.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.analysis.calibration import (
    PopulationCalibration,
    calibrate_grid,
)
from coverage.analysis.demand import PopulationGrid, read_population_grid
from coverage.analysis.totals import PopulationTotals, read_population_totals, totals_from_zones
from coverage.analysis.zones import read_zone_table, read_zones
from coverage.batch.task import json_key
from coverage.io.credits import credit_tags, raster_credit
from coverage.io.regions import Region

logger = logging.getLogger(__name__)


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


def batch_population(
    raster: str | os.PathLike[str],
    *,
    raster_sha256: str,
    regions: gpd.GeoDataFrame,
    totals: str | os.PathLike[str] | pd.DataFrame | Mapping[str, float] | None,
    totals_column: str | None,
    default: Region | None,
    out_dir: str | os.PathLike[str],
    label: str = "the regions",
) -> BatchPopulation:
    """The batch's raster, calibrated to the regions' official totals (or the default region's) when there are any.

    Parameters
    ----------
    raster : path
        The batch's population GeoTIFF.
    raster_sha256 : str
        Its hash.
    regions : GeoDataFrame
        ``region_id``, ``name``, WGS84 polygons, and ``totals_column`` when given.
    totals : path, DataFrame or mapping, optional
        Official population per region, matched by region id or name.
    totals_column : str, optional
        Or the column of ``regions`` holding them.
    default : Region, optional
        Calibrate to this region's own totals and units (the embedded region) when
        no totals are given.
    out_dir : path
        Where the calibrated raster is written (the batch's extracts folder).
    label : str
        How messages name the regions file.
    """
    raster = Path(raster)
    credit, licence = raster_credit(raster)
    if totals is not None or totals_column is not None:
        units, matched = _region_totals(regions, totals, totals_column, label=label)
        calibrated_to = matched.source
    else:
        chosen = _default_totals(default) if default is not None else None
        if chosen is None:
            return BatchPopulation(path=raster, sha256=raster_sha256, credit=credit)
        units, matched, calibrated_to = chosen
    key = json_key({"raster": raster_sha256, "totals": _totals_key(matched), "units": _units_key(units)})
    path = Path(out_dir) / f"{raster.name.split('.')[0]}.calibrated.{key[:24]}.tif"
    grid, calibration = calibrate_grid(read_population_grid(raster), units, matched)
    credit = f"{credit}, calibrated to {calibrated_to}"
    if not path.exists():
        write_population_grid(grid, path, tags=credit_tags(credit, licence))
    logger.info("population raster calibrated for the batch: %s; wrote %s", calibration.describe(), path)
    return BatchPopulation(path=path, sha256=key, credit=credit, calibration=calibration)


def _region_totals(
    regions: gpd.GeoDataFrame,
    totals: str | os.PathLike[str] | pd.DataFrame | Mapping[str, float] | None,
    totals_column: str | None,
    *,
    label: str,
) -> tuple[gpd.GeoDataFrame, PopulationTotals]:
    """The regions as units, and their totals matched by id or name (or from a column of the regions)."""
    units = gpd.GeoDataFrame({"zone": regions["region_id"].to_numpy()}, geometry=regions.geometry.to_numpy(), crs=4326)
    table = pd.DataFrame(regions.drop(columns=regions.geometry.name)).rename(columns={"region_id": "zone"})
    table.insert(1, "region_id", table["zone"])
    if totals_column is not None:
        return units, totals_from_zones(totals_column, units=table, label=label)
    if totals is None:
        msg = "no population totals to calibrate the batch's raster to"
        raise ValueError(msg)
    return units, read_population_totals(totals, units=table)


def _default_totals(region: Region) -> tuple[gpd.GeoDataFrame, PopulationTotals, str] | None:
    """The embedded region's units and census totals, when it has them."""
    if region.population_totals is None or region.zones is None:
        return None
    options = {"name_column": region.zones_name_column, "where": region.zones_where}
    units = read_zones(region.zones, **options)
    matched = read_population_totals(region.population_totals, units=read_zone_table(region.zones, **options))
    return units, matched, region.population_totals_credit or matched.source


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
