"""Per-region extracts: a big OSM file (and a population raster) cut once into one small file per region.

A province or a country is analysed region by region (see :mod:`coverage.batch.runner`);
no task should parse the whole country file. :func:`split_osm` reads the big file
in three streaming passes with pyosmium and writes one ``.osm.pbf`` per region:

1. relations: the multipolygons that are health facilities or named places, and their member ways;
2. nodes and ways, with node locations: which buffered regions each road, facility
   and place touches (one vectorised STRtree query per batch of ways);
3. writing: every kept node, way and relation to the extracts of its regions
   (``osmium.SimpleWriter``; at most ``max_open`` files at once, more passes beyond that).

An extract holds what the analyzer reads (``highway=*`` ways, health facilities,
named places) in the region's polygon plus a buffer, every way complete with all
its nodes: roads that leave the region and come back, and facilities just across
the border, are in it. Extracts are cached keyed by the big file's sha256, the
region's geometry and the buffer, and written atomically (a temporary file moved
into place), so an interrupted split leaves no half file behind.

:func:`clip_population` does the same for a population raster: the region's
window, with the pixels outside the region (beyond the same tolerance as
:func:`coverage.analysis.demand.population_cells`) set to 0.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from coverage._errors import InputError
from coverage._version import __version__
from coverage.analysis.demand import BOUNDARY_TOLERANCE_M, widened_boundary
from coverage.analysis.zones import URBAN_BLOCK_M
from coverage.io.credits import credit_tags, raster_credit
from coverage.io.osm import HEALTH_TAGS, PLACE_VALUES, check_osm_path, iterate_osm, utm_crs_for
from coverage.network.prepared import file_sha256

logger = logging.getLogger(__name__)

#: Default buffer around each region, in metres: roads within 5 km of the border
#: (a detour through the neighbouring county) and facilities just across it count.
DEFAULT_EXTRACT_BUFFER_M = 5000.0
#: Bump when the extracts' content changes meaning, so old cached extracts are not reused.
EXTRACT_FORMAT = 1
#: Extract files written in one pass over the big file; more regions take more passes.
DEFAULT_MAX_OPEN = 200

_NODE_KEYS = ("amenity", "healthcare", "emergency", "place")
_AREA_TYPES = ("multipolygon", "boundary")
_HEALTH_KEYS = frozenset(key for key, _ in HEALTH_TAGS)
#: ways whose geometry is tested against the regions in one vectorised query
_WAY_BATCH = 50_000


def safe_name(text: str) -> str:
    """A file-name-safe form of a region id: letters (any script), digits, ``-``, ``_`` and ``.``."""
    return re.sub(r"[^\w.-]+", "_", text).strip("._")


def buffered_region(geometry: shapely.Geometry, *, buffer_m: float) -> shapely.Geometry:
    """The region's WGS84 polygon grown by ``buffer_m`` metres (measured in its local UTM zone)."""
    if buffer_m <= 0:
        return geometry
    lon_min, lat_min, lon_max, lat_max = (float(v) for v in shapely.bounds(geometry))
    crs = utm_crs_for(np.array([lon_min, lon_max]), np.array([lat_min, lat_max]))
    forward = Transformer.from_crs(4326, crs, always_xy=True)
    back = Transformer.from_crs(crs, 4326, always_xy=True)
    projected = shapely.transform(geometry, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))
    # simplify first (to a twentieth of the buffer): buffering a detailed coastline is slow,
    # and the simplified outline moves by less than the buffer adds
    grown = shapely.buffer(shapely.simplify(projected, buffer_m / 20), buffer_m, quad_segs=4)
    return shapely.transform(grown, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))


def geometry_sha256(geometry: shapely.Geometry) -> str:
    """Hex sha256 of a geometry's WKB: changes when the region's outline changes."""
    return hashlib.sha256(shapely.to_wkb(geometry)).hexdigest()


def extract_key(source_sha256: str, geometry: shapely.Geometry, *, buffer_m: float) -> str:
    """Cache key of one region's extract: the big file's hash, the region's geometry, the buffer."""
    text = f"{EXTRACT_FORMAT}|{__version__}|{source_sha256}|{geometry_sha256(geometry)}|{float(buffer_m)!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def extract_path(folder: str | os.PathLike[str], region_id: str, key: str) -> Path:
    """Where the extract of ``region_id`` with cache key ``key`` lives in ``folder``."""
    return Path(folder) / f"{safe_name(region_id)}.{key}.osm.pbf"


