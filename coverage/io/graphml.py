"""Roads from osmnx graphs: a GraphML file, a graph in memory, or an online download.

osmnx graphs are directed and hold both directions of a two-way road as two edges.
They are collapsed here to one :class:`~coverage.io.roads.Roads` piece per road:

- Two edges u->v and v->u whose geometries are each other's reverse (to the
  centimetre) are one two-way piece (``oneway`` 0). Of the two, the edge osmnx made
  in the way's own direction (``reversed`` False) is kept, else the first in node
  order. Parallel edges (two roads between the same junctions) pair by geometry, so
  they stay two pieces.
- An edge with no reverse twin is one-way from u to v (``oneway`` 1), whatever its
  ``oneway`` attribute says: a two-way edge that lost its twin (a truncated graph)
  can only be used in the direction the graph has, and this is logged.
- Edges without a ``geometry`` are straight lines between their nodes.

osmnx's simplification merges ways into one edge and keeps each differing attribute
as a list of the distinct values. They are resolved deterministically:

- ``highway``: the most frequent value, ties going to the higher class (see
  :data:`HIGHWAY_RANK`). osmnx lists each value once, so in practice the higher class
  wins: a merged edge is one road whose class changes without a junction, and its
  higher class is the one that says what the road carries;
- ``maxspeed``: the distinct values joined as ``"30;50"`` (the profile takes the lowest);
- ``name``: the distinct names, sorted, joined with ``";"``;
- ``access``: the most restrictive value (see :data:`ACCESS_RANK`): a vehicle on the
  merged edge must pass every part of it.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputError, NetworkUnavailableError
from coverage.io.roads import HIGHWAY_RANK, Roads, make_roads

logger = logging.getLogger(__name__)


#: OSM access values from the most to the least restrictive.
ACCESS_RANK = (
    "no",
    "private",
    "military",
    "agricultural",
    "forestry",
    "delivery",
    "customers",
    "destination",
    "permit",
    "permissive",
    "designated",
    "yes",
)


def _values(value: object) -> list[str]:
    """The distinct non-empty string values of an attribute that may be a list."""
    items: Iterable[object] = value if isinstance(value, list | tuple | set) else [value]
    return [str(item) for item in items if item is not None and not (isinstance(item, float) and np.isnan(item))]


def _resolve_highway(value: object) -> str | None:
    values = _values(value)
    if not values:
        return None
    counts = Counter(values)
    rank = {name: i for i, name in enumerate(HIGHWAY_RANK)}
    return min(counts, key=lambda name: (-counts[name], rank.get(name, len(rank)), name))


def _resolve_access(value: object) -> str | None:
    values = _values(value)
    if not values:
        return None
    rank = {name: i for i, name in enumerate(ACCESS_RANK)}
    return min(values, key=lambda name: (rank.get(name, len(rank)), name))


def _join(value: object) -> str | None:
    values = sorted(set(_values(value)))
    return ";".join(values) if values else None


def _is_reversed(value: object) -> bool:
    """True when osmnx built the edge against the way's direction throughout."""
    values = _values(value)
    return bool(values) and all(item.lower() == "true" for item in values)


def _node_ids(graph: nx.MultiDiGraph, source: str) -> dict[Any, int]:
    """Integer id of each node: its own when it is an integer, else its position."""
    nodes = list(graph.nodes)
    try:
        ids = [int(node) for node in nodes]
    except (TypeError, ValueError):
        logger.info("%s: node ids are not integers; numbering them 0..%d", source, len(nodes) - 1)
        return {node: i for i, node in enumerate(nodes)}
    if len(set(ids)) != len(ids):
        return {node: i for i, node in enumerate(nodes)}
    return dict(zip(nodes, ids, strict=True))


def roads_from_graphml(path: str | os.PathLike[str]) -> Roads:
    """Read an osmnx GraphML file into a :class:`~coverage.io.roads.Roads` table.

    Parameters
    ----------
    path : str or path-like
        A GraphML file saved by ``osmnx.save_graphml``, projected or not.

    Returns
    -------
    Roads
        One piece per road between junctions (see the module notes), projected to the
        graph's CRS, or to its UTM zone when the graph is in longitude/latitude.
    """
    import osmnx

    path = Path(path)
    if not path.is_file():
        msg = f"GraphML file not found: {path}. Give a file saved with osmnx.save_graphml."
        raise InputError(msg)
    try:
        graph = osmnx.load_graphml(path)
    except Exception as error:  # networkx/osmnx raise many kinds on a broken file
        msg = (
            f"{path}: cannot read it as an osmnx GraphML file ({type(error).__name__}: {error}). "
            f"Save it again with osmnx.save_graphml."
        )
        raise InputError(msg) from error
    return roads_from_graph(graph, source=path.name)


