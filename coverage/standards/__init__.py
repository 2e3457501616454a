"""A health plan's targets, and a region judged against them.

- :mod:`~coverage.standards.standard`: standard files (TOML in ``data/standards``), validated.
- :mod:`~coverage.standards.checks`: each kind of target as a pure function on plain tables.
- :mod:`~coverage.standards.assessment`: a standard evaluated on a region's analyses.
"""
