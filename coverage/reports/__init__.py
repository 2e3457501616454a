"""Scheduled reports: the run configuration, the dated report folder and page, the run history.

- :mod:`~coverage.reports.config`: the run configuration (TOML), validated with file and line.
- :mod:`~coverage.reports.report`: one run: analyze, check, map, a dated folder, recorded in the history.
- :mod:`~coverage.reports.page`: the self-contained report page.
- :mod:`~coverage.reports.history`: the SQLite run history and the differences between runs.
"""
