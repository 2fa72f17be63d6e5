"""Saturated detections replaced by reference-survey (2MASS) stars."""

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS

from astropipe.calibrate.saturated import replace_saturated, saturated_detections, substitute_saturated, to_our_system
from astropipe.photometry.catalog import FLAG_EDGE, FLAG_SATURATED

# the fitted relation (reference minus ours) of each band: the same shape, offsets of 0.17 (H) and 0.11 (Ks) mag
_RELATION = {"offset_err_mag": 0.01, "slope": 0.02, "slope_err": 0.005, "pivot_mag": 12.0, "rms_mag": 0.05}
RELATIONS = {
    band: _RELATION | {"offset_mag": offset, "mag_min": 6.0, "mag_max": 14.0}
    for band, offset in (("H", 0.17), ("Ks", 0.11))
}
RA0, DEC0 = 267.6, -28.87
ARCSEC = 1.0 / 3600.0


def _reference_mag(m: np.ndarray, relation: dict) -> np.ndarray:
    """What the reference survey reports for our magnitude m (the relation of Dutra et al. 2003, Fig. 6)."""
    return m + relation["offset_mag"] + relation["slope"] * (m - relation["pivot_mag"])


def test_to_our_system_inverts_the_fitted_relation_and_holds_it_beyond_its_range():
    m = np.linspace(6.0, 14.0, 9)
    np.testing.assert_allclose(to_our_system(_reference_mag(m, RELATIONS["Ks"]), RELATIONS["Ks"]), m, atol=1e-12)
    measured_over = RELATIONS["Ks"] | {"mag_min": 11.0, "mag_max": 12.5}
    at_ends = _reference_mag(np.array([11.0, 12.5]), RELATIONS["Ks"]) - np.array([11.0, 12.5])  # m_ref - m there
    np.testing.assert_allclose(
        to_our_system(np.array([7.0, 15.0]), measured_over), [7.0 - at_ends[0], 15.0 - at_ends[1]]
    )
    np.testing.assert_allclose(to_our_system(_reference_mag(m[5:7], RELATIONS["Ks"]), measured_over), m[5:7])


def _catalog() -> tuple[Table, np.ndarray]:
    # a saturated star split into two detections 1.2" apart, an unsaturated star 20" away, a lone saturated
    # detection 40" away that the reference does not list
    dec = DEC0 + np.array([0.0, 1.2, 20.0, 40.0]) * ARCSEC
    table = Table(
        {
            "ra": np.full(4, RA0),
            "dec": dec,
            "H": [9.9, 10.5, 13.0, 10.0],
            "K": [9.7, 10.4, 12.5, 9.8],
            "e_H_cal": np.full(4, 0.03),
            "e_K_cal": np.full(4, 0.04),
            "flags_h": np.array([1, 1, 0, 1], np.int16),
            "flags_ks": np.array([1, 0, 0, 1], np.int16),
        }
    )
    table["HK"] = table["H"] - table["K"]
    saturated = ((np.asarray(table["flags_h"]) | np.asarray(table["flags_ks"])) & 1) > 0
    return table, saturated


def _reference() -> Table:
    h_true, k_true = np.array([8.0, 13.0, 11.0]), np.array([7.5, 12.5, 10.5])
    return Table(
        {
            "ra": np.full(3, RA0),
            "dec": DEC0 + np.array([0.3, 20.1, 60.0]) * ARCSEC,
            "H": _reference_mag(h_true, RELATIONS["H"]),
            "e_H": np.full(3, 0.02),
            "Ks": np.where([True, True, False], _reference_mag(k_true, RELATIONS["Ks"]), np.nan),
            "e_Ks": np.full(3, 0.02),
        }
    )


def test_a_split_saturated_star_becomes_one_reference_star_in_our_system():
    catalog, saturated = _catalog()
    result = substitute_saturated(catalog, saturated, _reference(), RELATIONS, resolution_arcsec=2.5)
    # both fragments replaced; the unsaturated star stays ours; the unlisted saturated detection is not replaced
    np.testing.assert_array_equal(result.replaced, [True, True, False, False])
    assert len(result.stars) == 1
    star = result.stars[0]
    assert star["H"] == pytest.approx(8.0) and star["K"] == pytest.approx(7.5) and star["HK"] == pytest.approx(0.5)
    assert star["flags_h"] == 0 and star["flags_ks"] == 0
    # reference error, relation rms and the slope's error 4.5 mag from the pivot, in quadrature
    expected = np.sqrt(0.02**2 + 0.05**2 + (0.005 * 4.5) ** 2)
    assert star["e_K"] == pytest.approx(expected)
    assert star["e_HK"] == pytest.approx(np.hypot(star["e_H"], star["e_K"]))
    assert star["e_K_cal"] == pytest.approx(np.hypot(0.04, 0.01))


