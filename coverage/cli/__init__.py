"""The ``facility-coverage`` command: one module per command, a thin layer over the library.

:mod:`~coverage.cli.main` builds the parser from each command module's
``register`` and dispatches to its ``run``; :mod:`~coverage.cli._options` holds
the options the commands share, :mod:`~coverage.cli._runs` what the commands that
run an analysis share.
"""
