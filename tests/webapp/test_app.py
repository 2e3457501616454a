"""The web app over real HTTP: uvicorn serving the Starlette app in a thread, spoken to with urllib and http.client."""

from __future__ import annotations

import http.client
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pandas as pd
import pyogrio
import pytest
import shapely

from coverage.webapp.app import create_app
from coverage.webapp.files import ScenarioStore
from coverage.webapp.scenario import Scenario
from coverage.webapp.server import ServerThread, is_loopback

CHANGE = {"X-Requested-With": "facility-coverage"}


class Client:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None, raw: bool = False
    ) -> tuple[int, Any]:
        sent = {**CHANGE, **(headers or {})}
        if self.token:
            sent.setdefault("X-Token", self.token)
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.url + path.lstrip("/"), data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        if raw:
            return status, payload
        return status, json.loads(payload) if payload else None

    def view(self) -> dict[str, Any]:
        status, data = self.call("GET", "/api/state")
        assert status == 200
        return data["view"]


@pytest.fixture(scope="module")
def served(mwali_workspace, tmp_path_factory):
    scenario = Scenario(mwali_workspace, minutes=15, standard="suizhou")
    store = ScenarioStore(tmp_path_factory.mktemp("scenarios"))
    app = create_app(scenario, store=store, basemap="none")
    with ServerThread(app) as server:
        yield Client(server.url), scenario


def _inland(workspace, dx: float = 0.0, dy: float = 0.0) -> dict[str, float]:
    x, y = shapely.get_coordinates(workspace.outline.representative_point())[0]
    return {"lon": float(x + dx), "lat": float(y + dy)}


def test_the_page_is_served_self_contained(served):
    client, _ = served
    status, page = client.call("GET", "/", raw=True)
    assert status == 200
    text = page.decode("utf-8")
    assert "What-if siting: Mwali" in text
    assert "<script src=" not in text
    assert 'rel="stylesheet"' not in text
    status, page = client.call("GET", "/?lang=zh", raw=True)
    assert "选址推演" in page.decode("utf-8")
    status, region = client.call("GET", "/api/region")
    assert status == 200
    assert len(region["villages"]) == 18
    assert "OpenStreetMap contributors" in region["attribution"]
    status, roads = client.call("GET", "/api/roads?profile=car")
    assert status == 200
    assert len(roads["roads"]) == len(client.view()["road_bands"])


def test_edits_answer_with_the_new_figures(served, mwali_workspace):
    client, scenario = served
    before = client.view()
    status, added = client.call("POST", "/api/stations", {**_inland(mwali_workspace), "kind": "ems", "name": "Nord"})
    assert status == 201
    station = added["station"]
    assert station["id"].startswith("new-")
    assert added["view"]["version"] == before["version"] + 1
    assert added["server_ms"] > 0
    status, moved = client.call("PATCH", f"/api/stations/{station['id']}", _inland(mwali_workspace, 0.03, 0.01))
    assert status == 200
    assert moved["station"]["lon"] == pytest.approx(_inland(mwali_workspace, 0.03)["lon"])
    existing = next(s for s in before["stations"] if s["origin"] == "existing")
    # existing ids hold a slash (node/123): quoted in the path
    status, closed = client.call("DELETE", f"/api/stations/{urllib.parse.quote(existing['id'], safe='')}")
    assert status == 200
    assert closed["station"]["open"] is False
    status, reopened = client.call("POST", f"/api/reopen/{urllib.parse.quote(existing['id'], safe='')}")
    assert status == 200
    assert reopened["station"]["open"] is True
    status, removed = client.call("DELETE", f"/api/stations/{station['id']}")
    assert status == 200
    after = removed["view"]
    assert after["thresholds"] == before["thresholds"]
    assert after["targets"] == before["targets"]
    assert station["id"] not in scenario.stations


