"""The configuration of a scheduled report: one region, its inputs, method, targets and output.

A run configuration is a TOML file a planner keeps beside the region's data
(``facility-coverage init`` writes a commented starter). Paths in it are relative
to the file's own folder, so the folder can be moved or copied as a whole.
:func:`load_run_config` reads and validates one into a :class:`RunConfig`; every
error names the file, the line and the key, the value seen and the allowed
values, with a did-you-mean hint for misspelt keys.

Tables and keys (all optional; without any, the embedded Comoros region):

``name``
    The region's name in report titles.
``[inputs]``
    ``osm`` (road network file), ``region`` (a seed-region preset clipping ``osm``),
    ``boundary``, ``boundary_where``, ``border_km``, ``road_class_column``,
    ``default_road_class``, ``facilities`` (a file or a list of files), ``villages``,
    ``population``, ``population_totals`` (or ``population_totals_column``), ``zones``, ``zones_name_column``, ``zones_where``, ``datum``,
    ``facilities_datum``, ``villages_datum``, ``kind_map``, and the tables
    ``[inputs.facility_columns]`` (``lon``, ``lat``, ``crs``, ``id``, ``name``,
    ``kind``) and ``[inputs.village_columns]`` (``lon``, ``lat``, ``crs``, ``id``,
    ``name``, ``population``).
``[analysis]``
    ``profile``, ``direction``, ``ems``, ``kinds``, ``minutes``, ``circle_minutes``
    (the circle the report is about), ``buffer_m``, ``cache_dir``.
``[check]``
    ``standards`` (presets or files), ``zone_classes``, ``zone_class_column``,
    ``allow_unevaluated``.
``[report]``
    ``folder``, ``history``, ``language``, ``basemap``, ``basemap_attribution``.
``[ems]``
    ``simulate`` (true: the report gains a section on ambulance availability),
    ``response_minutes``, ``ambulances_per_station``, ``calls_per_1000``, ``call_records``,
    ``call_records_years``, ``hospitals``, ``on_scene_minutes``, ``handover_minutes``,
    ``transport_share``, ``dispatch_minutes``, ``replications``, ``seed``: the options
    of ``facility-coverage ems simulate``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from coverage._config import did_you_mean, read_toml, type_name
from coverage._errors import ConfigError
from coverage.analysis.isochrones import DEFAULT_BUFFER_M
from coverage.analysis.result import DEFAULT_MINUTES
from coverage.io.regions import REGION_PRESETS, data_dir, default_region, region_preset_path
from coverage.network.profiles import list_profiles, load_profile
from coverage.standards.standard import DIRECTIONS, list_standards, load_standard

logger = logging.getLogger(__name__)

#: Name of the file ``facility-coverage init`` writes by default.
DEFAULT_CONFIG_NAME = "coverage-report.toml"
#: Name of the run history database inside the report folder, unless ``report.history`` says otherwise.
DEFAULT_HISTORY_NAME = "history.sqlite"
LANGUAGES = ("en", "zh")
DATUMS = ("wgs84", "gcj02", "bd09")
MAX_MINUTES = 24 * 60.0
MAX_BUFFER_M = 10_000.0
MAX_BORDER_KM = 500.0
#: The fields of [inputs.facility_columns] and [inputs.village_columns].
FACILITY_COLUMN_FIELDS = ("lon", "lat", "crs", "id", "name", "kind")
VILLAGE_COLUMN_FIELDS = ("lon", "lat", "crs", "id", "name", "population")

#: Every key, by table ("" is the top level), with what is allowed.
KEYS: dict[str, dict[str, str]] = {
    "": {
        "name": "the region's name in report titles, a string",
    },
    "inputs": {
        "osm": "road network file: OSM extract (.osm.pbf, .osm, .osm.bz2), osmnx .graphml or GIS lines file",
        "region": f"a shipped seed region ({', '.join(REGION_PRESETS)}) clipping osm to its boundary",
        "boundary": "polygon file of the region (villages and people inside it count)",
        "boundary_where": "a pandas query selecting the region's rows of boundary, e.g. \"name == '东西湖区'\"",
        "border_km": "roads and facilities this far beyond the boundary count, in km (default: the profile's top "
        "speed for the longest threshold)",
        "road_class_column": "road-class column of a GIS lines file, a string",
        "default_road_class": "OSM class of GIS road lines whose class is blank or unknown (default: unclassified)",
        "facilities": "a facility file (CSV with lon/lat, GeoJSON, GeoPackage, Shapefile), or a list of them",
        "villages": "a village file with an optional population column",
        "population": "population raster (WorldPop-style GeoTIFF)",
        "population_totals": "a CSV of official population per admin unit of zones (a unit name or code column and a population column); the raster (or the villages) is scaled to it",
        "population_totals_column": "the column of zones holding each unit's official population (instead of population_totals), a string",
        "zones": "admin-unit polygons to summarise by",
        "zones_name_column": "column naming the admin units, a string",
        "zones_where": "a pandas query selecting some zones, e.g. \"admin_level == '4'\"",
        "datum": f"datum of the facility and village files: {', '.join(repr(d) for d in DATUMS)}",
        "facilities_datum": f"datum of the facility files when it differs from datum: {', '.join(map(repr, DATUMS))}",
        "villages_datum": f"datum of the village file when it differs from datum: {', '.join(map(repr, DATUMS))}",
        "kind_map": "how the facility categories become kinds: zh (default), amap, none, or a kind-map .toml file",
        "facility_columns": "a table naming the facility file's columns: lon, lat, crs, id, name, kind",
        "village_columns": "a table naming the village file's columns: lon, lat, crs, id, name, population",
    },
    "analysis": {
        "profile": "a speed profile: a shipped name (car, ambulance, walk) or the path of a profile .toml",
        "direction": f"{' or '.join(repr(d) for d in DIRECTIONS)}",
        "ems": "true for an EMS analysis (ambulance stations, trips from the station), else false",
        "kinds": 'a list of facility kinds to count, e.g. ["hospital", "clinic"] (default: all)',
        "minutes": f"a list of thresholds in minutes, each above 0 and at most {MAX_MINUTES:g}, e.g. [10, 15, 30]",
        "circle_minutes": "the circle the report lists uncovered villages for, in minutes (default: the largest of minutes)",
        "buffer_m": f"half-width of the isochrone corridor in metres, above 0 and at most {MAX_BUFFER_M:g}",
        "cache_dir": "folder where prepared networks are cached",
    },
    "check": {
        "standards": "a list of standards: preset names (see 'facility-coverage standards list') or .toml files",
        "zone_classes": "your central / urban / rural polygons (default: derived from the population raster)",
        "zone_class_column": "the column of zone_classes naming each polygon's class, a string",
        "allow_unevaluated": "true: targets that could not be evaluated (or rest on stand-in data) do not make the "
        "run exit 1; a run in which no target could be evaluated still does (default: false)",
    },
    "report": {
        "folder": "the folder each run writes its dated folder into",
        "history": f"the run history database (default: {DEFAULT_HISTORY_NAME} in folder)",
        "language": f"language of the report page: {' or '.join(repr(lang) for lang in LANGUAGES)}",
        "basemap": '"osm", "none" or a tile URL with {z}, {x} and {y} (then give basemap_attribution too); checked when the map is drawn',
        "basemap_attribution": "the credit line of a custom basemap, a string",
    },
    "ems": {
        "simulate": "true to add the ambulance availability (a simulated year of calls) to the report, else false",
        "response_minutes": f"the response threshold in minutes, above 0 and at most {MAX_MINUTES:g} (default 12)",
        "ambulances_per_station": "ambulances assumed per station when the station file has no ambulances column, a whole number >= 0",
        "calls_per_1000": "calls per 1,000 residents a year, above 0 (default 21.7)",
        "call_records": "a file of past calls: time, lon/lat, optional priority",
        "call_records_years": "the period the call records cover, in years above 0",
        "hospitals": "where patients are taken (default: the region's hospitals)",
        "on_scene_minutes": "mean minutes on scene, 0 or more (default 15)",
        "handover_minutes": "mean minutes handing over at hospital, 0 or more (default 15)",
        "transport_share": "share of patients taken to hospital, from 0 to 1 (default 1)",
        "dispatch_minutes": "call taking and turnout minutes added to every response, 0 or more (default 0)",
        "replications": "simulated years, a whole number from 1 (default 10)",
        "seed": "the simulation's seed, a whole number >= 0 (default 0)",
    },
}
TABLES = tuple(table for table in KEYS if table)


@dataclass(frozen=True)
class RunConfig:
    """A validated run configuration; paths are absolute.

    Attributes
    ----------
    path : Path
        The configuration file.
    name : str or None
        The region's name in report titles; None: the analysis' region name.
    osm : Path or None
        Road network file; None: the embedded default region.
    region : str or None
        Seed-region preset clipping ``osm``.
    boundary : Path or None
    road_class_column : str or None
    facilities : tuple of Path
        Facility files; empty: the health facilities tagged in the OSM file.
    villages, population, zones : Path or None
    population_totals : Path or None
        Official population per admin unit of ``zones``, the population is calibrated to.
    population_totals_column : str or None
        Or the column of ``zones`` holding them.
    zones_name_column, zones_where : str or None
    datum : str
    profile : str
        A shipped profile name or the absolute path of a profile file.
    direction : str
    ems : bool
    kinds : tuple of str or None
    minutes : tuple of float
        Thresholds, ascending; ``circle_minutes`` is one of them.
    circle_minutes : float
        The circle the report is about: villages beyond it are uncovered.
    buffer_m : float
    cache_dir : Path or None
    standards : tuple of str
        Preset names or absolute paths of standard files.
    zone_classes : Path or None
    zone_class_column : str
    folder : Path
        Where each run writes its dated folder.
    history : Path
        The run history database.
    language : str
        ``"en"`` or ``"zh"``.
    basemap : str
    basemap_attribution : str or None
    ems_simulation : dict or None
        With ``[ems] simulate = true``: the keyword arguments of
        :func:`coverage.ems.run.ems_availability` (``threshold_minutes``, ``replications``...).
    sha256 : str
        Hex digest of the settings that decide a run's results (every key but
        ``folder``, ``history`` and ``cache_dir``, paths relative to the file's
        folder): editing a comment or moving the folder does not change it.
    """

    path: Path
    name: str | None = None
    osm: Path | None = None
    region: str | None = None
    boundary: Path | None = None
    boundary_where: str | None = None
    border_km: float | None = None
    road_class_column: str | None = None
    default_road_class: str = "unclassified"
    facilities: tuple[Path, ...] = ()
    villages: Path | None = None
    population: Path | None = None
    population_totals: Path | None = None
    population_totals_column: str | None = None
    zones: Path | None = None
    zones_name_column: str | None = None
    zones_where: str | None = None
    datum: str = "wgs84"
    facilities_datum: str | None = None
    villages_datum: str | None = None
    kind_map: str = "zh"
    facility_columns: tuple[tuple[str, str], ...] = ()
    village_columns: tuple[tuple[str, str], ...] = ()
    profile: str = "car"
    direction: str = "to_facility"
    ems: bool = False
    kinds: tuple[str, ...] | None = None
    minutes: tuple[float, ...] = DEFAULT_MINUTES
    circle_minutes: float = DEFAULT_MINUTES[-1]
    buffer_m: float = DEFAULT_BUFFER_M
    cache_dir: Path | None = None
    standards: tuple[str, ...] = ()
    zone_classes: Path | None = None
    zone_class_column: str = "zone_class"
    allow_unevaluated: bool = False
    folder: Path = Path("reports")
    history: Path = Path("reports") / DEFAULT_HISTORY_NAME
    language: str = "en"
    basemap: str = "osm"
    basemap_attribution: str | None = None
    ems_simulation: dict[str, Any] | None = None
    sha256: str = ""

    def region_inputs(self) -> dict[str, Any]:
        """The region's inputs as keyword arguments of :func:`coverage.analysis.run.analyze` and
        :func:`coverage.standards.assessment.assess` (``osm``, ``facilities``, ..., ``cache_dir``)."""
        boundary: Path | None = self.boundary
        zones, zones_name_column, zones_level = self.zones, self.zones_name_column, None
        if self.region:
            preset = region_preset_path(self.region)
            boundary = boundary or preset
            if zones is None:
                zones, zones_name_column, zones_level = preset, "name", "county"
        return {
            "osm": self.osm,
            "facilities": self._facility_input(),
            "villages": self.villages,
            "population": self.population,
            "population_totals": self.population_totals,
            "population_totals_column": self.population_totals_column,
            "zones": zones,
            "zones_name_column": zones_name_column,
            "zones_where": self.zones_where,
            "zones_level": zones_level,
            "boundary": boundary,
            "boundary_where": self.boundary_where,
            "border_km": self.border_km,
            "datum": self.datum,
            "facilities_datum": self.facilities_datum,
            "villages_datum": self.villages_datum,
            "facility_columns": self.point_columns("facility_columns"),
            "village_columns": self.point_columns("village_columns"),
            "kind_map": self.kind_map,
            "road_class_column": self.road_class_column,
            "default_road_class": self.default_road_class,
            "cache_dir": self.cache_dir,
        }

    def point_columns(self, key: str) -> Any:
        """The ``[inputs.facility_columns]`` or ``[inputs.village_columns]`` table as PointColumns."""
        from coverage.io.points import PointColumns

        given = dict(getattr(self, key))
        options = {f"{field}_column": f"{key}.{field} in {self.path.name}" for field in ("lon", "lat", "id", "name")}
        options.update({"crs": f"{key}.crs", "kind_column": f"{key}.kind", "population_column": f"{key}.population"})
        return PointColumns(**given, options=options)

    def _facility_input(self) -> Any:
        if not self.facilities:
            return None
        if len(self.facilities) == 1:
            return self.facilities[0]
        return read_facility_files(
            self.facilities, datum=self.facilities_datum or self.datum, columns=self.point_columns("facility_columns")
        )

    def input_files(self) -> dict[str, Path]:
        """Every file a run reads, by role (``network``, ``facilities``, ``standard:lianzhou``...).

        Their hashes, with the settings' hash and the software version, identify a run.
        """
        region_inputs = self.region_inputs()
        files: dict[str, Path] = {}
        osm = self.osm
        population, zones = self.population, region_inputs["zones"]
        totals = self.population_totals
        if osm is None:
            default = default_region()
            osm = default.osm
            # analyze() calibrates the default raster to the census totals unless told otherwise
            if population is None and zones is None and totals is None and self.population_totals_column is None:
                totals = default.population_totals
            population = population or default.population
            zones = zones or default.zones
        files["network"] = osm
        files["profile"] = Path(load_profile(self.profile).path)
        for index, path in enumerate(self.facilities, start=1):
            files["facilities" if len(self.facilities) == 1 else f"facilities:{index}"] = path
        for role, value in (
            ("villages", self.villages),
            ("population", population),
            ("population_totals", totals),
            ("zones", zones),
            ("boundary", region_inputs["boundary"]),
            ("zone_classes", self.zone_classes),
        ):
            if value is not None:
                files[role] = Path(value)
        for name in self.standards:
            standard = load_standard(name)
            files[f"standard:{standard.name}"] = Path(standard.path)
        for key in ("call_records", "hospitals"):
            if self.ems_simulation and self.ems_simulation.get(key) is not None:
                files[f"ems:{key}"] = Path(self.ems_simulation[key])
        return files


def read_facility_files(paths: tuple[Path, ...], *, datum: str, columns: Any = None) -> Any:
    """Several facility files as one GeoDataFrame; ids are prefixed by the file's stem to keep them apart."""
    import geopandas as gpd
    import pandas as pd

    from coverage.io.points import PointColumns, read_points

    columns = columns or PointColumns()
    frames = []
    for path in paths:
        frame = read_points(
            path,
            datum=datum,
            what="facilities",
            lon_column=columns.lon,
            lat_column=columns.lat,
            id_column=columns.id,
            crs=columns.crs,
            options=columns.options,
        )
        frame["id"] = path.stem + ":" + frame["id"].astype(str)
        frame["source_file"] = path.name
        frames.append(frame)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)


