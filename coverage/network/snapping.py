"""Attaching points (facilities, villages, population cells) to the nearest road piece.

A point is attached to the nearest road *edge*, not the nearest node: the point
projected on that edge, how far along it is, and an off-road access leg at the
profile's access speed. Points farther than a tolerance are flagged
``off_network``; they keep their (long) access leg and are never dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from coverage._errors import InputError
from coverage.network.prepared import Network

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """Points attached to road pieces of a :class:`~coverage.network.prepared.Network`.

    Attributes
    ----------
    ids : numpy.ndarray
        The points' ids (str), in input order.
    segment : numpy.ndarray
        int64 index of the road piece each point is attached to.
    fraction : numpy.ndarray
        float64 position of the attachment along the piece, 0 at ``u``, 1 at ``v``.
    snap_distance_m : numpy.ndarray
        float64 straight-line distance from the point to the road.
    access_s : numpy.ndarray
        float64 seconds of the off-road leg (snap distance at the access speed).
    snapped_xy : numpy.ndarray
        (n, 2) projected coordinates of the attachment on the road.
    off_network : numpy.ndarray
        bool, snap distance above the tolerance.
    small_piece : numpy.ndarray
        bool, attached to a small disconnected piece of the network (see
        :data:`coverage.network.prepared.SMALL_PIECE_SHARE`): its times reach only that piece.
    point_xy : numpy.ndarray or None
        (n, 2) the points' own positions in the network's CRS, for straight off-road trips
        between close points (see :mod:`coverage.network.offroad`); None when not kept.
    """

    ids: np.ndarray
    segment: np.ndarray
    fraction: np.ndarray
    snap_distance_m: np.ndarray
    access_s: np.ndarray
    snapped_xy: np.ndarray
    off_network: np.ndarray
    small_piece: np.ndarray
    point_xy: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, mask: np.ndarray) -> Attachment:
        """The attachment of the points selected by a boolean mask or index array."""
        return Attachment(
            ids=self.ids[mask],
            segment=self.segment[mask],
            fraction=self.fraction[mask],
            snap_distance_m=self.snap_distance_m[mask],
            access_s=self.access_s[mask],
            snapped_xy=self.snapped_xy[mask],
            off_network=self.off_network[mask],
            small_piece=self.small_piece[mask],
            point_xy=self.point_xy[mask] if self.point_xy is not None else None,
        )


def snap_to_roads(network: Network, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The nearest point on the nearest road piece of each point (no flags, no logging).

    Parameters
    ----------
    network : Network
    points : numpy.ndarray
        shapely Points in the network's CRS.

    Returns
    -------
    segment : numpy.ndarray
        int64 index of the nearest road piece.
    fraction : numpy.ndarray
        float64 position of the nearest point along it, 0 at ``u``, 1 at ``v``.
    distance_m : numpy.ndarray
        float64 straight-line distance from the point to it.
    snapped_xy : numpy.ndarray
        (n, 2) coordinates of the nearest point.
    """
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros((0, 2))
    point_index, segment = network.segment_tree.query_nearest(points, all_matches=False)
    order = np.argsort(point_index, kind="stable")
    segment = segment[order].astype(np.int64)
    lines = network.seg_geometry[segment]
    fraction = shapely.line_locate_point(lines, points, normalized=True)
    fraction = np.clip(np.nan_to_num(fraction, nan=0.0), 0.0, 1.0)
    snapped = shapely.line_interpolate_point(lines, fraction, normalized=True)
    distance = shapely.distance(points, snapped)
    return segment, fraction, distance, np.column_stack([shapely.get_x(snapped), shapely.get_y(snapped)])


def attach_points(
    network: Network,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    access_speed_kph: float,
    tolerance_m: float,
    ids: np.ndarray | None = None,
) -> Attachment:
    """Attach points to their nearest road piece.

    Parameters
    ----------
    network : Network
        The prepared network.
    points : GeoDataFrame or GeoSeries
        Point geometries in any CRS (reprojected to the network's). A GeoDataFrame's
        ``id`` column gives the ids, else ``ids`` or the row positions.
    access_speed_kph : float
        Speed of the off-road leg from the point to the road.
    tolerance_m : float
        Points farther than this from any road are flagged ``off_network``.
    ids : numpy.ndarray, optional
        Ids of the points when ``points`` has no ``id`` column.

    Returns
    -------
    Attachment
    """
    if points.crs is None:
        msg = "points have no CRS; set one (e.g. `points.set_crs(4326)` for longitude/latitude)."
        raise InputError(msg)
    if access_speed_kph <= 0:
        msg = f"access_speed_kph must be positive, got {access_speed_kph}"
        raise InputError(msg)
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    geometry = geometry.to_crs(network.crs)
    if ids is None:
        ids = (
            points["id"].astype(str).to_numpy()
            if isinstance(points, gpd.GeoDataFrame) and "id" in points
            else np.arange(len(points)).astype(str)
        )
    geoms = np.asarray(geometry.values)
    if len(geoms) == 0:
        empty_f = np.zeros(0)
        return Attachment(
            ids=np.asarray(ids, dtype=str),
            segment=np.zeros(0, dtype=np.int64),
            fraction=empty_f,
            snap_distance_m=empty_f,
            access_s=empty_f,
            snapped_xy=np.zeros((0, 2)),
            off_network=np.zeros(0, dtype=bool),
            small_piece=np.zeros(0, dtype=bool),
            point_xy=np.zeros((0, 2)),
        )
    if shapely.is_empty(geoms).any() or shapely.is_missing(geoms).any():
        bad = np.flatnonzero(shapely.is_empty(geoms) | shapely.is_missing(geoms))
        msg = f"points {', '.join(str(ids[i]) for i in bad[:5])} have no geometry; give them coordinates."
        raise InputError(msg)
    if not (shapely.get_type_id(geoms) == 0).all():
        geoms = shapely.point_on_surface(geoms)
    segment, fraction, distance, snapped_xy = snap_to_roads(network, geoms)
    access_s = distance / (access_speed_kph / 3.6)
    off = distance > tolerance_m
    small = network.small_piece[network.seg_u[segment]]
    # the analysis says in a planner's words what these points are (villages, cells...) and where to see them
    if small.any():
        logger.info(
            "%d of %d points are attached to small disconnected pieces of the network (flagged small_piece)",
            int(small.sum()),
            len(small),
        )
    if off.any():
        logger.info(
            "%d of %d points are more than %.0f m from any road (flagged off_network, not dropped)",
            int(off.sum()),
            len(off),
            tolerance_m,
        )
    return Attachment(
        ids=np.asarray(ids, dtype=str),
        segment=segment,
        fraction=fraction,
        snap_distance_m=distance,
        access_s=access_s,
        snapped_xy=snapped_xy,
        off_network=off,
        small_piece=small,
        point_xy=shapely.get_coordinates(geoms).reshape(-1, 2),
    )
