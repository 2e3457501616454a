"""The ``facility-coverage batch`` command: every region of a province on Dask distributed.

A thin layer over :func:`coverage.batch.runner.run_batch`. :func:`register`
adds the command to the main parser's sub-commands; :func:`run` runs it and
returns the exit status (0 every region ok or unchanged, 1 some
region failed, 2 an error of the batch as a whole).
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from typing import Any

from coverage._errors import CoverageError
from coverage.cli._options import (
    Commands,
    add_basemap_option,
    add_cache_options,
    add_column_options,
    add_command,
    add_kind_map_option,
    add_method_options,
    add_out_option,
    add_point_inputs,
    add_road_class_options,
    add_standard_option,
    metres,
    whole_number,
)
from coverage.cli._runs import EXIT_ERROR, EXIT_OK, error_line, point_columns, population_totals_inputs

EXIT_SOME_FAILED = 1

BATCH_DESCRIPTION = """\
Run the analysis (and the checks of --standard) for every region of a polygon file.

One region per polygon of --regions (counties, townships, islands; rows sharing an
id are one region). The big OSM file is cut once into one extract per region: its
polygon plus --extract-buffer-m, so that a road through the neighbouring county and
a hospital just across the border count (flagged outside_boundary); villages and
people are counted in the region itself. A GraphML file or a county's GIS road
layer is read by each region in turn, clipped to the same area. Each region is one task on Dask distributed: a local cluster of
--workers processes, or the cluster of --scheduler.

A region whose inputs and settings are unchanged since it was finished is skipped,
so running the same command again resumes a batch that was stopped and recomputes
only the regions whose data changed. A region that fails (bad data, no roads) is
tried --retries more times, then recorded with its error; the others go on."""

BATCH_EPILOG = """\
outputs (in --out):
  regions/<id>/   per region, what 'analyze' writes (coverage.gpkg, villages.csv,
                  zones.csv, summary.json), what 'check' writes for each
                  --standard (standards.json, standards.csv; in <standard>/ when
                  several), the region's map map.html, and done.json (written
                  last: the key of the region's inputs and settings)
  summary.csv     one row per region: status ok / failed / skipped, error,
                  seconds, peak memory (MB), population, share of people and
                  villages covered per threshold, pass / fail per target (UTF-8
                  with BOM for Excel)
  summary.gpkg    the same with each region's polygon (layer regions)
  index.html      map of the regions shaded by result; click one for its map
  extracts/       the per-region OSM extracts (reused by later runs)

per-region files:
  --facilities-dir DIR holds one facility file per region, named after its id:
  DIR/<id>.csv (or .geojson, .gpkg, .shp). A region with its own file uses it;
  the others use --facilities, or the facilities tagged in OSM. The same for
  --villages-dir. Changing one region's file recomputes only that region.

a cluster of several machines:
  dask scheduler                              # on one machine
  dask worker tcp://HOST:8786 --nthreads 1    # on each worker machine
  facility-coverage batch ... --scheduler tcp://HOST:8786
  The workers read the inputs and write --out at the same paths: put them on a
  shared file system.

examples:
  facility-coverage batch --regions data/comoros/admin_boundaries_osm.geojson \\
      --where "admin_level == '4'" --id-column name_en --out out/islands
      the three islands of the embedded region, on a local cluster
  facility-coverage batch --regions counties.gpkg --id-column adcode --osm china.osm.pbf \\
      --population chn_ppp_2020.tif --standard kaijiang --facilities-dir facilities/ \\
      --scheduler tcp://10.0.0.5:8786 --out out/province

exit status:
  0 every region ok or unchanged; 1 some region failed (see summary.csv);
  2 an error of the batch as a whole (a missing regions file, a bad option)
