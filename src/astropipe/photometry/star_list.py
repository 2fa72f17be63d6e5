"""The star list of the photometry's passes: positions, fluxes and their fit, saturated cores settled first."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.photometry.fit_engines import fit_with_engine
from astropipe.photometry.psf_model import PSFModel, StampModel
from astropipe.photometry.saturated_stars import SaturatedCores
from astropipe.photometry.saturated_wings import SaturatedWings
from astropipe.photometry.settings import PhotometrySettings

__all__ = ["StarList"]


@dataclass
class StarList:
    """The star list of the passes: positions, fluxes, errors, chi, and the detection's shape statistics
    and pass of every star.

    Attributes
    ----------
    x, y : numpy.ndarray
        0-based pixel positions.
    flux, flux_err : numpy.ndarray
        PSF fluxes and their errors (image units), the errors None until the first fit.
    sharp, round_ : numpy.ndarray
        DAOFIND's sharpness and roundness of the detection (NaN for a star placed on a saturated core).
    found_in : numpy.ndarray
        The pass whose detection added the star (1 the first).
    chi : numpy.ndarray or None
        The fit's chi, None until the first fit.
    saturated : numpy.ndarray or None
        Which stars are the saturated cores' stars, None until the first fit.
    wings : SaturatedWings
        What the ePSF fit leaves around the saturated stars, measured by the last fit.
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    flux: NDArray[np.float64]
    sharp: NDArray[np.float64]
    round_: NDArray[np.float64]
    found_in: NDArray[np.int64]
    flux_err: NDArray[np.float64] | None = None
    chi: NDArray[np.float64] | None = None
    saturated: NDArray[np.bool_] | None = None
    wings: SaturatedWings = field(default_factory=SaturatedWings.none)

    @classmethod
    def detected(cls, found: Table, psf: PSFModel, found_in: int) -> StarList:
        """New stars from detections: the flux starts as the peak over the ePSF's central value."""
        peak = np.maximum(np.asarray(found["peak"], float), 0.0)
        return cls(
            x=np.asarray(found["x"], float),
            y=np.asarray(found["y"], float),
            flux=peak / max(float(psf(np.zeros(1), np.zeros(1))[0]), 1e-12),
            sharp=np.asarray(found["sharpness"], float),
            round_=np.asarray(found["roundness"], float),
            found_in=np.full(len(found), found_in),
        )

    def extend(self, other: StarList) -> None:
        """Append ``other``'s stars (not yet fitted ones get NaN errors and chi)."""
        for name in ("x", "y", "flux", "sharp", "round_", "found_in"):
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        for name in ("flux_err", "chi"):  # known once fitted; NaN for the new stars until then
            if getattr(self, name) is not None:
                extra = getattr(other, name)
                extra = np.full(other.x.size, np.nan) if extra is None else extra
                setattr(self, name, np.concatenate([getattr(self, name), extra]))
        if self.saturated is not None:  # the fit settles new stars on cores
            self.saturated = np.concatenate([self.saturated, np.zeros(other.x.size, dtype=bool)])

    def fit(
        self,
        settings: PhotometrySettings,
        signal: NDArray[np.float64],
        noise: NDArray[np.float64],
        psf: StampModel,
        fit_radius: float,
        bad: NDArray[np.bool_],
        fwhm: float,
        cores: SaturatedCores,
    ) -> None:
        """Fit every star (the engine of ``settings``) and keep those the fit keeps.

        Each saturated core has one star (:meth:`SaturatedCores.claim`: the pieces on it dropped, a star
        added at the centroid of a core without one); those are fitted first, against the image less the
        other stars, over the largest core's radius plus ``fit_radius`` (within the ePSF's stamp) with the
        saturated pixels ``bad`` left out; then the others, against the image less the saturated stars and
        the light their fit leaves around them within the ePSF's stamp (:class:`SaturatedWings`, measured on
        this image).
        """
        on_core = self._settle_on_cores(cores, fwhm)
        self.flux_err = np.full(self.x.size, np.nan) if self.flux_err is None else self.flux_err
        self.chi = np.full(self.x.size, np.nan) if self.chi is None else self.chi
        kept = np.ones(self.x.size, dtype=bool)
        self.saturated, self.wings, saturated_model = on_core, SaturatedWings.none(), np.zeros(signal.shape)
        if on_core.any():
            others = psf.image(signal.shape, self.x[~on_core], self.y[~on_core], self.flux[~on_core])
            radius = min(float(cores.radius.max()) + fit_radius, psf.half - 1.0)
            kept[on_core] = self._fit_some(on_core, settings.engine, signal - others, noise, psf, radius, bad, 0.0)
            self.saturated = on_core & kept
            sx, sy, sflux = self.x[self.saturated], self.y[self.saturated], self.flux[self.saturated]
            saturated_model = psf.image(signal.shape, sx, sy, sflux)
            self.wings = SaturatedWings.measure(signal - others - saturated_model, sx, sy, sflux, psf.half, bad)
            saturated_model += self.wings.image(signal.shape, sx, sy, sflux)
        merge_separation = settings.merge_separation_fwhm * fwhm
        kept[~on_core] = self._fit_some(
            ~on_core, settings.engine, signal - saturated_model, noise, psf, fit_radius, bad, merge_separation
        )
        self._keep(kept)

    def _fit_some(self, which, engine, signal, noise, psf, fit_radius, bad, merge_separation) -> NDArray[np.bool_]:
        """Fit the stars ``which`` on ``signal``, store what the fit found, return which of them it keeps."""
        if not which.any():
            return np.zeros(0, dtype=bool)
        x, y, flux, flux_err, chi, kept = fit_with_engine(
            engine,
            signal,
            noise,
            psf,
            self.x[which],
            self.y[which],
            self.flux[which],
            fit_radius=fit_radius,
            bad=bad,
            merge_separation=merge_separation,
        )
        self.x[which], self.y[which], self.flux[which] = x, y, flux
        self.flux_err[which], self.chi[which] = flux_err, chi
        return np.asarray(kept, dtype=bool)

    def _settle_on_cores(self, cores, fwhm) -> NDArray[np.bool_]:
        """Drop the pieces of stars on saturated cores, give a star to every core without one (at its centroid);
        return which stars are the cores' stars."""
        pieces = cores.claim(self.x, self.y, fwhm)[1]
        self._keep(~np.isin(np.arange(self.x.size), pieces))
        missing = np.flatnonzero(cores.claim(self.x, self.y, fwhm)[0] < 0)
        if missing.size:
            n = missing.size
            self.extend(
                StarList(
                    x=cores.x[missing],
                    y=cores.y[missing],
                    flux=np.ones(n),
                    sharp=np.full(n, np.nan),
                    round_=np.full(n, np.nan),
                    found_in=np.ones(n, dtype=np.int64),
                    flux_err=np.full(n, np.nan),
                    chi=np.full(n, np.nan),
                )
            )
        return cores.claim(self.x, self.y, fwhm)[2] >= 0

    def model(self, psf: StampModel, shape: tuple[int, int]) -> NDArray[np.float64]:
        """Every star's ePSF model on an image of ``shape``, with the saturated stars' wings."""
        model = psf.image(shape, self.x, self.y, self.flux)
        if self.saturated is not None and self.saturated.any():
            which = self.saturated
            model += self.wings.image(shape, self.x[which], self.y[which], self.flux[which])
        return model

    def _keep(self, kept: NDArray[np.bool_]) -> None:
        for name in ("x", "y", "flux", "sharp", "round_", "found_in", "flux_err", "chi", "saturated"):
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name)[kept])
