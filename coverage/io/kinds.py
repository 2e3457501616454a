"""Facility categories as a planner's data holds them, mapped to the tool's kinds.

A county's facility list names categories its own way: 乡镇卫生院, 村卫生室 in a
commission's spreadsheet, ``医疗保健服务;综合医院;三级甲等医院`` and ``090101`` in an
Amap export. A *kind map* is a TOML file of rules (``data/kind_maps/``: ``zh`` for
Chinese category names, ``amap`` for Amap exports) that turns them into the kinds
the standards speak of (``hospital``, ``health_centre``, ``village_clinic``,
``ems``...). Rules are tried in order and the first match wins; a rule sets a kind
or drops the row (dental and cosmetic practices, pharmacies), and every drop is
counted. A value no rule maps keeps its own text as kind and is listed with its
count, never folded silently into another kind.

:func:`load_kind_map` reads and validates a map; :func:`apply_kind_map` applies one
to a table and returns a :class:`KindMapping`.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage._config import DATA_DIR, did_you_mean, list_configs, read_toml, resolve_config, type_name
from coverage._errors import ConfigError, InputError
from coverage._i18n import KIND_NAMES

logger = logging.getLogger(__name__)

#: Folder of the kind maps shipped with the project (the repository's ``data/kind_maps``).
KIND_MAPS_DIR = DATA_DIR / "kind_maps"
#: The kind map used when none is given.
DEFAULT_KIND_MAP = "zh"
#: ``--kind-map none``: the category values are the kinds, lower-cased.
NO_KIND_MAP = "none"
#: The kinds the tool and its standards know.
KNOWN_KINDS = tuple(k for k in KIND_NAMES if k not in ("facility", "candidate"))
#: The columns a rule can look at.
ROLES = ("category", "code", "name")
MATCHES = ("exact", "prefix", "regex")
_TOP_KEYS = ("name", "title", "description", "columns", "rule")
_RULE_KEYS = ("on", "match", "value", "kind", "drop")


@dataclass(frozen=True)
class KindRule:
    """One rule: when the ``on`` column's value matches, set ``kind`` or drop the row (``drop`` says why)."""

    on: str
    match: str
    values: tuple[str, ...]
    kind: str | None
    drop: str | None
    pattern: re.Pattern[str] | None = None

    def matches(self, values: pd.Series) -> np.ndarray:
        """Which of ``values`` (text, missing as empty) this rule matches."""
        text = values.fillna("").astype(str).str.strip()
        if self.match == "exact":
            return text.isin(self.values).to_numpy()
        if self.match == "prefix":
            return text.str.startswith(self.values).to_numpy()
        pattern = self.pattern or re.compile("|".join(f"(?:{v})" for v in self.values))
        return text.str.contains(pattern, regex=True).to_numpy()

    def describe(self) -> str:
        """The rule in a few words, for logs."""
        action = f"kind {self.kind}" if self.kind else f"drop ({self.drop})"
        return f"{self.on} {self.match} {'|'.join(self.values)} -> {action}"


@dataclass(frozen=True)
class KindMap:
    """A validated kind map: its rules and where each role's column is looked for."""

    name: str
    title: str
    rules: tuple[KindRule, ...]
    columns: dict[str, tuple[str, ...]]
    path: str


@dataclass(frozen=True)
class KindMapping:
    """What a kind map did to a table.

    Attributes
    ----------
    kinds : pandas.Series
        The kind of every row (the rows kept and dropped alike; dropped rows' kinds are meaningless).
    dropped : numpy.ndarray
        True for the rows a rule dropped.
    drop_reasons : pandas.Series
        Why each dropped row was dropped ("" for the rows kept).
    mapped : dict
        Rows per kind set by a rule or kept as a known kind.
    unmapped : dict
        Rows per value no rule mapped (kept, with the value as kind).
    dropped_counts : dict
        Rows per drop reason.
    columns : dict
        The column each role was read from (``category``, ``code``, ``name``).
    kind_map : str
        The map's name (``zh``, ``amap``, a file) or ``none``.
    """

    kinds: pd.Series
    dropped: np.ndarray
    drop_reasons: pd.Series
    mapped: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, int] = field(default_factory=dict)
    dropped_counts: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    kind_map: str = NO_KIND_MAP

    def report(self) -> dict[str, Any]:
        """JSON-ready record for summary.json."""
        return {
            "kind_map": self.kind_map,
            "columns": self.columns,
            "kinds": self.mapped,
            "unmapped_values": self.unmapped,
            "dropped": self.dropped_counts,
        }


def list_kind_maps() -> list[str]:
    """Names of the shipped kind maps."""
    return list_configs(KIND_MAPS_DIR)


