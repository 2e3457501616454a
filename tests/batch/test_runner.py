"""Batch runs on Dask distributed: per-region results, failures, skipping unchanged regions, a real cluster."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.analysis.run import analyze
from coverage.batch.extracts import split_osm
from coverage.batch.regions import read_regions, region_folder
from coverage.batch.runner import run_batch
from coverage.batch.task import DONE_JSON, RegionFailed
from coverage.cli.main import build_parser
from coverage.io.osm import facilities_from_osm
from coverage.io.regions import default_region
from tests.conftest import COMOROS_ADMIN, COMOROS_PBF, COMOROS_RASTER, HOSTILE_NAME

#: A square of sea between Mwali and Ngazidja: a region with no roads.
SEA = shapely.box(43.40, -12.20, 43.42, -12.18)
REGION_FILES = ("coverage.gpkg", "villages.csv", "zones.csv", "summary.json", "map.html", DONE_JSON)


@pytest.fixture(scope="module")
def regions_file(tmp_path_factory) -> Path:
    """Mwali, two of its communes and a square of sea named with markup, as one regions file."""
    admin = gpd.read_file(COMOROS_ADMIN)
    communes = admin[admin["admin_level"] == "8"].dissolve("name")
    frame = gpd.GeoDataFrame(
        {
            "id": ["moheli", "fomboni", "moili-mdjini", "sea"],
            "name": ["Mohéli", "Fomboni", "Moili Mdjini", HOSTILE_NAME],
        },
        geometry=[
            admin.loc[admin["name_en"] == "Moheli"].geometry.iloc[0],
            communes.loc["Fomboni"].geometry,
            communes.loc["Moili Mdjini"].geometry,
            SEA,
        ],
        crs=4326,
    )
    path = tmp_path_factory.mktemp("regions") / "regions.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def shared(tmp_path_factory, regions_file) -> dict[str, Path]:
    """One extract split and one network cache for every batch of this module."""
    extracts = tmp_path_factory.mktemp("extracts")
    regions = read_regions(regions_file)
    split_osm(COMOROS_PBF, dict(zip(regions["region_id"], regions.geometry, strict=True)), out_dir=extracts)
    return {"extracts_dir": extracts, "cache_dir": tmp_path_factory.mktemp("cache")}


@pytest.fixture(scope="module")
def client():
    """A local cluster of two one-thread worker processes, shared by the module's batches."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, memory_limit="4GiB", dashboard_address=None
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def communes(tmp_path_factory, regions_file, shared, client):
    """Two communes and the sea, checked against the Yiyang standard."""
    out = tmp_path_factory.mktemp("communes")
    result = run_batch(
        regions_file,
        out_dir=out,
        where="id != 'moheli'",
        standards=["yiyang"],
        per_facility_isochrones=False,
        client=client,
        **shared,
    )
    return result


def test_each_region_is_computed_and_the_one_without_roads_fails(communes):
    statuses = dict(zip(communes.summary["region_id"], communes.summary["status"], strict=True))
    assert statuses == {"fomboni": "ok", "moili-mdjini": "ok", "sea": "failed"}
    failed = communes.summary.set_index("region_id").loc["sea"]
    assert "no roads" in failed["error"]
    assert failed["seconds"] > 0
    ok = communes.summary[communes.summary["status"] == "ok"]
    assert (ok["seconds"] > 0).all()
    assert (ok["peak_memory_mb"] > 50).all()
    assert (ok["population"] > 0).all()
    assert set(ok["yiyang:care_circle_15min"]) <= {"pass", "fail", "cannot_evaluate"}


def test_each_region_folder_has_the_outputs_of_analyze_check_and_its_map(communes):
    for region_id, name in (("fomboni", "Fomboni"), ("moili-mdjini", "Moili Mdjini")):
        folder = region_folder(communes.out_dir, region_id)
        for file_name in (*REGION_FILES, "standards.json", "standards.csv"):
            assert (folder / file_name).stat().st_size > 0, file_name
        done = json.loads((folder / DONE_JSON).read_text(encoding="utf-8"))
        assert done["region_id"] == region_id
        assert done["inputs"]["osm"]["sha256"]
        assert "© OpenStreetMap contributors" in (folder / "map.html").read_text(encoding="utf-8")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["region"] == name
    # a failed region has no done.json, so the next run tries it again
    assert not (region_folder(communes.out_dir, "sea") / DONE_JSON).exists()


