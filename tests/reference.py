"""An independent networkx reference for travel times on a prepared network.

Every attached point is spliced into its road piece as a node of its own, so
partial pieces, access legs and same-piece trips are modelled without the
virtual-node shortcuts the library uses.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise

import networkx as nx
import numpy as np

from coverage.network.prepared import Network
from coverage.network.snapping import Attachment


def spliced_graph(network: Network, sources: Attachment, targets: Attachment) -> nx.DiGraph:
    """Directed graph of the network with source points ("s", j) and target points ("t", j) spliced in."""
    stops: dict[int, list[tuple[float, object]]] = defaultdict(list)
    for j, (seg, q) in enumerate(zip(sources.segment, sources.fraction, strict=True)):
        stops[int(seg)].append((float(q), ("s", j)))
    for j, (seg, p) in enumerate(zip(targets.segment, targets.fraction, strict=True)):
        stops[int(seg)].append((float(p), ("t", j)))
    graph = nx.DiGraph()
    graph.add_nodes_from(("n", i) for i in range(network.n_nodes))

    def add(a, b, w):
        if not math.isfinite(w):
            return
        if graph.has_edge(a, b):
            w = min(w, graph[a][b]["weight"])
        graph.add_edge(a, b, weight=w)

    for seg in range(network.n_segments):
        u, v = ("n", int(network.seg_u[seg])), ("n", int(network.seg_v[seg]))
        fwd, bwd = network.seg_forward_s[seg], network.seg_backward_s[seg]
        chain = [(0.0, u), *sorted(stops.get(seg, []), key=lambda s: s[0]), (1.0, v)]
        for (f1, a), (f2, b) in pairwise(chain):
            if a == b:
                continue
            d = f2 - f1
            add(a, b, 0.0 if d <= 0 else d * fwd)
            add(b, a, 0.0 if d <= 0 else d * bwd)
    return graph


def nearest_times(
    network: Network, sources: Attachment, targets: Attachment, *, reverse: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds from the nearest source to each target (or target to nearest source when reverse), and node seconds."""
    graph = spliced_graph(network, sources, targets)
    if reverse:
        graph = graph.reverse(copy=True)
    for j, access in enumerate(sources.access_s):
        graph.add_edge("S", ("s", j), weight=float(access))
    dist = nx.single_source_dijkstra_path_length(graph, "S")
    at_targets = np.array([dist.get(("t", j), np.inf) + targets.access_s[j] for j in range(len(targets))])
    at_nodes = np.array([dist.get(("n", i), np.inf) for i in range(network.n_nodes)])
    return at_targets, at_nodes
