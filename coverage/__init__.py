"""Facility coverage analyzer: travel times, isochrones and coverage targets on real road networks."""

__version__ = "0.1.0"
