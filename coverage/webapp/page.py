"""The what-if page: one self-contained HTML document (Leaflet inlined, no external request).

The page's script (``static/app.js``) draws the region and talks to the server's JSON
API; its words come from :data:`WORDS` in the page's language. Names from OSM and
users' files only ever reach the page through ``textContent``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from coverage.outputs.maps import (
    BAND_COLOURS,
    COVERED_COLOUR,
    FACILITY_ICONS,
    SITE_COLOUR,
    UNCOVERED_COLOUR,
    leaflet_assets,
)

STATIC = Path(__file__).with_name("static")
LANGUAGES = ("en", "zh")

#: The page's words in each language.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "What-if siting",
        "settings": "Settings",
        "profile": "Profile",
        "direction": "Direction",
        "to_facility": "place → facility (reaching care)",
        "from_facility": "facility → place (EMS)",
        "circle": "Circle (minutes)",
        "standard": "Plan standard",
        "no_standard": "none",
        "new_kind": "Kind of new stations",
        "help": "Click the map to add a station; drag a station to move it; click a station to remove or close it.",
        "coverage": "Coverage",
        "within": "Within",
        "people": "People",
        "villages": "Villages",
        "targets": "Targets of the plan",
        "no_targets": "Choose a plan standard to judge its targets.",
        "pass": "met",
        "fail": "MISSED",
        "cannot_evaluate": "cannot evaluate",
        "assumed": "assumed",
        "not_applicable": "not applicable",
        "other_targets_pending": "other targets: checking…",
        "uncovered": "Villages outside the circle",
        "none_uncovered": "Every village is within the circle.",
        "more_than": "more than {m} min",
        "no_route": "no road route",
        "minutes": "min",
        "suggest": "Suggest sites",
        "suggest_k": "New sites",
        "suggest_run": "Suggest",
        "suggesting": "Solving the maximal covering model…",
        "accept": "Accept",
        "reject": "Reject",
        "suggested": "Suggested site {n}",
        "gain": "+{p} people, +{v} villages",
        "scenarios": "Scenarios",
        "name": "Name",
        "save": "Save",
        "load": "Load",
        "compare": "Compare",
        "import": "Open a scenario file",
        "current": "current",
        "export": "Export",
        "report": "Report page",
        "villages_csv": "Villages (CSV)",
        "stations_csv": "Stations (CSV)",
        "gpkg": "GeoPackage",
        "geojson": "Scenario (GeoJSON)",
        "station": "Station",
        "kind": "Kind",
        "status": "Status",
        "open": "open",
        "closed": "closed",
        "moved": "moved",
        "new": "new",
        "existing": "existing",
        "remove": "Remove",
        "close": "Close",
        "reopen": "Reopen",
        "population": "Population",
        "nearest": "Nearest station",
        "saved": "Saved {name}",
        "loaded": "Loaded {name}",
        "working": "Working…",
        "stations_summary": "{open} open stations ({new} new, {closed} closed)",
        "band": "Travel time of the roads",
        "beyond": "beyond",
        "covered": "within the circle",
        "not_covered": "outside the circle",
        "compare_note": "Compared with the current settings.",
        "new_sites": "new",
        "closed_sites": "closed",
    },
    "zh": {
        "title": "选址推演",
        "settings": "设置",
        "profile": "出行方式",
        "direction": "方向",
        "to_facility": "居民 → 设施（就医）",
        "from_facility": "设施 → 居民（急救）",
        "circle": "时间圈（分钟）",
        "standard": "规划标准",
        "no_standard": "无",
        "new_kind": "新站点类型",
        "help": "点击地图新增站点；拖动站点可移动；点击站点可删除或关闭。",
        "coverage": "覆盖情况",
        "within": "时间圈",
        "people": "人口",
        "villages": "村庄",
        "targets": "规划目标",
        "no_targets": "请选择规划标准以评估其目标。",
        "pass": "达标",
        "fail": "未达标",
        "cannot_evaluate": "无法评估",
        "assumed": "基于假设",
        "not_applicable": "不适用",
        "other_targets_pending": "其他目标：评估中…",
        "uncovered": "时间圈以外的村庄",
        "none_uncovered": "所有村庄均在圈内。",
        "more_than": "超过 {m} 分钟",
        "no_route": "无道路可达",
        "minutes": "分钟",
        "suggest": "推荐选址",
        "suggest_k": "新站点数",
        "suggest_run": "推荐",
        "suggesting": "正在求解最大覆盖模型…",
        "accept": "采纳",
        "reject": "放弃",
        "suggested": "推荐站点 {n}",
        "gain": "+{p} 人，+{v} 个村庄",
        "scenarios": "方案",
        "name": "名称",
        "save": "保存",
        "load": "载入",
        "compare": "比较",
        "import": "打开方案文件",
        "current": "当前",
        "export": "导出",
        "report": "报告页面",
        "villages_csv": "村庄（CSV）",
        "stations_csv": "站点（CSV）",
        "gpkg": "GeoPackage",
        "geojson": "方案（GeoJSON）",
        "station": "站点",
        "kind": "类型",
        "status": "状态",
        "open": "开放",
        "closed": "关闭",
        "moved": "已迁移",
        "new": "新增",
        "existing": "现有",
        "remove": "删除",
        "close": "关闭",
        "reopen": "重新开放",
        "population": "人口",
        "nearest": "最近站点",
        "saved": "已保存 {name}",
        "loaded": "已载入 {name}",
        "working": "计算中…",
        "stations_summary": "开放站点 {open} 个（新增 {new} 个，关闭 {closed} 个）",
        "band": "道路通行时间",
        "beyond": "以外",
        "covered": "圈内",
        "not_covered": "圈外",
        "compare_note": "按当前设置比较。",
        "new_sites": "新增",
        "closed_sites": "关闭",
    },
}


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` are escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(*, language: str, title: str, basemap: str = "osm", basemap_attribution: str | None = None) -> str:
    """The page as one HTML document in a language (``en`` or ``zh``).

    Parameters
    ----------
    language : {"en", "zh"}
    title : str
        The region's name (plain text).
    basemap : str
        ``osm`` (OpenStreetMap tiles behind the data, the only remote part), ``none``,
        or a tile URL with ``{z}``, ``{x}`` and ``{y}``.
    basemap_attribution : str, optional
        Credit line of a tile URL (plain text).
    """
    language = language if language in LANGUAGES else "en"
    words = WORDS[language]
    leaflet_js, leaflet_css = leaflet_assets()
    settings = {
        "lang": language,
        "words": words,
        "basemap": basemap,
        "basemapAttribution": basemap_attribution or "",
        "bandColours": list(BAND_COLOURS),
        "coveredColour": COVERED_COLOUR,
        "uncoveredColour": UNCOVERED_COLOUR,
        "siteColour": SITE_COLOUR,
        "icons": {kind: list(icon) for kind, icon in FACILITY_ICONS.items()},
    }
    app_js = (STATIC / "app.js").read_text(encoding="utf-8")
    app_css = (STATIC / "app.css").read_text(encoding="utf-8")
    heading = html.escape(f"{words['title']}: {title}")
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if language == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading}</title>
<style>{leaflet_css}</style>
<style>{app_css}</style>
<script>{leaflet_js}</script>
</head>
<body>
<aside id="panel">
<h1 id="title">{heading}</h1>
<p class="help">{html.escape(words["help"])}</p>
<div id="message" role="status" aria-live="polite"></div>
<div id="content"></div>
</aside>
<main id="map"></main>
<script>window.FC = {script_json(settings)};</script>
<script>{app_js}</script>
</body>
</html>
"""
