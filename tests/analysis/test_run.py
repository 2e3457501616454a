"""The main job end to end on real data (Mwali island of the shipped Comoros set)."""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage._errors import InputError
from coverage.analysis.result import covered_column
from coverage.analysis.run import analyze
from coverage.io.datum import wgs84_to_gcj02
from tests.conftest import COMOROS_ADMIN, COMOROS_CENSUS, COMOROS_PBF, COMOROS_RASTER


@pytest.fixture(scope="module")
def mwali_run(tmp_path_factory, mwali_boundary):
    cache = tmp_path_factory.mktemp("cache")
    return analyze(
        COMOROS_PBF,
        boundary=mwali_boundary,
        population=COMOROS_RASTER,
        zones=COMOROS_ADMIN,
        zones_name_column="name",
        zones_where="admin_level == '8'",
        minutes=[10, 15, 30],
        cache_dir=cache,
    )


def test_every_village_and_cell_is_kept_and_timed(mwali_run, mwali_places):
    villages = mwali_run.villages
    assert len(villages) == len(mwali_places)  # nothing dropped
    assert villages["id"].is_unique
    assert {"nearest_facility_id", "minutes", "covered_10", "covered_30", "off_network", "small_piece"} <= set(
        villages.columns
    )
    reached = villages["minutes"].notna()
    assert reached.sum() >= 0.9 * len(villages)
    assert villages.loc[reached, "nearest_facility_id"].isin(mwali_run.facilities["id"]).all()
    cells = mwali_run.cells
    assert cells is not None
    assert len(cells) > 1000
    # the per-threshold flags agree with the minutes (<= T, no rounding)
    for threshold in mwali_run.minutes:
        flag = cells[covered_column(threshold)]
        assert (flag == (cells["minutes"] <= threshold)).all()


def test_a_longer_threshold_never_covers_fewer(mwali_run):
    rows = mwali_run.summary()["thresholds"]
    people = [row["population_covered"] for row in rows]
    villages = [row["villages_covered"] for row in rows]
    assert people == sorted(people)
    assert villages == sorted(villages)
    assert 0 < rows[-1]["population_share"] <= 1


def test_population_shares_per_zone_add_up(mwali_run):
    table = mwali_run.zone_table()
    cells = mwali_run.cells
    for threshold, group in table.groupby("minutes"):
        rounding = 0.05 * len(group)  # each zone's figure is rounded to 0.1 person
        assert group["population_total"].sum() == pytest.approx(cells["population"].sum(), abs=rounding)
        assert group["population_covered"].sum() == pytest.approx(
            cells.loc[cells[covered_column(threshold)], "population"].sum(), abs=rounding
        )
    assert {"Fomboni", "Djando"} <= set(table["zone"])


def test_isochrone_population_is_counted(mwali_run):
    iso = mwali_run.isochrones
    assert iso["minutes"].tolist() == [10.0, 15.0, 30.0]
    assert (np.diff(iso["population"]) >= 0).all()
    assert iso["population"].iloc[-1] <= mwali_run.cells["population"].sum() + 1e-6
    assert iso.crs.to_epsg() == 4326


def test_villages_without_population_get_it_from_the_raster(mwali_run):
    villages = mwali_run.villages
    assert set(villages["population_source"]) <= {"stated", "raster_nearest_place", "none"}
    estimated = villages[villages["population_source"] == "raster_nearest_place"]
    assert len(estimated) > 0
    assert (estimated["population"] >= 0).all()


def test_ems_uses_hospitals_when_there_are_no_ambulance_stations(tmp_path, mwali_boundary):
    result = analyze(
        COMOROS_PBF,
        boundary=mwali_boundary,
        ems=True,
        profile="ambulance",
        minutes=[30],
        per_facility_isochrones=False,
        cache_dir=tmp_path,
    )
    assert set(result.facilities["kind"]) == {"hospital"}
    assert result.direction == "from_facility"


