"""The siting run read back for its map: settings, inputs, sites joined to the facilities."""

from __future__ import annotations

import json
from types import SimpleNamespace

import geopandas as gpd
import pytest

from coverage._errors import InputError
from coverage.outputs.siting_map import check_same_inputs, read_siting, sites_as_facilities


def _siting(folder, **settings):
    data = {"model": "mclp", "minutes": 30.0, "population_total": 10.0}
    if settings:
        data["settings"] = settings
    (folder / "siting.json").write_text(json.dumps(data), encoding="utf-8")
    return folder / "sites.gpkg"


def test_no_siting_json_means_a_plain_point_file(tmp_path):
    assert read_siting(tmp_path / "my_sites.csv") is None


def test_a_siting_json_without_its_settings_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"written by an earlier version\. Run 'facility-coverage site' again"):
        read_siting(_siting(tmp_path))


def test_settings_and_inputs_are_read_and_compared(tmp_path):
    inputs = {"network": {"path": "a.osm.pbf", "sha256": "1" * 64}}
    siting = read_siting(_siting(tmp_path, profile="ambulance", direction="from_facility", ems=True, inputs=inputs))
    assert (siting.profile, siting.direction, siting.ems, siting.minutes) == ("ambulance", "from_facility", True, 30.0)
    check_same_inputs(siting, SimpleNamespace(inputs=inputs), sites_path="sites.gpkg")
    other = {"network": {"path": "b.osm.pbf", "sha256": "2" * 64}, "population": {"path": "p.tif", "sha256": "3" * 64}}
    with pytest.raises(
        InputError,
        match=r"network: the siting used a\.osm\.pbf, this map b\.osm\.pbf; population: the siting used none",
    ):
        check_same_inputs(siting, SimpleNamespace(inputs=other), sites_path="sites.gpkg")


def test_sites_join_the_existing_facilities_with_their_own_kind():
    existing = gpd.GeoDataFrame(
        {"id": ["node/1"], "name": ["H"], "kind": ["hospital"]}, geometry=gpd.points_from_xy([43.7], [-12.3]), crs=4326
    )
    sites = gpd.GeoDataFrame(
        {"site_id": ["road/3"], "name": ["secondary road, at Fomboni"]},
        geometry=gpd.points_from_xy([43.75], [-12.29]),
        crs=4326,
    )
    both = sites_as_facilities(existing, sites, kind="ems")
    assert both[["id", "kind"]].values.tolist() == [["node/1", "hospital"], ["road/3", "ems"]]
    with pytest.raises(InputError, match="share the ids"):
        sites_as_facilities(existing, sites.assign(site_id="node/1"), kind="ems")
