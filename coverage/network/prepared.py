"""The prepared network: road pieces with travel times as compact integer-indexed arrays.

A :class:`Network` is built once from a :class:`~coverage.io.roads.Roads` table and a
speed profile, and cached on disk keyed by the input file's hash, the profile and
the options. Routing (:mod:`coverage.network.routing`) works on its CSR matrix only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components

from coverage._errors import InputError
from coverage._version import __version__
from coverage.io.roads import Roads
from coverage.network.profiles import Profile, edge_speeds_kph

logger = logging.getLogger(__name__)

#: Bump when the cached arrays change meaning, so old caches are not reused.
CACHE_FORMAT = 3

#: A disconnected piece holding less than this share of the nodes is a "small piece": a
#: fragment cut off from the roads around it (a mapping gap, a private estate). Separate
#: islands or valleys with their own large networks are not small pieces.
SMALL_PIECE_SHARE = 0.01


@dataclass(frozen=True)
class ComponentReport:
    """How the prepared network splits into pieces that do not connect."""

    n_components: int
    largest_nodes: int
    small_pieces: int
    small_piece_nodes: int

    def __str__(self) -> str:
        if self.n_components == 1:
            return "the network is one connected piece"
        return (
            f"the network has {self.n_components:,} disconnected pieces: the largest holds "
            f"{self.largest_nodes:,} nodes; {self.small_pieces:,} small pieces (under "
            f"{SMALL_PIECE_SHARE:.0%} of the nodes each) hold {self.small_piece_nodes:,} nodes"
        )


class Network:
    """Road pieces with travel times for one profile, as arrays.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS of all coordinates (metres).
    profile : str
        Name of the speed profile the times come from.
    source : str
        What the roads were read from.
    node_ids : numpy.ndarray
        int64 id of each node in the source (OSM node id, or a made-up id).
    node_xy : numpy.ndarray
        (n, 2) float64 projected coordinates.
    seg_u, seg_v : numpy.ndarray
        int32 node index at the start and the end of each road piece's geometry.
    seg_forward_s, seg_backward_s : numpy.ndarray
        float64 seconds to drive the piece from u to v and from v to u; ``inf``
        where the profile forbids that direction (one-way streets).
    seg_length_m : numpy.ndarray
        float64 length of each piece.
    seg_highway : numpy.ndarray
        road class of each piece.
    seg_geometry : numpy.ndarray
        shapely LineStrings, digitised from u to v.
    problems : pandas.DataFrame
        Places in the road source to look at (``problem``, ``detail``, ``x``, ``y``),
        carried over from :attr:`coverage.io.roads.Roads.problems`.
    component : numpy.ndarray
        int32 weakly connected component of each node; 0 is the largest.
    small_piece : numpy.ndarray
        bool per node: its component holds less than ``SMALL_PIECE_SHARE`` of the nodes.
    """

    def __init__(
        self,
        *,
        crs: CRS,
        profile: str,
        source: str,
        node_ids: np.ndarray,
        node_xy: np.ndarray,
        seg_u: np.ndarray,
        seg_v: np.ndarray,
        seg_forward_s: np.ndarray,
        seg_backward_s: np.ndarray,
        seg_length_m: np.ndarray,
        seg_highway: np.ndarray,
        seg_geometry: np.ndarray,
        problems: pd.DataFrame | None = None,
    ) -> None:
        self.crs = crs
        self.profile = profile
        self.source = source
        self.node_ids = node_ids
        self.node_xy = node_xy
        self.seg_u = seg_u
        self.seg_v = seg_v
        self.seg_forward_s = seg_forward_s
        self.seg_backward_s = seg_backward_s
        self.seg_length_m = seg_length_m
        self.seg_highway = seg_highway
        self.seg_geometry = seg_geometry
        self.problems = (
            problems if problems is not None else pd.DataFrame({"problem": [], "detail": [], "x": [], "y": []})
        )
        self.graph = _csr_from_segments(len(node_ids), seg_u, seg_v, seg_forward_s, seg_backward_s)
        self.component = _components(self.graph)
        sizes = np.bincount(self.component)
        self.small_piece = (sizes < SMALL_PIECE_SHARE * len(node_ids))[self.component]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_segments(self) -> int:
        """Number of road pieces."""
        return len(self.seg_u)

    @cached_property
    def reverse_graph(self) -> sp.csr_matrix:
        """The graph with every edge turned round, for trips towards a facility."""
        return self.graph.T.tocsr()

    @cached_property
    def segment_tree(self) -> shapely.STRtree:
        """Spatial index of the road pieces, for snapping."""
        return shapely.STRtree(self.seg_geometry)

    def simplified_geometry(self, tolerance_m: float) -> np.ndarray:
        """Road piece geometry simplified to ``tolerance_m`` (cached), for drawing polygons."""
        cache = self.__dict__.setdefault("_simplified", {})
        if tolerance_m not in cache:
            cache[tolerance_m] = shapely.simplify(self.seg_geometry, tolerance_m)
        return cache[tolerance_m]

    @cached_property
    def geometry_fingerprint(self) -> str:
        """sha256 of the road pieces' geometry and ends: equal for profiles that use the same roads.

        Points snapped to one network can be reused on another with this fingerprint
        (snapping depends on the roads' geometry only, not on their speeds).
        """
        digest = hashlib.sha256()
        for array in (self.seg_u, self.seg_v, self.node_xy, shapely.get_coordinates(self.seg_geometry)):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(self.crs.to_wkt().encode())
        return digest.hexdigest()

    @cached_property
    def components(self) -> ComponentReport:
        """Summary of the disconnected pieces."""
        sizes = np.bincount(self.component)
        small = sizes < SMALL_PIECE_SHARE * self.n_nodes
        return ComponentReport(
            n_components=len(sizes),
            largest_nodes=int(sizes[0]),
            small_pieces=int(small.sum()),
            small_piece_nodes=int(sizes[small].sum()),
        )

    def extent_lonlat(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max) of the nodes."""
        lon, lat = Transformer.from_crs(self.crs, 4326, always_xy=True).transform(
            self.node_xy[:, 0], self.node_xy[:, 1]
        )
        return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))

    def __repr__(self) -> str:
        return (
            f"Network({self.source!r}, profile={self.profile!r}: {self.n_nodes:,} nodes, "
            f"{self.graph.nnz:,} directed edges, {self.components.n_components:,} pieces)"
        )


