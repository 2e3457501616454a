"""Chinese map datums: GCJ-02 and BD-09 to and from WGS84.

Facility lists copied from Chinese web maps are rarely in WGS84. Amap (高德) and
Tencent use GCJ-02 ("Mars coordinates"), Baidu uses BD-09, and both are offset
300–700 m from WGS84, the datum of OpenStreetMap and WorldPop. A facility left in
GCJ-02 snaps to the wrong road, often across a river or an expressway.

The conversions implement the published formulas: the GCJ-02 forward offset on the
Krasovsky ellipsoid (``a = 6378245.0``, ``ee = 0.00669342162296594323``), applied
only inside the usual China bounding rectangle, and the BD-09 rotation and offset of
GCJ-02 with ``x_pi = pi * 3000 / 180``. GCJ-02 has no closed-form inverse; the
popular one-step inverse is wrong by up to a few metres, so :func:`gcj02_to_wgs84`
iterates the forward formula to a fixed point instead (well under 1e-7 degrees,
about 1 cm). :func:`bd09_to_gcj02` is refined the same way.

All functions take numpy arrays (or anything array-like) of longitudes and latitudes
in degrees and return float64 arrays of the same shape; NaN stays NaN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from coverage._errors import InputError

logger = logging.getLogger(__name__)

#: Datums :func:`to_wgs84` understands.
DATUMS = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# The rectangle outside which GCJ-02 leaves coordinates unchanged (the "out of
# China" check of the public implementations; it includes Taiwan, Korea and part of
# Japan, as they do).
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

# Fixed-point iterations stop when the forward formula reproduces the input to this
# many degrees (~1e-4 m); each iteration gains about three digits, so 4-5 suffice.
_INVERSE_TOLERANCE_DEG = 1e-12
_INVERSE_MAX_ITERATIONS = 30

FloatArray = NDArray[np.float64]


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape:
        msg = (
            f"longitude and latitude arrays differ in shape: {lon_a.shape} and {lat_a.shape}; "
            "pass one value of each per point."
        )
        raise InputError(msg)
    return lon_a, lat_a


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Tell which points are inside the rectangle where GCJ-02 applies an offset.

    Parameters
    ----------
    lon, lat : array-like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray of bool
        True inside lon 72.004–137.8347, lat 0.8293–55.8271 (False for NaN).
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    return (lon_a >= _CHINA_LON_MIN) & (lon_a <= _CHINA_LON_MAX) & (lat_a >= _CHINA_LAT_MIN) & (lat_a <= _CHINA_LAT_MAX)


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS84 at a WGS84 position, in degrees, ignoring the China rectangle."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    target_lon: FloatArray,
    target_lat: FloatArray,
    start_lon: FloatArray,
    start_lat: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(lon, lat) == target`` by fixed-point iteration from a start guess."""
    lon, lat = start_lon.copy(), start_lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(lon, lat)
        err_lon = fwd_lon - target_lon
        err_lat = fwd_lat - target_lat
        lon -= err_lon
        lat -= err_lat
        # NaN compares False, so NaN input does not keep the loop going.
        if not (np.any(np.abs(err_lon) > _INVERSE_TOLERANCE_DEG) or np.any(np.abs(err_lat) > _INVERSE_TOLERANCE_DEG)):
            break
    return lon, lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitudes and latitudes to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lon, lat : array-like
        WGS84 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes; points outside China are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([116.404], [39.915])
    >>> round(float(lon[0]), 6), round(float(lat[0]), 6)
    (116.410244, 39.916404)
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon_a, lat_a)
    inside = in_china(lon_a, lat_a)
    return np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitudes and latitudes (Amap, Tencent) to WGS84.

    The exact inverse of :func:`wgs84_to_gcj02`, found by fixed-point iteration
    until the forward formula reproduces the input to 1e-12 degrees; not the
    one-step approximation, which is off by up to a few metres.

    Parameters
    ----------
    lon, lat : array-like
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes; points outside China are returned unchanged.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = in_china(lon_a, lat_a)
    out_lon, out_lat = lon_a.copy(), lat_a.copy()
    if inside.any():
        g_lon, g_lat = lon_a[inside], lat_a[inside]

        def forward(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
            dx, dy = _gcj02_offset(x, y)
            return x + dx, y + dy

        w_lon, w_lat = _invert(forward, g_lon, g_lat, g_lon, g_lat)
        out_lon[inside], out_lat[inside] = w_lon, w_lat
    return out_lon, out_lat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitudes and latitudes to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : array-like
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitudes and latitudes.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    z = np.sqrt(lon_a * lon_a + lat_a * lat_a) + 0.00002 * np.sin(lat_a * _X_PI)
    theta = np.arctan2(lat_a, lon_a) + 0.000003 * np.cos(lon_a * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitudes and latitudes (Baidu) to GCJ-02.

    Starts from the usual closed-form approximation and refines it by fixed-point
    iteration, so that :func:`gcj02_to_bd09` of the result gives back the input.

    Parameters
    ----------
    lon, lat : array-like
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    x = lon_a - 0.0065
    y = lat_a - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, lon_a, lat_a, z * np.cos(theta), z * np.sin(theta))


def check_datum(datum: str, *, source: str | None = None) -> str:
    """Return the normalised datum name, or raise :class:`InputError` listing :data:`DATUMS`.

    Parameters
    ----------
    datum : str
        A datum name; case, ``-`` and ``_`` are ignored (``"GCJ-02"`` gives ``"gcj02"``).
    source : str, optional
        What the datum was given for (a file), to start the message with.

    Returns
    -------
    str
        One of :data:`DATUMS`.
    """
    key = str(datum).strip().lower().replace("-", "").replace("_", "")
    if key not in DATUMS:
        where = f"{source}: " if source else ""
        msg = (
            f"{where}unknown datum {datum!r}; use one of {', '.join(DATUMS)} "
            "(gcj02 for Amap/Tencent/Gaode coordinates, bd09 for Baidu, wgs84 for GPS and OpenStreetMap)."
        )
        raise InputError(msg)
    return key


def to_wgs84(lon: ArrayLike, lat: ArrayLike, *, datum: str) -> tuple[FloatArray, FloatArray]:
    """Convert longitudes and latitudes in ``datum`` to WGS84.

    Parameters
    ----------
    lon, lat : array-like
        Longitudes and latitudes in degrees.
    datum : str
        One of :data:`DATUMS` (``"wgs84"``, ``"gcj02"``, ``"bd09"``; case, ``-`` and
        ``_`` are ignored, so ``"GCJ-02"`` works).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes.

    Raises
    ------
    InputError
        When ``datum`` is not one of :data:`DATUMS`.
    """
    key = check_datum(datum)
    lon_a, lat_a = _as_arrays(lon, lat)
    if key == "gcj02":
        return gcj02_to_wgs84(lon_a, lat_a)
    if key == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon_a, lat_a))
    return lon_a.copy(), lat_a.copy()


