"""The travel-time surface: minutes to (or from) the nearest facility for every cell of a region.

Every cell of the region, populated or not, is timed exactly as a village would be
at the cell's centre: attached to the nearest road piece with an off-road leg at the
profile's access speed, read from the one multi-source search (both ends of its
piece, or along it from a facility on the same piece), and given the straight
off-road trip to a nearby facility when that is quicker
(:func:`coverage.network.offroad.direct_offroad`). Cells whose road piece no
facility reaches are unreached (nodata), never dropped.

This is the raster a planner knows from WHO AccessMod: the isochrone areas, the
catchments and the populated cells' coverage are all read from it, so the people
inside an isochrone area are the people the headline counts as covered.

Snapping every cell is the one costly step; it depends only on the roads'
geometry and the grid, so it is cached on disk (and in memory) and shared by
every profile that drives the same roads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

from coverage._errors import InputError
from coverage.analysis.grid import Grid
from coverage.network.offroad import direct_offroad
from coverage.network.prepared import Network, arrays_sha256, cache_key, default_cache_dir
from coverage.network.routing import Reach, reach_points
from coverage.network.snapping import Attachment, snap_to_roads

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: The label of the surface's step in :func:`coverage.analysis.run.analyze`; details of it start with ``STEP:``.
STEP = "travel-time surface"

#: Cells snapped per call, so that progress (and an estimate of the time left) can be shown.
SNAP_CHUNK = 50_000
#: Snapped grids kept in memory, for analyses of the same region one after the other (check, report).
MEMORY_CACHE_SIZE = 4

_memory: OrderedDict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()


@dataclass(frozen=True)
class TravelTimeSurface:
    """Travel time to (or from) the nearest facility for every cell of a region.

    Only the region's cells are stored, as flat arrays in row-major order of the
    grid; :meth:`minutes_grid` and :meth:`facility_grid` give the full rasters.

    Attributes
    ----------
    grid : Grid
        The raster grid (the population raster's, or ``cell_m`` squares).
    flat : numpy.ndarray
        int64 row-major index of each region cell in the grid, ascending.
    seconds : numpy.ndarray
        float64 seconds to (or from) the nearest facility; ``inf`` unreached.
    facility : numpy.ndarray
        int32 index of that facility (into ``facility_ids``); -1 unreached.
    population : numpy.ndarray
        float64 people in the cell (0 without a population raster).
    direct : numpy.ndarray
        bool, the time is the straight off-road trip to the facility.
    facility_ids : numpy.ndarray
        The facilities' ids, in the order of the facility index.
    direction : str
        ``"to_facility"`` or ``"from_facility"``.
    boundary : shapely geometry or None
        The region's WGS84 outline, when one was given.
    attachment : Attachment
        How each region cell's centre was attached to the roads (ids are the flat indices).
    """

    grid: Grid
    flat: np.ndarray
    seconds: np.ndarray
    facility: np.ndarray
    population: np.ndarray
    direct: np.ndarray
    facility_ids: np.ndarray
    direction: str
    boundary: shapely.Geometry | None = None
    attachment: Attachment | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.flat)

    @property
    def rows(self) -> np.ndarray:
        """Row of each region cell."""
        return self.flat // self.grid.shape[1]

    @property
    def cols(self) -> np.ndarray:
        """Column of each region cell."""
        return self.flat % self.grid.shape[1]

    @property
    def reached(self) -> np.ndarray:
        """bool per region cell: some facility reaches it."""
        return np.isfinite(self.seconds)

    def within(self, minutes: float) -> np.ndarray:
        """bool per region cell: within ``minutes`` (``seconds <= minutes * 60``, no rounding)."""
        return self.seconds <= float(minutes) * 60.0

    def cell_area_m2(self) -> np.ndarray:
        """Area of each region cell in m²."""
        return self.grid.cell_area_m2()[self.rows]

    def positions(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Position (into the flat arrays) of the cells at ``rows``, ``cols``; -1 where not a region cell."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        if len(self.flat) == 0:
            return np.full(len(rows), -1, dtype=np.int64)
        n_rows, n_cols = self.grid.shape
        on_grid = (rows >= 0) & (rows < n_rows) & (cols >= 0) & (cols < n_cols)
        wanted = rows * n_cols + cols
        at = np.minimum(np.searchsorted(self.flat, wanted), len(self.flat) - 1)
        return np.where(on_grid & (self.flat[at] == wanted), at, -1)

    def minutes_grid(self) -> np.ndarray:
        """float32 minutes on the whole grid; NaN outside the region and where unreached."""
        out = np.full(self.grid.size, np.nan, dtype=np.float32)
        out[self.flat] = np.where(self.reached, self.seconds / 60.0, np.nan)
        return out.reshape(self.grid.shape)

    def facility_grid(self) -> np.ndarray:
        """int32 facility index on the whole grid; -1 outside the region and where unreached."""
        out = np.full(self.grid.size, -1, dtype=np.int32)
        out[self.flat] = self.facility
        return out.reshape(self.grid.shape)

    def region_grid(self) -> np.ndarray:
        """bool on the whole grid: the region's cells."""
        out = np.zeros(self.grid.size, dtype=bool)
        out[self.flat] = True
        return out.reshape(self.grid.shape)


def _grid_key(network: Network, grid: Grid, inside: np.ndarray) -> str:
    mask = hashlib.sha256(np.packbits(inside.ravel()).tobytes()).hexdigest()
    t = grid.transform
    return cache_key(
        "cells",
        network.geometry_fingerprint,
        grid.crs.to_wkt(),
        repr((t.a, t.b, t.c, t.d, t.e, t.f)),
        repr(grid.shape),
        mask,
    )


def _snap_in_chunks(
    network: Network, points: np.ndarray, progress: Progress
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = []
    started = time.perf_counter()
    total = len(points)
    for start in range(0, total, SNAP_CHUNK):
        parts.append(snap_to_roads(network, points[start : start + SNAP_CHUNK]))
        done = min(start + SNAP_CHUNK, total)
        if done < total:
            elapsed = time.perf_counter() - started
            left = elapsed / done * (total - done)
            progress(f"{STEP}: {done:,} of {total:,} cells snapped, about {left:.0f} s left")
    if not parts:
        return snap_to_roads(network, points)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate([p[3] for p in parts]),
    )


def snap_cells(
    network: Network,
    grid: Grid,
    inside: np.ndarray,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Snap the centres of the grid cells marked ``inside`` to the nearest road piece, with a cache.

    The result depends only on the roads' geometry (their fingerprint), the grid and
    the cells, so it is kept in ``cache_dir`` and in memory, and shared by profiles
    that drive the same roads.

    Returns
    -------
    segment, fraction, distance_m, snapped_xy : numpy.ndarray
        As :func:`coverage.network.snapping.snap_to_roads`, for the cells in row-major order.
    """
    step = progress or (lambda label: None)
    key = _grid_key(network, grid, inside)
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]
    cache_file = Path(cache_dir or default_cache_dir()) / f"cells.{key}.npz"
    snapped: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    if use_cache and cache_file.exists():
        try:
            snapped = _load(cache_file, cells=int(inside.sum()), segments=network.n_segments)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            logger.warning("the cells cache %s cannot be used (%s); snapping the cells again", cache_file, error)
        else:
            logger.info("loaded the snapping of %d cells from %s", len(snapped[0]), cache_file)
    if snapped is None:
        rows, cols = np.nonzero(inside)
        x, y = grid.centres(rows, cols)
        if not grid.crs.equals(network.crs):
            x, y = Transformer.from_crs(grid.crs, network.crs, always_xy=True).transform(x, y)
        step(f"{STEP}: snapping {len(rows):,} cell centres to the roads (once; cached for the next runs)")
        snapped = _snap_in_chunks(network, np.asarray(shapely.points(np.asarray(x), np.asarray(y))), step)
        if use_cache:
            _save(cache_file, snapped)
    _memory[key] = snapped
    while len(_memory) > MEMORY_CACHE_SIZE:
        _memory.popitem(last=False)
    return snapped


def _arrays(snapped: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "segment": snapped[0].astype(np.int32),
        "fraction": np.asarray(snapped[1]),
        "distance": np.asarray(snapped[2]),
        "snapped_xy": np.asarray(snapped[3]),
    }


def _load(path: Path, *, cells: int, segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A snapped grid written by :func:`_save`, checked against its checksum and the network (else ValueError).

    As the network cache: a file damaged on disk or edited is snapped again, never trusted.
    """
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in ("segment", "fraction", "distance", "snapped_xy")}
        stored = str(data["sha256"]) if "sha256" in data.files else None
    if stored is None or arrays_sha256(arrays) != stored:
        msg = "holds no checksum" if stored is None else "does not match the checksum written with it"
        raise ValueError(msg)
    segment = arrays["segment"].astype(np.int64)
    if len(segment) != cells or (len(segment) and not (segment.min() >= 0 and segment.max() < segments)):
        msg = f"its {len(segment):,} cells do not fit the {cells:,} cells and {segments:,} road pieces of this run"
        raise ValueError(msg)
    return segment, arrays["fraction"], arrays["distance"], arrays["snapped_xy"]


def _save(path: Path, snapped: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Write a snapped grid atomically with a checksum of its arrays; a failure only costs the next run the snapping."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(handle)
        try:
            arrays = _arrays(snapped)
            with open(temporary, "wb") as out:
                np.savez(out, sha256=np.array(arrays_sha256(arrays)), **arrays)  # type: ignore[arg-type]
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError as error:
        logger.warning("could not write the cells cache %s (%s); continuing without it", path, error)


def travel_time_surface(
    network: Network,
    reach: Reach,
    *,
    grid: Grid,
    inside: np.ndarray,
    facility_xy: np.ndarray,
    access_speed_kph: float,
    tolerance_m: float,
    population: np.ndarray | None = None,
    within_reach_of_roads: bool = False,
    boundary: shapely.Geometry | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> TravelTimeSurface:
    """Time every cell of a region to (or from) its nearest facility.

    Parameters
    ----------
    network : Network
    reach : Reach
        The multi-source search (:func:`coverage.network.routing.nearest_facility`).
    grid : Grid
        The raster grid (see :mod:`coverage.analysis.grid`).
    inside : numpy.ndarray
        bool, the grid's shape: the region's cells.
    facility_xy : numpy.ndarray
        (k, 2) the facilities' positions in the network's CRS, for the straight off-road trips.
    access_speed_kph, tolerance_m : float
        The profile's off-road speed and snap tolerance.
    population : numpy.ndarray, optional
        float, the grid's shape: people per cell (the demand). Populated cells always
        belong to the region.
    within_reach_of_roads : bool
        Keep only the cells within ``tolerance_m`` of a road, populated or not (a region
        without a boundary: the land the roads serve, not the sea or the country around them).
    boundary : shapely geometry, optional
        The region's WGS84 outline, kept with the surface for maps.
    cache_dir, use_cache
        Where the cells' snapping is cached (see :func:`snap_cells`).
    progress : callable, optional
        Called with a label while the cells are snapped on a first run.

    Returns
    -------
    TravelTimeSurface
    """
    if inside.shape != grid.shape or (population is not None and population.shape != grid.shape):
        shapes = f"{inside.shape}" + (f" and {population.shape}" if population is not None else "")
        msg = f"the region mask and population have shape {shapes}, the grid {grid.shape}"
        raise InputError(msg)
    people = np.zeros(grid.shape) if population is None else np.where(population > 0, population, 0.0)
    inside = inside | (people > 0)
    segment, fraction, distance, snapped_xy = snap_cells(
        network, grid, inside, cache_dir=cache_dir, use_cache=use_cache, progress=progress
    )
    flat = np.flatnonzero(inside.ravel())
    people_flat = people.ravel()[flat]
    if within_reach_of_roads:
        keep = distance <= tolerance_m
        if not keep.all():
            logger.info(
                "no boundary given: %d of %d cells of the network's extent lie more than %g m from any road "
                "and are left out of the surface (give --boundary to time them too)",
                int((~keep).sum()),
                len(keep),
                tolerance_m,
            )
        flat, people_flat, segment, fraction, distance, snapped_xy = (
            flat[keep],
            people_flat[keep],
            segment[keep],
            fraction[keep],
            distance[keep],
            snapped_xy[keep],
        )
    rows, cols = flat // grid.shape[1], flat % grid.shape[1]
    x, y = grid.centres(rows, cols)
    if not grid.crs.equals(network.crs):
        x, y = Transformer.from_crs(grid.crs, network.crs, always_xy=True).transform(x, y)
    attachment = Attachment(
        ids=flat,
        segment=segment,
        fraction=fraction,
        snap_distance_m=distance,
        access_s=distance / (access_speed_kph / 3.6),
        snapped_xy=snapped_xy,
        off_network=distance > tolerance_m,
        small_piece=network.small_piece[network.seg_u[segment]] if len(segment) else np.zeros(0, dtype=bool),
        point_xy=np.column_stack([x, y]),
    )
    seconds, facility = reach_points(network, reach, attachment)
    seconds, facility, direct = direct_offroad(
        np.column_stack([x, y]),
        seconds,
        facility,
        facility_xy=facility_xy,
        speed_kph=access_speed_kph,
        max_distance_m=np.maximum(tolerance_m, distance),
        facility_ids=reach.facilities.ids,
    )
    reached = np.isfinite(seconds)
    logger.info(
        "travel-time surface: %d cells of %.0f m, %d reached (%.1f%%)",
        len(flat),
        grid.cell_size_m(),
        int(reached.sum()),
        100.0 * reached.mean() if len(reached) else 0.0,
    )
    return TravelTimeSurface(
        grid=grid,
        flat=flat,
        seconds=seconds,
        facility=np.where(reached, facility, -1).astype(np.int32),
        population=people_flat,
        direct=direct,
        facility_ids=np.asarray(reach.facilities.ids),
        direction=reach.direction,
        boundary=boundary,
        attachment=attachment,
    )