def test_reference_stars_without_a_colour_or_far_from_saturated_detections_are_not_used():
    catalog, saturated = _catalog()
    reference = _reference()
    reference["H"][0] = np.nan  # the saturated star has no H in the reference: no colour, it cannot stand in
    result = substitute_saturated(catalog, saturated, reference, RELATIONS, resolution_arcsec=2.5)
    assert len(result.stars) == 0 and not result.replaced.any()
    nothing_saturated = substitute_saturated(catalog, np.zeros(4, bool), _reference(), RELATIONS, resolution_arcsec=2.5)
    assert len(nothing_saturated.stars) == 0 and not nothing_saturated.replaced.any()


def test_the_light_of_our_measured_companions_is_taken_out_of_the_substitute():
    # 2MASS sees the saturated star (H = 8.2, K = 8.0) and our unsaturated companion 1.5" away as one star
    catalog = Table(
        {
            "ra": np.full(2, RA0),
            "dec": DEC0 + np.array([0.0, 1.5]) * ARCSEC,
            "H": [9.0, 9.7],
            "K": [8.9, 9.5],
            "e_H_cal": np.full(2, 0.03),
            "e_K_cal": np.full(2, 0.04),
            "flags_h": np.array([1, 0], np.int16),
            "flags_ks": np.array([1, 0], np.int16),
        }
    )
    catalog["HK"] = catalog["H"] - catalog["K"]

    def blend(a: float, b: float) -> float:
        return -2.5 * np.log10(10 ** (-0.4 * a) + 10 ** (-0.4 * b))

    reference = Table(
        {
            "ra": [RA0],
            "dec": [DEC0 + 0.2 * ARCSEC],
            "H": _reference_mag(np.array([blend(8.2, 9.7)]), RELATIONS["H"]),
            "e_H": [0.02],
            "Ks": _reference_mag(np.array([blend(8.0, 9.5)]), RELATIONS["Ks"]),
            "e_Ks": [0.02],
        }
    )
    result = substitute_saturated(catalog, np.array([True, False]), reference, RELATIONS, resolution_arcsec=2.5)
    np.testing.assert_array_equal(result.replaced, [True, False])
    assert result.stars["H"][0] == pytest.approx(8.2) and result.stars["K"][0] == pytest.approx(8.0)
    assert result.stars["HK"][0] == pytest.approx(0.2)
    # a reference star fainter than our companion alone: nothing is left for the saturated detection, which
    # then stays saturated (left out) rather than becoming a star of negative flux
    reference["Ks"] = _reference_mag(np.array([9.6]), RELATIONS["Ks"])
    result = substitute_saturated(catalog, np.array([True, False]), reference, RELATIONS, resolution_arcsec=2.5)
    assert len(result.stars) == 0 and not result.replaced.any()


def test_a_detection_saturated_in_either_band_is_saturated():
    catalog = Table({"flags_h": [0, FLAG_SATURATED, 0, FLAG_EDGE], "flags_ks": [0, 0, FLAG_SATURATED | FLAG_EDGE, 0]})
    assert saturated_detections(catalog).tolist() == [False, True, True, False]


def test_the_replaced_catalogue_keeps_the_unreplaced_rows_and_adds_the_substitutes_with_new_ids_and_positions():
    catalog, _ = _catalog()
    catalog["id"] = [4, 7, 9, 12]
    catalog["x_ks"], catalog["y_ks"], catalog["separation"] = np.zeros(4), np.zeros(4), np.full(4, 0.1)
    catalog["source"] = np.full(4, "psf", dtype="<U9")
    wcs = WCS(naxis=2)
    wcs.wcs.ctype, wcs.wcs.crval, wcs.wcs.crpix = ["RA---TAN", "DEC--TAN"], [RA0, DEC0], [100.0, 100.0]
    wcs.wcs.cdelt = [-0.25 * ARCSEC, 0.25 * ARCSEC]
    merged, n_replaced, n_substitutes = replace_saturated(catalog, _reference(), RELATIONS, 2.5, wcs)
    assert (n_replaced, n_substitutes) == (2, 1)
    assert list(merged["id"]) == [9, 12, 13] and list(merged["source"]) == ["psf", "psf", "reference"]
    substitute = merged[-1]
    # 0.3" north of the tangent point at 0.25"/px (pixel indices from 0: CRPIX 100 is index 99)
    assert substitute["x_ks"] == pytest.approx(99.0, abs=1e-6) and substitute["y_ks"] == pytest.approx(
        99.0 + 1.2, abs=1e-6
    )
    assert substitute["separation"] == 0.0 and substitute["K"] == pytest.approx(7.5)
