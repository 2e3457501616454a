"""The words a planner reads, in English and Chinese.

Every status word, kind name and sentence the commands print, and the maps and
reports show, comes from here, so ``--lang zh`` changes all of them together.
:func:`text` looks a message up by key and fills in its fields; :func:`status_word`
and :func:`kind_name` name a verdict and a facility kind.
"""

from __future__ import annotations

import unicodedata
from typing import Any

LANGUAGES = ("en", "zh")

#: Verdict words, by status (see ``coverage.standards.checks.STATUSES``).
STATUS_WORDS: dict[str, dict[str, str]] = {
    "pass": {"en": "pass", "zh": "达标"},
    "fail": {"en": "FAIL", "zh": "未达标"},
    "assumed": {"en": "assumed", "zh": "基于替代数据"},
    "cannot_evaluate": {"en": "cannot evaluate", "zh": "无法评估"},
    "not_applicable": {"en": "not applicable", "zh": "不适用"},
}

#: What each status means, for legends and report pages.
STATUS_MEANINGS: dict[str, dict[str, str]] = {
    "pass": {"en": "the target is met", "zh": "目标已达到"},
    "fail": {"en": "the target is missed", "zh": "目标未达到"},
    "assumed": {
        "en": "measured on stand-in data (e.g. hospitals for missing EMS stations): not a pass",
        "zh": "以替代数据测算（如以医院代替缺失的急救站），不算达标",
    },
    "cannot_evaluate": {
        "en": "the data needed is missing: not a pass",
        "zh": "缺少所需数据，无法评估，不算达标",
    },
    "not_applicable": {
        "en": "the region has no area of the target's zone class",
        "zh": "本区域没有该目标适用的区域类型",
    },
}

#: Names of the facility kinds the tool knows.
KIND_NAMES: dict[str, dict[str, str]] = {
    "hospital": {"en": "hospital", "zh": "医院"},
    "health_centre": {"en": "township health centre", "zh": "乡镇卫生院"},
    "community_health_centre": {"en": "community health centre", "zh": "社区卫生服务中心"},
    "community_health_station": {"en": "community health station", "zh": "社区卫生服务站"},
    "village_clinic": {"en": "village clinic", "zh": "村卫生室"},
    "clinic": {"en": "clinic", "zh": "诊所"},
    "doctors": {"en": "doctors' practice", "zh": "医生诊室"},
    "ems": {"en": "EMS station", "zh": "急救站"},
    "sub_centre": {"en": "county medical sub-centre", "zh": "县域医疗卫生次中心"},
    "maternal_child_health": {"en": "maternal and child health centre", "zh": "妇幼保健院"},
    "facility": {"en": "facility", "zh": "医疗机构"},
    "candidate": {"en": "candidate site", "zh": "候选站点"},
}

#: Names of the shipped travel profiles (a profile file of the user's own keeps its name).
PROFILE_NAMES: dict[str, dict[str, str]] = {
    "car": {"en": "car", "zh": "小汽车"},
    "ambulance": {"en": "ambulance", "zh": "救护车"},
    "walk": {"en": "walk", "zh": "步行"},
}

#: Units of the checks' measured and required figures (``CheckResult.unit``), after the number.
UNIT_NAMES: dict[str, dict[str, str]] = {
    "facilities": {"en": "facilities", "zh": "个机构"},
    "count": {"en": "facilities", "zh": "个机构"},
    "units": {"en": "units", "zh": "个单元"},
    "km": {"en": "km", "zh": "公里"},
    "ambulances": {"en": "ambulances", "zh": "辆救护车"},
    "doctors": {"en": "doctors", "zh": "名医生"},
    "beds": {"en": "beds", "zh": "张床位"},
}

