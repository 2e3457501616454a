"""Outputs a planner can act on, through the command: what is flagged is said once and where to see it,
every place has a readable name and an id, CSVs run no formulas, ties and caches are settled by rules,
and the map of a siting run shows that run before and after. Real data: Mwali, Comoros."""

from __future__ import annotations

import io
import json
import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage.cli.main import main
from coverage.io.osm import facilities_from_osm, places_from_osm
from tests.conftest import COMOROS_PBF, COMOROS_RASTER, INPUT

MWALI = INPUT / "mwali_boundary.geojson"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def mwali(cache_dir):
    return [str(COMOROS_PBF), "--boundary", str(MWALI), "--cache-dir", str(cache_dir)]


@pytest.fixture(scope="module")
def places():
    return places_from_osm(COMOROS_PBF, boundary=gpd.read_file(MWALI).geometry.union_all())


def _csv(frame: gpd.GeoDataFrame, path, **columns):
    table = pd.DataFrame({"id": frame["id"], "name": frame["name"], **columns})
    table["lon"], table["lat"] = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    table.to_csv(path, index=False)
    return path


def test_flagged_points_are_said_once_as_what_they_are_and_where_to_see_them(tmp_path, mwali, caplog):
    # dongxihu's targets need two analyses (car to the facility, ambulance from the station)
    args = ["check", *mwali, "--standard", "dongxihu", "--population", str(COMOROS_RASTER), "--out", str(tmp_path)]
    with caplog.at_level(logging.WARNING, logger="coverage"):
        assert main(args) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    off = [w for w in warnings if "from any road" in w]
    assert len(off) == 1
    assert re.match(r"[\d,]+ of [\d,]+ populated raster cells \([\d,]+ people, [\d.]+% of the population\)", off[0])
    assert "flagged off_network and still counted" in off[0]
    assert "the layer flagged_cells of coverage.gpkg" in off[0]
    # and analyze writes that layer, with the people of each cell
    out = tmp_path / "analyze"
    assert main(["analyze", *mwali, "--population", str(COMOROS_RASTER), "--out", str(out), "-q"]) == 0
    flagged = gpd.read_file(out / "coverage.gpkg", layer="flagged_cells")
    count = int(re.match(r"([\d,]+) of", off[0]).group(1).replace(",", ""))
    assert int(flagged["off_network"].sum()) == count
    assert (flagged["population"] > 0).all()


def test_warnings_do_not_overwrite_the_progress_bar():
    from tqdm import tqdm

    from coverage.cli.main import _BarSafeHandler

    stream = io.StringIO()
    bar = tqdm(total=3, file=stream, desc="road network", bar_format="{desc} {n}/{total}")
    bar.update(1)
    handler = _BarSafeHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.emit(logging.LogRecord("coverage", logging.WARNING, __file__, 1, "3 villages off the road", None, None))
    bar.close()
    lines = [line.split("\r")[-1] for line in stream.getvalue().split("\n")]
    assert "WARNING: 3 villages off the road" in lines  # a line of its own
    assert not any("road network" in line and "WARNING" in line for line in lines)


def test_unnamed_places_are_told_by_where_they_are_and_their_id(tmp_path, mwali):
    out = tmp_path / "out"
    assert main(["analyze", *mwali, "--no-facility-isochrones", "--out", str(out), "-q"]) == 0
    villages = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")
    nearest = villages["nearest_facility_name"].dropna()
    assert not nearest.str.endswith("(unnamed)").any()
    unnamed = nearest[nearest.str.startswith("unnamed hospital")]
    assert len(unnamed) > 0
    pattern = r"unnamed hospital (at .+|\d+\.\d km [NESW]{1,2} of .+) \((node|way)/\d+\)"
    assert all(re.fullmatch(pattern, name) for name in unnamed)
    assert not villages["name"].fillna("").str.strip().eq("").any()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    listed = summary["facilities"]["list"]
    assert {f["admitted_by"] for f in listed} <= {"amenity=hospital", "amenity=hospital; healthcare=hospital"}


