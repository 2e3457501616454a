"""Coverage maps: the HTML page's content and files (browser checks in test_map_browser.py)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

from coverage._errors import InputError
from coverage.analysis.result import covered_column
from coverage.outputs.maps import (
    BAND_COLOURS,
    DataLayer,
    coverage_map,
    covered_mask,
    isochrone_bands,
    map_html,
    place_limits,
    save_map,
)
from coverage.outputs.static_map import draw_static_map
from tests.conftest import HOSTILE_KIND, HOSTILE_NAME


def _layers(m) -> dict[str, DataLayer]:
    return {child.key.strip('"'): child for child in m._children.values() if isinstance(child, DataLayer)}


def test_every_layer_holds_all_of_its_data(hostile_analysis, hostile_map):
    layers = _layers(hostile_map)
    analysis = hostile_analysis
    villages = next(layer for name, layer in layers.items() if name.startswith("Villages"))
    assert villages.count == len(analysis.villages)
    facility_layers = [layer for name, layer in layers.items() if name.startswith("Facilities")]
    assert sum(layer.count for layer in facility_layers) == len(analysis.facilities)
    assert len(facility_layers) == analysis.facilities["kind"].nunique()
    # the travel-time surface is a picture, not band polygons; the outlines and catchments are layers
    assert not [name for name in layers if name.startswith("Isochrone band")]
    zones = layers["Admin units by covered share"]
    assert zones.count == len(analysis.zones)
    assert layers["Admin boundaries"].count == len(analysis.zones)
    catchments = next(layer for name, layer in layers.items() if name.startswith("Catchments"))
    assert catchments.count == analysis.catchments.geometry.notna().sum()
    page = map_html(hostile_map)
    assert page.count("data:image/png;base64,iVBOR") >= 2  # the surface and the people-outside overlay
    assert "Travel time to the nearest facility (car)" in page


def test_village_colours_follow_the_threshold(hostile_analysis):
    villages = hostile_analysis.villages
    for minutes in hostile_analysis.minutes:
        limits = place_limits(hostile_analysis, villages, minutes=minutes)
        assert (covered_mask(villages, limits) == villages[covered_column(minutes)].to_numpy()).all()
    m = coverage_map(hostile_analysis, minutes=15, basemap="none")
    name = next(name for name in _layers(m) if name.startswith("Villages"))
    assert name == f"Villages: {int(villages['covered_15'].sum())} covered, {int((~villages['covered_15']).sum())} not"


def test_bands_are_disjoint_and_fill_the_outer_isochrone(hostile_analysis):
    bands = isochrone_bands(hostile_analysis, simplify_m=20)
    assert [colour for _, _, colour in bands] == list(BAND_COLOURS[: len(bands)])
    geometries = [geometry for _, geometry, _ in bands]
    for i, a in enumerate(geometries):
        for b in geometries[i + 1 :]:
            assert shapely.intersection(a, b).area < 1.0  # m², boundary slivers only
    # together they are the outer isochrone, up to simplification
    iso = hostile_analysis.isochrones.to_crs(hostile_analysis.network.crs)
    simplified = shapely.union_all([shapely.simplify(g, 20) for g in iso.geometry])
    assert sum(g.area for g in geometries) == pytest.approx(simplified.area, rel=1e-3)
    outer = iso[iso["minutes"] == max(hostile_analysis.minutes)].geometry.union_all()
    assert simplified.area == pytest.approx(outer.area, rel=0.03)
    assert shapely.symmetric_difference(simplified, outer).area < 0.05 * outer.area


def test_the_page_is_self_contained(hostile_map):
    page = map_html(hostile_map)
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=\"https?:", page)
    assert "cdn.jsdelivr" not in page
    assert "jquery" not in page.lower()
    assert 'version="1.9.4"' in page or "1.9.4" in page  # Leaflet inlined
    assert "data:image/png;base64" in page  # Leaflet's control images inlined too


def test_without_self_contained_the_page_links_leaflet(hostile_map):
    page = map_html(hostile_map, self_contained=False)
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"></script>' in page


@pytest.mark.parametrize("basemap", ["osm", "none"])
def test_data_credits_are_on_every_map(hostile_analysis, basemap):
    page = map_html(coverage_map(hostile_analysis, basemap=basemap))
    assert "OpenStreetMap contributors" in page
    assert "WorldPop" in page
    assert ("tile.openstreetmap.org" in page) == (basemap == "osm")


def test_a_custom_basemap_needs_its_credit(hostile_analysis):
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    with pytest.raises(InputError, match="attribution"):
        coverage_map(hostile_analysis, basemap=url)
    with pytest.raises(InputError, match=r"\{z\}"):
        coverage_map(hostile_analysis, basemap="satellite")
    page = map_html(coverage_map(hostile_analysis, basemap=url, basemap_attribution="Tiles <Example>"))
    assert url in page
    assert "Tiles <Example>" not in page
    assert "Tiles \\u0026lt;Example\\u0026gt;" in page


def test_untrusted_names_never_reach_the_page_as_markup(hostile_map):
    page = map_html(hostile_map)
    assert HOSTILE_NAME not in page
    assert "<img src=x" not in page
    assert HOSTILE_KIND not in page
    assert "</script><script>window.__xss" not in page
    # the names are there, escaped for the script they sit in
    assert "\\u003cimg src=x onerror=" in page


def test_candidate_sites_are_drawn_in_order(hostile_analysis):
    villages = hostile_analysis.villages
    uncovered = villages[~villages["covered_30"]].head(2)
    sites = gpd.GeoDataFrame(
        {"site_id": ["s1", "s2"], "name": ["east", HOSTILE_NAME], "order": [1, 2], "population_gain": [1200.0, 300.0]},
        geometry=list(uncovered.geometry) if len(uncovered) == 2 else list(villages.geometry.head(2)),
        crs=4326,
    )
    m = coverage_map(hostile_analysis, sites=sites, basemap="none")
    layer = _layers(m)["Candidate sites (2)"]
    assert layer.count == 2
    assert HOSTILE_NAME not in map_html(m)


def test_the_map_stays_small(hostile_map, tmp_path):
    size = save_map(hostile_map, tmp_path / "mwali.html")
    assert size == (tmp_path / "mwali.html").stat().st_size
    assert size < 2_000_000  # one island; the whole default region stays under 10 MB (checked by .ci/run)


def test_save_map_keeps_the_previous_file_when_it_fails(hostile_map, tmp_path):
    path = tmp_path / "map.html"
    path.write_text("earlier map", encoding="utf-8")
    with pytest.raises(InputError, match=r"\.html"):
        save_map(hostile_map, tmp_path / "map.txt")
    assert path.read_text(encoding="utf-8") == "earlier map"
    assert not list(tmp_path.glob(".*partial"))


def test_bad_minutes_are_refused(hostile_analysis):
    with pytest.raises(InputError, match="positive"):
        coverage_map(hostile_analysis, minutes=0)


def test_static_map_is_a_picture_with_the_gaps(hostile_analysis, tmp_path):
    path = draw_static_map(hostile_analysis, tmp_path / "gaps.png", minutes=15, dpi=60)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (round(11.7 * 60), round(8.3 * 60))
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    # the uncovered-village red and the nearest band's green (60% over white) are drawn
    assert (np.abs(pixels - np.array([0xE3, 0x1A, 0x1C])).sum(axis=1) < 30).any()
    band = 0.6 * np.array([0x00, 0x6D, 0x2C]) + 0.4 * 255
    assert (np.abs(pixels - band).sum(axis=1) < 30).any()
    with pytest.raises(InputError, match=r"\.png"):
        draw_static_map(hostile_analysis, tmp_path / "gaps.jpg")


#: Words of the English map that must not appear on a Chinese one (names from OSM aside).
ENGLISH_MAP_WORDS = re.compile(
    r"\b(Villages|Facilities|covered|Travel time|Catchments?|Admin|Population|Nearest facility|Minutes|Within|"
    r"Off network|hospital|pass|FAIL|assumed|cannot evaluate|not applicable|People outside|health-facility)\b"
)


def _visible_text(m) -> str:
    """The words a reader sees: title, legend, layer names, tooltips and popups (not the scripts or the credits)."""
    import json
    from html import unescape

    root = m.get_root()
    boxes = [child.render() for name, child in root.html._children.items() if name in ("fc_title", "fc_legend")]
    words = [unescape(re.sub(r"<[^>]+>", " ", box)) for box in boxes]
    for child in m._children.values():
        if getattr(child, "layer_name", None):
            words.append(unescape(child.layer_name))
        if isinstance(child, DataLayer):
            for item in json.loads(child.data)["features"]:
                properties = item["properties"]
                words.append(properties.get("tooltip", ""))
                if "popup" in properties:
                    title, rows = properties["popup"]
                    words.extend([title, *(part for row in rows for part in row)])
    return "\n".join(words)


def test_the_chinese_map_has_no_english_words(hostile_analysis):
    m = coverage_map(hostile_analysis, minutes=15, basemap="none", lang="zh")
    layers = _layers(m)
    assert any(name.startswith("村庄：覆盖") for name in layers)
    assert any(name.startswith("医疗机构：医院") for name in layers)
    assert "各行政区覆盖比例" in layers
    seen = _visible_text(m)
    assert "医疗机构服务覆盖" in seen
    assert "到最近机构的出行时间（小汽车）" in seen
    assert "15–30 分钟" in map_html(m)  # the classes of the surface's popup
    # popups' row headings
    for heading in ("人口", "行政区", "最近机构", "用时（分钟）", "是否在时限内", "远离路网", "类别"):
        assert f"\n{heading}\n" in seen, heading
    # the names of the fixture are OSM's and the user's own text, not the map's words
    names = [*hostile_analysis.villages["name"], *hostile_analysis.facilities["name"], HOSTILE_KIND]
    for name in sorted(map(str, names), key=len, reverse=True):
        seen = seen.replace(name, "")
    assert not ENGLISH_MAP_WORDS.findall(seen)


def test_the_chinese_static_map_uses_a_chinese_font_and_says_when_there_is_none(
    hostile_analysis, tmp_path, monkeypatch, caplog, recwarn
):
    from coverage.outputs import static_map

    family = static_map._font_family()
    if family[0] not in static_map.CJK_FONTS:
        pytest.fail("no Chinese font installed: .ci/run installs fonts-wqy-zenhei (or install fonts-noto-cjk)")
    with caplog.at_level("WARNING"):
        draw_static_map(hostile_analysis, tmp_path / "zh.png", minutes=15, dpi=60, lang="zh")
    assert not [r for r in caplog.records if "Chinese font" in r.getMessage() or "findfont" in r.getMessage()]
    caplog.clear()
    # a machine without one: a single warning with the fix, none of matplotlib's per-glyph ones
    monkeypatch.setattr(static_map, "_font_family", lambda: ["DejaVu Sans"])
    with caplog.at_level("WARNING"):
        draw_static_map(hostile_analysis, tmp_path / "boxes.png", minutes=15, dpi=60, lang="zh")
    said = [r.getMessage() for r in caplog.records if "no Chinese font" in r.getMessage()]
    assert len(said) == 1
    assert "fonts-noto-cjk" in said[0]
    assert "boxes.png" in said[0]
    assert not [w for w in recwarn if "Glyph" in str(w.message)]
    # an English map needs no Chinese font
    caplog.clear()
    draw_static_map(hostile_analysis, tmp_path / "en.png", minutes=15, dpi=60)
    assert not [r for r in caplog.records if "no Chinese font" in r.getMessage()]
