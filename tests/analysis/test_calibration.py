"""Calibration of population to official totals: pinned on a hand-made raster and units, then on the shipped data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from coverage.analysis.calibration import (
    CALIBRATED,
    NO_CELLS,
    NO_TOTAL,
    NO_UNIT,
    NO_VILLAGES,
    OUTSIDE_UNITS,
    VILLAGES_WITHOUT_POPULATION,
    apply_calibration,
    calibrate_grid,
    calibrate_villages,
    with_region,
)
from coverage.analysis.demand import PopulationGrid, population_cells
from coverage.analysis.totals import PopulationTotals
from coverage.analysis.zones import assign_zones

#: 0.01° pixels (about 1.1 km) from 44.00°E, 12.00°S: 4 rows, 12 columns.
TRANSFORM = Affine(0.01, 0.0, 44.0, 0.0, -0.01, -12.0)
ROWS, COLS = 4, 12


def box(west_col: int, east_col: int) -> shapely.Polygon:
    """The polygon over columns ``west_col`` to ``east_col - 1``."""
    return shapely.box(44.0 + 0.01 * west_col, -12.04, 44.0 + 0.01 * east_col, -12.0)


#: A: columns 0-2, B: 3-5, D: 7 (no total), C: 8 (no people); column 6 and 9 are empty,
#: columns 10-11 are people more than 1 km from every unit.
UNITS = gpd.GeoDataFrame(
    {"zone": ["A", "B", "C", "D"], "code": ["101", "102", "103", "104"]},
    geometry=[box(0, 3), box(3, 6), box(8, 9), box(7, 8)],
    crs=4326,
)
TOTALS = PopulationTotals(
    source="hand-made totals",
    totals=pd.Series({"A": 1000.0, "B": 60.0, "C": 500.0}),
    unmatched=pd.DataFrame({"unit": ["Z"], "official_population": [42.0]}),
)


@pytest.fixture
def grid() -> PopulationGrid:
    rng = np.random.default_rng(7)
    values = rng.uniform(1.0, 50.0, size=(ROWS, COLS))
    values[:, [6, 8, 9]] = 0.0
    values[0, 1] = 0.0  # an empty pixel inside a unit stays empty
    return PopulationGrid(values=values, transform=TRANSFORM, crs=CRS.from_epsg(4326))


def test_each_unit_adds_up_to_its_total_and_keeps_its_pattern(grid):
    calibrated, calibration = calibrate_grid(grid, UNITS, TOTALS)
    before, after = grid.values, calibrated.values
    for unit, columns, total in (("A", slice(0, 3), 1000.0), ("B", slice(3, 6), 60.0)):
        assert after[:, columns].sum() == pytest.approx(total, rel=1e-12)
        populated = before[:, columns] > 0
        ratio = after[:, columns][populated] / before[:, columns][populated]
        # one factor for the whole unit: the raster's pattern inside it is kept
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
        assert ratio[0] == pytest.approx(total / before[:, columns].sum())
        assert calibration.factors[unit] == pytest.approx(ratio[0])
    assert after[0, 1] == 0.0
    # no total, and outside every unit: as the raster gives them
    np.testing.assert_array_equal(after[:, 7], before[:, 7])
    np.testing.assert_array_equal(after[:, 10:], before[:, 10:])
    units = calibration.units.set_index("unit")
    assert units["status"].to_dict() == {"A": CALIBRATED, "B": CALIBRATED, "C": NO_CELLS, "D": NO_TOTAL}
    assert units.loc["C", "official_population"] == 500.0
    assert units.loc["C", "places"] == 0
    assert units.loc["A", "places"] == 11  # 12 pixels, one empty
    assert units.loc["D", "population_after"] == pytest.approx(before[:, 7].sum())
    assert list(calibration.unmatched["unit"]) == ["Z"]


def test_cells_outside_every_unit_are_counted_in_the_region(grid):
    calibrated, calibration = calibrate_grid(grid, UNITS, TOTALS)
    cells = population_cells(calibrated)
    cells["zone"] = assign_zones(cells, UNITS).to_numpy()
    calibration = with_region(calibration, cells)
    assert calibration.outside_places == 2 * ROWS
    assert calibration.outside_population == pytest.approx(grid.values[:, 10:].sum())
    in_region = calibration.units.set_index("unit")["population_in_region"]
    assert in_region["A"] == pytest.approx(1000.0)
    table = calibration.table()
    assert list(table["status"]) == [CALIBRATED, CALIBRATED, NO_CELLS, NO_TOTAL, NO_UNIT, OUTSIDE_UNITS]
    assert table.loc[table["status"] == OUTSIDE_UNITS, "cells"].iloc[0] == 2 * ROWS
    assert "2 of 4 units calibrated to hand-made totals" in calibration.describe()


def test_a_calibration_applies_again_to_the_same_raster(grid):
    calibrated, calibration = calibrate_grid(grid, UNITS, TOTALS)
    np.testing.assert_array_equal(apply_calibration(grid, UNITS, calibration).values, calibrated.values)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(0.0, 1e5, allow_nan=False), min_size=ROWS * 6, max_size=ROWS * 6),
    totals=st.tuples(st.floats(0.0, 1e7), st.floats(0.0, 1e7)),
)
def test_sums_equal_totals_whatever_the_raster(values, totals):
    array = np.zeros((ROWS, COLS))
    array[:, :6] = np.reshape(values, (ROWS, 6))
    array[0, 0] = array[0, 3] = 1.0  # each unit has people to scale
    grid = PopulationGrid(values=array, transform=TRANSFORM, crs=CRS.from_epsg(4326))
    units = UNITS.iloc[:2]
    calibrated, calibration = calibrate_grid(
        grid, units, PopulationTotals("t", pd.Series({"A": totals[0], "B": totals[1]}))
    )
    for columns, total in ((slice(0, 3), totals[0]), (slice(3, 6), totals[1])):
        assert calibrated.values[:, columns].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
        populated = array[:, columns] > 0
        factor = total / array[:, columns].sum()
        np.testing.assert_allclose(calibrated.values[:, columns][populated], array[:, columns][populated] * factor)
    assert (calibration.units["status"] == CALIBRATED).all()


def _villages(populations: dict[str, list[float | None]]) -> gpd.GeoDataFrame:
    rows = [(unit, people) for unit, values in populations.items() for people in values]
    return gpd.GeoDataFrame(
        {
            "id": [str(i) for i in range(len(rows))],
            "zone": [unit for unit, _ in rows],
            "population": [np.nan if people is None else people for _, people in rows],
            "population_source": ["stated" if people is not None else "none" for _, people in rows],
        },
        geometry=[shapely.Point(44.0, -12.0)] * len(rows),
        crs=4326,
    )


def test_village_populations_given_per_unit_are_scaled_the_same_way():
    villages = _villages({"A": [100, 300], "B": [10, None], "D": [7], "": [5]})
    scaled, calibration = calibrate_villages(villages, TOTALS, units=["A", "B", "C", "D"])
    a = scaled[scaled["zone"] == "A"]
    assert a["population"].sum() == pytest.approx(1000.0)
    assert list(a["population"]) == pytest.approx([250.0, 750.0])  # the 1:3 pattern kept
    assert set(a["population_source"]) == {"stated_calibrated"}
    units = calibration.units.set_index("unit")
    # a unit with a village of unknown population is not scaled: it would stay at 0 while the others took its people
    assert units.loc["B", "status"] == VILLAGES_WITHOUT_POPULATION
    assert list(scaled.loc[scaled["zone"] == "B", "population"].fillna(-1)) == [10.0, -1.0]
    assert units.loc["C", "status"] == NO_VILLAGES
    assert units.loc["D", "status"] == NO_TOTAL
    assert calibration.outside_places == 1
    assert calibration.outside_population == 5.0
