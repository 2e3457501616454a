"""The region a what-if session works on, loaded once: its analyses per profile, zone classes and outline.

A :class:`Workspace` runs :func:`coverage.analysis.run.analyze` once per speed profile
the session uses (all facilities, their attachments, the villages, the population
cells, the admin units), and keeps what every scenario of the session shares: the
zone classes of each standard, each place's zone class, the region's outline (where
a station may go) and the default candidate sites of the siting model.

The keys of the analyses a scenario needs are those of
:func:`coverage.standards.assessment.assess`: ``(profile, direction, facility kinds)``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from coverage._errors import InputError
from coverage.analysis.result import Analysis, checked_thresholds
from coverage.analysis.run import analyze
from coverage.analysis.zones import read_boundary, read_zone_classes, zone_classes_from_population
from coverage.network.profiles import list_profiles, load_profile
from coverage.standards.assessment import zone_class_of
from coverage.standards.standard import Standard, list_standards, load_standard

logger = logging.getLogger(__name__)

#: (profile, direction, facility kinds): the key of an analysis, as in ``assess(analyses=...)``.
Key = tuple[str, str, tuple[str, ...]]

#: Searches reach this many times the largest threshold in use (times beyond show as "more than").
HORIZON_FACTOR = 2.0
#: A station may stand this far outside the region's outline (a coastal road, a border drawn coarsely).
OUTLINE_MARGIN_M = 500.0


def kinds_key(*, kinds: Sequence[str] | None = None, ems: bool = False) -> tuple[str, ...]:
    """The facility-kinds part of a key: ``("ems",)`` for an EMS selection, else the kinds (empty: all)."""
    return ("ems",) if ems else tuple(kinds or ())


@dataclass(frozen=True)
class PlaceClasses:
    """Zone class (central / urban / rural) of every village and population cell, under one standard's rules."""

    villages: np.ndarray
    cells: np.ndarray | None
    polygons: gpd.GeoDataFrame | None


