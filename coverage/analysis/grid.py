"""The raster grid of a region's travel-time surface, and which of its cells belong to the region.

The surface lies on the population raster's own grid when there is one (a window
of it covering the region: the cells, their centres and their people are the
raster's), or else on a square grid of ``cell_m`` metres in the network's
projected CRS, aligned on multiples of ``cell_m`` so that two runs share cells.

A cell belongs to the region when its centre lies inside the boundary, grown by
the same tolerance as the population cells (coastlines and borders are drawn
coarsely); without a boundary, every cell of the network's extent within reach
of a road (see :func:`coverage.analysis.surface.travel_time_surface`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Geod, Transformer

from coverage._errors import InputError
from coverage.analysis.demand import BOUNDARY_TOLERANCE_M, widened_boundary

logger = logging.getLogger(__name__)

#: Side of the cells of the surface when there is no population raster, in metres.
DEFAULT_CELL_M = 100.0
#: Largest number of cells a surface may have (a float64 and an int32 array of this many: 1.2 GB).
MAX_CELLS = 100_000_000


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid.

    Attributes
    ----------
    transform : affine.Affine
        Maps (column, row) of cell corners to coordinates in ``crs``.
    shape : (int, int)
        Rows and columns.
    crs : pyproj.CRS
    """

    transform: Affine
    shape: tuple[int, int]
    crs: CRS

    @property
    def size(self) -> int:
        """Number of cells."""
        return self.shape[0] * self.shape[1]

    def centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates (in ``crs``) of the centres of the cells at ``rows``, ``cols``."""
        t = self.transform
        c, r = np.asarray(cols, dtype=np.float64) + 0.5, np.asarray(rows, dtype=np.float64) + 0.5
        return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f

    def cells_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cells holding the points ``x``, ``y`` (in ``crs``); -1 outside the grid."""
        col, row = ~self.transform @ (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        row = np.floor(row).astype(np.int64)
        col = np.floor(col).astype(np.int64)
        outside = (row < 0) | (row >= self.shape[0]) | (col < 0) | (col >= self.shape[1])
        return np.where(outside, -1, row), np.where(outside, -1, col)

    def cell_area_m2(self) -> np.ndarray:
        """Area of the cells of each row in m² (on the WGS84 ellipsoid for a geographic grid), shape (rows,)."""
        t = self.transform
        rows = self.shape[0]
        if not self.crs.is_geographic:
            return np.full(rows, abs(t.a * t.e - t.b * t.d))
        geod = Geod(ellps="WGS84")
        top = t.f + t.e * np.arange(rows)
        bottom = top + t.e
        areas = np.empty(rows)
        for i in range(rows):
            lons = [t.c, t.c + t.a, t.c + t.a, t.c]
            lats = [top[i], top[i], bottom[i], bottom[i]]
            areas[i] = abs(geod.polygon_area_perimeter(lons, lats)[0])
        return areas

    def cell_size_m(self) -> float:
        """Approximate side of a cell in metres (the square root of the mean cell area)."""
        return float(np.sqrt(np.mean(self.cell_area_m2())))

    def window(self, rows: slice, cols: slice) -> Grid:
        """The part of the grid at ``rows`` and ``cols`` (slices with a step of 1)."""
        r0, r1, _ = rows.indices(self.shape[0])
        c0, c1, _ = cols.indices(self.shape[1])
        return Grid(self.transform @ Affine.translation(c0, r0), (r1 - r0, c1 - c0), self.crs)


def _check_size(grid: Grid, what: str) -> Grid:
    if grid.size > MAX_CELLS:
        msg = (
            f"{what}: the travel-time surface would have {grid.size:,} cells (more than {MAX_CELLS:,}). "
            "Give a --boundary to clip the region, or a coarser --cell-m."
        )
        raise InputError(msg)
    if grid.shape[0] < 1 or grid.shape[1] < 1:
        msg = f"{what}: the region covers no cell of the grid; check that the raster covers the region."
        raise InputError(msg)
    return grid


def grid_from_raster(
    path: str | os.PathLike[str], *, bounds_lonlat: tuple[float, float, float, float] | None = None
) -> Grid:
    """The window of a raster's grid covering a WGS84 box (the whole raster without one).

    Parameters
    ----------
    path : path
        A GeoTIFF, e.g. the population raster.
    bounds_lonlat : (west, south, east, north), optional
        The box to cover, in degrees.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.windows import from_bounds

    path = Path(path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                msg = f"{path}: the raster has no CRS. Assign one (e.g. `gdal_edit.py -a_srs EPSG:4326 {path.name}`)."
                raise InputError(msg)
            crs = CRS.from_user_input(src.crs)
            transform, height, width = src.transform, src.height, src.width
    except RasterioIOError as error:
        msg = f"{path}: cannot read this raster ({error})."
        raise InputError(msg) from error
    full = Grid(transform, (height, width), crs)
    if bounds_lonlat is None:
        return _check_size(full, str(path))
    if transform.b != 0 or transform.d != 0:
        msg = f"{path}: the raster is rotated; warp it to a north-up grid first (gdalwarp)."
        raise InputError(msg)
    west, south, east, north = Transformer.from_crs(4326, crs, always_xy=True).transform_bounds(*bounds_lonlat)
    window = from_bounds(west, south, east, north, transform=transform)
    row0 = max(int(np.floor(window.row_off)), 0)
    col0 = max(int(np.floor(window.col_off)), 0)
    row1 = min(int(np.ceil(window.row_off + window.height)), height)
    col1 = min(int(np.ceil(window.col_off + window.width)), width)
    if row1 <= row0 or col1 <= col0:
        msg = f"{path}: the raster does not cover the region (its extent and the region's do not meet)."
        raise InputError(msg)
    return _check_size(full.window(slice(row0, row1), slice(col0, col1)), str(path))


def grid_of_cells(crs: CRS, *, bounds: tuple[float, float, float, float], cell_m: float) -> Grid:
    """A square grid of ``cell_m`` covering ``bounds`` (in the projected ``crs``), aligned on multiples of ``cell_m``."""
    if not (np.isfinite(cell_m) and cell_m > 0):
        msg = f"cell_m must be a positive number of metres, got {cell_m}"
        raise InputError(msg)
    if crs.is_geographic:
        msg = "a grid of metres needs a projected CRS"
        raise InputError(msg)
    west, south, east, north = bounds
    x0 = np.floor(west / cell_m) * cell_m
    y1 = np.ceil(north / cell_m) * cell_m
    cols = max(int(np.ceil((east - x0) / cell_m)), 1)
    rows = max(int(np.ceil((y1 - south) / cell_m)), 1)
    return _check_size(Grid(Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1), (rows, cols), crs), f"--cell-m {cell_m:g}")


def _to_grid_crs(geometry: shapely.Geometry, grid: Grid) -> shapely.Geometry:
    """A WGS84 geometry in the grid's CRS."""
    if grid.crs.equals(CRS.from_epsg(4326)):
        return geometry
    to_grid = Transformer.from_crs(4326, grid.crs, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))


