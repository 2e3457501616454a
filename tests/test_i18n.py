"""The Chinese words: every translated warning still matches what the library logs, fields in step."""

from __future__ import annotations

import ast
import re

import pytest

from coverage._i18n import (
    KIND_NAMES,
    LOG_MESSAGES_ZH,
    STATUS_WORDS,
    centred,
    display_width,
    localised_message,
    status_word,
)
from coverage.standards.checks import STATUSES
from tests.conftest import REPO

_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _logged_templates() -> set[str]:
    """The message templates of every logger call in the package (adjacent literals joined, as Python does)."""
    found: set[str] = set()
    for path in (REPO / "coverage").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("debug", "info", "warning", "error")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
            elif (  # warn_once(logger, template, ...): a warning given once per run
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "warn_once"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                found.add(node.args[1].value)
    return found


@pytest.mark.parametrize("template", sorted(LOG_MESSAGES_ZH))
def test_every_translated_warning_is_still_logged_with_the_same_fields(template):
    assert template in _logged_templates(), "the English message changed: update LOG_MESSAGES_ZH"
    english = [f for f in _FIELD.findall(template) if f != "%%"]
    chinese = [f for f in _FIELD.findall(LOG_MESSAGES_ZH[template]) if f != "%%"]
    assert chinese == english


def test_a_warning_reads_in_chinese_with_its_fields():
    template = "%s: %d villages lie outside the boundary (%s; ids %s): left out of this region's analysis"
    text = localised_message(template, ("v.csv", 3, "lon 1–2, lat 3–4", "a, b, c"), "zh")
    assert text == "v.csv：3 个村庄位于边界之外（lon 1–2, lat 3–4；编号 a, b, c）：不计入本区域的分析"
    assert localised_message(template, ("v.csv", 3, "x", "y"), "en").startswith("v.csv: 3 villages")
    assert localised_message("no fields here", (), "zh") == "no fields here"


def test_every_status_and_kind_has_both_words():
    assert set(STATUS_WORDS) == set(STATUSES)
    for table in (STATUS_WORDS, KIND_NAMES):
        for entry in table.values():
            assert entry["en"]
            assert re.search(r"[\u4e00-\u9fff]", entry["zh"])
    assert status_word("fail", "zh") == "未达标"
    assert status_word("unheard_of", "zh") == "unheard_of"


def test_chinese_text_is_padded_by_its_width_on_screen():
    assert display_width("达标") == 4
    assert centred("达标", 8) == "  达标  "
    assert display_width(centred("cannot evaluate", 15)) == 15
