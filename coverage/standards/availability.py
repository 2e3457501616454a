"""Availability and fleet targets: calls answered without waiting or in time, shares of the fleet.

Two kinds of target that facility locations alone cannot measure:

- ``availability``: the share of EMS calls that get an ambulance without waiting
  (``dispatched_without_wait``: the plans' 平均急救呼叫满足率) or that an ambulance
  reaches within ``minutes`` (``within_minutes``). Measured by simulating the
  ambulances (:mod:`coverage.ems`), whose figures come in as a plain mapping: this
  stage never runs the simulation itself, and without its figures the target
  cannot be evaluated.
- ``fleet_share``: the share of ambulances of a sort (负压型 ``negative_pressure``,
  智能型 ``smart``): the station file's ``column`` summed over its ``ambulances``.

A target measured on stand-in stations (hospitals in place of EMS stations) or on
assumed ambulance counts is ``assumed`` when it would pass: the figure is shown, but
it is never a pass.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from coverage.standards.checks import ASSUMED, CANNOT, FAIL, PASS, CheckResult
from coverage.standards.standard import Standard, Target

logger = logging.getLogger(__name__)

AVAILABILITY_KINDS: tuple[str, ...] = ("availability", "fleet_share")
#: The plans' names of the sorts of ambulance.
SORT_NAMES_ZH: dict[str, str] = {"negative_pressure": "负压型", "smart": "智能型"}

#: The simulation figure each availability metric reads.
METRIC_FIGURES: dict[str, str] = {
    "dispatched_without_wait": "dispatched_without_wait_share",
    "within_minutes": "in_time_share",
}


def check_call_share(
    figures: Mapping[str, Any] | None,
    *,
    target: str,
    metric: str,
    required_share: float,
    minutes: float | None = None,
) -> CheckResult:
    """At least ``required_share`` of the calls dispatched without waiting, or reached within ``minutes``.

    Parameters
    ----------
    figures : mapping or None
        The simulation's figures (``dispatched_without_wait_share``, ``in_time_share``,
        ``threshold_minutes``, and ``substituted``/``assumed`` flags of the fleet);
        None when no simulation was run.
    """
    kind = "availability"
    if not figures or METRIC_FIGURES[metric] not in figures:
        return CheckResult(
            target,
            kind,
            CANNOT,
            None,
            required_share,
            "share",
            detail="needs a simulation of the ambulances: run 'facility-coverage ems simulate --standard ...' "
            "with the stations' ambulance counts",
            detail_zh="需要模拟救护车的出车情况：请用各站点的救护车数运行 'facility-coverage ems simulate --standard ...'",
        )
    if metric == "within_minutes" and minutes is not None and figures.get("threshold_minutes") != minutes:
        return CheckResult(
            target,
            kind,
            CANNOT,
            None,
            required_share,
            "share",
            detail=f"the simulation used {figures.get('threshold_minutes')} min, the target {minutes:g} min: "
            f"run it with --minutes {minutes:g}",
            detail_zh=f"模拟所用时限为{figures.get('threshold_minutes')}分钟，目标为{minutes:g}分钟：请用 --minutes {minutes:g} 重新运行",
        )
    share = float(figures[METRIC_FIGURES[metric]])
    what = "dispatched without waiting" if metric == "dispatched_without_wait" else f"reached within {minutes:g} min"
    detail = f"{share:.1%} of simulated calls {what}; the target is {required_share:.0%}"
    what_zh = "无需等待即派车" if metric == "dispatched_without_wait" else f"{minutes:g}分钟内到达"
    detail_zh = f"模拟呼叫中{share:.1%}{what_zh}；目标为{required_share:.0%}"
    status = PASS if share >= required_share - 1e-12 else FAIL
    caveats = [
        text
        for flag, text in (
            ("substituted", "stand-in stations (hospitals, not EMS stations)"),
            ("assumed", "assumed ambulance counts (not from the station file)"),
        )
        if figures.get(flag)
    ]
    if caveats and status == PASS:
        status = ASSUMED
    if caveats:
        detail += f" — measured on {' and '.join(caveats)}, so not a pass"
        detail_zh += "（基于替代站点或假定车辆数测算，不算达标）"
    calls = figures.get("calls")
    shortfall = {"calls": max(0.0, (required_share - share) * float(calls))} if calls else {}
    return CheckResult(target, kind, status, share, required_share, "share", shortfall, detail, detail_zh=detail_zh)


def check_fleet_share(stations: pd.DataFrame, *, target: str, column: str, required_share: float) -> CheckResult:
    """At least ``required_share`` of the ambulances counted by ``column`` (negative-pressure, smart)."""
    kind = "fleet_share"
    for needed in ("ambulances", column):
        if needed not in stations:
            return CheckResult(
                target,
                kind,
                CANNOT,
                None,
                required_share,
                "share",
                detail=f"the station data has no {needed!r} column; add it to the facility file to evaluate this target",
                detail_zh=f"站点数据没有 {needed!r} 列：请在设施文件中加入该列",
            )
    total = pd.to_numeric(stations["ambulances"], errors="coerce")
    sort = pd.to_numeric(stations[column], errors="coerce")
    if total.isna().any() or sort.isna().any() or total.sum() <= 0:
        return CheckResult(
            target,
            kind,
            CANNOT,
            None,
            required_share,
            "share",
            detail=f"{int(total.isna().sum() + sort.isna().sum())} values of 'ambulances'/{column!r} are missing, "
            "or there are no ambulances",
            detail_zh=f"'ambulances'/{column!r} 列缺少 {int(total.isna().sum() + sort.isna().sum())} 个数值，或没有救护车",
        )
    share = float(sort.sum() / total.sum())
    needed_count = max(0, math.ceil(required_share * float(total.sum()) - 1e-9) - int(sort.sum()))
    return CheckResult(
        target,
        kind,
        PASS if share >= required_share - 1e-12 else FAIL,
        share,
        required_share,
        "share",
        {column: float(needed_count)},
        f"{int(sort.sum())} of {int(total.sum())} ambulances are {column.replace('_', '-')} ({share:.1%}); "
        f"the target is {required_share:.0%}",
        detail_zh=f"{int(total.sum())} 辆救护车中 {int(sort.sum())} 辆为{SORT_NAMES_ZH.get(column, column)}"
        f"（{share:.1%}）；目标为{required_share:.0%}",
    )


def check_availability_target(
    target: Target, *, figures: Mapping[str, Any] | None, stations: pd.DataFrame
) -> CheckResult:
    """Evaluate one ``availability`` or ``fleet_share`` target."""
    if target.kind == "fleet_share":
        return check_fleet_share(
            stations, target=target.id, column=str(target.column), required_share=target.required_share
        )
    return check_call_share(
        figures,
        target=target.id,
        metric=str(target.metric),
        required_share=target.required_share,
        minutes=target.minutes,
    )


def evaluate_availability(
    standard: Standard, figures: Mapping[str, Any] | None, stations: pd.DataFrame
) -> Iterator[tuple[Target, CheckResult]]:
    """The availability and fleet targets of a standard, each with its result."""
    for target in standard.targets:
        if target.kind in AVAILABILITY_KINDS:
            yield target, check_availability_target(target, figures=figures, stations=stations)
