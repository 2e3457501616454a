"""Inputs read once per process: same key, same (copied) result; an edited file is read again."""

from __future__ import annotations

import os

import pandas as pd

from coverage.analysis import memo


def test_a_result_is_reused_as_a_copy_until_its_file_changes(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    reads = []

    def read():
        reads.append(1)
        return pd.read_csv(path)

    memo.clear()
    first = memo.remember(("points", memo.file_key(path)), read)
    first.loc[0, "a"] = 99  # the caller's copy is its own
    second = memo.remember(("points", memo.file_key(path)), read)
    assert len(reads) == 1
    assert second.loc[0, "a"] == 1
    path.write_text("a\n2\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # another modification time, as an edited file has
    third = memo.remember(("points", memo.file_key(path)), read)
    assert len(reads) == 2
    assert third.loc[0, "a"] == 2


def test_the_memo_keeps_a_bounded_number_of_results():
    memo.clear()
    for i in range(memo.SIZE + 5):
        memo.remember(("n", i), lambda i=i: i)
    assert len(memo._results) == memo.SIZE
    assert memo.file_key(None) is None
    assert memo.geometry_key(None) is None


def test_a_second_run_reads_its_points_from_the_cache_folder(tmp_path, mwali_boundary, monkeypatch):
    from coverage.analysis import places
    from coverage.analysis.run import analyze
    from tests.conftest import COMOROS_PBF, COMOROS_RASTER

    memo.clear()
    first = analyze(COMOROS_PBF, boundary=mwali_boundary, population=COMOROS_RASTER, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("points.*.gpkg"))) == 2  # facilities, villages
    memo.clear()  # as a new process

    def no_reading(*args, **kwargs):
        raise AssertionError("the OSM extract was read again")

    monkeypatch.setattr(places, "facilities_from_osm", no_reading)
    monkeypatch.setattr(places, "places_from_osm", no_reading)
    again = analyze(COMOROS_PBF, boundary=mwali_boundary, population=COMOROS_RASTER, cache_dir=tmp_path)
    assert again.summary()["thresholds"] == first.summary()["thresholds"]
    for frame in ("facilities", "villages"):
        ours, theirs = getattr(again, frame), getattr(first, frame)
        assert list(ours.columns) == list(theirs.columns)
        pd.testing.assert_frame_equal(
            pd.DataFrame(ours.drop(columns="geometry")),
            pd.DataFrame(theirs.drop(columns="geometry")),
            check_dtype=False,
        )
        assert ours.geometry.geom_equals_exact(theirs.geometry, tolerance=1e-12).all()
    # without the cache nothing is kept
    memo.clear()
    monkeypatch.undo()
    analyze(COMOROS_PBF, boundary=mwali_boundary, cache_dir=tmp_path / "none", use_cache=False)
    assert not (tmp_path / "none").exists()


def test_warnings_of_the_reading_are_logged_again_when_the_points_come_from_the_cache(
    tmp_path, mwali_boundary, mwali_places, caplog
):
    import geopandas as gpd
    import shapely

    from coverage.analysis.run import analyze
    from tests.conftest import COMOROS_PBF

    # one village on Anjouan, outside Mwali's boundary: left out, with a warning
    villages = pd.concat(
        [
            pd.DataFrame({"id": mwali_places["id"], "name": mwali_places["name"]}).assign(
                lon=mwali_places.geometry.x.to_numpy(), lat=mwali_places.geometry.y.to_numpy()
            ),
            pd.DataFrame({"id": ["far"], "name": ["Mutsamudu"], "lon": [44.39], "lat": [-12.17]}),
        ]
    )
    path = tmp_path / "villages.csv"
    villages.to_csv(path, index=False)
    memo.clear()
    with caplog.at_level("WARNING", logger="coverage"):
        first = analyze(COMOROS_PBF, boundary=mwali_boundary, villages=path, cache_dir=tmp_path)
    said = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert said
    caplog.clear()
    memo.clear()  # as a new process: the villages come from the GeoPackage in the cache folder
    with caplog.at_level("WARNING", logger="coverage"):
        again = analyze(COMOROS_PBF, boundary=mwali_boundary, villages=path, cache_dir=tmp_path)
    assert [r.getMessage() for r in caplog.records if "left out" in r.getMessage()] == said
    assert "far" not in set(again.villages["id"])
    assert again.notes["villages"] == first.notes["villages"]
    assert isinstance(gpd.GeoSeries(again.villages.geometry).iloc[0], shapely.Point)


def test_reading_through_the_memo_shows_no_more_messages_than_the_levels_allow():
    import logging

    import geopandas as gpd
    import shapely

    shown = []

    class Collect(logging.Handler):
        def emit(self, record):
            shown.append(record.getMessage())

    package = logging.getLogger("coverage")
    before, root = package.level, logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    package.setLevel(logging.WARNING)
    try:
        memo.clear()

        def read():
            logging.getLogger("coverage.analysis.places").info("read %d rows", 3)
            logging.getLogger("coverage.analysis.places").warning("%d rows left out", 1)
            return gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(0, 0)], crs=4326), {"count": 1}

        memo.remember_table(("levels",), read)
        memo.remember_table(("levels",), read)  # reused: the warning again, never the info
    finally:
        root.removeHandler(handler)
        package.setLevel(before)
    assert shown == ["1 rows left out", "1 rows left out"]


def test_a_warning_replayed_within_one_run_is_said_once(caplog):
    """A command running several analyses of one region (check) says a reading's warning once, as warn_once does."""
    import logging

    import geopandas as gpd
    import shapely

    from coverage._notices import once_per_run

    def read():
        logging.getLogger("coverage.analysis.places").warning("%d rows left out", 1)
        return gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(0, 0)], crs=4326), {}

    memo.clear()
    with caplog.at_level(logging.DEBUG, logger="coverage"), once_per_run():
        for _ in range(3):
            memo.remember_table(("once",), read)
    warned = [r for r in caplog.records if r.getMessage() == "1 rows left out" and r.levelno == logging.WARNING]
    assert len(warned) == 1
    memo.clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="coverage"), once_per_run():
        memo.remember_table(("once",), read)  # a new run says it again
    assert [r.getMessage() for r in caplog.records] == ["1 rows left out"]
