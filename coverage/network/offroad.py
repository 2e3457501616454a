"""Direct off-road trips between a place and a facility that are close to each other.

The network route of a place runs place → road → ... → road → facility, with an
off-road leg at each end. When the two are close and both lie away from the
roads (a village and a health post in the same hamlet, 170 m from the nearest
track), walking straight across is quicker than walking to the road, driving and
walking back: a village at the very spot of a facility would otherwise be timed
at twice its access leg. :func:`direct_offroad` takes the better of the two.

A straight off-road trip is only credible over short distances: it is allowed up
to the profile's snap tolerance, or up to the place's own off-road leg when that
is longer (the engine already accepts that much walking for this place). So a
direct line never crosses a sea between islands or a mountain range that the
roads go round.

:func:`offroad_pairs` gives the same straight trips between many sources and
targets (a siting matrix), :func:`with_straight_walks` merges them into a matrix of
network times between two attachments (stations and places).
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from coverage._errors import InputError
from coverage.network.routing import id_order
from coverage.network.snapping import Attachment

logger = logging.getLogger(__name__)


def direct_offroad(
    point_xy: np.ndarray,
    seconds: np.ndarray,
    facility: np.ndarray,
    *,
    facility_xy: np.ndarray,
    speed_kph: float,
    max_distance_m: np.ndarray | float,
    facility_ids: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replace network times by the straight off-road time to the nearest facility where that is quicker.

    Parameters
    ----------
    point_xy : numpy.ndarray
        (n, 2) places in the network's projected CRS (metres).
    seconds : numpy.ndarray
        float64 network time of each place to (or from) its nearest facility, ``inf`` unreached.
    facility : numpy.ndarray
        int64 index of that facility, -1 unreached.
    facility_xy : numpy.ndarray
        (k, 2) the facilities' own positions (not their snapped ones), same CRS.
    speed_kph : float
        Off-road speed (the profile's access speed).
    max_distance_m : float or numpy.ndarray
        Longest straight trip allowed, for all places or per place.
    facility_ids : numpy.ndarray, optional
        The facilities' ids: of facilities at one point, the first by id
        (:func:`coverage.network.routing.id_order`) is the one walked to, as in the search.

    Returns
    -------
    seconds : numpy.ndarray
        float64, the quicker of the two.
    facility : numpy.ndarray
        int64, the facility of the quicker trip.
    direct : numpy.ndarray
        bool, True where the straight trip won (strictly quicker).
    """
    if speed_kph <= 0:
        msg = f"the off-road speed must be positive, got {speed_kph} km/h"
        raise InputError(msg)
    seconds = np.array(seconds, dtype=np.float64, copy=True)
    facility = np.array(facility, dtype=np.int64, copy=True)
    n = len(seconds)
    direct = np.zeros(n, dtype=bool)
    if n == 0 or len(facility_xy) == 0:
        return seconds, facility, direct
    limit = np.broadcast_to(np.asarray(max_distance_m, dtype=np.float64), (n,))
    largest = float(np.max(limit))
    if not largest > 0:
        return seconds, facility, direct
    # the nearest facility in a straight line is the quickest one off-road (one speed everywhere)
    at, first = _first_at_each_point(np.asarray(facility_xy, dtype=np.float64), facility_ids)
    distance, nearest = cKDTree(at).query(np.asarray(point_xy, dtype=np.float64), distance_upper_bound=largest)
    nearest = first[np.minimum(nearest, len(first) - 1)]  # a place with none within reach gets inf, not used
    with np.errstate(invalid="ignore"):
        straight_s = distance / (speed_kph / 3.6)
        direct = (distance <= limit) & (straight_s < seconds)
    seconds[direct] = straight_s[direct]
    facility[direct] = nearest[direct]
    if direct.any():
        logger.debug("%d of %d places are quicker to reach off-road, in a straight line", int(direct.sum()), n)
    return seconds, facility, direct


