"""The what-if web app as an ASGI application (Starlette): the page and its JSON API.

:func:`create_app` serves one :class:`~coverage.webapp.scenario.Scenario` to one
planner (or a meeting room). Every edit is a small JSON request answered with the
new figures (``view``) and the server's time for it (``server_ms``).

Requests are checked before anything changes: a bad request gets a 4xx status and
``{"error": "..."}`` saying what was wrong and how to fix it, and leaves the scenario
as it was — malformed JSON (400), a body over the size limit (413), an unknown
station (404), coordinates outside the region or a bad value (422). Requests that
change something must carry the header ``X-Requested-With: facility-coverage`` (a
page on another site cannot send it without the browser asking first, and this
server never agrees), and, when the server was started with a token (any address
other than the loopback), the token (header ``X-Token`` or query ``token``).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import shapely
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coverage._errors import CoverageError
from coverage.webapp.files import (
    ScenarioStore,
    apply_saved,
    check_name,
    compare,
    read_scenario_geojson,
    report_html,
    scenario_assessment,
    scenario_geojson,
    scenario_gpkg,
    stations_csv,
    villages_csv,
)
from coverage.webapp.page import LANGUAGES, render_page
from coverage.webapp.scenario import Scenario
from coverage.webapp.suggest import suggest_sites

logger = logging.getLogger(__name__)

#: Largest request body, in bytes (a scenario file of thousands of stations fits).
MAX_BODY_BYTES = 1_000_000
#: The header every request that changes something must carry.
CHANGE_HEADER = ("x-requested-with", "facility-coverage")
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


class BodyLimit:
    """Refuse request bodies over a size (413), by their Content-Length or as they stream in."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(limit)(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, _too_large_text(limit))
            return message

        await self.app(scope, counted, send)