def split_osm(
    osm: str | os.PathLike[str],
    regions: Mapping[str, shapely.Geometry],
    *,
    out_dir: str | os.PathLike[str],
    buffer_m: float = DEFAULT_EXTRACT_BUFFER_M,
    source_sha256: str | None = None,
    max_open: int = DEFAULT_MAX_OPEN,
) -> dict[str, Path]:
    """Cut a big OSM file into one extract per region, reusing the extracts already made.

    Parameters
    ----------
    osm : path
        The big ``.osm.pbf`` (or ``.osm``, ``.osm.bz2``) file, e.g. a province or a country.
    regions : mapping
        Region id to its WGS84 (multi)polygon.
    out_dir : path
        Folder of the extracts (``<id>.<key>.osm.pbf``); made if missing.
    buffer_m : float
        How far beyond its polygon each region's extract reaches, in metres.
    source_sha256 : str, optional
        The big file's sha256 when the caller already has it (hashing a country file takes seconds).
    max_open : int
        Extract files written at once; more regions take one more writing pass each.

    Returns
    -------
    dict
        Region id to the path of its extract (an empty extract for a region with no data).
    """
    import osmium

    path = check_osm_path(osm)
    if buffer_m < 0:
        msg = f"the extract buffer must be 0 or more metres, got {buffer_m}"
        raise InputError(msg)
    if max_open < 1:
        msg = f"max_open must be at least 1, got {max_open}"
        raise InputError(msg)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    digest = source_sha256 or file_sha256(path)
    paths = {
        rid: extract_path(folder, rid, extract_key(digest, geom, buffer_m=buffer_m)) for rid, geom in regions.items()
    }
    missing = [rid for rid, target in paths.items() if not target.exists()]
    if not missing:
        logger.info("%s: all %d region extracts are cached in %s", path.name, len(paths), folder)
        return paths
    started = time.perf_counter()
    ids = list(missing)
    areas = [buffered_region(regions[rid], buffer_m=buffer_m) for rid in ids]
    tree = shapely.STRtree(areas)

    members = _area_relations(path, osmium)
    located = _locate(path, tree, {way for ways in members.values() for way in ways}, osmium)
    # an area relation goes to every region one of its member ways touches, with all its member
    # ways and their nodes, so that its polygon can be assembled
    way_regions = _Lookup(located.way_pairs(), len(ids))
    relation_chunks = []
    for relation, member_ways in members.items():
        regions_of = sorted({region for way in member_ways for region in way_regions.regions(way)})
        if not regions_of:
            continue
        relation_chunks.append(_pairs(np.full(len(regions_of), relation), regions_of))
        for way in member_ways:
            located.add_member(way, regions_of)
    nodes = located.node_table()
    ways = _Lookup(located.way_pairs(), len(ids))
    relations = _Lookup(np.concatenate([_pairs([], []), *relation_chunks]), len(ids))
    logger.info(
        "%s: %d regions need extracts; %s nodes, %s ways and %s relations to write",
        path.name,
        len(ids),
        f"{len(np.unique(nodes.ids)):,}",
        f"{len(ways.ids):,}",
        f"{len(relations.ids):,}",
    )
    for first in range(0, len(ids), max_open):
        group = range(first, min(first + max_open, len(ids)))
        targets = [paths[ids[i]] for i in group]
        _write(path, targets, [areas[i] for i in group], group.start, nodes, ways, relations, osmium)
    for rid in ids:
        _remove_stale(folder, rid, keep=paths[rid])
    logger.info("%s: wrote %d region extracts in %.1f s", path.name, len(ids), time.perf_counter() - started)
    return paths


def _objects(path: Path, processor: Any) -> Iterator[Any]:
    """The objects of a pyosmium processor; reader failures become InputError."""
    yield from iterate_osm(path, processor)


def _is_area_relation(tags: dict[str, str]) -> bool:
    return tags.get("type") in _AREA_TYPES and _wanted(tags)


