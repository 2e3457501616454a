"""Readable places for points a planner cannot look up by name.

OSM leaves many facilities and hamlets unnamed, and candidate sites on the roads
have no name at all. ``way/549124680`` alone sends a planner to a map; "1.2 km NE
of Fomboni, Mwali" does not. :func:`place_phrases` says where each point is: the
nearest named village (distance and compass direction) and the admin unit;
:func:`name_unnamed` gives unnamed facilities and villages a label made of their
kind, that place and their id, so that the id is always there to look them up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

logger = logging.getLogger(__name__)

#: Closer than this to a named village, a point is "at" it.
AT_PLACE_M = 250.0
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _blank(values: pd.Series) -> np.ndarray:
    text = values.astype(object).map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return (text.str.strip() == "").to_numpy(dtype=bool)


def _compass(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Eight-point compass direction of (dx, dy) (x east, y north)."""
    angle = np.degrees(np.arctan2(dx, dy)) % 360.0
    return np.asarray(_COMPASS)[np.round(angle / 45.0).astype(int) % 8]


def place_phrases(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    places: gpd.GeoDataFrame,
    *,
    crs: CRS | str | int,
    zones: Sequence[str] | np.ndarray | None = None,
) -> list[str]:
    """Where each point is, in words: ``1.2 km NE of Fomboni, Mwali``, ``at Fomboni``, ``in Mwali``.

    Parameters
    ----------
    points : GeoDataFrame or GeoSeries
        Points with a CRS.
    places : GeoDataFrame
        Villages with a ``name`` column; the blank ones are not used.
    crs : CRS
        A projected CRS in metres to measure in (the network's).
    zones : sequence of str, optional
        The admin unit of each point, appended when not blank.

    Returns
    -------
    list of str
        One phrase per point; with no named place and no zone, the coordinates.
    """
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    n = len(geometry)
    if n == 0:
        return []
    xy = shapely.get_coordinates(np.asarray(geometry.to_crs(crs).values))
    lonlat = shapely.get_coordinates(np.asarray(geometry.to_crs(4326).values))
    units = (
        ["" if z is None or (isinstance(z, float) and np.isnan(z)) else str(z) for z in zones]
        if zones is not None
        else [""] * n
    )
    named = places[~_blank(places["name"])] if len(places) and "name" in places else places.iloc[0:0]
    phrases = []
    if len(named):
        place_xy = shapely.get_coordinates(np.asarray(named.geometry.to_crs(crs).values))
        tree = shapely.STRtree(np.asarray(shapely.points(place_xy)))
        _, nearest = tree.query_nearest(shapely.points(xy), all_matches=False)
        dx, dy = (xy - place_xy[nearest]).T
        distance_km = np.hypot(dx, dy) / 1000.0
        direction = _compass(dx, dy)
        names = named["name"].astype(str).to_numpy()[nearest]
    for i in range(n):
        if len(named):
            if distance_km[i] * 1000.0 < AT_PLACE_M:
                where = f"at {names[i]}"
            else:
                where = f"{distance_km[i]:.1f} km {direction[i]} of {names[i]}"
            phrases.append(f"{where}, {units[i]}" if units[i] else where)
        elif units[i]:
            phrases.append(f"in {units[i]}")
        else:
            phrases.append(f"at lon {lonlat[i, 0]:.5f}, lat {lonlat[i, 1]:.5f}")
    return phrases


def unnamed_mask(frame: pd.DataFrame) -> np.ndarray:
    """True where a facility or village has no name of its own.

    Blank names; OSM facilities labelled ``<kind> <id> (unnamed)`` by
    :func:`coverage.io.osm.facilities_from_osm`; rows of a file without a name
    column, which are named by their id.
    """
    if "name" not in frame:
        return np.ones(len(frame), dtype=bool)
    names = frame["name"].astype(object)
    blank = _blank(names)
    ids = frame["id"].astype(str).to_numpy() if "id" in frame else np.full(len(frame), None)
    text = names.astype(str).to_numpy()
    fallback = np.array([t.endswith(f" {i} (unnamed)") or t == i for t, i in zip(text, ids, strict=True)], dtype=bool)
    return blank | fallback


def name_unnamed(
    frame: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame,
    crs: CRS | str | int,
    kind_column: str,
    default_kind: str,
    zones: Sequence[str] | np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """The frame with every unnamed row named by its kind, its place and its id, and an ``unnamed`` flag.

    E.g. ``unnamed hospital 1.2 km NE of Fomboni, Mwali (way/549124680)``.

    Parameters
    ----------
    frame : GeoDataFrame
        Facilities or villages with ``id`` and ``name``.
    places : GeoDataFrame
        The villages whose names say where things are.
    crs : CRS
        A projected CRS in metres (the network's).
    kind_column : str
        Column saying what each row is (``kind`` of facilities, ``place`` of OSM villages).
    default_kind : str
        The word used when that column is missing or blank.
    zones : sequence of str, optional
        Each row's admin unit.
    """
    frame = frame.copy()
    unnamed = unnamed_mask(frame)
    frame["unnamed"] = unnamed
    if not unnamed.any():
        return frame
    rows = np.flatnonzero(unnamed)
    own_zone = np.asarray(zones, dtype=object)[rows] if zones is not None else None
    phrases = place_phrases(frame.iloc[rows], places, crs=crs, zones=own_zone)
    kinds = frame[kind_column].astype(object).to_numpy()[rows] if kind_column in frame else np.full(len(rows), None)
    labels = []
    for row, phrase, kind in zip(rows, phrases, kinds, strict=True):
        word = str(kind).strip() if isinstance(kind, str) and kind.strip() else default_kind
        labels.append(f"unnamed {word} {phrase} ({frame['id'].iloc[row]})")
    names = frame["name"].astype(object).to_numpy().copy() if "name" in frame else np.full(len(frame), "", dtype=object)
    names[rows] = labels
    frame["name"] = names
    logger.info("%d unnamed places labelled by where they are, e.g. %s", len(rows), labels[0])
    return frame
