"""A county's own files in Chinese: the map, the PNG and the scheduled report read by a Chinese planner.

The same files as :mod:`tests.cli.test_county` (an Amap export in GBK with GCJ-02
columns, graded roads with gaps, a two-district boundary, subdistricts, villages),
run with ``--lang zh`` and a run configuration in Chinese; the map and the report
are opened in headless Chromium (network blocked) and read as the planner sees
them: no English status word anywhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image

from coverage._i18n import STATUS_WORDS
from coverage.cli.main import main
from tests.cli.test_county import _inputs
from tests.conftest import REPO
from tests.county import BORDER_KM, build_county

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", REPO / "tests" / "artifacts"))
#: The English status words and verdict words that must not reach a Chinese page.
ENGLISH_STATUS = re.compile(r"\b(pass|PASS|FAIL|fail|assumed|cannot evaluate|not applicable|met|missed|N/A)\b")


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return build_county(tmp_path_factory.mktemp("county_zh"))


@pytest.fixture(scope="module")
def zh_map(county, tmp_path_factory):
    out = tmp_path_factory.mktemp("zh_map")
    args = ["--lang", "zh", "map", "--standard", "dongxihu", *_inputs(county), "--basemap", "none"]
    code = main(
        [*args, "--cache-dir", str(out / "cache"), "--out", str(out / "map.html"), "--png", str(out / "map.png")]
    )
    assert code == 0
    return out


def _config(county, folder: Path) -> Path:
    """The commission's run configuration, every column and category named as in its files."""

    def rel(path: Path) -> str:
        return Path(os.path.relpath(path, folder)).as_posix()

    text = f"""\
name = "本区卫生健康规划"

[inputs]
osm = "{rel(county.roads)}"
road_class_column = "道路等级"
boundary = "{rel(county.boundary)}"
boundary_where = "name == '本区'"
border_km = {BORDER_KM}
zones = "{rel(county.subdistricts)}"
facilities = "{rel(county.facilities)}"
kind_map = "amap"
facilities_datum = "gcj02"
facility_columns = {{ lon = "XGCJ", lat = "YGCJ" }}
villages = "{rel(county.villages)}"

[analysis]
minutes = [12, 30]
cache_dir = "cache"

[check]
standards = ["dongxihu"]

[report]
folder = "reports"
language = "zh"
basemap = "none"
"""
    path = folder / "本区.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def zh_report(county, tmp_path_factory):
    folder = tmp_path_factory.mktemp("zh_report")
    config = _config(county, folder)
    return folder, config


def test_the_map_and_its_picture_are_in_chinese(zh_map):
    page = (zh_map / "map.html").read_text(encoding="utf-8")
    assert "医疗机构服务覆盖" in page
    assert "东西湖区" in page  # the plan's title over its targets
    with Image.open(zh_map / "map.png") as picture:
        assert picture.format == "PNG"


def test_the_report_runs_on_the_commissions_files_and_says_so_in_chinese(zh_report, capsys):
    _, config = zh_report
    code = main(["report", "--config", str(config)])
    out = capsys.readouterr().out
    # targets missed or not evaluable (no population): exit 1, one line in Chinese
    assert code == 1
    assert out.count("\n") == 1
    assert out.startswith("本区卫生健康规划：第 1 次运行：目标达标 ")
    assert "未能确认" in out
    assert "首次运行" in out
    assert not ENGLISH_STATUS.search(out)
    assert main(["--lang", "zh", "history", "--config", str(config)]) == 0
    assert "尚无运行记录" not in capsys.readouterr().out


def _page_words(page) -> str:
    """Every word the page shows, the map's frames included."""
    words = [page.inner_text("body")]
    for frame in page.frames[1:]:
        words.append(frame.inner_text("body"))
    return "\n".join(words)


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith(("file:", "data:", "about:")):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_timeout(500)
    return page, blocked


def _without_names(words: str, county) -> str:
    """The page's words less the files' own names (OSM's and the commission's), which are the user's text."""
    import pandas as pd

    names = [*pd.read_csv(county.villages)["村名"].astype(str), *pd.read_csv(county.facilities, encoding="gbk")["NAME"]]
    for name in sorted(map(str, names), key=len, reverse=True):
        words = words.replace(name, "")
    return words


def test_a_chinese_planner_sees_no_english_status_word(browser, zh_map, zh_report, county):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page, blocked = _open(browser, (zh_map / "map.html").as_uri())
    try:
        page.wait_for_function("window.L !== undefined && document.querySelector('.fc-legend') !== null")
        legend = page.inner_text(".fc-legend")
        # the plan's targets with their Chinese status words, the stand-in's assumption written out
        assert "东西湖区" in legend
        assert any(words["zh"] in legend for words in STATUS_WORDS.values()), legend
        # one 急救中心 in the file, nine asked for
        assert re.search(r"未达标\s*不少于9个急救站点", legend), legend
        assert "医疗机构" in legend
        assert "村庄" in legend
        words = _without_names(_page_words(page), county)
        assert not ENGLISH_STATUS.search(words), ENGLISH_STATUS.findall(words)
        page.screenshot(path=str(ARTIFACTS / "county_zh_map.png"))
        assert blocked == []
    finally:
        page.close()

    folder, config = zh_report
    reports = sorted((folder / "reports").glob("*/report.html"))
    if not reports:
        assert main(["report", "--config", str(config)]) in (0, 1)
        reports = sorted((folder / "reports").glob("*/report.html"))
    page, blocked = _open(browser, reports[-1].as_uri())
    try:
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        body = page.inner_text("body")
        for word in ("未达标", "无法评估"):
            assert word in body
        words = _without_names(_page_words(page), county)
        assert not ENGLISH_STATUS.search(words), ENGLISH_STATUS.findall(words)
        page.screenshot(path=str(ARTIFACTS / "county_zh_report.png"), full_page=True)
    finally:
        page.close()