BAD_REQUESTS = [
    ("POST", "/api/stations", b'{"lon": 43.7, "lat": ', {}, 400, "not valid JSON"),
    ("POST", "/api/stations", b"[43.7, -12.3]", {}, 400, "must be a JSON object"),
    ("POST", "/api/stations", b"\xff\xfe", {}, 400, "not UTF-8"),
    ("POST", "/api/stations", b"", {}, 400, "has no body"),
    ("POST", "/api/stations", {"lat": -12.3}, {}, 422, "field 'lon' is required"),
    ("POST", "/api/stations", {"lon": "43.7", "lat": -12.3}, {}, 422, "field 'lon' must be a number"),
    ("POST", "/api/stations", {"lon": 2.35, "lat": 48.85}, {}, 422, "outside the region Mwali"),
    ("POST", "/api/stations", {"lon": 400.0, "lat": -12.3}, {}, 422, "are not coordinates"),
    ("POST", "/api/stations", {"lon": 43.7, "lat": -12.3, "kind": 5}, {}, 422, "kind must be text"),
    ("PATCH", "/api/stations/new-99", {"lon": 43.7, "lat": -12.3}, {}, 404, "no station 'new-99'"),
    ("DELETE", "/api/stations/node%2F1", None, {}, 404, "no station 'node/1'"),
    ("POST", "/api/reopen/new-99", None, {}, 404, "no station 'new-99'"),
    ("PUT", "/api/settings", {"minutes": 0}, {}, 422, "minutes must be a number above 0"),
    ("PUT", "/api/settings", {"direction": "sideways"}, {}, 422, "direction must be one of"),
    ("POST", "/api/stations", {"lon": 43.7, "lat": -12.3}, {"X-Requested-With": ""}, 403, "must carry the header"),
    ("POST", "/api/suggest", {"k": 0}, {}, 422, "k must be a whole number"),
    ("POST", "/api/suggestions/7/accept", None, {}, 404, "no suggested site '7'"),
    ("POST", "/api/scenarios", {"name": "../../x"}, {}, 422, "is not allowed"),
    ("POST", "/api/scenarios/nothing-saved/load", None, {}, 422, "no saved scenario 'nothing-saved'"),
    ("POST", "/api/scenarios/import", {"type": "Feature"}, {}, 422, "not a saved scenario"),
    ("GET", "/api/export/secrets.txt", None, {}, 404, "no export 'secrets.txt'"),
    ("GET", "/api/roads?profile=rocket", None, {}, 422, "unknown profile 'rocket'"),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "text"), BAD_REQUESTS)
def test_a_bad_request_gets_a_clear_4xx_and_changes_nothing(served, method, path, body, headers, status, text):
    client, _ = served
    before = client.view()
    got, answer = client.call(method, path, body, headers=headers)
    assert got == status, answer
    assert text in answer["error"]
    assert client.view() == before


