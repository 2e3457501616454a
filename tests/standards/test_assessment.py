"""Every standard preset evaluated end to end on real data (Mwali island of the Comoros set).

The Comoros are not one of the plans' regions: the zones central / urban / rural are
derived from the WorldPop raster by each standard's density thresholds, and the
facility kinds the plans name (township health centres, village clinics, ambulance
stations) mostly do not exist there, so many targets fail or cannot be evaluated.
The point is that every target of every preset is evaluated through the real pipeline.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from coverage.cli.main import main
from coverage.standards.assessment import assess, zone_class_of
from coverage.standards.checks import ASSUMED, CANNOT, FAIL, NOT_APPLICABLE, PASS, STATUSES
from coverage.standards.standard import list_standards, load_standard
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER


@pytest.fixture(scope="module")
def region(tmp_path_factory, mwali_boundary):
    return {
        "osm": COMOROS_PBF,
        "boundary": mwali_boundary,
        "population": COMOROS_RASTER,
        "zones": COMOROS_ADMIN,
        "zones_where": "admin_level == '8'",
        "cache_dir": tmp_path_factory.mktemp("cache"),
    }


@pytest.fixture(scope="module")
def assessments(region):
    """Each preset assessed once for the whole module."""
    return {name: assess(load_standard(name), **region) for name in list_standards()}


@pytest.mark.parametrize("name", list_standards())
def test_every_preset_is_evaluated(assessments, name):
    assessment = assessments[name]
    standard = assessment.standard
    assert len(assessment.results) == len(standard.targets)
    for target, result in zip(standard.targets, assessment.results, strict=True):
        assert result.target == target.id
        assert result.status in STATUSES
        assert result.detail
        assert result.detail_zh
        if result.status not in (CANNOT, NOT_APPLICABLE):
            assert result.measured is not None
    assert assessment.zone_classes is not None  # derived from the raster
    data = json.loads(json.dumps(assessment.as_dict(), default=str))
    assert [t["id"] for t in data["targets"]] == [t.id for t in standard.targets]


def test_travel_time_targets_agree_with_the_analysis(assessments):
    assessment = assessments["lianzhou"]
    standard = assessment.standard
    target = next(t for t in standard.targets if t.kind == "travel_time")
    result = assessment.results[standard.targets.index(target)]
    analysis = assessment.analyses[(target.profile, target.direction, tuple(target.facility_kinds))]
    cells = analysis.cells
    # with every zone class, the population share equals the analysis' own count
    if "all" in target.zones and target.basis == "population":
        column = f"covered_{target.minutes:g}"
        assert result.measured == pytest.approx(
            cells.loc[cells[column], "population"].sum() / cells["population"].sum()
        )
    assert 0 <= result.measured <= 1


def test_missing_attributes_are_never_a_pass(assessments):
    assessment = assessments["kaijiang"]
    standard = assessment.standard
    for target, result in zip(standard.targets, assessment.results, strict=True):
        if target.kind == "ratio_to_population" and target.resource not in ("count", None):
            # OSM facilities carry no ambulance counts
            assert result.status == CANNOT
            assert target.resource in result.detail


def test_service_radius_reports_the_formula(assessments):
    assessment = assessments["kaijiang"]
    standard = assessment.standard
    for target, result in zip(standard.targets, assessment.results, strict=True):
        if target.kind != "service_radius" or result.status == CANNOT:
            continue
        zones = result.by_zone
        for row in zones.itertuples():
            expected = math.sqrt(row.area_km2 / (math.pi * row.stations)) if row.stations else math.inf
            assert row.average_radius_km == pytest.approx(expected)


def test_check_command_writes_and_exits_by_result(tmp_path, region, capsys, mwali_boundary):
    import geopandas as gpd

    boundary = tmp_path / "mwali.geojson"
    gpd.GeoDataFrame(geometry=[mwali_boundary], crs=4326).to_file(boundary)
    args = [
        "check",
        "--standard",
        "kaijiang",
        str(COMOROS_PBF),
        "--boundary",
        str(boundary),
        "--population",
        str(COMOROS_RASTER),
        "--cache-dir",
        str(region["cache_dir"]),
        "--out",
        str(tmp_path / "out"),
        "--lang",
        "zh",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "开江" in printed
    assert main([*args, "--fail-on-miss"]) == 1  # the rural EMS radius is missed on Mwali
    data = json.loads((tmp_path / "out" / "standards.json").read_text(encoding="utf-8"))
    assert data["standard"] == "kaijiang"
    assert all(t["quote"] for t in data["targets"])
    csv = (tmp_path / "out" / "standards.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")
    assert "label_zh" in csv.decode("utf-8-sig").splitlines()[0]


def test_standards_command(capsys):
    assert main(["standards", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in ("suizhou", "dongxihu", "lianzhou", "yiyang", "kaijiang"))
    assert main(["standards", "show", "lianzhou"]) == 0
    assert "[[target]]" in capsys.readouterr().out
    assert main(["standards", "show", "nowhere"]) == 2


def test_kinds_missing_from_the_data_cannot_be_evaluated(assessments):
    assessment = assessments["kaijiang"]
    result = dict(zip([t.id for t in assessment.standard.targets], assessment.results, strict=True))
    # OSM facilities have no township health centres or village clinics (kinds the plan names)
    assert result["health_centre_per_township"].status == CANNOT
    assert "health_centre" in result["health_centre_per_township"].detail
    assert result["village_clinic_per_village"].status == CANNOT


def test_travel_time_results_per_zone_class_and_per_admin_unit(assessments):
    assessment = assessments["suizhou"]
    result = next(r for r in assessment.results if r.kind == "travel_time" and r.status in (PASS, FAIL, ASSUMED))
    assert set(result.by_zone["zone"]) <= {"central", "urban", "rural"}
    units = result.by_unit.set_index("unit")
    assert {"Fomboni", "Djando"} <= set(units.index)
    # the units' covered population adds up to the whole
    assert units["covered"].sum() == pytest.approx(result.by_zone["covered"].sum())


def test_planners_own_zone_classes(tmp_path, region):
    import geopandas as gpd

    from coverage._errors import InputError
    from coverage.analysis.zones import read_zone_classes

    # the whole of Mwali declared 城区 (urban) in Chinese: every urban target now has places
    layer = tmp_path / "classes.geojson"
    gpd.GeoDataFrame({"类别": ["城区"]}, geometry=[region["boundary"].buffer(0.01)], crs=4326).to_file(layer)
    classes = read_zone_classes(layer, column="类别")
    assert classes["zone_class"].tolist() == ["urban"]
    standard = load_standard("suizhou")
    assessment = assess(standard, zone_classes=layer, zone_class_column="类别", **region)
    by_id = dict(zip([t.id for t in standard.targets], assessment.results, strict=True))
    assert by_id["ems_15min_urban"].status != CANNOT
    # no central polygon given: the region has no central city, so the target does not apply
    assert by_id["ems_10min_central"].status == NOT_APPLICABLE
    bad = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"zone_class": ["downtown"]}, geometry=[region["boundary"]], crs=4326).to_file(bad)
    with pytest.raises(InputError, match=r"'downtown'.*allowed: central, urban, rural"):
        read_zone_classes(bad)


def test_radius_and_ratio_per_admin_unit(assessments):
    assessment = assessments["kaijiang"]
    radius = next(
        r
        for t, r in zip(assessment.standard.targets, assessment.results, strict=True)
        if t.kind == "service_radius" and r.status != CANNOT
    )
    units = radius.by_unit
    assert {"Fomboni", "Djando"} <= set(units["unit"])
    for row in units.itertuples():
        expected = math.sqrt(row.area_km2 / (math.pi * row.stations)) if row.stations else math.inf
        assert row.average_radius_km == pytest.approx(expected)
    # the units' stations add up to at most the zone's (stations on a unit border count once)
    assert units["stations"].sum() <= radius.by_zone["stations"].sum()


def test_ratio_per_admin_unit_with_a_planners_own_standard(tmp_path, region):
    own = tmp_path / "mwali_beds.toml"
    own.write_text(
        """title_zh = "测试标准"