def roads_from_graph(graph: nx.MultiDiGraph, *, source: str) -> Roads:
    """Turn an osmnx-style graph in memory into a :class:`~coverage.io.roads.Roads` table.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Nodes with ``x``/``y``, edges with ``highway`` and optionally ``geometry``,
        ``oneway``, ``reversed``, ``maxspeed``, ``name``, ``access``; ``graph.graph["crs"]``
        set (osmnx graphs have it).
    source : str
        What the graph is, for messages.
    """
    import osmnx

    if not isinstance(graph, nx.MultiDiGraph):
        msg = f"{source}: expected an osmnx graph (networkx.MultiDiGraph), got {type(graph).__name__}."
        raise InputError(msg)
    if graph.number_of_edges() == 0:
        msg = f"{source}: the graph has no edges, so there are no roads to read."
        raise InputError(msg)
    crs = graph.graph.get("crs")
    if crs is None:
        msg = (
            f"{source}: the graph has no 'crs' attribute; set graph.graph['crs'] "
            f"(osmnx uses 'epsg:4326' for longitude/latitude)."
        )
        raise InputError(msg)
    if not osmnx.projection.is_projected(crs):
        graph = osmnx.project_graph(graph)
        crs = graph.graph["crs"]
    ids = _node_ids(graph, source)
    no_xy = [node for node, data in graph.nodes(data=True) if "x" not in data or "y" not in data]
    if no_xy:
        msg = (
            f"{source}: {len(no_xy):,} nodes have no x/y coordinates (first: {no_xy[0]!r}); "
            f"osmnx graphs give every node x and y."
        )
        raise InputError(msg)
    xy = {node: (float(data["x"]), float(data["y"])) for node, data in graph.nodes(data=True)}

    edges = sorted(graph.edges(keys=True, data=True), key=lambda e: (ids[e[0]], ids[e[1]], str(e[2])))
    geometry = [
        data["geometry"] if data.get("geometry") is not None else shapely.LineString([xy[u], xy[v]])
        for u, v, _, data in edges
    ]
    coords, index = shapely.get_coordinates(np.asarray(geometry, dtype=object), return_index=True)
    rounded = np.round(coords, 2)
    bounds = np.r_[0, np.cumsum(np.bincount(index, minlength=len(edges)))]
    by_key: dict[tuple[int, int, bytes], list[int]] = {}
    keys = []
    for i, (u, v, _, _) in enumerate(edges):
        part = rounded[bounds[i] : bounds[i + 1]]
        key = (ids[u], ids[v], part.tobytes())
        keys.append((key, (ids[v], ids[u], part[::-1].copy().tobytes())))
        by_key.setdefault(key, []).append(i)

    paired = np.zeros(len(edges), dtype=bool)
    keep: list[int] = []
    oneway: list[int] = []
    lost_twin = 0
    for i, (_, twin_key) in enumerate(keys):
        if paired[i]:
            continue
        paired[i] = True
        twin = next((j for j in by_key.get(twin_key, []) if not paired[j]), None)
        if twin is None:
            keep.append(i)
            oneway.append(1)
            if _values(edges[i][3].get("oneway")) in (["False"], ["false"]):
                lost_twin += 1
            continue
        paired[twin] = True
        reversed_i, reversed_twin = (_is_reversed(edges[k][3].get("reversed")) for k in (i, twin))
        keep.append(twin if reversed_i and not reversed_twin else i)
        oneway.append(0)
    if lost_twin:
        logger.warning(
            "%s: %d two-way edges have no edge back (the graph was cut?); they are read as one-way", source, lost_twin
        )

    rows = []
    no_class = 0
    for i in keep:
        u, v, _, data = edges[i]
        highway = _resolve_highway(data.get("highway"))
        if highway is None:
            no_class += 1
            highway = "road"
        rows.append(
            {
                "u": ids[u],
                "v": ids[v],
                "highway": highway,
                "maxspeed": _join(data.get("maxspeed")),
                "access": _resolve_access(data.get("access")),
                "name": _join(data.get("name")),
            }
        )
    if no_class:
        logger.warning("%s: %d edges have no highway attribute; read as highway=road", source, no_class)
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows).assign(oneway=np.asarray(oneway, dtype=np.int8)),
        geometry=[geometry[i] for i in keep],
        crs=crs,
    )
    used = set(frame["u"]) | set(frame["v"])
    isolated = [node for node in graph.nodes if ids[node] not in used]
    if isolated:
        logger.info("%s: %d nodes without any edge were not read", source, len(isolated))
    node_list = [node for node in graph.nodes if ids[node] in used]
    nodes = gpd.GeoDataFrame(
        index=pd.Index([ids[node] for node in node_list], dtype=np.int64, name="node"),
        geometry=shapely.points([xy[node] for node in node_list]),
        crs=crs,
    )
    merged = sum(isinstance(edges[i][3].get("highway"), list) for i in keep)
    logger.info(
        "%s: %d graph edges -> %d road pieces (%d two-way, %d one-way); %d merged edges with several classes",
        source,
        len(edges),
        len(frame),
        oneway.count(0),
        oneway.count(1),
        merged,
    )
    return make_roads(nodes, frame, source=source)


