"""Speed profiles: how fast each mode travels on each class of road.

A profile is a TOML file under ``data/profiles/`` (or anywhere a planner keeps a
copy): speeds in km/h per OSM ``highway`` class, one table for urban and one for
rural roads, each with the source of its figures, plus the rules for one-way
streets, posted limits (``maxspeed``), closed roads (``access``) and the
off-road leg to the nearest road. :func:`load_profile` reads and validates one;
:func:`edge_speeds_kph` applies it to a road table.

How the speed of one road piece is decided (:func:`edge_speeds_kph`):

1. A class absent from the profile, or an ``access`` value the profile lists as
   closed, gives 0.0: the piece cannot be used by this mode.
2. A speed stated by the source (``speed_kph`` > 0, e.g. a county GIS speed
   column) is used as given by ``drive`` profiles; ``walk`` profiles ignore it
   (it describes vehicles).
3. Otherwise the class speed for urban or rural roads, lowered to the posted
   limit times ``maxspeed_factor`` when the profile honours ``maxspeed`` and the
   piece has a usable one. A posted limit is a ceiling, not a travel speed: the
   class speeds are already average travel speeds below the design speed, so a
   limit can only lower them. Taking the limit itself as the speed would make a
   road with a ``maxspeed`` tag faster than the same road without one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from coverage._config import DATA_DIR, did_you_mean, list_configs, read_toml, resolve_config, type_name
from coverage._errors import ConfigError, InputError
from coverage.io.roads import KNOWN_HIGHWAY_CLASSES

logger = logging.getLogger(__name__)

#: Folder of the profiles shipped with the project (the repository's ``data/profiles``).
PROFILES_DIR = DATA_DIR / "profiles"

#: Speeds above this (km/h) are rejected in a profile: they are typing errors (m/s, mph...).
MAX_PROFILE_SPEED_KPH = 200.0

#: Parsed ``maxspeed`` values outside (0, this] km/h are treated as unusable.
MAX_MAXSPEED_KPH = 300.0

KPH_PER_MPH = 1.609344
KPH_PER_KNOT = 1.852

#: Implicit ``maxspeed`` values ("CN:urban"): km/h as (on urban roads, on rural roads).
#: China: 道路交通安全法实施条例 (2004) art. 45 — roads without a posted limit: with no
#: centre line 30 urban / 40 on 公路; with one motor lane per direction 50 urban / 70 on
#: 公路. "CN:urban" and "CN:rural" take the one-lane-per-direction figures: roads without
#: a centre line are minor roads whose class speeds are already below 30/40, so the
#: lower figures would only cut the speed of larger roads that do have centre lines.
#: Art. 78: 高速公路 at most 120. China has no living-street limit; such streets have no
#: centre line, so art. 45(1) applies.
IMPLICIT_MAXSPEED_KPH: dict[str, dict[str, tuple[float, float]]] = {
    "CN": {
        "urban": (50.0, 50.0),
        "rural": (70.0, 70.0),
        "motorway": (120.0, 120.0),
        "expressway": (120.0, 120.0),
        "living_street": (30.0, 40.0),
    },
}

#: Fallback for countries not in :data:`IMPLICIT_MAXSPEED_KPH` ("FR:urban", "RU:rural"...).
#: The lowest common national defaults (OSM wiki "Default speed limits"): 50 urban,
#: 80 rural, 100 motorway, 20 living street. Low figures keep the limit a safe ceiling.
GENERIC_IMPLICIT_MAXSPEED_KPH: dict[str, tuple[float, float]] = {
    "urban": (50.0, 50.0),
    "rural": (80.0, 80.0),
    "motorway": (100.0, 100.0),
    "living_street": (20.0, 20.0),
    "bicycle_road": (30.0, 30.0),
    "school": (30.0, 30.0),
}

#: Kinds that name a road class rather than a zone ("CN:trunk"): they take the
#: country's urban or rural default, chosen by the ``urban`` argument.
_CLASS_KINDS = frozenset(
    {
        "trunk",
        "motorroad",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "road",
        "default",
    }
)

_NUMBER_UNIT = re.compile(
    r"^(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>km/h|kmh|kph|km|mph|mi/h|knots|knot|kn)?$",
)
_IMPLICIT = re.compile(r"^(?P<country>[a-z]{2})(?:-[a-z0-9]{1,3})?:(?P<kind>[a-z_:0-9 ]+)$")
_ZONE = re.compile(r"^zone[:_ ]?(?P<number>\d+(?:\.\d+)?)$")
_LIST_SEPARATORS = re.compile(r"[;|]")

_TOP_LEVEL_KEYS: dict[str, str] = {
    "name": "a string",
    "description": "a string",
    "mode": '"drive" or "walk"',
    "honour_oneway": "true or false",
    "honour_maxspeed": "true or false",
    "maxspeed_factor": "a number above 0 and at most 3",
    "access_speed_kph": f"a number above 0 and at most {MAX_PROFILE_SPEED_KPH:g}",
    "facility_access_speed_kph": f"a number above 0 and at most {MAX_PROFILE_SPEED_KPH:g} (optional)",
    "snap_tolerance_m": "a number above 0 and at most 100000",
    "closed_access": 'a list of OSM access values, e.g. ["no", "private"]',
    "urban_kph": "a table of highway class = km/h, with a source string",
    "rural_kph": "a table of highway class = km/h, with a source string",
}
_MODES = ("drive", "walk")
#: Keys a profile may leave out (older copies of the shipped profiles lack them).
_OPTIONAL_KEYS = frozenset({"facility_access_speed_kph"})


@dataclass(frozen=True)
class Profile:
    """A validated speed profile.

    Attributes
    ----------
    name : str
        Short name ("car"), used in messages, file names and caches.
    description : str
        One sentence for reports.
    mode : {"drive", "walk"}
        ``walk`` ignores the speeds stated by vehicle data sources.
    honour_oneway : bool
        Whether one-way streets are one-way for this mode (False for walking).
    honour_maxspeed : bool
        Whether a posted ``maxspeed`` can lower the class speed (False for walking).
    maxspeed_factor : float
        Multiplier on a parsed ``maxspeed`` before it caps the class speed: 1.0 for a
        car (it may not exceed the limit), above 1 for vehicles exempt from limits.
    access_speed_kph : float
        Speed of the off-road leg between a village, a cell or a patient and the road it
        snaps to (on foot for the drive profiles).
    facility_access_speed_kph : float
        Speed of the leg between a facility and its road: a yard or driveway, driven
        by a vehicle profile (an ambulance leaves its station by car, not on foot).
    snap_tolerance_m : float
        Points farther than this from any usable road are flagged ``off_network``.
    urban_kph, rural_kph : Mapping[str, float]
        Speed per OSM ``highway`` class on urban and on rural roads (same classes).
        A class absent from these cannot be used by this mode.
    closed_access : frozenset[str]
        OSM ``access`` values (lower case) that close a road to this mode.
    path : str
        The file the profile was read from.
    sha256 : str
        Hex digest of the file's bytes, for cache keys.
    urban_source, rural_source : str
        Where the figures of each table come from (the tables' ``source`` entries).
    """

    name: str
    description: str
    mode: Literal["drive", "walk"]
    honour_oneway: bool
    honour_maxspeed: bool
    maxspeed_factor: float
    access_speed_kph: float
    snap_tolerance_m: float
    urban_kph: Mapping[str, float]
    rural_kph: Mapping[str, float]
    closed_access: frozenset[str]
    path: str
    sha256: str
    urban_source: str = ""
    rural_source: str = ""
    facility_access_speed_kph: float = 0.0

    def __post_init__(self) -> None:
        if self.facility_access_speed_kph <= 0:
            # profiles written before the key existed: the facility's leg at the places' speed
            object.__setattr__(self, "facility_access_speed_kph", self.access_speed_kph)

    @property
    def top_speed_kph(self) -> float:
        """The highest class speed of the profile, urban or rural."""
        return max([*self.urban_kph.values(), *self.rural_kph.values()], default=0.0)

    def __hash__(self) -> int:
        return hash((self.name, self.fingerprint))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # read-only mappings do not pickle: rebuild them (Dask ships profiles and analyses between processes)
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["urban_kph"] = dict(self.urban_kph)
        values["rural_kph"] = dict(self.rural_kph)
        return (_unpickle_profile, (values,))

    @property
    def fingerprint(self) -> str:
        """sha256 of every setting that changes travel times, for cache keys and run histories.

        Unlike :attr:`sha256` (the file's bytes) it ignores comments and sources,
        and it follows a profile changed in memory (``dataclasses.replace``), so a
        cached network prepared with other speeds is never reused.
        """
        settings = {
            "mode": self.mode,
            "honour_oneway": self.honour_oneway,
            "honour_maxspeed": self.honour_maxspeed,
            "maxspeed_factor": self.maxspeed_factor,
            "access_speed_kph": self.access_speed_kph,
            "facility_access_speed_kph": self.facility_access_speed_kph,
            "snap_tolerance_m": self.snap_tolerance_m,
            "urban_kph": dict(self.urban_kph),
            "rural_kph": dict(self.rural_kph),
            "closed_access": sorted(self.closed_access),
        }
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()

    def __repr__(self) -> str:
        return (
            f"Profile({self.name!r}, mode={self.mode}, {len(self.urban_kph)} road classes, "
            f"from {Path(self.path).name}, sha256={self.sha256[:12]})"
        )


def _unpickle_profile(values: dict[str, Any]) -> Profile:
    values = {
        **values,
        "urban_kph": MappingProxyType(values["urban_kph"]),
        "rural_kph": MappingProxyType(values["rural_kph"]),
    }
    return Profile(**values)


def list_profiles() -> list[str]:
    """Return the names of the profiles shipped in ``data/profiles``.

    Examples
    --------
    >>> "car" in list_profiles()
    True
    """
    return list_configs(PROFILES_DIR)


def load_profile(name_or_path: str | os.PathLike[str]) -> Profile:
    """Read and validate a speed profile.

    Parameters
    ----------
    name_or_path : str or path-like
        A shipped profile's name (``"car"``, ``"ambulance"``, ``"walk"``) or the
        path of a TOML file (anything ending in ``.toml`` or holding a ``/``).

    Returns
    -------
    Profile

    Raises
    ------
    ConfigError
        When the name is unknown, the file is missing or not valid TOML, or a key
        is unknown, missing, of the wrong type or out of range. The message names
        the file and the key.
    """
    path = resolve_config(name_or_path, PROFILES_DIR, what="profile")
    data, _, sha256 = read_toml(
        path, what="profile", hint="Fix that line (text needs quotes, tables [name], one key per line)."
    )
    profile = _profile_from_dict(data, path=path, sha256=sha256)
    logger.info("loaded %r", profile)
    return profile


def parse_maxspeed(value: object, *, urban: bool) -> float:
    """Parse a raw OSM ``maxspeed`` value to km/h.

    Parameters
    ----------
    value : object
        The raw value: a string ("50", "50 km/h", "30 mph", "10 knots", "50;30",
        "50|30", "CN:urban", "DE:zone30"), a number, a list of such values (as in
        merged edges of a simplified graph, also when written out as the string
        "['50', '30']"), or a missing value.
    urban : bool
        Whether the road is urban; used for implicit values that name a road
        class ("CN:trunk"), which take the country's urban or rural default.

    Returns
    -------
    float
        km/h, or NaN when there is no usable figure ("none", "walk", "signals",
        "variable", empty, missing, garbage, zero, negative or above 300 km/h).
        Never raises. From several values the lowest is taken: the limit is used
        as a ceiling, and the lowest is the one that holds for all of them.

    Examples
    --------
    >>> parse_maxspeed("30 mph", urban=True)
    48.28032
    >>> parse_maxspeed("50;30", urban=False)
    30.0
    >>> parse_maxspeed("CN:rural", urban=False)
    70.0
    >>> parse_maxspeed("none", urban=False)
    nan
    """
    try:
        return _parse_maxspeed(value, urban=urban, depth=0)
    except Exception:  # the contract is to never raise on input data
        logger.debug("maxspeed value %r could not be parsed", value, exc_info=True)
        return math.nan


def unparsed_maxspeed_counts(values: Iterable[object]) -> pd.Series:
    """Count the present ``maxspeed`` values that give no usable speed.

    Parameters
    ----------
    values : iterable
        Raw ``maxspeed`` values (e.g. ``roads.edges["maxspeed"]``).

    Returns
    -------
    pandas.Series
        Count per raw value (as text), most frequent first; empty when every
        present value parses. Missing values (None, NaN, "") are not counted.
        Values that are legitimately non-numeric ("none", "walk", "signals")
        are counted too: they give no speed either.
    """
    keys = [_hashable(value) for value in values]
    present = pd.Series([key for key in keys if not _is_missing(key)], dtype=object)
    counts = present.value_counts()
    unusable = [key for key in counts.index if math.isnan(parse_maxspeed(key, urban=True))]
    result = pd.Series(
        counts.loc[unusable].to_numpy(dtype=np.int64), index=[str(key) for key in unusable], name="count"
    )
    result.index.name = "maxspeed"
    return result


def edge_speeds_kph(profile: Profile, edges: pd.DataFrame, urban: np.ndarray) -> np.ndarray:
    """Speed of each road piece for a profile, in km/h; 0.0 where it cannot be used.

    Parameters
    ----------
    profile : Profile
    edges : pandas.DataFrame
        Column ``highway`` (str) and, when known, ``maxspeed`` (raw OSM value),
        ``speed_kph`` (float, NaN unless the source states a speed) and
        ``access`` (raw OSM value). Absent optional columns count as empty.
    urban : numpy.ndarray
        One bool per row: urban speeds apply where True, rural speeds elsewhere.

    Returns
    -------
    numpy.ndarray
        float64 km/h per row. See the module docstring for the rules.

    Raises
    ------
    InputError
        When ``highway`` is missing or ``urban`` does not have one value per row.
    """
    n = len(edges)
    urban = np.asarray(urban, dtype=bool)
    if urban.shape != (n,):
        msg = f"urban must hold one bool per road piece: got shape {urban.shape} for {n:,} pieces."
        raise InputError(msg)
    if "highway" not in edges:
        msg = f"the road table has no 'highway' column (columns: {', '.join(map(str, edges.columns))})."
        raise InputError(msg)
    if n == 0:
        return np.zeros(0, dtype=np.float64)

    highway = edges["highway"].astype(str).to_numpy()
    class_codes, class_values = pd.factorize(highway)
    urban_by_class = np.array([profile.urban_kph.get(c, np.nan) for c in class_values], dtype=np.float64)
    rural_by_class = np.array([profile.rural_kph.get(c, np.nan) for c in class_values], dtype=np.float64)
    speed = np.where(urban, urban_by_class[class_codes], rural_by_class[class_codes])
    usable = ~np.isnan(speed)
    _log_unknown_classes(profile, class_values, class_codes, usable)

    if "access" in edges and profile.closed_access:
        closed = _closed_by_access(edges["access"], profile.closed_access)
        if closed.any():
            logger.debug("profile %s: %d road pieces closed by access", profile.name, int(closed.sum()))
        usable &= ~closed

    if profile.honour_maxspeed and "maxspeed" in edges:
        limit_kph = _maxspeed_column_kph(edges["maxspeed"], urban)
        speed = np.fmin(speed, limit_kph * profile.maxspeed_factor)

    if profile.mode == "drive" and "speed_kph" in edges:
        stated = pd.to_numeric(edges["speed_kph"], errors="coerce").to_numpy(dtype=np.float64)
        has_stated = np.isfinite(stated) & (stated > 0)
        speed = np.where(has_stated, stated, speed)

    return np.where(usable, speed, 0.0).astype(np.float64)


# --- parsing -------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _hashable(value: object) -> object:
    """Lists and arrays (merged edges) become tuples so values can be counted and factorised."""
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        return tuple(_hashable(item) for item in value)
    return value


def _parse_maxspeed(value: object, *, urban: bool, depth: int) -> float:
    if depth > 3 or _is_missing(value):
        return math.nan
    if isinstance(value, bool | np.bool_):
        return math.nan
    if isinstance(value, numbers.Real):
        return _checked_kph(float(value))
    if isinstance(value, numbers.Number) and not isinstance(value, numbers.Complex):
        return _checked_kph(float(value))  # type: ignore[arg-type]  # Decimal and the like
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        if isinstance(value, Iterable):
            return _lowest(_parse_maxspeed(item, urban=urban, depth=depth + 1) for item in value)
        return math.nan

    text = value.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        # a list written out as text, e.g. "['50', '30']" in a GraphML file from osmnx
        parts = [part.strip().strip("'\"") for part in text[1:-1].split(",")]
        return _lowest(_parse_maxspeed(part, urban=urban, depth=depth + 1) for part in parts)
    if _LIST_SEPARATORS.search(text):
        return _lowest(_parse_single(part, urban=urban) for part in _LIST_SEPARATORS.split(text))
    return _parse_single(text, urban=urban)


def _parse_single(text: str, *, urban: bool) -> float:
    text = text.strip()
    match = _NUMBER_UNIT.match(text)
    if match:
        number = float(match["number"])
        unit = match["unit"]
        if unit in ("mph", "mi/h"):
            number *= KPH_PER_MPH
        elif unit in ("knots", "knot", "kn"):
            number *= KPH_PER_KNOT
        return _checked_kph(number)
    match = _IMPLICIT.match(text)
    if match:
        return _implicit_kph(match["country"].upper(), match["kind"].strip(), urban=urban)
    return math.nan


def _implicit_kph(country: str, kind: str, *, urban: bool) -> float:
    zone = _ZONE.match(kind)
    if zone:
        return _checked_kph(float(zone["number"]))
    table = IMPLICIT_MAXSPEED_KPH.get(country, {})
    pair = table.get(kind) or GENERIC_IMPLICIT_MAXSPEED_KPH.get(kind)
    if pair is None and kind in _CLASS_KINDS:
        pair = table.get("urban" if urban else "rural") or GENERIC_IMPLICIT_MAXSPEED_KPH["urban" if urban else "rural"]
    if pair is None:
        return math.nan
    return pair[0] if urban else pair[1]


def _checked_kph(kph: float) -> float:
    if math.isfinite(kph) and 0 < kph <= MAX_MAXSPEED_KPH:
        return kph
    return math.nan


def _lowest(values: Iterable[float]) -> float:
    usable = [v for v in values if not math.isnan(v)]
    return min(usable) if usable else math.nan


def _maxspeed_column_kph(column: pd.Series, urban: np.ndarray) -> np.ndarray:
    """Parse a maxspeed column, each distinct value once (for urban and for rural)."""
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable values: lists from merged edges
        codes, uniques = pd.factorize(pd.Series([_hashable(v) for v in column], dtype=object))
    if len(uniques) == 0:
        return np.full(len(column), np.nan)
    as_urban = np.array([parse_maxspeed(value, urban=True) for value in uniques], dtype=np.float64)
    as_rural = np.array([parse_maxspeed(value, urban=False) for value in uniques], dtype=np.float64)
    as_urban = np.append(as_urban, np.nan)  # code -1 (missing) reads the trailing NaN
    as_rural = np.append(as_rural, np.nan)
    limit = np.where(urban, as_urban[codes], as_rural[codes])
    missing_unique = np.array([_is_missing(value) for value in uniques] + [True], dtype=bool)
    present = ~missing_unique[codes]
    unusable = present & np.isnan(limit)
    if unusable.any():
        examples = sorted({str(uniques[c]) for c in np.unique(codes[unusable])})[:8]
        logger.info(
            "%d of %d road pieces with a maxspeed value have none usable (e.g. %s); class speeds apply there",
            int(unusable.sum()),
            int(present.sum()),
            ", ".join(repr(e) for e in examples),
        )
    return limit


def _closed_by_access(column: pd.Series, closed_values: frozenset[str]) -> np.ndarray:
    """True where every part of the access value ("private;delivery") is a closed value."""
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:
        codes, uniques = pd.factorize(pd.Series([_hashable(v) for v in column], dtype=object))
    closed_unique = np.array([_access_closed(value, closed_values) for value in uniques] + [False], dtype=bool)
    return closed_unique[codes]


def _access_closed(value: object, closed_values: frozenset[str]) -> bool:
    if _is_missing(value):
        return False
    items = value if isinstance(value, tuple) else (value,)
    parts = [part.strip().lower() for item in items for part in _LIST_SEPARATORS.split(str(item)) if part.strip()]
    return bool(parts) and all(part in closed_values for part in parts)


def _log_unknown_classes(profile: Profile, class_values: np.ndarray, codes: np.ndarray, usable: np.ndarray) -> None:
    counts = np.bincount(codes[~usable], minlength=len(class_values))
    unknown = {
        str(class_values[i]): int(counts[i])
        for i in np.flatnonzero(counts)
        if str(class_values[i]) not in KNOWN_HIGHWAY_CLASSES
    }
    if unknown:
        shown = ", ".join(f"{name!r} ({count:,})" for name, count in sorted(unknown.items(), key=lambda kv: -kv[1])[:8])
        logger.warning(
            "profile %s: road classes that are not OSM highway values cannot be used: %s. "
            "Map them to OSM classes when reading the roads.",
            profile.name,
            shown,
        )


# --- loading -------------------------------------------------------------------------


def _profile_from_dict(data: dict[str, Any], *, path: Path, sha256: str) -> Profile:
    unknown = sorted(set(data) - set(_TOP_LEVEL_KEYS))
    if unknown:
        key = unknown[0]
        hint = did_you_mean(key, _TOP_LEVEL_KEYS)
        msg = f"{path}: unknown key {key!r}{hint}. Allowed keys: {', '.join(_TOP_LEVEL_KEYS)}."
        raise ConfigError(msg)
    missing = [key for key in _TOP_LEVEL_KEYS if key not in data and key not in _OPTIONAL_KEYS]
    if missing:
        key = missing[0]
        msg = (
            f"{path}: missing key {key!r} ({_TOP_LEVEL_KEYS[key]}); every key must be given: "
            f"missing {', '.join(repr(k) for k in missing)}. Start from a copy of a shipped profile."
        )
        raise ConfigError(msg)

    name = _string(data, "name", path)
    description = _string(data, "description", path)
    mode = _string(data, "mode", path)
    if mode not in _MODES:
        msg = f"{path}: key 'mode' is {mode!r}; allowed values: {', '.join(repr(m) for m in _MODES)}."
        raise ConfigError(msg)
    honour_oneway = _boolean(data, "honour_oneway", path)
    honour_maxspeed = _boolean(data, "honour_maxspeed", path)
    maxspeed_factor = _number(data["maxspeed_factor"], "maxspeed_factor", path, upper=3.0)
    access_speed_kph = _number(data["access_speed_kph"], "access_speed_kph", path, upper=MAX_PROFILE_SPEED_KPH)
    snap_tolerance_m = _number(data["snap_tolerance_m"], "snap_tolerance_m", path, upper=100_000.0)
    facility_access_speed_kph = (
        _number(data["facility_access_speed_kph"], "facility_access_speed_kph", path, upper=MAX_PROFILE_SPEED_KPH)
        if "facility_access_speed_kph" in data
        else access_speed_kph
    )
    closed_access = _access_list(data["closed_access"], path)
    urban_kph, urban_source = _speed_table(data["urban_kph"], "urban_kph", path)
    rural_kph, rural_source = _speed_table(data["rural_kph"], "rural_kph", path)
    only_urban = sorted(set(urban_kph) - set(rural_kph))
    only_rural = sorted(set(rural_kph) - set(urban_kph))
    if only_urban or only_rural:
        key, table, other = (
            (only_urban[0], "urban_kph", "rural_kph") if only_urban else (only_rural[0], "rural_kph", "urban_kph")
        )
        msg = (
            f"{path}: class {key!r} is in [{table}] but not in [{other}]; both tables must list the same "
            f"classes (differences: {', '.join(only_urban + only_rural)}). Add it to [{other}] or remove it."
        )
        raise ConfigError(msg)
    if mode == "walk" and (honour_oneway or honour_maxspeed):
        logger.warning(
            "%s: a walk profile with honour_oneway=%s, honour_maxspeed=%s; one-way tags and speed limits "
            "are meant for vehicles",
            path,
            honour_oneway,
            honour_maxspeed,
        )
    return Profile(
        name=name,
        description=description,
        mode=cast(Literal["drive", "walk"], mode),
        honour_oneway=honour_oneway,
        honour_maxspeed=honour_maxspeed,
        maxspeed_factor=maxspeed_factor,
        access_speed_kph=access_speed_kph,
        snap_tolerance_m=snap_tolerance_m,
        urban_kph=MappingProxyType(urban_kph),
        rural_kph=MappingProxyType(rural_kph),
        closed_access=closed_access,
        path=str(path),
        sha256=sha256,
        urban_source=urban_source,
        rural_source=rural_source,
        facility_access_speed_kph=facility_access_speed_kph,
    )


def _string(data: Mapping[str, Any], key: str, path: Path) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        msg = f"{path}: key {key!r} must be a non-empty string in quotes, got {type_name(value)} {value!r}."
        raise ConfigError(msg)
    return value.strip()


def _boolean(data: Mapping[str, Any], key: str, path: Path) -> bool:
    value = data[key]
    if not isinstance(value, bool):
        msg = f"{path}: key {key!r} must be true or false (no quotes), got {type_name(value)} {value!r}."
        raise ConfigError(msg)
    return value


def _number(value: object, key: str, path: Path, *, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{path}: key {key!r} must be a number (no quotes), got {type_name(value)} {value!r}."
        raise ConfigError(msg)
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        msg = f"{path}: key {key!r} must be above 0, got {value!r}."
        raise ConfigError(msg)
    if number > upper:
        msg = f"{path}: key {key!r} is {value!r}, above the allowed maximum of {upper:g}; check the unit."
        raise ConfigError(msg)
    return number


def _access_list(value: object, path: Path) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        msg = (
            f"{path}: key 'closed_access' must be a list of OSM access values in quotes, "
            f'e.g. ["no", "private"] (or [] for none), got {value!r}.'
        )
        raise ConfigError(msg)
    return frozenset(item.strip().lower() for item in value)


def _speed_table(value: object, key: str, path: Path) -> tuple[dict[str, float], str]:
    if not isinstance(value, dict):
        msg = f"{path}: key {key!r} must be a table ([{key}] followed by class = km/h lines), got {type_name(value)}."
        raise ConfigError(msg)
    source = value.get("source")
    if not isinstance(source, str) or not source.strip():
        msg = (
            f'{path}: [{key}] needs a source = "..." line saying where its figures come from '
            '(e.g. "JTG B01-2014 design speeds x 0.8" or "county traffic survey 2023").'
        )
        raise ConfigError(msg)
    speeds: dict[str, float] = {}
    for cls, kph in value.items():
        if cls == "source":
            continue
        if cls not in KNOWN_HIGHWAY_CLASSES:
            hint = did_you_mean(cls, KNOWN_HIGHWAY_CLASSES)
            msg = (
                f"{path}: key '{key}.{cls}' is not an OSM highway class{hint}. "
                f"Allowed: {', '.join(sorted(KNOWN_HIGHWAY_CLASSES))}."
            )
            raise ConfigError(msg)
        speeds[cls] = _number(kph, f"{key}.{cls}", path, upper=MAX_PROFILE_SPEED_KPH)
    if not speeds:
        msg = f"{path}: [{key}] gives no speeds; add lines such as residential = 15."
        raise ConfigError(msg)
    return speeds, source.strip()