def test_summary_csv_and_gpkg_have_one_row_per_region(communes):
    raw = (communes.out_dir / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    table = pd.read_csv(communes.out_dir / "summary.csv", encoding="utf-8-sig")
    assert list(table["region_id"]) == ["fomboni", "moili-mdjini", "sea"]
    for column in ("status", "error", "seconds", "peak_memory_mb", "population", "population_share_30"):
        assert column in table
    assert "yiyang:care_circle_15min" in table
    layer = gpd.read_file(communes.out_dir / "summary.gpkg", layer="regions")
    assert len(layer) == 3
    assert layer.crs.to_epsg() == 4326


def test_facilities_across_the_border_serve_a_commune_that_has_none(communes, regions_file):
    """Moili Mdjini has no health facility of its own: the buffer brings in its neighbours'."""
    outline = read_regions(regions_file).set_index("region_id").loc["moili-mdjini"].geometry
    assert not facilities_from_osm(COMOROS_PBF, boundary=outline).shape[0]
    folder = region_folder(communes.out_dir, "moili-mdjini")
    facilities = gpd.read_file(folder / "coverage.gpkg", layer="facilities")
    assert len(facilities)
    assert not facilities.within(outline).any()
    villages = pd.read_csv(folder / "villages.csv", encoding="utf-8-sig")
    assert villages["nearest_facility_id"].notna().all()
    assert set(villages["nearest_facility_id"]) <= set(facilities["id"])


def test_the_province_map_links_each_region_and_shows_names_as_text(communes):
    page = (communes.out_dir / "index.html").read_text(encoding="utf-8")
    assert "regions/fomboni/map.html" in page
    assert "regions/moili-mdjini/map.html" in page
    assert "© OpenStreetMap contributors" in page
    assert "<img src=x" not in page
    assert HOSTILE_NAME.replace("<", "\\u003c").replace(">", "\\u003e").replace('"', '\\"') in page


def test_a_second_run_skips_unchanged_regions_and_resumes_after_a_stop(
    communes, regions_file, shared, client, tmp_path
):
    out = tmp_path / "again"
    shutil.copytree(communes.out_dir, out)
    fomboni_map = region_folder(out, "fomboni") / "map.html"
    before = fomboni_map.stat().st_mtime_ns
    options = {"where": "id != 'moheli'", "standards": ["yiyang"], "per_facility_isochrones": False, **shared}
    again = run_batch(regions_file, out_dir=out, client=client, retries=0, **options)
    assert again.skipped == ["fomboni", "moili-mdjini"]
    assert again.failed == ["sea"]
    assert fomboni_map.stat().st_mtime_ns == before
    first = communes.summary.set_index("region_id")
    second = again.summary.set_index("region_id")
    assert second.loc["fomboni", "population_share_30"] == first.loc["fomboni", "population_share_30"]
    assert second.loc["fomboni", "yiyang:care_circle_15min"] == first.loc["fomboni", "yiyang:care_circle_15min"]

    # a run stopped after Moili Mdjini's outputs but before its done.json, with a staging folder left behind
    (region_folder(out, "moili-mdjini") / DONE_JSON).unlink()
    (region_folder(out, "moili-mdjini") / ".partial-left").mkdir()
    resumed = run_batch(regions_file, out_dir=out, client=client, retries=0, **options)
    assert resumed.skipped == ["fomboni"]
    assert resumed.ok == ["moili-mdjini"]
    assert (region_folder(out, "moili-mdjini") / DONE_JSON).exists()


def test_results_equal_analyze_alone_and_a_changed_facility_file_recomputes_only_its_region(
    regions_file, shared, client, tmp_path
):
    """Mohéli with OSM facilities, Fomboni with its own facility file; then a LocalCluster started by the batch."""
    fomboni_extract = next(shared["extracts_dir"].glob("fomboni.*.osm.pbf"))
    facilities = facilities_from_osm(fomboni_extract)
    own = tmp_path / "facilities"
    own.mkdir()
    table = pd.DataFrame(
        {
            "id": facilities["id"],
            "name": facilities["name"],
            "kind": facilities["kind"],
            "lon": facilities.geometry.x,
            "lat": facilities.geometry.y,
        }
    )
    table.to_csv(own / "fomboni.csv", index=False)
    out = tmp_path / "out"
    options = {"where": "id in ['moheli', 'fomboni']", "facilities_dir": own, "per_facility_isochrones": False}
    first = run_batch(regions_file, out_dir=out, client=client, **options, **shared)
    assert first.ok == ["moheli", "fomboni"]

    # Mohéli equals analyze() on the same extract, clipped to the island, with the raster
    # calibrated to the census island totals as the batch calibrates the embedded raster
    moheli = read_regions(regions_file).set_index("region_id").loc["moheli"].geometry
    extract = next(shared["extracts_dir"].glob("moheli.*.osm.pbf"))
    region = default_region()
    alone = analyze(
        extract,
        boundary=moheli,
        population=COMOROS_RASTER,
        zones=region.zones,
        zones_where=region.zones_where,
        zones_name_column=region.zones_name_column,
        population_totals=region.population_totals,
        per_facility_isochrones=False,
        cache_dir=shared["cache_dir"],
    )
    assert alone.population_calibration is not None
    calibration = pd.read_csv(out / "population_calibration.csv", encoding="utf-8-sig").set_index("unit")
    assert calibration.loc["Moheli", "official_population"] == 51567
    folder = region_folder(out, "moheli")
    batch_summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert batch_summary["thresholds"] == json.loads(json.dumps(alone.summary()["thresholds"]))
    villages = pd.read_csv(folder / "villages.csv", encoding="utf-8-sig").set_index("id")
    expected = alone.villages.set_index("id").loc[villages.index]
    np.testing.assert_array_equal(villages["minutes"].to_numpy(), expected["minutes"].round(2).to_numpy())
    assert list(villages["nearest_facility_id"]) == list(expected["nearest_facility_id"])
    batch_facilities = gpd.read_file(folder / "coverage.gpkg", layer="facilities")
    assert sorted(batch_facilities["id"]) == sorted(alone.facilities["id"])

    # one facility less in Fomboni's own file: only Fomboni is computed again
    table.iloc[1:].to_csv(own / "fomboni.csv", index=False)
    second = run_batch(regions_file, out_dir=out, workers=1, **options, **shared)
    assert second.dashboard_link
    assert second.skipped == ["moheli"]
    assert second.ok == ["fomboni"]
    figures = second.summary.set_index("region_id")
    assert figures.loc["fomboni", "facilities"] == len(table) - 1
    assert figures.loc["moheli", "facilities"] == first.summary.set_index("region_id").loc["moheli", "facilities"]


def test_read_regions_merges_rows_sharing_an_id_and_refuses_clashing_folders(tmp_path):
    admin = gpd.read_file(COMOROS_ADMIN)
    communes = admin[admin["admin_level"] == "8"]
    regions = read_regions(communes, id_column="name")
    assert sorted(regions["region_id"]) == sorted(communes["name"].unique())
    djando = regions.set_index("region_id").loc["Djando"].geometry
    assert djando.geom_type == "MultiPolygon"
    clash = gpd.GeoDataFrame({"id": ["a b", "a/b"]}, geometry=[SEA, SEA], crs=4326)
    with pytest.raises(ValueError, match="same folder name"):
        read_regions(clash)
    with pytest.raises(ValueError, match="no column 'code'"):
        read_regions(communes, id_column="code")


def test_region_failed_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(RegionFailed("InputError: no roads", 1.5, 300.0)))
    assert (str(error), error.seconds, error.peak_memory_mb) == ("InputError: no roads", 1.5, 300.0)


