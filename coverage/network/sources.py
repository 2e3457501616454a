"""Reading a road network from any source, with the prepared-network cache.

``read_roads`` picks the reader from the file name (OSM extract, osmnx GraphML,
GIS lines file); ``load_network`` prepares it for a profile and caches the arrays
keyed by the file's hash, the profile and the options, so a second run loads them.
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

import shapely

from coverage._errors import InputError
from coverage.io.gis_roads import DEFAULT_ROAD_CLASS
from coverage.io.osm import OSM_SUFFIXES, roads_from_osm
from coverage.io.roads import Roads
from coverage.network.prepared import (
    CacheDamagedError,
    Network,
    cache_key,
    default_cache_dir,
    file_sha256,
    load_cached_network,
    prepare_network,
    save_network,
)
from coverage.network.profiles import Profile, load_profile

logger = logging.getLogger(__name__)

LINE_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb")


def read_roads(
    path: str | os.PathLike[str],
    *,
    boundary: shapely.Geometry | None = None,
    class_column: str | None = None,
    layer: str | None = None,
    default_class: str | None = DEFAULT_ROAD_CLASS,
) -> Roads:
    """Read roads from an OSM extract, an osmnx GraphML file or a GIS lines file.

    Parameters
    ----------
    path : str or path-like
        ``.osm.pbf``/``.osm``/``.osm.bz2``; ``.graphml``; or ``.gpkg``/``.shp``/``.geojson``.
    boundary : shapely geometry, optional
        WGS84 polygon to clip to (roads crossing it are kept whole).
    class_column : str, optional
        For a GIS lines file: the column with the road class (required there).
    layer : str, optional
        For a GIS lines file with several layers.
    default_class : str or None
        For a GIS lines file: the class of lines whose class is blank or unknown
        (None refuses them).
    """
    name = Path(path).name.lower()
    if name.endswith(OSM_SUFFIXES):
        return roads_from_osm(path, boundary=boundary)
    if name.endswith(".graphml"):
        from coverage.io.graphml import roads_from_graphml

        return roads_from_graphml(path)
    if name.endswith(LINE_SUFFIXES):
        if class_column is None:
            msg = f"{path}: a GIS lines file needs the name of its road-class column (--road-class-column)."
            raise InputError(msg)
        from coverage.io.gis_roads import roads_from_lines

        return roads_from_lines(
            path, layer=layer, class_column=class_column, boundary=boundary, default_class=default_class
        )
    msg = (
        f"{path}: unknown road network format. Give an OSM extract ({', '.join(OSM_SUFFIXES)}), "
        f"an osmnx .graphml file, or a GIS lines file ({', '.join(LINE_SUFFIXES)})."
    )
    raise InputError(msg)


def load_network(
    path: str | os.PathLike[str],
    *,
    profile: Profile | str | os.PathLike[str] = "car",
    boundary: shapely.Geometry | None = None,
    urban_area: shapely.Geometry | None = None,
    class_column: str | None = None,
    layer: str | None = None,
    default_class: str | None = DEFAULT_ROAD_CLASS,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> Network:
    """Read and prepare a road network, reusing the on-disk cache when the inputs are unchanged.

    The cache key covers the file's sha256, the profile's settings (its fingerprint), the
    boundary, the urban area and the reader options.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    path = Path(path)
    if not path.exists():
        msg = f"road network file not found: {path}"
        raise InputError(msg)
    if path.is_dir():
        msg = f"{path} is a folder; give the path of a road network file (an OSM extract, .graphml or GIS lines file)."
        raise InputError(msg)
    key = cache_key(
        file_sha256(path),
        profile.fingerprint,
        shapely.to_wkb(boundary, hex=True) if boundary is not None else "",
        shapely.to_wkb(urban_area, hex=True) if urban_area is not None else "",
        str(class_column),
        str(layer),
        str(default_class),
    )
    cache_file = Path(cache_dir or default_cache_dir()) / f"{path.name}.{profile.name}.{key}.npz"
    if use_cache and cache_file.exists():
        try:
            network = load_cached_network(cache_file)
        except CacheDamagedError as error:
            logger.warning("%s; building it again from %s", error, path.name)
        except (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as error:
            logger.warning(
                "the cached network %s cannot be read (%s); building it again from %s", cache_file, error, path.name
            )
        else:
            logger.info("loaded cached %r from %s", network, cache_file)
            return network
    roads = read_roads(path, boundary=boundary, class_column=class_column, layer=layer, default_class=default_class)
    network = prepare_network(roads, profile, urban_area=urban_area)
    if use_cache:
        try:
            save_network(network, cache_file)
        except OSError as error:
            logger.warning("could not write the network cache %s (%s); continuing without it", cache_file, error)
    return network
