"""The words a planner reads, in English and Chinese.

Every status word, kind name and sentence the commands print, and the maps and
reports show, comes from here, so ``--lang zh`` changes all of them together.
:func:`text` looks a message up by key and fills in its fields; :func:`status_word`
and :func:`kind_name` name a verdict and a facility kind.
"""

from __future__ import annotations

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


def zone_class_name(zone_class: str, lang: str = "en") -> str:
    """The readable name of a zone class (central, urban, rural, all)."""
    return _pick(ZONE_CLASS_NAMES, zone_class, lang)


def text(key: str, lang: str = "en", **fields: Any) -> str:
    """The message ``key`` in ``lang``, its fields filled in."""
    return _pick(MESSAGES, key, lang).format(**fields)
