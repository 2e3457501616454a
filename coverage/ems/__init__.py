"""EMS availability: ambulances, calls, expected coverage, simulation of a year of calls, allocation.

A station inside the circle does not help a caller when its ambulances are all
out. This stage turns stations with ambulance counts and call demand into the
share of calls answered in time: analytic estimates (:mod:`~coverage.ems.analytic`),
a discrete-event simulation on SimPy (:mod:`~coverage.ems.simulation`), and the
allocation of ambulances and new stations by expected coverage
(:mod:`~coverage.ems.allocation`); :func:`coverage.ems.run.ems_availability` ties them to an
analysis.
"""
