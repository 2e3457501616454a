"""Reading OpenStreetMap files: roads, health facilities and named places.

Reads ``.osm.pbf``, ``.osm`` and ``.osm.bz2``/``.osm.gz`` files with pyosmium, in
one streaming pass per call. Roads become a :class:`~coverage.io.roads.Roads` table
(ways split at junctions, projected to the local UTM zone); facilities and places
become point GeoDataFrames in WGS84.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from coverage._errors import InputError
from coverage.io.roads import Roads, make_roads

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml")

#: highway values that are not usable roads for any mode.
EXCLUDED_HIGHWAYS = frozenset(
    {
        "proposed",
        "construction",
        "abandoned",
        "disused",
        "platform",
        "raceway",
        "bus_stop",
        "elevator",
        "razed",
        "rest_area",
        "services",
        "emergency_bay",
        "no",
    }
)

#: Tags that make an OSM object a health facility, and the ``kind`` it gets.
HEALTH_TAGS: dict[tuple[str, str], str] = {
    ("emergency", "ambulance_station"): "ems",
    ("amenity", "hospital"): "hospital",
    ("healthcare", "hospital"): "hospital",
    ("amenity", "clinic"): "clinic",
    ("healthcare", "clinic"): "clinic",
    ("healthcare", "centre"): "clinic",
    ("amenity", "doctors"): "doctors",
    ("healthcare", "doctor"): "doctors",
}

#: ``place=*`` values read as demand places, in order of size.
PLACE_VALUES = ("city", "town", "suburb", "village", "hamlet", "isolated_dwelling")


def check_osm_path(path: str | os.PathLike[str]) -> Path:
    """The path of an OSM file that exists and has a readable suffix, else an InputError saying what to give."""
    path = Path(path)
    if not path.exists():
        msg = f"OSM file not found: {path}. Give the path of an .osm.pbf, .osm or .osm.bz2 file."
        raise InputError(msg)
    if path.is_dir():
        msg = f"{path} is a folder; give the path of an .osm.pbf, .osm or .osm.bz2 file."
        raise InputError(msg)
    if not path.name.lower().endswith(OSM_SUFFIXES):
        msg = f"{path}: not an OSM file name (expected one of {', '.join(OSM_SUFFIXES)})."
        raise InputError(msg)
    if path.stat().st_size == 0:
        msg = f"{path} is empty (0 bytes); download the extract again."
        raise InputError(msg)
    return path


def iterate_osm(path: Path, processor: Iterable[object]) -> Iterable[object]:
    """Iterate a pyosmium processor, turning reader failures into InputError."""
    try:
        yield from processor
    except (RuntimeError, ValueError) as error:
        msg = f"{path}: cannot read this OSM file ({error}). It may be truncated or not OSM data; download it again."
        raise InputError(msg) from error


def utm_crs_for(lon: np.ndarray, lat: np.ndarray) -> CRS:
    """Return the WGS 84 / UTM CRS of the zone holding the centre of these coordinates."""
    lon_c = float((np.nanmin(lon) + np.nanmax(lon)) / 2)
    lat_c = float((np.nanmin(lat) + np.nanmax(lat)) / 2)
    if not (-180 <= lon_c <= 180 and -80 <= lat_c <= 84):
        msg = f"no UTM zone for longitude {lon_c:.4f}, latitude {lat_c:.4f} (UTM covers 80°S to 84°N)"
        raise InputError(msg)
    zone = min(int((lon_c + 180) // 6) + 1, 60)
    return CRS.from_epsg((32600 if lat_c >= 0 else 32700) + zone)


def _oneway(tags: dict[str, str]) -> int:
    value = tags.get("oneway", "").strip().lower()
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value in ("no", "false", "0", "reversible", "alternating"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def roads_from_osm(
    path: str | os.PathLike[str],
    *,
    boundary: shapely.Geometry | None = None,
    crs: CRS | str | None = None,
) -> Roads:
    """Read the road network of an OSM file, split at junctions and projected.

    Parameters
    ----------
    path : str or path-like
        An ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    boundary : shapely geometry, optional
        A polygon in WGS84; only ways with at least one node inside are kept,
        whole (roads leaving and re-entering the region stay connected).
    crs : CRS, optional
        The projected CRS to use; by default the UTM zone of the roads' centre.

    Returns
    -------
    Roads
        Every ``highway=*`` way usable by some mode (not ``proposed``,
        ``construction``, areas...), split into pieces between junctions.
    """
    import osmium

    path = check_osm_path(path)
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    way_ids: list[int] = []
    counts: list[int] = []
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    attributes: list[tuple[str, str | None, int, str | None, str | None]] = []
    skipped_bad_locations = 0
    for obj in iterate_osm(path, processor):
        if not obj.is_way():  # type: ignore[attr-defined]
            continue
        tags = dict(obj.tags)  # type: ignore[attr-defined]
        # a few ways carry two classes ("unclassified;tertiary"): the first is the mapper's main one
        highway = tags.get("highway", "").split(";")[0].strip()
        if highway in EXCLUDED_HIGHWAYS or tags.get("area") == "yes":
            continue
        try:
            way_refs = [node.ref for node in obj.nodes]  # type: ignore[attr-defined]
            way_lons = [node.lon for node in obj.nodes]  # type: ignore[attr-defined]
            way_lats = [node.lat for node in obj.nodes]  # type: ignore[attr-defined]
        except osmium.InvalidLocationError:
            # The extract cut the way: some of its nodes are missing from the file.
            skipped_bad_locations += 1
            continue
        if len(set(way_refs)) < 2:
            continue  # one node, possibly repeated: no length, and nothing left once repeats are dropped
        way_ids.append(obj.id)  # type: ignore[attr-defined]
        counts.append(len(way_refs))
        refs.extend(way_refs)
        lons.extend(way_lons)
        lats.extend(way_lats)
        attributes.append(
            (highway, tags.get("maxspeed"), _oneway(tags), tags.get("access"), tags.get("name") or tags.get("name:zh"))
        )
    if skipped_bad_locations:
        logger.warning(
            "%s: %d highway ways reference nodes missing from the file (cut at the extract's edge); they were not read",
            path.name,
            skipped_bad_locations,
        )
    if not way_ids:
        msg = f"{path}: no roads (highway=* ways) in this file. Is it the right extract?"
        raise InputError(msg)
    ref_arr = np.asarray(refs, dtype=np.int64)
    lon_arr = np.asarray(lons, dtype=np.float64)
    lat_arr = np.asarray(lats, dtype=np.float64)
    count_arr = np.asarray(counts, dtype=np.int64)
    way_of_vertex = np.repeat(np.arange(len(way_ids)), count_arr)

    if boundary is not None:
        inside = shapely.contains_xy(boundary, lon_arr, lat_arr)
        keep_way = np.bincount(way_of_vertex, weights=inside, minlength=len(way_ids)) > 0
        if not keep_way.any():
            msg = f"{path}: none of its {len(way_ids):,} roads lies inside the boundary. Check that the boundary matches the extract (and is in WGS84 longitude/latitude)."
            raise InputError(msg)
        keep_vertex = keep_way[way_of_vertex]
        ref_arr, lon_arr, lat_arr = ref_arr[keep_vertex], lon_arr[keep_vertex], lat_arr[keep_vertex]
        way_index = np.flatnonzero(keep_way)
        count_arr = count_arr[keep_way]
        attributes = [attributes[i] for i in way_index]
        way_ids = [way_ids[i] for i in way_index]
        way_of_vertex = np.repeat(np.arange(len(way_ids)), count_arr)

    crs = CRS.from_user_input(crs) if crs is not None else utm_crs_for(lon_arr, lat_arr)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon_arr, lat_arr)
    edges, nodes = _split_at_junctions(ref_arr, np.asarray(x), np.asarray(y), count_arr, way_of_vertex, crs)
    attr = pd.DataFrame(attributes, columns=["highway", "maxspeed", "oneway", "access", "name"])
    edges = edges.join(attr, on="way")
    roads = make_roads(nodes, edges, source=path.name)
    logger.info("%s: %s", path.name, roads)
    return roads


def _split_at_junctions(
    refs: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    counts: np.ndarray,
    way_of_vertex: np.ndarray,
    crs: CRS,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split ways into pieces at every node shared with another way or repeated within one."""
    # Drop repeated consecutive vertices (zero-length segments), then ways left with one vertex.
    repeated = np.zeros(len(refs), dtype=bool)
    repeated[1:] = (refs[1:] == refs[:-1]) & (way_of_vertex[1:] == way_of_vertex[:-1])
    keep = ~repeated
    keep &= (np.bincount(way_of_vertex[keep], minlength=len(counts)) >= 2)[way_of_vertex]
    refs, x, y, way_of_vertex = refs[keep], x[keep], y[keep], way_of_vertex[keep]
    starts = np.flatnonzero(np.r_[True, way_of_vertex[1:] != way_of_vertex[:-1]])
    ends = np.r_[starts[1:], len(refs)] - 1

    # Junctions: nodes used more than once anywhere, plus every way's two ends.
    _, inverse, uses = np.unique(refs, return_inverse=True, return_counts=True)
    junction = uses[inverse] > 1
    junction[starts] = True
    junction[ends] = True

    # Each vertex that is a junction and not a way's last vertex starts a piece.
    starts_piece = junction.copy()
    starts_piece[ends] = False
    piece_start = np.flatnonzero(starts_piece)
    # the piece ends at the next junction in the same way
    junction_positions = np.flatnonzero(junction)
    next_index = np.searchsorted(junction_positions, piece_start, side="right")
    piece_end = junction_positions[next_index]
    lengths = piece_end - piece_start + 1
    vertex_index = np.repeat(piece_start, lengths) + (
        np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    piece_of_vertex = np.repeat(np.arange(len(piece_start)), lengths)
    coords = np.column_stack([x[vertex_index], y[vertex_index]])
    geometry = shapely.linestrings(coords, indices=piece_of_vertex)
    edges = gpd.GeoDataFrame(
        {
            "u": refs[piece_start],
            "v": refs[piece_end],
            "way": way_of_vertex[piece_start],
            "length_m": shapely.length(geometry),
        },
        geometry=geometry,
        crs=crs,
    )
    node_ids = np.unique(np.concatenate([refs[piece_start], refs[piece_end]]))
    first = pd.Series(np.arange(len(refs))).groupby(refs).first()
    where = first.loc[node_ids].to_numpy()
    nodes = gpd.GeoDataFrame(
        index=pd.Index(node_ids, name="node"), geometry=shapely.points(x[where], y[where]), crs=crs
    )
    return edges, nodes


def _point_of(obj: object, factory: object) -> shapely.Geometry | None:
    """A point for a node, or a point inside an area, from a pyosmium object."""
    import osmium

    try:
        if obj.is_node():  # type: ignore[attr-defined]
            return shapely.Point(obj.location.lon, obj.location.lat)  # type: ignore[attr-defined]
        if obj.is_area():  # type: ignore[attr-defined]
            wkb = factory.create_multipolygon(obj)  # type: ignore[attr-defined]
            return shapely.from_wkb(wkb).representative_point()
        if obj.is_way():  # type: ignore[attr-defined]
            line = shapely.LineString([(n.lon, n.lat) for n in obj.nodes])  # type: ignore[attr-defined]
            return line.representative_point()
    except (osmium.InvalidLocationError, RuntimeError, shapely.errors.GEOSException):
        return None
    return None


def _read_tagged(path: Path, keys: tuple[str, ...]) -> list[tuple[str, int, dict[str, str], shapely.Geometry | None]]:
    """Nodes, open ways and areas carrying any of ``keys``, with a point for each.

    A closed way that makes no valid area (a self-crossing ring, ``area=no``) gets a
    point inside its ring instead of being lost.
    """
    import osmium

    factory = osmium.geom.WKBFactory()
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_areas(osmium.filter.KeyFilter(*keys))
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    found = []
    # closed ways waiting for their area, which arrives after them, in batches
    closed_ways: dict[int, tuple[dict[str, str], list[tuple[float, float]] | None]] = {}
    for obj in iterate_osm(path, processor):
        if obj.is_relation():  # type: ignore[attr-defined]
            continue  # relations arrive again as areas
        if obj.is_way() and obj.is_closed():  # type: ignore[attr-defined]
            # closed ways arrive again as areas, unless the assembler rejects them (a self-crossing
            # ring, area=no): keep what a point inside the ring needs, used when no area came
            closed_ways[obj.id] = (dict(obj.tags), _ring_coords(obj))  # type: ignore[attr-defined]
            continue
        point = _point_of(obj, factory)
        if obj.is_area():  # type: ignore[attr-defined]
            osm_type = "way" if obj.from_way() else "relation"  # type: ignore[attr-defined]
            osm_id = obj.orig_id()  # type: ignore[attr-defined]
            if osm_type == "way":
                if point is None:
                    continue  # an invalid polygon: the way's fallback point is used below
                closed_ways.pop(osm_id, None)
        else:
            osm_type = "node" if obj.is_node() else "way"  # type: ignore[attr-defined]
            osm_id = obj.id  # type: ignore[attr-defined]
        found.append((osm_type, osm_id, dict(obj.tags), point))  # type: ignore[attr-defined]
    found += [("way", way_id, tags, _point_in_ring(coords)) for way_id, (tags, coords) in closed_ways.items()]
    return found


def _ring_coords(way: object) -> list[tuple[float, float]] | None:
    import osmium

    try:
        return [(n.lon, n.lat) for n in way.nodes]  # type: ignore[attr-defined]
    except osmium.InvalidLocationError:
        return None


def _point_in_ring(coords: list[tuple[float, float]] | None) -> shapely.Geometry | None:
    """A point inside a closed way's ring, made valid first; on the ring when it encloses nothing."""
    if coords is None:
        return None
    if len(coords) >= 4:
        polygon = shapely.make_valid(shapely.Polygon(coords))
        if polygon.area > 0:
            return polygon.representative_point()
    return shapely.LineString(coords).representative_point()


def _to_frame(
    rows: list[dict[str, object]],
    geometry: list[shapely.Geometry],
    boundary: shapely.Geometry | None,
    columns: list[str],
) -> gpd.GeoDataFrame:
    """WGS84 points with the given columns (present even when there are no rows), clipped to the boundary."""
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geometry, crs=4326)
    if boundary is not None and len(frame):
        frame = frame[frame.within(boundary)]
    return frame.reset_index(drop=True)


