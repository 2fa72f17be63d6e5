"""A PSF that varies across the image is detected and followed (astropipe.photometry.psf_variation and
the pipeline's varying ePSF), on fields rendered with the simulator's distorted SOFI PSF."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from astropipe.photometry.pipeline import PhotometrySettings, psf_photometry
from astropipe.simulate.psf import FramePSF, render_field

SIZE, FWHM = 512, 4.0


def _psf(edge: float) -> FramePSF:
    return FramePSF(
        fwhm=FWHM,
        core_beta=4.765,
        halo_fraction=0.1,
        ellipticity=0.04,
        angle=0.3,
        edge_ellipticity=edge,
        edge_broadening=edge,
    )


def _field(edge: float):
    rng = np.random.default_rng(5)
    x, y = rng.uniform(5, SIZE - 5, (2, 800))
    flux = 10 ** rng.uniform(2.5, 5.0, 800)
    image = render_field((SIZE, SIZE), x, y, flux, _psf(edge)) + rng.normal(0.0, 3.0, (SIZE, SIZE))
    return image, x, y, flux


def _flux_ratio_by_distortion(result, x, y, flux, psf: FramePSF):
    """Median aperture-corrected flux over the injected one, for undistorted stars and the most distorted."""
    catalog = result.catalog
    distance, index = cKDTree(np.column_stack([x, y])).query(np.column_stack([catalog["x"], catalog["y"]]))
    bright = (distance < 0.5) & (flux[index] > 3e3)
    ratio = np.asarray(catalog["flux"])[bright] / flux[index[bright]]
    ratio *= 10 ** (-0.4 * result.meta["aperture_correction_mag"])
    strength = psf.distortion(np.asarray(catalog["y"])[bright], SIZE)
    return np.median(ratio[strength == 0]), np.median(ratio[strength >= 0.3])


@pytest.fixture(scope="module")
def distorted():
    image, x, y, flux = _field(0.3)
    runs = {
        mode: psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145, settings=PhotometrySettings(psf_variation=mode))
        for mode in ("auto", "constant")
    }
    return runs, x, y, flux


def test_a_constant_psf_is_kept_constant():
    image, *_ = _field(0.0)
    result = psf_photometry(
        image, fwhm_guess=FWHM, pixel_scale=0.145, settings=PhotometrySettings(psf_variation="auto")
    )
    assert result.meta["psf_model"] == "constant"
    assert min(result.meta["psf_variation_p"].values()) > 1e-3


def test_a_distorted_field_is_detected_and_fitted_with_a_varying_psf(distorted):
    runs, x, y, flux = distorted
    assert runs["auto"].meta["psf_model"] == "quadratic"
    assert runs["auto"].meta["psf_variation_p"]["size"] < 1e-6
    centre_varying, edge_varying = _flux_ratio_by_distortion(runs["auto"], x, y, flux, _psf(0.3))
    centre_constant, edge_constant = _flux_ratio_by_distortion(runs["constant"], x, y, flux, _psf(0.3))
    # one ePSF loses a quarter of the flux of the broadened edge stars; the varying one recovers most of it
    assert edge_constant < 0.8
    assert edge_varying - edge_constant > 0.05
    # in the centre the varying ePSF's stars are on their total flux (one aperture correction fits every star);
    # one ePSF's correction, measured on bright stars anywhere, is pulled by the distorted ones
    assert centre_varying == pytest.approx(1.0, abs=0.02) and centre_varying >= centre_constant - 0.01