title_en = "Test standard"
plan = "test"

[[target]]
id = "hospitals_per_10k"
kind = "ratio_to_population"
label_zh = "每1万常住人口1所医院"
label_en = "One hospital per 10,000 residents"
quote = "每1万常住人口1所医院"
facility_kinds = ["hospital"]
resource = "count"
per_population = 10000
population_multiplier = 3.0
""",
        encoding="utf-8",
    )
    assessment = assess(load_standard(own), **region)
    ratio = assessment.results[0]
    assert ratio.status in (PASS, FAIL)
    hospitals = assessment.analyses[("car", "to_facility", ())].facilities
    assert ratio.measured == (hospitals["kind"] == "hospital").sum()
    cells = assessment.analyses[("car", "to_facility", ())].cells
    # the rule implies whole hospitals: the ceiling of 3 x people / 10,000
    assert ratio.required == math.ceil(cells["population"].sum() * 3 / 10_000)
    units = ratio.by_unit.set_index("unit")
    people = cells.groupby("zone")["population"].sum()
    for unit, row in units.iterrows():
        assert row["required"] == math.ceil(people[unit] * 3 / 10_000 - 1e-9)
    assert units["have"].sum() <= ratio.measured


def test_villages_outside_counts_villages_not_cells(assessments):
    assessment = assessments["lianzhou"]
    result = assessment.results[0]
    analysis = next(iter(assessment.analyses.values()))
    assert 0 <= result.shortfall["villages_outside"] <= len(analysis.villages)
    assert "places_outside" not in result.shortfall


def test_travel_limits_follow_the_zone_classes(assessments):
    assessment = assessments["suizhou"]
    analysis = assessment.primary_analysis
    # suizhou's first travel-time target is the EMS circle: ambulance, from the station
    assert (analysis.profile.name, analysis.direction) == ("ambulance", "from_facility")
    villages = analysis.villages
    limits = assessment.travel_limits(analysis, villages)
    classes = zone_class_of(villages, assessment.zone_classes)
    expected = {"central": 10.0, "urban": 15.0, "rural": 30.0}
    assert list(limits) == [expected[c] for c in classes]
    # the base analysis (car, all facilities) measures no travel-time target of suizhou
    base = assessment.analyses[("car", "to_facility", ())]
    assert np.isnan(assessment.travel_limits(base, base.villages)).all()


def test_analyses_already_run_are_reused_unless_their_speeds_differ(assessments, region):
    import dataclasses

    from coverage.standards.assessment import analysis_key

    key = analysis_key("car", "to_facility")
    base = assessments["suizhou"].analyses[key]
    shared = {key: base}
    reused = assess(load_standard("yiyang"), analyses=shared, **region)
    assert reused.analyses[key] is base
    assert set(shared) >= set(reused.analyses)  # what it ran is shared with the next standard
    slower = dataclasses.replace(base.profile, rural_kph={k: v / 2 for k, v in base.profile.rural_kph.items()})
    impostor = dataclasses.replace(base, profile=slower)
    fresh = assess(load_standard("yiyang"), analyses={key: impostor}, **region)
    assert fresh.analyses[key] is not impostor
    assert fresh.analyses[key].profile.fingerprint == base.profile.fingerprint


def test_zone_radii_are_measured_over_land_inside_the_boundary_and_empty_units_do_not_apply(
    tmp_path, region, mwali_boundary
):
    """A zone-class polygon reaching into the sea counts only its land; a unit with no land of the class is n/a."""
    import geopandas as gpd
    import shapely

    outline = gpd.GeoSeries([mwali_boundary], crs=4326)
    utm = outline.estimate_utm_crs()
    island_km2 = float(outline.to_crs(utm).area.iloc[0]) / 1e6
    communes = gpd.read_file(COMOROS_ADMIN).query("admin_level == '8'")
    communes = communes[communes.geometry.within(mwali_boundary.buffer(0.01))]
    # rural: a box far larger than the island (mostly sea); urban: one commune only
    box = shapely.box(*shapely.bounds(mwali_boundary)).buffer(0.2)
    urban = communes.geometry.iloc[0]
    layer = tmp_path / "classes.geojson"
    gpd.GeoDataFrame({"zone_class": ["rural", "urban"]}, geometry=[box.difference(urban), urban], crs=4326).to_file(
        layer
    )
    standard = load_standard("kaijiang")
    assessment = assess(standard, zone_classes=layer, **region)
    by_id = dict(zip([t.id for t in standard.targets], assessment.results, strict=True))
    rural = by_id["ems_radius_rural"]
    urban_area_km2 = float(gpd.GeoSeries([urban.intersection(mwali_boundary)], crs=4326).to_crs(utm).area.iloc[0]) / 1e6
    assert rural.by_zone["area_km2"].sum() == pytest.approx(island_km2 - urban_area_km2, rel=0.01)
    box_km2 = float(gpd.GeoSeries([box], crs=4326).to_crs(utm).area.iloc[0]) / 1e6
    assert box_km2 > 3 * island_km2  # the box really reaches into the sea
    urban_radius = by_id["ems_radius_urban"]
    units = urban_radius.by_unit.set_index("unit")
    assert (units["status"] == NOT_APPLICABLE).sum() == len(units) - 1
    assert units.loc[units["status"] != NOT_APPLICABLE, "area_km2"].iloc[0] == pytest.approx(urban_area_km2, rel=0.01)
