"""Planning standards: the targets of a health plan, as data.

A standard is a TOML file under ``data/standards/`` (one preset per seed plan)
or anywhere a planner keeps their own: the plan's title, the zone rules, the
average household size and a list of ``[[target]]`` blocks. Each target carries
the plan's own Chinese words (``label_zh`` and the verbatim ``quote``) and the
figures a check needs. :func:`load_standard` reads and validates one;
:func:`list_standards` lists the presets. Evaluating the targets on an
analysis is the job of :mod:`coverage.standards.checks` and :mod:`coverage.standards.assessment`.

Kinds of target (:data:`TARGET_KINDS`):

``travel_time``
    Everyone (or ``required_share`` of the ``basis``) within ``minutes`` of a
    facility, by ``profile``, in ``direction``, plus a fixed ``delay_minutes``.
``service_radius``
    Distance to the nearest facility at most ``radius_km`` (a value or a range).
``count_per_unit``
    At least ``min_count`` facilities in each ``unit`` (village, township...).
``ratio_to_population``
    At least one ``resource`` per ``per_population`` people (or per a range of
    people), the population taken ``population_multiplier`` times.
``minimum_count``
    At least ``min_count`` facilities in the region.
``availability``
    At least ``required_share`` of EMS calls get an ambulance without waiting
    (``metric = "dispatched_without_wait"``, the plans' 急救呼叫满足率) or are reached
    within ``minutes`` (``metric = "within_minutes"``), by the simulation of
    :mod:`coverage.ems` (see :mod:`coverage.standards.availability`).
``fleet_share``
    At least ``required_share`` of the ambulances are of a sort: the station file's
    ``column`` (``negative_pressure``, ``smart``) over its ``ambulances``.

Zone classes (:data:`ZONE_CLASSES`): ``central`` is the central city (中心城区),
``urban`` the other urban areas (非中心城区的城镇), ``rural`` the rest (农村).
A plan's "urban areas" (城市地区) are ``["central", "urban"]``; ``["all"]``
means every zone.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from coverage._config import DATA_DIR, did_you_mean, list_configs, read_toml, resolve_config, type_name
from coverage._errors import ConfigError
from coverage.analysis.zones import URBAN_BLOCK_M, URBAN_DENSITY_PER_KM2
from coverage.network.profiles import list_profiles, load_profile

logger = logging.getLogger(__name__)

#: Folder of the standards shipped with the project (the repository's ``data/standards``).
STANDARDS_DIR = DATA_DIR / "standards"

TARGET_KINDS = (
    "travel_time",
    "service_radius",
    "count_per_unit",
    "ratio_to_population",
    "minimum_count",
    "availability",
    "fleet_share",
)
#: What an ``availability`` target measures.
AVAILABILITY_METRICS = ("dispatched_without_wait", "within_minutes")
ZONE_CLASSES = ("central", "urban", "rural")
#: The ``zones`` value meaning every zone class.
ALL_ZONES = "all"
DIRECTIONS = ("from_facility", "to_facility")
BASES = ("population", "households", "villages")
UNITS = ("village", "township", "subdistrict", "county")
#: The ``resource`` value that counts facilities instead of summing a column.
COUNT_RESOURCE = "count"

#: People per km² above which a block of the population raster counts as central city.
#: GB 50137-2011《城市用地分类与规划建设用地标准》plans 65–115 m² of urban construction
#: land per resident, i.e. at least about 8,700 residents per km² of built-up land; a
#: 1 km block at 5,000 /km² is more than half built up at that density. An editable
#: default: a planner with a central-city polygon gives it as a zones layer instead.
CENTRAL_DENSITY_PER_KM2 = 5000.0

#: Average persons per family household in China, 2020 census.
DEFAULT_HOUSEHOLD_SIZE = 2.62
DEFAULT_HOUSEHOLD_SIZE_SOURCE = (
    "第七次全国人口普查公报 (国家统计局, 2021): 全国家庭户 49,416 万户, 家庭户人口 129,281 万人, "
    "平均每个家庭户的人口为 2.62 人"
)

MAX_MINUTES = 24 * 60.0
MAX_RADIUS_KM = 1000.0
MAX_DISTANCE_M = 100_000.0
MAX_PER_POPULATION = 100_000_000.0
MAX_POPULATION_MULTIPLIER = 100.0
MAX_HOUSEHOLD_SIZE = 20.0
MAX_COUNT = 1_000_000
MAX_DENSITY_PER_KM2 = 1_000_000.0

_ID = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Target:
    """One target of a plan, validated.

    Attributes
    ----------
    id : str
        Unique within the standard, lower case letters, digits and ``_``.
    kind : str
        One of :data:`TARGET_KINDS`.
    label_zh, label_en : str
        Short labels for tables, in the plan's Chinese words and in English.
    quote : str
        The plan's sentence, verbatim.
    zones : tuple of str
        Zone classes the target applies to (a subset of :data:`ZONE_CLASSES`, in
        that order), or ``("all",)``.
    facility_kinds : tuple of str
        Facility kinds that count (the facility file's ``kind`` column, lower case);
        empty means every facility.
    minutes : float or None
        ``travel_time``: the threshold; a place is within when its time is at most this.
    profile : str or None
        ``travel_time``: a shipped profile name (``"ambulance"``, ``"car"``, ``"walk"``)
        or the resolved path of a profile file.
    direction : str or None
        ``travel_time``: ``"from_facility"`` (EMS: station to place) or ``"to_facility"``
        (place to facility).
    delay_minutes : float
        ``travel_time``: fixed dispatch/turnout time added to every travel time.
    required_share : float
        ``travel_time``: share in (0, 1] of the basis that must be within.
    basis : str
        ``travel_time``: what the share counts: ``"population"``, ``"households"``
        or ``"villages"``.
    radius_km : tuple of (float, float) or None
        ``service_radius``: (low, high); a single radius R is (R, R).
    unit : str or None
        ``count_per_unit``: one of :data:`UNITS`.
    min_count : int or None
        ``count_per_unit`` (per unit) and ``minimum_count`` (in the region).
    unit_distance_m : float or None
        ``count_per_unit``: when the units are points, facilities within this
        distance of the point count; None when unit polygons are needed.
    resource : str or None
        ``ratio_to_population``: facility column to sum, or ``"count"``.
    per_population : float or None
        ``ratio_to_population``: at least one resource per this many people.
    per_population_range : tuple of (float, float) or None
        ``ratio_to_population``: one resource per (low, high) people, e.g. 1 per 30k–100k.
    population_multiplier : float
        ``ratio_to_population``: the population base is the population times this.
    metric : str or None
        ``availability``: one of :data:`AVAILABILITY_METRICS`.
    column : str or None
        ``fleet_share``: the station file's column counting ambulances of the sort.
    note : str
        How the plan's words were read; shown in reports.
    """

    id: str
    kind: str
    label_zh: str
    label_en: str
    quote: str
    zones: tuple[str, ...] = (ALL_ZONES,)
    facility_kinds: tuple[str, ...] = ()
    minutes: float | None = None
    profile: str | None = None
    direction: str | None = None
    delay_minutes: float = 0.0
    required_share: float = 1.0
    basis: str = "population"
    radius_km: tuple[float, float] | None = None
    unit: str | None = None
    min_count: int | None = None
    unit_distance_m: float | None = None
    resource: str | None = None
    per_population: float | None = None
    per_population_range: tuple[float, float] | None = None
    population_multiplier: float = 1.0
    metric: str | None = None
    column: str | None = None
    note: str = ""


@dataclass(frozen=True)
class ZoneRules:
    """How central city, other urban and rural zones are derived from a population raster.

    Attributes
    ----------
    central_density_per_km2 : float
        Blocks at least this dense are central city.
    urban_density_per_km2 : float
        Blocks at least this dense (and below the central threshold) are other urban.
    block_m : float
        Side of the blocks the raster is summed over, in metres.
    source : str
        Where the thresholds come from.
    """

    central_density_per_km2: float
    urban_density_per_km2: float
    block_m: float
    source: str


#: Zone rules of a standard file without a ``[zone_rules]`` table.
DEFAULT_ZONE_RULES = ZoneRules(
    central_density_per_km2=CENTRAL_DENSITY_PER_KM2,
    urban_density_per_km2=URBAN_DENSITY_PER_KM2,
    block_m=URBAN_BLOCK_M,
    source=(
        f"project defaults: central city >= {CENTRAL_DENSITY_PER_KM2:,.0f} people/km² "
        "(half the built-up density implied by GB 50137-2011's 65–115 m² of urban construction land per "
        f"resident); urban >= {URBAN_DENSITY_PER_KM2:,.0f} people/km² (EU/OECD degree of urbanisation); "
        f"over {URBAN_BLOCK_M:,.0f} m blocks"
    ),
)


@dataclass(frozen=True)
class Standard:
    """A validated planning standard.

    Attributes
    ----------
    name : str
        The file's stem ("kaijiang").
    title_zh, title_en : str
        The plan's title.
    plan : str
        The plan it comes from: a seed file id ("004") or a planner's reference.
    region : str or None
        Region preset the standard belongs to, or None.
    household_size : float
        Average persons per household, to turn population into households when
        the demand file has no household column.
    household_size_source : str
        Where that figure comes from.
    zone_rules : ZoneRules
    targets : tuple of Target
        In the file's order.
    path : str
        The file the standard was read from.
    sha256 : str
        Hex digest of the file's bytes.
    """

    name: str
    title_zh: str
    title_en: str
    plan: str
    region: str | None
    household_size: float
    household_size_source: str
    zone_rules: ZoneRules
    targets: tuple[Target, ...]
    path: str
    sha256: str

    def __repr__(self) -> str:
        return (
            f"Standard({self.name!r}, plan {self.plan}, {len(self.targets)} targets, "
            f"from {Path(self.path).name}, sha256={self.sha256[:12]})"
        )


def list_standards() -> list[str]:
    """Return the names of the standards shipped in ``data/standards``.

    Examples
    --------
    >>> "kaijiang" in list_standards()
    True
    """
    return list_configs(STANDARDS_DIR)


def load_standard(name_or_path: str | os.PathLike[str]) -> Standard:
    """Read and validate a planning standard.

    Parameters
    ----------
    name_or_path : str or path-like
        A shipped standard's name (``"kaijiang"``) or the path of a TOML file
        (anything ending in ``.toml`` or holding a ``/``).

    Returns
    -------
    Standard

    Raises
    ------
    ConfigError
        When the name is unknown, the file is missing or not valid TOML, or a key
        is unknown, missing, of the wrong type or out of range. The message names
        the file, the key (``target[3].minutes``: the third ``[[target]]`` block)
        and the allowed values.

    Examples
    --------
    >>> standard = load_standard("kaijiang")
    >>> [t.population_multiplier for t in standard.targets if t.resource == "ambulances"]
    [3.0]
    """
    path = resolve_config(name_or_path, STANDARDS_DIR, what="standard")
    data, text, sha256 = read_toml(
        path, what="standard", hint='Fix that line (text needs quotes "...", lists [a, b], one key per line).'
    )
    standard = _standard_from_dict(data, path=path, text=text, sha256=sha256)
    logger.info("loaded %r", standard)
    return standard


# --- loading -------------------------------------------------------------------------

_TOP_LEVEL_KEYS: dict[str, str] = {
    "title_zh": "the plan's title in Chinese, a string",
    "title_en": "the plan's title in English, a string",
    "plan": 'the plan this standard comes from, a string (a seed file id such as "004" or a document number)',
    "region": "optional: the region preset it belongs to, a string",
    "household_size": f"optional: average persons per household, a number above 0 and at most {MAX_HOUSEHOLD_SIZE:g}",
    "household_size_source": "where household_size comes from, a string (required with household_size)",
    "zone_rules": "optional table [zone_rules]: central_density_per_km2, urban_density_per_km2, block_m, source",
    "target": "the targets, one [[target]] block each",
}
_REQUIRED_TOP_LEVEL = ("title_zh", "title_en", "plan", "target")

_ZONE_RULE_KEYS: dict[str, str] = {
    "central_density_per_km2": f"people per km², above 0 and at most {MAX_DENSITY_PER_KM2:,.0f}, at least the urban one",
    "urban_density_per_km2": f"people per km², above 0 and at most {MAX_DENSITY_PER_KM2:,.0f}",
    "block_m": f"metres, above 0 and at most {MAX_DISTANCE_M:,.0f}",
    "source": "where the thresholds come from, a string",
}

#: Keys every target may have, with what is allowed.
_COMMON_KEYS: dict[str, str] = {
    "id": "lower case letters, digits and _, unique in the file",
    "kind": ", ".join(TARGET_KINDS),
    "label_zh": "a short label in the plan's Chinese words",
    "label_en": "a short English label",
    "quote": "the plan's sentence, verbatim",
    "zones": f'a list of {", ".join(repr(z) for z in ZONE_CLASSES)}, or ["all"] (the default)',
    "facility_kinds": 'a list of facility kinds from the facility file\'s kind column, e.g. ["ems"]; [] (the default) for all',
    "note": "optional text: how the plan's words were read",
}
_REQUIRED_COMMON = ("id", "kind", "label_zh", "label_en", "quote")

#: Keys of each kind: key -> (required, what is allowed).
_KIND_KEYS: dict[str, dict[str, tuple[bool, str]]] = {
    "travel_time": {
        "minutes": (True, f"a number of minutes above 0 and at most {MAX_MINUTES:g}"),
        "profile": (True, "a speed profile: a shipped name (see data/profiles) or the path of a profile .toml"),
        "direction": (True, '"from_facility" (EMS: station to place) or "to_facility" (place to facility)'),
        "delay_minutes": (False, "fixed dispatch/turnout minutes added to travel time, 0 or more and below minutes"),
        "required_share": (False, "the share that must be within: above 0 and at most 1 (90% is 0.9); default 1"),
        "basis": (False, '"population" (default), "households" or "villages"'),
    },
    "service_radius": {
        "radius_km": (True, f"km above 0 and at most {MAX_RADIUS_KM:g}: one number, or [low, high] with low <= high"),
    },
    "count_per_unit": {
        "unit": (True, ", ".join(repr(u) for u in UNITS)),
        "min_count": (True, f"a whole number from 1 to {MAX_COUNT:,}"),
        "unit_distance_m": (False, f"metres above 0 and at most {MAX_DISTANCE_M:,.0f}, for units given as points"),
    },
    "ratio_to_population": {
        "resource": (True, f'a facility column to sum (e.g. "ambulances", "beds") or "{COUNT_RESOURCE}"'),
        "per_population": (False, f"people per resource, above 0 and at most {MAX_PER_POPULATION:,.0f}"),
        "per_population_range": (False, "[low, high] people per resource, low <= high"),
        "population_multiplier": (
            False,
            f"the population base as a multiple of the population, above 0 and at most {MAX_POPULATION_MULTIPLIER:g}; "
            "default 1 (300% is 3.0)",
        ),
    },
    "minimum_count": {
        "min_count": (True, f"a whole number from 1 to {MAX_COUNT:,}"),
    },
    "availability": {
        "metric": (True, ", ".join(repr(m) for m in AVAILABILITY_METRICS)),
        "required_share": (True, "the share of calls: above 0 and at most 1 (96% is 0.96)"),
        "minutes": (
            False,
            f"with metric 'within_minutes': the response threshold, above 0 and at most {MAX_MINUTES:g}",
        ),
    },
    "fleet_share": {
        "column": (True, 'the station file\'s column counting ambulances of the sort, e.g. "negative_pressure"'),
        "required_share": (True, "the share of the ambulances: above 0 and at most 1 (40% is 0.4)"),
    },
}

_ALL_TARGET_KEYS = frozenset(_COMMON_KEYS) | frozenset(key for keys in _KIND_KEYS.values() for key in keys)


@dataclass(frozen=True)
class _Where:
    """Where a value sits, for messages: the file, a key prefix and a context after the key."""

    path: Path
    prefix: str = ""
    context: str = ""

    def key(self, key: str) -> str:
        return f"key '{self.prefix}{key}'{self.context}"

    def fail(self, key: str, problem: str) -> NoReturn:
        msg = f"{self.path}: {self.key(key)} {problem}"
        raise ConfigError(msg)


def _standard_from_dict(data: dict[str, Any], *, path: Path, text: str, sha256: str) -> Standard:
    top = _Where(path)
    unknown = sorted(set(data) - set(_TOP_LEVEL_KEYS))
    if unknown:
        key = unknown[0]
        hint = did_you_mean(key, _TOP_LEVEL_KEYS)
        if key == "name":
            hint = " (a standard's name is its file name)"
        elif key in _ALL_TARGET_KEYS:
            hint = f" (target keys go inside a [[target]] block){hint}"
        msg = f"{path}: unknown key {key!r}{hint}. Allowed top-level keys: {', '.join(_TOP_LEVEL_KEYS)}."
        raise ConfigError(msg)
    missing = [key for key in _REQUIRED_TOP_LEVEL if key not in data]
    if missing:
        key = missing[0]
        msg = (
            f"{path}: missing key {key!r} ({_TOP_LEVEL_KEYS[key]}); required: "
            f"{', '.join(_REQUIRED_TOP_LEVEL)}. Start from a copy of a shipped standard (data/standards)."
        )
        raise ConfigError(msg)

    title_zh = _text(data["title_zh"], top, "title_zh")
    title_en = _text(data["title_en"], top, "title_en")
    plan = _text(data["plan"], top, "plan")
    region = _text(data["region"], top, "region") if "region" in data else None

    if "household_size" in data:
        household_size = _number(
            data["household_size"], top, "household_size", high=MAX_HOUSEHOLD_SIZE, allowed=_TOP_LEVEL_KEYS
        )
        if "household_size_source" not in data:
            top.fail("household_size", 'needs household_size_source = "..." saying where the figure comes from.')
        household_size_source = _text(data["household_size_source"], top, "household_size_source")
    elif "household_size_source" in data:
        top.fail("household_size_source", "is given without household_size; give both or neither.")
    else:
        household_size, household_size_source = DEFAULT_HOUSEHOLD_SIZE, DEFAULT_HOUSEHOLD_SIZE_SOURCE

    zone_rules = _zone_rules(data["zone_rules"], path) if "zone_rules" in data else DEFAULT_ZONE_RULES
    targets = _targets(data["target"], path, text)
    return Standard(
        name=path.stem,
        title_zh=title_zh,
        title_en=title_en,
        plan=plan,
        region=region,
        household_size=household_size,
        household_size_source=household_size_source,
        zone_rules=zone_rules,
        targets=targets,
        path=str(path),
        sha256=sha256,
    )


def _zone_rules(value: object, path: Path) -> ZoneRules:
    if not isinstance(value, dict):
        msg = f"{path}: key 'zone_rules' must be a table ([zone_rules] followed by key = value lines), got {type_name(value)}."
        raise ConfigError(msg)
    where = _Where(path, prefix="zone_rules.")
    unknown = sorted(set(value) - set(_ZONE_RULE_KEYS))
    if unknown:
        key = unknown[0]
        msg = (
            f"{path}: unknown key 'zone_rules.{key}'{did_you_mean(key, _ZONE_RULE_KEYS)}. "
            f"Allowed: {', '.join(_ZONE_RULE_KEYS)}."
        )
        raise ConfigError(msg)
    missing = [key for key in _ZONE_RULE_KEYS if key not in value]
    if missing:
        msg = (
            f"{path}: [zone_rules] is missing {', '.join(repr(k) for k in missing)}; give all of "
            f"{', '.join(_ZONE_RULE_KEYS)}, or leave out the whole table for the defaults "
            f"({DEFAULT_ZONE_RULES.central_density_per_km2:g}, {DEFAULT_ZONE_RULES.urban_density_per_km2:g}, "
            f"{DEFAULT_ZONE_RULES.block_m:g})."
        )
        raise ConfigError(msg)
    central = _number(
        value["central_density_per_km2"],
        where,
        "central_density_per_km2",
        high=MAX_DENSITY_PER_KM2,
        allowed=_ZONE_RULE_KEYS,
    )
    urban = _number(
        value["urban_density_per_km2"],
        where,
        "urban_density_per_km2",
        high=MAX_DENSITY_PER_KM2,
        allowed=_ZONE_RULE_KEYS,
    )
    block_m = _number(value["block_m"], where, "block_m", high=MAX_DISTANCE_M, allowed=_ZONE_RULE_KEYS)
    if central < urban:
        where.fail(
            "central_density_per_km2",
            f"is {central:g}, below urban_density_per_km2 ({urban:g}); the central city must be at least as dense.",
        )
    return ZoneRules(
        central_density_per_km2=central,
        urban_density_per_km2=urban,
        block_m=block_m,
        source=_text(value["source"], where, "source"),
    )


def _targets(value: object, path: Path, text: str) -> tuple[Target, ...]:
    if isinstance(value, dict):
        msg = f"{path}: key 'target' is a single table; write each target as a [[target]] block (two brackets)."
        raise ConfigError(msg)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        msg = f"{path}: key 'target' must be [[target]] blocks of key = value lines, got {type_name(value)}."
        raise ConfigError(msg)
    if not value:
        msg = f"{path}: no targets; add at least one [[target]] block."
        raise ConfigError(msg)
    lines = _block_lines(text)
    targets: list[Target] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(value, start=1):
        line = lines[index - 1] if index <= len(lines) else None
        target = _target(item, path, index=index, line=line)
        if target.id in first_index:
            msg = (
                f"{path}: key 'target[{index}].id'{_context(target.id, line)} repeats the id of target[{first_index[target.id]}]; "
                "ids must be unique in a standard."
            )
            raise ConfigError(msg)
        first_index[target.id] = index
        targets.append(target)
    return tuple(targets)


def _block_lines(text: str) -> list[int]:
    """Line numbers (from 1) of the ``[[target]]`` headers, for messages."""
    return [number for number, line in enumerate(text.splitlines(), start=1) if line.strip().startswith("[[target]]")]


def _context(target_id: str | None, line: int | None) -> str:
    parts = []
    if target_id:
        parts.append(f"id {target_id!r}")
    if line is not None:
        parts.append(f"block at line {line}")
    return f" ({', '.join(parts)})" if parts else ""


def _target(item: Mapping[str, Any], path: Path, *, index: int, line: int | None) -> Target:
    prefix = f"target[{index}]."
    raw_id = item.get("id")
    where = _Where(path, prefix=prefix, context=_context(raw_id if isinstance(raw_id, str) else None, line))
    if "id" not in item:
        msg = f"{path}: target[{index}]{_context(None, line)} has no 'id' ({_COMMON_KEYS['id']})."
        raise ConfigError(msg)
    target_id = _text(item["id"], where, "id")
    if not _ID.match(target_id):
        where.fail("id", f"is {target_id!r}; use only lower case letters, digits and _ (e.g. 'ems_15min_urban').")
    if "kind" not in item:
        where.fail("kind", f"is missing; allowed: {_COMMON_KEYS['kind']}.")
    kind = _text(item["kind"], where, "kind")
    if kind not in TARGET_KINDS:
        where.fail("kind", f"is {kind!r}{did_you_mean(kind, TARGET_KINDS)}; allowed: {', '.join(TARGET_KINDS)}.")
    kind_keys = _KIND_KEYS[kind]

    for key in item:
        if key in _COMMON_KEYS or key in kind_keys:
            continue
        if key in _ALL_TARGET_KEYS:
            owners = [k for k, keys in _KIND_KEYS.items() if key in keys]
            where.fail(
                key,
                f"does not apply to kind {kind!r} (it belongs to {', '.join(owners)}). "
                f"Keys of {kind}: {', '.join(kind_keys)}; every target: {', '.join(_COMMON_KEYS)}.",
            )
        hint = did_you_mean(key, [*_COMMON_KEYS, *kind_keys])
        where.fail(
            key,
            f"is unknown{hint}. Keys of {kind}: {', '.join(kind_keys)}; every target: {', '.join(_COMMON_KEYS)}.",
        )
    for key in _REQUIRED_COMMON:
        if key not in item:
            where.fail(key, f"is missing ({_COMMON_KEYS[key]}); every target needs {', '.join(_REQUIRED_COMMON)}.")
    required = [key for key, (needed, _) in kind_keys.items() if needed]
    for key in required:
        if key not in item:
            where.fail(key, f"is missing ({kind_keys[key][1]}); a {kind} target needs {', '.join(required)}.")

    fields: dict[str, Any] = {
        "id": target_id,
        "kind": kind,
        "label_zh": _text(item["label_zh"], where, "label_zh"),
        "label_en": _text(item["label_en"], where, "label_en"),
        "quote": _text(item["quote"], where, "quote"),
        "zones": _zones(item.get("zones", [ALL_ZONES]), where),
        "facility_kinds": _facility_kinds(item.get("facility_kinds", []), where),
        "note": _text(item["note"], where, "note", allow_empty=True) if "note" in item else "",
    }
    allowed = {key: text for key, (_, text) in kind_keys.items()}
    if kind == "travel_time":
        minutes = _number(item["minutes"], where, "minutes", high=MAX_MINUTES, allowed=allowed)
        fields["minutes"] = minutes
        fields["profile"] = _profile(item["profile"], where, path)
        fields["direction"] = _choice(item["direction"], where, "direction", DIRECTIONS)
        if "delay_minutes" in item:
            delay = _number(item["delay_minutes"], where, "delay_minutes", high=MAX_MINUTES, allowed=allowed, zero=True)
            if delay >= minutes:
                where.fail("delay_minutes", f"is {delay:g}, not below minutes ({minutes:g}): nothing could be reached.")
            fields["delay_minutes"] = delay
        if "required_share" in item:
            fields["required_share"] = _number(
                item["required_share"], where, "required_share", high=1.0, allowed=allowed
            )
        if "basis" in item:
            fields["basis"] = _choice(item["basis"], where, "basis", BASES)
    elif kind == "service_radius":
        fields["radius_km"] = _pair(item["radius_km"], where, "radius_km", high=MAX_RADIUS_KM, single=True)
    elif kind == "count_per_unit":
        fields["unit"] = _choice(item["unit"], where, "unit", UNITS)
        fields["min_count"] = _count(item["min_count"], where, "min_count")
        if "unit_distance_m" in item:
            fields["unit_distance_m"] = _number(
                item["unit_distance_m"], where, "unit_distance_m", high=MAX_DISTANCE_M, allowed=allowed
            )
    elif kind == "ratio_to_population":
        fields["resource"] = _text(item["resource"], where, "resource")
        has_single, has_range = "per_population" in item, "per_population_range" in item
        if has_single == has_range:
            where.fail(
                "per_population",
                "and per_population_range: give exactly one of them "
                f"({'both given' if has_single else 'neither given'}); e.g. per_population = 30000 for one per "
                "30,000 people, or per_population_range = [30000, 100000] for one per 30,000–100,000.",
            )
        if has_single:
            fields["per_population"] = _number(
                item["per_population"], where, "per_population", high=MAX_PER_POPULATION, allowed=allowed
            )
        else:
            fields["per_population_range"] = _pair(
                item["per_population_range"], where, "per_population_range", high=MAX_PER_POPULATION, single=False
            )
        if "population_multiplier" in item:
            fields["population_multiplier"] = _number(
                item["population_multiplier"],
                where,
                "population_multiplier",
                high=MAX_POPULATION_MULTIPLIER,
                allowed=allowed,
            )
    elif kind == "minimum_count":
        fields["min_count"] = _count(item["min_count"], where, "min_count")
    else:  # availability, fleet_share
        fields["required_share"] = _number(item["required_share"], where, "required_share", high=1.0, allowed=allowed)
        if kind == "availability":
            fields["metric"] = _choice(item["metric"], where, "metric", AVAILABILITY_METRICS)
            if fields["metric"] == "within_minutes" and "minutes" not in item:
                where.fail("minutes", "is missing: metric 'within_minutes' needs the response threshold in minutes.")
            if "minutes" in item:
                fields["minutes"] = _number(item["minutes"], where, "minutes", high=MAX_MINUTES, allowed=allowed)
        else:
            fields["column"] = _text(item["column"], where, "column")
    return Target(**fields)


# --- values --------------------------------------------------------------------------


def _text(value: object, where: _Where, key: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        where.fail(
            key, f"must be {'a' if allow_empty else 'a non-empty'} string in quotes, got {type_name(value)} {value!r}."
        )
    return value.strip()


def _number(
    value: object, where: _Where, key: str, *, high: float, allowed: Mapping[str, str], zero: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        where.fail(key, f"must be a number (no quotes), got {type_name(value)} {value!r}. Allowed: {allowed[key]}.")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero):
        where.fail(key, f"is {value!r}; allowed: {allowed[key]}.")
    if number > high:
        hint = " (a share: 90% is 0.9)" if high == 1.0 else "; check the unit"
        where.fail(key, f"is {value!r}, above the maximum of {high:g}{hint}. Allowed: {allowed[key]}.")
    return number


def _count(value: object, where: _Where, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        where.fail(key, f"must be a whole number (no quotes, no decimal point), got {type_name(value)} {value!r}.")
    if not 1 <= value <= MAX_COUNT:
        where.fail(key, f"is {value!r}; allowed: a whole number from 1 to {MAX_COUNT:,}.")
    return int(value)


def _choice(value: object, where: _Where, key: str, choices: tuple[str, ...]) -> str:
    allowed = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        where.fail(key, f"must be a string in quotes, got {type_name(value)} {value!r}. Allowed: {allowed}.")
    text = value.strip()
    if text not in choices:
        where.fail(key, f"is {text!r}{did_you_mean(text, choices)}; allowed: {allowed}.")
    return text


def _pair(value: object, where: _Where, key: str, *, high: float, single: bool) -> tuple[float, float]:
    shape = "one number or a list [low, high]" if single else "a list [low, high]"
    if single and not isinstance(value, list):
        if isinstance(value, bool) or not isinstance(value, int | float):
            where.fail(key, f"must be {shape} (numbers, no quotes), got {type_name(value)} {value!r}.")
        value = [value, value]
    if not isinstance(value, list) or len(value) != 2:
        where.fail(key, f"must be {shape}, got {type_name(value)} {value!r}.")
    numbers = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            where.fail(key, f"must be {shape} of numbers (no quotes), got {value!r}.")
        number = float(item)
        if not math.isfinite(number) or number <= 0 or number > high:
            where.fail(key, f"is {value!r}; each number must be above 0 and at most {high:g}.")
        numbers.append(number)
    low, top = numbers
    if low > top:
        where.fail(
            key, f"is {value!r}: low ({low:g}) above high ({top:g}); write [low, high], e.g. [{top:g}, {low:g}]."
        )
    return (low, top)


def _zones(value: object, where: _Where) -> tuple[str, ...]:
    allowed = f'a list of {", ".join(repr(z) for z in ZONE_CLASSES)}, or ["all"]'
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(z, str) for z in items):
        where.fail("zones", f"must be {allowed}, got {type_name(value)} {value!r}.")
    names = [z.strip().lower() for z in items]
    for name in names:
        if name != ALL_ZONES and name not in ZONE_CLASSES:
            hint = did_you_mean(name, [*ZONE_CLASSES, ALL_ZONES])
            where.fail("zones", f"has unknown zone class {name!r}{hint}; allowed: {allowed}.")
    if ALL_ZONES in names:
        if len(names) > 1:
            where.fail("zones", f'is {value!r}: "all" cannot be combined with other zone classes.')
        return (ALL_ZONES,)
    if len(set(names)) != len(names):
        where.fail("zones", f"is {value!r}: a zone class is repeated.")
    return tuple(z for z in ZONE_CLASSES if z in names)


def _facility_kinds(value: object, where: _Where) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(k, str) and k.strip() for k in items):
        where.fail(
            "facility_kinds",
            f'must be a list of facility kinds in quotes, e.g. ["ems"] (or [] for all), got {type_name(value)} {value!r}.',
        )
    kinds: list[str] = []
    for kind in items:
        name = kind.strip().lower()  # the facility reader lower-cases the kind column too
        if name not in kinds:
            kinds.append(name)
    return tuple(kinds)


def _profile(value: object, where: _Where, standard_path: Path) -> str:
    """A shipped profile name, or a profile file (relative to the standard's folder), loaded once to check it."""
    shipped = list_profiles()
    if not isinstance(value, str) or not value.strip():
        where.fail(
            "profile",
            f"must be a profile name or path in quotes, got {type_name(value)} {value!r}. Shipped: {', '.join(shipped)}.",
        )
    text = value.strip()
    if not (text.lower().endswith(".toml") or "/" in text or os.sep in text):
        if text not in shipped:
            where.fail(
                "profile",
                f"is {text!r}{did_you_mean(text, shipped)}; shipped profiles: {', '.join(shipped)}, "
                "or give the path of a profile .toml (relative to this standard's folder).",
            )
        return text
    profile_path = Path(text).expanduser()
    if not profile_path.is_absolute():
        profile_path = standard_path.parent / profile_path
    if not profile_path.is_file():
        where.fail(
            "profile",
            f"names {text!r}, but there is no file {profile_path} (paths are relative to this standard's folder).",
        )
    try:
        load_profile(profile_path)
    except ConfigError as error:
        where.fail("profile", f"names a profile file that cannot be used: {error}")
    return str(profile_path.resolve())