def _mwali_facility_csv(path, facilities, *, datum="wgs84", encoding="utf-8", swap=False):
    lon, lat = facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy()
    if datum == "gcj02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    table = pd.DataFrame(
        {
            "编号": [f"F{i:03d}" for i in range(len(facilities))],
            "名称": [f"卫生院{i}" for i in range(len(facilities))],
            "kind": "clinic",
            "经度": lat if swap else lon,
            "纬度": lon if swap else lat,
        }
    )
    table.to_csv(path, index=False, encoding=encoding)
    return path


def test_user_facility_file_in_gcj02_and_gbk(tmp_path, mwali_boundary, mwali_facilities):
    csv = _mwali_facility_csv(tmp_path / "f.csv", mwali_facilities, encoding="gbk")
    plain = analyze(
        COMOROS_PBF, boundary=mwali_boundary, facilities=csv, per_facility_isochrones=False, cache_dir=tmp_path
    )
    assert plain.facilities["name"].str.startswith("卫生院").all()
    assert set(plain.facilities["id"]) == {f"F{i:03d}" for i in range(len(mwali_facilities))}
    # Mwali is outside China, where no one writes GCJ-02: the option is a mistake there, said before any work
    with pytest.raises(InputError, match=r"datum gcj02 \(--datum\).*lie outside China.*give --datum wgs84"):
        analyze(
            COMOROS_PBF,
            boundary=mwali_boundary,
            facilities=_mwali_facility_csv(tmp_path / "g.csv", mwali_facilities, datum="gcj02"),
            datum="gcj02",
            per_facility_isochrones=False,
            cache_dir=tmp_path,
        )


def test_swapped_lat_lon_is_reported(tmp_path, mwali_boundary, mwali_facilities):
    csv = _mwali_facility_csv(tmp_path / "f.csv", mwali_facilities, swap=True)
    with pytest.raises(InputError, match="swapped"):
        analyze(COMOROS_PBF, boundary=mwali_boundary, facilities=csv, cache_dir=tmp_path)


def test_unknown_kind_gives_an_empty_facility_set_error(tmp_path, mwali_boundary):
    with pytest.raises(InputError, match=r"no facility of kind ems in comores-latest\.osm\.pbf within the region"):
        analyze(COMOROS_PBF, boundary=mwali_boundary, kinds=["ems"], cache_dir=tmp_path)


def test_unknown_profile(tmp_path, mwali_boundary):
    with pytest.raises(Exception, match="sportscar"):
        analyze(COMOROS_PBF, boundary=mwali_boundary, profile="sportscar", cache_dir=tmp_path)


def test_villages_from_a_user_file_with_population(tmp_path, mwali_boundary, mwali_places):
    villages = gpd.GeoDataFrame(
        {"id": mwali_places["id"], "村名": mwali_places["name"], "人口": np.arange(len(mwali_places)) * 10.0},
        geometry=mwali_places.geometry,
        crs=4326,
    )
    path = tmp_path / "villages.gpkg"
    villages.to_file(path)
    result = analyze(
        COMOROS_PBF, boundary=mwali_boundary, villages=path, per_facility_isochrones=False, cache_dir=tmp_path
    )
    assert (result.villages["population_source"] == "stated").all()
    assert result.villages["population"].tolist() == villages["人口"].tolist()
    named = villages["村名"] != ""
    assert result.villages["name"][named].tolist() == villages["村名"][named].tolist()
    # a village without a name is told by where it is, and its id
    for row in result.villages[~named.to_numpy()].itertuples():
        assert re.fullmatch(rf"unnamed village (at |\d+\.\d km [NESW]+ of ).+ \({row.id}\)", row.name)
    assert result.villages["unnamed"].tolist() == (~named).tolist()
    assert (villages["村名"] == "").any()


def test_in_memory_facilities_are_checked_like_files(tmp_path, mwali_boundary, mwali_facilities):
    twice = mwali_facilities.assign(id="same")
    with pytest.raises(InputError, match="duplicate ids 'same'"):
        analyze(COMOROS_PBF, boundary=mwali_boundary, facilities=twice, cache_dir=tmp_path)
    with pytest.raises(InputError, match="no CRS"):
        analyze(
            COMOROS_PBF,
            boundary=mwali_boundary,
            facilities=mwali_facilities.set_crs(None, allow_override=True),
            cache_dir=tmp_path,
        )
    far = mwali_facilities.assign(geometry=mwali_facilities.geometry.translate(xoff=3.0))
    with pytest.raises(InputError, match="nothing to measure travel times to"):
        analyze(COMOROS_PBF, boundary=mwali_boundary, facilities=far, cache_dir=tmp_path)