# --- loading -------------------------------------------------------------------------


class _Lines:
    """Line numbers of the keys and table headers of a TOML text, for messages."""

    _HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")
    _KEY = re.compile(r"^([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, str], int] = {}
        table = ""
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            header = self._HEADER.match(stripped)
            if header:
                table = header[1].strip('"')
                self.lines.setdefault((table, ""), number)
                continue
            key = self._KEY.match(stripped)
            if key:
                self.lines.setdefault((table, key[1].strip('"')), number)

    def of(self, table: str, key: str) -> int | None:
        return self.lines.get((table, key)) or self.lines.get((table, ""))


@dataclass(frozen=True)
class _Where:
    """Names the file, line and key of a value in messages."""

    path: Path
    lines: _Lines

    def at(self, table: str, key: str) -> str:
        line = self.lines.of(table, key)
        return f"{self.path}:{line}:" if line else f"{self.path}:"

    def fail(self, table: str, key: str, problem: str) -> NoReturn:
        name = f"{table}.{key}" if table else key
        msg = f"{self.at(table, key)} key '{name}' {problem}"
        raise ConfigError(msg)


def load_run_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read and validate a run configuration.

    Parameters
    ----------
    path : str or path-like
        The TOML file. Relative paths inside it are relative to its folder.

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        When the file is missing or not valid TOML, a table or key is unknown
        (with the closest allowed name), a value has the wrong type or is out of
        range, or a file it names does not exist. The message names the file,
        the line, the key, the value seen and what is allowed.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "county.toml").write_text('[analysis]\\nminutes = [15, 30]\\n', encoding="utf-8")
    >>> load_run_config(folder / "county.toml").circle_minutes
    30.0
    """
    path = Path(path).expanduser()
    if not path.is_file():
        hint = " (it is a folder)" if path.is_dir() else ""
        msg = f"run configuration not found: {path}{hint}. Write a starter with 'facility-coverage init {path}'."
        raise ConfigError(msg)
    data, text, _ = read_toml(
        path.resolve(),
        what="run configuration",
        hint='Fix that line (text needs quotes "...", lists [a, b], one key per line, tables [name]).',
    )
    return _config_from_dict(data, path=path.resolve(), text=text)


def _check_keys(data: Mapping[str, Any], where: _Where) -> None:
    all_keys = {key: table for table, keys in KEYS.items() for key in keys}
    for key, value in data.items():
        if key in TABLES:
            if not isinstance(value, dict):
                where.fail("", key, f"must be a table ([{key}] followed by key = value lines), got {type_name(value)}.")
            for inner in value:
                if inner in KEYS[key]:
                    continue
                owner = all_keys.get(inner)
                if owner is not None:
                    place = f"[{owner}]" if owner else "the top of the file"
                    where.fail(key, inner, f"belongs in {place}, not in [{key}]; move that line there.")
                hint = did_you_mean(inner, KEYS[key])
                where.fail(key, inner, f"is unknown{hint}. Keys of [{key}]: {', '.join(KEYS[key])}.")
            continue
        if key in KEYS[""]:
            continue
        owner = all_keys.get(key)
        if owner:
            where.fail("", key, f"belongs in the [{owner}] table; put it below a [{owner}] line.")
        hint = did_you_mean(key, [*KEYS[""], *TABLES])
        what = "table" if isinstance(value, dict) else "key"
        msg = (
            f"{where.at(key, '') if isinstance(value, dict) else where.at('', key)} unknown {what} {key!r}{hint}. "
            f"Allowed: {', '.join(KEYS[''])} at the top, and the tables {', '.join(f'[{t}]' for t in TABLES)}."
        )
        raise ConfigError(msg)


def _config_from_dict(data: dict[str, Any], *, path: Path, text: str) -> RunConfig:
    where = _Where(path, _Lines(text))
    _check_keys(data, where)
    folder = path.parent
    values = _Values(data, where, folder)

    fields: dict[str, Any] = {"path": path}
    fields["name"] = values.text("", "name")

    fields["osm"] = values.file("inputs", "osm")
    region = values.text("inputs", "region")
    if region is not None:
        if region not in REGION_PRESETS:
            where.fail(
                "inputs",
                "region",
                f"is {region!r}{did_you_mean(region, REGION_PRESETS)}; the presets are {', '.join(REGION_PRESETS)} "
                "(or give your own polygon file as boundary).",
            )
        if fields["osm"] is None:
            where.fail(
                "inputs",
                "region",
                f"= {region!r} clips a road network to that county: give your OSM extract of the area as inputs.osm.",
            )
    fields["region"] = region
    fields["boundary"] = values.file("inputs", "boundary")
    fields["boundary_where"] = values.text("inputs", "boundary_where")
    fields["border_km"] = values.number("inputs", "border_km", high=MAX_BORDER_KM, zero=True)
    fields["road_class_column"] = values.text("inputs", "road_class_column")
    fields["default_road_class"] = values.text("inputs", "default_road_class") or "unclassified"
    fields["facilities"] = values.files("inputs", "facilities")
    fields["villages"] = values.file("inputs", "villages")
    fields["population"] = values.file("inputs", "population")
    fields["population_totals"] = values.file("inputs", "population_totals")
    fields["population_totals_column"] = values.text("inputs", "population_totals_column")
    fields["zones"] = values.file("inputs", "zones")
    if fields["population_totals"] is not None and fields["population_totals_column"] is not None:
        where.fail("inputs", "population_totals_column", "and population_totals are both given; keep one of them.")
    if fields["population_totals_column"] is not None and fields["zones"] is None and region is None:
        where.fail("inputs", "population_totals_column", "names a column of zones, but no zones file is given.")
    fields["zones_name_column"] = values.text("inputs", "zones_name_column")
    fields["zones_where"] = values.text("inputs", "zones_where")
    fields["datum"] = values.choice("inputs", "datum", DATUMS) or "wgs84"
    fields["facilities_datum"] = values.choice("inputs", "facilities_datum", DATUMS)
    fields["villages_datum"] = values.choice("inputs", "villages_datum", DATUMS)
    fields["kind_map"] = _kind_map(values, where, folder)
    fields["facility_columns"] = values.columns("inputs", "facility_columns", FACILITY_COLUMN_FIELDS)
    fields["village_columns"] = values.columns("inputs", "village_columns", VILLAGE_COLUMN_FIELDS)

    fields["profile"] = _profile(values, where, folder)
    fields["direction"] = values.choice("analysis", "direction", DIRECTIONS) or "to_facility"
    fields["ems"] = values.boolean("analysis", "ems", default=False)
    kinds = values.texts("analysis", "kinds")
    fields["kinds"] = tuple(kind.lower() for kind in kinds) if kinds else None
    minutes = values.numbers("analysis", "minutes", high=MAX_MINUTES) or DEFAULT_MINUTES
    circle = values.number("analysis", "circle_minutes", high=MAX_MINUTES)
    circle = max(minutes) if circle is None else circle
    # the circle is always one of the thresholds, so every output has its column
    fields["minutes"] = tuple(sorted({*minutes, circle}))
    fields["circle_minutes"] = circle
    fields["buffer_m"] = values.number("analysis", "buffer_m", high=MAX_BUFFER_M) or DEFAULT_BUFFER_M
    fields["cache_dir"] = values.folder("analysis", "cache_dir")

    fields["standards"] = _standards(values, where, folder)
    fields["zone_classes"] = values.file("check", "zone_classes")
    fields["zone_class_column"] = values.text("check", "zone_class_column") or "zone_class"
    fields["allow_unevaluated"] = values.boolean("check", "allow_unevaluated", default=False)

    report_folder = values.folder("report", "folder") or (folder / "reports")
    fields["folder"] = report_folder
    fields["history"] = values.folder("report", "history") or (report_folder / DEFAULT_HISTORY_NAME)
    fields["language"] = values.choice("report", "language", LANGUAGES) or "en"
    fields["basemap"] = values.text("report", "basemap") or "osm"
    fields["basemap_attribution"] = values.text("report", "basemap_attribution")

    fields["ems_simulation"] = _ems_simulation(values)

    fields["sha256"] = _settings_hash(fields, folder)
    config = RunConfig(**fields)
    logger.info("loaded run configuration %s (settings %s)", path, config.sha256[:12])
    return config


def with_overrides(config: RunConfig, **changes: Any) -> RunConfig:
    """The configuration with some settings changed (from the command line), its settings hash recomputed."""
    changed = dataclasses.replace(config, **changes)
    fields = {f.name: getattr(changed, f.name) for f in dataclasses.fields(changed)}
    return dataclasses.replace(changed, sha256=_settings_hash(fields, config.path.parent))


def _ems_simulation(values: _Values) -> dict[str, Any] | None:
    """The ``[ems]`` table as keyword arguments of the EMS simulation, or None unless ``simulate = true``."""
    if not values.boolean("ems", "simulate", default=False):
        other = [key for key in values.data.get("ems", {}) if key != "simulate"]
        if other:
            logger.warning("[ems] has %s but not simulate = true: no ambulance section", ", ".join(other))
        return None

    def at_least_zero(key: str, *, high: float = MAX_MINUTES, whole: bool = False) -> float | None:
        value = values.get("ems", key)
        if value is None:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value < 0 or value > high or (whole and int(value) != value):
            values.fail("ems", key, f"is {value!r}; allowed: {KEYS['ems'][key]}.")
        return int(value) if whole else float(value)

    settings: dict[str, Any] = {
        "threshold_minutes": values.number("ems", "response_minutes", high=MAX_MINUTES),
        "default_ambulances": at_least_zero("ambulances_per_station", high=1000, whole=True),
        "calls_per_1000": values.number("ems", "calls_per_1000", high=1000.0),
        "call_records": values.file("ems", "call_records"),
        "call_records_years": values.number("ems", "call_records_years", high=100.0),
        "hospitals": values.file("ems", "hospitals"),
        "on_scene_minutes": at_least_zero("on_scene_minutes"),
        "handover_minutes": at_least_zero("handover_minutes"),
        "transport_share": at_least_zero("transport_share", high=1.0),
        "dispatch_minutes": at_least_zero("dispatch_minutes"),
        "replications": at_least_zero("replications", high=1000, whole=True),
        "seed": at_least_zero("seed", high=2**32 - 1, whole=True),
    }
    if settings["replications"] == 0:
        values.fail("ems", "replications", f"is 0; allowed: {KEYS['ems']['replications']}.")
    return {key: value for key, value in settings.items() if value is not None}


def _settings_hash(fields: Mapping[str, Any], folder: Path) -> str:
    """Hash of the settings that decide a run's results, with paths relative to the config's folder."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            try:
                return Path(os.path.relpath(value, folder)).as_posix()
            except ValueError:  # another drive on Windows
                return value.as_posix()
        if isinstance(value, tuple | list):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {key: plain(item) for key, item in sorted(value.items())}
        return value

    settings = {
        key: plain(value)
        for key, value in sorted(fields.items())
        if key not in {"path", "folder", "history", "cache_dir", "sha256"}
    }
    settings["standards"] = [plain(Path(s)) if os.path.isabs(s) else s for s in fields["standards"]]
    if os.path.isabs(fields["profile"]):
        settings["profile"] = plain(Path(fields["profile"]))
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _looks_like_path(text: str) -> bool:
    return text.lower().endswith(".toml") or "/" in text or os.sep in text


