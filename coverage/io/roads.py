"""The road table every network source produces.

Whatever the source (an OSM extract, a county office's GIS lines file, an osmnx
GraphML file or an online osmnx download), it is read into one :class:`Roads`
object: junction nodes and the road pieces between them, in a projected CRS in
metres. Speeds are not decided here; a speed profile turns a :class:`Roads`
into a prepared network (see :mod:`coverage.network.prepared`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputError

logger = logging.getLogger(__name__)

#: OSM ``highway`` values a profile may give a speed for (roads, links and paths),
#: from the highest class to the lowest (the order breaks ties between merged edges).
HIGHWAY_RANK = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "road",
    "busway",
    "service",
    "track",
    "escape",
    "raceway",
    "bus_guideway",
    "pedestrian",
    "cycleway",
    "bridleway",
    "footway",
    "path",
    "steps",
    "corridor",
    "via_ferrata",
    "ladder",
)
KNOWN_HIGHWAY_CLASSES = frozenset(HIGHWAY_RANK)

#: Columns every ``Roads.edges`` table carries, besides ``geometry``.
EDGE_COLUMNS = ("u", "v", "highway", "maxspeed", "oneway", "access", "speed_kph", "name", "length_m")


@dataclass(frozen=True)
class Roads:
    """Junction nodes and the road pieces between them.

    Attributes
    ----------
    nodes : geopandas.GeoDataFrame
        Index ``node`` (int64, unique). Point geometry in a projected CRS (metres).
    edges : geopandas.GeoDataFrame
        One row per road piece between two junctions, digitised from ``u`` to ``v``:

        ``u``, ``v`` (int64)
            node ids at the start and end of the geometry;
        ``highway`` (str)
            road class in OSM terms (``primary``, ``residential``, ``track``...);
            sources with other class names map them to these;
        ``maxspeed`` (str or None)
            the raw OSM ``maxspeed`` value, parsed by the profile;
        ``oneway`` (int8)
            0 both ways, 1 only from ``u`` to ``v``, -1 only from ``v`` to ``u``;
        ``access`` (str or None)
            the raw OSM ``access`` value (``no``, ``private``... close it to vehicles);
        ``speed_kph`` (float)
            a speed stated by the source (a GIS speed column), NaN when absent;
        ``name`` (str or None)
            road name, for messages and maps;
        ``length_m`` (float)
            length of the geometry in metres.
    source : str
        What was read, for messages ("comores-latest.osm.pbf", "roads.gpkg layer roads").
    problems : geopandas.GeoDataFrame
        Places in the source a planner should look at, one point each, same CRS:
        columns ``problem`` (``dangling_end``, ``near_miss_junction``, ...) and
        ``detail`` (a sentence). Empty when nothing was found.
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    source: str
    problems: gpd.GeoDataFrame

    @property
    def crs(self) -> object:
        """The projected CRS of nodes and edges."""
        return self.edges.crs

    def __repr__(self) -> str:
        return f"Roads({self.source!r}: {len(self.nodes):,} nodes, {len(self.edges):,} edges, crs={self.crs})"


def make_roads(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    source: str,
    problems: gpd.GeoDataFrame | None = None,
) -> Roads:
    """Check a node and edge table against the contract and wrap them in :class:`Roads`.

    Missing optional columns (``maxspeed``, ``access``, ``speed_kph``, ``name``) are
    added empty; ``length_m`` is computed from the geometry when absent.

    Raises
    ------
    InputError
        When the tables are empty, not projected, or refer to unknown nodes.
    """
    if len(edges) == 0:
        msg = (
            f"{source}: no roads were found. Check the file, the boundary it was clipped to, and the road classes read."
        )
        raise InputError(msg)
    if edges.crs is None or not edges.crs.is_projected:
        msg = f"{source}: road geometry must be in a projected CRS in metres, got {edges.crs}; project it first (Roads are built projected)."
        raise InputError(msg)
    edges = edges.copy()
    for column in ("maxspeed", "access", "name"):
        if column not in edges:
            edges[column] = None
    if "speed_kph" not in edges:
        edges["speed_kph"] = np.nan
    if "oneway" not in edges:
        edges["oneway"] = 0
    if "length_m" not in edges:
        edges["length_m"] = shapely.length(edges.geometry.values)
    edges["u"] = edges["u"].astype(np.int64)
    edges["v"] = edges["v"].astype(np.int64)
    edges["oneway"] = edges["oneway"].astype(np.int8)
    edges["length_m"] = edges["length_m"].astype(np.float64)
    edges["speed_kph"] = pd.to_numeric(edges["speed_kph"], errors="coerce").astype(np.float64)
    edges["highway"] = edges["highway"].astype(str)
    unknown = ~(edges["u"].isin(nodes.index) & edges["v"].isin(nodes.index))
    if unknown.any():
        msg = f"{source}: {int(unknown.sum()):,} road pieces refer to nodes that are not in the node table."
        raise InputError(msg)
    columns = [*EDGE_COLUMNS, "geometry"]
    edges = edges[columns].reset_index(drop=True)
    nodes = nodes[["geometry"]].copy()
    nodes.index = nodes.index.astype(np.int64)
    nodes.index.name = "node"
    if problems is None:
        problems = gpd.GeoDataFrame({"problem": [], "detail": []}, geometry=[], crs=edges.crs)
    roads = Roads(nodes=nodes, edges=edges, source=source, problems=problems.reset_index(drop=True))
    logger.info("read %r", roads)
    return roads
