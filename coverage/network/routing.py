"""Travel times on the prepared network's arrays.

Two kinds of search, both compiled (``scipy.sparse.csgraph.dijkstra``), never a
Python loop over facilities:

- :func:`nearest_facility`: ONE multi-source search giving, for every node and
  every place, the time to the nearest facility and which facility it is;
- :func:`travel_time_table`: bounded searches giving a long-format table
  ``(origin_id, destination_id, minutes)`` up to a cutoff.

Points sit on road pieces (see :mod:`coverage.network.snapping`). A facility becomes a
virtual node joined to both ends of its piece by the partial travel times, plus
its access leg; a place reads its time from both ends of its piece, and directly
along the piece when a facility sits on the same piece.

Direction matters on one-way streets: ``"from_facility"`` is the EMS trip, station
to patient; ``"to_facility"`` is the patient's trip to care, searched on the
reversed graph.

"Within T minutes" means ``seconds <= T * 60``, compared without rounding.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage._errors import InputError
from coverage.network.prepared import Network
from coverage.network.snapping import Attachment

logger = logging.getLogger(__name__)

Direction = Literal["from_facility", "to_facility"]
DIRECTIONS: tuple[str, ...] = ("from_facility", "to_facility")

#: Origins searched per dijkstra call in travel_time_table (bounds memory: rows x nodes x 8 bytes).
TABLE_CHUNK = 256


def check_direction(direction: str) -> None:
    """Refuse a direction other than ``from_facility`` or ``to_facility``."""
    if direction not in DIRECTIONS:
        msg = f"direction must be one of {DIRECTIONS}, got {direction!r}"
        raise InputError(msg)


def _part(fraction: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Seconds to cover ``fraction`` of a piece taking ``seconds``; 0 for a zero fraction even when closed."""
    with np.errstate(invalid="ignore"):
        return np.where(fraction <= 0.0, 0.0, fraction * seconds)


def _oriented(network: Network, reverse: bool) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Graph and per-piece (along, against) seconds for the direction of travel searched."""
    if reverse:
        return network.reverse_graph, network.seg_backward_s, network.seg_forward_s
    return network.graph, network.seg_forward_s, network.seg_backward_s


def _augmented(network: Network, sources: Attachment, reverse: bool) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The graph with one virtual node per source appended (indices n .. n+k-1)."""
    graph, along, against = _oriented(network, reverse)
    n, k = network.n_nodes, len(sources)
    seg = sources.segment
    q = sources.fraction
    u = network.seg_u[seg]
    v = network.seg_v[seg]
    # leaving the source point: back to u goes against the piece, on to v goes along it
    to_u = sources.access_s + _part(q, against[seg])
    to_v = sources.access_s + _part(1.0 - q, along[seg])
    rows = np.concatenate([np.arange(n, n + k), np.arange(n, n + k)])
    cols = np.concatenate([u, v])
    weights = np.concatenate([to_u, to_v])
    finite = np.isfinite(weights)
    extra = sp.csr_matrix((weights[finite], (rows[finite] - n, cols[finite])), shape=(k, n + k))
    padded = sp.csr_matrix((graph.data, graph.indices, graph.indptr), shape=(n, n + k))
    augmented = sp.vstack([padded, extra], format="csr")
    return augmented, along, against


def _times_at_points(
    network: Network,
    node_seconds: np.ndarray,
    points: Attachment,
    along: np.ndarray,
    against: np.ndarray,
) -> np.ndarray:
    """Seconds at points from node times (rows of ``node_seconds`` are searches), via either end of their piece."""
    seg = points.segment
    p = points.fraction
    via_u = node_seconds[..., network.seg_u[seg]] + _part(p, along[seg])
    via_v = node_seconds[..., network.seg_v[seg]] + _part(1.0 - p, against[seg])
    return np.minimum(via_u, via_v) + points.access_s


