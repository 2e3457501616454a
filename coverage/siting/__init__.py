"""Candidate sites for new stations: location models solved on the travel times.

- :mod:`~coverage.siting.candidates`: road points, villages or a user's file as candidate sites.
- :mod:`~coverage.siting.models`: the coverage matrix and :func:`site` (LSCP, MCLP, backup, p-median).
- :mod:`~coverage.siting.solvers`: the models as HiGHS mixed-integer programs, and a greedy fallback.
"""