def _wanted(tags: dict[str, str]) -> bool:
    """Tags of something the analyzer reads: a health facility or a named place."""
    if tags.get("place") in PLACE_VALUES:
        return True
    return any((key, tags.get(key)) in HEALTH_TAGS for key in _HEALTH_KEYS if key in tags)


def _area_relations(path: Path, osmium: Any) -> dict[int, list[int]]:
    """Pass 1: multipolygon relations that are facilities or places, and their member way ids."""
    processor = osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(osmium.filter.KeyFilter(*_NODE_KEYS))
    found: dict[int, list[int]] = {}
    for relation in _objects(path, processor):
        if _is_area_relation(dict(relation.tags)):
            found[relation.id] = [m.ref for m in relation.members if m.type == "w"]
    return found


def _pairs(ids: object, regions: object) -> np.ndarray:
    """(id, region) pairs as an (n, 2) int64 array."""
    return np.column_stack([np.asarray(ids, dtype=np.int64), np.asarray(regions, dtype=np.int64)]).reshape(-1, 2)


@dataclass
class _Nodes:
    """The nodes each region's extract gets: id, region, location, and the tags of tagged ones."""

    ids: np.ndarray
    regions: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    tags: dict[int, dict[str, str]]


class _Located:
    """What pass 2 found: which regions each way and node goes to, and the nodes' locations."""

    def __init__(self, tree: shapely.STRtree) -> None:
        self.tree = tree
        self.way_chunks: list[np.ndarray] = []
        # per chunk: node ids, regions, longitudes, latitudes
        self.node_chunks: list[tuple[np.ndarray, ...]] = []
        self.tags: dict[int, dict[str, str]] = {}
        self.members: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._ids: list[int] = []
        self._refs: list[int] = []
        self._lon: list[float] = []
        self._lat: list[float] = []
        self._counts: list[int] = []

    def add_way(self, way_id: int, refs: list[int], lon: list[float], lat: list[float]) -> None:
        self._ids.append(way_id)
        self._refs.extend(refs)
        self._lon.extend(lon)
        self._lat.extend(lat)
        self._counts.append(len(refs))
        if len(self._ids) >= _WAY_BATCH:
            self.flush()

    def add_points(self, ids: list[int], xy: list[tuple[float, float]], tags: list[dict[str, str]]) -> None:
        """Tagged nodes (facilities, places): to the regions holding them, tags kept."""
        if not ids:
            return
        coords = np.asarray(xy, dtype=np.float64)
        point_index, region_index = self.tree.query(shapely.points(coords), predicate="intersects")
        node_ids = np.asarray(ids, dtype=np.int64)
        self.node_chunks.append((node_ids[point_index], region_index, coords[point_index, 0], coords[point_index, 1]))
        self.tags.update((ids[i], tags[i]) for i in np.unique(point_index).tolist())

    def add_member(self, way_id: int, regions: list[int]) -> None:
        """A relation's member way (and its nodes) to the relation's regions."""
        if way_id not in self.members:
            return  # not in the file
        refs, lon, lat = self.members[way_id]
        count = len(regions)
        self.way_chunks.append(_pairs(np.full(count, way_id), regions))
        self.node_chunks.append(
            (np.repeat(refs, count), np.tile(regions, len(refs)), np.repeat(lon, count), np.repeat(lat, count))
        )

    def flush(self) -> None:
        """Test the waiting ways against the buffered regions in one query."""
        if not self._ids:
            return
        counts = np.asarray(self._counts)
        refs = np.asarray(self._refs, dtype=np.int64)
        lon = np.asarray(self._lon, dtype=np.float64)
        lat = np.asarray(self._lat, dtype=np.float64)
        owner = np.repeat(np.arange(len(counts)), counts)
        valid = np.isfinite(lon)
        located = np.bincount(owner[valid], minlength=len(counts))
        # a way with one located node is tested as a point, the others as lines
        geoms = np.full(len(counts), None, dtype=object)
        lines = located >= 2
        keep = valid & lines[owner]
        if keep.any():
            _, dense = np.unique(owner[keep], return_inverse=True)
            geoms[lines] = shapely.linestrings(np.column_stack([lon[keep], lat[keep]]), indices=dense)
        single = located == 1
        keep = valid & single[owner]
        if keep.any():
            geoms[single] = shapely.points(lon[keep], lat[keep])
        way_index, region_index = self.tree.query(geoms, predicate="intersects")
        self.way_chunks.append(_pairs(np.asarray(self._ids, dtype=np.int64)[way_index], region_index))
        # every located node of a kept way goes with it: ways stay complete
        offsets = np.concatenate([[0], np.cumsum(counts)])
        per_pair = counts[way_index]
        vertex = np.repeat(offsets[way_index], per_pair) + (
            np.arange(per_pair.sum()) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
        )
        pair_region = np.repeat(region_index, per_pair)
        ok = valid[vertex]
        vertex, pair_region = vertex[ok], pair_region[ok]
        self.node_chunks.append((refs[vertex], pair_region, lon[vertex], lat[vertex]))
        self._ids.clear()
        self._refs.clear()
        self._lon.clear()
        self._lat.clear()
        self._counts.clear()

    def way_pairs(self) -> np.ndarray:
        self.flush()
        return np.concatenate([_pairs([], []), *self.way_chunks])

    def node_table(self) -> _Nodes:
        """Each (node, region) once, sorted by region then id."""
        self.flush()
        chunks = [*self.node_chunks, (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0))]
        ids, regions, lon, lat = (np.concatenate([chunk[i] for chunk in chunks]) for i in range(4))
        order = np.lexsort((ids, regions))
        ids, regions, lon, lat = ids[order], regions[order], lon[order], lat[order]
        first = np.ones(len(ids), dtype=bool)
        first[1:] = (ids[1:] != ids[:-1]) | (regions[1:] != regions[:-1])
        return _Nodes(ids=ids[first], regions=regions[first], lon=lon[first], lat=lat[first], tags=self.tags)


