"""Nearest-station times kept up to date while stations are added, moved and removed.

:class:`IncrementalReach` answers the what-if question of a planning meeting —
"and if the new station stood here?" — without a new search from every station.
It keeps, for every open station, the times of ONE bounded search from it (the
nodes within the horizon), and, for every node and every registered set of points
(villages, raster cells), the time to the nearest open station and which one it is:

- adding a station is one bounded search from it, then a minimum with the stored times;
- removing one recomputes only the nodes it was nearest to, from the other stations'
  stored times (no search at all);
- moving one is a removal and an addition.

Only the points on road pieces whose ends changed are recomputed. With
``walk_speed_kph``, a station and a point close to each other also get the straight
off-road walk between them when it is quicker, as the analysis times them
(:func:`coverage.network.offroad.direct_offroad`). After any sequence
of edits the times equal those of a fresh multi-source search on the same stations
(:func:`coverage.network.routing.nearest_facility` with ``limit_s`` the horizon, then
:func:`coverage.network.routing.reach_points`), bit for bit: each node's time is the
minimum over stations of the same sums of the same edge times. Beyond the horizon a
node or point is unreached (``inf``), as in a search with that limit.

Usable from a notebook::

    engine = IncrementalReach(network, direction="from_facility", horizon_minutes=60,
                              points={"villages": village_attachment})
    engine.add(station_attachment)              # the existing stations, one search each
    change = engine.add(attach_points(network, new_site, ...))
    engine.point_seconds("villages")            # times with the new site
    engine.remove("new/1")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from coverage._errors import InputError
from coverage.network.prepared import Network
from coverage.network.routing import (
    Reach,
    _augmented,
    _oriented,
    _part,
    check_direction,
)
from coverage.network.snapping import Attachment

logger = logging.getLogger(__name__)

#: Largest number of float64 cells of one dense block of searches when many stations are added at once (32 MB).
CHUNK_CELLS = 1 << 22


@dataclass(frozen=True)
class Change:
    """What one edit changed.

    Attributes
    ----------
    stations : tuple of str
        The stations added, removed or moved.
    nodes : numpy.ndarray
        int64 indices of the nodes whose time (or nearest station) may have changed.
    points : dict
        Per registered point set, int64 indices of the points recomputed.
    seconds : float
        Wall-clock time of the edit.
    """

    stations: tuple[str, ...]
    nodes: np.ndarray
    points: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Points:
    """A registered point set: its attachment, the fixed parts of its times, and its current times."""

    attachment: Attachment
    node_u: np.ndarray
    node_v: np.ndarray
    via_u_s: np.ndarray
    via_v_s: np.ndarray
    seconds: np.ndarray
    slot: np.ndarray
    # best same-piece trip from a station (no node in between), and which station
    direct_s: np.ndarray
    direct_slot: np.ndarray
    # the points sorted by road piece, to find those sharing a station's piece
    by_segment: np.ndarray
    sorted_segment: np.ndarray
    # the points' own positions and the longest straight walk of each (with walks on)
    tree: cKDTree | None = None
    walk_m: np.ndarray | None = None


class IncrementalReach:
    """Times to (or from) the nearest open station, updated edit by edit.

    Parameters
    ----------
    network : Network
    direction : {"from_facility", "to_facility"}
        ``from_facility`` times the trip station → place (EMS); ``to_facility`` the
        trip place → station, searched on the reversed graph.
    horizon_minutes : float
        Bound of every search: farther nodes and points are unreached (``inf``).
        At least the largest threshold the times are compared with; ``inf`` for
        unbounded searches.
    points : mapping of str to Attachment, optional
        Point sets whose times are kept (e.g. ``{"villages": ..., "cells": ...}``);
        more can be registered with :meth:`add_points`.
    walk_speed_kph : float, optional
        Off-road speed of the straight walks between a station and a point close to
        it (the profile's access speed); None: network trips only.
    walk_m : float
        Longest straight walk, or the point's own off-road leg when that is longer
        (the profile's snap tolerance). Points and stations need their ``point_xy``.

    Notes
    -----
    Stations are identified by their attachment's ``ids``; an id is unique among
    the open stations. Memory grows with the nodes each station reaches within the
    horizon (12 bytes a node).
    """

    def __init__(
        self,
        network: Network,
        *,
        direction: str = "from_facility",
        horizon_minutes: float,
        points: Mapping[str, Attachment] | None = None,
        walk_speed_kph: float | None = None,
        walk_m: float = 0.0,
    ) -> None:
        check_direction(direction)
        if walk_speed_kph is not None and not walk_speed_kph > 0:
            msg = f"walk_speed_kph must be a positive speed, got {walk_speed_kph!r}"
            raise InputError(msg)
        self.walk_speed_kph = walk_speed_kph
        self.walk_m = float(walk_m)
        if not (horizon_minutes > 0):
            msg = f"horizon_minutes must be a positive number of minutes (or inf), got {horizon_minutes!r}"
            raise InputError(msg)
        self.network = network
        self.direction = direction
        self.horizon_s = float(horizon_minutes) * 60.0
        self._reverse = direction == "to_facility"
        _, self._along, self._against = _oriented(network, self._reverse)
        n = network.n_nodes
        self._node_s = np.full(n, np.inf)
        self._node_slot = np.full(n, -1, dtype=np.int64)
        # per slot: station id, its one-row attachment, reached nodes and their seconds, same-piece trips per point set
        self._ids: list[str | None] = []
        self._atts: list[Attachment | None] = []
        self._reached: list[tuple[np.ndarray, np.ndarray] | None] = []
        self._direct: list[dict[str, tuple[np.ndarray, np.ndarray]]] = []
        self._slot_of: dict[str, int] = {}
        self._points: dict[str, _Points] = {}
        for name, attachment in (points or {}).items():
            self.add_points(name, attachment)

    # ------------------------------------------------------------------ reading

    @property
    def horizon_minutes(self) -> float:
        """The bound of every search, in minutes."""
        return self.horizon_s / 60.0

    @property
    def stations(self) -> tuple[str, ...]:
        """Ids of the open stations, in the order they were added."""
        return tuple(i for i in self._ids if i is not None)

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._slot_of

    def station(self, station_id: str) -> Attachment:
        """The attachment of an open station."""
        attachment = self._atts[self._slot(station_id)]
        assert attachment is not None  # an open slot always has one
        return attachment

    @property
    def node_seconds(self) -> np.ndarray:
        """float64 seconds to (or from) the nearest open station for every node (a copy); ``inf`` unreached."""
        return self._node_s.copy()

    def node_station(self) -> np.ndarray:
        """Id of each node's nearest open station (object array; None unreached)."""
        return self._ids_of(self._node_slot)

    @property
    def point_sets(self) -> tuple[str, ...]:
        """Names of the registered point sets."""
        return tuple(self._points)

    def point_seconds(self, name: str) -> np.ndarray:
        """float64 seconds to (or from) the nearest open station of every point of a set (a copy)."""
        return self._point_set(name).seconds.copy()

    def point_station(self, name: str) -> np.ndarray:
        """Id of the nearest open station of every point of a set (object array; None unreached)."""
        return self._ids_of(self._point_set(name).slot)

    def reach(self) -> Reach:
        """The current times as a :class:`~coverage.network.routing.Reach` (facilities: the open stations in order).

        For everything that reads a multi-source search: isochrones, service areas,
        :func:`~coverage.network.routing.reach_points`.
        """
        slots = [slot for slot, i in enumerate(self._ids) if i is not None]
        position = np.full(len(self._ids) + 1, -1, dtype=np.int64)
        position[slots] = np.arange(len(slots))
        facilities = _concat([self._atts[slot] for slot in slots]) if slots else _empty_attachment()
        return Reach(
            direction=self.direction,
            node_seconds=self._node_s.copy(),
            node_facility=position[self._node_slot],
            facilities=facilities,
        )

    # ------------------------------------------------------------------ editing

    def add_points(self, name: str, attachment: Attachment) -> None:
        """Register a set of points whose times are kept (computed now from the open stations)."""
        network = self.network
        seg = attachment.segment
        points = _Points(
            attachment=attachment,
            node_u=network.seg_u[seg].astype(np.int64),
            node_v=network.seg_v[seg].astype(np.int64),
            via_u_s=_part(attachment.fraction, self._along[seg]),
            via_v_s=_part(1.0 - attachment.fraction, self._against[seg]),
            seconds=np.full(len(attachment), np.inf),
            slot=np.full(len(attachment), -1, dtype=np.int64),
            direct_s=np.full(len(attachment), np.inf),
            direct_slot=np.full(len(attachment), -1, dtype=np.int64),
            by_segment=np.argsort(seg, kind="stable"),
            sorted_segment=np.sort(seg, kind="stable"),
        )
        if self.walk_speed_kph is not None and attachment.point_xy is not None and len(attachment):
            points.tree = cKDTree(np.asarray(attachment.point_xy, dtype=np.float64))
            points.walk_m = np.maximum(self.walk_m, attachment.snap_distance_m)
        self._points[name] = points
        for slot, station in enumerate(self._atts):
            if station is not None:
                self._store_direct(slot, station, only=name)
        self._refresh(points, np.arange(len(attachment)))

    def add(self, stations: Attachment) -> Change:
        """Open stations: one bounded search from each (several at once share the compiled calls).

        Parameters
        ----------
        stations : Attachment
            The stations, attached to the network; their ``ids`` name them and must
            not be open already.
        """
        started = time.perf_counter()
        ids = [str(i) for i in stations.ids]
        self._check_new(ids)
        if not ids:
            return Change(stations=(), nodes=np.zeros(0, dtype=np.int64), seconds=0.0)
        n = self.network.n_nodes
        changed = np.zeros(n, dtype=bool)
        first = len(self._ids)
        for i in ids:
            self._slot_of[i] = len(self._ids)
            self._ids.append(i)
            self._atts.append(None)
            self._reached.append(None)
            self._direct.append({})
        augmented, _, _ = _augmented(self.network, stations, self._reverse)
        chunk_size = max(1, CHUNK_CELLS // (n + len(ids)))
        for start in range(0, len(ids), chunk_size):
            rows = np.arange(start, min(start + chunk_size, len(ids)))
            seconds = dijkstra(augmented, directed=True, indices=n + rows, limit=self.horizon_s)[:, :n]
            seconds = np.atleast_2d(seconds)
            for row, node_s in zip(rows, seconds, strict=True):
                slot = first + int(row)
                reached = np.flatnonzero(np.isfinite(node_s))
                times = node_s[reached]
                self._reached[slot] = (reached, times)
                better = times < self._node_s[reached]
                improved = reached[better]
                self._node_s[improved] = times[better]
                self._node_slot[improved] = slot
                changed[improved] = True
        for offset in range(len(ids)):
            self._atts[first + offset] = stations.subset(np.array([offset]))
        direct_points = self._store_direct_many(first, stations)
        return self._finish(tuple(ids), changed, direct_points, started)

    def remove(self, station_ids: str | Iterable[str]) -> Change:
        """Close stations: the nodes and points they were nearest to take the others' stored times (no search)."""
        started = time.perf_counter()
        ids = [station_ids] if isinstance(station_ids, str) else [str(i) for i in station_ids]
        slots = [self._slot(i) for i in ids]
        if len(set(slots)) != len(slots):
            msg = f"station ids repeated in one removal: {ids}"
            raise InputError(msg)
        gone = np.zeros(len(self._ids), dtype=bool)
        gone[slots] = True
        for slot, i in zip(slots, ids, strict=True):
            del self._slot_of[i]
            self._ids[slot] = None
            self._atts[slot] = None
            self._reached[slot] = None
        changed = np.zeros(self.network.n_nodes, dtype=bool)
        orphans = np.flatnonzero(gone[np.maximum(self._node_slot, 0)] & (self._node_slot >= 0))
        changed[orphans] = True
        self._node_s[orphans] = np.inf
        self._node_slot[orphans] = -1
        if len(orphans):
            self._recompute_nodes(orphans)
        direct_points: dict[str, np.ndarray] = {}
        for name, points in self._points.items():
            lost = np.flatnonzero((points.direct_slot >= 0) & gone[np.maximum(points.direct_slot, 0)])
            points.direct_s[lost] = np.inf
            points.direct_slot[lost] = -1
            direct_points[name] = lost
            if len(lost):
                self._recompute_direct(name, points, lost)
        for slot in slots:
            self._direct[slot] = {}
        return self._finish(tuple(ids), changed, direct_points, started)

    def move(self, station_id: str, attachment: Attachment) -> Change:
        """Move an open station to a new attachment (its id is kept): a removal and one bounded search."""
        started = time.perf_counter()
        if len(attachment) != 1:
            msg = f"a station moves to one place, got an attachment of {len(attachment)} points"
            raise InputError(msg)
        self._slot(station_id)
        removed = self.remove(station_id)
        moved = Attachment(
            ids=np.array([station_id]),
            segment=attachment.segment,
            fraction=attachment.fraction,
            snap_distance_m=attachment.snap_distance_m,
            access_s=attachment.access_s,
            snapped_xy=attachment.snapped_xy,
            off_network=attachment.off_network,
            small_piece=attachment.small_piece,
            point_xy=attachment.point_xy,
        )
        added = self.add(moved)
        points = {
            name: np.union1d(removed.points.get(name, []), added.points.get(name, [])).astype(np.int64)
            for name in self._points
        }
        return Change(
            stations=(station_id,),
            nodes=np.union1d(removed.nodes, added.nodes).astype(np.int64),
            points=points,
            seconds=time.perf_counter() - started,
        )

    # ------------------------------------------------------------------ internals

    def _slot(self, station_id: str) -> int:
        try:
            return self._slot_of[station_id]
        except KeyError:
            shown = ", ".join(list(self._slot_of)[:10]) + (" ..." if len(self._slot_of) > 10 else "")
            msg = f"no open station {station_id!r}; the open stations are: {shown or 'none'}"
            raise InputError(msg) from None

    def _check_new(self, ids: list[str]) -> None:
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            msg = f"station ids must be unique; repeated: {repeated[:5]}"
            raise InputError(msg)
        taken = [i for i in ids if i in self._slot_of]
        if taken:
            msg = f"stations {taken[:5]} are open already; remove or move them instead"
            raise InputError(msg)

    def _point_set(self, name: str) -> _Points:
        try:
            return self._points[name]
        except KeyError:
            msg = f"no point set {name!r}; registered: {', '.join(self._points) or 'none'}"
            raise InputError(msg) from None

    def _ids_of(self, slots: np.ndarray) -> np.ndarray:
        table = np.array([*self._ids, None], dtype=object)
        return table[np.where(slots >= 0, slots, len(self._ids))]

    def _recompute_nodes(self, nodes: np.ndarray) -> None:
        """Nearest time and station of ``nodes`` from the open stations' stored times."""
        wanted = np.zeros(self.network.n_nodes, dtype=bool)
        wanted[nodes] = True
        found_nodes, found_s, found_slot = [], [], []
        for slot, reached in enumerate(self._reached):
            if reached is None:
                continue
            at, seconds = reached
            keep = wanted[at]
            if keep.any():
                found_nodes.append(at[keep])
                found_s.append(seconds[keep])
                found_slot.append(np.full(int(keep.sum()), slot, dtype=np.int64))
        if not found_nodes:
            return
        at = np.concatenate(found_nodes)
        seconds = np.concatenate(found_s)
        slot_of = np.concatenate(found_slot)
        order = np.lexsort((seconds, at))
        at, seconds, slot_of = at[order], seconds[order], slot_of[order]
        first = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
        self._node_s[at[first]] = seconds[first]
        self._node_slot[at[first]] = slot_of[first]

    def _same_piece(self, stations: Attachment, row: int, points: _Points) -> tuple[np.ndarray, np.ndarray]:
        """Points on the same road piece as station ``row`` and the seconds straight along the piece.

        The arithmetic of :func:`coverage.network.routing._direct_pairs`, so the times are the same to the bit.
        """
        seg = int(stations.segment[row])
        lo, hi = np.searchsorted(points.sorted_segment, [seg, seg + 1])
        point = points.by_segment[lo:hi]
        if len(point) == 0:
            return point, np.zeros(0)
        q = stations.fraction[row]
        p = points.attachment.fraction[point]
        forward = p >= q
        with np.errstate(invalid="ignore"):
            leg = np.where(forward, _part(p - q, self._along[[seg]]), _part(q - p, self._against[[seg]]))
        return point, stations.access_s[row] + leg + points.attachment.access_s[point]

    def _direct_trips(self, stations: Attachment, row: int, points: _Points) -> tuple[np.ndarray, np.ndarray]:
        """Trips of station ``row`` that pass no node: along a shared road piece, or a straight walk (the quicker)."""
        point, seconds = self._same_piece(stations, row, points)
        if points.tree is None or points.walk_m is None or stations.point_xy is None or self.walk_speed_kph is None:
            return point, seconds
        xy = np.asarray(stations.point_xy[row], dtype=np.float64)
        near = np.asarray(points.tree.query_ball_point(xy, r=float(points.walk_m.max())), dtype=np.int64)
        if len(near) == 0:
            return point, seconds
        distance = np.sqrt(((np.asarray(points.attachment.point_xy)[near] - xy) ** 2).sum(axis=1))
        keep = distance <= points.walk_m[near]
        near, walk_s = near[keep], distance[keep] / (self.walk_speed_kph / 3.6)
        if len(near) == 0:
            return point, seconds
        both, both_s = np.concatenate([point, near]), np.concatenate([seconds, walk_s])
        order = np.lexsort((both_s, both))
        both, both_s = both[order], both_s[order]
        first = np.r_[True, both[1:] != both[:-1]]
        return both[first], both_s[first]

    def _store_direct_many(self, first: int, stations: Attachment) -> dict[str, np.ndarray]:
        """Same-piece trips of newly opened stations (slots ``first``...) to every point set."""
        touched: dict[str, np.ndarray] = {}
        for name, points in self._points.items():
            found = []
            for row in range(len(stations)):
                # as in reach_points, a trip along the shared piece counts whatever the horizon
                point, seconds = self._direct_trips(stations, row, points)
                if len(point):
                    self._direct[first + row][name] = (point, seconds)
                    self._apply_direct(points, first + row, point, seconds)
                    found.append(point)
            touched[name] = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        return touched

    def _store_direct(self, slot: int, station: Attachment, *, only: str) -> None:
        points = self._points[only]
        point, seconds = self._direct_trips(station, 0, points)
        if len(point):
            self._direct[slot][only] = (point, seconds)
            self._apply_direct(points, slot, point, seconds)

    @staticmethod
    def _apply_direct(points: _Points, slot: int, point: np.ndarray, seconds: np.ndarray) -> None:
        # several trips of one station to one point cannot happen (one attachment each), so no duplicates here
        better = seconds < points.direct_s[point]
        points.direct_s[point[better]] = seconds[better]
        points.direct_slot[point[better]] = slot

    def _recompute_direct(self, name: str, points: _Points, lost: np.ndarray) -> None:
        wanted = np.zeros(len(points.seconds), dtype=bool)
        wanted[lost] = True
        for slot, direct in enumerate(self._direct):
            if self._ids[slot] is None or name not in direct:
                continue
            point, seconds = direct[name]
            keep = wanted[point]
            if keep.any():
                self._apply_direct(points, slot, point[keep], seconds[keep])

    def _refresh(self, points: _Points, index: np.ndarray) -> None:
        """Recompute the times of some points from the node times and same-piece trips (as reach_points does)."""
        if len(index) == 0:
            return
        u, v = points.node_u[index], points.node_v[index]
        via_u = self._node_s[u] + points.via_u_s[index]
        via_v = self._node_s[v] + points.via_v_s[index]
        seconds = np.minimum(via_u, via_v) + points.attachment.access_s[index]
        slot = np.where(via_u <= via_v, self._node_slot[u], self._node_slot[v])
        direct = points.direct_s[index]
        better = direct < seconds
        seconds[better] = direct[better]
        slot[better] = points.direct_slot[index][better]
        points.seconds[index] = seconds
        points.slot[index] = np.where(np.isfinite(seconds), slot, -1)

    def _finish(
        self, ids: tuple[str, ...], changed: np.ndarray, direct_points: dict[str, np.ndarray], started: float
    ) -> Change:
        touched: dict[str, np.ndarray] = {}
        for name, points in self._points.items():
            index = np.flatnonzero(changed[points.node_u] | changed[points.node_v])
            extra = direct_points.get(name)
            if extra is not None and len(extra):
                index = np.union1d(index, extra)
            self._refresh(points, index)
            touched[name] = index
        change = Change(
            stations=ids, nodes=np.flatnonzero(changed), points=touched, seconds=time.perf_counter() - started
        )
        logger.debug(
            "stations %s: %d nodes, %s points in %.1f ms",
            ids,
            len(change.nodes),
            {k: len(v) for k, v in touched.items()},
            change.seconds * 1e3,
        )
        return change


def _concat(attachments: list[Attachment | None]) -> Attachment:
    parts = [a for a in attachments if a is not None]
    return Attachment(
        ids=np.concatenate([a.ids for a in parts]),
        segment=np.concatenate([a.segment for a in parts]),
        fraction=np.concatenate([a.fraction for a in parts]),
        snap_distance_m=np.concatenate([a.snap_distance_m for a in parts]),
        access_s=np.concatenate([a.access_s for a in parts]),
        snapped_xy=np.concatenate([a.snapped_xy for a in parts]),
        off_network=np.concatenate([a.off_network for a in parts]),
        small_piece=np.concatenate([a.small_piece for a in parts]),
        point_xy=np.concatenate([a.point_xy for a in parts]) if all(a.point_xy is not None for a in parts) else None,
    )


def _empty_attachment() -> Attachment:
    return Attachment(
        ids=np.zeros(0, dtype=str),
        segment=np.zeros(0, dtype=np.int64),
        fraction=np.zeros(0),
        snap_distance_m=np.zeros(0),
        access_s=np.zeros(0),
        snapped_xy=np.zeros((0, 2)),
        off_network=np.zeros(0, dtype=bool),
        small_piece=np.zeros(0, dtype=bool),
    )