def test_an_oversized_body_is_refused_by_its_length(served):
    """The answer comes before the body is read (the client may still be sending it)."""
    client, _ = served
    before = client.view()
    parsed = urllib.parse.urlsplit(client.url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    connection.putrequest("POST", "/api/stations")
    for name, value in {**CHANGE, "Content-Type": "application/json", "Content-Length": "5000000"}.items():
        connection.putheader(name, value)
    connection.endheaders(b'{"lon": 43.7, ')
    response = connection.getresponse()
    assert response.status == 413
    assert "larger than 1,000,000 bytes" in json.loads(response.read())["error"]
    connection.close()
    assert client.view() == before


def test_a_streamed_oversized_body_is_refused(served):
    """No Content-Length (chunked): the body is counted as it arrives."""
    client, _ = served
    before = client.view()
    parsed = urllib.parse.urlsplit(client.url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    chunks = (b" " * 100_000 for _ in range(15))
    connection.request(
        "POST",
        "/api/stations",
        body=chunks,
        headers={**CHANGE, "Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 413
    assert "larger than" in json.loads(response.read())["error"]
    connection.close()
    assert client.view() == before


def test_a_token_guards_a_server_others_can_reach(mwali_workspace, tmp_path):
    scenario = Scenario(mwali_workspace, minutes=30)
    app = create_app(scenario, store=ScenarioStore(tmp_path), token="s3cret-token-1234", allowed_hosts=["*"])
    with ServerThread(app) as server:
        anonymous = Client(server.url)
        status, answer = anonymous.call("GET", "/api/state")
        assert status == 403
        assert "access token" in answer["error"]
        status, _ = anonymous.call("GET", "/", raw=True)
        assert status == 403
        status, _ = anonymous.call("GET", "/?token=s3cret-token-1234", raw=True)
        assert status == 200
        assert Client(server.url, token="wrong-token-123456").call("GET", "/api/state")[0] == 403
        assert Client(server.url, token="s3cret-token-1234").call("GET", "/api/state")[0] == 200
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.20")


def test_a_foreign_host_name_is_refused(served):
    """DNS rebinding: a page of another site resolving its name to 127.0.0.1 gets nothing."""
    client, _ = served
    status, _ = client.call("GET", "/api/state", headers={"Host": "evil.example"}, raw=True)
    assert status == 400


def test_suggested_sites_can_be_accepted_or_rejected(served):
    client, _scenario = served
    before = client.view()
    status, answer = client.call("POST", "/api/suggest", {"k": 2})
    assert status == 200
    sites = answer["suggestions"]
    assert [s["order"] for s in sites] == [1, 2]
    assert sites[0]["population_gain"] >= sites[1]["population_gain"] > 0
    assert sites[0]["status"] == "optimal"
    status, answer = client.call("POST", "/api/suggestions/2/reject")
    assert [s["order"] for s in answer["suggestions"]] == [1]
    status, answer = client.call("POST", "/api/suggestions/1/accept")
    assert status == 200
    assert answer["suggestions"] == []
    added = answer["station"]
    assert (added["lon"], added["lat"]) == (sites[0]["lon"], sites[0]["lat"])
    circle = {row["minutes"]: row for row in answer["view"]["thresholds"]}[15.0]
    was = {row["minutes"]: row for row in before["thresholds"]}[15.0]
    # the MCLP's gain is what the page then shows (cells within the circle of the scenario's stations)
    assert circle["population_covered"] - was["population_covered"] == pytest.approx(
        sites[0]["population_gain"], rel=1e-6
    )
    client.call("DELETE", f"/api/stations/{added['id']}")


def test_scenarios_save_reload_compare_and_export(served, mwali_workspace, tmp_path):
    client, _scenario = served
    status, added = client.call("POST", "/api/stations", {**_inland(mwali_workspace), "name": "Ouest 西"})
    assert status == 201
    status, saved = client.call("POST", "/api/scenarios", {"name": "ouest"})
    assert status == 201
    assert "ouest" in saved["scenarios"]
    with_station = client.view()
    client.call("DELETE", f"/api/stations/{added['station']['id']}")
    status, loaded = client.call("POST", "/api/scenarios/ouest/load")
    assert status == 200
    assert loaded["view"]["thresholds"] == with_station["thresholds"]
    assert loaded["view"]["stations"] == with_station["stations"]
    status, comparison = client.call("GET", "/api/compare?name=ouest")
    assert status == 200
    assert [c["name"] for c in comparison["scenarios"]] == ["ouest", "ouest"]
    assert comparison["scenarios"][0]["thresholds"] == comparison["scenarios"][1]["thresholds"]

    status, page = client.call("GET", "/api/export/report.html?lang=zh", raw=True)
    assert status == 200
    text = page.decode("utf-8")
    assert "情景：ouest" in text
    assert "相对现状" in text
    assert "<script src=" not in text
    status, csv = client.call("GET", "/api/export/villages.csv", raw=True)
    assert csv.startswith(b"\xef\xbb\xbf")
    villages = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert len(villages) == 18
    assert "within_15_min" in villages
    status, csv = client.call("GET", "/api/export/stations.csv", raw=True)
    stations = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert "Ouest 西" in set(stations["name"])
    status, gpkg = client.call("GET", "/api/export/scenario.gpkg", raw=True)
    assert status == 200
    (tmp_path / "scenario.gpkg").write_bytes(gpkg)
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "scenario.gpkg")}
    assert layers == {"stations", "villages", "uncovered_villages", "isochrones"}
    status, geojson = client.call("GET", "/api/export/scenario.geojson", raw=True)
    status, imported = client.call("POST", "/api/scenarios/import", geojson)
    assert status == 200
    assert imported["view"]["stations"] == with_station["stations"]
