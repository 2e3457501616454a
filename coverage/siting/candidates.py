"""Candidate sites for new facilities: points along the roads, villages, or a planner's list.

Every function returns a WGS84 GeoDataFrame with one row per candidate and the
columns ``id`` (prefixed by where it came from: ``road/12``, ``village/…``,
``file/…``, ``existing/…``), ``name``, ``source`` (``road``, ``village``, ``file``,
``existing``), ``snap_distance_m``, ``off_network`` and ``excluded``, then
``geometry``.

Candidates are flagged, never dropped here: ``off_network`` (farther from any
usable road than the profile's snapping tolerance: a station there could not be
reached by road) and ``excluded`` (inside a polygon of the planner's exclusion
layer: water, protected land, military areas...). The siting step leaves flagged
candidates out and reports how many it left out for each reason.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from coverage._errors import InputError
from coverage.analysis.zones import read_boundary
from coverage.io.points import PointColumns, check_points_in_extent, read_points
from coverage.network.prepared import Network
from coverage.network.snapping import attach_points

logger = logging.getLogger(__name__)

#: Where a candidate comes from (the ``source`` column).
SOURCES: tuple[str, ...] = ("road", "village", "file", "existing")
#: Default spacing of road candidates, in metres.
DEFAULT_SPACING_M = 1500.0
#: Columns every candidate frame carries, besides ``geometry``.
CANDIDATE_COLUMNS = ("id", "name", "source", "snap_distance_m", "off_network", "excluded")
#: Columns tried in turn for a candidate's name.
NAME_COLUMNS = ("name", "名称", "机构名称", "NAME", "Name")
#: Off-road speed and snapping tolerance used to flag candidates when no profile is given.
DEFAULT_ACCESS_SPEED_KPH = 5.0
DEFAULT_TOLERANCE_M = 1000.0

Exclusion: TypeAlias = shapely.Geometry | gpd.GeoDataFrame | gpd.GeoSeries | str | os.PathLike[str] | None


def exclusion_area(exclude: Exclusion) -> shapely.Geometry | None:
    """The exclusion layer as one WGS84 (multi)polygon, or None.

    Parameters
    ----------
    exclude : shapely geometry, GeoDataFrame, GeoSeries or path, optional
        Polygons where no site may go. A bare shapely geometry is taken as WGS84
        longitude/latitude; frames are reprojected; a path is read as a polygon file.
    """
    if exclude is None:
        return None
    if isinstance(exclude, str | os.PathLike):
        return read_boundary(Path(exclude))
    if isinstance(exclude, gpd.GeoDataFrame | gpd.GeoSeries):
        if exclude.crs is None:
            msg = "the exclusion layer has no CRS; set one (e.g. `.set_crs(4326)` for longitude/latitude)."
            raise InputError(msg)
        geometry = exclude.to_crs(4326).geometry if isinstance(exclude, gpd.GeoDataFrame) else exclude.to_crs(4326)
        if len(geometry) == 0:
            return None
        return geometry.union_all()
    if isinstance(exclude, shapely.Geometry):
        return exclude
    msg = (
        f"exclude must be polygons (a shapely geometry, a GeoDataFrame or a polygon file), got {type(exclude).__name__}"
    )
    raise InputError(msg)


def _flag_excluded(frame: gpd.GeoDataFrame, area: shapely.Geometry | None, label: str) -> gpd.GeoDataFrame:
    if area is None or frame.empty:
        frame["excluded"] = False
        return frame
    xy = shapely.get_coordinates(np.asarray(frame.geometry.values))
    shapely.prepare(area)
    frame["excluded"] = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    if frame["excluded"].any():
        logger.info(
            "%s: %d of %d candidates lie in the exclusion layer", label, int(frame["excluded"].sum()), len(frame)
        )
    return frame


def road_candidates(
    network: Network,
    *,
    spacing_m: float = DEFAULT_SPACING_M,
    exclude: Exclusion = None,
) -> gpd.GeoDataFrame:
    """Candidate sites on the roads, about ``spacing_m`` apart.

    The roads are sampled every ``spacing_m / 4`` (each road piece at least at its
    middle); then a grid of ``spacing_m`` squares keeps one sample per square: the
    one nearest the square's centre, preferring roads of the main network over
    small disconnected pieces. Candidates are thus about ``spacing_m`` apart along
    a road and every road lies within about ``spacing_m`` of one, while a dense
    town grid does not get one candidate per street.

    Parameters
    ----------
    network : Network
        The prepared network; only roads the profile can use are sampled.
    spacing_m : float
        Side of the grid squares, in metres (1,000-2,000 m suits EMS stations).
    exclude : shapely geometry, GeoDataFrame, GeoSeries or path, optional
        Polygons where no site may go: candidates inside are flagged ``excluded``.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with ``id`` ``road/1``, ``road/2``... (west to east, south to
        north within a column of squares), ``name``, ``source`` ``"road"``,
        ``highway`` (road class), ``snap_distance_m`` 0, ``off_network`` False,
        ``excluded``.
    """
    if not (np.isfinite(spacing_m) and spacing_m > 0):
        msg = f"spacing_m must be a positive number of metres, got {spacing_m}"
        raise InputError(msg)
    step = spacing_m / 4.0
    length = network.seg_length_m
    per_piece = np.maximum(np.floor(length / step).astype(np.int64), 1)
    segment = np.repeat(np.arange(network.n_segments), per_piece)
    first = np.cumsum(per_piece) - per_piece
    rank = np.arange(len(segment)) - np.repeat(first, per_piece)
    # evenly spread samples inside each piece, never at a junction shared by several pieces
    fraction = (rank + 0.5) / per_piece[segment]
    points = shapely.line_interpolate_point(network.seg_geometry[segment], fraction, normalized=True)
    xy = shapely.get_coordinates(points)
    origin = xy.min(axis=0)
    cell = np.floor((xy - origin) / spacing_m).astype(np.int64)
    centre = origin + (cell + 0.5) * spacing_m
    distance = np.hypot(*(xy - centre).T)
    small = network.small_piece[network.seg_u[segment]]
    cell_key = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    order = np.lexsort((distance, small, cell_key))
    keep = order[np.r_[True, cell_key[order][1:] != cell_key[order][:-1]]]
    lon, lat = Transformer.from_crs(network.crs, 4326, always_xy=True).transform(xy[keep, 0], xy[keep, 1])
    highway = network.seg_highway[segment[keep]]
    numbers = np.arange(1, len(keep) + 1)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"road/{n}" for n in numbers],
            "name": [f"road point {n} ({h})" for n, h in zip(numbers, highway, strict=True)],
            "source": "road",
            "highway": highway,
            "snap_distance_m": 0.0,
            "off_network": False,
        },
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    frame = _flag_excluded(frame, exclusion_area(exclude), "road candidates")
    logger.info(
        "%d road candidates every ~%.0f m along %.0f km of road", len(frame), spacing_m, float(length.sum()) / 1000.0
    )
    return frame[[*CANDIDATE_COLUMNS, "highway", "geometry"]]


def candidates_from(
    source: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    network: Network,
    kind: str = "file",
    exclude: Exclusion = None,
    datum: str = "wgs84",
    layer: str | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    columns: PointColumns | None = None,
    access_speed_kph: float = DEFAULT_ACCESS_SPEED_KPH,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> gpd.GeoDataFrame:
    """Candidate sites from a planner's point file or a GeoDataFrame (villages, existing facilities).

    Parameters
    ----------
    source : path or GeoDataFrame
        A point file read with :func:`coverage.io.points.read_points` (CSV with
        longitude/latitude, GeoJSON, GeoPackage, Shapefile), e.g. the township
        health centres that could be upgraded; or a GeoDataFrame such as
        ``analysis.villages``.
    network : Network
        The prepared network, to flag candidates off the roads.
    kind : {"file", "village", "existing"}
        What the points are; the ``source`` column and the id prefix.
    exclude : shapely geometry, GeoDataFrame, GeoSeries or path, optional
        Polygons where no site may go (candidates inside are flagged ``excluded``).
    datum : {"wgs84", "gcj02", "bd09"}
        Datum of a file's coordinates.
    layer, id_column : str, optional
        Passed to :func:`~coverage.io.points.read_points`.
    name_column : str, optional
        Column naming each point; default the first of ``name``, ``名称``,
        ``机构名称``, ``NAME``, ``Name``, else the id.
    columns : PointColumns, optional
        A file's coordinate, id and name columns (``id_column`` and ``name_column``
        given here win), and how messages name them.
    access_speed_kph, tolerance_m : float
        Off-road speed and snapping tolerance (use the profile's): candidates
        farther than ``tolerance_m`` from a road are flagged ``off_network``.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with the candidate columns (see the module docstring) and
        ``source_id`` (the id in the source, to join its other columns back), in
        the source's order.
    """
    if kind not in SOURCES or kind == "road":
        msg = f"kind must be one of {[s for s in SOURCES if s != 'road']}, got {kind!r} (use road_candidates for road points)"
        raise InputError(msg)
    if isinstance(source, gpd.GeoDataFrame):
        if source.crs is None:
            msg = f"the {kind} candidates GeoDataFrame has no CRS; set one (e.g. `.set_crs(4326)` for longitude/latitude)."
            raise InputError(msg)
        frame = source.to_crs(4326).reset_index(drop=True)
        label = f"the {kind} candidates GeoDataFrame"
        column = id_column or "id"
        ids = frame[column].astype(str) if column in frame else pd.Series(np.arange(1, len(frame) + 1).astype(str))
    else:
        columns = columns or PointColumns()
        id_column = id_column or columns.id
        name_column = name_column or columns.name
        frame = read_points(
            source,
            datum=datum,
            layer=layer,
            id_column=id_column,
            lon_column=columns.lon,
            lat_column=columns.lat,
            crs=columns.crs,
            what="candidates",
            options=columns.options,
        )
        label = str(source)
        ids = frame["id"].astype(str)
    if ids.duplicated().any():
        duplicated = ids[ids.duplicated()].unique()[:5]
        msg = f"{label}: duplicate ids {', '.join(map(repr, duplicated))}; every candidate needs its own id."
        raise InputError(msg)
    check_points_in_extent(frame.assign(id=ids.to_numpy()), network.extent_lonlat(), source=label)
    if name_column is not None and name_column not in frame:
        msg = f"{label}: no column {name_column!r} for the names; columns are {', '.join(map(str, frame.columns))}."
        raise InputError(msg)
    found = name_column or next((c for c in NAME_COLUMNS if c in frame), None)
    names = (
        frame[found].astype(str).where(frame[found].notna() & (frame[found].astype(str) != ""), ids) if found else ids
    )
    attachment = attach_points(
        network, frame.geometry, access_speed_kph=access_speed_kph, tolerance_m=tolerance_m, ids=ids.to_numpy()
    )
    result = gpd.GeoDataFrame(
        {
            "id": (f"{kind}/" + ids).to_numpy(),
            "name": names.to_numpy(),
            "source": kind,
            "snap_distance_m": attachment.snap_distance_m,
            "off_network": attachment.off_network,
            "source_id": ids.to_numpy(),
        },
        geometry=frame.geometry.to_numpy(),
        crs=4326,
    )
    result = _flag_excluded(result, exclusion_area(exclude), label)
    if result["off_network"].any():
        logger.info(
            "%s: %d of %d candidates are more than %.0f m from a road",
            label,
            int(result["off_network"].sum()),
            len(result),
            tolerance_m,
        )
    return result[[*CANDIDATE_COLUMNS, "source_id", "geometry"]]


def combine_candidates(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stack candidate frames (road points, villages, files) into one, checking ids are unique."""
    if not frames:
        msg = "combine_candidates needs at least one candidate frame"
        raise InputError(msg)
    for frame in frames:
        missing = [c for c in CANDIDATE_COLUMNS if c not in frame]
        if missing:
            msg = f"a candidate frame lacks the columns {missing}; make candidates with road_candidates or candidates_from."
            raise InputError(msg)
    combined = pd.concat([frame.to_crs(4326) for frame in frames], ignore_index=True)
    duplicated = combined["id"][combined["id"].duplicated()].unique()
    if len(duplicated):
        msg = f"candidate ids {', '.join(map(repr, duplicated[:5]))} occur more than once; give each candidate its own id."
        raise InputError(msg)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=4326)
