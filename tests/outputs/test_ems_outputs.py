"""The EMS outputs: the files a planner opens and the map layer of a timely response."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from coverage.analysis.run import analyze
from coverage.ems.run import ems_availability
from coverage.outputs.ems_outputs import TIMELY_CLASSES, ems_map, timely_layer, write_ems
from coverage.outputs.maps import map_html
from tests.conftest import COMOROS_PBF, COMOROS_RASTER, HOSTILE_NAME


@pytest.fixture(scope="module")
def analysis(tmp_path_factory, mwali_boundary):
    return analyze(
        COMOROS_PBF,
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
        profile="ambulance",
        ems=True,
        minutes=[12],
        per_facility_isochrones=False,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


@pytest.fixture(scope="module")
def result(analysis):
    villages = analysis.villages.copy()
    villages.loc[0, "name"] = HOSTILE_NAME
    import dataclasses

    return ems_availability(dataclasses.replace(analysis, villages=villages), replications=2, days=30, seed=1)


def test_write_ems_writes_every_file(tmp_path, result):
    written = write_ems(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written.values())
    summary = json.loads(written["json"].read_text(encoding="utf-8"))
    assert summary["fleet"]["substituted"] is True  # hospitals stand in for stations here
    assert summary["fleet"]["assumed"] is True
    assert len(summary["stations"]) == len(result.fleet.stations)
    villages = pd.read_csv(written["villages"], encoding="utf-8-sig")
    assert len(villages) == len(result.villages)
    assert villages["timely_probability"].between(0, 1).all()
    assert written["villages"].read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the names


def test_a_failed_write_keeps_the_earlier_outputs(tmp_path, result, monkeypatch):
    write_ems(result, tmp_path)
    before = (tmp_path / "ems.json").read_text(encoding="utf-8")
    from coverage.outputs import ems_outputs

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ems_outputs, "write_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write_ems(result, tmp_path)
    assert (tmp_path / "ems.json").read_text(encoding="utf-8") == before


def test_the_timely_layer_colours_each_village_by_its_probability(result):
    layer = timely_layer(result)
    assert layer.count == len(result.villages)
    data = json.loads(layer.data.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&"))
    colours = np.array([f["properties"]["style"]["fillColor"] for f in data["features"]])
    probability = result.villages["timely_probability"].to_numpy()
    # never reached in time: red; always: green (and the map has both on Mwali)
    assert (probability == 0).any()
    assert (probability == 1).any()
    assert set(colours[probability == 0]) == {TIMELY_CLASSES[0][1]}
    assert set(colours[probability == 1]) == {TIMELY_CLASSES[-1][1]}
    names = [f["properties"]["tooltip"] for f in data["features"]]
    assert names[0].startswith(HOSTILE_NAME)  # the name as text, in the data


def test_the_map_has_the_layer_its_legend_and_the_credits(analysis, result):
    page = map_html(ems_map(analysis, result))
    assert "Timely response within 12 min" in page
    assert "Probability of an ambulance within 12 min" in page
    assert "OpenStreetMap contributors" in page
    # names reach the page as JSON data only, never as markup
    assert HOSTILE_NAME not in page