def _overpass_reachable() -> None:
    """Raise NetworkUnavailableError at once when the Overpass API cannot be reached.

    osmnx itself, finding the Overpass status page unreachable, waits a minute before
    trying the download; checking first makes an offline machine fail fast.
    """
    import osmnx
    import requests

    url = osmnx.settings.overpass_url.rstrip("/") + "/status"
    try:
        requests.get(url, timeout=osmnx.settings.requests_timeout, **osmnx.settings.requests_kwargs)
    except requests.exceptions.RequestException as error:
        raise NetworkUnavailableError(_offline_message(error)) from error


def _offline_message(error: Exception) -> str:
    return (
        f"cannot download roads from OpenStreetMap: the online service cannot be reached "
        f"({type(error).__name__}). This machine seems to be offline. Download an OSM extract "
        f"(.osm.pbf) of the region where you have internet, and read it with "
        f"coverage.io.osm.roads_from_osm, or use a GraphML file saved by osmnx (roads_from_graphml)."
    )


def roads_from_place(
    query: str | None = None,
    *,
    polygon: shapely.Geometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    network_type: str = "all",
) -> Roads:
    """Download the roads of a place or polygon from OpenStreetMap with osmnx.

    Parameters
    ----------
    query : str, optional
        A place name osmnx can geocode ("随县, 随州市, 湖北省, 中国").
    polygon : shapely polygon or GeoDataFrame, optional
        The area instead of a name: a WGS84 polygon, or a GeoDataFrame in any CRS.
    network_type : str
        osmnx network type; ``"all"`` keeps roads for both the drive and walk profiles.

    Raises
    ------
    NetworkUnavailableError
        When the machine cannot reach the online services (use a local OSM file).
    InputError
        When neither or both of ``query`` and ``polygon`` are given, or nothing is found.
    """
    import osmnx
    import requests

    if (query is None) == (polygon is None):
        msg = "give either a place name (query) or a polygon, not both or neither."
        raise InputError(msg)
    if isinstance(polygon, gpd.GeoDataFrame | gpd.GeoSeries):
        polygon = polygon.to_crs(4326).union_all()
    if polygon is not None and not isinstance(polygon, shapely.Polygon | shapely.MultiPolygon):
        msg = f"polygon must be a WGS84 Polygon or MultiPolygon (or a GeoDataFrame), got {type(polygon).__name__}."
        raise InputError(msg)
    _overpass_reachable()
    what = repr(query) if query is not None else "the given polygon"
    try:
        if query is not None:
            graph = osmnx.graph_from_place(query, network_type=network_type, retain_all=True)
        else:
            area = cast("shapely.Polygon | shapely.MultiPolygon", polygon)
            graph = osmnx.graph_from_polygon(area, network_type=network_type, retain_all=True)
    except requests.exceptions.RequestException as error:
        raise NetworkUnavailableError(_offline_message(error)) from error
    except (osmnx._errors.InsufficientResponseError, TypeError, ValueError) as error:
        msg = f"no OpenStreetMap roads found for {what} ({error}). Check the place name or polygon."
        raise InputError(msg) from error
    return roads_from_graph(graph, source=f"OpenStreetMap download for {what}")
