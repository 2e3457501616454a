"""Static coverage maps (PNG) for printed reports, drawn with matplotlib.

The same gaps as the HTML map, in the network's projected CRS (metres): the
travel-time surface in its colour classes (isochrone bands when there is no
surface), where the uncovered people live (with its density scale), villages
outside the circle, facilities, candidate sites, admin outlines, with a legend,
scale bar, north arrow and the data credits. No basemap: the page prints the same
with no network.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from coverage._errors import InputError
from coverage._i18n import kind_name, profile_name, text
from coverage.analysis.result import Analysis
from coverage.outputs.classes import class_picture, hex_to_rgb, time_classes
from coverage.outputs.maps import (
    COVERED_COLOUR,
    DEFAULT_SIMPLIFY_M,
    FACILITY_ICONS,
    OTHER_ICON,
    SITE_COLOUR,
    UNCOVERED_COLOUR,
    covered_mask,
    headline,
    isochrone_bands,
    place_limits,
)

if TYPE_CHECKING:
    from coverage.standards.assessment import Assessment

logger = logging.getLogger(__name__)

#: matplotlib marker per icon shape of :data:`coverage.outputs.maps.FACILITY_ICONS`.
_MARKERS = {"square": "s", "diamond": "D", "circle": "o"}
#: Fonts tried for Chinese names, in order; DejaVu (no CJK glyphs) is the fallback.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei")
#: How to install one of them, said when Chinese text meets none.
CJK_FONT_HINT = (
    "Debian/Ubuntu: sudo apt-get install fonts-noto-cjk (or fonts-wqy-zenhei); Fedora: sudo dnf install "
    "google-noto-sans-cjk-fonts; macOS and Windows have one already"
)
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _nice_length_m(width_m: float) -> float:
    """A round scale-bar length near a fifth of the map's width."""
    target = width_m / 5
    power = 10 ** np.floor(np.log10(target))
    return float(max(step * power for step in (1, 2, 5) if step * power <= target))


def draw_surface(ax: Axes, analysis: Analysis, lang: str = "en") -> list[Patch]:
    """The travel-time surface in its colour classes, warped to the network's CRS; the legend patches."""
    surface = analysis.surface
    if surface is None:
        return []
    classes = time_classes(analysis.minutes, lang=lang)
    picture, transform = class_picture(surface, classes, analysis.network.crs)
    height, width = picture.shape
    palette = np.zeros((len(classes) + 1, 4))
    for i, c in enumerate(classes, start=1):
        palette[i] = [*(v / 255 for v in hex_to_rgb(c.colour)), 0.85]
    extent = (transform.c, transform.c + transform.a * width, transform.f + transform.e * height, transform.f)
    ax.imshow(palette[picture], extent=extent, interpolation="nearest", zorder=1)
    name = profile_name(analysis.profile.name, lang)
    return [Patch(facecolor=c.colour, alpha=0.85, label=f"{c.label} ({name})") for c in classes]


#: File names of the fonts of :data:`CJK_FONTS`, to find them among the system's fonts.
_CJK_FILES = re.compile(r"NotoSansCJK|NotoSerifCJK|SourceHanSans|wqy-zenhei|wqy-microhei|simhei|msyh", re.IGNORECASE)


def _font_family() -> list[str]:
    """The first Chinese font installed (of :data:`CJK_FONTS`), then DejaVu Sans."""
    # one Chinese font: matplotlib looks up every family of the list for each text
    return [*_chinese_fonts()[:1], "DejaVu Sans"]


@functools.cache
def _chinese_fonts() -> tuple[str, ...]:
    """The fonts of :data:`CJK_FONTS` matplotlib can use, in that order (the system searched once per process)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = tuple(name for name in CJK_FONTS if name in installed)
    if not found:
        # matplotlib keeps the font list it made on first use: a font installed since then is looked for here
        for file in font_manager.findSystemFonts():
            if _CJK_FILES.search(Path(file).name):
                try:
                    font_manager.fontManager.addfont(file)
                except (OSError, RuntimeError, ValueError):
                    logger.debug("cannot read the font %s", file, exc_info=True)
        installed = {font.name for font in font_manager.fontManager.ttflist}
        found = tuple(name for name in CJK_FONTS if name in installed)
    return found


class _QuietFontWeights(logging.Filter):
    """Drops matplotlib's notice that a font has no 'normal' weight (WenQuanYi Zen Hei is 'medium')."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to find font weight" not in str(record.msg)


