"""The travel-time classes and colours that every output draws the same way.

The surface is shown in graduated classes whose breaks are the thresholds asked
for, plus twice the largest (0–10–15–30–60–more minutes for 10, 15 and 30): the
HTML map, the PNG map, the QGIS style of ``traveltime.tif`` and of the
``isochrones`` layer all use :func:`time_classes`, so a colour means the same
minutes everywhere.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from coverage.analysis.surface import TravelTimeSurface

#: People outside the circle: the colour ramp of the density overlay.
GAP_COLORMAP = "RdPu"


@dataclass(frozen=True)
class TimeClass:
    """One class of travel time: ``lower < minutes <= upper`` (``0 <= minutes`` for the first).

    Attributes
    ----------
    lower, upper : float
        Bounds in minutes; ``upper`` is ``inf`` for the last class.
    label : str
        ``"10–15 min"``, or ``"more than 60 min"`` for the last.
    colour : str
        ``#rrggbb``.
    """

    lower: float
    upper: float
    label: str
    colour: str


def _minutes_text(value: float) -> str:
    return f"{value:g}"


#: Covered classes run between these greens (nearest first); the two classes beyond the largest threshold.
NEAR_GREEN, FAR_GREEN = "#1a9641", "#a6d96a"
BEYOND_COLOURS = ("#fdae61", "#d7191c")


def time_classes(thresholds: Sequence[float], *, lang: str = "en") -> tuple[TimeClass, ...]:
    """The classes for thresholds: one per threshold, one up to twice the largest, one beyond.

    The classes within the thresholds are greens (dark nearest), so covered land reads
    as covered; the two beyond are orange and red. Labels in ``lang`` (``en`` or ``zh``).
    """
    from matplotlib.colors import LinearSegmentedColormap, to_hex

    breaks = sorted({float(t) for t in thresholds if t > 0}) or [30.0]
    greens = LinearSegmentedColormap.from_list("covered", [NEAR_GREEN, FAR_GREEN])
    covered = [to_hex(greens(v)) for v in np.linspace(0.0, 1.0, len(breaks))] if len(breaks) > 1 else [NEAR_GREEN]
    colours = [*covered, *BEYOND_COLOURS]
    breaks.append(2 * breaks[-1])
    between, beyond = ("{}–{} 分钟", "{} 分钟以上") if lang == "zh" else ("{}–{} min", "more than {} min")
    classes = []
    lower = 0.0
    for upper, colour in zip(breaks, colours, strict=False):
        label = between.format(_minutes_text(lower), _minutes_text(upper))
        classes.append(TimeClass(lower, upper, label, colour))
        lower = upper
    classes.append(TimeClass(lower, float("inf"), beyond.format(_minutes_text(lower)), colours[-1]))
    return tuple(classes)


def classify_minutes(minutes: np.ndarray, classes: Sequence[TimeClass]) -> np.ndarray:
    """Class number of each value, from 1 (``minutes <= upper`` of the first class); 0 for NaN."""
    uppers = np.array([c.upper for c in classes[:-1]])
    values = np.asarray(minutes, dtype=np.float64)
    index = np.searchsorted(uppers, values, side="left") + 1
    return np.where(np.isnan(values), 0, index).astype(np.uint8)


def class_picture(
    surface: TravelTimeSurface, classes: Sequence[TimeClass], crs: Any, *, max_pixels: int | None = None
) -> tuple[np.ndarray, Any]:
    """The class number of the region's cells warped to ``crs`` (0: no cell, or unreached), and its transform.

    ``max_pixels`` caps the picture's longer side (the cells are then shown coarser).
    """
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    rows, cols = surface.rows, surface.cols
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    window = surface.grid.window(slice(r0, r1), slice(c0, c1))
    source = np.zeros(window.shape, dtype=np.uint8)
    source[rows - r0, cols - c0] = classify_minutes(np.where(surface.reached, surface.seconds / 60.0, np.nan), classes)
    west, north = window.transform @ (0, 0)
    east, south = window.transform @ (window.shape[1], window.shape[0])
    shape = (window.crs, crs, window.shape[1], window.shape[0], west, south, east, north)
    transform, width, height = calculate_default_transform(*shape)
    if max_pixels is not None and max(width, height) > max_pixels:
        scale = max(width, height) / max_pixels
        size = {"dst_width": int(np.ceil(width / scale)), "dst_height": int(np.ceil(height / scale))}
        transform, width, height = calculate_default_transform(*shape, **size)
    picture = np.zeros((height, width), dtype=np.uint8)
    reproject(
        source,
        picture,
        src_transform=window.transform,
        src_crs=window.crs,
        src_nodata=0,
        dst_transform=transform,
        dst_crs=crs,
        dst_nodata=0,
        resampling=Resampling.nearest,
    )
    return picture, transform


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as three integers."""
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def facility_colour(number: int) -> str:
    """A colour per facility (``number`` from 1), hues a golden angle apart: neighbours rarely look alike.

    The same formula is the QGIS expression ``color_hsv(("raster_value" * 137) % 360, 40, 95)``.
    """
    red, green, blue = colorsys.hsv_to_rgb(((number * 137) % 360) / 360.0, 0.40, 0.95)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


FACILITY_COLOUR_EXPRESSION = 'color_hsv(("raster_value" * 137) % 360, 40, 95)'
