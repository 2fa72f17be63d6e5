"""The report's result tables carry the summaries' numbers, one named column each."""

import numpy as np
import pytest
from astropy.table import Table

from astropipe.io import write_table
from astropipe.io.report_tables import bulk_flow_table, calibration_table, classification_table, distance_table


def _round_trip(table: Table, tmp_path) -> Table:
    path = tmp_path / "table.csv"
    write_table(table, path, format="ascii.csv")
    return Table.read(path, format="ascii.csv")


def test_bulk_flow_row_holds_the_fit(tmp_path):
    summary = {
        "vector_kms": [-120.4, -690.2, 75.1],
        "amplitude_kms": 704.6,
        "amplitude_err_kms": 151.7,
        "amplitude_debiased_kms": 680.2,
        "l_deg": 260.1,
        "l_err_deg": 12.63,
        "b_deg": -1.0,
        "b_err_deg": 9.9,
        "lower95_kms": 481.7,
        "p_rest": 2.9e-5,
        "n_objects": 56,
        "depth_kms": 7351.6,
    }
    row = _round_trip(bulk_flow_table(summary, "smac_sim"), tmp_path)[0]
    assert row["survey"] == "smac_sim" and row["n_objects"] == 56
    assert (row["V_x_kms"], row["V_y_kms"], row["V_z_kms"]) == (-120, -690, 75)
    assert row["amplitude_kms"] == 705 and row["amplitude_err_kms"] == 152 and row["lower95_kms"] == 482
    assert row["l_deg"] == pytest.approx(260.1) and row["b_err_deg"] == pytest.approx(9.9)
    assert row["p_rest"] == pytest.approx(2.9e-5)


def test_distance_rows_one_per_hypothesis(tmp_path):
    summary = {
        "field": "object11",
        "n_members": 64,
        "k10": 11.92,
        "k10_err": 0.21,
        "e_hk": 1.137,
        "e_hk_err": 0.03,
        "a_k": 1.633,
        "a_k_err": 0.05,
        "foreground": {"e_hk": 0.73},
        "distance_kpc": {
            "O5V": {"distance_modulus": 16.9, "value": 24.0, "err": 8.0},
            "B0V": {"distance_modulus": 14.45, "value": 7.75, "err": 2.76},
        },
    }
    table = _round_trip(distance_table(summary), tmp_path)
    assert list(table["hypothesis"]) == ["O5V", "B0V"]
    assert np.allclose(table["distance_kpc"], [24.0, 7.75]) and np.allclose(table["distance_err_kpc"], [8.0, 2.76])
    assert np.all(table["E_HK_mag"] == 1.137) and np.all(table["foreground_E_HK_mag"] == 0.73)


def test_calibration_rows_one_per_band(tmp_path):
    fit = {
        "colour_term": 0.0009,
        "colour_term_err": 0.0296,
        "zero_point_mag": 22.9,
        "zero_point_err_mag": 0.0036,
        "extinction_mag_per_airmass": 0.03,
        "extinction_fitted": False,
        "rms_mag": 0.0084,
        "n_points": 9,
        "n_standards": 3,
        "halo_term_mag": -0.0223,
        "halo_term_err_mag": 0.0008,
    }
    calibration = {"night": "2002-07-04", "bands": {"H": fit, "Ks": fit | {"zero_point_mag": 22.3367}}}
    table = _round_trip(calibration_table(calibration), tmp_path)
    assert list(table["band"]) == ["H", "Ks"]
    assert np.allclose(table["zero_point_mag"], [22.9, 22.3367]) and list(table["n_standards"]) == [3, 3]
    assert np.allclose(table["halo_term_mag"], -0.0223)


def test_classification_keeps_what_a_reader_scans():
    full = Table(
        {
            "field": ["cand01"],
            "l": [-2.4641334],
            "b": [-0.33599],
            "class": ["field"],
            "overdensity_sigma": [0.3],
            "evidence": ["no overdensity"],
            "true_class": ["field"],
        }
    )
    table = classification_table(full)
    assert table.colnames == ["field", "l", "b", "class", "true_class", "evidence"]
    assert table["l"][0] == -2.464
