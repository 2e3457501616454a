"""Writing an analysis to files planners open: GeoPackage, CSV for Excel, JSON.

Files are written into a temporary folder beside the output folder and moved in
only when all of them are complete, so a failed run never leaves half-written
files and never destroys the outputs of an earlier run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._version import __version__
from coverage.analysis.result import Analysis, population_summary
from coverage.outputs.paths import created_folders

if TYPE_CHECKING:
    from coverage.io.credits import SourceNote
    from coverage.siting.models import SitingResult
    from coverage.standards.assessment import Assessment

logger = logging.getLogger(__name__)

GPKG_NAME = "coverage.gpkg"
VILLAGES_CSV = "villages.csv"
CATCHMENTS_CSV = "catchments.csv"
ZONES_CSV = "zones.csv"
SUMMARY_JSON = "summary.json"
POPULATION_CALIBRATION_CSV = "population_calibration.csv"

#: What each layer of the GeoPackages holds, for their description in ``gpkg_contents``.
LAYER_TITLES = {
    "facilities": "Health facilities with where they join the road network",
    "villages": "Villages with the time to the nearest facility and their coverage",
    "isochrones": "Areas within each threshold of a facility, with their population",
    "service_areas": "Nearest-facility partition within the largest threshold",
    "catchments": "Nearest-facility partition of the reached land, with population and capacity",
    "isochrones_by_facility": "Area within each threshold of each facility",
    "road_problems": "Places in the road source to check (dangling ends, near-miss junctions)",
    "uncovered_villages": "Villages outside the report's circle",
    "sites": "Candidate sites chosen for new stations, in order of marginal gain",
    "unreachable": "Demand points no candidate site reaches in time",
    "regions": "Regions of the batch with their figures and target results",
}
STANDARDS_JSON = "standards.json"
STANDARDS_CSV = "standards.csv"


def villages_table(analysis: Analysis) -> pd.DataFrame:
    """The villages as a plain table with longitude/latitude columns (for CSV and Excel)."""
    frame = analysis.villages
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["minutes"] = table["minutes"].round(2)
    table["snap_distance_m"] = table["snap_distance_m"].round(1)
    table["population"] = table["population"].round(1)
    table["lon"] = frame.geometry.x.round(6)
    table["lat"] = frame.geometry.y.round(6)
    return table


#: A text cell starting with one of these is read by spreadsheets as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell (and header) that a spreadsheet would run as a formula made inert.

    Names come from OSM and from planners' files: a village called
    ``=HYPERLINK("http://…","click")`` or ``@SUM(A1:A9)`` must reach Excel as text.
    Such cells get a leading apostrophe, the usual mark of literal text; numbers
    (negative ones too) stay numbers.
    """
    frame = frame.copy()
    frame.columns = pd.Index([_inert(str(c)) for c in frame.columns])
    for column in range(frame.shape[1]):
        values = frame.iloc[:, column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            frame.isetitem(column, values.map(_inert).to_numpy())
    return frame


def flagged_cells(analysis: Analysis) -> gpd.GeoDataFrame:
    """The populated raster cells off the road network or on small road pieces, with their people, times and flags."""
    cells = analysis.cells
    if cells is None:
        return gpd.GeoDataFrame({"population": []}, geometry=[], crs=4326)
    chosen = cells[(cells["off_network"] | cells["small_piece"]).to_numpy(dtype=bool)]
    keep = [c for c in cells.columns if c not in ("geometry",)]
    return gpd.GeoDataFrame(chosen[keep], geometry=chosen.geometry, crs=cells.crs)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a CSV that Excel opens with Chinese text intact (UTF-8 with a byte-order mark) and runs no formula."""
    neutralise_formulas(distinct_columns(frame)).to_csv(path, index=False, encoding="utf-8-sig")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    msg = f"cannot write {type(value).__name__} to JSON"
    raise TypeError(msg)


def _clean(value: Any) -> Any:
    """Replace NaN/inf floats (not valid JSON) by None, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write JSON with non-ASCII text kept readable."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(_clean(data), handle, ensure_ascii=False, indent=2, default=_json_default)
        handle.write("\n")


def distinct_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with no two column names equal but for case (GeoPackage and QGIS field names are not).

    An input file's ``ID`` or ``NAME`` beside the ``id`` and ``name`` the tool writes is
    renamed ``ID_input``, ``NAME_input``: the tool's own (lower-case) column keeps its name.
    """
    names = [str(c) for c in frame.columns]
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.lower(), []).append(name)
    renames: dict[str, str] = {}
    taken = set(names)
    for same in groups.values():
        if len(same) < 2:
            continue
        keep = next((n for n in same if n == n.lower()), same[0])
        for name in same:
            if name == keep:
                continue
            new, n = f"{name}_input", 2
            while new.lower() in {t.lower() for t in taken}:
                new, n = f"{name}_input{n}", n + 1
            renames[name] = new
            taken.add(new)
    return frame.rename(columns=renames) if renames else frame


def for_gpkg(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy fit for a GeoPackage layer: text columns as pandas strings (stored as TEXT), distinct names."""
    frame = distinct_columns(frame).copy()
    for column in frame.columns:
        if column != "geometry" and frame[column].dtype == object:
            frame[column] = frame[column].astype("string")
    return frame


def write_layer(
    frame: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    layer: str,
    *,
    credit: str,
    sources: Sequence[SourceNote] = (),
    notes: dict[str, str] | None = None,
) -> None:
    """Write one GeoPackage layer with its data credits in the file's metadata.

    The layer's ``gpkg_contents.description`` says what it holds and where its data
    comes from; the GeoPackage metadata extension (``gpkg_metadata``, written by
    GDAL) keeps the credit, every source with its licence and the software version,
    for the layer and for the file as a whole. QGIS shows both in the layer's
    properties.

    Parameters
    ----------
    frame : GeoDataFrame
    path : path
        The GeoPackage (created, or a layer added to it).
    layer : str
    credit : str
        The data credits (e.g. :attr:`coverage.analysis.result.Analysis.attribution`).
    sources : sequence of SourceNote
        Every input with its own credit and licence.
    notes : dict, optional
        More metadata items (e.g. how the population was calibrated).
    """
    title = LAYER_TITLES.get(layer, layer.replace("_", " ").capitalize())
    metadata = {
        **({"credit": credit} if credit else {}),
        "software": f"facility-coverage {__version__}",
        **({"sources": json.dumps([note.as_dict() for note in sources], ensure_ascii=False)} if sources else {}),
        **(notes or {}),
    }
    for_gpkg(frame).to_file(
        path,
        layer=layer,
        driver="GPKG",
        layer_options={"DESCRIPTION": f"{title}. Sources: {credit}" if credit else title},
        layer_metadata=metadata,
        dataset_metadata=metadata,
    )


def analysis_metadata(analysis: Analysis) -> dict[str, str]:
    """Metadata items of an analysis' files besides the credits: what its population is and how it was calibrated."""
    population = population_summary(analysis)
    notes = {"population": population["note"]}
    calibration = analysis.population_calibration
    if calibration is not None:
        notes["population_calibration"] = calibration.describe()
    return notes


@contextmanager
def staged(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary folder inside ``out_dir`` whose files are moved into ``out_dir`` on success.

    Nothing in ``out_dir`` changes unless every file was written; on failure the
    temporary folder is removed, the earlier outputs stay as they were, and
    ``out_dir`` itself is removed when this run made it.
    """
    out_dir = Path(out_dir)
    # a folder made for this run goes again when the run fails: no empty output folder is left behind
    with created_folders(out_dir):
        staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=out_dir))
        try:
            yield staging
            for path in sorted(staging.iterdir()):
                os.replace(path, out_dir / path.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def catchments_table(analysis: Analysis) -> pd.DataFrame:
    """The catchments as a plain table (for CSV and Excel), figures rounded."""
    if analysis.catchments is None:
        return pd.DataFrame()
    table = pd.DataFrame(analysis.catchments.drop(columns="geometry"))
    for column in table.columns:
        if column.startswith(("population", "area_km2", "minutes")):
            table[column] = table[column].round(3 if column == "area_km2" else 1)
    return table


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the analysis into ``out_dir``: GeoPackage, rasters, CSV tables and ``summary.json``.

    ``coverage.gpkg`` has the layers ``facilities``, ``villages``, ``isochrones``
    (dissolved per threshold), ``service_areas`` (nearest-facility partition within
    the largest threshold), ``catchments`` (nearest-facility partition of the whole
    surface), ``isochrones_by_facility``, ``road_problems`` and, when some populated
    raster cells lie farther than the profile's tolerance from any road or on small
    road pieces, ``flagged_cells`` (those cells, with their people, times and flags),
    each with its QGIS style (the ``layer_styles`` table). ``traveltime.tif`` and
    ``nearest_facility.tif`` hold the travel-time surface (see
    :mod:`coverage.outputs.rasters`); ``catchments.csv``, ``villages.csv`` and
    ``zones.csv`` open in Excel. Every layer carries the data credits in its metadata
    (:func:`write_layer`). When the population was calibrated to official totals,
    ``population_calibration.csv`` lists each admin unit's total, raster sum, factor
    and status.

    Returns
    -------
    dict
        File name to path of what was written.
    """
    from coverage.outputs.rasters import write_surface_rasters
    from coverage.outputs.styles import add_layer_styles, layer_styles

    layers = {
        "facilities": analysis.facilities,
        "villages": analysis.villages,
        "isochrones": analysis.isochrones,
        "service_areas": analysis.service_areas,
        "catchments": analysis.catchments,
        "isochrones_by_facility": analysis.facility_isochrones,
        "road_problems": analysis.road_problems(),
    }
    if analysis.cells is not None and (analysis.cells["off_network"] | analysis.cells["small_piece"]).any():
        layers["flagged_cells"] = flagged_cells(analysis)
    names = [GPKG_NAME, VILLAGES_CSV, ZONES_CSV, SUMMARY_JSON]
    notes = analysis_metadata(analysis)
    with staged(out_dir) as staging:
        for layer, frame in layers.items():
            if frame is not None:
                write_layer(
                    frame,
                    staging / GPKG_NAME,
                    layer,
                    credit=analysis.attribution,
                    sources=analysis.sources,
                    notes=notes,
                )
        add_layer_styles(staging / GPKG_NAME, layer_styles(analysis, list(layers)), description=analysis.attribution)
        names += [path.name for path in write_surface_rasters(analysis, staging)]
        if analysis.catchments is not None:
            write_csv(catchments_table(analysis), staging / CATCHMENTS_CSV)
            names.append(CATCHMENTS_CSV)
        write_csv(villages_table(analysis), staging / VILLAGES_CSV)
        write_csv(analysis.zone_table(), staging / ZONES_CSV)
        write_json(analysis.summary(), staging / SUMMARY_JSON)
        if analysis.population_calibration is not None:
            write_csv(analysis.population_calibration.table(), staging / POPULATION_CALIBRATION_CSV)
            names.append(POPULATION_CALIBRATION_CSV)
    written = {name: Path(out_dir) / name for name in names}
    logger.info("wrote %s", ", ".join(str(p) for p in written.values()))
    return written


def write_assessment(assessment: Assessment, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``standards.json`` (every target with its wording, figures and worst places) and
    ``standards.csv`` (one row per target, Chinese and English labels) into ``out_dir``, all or nothing."""
    english = assessment.table(lang="en")
    table = english.rename(columns={"label": "label_en"})
    table.insert(1, "label_zh", assessment.table(lang="zh")["label"])
    analysis = assessment.primary_analysis
    source = {
        "credit": analysis.attribution,
        "inputs": [note.as_dict() for note in analysis.sources],
        "population": population_summary(analysis),
    }
    with staged(out_dir) as staging:
        write_json({**assessment.as_dict(), "source": source}, staging / STANDARDS_JSON)
        write_csv(table, staging / STANDARDS_CSV)
    return {name: Path(out_dir) / name for name in (STANDARDS_JSON, STANDARDS_CSV)}


SITES_GPKG = "sites.gpkg"
SITES_CSV = "sites.csv"
TRADEOFF_CSV = "tradeoff.csv"
SITING_JSON = "siting.json"


#: Decimals of the figures of sites.csv: people and minutes as a planner reads them, coordinates to ~10 cm.
SITE_DECIMALS = {
    "objective_gain": 1,
    "population_gain": 0,
    "population_covered_after": 0,
    "population_share_after": 4,
    "minutes_to_nearest_existing": 1,
    "snap_distance_m": 0,
    "lon": 6,
    "lat": 6,
}


def sites_table(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """The chosen sites as a plain table with rounded figures (for CSV and Excel)."""
    table = pd.DataFrame(sites.drop(columns="geometry"))
    for column, decimals in SITE_DECIMALS.items():
        if column in table:
            table[column] = pd.to_numeric(table[column], errors="coerce").round(decimals)
    return table


def write_sites(
    result: SitingResult,
    out_dir: str | os.PathLike[str],
    *,
    tables: dict[str, pd.DataFrame] | None = None,
    credit: str = "",
    sources: Sequence[SourceNote] = (),
    settings: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``sites.gpkg``, ``sites.csv``, ``siting.json`` (and ``tradeoff.csv``) into ``out_dir``, all or nothing.

    The GeoPackage has the layers ``sites`` (the chosen sites, WGS84), ``tradeoff``
    (a table without geometry, when computed) and ``unreachable`` (demand points no
    site can reach, when there are any). ``sites.csv`` opens in Excel with Chinese
    text intact (UTF-8 with a byte-order mark).

    Parameters
    ----------
    result : SitingResult
    out_dir : path
    tables : dict, optional
        More CSV files to write with them, by file name (e.g. ``standards.csv``).
    credit : str
        The data credits of the analysis the sites were chosen on, kept in the
        GeoPackage's metadata (see :func:`write_layer`).
    sources : sequence of SourceNote
        Its inputs, with their credits.
    settings : dict, optional
        What the siting ran on (profile, direction, facility selection, input
        files), kept in ``siting.json`` under ``settings`` so that the sites can be
        drawn on the same analysis later.

    Returns
    -------
    dict
        File name to path of what was written.
    """
    names = [SITES_GPKG, SITES_CSV, SITING_JSON]
    import pyogrio

    with staged(out_dir) as staging:
        gpkg = staging / SITES_GPKG
        write_layer(result.sites, gpkg, "sites", credit=credit, sources=sources)
        if result.tradeoff is not None:
            pyogrio.write_dataframe(result.tradeoff, gpkg, layer="tradeoff", driver="GPKG", append=False)
            write_csv(result.tradeoff, staging / TRADEOFF_CSV)
            names.append(TRADEOFF_CSV)
        if len(result.unreachable):
            write_layer(result.unreachable, gpkg, "unreachable", credit=credit, sources=sources)
        write_csv(sites_table(result.sites), staging / SITES_CSV)
        write_json({**result.summary(), **({"settings": settings} if settings else {})}, staging / SITING_JSON)
        for name, table in (tables or {}).items():
            write_csv(table, staging / name)
            names.append(name)
    written = {name: Path(out_dir) / name for name in names}
    logger.info("wrote %s", ", ".join(str(p) for p in written.values()))
    return written
