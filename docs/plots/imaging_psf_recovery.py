"""PSF photometry against the injected truth on a crowded simulated field.

1,500 Moffat stars (FWHM 3 px, beta 3) with a rising luminosity function (dN/dm ~ 10^(0.35 m)) on a
400 x 400 px image with sky and Poisson noise, measured by :func:`astropipe.photometry.psf_photometry`
(ePSF built from the image, three passes, aperture correction); drawn when the documentation is built.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.spatial import cKDTree

from astropipe.photometry.pipeline import psf_photometry
from astropipe.simulate.psf import render_stars

rng = np.random.default_rng(2003)
size, n_stars, zero_point, sky, gain = 400, 1500, 26.5, 100.0, 5.0
magnitude = 12.0 + np.log10(1.0 + rng.uniform(0.0, 10 ** (0.35 * 9.0) - 1.0, n_stars)) / 0.35
x, y = rng.uniform(5.0, size - 5.0, (2, n_stars))
flux = 10 ** (-0.4 * (magnitude - zero_point))
image = render_stars((size, size), x, y, flux, 3.0, 3.0) + sky
image = rng.poisson(image * gain) / gain - sky

result = psf_photometry(image, fwhm_guess=3.0, pixel_scale=0.29, gain=gain)
catalogue = result.catalog
measured = zero_point - 2.5 * np.log10(np.clip(catalogue["flux"], 1e-9, None)) + result.meta["aperture_correction_mag"]
distance, nearest = cKDTree(np.column_stack([x, y])).query(np.column_stack([catalogue["x"], catalogue["y"]]))
found = distance < 1.0
difference = measured[found] - magnitude[nearest[found]]

bins = np.arange(12.0, 21.5, 0.5)
centres = 0.5 * (bins[1:] + bins[:-1])
recovered = np.zeros(n_stars, bool)
recovered[nearest[found]] = True
injected_counts = np.histogram(magnitude, bins)[0]
completeness = np.where(
    injected_counts > 0, np.histogram(magnitude[recovered], bins)[0] / np.maximum(injected_counts, 1), np.nan
)
which = np.digitize(magnitude[nearest[found]], bins) - 1
median = [np.median(difference[which == i]) if np.sum(which == i) > 5 else np.nan for i in range(centres.size)]

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
left.plot(magnitude[nearest[found]], difference, ".", ms=2, color="0.5")
left.plot(centres, median, "C3o-", ms=4, label="median per 0.5 mag")
left.axhline(0.0, color="k", lw=0.6)
left.set_ylim(-0.5, 0.5)
left.set_xlabel("injected magnitude")
left.set_ylabel("measured - injected (mag)")
left.legend(fontsize=8)
right.plot(centres, completeness, "C0o-", ms=4)
right.set_ylim(0, 1.05)
right.set_xlabel("injected magnitude")
right.set_ylabel("fraction found within 1 px")
right.set_title(
    f"{found.sum()} of {n_stars} injected stars matched;\naperture correction "
    f"{result.meta['aperture_correction_mag']:+.3f} mag",
    fontsize=9,
)
fig.tight_layout()