def _too_large_text(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes; send a smaller scenario (fewer stations)"


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": _too_large_text(limit)}, status_code=413)


class Guard:
    """The token (when the server has one) on every request, and the change header on requests that change something."""

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.token is not None:
            given = request.headers.get("x-token") or request.query_params.get("token") or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                text = "this server needs its access token: open the address it printed when it started (…/?token=…)"
                response: Response = (
                    JSONResponse({"error": text}, status_code=403)
                    if scope["path"].startswith("/api/")
                    else HTMLResponse(f"<!DOCTYPE html><title>403</title><p>{text}</p>", status_code=403)
                )
                await response(scope, receive, send)
                return
        if request.method not in ("GET", "HEAD") and request.headers.get(CHANGE_HEADER[0]) != CHANGE_HEADER[1]:
            text = f"requests that change the scenario must carry the header '{CHANGE_HEADER[0]}: {CHANGE_HEADER[1]}'"
            await JSONResponse({"error": text}, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Session:
    """What the app serves: the scenario, the saved scenarios, the suggested sites, the page."""

    def __init__(
        self, scenario: Scenario, *, store: ScenarioStore, language: str, basemap: str, basemap_attribution: str | None
    ) -> None:
        self.scenario = scenario
        self.store = store
        self.language = language
        self.basemap = basemap
        self.basemap_attribution = basemap_attribution
        self.suggestions: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        # one full assessment at a time, its answer kept for the version it judged
        self._others_lock = threading.Lock()
        self._others: tuple[int, dict[str, Any]] | None = None
        self._roads: dict[str, bytes] = {}
        self._pages: dict[str, str] = {}

    def other_targets(self) -> dict[str, Any]:
        """The targets that are not travel-time targets, judged by the full assessment on the current stations.

        Requests arriving while one is judged wait for it, then reuse its answer when
        nothing changed meanwhile: a burst of edits never piles assessments up.
        """
        with self._others_lock:
            with self.scenario.lock:
                version = self.scenario.version
                if self._others is not None and self._others[0] == version:
                    return self._others[1]
                frozen = self.scenario.snapshot()
            # judged on a copy: edits go on meanwhile, and the page keeps the answer of its version only
            assessment = scenario_assessment(frozen, only_other_targets=True)
            targets = [] if assessment is None else assessment.as_dict()["targets"]
            keep = (
                "target",
                "kind",
                "status",
                "measured",
                "required",
                "unit",
                "shortfall",
                "detail",
                "detail_zh",
                "assumption",
                "assumption_zh",
            )
            answer = {"version": version, "targets": [{k: t[k] for k in keep} for t in targets]}
            self._others = (version, answer)
            return answer

    def page(self, language: str) -> str:
        if language not in self._pages:
            self._pages[language] = render_page(
                language=language,
                title=self.scenario.workspace.region,
                basemap=self.basemap,
                basemap_attribution=self.basemap_attribution,
            )
        return self._pages[language]

    def region(self) -> dict[str, Any]:
        workspace = self.scenario.workspace
        profile = self.scenario.main_key[0]
        villages = workspace.base(profile).villages
        columns = workspace.columns(profile)
        population = columns["village_population"]
        kinds = sorted({*workspace.facilities["kind"].astype(str), "ems"})
        standards = workspace.standards()
        return {
            "region": workspace.region,
            "attribution": workspace.attribution,
            "bounds": [float(v) for v in shapely.bounds(workspace.outline)],
            "outline": json.loads(shapely.to_geojson(shapely.simplify(workspace.outline, 0.0005))),
            "villages": [
                {
                    "id": str(i),
                    "name": str(n),
                    "lon": round(float(g.x), 6),
                    "lat": round(float(g.y), 6),
                    "population": None if np.isnan(p) else float(p),
                }
                for i, n, g, p in zip(
                    columns["village_id"], columns["village_name"], villages.geometry, population, strict=True
                )
            ],
            "profiles": list(workspace.profiles),
            "standards": [{"name": n, "title_zh": s.title_zh, "title_en": s.title_en} for n, s in standards.items()],
            "targetLabels": {
                n: {t.id: {"en": t.label_en, "zh": t.label_zh} for t in s.targets} for n, s in standards.items()
            },
            "otherTargets": {n: any(t.kind != "travel_time" for t in s.targets) for n, s in standards.items()},
            "kinds": kinds,
            "scenarios": self.store.names(),
        }

    def roads(self, profile: str) -> bytes:
        """Every road piece of a profile's network as [lat, lon] lines (simplified to about 10 m), as JSON."""
        name = self.scenario.workspace.profile_name(profile)
        if name not in self._roads:
            network = self.scenario.workspace.base(name).network
            import geopandas as gpd

            lines = gpd.GeoSeries(network.simplified_geometry(10.0), crs=network.crs).to_crs(4326)
            coordinates = [np.round(np.asarray(line.coords)[:, ::-1], 5).tolist() for line in lines]
            self._roads[name] = json.dumps({"profile": name, "roads": coordinates}, separators=(",", ":")).encode()
        return self._roads[name]


def json_safe(value: Any) -> Any:
    """Plain JSON values: numpy numbers as Python numbers, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class JSON(JSONResponse):
    """A JSON response whose NaN and infinite numbers are sent as null (JSON has neither)."""

    def render(self, content: Any) -> bytes:
        return super().render(json_safe(content))


def _error(status: int, text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise HTTPException(400, "the request has no body: send a JSON object")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise HTTPException(400, f"the request body is not UTF-8 text: {error}") from None
    except json.JSONDecodeError as error:
        raise HTTPException(400, f"the request body is not valid JSON: {error}") from None


async def _object(request: Request) -> dict[str, Any]:
    data = await _body(request)
    if not isinstance(data, dict):
        raise HTTPException(400, f"the request body must be a JSON object, got {type(data).__name__}")
    return data


def _number(data: dict[str, Any], field: str, what: str) -> float:
    if field not in data:
        raise HTTPException(422, f"field {field!r} is required: {what}")
    value = data[field]
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise HTTPException(422, f"field {field!r} must be a number ({what}), got {value!r}")
    return float(value)


def create_app(
    scenario: Scenario,
    *,
    store: ScenarioStore,
    language: str = "en",
    token: str | None = None,
    basemap: str = "osm",
    basemap_attribution: str | None = None,
    allowed_hosts: list[str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The ASGI application serving a scenario.

    Parameters
    ----------
    scenario : Scenario
    store : ScenarioStore
        Where named scenarios are saved.
    language : {"en", "zh"}
        Default language of the page (``?lang=`` overrides it).
    token : str, optional
        Required on every request when given (header ``X-Token`` or query ``token``).
    basemap : str
        ``osm``, ``none`` or a tile URL (then with ``basemap_attribution``).
    basemap_attribution : str, optional
    allowed_hosts : list of str, optional
        Host names the server answers to (DNS rebinding); default the loopback names.
    max_body_bytes : int
        Largest request body.
    """
    session = Session(
        scenario, store=store, language=language, basemap=basemap, basemap_attribution=basemap_attribution
    )

    def timed(work: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            started = time.perf_counter()
            with scenario.lock:
                result = work()
                result.setdefault("view", scenario.view())
            result["server_ms"] = (time.perf_counter() - started) * 1e3
            return result

        return run

    async def page(request: Request) -> Response:
        lang = request.query_params.get("lang", session.language)
        if lang not in LANGUAGES:
            return _error(422, f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        return HTMLResponse(await run_in_threadpool(session.page, lang))

    async def region(request: Request) -> Response:
        return JSON(await run_in_threadpool(session.region))

    async def roads(request: Request) -> Response:
        profile = request.query_params.get("profile", scenario.settings.profile)
        if profile not in scenario.workspace.profiles:
            return _error(422, f"unknown profile {profile!r}; choose one of {', '.join(scenario.workspace.profiles)}")
        return Response(await run_in_threadpool(session.roads, profile), media_type="application/json")

    async def state(request: Request) -> Response:
        def work() -> dict[str, Any]:
            return {"suggestions": session.suggestions}

        return JSON(await run_in_threadpool(timed(work)))

    async def add(request: Request) -> Response:
        data = await _object(request)
        lon = _number(data, "lon", "WGS84 longitude in degrees")
        lat = _number(data, "lat", "WGS84 latitude in degrees")
        kind, name = data.get("kind"), data.get("name")

        def work() -> dict[str, Any]:
            return {"station": scenario.add(lon, lat, kind=kind, name=name).as_dict()}

        return JSON(await run_in_threadpool(timed(work)), status_code=201)

    def known(station_id: str) -> None:
        if station_id not in scenario.stations:
            new = [s for s in scenario.stations if s.startswith("new-")]
            raise HTTPException(
                404,
                f"no station {station_id!r} in the scenario; new stations are named new-1, new-2... "
                f"(now: {', '.join(new[:10]) or 'none'}); existing ones by their facility id",
            )

    async def move(request: Request) -> Response:
        station_id = request.path_params["station_id"]
        known(station_id)
        data = await _object(request)
        lon = _number(data, "lon", "WGS84 longitude in degrees")
        lat = _number(data, "lat", "WGS84 latitude in degrees")

        def work() -> dict[str, Any]:
            return {"station": scenario.move(station_id, lon, lat).as_dict()}

        return JSON(await run_in_threadpool(timed(work)))

    async def remove(request: Request) -> Response:
        station_id = request.path_params["station_id"]
        known(station_id)

        def work() -> dict[str, Any]:
            return {"station": scenario.remove(station_id).as_dict()}

        return JSON(await run_in_threadpool(timed(work)))

    async def reopen(request: Request) -> Response:
        station_id = request.path_params["station_id"]
        known(station_id)

        def work() -> dict[str, Any]:
            return {"station": scenario.reopen(station_id).as_dict()}

        return JSON(await run_in_threadpool(timed(work)))

    async def settings(request: Request) -> Response:
        data = await _object(request)

        def work() -> dict[str, Any]:
            return {"settings": scenario.update_settings(**data).as_dict()}

        return JSON(await run_in_threadpool(timed(work)))

    async def others(request: Request) -> Response:
        return JSON(await run_in_threadpool(session.other_targets))

    async def suggest(request: Request) -> Response:
        data = await _object(request)
        k = data.get("k")

        def work() -> dict[str, Any]:
            sites = suggest_sites(scenario, k=k)  # type: ignore[arg-type]
            with session.lock:
                session.suggestions = sites
            return {"suggestions": sites}

        return JSON(await run_in_threadpool(work))

    def suggestion(order_text: str) -> dict[str, Any]:
        with session.lock:
            found = [s for s in session.suggestions if str(s["order"]) == order_text]
        if not found:
            shown = ", ".join(str(s["order"]) for s in session.suggestions) or "none: ask for suggestions first"
            raise HTTPException(404, f"no suggested site {order_text!r}; the suggested sites are {shown}")
        return found[0]

    async def accept(request: Request) -> Response:
        chosen = suggestion(request.path_params["order"])

        def work() -> dict[str, Any]:
            station = scenario.add(chosen["lon"], chosen["lat"], name=f"{chosen['name']}"[:120] or None)
            with session.lock:
                session.suggestions = [s for s in session.suggestions if s is not chosen]
            return {"station": station.as_dict(), "suggestions": session.suggestions}

        return JSON(await run_in_threadpool(timed(work)))

    async def reject(request: Request) -> Response:
        chosen = suggestion(request.path_params["order"])
        with session.lock:
            session.suggestions = [s for s in session.suggestions if s is not chosen]
        return JSON({"suggestions": session.suggestions})

    async def scenarios(request: Request) -> Response:
        return JSON({"scenarios": session.store.names()})

    async def save(request: Request) -> Response:
        data = await _object(request)
        name = check_name(data.get("name"))

        def work() -> dict[str, Any]:
            with scenario.lock:
                session.store.save(scenario, name)
                scenario.name = name
            return {"name": name, "scenarios": session.store.names()}

        return JSON(await run_in_threadpool(work), status_code=201)

    async def saved(request: Request) -> Response:
        name = request.path_params["name"]
        data = await run_in_threadpool(session.store.read, name)
        return _geojson(data, f"{check_name(name)}.geojson")

    async def load(request: Request) -> Response:
        name = request.path_params["name"]

        def work() -> dict[str, Any]:
            apply_saved(scenario, session.store.read(name), source=f"saved scenario {name!r}")
            return {}

        return JSON(await run_in_threadpool(timed(work)))

    async def import_(request: Request) -> Response:
        data = await _body(request)

        def work() -> dict[str, Any]:
            apply_saved(scenario, data, source="the uploaded file")
            return {}

        return JSON(await run_in_threadpool(timed(work)))

    async def comparison(request: Request) -> Response:
        names = request.query_params.getlist("name")
        if len(names) > 6:
            return _error(422, f"compare at most 6 saved scenarios at once, got {len(names)}")

        def work() -> dict[str, Any]:
            with scenario.lock:
                settings_now = scenario.settings
                columns = [scenario]
                for name in names:
                    other = Scenario(scenario.workspace, name=name, **_settings(settings_now))
                    saved_name, _, stations = read_scenario_geojson(
                        session.store.read(name), source=f"saved scenario {name!r}"
                    )
                    other.replace_stations(stations)
                    other.name = saved_name
                    columns.append(other)
                return compare(columns)

        return JSON(await run_in_threadpool(work))

    async def export(request: Request) -> Response:
        what = request.path_params["what"]
        lang = request.query_params.get("lang", session.language)
        if lang not in LANGUAGES:
            return _error(422, f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        stem = scenario.name

        def work() -> Response:
            with scenario.lock:
                frozen = scenario.snapshot()
            if what == "report.html":
                return HTMLResponse(report_html(frozen, language=lang))
            if what == "villages.csv":
                return _download(villages_csv(frozen), "text/csv; charset=utf-8", f"{stem}_villages.csv")
            if what == "stations.csv":
                return _download(stations_csv(frozen), "text/csv; charset=utf-8", f"{stem}_stations.csv")
            if what == "scenario.gpkg":
                return _download(scenario_gpkg(frozen), "application/geopackage+sqlite3", f"{stem}.gpkg")
            if what == "scenario.geojson":
                return _geojson(scenario_geojson(frozen), f"{stem}.geojson")
            raise HTTPException(
                404, f"no export {what!r}: report.html, villages.csv, stations.csv, scenario.gpkg, scenario.geojson"
            )

        return await run_in_threadpool(work)

    async def coverage_error(request: Request, error: Exception) -> Response:
        return _error(422, str(error))

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return _error(error.status_code, str(error.detail))

    async def server_error(request: Request, error: Exception) -> Response:
        logger.exception("request %s %s failed", request.method, request.url.path)
        return _error(500, f"the server failed on this request ({type(error).__name__}: {error}); see its log")

    routes = [
        Route("/", page),
        Route("/api/region", region),
        Route("/api/roads", roads),
        Route("/api/state", state),
        Route("/api/settings", settings, methods=["PUT"]),
        Route("/api/stations", add, methods=["POST"]),
        Route("/api/stations/{station_id:path}", move, methods=["PATCH"]),
        Route("/api/stations/{station_id:path}", remove, methods=["DELETE"]),
        Route("/api/reopen/{station_id:path}", reopen, methods=["POST"]),
        Route("/api/targets/others", others),
        Route("/api/suggest", suggest, methods=["POST"]),
        Route("/api/suggestions/{order}/accept", accept, methods=["POST"]),
        Route("/api/suggestions/{order}/reject", reject, methods=["POST"]),
        Route("/api/scenarios", scenarios),
        Route("/api/scenarios", save, methods=["POST"]),
        Route("/api/scenarios/import", import_, methods=["POST"]),
        Route("/api/scenarios/{name}", saved),
        Route("/api/scenarios/{name}/load", load, methods=["POST"]),
        Route("/api/compare", comparison),
        Route("/api/export/{what}", export),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        CoverageError: coverage_error,
        HTTPException: http_error,
        Exception: server_error,
    }
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOOPBACK_HOSTS),
            Middleware(Guard, token=token),
            Middleware(BodyLimit, max_bytes=max_body_bytes),
        ],
        exception_handlers=handlers,
    )


def _settings(settings: Any) -> dict[str, Any]:
    return {
        "profile": settings.profile,
        "direction": settings.direction,
        "minutes": settings.minutes,
        "standard": settings.standard,
        "kinds": settings.kinds,
        "new_kind": settings.new_kind,
    }


def _download(data: bytes, media_type: str, filename: str) -> Response:
    from urllib.parse import quote

    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


def _geojson(data: dict[str, Any], filename: str) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return _download(body, "application/geo+json", filename)