# --------------------------------------------------------------------------- the command, on a real cluster


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


def test_a_missing_regions_file_is_a_batch_error(tmp_path, capsys):
    assert _run(["-q", "batch", "--regions", str(tmp_path / "nowhere.geojson"), "--out", str(tmp_path)]) == 2
    assert "regions file not found" in capsys.readouterr().err
    assert not (tmp_path / "summary.csv").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path):
    """A real ``dask scheduler`` and two ``dask worker`` processes on loopback; always shut down."""
    dask = Path(sys.executable).with_name("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = {"cwd": tmp_path, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": dict(os.environ)}
    processes = [
        subprocess.Popen(
            [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **common
        )
    ]
    try:
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        str(dask),
                        "worker",
                        address,
                        *("--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"),
                        # no nanny: one process per worker, so that stopping it leaves nothing behind
                        *("--no-nanny", "--worker-port", str(_free_port())),
                        *("--memory-limit", "4GiB", "--local-directory", str(tmp_path)),
                    ],
                    **common,
                )
            )
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes[::-1]:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_command_runs_on_a_scheduler_and_two_workers(dask_cluster, regions_file, shared, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["-q", "batch", "--regions", str(regions_file), "--scheduler", dask_cluster, "--out", str(out)]
    argv += ["--extracts-dir", str(shared["extracts_dir"]), "--cache-dir", str(shared["cache_dir"])]
    argv += ["--no-facility-isochrones", "--retries", "1"]
    assert _run([*argv, "--where", "id in ['fomboni', 'sea']"]) == 1  # the sea failed
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index("region_id")
    assert summary.loc["fomboni", "status"] == "ok"
    assert summary.loc["sea", "status"] == "failed"
    # again without the sea: Fomboni is unchanged, nothing runs, all is well
    assert _run([*argv, "--where", "id == 'fomboni'"]) == 0
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert list(summary["status"]) == ["skipped"]


def test_each_region_is_calibrated_to_its_own_total(regions_file, shared, client, tmp_path):
    """Totals by region name: each region's people add up to its total; a changed total recomputes the region."""
    totals = tmp_path / "census.csv"
    totals.write_text("commune,population\nFomboni,30834\nNowhere,12\n", encoding="utf-8")
    out = tmp_path / "out"
    where = "id in ['fomboni', 'moili-mdjini']"
    options = {"where": where, "per_facility_isochrones": False, "client": client, **shared}
    first = run_batch(regions_file, out_dir=out, population_totals=totals, **options)
    assert first.ok == ["fomboni", "moili-mdjini"]
    calibration = pd.read_csv(out / "population_calibration.csv", encoding="utf-8-sig").set_index("unit")
    assert calibration.loc["fomboni", "status"] == "calibrated"
    assert calibration.loc["fomboni", "official_population"] == 30834
    assert calibration.loc["fomboni", "population_after"] == pytest.approx(30834)
    assert calibration.loc["moili-mdjini", "status"] == "no_total"  # as the raster gives it, and said so
    assert calibration.loc["Nowhere", "status"] == "no_unit"  # reported, not used
    summary = json.loads((region_folder(out, "fomboni") / "summary.json").read_text(encoding="utf-8"))
    assert summary["thresholds"][0]["population_total"] == pytest.approx(30834)
    assert "WorldPop 2020, UN-adjusted (CC BY 4.0), calibrated to census.csv" in summary["attribution"]
    table = first.summary.set_index("region_id")
    assert table.loc["fomboni", "population_factor"] > 0
    assert pd.isna(table.loc["moili-mdjini", "population_factor"])

    again = run_batch(regions_file, out_dir=out, population_totals=totals, **options)
    assert again.skipped == ["fomboni", "moili-mdjini"]
    totals.write_text("commune,population\nFomboni,40000\n", encoding="utf-8")
    changed = run_batch(regions_file, out_dir=out, population_totals=totals, **options)
    assert changed.ok == ["fomboni"]  # only the region whose total changed
    assert changed.skipped == ["moili-mdjini"]
    summary = json.loads((region_folder(out, "fomboni") / "summary.json").read_text(encoding="utf-8"))
    assert summary["thresholds"][0]["population_total"] == pytest.approx(40000)
