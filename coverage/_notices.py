"""Warnings a run gives once.

One command can run several analyses of the same region (``check`` runs one per
profile and facility selection a standard needs); each would say the same thing
about the same villages. Inside :func:`once_per_run` (the CLI enters it for every
command) a warning whose text was already given is logged at DEBUG instead;
outside it, every warning is given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_given: ContextVar[set[str] | None] = ContextVar("coverage_notices_given", default=None)


@contextmanager
def once_per_run() -> Iterator[None]:
    """A scope within which :func:`warn_once` gives each distinct warning once."""
    token = _given.set(set())
    try:
        yield
    finally:
        _given.reset(token)


def warn_once(logger: logging.Logger, message: str, *args: object, key: str | None = None) -> None:
    """``logger.warning(message, *args)``, unless given before in this run.

    "Before" means the same text, or the same ``key`` when one is given: e.g. the
    villages off the road network, counted again on another profile's roads, are
    one notice; the later counts are logged at INFO.
    """
    given = _given.get()
    if given is not None:
        seen = key or (message % args if args else message)
        if seen in given:
            # logged with its template and fields, so that its translation (coverage._i18n) still applies
            if key:
                logger.info(message, *args)
            else:
                logger.debug(message, *args)
            return
        given.add(seen)
    logger.warning(message, *args)


def mark_given(text: str) -> None:
    """Count a warning already logged (as ``text``) as given in this run, so :func:`warn_once` does not repeat it.

    For warnings logged as they happened and replayed later, e.g. those of reading
    an input whose result is kept for the next analysis of the run.
    """
    given = _given.get()
    if given is not None:
        given.add(text)