def test_facilities_across_the_border_serve_the_region_and_far_ones_are_left_out(
    tmp_path, caplog, mwali_boundary, mwali_facilities
):
    """A facility just outside the boundary counts (flagged); one beyond the border is left out, said and recorded."""
    facilities = mwali_facilities.drop(columns=["osm_tags"]).reset_index(drop=True)
    outline = gpd.GeoSeries([mwali_boundary], crs=4326)
    utm = outline.estimate_utm_crs()
    # move one facility 2 km off the coast (outside the island, inside a 5 km border), one 40 km away
    projected = facilities.geometry.to_crs(utm)
    coast = outline.to_crs(utm).boundary.iloc[0]
    near = coast.interpolate(coast.project(projected.iloc[0]))
    centre = outline.to_crs(utm).centroid.iloc[0]
    step = np.array([near.x - centre.x, near.y - centre.y])
    step /= np.hypot(*step)
    moved = projected.copy()
    moved.iloc[0] = shapely.Point(near.x + 2000 * step[0], near.y + 2000 * step[1])
    moved.iloc[1] = shapely.Point(near.x + 40_000 * step[0], near.y + 40_000 * step[1])
    facilities = facilities.set_geometry(moved.to_crs(4326))
    with caplog.at_level(logging.WARNING, logger="coverage"):
        result = analyze(
            COMOROS_PBF,
            boundary=mwali_boundary,
            facilities=facilities,
            border_km=5,
            per_facility_isochrones=False,
            cache_dir=tmp_path,
        )
    kept = result.facilities.set_index("id")
    assert facilities["id"].iloc[1] not in kept.index
    assert len(kept) == len(facilities) - 1
    assert bool(kept.loc[facilities["id"].iloc[0], "outside_boundary"])
    assert int(kept["outside_boundary"].sum()) == 1
    assert "1 facilities lie more than 5 km outside the boundary" in caplog.text
    notes = result.summary()["notes"]["facilities"]
    assert notes["left_out"]["count"] == 1
    assert notes["left_out"]["ids"] == [facilities["id"].iloc[1]]
    assert notes["outside_boundary"] == 1
    assert result.summary()["facilities"]["outside_boundary"] == 1


def test_an_analysis_pickles_for_dask(mwali_run):
    import pickle

    back = pickle.loads(pickle.dumps(mwali_run))
    assert back.summary()["thresholds"] == mwali_run.summary()["thresholds"]
    assert back.profile == mwali_run.profile
    assert back.profile.fingerprint == mwali_run.profile.fingerprint
    with pytest.raises(TypeError):
        back.profile.urban_kph["primary"] = 1.0  # still read-only


def test_the_raster_is_calibrated_to_the_census_island_totals(calibrated_mwali, mwali_boundary):
    assert calibrated_mwali.cells["population"].sum() == pytest.approx(51567, rel=1e-9)
    calibration = calibrated_mwali.population_calibration
    units = calibration.units.set_index("unit")
    assert (units["status"] == "calibrated").all()
    # the raster puts 354,273 people on Mohéli and 65,897 on Anjouan
    assert units.loc["Moheli", "population_before"] == pytest.approx(354273, abs=1)
    assert units.loc["Anjouan", "factor"] == pytest.approx(327382 / units.loc["Anjouan", "population_before"])
    assert units.loc["Moheli", "population_in_region"] == pytest.approx(51567)
    assert units.loc["Anjouan", "population_in_region"] == 0  # outside the region analysed
    zones = calibrated_mwali.zone_table().groupby("zone")["population_total"].first()
    assert zones["Moheli"] == pytest.approx(51567)
    summary = calibrated_mwali.summary()
    assert summary["population"]["calibration"]["units_calibrated"] == 3
    assert summary["thresholds"][0]["population_total"] == pytest.approx(51567)
    assert "calibrated to 2017 census island totals (INSEED)" in calibrated_mwali.attribution
    assert summary["source"]["credit"] == calibrated_mwali.attribution
    roles = {note["role"] for note in summary["source"]["inputs"]}
    assert roles == {"roads", "facilities", "villages", "population", "population totals", "admin units"}
    # the raster as the analysis counted it, for the zone classes of the standards
    from coverage.analysis.demand import population_cells

    grid = calibrated_mwali.population_grid()
    assert population_cells(grid, boundary=mwali_boundary)["population"].sum() == pytest.approx(51567)


