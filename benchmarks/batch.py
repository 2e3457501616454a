"""Benchmark of batch runs on Dask distributed: 1 vs 2 workers, and each region's time and peak memory.

Runs :func:`coverage.batch.runner.run_batch` on the shipped Comoros data cut into many
regions of similar size, as a province is cut into counties: the three islands
(``admin_level == '4'`` of ``data/comoros/admin_boundaries_osm.geojson``) intersected
with a 0.1° grid (tiles of about 11 km), 32 regions, with the default settings
(per-facility isochrones included). With ``--quick``: the tiles of Mwali only,
without per-facility isochrones.

The OSM extract is split into the regions' extracts once, timed on its own; then
the batch runs on a local cluster of 1 and of 2 worker processes (one thread each),
each from an empty output folder and an empty network cache, so both runs do the
same work; the wall time includes starting the cluster. Last, the batch runs once
more on unchanged inputs, where every region is skipped.

Run from the repository root::

    .venv/bin/python benchmarks/batch.py            # 32 tiles of the three islands
    .venv/bin/python benchmarks/batch.py --quick    # the tiles of Mwali

Nothing is written into the repository: outputs and caches go to a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.batch.extracts import split_osm
from coverage.batch.regions import read_regions
from coverage.batch.runner import BatchResult, run_batch

REPO = Path(__file__).resolve().parent.parent
COMOROS = REPO / "data" / "comoros"
OSM = COMOROS / "comores-latest.osm.pbf"
ADMIN = COMOROS / "admin_boundaries_osm.geojson"
RASTER = COMOROS / "com_ppp_2020_UNadj.tif"


def machine() -> str:
    """One line describing this machine."""
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM"
    import dask
    import distributed

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{memory}; Python "
        f"{platform.python_version()}, dask {dask.__version__}, distributed {distributed.__version__}"
    )


#: Side of the grid cells the islands are cut into, in degrees (about 11 km).
TILE_DEG = 0.1
#: Pieces of an island smaller than this are left out (a rock, a sliver of coast).
MIN_TILE_KM2 = 5.0


def tiles(*, quick: bool) -> gpd.GeoDataFrame:
    """The islands cut into grid cells: regions of similar size, ``<island>-<column>-<row>``."""
    admin = gpd.read_file(ADMIN)
    islands = admin[admin["admin_level"] == "4"]
    if quick:
        islands = islands[islands["name_en"] == "Moheli"]
    rows = []
    for name, island in zip(islands["name_en"], islands.geometry, strict=True):
        west, south, east, north = island.bounds
        for i, x in enumerate(np.arange(np.floor(west / TILE_DEG) * TILE_DEG, east, TILE_DEG)):
            for j, y in enumerate(np.arange(np.floor(south / TILE_DEG) * TILE_DEG, north, TILE_DEG)):
                piece = island.intersection(shapely.box(x, y, x + TILE_DEG, y + TILE_DEG))
                rows.append({"id": f"{name.replace(' ', '')}-{i}-{j}", "name": f"{name} {i}-{j}", "geometry": piece})
    frame = gpd.GeoDataFrame(rows, crs=4326)
    area_km2 = frame.to_crs(frame.estimate_utm_crs()).area / 1e6
    return frame[area_km2 >= MIN_TILE_KM2].reset_index(drop=True)


def timed_batch(
    regions: gpd.GeoDataFrame, workers: int | None, *, folder: Path, extracts: Path, quick: bool, force: bool
) -> tuple[float, BatchResult]:
    """One batch run (a fresh local cluster unless every region is unchanged); its wall time and result."""
    started = time.perf_counter()
    result = run_batch(
        regions,
        out_dir=folder / f"out-{workers or 2}",
        osm=OSM,
        population=RASTER,
        per_facility_isochrones=not quick,
        workers=workers,
        extracts_dir=extracts,
        cache_dir=folder / f"cache-{workers or 2}",
        force=force,
    )
    return time.perf_counter() - started, result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the batch benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two islands, no per-facility isochrones")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import distributed  # noqa: F401  # its import sets its loggers' levels: quiet them after it

    logging.getLogger("distributed").setLevel(logging.ERROR)

    print(f"facility coverage batch benchmark, {datetime.date.today().isoformat()}{' (--quick)' if args.quick else ''}")
    print(machine())
    print("times are wall clock; a region's peak memory is its worker process's peak resident memory during the task")
    print()
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as temporary:
        folder = Path(temporary)
        extracts = folder / "extracts"
        regions = read_regions(tiles(quick=args.quick))
        started = time.perf_counter()
        split_osm(OSM, dict(zip(regions["region_id"], regions.geometry, strict=True)), out_dir=extracts)
        print(
            f"split {OSM.name} ({OSM.stat().st_size / 1e6:.1f} MB) into {len(regions)} region extracts: "
            f"{time.perf_counter() - started:.1f} s"
        )
        print()

        runs = {
            workers: timed_batch(regions, workers, folder=folder, extracts=extracts, quick=args.quick, force=True)
            for workers in (1, 2)
        }
        print(
            f"{'workers':>7}  {'wall':>8}  {'ok':>3}  {'failed':>6}  {'sum of region times':>19}  {'largest peak':>12}"
        )
        for workers, (seconds, result) in runs.items():
            summary = result.summary
            print(
                f"{workers:>7}  {seconds:>7.1f}s  {len(result.ok):>3}  {len(result.failed):>6}  "
                f"{summary['seconds'].sum():>18.1f}s  {summary['peak_memory_mb'].max():>9,.0f} MB"
            )
        speed_up = runs[1][0] / runs[2][0]
        print(f"speed-up with 2 workers: {speed_up:.2f}x (wall time of 1 worker / wall time of 2)")
        print()

        one = runs[1][1].summary.set_index("region_id")
        table = pd.DataFrame(runs[2][1].summary.drop(columns="geometry")).set_index("region_id")
        shares = [c for c in table.columns if c.startswith("population_share_")]
        print("per region: seconds and peak memory of its task with 1 and 2 workers; people and covered shares")
        print(
            f"{'region':<16} {'s (1 w)':>8} {'s (2 w)':>8} {'MB (1 w)':>9} {'MB (2 w)':>9} {'people':>10} {'villages':>8}  "
            + "  ".join(f"{c.removeprefix('population_share_'):>6} min" for c in shares)
        )
        for region_id, row in table.iterrows():
            if row["status"] == "failed":
                print(f"{row['name']:<16} failed: {row['error'][:100]}")
                continue
            values = "  ".join(f"{row[c]:>10.1%}" for c in shares)
            print(
                f"{row['name']:<16} {one.loc[region_id, 'seconds']:>8.1f} {row['seconds']:>8.1f} "
                f"{one.loc[region_id, 'peak_memory_mb']:>9,.0f} {row['peak_memory_mb']:>9,.0f} "
                f"{row['population']:>10,.0f} {row['villages']:>8}  {values}"
            )
        print()

        seconds, again = timed_batch(regions, None, folder=folder, extracts=extracts, quick=args.quick, force=False)
        tried = f"; the {len(again.failed)} failed ones tried again" if again.failed else " (no cluster started)"
        print(
            f"re-run on unchanged inputs: {len(again.skipped)} of {len(again.summary)} regions skipped{tried}, "
            f"in {seconds:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
