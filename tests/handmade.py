"""A four-node network small enough to check every figure by hand.

    D (1000, 1000)
    |
    | 1000 m, 200 s both ways
    |
    A ---------- B ---------->  C
  (0,0)  100 s  (1000,0) 100 s (2000,0), one way B -> C
         both ways

Coordinates are metres in UTM 38S (EPSG:32738).
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from coverage.network.prepared import Network

CRS_M = CRS.from_epsg(32738)
ORIGIN = (500_000.0, 8_600_000.0)


def xy(x: float, y: float) -> tuple[float, float]:
    """Hand coordinates shifted to a plausible UTM position."""
    return ORIGIN[0] + x, ORIGIN[1] + y


def handmade_network() -> Network:
    nodes = np.array([xy(0, 0), xy(1000, 0), xy(2000, 0), xy(1000, 1000)])
    seg_u = np.array([0, 1, 1], dtype=np.int32)
    seg_v = np.array([1, 2, 3], dtype=np.int32)
    return Network(
        crs=CRS_M,
        profile="handmade",
        source="handmade",
        node_ids=np.array([10, 20, 30, 40], dtype=np.int64),
        node_xy=nodes,
        seg_u=seg_u,
        seg_v=seg_v,
        seg_forward_s=np.array([100.0, 100.0, 200.0]),
        seg_backward_s=np.array([100.0, np.inf, 200.0]),
        seg_length_m=np.array([1000.0, 1000.0, 1000.0]),
        seg_highway=np.array(["primary", "primary", "track"]),
        seg_geometry=np.asarray(shapely.linestrings([[nodes[u], nodes[v]] for u, v in zip(seg_u, seg_v, strict=True)])),
    )


def pocket_network() -> Network:
    """A 4 km square ring road with a short road inside it that joins nothing (an unreachable pocket).

        D (0,4000) ------------ C (4000,4000)
        |                            |
        |        P ---- Q            |      P (1900,2000) - Q (2100,2000): 200 m, cut off
        |                            |
        A (0,0) --------------- B (4000,0)

    Each side of the ring takes 200 s both ways (72 km/h); P-Q takes 10 s.
    """
    nodes = np.array([xy(0, 0), xy(4000, 0), xy(4000, 4000), xy(0, 4000), xy(1900, 2000), xy(2100, 2000)])
    seg_u = np.array([0, 1, 2, 3, 4], dtype=np.int32)
    seg_v = np.array([1, 2, 3, 0, 5], dtype=np.int32)
    seconds = np.array([200.0, 200.0, 200.0, 200.0, 10.0])
    return Network(
        crs=CRS_M,
        profile="handmade",
        source="pocket",
        node_ids=np.arange(1, 7, dtype=np.int64),
        node_xy=nodes,
        seg_u=seg_u,
        seg_v=seg_v,
        seg_forward_s=seconds,
        seg_backward_s=seconds.copy(),
        seg_length_m=np.array([4000.0, 4000.0, 4000.0, 4000.0, 200.0]),
        seg_highway=np.array(["primary"] * 4 + ["residential"]),
        seg_geometry=np.asarray(shapely.linestrings([[nodes[u], nodes[v]] for u, v in zip(seg_u, seg_v, strict=True)])),
    )
