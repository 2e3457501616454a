"""The points of an analysis: a user's facility and village files (or OSM's), read and selected.

Facilities and villages come from the user's files (any point format, any datum,
columns named on the command line, categories mapped by a kind map) or, by
default, from the OSM extract. With a region boundary, facilities are taken from
the boundary plus a border (a hospital just across it serves villages inside) and
marked ``outside_boundary``; villages stay inside the boundary. Every point left
out is counted, said in a warning and recorded in :class:`PlaceNotes`.
:func:`select_facilities` keeps the kinds a question is about.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputError
from coverage._notices import warn_once
from coverage.analysis.demand import population_by_nearest_place
from coverage.io.kinds import KindMap, apply_kind_map, find_role_column
from coverage.io.osm import OSM_SUFFIXES, facilities_from_osm, places_from_osm
from coverage.io.points import PointColumns, outside_extent, read_points
from coverage.network.profiles import Profile
from coverage.network.routing import id_order

logger = logging.getLogger(__name__)

#: Column names (any case) taken as a place's name when none is given.
NAME_NAMES = ("name", "名称", "机构名称", "村名", "村庄名称", "NAME", "Name")
#: Column names taken as a village's population when none is given.
POPULATION_NAMES = ("population", "人口", "常住人口", "户籍人口", "POP", "pop")
#: Columns the tool writes on facilities and villages; an input column with one of
#: these names in another case would clash with them in a GeoPackage.
OWN_COLUMNS = ("id", "name", "kind", "population", "population_source", "outside_boundary", "zone")


@dataclass(frozen=True)
class Region:
    """Where an analysis' points are taken: the region itself, and the border area around it.

    Attributes
    ----------
    outline : shapely geometry or None
        The region's boundary (WGS84); None: the whole network, nothing is cut.
    border_area : shapely geometry or None
        The outline plus the border buffer: facilities there serve the region.
    border_km : float
        Width of the border buffer.
    """

    outline: shapely.Geometry | None = None
    border_area: shapely.Geometry | None = None
    border_km: float = 0.0


def default_border_km(profile: Profile, minutes: Sequence[float]) -> float:
    """The farthest a facility can serve from: the profile's top speed for the longest threshold."""
    return profile.top_speed_kph * max(minutes) / 60.0


def region_around(
    outline: shapely.Geometry | None, *, border_km: float | None, profile: Profile, minutes: Sequence[float]
) -> Region:
    """The region's outline and the border area around it (see :class:`Region`)."""
    if outline is None:
        return Region()
    width = default_border_km(profile, minutes) if border_km is None else float(border_km)
    if not width >= 0:
        msg = f"the border width must be 0 km or more, got {border_km!r} (--border-km)."
        raise InputError(msg)
    shape = gpd.GeoSeries([outline], crs=4326)
    projected = shape.to_crs(shape.estimate_utm_crs())
    # buffering a detailed coastline is slow (a second for 2 km around the islands): simplify it first,
    # and grow by twice the tolerance (arcs are drawn as chords), so it still holds every point within the width
    tolerance_m = min(width * 1000.0 / 20.0, 200.0)
    border_area = (
        projected.simplify(tolerance_m).buffer(width * 1000.0 + 2 * tolerance_m).to_crs(4326).iloc[0]
        if width > 0
        else outline
    )
    logger.info("the region's roads and facilities are taken up to %g km beyond its boundary", width)
    return Region(outline=outline, border_area=border_area, border_km=width)


@dataclass
class PlaceNotes:
    """What reading the points did, for summary.json and the logs."""

    facilities: dict[str, Any] = field(default_factory=dict)
    villages: dict[str, Any] = field(default_factory=dict)


def no_emergency(facilities: pd.DataFrame) -> np.ndarray:
    """True for facilities that say they take no emergencies: OSM ``emergency=no``, or ``no`` in an ``emergency`` column."""
    said = pd.Series(False, index=facilities.index)
    if "emergency" in facilities:
        said |= facilities["emergency"].astype(str).str.strip().str.lower().isin(["no", "否", "无"])
    if "osm_tags" in facilities:
        said |= facilities["osm_tags"].astype(str).str.split("; ").map(lambda tags: "emergency=no" in tags)
    return said.to_numpy(dtype=bool)


