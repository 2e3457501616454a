"""Official population totals of admin units, read and matched to the units of the zones.

The totals a plan is written on (census or statistical-yearbook figures per
township, county or island) come as a CSV from the statistics office, as a column
of the admin-unit layer, or as a table in a notebook. :func:`read_population_totals`
reads them and finds which column names the units, matching names or codes (such as
区划代码) against every column of the zones; :func:`totals_from_zones` takes them from
a column of the zones file. Figures are read as offices write them (``379,367``,
``379 367``, ``37.9万``). Rows that name no unit are kept and reported, never dropped.
"""

from __future__ import annotations

import logging
import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage._errors import InputError

logger = logging.getLogger(__name__)

#: Column names (case-insensitive) read as the population of a totals table, in order of preference.
POPULATION_NAMES = (
    "population",
    "pop",
    "total",
    "people",
    "census",
    "人口",
    "常住人口",
    "总人口",
    "人口数",
    "户籍人口",
)


@dataclass(frozen=True)
class PopulationTotals:
    """Official population of admin units, matched to the units of the zones.

    Attributes
    ----------
    source : str
        Where the totals come from, for messages and outputs (a file name, or
        ``column 'pop' of townships.gpkg``).
    totals : pandas.Series
        People per unit, indexed by the unit's name as the zones name it.
    unmatched : pandas.DataFrame
        Rows of the totals naming no unit: ``unit`` (as written) and ``official_population``.
    """

    source: str
    totals: pd.Series
    unmatched: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"unit": pd.Series(dtype=str), "official_population": []})
    )


def _key(value: Any) -> str:
    """A name or code as compared: Unicode-normalised (full-width digits), trimmed, case-folded; ``12.0`` as ``12``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text


def parse_population(value: Any) -> float | None:
    """A population figure as written in a table: ``379367``, ``379,367``, ``379 367``, ``37.9万``, ``37.9万人``.

    Returns None for a blank cell; raises ValueError for anything else that is not a number.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    text = re.sub(r"[\s,\u00a0\u202f']", "", text).removesuffix("人")
    multiplier = 1.0
    if text.endswith("万"):
        text, multiplier = text[:-1], 1e4
    number = float(text) * multiplier
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _unit_lookups(units: pd.DataFrame) -> dict[str, dict[str, str]]:
    """For each column of the zones' table: value (as compared) → unit, for values naming one unit only."""
    lookups: dict[str, dict[str, str]] = {}
    names = units["zone"].astype(str).to_numpy()
    for column in units.columns:
        pairs: dict[str, str] = {}
        shared: set[str] = set()
        for value, unit in zip(units[column].to_numpy(), names, strict=True):
            key = _key(value)
            if not key:
                continue
            if pairs.get(key, unit) != unit:
                shared.add(key)
            pairs[key] = unit
        lookups[str(column)] = {key: unit for key, unit in pairs.items() if key not in shared}
    return lookups


def _population_column(table: pd.DataFrame, label: str) -> str:
    """The column of a totals table holding the population."""
    lowered = {str(c).strip().lower(): str(c) for c in table.columns}
    for name in POPULATION_NAMES:
        if name in lowered:
            return lowered[name]
    named = [str(c) for c in table.columns if re.match(r"(pop|population|人口)", str(c).strip().lower())]
    if len(named) == 1:
        return named[0]
    numeric = [str(c) for c in table.columns if table[c].map(_is_number).all() and len(table)]
    if len(numeric) == 1 and len(table.columns) > 1:
        return numeric[0]
    msg = (
        f"{label}: cannot tell which column holds the population (columns: {', '.join(map(str, table.columns))}); "
        "name it 'population' (or 人口)."
    )
    raise InputError(msg)


def _is_number(value: Any) -> bool:
    try:
        return parse_population(value) is not None
    except ValueError:
        return False