"""


def register(commands: Commands, parents: list[Any]) -> argparse.ArgumentParser:
    """Add the ``batch`` command to the sub-commands."""
    batch = add_command(
        commands,
        "batch",
        help="run every region of a province (counties, townships) on Dask distributed",
        description=textwrap.dedent(BATCH_DESCRIPTION),
        epilog=BATCH_EPILOG,
        parents=parents,
    )
    _add_region_and_input_options(batch)
    _add_extract_and_cluster_options(batch)
    runtime = batch.add_argument_group("runtime")
    add_basemap_option(runtime)
    add_cache_options(runtime)
    add_out_option(runtime, "out/batch")
    batch.set_defaults(handler=run)
    return batch


def _add_region_and_input_options(batch: argparse.ArgumentParser) -> None:
    """The regions file and what is computed for each region."""
    regions = batch.add_argument_group("regions")
    regions.add_argument(
        "--regions", required=True, metavar="FILE", help="polygon file, one region per polygon (GeoJSON, GeoPackage...)"
    )
    regions.add_argument(
        "--id-column",
        metavar="COL",
        help="column identifying each region; names its folder (default: id, region_id, code or adcode, else the "
        "name column, else the row number)",
    )
    regions.add_argument("--name-column", metavar="COL", help="column with the names shown on maps (default: name)")
    regions.add_argument(
        "--where", metavar="QUERY", help="select some rows, e.g. \"admin_level == '8'\" (a pandas query)"
    )

    inputs = batch.add_argument_group("inputs")
    inputs.add_argument(
        "--network",
        "--osm",
        dest="osm",
        metavar="FILE",
        help="the road network covering every region: an OSM extract (cut once into one extract per region), an "
        "osmnx .graphml, or a GIS lines file with --road-class-column (default: the embedded Comoros extract)",
    )
    add_road_class_options(inputs)
    add_kind_map_option(inputs)
    add_point_inputs(inputs, batch=True)
    inputs.add_argument(
        "--facilities-dir", metavar="DIR", help="one facility file per region: DIR/<id>.csv (or .geojson, .gpkg)"
    )
    inputs.add_argument(
        "--villages-dir", metavar="DIR", help="one village file per region: DIR/<id>.csv (or .geojson, .gpkg)"
    )
    add_standard_option(inputs, help="also check each region against this standard preset or TOML file")
    add_method_options(batch)
    add_column_options(batch, "facilities")
    add_column_options(batch, "villages")


def _add_extract_and_cluster_options(batch: argparse.ArgumentParser) -> None:
    """How the province's extract is cut, and the Dask cluster that runs the regions."""
    from coverage.batch.extracts import DEFAULT_EXTRACT_BUFFER_M

    split = batch.add_argument_group("extracts")
    split.add_argument(
        "--extract-buffer-m",
        type=metres,
        default=DEFAULT_EXTRACT_BUFFER_M,
        metavar="M",
        help="roads and facilities this far beyond a region's outline count for it (default: %(default)g)",
    )
    split.add_argument(
        "--extracts-dir", metavar="DIR", help="where the per-region extracts are kept (default: OUT/extracts)"
    )

    cluster = batch.add_argument_group("cluster")
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: start a local cluster)",
    )
    cluster.add_argument(
        "--workers",
        type=whole_number(1),
        metavar="N",
        help="local worker processes, one thread each (default: one per core)",
    )
    cluster.add_argument(
        "--memory-limit",
        default="auto",
        metavar="SIZE",
        help="memory limit of each local worker, e.g. 4GiB; a worker past it is restarted and its region tried "
        "again (default: %(default)s, the machine's memory shared equally)",
    )
    cluster.add_argument(
        "--retries",
        type=whole_number(0),
        default=2,
        metavar="N",
        help="tries again of a failed region (default: %(default)s)",
    )
    cluster.add_argument("--force", action="store_true", help="recompute every region, even unchanged ones")


def run(args: argparse.Namespace) -> int:
    """Run ``facility-coverage batch``; returns the exit status (0, 1 some region failed, 2 an error)."""
    from coverage.batch.runner import run_batch
    from coverage.outputs.maps import check_basemap
    from coverage.outputs.paths import check_out_folder

    quiet = bool(getattr(args, "quiet", False))
    verbose = int(getattr(args, "verbose", 0) or 0)
    # progress lines of the batch are shown unless -q; Dask's own only with -vv
    if not quiet:
        logging.getLogger("coverage.batch").setLevel(logging.INFO)
    import distributed  # noqa: F401  # importing it sets its loggers' levels: set ours after

    logging.getLogger("distributed").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)
    options: dict[str, Any] = {
        "out_dir": args.out,
        "osm": args.osm,
        "id_column": args.id_column,
        "name_column": args.name_column,
        "where": args.where,
        "standards": args.standard or [],
        "facilities": args.facilities,
        "facilities_dir": args.facilities_dir,
        "villages": args.villages,
        "villages_dir": args.villages_dir,
        "population": args.population,
        **population_totals_inputs(args.population_totals),
        "datum": args.datum,
        "facilities_datum": args.facilities_datum,
        "villages_datum": args.villages_datum,
        "facility_columns": point_columns(args, "facilities"),
        "village_columns": point_columns(args, "villages"),
        "kind_map": args.kind_map,
        "road_class_column": args.road_class_column,
        "default_road_class": args.default_road_class,
        "profile": args.profile,
        "direction": args.direction,
        "minutes": args.minutes,
        "kinds": args.kinds,
        "ems": args.ems,
        "buffer_m": args.buffer_m,
        "isochrone_method": args.isochrones,
        "cell_m": args.cell_m,
        "per_facility_isochrones": args.facility_isochrones,
        "extract_buffer_m": args.extract_buffer_m,
        "extracts_dir": args.extracts_dir,
        "scheduler": args.scheduler,
        "workers": args.workers,
        "memory_limit": args.memory_limit,
        "retries": args.retries,
        "force": args.force,
        "basemap": args.basemap,
        "cache_dir": args.cache_dir,
        "use_cache": not args.no_cache,
        "progress": sys.stderr.isatty() and not quiet,
    }
    try:
        check_out_folder(args.out)
        check_basemap(args.basemap, source="--basemap")
        result = run_batch(args.regions, **options)
    except (CoverageError, OSError) as error:
        print(error_line("batch", error), file=sys.stderr)
        return EXIT_ERROR
    if not quiet:
        ok, skipped, failed = result.ok, result.skipped, result.failed
        print(f"{len(result.summary)} regions: {len(ok)} ok, {len(skipped)} unchanged (skipped), {len(failed)} failed")
        errors = result.summary.set_index("region_id")["error"]
        for region_id in failed:
            print(f"  failed: {region_id}: {errors[region_id]}")
        out = result.out_dir
        print(f"wrote {out / 'summary.csv'}, {out / 'summary.gpkg'}, {out / 'index.html'}")
    return EXIT_SOME_FAILED if result.failed else EXIT_OK
