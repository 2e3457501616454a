"""The analysis of a region: demand, zones, isochrones, and the job that ties them together.

:func:`~coverage.analysis.run.analyze` reads a region's inputs, runs one search
and returns an :class:`~coverage.analysis.result.Analysis`: every facility,
village and populated cell with its time and coverage flags, and the isochrones.

- :mod:`~coverage.analysis.run`: :func:`analyze`, the main job.
- :mod:`~coverage.analysis.result`: the :class:`Analysis` and its headline figures.
- :mod:`~coverage.analysis.places`: the facilities and villages of an analysis, read and selected.
- :mod:`~coverage.analysis.demand`: population rasters as weighted demand points.
- :mod:`~coverage.analysis.totals`: official population totals per admin unit, matched to the zones.
- :mod:`~coverage.analysis.calibration`: the population scaled to those totals, unit by unit.
- :mod:`~coverage.analysis.zones`: admin units, boundaries, urban areas and zone classes.
- :mod:`~coverage.analysis.isochrones`: isochrone polygons and service areas.
"""