def test_csv_cells_that_spreadsheets_would_run_are_inert(tmp_path, mwali, places):
    hostile = ['=HYPERLINK("http://example.org","x")', "@SUM(A1:A9)", "+1+1", "-2+3", "=cmd|' /C calc'!A0", "Mwali"]
    villages = places.head(6).assign(name=hostile)
    path = _csv(villages, tmp_path / "villages.csv", population=[100, 200, 300, 400, 500, -0.0])
    out = tmp_path / "out"
    assert main(["analyze", *mwali, "--villages", str(path), "--no-facility-isochrones", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "villages.csv", encoding="utf-8-sig", keep_default_na=False)
    assert table["name"].tolist() == ["'" + name for name in hostile[:5]] + ["Mwali"]
    assert table["population"].tolist()[:5] == [100, 200, 300, 400, 500]  # numbers stay numbers


def test_facilities_at_one_point_are_warned_about_and_tie_by_id(tmp_path, mwali, caplog):
    facilities = facilities_from_osm(COMOROS_PBF, boundary=gpd.read_file(MWALI).geometry.union_all())
    twin = facilities.iloc[[0]].assign(id="H-0", name="Twin hospital")
    chosen = {}
    for order in ("twin last", "twin first"):
        rows = pd.concat([facilities, twin]) if order == "twin last" else pd.concat([twin, facilities])
        path = _csv(rows.assign(id=rows["id"].astype(str)), tmp_path / "f.csv", kind=rows["kind"])
        out = tmp_path / order
        with caplog.at_level(logging.WARNING, logger="coverage"):
            assert main(["analyze", *mwali, "--facilities", str(path), "--out", str(out)]) == 0
        chosen[order] = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")["nearest_facility_id"]
    warned = [r.getMessage() for r in caplog.records if "share" in r.getMessage()]
    assert len(warned) == 2
    assert "2 facilities share 1 points" in warned[0]
    assert "'Twin hospital' (id H-0)" in warned[0]
    pd.testing.assert_series_equal(chosen["twin last"], chosen["twin first"])
    # "H-0" comes before "node/..." in id order: the twin serves whoever the original would
    assert facilities["id"].iloc[0] not in set(chosen["twin last"])


def test_an_altered_network_cache_is_rebuilt(tmp_path, caplog):
    cache = tmp_path / "cache"
    args = [
        "analyze",
        str(COMOROS_PBF),
        "--boundary",
        str(MWALI),
        "--cache-dir",
        str(cache),
        "--no-facility-isochrones",
    ]
    assert main([*args, "--out", str(tmp_path / "first"), "-q"]) == 0
    (cache_file,) = cache.iterdir()
    with np.load(cache_file, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["seg_forward_s"] = arrays["seg_forward_s"] / 3  # every road three times as fast
    arrays["seg_backward_s"] = arrays["seg_backward_s"] / 3
    with open(cache_file, "wb") as handle:
        np.savez(handle, **arrays)
    with caplog.at_level(logging.WARNING, logger="coverage"):
        assert main([*args, "--out", str(tmp_path / "second")]) == 0
    assert "does not match the checksum written with it" in caplog.text
    first = (tmp_path / "first" / "villages.csv").read_bytes()
    assert (tmp_path / "second" / "villages.csv").read_bytes() == first


def test_site_names_its_sites_and_the_map_draws_that_siting_before_and_after(tmp_path, mwali, capsys):
    sites_dir = tmp_path / "sites"
    args = ["site", *mwali, "--population", str(COMOROS_RASTER), "--model", "mclp", "--k", "2", "--minutes", "15"]
    assert main([*args, "--out", str(sites_dir)]) == 0
    printed = capsys.readouterr().out
    assert "profile car, trips from the place to the facility" in printed  # as analyze and map
    assert re.search(r"\(road|village, lon 43\.\d{5}, lat -12\.\d{5}\)", printed)
    sites = pd.read_csv(sites_dir / "sites.csv", encoding="utf-8-sig")
    assert not sites["name"].str.startswith("road point").any()
    roads = sites[sites["source"] == "road"]
    assert all(re.fullmatch(r"\w+ road, (at .+|\d+\.\d km [NESW]{1,2} of .+)", name) for name in roads["name"])
    assert (sites["population_gain"] == sites["population_gain"].round(0)).all()
    assert (sites["population_share_after"] == sites["population_share_after"].round(4)).all()
    siting = json.loads((sites_dir / "siting.json").read_text(encoding="utf-8"))
    assert (siting["settings"]["profile"], siting["settings"]["direction"]) == ("car", "to_facility")

    out = tmp_path / "map.html"
    map_args = ["map", *mwali, "--population", str(COMOROS_RASTER), "--basemap", "none"]
    assert main([*map_args, "--sites", str(sites_dir / "sites.gpkg"), "--out", str(out)]) == 0
    title = capsys.readouterr().out.splitlines()[0]
    before, after = siting["population_covered_before"], siting["population_covered_after"]
    total = siting["population_total"]
    assert f"people {before / total:.1%} → {after / total:.1%}" in title
    assert f"villages within 15 min {siting['villages_covered_before']} → {siting['villages_covered_after']}" in title
    page = out.read_text(encoding="utf-8")
    assert "Before the new sites: within 15 min" in page
    assert "Newly covered by the new sites" in page
    assert "Candidate sites (2)" in page
