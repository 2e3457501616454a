"""The report page: one self-contained HTML document to print or mail.

:func:`render_report` turns a :class:`ReportPage` (everything the page shows,
gathered by :func:`coverage.reports.report.run_report`) into HTML with the targets, the
embedded coverage map (the static map when printed), the villages outside the
circle, the changes since the last run and the trend chart (:func:`trend_svg`).
Every text is escaped (jinja2 autoescape); the page needs no network.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from jinja2 import Environment
from markupsafe import Markup

from coverage._i18n import profile_name, status_meaning, unit_name
from coverage.reports.history import RunDiff
from coverage.standards.checks import CANNOT, STATUSES


@dataclass(frozen=True)
class ReportPage:
    """Everything the report page shows; :func:`render_report` turns it into HTML."""

    title: str
    language: str
    run: int
    started_at: str
    version: str
    config_path: str
    profile: str
    direction: str
    figures: dict[str, Any]
    thresholds: list[dict[str, Any]]
    standards: list[tuple[str, str, str]]
    targets: pd.DataFrame
    uncovered: pd.DataFrame
    changes: RunDiff | None
    trend: pd.DataFrame
    map_html: str | None
    map_png: bytes | None
    attribution: str
    inputs: dict[str, dict[str, str]]
    exit_code: int
    summary_line: str
    ems: dict[str, Any] | None = None
    population_note: str = ""
    #: Said instead of "Run N" (e.g. a what-if scenario's name), and instead of "Since run N" above the changes.
    run_label: str | None = None
    since_label: str | None = None


#: The page's words in each language.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "report": "Coverage report",
        "run_n": "Run {n}",
        "targets": "Targets of the plan",
        "no_targets": "No targets configured: add standards to the [check] table of the configuration.",
        "target": "Target",
        "status": "Status",
        "measured": "Measured",
        "required": "Required",
        "shortfall": "Shortfall",
        "detail": "How it was measured",
        "pass": "met",
        "fail": "MISSED",
        "assumed": "assumed",
        "cannot_evaluate": "cannot evaluate",
        "not_applicable": "not applicable",
        "statuses": "Statuses",
        "min": "min",
        "all_met": "All evaluated targets are met.",
        "some_missed": "Targets missed",
        "map": "Coverage map",
        "coverage": "Coverage",
        "within": "Within",
        "people": "People",
        "villages": "Villages",
        "uncovered": "Villages outside the {m:g}-minute circle",
        "none_uncovered": "Every village is within the circle.",
        "name": "Village",
        "zone": "Admin unit",
        "population": "Population",
        "nearest": "Nearest facility",
        "minutes": "Minutes",
        "beyond": "Beyond the circle (min)",
        "no_route": "no road route",
        "off_network": "off the road network",
        "changes": "Changes since the last run",
        "first_run": "This is the first run: nothing to compare yet.",
        "since": "Since run {n}",
        "newly_uncovered": "Newly uncovered",
        "newly_covered": "Newly covered",
        "still_uncovered": "Still uncovered",
        "appeared": "New villages in the input",
        "disappeared": "Villages no longer in the input",
        "none": "none",
        "changed_inputs": "Inputs changed",
        "no_changed_inputs": "none",
        "circle_changed": "The circle changed from {a:g} to {b:g} minutes: statuses changed by definition.",
        "before": "before",
        "after": "now",
        "trend": "Covered share over the runs",
        "trend_people": "share of people within {m:g} min",
        "trend_villages": "share of villages within {m:g} min",
        "inputs": "Inputs",
        "role": "Role",
        "file": "File",
        "generated": "Made by facility-coverage {v} from {c}",
        "direction_to_facility": "from each place to the nearest facility",
        "direction_from_facility": "from the nearest facility to each place",
        "profile": "Profile",
        "print_note": "Printed copy: the static map below replaces the interactive one.",
    },
    "zh": {
        "report": "医疗设施覆盖报告",
        "run_n": "第 {n} 次运行",
        "targets": "规划目标",
        "no_targets": "未配置目标：请在配置文件的 [check] 表中加入标准。",
        "target": "目标",
        "status": "状态",
        "measured": "实测",
        "required": "要求",
        "shortfall": "缺口",
        "detail": "测算方法",
        "pass": "达标",
        "fail": "未达标",
        "assumed": "基于替代数据",
        "cannot_evaluate": "无法评估",
        "not_applicable": "不适用",
        "statuses": "状态说明",
        "min": "分钟",
        "all_met": "所有可评估目标均已达标。",
        "some_missed": "未达标目标",
        "map": "覆盖地图",
        "coverage": "覆盖情况",
        "within": "时间圈",
        "people": "人口",
        "villages": "村庄",
        "uncovered": "{m:g}分钟圈以外的村庄",
        "none_uncovered": "所有村庄均在圈内。",
        "name": "村庄",
        "zone": "行政单元",
        "population": "人口",
        "nearest": "最近设施",
        "minutes": "分钟",
        "beyond": "超出（分钟）",
        "no_route": "无道路可达",
        "off_network": "远离路网",
        "changes": "与上次运行相比的变化",
        "first_run": "这是首次运行，暂无可比较的记录。",
        "since": "自第 {n} 次运行以来",
        "newly_uncovered": "新增未覆盖",
        "newly_covered": "新增覆盖",
        "still_uncovered": "仍未覆盖",
        "appeared": "输入中新增的村庄",
        "disappeared": "输入中已删除的村庄",
        "none": "无",
        "changed_inputs": "变化的输入",
        "no_changed_inputs": "无",
        "circle_changed": "时间圈由 {a:g} 分钟改为 {b:g} 分钟，状态变化源于定义变化。",
        "before": "之前",
        "after": "现在",
        "trend": "历次运行的覆盖比例",
        "trend_people": "{m:g}分钟内人口比例",
        "trend_villages": "{m:g}分钟内村庄比例",
        "inputs": "输入文件",
        "role": "用途",
        "file": "文件",
        "generated": "由 facility-coverage {v} 根据 {c} 生成",
        "direction_to_facility": "从各地到最近设施",
        "direction_from_facility": "从最近设施到各地",
        "profile": "出行方式",
        "print_note": "打印版：下方静态地图代替交互地图。",
    },
}

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  color: #1f2328; max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 22px; margin: 0 0 4px 0; } h2 { font-size: 17px; margin: 24px 0 8px 0; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 14px; margin: 12px 0 4px 0; }
.meta { color: #57606a; font-size: 12px; }
.summary { padding: 8px 12px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
.summary.ok { background: #dafbe1; border: 1px solid #4ac26b; } .summary.missed { background: #ffebe9; border: 1px solid #ff8182; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; white-space: nowrap; }
.pass { color: #1a7f37; font-weight: 700; } .fail { color: #cf222e; font-weight: 700; }
.cannot_evaluate, .assumed { color: #9a6700; font-weight: 700; } .not_applicable { color: #6e7781; font-weight: 700; }
td.pass, td.fail, td.cannot_evaluate, td.assumed, td.not_applicable { white-space: nowrap; }
.small { font-size: 12px; color: #57606a; }
iframe.map { width: 100%; height: 620px; border: 1px solid #d0d7de; }
img.map { width: 100%; display: none; }
.changes { display: flex; gap: 16px; flex-wrap: wrap; } .changes > div { flex: 1 1 300px; }
svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
footer { margin-top: 24px; font-size: 12px; color: #57606a; border-top: 1px solid #d0d7de; padding-top: 6px; }
.print-only { display: none; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  iframe.map, .screen-only { display: none; }
  img.map, .print-only { display: block; }
  h2 { break-after: avoid; } tr { break-inside: avoid; }
}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ 'zh-CN' if page.language == 'zh' else 'en' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ w.report }}: {{ page.title }} ({{ run_n }})</title>
<style>{{ css }}</style>
</head>
<body>
<header>
<h1>{{ w.report }}: {{ page.title }}</h1>
<div class="meta">{{ run_n }} · {{ page.started_at }} · {{ w.profile }} {{ profile }},
{{ direction }} · facility-coverage {{ page.version }}</div>
<div class="summary {{ 'missed' if page.exit_code else 'ok' }}">{{ page.summary_line }}</div>
</header>

<section id="targets">
<h2>{{ w.targets }}</h2>
{% if not standards %}<p>{{ w.no_targets }}</p>{% endif %}
{% for s in standards %}
<h3>{{ s.title }} <span class="small">({{ s.name }})</span></h3>
<table>
<tr><th>{{ w.target }}</th><th>{{ w.status }}</th><th>{{ w.measured }}</th><th>{{ w.required }}</th><th>{{ w.shortfall }}</th><th>{{ w.detail }}</th></tr>
{% for t in s.targets %}
<tr><td>{{ t.label }}</td><td class="{{ t.status }}">{{ w[t.status] }}</td><td class="num">{{ t.measured }}</td>
<td class="num">{{ t.required }}</td><td>{{ t.shortfall }}</td><td class="small">{{ t.detail }}</td></tr>
{% endfor %}
</table>
{% endfor %}
{% if standards %}<p class="small">{{ w.statuses }}: {% for status, meaning in statuses %}<span class="{{ status }}">{{ w[status] }}</span> {{ meaning }}{{ "；" if page.language == "zh" else ";" }} {% endfor %}</p>{% endif %}
</section>

<section id="map">
<h2>{{ w.map }}</h2>
{% if page.map_html %}<iframe class="map" title="{{ w.map }}" sandbox="allow-scripts allow-popups" srcdoc="{{ page.map_html }}"></iframe>{% endif %}
{% if png %}<p class="small print-only">{{ w.print_note }}</p><img class="map" alt="{{ w.map }}" src="data:image/png;base64,{{ png }}">{% endif %}
</section>

<section id="coverage">
<h2>{{ w.coverage }}</h2>
<table>
<tr><th>{{ w.within }}</th><th>{{ w.people }}</th><th>{{ w.villages }}</th></tr>
{% for t in thresholds %}
<tr><td>{{ t.minutes }} {{ w.min }}</td><td class="num">{{ t.people }}</td><td class="num">{{ t.villages }}</td></tr>
{% endfor %}
</table>
{% if page.population_note %}<p class="small" id="population-note">{{ w.population }}: {{ page.population_note }}</p>{% endif %}
</section>

<section id="uncovered">
{% if page.ems %}
<h2>{{ page.ems.title }}</h2>
<p class="small">{{ page.ems.note }}</p>
<table>{% for label, value in page.ems.rows %}<tr><th>{{ label }}</th><td class="num">{{ value }}</td></tr>{% endfor %}</table>
{% if page.ems.zones %}<table><tr>{% for h in page.ems.zone_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for z in page.ems.zones %}<tr>{% for c in z %}<td{% if not loop.first %} class="num"{% endif %}>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}
{% endif %}

<h2>{{ uncovered_title }} ({{ uncovered|length }})</h2>
{% if not uncovered %}<p>{{ w.none_uncovered }}</p>{% else %}
<table>
<tr><th>{{ w.name }}</th><th>{{ w.zone }}</th><th>{{ w.population }}</th><th>{{ w.nearest }}</th><th>{{ w.minutes }}</th><th>{{ w.beyond }}</th></tr>
{% for v in uncovered %}
<tr><td>{{ v.name }}{% if v.off_network %} <span class="small">({{ w.off_network }})</span>{% endif %}</td><td>{{ v.zone }}</td>
<td class="num">{{ v.population }}</td><td>{{ v.nearest }}</td><td class="num">{{ v.minutes }}</td><td class="num">{{ v.beyond }}</td></tr>
{% endfor %}
</table>
{% endif %}
</section>

<section id="changes">
<h2>{{ w.changes }}</h2>
{% if not changes %}<p>{{ w.first_run }}</p>{% else %}
<p><b>{{ changes.since }}</b>. {{ w.changed_inputs }}: {{ changes.inputs }}.</p>
{% if changes.circle_note %}<p>{{ changes.circle_note }}</p>{% endif %}
<div class="changes">
{% for group in changes.groups %}
<div><h3>{{ group.title }} ({{ group.rows|length }})</h3>
{% if not group.rows %}<p class="small">{{ w.none }}</p>{% else %}
<table><tr><th>{{ w.name }}</th><th>{{ w.zone }}</th><th>{{ w.population }}</th><th>{{ w.minutes }} ({{ w.before }} → {{ w.after }})</th></tr>
{% for v in group.rows %}<tr><td>{{ v.name }}</td><td>{{ v.zone }}</td><td class="num">{{ v.population }}</td><td class="num">{{ v.minutes }}</td></tr>{% endfor %}
</table>{% endif %}
</div>
{% endfor %}
</div>
{% endif %}
<h3>{{ w.trend }}</h3>
{{ trend_svg }}
</section>

<footer>
<div>{{ page.attribution }}</div>
<div>{{ generated }}</div>
<table class="small">
<tr><th>{{ w.role }}</th><th>{{ w.file }}</th><th>sha256</th></tr>
{% for role, item in page.inputs.items() %}<tr><td>{{ role }}</td><td>{{ item.path }}</td><td><code>{{ item.sha256[:16] }}</code></td></tr>{% endfor %}
</table>
</footer>
</body>
</html>
"""

