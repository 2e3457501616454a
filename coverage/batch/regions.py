"""The regions of a batch: one per polygon (or per id) of a file, each with its own output folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._errors import InputError
from coverage.analysis.zones import read_polygons, select_rows
from coverage.batch.extracts import safe_name

logger = logging.getLogger(__name__)

REGIONS_DIR = "regions"


#: File endings looked for in a facilities or villages folder, in this order.
POINT_SUFFIXES = (".csv", ".geojson", ".json", ".gpkg", ".shp", ".tsv", ".txt")


def read_regions(
    source: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    where: str | None = None,
    layer: str | None = None,
    keep_columns: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Read the regions of a batch: one per polygon, or per id when several rows share one.

    Parameters
    ----------
    source : path or GeoDataFrame
        Polygon file (GeoJSON, GeoPackage, Shapefile) or GeoDataFrame with a CRS.
    id_column : str, optional
        Column identifying each region; it names the region's output folder. Default
        the first of ``id``, ``region_id``, ``code``, ``adcode``, else the name
        column, else the row number.
    name_column : str, optional
        Column with the name shown on maps; default the first of ``name``, ``NAME``,
        ``名称``, else the id.
    where : str, optional
        pandas query selecting some rows, e.g. ``"admin_level == '8'"``.
    layer : str, optional
        Layer of a multi-layer file.
    keep_columns : sequence of str
        Other columns of the file to keep (e.g. official population totals); rows
        sharing an id keep the first row's value.

    Returns
    -------
    GeoDataFrame
        ``region_id``, ``name``, the ``keep_columns`` and WGS84 (multi)polygons; rows
        sharing an id are one region (a county and its islands).

    Raises
    ------
    InputError
        When the file is missing or holds no polygons, a column is missing, or two
        ids become the same folder name.
    """

    if isinstance(source, gpd.GeoDataFrame):
        label = "the regions GeoDataFrame"
        if source.crs is None:
            msg = f"{label} has no CRS; set one (e.g. `.set_crs(4326)` for longitude/latitude)."
            raise InputError(msg)
        frame = source[source.geom_type.isin(["Polygon", "MultiPolygon"])]
    else:
        label = str(source)
        frame = read_polygons(source, layer=layer, what="regions", repair=True)
    frame = select_rows(frame, where, label=label, what="regions")
    if frame.empty:
        msg = f"{label}: no polygons to run{f' match {where!r}' if where else ''}."
        raise InputError(msg)
    for given, option in (
        (id_column, "--id-column"),
        (name_column, "--name-column"),
        *((column, "--population-totals") for column in keep_columns),
    ):
        if given is not None and given not in frame:
            msg = f"{label}: no column {given!r} ({option}); columns are {', '.join(map(str, frame.columns))}."
            raise InputError(msg)
    names = name_column or next((c for c in ("name", "NAME", "名称") if c in frame), None)
    ids = id_column or next((c for c in ("id", "region_id", "code", "adcode") if c in frame), None) or names
    frame = frame.to_crs(4326)
    region_id = _region_ids(frame, ids, label=label)
    regions = gpd.GeoDataFrame(
        {
            "region_id": region_id.to_numpy(),
            "name": (frame[names].fillna(region_id).astype(str) if names else region_id).to_numpy(),
            **{column: frame[column].to_numpy() for column in keep_columns if column not in ("region_id", "name")},
        },
        geometry=shapely.make_valid(np.asarray(frame.geometry.values)),
        crs=4326,
    )
    if regions["region_id"].duplicated().any():
        logger.info("%s: rows sharing an id are merged into one region", label)
        regions = regions.dissolve("region_id", aggfunc="first", as_index=False)[list(regions.columns)]
    folders = regions["region_id"].map(safe_name)
    clash = folders[folders.duplicated(keep=False)]
    if len(clash):
        pairs = ", ".join(repr(v) for v in regions.loc[clash.index, "region_id"][:4])
        msg = f"{label}: the ids {pairs} give the same folder name {clash.iloc[0]!r}; make the ids distinct."
        raise InputError(msg)
    return regions.reset_index(drop=True)


def _region_ids(frame: gpd.GeoDataFrame, column: str | None, *, label: str) -> pd.Series:
    """Each row's region id as text: from ``column``, else the row numbers; every row must have a usable one."""
    if not column:
        return pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype(str)
    values = frame[column]
    text = pd.Series(
        [None if pd.isna(v) else str(v).strip() for v in values.astype(object)], index=frame.index, dtype=object
    )
    unusable = text.map(lambda v: v is None or safe_name(v) == "").to_numpy(dtype=bool)
    if unusable.any():
        rows = (np.flatnonzero(unusable) + 1).tolist()
        shown = ", ".join(map(str, rows[:8])) + (f" and {len(rows) - 8} more" if len(rows) > 8 else "")
        seen = [values.iloc[i] for i in np.flatnonzero(unusable)]
        examples = ", ".join(dict.fromkeys("empty" if pd.isna(v) else repr(v) for v in seen))
        msg = (
            f"{label}: {len(rows)} of {len(frame)} rows have no usable id in column {column!r} ({examples}): "
            f"row{'s' if len(rows) > 1 else ''} {shown}. Give every region an id, pick another --id-column, or "
            f'leave those rows out with --where, e.g. "{column}.notna()".'
        )
        raise InputError(msg)
    return text.astype(str)


def region_folder(out_dir: str | os.PathLike[str], region_id: str) -> Path:
    """The output folder of one region: ``out_dir/regions/<id>``."""
    return Path(out_dir) / REGIONS_DIR / safe_name(region_id)


def own_file(folder: str | os.PathLike[str] | None, region_id: str) -> Path | None:
    """The region's own file in a folder (``<id>.csv``, ``<id>.geojson``...), if there is one."""
    if folder is None:
        return None
    for suffix in POINT_SUFFIXES:
        candidate = Path(folder) / f"{safe_name(region_id)}{suffix}"
        if candidate.exists():
            return candidate
    return None
