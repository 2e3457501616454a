"""The what-if web app: a local server where a planner adds, moves and closes stations on a map.

:mod:`~coverage.webapp.workspace` loads the region once, :mod:`~coverage.webapp.scenario`
keeps a scenario's stations and its incrementally updated coverage,
:mod:`~coverage.webapp.verdicts` judges the plan's travel-time targets at every click,
:mod:`~coverage.webapp.files` saves, loads and exports scenarios, :mod:`~coverage.webapp.page`
is the self-contained page and :mod:`~coverage.webapp.app` the ASGI application
(Starlette, served by uvicorn through :mod:`~coverage.webapp.server`).
"""