#: Zone classes of the plans.
ZONE_CLASS_NAMES: dict[str, dict[str, str]] = {
    "central": {"en": "central city", "zh": "中心城区"},
    "urban": {"en": "other urban area", "zh": "非中心城区"},
    "rural": {"en": "rural area", "zh": "农村地区"},
    "all": {"en": "whole region", "zh": "全域"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "wrote": {"en": "wrote {files}", "zh": "已写出 {files}"},
    "wrote_in": {"en": "wrote {files} in {seconds:.1f} s", "zh": "已写出 {files}，用时 {seconds:.1f} 秒"},
    "headline": {
        "en": "{region}: {facilities} facilities, {villages} villages, profile {profile}, {direction}",
        "zh": "{region}：医疗机构 {facilities} 个，村庄 {villages} 个，速度方案 {profile}，{direction}",
    },
    "to_facility": {"en": "to facility", "zh": "前往医疗机构"},
    "from_facility": {"en": "from facility", "zh": "从医疗机构出发"},
    "within_people": {
        "en": "  within {minutes:g} min: {covered:,.0f} of {total:,.0f} people ({share:.1%}), {vc} of {vt} villages",
        "zh": "  {minutes:g} 分钟内：{covered:,.0f} / {total:,.0f} 人（{share:.1%}），村庄 {vc} / {vt} 个",
    },
    "within_villages": {
        "en": "  within {minutes:g} min: {vc} of {vt} villages (no population data: shares are of villages, not people)",
        "zh": "  {minutes:g} 分钟内：村庄 {vc} / {vt} 个（无人口数据：比例按村庄计，不按人口计）",
    },
    "within_village_people": {
        "en": "  within {minutes:g} min: {covered:,.0f} of {total:,.0f} people in villages ({share:.1%}), "
        "{vc} of {vt} villages",
        "zh": "  {minutes:g} 分钟内：村庄人口 {covered:,.0f} / {total:,.0f} 人（{share:.1%}），村庄 {vc} / {vt} 个",
    },
    "people_from_villages": {
        "en": "  people: the villages' own populations (no raster); {missing} villages without one count as 0",
        "zh": "  人口：村庄自身的人口（无人口栅格）；{missing} 个没有人口的村庄按 0 计",
    },
    "population_line": {"en": "  population: {text}", "zh": "  人口：{text}"},
    "no_population": {
        "en": "no population data (no raster, no village population column): shares are of villages, not people, "
        "and targets that need people cannot be evaluated",
        "zh": "无人口数据（既无人口栅格，也无村庄人口列）：比例按村庄计，不按人口计；需要人口的目标无法评估",
    },
    "calibrated_units": {
        "en": "{done} of {units} units calibrated to {source}",
        "zh": "{units} 个单元中 {done} 个已校准到 {source}",
    },
    "calibration_factors": {"en": " (factors {low:.3g}–{high:.3g})", "zh": "（系数 {low:.3g}–{high:.3g}）"},
    "calibration_factor": {"en": " (factor {factor:.3g})", "zh": "（系数 {factor:.3g}）"},
    "not_calibrated": {"en": "; not calibrated: {units}", "zh": "；未校准：{units}"},
    "totals_without_unit": {"en": "; {n} totals name no unit", "zh": "；{n} 条总数找不到对应单元"},
    "outside_units": {
        "en": "; {n:,} {places} ({people:,.0f} people) outside every unit",
        "zh": "；{n:,} 个{places}（{people:,.0f} 人）不在任何单元内",
    },
    "cells": {"en": "cells", "zh": "栅格单元"},
    "villages": {"en": "villages", "zh": "村庄"},
    "basis_cells": {
        "en": "shares are of people: every populated cell of the population raster",
        "zh": "比例按人口计算：人口栅格中每个有人口的单元",
    },
    "basis_villages": {
        "en": "shares are of people: the villages' populations (no raster)",
        "zh": "比例按人口计算：各村庄的人口（无人口栅格）",
    },
    # site's printed summary
    "site_headline": {
        "en": "{model}: {n} new sites, solver {solver} {status}{gap} in {seconds:.1f} s",
        "zh": "{model}：新增站点 {n} 个，求解器 {solver} {status}{gap}，用时 {seconds:.1f} 秒",
    },
    "site_gap": {"en": ", gap {gap:.2%}", "zh": "，最优性差距 {gap:.2%}"},
    "site_context": {
        "en": "  {region}, profile {profile}, trips {trips}",
        "zh": "  {region}，速度方案 {profile}，{trips}",
    },
    "trips_from_facility": {"en": "from the station to the place", "zh": "从站点到居民点"},
    "trips_to_facility": {"en": "from the place to the facility", "zh": "从居民点到机构"},
    "site_people": {
        "en": "  people within the threshold: {before:,.0f} -> {after:,.0f} of {total:,.0f} ({share_before:.1%} -> "
        "{share_after:.1%}); villages {vb} -> {va} of {vt}",
        "zh": "  时限内人口：{before:,.0f} → {after:,.0f} / {total:,.0f}（{share_before:.1%} → {share_after:.1%}）；"
        "村庄 {vb} → {va} / {vt} 个",
    },
    "site_row": {
        "en": "  {order}. {name} ({source}, lon {lon:.5f}, lat {lat:.5f}): +{people:,.0f} people, +{villages} villages"
        "{idle}",
        "zh": "  {order}. {name}（{source}，经度 {lon:.5f}，纬度 {lat:.5f}）：+{people:,.0f} 人，+{villages} 个村庄{idle}",
    },
    "site_idle": {
        "en": " (adds nothing: everyone it reaches is served already)",
        "zh": "（无新增：它能到达的人都已被覆盖）",
    },
    "site_dropped": {"en": "  candidates dropped: {items}", "zh": "  舍弃的候选点：{items}"},
    "site_unreachable_cells": {
        "en": "  {n:,} populated cells ({people:,.0f} people) are beyond every candidate's reach in time (most lie far "
        "from any road); listed in sites.gpkg, layer unreachable",
        "zh": "  {n:,} 个有人口的栅格单元（{people:,.0f} 人）在时限内无法由任何候选点到达（多数远离道路）；"
        "见 sites.gpkg 的图层 unreachable",
    },
    "site_unreachable_villages": {
        "en": "  no candidate reaches {n} villages in time: {names}{more}",
        "zh": "  {n} 个村庄在时限内无法由任何候选点到达：{names}{more}",
    },
    "and_more": {"en": " and {n} more", "zh": " 等，另有 {n} 个"},
    "site_tradeoff": {"en": "  new stations -> people covered: {items}", "zh": "  新增站点数 → 覆盖人口：{items}"},
    # history's tables
    "history_columns": {
        "en": "run|started|version|covered|outside|targets met/missed/n.c.|exit",
        "zh": "运行|开始时间|版本|覆盖|时限外村庄|目标 达标/未达标/未确认|退出码",
    },
    "history_outside": {"en": "{outside} of {total}", "zh": "{outside}/{total}"},
    "history_legend": {
        "en": "covered: share of people within {minutes:g} min; outside: villages beyond it; "
        "n.c.: not confirmed (not evaluable or on stand-in data)",
        "zh": "覆盖：{minutes:g} 分钟内人口比例；时限外村庄：超出该时限的村庄；未确认：无法评估或基于替代数据",
    },
    "history_none": {"en": "no runs recorded yet", "zh": "尚无运行记录"},
    "history_runs": {
        "en": "run {a} ({a_at}) → run {b} ({b_at})",
        "zh": "第 {a} 次运行（{a_at}）→ 第 {b} 次运行（{b_at}）",
    },
    "history_inputs": {"en": "inputs changed: {items}", "zh": "变化的输入：{items}"},
    "none": {"en": "none", "zh": "无"},
    "history_settings": {
        "en": "settings changed (the configuration's settings hash differs)",
        "zh": "设置已改变（配置文件的设置哈希不同）",
    },
    "history_version": {"en": "software version: {a} → {b}", "zh": "软件版本：{a} → {b}"},
    "history_circle": {"en": "the circle changed from {a:g} to {b:g} min", "zh": "服务圈由 {a:g} 分钟改为 {b:g} 分钟"},
    "newly_uncovered": {"en": "newly uncovered", "zh": "新增未覆盖"},
    "newly_covered": {"en": "newly covered", "zh": "新增覆盖"},
    "still_uncovered": {"en": "still uncovered", "zh": "仍未覆盖"},
    "appeared": {"en": "new villages in the input", "zh": "输入中新出现的村庄"},
    "disappeared": {"en": "villages no longer in the input", "zh": "输入中已不存在的村庄"},
    "no_road_route": {"en": "no road route", "zh": "无道路可达"},
    "village_people": {"en": ", {people:,.0f} people", "zh": "，{people:,.0f} 人"},
    "village_minutes": {
        "en": "  {place}{people}: {before} → {after} min",
        "zh": "  {place}{people}：{before} → {after} 分钟",
    },
    # the maps (HTML and PNG)
    "map_title": {"en": "{region}: health-facility coverage", "zh": "{region}：医疗机构服务覆盖"},
    "map_to_nearest": {"en": "to the nearest facility", "zh": "到最近机构"},
    "map_from_nearest": {"en": "from the nearest facility", "zh": "从最近机构出发"},
    "map_standard_thresholds": {"en": "the standard's thresholds", "zh": "标准规定的时限"},
    "map_minutes": {"en": "{minutes:g} min", "zh": "{minutes:g} 分钟"},
    "map_headline": {
        "en": "{profile}, {direction}; {covered} of {total} villages within {judged}",
        "zh": "{profile}，{direction}；{total} 个村庄中 {covered} 个在{judged}内",
    },
    "map_headline_people": {"en": "; {share:.1%} of people", "zh": "；覆盖人口 {share:.1%}"},
    "map_kind": {"en": "Kind", "zh": "类别"},
    "map_id": {"en": "ID", "zh": "编号"},
    "map_off_network": {"en": "Off network", "zh": "远离路网"},
    "map_off_network_yes": {"en": "yes, {metres:,.0f} m from a road", "zh": "是，距道路 {metres:,.0f} 米"},
    "map_yes": {"en": "yes", "zh": "是"},
    "map_no": {"en": "no", "zh": "否"},
    "map_facilities_layer": {"en": "Facilities: {kind} ({n})", "zh": "医疗机构：{kind}（{n} 个）"},
    "map_population": {"en": "Population", "zh": "人口"},
    "map_unknown": {"en": "unknown", "zh": "未知"},
    "map_admin_unit": {"en": "Admin unit", "zh": "行政区"},
    "map_nearest_facility": {"en": "Nearest facility", "zh": "最近机构"},
    "map_none": {"en": "none", "zh": "无"},
    "map_minutes_row": {"en": "Minutes", "zh": "用时（分钟）"},
    "map_not_reached": {"en": "not reached", "zh": "无法到达"},
    "map_within": {"en": "Within", "zh": "是否在时限内"},
    "map_within_value": {"en": "{limit:g} min: {answer}", "zh": "{limit:g} 分钟：{answer}"},
    "map_beyond": {"en": ", {minutes:.1f} min beyond", "zh": "，超出 {minutes:.1f} 分钟"},
    "map_small_piece": {"en": "Small road piece", "zh": "孤立小路段"},
    "map_small_piece_yes": {"en": "yes: its roads do not join the main network", "zh": "是：其道路与主路网不连通"},
    "map_villages_layer": {
        "en": "Villages: {covered} covered, {outside} not",
        "zh": "村庄：覆盖 {covered} 个，未覆盖 {outside} 个",
    },
    "map_people_outside_layer": {"en": "People outside the circle: {people:,.0f}", "zh": "服务圈外人口：{people:,.0f}"},
    "map_no_population": {"en": "no population", "zh": "无人口"},
    "map_covered_tooltip": {"en": "{name}: {share} covered", "zh": "{name}：覆盖 {share}"},
    "map_covered_share": {"en": "Covered share", "zh": "覆盖比例"},
    "map_people_covered": {"en": "People covered", "zh": "覆盖人口"},
    "map_people_covered_value": {"en": "{covered:,.0f} of {people:,.0f}", "zh": "{covered:,.0f} / {people:,.0f}"},
    "map_zones_layer": {"en": "Admin units by covered share", "zh": "各行政区覆盖比例"},
    "map_site": {"en": "site {rank}", "zh": "站点 {rank}"},
    "map_order": {"en": "Order", "zh": "序号"},
    "map_source": {"en": "Source", "zh": "来源"},
    "map_people_gain": {"en": "People newly covered", "zh": "新增覆盖人口"},
    "map_villages_gain": {"en": "Villages newly covered", "zh": "新增覆盖村庄"},
    "map_people_after": {"en": "People covered after", "zh": "新增后覆盖人口"},
    "map_candidate": {"en": "Candidate site {rank}: {name}", "zh": "候选站点 {rank}：{name}"},
    "map_sites_layer": {"en": "Candidate sites ({n})", "zh": "候选站点（{n} 个）"},
    "map_travel_time": {"en": "Travel time ({profile})", "zh": "出行时间（{profile}）"},
    "map_band_layer": {"en": "Isochrone band {label}", "zh": "等时圈 {label}"},
    "map_people_outside": {"en": "People outside the circle", "zh": "服务圈外人口"},
    "map_zones_legend": {"en": "Admin units: covered share", "zh": "行政区：覆盖比例"},
    "map_villages": {"en": "Villages", "zh": "村庄"},
    "map_villages_within": {"en": "within the threshold", "zh": "在时限内"},
    "map_villages_outside": {"en": "outside (dashed: off the road network)", "zh": "在时限外（虚线：远离路网）"},
    "map_facilities": {"en": "Facilities", "zh": "医疗机构"},
    "map_sites": {"en": "Candidate sites", "zh": "候选站点"},
    "map_sites_item": {"en": "new station, numbered by gain", "zh": "新站点，按新增覆盖排序编号"},
    "map_density_caption": {
        "en": "people outside the circle per {pixel} pixel (log scale)",
        "zh": "每 {pixel} 像元内服务圈外人口（对数刻度）",
    },
    "map_surface_layer": {"en": "Travel time {direction} ({profile})", "zh": "{direction}的出行时间（{profile}）"},
    "map_surface_caption": {"en": "minutes {direction}, {profile}", "zh": "{direction}的分钟数，{profile}"},
    "map_travel_time_row": {"en": "Travel time", "zh": "出行时间"},
    "map_catchments": {"en": "Catchments", "zh": "服务范围"},
    "map_catchments_layer": {"en": "Catchments ({n} facilities)", "zh": "服务范围（{n} 个机构）"},
    "map_catchment_of": {"en": "Catchment of {name}", "zh": "{name} 的服务范围"},
    "map_area": {"en": "Area", "zh": "面积"},
    "map_within_minutes": {"en": "Within {minutes} min", "zh": "{minutes} 分钟内"},
    "map_mean_minutes": {"en": "Mean minutes (per person)", "zh": "平均用时（按人口，分钟）"},
    "map_longest_minutes": {"en": "Longest minutes", "zh": "最长用时（分钟）"},
    "map_people_per": {"en": "People per {unit}", "zh": "每{unit}服务人口"},
    "map_admin_boundaries": {"en": "Admin boundaries", "zh": "行政区界线"},
    "map_region_boundary": {"en": "Region boundary", "zh": "区域边界"},
    "map_boundaries": {"en": "Boundaries", "zh": "边界"},
    "png_admin_units": {"en": "admin units", "zh": "行政区"},
    "png_region_boundary": {"en": "region boundary", "zh": "区域边界"},
    "png_people_outside": {"en": "people outside ({people:,.0f})", "zh": "服务圈外人口（{people:,.0f}）"},
    "png_people_per_hexagon": {
        "en": "people outside per hexagon (log scale)",
        "zh": "每个六边形内服务圈外人口（对数刻度）",
    },
    "png_village_covered": {"en": "village covered", "zh": "已覆盖村庄"},
    "png_village_outside": {
        "en": "village outside ({outside} of {total})",
        "zh": "未覆盖村庄（{total} 个中 {outside} 个）",
    },
    "png_candidate_site": {"en": "candidate site", "zh": "候选站点"},
    "map_changed_since": {"en": "{name}: {word} since run {run}", "zh": "{name}：自第 {run} 次运行以来{word}"},
    "map_changed_layer": {"en": "Changed since run {run} ({n})", "zh": "自第 {run} 次运行以来有变化（{n} 个）"},
    # the scheduled report's one summary line
    "report_line": {
        "en": "{title}: run {run}: {targets}; {outside} of {total} villages outside {minutes:g} min{share}{changes}",
        "zh": "{title}：第 {run} 次运行：{targets}；{total} 个村庄中 {outside} 个在 {minutes:g} 分钟以外{share}{changes}",
    },
    "report_unchanged": {
        "en": "{title}: unchanged since run {run} ({when}): {targets}; {outside} of {total} villages outside "
        "{minutes:g} min{share}; report {report}",
        "zh": "{title}：自第 {run} 次运行（{when}）以来没有变化：{targets}；{total} 个村庄中 {outside} 个在 "
        "{minutes:g} 分钟以外{share}；报告 {report}",
    },
    "report_at": {"en": "; report {report}", "zh": "；报告 {report}"},
    "no_targets": {"en": "no targets configured", "zh": "未配置目标"},
    "targets_counts": {"en": "targets {met} met, {missed} missed", "zh": "目标达标 {met} 项、未达标 {missed} 项"},
    "targets_unconfirmed": {
        "en": ", {n} not confirmed (not evaluable or on stand-in data)",
        "zh": "、{n} 项未能确认（无法评估或基于替代数据）",
    },
    "targets_not_applicable": {"en": ", {n} not applicable", "zh": "、{n} 项不适用"},
    "people_outside_share": {"en": " ({share:.1%} of people)", "zh": "（占人口 {share:.1%}）"},
    "first_run": {"en": "; first run", "zh": "；首次运行"},
    "since_run": {
        "en": "; since run {run}: {lost} newly uncovered, {gained} newly covered",
        "zh": "；与第 {run} 次运行相比：新增未覆盖 {lost} 个，新增覆盖 {gained} 个",
    },
}

#: The calibration statuses of admin units, as the printed summary names them.
CALIBRATION_STATUS_NAMES: dict[str, dict[str, str]] = {
    "calibrated": {"en": "calibrated", "zh": "已校准"},
    "no_cells": {"en": "no cells", "zh": "无人口栅格"},
    "no_villages": {"en": "no villages", "zh": "无村庄"},
    "villages_without_population": {"en": "villages without population", "zh": "有村庄缺少人口"},
    "no_population": {"en": "no population", "zh": "人口为 0"},
    "no_total": {"en": "no total", "zh": "无官方总数"},
}


def _pick(table: dict[str, dict[str, str]], key: str, lang: str) -> str:
    entry = table.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]


