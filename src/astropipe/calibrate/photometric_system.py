"""Calibrated H, K and H - K from instrumental magnitudes: the colour-term system solved exactly (Dutra et al. 2003, eqs. 2-3).

With h' and k' the instrumental magnitudes normalised to 1 s and zero airmass,

    H - h' = a_H (H - K) + z_H,        K - k' = a_K (H - K) + z_K,

subtracting gives (H - K)(1 - a_H + a_K) = h' - k' + z_H - z_K, so

    H - K = (h' - k' + z_H - z_K) / (1 - a_H + a_K),
    H = h' + a_H (H - K) + z_H,        K = k' + a_K (H - K) + z_K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["BandCalibration", "normalised_instrumental", "solve_colour_system"]


@dataclass(frozen=True)
class BandCalibration:
    """Transformation of one band: colour term a, zero point z (mag), their covariance, extinction (mag/airmass).

    ``systematic_err`` (mag) is added in quadrature to the zero-point error of
    the calibrated magnitudes (the rms of the standards and, for Ks -> K, 0.02 mag).
    """

    colour_term: float
    zero_point: float
    covariance: NDArray[np.float64]
    extinction: float
    systematic_err: float = 0.0

    @classmethod
    def from_json(cls, band: dict) -> BandCalibration:
        """From one band of ``calibration.json`` (written by :mod:`astropipe.calibrate.standards`)."""
        systematic = float(np.hypot(band["rms_mag"], band.get("ks_to_k_err_mag", 0.0)))
        return cls(
            colour_term=band["colour_term"],
            zero_point=band["zero_point_mag"],
            covariance=np.asarray(band["covariance"], float)[:2, :2],
            extinction=band["extinction_mag_per_airmass"],
            systematic_err=systematic,
        )


def normalised_instrumental(
    mag_inst: NDArray[np.float64], aperture_correction: float, airmass: float, extinction: float
) -> NDArray[np.float64]:
    """h' = m_PSF + aperture correction - K X for a stack in counts per second (Dutra et al. 2003, eq. 1).

    Parameters
    ----------
    mag_inst : numpy.ndarray
        -2.5 log10(PSF flux in ADU/s), mag.
    aperture_correction : float
        PSF -> R = 5.2" aperture, mag (negative: the aperture holds more light than the PSF footprint).
    airmass : float
        Mean airmass of the stack.
    extinction : float
        K_lambda, mag/airmass.
    """
    return np.asarray(mag_inst, float) + aperture_correction - extinction * airmass


def solve_colour_system(
    h: NDArray[np.float64],
    h_err: NDArray[np.float64],
    k: NDArray[np.float64],
    k_err: NDArray[np.float64],
    cal_h: BandCalibration,
    cal_k: BandCalibration,
) -> dict[str, NDArray[np.float64]]:
    """Calibrated H, K, H - K with random and calibration errors.

    Parameters
    ----------
    h, k : numpy.ndarray
        Normalised instrumental magnitudes h', k' (:func:`normalised_instrumental`), mag.
    h_err, k_err : numpy.ndarray
        Their random errors, mag.
    cal_h, cal_k : BandCalibration

    Returns
    -------
    dict
        ``H``, ``K``, ``HK`` and their random errors ``e_H``, ``e_K``, ``e_HK``;
        ``e_H_cal``, ``e_K_cal``, ``e_HK_cal``: the calibration (systematic, common to
        all stars) errors at each star's colour, from the fits' covariances and
        ``systematic_err``.
    """
    a_h, z_h, a_k, z_k = cal_h.colour_term, cal_h.zero_point, cal_k.colour_term, cal_k.zero_point
    denominator = 1.0 - a_h + a_k
    if not denominator > 0.5:
        raise ValueError(
            f"colour terms a_H = {a_h}, a_K = {a_k} make 1 - a_H + a_K = {denominator:.3f}; expected close to 1"
        )
    hk = (np.asarray(h) - np.asarray(k) + z_h - z_k) / denominator
    big_h = h + a_h * hk + z_h
    big_k = k + a_k * hk + z_k
    # random errors: d(HK) = (dh - dk) / D, dH = dh + a_H d(HK), dK = dk + a_K d(HK)
    e_hk = np.hypot(h_err, k_err) / denominator
    e_h = np.sqrt((1 + a_h / denominator) ** 2 * h_err**2 + (a_h / denominator) ** 2 * k_err**2)
    e_k = np.sqrt((a_k / denominator) ** 2 * h_err**2 + (1 - a_k / denominator) ** 2 * k_err**2)
    # calibration errors: parameters p = (a_H, z_H, a_K, z_K), bands independent
    cov = np.zeros((4, 4))
    cov[:2, :2], cov[2:, 2:] = cal_h.covariance, cal_k.covariance
    d_hk = np.stack(
        [
            hk / denominator,
            np.full_like(hk, 1.0 / denominator),
            -hk / denominator,
            np.full_like(hk, -1.0 / denominator),
        ],
        axis=-1,
    )
    d_h = a_h * d_hk + np.stack([hk, np.ones_like(hk), np.zeros_like(hk), np.zeros_like(hk)], axis=-1)
    d_k = a_k * d_hk + np.stack([np.zeros_like(hk), np.zeros_like(hk), hk, np.ones_like(hk)], axis=-1)

    def propagated(jacobian: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.sqrt(np.einsum("...i,ij,...j->...", jacobian, cov, jacobian))

    return {
        "H": big_h,
        "K": big_k,
        "HK": hk,
        "e_H": e_h,
        "e_K": e_k,
        "e_HK": e_hk,
        "e_H_cal": np.hypot(propagated(d_h), cal_h.systematic_err),
        "e_K_cal": np.hypot(propagated(d_k), cal_k.systematic_err),
        "e_HK_cal": np.hypot(propagated(d_hk), np.hypot(cal_h.systematic_err, cal_k.systematic_err)),
    }