def _locate(path: Path, tree: shapely.STRtree, member_ways: set[int], osmium: Any) -> _Located:
    """Pass 2: which buffered regions each way and tagged node touches, with node locations."""
    node_filter = osmium.filter.KeyFilter(*_NODE_KEYS)
    node_filter.enable_for(osmium.osm.NODE)  # every way reaches Python, untagged member ways too
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations().with_filter(node_filter)
    )
    found = _Located(tree)
    point_ids: list[int] = []
    point_xy: list[tuple[float, float]] = []
    point_tags: list[dict[str, str]] = []
    for obj in _objects(path, processor):
        if obj.is_node():
            tags = dict(obj.tags)
            if _wanted(tags) and obj.location.valid():
                point_ids.append(obj.id)
                point_xy.append((obj.location.lon, obj.location.lat))
                point_tags.append(tags)
            continue
        way_tags = obj.tags
        way_id = obj.id
        # most ways (buildings, land use) carry none of these keys: skip them before copying tags
        member = way_id in member_ways
        if not (member or "highway" in way_tags) and not (
            any(key in way_tags for key in _NODE_KEYS) and _wanted(dict(way_tags))
        ):
            continue
        refs, lon, lat = [], [], []
        for node in obj.nodes:
            refs.append(node.ref)
            location = node.location
            if location.valid():
                lon.append(location.lon)
                lat.append(location.lat)
            else:  # cut by the big file's own extract: the way is written, this node cannot be
                lon.append(np.nan)
                lat.append(np.nan)
        if member:
            found.members[way_id] = (np.asarray(refs, np.int64), np.asarray(lon), np.asarray(lat))
        found.add_way(way_id, refs, lon, lat)
    found.add_points(point_ids, point_xy, point_tags)
    return found


class _Lookup:
    """The regions of each object id, from (id, region) pairs, as sorted ids and CSR offsets."""

    def __init__(self, pairs: np.ndarray, n_regions: int) -> None:
        n_regions = max(n_regions, 1)
        codes = np.unique(pairs[:, 0] * n_regions + pairs[:, 1])
        ids, regions = codes // n_regions, codes % n_regions
        self.ids, first = np.unique(ids, return_index=True)
        self.offsets = np.append(first, len(ids))
        self.region_of = regions
        # objects of a sorted file arrive in id order: the next one is usually at the cursor
        self.cursor = 0

    def regions(self, object_id: int) -> list[int]:
        k = self.cursor
        if not (k < len(self.ids) and self.ids[k] == object_id):
            k = int(np.searchsorted(self.ids, object_id))
            if k == len(self.ids) or self.ids[k] != object_id:
                return []
        self.cursor = k + 1
        found: list[int] = self.region_of[self.offsets[k] : self.offsets[k + 1]].tolist()
        return found


