"""The ambulance section of a scheduled report: availability simulated, availability targets judged.

With ``[ems] simulate = true`` in the run configuration, a report also simulates
the region's ambulances (:func:`coverage.ems.run.ems_availability`), judges the
standards' availability targets on the simulated figures (which the assessment
alone reports as "cannot evaluate"), writes the EMS files into the run's folder
and shows the figures on the page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coverage.analysis.result import Analysis
from coverage.analysis.run import analyze
from coverage.ems.run import EmsResult, ems_availability
from coverage.ems.simulation import ServiceTimes
from coverage.outputs.ems_outputs import write_ems
from coverage.reports.config import RunConfig
from coverage.standards.assessment import Assessment
from coverage.standards.availability import check_availability_target

_SERVICE_KEYS = ("on_scene_minutes", "handover_minutes", "transport_share", "dispatch_minutes")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Ambulances: calls answered in time",
        "note": "{years} simulated years of {calls:,.0f} calls a year on {ambulances} ambulances at {stations} stations "
        "({counts}); {source}. Ranges are 95% confidence intervals.",
        "in_time": "Calls reached within {m:g} min",
        "no_wait": "Calls dispatched without waiting (call satisfaction)",
        "mean": "Mean response",
        "p90": "90th percentile response",
        "utilisation": "Ambulance utilisation",
        "expected": "Expected within {m:g} min (MEXCLP)",
        "plain": "Within {m:g} min of a station, ambulances never busy",
        "zone": "Admin unit",
        "calls": "Calls a year",
        "zone_in_time": "Reached in time",
        "zone_waited": "Waited",
    },
    "zh": {
        "title": "急救车辆：呼叫及时响应情况",
        "note": "模拟 {years} 年，每年 {calls:,.0f} 次呼叫，{stations} 个站点共 {ambulances} 辆救护车（{counts}）；{source}。区间为95%置信区间。",
        "in_time": "{m:g}分钟内到达的呼叫",
        "no_wait": "无需等待即派车的呼叫（急救呼叫满足率）",
        "mean": "平均响应时间",
        "p90": "90%分位响应时间",
        "utilisation": "救护车使用率",
        "expected": "{m:g}分钟内到达的期望比例（MEXCLP）",
        "plain": "距站点{m:g}分钟内（假设车辆从不繁忙）",
        "zone": "行政单元",
        "calls": "年呼叫量",
        "zone_in_time": "及时到达",
        "zone_waited": "需等待",
    },
}


def ems_options(config: RunConfig) -> dict[str, Any]:
    """The keyword arguments of :func:`~coverage.ems.run.ems_availability` from ``[ems]``."""
    settings = dict(config.ems_simulation or {})
    service = {key: settings.pop(key) for key in _SERVICE_KEYS if key in settings}
    settings["service"] = ServiceTimes(**service)
    settings["datum"] = config.datum
    return settings


def simulate_region(config: RunConfig, analysis: Analysis, region_inputs: dict[str, Any]) -> EmsResult:
    """The region's ambulances simulated, on the report's analysis when it is an EMS one, else on its own."""
    options = ems_options(config)
    threshold = float(options.get("threshold_minutes", 12.0))
    if analysis.direction != "from_facility" or not config.ems:
        analysis = analyze(
            **region_inputs, profile="ambulance", ems=True, minutes=[threshold], per_facility_isochrones=False
        )
    return ems_availability(analysis, **options)


def judge_availability(assessments: Sequence[Assessment], result: EmsResult) -> list[Assessment]:
    """The assessments with their availability targets judged on the simulated figures."""
    figures = result.target_figures()
    judged = []
    for assessment in assessments:
        results = tuple(
            check_availability_target(target, figures=figures, stations=result.fleet.stations)
            if target.kind == "availability"
            else old
            for target, old in zip(assessment.standard.targets, assessment.results, strict=True)
        )
        judged.append(dataclasses.replace(assessment, results=results))
    return judged


def write_section_files(result: EmsResult, folder: Path) -> dict[str, Path]:
    """``ems.json``, ``ems_villages.csv``, ``ems_stations.csv`` and ``ems_zones.csv`` in the run's folder."""
    return write_ems(result, folder)


def _range(result: EmsResult, name: str, *, percent: bool) -> str:
    if result.simulation is None:
        return "–"
    figure = result.simulation.figures[name]
    if percent:
        text = f"{figure.mean:.1%}"
        return text + (f" [{figure.low:.1%}–{figure.high:.1%}]" if figure.replications > 1 else "")
    text = f"{figure.mean:.1f} min"
    return text + (f" [{figure.low:.1f}–{figure.high:.1f}]" if figure.replications > 1 else "")


def page_section(result: EmsResult, *, language: str) -> dict[str, Any]:
    """The figures of the report page's ambulance section (plain text; the page escapes it)."""
    w = WORDS.get(language, WORDS["en"])
    m = result.threshold_minutes
    sim = result.simulation
    rows = []
    if sim is not None:
        rows += [
            (w["in_time"].format(m=m), _range(result, "in_time_share", percent=True)),
            (w["no_wait"], _range(result, "dispatched_without_wait_share", percent=True)),
            (w["mean"], _range(result, "mean_response_minutes", percent=False)),
            (w["p90"], _range(result, "p90_response_minutes", percent=False)),
            (w["utilisation"], _range(result, "utilisation", percent=True)),
        ]
    rows += [
        (w["expected"].format(m=m), f"{result.estimates.expected_in_time_share:.1%}"),
        (w["plain"].format(m=m), f"{result.estimates.plain_in_time_share:.1%}"),
    ]
    zones = []
    if sim is not None and "in_time_share" in result.zones:
        zones = [
            [str(row.zone), f"{row.calls_per_year:,.0f}", f"{row.in_time_share:.1%}", f"{row.waited_share:.1%}"]
            for row in result.zones.itertuples()
        ]
    fleet = result.fleet
    return {
        "title": w["title"],
        "note": w["note"].format(
            years=0 if sim is None else sim.figures["calls"].replications,
            calls=result.demand.calls_per_year,
            ambulances=fleet.total,
            stations=len(fleet.stations),
            counts=fleet.counts_source,
            source=result.demand.source,
        ),
        "rows": rows,
        "zone_header": [w["zone"], w["calls"], w["zone_in_time"], w["zone_waited"]],
        "zones": zones,
    }
