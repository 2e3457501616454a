"""The batch as a whole: the summary table (CSV, GeoPackage) and the province map linking each region's map."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.batch.extracts import safe_name
from coverage.batch.regions import REGIONS_DIR
from coverage.batch.task import FAILED, MAP_HTML, OK, SKIPPED, threshold_label
from coverage.io.regions import OSM_ATTRIBUTION
from coverage.outputs.files import staged, write_csv, write_layer

SUMMARY_CSV = "summary.csv"


SUMMARY_GPKG = "summary.gpkg"


INDEX_HTML = "index.html"


#: Columns of the summary before the per-threshold and per-target ones.
LEADING_COLUMNS = ("region_id", "name", "status", "error", "seconds", "peak_memory_mb", "population", "villages")


def summary_frame(
    frame: gpd.GeoDataFrame, rows: dict[str, dict[str, Any]], thresholds: tuple[float, ...]
) -> gpd.GeoDataFrame:
    """One row per region, in the regions file's order, with its polygon."""
    table = pd.DataFrame(
        [
            {**rows.get(rid, {}), "region_id": rid, "name": name}
            for rid, name in zip(frame["region_id"], frame["name"], strict=True)
        ]
    )
    threshold_columns = [
        f"{kind}_{threshold_label(m)}" for kind in ("population_share", "villages_covered") for m in thresholds
    ]
    for column in (*LEADING_COLUMNS, "facilities", *threshold_columns):
        if column not in table:
            table[column] = None
    targets = sorted(c for c in table.columns if ":" in c)
    if targets and "targets_missed" not in table:
        table["targets_missed"] = None
    table["folder"] = [f"{REGIONS_DIR}/{safe_name(rid)}" for rid in table["region_id"]]
    order = [*LEADING_COLUMNS, "facilities", *threshold_columns, *targets]
    order += [c for c in ("targets_missed",) if c in table]
    order += [c for c in table.columns if c not in order and c != "folder"] + ["folder"]
    table["error"] = table["error"].fillna("")
    counts = ["villages", "facilities", *(c for c in table.columns if c.startswith("villages_covered_"))]
    for column in [*counts, *(["targets_missed"] if "targets_missed" in table else [])]:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("Int64")
    for column in (
        "seconds",
        "peak_memory_mb",
        "population",
        *(c for c in table.columns if c.startswith("population_share_")),
    ):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return gpd.GeoDataFrame(table[order], geometry=frame.geometry.to_numpy(), crs=4326)


def write_summary(
    summary: gpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    *,
    attribution: str = OSM_ATTRIBUTION,
    minutes: float | None = None,
    basemap: str = "osm",
) -> dict[str, Path]:
    """Write ``summary.csv`` (UTF-8 with BOM), ``summary.gpkg`` and ``index.html`` into ``out_dir``, all or nothing."""
    from coverage.outputs.maps import save_map

    table = pd.DataFrame(summary.drop(columns="geometry"))
    with staged(out_dir) as staging:
        write_csv(table, staging / SUMMARY_CSV)
        write_layer(summary, staging / SUMMARY_GPKG, "regions", credit=attribution)
        save_map(province_map(summary, attribution=attribution, minutes=minutes, basemap=basemap), staging / INDEX_HTML)
    return {name: Path(out_dir) / name for name in (SUMMARY_CSV, SUMMARY_GPKG, INDEX_HTML)}


#: Colour of a region that failed, and of one without a figure.
FAILED_COLOUR = "#7f7f7f"


PASS_COLOUR = "#1a9641"


MISSED_COLOUR = "#d7191c"


