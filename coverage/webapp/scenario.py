"""A what-if scenario: the region's stations with some added, moved or closed, and the coverage they give.

A :class:`Scenario` holds the stations (the region's facilities, open or closed, and
new ones), the settings a planner changes on the page (profile, direction, the
circle, the standard, the kind of new stations) and one
:class:`~coverage.network.incremental.IncrementalReach` per analysis the figures
need: the map's (its profile, direction and facility kinds) and one per
``(profile, direction, kinds)`` of the standard's travel-time targets. After each
edit every engine is brought to the stations that count for it (one bounded search
per added or moved station, none for a removal), and :meth:`Scenario.view` gives
the figures: covered shares, every village's time, the villages outside the
circle, every road piece's travel-time band and every travel-time target's verdict.

Which stations count for an analysis follows the library:
:func:`coverage.analysis.places.select_facilities` on the open stations (for EMS,
the ambulance stations, or the hospitals when there are none).

Usable in a notebook::

    scenario = Scenario(Workspace(), profile="car", direction="to_facility", minutes=30)
    new = scenario.add(43.3, -11.7)
    scenario.view()["thresholds"]
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import InputError
from coverage.analysis.result import Analysis
from coverage.network.incremental import IncrementalReach
from coverage.network.routing import DIRECTIONS
from coverage.network.snapping import Attachment, attach_points
from coverage.standards.assessment import missing_data_verdict
from coverage.standards.checks import CheckResult
from coverage.standards.standard import Target
from coverage.webapp.verdicts import Demand, travel_time_verdict, verdict_dict
from coverage.webapp.workspace import Key, Workspace

logger = logging.getLogger(__name__)

#: Prefix of the ids of stations added in a scenario.
NEW_PREFIX = "new-"
#: Largest circle a page may set, in minutes.
MAX_MINUTES = 240.0
#: Villages listed as outside the circle, largest population first.
UNCOVERED_SHOWN = 200


@dataclass(frozen=True)
class Station:
    """One station of a scenario.

    Attributes
    ----------
    id : str
        The facility's id, or ``new-<n>`` for a station added in the scenario.
    name, kind : str
    lon, lat : float
        WGS84 position.
    origin : str
        ``existing`` (a facility of the region) or ``new``.
    open : bool
        False for an existing facility closed in the scenario.
    moved : bool
        An existing facility moved elsewhere in the scenario.
    """

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    origin: str
    open: bool = True
    moved: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The station as plain JSON values."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "lon": self.lon,
            "lat": self.lat,
            "origin": self.origin,
            "open": self.open,
            "moved": self.moved,
        }


@dataclass(frozen=True)
class Settings:
    """What the page lets a planner change besides the stations.

    Attributes
    ----------
    profile : str
        Speed profile of the map's analysis.
    direction : str
        ``to_facility`` or ``from_facility``.
    minutes : float
        The circle the map and the uncovered list are about.
    standard : str or None
        The standard whose targets are judged.
    kinds : tuple of str
        Facility kinds of the map's analysis (``("ems",)``: EMS stations; empty: all).
    new_kind : str
        Kind of the stations added on the page.
    """

    profile: str = "car"
    direction: str = "to_facility"
    minutes: float = 30.0
    standard: str | None = None
    kinds: tuple[str, ...] = ()
    new_kind: str = "clinic"

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values."""
        return {**dataclasses.asdict(self), "kinds": list(self.kinds)}


@dataclass
class _Engine:
    """An incremental search and where each of its stations stands."""

    reach: IncrementalReach
    placed: dict[str, tuple[float, float]]