def read_population_totals(
    source: str | os.PathLike[str] | pd.DataFrame | Mapping[str, float],
    *,
    units: pd.DataFrame,
    label: str | None = None,
) -> PopulationTotals:
    """Read official population totals and match them to admin units.

    Parameters
    ----------
    source : path, DataFrame or mapping
        A CSV (UTF-8 or GBK; comma, tab or semicolon separated) or a table with a
        column naming the units and a column of people (``population``, ``人口``...);
        or a mapping of unit name to people.
    units : pandas.DataFrame
        The zones' attribute table (:func:`coverage.analysis.zones.read_zone_table`):
        ``zone`` and every other column. The totals' unit column is matched against
        each of them (names, English names, codes such as 区划代码), and the pair
        matching the most rows is used; case, surrounding spaces and full-width
        characters do not matter.
    label : str, optional
        How messages name the source (default: the file's name).

    Returns
    -------
    PopulationTotals

    Raises
    ------
    InputError
        When the file cannot be read, has no population column or none naming the
        units, two rows give the same unit, or a population is not a number >= 0.
        The message names the file, the row and the value.
    """
    from coverage.io.points import read_text_table

    if isinstance(source, Mapping):
        table = pd.DataFrame({"unit": [str(k) for k in source], "population": list(source.values())})
        label = label or "the population totals"
    elif isinstance(source, pd.DataFrame):
        table = source.reset_index(drop=True)
        label = label or "the population totals table"
    else:
        label = label or Path(source).name
        table = read_text_table(source, what="population totals")
    table = table[~table.apply(lambda row: all(_key(v) == "" for v in row), axis=1)].reset_index(drop=True)
    if table.empty:
        msg = f"{label}: no rows of population totals."
        raise InputError(msg)
    population_column = _population_column(table, label)
    lookups = _unit_lookups(units)
    # the column pair matching the most rows; ties go to the units' own names, then to the totals' first column
    candidates = []
    for order, column in enumerate(str(c) for c in table.columns if str(c) != population_column):
        keys = table[column].map(_key)
        for unit_column, lookup in lookups.items():
            matched = int(keys.map(lookup).notna().sum())
            if matched:
                candidates.append((matched, unit_column == "zone", -order, column, unit_column))
    if not candidates:
        examples = ", ".join(repr(name) for name in units["zone"].astype(str).unique()[:4])
        msg = (
            f"{label}: no column names the admin units; the units are named like {examples} "
            f"(or by another column of the zones: {', '.join(str(c) for c in units.columns if c != 'zone')}). "
            f"The file's columns are {', '.join(map(str, table.columns))}."
        )
        raise InputError(msg)
    *_, key_column, unit_column = max(candidates)
    return _matched_totals(table, label, key_column, unit_column, population_column, lookups[unit_column])


def _row_label(table: pd.DataFrame, index: int, key_column: str) -> str:
    # the CSV's header is line 1, so row i of the table is line i + 2
    return f"row {index + 2} ({table.at[index, key_column]!s})"


def _matched_totals(
    table: pd.DataFrame,
    label: str,
    key_column: str,
    unit_column: str,
    population_column: str,
    lookup: dict[str, str],
) -> PopulationTotals:
    totals: dict[str, float] = {}
    first_row: dict[str, int] = {}
    unmatched: list[tuple[str, float]] = []
    for index in range(len(table)):
        where = _row_label(table, index, key_column)
        raw = table.at[index, population_column]
        try:
            people = parse_population(raw)
        except ValueError:
            people = math.nan
        if people is None or math.isnan(people) or people < 0:
            msg = (
                f"{label}: {where}: population {raw!r} in column {population_column!r} is not a number of people "
                "(0 or more); write it like 379367, 379,367 or 37.9万."
            )
            raise InputError(msg)
        unit = lookup.get(_key(table.at[index, key_column]))
        if unit is None:
            unmatched.append((str(table.at[index, key_column]), people))
            continue
        if unit in totals:
            msg = (
                f"{label}: rows {first_row[unit] + 2} and {index + 2} both give the population of unit {unit!r}; "
                "keep one row per unit."
            )
            raise InputError(msg)
        totals[unit], first_row[unit] = people, index
    logger.info(
        "%s: %d totals matched to units by column %r (units' %r)%s",
        label,
        len(totals),
        key_column,
        unit_column,
        f"; {len(unmatched)} rows name no unit" if unmatched else "",
    )
    return PopulationTotals(
        source=label,
        totals=pd.Series(totals, dtype=float),
        unmatched=pd.DataFrame(
            {"unit": [u for u, _ in unmatched], "official_population": [p for _, p in unmatched]},
            columns=["unit", "official_population"],
        ),
    )


def totals_from_zones(column: str, *, units: pd.DataFrame, label: str) -> PopulationTotals:
    """Official totals from a column of the zones file itself.

    Parameters
    ----------
    column : str
        The zones' column holding each unit's people.
    units : pandas.DataFrame
        The zones' attribute table (:func:`coverage.analysis.zones.read_zone_table`).
    label : str
        The zones file's name, for messages.

    Raises
    ------
    InputError
        When the column is missing, a value is not a number >= 0, or the polygons
        of one unit give different figures. A blank value leaves its unit without
        a total (reported).
    """
    if column not in units.columns or column == "zone":
        columns = ", ".join(str(c) for c in units.columns if c != "zone")
        msg = (
            f"{label}: no column {column!r} with population totals; give a CSV file of totals, "
            f"or one of the zones' columns: {columns}."
        )
        raise InputError(msg)
    totals: dict[str, float] = {}
    for index, (unit, raw) in enumerate(zip(units["zone"].astype(str), units[column], strict=True)):
        try:
            people = parse_population(raw)
        except ValueError:
            people = math.nan
        if people is not None and (math.isnan(people) or people < 0):
            msg = f"{label}: feature {index + 1} ({unit}): {column} = {raw!r} is not a number of people (0 or more)."
            raise InputError(msg)
        if people is None:
            continue
        if unit in totals and totals[unit] != people:
            msg = (
                f"{label}: the polygons of unit {unit!r} give different populations in {column!r} "
                f"({totals[unit]:,.0f} and {people:,.0f}); give one figure per unit (dissolve the polygons first)."
            )
            raise InputError(msg)
        totals[unit] = people
    if not totals:
        msg = f"{label}: column {column!r} holds no population figure."
        raise InputError(msg)
    return PopulationTotals(source=f"column {column!r} of {label}", totals=pd.Series(totals, dtype=float))