def ems_bases(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The facilities an EMS analysis starts from: the ambulance stations, or else the hospitals that take emergencies.

    Plans site EMS stations at medical institutions ("依托医疗机构设置急救站点"), so when a
    region has no ambulance station (kind ``ems``) its hospitals serve as EMS bases,
    except those tagged ``emergency=no`` (a therapy or rehabilitation hospital). That is a
    stand-in: the analysis' notes say so, and the standards never pass a target on it.
    """
    stations = facilities[facilities["kind"] == "ems"]
    if len(stations):
        return stations
    hospitals = facilities["kind"] == "hospital"
    refused = hospitals & no_emergency(facilities)
    bases = facilities[hospitals & ~refused]
    left_out = facilities[refused]
    if len(left_out):
        named = ", ".join(
            str(name) if str(fid) in str(name) else f"{name} ({fid})"
            for fid, name in zip(left_out["id"], left_out["name"], strict=True)
        )
        warn_once(
            logger,
            "%d hospitals take no emergencies (emergency=no) and are no EMS bases: %s",
            len(left_out),
            named,
        )
    if len(bases):
        warn_once(
            logger,
            "no ambulance stations (kind 'ems') in the facility data: the %d hospitals stand in as EMS bases; "
            "targets measured on them are reported as 'assumed', never as met",
            len(bases),
        )
    return bases


def select_facilities(facilities: gpd.GeoDataFrame, *, kinds: Sequence[str] | None, ems: bool) -> gpd.GeoDataFrame:
    """Keep the facilities of the kinds asked for; for EMS, the EMS bases (see :func:`ems_bases`)."""
    if ems:
        return ems_bases(facilities).reset_index(drop=True)
    if kinds:
        unknown = sorted(set(kinds) - set(facilities["kind"].astype(str)))
        selected = facilities[facilities["kind"].isin(kinds)]
        if unknown:
            logger.warning(
                "no facilities of kind %s (kinds present: %s)", unknown, sorted(facilities["kind"].astype(str).unique())
            )
        return selected.reset_index(drop=True)
    return facilities.reset_index(drop=True)


def warn_shared_points(facilities: gpd.GeoDataFrame, *, source: str) -> None:
    """Warn about facilities at one and the same point, and say which one counts as the nearest.

    Places they both serve get the first by id order (see
    :func:`coverage.network.routing.stand_ins`); two rows for one facility, or a
    copied coordinate, are worth checking.
    """
    if len(facilities) < 2:
        return
    xy = np.round(shapely.get_coordinates(np.asarray(facilities.geometry.values)), 7)
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "rank": id_order(facilities["id"].astype(str).to_numpy())})
    shared = frame[frame.duplicated(["x", "y"], keep=False)]
    if shared.empty:
        return
    groups = []
    for (x, y), group in shared.sort_values("rank").groupby(["x", "y"], sort=False):
        rows = facilities.iloc[group.index]
        names = [f"{name!r} (id {fid})" for fid, name in zip(rows["id"], rows["name"], strict=True)]
        groups.append(f"{' and '.join(names)} at lon {x:.6f}, lat {y:.6f}")
    listed = "; ".join(groups[:5]) + (f"; and {len(groups) - 5} more points" if len(groups) > 5 else "")
    warn_once(
        logger,
        "%s: %d facilities share %d points: %s. Places they serve count the first by id as their nearest; "
        "if one facility is listed twice, remove the copy.",
        source,
        len(shared),
        len(groups),
        listed,
    )


def is_osm(path: Path) -> bool:
    """True for an OSM extract (.osm.pbf, .osm, .osm.bz2)."""
    return path.name.lower().endswith(OSM_SUFFIXES)


def read_facilities(
    source: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    *,
    osm: Path,
    region: Region,
    datum: str,
    extent: tuple[float, float, float, float],
    columns: PointColumns | None = None,
    kind_map: KindMap | None = None,
    notes: PlaceNotes | None = None,
) -> gpd.GeoDataFrame:
    """The facilities of a region: ``id``, ``name``, ``kind``, ``outside_boundary`` and the file's own columns.

    Facilities in the border area around the region's outline count (flagged
    ``outside_boundary``); those beyond it are left out with a warning saying how
    many and where. Without an outline every facility is kept; those outside the
    network are flagged ``off_network`` later, when they are attached to it.
    """
    notes = notes if notes is not None else PlaceNotes()
    columns = columns or PointColumns()
    if source is None:
        if not is_osm(osm):
            msg = f"{osm.name} is not an OSM extract, so it has no facilities: give a facility file with --facilities."
            raise InputError(msg)
        frame = facilities_from_osm(osm, boundary=region.border_area)
        label = osm.name
        notes.facilities["source"] = "OpenStreetMap tags"
    else:
        frame, label = _user_points(source, what="facilities", datum=datum, columns=columns)
        frame = _named(frame, columns, label, option=columns.options.get("name_column"))
        mapping = apply_kind_map(frame, kind_map, category_column=columns.kind, name_column=columns.name, label=label)
        notes.facilities.update(mapping.report())
        frame["kind"] = mapping.kinds.to_numpy()
        category = mapping.columns.get("category")
        frame["admitted_by"] = (
            f"the {category!r} column of the facility file (kind map {mapping.kind_map})"
            if category
            else "every row of the facility file (no kind column)"
        )
        frame = frame[~mapping.dropped].reset_index(drop=True)
    frame = _within_region(frame, region, extent=extent, label=label, what="facilities", notes=notes.facilities)
    notes.facilities["count"] = len(frame)
    return frame


def read_villages(
    source: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    *,
    osm: Path,
    region: Region,
    datum: str,
    extent: tuple[float, float, float, float],
    cells: gpd.GeoDataFrame | None,
    columns: PointColumns | None = None,
    notes: PlaceNotes | None = None,
    required: bool = True,
) -> gpd.GeoDataFrame:
    """The villages of a region (inside its outline): ``id``, ``name``, ``population``, ``population_source``.

    A village without a stated population gets the people of the raster cells
    nearest to it; without a raster it has none (``population_source`` ``none``),
    and shares are of villages, not people. With ``required=False``, a region
    without villages (a road layer with no village file, an extract with no places)
    gives an empty table: the raster's cells are the demand then.
    """
    notes = notes if notes is not None else PlaceNotes()
    columns = columns or PointColumns()
    if source is None:
        if not is_osm(osm):
            if not required:
                notes.villages.update(count=0)
                return no_villages()
            msg = f"{osm.name} is not an OSM extract, so it has no villages: give a village file with --villages."
            raise InputError(msg)
        frame = places_from_osm(osm, boundary=region.outline)
        label = osm.name
        population_column = None
    else:
        frame, label = _user_points(source, what="villages", datum=datum, columns=columns)
        frame = _named(frame, columns, label, option=columns.options.get("name_column"))
        frame = _within_region(frame, region, extent=extent, label=label, what="villages", notes=notes.villages)
        population_column = _population_column(frame, columns, label)
    stated = _stated_population(frame, population_column, label, option=columns.options.get("population_column"))
    frame["population_source"] = np.where(stated.notna(), "stated", "none")
    frame["population"] = stated
    if cells is not None and stated.isna().any():
        estimate = population_by_nearest_place(frame, cells)
        missing = stated.isna()
        frame.loc[missing, "population"] = estimate[missing]
        frame.loc[missing, "population_source"] = "raster_nearest_place"
        logger.info(
            "%s: population of %d of %d villages estimated from the raster (cells to their nearest village)",
            label,
            int(missing.sum()),
            len(frame),
        )
    if frame.empty and not required:
        logger.info("%s: no villages inside the region; the population raster's cells are the demand", label)
        notes.villages.update(count=0)
        return no_villages()
    if frame.empty:
        msg = (
            f"{label}: no villages to analyse (none inside the region). Give a village file with --villages, "
            "or check the boundary."
        )
        raise InputError(msg)
    notes.villages.update(
        count=len(frame),
        population_column=population_column,
        population_sources={str(k): int(v) for k, v in frame["population_source"].value_counts().items()},
    )
    return frame.reset_index(drop=True)


def _user_points(
    source: str | os.PathLike[str] | gpd.GeoDataFrame, *, what: str, datum: str, columns: PointColumns
) -> tuple[gpd.GeoDataFrame, str]:
    """A user's points (file or GeoDataFrame) in WGS84 with unique str ``id``."""
    if isinstance(source, gpd.GeoDataFrame):
        if source.crs is None:
            msg = f"the {what} GeoDataFrame has no CRS; set one (e.g. `.set_crs(4326)` for longitude/latitude)."
            raise InputError(msg)
        frame = source.to_crs(4326).reset_index(drop=True)
        label = f"the {what} GeoDataFrame"
        frame["id"] = frame["id"].astype(str) if "id" in frame else (frame.index + 1).astype(str)
        duplicated = frame["id"][frame["id"].duplicated()].unique()
        if len(duplicated):
            msg = f"{label}: duplicate ids {', '.join(map(repr, duplicated[:5]))}; every point needs its own id."
            raise InputError(msg)
        return frame, label
    frame = read_points(
        source,
        datum=datum,
        what=what,
        lon_column=columns.lon,
        lat_column=columns.lat,
        id_column=columns.id,
        crs=columns.crs,
        layer=columns.layer,
        options=columns.options,
    )
    return frame, str(source)