def _profile(values: _Values, where: _Where, folder: Path) -> str:
    text = values.text("analysis", "profile")
    if text is None:
        return "car"
    shipped = list_profiles()
    if not _looks_like_path(text):
        if text not in shipped:
            where.fail(
                "analysis",
                "profile",
                f"is {text!r}{did_you_mean(text, shipped)}; shipped profiles: {', '.join(shipped)}, "
                "or give the path of a profile .toml (relative to this file's folder).",
            )
        return text
    path = (folder / Path(text).expanduser()).resolve()
    if not path.is_file():
        where.fail(
            "analysis", "profile", f"names {text!r}, but there is no file {path} (paths are relative to this file)."
        )
    try:
        load_profile(path)
    except ConfigError as error:
        where.fail("analysis", "profile", f"names a profile file that cannot be used: {error}")
    return str(path)


def _kind_map(values: _Values, where: _Where, folder: Path) -> str:
    from coverage.io.kinds import NO_KIND_MAP, list_kind_maps, load_kind_map

    text = values.text("inputs", "kind_map")
    if text is None:
        return "zh"
    if text == NO_KIND_MAP:
        return text
    shipped = list_kind_maps()
    if not _looks_like_path(text):
        if text not in shipped:
            where.fail(
                "inputs",
                "kind_map",
                f"is {text!r}{did_you_mean(text, shipped)}; shipped kind maps: {', '.join(shipped)}, none, or the "
                "path of a kind-map .toml (relative to this file's folder).",
            )
        return text
    path = (folder / Path(text).expanduser()).resolve()
    try:
        load_kind_map(path)
    except ConfigError as error:
        where.fail("inputs", "kind_map", f"names a kind map that cannot be used: {error}")
    return str(path)


