"""The embedded default region and where the shipped data lives.

The default region is the Union of the Comoros: a real OpenStreetMap extract
(© OpenStreetMap contributors, ODbL 1.0), the WorldPop 2020 population raster
(CC BY 4.0) and admin boundaries derived from OSM, shipped in ``data/comoros/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely

from coverage._config import DATA_DIR
from coverage._errors import InputError


def data_dir() -> Path:
    """The project's ``data/`` folder (``$FACILITY_COVERAGE_DATA`` overrides it)."""
    if os.environ.get("FACILITY_COVERAGE_DATA"):
        return Path(os.environ["FACILITY_COVERAGE_DATA"])
    return DATA_DIR


OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
WORLDPOP_ATTRIBUTION = "Population: WorldPop 2020, UN-adjusted (CC BY 4.0)"


@dataclass(frozen=True)
class Region:
    """The inputs of one region.

    Attributes
    ----------
    name : str
    osm : Path
        Road network source.
    population : Path or None
        Population raster.
    zones : Path or None
        Admin units polygon file.
    zones_where : str or None
        Query selecting the admin units to summarise by.
    zones_name_column : str or None
        Column naming the admin units.
    attribution : str
        Data credits to show on every map and report.
    """

    name: str
    osm: Path
    population: Path | None
    zones: Path | None
    zones_where: str | None
    zones_name_column: str | None
    attribution: str

    def boundary(self) -> shapely.Geometry | None:
        """The region's outline in WGS84 (union of its admin units), or None."""
        if self.zones is None:
            return None
        zones = gpd.read_file(self.zones)
        if self.zones_where:
            zones = zones.query(self.zones_where)
        return zones.to_crs(4326).geometry.union_all()


def default_region() -> Region:
    """The shipped Comoros region: the three islands, summarised per island."""
    folder = data_dir() / "comoros"
    region = Region(
        name="Comoros",
        osm=folder / "comores-latest.osm.pbf",
        population=folder / "com_ppp_2020_UNadj.tif",
        zones=folder / "admin_boundaries_osm.geojson",
        # the three islands; the country outline includes the sea and the claim on Mayotte
        zones_where="admin_level == '4'",
        zones_name_column="name_en",
        attribution=f"{OSM_ATTRIBUTION}; {WORLDPOP_ATTRIBUTION}",
    )
    if not region.osm.exists():
        msg = f"the default region's data is missing ({region.osm}); run from a full checkout of the project."
        raise InputError(msg)
    return region


#: The seed regions shipped in ``data/regions/``, each named after its plan's standard preset.
REGION_PRESETS = ("suizhou", "dongxihu", "lianzhou", "yiyang", "kaijiang")


def region_preset_path(name: str) -> Path:
    """The boundary file of a shipped region preset (its county-level units, WGS84).

    Raises
    ------
    InputError
        For an unknown name, listing the presets.
    """
    if name not in REGION_PRESETS:
        msg = f"unknown region preset {name!r}; the presets are {', '.join(REGION_PRESETS)} (or give --boundary FILE)."
        raise InputError(msg)
    return data_dir() / "regions" / f"{name}.geojson"