def _write(
    path: Path,
    targets: list[Path],
    areas: list[shapely.Geometry],
    first_region: int,
    nodes: _Nodes,
    ways: _Lookup,
    relations: _Lookup,
    osmium: Any,
) -> None:
    """Pass 3: the extracts of regions ``first_region`` onwards: their nodes, then their ways and relations."""
    temporaries = [target.with_name(f"{target.name[: -len('.osm.pbf')]}.partial.osm.pbf") for target in targets]
    writers = []
    try:
        for temporary, area in zip(temporaries, areas, strict=True):
            header = osmium.io.Header()
            lon_min, lat_min, lon_max, lat_max = (float(v) for v in shapely.bounds(area))
            header.add_box(osmium.osm.Box(osmium.osm.Location(lon_min, lat_min), osmium.osm.Location(lon_max, lat_max)))
            header.set("generator", f"facility-coverage {__version__}")
            writers.append(osmium.SimpleWriter(str(temporary), bufsz=1 << 20, header=header, overwrite=True))
        # nodes from what pass 2 read (the analyzer reads no tags of untagged way nodes' kind), sorted by id
        bounds = np.searchsorted(nodes.regions, np.arange(first_region, first_region + len(targets) + 1))
        node_type = osmium.osm.mutable.Node
        for k, writer in enumerate(writers):
            start, stop = bounds[k], bounds[k + 1]
            for node_id, lon, lat in zip(
                nodes.ids[start:stop].tolist(),
                nodes.lon[start:stop].tolist(),
                nodes.lat[start:stop].tolist(),
                strict=True,
            ):
                writer.add_node(node_type(id=node_id, location=(lon, lat), tags=nodes.tags.get(node_id, {})))
        # ways and relations: only the kept ones reach Python (nodes are skipped at the source)
        processor = osmium.FileProcessor(str(path), osmium.osm.WAY | osmium.osm.RELATION)
        for ids, kind in ((ways.ids, osmium.osm.WAY), (relations.ids, osmium.osm.RELATION)):
            id_filter = osmium.filter.IdFilter(ids.tolist())
            id_filter.enable_for(kind)
            processor.with_filter(id_filter)
        last = first_region + len(targets)
        ways.cursor = relations.cursor = 0
        for obj in _objects(path, processor):
            lookup, add = (ways, "add_way") if obj.is_way() else (relations, "add_relation")
            for region in lookup.regions(obj.id):
                if first_region <= region < last:
                    getattr(writers[region - first_region], add)(obj)
        for writer in writers:
            writer.close()
        writers = []
        for temporary, target in zip(temporaries, targets, strict=True):
            os.replace(temporary, target)
    finally:
        for writer in writers:
            writer.close()
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def _remove_stale(folder: Path, region_id: str, *, keep: Path) -> None:
    """Remove the region's extracts made from other inputs (an older file, another outline or buffer)."""
    prefix = f"{safe_name(region_id)}."
    for old in folder.glob(f"{glob_escape(prefix)}*.osm.pbf"):
        # the key is 24 hex digits: "<id>.<key>.osm.pbf" and nothing else
        rest = old.name[len(prefix) :]
        if old != keep and re.fullmatch(r"[0-9a-f]{24}\.osm\.pbf", rest):
            old.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    """``text`` with glob wildcards escaped."""
    return re.sub(r"([*?[])", r"[\1]", text)


def _block_pixels(transform: Any, height: int, crs: Any, block_m: float) -> int:
    """Pixels per side of a density block, as :mod:`coverage.analysis.zones` computes it for a whole raster."""
    if CRS.from_user_input(crs).is_geographic:
        lat = (transform.f + (transform.f + transform.e * height)) / 2
        pixel_w = abs(transform.a) * 111_320 * np.cos(np.radians(lat))
        pixel_h = abs(transform.e) * 110_574
    else:
        pixel_w, pixel_h = abs(transform.a), abs(transform.e)
    return max(1, round(block_m / np.sqrt(pixel_w * pixel_h)))


