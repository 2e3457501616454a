"""Batch runs: every region of a province on Dask distributed.

- :mod:`~coverage.batch.extracts`: the big OSM file cut once into one extract per region.
- :mod:`~coverage.batch.regions`: the regions of a batch and their output folders.
- :mod:`~coverage.batch.population`: the batch's population raster, calibrated once to official totals.
- :mod:`~coverage.batch.task`: one region's task, run on a worker.
- :mod:`~coverage.batch.runner`: :func:`run_batch`, the cluster and the tasks.
- :mod:`~coverage.batch.summary`: the summary table and the province map.
"""