def _csr_from_segments(
    n: int, seg_u: np.ndarray, seg_v: np.ndarray, forward_s: np.ndarray, backward_s: np.ndarray
) -> sp.csr_matrix:
    """Directed CSR matrix of seconds; parallel edges keep the fastest, self-loops are left out."""
    rows = np.concatenate([seg_u, seg_v])
    cols = np.concatenate([seg_v, seg_u])
    weights = np.concatenate([forward_s, backward_s])
    usable = np.isfinite(weights) & (rows != cols)
    rows, cols, weights = rows[usable], cols[usable], weights[usable]
    # keep the minimum of parallel edges: sort by (row, col, weight) and take the first of each pair
    order = np.lexsort((weights, cols, rows))
    rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, weights = rows[first], cols[first], weights[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    indptr = np.cumsum(indptr)
    # explicit zero weights stay edges in scipy.sparse.csgraph when built this way
    graph = sp.csr_matrix((weights, cols.astype(np.int32), indptr), shape=(n, n))
    graph.sort_indices()
    return graph


def _components(graph: sp.csr_matrix) -> np.ndarray:
    """Weakly connected component labels, renumbered so 0 is the largest."""
    _, labels = connected_components(graph, directed=True, connection="weak")
    sizes = np.bincount(labels)
    rank = np.empty_like(sizes)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
    return rank[labels].astype(np.int32)


def prepare_network(
    roads: Roads,
    profile: Profile,
    *,
    urban_area: shapely.Geometry | None = None,
) -> Network:
    """Turn a road table into a prepared network for one speed profile.

    Parameters
    ----------
    roads : Roads
        Junction nodes and road pieces (any source).
    profile : Profile
        Speeds per road class, one-way and access rules.
    urban_area : shapely geometry, optional
        Polygon(s) in WGS84 where urban speeds apply; elsewhere rural speeds.
        Without it every road is rural.

    Returns
    -------
    Network
        Only the pieces the profile can use, in at least one direction.
    """
    edges = roads.edges
    midpoints = shapely.line_interpolate_point(edges.geometry.values, 0.5, normalized=True)
    if urban_area is not None:
        to_lonlat = Transformer.from_crs(roads.crs, 4326, always_xy=True)
        lon, lat = to_lonlat.transform(shapely.get_x(midpoints), shapely.get_y(midpoints))
        urban = shapely.contains_xy(urban_area, lon, lat)
    else:
        urban = np.zeros(len(edges), dtype=bool)
    speed_kph = edge_speeds_kph(profile, edges, urban)
    usable = speed_kph > 0
    if not usable.any():
        classes = ", ".join(sorted(edges["highway"].unique())[:12])
        msg = (
            f"{roads.source}: profile {profile.name!r} can use none of the {len(edges):,} roads "
            f"(classes found: {classes}). Choose another profile or add these classes to it."
        )
        raise InputError(msg)
    edges = edges[usable]
    speed_ms = speed_kph[usable] / 3.6
    seconds = edges["length_m"].to_numpy() / speed_ms
    oneway = edges["oneway"].to_numpy() if profile.honour_oneway else np.zeros(len(edges), dtype=np.int8)
    forward_s = np.where(oneway == -1, np.inf, seconds)
    backward_s = np.where(oneway == 1, np.inf, seconds)

    used_nodes = np.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]))
    node_xy = np.column_stack(
        [
            shapely.get_x(roads.nodes.geometry.loc[used_nodes].values),
            shapely.get_y(roads.nodes.geometry.loc[used_nodes].values),
        ]
    )
    seg_u = np.searchsorted(used_nodes, edges["u"].to_numpy()).astype(np.int32)
    seg_v = np.searchsorted(used_nodes, edges["v"].to_numpy()).astype(np.int32)
    network = Network(
        crs=CRS.from_user_input(roads.crs),
        profile=profile.name,
        source=roads.source,
        node_ids=used_nodes,
        node_xy=node_xy,
        seg_u=seg_u,
        seg_v=seg_v,
        seg_forward_s=forward_s.astype(np.float64),
        seg_backward_s=backward_s.astype(np.float64),
        seg_length_m=edges["length_m"].to_numpy(dtype=np.float64),
        seg_highway=edges["highway"].to_numpy(dtype=str),
        seg_geometry=np.asarray(edges.geometry.values),
        problems=pd.DataFrame(
            {
                "problem": roads.problems["problem"].astype(str).to_numpy(),
                "detail": roads.problems["detail"].astype(str).to_numpy(),
                "x": shapely.get_x(np.asarray(roads.problems.geometry.values)),
                "y": shapely.get_y(np.asarray(roads.problems.geometry.values)),
            }
        ),
    )
    logger.info("prepared %r; %s", network, network.components)
    return network