def _named(frame: gpd.GeoDataFrame, columns: PointColumns, label: str, *, option: str | None) -> gpd.GeoDataFrame:
    """The frame with a ``name`` column: the one named, the first usual one present, else the id."""
    names = [str(c) for c in frame.columns if c != frame.geometry.name]
    if columns.name is not None and columns.name not in names:
        msg = (
            f"{label} has no column {columns.name!r} ({option or 'name column'}); "
            f"its columns are {', '.join(map(repr, names))}."
        )
        raise InputError(msg)
    source = columns.name or find_role_column([n for n in names if n != "id"], NAME_NAMES)
    frame = frame.copy()
    if source is None:
        frame["name"] = frame["id"]
        return frame
    text = frame[source].astype(object).where(frame[source].notna(), None)
    if source != "name":
        frame = _keep_aside(frame, "name", label)
    frame["name"] = [
        str(v).strip() if v is not None and str(v).strip() else i for v, i in zip(text, frame["id"], strict=True)
    ]
    return frame


def _keep_aside(frame: gpd.GeoDataFrame, column: str, label: str) -> gpd.GeoDataFrame:
    """Rename the file's own column that the tool is about to write, so that neither is lost."""
    if column in frame:
        frame = frame.rename(columns={column: f"{column}_original"})
        logger.warning("%s: the file's own %r column is kept as %r", label, column, f"{column}_original")
    return frame


