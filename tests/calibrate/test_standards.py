"""Standard-star fit (Dutra et al. 2003, eqs. 1-3) against injected transformations."""

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astropipe.calibrate.night_standards import fit_night
from astropipe.calibrate.standards import StandardApertures, halo_term_of_band, measure_standard_frame, raw_peak
from astropipe.calibrate.transformation import fit_transformation, normalise_measurements
from astropipe.reduce.cosmic_rays import DetectorNoise

CATALOGUE = Table(
    {
        "number": [1, 2, 3, 4],
        "H": [11.0, 10.5, 12.0, 11.2],
        "e_H": [0.005] * 4,
        "K": [10.5, 10.2, 11.9, 10.4],
        "e_K": [0.005] * 4,
    }
)


def _measurements(a: float, z: float, k_ext: float, band: str, noise: float, rng, airmasses=(1.05, 1.4, 1.9)) -> Table:
    rows = []
    for star in CATALOGUE:
        standard = star["H"] if band == "H" else star["K"]
        for x in airmasses:
            for _ in range(5):
                # m_ap = m_std - a (H-K) - z + K X - 2.5 log10(DIT), DIT = 2 s
                m_ap = (
                    standard
                    - a * (star["H"] - star["K"])
                    - z
                    + k_ext * x
                    - 2.5 * np.log10(2.0)
                    + noise * rng.standard_normal()
                )
                rows.append(
                    {
                        "standard": int(star["number"]),
                        "filter": band,
                        "airmass": x,
                        "dit": 2.0,
                        "m_ap": m_ap,
                        "m_ap_err": noise,
                    }
                )
    return Table(rows=rows)


@pytest.mark.parametrize("band", ["H", "Ks"])
def test_fit_recovers_injected_transformation(band):
    rng = np.random.default_rng(1)
    measured = _measurements(-0.03, 22.9, 0.05, band, 0.01, rng)
    fitted = fit_transformation(normalise_measurements(measured, {band: 0.05}), CATALOGUE, band, 0.05)
    assert abs(fitted.colour_term + 0.03) < 3 * fitted.colour_term_err
    assert abs(fitted.zero_point - 22.9) < 3 * fitted.zero_point_err
    assert fitted.zero_point_err < 0.01 and fitted.n_standards == 4 and fitted.n_points == 12


def test_extinction_fit_and_wrong_adopted_coefficient():
    rng = np.random.default_rng(2)
    measured = _measurements(0.0, 22.3, 0.09, "Ks", 0.005, rng)
    free = fit_transformation(
        normalise_measurements(measured, {"Ks": 0.05}), CATALOGUE, "Ks", 0.05, fit_extinction=True
    )
    assert abs(free.extinction - 0.09) < 3 * free.extinction_err and free.extinction_fitted
    assert abs(free.zero_point - 22.3) < 3 * free.zero_point_err


def test_prior_pulls_an_undetermined_colour_term():
    rng = np.random.default_rng(3)
    narrow = CATALOGUE.copy()
    narrow["K"] = narrow["H"] - 0.08 - 0.01 * np.arange(4)  # standards of nearly one colour
    measured = []
    for star in narrow:
        for x in (1.1, 1.6):
            m_ap = star["H"] - 22.9 + 0.03 * x - 2.5 * np.log10(2.0) + 0.01 * rng.standard_normal()
            measured.append(
                {
                    "standard": int(star["number"]),
                    "filter": "H",
                    "airmass": x,
                    "dit": 2.0,
                    "m_ap": m_ap,
                    "m_ap_err": 0.01,
                }
            )
    normalised = normalise_measurements(Table(rows=measured), {"H": 0.03})
    data_only = fit_transformation(normalised, narrow, "H", 0.03)
    with_prior = fit_transformation(normalised, narrow, "H", 0.03, colour_term_prior=(0.0, 0.03))
    assert data_only.colour_term_err > 0.2  # 0.03 mag of colour leaves the term undetermined
    assert with_prior.colour_term_err < 0.05 and abs(with_prior.colour_term) < 0.06
    assert with_prior.colour_term_data_only == pytest.approx(data_only.colour_term)


def test_too_few_standards_and_unknown_standard_are_refused():
    rng = np.random.default_rng(4)
    measured = _measurements(0.0, 22.9, 0.03, "H", 0.01, rng, airmasses=(1.2,))
    one_star = measured[measured["standard"] == 1]
    with pytest.raises(ValueError, match="needs at least 2 standards"):
        fit_transformation(normalise_measurements(one_star, {"H": 0.03}), CATALOGUE, "H", 0.03)
    with pytest.raises(ValueError, match="cannot fit the extinction"):
        fit_transformation(normalise_measurements(measured, {"H": 0.03}), CATALOGUE, "H", 0.03, fit_extinction=True)
    unknown = measured.copy()
    unknown["standard"][0] = 99
    with pytest.raises(ValueError, match=r"standards \[99\]"):
        fit_transformation(normalise_measurements(unknown, {"H": 0.03}), CATALOGUE, "H", 0.03)
    with pytest.raises(ValueError, match="no extinction coefficient for filter 'H'"):
        normalise_measurements(measured, {"Ks": 0.05})


