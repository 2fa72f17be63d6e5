"""The SOFI Hawaii HgCdTe array: response, defects, noise, non-linearity, saturation, cosmic rays, cross-talk.

Facts from Dutra et al. 2003, §2.1 / §3.1 and the SOFI manual (Lidman et al. 2000):
1024 x 1024 pixels of 18.5 um; gain ~5.4 e-/ADU, read noise ~12 e-, a
reset (bias) level that dark frames remove, and saturation near 15000 ADU.
Each stored exposure is the average of NDIT integrations of DIT seconds (ESO
convention), in ADU per DIT.

Non-linearity follows the shape La Silla measured for this array (0.1 % at
5000 ADU, 1 % at 13000-14000 ADU; "SofI Detector Non-Linearity Correction",
2007) as a power law, measured = true (1 - c (true / 10000 ADU)^p), with
c = 0.005 and p = 2.3 - a different function from the polynomial a pipeline
corrects with, so the correction is tested, not assumed. Cosmic rays deposit
a few thousand electrons along short tracks (muons through a ~10 um HgCdTe
layer), at ``cosmic_ray_rate`` per cm^2 and second of integration; in a
stored frame an event of one integration is diluted by NDIT. Random-telegraph
("variable") pixels sit at the normal dark level in some frames and jump to a
high dark current in others, so a master dark does not flag them.

Inter-quadrant row cross-talk (Finger & Nicolini, ESO, "Interquadrant row crosstalk", measured on the
SOFI and ISAAC arrays): the four quadrants are read out in parallel, and the rows read at the same time
as an illuminated row - row r and row r + 512 - show a level proportional to that row's total signal:
a fully illuminated row of the lower half put 1.5 % of its per-pixel intensity into the dark row 512
above. Modelled as every pixel of the pair {r, r + N/2} reading ``crosstalk_coefficient`` times the
pair's summed signal (ADU) more, 1.5 % / 1024 = 1.46e-5 for the 1024-column array; a bright star thus
draws a faint stripe along its own rows and the rows half an array away, which moves with the dither
(so a sky frame from the neighbouring exposures does not remove it).

The pixel response is the product of a pixel-to-pixel flat P (~2 % rms) and
a large-scale illumination pattern L (the sky sees P * L); the dome lamp
illuminates the array with a different large-scale pattern D, which is why
ESO supplies illumination-correction frames (1 / D, normalised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DetectorMaps",
    "DetectorModel",
    "add_row_crosstalk",
    "cosmic_ray_hits",
    "detector_maps",
    "expose",
    "measured_counts",
    "saturating_counts",
]


@dataclass(frozen=True)
class DetectorModel:
    """Detector parameters (all configurable in ``imaging.simulation.detector``)."""

    shape: tuple[int, int] = (1024, 1024)
    gain: float = 5.4  # e- / ADU
    read_noise: float = 12.0  # e- per integration
    dark_current: float = 0.1  # e- / s / pixel
    reset_level: float = 250.0  # ADU, the bias-like pedestal removed by darks
    saturation: float = 15000.0  # ADU per integration
    nonlinearity_at_10000_adu: float = 0.005  # c: fractional loss of a pixel holding 10000 ADU
    nonlinearity_power: float = 2.3  # p: measured = true (1 - c (true / 10000)^p)
    pixel_size_um: float = 18.5
    cosmic_ray_rate: float = 0.05  # events / cm^2 / s of integration
    cosmic_ray_electrons: float = 4000.0  # median charge of one event, e- (log-normal, 0.3 dex)
    variable_fraction: float = 2.0e-4  # random-telegraph pixels
    variable_duty: float = 0.3  # probability that a variable pixel is in its high state in a frame
    crosstalk_coefficient: float = 1.46e-5  # extra ADU per pixel of a row pair per ADU summed over the pair
    flat_rms: float = 0.02  # pixel-to-pixel response rms
    illumination_amplitude: float = 0.03  # peak-to-centre large-scale sky response variation
    dome_amplitude: float = 0.05  # large-scale pattern of the dome lamp
    hot_fraction: float = 5.0e-4
    dead_fraction: float = 5.0e-4
    bad_column: int | None = 700


@dataclass(frozen=True)
class DetectorMaps:
    """Per-night detector state: response maps and defects (truth)."""

    pixel_flat: NDArray[np.float64]  # P, mean 1
    illumination: NDArray[np.float64]  # L, mean 1
    dome_pattern: NDArray[np.float64]  # D, mean 1
    hot: NDArray[np.bool_]
    dead: NDArray[np.bool_]
    bad_column: NDArray[np.bool_]
    dark_excess: NDArray[np.float64]  # extra dark current of hot pixels, e-/s
    variable_excess: NDArray[np.float64]  # dark current of a variable pixel in its high state, e-/s (0 elsewhere)

    @property
    def sky_response(self) -> NDArray[np.float64]:
        """What a correct flat-field must divide out: P * L (dead pixels 0)."""
        return np.where(self.dead, 0.0, self.pixel_flat * self.illumination)

    @property
    def bad(self) -> NDArray[np.bool_]:
        return self.hot | self.dead | self.bad_column


def _large_scale(shape: tuple[int, int], amplitude: float, tilt: tuple[float, float]) -> NDArray[np.float64]:
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx]
    u, v = (x - nx / 2) / (nx / 2), (y - ny / 2) / (ny / 2)
    pattern = 1.0 - amplitude * (u**2 + v**2) / 2 + 0.5 * amplitude * (tilt[0] * u + tilt[1] * v)
    return pattern / pattern.mean()


def detector_maps(model: DetectorModel, rng: np.random.Generator) -> DetectorMaps:
    """Draw the night's pixel response and defects.

    Parameters
    ----------
    model : DetectorModel
    rng : numpy.random.Generator
        Seeded from the night (same seed, same maps).
    """
    shape = model.shape
    pixel_flat = 1.0 + model.flat_rms * rng.standard_normal(shape)
    # a smooth quadrant-scale gain difference, typical of Hawaii arrays
    ny, nx = shape
    pixel_flat[: ny // 2, nx // 2 :] *= 1.01
    pixel_flat[ny // 2 :, : nx // 2] *= 0.99
    pixel_flat /= pixel_flat.mean()
    hot = rng.random(shape) < model.hot_fraction
    dead = rng.random(shape) < model.dead_fraction
    column = np.zeros(shape, dtype=bool)
    if model.bad_column is not None and model.bad_column < nx:
        column[:, model.bad_column] = True
    return DetectorMaps(
        pixel_flat=pixel_flat,
        illumination=_large_scale(shape, model.illumination_amplitude, (0.4, -0.3)),
        dome_pattern=_large_scale(shape, model.dome_amplitude, (-0.5, 0.6)),
        hot=hot,
        dead=dead,
        bad_column=column,
        dark_excess=np.where(hot, rng.uniform(50.0, 500.0, shape), 0.0),
        variable_excess=np.where(rng.random(shape) < model.variable_fraction, rng.uniform(20.0, 200.0, shape), 0.0),
    )


def measured_counts(model: DetectorModel, true_adu: NDArray[np.float64]) -> NDArray[np.float64]:
    """The array's non-linear response: what a pixel reads for ``true_adu`` above the reset level.

    measured = true (1 - c (true / 10000)^p), c = ``nonlinearity_at_10000_adu``, p = ``nonlinearity_power``.
    """
    level = np.clip(true_adu, 0.0, None) / 1.0e4  # read noise can take an empty pixel below zero
    return true_adu * (1.0 - model.nonlinearity_at_10000_adu * level**model.nonlinearity_power)


def saturating_counts(model: DetectorModel) -> float:
    """The linear counts (ADU) that the non-linear response reads as the saturation level.

    Found by bisection below the response's maximum; the response rises monotonically up to there.
    """
    low, high = 0.0, model.saturation
    while float(measured_counts(model, np.array(high))) < model.saturation:
        high *= 1.5
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (
            (middle, high) if float(measured_counts(model, np.array(middle))) < model.saturation else (low, middle)
        )
    return high


def add_row_crosstalk(counts: NDArray[np.float64], coefficient: float) -> NDArray[np.float64]:
    """The inter-quadrant row cross-talk added to counts above the reset level (ADU).

    Every pixel of the rows read at the same time, r and r + N/2 (N rows), reads ``coefficient`` times
    the two rows' summed counts more. Returns a new array; an odd number of rows is refused.
    """
    ny = counts.shape[0]
    if ny % 2:
        raise ValueError(f"row cross-talk pairs row r with r + N/2; got N = {ny} rows")
    half = ny // 2
    pair_sum = counts[:half].sum(axis=1) + counts[half:].sum(axis=1)
    return counts + coefficient * np.tile(pair_sum, 2)[:, None]


def cosmic_ray_hits(model: DetectorModel, seconds: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """Charge (e-) deposited by the cosmic rays of one integration of ``seconds``.

    Events arrive uniformly over the array (Poisson, ``cosmic_ray_rate`` per cm^2 per s). Each deposits a
    log-normal charge (median ``cosmic_ray_electrons``, 0.3 dex) along a straight track whose projected length
    is the layer thickness (10 um) times tan(zenith angle), isotropic over the upper hemisphere: most
    tracks cover 1-3 pixels.
    """
    ny, nx = model.shape
    area_cm2 = ny * nx * (model.pixel_size_um * 1e-4) ** 2
    hits = np.zeros(model.shape)
    n = rng.poisson(model.cosmic_ray_rate * area_cm2 * seconds)
    if n == 0:
        return hits
    x0, y0 = rng.uniform(0, nx, n), rng.uniform(0, ny, n)
    charge = model.cosmic_ray_electrons * 10.0 ** (0.3 * rng.standard_normal(n))
    zenith = np.arccos(rng.uniform(0.05, 1.0, n))  # isotropic flux through a flat layer
    length = np.minimum(10.0 * np.tan(zenith) / model.pixel_size_um, 30.0)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    for xs, ys, q, ell, phi in zip(x0, y0, charge, length, angle, strict=True):
        steps = max(int(np.ceil(ell)), 1)
        t = (np.arange(steps) + 0.5) / steps
        xi = np.clip((xs + t * ell * np.cos(phi)).astype(int), 0, nx - 1)
        yi = np.clip((ys + t * ell * np.sin(phi)).astype(int), 0, ny - 1)
        np.add.at(hits, (yi, xi), q / steps)
    return hits


def expose(
    model: DetectorModel,
    maps: DetectorMaps,
    photon_rate: NDArray[np.float64],
    dit: float,
    ndit: int,
    rng: np.random.Generator,
    lamp_pattern: bool = False,
) -> NDArray[np.float32]:
    """One stored exposure: the average of NDIT integrations, in ADU.

    Parameters
    ----------
    model, maps : DetectorModel, DetectorMaps
    photon_rate : numpy.ndarray
        Incident signal in ADU/s per pixel before the pixel response
        (i.e. what a perfect, gain-normalised pixel would record).
    dit : float
        Detector integration time, s.
    ndit : int
        Number of integrations averaged.
    rng : numpy.random.Generator
        Seeded per exposure.
    lamp_pattern : bool
        True for dome-lamp flats: the large-scale response is the dome's
        pattern D instead of the sky illumination L.

    Returns
    -------
    numpy.ndarray (float32)
        The raw frame: reset level + dark + response * signal, with shot and
        read noise, non-linearity, saturation, row cross-talk, defects, variable pixels and cosmic rays.
    """
    large_scale = maps.dome_pattern if lamp_pattern else maps.illumination
    response = np.where(maps.dead, 0.0, maps.pixel_flat * large_scale)
    high_state = rng.random(model.shape) < model.variable_duty
    dark_e = model.dark_current + maps.dark_excess + np.where(high_state, maps.variable_excess, 0.0)
    signal_e = (photon_rate * response * model.gain + dark_e) * dit
    signal_e = np.maximum(signal_e, 0.0)
    # shot noise of each integration, averaged over NDIT (Gaussian limit; counts are large)
    noise = np.sqrt((signal_e + model.read_noise**2) / ndit) * rng.standard_normal(signal_e.shape)
    # cosmic rays of the NDIT integrations, each diluted by the average over NDIT
    cosmic = sum(cosmic_ray_hits(model, dit, rng) for _ in range(ndit)) / ndit if model.cosmic_ray_rate > 0 else 0.0
    # the well fills: above the charge that reads as the saturation level the pixel reads saturation
    adu = measured_counts(model, np.minimum((signal_e + noise + cosmic) / model.gain, saturating_counts(model)))
    adu = np.minimum(adu, model.saturation)
    if model.crosstalk_coefficient > 0:
        adu = add_row_crosstalk(adu, model.crosstalk_coefficient)
    adu = adu + model.reset_level
    adu[maps.bad_column] = model.reset_level + 0.5 * model.saturation
    return adu.astype(np.float32)