def _direct_pairs(sources: Attachment, points: Attachment, along: np.ndarray, against: np.ndarray) -> pd.DataFrame:
    """Seconds between sources and points on the same piece, straight along it (no node in between)."""
    # only the few points on a piece that also holds a source can pair up
    shared = np.flatnonzero(np.isin(points.segment, sources.segment))
    left = pd.DataFrame({"segment": sources.segment, "source": np.arange(len(sources))})
    right = pd.DataFrame({"segment": points.segment[shared], "point": shared})
    pairs = left.merge(right, on="segment")
    if pairs.empty:
        return pd.DataFrame({"source": np.zeros(0, np.int64), "point": np.zeros(0, np.int64), "seconds": np.zeros(0)})
    s = pairs["source"].to_numpy()
    t = pairs["point"].to_numpy()
    seg = pairs["segment"].to_numpy()
    q = sources.fraction[s]
    p = points.fraction[t]
    forward = p >= q
    with np.errstate(invalid="ignore"):
        leg = np.where(
            forward,
            _part(p - q, along[seg]),
            _part(q - p, against[seg]),
        )
    seconds = sources.access_s[s] + leg + points.access_s[t]
    return pd.DataFrame({"source": s, "point": t, "seconds": seconds})


def id_order(ids: np.ndarray) -> np.ndarray:
    """Rank of each id in natural order: numbers in ids compare as numbers (``node/9`` before ``node/10``)."""

    def key(text: str) -> tuple[str | int, ...]:
        parts = re.split(r"(\d+)", text)
        return tuple(int(part) if i % 2 else part for i, part in enumerate(parts))

    keys = [key(str(i)) for i in ids]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


def stand_ins(points: Attachment) -> np.ndarray:
    """For each point, the point that stands for it: the first by :func:`id_order` attached at the very same place.

    Facilities at one point are equally near to everything; a search from all of
    them would give each place whichever its queue met first. Searching from the
    first by id only makes the tie-break a rule: the same facility for every place.
    """
    n = len(points)
    index = np.arange(n, dtype=np.int64)
    if n < 2:
        return index
    order = np.lexsort((points.access_s, points.fraction, points.segment))
    segment, fraction, access = points.segment[order], points.fraction[order], points.access_s[order]
    same = (segment[1:] == segment[:-1]) & (fraction[1:] == fraction[:-1]) & (access[1:] == access[:-1])
    if not same.any():  # the usual case, decided without ranking the ids
        return index
    group = np.concatenate([[0], np.cumsum(~same)])  # the place of each point, in the order above
    rank = id_order(points.ids)[order]
    within = np.lexsort((rank, group))  # by place, then by id
    first = order[within][np.r_[True, group[within][1:] != group[within][:-1]]]  # one per place, by place
    stand_in = np.empty(n, dtype=np.int64)
    stand_in[order] = first[group]
    return stand_in


@dataclass(frozen=True)
class Reach:
    """Result of one multi-source search: the nearest facility of every node.

    Attributes
    ----------
    direction : str
        ``"from_facility"`` or ``"to_facility"``.
    node_seconds : numpy.ndarray
        float64 seconds to (or from) the nearest facility for every node; ``inf`` unreached.
    node_facility : numpy.ndarray
        int64 index (into the facilities searched) of that facility, -1 unreached.
    facilities : Attachment
        The facilities searched.
    """

    direction: str
    node_seconds: np.ndarray
    node_facility: np.ndarray
    facilities: Attachment


def nearest_facility(
    network: Network,
    facilities: Attachment,
    *,
    direction: Direction = "from_facility",
    limit_s: float = np.inf,
) -> Reach:
    """One multi-source search: the nearest facility and its time for every node.

    Parameters
    ----------
    network : Network
    facilities : Attachment
        The facilities, attached to the network.
    direction : {"from_facility", "to_facility"}
        ``from_facility`` times the trip station → place (EMS); ``to_facility`` the
        trip place → facility (reaching care), searched on the reversed graph.
    limit_s : float
        Stop the search at this many seconds; farther nodes are unreached (``inf``).

    Returns
    -------
    Reach
    """
    check_direction(direction)
    if len(facilities) == 0:
        msg = "no facilities to search from: the facility set is empty. Check the facility file or the kinds selected."
        raise InputError(msg)
    reverse = direction == "to_facility"
    # facilities at one point: the first by id is searched from, so every place gets the same one
    searched = np.unique(stand_ins(facilities))
    augmented, _, _ = _augmented(network, facilities.subset(searched), reverse)
    n = network.n_nodes
    virtual = np.arange(n, n + len(searched))
    seconds, _, sources = dijkstra(
        augmented, directed=True, indices=virtual, min_only=True, return_predecessors=True, limit=limit_s
    )
    node_facility = np.where(sources[:n] >= 0, searched[np.maximum(sources[:n] - n, 0)], -1).astype(np.int64)
    return Reach(direction=direction, node_seconds=seconds[:n], node_facility=node_facility, facilities=facilities)