def _check_chinese_font(figure: Figure, family: list[str], path: Path) -> None:
    """Warn, once, with how to install a font, when the page has Chinese text and no font can show it."""
    if family[0] in CJK_FONTS:
        return
    from matplotlib.text import Text

    texts = [artist.get_text() for artist in figure.findobj(Text) if isinstance(artist, Text)]
    if any(_CJK.search(str(value)) for value in texts):
        logger.warning(
            "%s: no Chinese font is installed (tried %s): Chinese text shows as empty boxes; install one (%s)",
            path,
            ", ".join(CJK_FONTS),
            CJK_FONT_HINT,
        )


def draw_static_map(
    analysis: Analysis,
    path: str | os.PathLike[str],
    *,
    assessment: Assessment | None = None,
    minutes: float | None = None,
    sites: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    dpi: int = 150,
    simplify_m: float = DEFAULT_SIMPLIFY_M,
    lang: str = "en",
) -> Path:
    """Draw the coverage gaps of an analysis to a PNG file (written atomically).

    Parameters
    ----------
    analysis : Analysis
    path : path
        Output ``.png``.
    assessment : Assessment, optional
        Judge places by the standard's thresholds per zone class.
    minutes : float, optional
        Threshold that makes a place covered; default the analysis' largest.
    sites : GeoDataFrame, optional
        Candidate sites to draw, numbered by their ``order``.
    title : str, optional
    dpi : int
        Resolution of the A4-landscape-sized figure.
    lang : {"en", "zh"}
        Language of the title, headline and legend; Chinese needs a CJK font
        (:data:`CJK_FONTS`), and a warning says how to install one when none is.
    simplify_m : float
        Polygon simplification tolerance in metres.

    Returns
    -------
    Path
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        msg = f"{path}: the static map is written as PNG; give a file name ending in .png"
        raise InputError(msg)
    if minutes is None:
        minutes = max(analysis.minutes)
    family = _font_family()
    fonts = logging.getLogger("matplotlib.font_manager")
    quiet = _QuietFontWeights()
    fonts.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            # a missing font is said once, with the fix (below), instead of one warning per missing glyph
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
            figure = _draw(
                analysis,
                assessment=assessment,
                minutes=float(minutes),
                sites=sites,
                title=title,
                dpi=dpi,
                simplify_m=simplify_m,
                lang=lang,
                family=family,
            )
            _check_chinese_font(figure, family, path)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            figure.savefig(partial, format="png")
    finally:
        fonts.removeFilter(quiet)
    os.replace(partial, path)
    logger.info("wrote %s", path)
    return path


def _draw(
    analysis: Analysis,
    *,
    assessment: Assessment | None,
    minutes: float,
    sites: gpd.GeoDataFrame | None,
    title: str | None,
    dpi: int,
    simplify_m: float,
    lang: str,
    family: list[str],
) -> Figure:
    """The static map's figure (see :func:`draw_static_map`)."""
    crs = analysis.network.crs
    figure = Figure(figsize=(11.7, 8.3), dpi=dpi)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.02, 0.06, 0.72, 0.86))
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles: list[Line2D | Patch] = []

    if analysis.surface is not None and len(analysis.surface):
        handles.extend(draw_surface(ax, analysis, lang))
    else:
        for label, geometry, colour in isochrone_bands(analysis, simplify_m=simplify_m):
            gpd.GeoSeries([geometry], crs=crs).plot(ax=ax, color=colour, alpha=0.6, linewidth=0, zorder=1)
            handles.append(
                Patch(facecolor=colour, alpha=0.6, label=f"{label} ({profile_name(analysis.profile.name, lang)})")
            )
    if analysis.zones is not None and len(analysis.zones):
        analysis.zones.to_crs(crs).boundary.plot(ax=ax, color="#333333", linewidth=0.7, zorder=2)
        handles.append(Line2D([], [], color="#333333", linewidth=0.7, label=text("png_admin_units", lang)))
    elif analysis.surface is not None and analysis.surface.boundary is not None:
        gpd.GeoSeries([analysis.surface.boundary], crs=4326).to_crs(crs).boundary.plot(
            ax=ax, color="#333333", linewidth=0.7, zorder=2
        )
        handles.append(Line2D([], [], color="#333333", linewidth=0.7, label=text("png_region_boundary", lang)))

    cells = analysis.cells
    if cells is not None and len(cells):
        outside = ~covered_mask(cells, place_limits(analysis, cells, minutes=minutes, assessment=assessment))
        if outside.any():
            xy = cells[outside].to_crs(crs).geometry
            gap = ax.hexbin(
                xy.x,
                xy.y,
                C=cells.loc[outside, "population"].to_numpy(dtype=float),
                reduce_C_function=np.sum,
                gridsize=120,
                bins="log",
                cmap=colormaps["RdPu"],
                mincnt=1,
                alpha=0.6,
                linewidths=0,
                zorder=3,
            )
            people = float(cells.loc[outside, "population"].sum())
            handles.append(Patch(facecolor="#c51b8a", alpha=0.6, label=text("png_people_outside", lang, people=people)))
            scale = figure.add_axes((0.77, 0.1, 0.18, 0.015))
            bar = figure.colorbar(gap, cax=scale, orientation="horizontal")
            bar.set_label(text("png_people_per_hexagon", lang), fontsize=8, family=family)
            bar.ax.tick_params(labelsize=7)

    # limits from WGS84 places: zone classes are looked up by longitude and latitude
    limits = place_limits(analysis, analysis.villages, minutes=minutes, assessment=assessment)
    covered = covered_mask(analysis.villages, limits)
    villages = analysis.villages.to_crs(crs)
    if covered.any():
        villages[covered].plot(ax=ax, color=COVERED_COLOUR, markersize=8, edgecolor="white", linewidth=0.3, zorder=4)
    if (~covered).any():
        villages[~covered].plot(
            ax=ax, color=UNCOVERED_COLOUR, markersize=22, edgecolor="black", linewidth=0.5, zorder=5
        )
    handles.append(
        Line2D([], [], linestyle="", marker="o", color=COVERED_COLOUR, label=text("png_village_covered", lang))
    )
    handles.append(
        Line2D(
            [],
            [],
            linestyle="",
            marker="o",
            markerfacecolor=UNCOVERED_COLOUR,
            markeredgecolor="black",
            label=text("png_village_outside", lang, outside=int((~covered).sum()), total=len(villages)),
        )
    )

    facilities = analysis.facilities.to_crs(crs)
    for kind, group in facilities.groupby(facilities["kind"].astype(str), sort=True):
        _, colour, shape = FACILITY_ICONS.get(kind, OTHER_ICON)
        marker = _MARKERS.get(shape, "o")
        ax.scatter(group.geometry.x, group.geometry.y, marker=marker, s=36, c=colour, edgecolors="white", zorder=6)
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker=marker,
                color=colour,
                markeredgecolor="white",
                label=f"{kind_name(kind, lang)} ({len(group)})",
            )
        )
    if sites is not None and len(sites):
        projected = sites.to_crs(crs)
        order = projected["order"] if "order" in projected else range(1, len(projected) + 1)
        ax.scatter(
            projected.geometry.x, projected.geometry.y, marker="*", s=260, c=SITE_COLOUR, edgecolors="black", zorder=7
        )
        for x, y, rank in zip(projected.geometry.x, projected.geometry.y, order, strict=True):
            ax.annotate(
                str(rank), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=9, weight="bold", zorder=8
            )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="*",
                markersize=12,
                color=SITE_COLOUR,
                markeredgecolor="black",
                label=text("png_candidate_site", lang),
            )
        )

    west, east = ax.get_xlim()
    south, north = ax.get_ylim()
    length = _nice_length_m(east - west)
    x0, y0 = west + (east - west) * 0.04, south + (north - south) * 0.04
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.annotate(label, (x0 + length / 2, y0), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=9)
    ax.annotate(
        "N",
        xy=(0.04, 0.95),
        xytext=(0.04, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        weight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5},
    )
    figure.suptitle(title or text("map_title", lang, region=analysis.region), fontsize=15, family=family, x=0.38)
    subtitle = headline(analysis, minutes=minutes, assessment=assessment, lang=lang)
    figure.text(0.38, 0.925, subtitle, ha="center", fontsize=10, family=family)
    figure.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(0.75, 0.9), frameon=False, prop={"family": family, "size": 9}
    )
    # the credits of every source, wrapped to the page's width (a calibrated raster's credit is long)
    credits = textwrap.fill(analysis.attribution, width=170, break_long_words=False)
    figure.text(0.99, 0.01, credits, ha="right", va="bottom", fontsize=7, color="#333333", family=family)
    return figure