def load_kind_map(name_or_path: str | os.PathLike[str]) -> KindMap:
    """Read and validate a kind map: a shipped name (``zh``, ``amap``) or the path of a TOML file.

    Raises
    ------
    ConfigError
        When the file is missing or malformed; the message names the file, the rule
        and the key.
    """
    path = resolve_config(name_or_path, KIND_MAPS_DIR, what="kind map")
    data, _, _ = read_toml(path, what="kind map", hint="See data/kind_maps/zh.toml for the format.")
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        msg = (
            f"{path}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], _TOP_KEYS)}. Allowed: {', '.join(_TOP_KEYS)}."
        )
        raise ConfigError(msg)
    columns = _columns(data.get("columns", {}), path)
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        msg = f"{path}: no rules; give at least one [[rule]] block (see data/kind_maps/zh.toml)."
        raise ConfigError(msg)
    rules = tuple(_rule(item, number, path) for number, item in enumerate(raw_rules, start=1))
    return KindMap(
        name=str(data.get("name") or path.stem),
        title=str(data.get("title") or ""),
        rules=rules,
        columns=columns,
        path=str(path),
    )


def _columns(value: Any, path: Path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        msg = f"{path}: [columns] must be a table of role = [column names], got {type_name(value)}."
        raise ConfigError(msg)
    columns: dict[str, tuple[str, ...]] = {}
    for role, names in value.items():
        if role not in ROLES:
            msg = (
                f"{path}: [columns] has an unknown role {role!r}{did_you_mean(role, ROLES)}; roles: {', '.join(ROLES)}."
            )
            raise ConfigError(msg)
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            msg = f'{path}: [columns] {role} must be a list of column names, e.g. ["类别", "TYPE"], got {names!r}.'
            raise ConfigError(msg)
        columns[role] = tuple(names)
    return columns


def _rule(item: Any, number: int, path: Path) -> KindRule:
    where = f"{path}: rule {number}"
    if not isinstance(item, dict):
        msg = f"{where} must be a [[rule]] table, got {type_name(item)}."
        raise ConfigError(msg)
    unknown = sorted(set(item) - set(_RULE_KEYS))
    if unknown:
        msg = (
            f"{where}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], _RULE_KEYS)}; keys: {', '.join(_RULE_KEYS)}."
        )
        raise ConfigError(msg)
    on = item.get("on", "category")
    if on not in ROLES:
        msg = f"{where}: on = {on!r}{did_you_mean(str(on), ROLES)}; allowed: {', '.join(ROLES)}."
        raise ConfigError(msg)
    match = item.get("match", "exact")
    if match not in MATCHES:
        msg = f"{where}: match = {match!r}{did_you_mean(str(match), MATCHES)}; allowed: {', '.join(MATCHES)}."
        raise ConfigError(msg)
    raw = item.get("value")
    values = (raw,) if isinstance(raw, str) else tuple(raw) if isinstance(raw, list) else ()
    if not values or not all(isinstance(v, str) and v for v in values):
        msg = f'{where}: value must be a text or a list of texts, e.g. value = "卫生院", got {raw!r}.'
        raise ConfigError(msg)
    kind, drop = item.get("kind"), item.get("drop")
    if (kind is None) == (drop is None):
        msg = f'{where}: give exactly one of kind = "..." (the kind to set) or drop = "why" (to leave the row out).'
        raise ConfigError(msg)
    if kind is not None and (not isinstance(kind, str) or not kind.strip()):
        msg = f"{where}: kind must be a text such as 'health_centre', got {kind!r}."
        raise ConfigError(msg)
    if drop is not None and (not isinstance(drop, str) or not drop.strip()):
        msg = f"{where}: drop must say why the rows are left out, got {drop!r}."
        raise ConfigError(msg)
    pattern = None
    if match == "regex":
        try:
            pattern = re.compile("|".join(f"(?:{v})" for v in values))
        except re.error as error:
            msg = f"{where}: value {raw!r} is not a valid regular expression ({error})."
            raise ConfigError(msg) from error
    return KindRule(
        on=on,
        match=match,
        values=values,
        kind=kind.strip().lower() if kind else None,
        drop=drop.strip() if drop else None,
        pattern=pattern,
    )


def find_role_column(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first of ``candidates`` among ``columns`` (exact, then case-insensitive)."""
    for name in candidates:
        if name in columns:
            return name
    lowered = {str(c).lower(): c for c in columns}
    for name in candidates:
        if name.lower() in lowered:
            return str(lowered[name.lower()])
    return None


def apply_kind_map(
    table: pd.DataFrame,
    kind_map: KindMap | None,
    *,
    category_column: str | None,
    name_column: str | None = None,
    label: str = "facilities",
) -> KindMapping:
    """The kind of every row of a facility table.

    Parameters
    ----------
    table : pandas.DataFrame
        The facility rows.
    kind_map : KindMap or None
        The rules; None takes the category values as kinds (lower-cased).
    category_column : str or None
        The category column (the user's ``--facilities-kind-column``); None: the
        first of the map's ``[columns] category`` names present.
    name_column : str or None
        The name column; None: the first of the map's ``[columns] name`` present.
    label : str
        The file, for messages.

    Raises
    ------
    InputError
        When a named column is missing, or when the map has nothing to read: none
        of its roles' columns is in the table.
    """
    columns = [str(c) for c in table.columns]
    for given, option in ((category_column, "kind column"), (name_column, "name column")):
        if given is not None and given not in columns:
            msg = f"{label} has no column {given!r} (the {option}); its columns are {', '.join(map(repr, columns))}."
            raise InputError(msg)
    found: dict[str, str] = {}
    if kind_map is None:
        category = category_column or find_role_column(columns, ("kind",))
        if category is None:
            kinds = pd.Series("facility", index=table.index, dtype=object)
            logger.warning("%s has no kind column: every row counts as kind 'facility'", label)
            return KindMapping(kinds, np.zeros(len(table), dtype=bool), pd.Series("", index=table.index))
        kinds = table[category].fillna("").astype(str).str.strip().str.lower()
        return KindMapping(
            kinds,
            np.zeros(len(table), dtype=bool),
            pd.Series("", index=table.index),
            mapped={str(k): int(v) for k, v in kinds.value_counts().items()},
            columns={"category": category},
        )
    for role in ROLES:
        given = {"category": category_column, "name": name_column}.get(role)
        column = given or find_role_column(columns, kind_map.columns.get(role, ()))
        if column is not None:
            found[role] = column
    if not found:
        looked = "; ".join(f"{role}: {', '.join(names)}" for role, names in kind_map.columns.items() if names)
        msg = (
            f"{label}: the kind map {kind_map.name!r} reads none of its columns ({looked}); the file's columns are "
            f"{', '.join(map(repr, columns))}. Name the category column with --facilities-kind-column, or choose "
            "another --kind-map."
        )
        raise InputError(msg)
    kinds = pd.Series(None, index=table.index, dtype=object)
    reasons = pd.Series("", index=table.index, dtype=object)
    undecided = np.ones(len(table), dtype=bool)
    category = found.get("category")
    if category is not None:
        # a value that is already one of the tool's kinds stays as it is
        own = table[category].fillna("").astype(str).str.strip().str.lower()
        known = own.isin(KNOWN_KINDS).to_numpy()
        kinds[known] = own[known]
        undecided &= ~known
    skipped = sorted({rule.on for rule in kind_map.rules if rule.on not in found})
    if skipped:
        logger.warning(
            "%s: kind map %r has rules on %s, but the file has no such column (looked for %s); those rules are skipped",
            label,
            kind_map.name,
            ", ".join(skipped),
            "; ".join(f"{role}: {', '.join(kind_map.columns.get(role, ()))}" for role in skipped),
        )
    for rule in kind_map.rules:
        if rule.on not in found or not undecided.any():
            continue
        hit = undecided & rule.matches(table[found[rule.on]])
        if rule.kind is not None:
            kinds[hit] = rule.kind
        else:
            reasons[hit] = rule.drop
        undecided &= ~hit
    dropped = (reasons != "").to_numpy()
    raw = (
        table[category].fillna("").astype(str).str.strip() if category is not None else pd.Series("", index=table.index)
    )
    raw = raw.where(raw != "", "(blank)")
    kinds[undecided] = raw[undecided]
    unmapped = Counter(raw[undecided])
    mapping = KindMapping(
        kinds=kinds.astype(str),
        dropped=dropped,
        drop_reasons=reasons,
        mapped={str(k): int(v) for k, v in kinds[~dropped & ~undecided].value_counts().items()},
        unmapped=dict(unmapped.most_common()),
        dropped_counts={str(k): int(v) for k, v in reasons[dropped].value_counts().items()},
        columns=found,
        kind_map=kind_map.name,
    )
    _log(mapping, label)
    return mapping


def _log(mapping: KindMapping, label: str) -> None:
    kinds = ", ".join(f"{kind} {count}" for kind, count in mapping.mapped.items()) or "none"
    logger.info("%s: kinds by the %r map: %s", label, mapping.kind_map, kinds)
    if mapping.dropped_counts:
        logger.warning(
            "%s: %d rows left out by the %r kind map: %s",
            label,
            int(mapping.dropped.sum()),
            mapping.kind_map,
            "; ".join(f"{count} {reason}" for reason, count in mapping.dropped_counts.items()),
        )
    if mapping.unmapped:
        shown = ", ".join(f"{value!r} ({count})" for value, count in list(mapping.unmapped.items())[:10])
        more = f" and {len(mapping.unmapped) - 10} more" if len(mapping.unmapped) > 10 else ""
        logger.warning(
            "%s: %d rows have a category no rule of the %r kind map knows, kept under that name: %s%s. "
            "Add rules for them to a copy of the map, or they count only where all facilities count",
            label,
            sum(mapping.unmapped.values()),
            mapping.kind_map,
            shown,
            more,
        )
