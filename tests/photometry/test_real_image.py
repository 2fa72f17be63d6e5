"""PSF photometry of a real, already-reduced infrared image: the GLIMPSE 4.5 um mosaic at l = 18 deg,
named in the configuration (``imaging.reduced_images``) and measured by the workflow's rule.

Documented comparison with the GLIMPSE point-source catalogue of the field
(224 sources, ../shared/data/real/): every catalogue source inside the image
must be detected within 1 pixel (1.2 arcsec), the median position offset must
be below 0.5 pixel, and after one zero point (our instrumental magnitude is
-2.5 log10 of the PSF flux in MJy/sr x pixel) the catalogue's mag4_5 must be
reproduced with a robust scatter below 0.2 mag. The image has a Galactic CAR
WCS and MJy/sr units, neither of which the photometry may trip over.
"""

import astropy.units as u
import numpy as np
import pytest
import yaml
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from conftest import CI_CONFIG, REPO, run_snakemake
from scipy.spatial import cKDTree

REAL = REPO.parent / "shared" / "data" / "real"
pytestmark = pytest.mark.skipif(
    not (REAL / "glimpse_l18_irac2_image.fits").is_file(), reason=f"real GLIMPSE data not found in {REAL}"
)


def test_glimpse_catalogue_is_recovered(tmp_path):
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["imaging"]["reduced_images"] = {
        "glimpse_l18": {
            "path": str(REAL / "glimpse_l18_irac2_image.fits"),
            "filter": "IRAC2",
            "fwhm_arcsec": 1.7,
            "photometry": {"detection_nsigma": 5.0, "psf_oversampling": 4, "aperture_radius_arcsec": 5.1},
        }
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    target = "results/imaging/reduced/glimpse_l18/catalog.ecsv"
    run_snakemake(target, "--cores", "2", "--directory", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"))
    catalog = Table.read(tmp_path / target, format="ascii.ecsv")
    with fits.open(REAL / "glimpse_l18_irac2_image.fits") as hdul:
        image, header = hdul[0].data, hdul[0].header
    wcs = WCS(header)
    assert np.all(np.isfinite(catalog["ra"])) and len(catalog) > 1000
    reference = Table.read(REAL / "glimpse_l18_irac2_catalog.vot.xml")
    x, y = wcs.world_to_pixel(SkyCoord(reference["l"], reference["b"], frame="galactic"))
    inside = (x > 5) & (x < image.shape[1] - 6) & (y > 5) & (y < image.shape[0] - 6)
    distance, index = cKDTree(np.column_stack([catalog["x"], catalog["y"]])).query(np.column_stack([x, y])[inside])
    matched = distance < 1.0
    assert matched.mean() >= 0.95
    assert np.median(distance[matched]) < 0.5
    ours = np.asarray(catalog["mag_inst"])[index[matched]]
    theirs = np.asarray(reference["mag4_5"])[inside][matched]
    difference = theirs - ours
    scatter = 1.4826 * np.median(np.abs(difference - np.median(difference)))
    assert scatter < 0.2
    # sky positions agree too (the Galactic WCS was used correctly)
    sky = SkyCoord(catalog["ra"][index[matched]], catalog["dec"][index[matched]], unit="deg")
    ref_sky = SkyCoord(reference["l"][inside][matched], reference["b"][inside][matched], frame="galactic")
    assert np.median(sky.separation(ref_sky).to_value(u.arcsec)) < 0.6
