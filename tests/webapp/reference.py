"""What the library computes for a scenario's stations from scratch: analyze() and assess() on a facility table.

Independent of the web app's engines: the scenario's open stations are written out as
a facility GeoDataFrame and the whole analysis and assessment run anew on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from coverage.analysis.run import analyze
from coverage.standards.assessment import assess
from coverage.webapp.scenario import Scenario


def library_figures(scenario: Scenario, inputs: dict[str, Any]) -> dict[str, Any]:
    """Covered shares per threshold and travel-time verdicts, by analyze() and assess() on the open stations."""
    settings = scenario.settings
    facilities = scenario.open_frame()[["id", "name", "kind", "geometry"]]
    kinds = settings.kinds
    analysis = analyze(
        **inputs,
        facilities=facilities,
        profile=settings.profile,
        direction=settings.direction,
        minutes=scenario.thresholds(),
        kinds=None if kinds == ("ems",) else list(kinds) or None,
        ems=kinds == ("ems",),
        per_facility_isochrones=False,
    )
    targets = {}
    if settings.standard:
        assessment = assess(scenario.workspace.standard(settings.standard), facilities=facilities, **inputs)
        for target, result in zip(assessment.standard.targets, assessment.results, strict=True):
            if target.kind == "travel_time":
                targets[target.id] = result
    # the library labels a station named by its id (a new one) by where it is; the page keeps its name
    shown = dict(zip(facilities["id"].astype(str), facilities["name"].astype(str), strict=True))
    labels = {
        label: shown[i]
        for i, label in zip(analysis.facilities["id"].astype(str), analysis.facilities["name"].astype(str), strict=True)
        if label != shown.get(i, label)
    }
    return {
        "thresholds": analysis.summary()["thresholds"],
        "targets": targets,
        "villages": analysis.villages,
        "labels": labels,
    }


def _as_shown(text: str, labels: dict[str, str]) -> str:
    for label, name in labels.items():
        text = text.replace(label, name)
    return text


def assert_same_figures(view: dict[str, Any], reference: dict[str, Any]) -> None:
    """The scenario's view shows the library's figures."""
    mine = {row["minutes"]: row for row in view["thresholds"]}
    for row in reference["thresholds"]:
        got = mine[row["minutes"]]
        assert got["villages_covered"] == row["villages_covered"], row["minutes"]
        assert got["population_covered"] == pytest.approx(row["population_covered"], rel=1e-9, abs=0.1)
        assert got["population_share"] == pytest.approx(row["population_share"], rel=1e-9)
    minutes = np.array([np.nan if m is None else m for m in view["village_minutes"]], dtype=float)
    expected = reference["villages"]["minutes"].to_numpy(dtype=float)
    # beyond the searches' horizon the page says "more than", not the minutes
    expected = np.where(expected <= view["horizon_minutes"], expected, np.nan)
    np.testing.assert_allclose(minutes, expected, rtol=0, atol=1e-3)
    verdicts = {t["target"]: t for t in view["targets"]}
    assert set(verdicts) == set(reference["targets"])
    for target_id, result in reference["targets"].items():
        got = verdicts[target_id]
        assert got["status"] == result.status, target_id
        if result.measured is None:
            assert got["measured"] is None
        else:
            assert got["measured"] == pytest.approx(result.measured, rel=1e-9), target_id
        assert got["required"] == pytest.approx(result.required), target_id
        assert got["shortfall"].keys() == result.shortfall.keys(), target_id
        for key, value in result.shortfall.items():
            assert got["shortfall"][key] == pytest.approx(value, rel=1e-9, abs=1e-6), (target_id, key)
        assert got["detail"] == _as_shown(result.detail, reference["labels"]), target_id
        assert got["detail_zh"] == _as_shown(result.detail_zh, reference["labels"]), target_id
        assert got["assumption"] == result.assumption, target_id
