"""Settings of the PSF photometry (``imaging.photometry`` in the configuration), checked on construction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PSF_VARIATIONS", "PhotometrySettings"]


#: the final ePSF: one for the image, chosen by the residuals' structure, or always varying (as the map of the
#: constant ePSF or quadratically)
PSF_VARIATIONS = ("auto", "constant", "distortion", "quadratic")


@dataclass
class PhotometrySettings:
    """Settings of the photometry (``imaging.photometry`` in the configuration).

    Attributes
    ----------
    detection_nsigma : float
        Detection threshold, in units of the local noise (DAOFIND's amplitude of the fit).
    passes : int
        Fit, subtract and re-detect passes (ALLSTAR followed by FIND on the subtracted image).
    fit_radius_fwhm : float
        Fitting radius, in FWHM (at least 2 pixels).
    psf_half_size_fwhm : float
        Half size of the ePSF's stamp, in FWHM.
    psf_oversampling : int
        Oversampling of the ePSF's grid.
    psf_stars : int
        PSF stars of a constant ePSF; a varying one draws on up to three times as many.
    aperture_radius_arcsec : float
        The standards' aperture the correction extrapolates to, arcsec (5.2 in Dutra et al. 2003).
    background_box : int
        Mesh of the background estimate, pixels.
    engine : str
        ``fast`` (this package's vectorised fitter) or ``photutils`` (``PSFPhotometry``, the reference).
    max_chi : float
        A fit with chi at or above this is poor: flagged, and its companion looked for.
    companion_separation_fwhm : float
        Closest companion admitted beside a poorly fitted star in the re-detection passes, FWHM.
    merge_separation_fwhm : float
        Fitted stars that converge closer than this are merged into the brighter, FWHM.
    psf_variation : str
        One of :data:`PSF_VARIATIONS`.
    psf_grid_nodes : int
        Nodes per axis on which a varying ePSF is tabulated.
    psf_variation_p : float
        False-alarm probability at which ``auto`` takes the residuals' position dependence as real.
    profile_error : float
        Fraction of a subtracted star's model taken as its uncertainty when new stars are looked for
        (DAOPHOT's profile error).
    """

    detection_nsigma: float = 4.0
    passes: int = 3
    fit_radius_fwhm: float = 1.0
    psf_half_size_fwhm: float = 3.5
    psf_oversampling: int = 2
    psf_stars: int = 80
    aperture_radius_arcsec: float = 5.2
    background_box: int = 32
    engine: str = "fast"
    max_chi: float = 5.0
    companion_separation_fwhm: float = 0.5
    merge_separation_fwhm: float = 0.3
    psf_variation: str = "constant"
    psf_grid_nodes: int = 9
    psf_variation_p: float = 1e-3
    profile_error: float = 0.05

    def __post_init__(self) -> None:
        positive = (
            "detection_nsigma",
            "fit_radius_fwhm",
            "psf_half_size_fwhm",
            "aperture_radius_arcsec",
            "max_chi",
            "companion_separation_fwhm",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"photometry setting {name} = {getattr(self, name)!r}: expected a positive number")
        least_values = (
            ("passes", 1),
            ("psf_oversampling", 1),
            ("psf_stars", 1),
            ("background_box", 2),
            ("psf_grid_nodes", 2),
        )
        for name, least in least_values:
            value = getattr(self, name)
            if not (isinstance(value, int | np.integer) and value >= least):
                raise ValueError(f"photometry setting {name} = {value!r}: expected an integer >= {least}")
        if not 0 <= self.profile_error < 1:
            raise ValueError(f"photometry setting profile_error = {self.profile_error!r}: expected 0 <= value < 1")
        if not self.merge_separation_fwhm >= 0:
            raise ValueError(
                f"photometry setting merge_separation_fwhm = {self.merge_separation_fwhm!r}: expected >= 0"
            )
        if not 0 < self.psf_variation_p < 1:
            raise ValueError(f"photometry setting psf_variation_p = {self.psf_variation_p!r}: expected 0 < p < 1")
        if self.psf_variation not in PSF_VARIATIONS:
            raise ValueError(
                f"photometry setting psf_variation = {self.psf_variation!r}: expected one of {', '.join(PSF_VARIATIONS)}"
            )
        if self.engine not in ("fast", "photutils"):
            raise ValueError(f"photometry setting engine = {self.engine!r}: expected 'fast' or 'photutils'")

    @classmethod
    def from_config(cls, photometry: dict) -> PhotometrySettings:
        """Settings from the ``imaging.photometry`` configuration (other keys ignored)."""
        names = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in photometry.items() if key in names})
