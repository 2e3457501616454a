"""Random garbage in every file option of ``analyze``: always exit 2, one line naming the file, no traceback.

The road network is the small real Fomboni extract, so each example takes well
under a second; the number of examples is bounded to keep the suite fast.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage.cli.main import main
from coverage.io.osm import places_from_osm
from tests.conftest import COMOROS_PBF, INPUT

FOMBONI = INPUT / "fomboni.osm"

#: Each file option of analyze, with the file endings a user might give it.
FILE_OPTIONS = {
    "OSM_FILE": (".osm.pbf", ".osm", ".osm.bz2", ".graphml", ".gpkg"),
    "--facilities": (".csv", ".geojson", ".gpkg", ".shp", ".txt"),
    "--villages": (".csv", ".geojson", ".gpkg", ".tsv"),
    "--population": (".tif",),
    "--zones": (".geojson", ".gpkg", ".shp"),
    "--boundary": (".geojson", ".gpkg"),
}

_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
#: Bytes of any kind, text of any kind, and text shaped like the formats (tables, JSON) with nonsense inside.
garbage = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=400).map(lambda t: t.encode("utf-8")),
    st.lists(st.lists(_cells, min_size=1, max_size=5), min_size=1, max_size=6).map(
        lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8")
    ),
    st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False) | _cells,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_cells, inner, max_size=4),
        max_leaves=12,
    ).map(lambda value: json.dumps({"type": "FeatureCollection", "features": value}).encode("utf-8")),
)


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """Outputs of a good run on the Fomboni extract (with the real villages around it), and its options."""
    folder = tmp_path_factory.mktemp("garbage")
    places = places_from_osm(COMOROS_PBF, boundary=shapely.box(43.70, -12.32, 43.80, -12.25))
    villages = folder / "villages.csv"
    table = pd.DataFrame(
        {"id": places["id"], "name": places["name"], "lon": places.geometry.x, "lat": places.geometry.y}
    )
    table.to_csv(villages, index=False)
    out = folder / "out"
    options = {"--villages": str(villages), "--cache-dir": str(folder / "cache")}
    args = ["analyze", str(FOMBONI), *(part for item in options.items() for part in item), "--no-facility-isochrones"]
    assert main([*args, "--out", str(out), "-q"]) == 0
    return out, options, {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.mark.parametrize("option", list(FILE_OPTIONS))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=garbage, data=st.data())
def test_garbage_in_any_file_option_is_a_clean_error(option, content, data, earlier, tmp_path, capsys):
    out, options, before = earlier
    suffix = data.draw(st.sampled_from(FILE_OPTIONS[option]))
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(content)
    network = str(path) if option == "OSM_FILE" else str(FOMBONI)
    given = {**options, **({} if option == "OSM_FILE" else {option: str(path)})}
    capsys.readouterr()
    args = [network, *(part for item in given.items() for part in item), "--no-facility-isochrones"]
    code = main(["analyze", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert "not expected" not in err  # worded by the library, not caught by the safety net
    lines = [line for line in err.splitlines() if line.startswith("facility-coverage analyze: error:")]
    assert len(lines) == 1, err
    assert path.name in lines[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
