"""The CMD analysis of one field (astropipe.cmd.analysis, astropipe.cmd.luminosity.luminosity_functions)."""

import numpy as np
import pytest
from astropy.table import Table

from astropipe.cmd.analysis import completeness_limits
from astropipe.cmd.luminosity import luminosity_functions


def test_luminosity_functions_count_scale_weight_and_subtract_per_colour_interval():
    # object: three blue stars in bin 12-13, one red in 13-14; field: two blue in 12-13, one outside every region
    k = np.array([12.2, 12.5, 12.7, 13.5, 12.1, 12.9, 12.4])
    colour = np.array([0.3, 0.4, 0.5, 1.2, 0.3, 0.3, 0.3])
    region = np.array(["object"] * 4 + ["field"] * 2 + ["other"])
    weights = np.full(7, 2.0)
    lf = luminosity_functions(
        k,
        colour,
        region,
        weights,
        np.array([12.0, 13.0, 14.0]),
        {"blue": (0.0, 0.8), "red": (0.8, 3.0)},
        field_scale=0.25,
    )
    np.testing.assert_array_equal(lf["blue_object"], [3, 0])
    np.testing.assert_array_equal(lf["blue_field"], [0.5, 0])  # two field stars on a quarter of the area
    np.testing.assert_array_equal(lf["blue_object_corrected"], [6, 0])
    np.testing.assert_array_equal(lf["blue_subtracted"], [2.5, 0])
    np.testing.assert_allclose(lf["blue_subtracted_err"][0], np.hypot(np.sqrt(3), 0.25 * np.sqrt(2)))
    np.testing.assert_array_equal(lf["red_subtracted_corrected"], [0, 2])
    assert lf.colnames[:6] == [
        "k_lo",
        "k_hi",
        "blue_object",
        "blue_object_err",
        "blue_object_corrected",
        "blue_object_corrected_err",
    ]


def _completeness(values) -> Table:
    lo = 14.0 + 0.5 * np.arange(len(values))
    injected = np.full(len(values), 100)
    recovered = np.round(np.asarray(values) * 100).astype(int)
    table = {"mag_lo": lo, "mag_hi": lo + 0.5, "n_injected": injected, "n_recovered": recovered}
    return Table({**table, "completeness": recovered / injected})


def test_completeness_limits_are_calibrated_and_a_table_that_never_falls_is_named():
    tables = {"H": _completeness([1.0, 0.9, 0.6, 0.4, 0.1]), "Ks": _completeness([1.0, 0.9, 0.6, 0.4, 0.1])}
    limits, errors = completeness_limits(tables, {"H": 8.0, "Ks": 7.5}, 0.5, {"H": "h.ecsv", "Ks": "k.ecsv"})
    assert limits["H"] - limits["K"] == pytest.approx(0.5)
    assert 14.0 + 8.0 < limits["H"] < 16.5 + 8.0
    assert errors["H"] == pytest.approx(errors["K"]) and 0 < errors["H"] < 0.2
    tables["Ks"] = _completeness([1.0, 0.95, 0.9, 0.8, 0.7])
    with pytest.raises(
        ValueError, match=r"k\.ecsv: the completeness never falls below imaging\.cmd\.completeness_level = 0\.5"
    ):
        completeness_limits(tables, {"H": 8.0, "Ks": 7.5}, 0.5, {"H": "h.ecsv", "Ks": "k.ecsv"})
    tables["Ks"] = _completeness([0.9, 0.3])
    with pytest.raises(ValueError, match=r"k\.ecsv: 2 magnitude bins with artificial stars: at least 3 needed"):
        completeness_limits(tables, {"H": 8.0, "Ks": 7.5}, 0.5, {"H": "h.ecsv", "Ks": "k.ecsv"})
