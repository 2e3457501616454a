"""Options shared by the commands, and the argument types that check them.

Every command builds its parser from these helpers, so an option means the same
thing, with the same help, wherever it appears.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

#: A parser or one of its argument groups: both take ``add_argument``.
Options = argparse.ArgumentParser | argparse._ArgumentGroup

#: What ``parser.add_subparsers()`` returns.
Commands = argparse._SubParsersAction


def _checked(text: str, convert: Callable[[str], Any], *, expected: str, valid: Callable[[Any], bool]) -> Any:
    """``convert(text)``, or an argparse error saying what was expected."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not valid(value):
        msg = f"expected {expected}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.replace(" ", "").split(",") if part]


def minutes_list(text: str) -> list[float]:
    """An argparse type: thresholds like ``10,15,30``, each a positive finite number."""
    return _checked(
        text,
        _floats,
        expected="minutes like 10,15,30, each a positive number",
        valid=lambda values: bool(values) and all(math.isfinite(v) and v > 0 for v in values),
    )


def kinds_list(text: str) -> list[str]:
    """An argparse type: facility kinds like ``hospital,clinic``."""
    return [part.strip().lower() for part in text.split(",") if part.strip()]


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        return _checked(text, int, expected=f"a whole number, {minimum} or more", valid=lambda v: v >= minimum)

    return parse


def metres(text: str) -> float:
    """An argparse type: a distance in metres, 0 or more."""
    return _checked(text, float, expected="0 or more metres", valid=lambda v: math.isfinite(v) and v >= 0)


def positive_metres(text: str) -> float:
    """An argparse type: a distance in metres, more than 0."""
    return _checked(text, float, expected="a positive number of metres", valid=lambda v: math.isfinite(v) and v > 0)


def positive_minutes(text: str) -> float:
    """An argparse type: one threshold in minutes, a positive finite number."""
    return _checked(text, float, expected="a positive number of minutes", valid=lambda v: math.isfinite(v) and v > 0)


def positive_seconds(text: str) -> float:
    """An argparse type: a duration in seconds, a positive finite number."""
    return _checked(text, float, expected="a positive number of seconds", valid=lambda v: math.isfinite(v) and v > 0)


def verbosity_parent() -> argparse.ArgumentParser:
    """-v/-q as a parent parser, so that they work after the command name as well as before it."""
    verbosity = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option not given after the command keeps the value given before it
    verbosity.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more messages (-vv for debugging)"
    )
    verbosity.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors")
    add_lang_option(verbosity, default=argparse.SUPPRESS)
    return verbosity


def add_lang_option(group: Options, *, default: str = "en") -> None:
    """``--lang``: the language of what is printed, logged, mapped and reported."""
    group.add_argument(
        "--lang",
        choices=["en", "zh"],
        default=default,
        help="language of the printed results, warnings, maps and reports: en or zh (中文) (default: en)",
    )


def add_command(
    commands: Commands, name: str, *, help: str, description: str, epilog: str | None, parents: list[Any]
) -> argparse.ArgumentParser:
    """A sub-command whose description and epilog keep their line breaks, as in a man page."""
    return commands.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )


def add_datum_option(group: Options) -> None:
    """``--datum`` of the facility and village files."""
    group.add_argument(
        "--datum",
        choices=["wgs84", "gcj02", "bd09"],
        default="wgs84",
        help="datum of the facility and village files: gcj02 for Amap/Tencent, bd09 for Baidu coordinates "
        "(default: %(default)s)",
    )


def add_cache_options(group: Options) -> None:
    """``--cache-dir`` and ``--no-cache`` of the prepared-network cache."""
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where prepared networks are cached (default: $FACILITY_COVERAGE_CACHE or ~/.cache/facility-coverage)",
    )
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the prepared-network cache")


def add_basemap_option(group: Options) -> None:
    """``--basemap`` of the HTML maps."""
    group.add_argument(
        "--basemap",
        default="osm",
        metavar="osm|none|URL",
        help="background tiles: osm, none, or a tile URL with {z}/{x}/{y} (default: %(default)s)",
    )


def add_standard_option(group: Options, *, help: str, repeatable: bool = True) -> None:
    """``--standard NAME|FILE``: a shipped preset or a TOML file."""
    if repeatable:
        group.add_argument("--standard", action="append", metavar="NAME|FILE", help=f"{help}; repeatable")
    else:
        group.add_argument("--standard", metavar="NAME|FILE", help=help)


def add_out_option(group: Options, default: str, *, what: str = "output folder") -> None:
    """``--out`` with its default."""
    group.add_argument(
        "--out", default=default, metavar="FILE" if "." in default else "DIR", help=f"{what} (default: %(default)s)"
    )


