"""The report's ambulance section: [ems] in the run configuration, on the real Mwali island."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from coverage._errors import ConfigError
from coverage.io.osm import facilities_from_osm
from coverage.reports.config import load_run_config
from coverage.reports.report import REPORT_HTML, run_report
from tests.conftest import COMOROS_PBF, COMOROS_RASTER, INPUT

MWALI = INPUT / "mwali_boundary.geojson"


def _rel(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


def _config(folder: Path, ems: str) -> Path:
    path = folder / "county.toml"
    path.write_text(
        f"""\
name = "Mwali"

[inputs]
osm = "{_rel(COMOROS_PBF, folder)}"
boundary = "{_rel(MWALI, folder)}"
facilities = "stations.csv"
population = "{_rel(COMOROS_RASTER, folder)}"

[analysis]
profile = "ambulance"
ems = true
minutes = [12, 30]
cache_dir = "cache"

[check]
standards = ["dongxihu"]

[ems]
{ems}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ems_county")
    boundary = gpd.read_file(MWALI).geometry.union_all()
    facilities = facilities_from_osm(COMOROS_PBF, boundary=boundary)
    hospitals = facilities[facilities["kind"] == "hospital"]
    stations = pd.DataFrame(
        {
            "id": "ems-" + hospitals["id"],
            "name": hospitals["name"],
            "kind": "ems",
            "lon": hospitals.geometry.x,
            "lat": hospitals.geometry.y,
            "ambulances": 2,
            "negative_pressure": 1,
            "smart": 2,
        }
    )
    table = pd.concat(
        [
            stations,
            pd.DataFrame(
                {
                    "id": hospitals["id"],
                    "name": hospitals["name"],
                    "kind": "hospital",
                    "lon": hospitals.geometry.x,
                    "lat": hospitals.geometry.y,
                    "ambulances": 0,
                    "negative_pressure": 0,
                    "smart": 0,
                }
            ),
        ]
    )
    table.to_csv(folder / "stations.csv", index=False)
    return folder


def test_the_report_has_an_ambulance_section_and_judges_call_satisfaction(folder):
    config = load_run_config(
        _config(folder, "simulate = true\nresponse_minutes = 12\nreplications = 3\nseed = 4\non_scene_minutes = 20")
    )
    assert config.ems_simulation["threshold_minutes"] == 12
    assert config.ems_simulation["on_scene_minutes"] == 20
    result = run_report(config)
    page = (result.folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "Ambulances: calls answered in time" in page
    assert "Calls dispatched without waiting (call satisfaction)" in page
    assert (result.folder / "ems.json").is_file()
    assert (result.folder / "ems_villages.csv").is_file()
    summary = json.loads((result.folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["ems"]["simulation"]["figures"]["dispatched_without_wait_share"]["replications"] == 3
    targets = result.targets.set_index("target")
    # judged on the simulation, not "cannot evaluate"
    assert targets.loc["call_satisfaction_96", "status"] in ("pass", "fail")
    assert targets.loc["negative_pressure_share_40", "status"] == "pass"  # 1 of 2 at every station
    assert targets.loc["smart_share_80", "status"] == "pass"


def test_ems_settings_are_checked_with_file_and_key(folder):
    with pytest.raises(ConfigError, match=r"ems.transport_share|transport_share"):
        load_run_config(_config(folder, "simulate = true\ntransport_share = 75"))
    with pytest.raises(ConfigError, match="did you mean"):
        load_run_config(_config(folder, "simulate = true\nreplicatons = 3"))