def status_word(status: str, lang: str = "en") -> str:
    """The verdict word of a status (``"pass"`` → ``"达标"`` in Chinese)."""
    return _pick(STATUS_WORDS, status, lang)


def status_meaning(status: str, lang: str = "en") -> str:
    """One line saying what a status means."""
    return _pick(STATUS_MEANINGS, status, lang)


def kind_name(kind: str, lang: str = "en") -> str:
    """The readable name of a facility kind; an unknown kind is shown as it is."""
    return _pick(KIND_NAMES, kind, lang)


def unit_name(unit: str, lang: str = "en") -> str:
    """A figure's unit in ``lang`` (an unknown one as it is)."""
    return _pick(UNIT_NAMES, unit, lang)


def profile_name(profile: str, lang: str = "en") -> str:
    """A travel profile's name in ``lang`` (a profile of the user's own keeps its name)."""
    return _pick(PROFILE_NAMES, profile, lang)


def zone_class_name(zone_class: str, lang: str = "en") -> str:
    """The readable name of a zone class (central, urban, rural, all)."""
    return _pick(ZONE_CLASS_NAMES, zone_class, lang)


def display_width(value: str) -> int:
    """Columns a text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in value)


def centred(value: str, width: int) -> str:
    """``value`` centred in ``width`` terminal columns (Chinese characters counted as two)."""
    gap = max(0, width - display_width(value))
    return " " * (gap // 2) + value + " " * (gap - gap // 2)


def text(key: str, lang: str = "en", **fields: Any) -> str:
    """The message ``key`` in ``lang``, its fields filled in."""
    return _pick(MESSAGES, key, lang).format(**fields)


#: Chinese wording of the warnings a planner acts on, keyed by the English message
#: template the library logs (``%`` fields in the same order). ``tests/test_i18n.py``
#: checks that every key still stands verbatim in the package, so a reworded warning
#: cannot silently lose its translation.
LOG_MESSAGES_ZH: dict[str, str] = {
    "no ambulance stations (kind 'ems') in the facility data: the %d hospitals stand in as EMS bases; "
    "targets measured on them are reported as 'assumed', never as met": "医疗机构数据中没有急救站（类别 ems）：以 %d 家医院代替急救站测算；"
    "据此测算的目标标为“基于替代数据”，不算达标",
    "no facilities of kind %s (kinds present: %s)": "没有类别为 %s 的医疗机构（现有类别：%s）",
    "%s: the file's own %r column is kept as %r": "%s：文件原有的 %r 列保留为 %r",
    "%s: %d of %d facilities lie outside the road network's extent; they are kept and flagged off_network": "%s：%d / %d 个医疗机构位于路网范围之外；已保留并标记为 off_network（不在路网上）",
    "%s: %d of %d villages lie outside the road network's extent; they are kept and flagged off_network": "%s：%d / %d 个村庄位于路网范围之外；已保留并标记为 off_network（不在路网上）",
    "%s: %d facilities lie more than %g km outside the boundary (%s; ids %s): left out of this region's analysis": "%s：%d 个医疗机构位于边界外 %g 公里以上（%s；编号 %s）：不计入本区域的分析",
    "%s: %d villages lie outside the boundary (%s; ids %s): left out of this region's analysis": "%s：%d 个村庄位于边界之外（%s；编号 %s）：不计入本区域的分析",
    "%s has no kind column: every row counts as kind 'facility'": "%s 没有类别列：所有记录均按“医疗机构”计",
    "%s: kind map %r has rules on %s, but the file has no such column (looked for %s); those rules are skipped": "%s：类别规则 %r 有针对 %s 的规则，但文件中没有相应的列（查找了 %s）；这些规则未使用",
    "%s: %d rows left out by the %r kind map: %s": "%s：%d 条记录按类别规则 %r 不计入：%s",
    "%s: %d rows have a category no rule of the %r kind map knows, kept under that name: %s%s. "
    "Add rules for them to a copy of the map, or they count only where all facilities count": "%s：%d 条记录的类别不在类别规则 %r 中，按原类别名保留：%s%s。"
    "可在规则副本中为其添加规则，否则它们只在统计全部医疗机构时计入",
    "%s: %d of %d road lines (%.1f km) have a blank or unknown class in column %r (%s) and are read as %r "
    "(--default-road-class); listed in the road_problems layer": "%s：%d / %d 条道路（%.1f 公里）在 %r 列中等级为空或无法识别（%s），按 %r 计算"
    "（--default-road-class）；详见 road_problems 图层",
    "%s: road classes assumed for some lines (blank or unknown class): %s": "%s：部分道路等级为推定值（等级为空或无法识别）：%s",
    "%s: %d boundary polygons (%s%s) are joined into one region; to analyse one of them, select it with "
    "--boundary-where, e.g. \"%s == '...'\"": "%s：%d 个边界面（%s%s）被合并为一个区域；如只分析其中之一，请用 --boundary-where 选择，"
    "例如 \"%s == '...'\"",
    "%s: the zones overlap (their areas add up to %.0f%% of their union); each place goes to the first "
    "zone holding it. Select one level, e.g. with a where query such as \"admin_level == '8'\".": "%s：各分区相互重叠（面积之和为其并集的 %.0f%%）；每个地点归入第一个包含它的分区。"
    "请只选择一个层级，例如 \"admin_level == '8'\"。",
    "%s of %s villages are more than %s m from any road: flagged off_network and still counted, with an "
    "off-road leg at %g km/h (up to %.1f km); see column off_network of villages.csv (facility-coverage "
    "analyze)": "%s / %s 个村庄距最近道路超过 %s 米：已标记为 off_network（不在路网上），仍计入统计，离路段按 %g 公里/小时"
    "计算（最长 %.1f 公里）；详见 villages.csv 的 off_network 列（facility-coverage analyze 输出）",
    "%s of %s populated raster cells (%s people, %.1f%% of the population) are more than %s m from any "
    "road: flagged off_network and still counted, with an off-road leg at %g km/h (up to %.1f km); see "
    "the layer flagged_cells of coverage.gpkg (facility-coverage analyze)": "%s / %s 个有人口的栅格单元（%s 人，占总人口 "
    "%.1f%%）距最近道路超过 %s 米：已标记为 off_network（不在路网上），仍计入统计，离路段按 %g 公里/小时计算（最长 %.1f 公里）；"
    "详见 coverage.gpkg 的 flagged_cells 图层（facility-coverage analyze 输出）",
    "%s of %s facilities are more than %s m from any road: flagged off_network and still counted, with an "
    "off-road leg at %g km/h (up to %.1f km); see column off_network of the layer facilities of "
    "coverage.gpkg (facility-coverage analyze)": "%s / %s 个医疗机构距最近道路超过 %s 米：已标记为 off_network（不在路网上），"
    "仍计入统计，离路段按 %g 公里/小时计算（最长 %.1f 公里）；详见 coverage.gpkg 中 facilities 图层的 off_network 列"
    "（facility-coverage analyze 输出）",
    "%s of %s villages lie on small road pieces that do not join the main network: flagged small_piece, "
    "they reach only what is on their piece; see column small_piece of villages.csv (facility-coverage "
    "analyze)": "%s / %s 个村庄位于未连入主路网的零散路段上：已标记为 small_piece，只能到达该路段上的地点；详见 villages.csv "
    "的 small_piece 列（facility-coverage analyze 输出）",
    "%s of %s populated raster cells (%s people, %.1f%% of the population) lie on small road pieces that "
    "do not join the main network: flagged small_piece, they reach only what is on their piece; see the "
    "layer flagged_cells of coverage.gpkg (facility-coverage analyze)": "%s / %s 个有人口的栅格单元（%s 人，占总人口 "
    "%.1f%%）位于未连入主路网的零散路段上：已标记为 small_piece，只能到达该路段上的地点；详见 coverage.gpkg 的 flagged_cells "
    "图层（facility-coverage analyze 输出）",
    "%s of %s facilities lie on small road pieces that do not join the main network: flagged small_piece, "
    "they serve only what is on their piece; see column small_piece of the layer facilities of "
    "coverage.gpkg (facility-coverage analyze)": "%s / %s 个医疗机构位于未连入主路网的零散路段上：已标记为 small_piece，"
    "只服务该路段上的地点；详见 coverage.gpkg 中 facilities 图层的 small_piece 列（facility-coverage analyze 输出）",
    "%s: %d facilities share %d points: %s. Places they serve count the first by id as their nearest; "
    "if one facility is listed twice, remove the copy.": "%s：%d 个医疗机构共用 %d 个位置：%s。它们服务的地点以编号在前者为"
    "最近机构；如同一机构重复列出，请删除重复记录。",
    "%d hospitals take no emergencies (emergency=no) and are no EMS bases: %s": "%d 家医院不接收急诊（emergency=no），"
    "不作为急救站点：%s",
    "no boundary given: %d populated cells (%.0f people) of the raster lie beyond the road network's extent "
    "and are left out of the region; give --boundary (or --zones) to count them": "未给出边界：栅格中 %d 个有人口的格网（%.0f 人）位于路网范围之外，"
    "不计入本区域；请用 --boundary（或 --zones）给出边界以计入",
    "no boundary given: %d populated cells (%.0f people) lie more than %g m from any road and are left "
    "out of the region; give --boundary (or --zones) to count them": "未给出边界：%d 个有人口的格网（%.0f 人）距任何道路超过 %g 米，"
    "不计入本区域；请用 --boundary（或 --zones）给出边界以计入",
    "no villages and no population raster: the results hold travel times and areas but no population "
    "figures; give --population or --villages": "没有村庄，也没有人口栅格：结果只有出行时间和范围，没有人口数字；"
    "请给出 --population 或 --villages",
    "%s: %d rows name no unit of the zones and are not used: %s": "%s：%d 行找不到对应的行政单元，未使用：%s",
    "%d %s (%.0f people) of the region lie outside every unit: not calibrated": "区域内有 %d 个%s（%.0f 人）不在任何单元内：未校准",
    "%s: %d units %s: %s": "%s：%d 个单元%s：%s",
    "%s file %s: %d invalid polygons repaired (%s%s)": "%s 文件 %s：已修复 %d 个无效多边形（%s%s）",
    "%d of %d %s have no population and generate no calls": "%d / %d 个%s没有人口，不产生呼叫",
    "the call records span only %.1f days; a year's calls are extrapolated from them": "呼叫记录仅覆盖 %.1f 天；全年呼叫量由此外推",
    "%s has no %r column: assuming %d ambulance(s) per station; add the column for real figures": "%s 没有 %r 列：假定每站 %d 辆救护车；请加入该列以得到真实数字",
    "no hospitals in the region: patients are treated on scene (no transport legs)": "区域内没有医院：病人按现场救治计（不计转运路程）",
    "%d of %d demand points (%.1f calls a year) are beyond %g min of every station: their calls are not reached": "%d / %d 个需求点（每年 %.1f 次呼叫）距所有站点都超过 %g 分钟：这些呼叫无法及时到达",
    "%s: %d features have no geometry and were not read (fid %s)": "%s：%d 个要素没有几何，未读取（fid %s）",
    "%s: %d two-way edges have no edge back (the graph was cut?); they are read as one-way": "%s：%d 条双向边缺少反向边（图被截断？）；按单向读取",
    "%s: %d edges have no highway attribute; read as highway=road": "%s：%d 条边没有 highway 属性；按 highway=road 读取",
    "%s: %d highway ways reference nodes missing from the file (cut at the extract's edge); they were not read": "%s：%d 条道路引用了文件中缺失的节点（在数据范围边缘被截断）；未读取",
    "%s: %d health facilities have no usable location (cut by the extract)": "%s：%d 个医疗机构没有可用位置（被数据范围截断）",
    "%s: skipped %s with no value in any column": "%s：跳过所有列都为空的%s",
    "%s: the file's own 'geometry' column is kept as 'geometry_original'": "%s：文件原有的 'geometry' 列保留为 'geometry_original'",
    "%s has no CRS; using the given crs %s": "%s 没有坐标系；使用给定的坐标系 %s",
    "%s declares its CRS %s; the given crs %s is not used": "%s 自带坐标系 %s；不使用给定的坐标系 %s",
    "%s: the file's own 'id' column is kept as 'id_original'": "%s：文件原有的 'id' 列保留为 'id_original'",
    "profile %s: road classes that are not OSM highway values cannot be used: %s. Map them to OSM classes when reading the roads.": "速度方案 %s：不是 OSM highway 取值的道路等级无法使用：%s。请在读取道路时把它们对应到 OSM 等级。",
    "%s: a walk profile with honour_oneway=%s, honour_maxspeed=%s; one-way tags and speed limits are meant for vehicles": "%s：步行速度方案设置了 honour_oneway=%s、honour_maxspeed=%s；单行和限速标签是针对车辆的",
    "%s: no Chinese font is installed (tried %s): Chinese text shows as empty boxes; install one (%s)": "%s：未安装中文字体（已尝试 %s）：中文将显示为方框；请安装一种（%s）",
    "[ems] has %s but not simulate = true: no ambulance section": "[ems] 中有 %s，但没有 simulate = true：报告不含救护车部分",
    "%s: the folder of run %d, stopped before the history recorded it; moved to %s (not in the history)": "%s：第 %d 次运行的文件夹，在写入运行记录前中断；已移至 %s（不在运行记录中）",
    "the folder of run %d (%s) is gone: running again": "第 %d 次运行的文件夹（%s）已不存在：重新运行",
    "left out %d of %d candidate sites: %d in the exclusion layer, %d more than %.0f m from a road": "舍弃 %d / %d 个候选点：%d 个在排除图层内，%d 个距道路超过 %.0f 米",
    "no %s has a population: every one weighs 1 (covering %s, not people)": "没有任何%s有人口：每个权重为 1（按%s计，不按人口）",
    "%d of %d %s have no population and weigh 0": "%d / %d 个%s没有人口，权重为 0",
    "%s %s (%s people) are beyond reach of every candidate and existing facility within their threshold%s": "%s 个%s（%s 人）在时限内无法由任何候选点或现有机构到达%s",
    "%s: %d of the %d sites add nothing to the objective (everyone they could reach is served already); fewer new stations do as well": "%s：%d / %d 个站点对目标没有贡献（它们能到达的人都已被覆盖）；更少的新站点效果相同",
    "no zone classes (no --zone-classes file and no population raster): every place counts as rural; targets for central or urban zones cannot be evaluated": "没有区域类型（既无 --zone-classes 文件也无人口栅格）：所有地点按农村计；中心城区或城区的目标无法评估",
}

#: Level names as the Chinese log lines show them.
LEVEL_NAMES_ZH = {"DEBUG": "调试", "INFO": "信息", "WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重错误"}


def localised_message(template: str, args: tuple[Any, ...] | Any, lang: str) -> str:
    """A log message in ``lang``: the Chinese template when there is one, its fields filled in."""
    if lang == "zh":
        template = LOG_MESSAGES_ZH.get(template, template)
    try:
        return template % args if args else template
    except (TypeError, ValueError):
        return str(template)