def reach_points(network: Network, reach: Reach, points: Attachment) -> tuple[np.ndarray, np.ndarray]:
    """Seconds to the nearest facility, and its index, for attached points.

    Returns
    -------
    seconds : numpy.ndarray
        float64, ``inf`` where no facility is reached.
    facility : numpy.ndarray
        int64 index into ``reach.facilities``, -1 where none.
    """
    _, along, against = _oriented(network, reach.direction == "to_facility")
    seg = points.segment
    p = points.fraction
    via_u = reach.node_seconds[network.seg_u[seg]] + _part(p, along[seg])
    via_v = reach.node_seconds[network.seg_v[seg]] + _part(1.0 - p, against[seg])
    seconds = np.minimum(via_u, via_v) + points.access_s
    facility = np.where(
        via_u <= via_v, reach.node_facility[network.seg_u[seg]], reach.node_facility[network.seg_v[seg]]
    )
    direct = _direct_pairs(reach.facilities, points, along, against)
    if len(direct):
        # the same tie-break as the search: facilities at one point are one, the first by id
        stand_in = stand_ins(reach.facilities)
        if (stand_in != np.arange(len(stand_in))).any():
            direct["source"] = stand_in[direct["source"].to_numpy()]
        best = direct.loc[direct.groupby("point")["seconds"].idxmin()]
        idx = best["point"].to_numpy()
        better = best["seconds"].to_numpy() < seconds[idx]
        seconds[idx[better]] = best["seconds"].to_numpy()[better]
        facility[idx[better]] = best["source"].to_numpy()[better]
    facility = np.where(np.isfinite(seconds), facility, -1)
    return seconds, facility


def travel_time_table(
    network: Network,
    origins: Attachment,
    destinations: Attachment,
    *,
    cutoff_minutes: float,
) -> pd.DataFrame:
    """Travel times from every origin to every destination within a cutoff.

    Bounded searches run from the smaller side: from the origins on the graph, or
    from the destinations on the reversed graph.

    Parameters
    ----------
    network : Network
    origins, destinations : Attachment
        Where trips start and end (e.g. candidate stations and villages for EMS).
    cutoff_minutes : float
        Pairs farther apart than this are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin_id``, ``destination_id``, ``minutes`` (float64), sorted by
        origin then minutes; one row per pair within the cutoff.
    """
    if cutoff_minutes <= 0 or not np.isfinite(cutoff_minutes):
        msg = f"cutoff_minutes must be a positive number, got {cutoff_minutes}"
        raise InputError(msg)
    limit_s = cutoff_minutes * 60.0
    reverse = len(destinations) < len(origins)
    sources, targets = (destinations, origins) if reverse else (origins, destinations)
    empty = pd.DataFrame(
        {
            "origin_id": pd.Series([], dtype=str),
            "destination_id": pd.Series([], dtype=str),
            "minutes": pd.Series([], dtype=float),
        }
    )
    if len(sources) == 0 or len(targets) == 0:
        return empty
    augmented, along, against = _augmented(network, sources, reverse)
    n = network.n_nodes
    blocks = []
    for start in range(0, len(sources), TABLE_CHUNK):
        chunk = np.arange(start, min(start + TABLE_CHUNK, len(sources)))
        seconds = dijkstra(augmented, directed=True, indices=n + chunk, limit=limit_s)[:, :n]
        at_targets = _times_at_points(network, seconds, targets, along, against)
        rows, cols = np.nonzero(at_targets <= limit_s)
        blocks.append(pd.DataFrame({"source": chunk[rows], "point": cols, "seconds": at_targets[rows, cols]}))
    direct = _direct_pairs(sources, targets, along, against)
    table = pd.concat([*blocks, direct], ignore_index=True)
    within = table[table["seconds"] <= limit_s]
    table = within.groupby(["source", "point"], as_index=False).agg(seconds=("seconds", "min"))
    source_ids = sources.ids[table["source"].to_numpy(dtype=np.int64)]
    target_ids = targets.ids[table["point"].to_numpy(dtype=np.int64)]
    origin_ids, destination_ids = (target_ids, source_ids) if reverse else (source_ids, target_ids)
    result = pd.DataFrame(
        {"origin_id": origin_ids, "destination_id": destination_ids, "minutes": table["seconds"].to_numpy() / 60.0}
    )
    result = result.sort_values(["origin_id", "minutes"], kind="stable").reset_index(drop=True)
    logger.info(
        "travel-time table: %d origins x %d destinations, %d pairs within %g min",
        len(origins),
        len(destinations),
        len(result),
        cutoff_minutes,
    )
    return result


