"""A whole simulated SOFI night: its plan (fields, scenes, sequences, detector), the draws of each exposure,
and the files it writes (science sequences: :mod:`astropipe.simulate.science_frames`; calibrations and
standards: :mod:`astropipe.simulate.calibration_frames`; reference catalogue and truth:
:mod:`astropipe.simulate.night_truth`).

Every random draw is seeded by the configuration seed plus a tag naming what
is drawn (``scene/object11``, ``frame/object11/Ks/3``, ...), so each job can
regenerate what it needs independently and the files are byte-identical for
a given configuration, whatever the order or parallelism of the jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

from astropipe.io.raw_frames import raw_frame_name, write_raw_frame
from astropipe.random_streams import random_stream
from astropipe.simulate import calibration_frames, night_truth, science_frames
from astropipe.simulate.detector import DetectorMaps, DetectorModel, detector_maps
from astropipe.simulate.extinction_screen import ExtinctionScreen
from astropipe.simulate.observation import OVERHEAD_S, PIXEL_SCALES, PhotometricSystem, SkyModel
from astropipe.simulate.psf import FramePSF
from astropipe.simulate.scene import SURVEY_CLASSES, ClusterSpec, FieldSpec, Scene, build_scene
from astropipe.simulate.seeing import SeeingDrift
from astropipe.stellar.main_sequence import UpperMainSequence

__all__ = ["MIN_RENDERED_FWHM_PX", "PIXEL_SCALES", "NightSimulation"]

#: smallest seeing FWHM (pixels) simulated: a star then falls mostly in one pixel (0.29" on the large field, a seeing
#: La Silla does not deliver); from there to 1.7 px the renderer averages the core over points in each pixel
MIN_RENDERED_FWHM_PX = 1.0


@dataclass
class _Sequence:
    field: str
    band: str
    dit: float
    ndit: int
    nexp: int
    mode: str
    start_hours: float


class NightSimulation:
    """The simulated night described by the ``imaging`` section of the configuration.

    Parameters
    ----------
    imaging : dict
        The validated ``imaging`` configuration.
    reference_dir : str or Path
        Directory with the shared reference tables (Persson standards, dwarf sequence, Cotera).
    """

    def __init__(self, imaging: dict[str, Any], reference_dir: str | Path) -> None:
        self.config = imaging
        self.sim = imaging["simulation"]
        self.seed = int(imaging["seed"])
        self.reference_dir = Path(reference_dir)
        det = self.sim["detector"]
        self.detector = DetectorModel(
            shape=(det["size"], det["size"]),
            gain=det["gain"],
            read_noise=det["read_noise"],
            dark_current=det["dark_current"],
            reset_level=det["reset_level"],
            saturation=det["saturation"],
            nonlinearity_at_10000_adu=det["nonlinearity_at_10000_adu"],
            nonlinearity_power=det["nonlinearity_power"],
            cosmic_ray_rate=det["cosmic_ray_rate"],
            variable_fraction=det["variable_pixel_fraction"],
            crosstalk_coefficient=det["row_crosstalk"],
            bad_column=det["size"] * 11 // 16,
        )
        self.photometry = PhotometricSystem(
            zero_point=self.sim["zero_points"], colour_term=self.sim["colour_terms"], extinction=self.sim["extinction"]
        )
        self.sky = SkyModel(mag_arcsec2=self.sim["sky_mag_arcsec2"])
        self.ak_per_ehk = float(imaging["extinction_law_ak_per_ehk"])
        self.start = Time(f"{imaging['night']}T23:30:00", scale="utc")
        self._maps: DetectorMaps | None = None

    # ------------------------------------------------------------------ plan
    @property
    def maps(self) -> DetectorMaps:
        if self._maps is None:
            self._maps = detector_maps(self.detector, random_stream(self.seed, "detector"))
        return self._maps

    @property
    def extinction_screen(self) -> ExtinctionScreen:
        """The patchy foreground screen of every field (:mod:`astropipe.simulate.extinction_screen`)."""
        return ExtinctionScreen(**self.sim["extinction_screen"])

    def survey_fields(self) -> list[FieldSpec]:
        """Candidate fields, classes assigned in the configured proportions (shuffled by the seed)."""
        survey = self.config["survey"]
        n = survey["n_fields"]
        rng = random_stream(self.seed, "survey/plan")
        fractions = survey["class_fractions"]
        counts = {c: int(np.floor(fractions.get(c, 0.0) * n)) for c in SURVEY_CLASSES}
        order = sorted(SURVEY_CLASSES, key=lambda c: -fractions.get(c, 0.0))
        for c in order[: n - sum(counts.values())]:
            counts[c] += 1
        classes = rng.permutation([c for c in SURVEY_CLASSES for _ in range(counts[c])])
        l_deg = rng.uniform(-4.0, 4.0, n)
        b_deg = np.clip(rng.normal(0.0, 1.0, n), -3.0, 3.0)
        return [
            self._survey_spec(f"cand{i + 1:02d}", str(cls), float(l_deg[i]), float(b_deg[i]), rng)
            for i, cls in enumerate(classes)
        ]

    def candidate_list(self) -> Table:
        """The survey's observing list: field, Galactic l, b (deg), mode, filter, DIT, NDIT, NEXP (no class)."""
        survey = self.config["survey"]
        specs = self.survey_fields()
        table = Table({"field": [s.name for s in specs], "l": [s.l_deg for s in specs], "b": [s.b_deg for s in specs]})
        table["l"].unit = table["b"].unit = u.deg
        for key in ("mode", "filter", "dit", "ndit", "nexp"):
            table[key] = [survey[key]] * len(specs)
        table.meta["description"] = (
            "candidate fields of the survey (Dutra et al. 2003, section 2): pointing and observation"
        )
        return table

    def _half_size(self, mode: str, box: float) -> float:
        return self.detector.shape[0] * PIXEL_SCALES[mode] / 2 + box / 2 + 10.0

    def _survey_spec(self, name: str, cls: str, l_deg: float, b_deg: float, rng: np.random.Generator) -> FieldSpec:
        density = self.sim["survey_bulge_density_arcmin2"] * np.exp(-abs(b_deg) / 1.5)
        common = {
            "name": name,
            "kind": cls,
            "l_deg": l_deg,
            "b_deg": b_deg,
            "half_size_arcsec": self._half_size(self.config["survey"]["mode"], self.sim["jitter_box_arcsec"]),
            "bulge_density": density,
            "disc_density": self.sim["disc_density_arcmin2"],
            "screen": self.extinction_screen,
        }
        if cls == "embedded_cluster":
            cluster = ClusterSpec(
                tenth_type="B0V",
                distance_kpc=rng.uniform(4.0, 8.0),
                e_hk=rng.uniform(1.0, 1.6),
                differential_e_hk=0.2,
                core_radius_arcsec=8.0,
                radius_arcsec=25.0,
            )
            return FieldSpec(
                **common,
                cluster=cluster,
                nebula_peak_ks_mag_arcsec2=15.0,
                nebula_sigma_arcsec=25.0,
                dust_radius_arcsec=60.0,
                dust_e_hk=1.5,
            )
        if cls == "dissolving_cluster":
            cluster = ClusterSpec(
                tenth_type="B1V",
                distance_kpc=rng.uniform(3.0, 6.0),
                e_hk=rng.uniform(0.5, 0.9),
                differential_e_hk=0.1,
                core_radius_arcsec=20.0,
                radius_arcsec=50.0,
            )
            return FieldSpec(**common, cluster=cluster)
        if cls == "bright_star_blend":
            return FieldSpec(**common, blend_stars=int(rng.integers(3, 6)))
        return FieldSpec(**common)

    def object_field(self) -> FieldSpec:
        obj = self.config["object"]
        cluster = ClusterSpec(**self.sim["cluster"])
        return FieldSpec(
            name=obj["name"],
            kind="object",
            l_deg=obj["l_deg"],
            b_deg=obj["b_deg"],
            half_size_arcsec=self._half_size(obj["mode"], self.sim["jitter_box_arcsec"]),
            bulge_density=self.sim["bulge_density_arcmin2"],
            disc_density=self.sim["disc_density_arcmin2"],
            cluster=cluster,
            nebula_peak_ks_mag_arcsec2=self.sim["nebula_ks_mag_arcsec2"],
            nebula_sigma_arcsec=cluster.radius_arcsec,
            screen=self.extinction_screen,
        )

    def fields(self) -> dict[str, FieldSpec]:
        specs = [self.object_field(), *self.survey_fields()]
        return {s.name: s for s in specs}

    def sequences(self) -> dict[tuple[str, str], _Sequence]:
        """(field, band) -> exposure sequence, with start times laid out through the night."""
        out: dict[tuple[str, str], _Sequence] = {}
        clock = 0.5  # hours after the start: standards and calibrations first
        obj = self.config["object"]
        for band, seq in obj["sequences"].items():
            out[(obj["name"], band)] = _Sequence(
                obj["name"], band, seq["dit"], seq["ndit"], seq["nexp"], obj["mode"], clock
            )
            clock += seq["nexp"] * (seq["dit"] * seq["ndit"] + OVERHEAD_S) / 3600.0
        survey = self.config["survey"]
        for spec in self.survey_fields():
            out[(spec.name, survey["filter"])] = _Sequence(
                spec.name, survey["filter"], survey["dit"], survey["ndit"], survey["nexp"], survey["mode"], clock
            )
            clock += survey["nexp"] * (survey["dit"] * survey["ndit"] + OVERHEAD_S) / 3600.0
        return out

    def scene(self, field: str) -> Scene:
        spec = self.fields()[field]
        sequence = UpperMainSequence(self.reference_dir)
        return build_scene(
            spec, random_stream(self.seed, f"scene/{field}"), sequence, str(self.reference_dir), self.ak_per_ehk
        )

    # ------------------------------------------------------------ exposures
    @cached_property
    def seeing_drift(self) -> SeeingDrift:
        """The night's drift of the log seeing (:mod:`astropipe.simulate.seeing`), drawn to an hour after the
        last science sequence."""
        last = max(
            seq.start_hours + seq.nexp * (seq.dit * seq.ndit + OVERHEAD_S) / 3600.0 for seq in self.sequences().values()
        )
        return SeeingDrift(
            self.sim["seeing_drift_rms"],
            self.sim["seeing_drift_minutes"],
            last + 1.0,
            random_stream(self.seed, "seeing"),
        )

    @cached_property
    def _drift_where_logged(self) -> float:
        """The drift at the science target's first exposure, where the logged seeing (``seeing_arcsec``) holds."""
        first = min(
            seq.start_hours for (field, _), seq in self.sequences().items() if field == self.config["object"]["name"]
        )
        return self.seeing_drift(first)

    def seeing_fwhm(self, hours: float, rng: np.random.Generator) -> float:
        """Seeing FWHM (arcsec) of an exposure starting ``hours`` after the night's start: the logged seeing
        (``seeing_arcsec``, at the science target's first exposure) times the night's drift since then and
        the frame's log-normal jitter (``seeing_jitter``, drawn from the exposure's stream ``rng``)."""
        log_ratio = (
            self.seeing_drift(hours) - self._drift_where_logged + self.sim["seeing_jitter"] * rng.standard_normal()
        )
        return self.sim["seeing_arcsec"] * float(np.exp(log_ratio))

    def frame_psf(self, fwhm_arcsec: float, pixel_scale: float, exposure: str) -> FramePSF:
        """The PSF of one exposure (``imaging.simulation.psf``): a core of FWHM ``fwhm_arcsec`` with the
        exposure's own elongation, drawn from the stream of ``exposure`` (spin-2 components of rms
        ``ellipticity_rms`` each), the halo, and the small-field objective's edge distortion."""
        if fwhm_arcsec / pixel_scale < MIN_RENDERED_FWHM_PX:
            raise ValueError(
                f"simulated exposure {exposure}: seeing {fwhm_arcsec:.3f} arcsec is {fwhm_arcsec / pixel_scale:.2f} px "
                f"at {pixel_scale} arcsec/px, below the {MIN_RENDERED_FWHM_PX} px FWHM the simulator renders "
                "(imaging.simulation.seeing_arcsec, seeing_drift_rms, seeing_jitter)"
            )
        settings = self.sim["psf"]
        e1, e2 = settings["ellipticity_rms"] * random_stream(self.seed, f"psf/{exposure}").standard_normal(2)
        return FramePSF(
            fwhm=fwhm_arcsec / pixel_scale,
            core_beta=settings["core_beta"],
            halo_fraction=settings["halo_fraction"],
            halo_fwhm_ratio=settings["halo_fwhm_ratio"],
            halo_beta=settings["halo_beta"],
            ellipticity=min(float(np.hypot(e1, e2)), 0.5),
            angle=0.5 * float(np.arctan2(e2, e1)),
            edge_ellipticity=settings["edge_ellipticity"],
            edge_broadening=settings["edge_broadening"],
            edge_start=settings["edge_start"],
        )

    def transparency(self, rng: np.random.Generator) -> float:
        """Fraction of the light of the sources above the atmosphere that one exposure receives: thin cirrus
        only absorbs, so exp(-rms |N(0, 1)|); 1 when ``transparency_rms`` is 0."""
        return float(np.exp(-self.sim["transparency_rms"] * abs(rng.standard_normal())))

    def target(self, field: str) -> str:
        """The target name a field has in the raw headers (inverse of ``imaging.field_names``)."""
        return next((name for name, value in self.config["field_names"].items() if value == field), field)

    def telescope_errors(self, tag: str) -> tuple[np.ndarray, float]:
        """One sequence's pointing error (arcsec east, north) and field rotation missing from its headers (deg)."""
        rng = random_stream(self.seed, tag)
        return rng.normal(0.0, self.sim["pointing_error_arcsec"], 2), float(
            rng.normal(0.0, self.sim["rotation_error_deg"])
        )

    def write_raw(self, outdir: str | Path, data: np.ndarray, header: fits.Header) -> Path:
        """Write a raw frame under the archive's name (``SOFI.<DATE-OBS>.fits``, compressed as configured)."""
        compression = self.sim["compression"]
        header["ARCFILE"] = (raw_frame_name("SOFI", header["DATE-OBS"]), "archive file name")
        path = Path(outdir) / raw_frame_name("SOFI", header["DATE-OBS"], compression)
        return write_raw_frame(path, fits.PrimaryHDU(data=data, header=header), compression)

    def bands(self) -> list[str]:
        return sorted({band for (_, band) in self.sequences()})

    def start_pointing(self) -> SkyCoord:
        spec = self.object_field()
        return SkyCoord(l=spec.l_deg * u.deg, b=spec.b_deg * u.deg, frame="galactic").icrs

    # ------------------------------------------------------------ the files
    def write_sequence(self, field: str, band: str, outdir: str | Path) -> list[Path]:
        """Write the dithered exposures of one (field, band) sequence; return their paths
        (:func:`astropipe.simulate.science_frames.write_sequence`)."""
        return science_frames.write_sequence(self, field, band, outdir)

    def write_calibrations(self, outdir: str | Path) -> list[Path]:
        """Darks and dome flats (:func:`astropipe.simulate.calibration_frames.write_calibrations`)."""
        return calibration_frames.write_calibrations(self, outdir)

    def write_standards(self, outdir: str | Path) -> list[Path]:
        """Standard stars and the illumination grid (:func:`astropipe.simulate.calibration_frames.write_standards`)."""
        return calibration_frames.write_standards(self, outdir)

    def reference_catalogue(self, field: str) -> Table:
        """The 2MASS-like catalogue of a field (:func:`astropipe.simulate.night_truth.reference_catalogue`)."""
        return night_truth.reference_catalogue(self, field)

    def truth(self) -> dict[str, Any]:
        """The truth of the night (:func:`astropipe.simulate.night_truth.truth`)."""
        return night_truth.truth(self)
