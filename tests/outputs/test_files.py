"""The files of an analysis: the calibration table, the credits in the GeoPackage's metadata and summary.json, and
CSV cells a spreadsheet would run as formulas made inert (and only those)."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pyogrio
from hypothesis import given
from hypothesis import strategies as st

from coverage.outputs.files import (
    FORMULA_STARTS,
    GPKG_NAME,
    POPULATION_CALIBRATION_CSV,
    SUMMARY_JSON,
    neutralise_formulas,
    write_csv,
    write_outputs,
)


def test_the_calibration_and_the_credits_are_written(calibrated_mwali, tmp_path):
    written = write_outputs(calibrated_mwali, tmp_path)
    assert POPULATION_CALIBRATION_CSV in written
    table = pd.read_csv(tmp_path / POPULATION_CALIBRATION_CSV, encoding="utf-8-sig").set_index("unit")
    assert list(table.columns) == [
        "status",
        "official_population",
        "population_before",
        "factor",
        "population_after",
        "cells",
        "population_in_region",
    ]
    assert table.loc["Moheli", "official_population"] == 51567
    assert table.loc["Moheli", "factor"] < 0.2
    assert table.loc["Anjouan", "factor"] > 4

    credit = calibrated_mwali.attribution
    with sqlite3.connect(tmp_path / GPKG_NAME) as gpkg:
        descriptions = dict(gpkg.execute("SELECT table_name, description FROM gpkg_contents").fetchall())
        scopes = {row[0] for row in gpkg.execute("SELECT md_scope FROM gpkg_metadata")}
    assert set(descriptions) == {
        "facilities",
        "villages",
        "isochrones",
        "service_areas",
        "catchments",
        "isochrones_by_facility",
        "road_problems",
        "flagged_cells",  # Mwali's populated cells far from the roads
        "layer_styles",
    }
    assert all(text.endswith(f"Sources: {credit}") for text in descriptions.values())
    assert scopes == {"dataset"}
    metadata = pyogrio.read_info(tmp_path / GPKG_NAME, layer="villages")["layer_metadata"]
    assert metadata["credit"] == credit
    assert "3 of 3 units calibrated" in metadata["population_calibration"]
    sources = json.loads(metadata["sources"])
    assert {
        "role": "roads",
        "name": "comores-latest.osm.pbf",
        "credit": "© OpenStreetMap contributors (ODbL 1.0)",
        "licence": "ODbL 1.0",
    } in sources

    summary = json.loads((tmp_path / SUMMARY_JSON).read_text(encoding="utf-8"))
    assert summary["source"]["credit"] == credit
    assert summary["population"]["basis"] == "raster cells"
    assert summary["population"]["calibration"]["table"][0]["status"] == "calibrated"


def test_without_calibration_there_is_no_calibration_table(hostile_analysis, tmp_path):
    written = write_outputs(hostile_analysis, tmp_path)
    assert POPULATION_CALIBRATION_CSV not in written
    assert not (tmp_path / POPULATION_CALIBRATION_CSV).exists()
    summary = json.loads((tmp_path / SUMMARY_JSON).read_text(encoding="utf-8"))
    assert summary["population"]["calibration"] is None
    assert "WorldPop 2020" in summary["source"]["credit"]
    assert "calibrated" not in summary["source"]["credit"]


@given(st.lists(st.text(max_size=20), min_size=1, max_size=8))
def test_no_text_cell_starts_a_formula_and_nothing_else_changes(names):
    frame = pd.DataFrame({"name": names, "people": range(len(names))})
    inert = neutralise_formulas(frame)
    for before, after in zip(names, inert["name"], strict=True):
        if before.startswith(FORMULA_STARTS):
            assert after == "'" + before
        else:
            assert after == before
    assert inert["people"].tolist() == list(range(len(names)))


def test_headers_and_string_columns_too_and_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": ["@SUM(1+1)"], "minutes": [-3.5]}).astype(
        {"=cmd|' /C calc'!A0": "string"}
    )
    write_csv(frame, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["'=cmd|' /C calc'!A0,minutes", "'@SUM(1+1),-3.5"]