def _first_at_each_point(xy: np.ndarray, ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct points of ``xy`` and, for each, the facility that stands for it (the first by id there)."""
    if ids is None or len(xy) < 2:
        return xy, np.arange(len(xy))
    points, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(points) == len(xy):  # the usual case: no two facilities at one point
        return xy, np.arange(len(xy))
    rank = id_order(np.asarray(ids))
    order = np.lexsort((rank, inverse))  # by point, then by id
    head = np.r_[True, inverse[order][1:] != inverse[order][:-1]]
    return points, order[head]


def offroad_pairs(
    source_xy: np.ndarray,
    target_xy: np.ndarray,
    *,
    speed_kph: float,
    max_distance_m: np.ndarray | float,
    cutoff_s: float,
) -> sp.csr_matrix:
    """Straight off-road seconds between sources (rows) and targets (columns) close to each other.

    Only pairs within the targets' ``max_distance_m`` and within ``cutoff_s`` are stored.
    """
    if speed_kph <= 0:
        msg = f"the off-road speed must be positive, got {speed_kph} km/h"
        raise InputError(msg)
    n_sources, n_targets = len(source_xy), len(target_xy)
    limit = np.broadcast_to(np.asarray(max_distance_m, dtype=np.float64), (n_targets,))
    if n_sources == 0 or n_targets == 0:
        return sp.csr_matrix((n_sources, n_targets), dtype=np.float64)
    speed_ms = speed_kph / 3.6
    radius = min(float(np.max(limit)), cutoff_s * speed_ms)
    pairs = cKDTree(np.asarray(source_xy, dtype=np.float64)).query_ball_tree(
        cKDTree(np.asarray(target_xy, dtype=np.float64)), r=radius
    )
    rows = np.repeat(np.arange(n_sources), [len(p) for p in pairs])
    cols = np.fromiter((c for p in pairs for c in p), dtype=np.int64, count=len(rows))
    distance = np.hypot(*(np.asarray(source_xy)[rows] - np.asarray(target_xy)[cols]).T) if len(rows) else np.zeros(0)
    keep = (distance <= limit[cols]) & (distance / speed_ms <= cutoff_s)
    return sp.csr_matrix(
        (distance[keep] / speed_ms, (rows[keep], cols[keep])), shape=(n_sources, n_targets), dtype=np.float64
    )


def sparse_minimum(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    """Element-wise minimum of two sparse matrices of times where a missing entry means "not within reach".

    (``scipy``'s own ``minimum`` reads missing entries as 0.) Stored zeros stay stored.
    """
    first, second = a.tocoo(), b.tocoo()
    rows = np.concatenate([first.row, second.row])
    cols = np.concatenate([first.col, second.col])
    data = np.concatenate([first.data, second.data])
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    result = sp.csr_matrix((data[keep], (rows[keep], cols[keep])), shape=a.shape, dtype=np.float64)
    result.sort_indices()
    return result


def with_straight_walks(
    seconds: sp.spmatrix,
    sources: Attachment,
    targets: Attachment,
    *,
    speed_kph: float,
    tolerance_m: float,
    cutoff_s: float,
) -> sp.csr_matrix:
    """Network times (sources x targets) with the straight walks between close points, as the analysis times them.

    The walk is allowed up to ``tolerance_m`` or the target's own access leg; the
    attachments must keep their points' positions (:func:`attach_points` does), else
    the times are returned as they are.
    """
    seconds = sp.csr_matrix(seconds)
    if sources.point_xy is None or targets.point_xy is None:
        return seconds
    straight = offroad_pairs(
        sources.point_xy,
        targets.point_xy,
        speed_kph=speed_kph,
        max_distance_m=np.maximum(tolerance_m, targets.snap_distance_m),
        cutoff_s=cutoff_s,
    )
    return sparse_minimum(seconds, straight) if straight.nnz else seconds
