"""The SOFI Hawaii HgCdTe array: response, defects, noise, non-linearity, saturation.

Facts from Dutra et al. 2003, §2.1 / §3.1 and the SOFI manual (Lidman et al. 2000):
1024 x 1024 pixels of 18.5 um; gain ~5.4 e-/ADU, read noise ~12 e-, a
reset (bias) level that dark frames remove, mild non-linearity and saturation
near 15000 ADU. Each stored exposure is the average of NDIT integrations of
DIT seconds (ESO convention), in ADU per DIT.

The pixel response is the product of a pixel-to-pixel flat P (~2 % rms) and
a large-scale illumination pattern L (the sky sees P * L); the dome lamp
illuminates the array with a different large-scale pattern D, which is why
ESO supplies illumination-correction frames (1 / D, normalised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["DetectorMaps", "DetectorModel", "detector_maps", "expose"]


@dataclass(frozen=True)
class DetectorModel:
    """Detector parameters (all configurable in ``imaging.simulation.detector``)."""

    shape: tuple[int, int] = (1024, 1024)
    gain: float = 5.4  # e- / ADU
    read_noise: float = 12.0  # e- per integration
    dark_current: float = 0.1  # e- / s / pixel
    reset_level: float = 250.0  # ADU, the bias-like pedestal removed by darks
    saturation: float = 15000.0  # ADU per integration
    nonlinearity: float = 1.0e-6  # fractional loss per ADU: measured = true (1 - c true)
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
    )


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
        read noise, non-linearity, saturation and defects.
    """
    large_scale = maps.dome_pattern if lamp_pattern else maps.illumination
    response = np.where(maps.dead, 0.0, maps.pixel_flat * large_scale)
    signal_e = (photon_rate * response * model.gain + model.dark_current + maps.dark_excess) * dit
    signal_e = np.maximum(signal_e, 0.0)
    # shot noise of each integration, averaged over NDIT (Gaussian limit; counts are large)
    noise = np.sqrt((signal_e + model.read_noise**2) / ndit) * rng.standard_normal(signal_e.shape)
    adu = (signal_e + noise) / model.gain
    adu = adu * (1.0 - model.nonlinearity * np.clip(adu, 0.0, None))
    adu = np.minimum(adu, model.saturation)
    adu = adu + model.reset_level
    adu[maps.bad_column] = model.reset_level + 0.5 * model.saturation
    return adu.astype(np.float32)