def cells_inside(
    grid: Grid, boundary: shapely.Geometry, *, boundary_tolerance_m: float = BOUNDARY_TOLERANCE_M
) -> np.ndarray:
    """Cells whose centre lies inside a WGS84 boundary grown by ``boundary_tolerance_m`` (as the population cells).

    Returns
    -------
    numpy.ndarray
        bool, the grid's shape.
    """
    from rasterio.features import geometry_mask

    # normalised first: the widening simplifies the outline, and simplification depends on where
    # its rings start, so the same outline read from another file would give other edge cells
    region = _to_grid_crs(widened_boundary(shapely.normalize(boundary), boundary_tolerance_m), grid)
    if shapely.is_empty(region):
        return np.zeros(grid.shape, dtype=bool)
    # GDAL burns a cell when its centre is inside the polygon
    return geometry_mask([region], out_shape=grid.shape, transform=grid.transform, invert=True, all_touched=False)


def lonlat_to_cells(grid: Grid, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the grid cells holding WGS84 points; -1 outside the grid."""
    if grid.crs.equals(CRS.from_epsg(4326)):
        return grid.cells_of(lon, lat)
    x, y = Transformer.from_crs(4326, grid.crs, always_xy=True).transform(np.asarray(lon), np.asarray(lat))
    return grid.cells_of(np.asarray(x), np.asarray(y))


def surface_grid(
    *,
    network_crs: CRS,
    extent_lonlat: tuple[float, float, float, float],
    boundary: shapely.Geometry | None,
    population: str | os.PathLike[str] | None,
    cells_bounds: tuple[float, float, float, float] | None = None,
    cell_m: float = DEFAULT_CELL_M,
    margin_m: float = 0.0,
) -> Grid:
    """The grid of a region's surface: the population raster's (a window of it), else ``cell_m`` squares.

    Parameters
    ----------
    network_crs : pyproj.CRS
        The network's projected CRS (the ``cell_m`` grid is drawn in it).
    extent_lonlat : (west, south, east, north)
        The network's extent, covered when there is no boundary.
    boundary : shapely geometry, optional
        The region's WGS84 outline; its bounds (grown by the boundary tolerance) are covered.
    population : path, optional
        The population raster, whose grid is used.
    cells_bounds : (west, south, east, north), optional
        The populated cells' extent, always covered.
    cell_m : float
        Side of the cells without a raster.
    margin_m : float
        Grow the network's extent by this much (e.g. the snap tolerance) when there is no boundary.
    """
    if boundary is not None:
        west, south, east, north = shapely.bounds(widened_boundary(boundary, BOUNDARY_TOLERANCE_M)).tolist()
    else:
        lat = (extent_lonlat[1] + extent_lonlat[3]) / 2
        dx = margin_m / (111_320.0 * max(np.cos(np.radians(lat)), 0.2))
        dy = margin_m / 110_574.0
        west, south = extent_lonlat[0] - dx, extent_lonlat[1] - dy
        east, north = extent_lonlat[2] + dx, extent_lonlat[3] + dy
    if cells_bounds is not None:
        west, south = min(west, cells_bounds[0]), min(south, cells_bounds[1])
        east, north = max(east, cells_bounds[2]), max(north, cells_bounds[3])
    if population is not None:
        return grid_from_raster(population, bounds_lonlat=(west, south, east, north))
    projected = Transformer.from_crs(4326, network_crs, always_xy=True).transform_bounds(west, south, east, north)
    return grid_of_cells(network_crs, bounds=projected, cell_m=cell_m)


def population_on_grid(grid: Grid, cells: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The populated cells' people placed on the grid.

    Returns
    -------
    population : numpy.ndarray
        float64 people per grid cell (the grid's shape).
    rows, cols : numpy.ndarray
        The grid cell of each populated cell, row for row.

    Raises
    ------
    InputError
        When a populated cell falls outside the grid (the raster and the grid differ).
    """
    rows, cols = lonlat_to_cells(grid, cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy())
    if (rows < 0).any():
        msg = f"{int((rows < 0).sum())} populated cells lie outside the travel-time surface's grid"
        raise InputError(msg)
    population = np.zeros(grid.shape)
    np.add.at(population, (rows, cols), cells["population"].to_numpy(dtype=np.float64))
    return population, rows, cols


def zones_of_cells(
    grid: Grid,
    zones: gpd.GeoDataFrame | None,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    max_distance_m: float = 1000.0,
) -> np.ndarray:
    """Name of the zone holding each grid cell's centre (the first zone listed where they overlap).

    The zones are burned onto the grid once (a cell belongs to a zone when its centre
    is inside) instead of a point-in-polygon test per cell. A cell in no zone (on a
    coast or border the zone polygons draw slightly differently) gets the zone of the
    nearest burned cell within ``max_distance_m``, as
    :func:`coverage.analysis.zones.assign_zones` gives points the nearest zone; farther
    cells get ``""``.
    """
    from rasterio.features import rasterize
    from scipy.spatial import cKDTree

    names = np.full(len(rows), "", dtype=object)
    if zones is None or zones.empty or len(rows) == 0:
        return names
    shapes = [(_to_grid_crs(geometry, grid), i + 1) for i, geometry in enumerate(zones.geometry)]
    # later shapes overwrite earlier ones: burn in reverse so that the first zone listed wins
    burned = rasterize(shapes[::-1], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="int32")
    index = burned[rows, cols]
    missing = np.flatnonzero(index == 0)
    if len(missing) and (burned > 0).any():
        # the nearest zone cell lies on a zone's edge: search those cells only
        inner = burned > 0
        edge = inner.copy()
        edge[1:-1, 1:-1] = inner[1:-1, 1:-1] & ~(
            inner[:-2, 1:-1] & inner[2:, 1:-1] & inner[1:-1, :-2] & inner[1:-1, 2:]
        )
        edge_rows, edge_cols = np.nonzero(edge)
        tree = cKDTree(_metres(grid, edge_rows, edge_cols))
        distance, nearest = tree.query(_metres(grid, rows[missing], cols[missing]), distance_upper_bound=max_distance_m)
        close = np.isfinite(distance)
        index[missing[close]] = burned[edge_rows[nearest[close]], edge_cols[nearest[close]]]
    zone_names = zones["zone"].to_numpy(dtype=object)
    names[index > 0] = zone_names[index[index > 0] - 1]
    return names


def _metres(grid: Grid, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Cell centres as (n, 2) local metres (degrees scaled at the grid's middle latitude for a geographic grid)."""
    x, y = grid.centres(rows, cols)
    if not grid.crs.is_geographic:
        return np.column_stack([x, y])
    t = grid.transform
    lat = t.f + t.e * grid.shape[0] / 2
    return np.column_stack([x * 111_320.0 * max(np.cos(np.radians(lat)), 0.01), y * 110_574.0])
