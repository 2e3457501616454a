"""Official totals read as offices write them, and matched to the admin units by name or code."""

from __future__ import annotations

import pandas as pd
import pytest

from coverage._errors import InputError
from coverage.analysis.totals import parse_population, read_population_totals, totals_from_zones


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("379367", 379367.0),
        ("379,367", 379367.0),
        ("379 367", 379367.0),
        ("37.9万", 379000.0),
        ("３７９人", 379.0),
        ("", None),
    ],
)
def test_population_figures_as_offices_write_them(text, people):
    assert parse_population(text) == people


UNIT_TABLE = pd.DataFrame({"zone": ["城关镇", "Anjouan", "Grande Comore"], "adcode": [420112001, 420112002, 420112003]})


def test_totals_are_matched_by_name_or_code_in_a_gbk_csv(tmp_path):
    path = tmp_path / "七普.csv"
    path.write_bytes(
        '区划代码,乡镇,常住人口\n420112001,城关镇,3.79万\n４２０１１２００２, anjouan ,"327,382"\n999,合计,999999\n'.encode(
            "gbk"
        )
    )
    totals = read_population_totals(path, units=UNIT_TABLE)
    assert totals.totals.to_dict() == {"城关镇": 37900.0, "Anjouan": 327382.0}
    assert list(totals.unmatched["unit"]) in (["999"], ["合计"])
    assert totals.source == "七普.csv"


def test_totals_as_a_mapping():
    totals = read_population_totals({"Grande Comore": 379367, "Moheli": 51567}, units=UNIT_TABLE)
    assert totals.totals.to_dict() == {"Grande Comore": 379367.0}
    assert list(totals.unmatched["unit"]) == ["Moheli"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unit,population\nAnjouan,1\nANJOUAN,2\n", "rows 2 and 3 both give the population of unit 'Anjouan'"),
        ("unit,population\nAnjouan,many\n", "row 2 (Anjouan): population 'many'"),
        ("unit,population\nAnjouan,-5\n", "row 2 (Anjouan): population '-5'"),
        ("district,population\nNowhere,5\n", "no column names the admin units; the units are named like '城关镇'"),
        ("unit,a,b\nAnjouan,1,2\n", "cannot tell which column holds the population"),
    ],
)
def test_bad_totals_name_the_row_and_the_fix(tmp_path, text, message):
    path = tmp_path / "totals.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_population_totals(path, units=UNIT_TABLE)


def test_a_missing_totals_file_is_named(tmp_path):
    with pytest.raises(InputError, match="population totals file not found"):
        read_population_totals(tmp_path / "missing.csv", units=UNIT_TABLE)


def test_totals_from_a_column_of_the_zones():
    units = pd.DataFrame({"zone": ["A", "A", "B", "C"], "pop": ["100", "100", "", "7"]})
    totals = totals_from_zones("pop", units=units, label="towns.gpkg")
    assert totals.totals.to_dict() == {"A": 100.0, "C": 7.0}  # B's blank: no total, reported when calibrating
    assert totals.source == "column 'pop' of towns.gpkg"
    with pytest.raises(InputError, match="no column 'people' with population totals"):
        totals_from_zones("people", units=units, label="towns.gpkg")
    units.loc[1, "pop"] = "120"
    with pytest.raises(InputError, match="the polygons of unit 'A' give different populations"):
        totals_from_zones("pop", units=units, label="towns.gpkg")