def _population_column(frame: gpd.GeoDataFrame, columns: PointColumns, label: str) -> str | None:
    names = [str(c) for c in frame.columns if c != frame.geometry.name]
    if columns.population is not None:
        if columns.population not in names:
            option = columns.options.get("population_column", "the population column")
            msg = f"{label} has no column {columns.population!r} ({option}); its columns are {', '.join(map(repr, names))}."
            raise InputError(msg)
        return columns.population
    return find_role_column(names, POPULATION_NAMES)


def _shown(value: object) -> str:
    """A cell as the planner typed it: numbers as numbers, text quoted."""
    return f"{value:g}" if isinstance(value, int | float | np.number) else repr(str(value))


def _stated_population(frame: gpd.GeoDataFrame, column: str | None, label: str, *, option: str | None) -> pd.Series:
    """The population stated in the file: numbers of people, 0 or more; blank cells missing."""
    if column is None:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    raw = frame[column]
    text = raw.astype(object).where(raw.notna(), "").map(lambda v: str(v).strip().replace(",", ""))
    values = pd.to_numeric(text.where(text != "", np.nan), errors="coerce")
    bad = (text != "") & values.isna()
    negative = values < 0
    if bad.any() or negative.any():
        where = np.flatnonzero((bad | negative).to_numpy())
        examples = ", ".join(f"id {frame['id'].iloc[i]}: {_shown(raw.iloc[i])}" for i in where[:5])
        more = f" and {len(where) - 5} more" if len(where) > 5 else ""
        msg = (
            f"{label}: column {column!r} ({option or 'the population column'}) must hold numbers of people, 0 or more; "
            f"{len(where)} rows do not: {examples}{more}. Correct them, or leave the cells blank to estimate those "
            "villages' population from the raster."
        )
        raise InputError(msg)
    return values.astype(float)