def add_region_options(parser: argparse.ArgumentParser) -> None:
    """The region's input files and the runtime options, shared by every command that runs an analysis."""
    inputs = parser.add_argument_group("inputs")
    inputs.add_argument(
        "network",
        nargs="?",
        metavar="OSM_FILE",
        help="road network: OSM extract (.osm.pbf, .osm, .osm.bz2), osmnx .graphml, or GIS lines file "
        "(.gpkg, .shp, .geojson; needs --road-class-column). Default: the embedded Comoros region",
    )
    add_point_inputs(inputs)
    inputs.add_argument(
        "--region",
        metavar="NAME",
        help="a shipped seed region (suizhou, dongxihu, lianzhou, yiyang, kaijiang): clips your OSM_FILE to its "
        "real boundary, summarises per county unit, and (for check) picks the matching standard",
    )
    inputs.add_argument(
        "--boundary",
        metavar="FILE",
        help="polygon file of the region: villages and people inside it count; roads and facilities up to "
        "--border-km beyond it too",
    )
    inputs.add_argument(
        "--boundary-where",
        metavar="QUERY",
        help="select the region's rows of --boundary, e.g. \"name == '东西湖区'\" (a pandas query); several "
        "polygons are joined, with a warning",
    )
    inputs.add_argument(
        "--border-km",
        type=metres,
        metavar="KM",
        help="roads and facilities this far beyond the boundary count: a hospital across the border serves "
        "villages inside (default: the distance the profile's top speed covers in the longest threshold)",
    )
    inputs.add_argument("--zones", metavar="FILE", help="admin-unit polygons to summarise by")
    inputs.add_argument("--zones-name-column", metavar="COL", help="column naming the admin units (default: name)")
    inputs.add_argument(
        "--zones-where", metavar="QUERY", help="select some zones, e.g. \"admin_level == '8'\" (a pandas query)"
    )
    add_road_class_options(inputs)
    add_kind_map_option(inputs)
    add_cache_options(parser.add_argument_group("runtime"))
    add_column_options(parser, "facilities")
    add_column_options(parser, "villages")


def add_road_class_options(group: Options) -> None:
    """The road-class column of a GIS lines file, and the class of lines where it is blank or unknown."""
    group.add_argument(
        "--road-class-column",
        metavar="COL",
        help="road-class column of a GIS lines file (OSM names or Chinese grades such as 国道/省道/县道)",
    )
    group.add_argument(
        "--default-road-class",
        default="unclassified",
        metavar="CLASS",
        help="OSM class of GIS road lines whose class is blank or unknown, counted in a warning and listed in the "
        "road_problems layer (default: %(default)s, a minor public road)",
    )


def add_point_inputs(group: Options, *, batch: bool = False) -> None:
    """The facility, village and population files (and their datum) of a region, or of a whole batch."""
    scope = " of the whole batch" if batch else ""
    group.add_argument(
        "--facilities",
        metavar="FILE",
        help=f"facility file{scope} (CSV with lon/lat, GeoJSON, GeoPackage, Shapefile) with a kind column; "
        "default: health facilities tagged in the OSM file",
    )
    group.add_argument(
        "--villages",
        metavar="FILE",
        help=f"villages/demand places{scope} with an optional population column; "
        "default: OSM place=city/town/village/hamlet",
    )
    group.add_argument(
        "--population",
        metavar="TIF",
        help=f"population raster{scope} (WorldPop-style GeoTIFF, people per pixel)"
        + (
            "; each task reads its region's window (default with no --osm: the embedded WorldPop raster)"
            if batch
            else ""
        ),
    )
    add_population_totals_option(group, batch=batch)
    add_datum_option(group)


#: The columns a point file of each role can have named on the command line.
COLUMN_FIELDS = {
    "facilities": ("id", "name", "kind"),
    "villages": ("id", "name", "population"),
    "candidates": ("id", "name"),
}
_FIELD_HELP = {
    "id": "its id column (default: the first of id, code, 编码, 编号; else the row number)",
    "name": "its name column (default: the first of name, 名称, 机构名称, 村名, NAME)",
    "kind": "its category column, mapped to kinds by --kind-map (default: the map's usual names such as "
    "类别, 机构类型, TYPE, kind)",
    "population": "its population column (default: the first of population, 人口, 常住人口, POP)",
}
_ROLE_NAMES = {"facilities": "facility", "villages": "village", "candidates": "candidate"}


def add_column_options(parser: argparse.ArgumentParser, role: str) -> None:
    """The columns and datum of one point file (facilities, villages, candidates), as ``--ROLE-FIELD-column``."""
    group = parser.add_argument_group(
        f"{_ROLE_NAMES[role]} file columns",
        f"Which columns of --{role} hold what, when they are not found by their usual names.",
    )
    group.add_argument(
        f"--{role}-lon-column",
        f"--{role}-x-column",
        dest=f"{role}_lon_column",
        metavar="COL",
        help=f"its longitude column (or projected x, with --{role}-crs); default: the first of lon, lng, longitude, "
        "x, 经度",
    )
    group.add_argument(
        f"--{role}-lat-column",
        f"--{role}-y-column",
        dest=f"{role}_lat_column",
        metavar="COL",
        help=f"its latitude column (or projected y, with --{role}-crs); default: the first of lat, latitude, y, 纬度",
    )
    group.add_argument(
        f"--{role}-crs",
        metavar="CRS",
        help="the CRS of projected x/y columns, e.g. EPSG:4547 (CGCS2000 3-degree zone 38)",
    )
    for field in COLUMN_FIELDS[role]:
        group.add_argument(f"--{role}-{field}-column", metavar="COL", help=_FIELD_HELP[field])
    group.add_argument(
        f"--{role}-datum",
        choices=["wgs84", "gcj02", "bd09"],
        help=f"datum of --{role} when it differs from --datum (default: --datum)",
    )


