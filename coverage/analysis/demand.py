"""Where people live: population raster cells and villages.

Population comes from the user's own data: a WorldPop-style GeoTIFF of people per
pixel (read with rasterio) turned into weighted points, and/or villages with a
population column. When villages carry no population, it can be estimated from
the raster by giving each populated cell to its nearest village.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from coverage._errors import InputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PopulationGrid:
    """A population raster in memory: people per pixel (0 where no data), its transform and CRS."""

    values: np.ndarray
    transform: Affine
    crs: CRS

    def block_sum(self, k: int) -> PopulationGrid:
        """The grid with ``k`` x ``k`` blocks of pixels summed into one (edges padded with 0)."""
        if k == 1:
            return self
        rows = -(-self.values.shape[0] // k) * k
        cols = -(-self.values.shape[1] // k) * k
        padded = np.zeros((rows, cols))
        padded[: self.values.shape[0], : self.values.shape[1]] = self.values
        summed = padded.reshape(rows // k, k, cols // k, k).sum(axis=(1, 3))
        return PopulationGrid(values=summed, transform=self.transform @ Affine.scale(k, k), crs=self.crs)


def read_population_grid(path: str | os.PathLike[str]) -> PopulationGrid:
    """Read band 1 of a population GeoTIFF; negative, NaN and nodata pixels count as 0 people.

    Raises
    ------
    InputError
        When the file is missing, not a raster, or has no CRS.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        msg = f"population raster not found: {path}"
        raise InputError(msg)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                msg = f"{path}: the raster has no CRS. Assign one (e.g. `gdal_edit.py -a_srs EPSG:4326 {path.name}`)."
                raise InputError(msg)
            values = src.read(1, masked=True).astype(np.float64).filled(0.0)
            transform, crs = src.transform, CRS.from_user_input(src.crs)
    except RasterioIOError as error:
        msg = f"{path}: cannot read this raster ({error}). Give a GeoTIFF of people per pixel, e.g. WorldPop's *_ppp_*.tif."
        raise InputError(msg) from error
    values[~np.isfinite(values) | (values < 0)] = 0.0
    return PopulationGrid(values=values, transform=transform, crs=crs)


#: Raster cells this far outside a boundary still count (coastlines and borders are drawn coarsely).
BOUNDARY_TOLERANCE_M = 500.0


def widened_boundary(boundary: shapely.Geometry, tolerance_m: float) -> shapely.Geometry:
    """A WGS84 boundary grown by about ``tolerance_m``, so that raster cells on a coastline are kept."""
    if tolerance_m <= 0:
        return boundary
    # metres to degrees at the boundary's latitude (longitude degrees shrink with latitude)
    lat_c = abs(shapely.centroid(boundary).y)
    tolerance_deg = tolerance_m / (111_320.0 * max(np.cos(np.radians(lat_c)), 0.2))
    # simplify first (to a tenth of the tolerance): buffering a detailed coastline is slow
    return shapely.buffer(shapely.simplify(boundary, tolerance_deg / 10), tolerance_deg, quad_segs=4)


def populated_pixels(grid: PopulationGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row, column, longitude and latitude (WGS84) of the centre of every pixel with people."""
    row, col = np.nonzero(grid.values > 0)
    x, y = grid.transform @ (col + 0.5, row + 0.5)  # type: ignore[operator]  # affine maps arrays too
    if grid.crs.equals(CRS.from_epsg(4326)):
        return row, col, np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = Transformer.from_crs(grid.crs, 4326, always_xy=True).transform(np.asarray(x), np.asarray(y))
    return row, col, np.asarray(lon), np.asarray(lat)


def population_cells(
    source: str | os.PathLike[str] | PopulationGrid,
    *,
    boundary: shapely.Geometry | None = None,
    boundary_tolerance_m: float = BOUNDARY_TOLERANCE_M,
    aggregate: int = 1,
    label: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a population raster as one weighted point per populated cell.

    Parameters
    ----------
    source : str, path-like or PopulationGrid
        GeoTIFF of people per pixel (e.g. WorldPop ``*_ppp_*``), any CRS; or a
        grid already in memory (e.g. calibrated to census totals).
    boundary : shapely geometry, optional
        WGS84 polygon; cells whose centre is farther outside than
        ``boundary_tolerance_m`` are left out (and counted in a log message).
    boundary_tolerance_m : float
        Coastlines and borders of admin polygons and rasters rarely agree: cells
        whose centre lies this close outside the boundary still belong to it.
    aggregate : int
        Sum blocks of ``aggregate`` x ``aggregate`` pixels into one cell (fewer,
        coarser demand points for large regions).
    label : str, optional
        How messages name the raster (default: its file name).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points at cell centres with ``id`` (``"r<row>c<col>"``) and
        ``population`` (float), only cells with population > 0.
    """
    if aggregate < 1:
        msg = f"aggregate must be a whole number >= 1, got {aggregate}"
        raise InputError(msg)
    if isinstance(source, PopulationGrid):
        grid, name = source, label or "the population grid"
    else:
        grid, name = read_population_grid(source), label or Path(source).name
    grid = grid.block_sum(aggregate)
    row, col, lon, lat = populated_pixels(grid)
    cells = gpd.GeoDataFrame(
        {"id": [f"r{r}c{c}" for r, c in zip(row, col, strict=True)], "population": grid.values[row, col]},
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    if boundary is not None:
        region = widened_boundary(boundary, boundary_tolerance_m)
        inside = shapely.contains_xy(region, lon, lat)
        if not inside.all():
            logger.info(
                "%s: %d cells (%.0f people) lie outside the boundary (beyond %g m) and are not counted",
                name,
                int((~inside).sum()),
                float(cells.loc[~inside, "population"].sum()),
                boundary_tolerance_m,
            )
        cells = cells[inside].reset_index(drop=True)
    if cells.empty:
        msg = f"{name}: no populated cells{' inside the boundary' if boundary is not None else ''}. Check the raster covers the region."
        raise InputError(msg)
    logger.info("%s: %d populated cells, %.0f people", name, len(cells), cells["population"].sum())
    return cells


def population_by_nearest_place(
    places: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 3000.0,
) -> pd.Series:
    """Estimate each place's population as the people of the cells nearest to it.

    Every populated cell goes to its nearest place within ``max_distance_m``
    (a Voronoi split of the raster); cells farther from every place belong to none.

    Returns
    -------
    pandas.Series
        Population per place, aligned with ``places``.
    """
    if places.empty:
        return pd.Series([], dtype=float)
    from scipy.spatial import cKDTree

    crs = places.estimate_utm_crs()
    place_xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(places.geometry.to_crs(crs).values)))
    cell_xy = shapely.get_coordinates(np.asarray(cells.geometry.to_crs(crs).values))
    # a k-d tree of the few places answers the many cells' nearest-place queries at C speed
    distance, place_index = cKDTree(place_xy).query(cell_xy, distance_upper_bound=max_distance_m)
    near = np.isfinite(distance)
    totals = np.bincount(place_index[near], weights=cells["population"].to_numpy()[near], minlength=len(places))
    return pd.Series(totals, index=places.index, name="population")