class Scenario:
    """Stations and settings of one what-if scenario, with incrementally updated coverage.

    Parameters
    ----------
    workspace : Workspace
        The region.
    name : str
        The scenario's name.
    **settings
        Initial :class:`Settings` fields.
    """

    def __init__(self, workspace: Workspace, *, name: str = "scenario", **settings: Any) -> None:
        self.workspace = workspace
        self.name = name
        self.lock = threading.RLock()
        facilities = workspace.facilities
        self.stations: dict[str, Station] = {
            str(row.id): Station(
                id=str(row.id),
                name=str(row.name) if pd.notna(row.name) else str(row.id),
                kind=str(row.kind),
                lon=float(row.geometry.x),
                lat=float(row.geometry.y),
                origin="existing",
            )
            for row in facilities.itertuples()
        }
        self._original = dict(self.stations)
        self._extra = pd.DataFrame(facilities.drop(columns="geometry")).set_index(facilities["id"].astype(str))
        self._counter = itertools.count(1)
        kinds = tuple(settings.pop("kinds", ()) or ())
        default_kind = (
            kinds[0] if kinds else (facilities["kind"].astype(str).mode().iloc[0] if len(facilities) else "clinic")
        )
        self.settings = self._checked(Settings(kinds=kinds, new_kind=default_kind), settings)
        self._engines: dict[Key, _Engine] = {}
        self._selected: dict[Key, tuple[dict[str, Station], list[Station]]] = {}
        self._masks: dict[Any, np.ndarray] = {}
        self._missing: dict[tuple[str, str], CheckResult | None] = {}
        self._memo: dict[Any, CheckResult] = {}
        self._frame: tuple[dict[str, Station], gpd.GeoDataFrame] | None = None
        #: Counts the edits and setting changes, so a page knows which answer is the latest.
        self.version = 0
        self._sync()

    def snapshot(self) -> Scenario:
        """A copy of the stations and settings, without the incremental engines (for exports and slow checks).

        Its own edits rebuild engines from scratch; it shares nothing mutable with this scenario.
        """
        copy = object.__new__(Scenario)
        copy.__dict__.update(self.__dict__)
        copy.lock = threading.RLock()
        copy.stations = dict(self.stations)
        copy._engines = {}
        copy._selected = {}
        following = next(self._counter)
        self._counter = itertools.count(following)
        copy._counter = itertools.count(following)
        copy._masks = {}
        copy._missing = {}
        copy._memo = {}
        copy._frame = None
        return copy

    # ------------------------------------------------------------------ keys and stations

    @property
    def main_key(self) -> Key:
        """The key of the map's analysis."""
        s = self.settings
        return (self.workspace.profile_name(s.profile), s.direction, s.kinds)

    def target_keys(self) -> list[Key]:
        """Keys of the standard's travel-time targets."""
        if not self.settings.standard:
            return []
        standard = self.workspace.standard(self.settings.standard)
        return [
            (str(t.profile), str(t.direction), tuple(t.facility_kinds))
            for t in standard.targets
            if t.kind == "travel_time" and t.minutes is not None
        ]

    def thresholds(self) -> list[float]:
        """The thresholds whose shares are shown: the region's and the circle."""
        return sorted({*self.workspace.minutes, float(self.settings.minutes)})

    def horizon_minutes(self) -> float:
        """Bound of the searches: enough for every threshold and target in use."""
        standard = self.settings.standard
        targets = self.workspace.standard(standard).targets if standard else ()
        minutes = [*self.thresholds(), *(float(t.minutes) for t in targets if t.minutes is not None)]
        return self.workspace.horizon_minutes(minutes)

    def open_frame(self) -> gpd.GeoDataFrame:
        """The open stations as a facility table (``id``, ``name``, ``kind``, the region's other columns), WGS84."""
        if self._frame is not None and self._frame[0] is self.stations:
            return self._frame[1].copy()
        frame = self._open_frame()
        self._frame = (self.stations, frame)
        return frame.copy()

    def _open_frame(self) -> gpd.GeoDataFrame:
        rows = [s for s in self.stations.values() if s.open]
        frame = gpd.GeoDataFrame(
            {"id": [s.id for s in rows], "name": [s.name for s in rows], "kind": [s.kind for s in rows]},
            geometry=gpd.points_from_xy([s.lon for s in rows], [s.lat for s in rows]),
            crs=4326,
        )
        extra = [c for c in self._extra.columns if c not in ("id", "name", "kind") and not c.startswith("snap")]
        extra = [c for c in extra if c not in ("off_network", "small_piece")]
        for column in extra:
            frame[column] = self._extra[column].reindex(frame["id"]).to_numpy()
        return frame

    def selected(self, key: Key) -> list[Station]:
        """The open stations counting for an analysis, as :func:`coverage.analysis.places.select_facilities` selects them."""
        cached = self._selected.get(key)
        if cached is not None and cached[0] is self.stations:
            return cached[1]
        _, _, kinds = key
        chosen = [s for s in self.stations.values() if s.open]
        if kinds == ("ems",) and not any(s.kind == "ems" for s in chosen):
            # the ambulance stations, or the hospitals when there are none
            kinds = ("hospital",)
        if kinds:
            chosen = [s for s in chosen if s.kind in kinds]
        self._selected[key] = (self.stations, chosen)
        return chosen

    def stations_for(self, key: Key) -> gpd.GeoDataFrame:
        """The open stations counting for an analysis, as a facility table (see :meth:`selected`)."""
        ids = [s.id for s in self.selected(key)]
        frame = self.open_frame()
        return frame[frame["id"].isin(ids)].reset_index(drop=True)

    # ------------------------------------------------------------------ edits

    def add(self, lon: float, lat: float, *, kind: str | None = None, name: str | None = None) -> Station:
        """Add a new station at a WGS84 position (inside the region)."""
        with self.lock:
            lon, lat = float(lon), float(lat)
            self.workspace.check_inside(lon, lat)
            kind = _clean_text(kind, "kind", 40).lower() if kind else self.settings.new_kind
            station_id = f"{NEW_PREFIX}{next(self._counter)}"
            while station_id in self.stations:
                station_id = f"{NEW_PREFIX}{next(self._counter)}"
            station = Station(
                id=station_id,
                name=_clean_text(name, "name", 120) if name else station_id,
                kind=kind,
                lon=lon,
                lat=lat,
                origin="new",
            )
            self._edit({**self.stations, station_id: station})
            return station

    def move(self, station_id: str, lon: float, lat: float) -> Station:
        """Move an open station (a new one, or an existing facility) to a WGS84 position inside the region."""
        with self.lock:
            station = self._open_station(station_id)
            lon, lat = float(lon), float(lat)
            self.workspace.check_inside(lon, lat)
            moved = dataclasses.replace(station, lon=lon, lat=lat, moved=station.origin == "existing")
            self._edit({**self.stations, station_id: moved})
            return moved

    def remove(self, station_id: str) -> Station:
        """Remove a new station, or close an existing facility (it can be reopened)."""
        with self.lock:
            station = self._open_station(station_id)
            stations = dict(self.stations)
            if station.origin == "new":
                del stations[station_id]
                result = station
            else:
                result = dataclasses.replace(station, open=False)
                stations[station_id] = result
            self._edit(stations)
            return result

    def reopen(self, station_id: str) -> Station:
        """Reopen an existing facility closed in the scenario."""
        with self.lock:
            station = self._station(station_id)
            if station.open:
                msg = f"station {station_id!r} is open; only a closed facility can be reopened"
                raise InputError(msg)
            reopened = dataclasses.replace(station, open=True)
            self._edit({**self.stations, station_id: reopened})
            return reopened

    def replace_stations(self, stations: Sequence[Station]) -> None:
        """Set every station at once (a scenario loaded from a file); existing facilities not listed are as in the region."""
        with self.lock:
            known = dict(self.stations)
            for station in stations:
                if station.origin == "existing" and station.id not in known:
                    msg = f"station {station.id!r} is not a facility of the region {self.workspace.region}"
                    raise InputError(msg)
                if station.origin == "new" or station.moved:
                    self.workspace.check_inside(station.lon, station.lat)
            updated = dict(self._original)
            for station in stations:
                if station.origin == "existing" and not station.moved:
                    # where the region has it (a file may round its coordinates)
                    region = self._original[station.id]
                    station = dataclasses.replace(station, lon=region.lon, lat=region.lat)
                updated[station.id] = station
            numbers = [
                int(s.id[len(NEW_PREFIX) :])
                for s in updated.values()
                if s.id.startswith(NEW_PREFIX) and s.id[len(NEW_PREFIX) :].isdigit()
            ]
            self._edit(updated)
            self._counter = itertools.count(max(numbers, default=0) + 1)

    def update_settings(self, **changes: Any) -> Settings:
        """Change settings (profile, direction, minutes, standard, new_kind); unknown or bad values are refused."""
        with self.lock:
            settings = self._checked(self.settings, changes)
            previous = self.settings
            self.settings = settings
            try:
                self._sync()
            except Exception:
                self.settings = previous
                self._engines.clear()
                self._sync()
                raise
            self.version += 1
            return settings

    def check_settings(self, **changes: Any) -> Settings:
        """The settings these changes would give, or an InputError; nothing is changed."""
        return self._checked(self.settings, changes)

    def _checked(self, settings: Settings, changes: dict[str, Any]) -> Settings:
        allowed = {"profile", "direction", "minutes", "standard", "new_kind"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            msg = f"unknown settings {unknown}; allowed: {', '.join(sorted(allowed))}"
            raise InputError(msg)
        values = dict(changes)
        if "profile" in values:
            profile = str(values["profile"])
            if profile not in self.workspace.profiles:
                msg = f"unknown profile {profile!r}; choose one of {', '.join(self.workspace.profiles)}"
                raise InputError(msg)
        if "direction" in values and values["direction"] not in DIRECTIONS:
            msg = f"direction must be one of {', '.join(DIRECTIONS)}, got {values['direction']!r}"
            raise InputError(msg)
        if "minutes" in values:
            minutes = values["minutes"]
            if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 < minutes <= MAX_MINUTES:
                msg = f"minutes must be a number above 0 and at most {MAX_MINUTES:g}, got {minutes!r}"
                raise InputError(msg)
            values["minutes"] = float(minutes)
        if values.get("standard") is not None:
            self.workspace.standard(str(values["standard"]))
        if "new_kind" in values:
            values["new_kind"] = _clean_text(values["new_kind"], "new_kind", 40).lower()
        return dataclasses.replace(settings, **values)

    def _station(self, station_id: str) -> Station:
        if not isinstance(station_id, str) or station_id not in self.stations:
            new = [s for s in self.stations if s.startswith(NEW_PREFIX)]
            msg = (
                f"no station {station_id!r} in the scenario; it has {len(self.stations)} stations "
                f"(new ones: {', '.join(new[:10]) or 'none'})"
            )
            raise InputError(msg)
        return self.stations[station_id]

    def _open_station(self, station_id: str) -> Station:
        station = self._station(station_id)
        if not station.open:
            msg = f"station {station_id!r} is closed in this scenario; reopen it first"
            raise InputError(msg)
        return station

    def _edit(self, stations: dict[str, Station]) -> None:
        """Take the new stations and bring every engine to them; on failure, the scenario is as it was."""
        previous = self.stations
        self.stations = stations
        try:
            self._sync()
        except Exception:
            self.stations = previous
            self._engines.clear()
            self._sync()
            raise
        self.version += 1

    # ------------------------------------------------------------------ engines

    def _sync(self) -> None:
        """Bring every engine needed to the open stations that count for it (dropping engines no longer needed)."""
        needed = dict.fromkeys([self.main_key, *self.target_keys()])
        horizon = self.horizon_minutes()
        for key in list(self._engines):
            if key not in needed or self._engines[key].reach.horizon_minutes < horizon:
                del self._engines[key]
        for key in needed:
            self._sync_engine(key, horizon)

    def _sync_engine(self, key: Key, horizon: float) -> None:
        profile, direction, _ = key
        base = self.workspace.base(profile)
        wanted = self.selected(key)
        engine = self._engines.get(key)
        if engine is None:
            points = {"villages": base.attachments["villages"]}
            if "cells" in base.attachments:
                points["cells"] = base.attachments["cells"]
            # with the straight walks between a station and a place close to it, as analyze() times them
            engine = _Engine(
                IncrementalReach(
                    base.network,
                    direction=direction,
                    horizon_minutes=horizon,
                    points=points,
                    walk_speed_kph=base.profile.access_speed_kph,
                    walk_m=base.profile.snap_tolerance_m,
                ),
                {},
            )
            self._engines[key] = engine
        positions = {st.id: (st.lon, st.lat) for st in wanted}
        gone = [i for i in engine.placed if i not in positions]
        moved = [i for i in positions if i in engine.placed and engine.placed[i] != positions[i]]
        new = [i for i in positions if i not in engine.placed]
        if gone:
            engine.reach.remove(gone)
            for i in gone:
                del engine.placed[i]
        if new or moved:
            attachment = self._attach(base, [*new, *moved], positions)
            if new:
                engine.reach.add(attachment.subset(np.arange(len(new))))
            for offset, station_id in enumerate(moved, start=len(new)):
                engine.reach.move(station_id, attachment.subset(np.array([offset])))
            engine.placed.update({i: positions[i] for i in [*new, *moved]})

    def _attach(self, base: Analysis, ids: list[str], positions: dict[str, tuple[float, float]]) -> Attachment:
        """Stations attached to a profile's network: existing facilities as the analysis attached them."""
        known = base.attachments["facilities"]
        columns = self.workspace.columns(base.profile.name)
        row_of = {i: n for n, i in enumerate(columns["facility_id"])}
        fresh = [
            i
            for i in ids
            if i not in row_of
            or (float(columns["facility_lon"][row_of[i]]), float(columns["facility_lat"][row_of[i]])) != positions[i]
        ]
        parts: dict[str, Attachment] = {}
        if fresh:
            points = gpd.GeoSeries(
                gpd.points_from_xy([positions[i][0] for i in fresh], [positions[i][1] for i in fresh]), crs=4326
            )
            profile = base.profile
            attached = attach_points(
                base.network,
                points,
                access_speed_kph=profile.facility_access_speed_kph,
                tolerance_m=profile.snap_tolerance_m,
                ids=np.array(fresh),
            )
            parts.update({i: attached.subset(np.array([n])) for n, i in enumerate(fresh)})
        for i in ids:
            if i not in parts:
                one = known.subset(np.array([row_of[i]]))
                parts[i] = dataclasses.replace(one, ids=np.array([i]))
        ordered = [parts[i] for i in ids]
        return Attachment(
            **{
                field.name: np.concatenate([getattr(a, field.name) for a in ordered])
                for field in dataclasses.fields(Attachment)
            }
        )

    def engine(self, key: Key | None = None) -> IncrementalReach:
        """The incremental search of an analysis (default the map's)."""
        key = key or self.main_key
        if key not in self._engines:
            with self.lock:
                self._sync_engine(key, self.horizon_minutes())
        return self._engines[key].reach

    # ------------------------------------------------------------------ figures

    def verdicts(self) -> list[CheckResult]:
        """Every travel-time target of the standard, judged on the current stations (as ``assess`` judges them)."""
        standard_name = self.settings.standard
        if not standard_name:
            return []
        standard = self.workspace.standard(standard_name)
        classes = self.workspace.place_classes(standard_name)
        region = self.workspace.base("car")
        base = dataclasses.replace(region, facilities=self.open_frame())

        def missing_data(target: Target) -> CheckResult | None:
            # population and zones do not change with the stations: judged once per target
            key = (standard_name, target.id)
            if key not in self._missing:
                self._missing[key] = missing_data_verdict(target, region, classes.polygons)
            return self._missing[key]

        verdicts = []
        for target in standard.targets:
            if target.kind != "travel_time" or target.minutes is None:
                continue
            key = (str(target.profile), str(target.direction), tuple(target.facility_kinds))
            places, villages = self._demand(key, classes.villages, classes.cells)
            verdicts.append(
                travel_time_verdict(
                    target,
                    base=base,
                    analysis=self._analysis_of(key),
                    classes=classes.polygons,
                    places=places,
                    villages=villages,
                    household_size=standard.household_size,
                    masks=self._masks,
                    missing_data=missing_data,
                    memo=self._memo,
                )
            )
        return verdicts

    def _analysis_of(self, key: Key) -> Analysis:
        """The region analysed for a key, with the stations counting for it (and their snapping) as facilities."""
        engine = self.engine(key)
        frame = self.stations_for(key)
        attachments = [engine.station(i) for i in frame["id"]]
        frame["snap_distance_m"] = [float(a.snap_distance_m[0]) for a in attachments]
        frame["off_network"] = [bool(a.off_network[0]) for a in attachments]
        return dataclasses.replace(self.workspace.base(key[0]), direction=key[1], facilities=frame)

    def _demand(self, key: Key, village_class: np.ndarray, cell_class: np.ndarray | None) -> tuple[Demand, Demand]:
        engine = self.engine(key)
        base = self.workspace.base(key[0])
        table = self.workspace.village_table()
        households = (
            table["households"].to_numpy(dtype=float)
            if "households" in table and table["households"].notna().all()
            else None
        )
        villages = Demand(
            seconds=engine.point_seconds("villages"),
            population=self.workspace.columns(key[0])["village_population"],
            zone_class=village_class,
            households=households,
            frame=table,
        )
        if cell_class is None or "cells" not in engine.point_sets or base.cells is None:
            return villages, villages
        cells = Demand(
            seconds=engine.point_seconds("cells"),
            population=self.workspace.cell_population(),
            zone_class=cell_class,
        )
        return cells, villages

    def view(self) -> dict[str, Any]:
        """Everything the page redraws after an edit (JSON-ready)."""
        with self.lock:
            key = self.main_key
            engine = self.engine(key)
            base = self.workspace.base(key[0])
            circle = float(self.settings.minutes)
            village_s = engine.point_seconds("villages")
            village_station = engine.point_station("villages")
            columns = self.workspace.columns(key[0])
            population = columns["village_population"]
            cells = base.cells if base.cells is not None and len(base.cells) and "cells" in engine.point_sets else None
            cell_s = engine.point_seconds("cells") if cells is not None else None
            cell_people = self.workspace.cell_population() if cells is not None else None
            rows = []
            for threshold in self.thresholds():
                limit = threshold * 60.0
                inside = village_s <= limit
                row: dict[str, Any] = {
                    "minutes": threshold,
                    "villages_total": len(village_s),
                    "villages_covered": int(inside.sum()),
                    "village_population_covered": float(np.nansum(population[inside])),
                    "village_population_total": float(np.nansum(population)),
                }
                if cell_s is not None and cell_people is not None:
                    total = float(cell_people.sum())
                    covered = float(cell_people[cell_s <= limit].sum())
                    row.update(
                        population_total=total,
                        population_covered=covered,
                        population_share=covered / total if total else None,
                    )
                rows.append(row)
            horizon = engine.horizon_minutes
            names = {sid: s.name for sid, s in self.stations.items()}
            minutes = np.where(np.isfinite(village_s), village_s / 60.0, np.nan)
            outside = np.flatnonzero(~(village_s <= circle * 60.0))
            order = outside[
                np.lexsort((columns["village_name"][outside], -np.nan_to_num(population[outside], nan=-1.0)))
            ]
            uncovered = [
                {
                    "id": str(columns["village_id"][i]),
                    "name": str(columns["village_name"][i]),
                    "zone": str(columns["village_zone"][i]),
                    "population": None if np.isnan(population[i]) else float(population[i]),
                    "minutes": None if np.isnan(minutes[i]) else float(minutes[i]),
                    "nearest": names.get(village_station[i]) if village_station[i] is not None else None,
                }
                for i in order[:UNCOVERED_SHOWN]
            ]
            return {
                "scenario": self.name,
                "version": self.version,
                "settings": self.settings.as_dict(),
                "horizon_minutes": horizon,
                "thresholds": rows,
                "stations": [s.as_dict() for s in self.stations.values()],
                "village_minutes": [None if np.isnan(m) else round(float(m), 3) for m in minutes],
                "village_station": [None if s is None else str(s) for s in village_station],
                "uncovered": uncovered,
                "uncovered_total": len(outside),
                "road_bands": self.road_bands(),
                "band_minutes": self.thresholds(),
                "targets": [verdict_dict(v) for v in self.verdicts()],
            }

    def road_bands(self) -> str:
        """Each road piece's band (``0`` within the first threshold, ``1`` the next...; ``-`` beyond), as one string.

        A piece's time is that of its nearer end.
        """
        engine = self.engine()
        network = engine.network
        node_s = engine.node_seconds
        seconds = np.minimum(node_s[network.seg_u], node_s[network.seg_v])
        edges = np.array(self.thresholds()) * 60.0
        band = np.searchsorted(edges, seconds, side="left")
        digits = np.array([*"0123456789"[: len(edges)], "-"])
        return "".join(digits[np.minimum(band, len(edges))])


def _clean_text(value: Any, field: str, limit: int) -> str:
    """A short piece of text from a request: a string, no control characters, at most ``limit`` characters."""
    if not isinstance(value, str):
        msg = f"{field} must be text, got {type(value).__name__}"
        raise InputError(msg)
    text = value.strip()
    if not text or len(text) > limit or any(ord(c) < 32 for c in text):
        msg = f"{field} must be 1 to {limit} characters of text without control characters, got {value[:60]!r}"
        raise InputError(msg)
    return text
