"""Error classes raised by the library.

Every message names the input (file, row, column or option), the value seen and
what to do about it. The CLI turns these into a one-line error and exit code 2.
"""

from __future__ import annotations


class CoverageError(Exception):
    """Base class of the errors this package raises on purpose."""


class InputError(CoverageError, ValueError):
    """An input file or argument cannot be used as given."""


class NetworkUnavailableError(CoverageError, ConnectionError):
    """An online download was asked for but the machine cannot reach the service."""


class ConfigError(CoverageError, ValueError):
    """A profile, standard or config file is malformed."""
