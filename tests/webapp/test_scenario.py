"""A what-if scenario: edits update the figures to what the library computes from scratch for the same stations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from coverage._errors import InputError
from coverage.network.offroad import direct_offroad
from coverage.network.routing import nearest_facility, reach_points
from coverage.webapp.files import ScenarioStore, apply_saved, read_scenario_geojson, scenario_analysis, scenario_geojson
from coverage.webapp.scenario import Scenario
from tests.conftest import mwali_inputs
from tests.webapp.reference import assert_same_figures, library_figures


@pytest.fixture
def scenario(mwali_workspace):
    return Scenario(mwali_workspace, minutes=15, standard="suizhou")


def _inland(workspace, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    """A point inside the island (its outline's representative point, shifted by degrees)."""
    point = shapely.get_coordinates(workspace.outline.representative_point())[0]
    return float(point[0] + dx), float(point[1] + dy)


def test_edits_give_the_library_figures_for_the_same_stations(scenario, mwali_workspace, tmp_path):
    first = scenario.add(*_inland(mwali_workspace), kind="hospital", name="Hôpital 新站")
    second = scenario.add(*_inland(mwali_workspace, 0.05, 0.02), kind="ems")
    scenario.move(first.id, *_inland(mwali_workspace, -0.04, 0.03))
    existing = next(s for s in scenario.stations.values() if s.origin == "existing")
    scenario.remove(existing.id)
    assert not scenario.stations[existing.id].open
    assert second.id in scenario.stations
    view = scenario.view()
    reference = library_figures(scenario, mwali_inputs(tmp_path))
    assert_same_figures(view, reference)
    # the uncovered villages are those the library finds outside the circle
    outside = reference["villages"][~(reference["villages"]["minutes"] <= 15)]
    assert {v["id"] for v in view["uncovered"]} == set(outside["id"])
    assert view["uncovered_total"] == len(outside)


def test_closing_and_reopening_restores_the_figures(scenario):
    before = scenario.view()
    existing = next(s for s in scenario.stations.values() if s.origin == "existing")
    scenario.remove(existing.id)
    closed = scenario.view()
    assert closed["thresholds"] != before["thresholds"]
    scenario.reopen(existing.id)
    after = scenario.view()
    assert after["thresholds"] == before["thresholds"]
    assert after["targets"] == before["targets"]
    assert after["version"] == before["version"] + 2


def test_the_engine_times_are_a_fresh_search_on_the_open_stations(scenario, mwali_workspace):
    scenario.add(*_inland(mwali_workspace))
    scenario.remove(next(iter(scenario.stations)))
    engine = scenario.engine()
    exact = scenario_analysis(scenario, scenario.main_key)
    base = mwali_workspace.base("car")
    reach = nearest_facility(
        base.network, exact.attachments["facilities"], direction="to_facility", limit_s=engine.horizon_s
    )
    cells, stations = base.attachments["cells"], exact.attachments["facilities"]
    seconds, index = reach_points(base.network, reach, cells)
    # with the straight walks between a station and a cell close to it, as analyze() times them
    seconds, _, _ = direct_offroad(
        cells.point_xy,
        seconds,
        index,
        facility_xy=stations.point_xy,
        speed_kph=base.profile.access_speed_kph,
        max_distance_m=np.maximum(base.profile.snap_tolerance_m, cells.snap_distance_m),
    )
    np.testing.assert_allclose(engine.point_seconds("cells"), seconds, rtol=1e-12, atol=0)


def test_bad_edits_are_refused_and_change_nothing(scenario):
    before = scenario.view()
    with pytest.raises(InputError, match="outside the region Mwali"):
        scenario.add(0.0, 0.0)
    with pytest.raises(InputError, match="not coordinates"):
        scenario.add(float("nan"), 3.0)
    with pytest.raises(InputError, match="no station 'nope'"):
        scenario.move("nope", 43.7, -12.3)
    with pytest.raises(InputError, match="unknown profile 'bicycle'"):
        scenario.update_settings(profile="bicycle")
    with pytest.raises(InputError, match="minutes must be a number"):
        scenario.update_settings(minutes="ten")
    with pytest.raises(InputError, match="unknown standard 'atlantis'"):
        scenario.update_settings(standard="atlantis")
    with pytest.raises(InputError, match="unknown settings"):
        scenario.update_settings(colour="red")
    with pytest.raises(InputError, match="name must be 1 to 120"):
        scenario.add(43.7, -12.3, name="x" * 500)
    assert scenario.view() == before


def test_settings_change_the_analysis_and_the_targets(scenario, mwali_workspace, tmp_path):
    scenario.update_settings(direction="from_facility", minutes=20, standard="lianzhou")
    view = scenario.view()
    assert [row["minutes"] for row in view["thresholds"]] == [10.0, 15.0, 20.0, 30.0]
    assert [t["target"] for t in view["targets"]] == ["households_15min"]
    assert_same_figures(view, library_figures(scenario, mwali_inputs(tmp_path)))


def test_a_saved_scenario_reloads_as_it_was(scenario, mwali_workspace, tmp_path):
    scenario.add(*_inland(mwali_workspace), kind="ems", name="Station Nord")
    scenario.remove(next(iter(scenario.stations)))
    scenario.update_settings(minutes=20)
    store = ScenarioStore(tmp_path / "scenarios")
    path = store.save(scenario, "nord 北")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert data["name"] == "nord 北"
    assert store.names() == ["nord 北"]
    other = Scenario(mwali_workspace, minutes=15, standard="suizhou")
    apply_saved(other, store.read("nord 北"))
    assert other.name == "nord 北"
    assert other.stations == scenario.stations
    assert other.view()["thresholds"] == scenario.view()["thresholds"]
    # a new station added after reloading does not reuse an id
    assert other.add(*_inland(mwali_workspace)).id == "new-2"


def test_bad_scenario_files_are_refused_and_change_nothing(scenario, tmp_path):
    good = scenario_geojson(scenario)
    before = scenario.view()
    broken = json.loads(json.dumps(good))
    broken["features"][0]["properties"]["id"] = "node/0"
    with pytest.raises(InputError, match="not a facility of the region"):
        apply_saved(scenario, broken)
    broken = json.loads(json.dumps(good))
    broken["features"][1]["geometry"] = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    with pytest.raises(InputError, match="feature 2: geometry must be a Point"):
        read_scenario_geojson(broken)
    with pytest.raises(InputError, match="not a saved scenario"):
        apply_saved(scenario, {"type": "FeatureCollection", "features": []})
    with pytest.raises(InputError, match="scenario name"):
        ScenarioStore(tmp_path).path("../../etc/passwd")
    assert scenario.view() == before