@pytest.mark.parametrize(
    "apertures",
    [{"radius_arcsec": 8.0}, {"sky_outer_arcsec": 6.0}, {"radius_arcsec": 0.0}, {"search_arcsec": -1.0}],
)
def test_apertures_that_overlap_or_vanish_are_refused(apertures):
    with pytest.raises(ValueError, match="standard-star"):
        StandardApertures(**apertures)


def test_a_bands_halo_term_is_the_median_over_its_frames_and_needs_three():
    rng = np.random.default_rng(4)
    terms = -0.03 + 0.01 * rng.standard_normal(45)
    table = Table({"filter": ["H"] * 45 + ["Ks"] * 3, "halo_term_mag": np.append(terms, [-0.01, np.nan, np.nan])})
    band = halo_term_of_band(table, "H")
    assert band["halo_term_mag"] == pytest.approx(np.median(terms))
    assert band["halo_term_err_mag"] == pytest.approx(1.2533 * 0.01 / np.sqrt(45), rel=0.25)
    assert band["halo_term_frames"] == 45
    too_few = halo_term_of_band(table, "Ks")
    assert np.isnan(too_few["halo_term_mag"]) and too_few["halo_term_frames"] == 1


NIGHT_SETTINGS = {
    "extinction": {"Ks": 0.05},
    "fit_extinction": False,
    "min_standards": 2,
    "min_points": 3,
    "min_airmass_span": 0.3,
    "colour_term_prior": {},
    "ks_to_k_err": 0.02,
}


def test_the_raw_peak_is_taken_within_the_aperture_only():
    raw = np.zeros((50, 50))
    raw[20, 20], raw[20, 30] = 900.0, 20000.0  # a saturated pixel 10 px away
    assert raw_peak(raw, 20.2, 19.8, 5.0) == 900.0
    assert raw_peak(raw, 20.2, 19.8, 10.5) == 20000.0


def test_saturated_standard_frames_are_left_out_of_the_fit_and_the_halo_term():
    rng = np.random.default_rng(3)
    measured = _measurements(0.0, 22.3, 0.05, "Ks", 0.005, rng)
    measured["halo_term_mag"] = -0.02 + 0.001 * rng.standard_normal(len(measured))
    measured["saturated"] = False
    clean = fit_night(measured, CATALOGUE, NIGHT_SETTINGS)[1]["Ks"]
    clipped = measured.copy()
    clipped["m_ap"][:5] += 0.5  # a clipped core: the star looks fainter
    clipped["halo_term_mag"][:5] = -0.3  # and its curve of growth holds "light" beyond the Moffat core
    clipped["saturated"][:5] = True
    kept = fit_night(clipped, CATALOGUE, NIGHT_SETTINGS)[1]["Ks"]
    assert kept["zero_point_mag"] == pytest.approx(22.3, abs=3 * kept["zero_point_err_mag"])
    assert kept["halo_term_mag"] == pytest.approx(-0.02, abs=0.002) and kept["halo_term_frames"] == len(measured) - 5
    assert kept["n_points"] == clean["n_points"] - 1  # the star's five frames at one airmass are one point
    clipped["saturated"] = True
    with pytest.raises(ValueError, match=r"all 60 standard frames .*\(imaging\.reduction\.saturation_adu"):
        fit_night(clipped, CATALOGUE, NIGHT_SETTINGS)


def _standard_frame(rng) -> tuple[np.ndarray, fits.Header, SkyCoord, tuple[float, float], float]:
    """A 200 x 200 SOFI-like standard frame (0.288"/px, gain 5.4 e-/ADU, read noise 12 e-, sky 1000 ADU) with
    one star of 100,000 ADU (a Persson standard in 2 s), pointed 3 px off its catalogue position."""
    sigma, flux, (x, y) = 1.3, 1e5, (100.3, 95.7)
    yy, xx = np.mgrid[:200, :200]
    star = flux / (2 * np.pi * sigma**2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
    header = fits.Header(
        {
            "CTYPE1": "RA---TAN",
            "CTYPE2": "DEC--TAN",
            "CRPIX1": 101.0,
            "CRPIX2": 101.0,
            "CRVAL1": 270.0,
            "CRVAL2": -20.0,
            "CDELT1": -0.288 / 3600,
            "CDELT2": 0.288 / 3600,
            "PIXSCALE": 0.288,
            "NDIT": 1,
        }
    )
    position = WCS(header).pixel_to_world(x + 3.0, y - 2.0)
    sky, gain, read_noise = 1000.0, 5.4, 12.0  # ADU, e-/ADU, e-
    noise = np.sqrt((sky + star) / gain + (read_noise / gain) ** 2)
    return sky + star + noise * rng.standard_normal(star.shape), header, position, (x, y), flux


def test_a_cosmic_ray_brighter_than_the_standard_is_not_taken_for_it_and_one_on_it_is_removed():
    data, header, position, (x, y), flux = _standard_frame(np.random.default_rng(8))
    data[60, 128:131] += 40000.0  # a track of four times the star's peak, 45 px away: inside the search box
    data[98, 104] += 3000.0  # a hit in the star's aperture: 3 % of its flux, 15 times its error
    measured = measure_standard_frame(
        data, header, position, StandardApertures(), 5.4, cosmic_rays=DetectorNoise(5.4, 12.0, 60000.0)
    )
    assert abs(measured["x"] - x) < 0.1 and abs(measured["y"] - y) < 0.1
    assert abs(measured["counts"] - flux) < 3 * measured["counts_err"]
    assert measured["cosmic_ray_pixels"] >= 1