def clip_population(
    raster: str | os.PathLike[str],
    geometry: shapely.Geometry,
    out_path: str | os.PathLike[str],
    *,
    boundary_tolerance_m: float = BOUNDARY_TOLERANCE_M,
    block_m: float = URBAN_BLOCK_M,
) -> Path:
    """Write the part of a population raster that belongs to one region, atomically.

    The window covering the region is copied; pixels whose centre lies farther
    than ``boundary_tolerance_m`` outside the region are set to 0, by the same
    rule as :func:`coverage.analysis.demand.population_cells`, so the region's populated
    cells are those of the big raster with the region as boundary, and a task
    never reads the whole country raster.

    Parameters
    ----------
    raster : path
        Population GeoTIFF (people per pixel), any CRS.
    geometry : shapely geometry
        The region's WGS84 polygon.
    out_path : path
        The GeoTIFF to write.
    boundary_tolerance_m : float
        Pixels whose centre is this close outside the region still belong to it.
    block_m : float
        Side of the density blocks of the urban-area rule (:mod:`coverage.analysis.zones`): the
        window starts on the full raster's block grid.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    InputError
        When the raster cannot be read or does not overlap the region.
    """
    import rasterio
    from affine import Affine
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window, from_bounds

    raster, out_path = Path(raster), Path(out_path)
    region = widened_boundary(geometry, boundary_tolerance_m)
    try:
        with rasterio.open(raster) as src:
            if src.crs is None:
                msg = (
                    f"{raster}: the raster has no CRS. Assign one (e.g. `gdal_edit.py -a_srs EPSG:4326 {raster.name}`)."
                )
                raise InputError(msg)
            to_raster = Transformer.from_crs(4326, src.crs, always_xy=True)
            x_min, y_min, x_max, y_max = to_raster.transform_bounds(*shapely.bounds(region))
            window = from_bounds(x_min, y_min, x_max, y_max, transform=src.transform)
            window = window.round_offsets(op="floor").round_lengths(op="ceil")
            # start on the full raster's grid of density blocks, so that urban areas and zone
            # classes derived from the window are those derived from the full raster
            k = _block_pixels(src.transform, src.height, src.crs, block_m)
            col_off, row_off = (int(window.col_off) // k) * k, (int(window.row_off) // k) * k
            window = Window(
                col_off, row_off, window.width + window.col_off - col_off, window.height + window.row_off - row_off
            )
            full = Window(0, 0, src.width, src.height)
            try:
                window = window.intersection(full)
            except Exception as error:  # rasterio raises WindowError for disjoint windows
                msg = f"{raster}: the raster does not cover the region (bounds {tuple(shapely.bounds(geometry).round(4))}); give a raster of the whole batch."
                raise InputError(msg) from error
            band = src.read(1, window=window, masked=True)
            # keep the source's float type, so the people per pixel are the very same numbers
            dtype = band.dtype if np.issubdtype(band.dtype, np.floating) else np.dtype(np.float64)
            values = band.astype(dtype).filled(0.0)
            transform = src.transform @ Affine.translation(window.col_off, window.row_off)
            profile = src.profile.copy()
    except RasterioIOError as error:
        msg = f"{raster}: cannot read this raster ({error}). Give a GeoTIFF of people per pixel, e.g. WorldPop's *_ppp_*.tif."
        raise InputError(msg) from error
    rows, cols = np.indices(values.shape)
    x, y = transform @ (cols.ravel() + 0.5, rows.ravel() + 0.5)
    lon, lat = Transformer.from_crs(profile["crs"], 4326, always_xy=True).transform(np.asarray(x), np.asarray(y))
    inside = shapely.contains_xy(region, lon, lat).reshape(values.shape)
    values[~inside | ~np.isfinite(values) | (values < 0)] = 0.0
    profile.update(
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        transform=transform,
        dtype=str(values.dtype),
        nodata=None,
        count=1,
        compress="deflate",
    )
    for key in ("blockxsize", "blockysize", "tiled", "interleave"):
        profile.pop(key, None)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".partial-{out_path.name}")
    # the window keeps its source's credit: its own name says nothing of where the people come from
    tags = credit_tags(*raster_credit(raster))
    try:
        with rasterio.open(temporary, "w", **profile) as dst:
            dst.write(values, 1)
            dst.update_tags(**tags)
        os.replace(temporary, out_path)
    finally:
        temporary.unlink(missing_ok=True)
    return out_path
