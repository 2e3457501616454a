"""``facility-coverage serve``: started for real as a user would, and its refusals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from coverage.cli.main import main
from tests.conftest import COMOROS_PBF, COMOROS_RASTER, MWALI_BOUNDARY, REPO


def test_serve_starts_prints_its_address_and_stops_on_ctrl_c(tmp_path):
    command = [
        sys.executable,
        "-m",
        "coverage",
        "serve",
        str(COMOROS_PBF),
        "--boundary",
        str(MWALI_BOUNDARY),
        "--population",
        str(COMOROS_RASTER),
        "--standard",
        "lianzhou",
        "--name",
        "Mwali",
        "--port",
        "0",
        "--scenarios",
        str(tmp_path / "scenarios"),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert "Mwali: what-if siting at http://127.0.0.1:" in line, line or server.stderr.read()
        url = line.split(" at ")[1].split()[0]
        assert "OpenStreetMap contributors" in server.stdout.readline()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "api/state", timeout=30) as response:
                    state = json.loads(response.read())
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert state["view"]["settings"]["standard"] == "lianzhou"
        assert [t["target"] for t in state["view"]["targets"]] == ["households_15min"]
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_taken_port_is_refused_before_loading(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.perf_counter()
        assert main(["serve", "--port", str(port)]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--host", "0.0.0.0", "--token", "short"], "--token must be at least 12 characters"),
        (["--config", "county.toml", str(COMOROS_PBF)], "--config gives the region"),
        (["--basemap", "https://example.org/tiles.png"], "expected osm, none or a tile URL"),
        (["--basemap", "https://example.org/{z}/{x}/{y}.png"], "needs its attribution"),
    ],
)
def test_bad_options_are_refused(capsys, args, text):
    assert main(["serve", *args]) == 2
    assert text in capsys.readouterr().err


def test_the_help_says_how_to_use_the_page(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for words in ("the page:", "access:", "examples:", "exit status:", "--token", "--lang", "--scenarios"):
        assert words in text
    assert os.sep + "work" not in text
