"""The travel-time surface as GeoTIFF files that open styled in QGIS.

:func:`write_surface_rasters` writes two Cloud-Optimized GeoTIFFs (tiled,
DEFLATE-compressed, with overviews) on the surface's grid:

- ``traveltime.tif``: float32 minutes to (or from) the nearest facility; nodata
  (NaN) outside the region and where no facility is reached;
- ``nearest_facility.tif``: int32 number of the nearest facility, 1 for the first
  row of the ``facilities`` layer (and of ``catchments.csv``'s ``raster_value``); 0 nodata.

Each gets a QGIS style file beside it (``traveltime.qml``, ``nearest_facility.qml``),
which QGIS applies when the raster is added: the minutes in the map's colour
classes, the facilities by name.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from coverage.analysis.grid import Grid
from coverage.analysis.result import Analysis
from coverage.outputs.styles import nearest_facility_qml, traveltime_qml

logger = logging.getLogger(__name__)

TRAVELTIME_TIF = "traveltime.tif"
NEAREST_FACILITY_TIF = "nearest_facility.tif"
#: Overview levels are added while the raster is larger than this many pixels on a side.
OVERVIEW_MIN_PIXELS = 256


def _write_cog(
    path: Path,
    values: np.ndarray,
    *,
    grid: Grid,
    analysis: Analysis,
    nodata: float,
    predictor: int,
    resampling: str,
    description: str,
    unit: str,
) -> None:
    """One band as a Cloud-Optimized GeoTIFF: built in memory, then copied with the COG driver."""
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as copy_raster

    profile = {
        "driver": "GTiff",
        "height": grid.shape[0],
        "width": grid.shape[1],
        "count": 1,
        "dtype": values.dtype.name,
        "crs": grid.crs.to_wkt(),
        "transform": grid.transform,
        "nodata": nodata,
    }
    with MemoryFile() as memory:
        with memory.open(**profile) as dataset:
            dataset.write(values, 1)
            dataset.set_band_description(1, description)
            dataset.set_band_unit(1, unit)
            dataset.update_tags(
                TIFFTAG_COPYRIGHT=analysis.attribution,
                TIFFTAG_IMAGEDESCRIPTION=description,
                region=analysis.region,
                profile=analysis.profile.name,
                direction=analysis.direction,
                thresholds_minutes=",".join(f"{m:g}" for m in analysis.minutes),
            )
        with memory.open() as dataset:
            copy_raster(
                dataset,
                str(path),
                driver="COG",
                compress="DEFLATE",
                predictor=predictor,
                blocksize=256,
                overviews="AUTO" if max(grid.shape) > OVERVIEW_MIN_PIXELS else "NONE",
                overview_resampling=resampling,
                bigtiff="IF_SAFER",
            )
    with rasterio.open(path) as check:
        logger.info("wrote %s (%d x %d, overviews %s)", path.name, check.width, check.height, check.overviews(1))


def write_surface_rasters(analysis: Analysis, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``traveltime.tif`` and ``nearest_facility.tif`` (with their ``.qml`` styles) into ``folder``.

    Returns
    -------
    list of Path
        The files written; none when the analysis has no surface.
    """
    surface = analysis.surface
    if surface is None:
        return []
    folder = Path(folder)
    minutes = surface.minutes_grid()
    facility = surface.facility_grid() + 1  # 1-based, 0 = nodata
    direction = "to the nearest facility" if analysis.direction == "to_facility" else "from the nearest facility"
    _write_cog(
        folder / TRAVELTIME_TIF,
        minutes,
        grid=surface.grid,
        analysis=analysis,
        nodata=float("nan"),
        predictor=3,
        resampling="AVERAGE",
        description=f"minutes {direction} ({analysis.profile.name}); nodata outside the region and where unreached",
        unit="minutes",
    )
    _write_cog(
        folder / NEAREST_FACILITY_TIF,
        facility.astype(np.int32),
        grid=surface.grid,
        analysis=analysis,
        nodata=0,
        predictor=2,
        resampling="MODE",
        description="number of the nearest facility (row of the facilities layer, from 1); 0 nodata",
        unit="",
    )
    (folder / Path(TRAVELTIME_TIF).with_suffix(".qml")).write_text(traveltime_qml(analysis), encoding="utf-8")
    (folder / Path(NEAREST_FACILITY_TIF).with_suffix(".qml")).write_text(
        nearest_facility_qml(analysis.facilities), encoding="utf-8"
    )
    names = [TRAVELTIME_TIF, "traveltime.qml", NEAREST_FACILITY_TIF, "nearest_facility.qml"]
    return [folder / name for name in names]