def province_map(
    summary: gpd.GeoDataFrame,
    *,
    attribution: str = OSM_ATTRIBUTION,
    minutes: float | None = None,
    basemap: str = "osm",
    simplify_m: float = 100.0,
) -> Any:
    """The map of a batch: each region shaded by its result, linking to its own map.

    With standards, a region is green when it meets every target and red when it
    misses one; without, it is shaded by the share of people within ``minutes``
    (default the largest threshold). Failed regions are grey. Names are shown as text.

    Returns
    -------
    folium.Map
        Save it with :func:`coverage.outputs.maps.save_map`.
    """
    from coverage.outputs.maps import SHARE_CLASSES, DataLayer, add_legend, feature, new_map

    shares = [str(c) for c in summary.columns if str(c).startswith("population_share_")]
    share_column: str | None = shares[-1] if shares else None
    if minutes is not None and f"population_share_{threshold_label(minutes)}" in summary:
        share_column = f"population_share_{threshold_label(minutes)}"
    label = share_column.removeprefix("population_share_").replace("_", ".") if share_column else ""
    judged = "targets_missed" in summary
    crs = summary.estimate_utm_crs()
    outlines = summary.to_crs(crs).simplify(simplify_m).to_crs(4326)
    features = []
    # larger regions first, so that a region drawn inside another stays clickable
    order = np.argsort(-summary.to_crs(crs).area.to_numpy(), kind="stable")
    for (_, row), outline in zip(summary.iloc[order].iterrows(), outlines.iloc[order], strict=True):
        status = str(row["status"])
        value = row[share_column] if share_column else None
        share_known = value is not None and not pd.isna(value)
        share = float(value) if value is not None and share_known else float("nan")
        if status == FAILED:
            colour, headline = FAILED_COLOUR, "failed"
        elif judged:
            missed = row.get("targets_missed")
            n_missed = 0 if missed is None or pd.isna(missed) else int(missed)
            colour = PASS_COLOUR if n_missed == 0 else MISSED_COLOUR
            headline = "every target met" if n_missed == 0 else f"{n_missed} target(s) missed"
        else:
            colour = next((c for upper, c in SHARE_CLASSES if share_known and share <= upper), SHARE_CLASSES[-1][1])
            colour = colour if share_known else FAILED_COLOUR
            headline = f"{share:.0%} within {label} min" if share_known else "no figure"
        rows_shown: list[tuple[str, ...]] = [("Status", status), ("Result", headline)]
        if status == FAILED:
            rows_shown.append(("Error", str(row["error"])[:300]))
        else:
            if not pd.isna(row.get("population")):
                rows_shown.append(("People", f"{float(row['population']):,.0f}"))
            if share_known:
                rows_shown.append((f"Within {label} min", f"{share:.1%}"))
            rows_shown.append(("Region map", "open", f"{urllib.parse.quote(str(row['folder']))}/{MAP_HTML}"))
        features.append(
            feature(
                outline,
                style={
                    "color": "#333333",
                    "weight": 1,
                    "fillColor": colour,
                    "fillOpacity": 0.55,
                    **({"dashArray": "4 4"} if status == FAILED else {}),
                },
                tooltip=f"{row['name']}: {headline}",
                popup=(str(row["name"]), rows_shown),
            )
        )
    counts = summary["status"].value_counts()
    west, south, east, north = (float(v) for v in summary.total_bounds)
    m = new_map(
        (west, south, east, north),
        title=f"{len(summary)} regions: health-facility coverage",
        subtitle=", ".join(f"{int(counts.get(s, 0))} {s}" for s in (OK, SKIPPED, FAILED))
        + "; click a region for its map",
        attribution=attribution,
        basemap=basemap,
    )
    DataLayer(features, name="Regions").add_to(m)
    if judged:
        legend = [("Targets", [("every target met", PASS_COLOUR), ("a target missed", MISSED_COLOUR)])]
    else:
        edges = [0.0, *(upper for upper, _ in SHARE_CLASSES)]
        legend = [
            (
                f"People within {label} min",
                [(f"{lo:.0%}–{hi:.0%}", colour) for lo, (hi, colour) in zip(edges, SHARE_CLASSES, strict=False)],
            )
        ]
    legend.append(("Regions", [("failed (see summary.csv)", FAILED_COLOUR)]))
    add_legend(m, legend)
    return m