def add_kind_map_option(group: Options) -> None:
    """``--kind-map``: how the facility file's categories become kinds."""
    group.add_argument(
        "--kind-map",
        default="zh",
        metavar="NAME|FILE",
        help="how the facility file's categories become kinds: zh (Chinese category names such as 乡镇卫生院, "
        "村卫生室), amap (Amap exports: NAME, TYPE, TYPECODE), none (the values as they are), or your own TOML "
        "rules ('facility-coverage kind-maps show zh') (default: %(default)s)",
    )


def add_population_totals_option(group: Options, *, batch: bool = False) -> None:
    """``--population-totals FILE|COLUMN|none``: official totals the population is calibrated to."""
    units = "region (by its id or name)" if batch else "admin unit of --zones (by name or code)"
    column = "the regions file" if batch else "the --zones file"
    group.add_argument(
        "--population-totals",
        metavar="FILE|COLUMN",
        help=f"official population per {units}: a CSV with a unit column and a population column (UTF-8 or GBK), "
        f"or a column of {column}. Each unit's raster cells (without a raster, its villages) are scaled to add up "
        "to its total, keeping the pattern inside the unit; the factors go to population_calibration.csv. "
        "'none' keeps the raster's own figures (default: the embedded region's 2017 census island totals)",
    )


def add_method_options(parser: argparse.ArgumentParser) -> None:
    """How an analysis measures: profile, thresholds, direction, facility kinds, isochrone corridors."""
    method = parser.add_argument_group("method")
    add_profile_options(method, profile="car", direction="to_facility")
    method.add_argument(
        "--minutes",
        type=minutes_list,
        default=[10.0, 15.0, 30.0],
        metavar="T,T,...",
        help="thresholds in minutes (default: 10,15,30); 'within T' means <= T",
    )
    add_kind_options(method, kinds_help="facility kinds to count, e.g. hospital,clinic (default: all)")
    method.add_argument(
        "--isochrones",
        choices=["surface", "roads"],
        default="surface",
        help="isochrone areas: surface = the cells of the travel-time surface within each threshold (their people "
        "are the covered people); roads = corridors of --buffer-m along the roads reached (default: %(default)s)",
    )
    method.add_argument(
        "--cell-m",
        type=positive_metres,
        default=100.0,
        metavar="M",
        help="side of the travel-time surface's cells when there is no --population raster (default: %(default)s)",
    )
    method.add_argument(
        "--buffer-m",
        type=metres,
        default=100.0,
        metavar="M",
        help="half-width of the corridor drawn around reached roads with --isochrones roads (default: %(default)s)",
    )
    method.add_argument(
        "--facility-isochrones",
        action="store_true",
        help="also one isochrone per facility and threshold (slow with many facilities)",
    )
    # the per-facility isochrones used to be on by default; the old switch-off is still accepted
    method.add_argument("--no-facility-isochrones", action="store_true", help=argparse.SUPPRESS)


def add_profile_options(group: Options, *, profile: str, direction: str) -> None:
    """``--profile`` and ``--direction``, with the command's defaults."""
    group.add_argument(
        "--profile",
        default=profile,
        metavar="NAME|FILE",
        help="speed profile: car, ambulance, walk, or a copied and edited TOML file (default: %(default)s)",
    )
    group.add_argument(
        "--direction",
        choices=["to_facility", "from_facility"],
        default=direction,
        help="to_facility: place to facility (reaching care); from_facility: facility to place (EMS) "
        "(default: %(default)s)",
    )


def add_kind_options(group: Options, *, kinds_help: str) -> None:
    """``--kinds`` and ``--ems``: which existing facilities count."""
    group.add_argument("--kinds", type=kinds_list, metavar="K,K,...", help=kinds_help)
    group.add_argument(
        "--ems",
        action="store_true",
        help="EMS analysis: ambulance stations (hospitals when there are none), trips from the station",
    )


def add_zone_class_options(group: Options) -> None:
    """The planner's own zone classes, for commands that apply a standard."""
    group.add_argument(
        "--zone-classes",
        metavar="FILE",
        help="your central / urban / rural polygons (default: derived from --population by the standard's densities)",
    )
    group.add_argument(
        "--zone-class-column", default="zone_class", metavar="COL", help="their class column (default: %(default)s)"
    )


def add_allow_unevaluated_option(group: Options) -> None:
    """``--allow-unevaluated``: targets that could not be evaluated do not make an unattended run fail."""
    group.add_argument(
        "--allow-unevaluated",
        action="store_true",
        help="do not count targets that could not be evaluated (or rest on stand-in data, such as hospitals for "
        "missing EMS stations) as missed; a run in which no target could be evaluated still exits 1",
    )
