"""The facility-coverage command, run through its entry point as a user would."""

from __future__ import annotations

import contextlib
import json
import os

import geopandas as gpd
import pandas as pd
import pytest

from coverage.cli.main import main
from coverage.network.prepared import file_sha256
from coverage.outputs import files as outputs
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER


@pytest.fixture(scope="module")
def mwali_file(tmp_path_factory, mwali_boundary):
    path = tmp_path_factory.mktemp("boundary") / "mwali.geojson"
    gpd.GeoDataFrame({"name": ["Mwali"]}, geometry=[mwali_boundary], crs=4326).to_file(path)
    return path


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _analyze(out, mwali_file, cache_dir, *extra):
    args = ["analyze", str(COMOROS_PBF), "--boundary", str(mwali_file), "--cache-dir", str(cache_dir)]
    return main([*args, "--out", str(out), *extra])


def test_help_reads_like_a_manual(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for words in ("inputs:", "method:", "outputs (in --out):", "examples:", "exit status:", "--datum", "--ems"):
        assert words in text


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "analyze" in capsys.readouterr().out


def test_analyze_writes_every_output(tmp_path, mwali_file, cache_dir, capsys):
    out = tmp_path / "out"
    code = _analyze(out, mwali_file, cache_dir, "--population", str(COMOROS_RASTER), "--minutes", "15,30")
    assert code == 0
    printed = capsys.readouterr().out
    assert "within 15 min" in printed
    assert "within 30 min" in printed
    assert "© OpenStreetMap contributors" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "catchments.csv",
        "coverage.gpkg",
        "nearest_facility.qml",
        "nearest_facility.tif",
        "summary.json",
        "traveltime.qml",
        "traveltime.tif",
        "villages.csv",
        "zones.csv",
    ]
    layers = set(gpd.list_layers(out / "coverage.gpkg")["name"])
    assert {
        "facilities",
        "villages",
        "isochrones",
        "service_areas",
        "catchments",
        "isochrones_by_facility",
        "road_problems",
        "layer_styles",
    } <= layers
    # per-facility isochrones only when asked for
    assert gpd.read_file(out / "coverage.gpkg", layer="isochrones_by_facility").empty
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [row["minutes"] for row in summary["thresholds"]] == [15.0, 30.0]
    assert "OpenStreetMap" in summary["attribution"]
    assert summary["inputs"]["network"]["sha256"] == file_sha256(COMOROS_PBF)
    assert set(summary["inputs"]) == {"network", "profile", "population", "boundary"}
    raw = (out / "villages.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    villages = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")
    assert {"name", "minutes", "covered_15", "covered_30", "off_network", "lon", "lat"} <= set(villages.columns)


def test_population_totals_from_a_csv_a_column_or_none(tmp_path, mwali_file, cache_dir, capsys):
    islands = ["--population", str(COMOROS_RASTER), "--zones", str(COMOROS_ADMIN)]
    islands += ["--zones-where", "admin_level == '4'", "--zones-name-column", "name_en"]
    totals = tmp_path / "七普.csv"
    totals.write_bytes('岛,常住人口\nMoheli,"51,567"\n'.encode("gbk"))
    assert _analyze(tmp_path / "csv", mwali_file, cache_dir, *islands, "--population-totals", str(totals)) == 0
    printed = capsys.readouterr().out
    assert "51,567 people" in printed
    assert "population: 1 of 3 units calibrated to 七普.csv (factor 0.146)" in printed
    assert "calibrated to 七普.csv" in printed  # the credit line
    table = pd.read_csv(tmp_path / "csv" / "population_calibration.csv", encoding="utf-8-sig")
    assert list(table["status"]) == ["no_total", "no_total", "calibrated"]

    # a column of the zones file; a column that is not there is an input error
    assert _analyze(tmp_path / "col", mwali_file, cache_dir, *islands, "--population-totals", "nope") == 2
    assert "no column 'nope' with population totals; give a CSV file of totals" in capsys.readouterr().err
    assert _analyze(tmp_path / "typo", mwali_file, cache_dir, *islands, "--population-totals", "totals.csv") == 2
    assert "population totals file not found" in capsys.readouterr().err

    # 'none' keeps the raster's figures: here the same as giving no totals
    assert _analyze(tmp_path / "none", mwali_file, cache_dir, *islands, "--population-totals", "none") == 0
    assert "calibrated" not in capsys.readouterr().out
    assert not (tmp_path / "none" / "population_calibration.csv").exists()