def geometry_to_wgs84(geoms: gpd.GeoSeries, *, datum: str) -> gpd.GeoSeries:
    """Convert every vertex of lon/lat geometries in ``datum`` to WGS84.

    Works for any geometry type; Z values are kept.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Geometries in longitude/latitude degrees (CRS geographic or unset).
    datum : str
        The datum the coordinates are in, one of :data:`DATUMS`.

    Returns
    -------
    geopandas.GeoSeries
        Same index, CRS EPSG:4326.

    Raises
    ------
    InputError
        When ``datum`` is unknown or the series is in a projected CRS.
    """
    key = check_datum(datum)
    if geoms.crs is not None and not geoms.crs.is_geographic:
        msg = (
            f"datum conversion needs longitude/latitude degrees, but the geometries are in {geoms.crs.name}; "
            "reproject them with .to_crs('EPSG:4326') first."
        )
        raise InputError(msg)
    if key == "wgs84":
        return gpd.GeoSeries(geoms.values.copy(), index=geoms.index, crs="EPSG:4326", name=geoms.name)

    def convert(coords: FloatArray) -> FloatArray:
        out = coords.copy()
        out[:, 0], out[:, 1] = to_wgs84(coords[:, 0], coords[:, 1], datum=key)
        return out

    # Transform 2D and 3D geometries separately so each keeps its own dimension.
    values = np.asarray(geoms.values, dtype=object)
    has_z = np.asarray(shapely.has_z(values), dtype=bool)
    converted = values.copy()
    for mask, include_z in ((~has_z, False), (has_z, True)):
        if mask.any():
            converted[mask] = shapely.transform(values[mask], convert, include_z=include_z)
    logger.debug("converted %d geometries from %s to wgs84", len(geoms), key)
    return gpd.GeoSeries(converted, index=geoms.index, crs="EPSG:4326", name=geoms.name)
