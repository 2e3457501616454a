"""Warnings given once per run."""

from __future__ import annotations

import logging

from coverage._notices import once_per_run, warn_once

logger = logging.getLogger("coverage.tests.notices")


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_outside_a_run_every_warning_is_given(caplog):
    with caplog.at_level(logging.INFO, logger="coverage"):
        warn_once(logger, "%d villages off the road", 3)
        warn_once(logger, "%d villages off the road", 3)
    assert _warnings(caplog) == ["3 villages off the road"] * 2


def test_inside_a_run_the_same_text_or_key_is_given_once(caplog):
    with caplog.at_level(logging.INFO, logger="coverage"), once_per_run():
        warn_once(logger, "%d villages off the road", 3)
        warn_once(logger, "%d villages off the road", 3)
        warn_once(logger, "%d cells off the road", 10, key="cells")
        warn_once(logger, "%d cells off the road", 11, key="cells")  # the same notice, counted on other roads
        warn_once(logger, "another notice")
    assert _warnings(caplog) == ["3 villages off the road", "10 cells off the road", "another notice"]
    assert "11 cells off the road" in [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    with caplog.at_level(logging.INFO, logger="coverage"), once_per_run():  # a new run says it again
        warn_once(logger, "%d villages off the road", 3)
    assert _warnings(caplog).count("3 villages off the road") == 2