def test_without_population_the_shares_are_said_to_be_of_villages(tmp_path, mwali_file, cache_dir, capsys):
    assert _analyze(tmp_path / "out", mwali_file, cache_dir) == 0
    printed = capsys.readouterr().out
    assert "shares are of villages, not people" in printed
    assert " people" not in printed.split("no population data")[0]
    zones = pd.read_csv(tmp_path / "out" / "zones.csv", encoding="utf-8-sig")
    assert zones["population_total"].isna().all()


def test_chinese_names_survive_into_the_csv(tmp_path, mwali_file, cache_dir, mwali_places):
    villages = mwali_places.assign(name=[f"村{i}号" for i in range(len(mwali_places))])
    path = tmp_path / "villages.geojson"
    villages.to_file(path)
    assert _analyze(tmp_path / "out", mwali_file, cache_dir, "--villages", str(path), "--no-facility-isochrones") == 0
    table = pd.read_csv(tmp_path / "out" / "villages.csv", encoding="utf-8-sig")
    assert table["name"].tolist() == villages["name"].tolist()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--facilities", "no/such/file.csv"], "no/such/file.csv"),
        (["--profile", "sportscar"], "sportscar"),
        (["--kinds", "ems"], "no facility of kind ems"),
    ],
)
def test_bad_input_exits_2_and_leaves_earlier_outputs_intact(tmp_path, mwali_file, cache_dir, capsys, extra, message):
    out = tmp_path / "out"
    assert _analyze(out, mwali_file, cache_dir, "--no-facility-isochrones") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert _analyze(out, mwali_file, cache_dir, *extra) == 2
    error = capsys.readouterr().err
    assert error.startswith("facility-coverage analyze: error:")
    assert message in error
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_missing_network_file(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "county.osm.pbf"), "--out", str(tmp_path / "out")]) == 2
    assert "county.osm.pbf" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_failure_while_writing_keeps_the_previous_outputs(tmp_path, mwali_file, cache_dir, monkeypatch, capsys):
    out = tmp_path / "out"
    assert _analyze(out, mwali_file, cache_dir, "--no-facility-isochrones") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    def broken(data, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(outputs, "write_json", broken)
    assert _analyze(out, mwali_file, cache_dir, "--no-facility-isochrones", "--minutes", "5") == 2
    error = capsys.readouterr().err
    assert "summary.json: no space left on device; the disk is full" in error
    assert "Traceback" not in error
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [name for name in os.listdir(out) if name.startswith(".partial")]


def test_profiles_list_and_show(capsys):
    assert main(["profiles", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in ("ambulance", "car", "walk"))
    assert main(["profiles", "show", "car"]) == 0
    shown = capsys.readouterr().out
    assert "[urban_kph]" in shown
    assert "[rural_kph]" in shown


@pytest.mark.parametrize("position", ["before", "after"])
def test_quiet_works_before_or_after_the_command(tmp_path, mwali_file, cache_dir, capsys, position):
    args = ["analyze", str(COMOROS_PBF), "--boundary", str(mwali_file), "--cache-dir", str(cache_dir)]
    args += ["--out", str(tmp_path), "--no-facility-isochrones"]
    argv = ["-q", *args] if position == "before" else [*args, "-q"]
    assert main(argv) == 0
    assert capsys.readouterr().out == ""


def test_map_writes_the_html_and_the_png(tmp_path, mwali_file, cache_dir, capsys):
    out = tmp_path / "maps" / "mwali.html"
    png = tmp_path / "maps" / "mwali.png"
    args = ["map", str(COMOROS_PBF), "--boundary", str(mwali_file), "--cache-dir", str(cache_dir)]
    assert main([*args, "--minutes", "15,30", "--out", str(out), "--png", str(png), "--basemap", "none"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "OpenStreetMap contributors" in page
    assert "<script src=" not in page  # self-contained
    assert "Travel time to the nearest facility (car)" in page
    assert 'class="fc-ramp"' in page
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert f"wrote {out} (" in printed
    assert "MB)" in printed


def test_map_refuses_bad_outputs_before_running(tmp_path, capsys):
    earlier = tmp_path / "map.html"
    earlier.write_text("earlier map", encoding="utf-8")
    assert main(["map", "--out", str(tmp_path / "map.pdf")]) == 2
    assert "ending in .html" in capsys.readouterr().err
    assert main(["map", "--out", str(earlier), "--png", str(tmp_path / "map.jpg")]) == 2
    assert "ending in .png" in capsys.readouterr().err
    assert earlier.read_text(encoding="utf-8") == "earlier map"


def test_map_help_reads_like_a_manual(capsys):
    with pytest.raises(SystemExit):
        main(["map", "--help"])
    text = capsys.readouterr().out
    for words in ("--standard", "--sites", "--basemap", "--no-self-contained", "--png", "examples:", "exit status:"):
        assert words in text


def _site(tmp_path, mwali_file, cache_dir, *extra):
    args = ["site", str(COMOROS_PBF), "--boundary", str(mwali_file), "--cache-dir", str(cache_dir)]
    return main([*args, "--demand", "villages", "--out", str(tmp_path / "sites"), *extra])


def test_site_writes_the_sites_in_order_and_the_map_shows_them(tmp_path, mwali_file, cache_dir, capsys):
    assert (
        _site(tmp_path, mwali_file, cache_dir, "--model", "mclp", "--k", "2", "--minutes", "10", "--tradeoff", "3") == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith("mclp: 2 new sites, solver highs optimal")  # nothing from HiGHS itself
    assert "new stations -> people covered: 0:" in printed
    sites = pd.read_csv(tmp_path / "sites" / "sites.csv", encoding="utf-8-sig")
    assert sites["order"].tolist() == [1, 2]
    assert sites["population_gain"].is_monotonic_decreasing
    tradeoff = pd.read_csv(tmp_path / "sites" / "tradeoff.csv", encoding="utf-8-sig")
    assert tradeoff["new_sites"].tolist() == [0, 1, 2, 3]
    assert tradeoff["population_covered"].is_monotonic_increasing
    siting = json.loads((tmp_path / "sites" / "siting.json").read_text(encoding="utf-8"))
    assert siting["solver"]["status"] == "optimal"
    assert gpd.list_layers(tmp_path / "sites" / "sites.gpkg")["name"].tolist()[:2] == ["sites", "tradeoff"]
    out = tmp_path / "map.html"
    args = ["map", str(COMOROS_PBF), "--boundary", str(mwali_file), "--cache-dir", str(cache_dir), "--basemap", "none"]
    assert main([*args, "--sites", str(tmp_path / "sites" / "sites.gpkg"), "--out", str(out)]) == 0
    assert "Candidate sites (2)" in out.read_text(encoding="utf-8")


def test_site_by_zone_thresholds_and_lscp(tmp_path, mwali_file, cache_dir, capsys):
    args = ["--model", "lscp", "--minutes", "central=10,urban=15,*=30", "--zone-column", "zone_class"]
    assert _site(tmp_path, mwali_file, cache_dir, *args, "--population", str(COMOROS_RASTER)) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("lscp: ")
    siting = json.loads((tmp_path / "sites" / "siting.json").read_text(encoding="utf-8"))
    assert siting["minutes"] == {"central": 10.0, "urban": 15.0, "*": 30.0}
    # every village a candidate can reach is covered after
    assert siting["villages_covered_after"] + siting["unreachable"]["points"] >= siting["villages_total"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "lscp", "--k", "2"], "--k does not apply to lscp"),
        (["--minutes", "central=ten"], "ZONE=MINUTES"),
        (["--zone-column", "zone_class", "--minutes", "urban=15,*=30"], "needs the zone classes"),
    ],
)
def test_site_bad_options_exit_2(tmp_path, mwali_file, cache_dir, capsys, extra, message):
    with contextlib.suppress(SystemExit):
        assert _site(tmp_path, mwali_file, cache_dir, *extra) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "sites").exists()


def test_site_checks_a_standard_before_and_after(tmp_path, mwali_file, cache_dir, capsys):
    extra = [
        "--model",
        "mclp",
        "--k",
        "2",
        "--minutes",
        "15",
        "--standard",
        "yiyang",
        "--population",
        str(COMOROS_RASTER),
    ]
    assert _site(tmp_path, mwali_file, cache_dir, *extra) == 0
    table = pd.read_csv(tmp_path / "sites" / "standards.csv", encoding="utf-8-sig")
    assert {"status_before", "status_after", "measured_before", "measured_after"} <= set(table.columns)
    circle = table[table["target"].str.contains("15")].iloc[0]
    assert circle["measured_after"] >= circle["measured_before"]
    assert "yiyang" in capsys.readouterr().out


def test_isochrones_from_the_surface_hold_the_headline_people_and_roads_on_request(
    tmp_path, mwali_file, cache_dir, capsys
):
    figures = {}
    for method in ("surface", "roads"):
        out = tmp_path / method
        code = _analyze(out, mwali_file, cache_dir, "--population", str(COMOROS_RASTER), "--isochrones", method)
        assert code == 0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        iso = gpd.read_file(out / "coverage.gpkg", layer="isochrones").set_index("minutes")
        figures[method] = (summary, iso)
    summary, iso = figures["surface"]
    for row in summary["thresholds"]:
        assert iso.loc[row["minutes"], "population"] == pytest.approx(row["population_covered"], abs=0.05)
    roads_summary, roads = figures["roads"]
    # the same travel times; the corridors along the roads hold fewer people and less land
    for ours, theirs in zip(summary["thresholds"], roads_summary["thresholds"], strict=True):
        assert {k: v for k, v in ours.items() if k != "isochrone_area_km2"} == {
            k: v for k, v in theirs.items() if k != "isochrone_area_km2"
        }
    assert (roads["population"] < iso["population"]).all()
    assert (roads["area_km2"] < iso["area_km2"]).all()


def test_facility_isochrones_on_request(tmp_path, mwali_file, cache_dir, mwali_facilities):
    out = tmp_path / "out"
    assert _analyze(out, mwali_file, cache_dir, "--facility-isochrones", "--minutes", "10") == 0
    per = gpd.read_file(out / "coverage.gpkg", layer="isochrones_by_facility")
    assert len(per) == len(mwali_facilities)


def test_a_graphml_network_with_a_raster_needs_no_village_file(tmp_path, cache_dir, capsys, caplog):
    from coverage.io.osm import facilities_from_osm
    from tests.conftest import INPUT

    facilities = facilities_from_osm(INPUT / "fomboni.osm")
    table = pd.DataFrame(
        {"id": facilities["id"], "name": facilities["name"], "kind": facilities["kind"], "beds": 12}
    ).assign(lon=facilities.geometry.x.to_numpy(), lat=facilities.geometry.y.to_numpy())
    csv = tmp_path / "facilities.csv"
    table.to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["analyze", str(INPUT / "fomboni.graphml"), "--facilities", str(csv), "--population", str(COMOROS_RASTER)]
    assert main([*args, "--cache-dir", str(cache_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "0 villages" in printed.out
    assert "people" in printed.out
    # no boundary: the cells far from these few roads are left out, and said so
    assert "left out of the region" in caplog.text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["villages"]["total"] == 0
    assert summary["thresholds"][-1]["population_total"] > 1000
    assert summary["surface"]["cells"] > 100
    catchments = pd.read_csv(out / "catchments.csv", encoding="utf-8-sig")
    assert catchments["population_per_bed"].notna().any()
    assert pd.read_csv(out / "villages.csv", encoding="utf-8-sig").empty


def test_cell_m_sets_the_surface_grid_without_a_raster(tmp_path, mwali_file, cache_dir):
    sizes = {}
    for cell_m in ("250", "500"):
        out = tmp_path / cell_m
        assert _analyze(out, mwali_file, cache_dir, "--cell-m", cell_m) == 0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        sizes[cell_m] = summary["surface"]
        import rasterio

        with rasterio.open(out / "traveltime.tif") as src:
            assert src.res == (float(cell_m), float(cell_m))
            assert not src.crs.is_geographic
    assert sizes["250"]["cell_size_m"] == pytest.approx(250)
    assert sizes["250"]["cells"] == pytest.approx(4 * sizes["500"]["cells"], rel=0.1)
    assert sizes["250"]["area_km2"] == pytest.approx(sizes["500"]["area_km2"], rel=0.05)


def test_bad_cell_size_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "--cell-m", "0", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--cell-m" in capsys.readouterr().err


def test_long_runs_show_their_steps_off_a_terminal(capsys):
    from coverage.cli._runs import StepBar

    bar = StepBar(3, enabled=False, log=True, quiet_s=0.0)
    bar("road network")
    bar("travel-time surface")
    bar("travel-time surface: 50,000 of 100,000 cells snapped, about 3 s left")
    bar("isochrones")
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[1/3] road network")
    assert lines[1].startswith("[2/3] travel-time surface")
    assert "about 3 s left" in lines[2]
    assert lines[3].startswith("[3/3] isochrones")
    quiet = StepBar(3, enabled=False, log=True, quiet_s=60.0)
    quiet("road network")
    quiet.close()
    assert capsys.readouterr().err == ""
