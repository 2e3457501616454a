"""What snapping flagged, said once per run in a planner's words: what was counted, and where to see it.

Points farther than the profile's tolerance from any road are flagged
``off_network`` and kept (their walk to the road is part of their time); points on
small disconnected road pieces are flagged ``small_piece``. A planner needs to
know how many villages, raster cells (and people) or facilities that is, and
where to find them, once, whatever number of analyses a command runs.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np

from coverage._notices import warn_once
from coverage.network.snapping import Attachment

logger = logging.getLogger(__name__)

#: Where each kind of point can be looked at: the outputs of ``facility-coverage analyze``.
WHERE_TO_SEE = {
    "villages": "column {flag} of villages.csv and of the layer villages of coverage.gpkg",
    "populated raster cells": "the layer flagged_cells of coverage.gpkg",
    "facilities": "column {flag} of the layer facilities of coverage.gpkg",
}


def _people(frame: gpd.GeoDataFrame | None, mask: np.ndarray) -> str:
    if frame is None or "population" not in frame:
        return ""
    people = frame["population"].to_numpy(dtype=float)
    total = float(np.nansum(people))
    flagged = float(np.nansum(people[mask]))
    return f" ({flagged:,.0f} people, {flagged / total:.1%} of the population)" if total > 0 else ""


def _where(what: str, flag: str) -> str:
    return (
        WHERE_TO_SEE.get(what, "column {flag} of the outputs").format(flag=flag)
        + " (written by 'facility-coverage analyze')"
    )


def warn_flagged(
    attachment: Attachment,
    *,
    what: str,
    tolerance_m: float,
    access_speed_kph: float,
    frame: gpd.GeoDataFrame | None = None,
) -> None:
    """Warn (once per run) how many points of one kind are off the network or on small road pieces.

    Parameters
    ----------
    attachment : Attachment
        The points' attachment to the network.
    what : str
        ``villages``, ``populated raster cells`` or ``facilities``.
    tolerance_m, access_speed_kph : float
        The profile's snapping tolerance and off-road speed.
    frame : GeoDataFrame, optional
        The points, to count their people (a ``population`` column).
    """
    total = len(attachment)
    off = np.asarray(attachment.off_network, dtype=bool)
    if off.any():
        farthest_km = float(attachment.snap_distance_m[off].max()) / 1000.0
        warn_once(
            logger,
            "%s of %s %s%s are more than %s m from any road: flagged off_network and still counted, with a walk to "
            "the road at %g km/h (up to %.1f km); see %s",
            f"{int(off.sum()):,}",
            f"{total:,}",
            what,
            _people(frame, off),
            f"{tolerance_m:,.0f}",
            access_speed_kph,
            farthest_km,
            _where(what, "off_network"),
            key=f"off_network {what}",
        )
    small = np.asarray(attachment.small_piece, dtype=bool)
    if small.any():
        warn_once(
            logger,
            "%s of %s %s%s lie on small road pieces that do not join the main network: flagged small_piece, they "
            "reach only what is on their piece; see %s",
            f"{int(small.sum()):,}",
            f"{total:,}",
            what,
            _people(frame, small),
            _where(what, "small_piece"),
            key=f"small_piece {what}",
        )