def _within_region(
    frame: gpd.GeoDataFrame,
    region: Region,
    *,
    extent: tuple[float, float, float, float],
    label: str,
    what: str,
    notes: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Facilities within the border area (flagged when outside the outline), villages within the outline."""
    if region.outline is None:
        # no boundary: nothing is cut; points beyond the network are flagged off_network when attached
        outside = outside_extent(frame, extent, source=label)
        if outside.any():
            counts = (label, int(outside.sum()), len(frame))
            if what == "facilities":
                logger.warning(
                    "%s: %d of %d facilities lie outside the road network's extent; they are kept and flagged off_network",
                    *counts,
                )
            else:
                logger.warning(
                    "%s: %d of %d villages lie outside the road network's extent; they are kept and flagged off_network",
                    *counts,
                )
        if what == "facilities":
            frame["outside_boundary"] = False
        return frame
    outside_extent(frame, extent, source=label)  # only to catch swapped longitude/latitude columns
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    inside = shapely.contains_xy(region.outline, x, y) if len(frame) else np.zeros(0, dtype=bool)
    keep_area = region.border_area if what == "facilities" and region.border_area is not None else region.outline
    kept = shapely.contains_xy(keep_area, x, y) if len(frame) else np.zeros(0, dtype=bool)
    if (~kept).any():
        _warn_left_out(frame[~kept], label=label, what=what, region=region, notes=notes)
    frame = frame[kept].reset_index(drop=True)
    if what == "facilities":
        frame["outside_boundary"] = ~inside[kept]
        notes["outside_boundary"] = int(frame["outside_boundary"].sum())
        if frame["outside_boundary"].any():
            logger.info(
                "%s: %d facilities lie outside the boundary, within %g km of it: they serve places inside and count "
                "for travel times (flagged outside_boundary)",
                label,
                int(frame["outside_boundary"].sum()),
                region.border_km,
            )
    return frame


def _warn_left_out(dropped: gpd.GeoDataFrame, *, label: str, what: str, region: Region, notes: dict[str, Any]) -> None:
    ids = dropped["id"].astype(str).tolist()
    lon, lat = dropped.geometry.x.to_numpy(), dropped.geometry.y.to_numpy()
    where = f"lon {lon.min():.3f}–{lon.max():.3f}, lat {lat.min():.3f}–{lat.max():.3f}"
    shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
    beyond = (
        f"more than {region.border_km:g} km outside the boundary" if what == "facilities" else "outside the boundary"
    )
    if what == "facilities":
        logger.warning(
            "%s: %d facilities lie more than %g km outside the boundary (%s; ids %s): left out of this region's analysis",
            label,
            len(dropped),
            region.border_km,
            where,
            shown,
        )
    else:
        logger.warning(
            "%s: %d villages lie outside the boundary (%s; ids %s): left out of this region's analysis",
            label,
            len(dropped),
            where,
            shown,
        )
    notes["left_out"] = {"count": len(dropped), "reason": beyond, "ids": ids[:100], "extent": where}


def no_villages() -> gpd.GeoDataFrame:
    """An empty village table with the columns an analysis adds to (a region whose demand is raster cells only)."""
    return gpd.GeoDataFrame(
        {
            "id": pd.Series([], dtype=str),
            "name": pd.Series([], dtype=str),
            "population": pd.Series([], dtype=float),
            "population_source": pd.Series([], dtype=str),
        },
        geometry=gpd.GeoSeries([], crs=4326),
        crs=4326,
    )
