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


def _people(frame: gpd.GeoDataFrame | None, mask: np.ndarray) -> tuple[str, float]:
    """People on the flagged points (formatted) and their share of all, in percent."""
    if frame is None or "population" not in frame:
        return "0", 0.0
    people = frame["population"].to_numpy(dtype=float)
    total = float(np.nansum(people))
    flagged = float(np.nansum(people[mask]))
    return f"{flagged:,.0f}", (100.0 * flagged / total if total > 0 else 0.0)


def warn_flagged(
    attachment: Attachment,
    *,
    what: str,
    tolerance_m: float,
    access_speed_kph: float,
    frame: gpd.GeoDataFrame | None = None,
) -> None:
    """Warn (once per run) how many points of one kind are off the network or on small road pieces.

    Each kind has its own message, naming where its points can be looked at in
    the outputs of ``facility-coverage analyze`` (and translated in :mod:`coverage._i18n`).

    Parameters
    ----------
    attachment : Attachment
        The points' attachment to the network.
    what : {"villages", "cells", "facilities"}
        The kind of points.
    tolerance_m, access_speed_kph : float
        The profile's snapping tolerance and the points' off-road speed.
    frame : GeoDataFrame, optional
        The cells, to count their people (a ``population`` column).
    """
    total = f"{len(attachment):,}"
    off = np.asarray(attachment.off_network, dtype=bool)
    if off.any():
        count, metres = f"{int(off.sum()):,}", f"{tolerance_m:,.0f}"
        farthest_km = float(attachment.snap_distance_m[off].max()) / 1000.0
        key = f"off_network {what}"
        if what == "villages":
            warn_once(
                logger,
                "%s of %s villages are more than %s m from any road: flagged off_network and still counted, with an "
                "off-road leg at %g km/h (up to %.1f km); see column off_network of villages.csv (facility-coverage "
                "analyze)",
                count,
                total,
                metres,
                access_speed_kph,
                farthest_km,
                key=key,
            )
        elif what == "cells":
            people, share = _people(frame, off)
            warn_once(
                logger,
                "%s of %s populated raster cells (%s people, %.1f%% of the population) are more than %s m from any "
                "road: flagged off_network and still counted, with an off-road leg at %g km/h (up to %.1f km); see "
                "the layer flagged_cells of coverage.gpkg (facility-coverage analyze)",
                count,
                total,
                people,
                share,
                metres,
                access_speed_kph,
                farthest_km,
                key=key,
            )
        else:
            warn_once(
                logger,
                "%s of %s facilities are more than %s m from any road: flagged off_network and still counted, with an "
                "off-road leg at %g km/h (up to %.1f km); see column off_network of the layer facilities of "
                "coverage.gpkg (facility-coverage analyze)",
                count,
                total,
                metres,
                access_speed_kph,
                farthest_km,
                key=key,
            )
    small = np.asarray(attachment.small_piece, dtype=bool)
    if small.any():
        count, key = f"{int(small.sum()):,}", f"small_piece {what}"
        if what == "villages":
            warn_once(
                logger,
                "%s of %s villages lie on small road pieces that do not join the main network: flagged small_piece, "
                "they reach only what is on their piece; see column small_piece of villages.csv (facility-coverage "
                "analyze)",
                count,
                total,
                key=key,
            )
        elif what == "cells":
            people, share = _people(frame, small)
            warn_once(
                logger,
                "%s of %s populated raster cells (%s people, %.1f%% of the population) lie on small road pieces that "
                "do not join the main network: flagged small_piece, they reach only what is on their piece; see the "
                "layer flagged_cells of coverage.gpkg (facility-coverage analyze)",
                count,
                total,
                people,
                share,
                key=key,
            )
        else:
            warn_once(
                logger,
                "%s of %s facilities lie on small road pieces that do not join the main network: flagged small_piece, "
                "they serve only what is on their piece; see column small_piece of the layer facilities of "
                "coverage.gpkg (facility-coverage analyze)",
                count,
                total,
                key=key,
            )