class Workspace:
    """A region's inputs, analysed once per profile, shared by every scenario of a session.

    Parameters
    ----------
    inputs : mapping
        The region's inputs as keyword arguments of :func:`coverage.analysis.run.analyze`
        (``osm``, ``facilities``, ``villages``, ``population``, ``zones``, ``boundary``,
        ``datum``, ``cache_dir``...); empty for the embedded default region.
    minutes : sequence of float
        Thresholds whose covered shares are shown.
    standards : sequence of str
        Standards offered (preset names or files); default every shipped one.
    zone_classes : path, optional
        The planner's own central / urban / rural polygons; default derived from the
        population raster by each standard's densities.
    zone_class_column : str
    horizon_minutes : float, optional
        Bound of the incremental searches; default :data:`HORIZON_FACTOR` times the
        largest threshold in use.
    progress : callable, optional
        Called with a short label as each step starts.
    name : str, optional
        The region's name on the page; default the analysis' (the region or the road file).
    """

    def __init__(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        minutes: Sequence[float] = (10.0, 15.0, 30.0),
        standards: Sequence[str] | None = None,
        zone_classes: str | os.PathLike[str] | None = None,
        zone_class_column: str = "zone_class",
        horizon_minutes: float | None = None,
        progress: Callable[[str], None] | None = None,
        name: str | None = None,
    ) -> None:
        self.inputs = dict(inputs or {})
        self.minutes = checked_thresholds(minutes)
        self.standard_names = tuple(standards) if standards else tuple(list_standards())
        self._standards = {name: load_standard(name) for name in self.standard_names}
        self.zone_classes_path = zone_classes
        self.zone_class_column = zone_class_column
        if horizon_minutes is not None and not horizon_minutes > 0:
            msg = f"horizon_minutes must be a positive number of minutes, got {horizon_minutes!r}"
            raise InputError(msg)
        self.fixed_horizon = horizon_minutes
        self.progress = progress or (lambda label: None)
        self._bases: dict[str, Analysis] = {}
        self._classes: dict[str, PlaceClasses] = {}
        self._candidates: dict[str, gpd.GeoDataFrame] = {}
        self._lock = threading.RLock()
        self._profile_names = tuple(list_profiles())
        self._places: dict[str, dict[str, np.ndarray]] = {}
        self._tables: dict[str, pd.DataFrame] = {}
        first = self.base("car")
        self.region = name or first.region
        self.attribution = first.attribution
        self.facilities = first.facilities
        self.outline = self._outline(first)
        self._outline_m = gpd.GeoSeries([self.outline], crs=4326).to_crs(first.network.crs).iloc[0]
        shapely.prepare(self._outline_m)
        self._transformer = Transformer.from_crs(4326, first.network.crs, always_xy=True)

    # ------------------------------------------------------------------ analyses

    def base(self, profile: str) -> Analysis:
        """The region analysed with one profile (all facilities); run on first use."""
        name = self.profile_name(profile)
        with self._lock:
            if name not in self._bases:
                self.progress(f"analysis: {name}")
                logger.info("analysing the region with profile %s", name)
                self._bases[name] = analyze(
                    **self.inputs,
                    profile=profile,
                    minutes=self.minutes,
                    per_facility_isochrones=False,
                )
            return self._bases[name]

    def profile_name(self, profile: str) -> str:
        """A profile's name, checked (a shipped name or a profile file)."""
        return profile if profile in self._profile_names else load_profile(profile).name

    @property
    def profiles(self) -> tuple[str, ...]:
        """The profiles a scenario may use: the shipped ones and any other already loaded."""
        return tuple(dict.fromkeys([*self._profile_names, *self._bases]))

    def columns(self, profile: str) -> dict[str, np.ndarray]:
        """The villages' and facilities' columns as arrays (``village_id``, ``village_name``...), read once per profile."""
        name = self.profile_name(profile)
        with self._lock:
            if name not in self._places:
                base = self.base(name)
                villages, facilities = base.villages, base.facilities
                self._places[name] = {
                    "village_id": villages["id"].astype(str).to_numpy(),
                    # a village without a name is shown by its id
                    "village_name": villages["name"]
                    .fillna("")
                    .astype(str)
                    .where(villages["name"].fillna("").astype(str).str.strip() != "", villages["id"].astype(str))
                    .to_numpy(),
                    "village_zone": villages["zone"].fillna("").astype(str).to_numpy()
                    if "zone" in villages
                    else np.full(len(villages), "", dtype=object),
                    "village_population": villages["population"].to_numpy(dtype=float),
                    "facility_id": facilities["id"].astype(str).to_numpy(),
                    "facility_lon": facilities.geometry.x.to_numpy(),
                    "facility_lat": facilities.geometry.y.to_numpy(),
                }
            return self._places[name]

    def village_table(self) -> pd.DataFrame:
        """The villages as the checks read them (``id``, ``name``, ``population``, ``zone``...), without geometry."""
        with self._lock:
            if "village_table" not in self._tables:
                villages = self.base("car").villages
                columns = [c for c in ("id", "name", "population", "zone", "households") if c in villages]
                self._tables["village_table"] = pd.DataFrame(villages[columns]).reset_index(drop=True)
            return self._tables["village_table"]

    def cell_population(self) -> np.ndarray:
        """People in each populated raster cell (the same cells for every profile; none without a raster), read once."""
        with self._lock:
            if "cells" not in self._places:
                cells = self.base("car").cells
                self._places["cells"] = {
                    "population": np.zeros(0) if cells is None else cells["population"].to_numpy(dtype=float)
                }
            return self._places["cells"]["population"]

    def standard(self, name: str) -> Standard:
        """One of the standards offered."""
        if name not in self._standards:
            msg = f"unknown standard {name!r}; this session offers: {', '.join(self.standard_names)}"
            raise InputError(msg)
        return self._standards[name]

    def standards(self) -> dict[str, Standard]:
        """The standards offered, by name."""
        return dict(self._standards)

    def place_classes(self, standard: str | None) -> PlaceClasses:
        """Each village's and cell's zone class under a standard's rules (all rural without a standard)."""
        base = self.base("car")
        with self._lock:
            key = standard or ""
            if key not in self._classes:
                polygons = self._zone_polygons(self.standard(standard)) if standard else None
                cells = base.cells
                self._classes[key] = PlaceClasses(
                    villages=zone_class_of(base.villages, polygons),
                    cells=zone_class_of(cells, polygons) if cells is not None and len(cells) else None,
                    polygons=polygons,
                )
            return self._classes[key]

    def _zone_polygons(self, standard: Standard) -> gpd.GeoDataFrame | None:
        """As :func:`coverage.standards.assessment.assess` derives them: the planner's file, else the raster."""
        if self.zone_classes_path is not None:
            return read_zone_classes(self.zone_classes_path, column=self.zone_class_column)
        population = self.population_path
        if population is None:
            return None
        rules = standard.zone_rules
        return zone_classes_from_population(
            population,
            central_density_per_km2=rules.central_density_per_km2,
            urban_density_per_km2=rules.urban_density_per_km2,
            block_m=rules.block_m,
        )

    @property
    def population_path(self) -> str | None:
        """The population raster the analyses used, if any."""
        given = self.inputs.get("population")
        if given is not None:
            return str(given)
        known = self.base("car").inputs.get("population")
        return known["path"] if known else None

    def horizon_minutes(self, thresholds: Sequence[float]) -> float:
        """Bound of the searches for thresholds in use: fixed, or a multiple of the largest."""
        if self.fixed_horizon is not None:
            return max(self.fixed_horizon, *thresholds)
        return HORIZON_FACTOR * max(thresholds)

    def default_candidates(self, profile: str) -> gpd.GeoDataFrame:
        """The siting model's default candidate sites for a profile (road points and villages), made once."""
        from coverage.siting.models import default_candidates

        name = self.profile_name(profile)
        with self._lock:
            if name not in self._candidates:
                self._candidates[name] = default_candidates(self.base(profile))
            return self._candidates[name]

    # ------------------------------------------------------------------ where stations may go

    def _outline(self, analysis: Analysis) -> shapely.Geometry:
        boundary = self.inputs.get("boundary")
        if isinstance(boundary, str | os.PathLike):
            return read_boundary(boundary)
        if boundary is not None:
            return boundary
        if analysis.zones is not None and len(analysis.zones):
            return analysis.zones.geometry.union_all()
        hull = shapely.convex_hull(shapely.MultiPoint(analysis.network.node_xy))
        return gpd.GeoSeries([hull], crs=analysis.network.crs).to_crs(4326).iloc[0]

    def check_inside(self, lon: float, lat: float) -> None:
        """Refuse a place outside the region (its outline plus :data:`OUTLINE_MARGIN_M`)."""
        if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            msg = f"lon/lat ({lon}, {lat}) are not coordinates: longitude -180..180, latitude -90..90 (WGS84 degrees)"
            raise InputError(msg)
        x, y = self._transformer.transform(lon, lat)
        if shapely.distance(self._outline_m, shapely.Point(x, y)) > OUTLINE_MARGIN_M:
            west, south, east, north = (float(v) for v in shapely.bounds(self.outline))
            msg = (
                f"lon/lat ({lon:.6f}, {lat:.6f}) lie outside the region {self.region} "
                f"(its outline spans lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}); place stations inside it"
            )
            raise InputError(msg)
