"""The package as users install it: a built wheel, in a fresh environment outside the repository.

The wheel must carry its data (speed profiles, standards, kind maps, the road-class
table, the seed-region presets, the default region); an editable install would find them in the
checkout and hide a wheel that does not. The fresh environment borrows the project
environment's dependencies (a ``.pth`` file naming its site-packages, so nothing is
downloaded) but not the project: the checkout is neither on its path nor its working
directory, and the test checks that ``coverage`` is imported from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.wheel]

#: What a release is built from: the package, the data folder mapped into it, the build files.
SOURCES = ("coverage", "data", "pyproject.toml", "setup.py", "README.md")


def _run(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh environment with the wheel installed, and the environment variables to run it with."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "FACILITY_COVERAGE_DATA")}
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(root / "dist"), str(source)],
        cwd=root,
        env=env,
    )
    wheels = list((root / "dist").glob("facility_coverage-*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root, env=env)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root, env=env
        ).stdout.strip()
    )
    # the dependencies of the project environment, not the project itself (an editable install's finder is not run)
    (site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheels[0])],
        cwd=root,
        env=env,
    )
    shutil.rmtree(source)  # nothing of the sources is left to find
    return venv, env


def _command(venv: Path) -> str:
    return str(venv / ("Scripts/facility-coverage.exe" if os.name == "nt" else "bin/facility-coverage"))


def test_the_wheel_is_imported_with_its_own_data(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    venv, env = installed
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    script = """
import json, coverage
from coverage._config import DATA_DIR
from coverage.io.gis_roads import DEFAULT_ROAD_CLASSES
from coverage.io.kinds import list_kind_maps
from coverage.io.regions import REGION_PRESETS, default_region, region_preset_path
from coverage.network.profiles import list_profiles
from coverage.standards.standard import list_standards
region = default_region()
print(json.dumps({
    "module": coverage.__file__,
    "data": str(DATA_DIR),
    "road_classes": DEFAULT_ROAD_CLASSES.is_file(),
    "presets": [region_preset_path(name).is_file() for name in REGION_PRESETS],
    "profiles": list_profiles(),
    "standards": list_standards(),
    "kind_maps": list_kind_maps(),
    "region": [str(p) for p in (region.osm, region.population, region.zones, region.population_totals)],
}))
"""
    found = json.loads(_run([str(python), "-c", script], cwd=tmp_path, env=env).stdout)
    assert Path(found["module"]).is_relative_to(venv), found["module"]
    assert not Path(found["data"]).is_relative_to(REPO)
    assert Path(found["data"]).is_relative_to(venv)
    assert found["road_classes"]
    assert all(found["presets"])
    assert found["profiles"] == ["ambulance", "car", "walk"]
    assert found["standards"] == ["dongxihu", "kaijiang", "lianzhou", "suizhou", "yiyang"]
    assert found["kind_maps"] == ["amap", "zh"]
    assert all(Path(path).is_file() and Path(path).is_relative_to(venv) for path in found["region"])


def test_standards_list_from_the_wheel(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    venv, env = installed
    printed = _run([_command(venv), "standards", "list"], cwd=tmp_path, env=env).stdout
    for name in ("suizhou", "dongxihu", "lianzhou", "yiyang", "kaijiang"):
        assert name in printed


def test_analyze_from_the_wheel_runs_the_main_job(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    venv, env = installed
    printed = _run(
        [_command(venv), "analyze", "--out", "out", "--no-facility-isochrones"], cwd=tmp_path, env=env
    ).stdout
    assert "within 30 min" in printed
    assert "OpenStreetMap contributors" in printed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["population"]["calibration"]["units_calibrated"] == 3
    zones = (
        pd.read_csv(tmp_path / "out" / "zones.csv", encoding="utf-8-sig").groupby("zone")["population_total"].first()
    )
    assert zones["Anjouan"] > zones["Moheli"]