def _standards(values: _Values, where: _Where, folder: Path) -> tuple[str, ...]:
    names = values.texts("check", "standards") or ()
    presets = list_standards()
    resolved: list[str] = []
    for text in names:
        if not _looks_like_path(text):
            if text not in presets:
                where.fail(
                    "check",
                    "standards",
                    f"has {text!r}{did_you_mean(text, presets)}; the presets are {', '.join(presets)}, "
                    "or give the path of a standard .toml (relative to this file's folder).",
                )
            name = text
        else:
            path = (folder / Path(text).expanduser()).resolve()
            if not path.is_file():
                where.fail(
                    "check",
                    "standards",
                    f"names {text!r}, but there is no file {path} (paths are relative to this file).",
                )
            name = str(path)
        try:
            load_standard(name)
        except ConfigError as error:
            where.fail("check", "standards", f"names a standard that cannot be used: {error}")
        resolved.append(name)
    return tuple(resolved)


class _Values:
    """Typed access to the values of a parsed configuration, failing with file, line and key."""

    def __init__(self, data: Mapping[str, Any], where: _Where, folder: Path) -> None:
        self.data = data
        self.where = where
        self.base = folder

    def get(self, table: str, key: str) -> Any:
        source = self.data.get(table, {}) if table else self.data
        return source.get(key)

    def fail(self, table: str, key: str, problem: str) -> NoReturn:
        self.where.fail(table, key, problem)

    def text(self, table: str, key: str) -> str | None:
        value = self.get(table, key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(table, key, f"must be a non-empty string in quotes, got {type_name(value)} {value!r}.")
        return value.strip()

    def texts(self, table: str, key: str) -> tuple[str, ...] | None:
        value = self.get(table, key)
        if value is None:
            return None
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) and item.strip() for item in items):
            self.fail(
                table, key, f'must be a list of strings in quotes, e.g. ["a", "b"], got {type_name(value)} {value!r}.'
            )
        return tuple(item.strip() for item in items)

    def choice(self, table: str, key: str, choices: tuple[str, ...]) -> str | None:
        text = self.text(table, key)
        if text is not None and text not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            self.fail(table, key, f"is {text!r}{did_you_mean(text, choices)}; allowed: {allowed}.")
        return text

    def boolean(self, table: str, key: str, *, default: bool) -> bool:
        value = self.get(table, key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(table, key, f"must be true or false (no quotes), got {type_name(value)} {value!r}.")
        return value

    def number(self, table: str, key: str, *, high: float, zero: bool = False) -> float | None:
        value = self.get(table, key)
        if value is None:
            return None
        if zero and not isinstance(value, bool) and value == 0:
            return 0.0
        return self._positive(value, table, key, high=high)

    def columns(self, table: str, key: str, fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """A table of column names, e.g. ``[inputs.facility_columns]`` with ``lon = "XGCJ"``."""
        value = self.get(table, key)
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.fail(table, key, f'must be a table [{table}.{key}] of field = "column" lines, got {type_name(value)}.')
        where = f"{table}.{key}"
        for field, column in value.items():
            if field not in fields:
                self.fail(where, field, f"is unknown{did_you_mean(field, fields)}; fields: {', '.join(fields)}.")
            if not isinstance(column, str) or not column.strip():
                self.fail(where, field, f"must name a column in quotes, got {type_name(column)} {column!r}.")
        return tuple((field, str(column).strip()) for field, column in value.items())

    def numbers(self, table: str, key: str, *, high: float) -> tuple[float, ...] | None:
        value = self.get(table, key)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            self.fail(table, key, f"must be a list of numbers, e.g. [10, 15, 30], got {type_name(value)} {value!r}.")
        return tuple(self._positive(item, table, key, high=high, whole=value) for item in value)

    def _positive(self, value: object, table: str, key: str, *, high: float, whole: object = None) -> float:
        shown = value if whole is None else whole
        allowed = KEYS[table][key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(
                table, key, f"must hold numbers (no quotes), got {type_name(value)} {shown!r}. Allowed: {allowed}."
            )
        number = float(value)
        if not math.isfinite(number) or number <= 0 or number > high:
            self.fail(table, key, f"is {shown!r}; allowed: {allowed}.")
        return number

    def _path(self, table: str, key: str, text: str) -> Path:
        return (self.base / Path(text).expanduser()).resolve()

    def file(self, table: str, key: str) -> Path | None:
        text = self.text(table, key)
        if text is None:
            return None
        path = self._path(table, key, text)
        if not path.exists():
            self.fail(
                table, key, f"names {text!r}, but there is no file {path} (paths are relative to this file's folder)."
            )
        if path.is_dir():
            self.fail(table, key, f"names {text!r}, which is a folder; give a file ({KEYS[table][key]}).")
        return path

    def files(self, table: str, key: str) -> tuple[Path, ...]:
        value = self.get(table, key)
        if value is None:
            return ()
        items = self.texts(table, key) or ()
        paths = []
        for text in items:
            path = self._path(table, key, text)
            if not path.is_file():
                self.fail(
                    table,
                    key,
                    f"names {text!r}, but there is no file {path} (paths are relative to this file's folder).",
                )
            paths.append(path)
        return tuple(paths)

    def folder(self, table: str, key: str) -> Path | None:
        text = self.text(table, key)
        return None if text is None else self._path(table, key, text)


# --- the starter ---------------------------------------------------------------------


def starter_config(folder: str | os.PathLike[str] = ".") -> str:
    """The text of a commented starter configuration for the shipped region (Comoros).

    Parameters
    ----------
    folder : path
        The folder the configuration will be written to: the paths to the shipped
        data are written relative to it.

    Returns
    -------
    str
        TOML text that :func:`load_run_config` accepts as written.
    """
    comoros = data_dir() / "comoros"

    def rel(path: Path) -> str:
        try:
            return Path(os.path.relpath(path, Path(folder).resolve())).as_posix()
        except ValueError:  # another drive on Windows
            return path.as_posix()

    return STARTER_TEMPLATE.format(
        osm=rel(comoros / "comores-latest.osm.pbf"),
        population=rel(comoros / "com_ppp_2020_UNadj.tif"),
        totals=rel(comoros / "population_totals_rgph2017.csv"),
        zones=rel(comoros / "admin_boundaries_osm.geojson"),
        presets=", ".join(list_standards()),
        regions=", ".join(REGION_PRESETS),
    )


STARTER_TEMPLATE = """\
# facility-coverage report configuration: one region, run unattended by
#     facility-coverage report --config THIS_FILE
# Each run writes a dated folder under [report] folder (report.html, uncovered_villages.csv,
# report.gpkg, summary.json, run.log) and records the run in the history database.
# Exit status: 0 every target met, 1 a target missed, 2 an error.
#
# Paths are relative to this file's folder. Lines starting with # are comments:
# remove the # to use a setting.

name = "Comoros"                 # the region's name in the report's title

[inputs]
# Road network: OSM extract (.osm.pbf, .osm, .osm.bz2), osmnx .graphml, or a GIS lines
# file (.gpkg, .shp, .geojson; then give road_class_column). Left out here: the embedded
# Comoros region, i.e. this OSM extract clipped to the zones below (© OpenStreetMap
# contributors, ODbL 1.0). With your own extract, also give boundary (or region).
# osm = "{osm}"
# region = "kaijiang"            # a seed region ({regions}): clips osm to its boundary
# boundary = "county.geojson"    # or your own polygon file: villages and people inside it count
# boundary_where = "name == '东西湖区'"   # the region's rows of a boundary file of several districts
# border_km = 20                 # roads and facilities this far beyond the boundary count too (a hospital
#                                # across the border serves villages inside); default: the profile's top
#                                # speed for the longest threshold
# road_class_column = "技术等级"   # road-class column of a GIS lines file
# default_road_class = "unclassified"   # class of lines whose class is blank or unknown

# Facilities: leave out for the health facilities tagged in the OSM file; or a file
# (CSV with lon/lat columns, UTF-8 or GBK; GeoJSON; GeoPackage; Shapefile) with a kind
# column, or a list of files: ["hospitals.csv", "ems_stations.csv"].
# facilities = "facilities.csv"
# kind_map = "amap"              # categories to kinds: zh (Chinese names, default), amap (Amap exports:
#                                # NAME, TYPE, TYPECODE), none, or your own rules (.toml)
# facilities_datum = "gcj02"     # when the facility file's datum differs from datum
# the facility file's columns, when not found by their usual names (crs too, for projected x/y):
# facility_columns = {{ lon = "XGCJ", lat = "YGCJ", id = "ID", name = "NAME", kind = "TYPE" }}
# Villages: leave out for OSM place=city/town/village/hamlet; or a file with an optional
# population column. Give every village a stable id column so runs can be compared.
# villages = "villages.csv"
# villages_datum = "wgs84"       # when the village file's datum differs from datum
# village_columns = {{ id = "村代码", name = "村名", population = "常住人口" }}
# datum = "gcj02"                # coordinates copied from Amap/Tencent; "bd09" for Baidu

population = "{population}"   # WorldPop 2020, CC BY 4.0
# Official population per admin unit of zones: each unit's raster cells are scaled to add up to
# its total (the raster's pattern inside the unit is kept). A CSV with a unit name or code column
# and a population column, or population_totals_column = "a column of the zones file".
population_totals = "{totals}"   # 2017 census island totals
zones = "{zones}"           # admin units to summarise by
zones_name_column = "name_en"
zones_where = "admin_level == '4'"   # the three islands

[analysis]
profile = "car"                  # car, ambulance, walk, or your own profile .toml
direction = "to_facility"        # to_facility: place to care; from_facility: station to place
# ems = true                     # EMS: ambulance stations (hospitals if none), from the station
# kinds = ["hospital", "clinic"] # facility kinds that count (default: all)
minutes = [10, 15, 30]           # thresholds; "within T" means travel time <= T minutes
circle_minutes = 30              # the circle the report is about: villages beyond it are uncovered
# buffer_m = 100                 # half-width of the isochrone corridor around reached roads, metres
# cache_dir = "cache"            # prepared networks (default: ~/.cache/facility-coverage)

[check]
# The plan's targets: presets ({presets}) or your own
# standard files (copy one with 'facility-coverage standards show yiyang > my_plan.toml').
standards = ["yiyang"]
# zone_classes = "zone_classes.gpkg"   # your central / urban / rural polygons
# zone_class_column = "zone_class"
# allow_unevaluated = true       # targets that could not be evaluated do not make the run exit 1

[report]
folder = "reports"               # each run writes reports/<date>_<time>/
# history = "reports/history.sqlite"   # run history (SQLite); default: in folder
language = "en"                  # report page language: en or zh
# basemap = "none"               # "osm" (default), "none", or a tile URL such as
#                                # "https://tiles.example.org/{{z}}/{{x}}/{{y}}.png" with its credit:
# basemap_attribution = "© example"

[ems]
# Ambulance availability: a simulated year of calls on the stations' ambulances (the
# facility file's 'ambulances' column), like 'facility-coverage ems simulate'.
simulate = false                 # true adds the section to the report (and judges availability targets)
# response_minutes = 12          # a call is in time when an ambulance is there within this
# ambulances_per_station = 1     # assumed when the station file has no 'ambulances' column
# calls_per_1000 = 21.7          # calls per 1,000 residents a year (Beijing 2017)
# call_records = "calls.csv"     # or past calls: time, lon/lat, optional priority
# call_records_years = 1         # the period the call records cover
# hospitals = "hospitals.csv"    # where patients are taken (default: the region's hospitals)
# on_scene_minutes = 15
# handover_minutes = 15
# transport_share = 1            # share of patients taken to hospital
# dispatch_minutes = 0           # call taking and turnout added to every response
# replications = 10              # simulated years
# seed = 0
"""
