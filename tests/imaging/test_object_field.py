"""Object 11 in Ks on the default simulated night, raw frames to PSF catalogue, against the truth.

The acceptance numbers of issue 5: no flat/illumination residual above 0.5 %
of the sky, a sky-subtracted stack whose background is consistent with zero,
K < 14 stars within +-0.02 mag (median) with robust scatter <= 0.03 mag, and
completeness >= 90 % two magnitudes above the 50 % limit.
"""

import logging

import numpy as np
import pytest
import yaml
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS
from snakemake.utils import validate

from astropipe.photometry.artificial_stars import completeness_table, fifty_percent_limit, inject_and_recover
from astropipe.photometry.pipeline import PhotometrySettings, psf_photometry
from astropipe.reduce.ingest import classify_frames, validate_night
from astropipe.reduce.masters import build_masters, load_masters
from astropipe.reduce.sequence import reduce_sequence
from astropipe.simulate.night import NightSimulation
from astropipe.simulate.psf import render_stars
from conftest import REPO

REFERENCE = REPO.parent / "shared" / "data" / "reference"
pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"shared reference data not found at {REFERENCE}")
LOG = logging.getLogger("test_object_field")


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    imaging = config["imaging"]
    night = NightSimulation(imaging, REFERENCE)
    root = tmp_path_factory.mktemp("object11_Ks")
    night.write_calibrations(root / "raw" / "calib")
    night.write_sequence("object11", "Ks", root / "raw" / "object11")
    frames = classify_frames(sorted((root / "raw").rglob("*.fits")))
    validate_night(frames)
    build_masters(frames, root / "masters")
    sequence = frames[(frames["type"] == "OBJECT") & (frames["filter"] == "Ks")]
    dark, flat, bad = load_masters(root / "masters", float(sequence["dit"][0]), "Ks")
    stack = reduce_sequence(sequence, dark, flat, bad, log=LOG)
    header = stack.header
    photometry = psf_photometry(
        stack.image, fwhm_guess=0.8 / 0.145, pixel_scale=0.145, saturation=header["SATURATE"],
        exposure=stack.exposure, gain=header["GAIN"], wcs=WCS(header).celestial, log=LOG,
    )  # fmt: skip
    return {"night": night, "flat": flat, "bad": bad, "stack": stack, "photometry": photometry,
            "sequence": sequence, "imaging": imaging}  # fmt: skip


def test_master_flat_leaves_no_pattern_above_half_a_percent(reduced):
    response = reduced["night"].maps.sky_response
    good = ~reduced["bad"] & (response > 0)
    ratio = np.where(good, reduced["flat"] / np.where(good, response, 1.0), np.nan)
    ratio /= np.nanmedian(ratio)
    blocks = ratio.reshape(32, 32, 32, 32).transpose(0, 2, 1, 3).reshape(32, 32, -1)
    large_scale = np.nanmedian(blocks, axis=2)
    assert np.nanmax(np.abs(large_scale - 1.0)) < 0.005


def test_registration_recovers_the_true_offsets(reduced):
    offsets = reduced["stack"].offsets
    # the simulator's header offsets are exact: registration must find them again from the images
    assert np.max(np.abs(offsets["dx"] - offsets["header_dx"])) < 0.05
    assert np.max(np.abs(offsets["dy"] - offsets["header_dy"])) < 0.05


def test_sky_subtracted_stack_has_zero_background(reduced):
    stack, header = reduced["stack"], reduced["stack"].header
    wcs = WCS(header).celestial
    stars = reduced["night"].scene("object11").stars
    x, y = wcs.world_to_pixel(SkyCoord(stars["ra"], stars["dec"], unit="deg"))
    photometry = reduced["night"].photometry
    airmass = float(np.mean(reduced["sequence"]["airmass"]))
    rate = photometry.count_rate("Ks", np.asarray(stars["H"]), np.asarray(stars["K"]), airmass)
    model = render_stars(stack.image.shape, x, y, rate, 0.85 / 0.145, 3.0)
    nebula_free = np.hypot(*np.meshgrid(np.arange(stack.image.shape[1]) - stack.image.shape[1] / 2,
                                        np.arange(stack.image.shape[0]) - stack.image.shape[0] / 2)) > 450  # fmt: skip
    full_depth = stack.exposure >= 0.99 * stack.exposure.max()
    sky = float(np.median(reduced["stack"].offsets["sky_level"])) / header["DIT"]
    faint = model < 0.01 * sky  # away from the cores and wings of the simulated stars
    residual = (stack.image - model)[full_depth & nebula_free & faint & np.isfinite(stack.image)]
    # what is left is the unsubtracted sky (the stars, resolved or not, are in the model)
    assert abs(np.median(residual)) < 0.005 * sky


def test_bright_stars_match_the_truth(reduced):
    catalog = reduced["photometry"].catalog
    stars = reduced["night"].scene("object11").stars
    index, separation, _ = SkyCoord(catalog["ra"], catalog["dec"], unit="deg").match_to_catalog_sky(
        SkyCoord(stars["ra"], stars["dec"], unit="deg")
    )
    k, h = np.asarray(stars["K"])[index], np.asarray(stars["H"])[index]
    airmass = float(np.mean(reduced["sequence"]["airmass"]))
    system = reduced["night"].photometry
    expected = k - system.colour_term["Ks"] * (h - k) - system.zero_point["Ks"] + system.extinction["Ks"] * airmass
    measured = np.asarray(catalog["mag_inst"]) + reduced["photometry"].meta["aperture_correction_mag"]
    good = (separation.arcsec < 0.3) & (catalog["flags"] == 0) & (k < 14)
    delta = measured[good] - expected[good]
    assert good.sum() > 300
    assert abs(np.median(delta)) <= 0.02
    assert 1.4826 * np.median(np.abs(delta - np.median(delta))) <= 0.03


def test_completeness_two_magnitudes_above_the_fifty_percent_limit(reduced):
    photometry, stack = reduced["photometry"], reduced["stack"]
    header = stack.header
    settings = PhotometrySettings()

    def measure(image):
        return psf_photometry(image, fwhm_guess=0.8 / 0.145, pixel_scale=0.145, saturation=header["SATURATE"],
                              exposure=stack.exposure, gain=header["GAIN"], settings=settings,
                              psf=(photometry.psf, photometry.epsf_image)).catalog  # fmt: skip

    magnitudes = np.asarray(photometry.catalog["mag_inst"])
    bright, faint = np.percentile(magnitudes[np.isfinite(magnitudes)], [5, 99])
    injected = inject_and_recover(stack.image, photometry.psf, measure, 250, (bright, faint + 1.0), 2,
                                  np.random.default_rng(11), gain=header["GAIN"])  # fmt: skip
    table = completeness_table(injected, 0.5)
    limit = fifty_percent_limit(table)
    assert np.isfinite(limit)
    centre = 0.5 * (table["mag_lo"] + table["mag_hi"])
    well_above = table[(centre <= limit - 2.0) & (table["n_injected"] >= 10)]
    assert len(well_above) >= 2
    assert np.sum(well_above["n_recovered"]) / np.sum(well_above["n_injected"]) >= 0.9