def test_totals_need_the_admin_units_they_are_for(tmp_path, mwali_boundary):
    with pytest.raises(InputError, match="needs the admin units they are for; give their polygons with --zones"):
        analyze(COMOROS_PBF, boundary=mwali_boundary, population=COMOROS_RASTER, population_totals=COMOROS_CENSUS)


def test_without_population_the_shares_are_of_villages(tmp_path, mwali_boundary):
    result = analyze(COMOROS_PBF, boundary=mwali_boundary, per_facility_isochrones=False, cache_dir=tmp_path)
    assert result.population_basis == "none"
    summary = result.summary()
    assert "shares are of villages, not people" in summary["population"]["note"]
    assert all(row["village_population_total"] is None for row in summary["thresholds"])
    assert all("population_share" not in row for row in summary["thresholds"])
    table = result.zone_table()
    assert table["population_total"].isna().all()
    assert set(table["population_basis"]) == {"none"}
    assert "Population" not in result.attribution


def test_village_populations_are_calibrated_per_commune_without_a_raster(tmp_path, mwali_boundary, mwali_places):
    from coverage.analysis.zones import assign_zones, read_zones

    communes = read_zones(COMOROS_ADMIN, name_column="name", where="admin_level == '8'")
    villages = mwali_places.assign(population=100.0)
    zone = assign_zones(villages, communes)
    totals = pd.DataFrame({"commune": ["Fomboni", "Djando"], "population": [30834, 9349]})
    result = analyze(
        COMOROS_PBF,
        boundary=mwali_boundary,
        villages=villages,
        zones=COMOROS_ADMIN,
        zones_name_column="name",
        zones_where="admin_level == '8'",
        population_totals=totals,
        per_facility_isochrones=False,
        cache_dir=tmp_path,
    )
    by_zone = result.villages.groupby("zone")["population"].sum()
    for commune, people in (("Fomboni", 30834), ("Djando", 9349)):
        assert (zone == commune).any()
        assert by_zone[commune] == pytest.approx(people)
    others = result.villages[~result.villages["zone"].isin(["Fomboni", "Djando"])]
    assert (others["population"] == 100.0).all()  # no total: as the village file gives them
    assert result.population_calibration.basis == "villages"
    assert "Population totals: the population totals table" in result.attribution


def test_a_county_road_layer_is_not_credited_to_openstreetmap(tmp_path, mwali_facilities, mwali_places):
    from tests.conftest import INPUT

    roads = INPUT / "fomboni_roads.gpkg"
    west, south, east, north = gpd.read_file(roads).to_crs(4326).total_bounds
    facilities = mwali_facilities.cx[west:east, south:north].drop(columns=["osm_tags"], errors="ignore")
    villages = mwali_places.cx[west:east, south:north]
    table = pd.DataFrame({"id": facilities["id"], "name": facilities["name"], "kind": facilities["kind"]})
    table["lon"], table["lat"] = facilities.geometry.x, facilities.geometry.y
    table.to_csv(tmp_path / "clinics.csv", index=False)
    result = analyze(
        roads,
        road_class_column="道路等级",
        facilities=tmp_path / "clinics.csv",
        villages=villages,
        per_facility_isochrones=False,
        cache_dir=tmp_path,
    )
    assert "OpenStreetMap" not in result.attribution
    assert "Roads: fomboni_roads.gpkg (the road layer given)" in result.attribution
    assert "Facilities: clinics.csv (the facilities file given)" in result.attribution