def length_network(network: Network) -> Network:
    """The same network with each piece's time replaced by its length in metres.

    Searches on it give shortest road distances (one-way rules kept): the plans'
    "service radius" is a distance, not a time. Attach points to it with an access
    speed of 3.6 km/h so that their access legs are in metres too.
    """
    return Network(
        crs=network.crs,
        profile=f"{network.profile} (metres)",
        source=network.source,
        node_ids=network.node_ids,
        node_xy=network.node_xy,
        seg_u=network.seg_u,
        seg_v=network.seg_v,
        seg_forward_s=np.where(np.isfinite(network.seg_forward_s), network.seg_length_m, np.inf),
        seg_backward_s=np.where(np.isfinite(network.seg_backward_s), network.seg_length_m, np.inf),
        seg_length_m=network.seg_length_m,
        seg_highway=network.seg_highway,
        seg_geometry=network.seg_geometry,
        problems=network.problems,
    )


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """Where prepared networks are cached: ``$FACILITY_COVERAGE_CACHE`` or the user cache folder."""
    if os.environ.get("FACILITY_COVERAGE_CACHE"):
        return Path(os.environ["FACILITY_COVERAGE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "facility-coverage"


def cache_key(*parts: str) -> str:
    """A short stable key from strings (file hashes, profile hash, options)."""
    text = json.dumps([CACHE_FORMAT, __version__, *parts])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class CacheDamagedError(ValueError):
    """A cached network whose arrays do not match the checksum written with them."""


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """sha256 of named arrays: their names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_network(network: Network, path: str | os.PathLike[str]) -> None:
    """Write a prepared network to one ``.npz`` file, atomically, with a checksum of its arrays.

    :func:`load_cached_network` recomputes the checksum: a file damaged on disk or
    changed by hand is not trusted.
    """
    path = Path(path)
    coords, line_index = shapely.get_coordinates(network.seg_geometry, return_index=True)
    arrays = {
        "node_ids": network.node_ids,
        "node_xy": network.node_xy,
        "seg_u": network.seg_u,
        "seg_v": network.seg_v,
        "seg_forward_s": network.seg_forward_s,
        "seg_backward_s": network.seg_backward_s,
        "seg_length_m": network.seg_length_m,
        "seg_highway": network.seg_highway,
        "coords": coords,
        "line_index": line_index.astype(np.int32),
        "problem": network.problems["problem"].to_numpy(dtype=str),
        "problem_detail": network.problems["detail"].to_numpy(dtype=str),
        "problem_xy": network.problems[["x", "y"]].to_numpy(dtype=np.float64).reshape(-1, 2),
    }
    meta = {"crs": network.crs.to_wkt(), "profile": network.profile, "source": network.source}
    arrays["meta"] = np.array(json.dumps(meta))
    checksum = arrays_sha256(arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    try:
        with open(temporary, "wb") as out:
            np.savez(out, sha256=np.array(checksum), **arrays)  # type: ignore[arg-type]
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def load_cached_network(path: str | os.PathLike[str]) -> Network:
    """Read a network written by :func:`save_network`, after checking its arrays against their checksum.

    Raises
    ------
    CacheDamagedError
        When the file holds no checksum or its arrays do not match it.
    """
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files if name != "sha256"}
        stored = str(data["sha256"]) if "sha256" in data.files else None
    if stored is None or arrays_sha256(arrays) != stored:
        what = "holds no checksum" if stored is None else "does not match the checksum written with it"
        msg = f"the cached network {path} {what}: it was damaged or changed after it was written"
        raise CacheDamagedError(msg)
    meta = json.loads(str(arrays["meta"]))
    geometry = shapely.linestrings(arrays["coords"], indices=arrays["line_index"])
    return Network(
        crs=CRS.from_wkt(meta["crs"]),
        profile=meta["profile"],
        source=meta["source"],
        node_ids=arrays["node_ids"],
        node_xy=arrays["node_xy"],
        seg_u=arrays["seg_u"],
        seg_v=arrays["seg_v"],
        seg_forward_s=arrays["seg_forward_s"],
        seg_backward_s=arrays["seg_backward_s"],
        seg_length_m=arrays["seg_length_m"],
        seg_highway=arrays["seg_highway"],
        seg_geometry=np.asarray(geometry),
        problems=pd.DataFrame(
            {
                "problem": arrays["problem"],
                "detail": arrays["problem_detail"],
                "x": arrays["problem_xy"][:, 0],
                "y": arrays["problem_xy"][:, 1],
            }
        ),
    )
