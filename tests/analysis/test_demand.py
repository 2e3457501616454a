"""Population cells from the WorldPop raster and village population estimates."""

from __future__ import annotations

import geopandas as gpd
import pytest
import rasterio
import shapely

from coverage._errors import InputError
from coverage.analysis.demand import population_by_nearest_place, population_cells
from tests.conftest import COMOROS, COMOROS_RASTER

# from data/comoros/PROVENANCE.md: the sum of valid pixels
RASTER_TOTAL = 869_595


def test_cells_keep_every_person():
    cells = population_cells(COMOROS_RASTER)
    assert cells["population"].sum() == pytest.approx(RASTER_TOTAL, abs=1)
    assert cells["id"].is_unique
    assert (cells["population"] > 0).all()


def test_aggregating_blocks_keeps_the_total():
    fine = population_cells(COMOROS_RASTER)
    coarse = population_cells(COMOROS_RASTER, aggregate=4)
    assert len(coarse) < len(fine) / 8
    assert coarse["population"].sum() == pytest.approx(fine["population"].sum(), rel=1e-9)


def test_boundary_keeps_coastal_cells_within_tolerance(mwali_boundary):
    exact = population_cells(COMOROS_RASTER, boundary=mwali_boundary, boundary_tolerance_m=0)
    tolerant = population_cells(COMOROS_RASTER, boundary=mwali_boundary)
    assert exact["population"].sum() < tolerant["population"].sum()
    # every cell centre of the tolerant set is within ~500 m of the island
    assert tolerant.to_crs(32738).distance(gpd.GeoSeries([mwali_boundary], crs=4326).to_crs(32738).iloc[0]).max() < 600


def test_raster_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        population_cells(tmp_path / "pop.tif")
    with pytest.raises(InputError, match="cannot read this raster"):
        population_cells(COMOROS / "PROVENANCE.md")
    no_crs = tmp_path / "nocrs.tif"
    with rasterio.open(COMOROS_RASTER) as src:
        profile = src.profile | {"crs": None}
        data = src.read(1)
    with rasterio.open(no_crs, "w", **profile) as dst:
        dst.write(data, 1)
    with pytest.raises(InputError, match="no CRS"):
        population_cells(no_crs)


def test_village_population_from_nearest_cells(mwali_places, mwali_boundary):
    cells = population_cells(COMOROS_RASTER, boundary=mwali_boundary)
    estimate = population_by_nearest_place(mwali_places, cells, max_distance_m=3000)
    assert estimate.index.equals(mwali_places.index)
    assert (estimate >= 0).all()
    assert estimate.sum() <= cells["population"].sum() + 1e-6
    # a place with nothing around it gets nothing
    lonely = gpd.GeoDataFrame(geometry=[shapely.Point(43.0, -12.6)], crs=4326)
    assert population_by_nearest_place(lonely, cells).iloc[0] == 0