_ENVIRONMENT = Environment(autoescape=True, keep_trailing_newline=True)


def _number(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def _figure(value: Any, unit: str, language: str = "en") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    number = float(value)
    if unit == "share":
        return f"{number:.1%}"
    if unit == "share of units":
        return f"单元的 {number:.1%}" if language == "zh" else f"{number:.1%} of units"
    text = f"{number:,.0f}" if number == round(number) else f"{number:,.2f}"
    name = unit_name(unit, language)
    return (f"{text} {name}" if language != "zh" or name == unit else f"{text}{name}").strip()


#: The shortfall's keys (see ``Assessment.table``) in Chinese.
_SHORTFALL_ZH = {
    "people": "人口",
    "households": "户数",
    "villages": "村庄",
    "villages_outside": "圈外村庄",
    "people_outside": "圈外人口",
    "facilities": "机构",
    "units": "单元",
    "people_beyond_straight_line": "直线距离超出半径的人口",
    "people_beyond_by_road": "道路距离超出半径的人口",
    "villages_beyond_by_road": "道路距离超出半径的村庄",
}


def _shortfall(text: str, language: str) -> str:
    """``people 1,234; villages_outside 5`` as the page shows it: words, in the page's language."""
    parts = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, _, value = part.rpartition(" ")
        name = _SHORTFALL_ZH.get(key, key) if language == "zh" else key.replace("_", " ")
        parts.append(f"{name} {value}")
    return ("；" if language == "zh" else "; ").join(parts)


def _minutes_text(value: Any, missing: str, *, sign: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    return f"{sign}{float(value):.1f}"


def _minutes_pair(before: Any, after: Any, no_route: str) -> str:
    return f"{_minutes_text(before, no_route)} → {_minutes_text(after, no_route)}"


def render_report(page: ReportPage) -> str:
    """The report page as one self-contained HTML document.

    Every text from the inputs (place and facility names, labels, paths) is
    HTML-escaped by the template; the interactive map is embedded as an
    ``iframe`` ``srcdoc`` (escaped once more, sandboxed) and the static map as a
    base64 PNG shown when printing. No external script, style or font is loaded.
    """
    w = WORDS.get(page.language, WORDS["en"])
    standards = []
    for title_zh, title_en, name in page.standards:
        rows = page.targets[page.targets["standard"] == name]
        standards.append(
            {
                "title": title_zh if page.language == "zh" else title_en,
                "name": name,
                "targets": [
                    {
                        "label": row.label_zh if page.language == "zh" else row.label_en,
                        "status": row.status if row.status in STATUSES else CANNOT,
                        "measured": _figure(row.measured, str(row.unit or ""), page.language),
                        "required": _figure(row.required, str(row.unit or ""), page.language),
                        "shortfall": _shortfall(str(row.shortfall or ""), page.language),
                        "detail": getattr(row, "detail_zh", "") or row.detail if page.language == "zh" else row.detail,
                    }
                    for row in rows.itertuples(index=False)
                ],
            }
        )
    thresholds = []
    for row in page.thresholds:
        if row.get("population_share") is not None:
            people = (
                f"{row['population_covered']:,.0f} / {row['population_total']:,.0f} ({row['population_share']:.1%})"
            )
        elif row.get("village_population_total") is not None:
            people = f"{row['village_population_covered']:,.0f} / {row['village_population_total']:,.0f}"
        else:
            people = "–"  # no population data: the villages' column says it all
        thresholds.append(
            {
                "minutes": f"≤ {row['minutes']:g}",
                "people": people,
                "villages": f"{row['villages_covered']} / {row['villages_total']}",
            }
        )
    uncovered = [
        {
            "name": row.name,
            "zone": row.zone,
            "population": _number(row.population),
            "nearest": row.nearest_facility if isinstance(row.nearest_facility, str) else "–",
            "minutes": _minutes_text(row.minutes, w["no_route"]),
            "beyond": _minutes_text(row.minutes_beyond, "–", sign="+"),
            "off_network": bool(row.off_network),
        }
        for row in page.uncovered.itertuples(index=False)
    ]
    changes = None
    if page.changes is not None:
        diff = page.changes
        groups = []
        for name in ("newly_uncovered", "newly_covered", "still_uncovered", "appeared", "disappeared"):
            table = getattr(diff, name)
            if name in ("appeared", "disappeared") and table.empty:
                continue
            groups.append(
                {
                    "title": w[name],
                    "rows": [
                        {
                            "name": row.name,
                            "zone": row.zone,
                            "population": _number(row.population),
                            "minutes": _minutes_pair(row.minutes_before, row.minutes_after, w["no_route"]),
                        }
                        for row in table.itertuples(index=False)
                    ],
                }
            )
        circle_note = ""
        if diff.circle_before is not None and diff.circle_before != diff.circle_after:
            circle_note = w["circle_changed"].format(a=diff.circle_before, b=diff.circle_after)
        changes = {
            "since": page.since_label or w["since"].format(n=diff.before),
            "inputs": ", ".join(diff.changed_inputs) or w["no_changed_inputs"],
            "circle_note": circle_note,
            "groups": groups,
        }
    png = base64.b64encode(page.map_png).decode("ascii") if page.map_png else ""
    direction = w.get(f"direction_{page.direction}", page.direction)
    return _ENVIRONMENT.from_string(_TEMPLATE).render(
        page=page,
        w=w,
        css=Markup(_CSS),
        direction=direction,
        profile=profile_name(page.profile, page.language),
        standards=standards,
        thresholds=thresholds,
        uncovered=uncovered,
        uncovered_title=w["uncovered"].format(m=page.figures["circle_minutes"]),
        changes=changes,
        trend_svg=Markup(trend_svg(page.trend, language=page.language)),
        statuses=[(status, status_meaning(status, page.language)) for status in STATUSES],
        png=png,
        generated=w["generated"].format(v=page.version, c=page.config_path),
        run_n=page.run_label or w["run_n"].format(n=page.run),
    )


def trend_svg(trend: pd.DataFrame, *, language: str = "en", width: int = 560, height: int = 170) -> str:
    """A small line chart of the covered share per run, as inline SVG (every label escaped).

    Parameters
    ----------
    trend : DataFrame
        ``run``, ``date``, ``share`` (0–1, NaN allowed), ``basis`` and ``minutes``, oldest first.
    """
    w = WORDS.get(language, WORDS["en"])
    left, right, top, bottom = 44, 48, 12, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    points = trend.dropna(subset=["share"]).reset_index(drop=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img">'
    ]
    basis = str(trend["basis"].iloc[0]) if len(trend) else "people"
    minutes = float(trend["minutes"].iloc[-1]) if len(trend) else 0.0
    label = w["trend_people" if basis == "people" else "trend_villages"].format(m=minutes)
    parts.append(f"<title>{html.escape(label)}</title>")
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + inner_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{fraction:.0%}</text>')
    n = len(points)

    def x_of(i: int) -> float:
        return left + (inner_w / 2 if n == 1 else inner_w * i / (n - 1))

    coordinates = [(x_of(i), top + inner_h * (1 - float(s))) for i, s in enumerate(points["share"])]
    if n > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#0969da" stroke-width="2"/>')
    step = max(1, math.ceil(n / 12))
    for i, ((x, y), row) in enumerate(zip(coordinates, points.to_dict(orient="records"), strict=True)):
        tip = html.escape(f"{w['run_n'].format(n=row['run'])} ({row['date']}): {row['share']:.1%}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#0969da"><title>{tip}</title></circle>')
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 18}" text-anchor="middle">#{html.escape(str(row["run"]))}</text>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{height - 5}" text-anchor="middle">{html.escape(str(row["date"]))}</text>'
            )
    if n:
        parts.append(
            f'<text x="{coordinates[-1][0]:.1f}" y="{coordinates[-1][1] - 8:.1f}" text-anchor="middle" '
            f'fill="#0969da">{float(points["share"].iloc[-1]):.1%}</text>'
        )
    parts.append("</svg>")
    return f'<figure class="trend">{"".join(parts)}<figcaption class="small">{html.escape(label)}</figcaption></figure>'