def facilities_from_osm(path: str | os.PathLike[str], *, boundary: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """Read health facilities (hospitals, clinics, doctors, ambulance stations) from an OSM file.

    An object is a facility when it carries one of :data:`HEALTH_TAGS`; its kind is
    that of the first tag listed there that it carries (``emergency=ambulance_station``
    before ``amenity=hospital``...). Other tags do not admit anything:
    ``healthcare=pharmacy``, ``healthcare=laboratory``, ``amenity=dentist`` are not
    facilities of the plans' circles.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points; polygons are reduced to a point inside. Columns ``id``
        (``"node/123"``, ``"way/456"``), ``name`` (the OSM ``name``, else ``name:zh``, else
        ``"<kind> <id> (unnamed)"``),
        ``name_zh``, ``kind`` (``hospital``, ``clinic``,
        ``doctors``, ``ems``), ``admitted_by`` (the tags of :data:`HEALTH_TAGS` it
        carries, ``k=v; ...``), ``emergency`` (its ``emergency`` tag: ``no`` keeps a
        hospital from serving as an EMS base), ``osm_tags`` (the source tags as ``k=v; ...``).
    """
    path = check_osm_path(path)
    rows: list[dict[str, object]] = []
    geometry = []
    unlocated = 0
    for osm_type, osm_id, tags, point in _read_tagged(path, ("amenity", "healthcare", "emergency")):
        admitting = [(f"{key}={value}", kind) for (key, value), kind in HEALTH_TAGS.items() if tags.get(key) == value]
        kinds = [kind for _, kind in admitting]
        if not kinds:
            continue
        if point is None:
            unlocated += 1
            continue
        rows.append(
            {
                "id": f"{osm_type}/{osm_id}",
                # an unnamed facility still needs a label a planner can look up
                "name": tags.get("name") or tags.get("name:zh") or f"{kinds[0]} {osm_type}/{osm_id} (unnamed)",
                "name_zh": tags.get("name:zh") or "",
                "kind": kinds[0],
                "admitted_by": "; ".join(tag for tag, _ in admitting),
                "emergency": tags.get("emergency", ""),
                "osm_tags": "; ".join(f"{k}={v}" for k, v in sorted(tags.items())),
            }
        )
        geometry.append(point)
    if unlocated:
        logger.warning("%s: %d health facilities have no usable location (cut by the extract)", path.name, unlocated)
    columns = ["id", "name", "name_zh", "kind", "admitted_by", "emergency", "osm_tags"]
    frame = _to_frame(rows, geometry, boundary, columns)
    logger.info(
        "%s: read %d health facilities %s",
        path.name,
        len(frame),
        {str(k): int(v) for k, v in frame["kind"].value_counts().items()} if len(frame) else {},
    )
    return frame


def places_from_osm(
    path: str | os.PathLike[str],
    *,
    boundary: shapely.Geometry | None = None,
    place_values: tuple[str, ...] = ("city", "town", "village", "hamlet"),
) -> gpd.GeoDataFrame:
    """Read named places (cities, towns, villages, hamlets) from an OSM file.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with columns ``id``, ``name``, ``name_zh``, ``place``, and ``population``
        (the OSM ``population`` tag where it parses as a number, else NaN).
    """
    path = check_osm_path(path)
    rows: list[dict[str, object]] = []
    geometry = []
    for osm_type, osm_id, tags, point in _read_tagged(path, ("place",)):
        if tags.get("place") not in place_values or point is None:
            continue
        population = pd.to_numeric(str(tags.get("population", "")).replace(",", "").replace(" ", ""), errors="coerce")
        rows.append(
            {
                "id": f"{osm_type}/{osm_id}",
                "name": tags.get("name") or tags.get("name:zh") or "",
                "name_zh": tags.get("name:zh") or "",
                "place": tags["place"],
                "population": float(population),
            }
        )
        geometry.append(point)
    frame = _to_frame(rows, geometry, boundary, ["id", "name", "name_zh", "place", "population"])
    logger.info("%s: read %d places", path.name, len(frame))
    return frame