#: Largest number of float64 cells held by one dense block of :func:`pair_seconds` (32 MB).
CHUNK_CELLS = 1 << 22


def _morton_order(xy: np.ndarray) -> np.ndarray:
    """Indices sorting points along a Z-order curve, so that chunks of them lie close together."""
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    span = np.maximum(np.ptp(xy, axis=0), 1e-9)
    q = ((xy - xy.min(axis=0)) / span * 65535).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return np.argsort(spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1)), kind="stable")


def pair_seconds(
    network: Network,
    sources: Attachment,
    targets: Attachment,
    *,
    direction: str = "from_facility",
    cutoff_minutes: float,
) -> sp.csr_matrix:
    """Seconds between every source and every target within a cutoff, as a sparse matrix.

    The same times as :func:`coverage.network.routing.travel_time_table` (the same
    virtual source nodes, partial pieces, access legs and same-piece trips),
    built for many targets: bounded searches from chunks of nearby sources, each
    read only at the targets whose road piece the chunk reached.

    Parameters
    ----------
    network : Network
    sources, targets : Attachment
        Sites (rows) and demand points (columns).
    direction : {"from_facility", "to_facility"}
        ``from_facility``: trips from the source to the target (EMS);
        ``to_facility``: trips from the target to the source (reaching care).
    cutoff_minutes : float

    Returns
    -------
    scipy.sparse.csr_matrix
        sources x targets, float64 seconds; only pairs within the cutoff are stored.
    """
    check_direction(direction)
    if not (np.isfinite(cutoff_minutes) and cutoff_minutes > 0):
        msg = f"cutoff_minutes must be a positive number, got {cutoff_minutes}"
        raise InputError(msg)
    limit_s = cutoff_minutes * 60.0
    n_sources, n_targets = len(sources), len(targets)
    if n_sources == 0 or n_targets == 0:
        return sp.csr_matrix((n_sources, n_targets), dtype=np.float64)
    reverse = direction == "to_facility"
    augmented, along, against = _augmented(network, sources, reverse)
    n = network.n_nodes
    seg = targets.segment
    node_u, node_v = network.seg_u[seg], network.seg_v[seg]
    via_u = _part(targets.fraction, along[seg]) + targets.access_s
    via_v = _part(1.0 - targets.fraction, against[seg]) + targets.access_s
    direct = _direct_pairs(sources, targets, along, against)
    direct = direct[direct["seconds"] <= limit_s]
    direct_source = direct["source"].to_numpy(dtype=np.int64)
    direct_point = direct["point"].to_numpy(dtype=np.int64)
    direct_seconds = direct["seconds"].to_numpy(dtype=np.float64)
    chunk_size = max(1, CHUNK_CELLS // max(n + n_sources, n_targets))
    order = _morton_order(sources.snapped_xy)
    blocks = []
    positions = []
    for start in range(0, n_sources, chunk_size):
        chunk = np.sort(order[start : start + chunk_size])
        node_seconds = dijkstra(augmented, directed=True, indices=n + chunk, limit=limit_s)[:, :n]
        reached = np.isfinite(node_seconds).any(axis=0)
        mine = np.isin(direct_source, chunk)
        columns = np.flatnonzero(reached[node_u] | reached[node_v])
        if mine.any():
            columns = np.union1d(columns, direct_point[mine])
        seconds = np.minimum(
            node_seconds[:, node_u[columns]] + via_u[columns], node_seconds[:, node_v[columns]] + via_v[columns]
        )
        if mine.any():
            row = np.searchsorted(chunk, direct_source[mine])
            col = np.searchsorted(columns, direct_point[mine])
            seconds[row, col] = np.minimum(seconds[row, col], direct_seconds[mine])
        rows, cols = np.nonzero(seconds <= limit_s)
        indptr = np.searchsorted(rows, np.arange(len(chunk) + 1))
        blocks.append(sp.csr_matrix((seconds[rows, cols], columns[cols], indptr), shape=(len(chunk), n_targets)))
        positions.append(chunk)
    stacked = sp.vstack(blocks, format="csr")
    matrix = stacked[np.argsort(np.concatenate(positions))]
    matrix.sort_indices()
    return matrix
