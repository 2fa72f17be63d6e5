"""A whole simulated SOFI night: calibrations, standards, science sequences, reference, truth.

Every random draw is seeded by the configuration seed plus a tag naming what
is drawn (``scene/object11``, ``frame/object11/Ks/3``, ...), so each job can
regenerate what it needs independently and the files are byte-identical for
a given configuration, whatever the order or parallelism of the jobs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

from astropipe.calibrate.persson_catalogue import read_persson_standards
from astropipe.io.raw_frames import raw_frame_name, write_raw_frame
from astropipe.random_streams import random_stream
from astropipe.simulate.detector import DetectorMaps, DetectorModel, detector_maps, expose
from astropipe.simulate.observation import (
    ILLUMINATION_TEMPLATE,
    PhotometricSystem,
    SkyModel,
    dither_offsets,
    frame_wcs,
    pointing_after_offset,
    raw_header,
    reported_offsets,
    reported_wcs,
)
from astropipe.simulate.psf import render_stars
from astropipe.simulate.scene import SURVEY_CLASSES, ClusterSpec, FieldSpec, Scene, build_scene
from astropipe.stellar.main_sequence import UpperMainSequence

__all__ = ["PIXEL_SCALES", "NightSimulation"]

#: SOFI pixel scales (arcsec/pixel) of the small and large fields (Dutra et al. 2003, §2.1)
PIXEL_SCALES = {"small": 0.145, "large": 0.292}
#: clock overhead per exposure (s), for the time stamps
OVERHEAD_S = 10.0
#: integrations averaged at each position of the illumination grid
GRID_NDIT = 10




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
        return [self._survey_spec(f"cand{i + 1:02d}", str(cls), float(l_deg[i]), float(b_deg[i]), rng)
                for i, cls in enumerate(classes)]

    def candidate_list(self) -> Table:
        """The survey's observing list: field, Galactic l, b (deg), mode, filter, DIT, NDIT, NEXP (no class)."""
        survey = self.config["survey"]
        specs = self.survey_fields()
        table = Table({"field": [s.name for s in specs], "l": [s.l_deg for s in specs], "b": [s.b_deg for s in specs]})
        table["l"].unit = table["b"].unit = u.deg
        for key in ("mode", "filter", "dit", "ndit", "nexp"):
            table[key] = [survey[key]] * len(specs)
        table.meta["description"] = "candidate fields of the survey (Dutra et al. 2003, section 2): pointing and observation"
        return table

    def _half_size(self, mode: str, box: float) -> float:
        return self.detector.shape[0] * PIXEL_SCALES[mode] / 2 + box / 2 + 10.0

    def _survey_spec(self, name: str, cls: str, l_deg: float, b_deg: float, rng: np.random.Generator) -> FieldSpec:
        density = self.sim["survey_bulge_density_arcmin2"] * np.exp(-abs(b_deg) / 1.5)
        common = {
            "name": name, "kind": cls, "l_deg": l_deg, "b_deg": b_deg,
            "half_size_arcsec": self._half_size(self.config["survey"]["mode"], self.sim["jitter_box_arcsec"]),
            "bulge_density": density, "disc_density": self.sim["disc_density_arcmin2"],
        }  # fmt: skip
        if cls == "embedded_cluster":
            cluster = ClusterSpec(tenth_type="B0V", distance_kpc=rng.uniform(4.0, 8.0), e_hk=rng.uniform(1.0, 1.6),
                                  differential_e_hk=0.2, core_radius_arcsec=8.0, radius_arcsec=25.0)
            return FieldSpec(**common, cluster=cluster, nebula_peak_ks_mag_arcsec2=15.0, nebula_sigma_arcsec=25.0,
                             dust_radius_arcsec=60.0, dust_e_hk=1.5)
        if cls == "dissolving_cluster":
            cluster = ClusterSpec(tenth_type="B1V", distance_kpc=rng.uniform(3.0, 6.0), e_hk=rng.uniform(0.5, 0.9),
                                  differential_e_hk=0.1, core_radius_arcsec=20.0, radius_arcsec=50.0)
            return FieldSpec(**common, cluster=cluster)
        if cls == "bright_star_blend":
            return FieldSpec(**common, blend_stars=int(rng.integers(3, 6)))
        return FieldSpec(**common)

    def object_field(self) -> FieldSpec:
        obj = self.config["object"]
        cluster = ClusterSpec(**self.sim["cluster"])
        return FieldSpec(
            name=obj["name"], kind="object", l_deg=obj["l_deg"], b_deg=obj["b_deg"],
            half_size_arcsec=self._half_size(obj["mode"], self.sim["jitter_box_arcsec"]),
            bulge_density=self.sim["bulge_density_arcmin2"], disc_density=self.sim["disc_density_arcmin2"],
            cluster=cluster, nebula_peak_ks_mag_arcsec2=self.sim["nebula_ks_mag_arcsec2"],
            nebula_sigma_arcsec=cluster.radius_arcsec,
        )  # fmt: skip

    def fields(self) -> dict[str, FieldSpec]:
        specs = [self.object_field(), *self.survey_fields()]
        return {s.name: s for s in specs}

    def sequences(self) -> dict[tuple[str, str], _Sequence]:
        """(field, band) -> exposure sequence, with start times laid out through the night."""
        out: dict[tuple[str, str], _Sequence] = {}
        clock = 0.5  # hours after the start: standards and calibrations first
        obj = self.config["object"]
        for band, seq in obj["sequences"].items():
            out[(obj["name"], band)] = _Sequence(obj["name"], band, seq["dit"], seq["ndit"], seq["nexp"], obj["mode"], clock)
            clock += seq["nexp"] * (seq["dit"] * seq["ndit"] + OVERHEAD_S) / 3600.0
        survey = self.config["survey"]
        for spec in self.survey_fields():
            out[(spec.name, survey["filter"])] = _Sequence(spec.name, survey["filter"], survey["dit"], survey["ndit"],
                                                           survey["nexp"], survey["mode"], clock)
            clock += survey["nexp"] * (survey["dit"] * survey["ndit"] + OVERHEAD_S) / 3600.0
        return out

    def scene(self, field: str) -> Scene:
        spec = self.fields()[field]
        sequence = UpperMainSequence(self.reference_dir)
        return build_scene(spec, random_stream(self.seed, f"scene/{field}"), sequence, str(self.reference_dir), self.ak_per_ehk)

    # --------------------------------------------------------------- frames
    def _psf_fwhm(self, rng: np.random.Generator) -> float:
        return self.sim["seeing_arcsec"] * float(np.exp(self.sim["seeing_jitter"] * rng.standard_normal()))

    def _transparency(self, rng: np.random.Generator) -> float:
        """Fraction of the light of the sources above the atmosphere that one exposure receives: thin cirrus
        only absorbs, so exp(-rms |N(0, 1)|); 1 when ``transparency_rms`` is 0."""
        return float(np.exp(-self.sim["transparency_rms"] * abs(rng.standard_normal())))

    def target(self, field: str) -> str:
        """The target name a field has in the raw headers (inverse of ``imaging.field_names``)."""
        return next((name for name, value in self.config["field_names"].items() if value == field), field)

    def _telescope_errors(self, tag: str) -> tuple[np.ndarray, float]:
        """One sequence's pointing error (arcsec east, north) and field rotation missing from its headers (deg)."""
        rng = random_stream(self.seed, tag)
        return rng.normal(0.0, self.sim["pointing_error_arcsec"], 2), float(rng.normal(0.0, self.sim["rotation_error_deg"]))

    def _write_raw(self, outdir: str | Path, data: np.ndarray, header: fits.Header) -> Path:
        """Write a raw frame under the archive's name (``SOFI.<DATE-OBS>.fits``, compressed as configured)."""
        compression = self.sim["compression"]
        header["ARCFILE"] = (raw_frame_name("SOFI", header["DATE-OBS"]), "archive file name")
        path = Path(outdir) / raw_frame_name("SOFI", header["DATE-OBS"], compression)
        return write_raw_frame(path, fits.PrimaryHDU(data=data, header=header), compression)

    def _write_product(self, path: Path, data: np.ndarray, header: fits.Header) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fits.PrimaryHDU(data=data, header=header).writeto(path, overwrite=True)

    def write_sequence(self, field: str, band: str, outdir: str | Path) -> list[Path]:
        """Write the dithered exposures of one (field, band) sequence; return their paths."""
        sequence = self.sequences()[(field, band)]
        scene = self.scene(field)
        scale = PIXEL_SCALES[sequence.mode]
        shape = self.detector.shape
        rng = random_stream(self.seed, f"dither/{field}/{band}")
        offsets = dither_offsets(rng, sequence.nexp, self.sim["jitter_box_arcsec"])
        stars = scene.stars
        reference_wcs = frame_wcs(scene.center, scale, shape)
        centre_ref = np.array(reference_wcs.world_to_pixel(scene.center))
        true_offsets = np.array([np.array(frame_wcs(pointing_after_offset(scene.center, offset), scale, shape)
                                          .world_to_pixel(scene.center)) - centre_ref for offset in offsets])
        header_offsets = reported_offsets(random_stream(self.seed, f"offsets/{field}/{band}"), true_offsets,
                                          self.sim["header_offset_error_px"])  # fmt: skip
        pointing_error, rotation_error = self._telescope_errors(f"pointing/{field}/{band}")
        paths = []
        for i, offset in enumerate(offsets):
            frame_rng = random_stream(self.seed, f"frame/{field}/{band}/{i}")
            hours = sequence.start_hours + i * (sequence.dit * sequence.ndit + OVERHEAD_S) / 3600.0
            airmass = self.sim["object_airmass"] + 0.05 * hours
            fwhm = self._psf_fwhm(frame_rng)
            transparency = self._transparency(frame_rng)
            wcs = frame_wcs(pointing_after_offset(scene.center, offset), scale, shape)
            x, y = wcs.all_world2pix(np.asarray(stars["ra"]), np.asarray(stars["dec"]), 0)
            rate = self.photometry.count_rate(band, np.asarray(stars["H"]), np.asarray(stars["K"]), airmass)
            image = render_stars(shape, x, y, rate, fwhm / scale, self.sim["moffat_beta"])
            image += self._nebula(scene, wcs, band, scale, shape)
            image *= transparency
            sky_mag = self.sky.level(band, hours, frame_rng)
            image += self.photometry.surface_rate(band, sky_mag, scale) * self.sky.pattern(shape, frame_rng)
            raw = expose(self.detector, self.maps, image, sequence.dit, sequence.ndit, frame_rng)
            header = raw_header(
                reported_wcs(wcs, pointing_error, rotation_error), target=self.target(field), frame_type="OBJECT",
                band=band, dit=sequence.dit,
                ndit=sequence.ndit, airmass=airmass, start=self.start + hours * u.hour, pixel_scale=scale,
                expno=i + 1, nexp=sequence.nexp, header_offset_px=tuple(header_offsets[i]),
                true_offset_px=tuple(np.round(true_offsets[i], 3)),
            )  # fmt: skip
            header["HIERARCH ESO TEL AMBI FWHM START"] = (round(fwhm, 4), "[arcsec] seeing (simulated truth)")
            header["HIERARCH ASTROPIPE TRANSPARENCY"] = (round(transparency, 5), "simulated truth")
            header["HIERARCH ASTROPIPE TRUE CRVAL1"] = (wcs.wcs.crval[0], "[deg] simulated truth")
            header["HIERARCH ASTROPIPE TRUE CRVAL2"] = (wcs.wcs.crval[1], "[deg] simulated truth")
            header["HIERARCH ASTROPIPE POINTING ERROR"] = (round(float(np.hypot(*pointing_error)), 4), "[arcsec] simulated")
            header["HIERARCH ASTROPIPE ROTATION ERROR"] = (round(float(rotation_error), 5), "[deg] simulated")
            paths.append(self._write_raw(outdir, raw, header))
        return paths

    def _nebula(self, scene: Scene, wcs, band: str, scale: float, shape: tuple[int, int]) -> np.ndarray:
        if scene.spec.nebula_peak_ks_mag_arcsec2 is None:
            return np.zeros(shape)
        ny, nx = shape
        yy, xx = np.mgrid[0:ny, 0:nx]
        cx, cy = wcs.world_to_pixel(scene.center)
        xi, eta = -(xx - cx) * scale, (yy - cy) * scale
        mag = scene.nebula_ks_mag_arcsec2(xi, eta)
        colour = 1.0 if band == "H" else 0.0  # nebula fainter in H (hot dust, H - Ks ~ 1)
        return self.photometry.surface_rate(band, mag + colour, scale)

    def write_calibrations(self, outdir: str | Path) -> list[Path]:
        """Darks for every DIT used and lamp-on/off dome flats, as the archive delivers them (the pipeline
        finds the bad pixels in them); the illumination corrections as product files only when
        ``illumination_grid`` is 0 (else the standard-star grid of :meth:`write_standards` measures them)."""
        cal = self.sim["calibrations"]
        outdir = Path(outdir)
        shape = self.detector.shape
        wcs = frame_wcs(self.start_pointing(), PIXEL_SCALES["small"], shape)
        paths: list[Path] = []
        dits = sorted({s.dit for s in self.sequences().values()} | {self.config["standards"]["dit"], cal["flat_dit"]})
        clock = self.start - 6.0 * u.hour  # afternoon calibrations

        def stamp(seconds: float) -> Time:
            nonlocal clock
            clock = clock + (seconds + OVERHEAD_S) * u.s
            return clock

        for dit in dits:
            for i in range(cal["darks_per_dit"]):
                rng = random_stream(self.seed, f"dark/{dit}/{i}")
                raw = expose(self.detector, self.maps, np.zeros(shape), dit, 1, rng)
                header = raw_header(wcs, target="DARK", frame_type="DARK", band=None, dit=dit, ndit=1, airmass=1.0,
                                    start=stamp(dit), pixel_scale=PIXEL_SCALES["small"], expno=i + 1,
                                    nexp=cal["darks_per_dit"])  # fmt: skip
                paths.append(self._write_raw(outdir, raw, header))
        for band in self.bands():
            thermal = self.photometry.surface_rate(band, self.sim["sky_mag_arcsec2"][band] + 2.0, PIXEL_SCALES["small"])
            for state in ("on", "off"):
                for i in range(cal["flats_per_state"]):
                    rng = random_stream(self.seed, f"flat/{band}/{state}/{i}")
                    lamp = cal["flat_lamp_rate"] if state == "on" else 0.0
                    raw = expose(self.detector, self.maps, np.full(shape, lamp + thermal), cal["flat_dit"], 1, rng,
                                 lamp_pattern=True)
                    header = raw_header(wcs, target="FLAT", frame_type="FLAT,LAMP", band=band, dit=cal["flat_dit"],
                                        ndit=1, airmass=1.0, start=stamp(cal["flat_dit"]),
                                        pixel_scale=PIXEL_SCALES["small"], expno=i + 1, nexp=cal["flats_per_state"])  # fmt: skip
                    paths.append(self._write_raw(outdir, raw, header))
            if self.sim["illumination_grid"] == 0:
                # the illumination correction as a product file (what turns a normalised dome flat into the sky response)
                illum = self.maps.illumination / self.maps.dome_pattern
                header = fits.Header({"OBJECT": "ILLUMINATION", "INSTRUME": "SOFI"})
                header["HIERARCH ESO DPR TYPE"] = "ILLUM"
                header["HIERARCH ESO INS FILT1 ID"] = band
                paths.append(outdir / f"illumination_{band}.fits")
                self._write_product(paths[-1], (illum / illum.mean()).astype(np.float32), header)
        return paths

    def bands(self) -> list[str]:
        return sorted({band for (_, band) in self.sequences()})

    def start_pointing(self) -> SkyCoord:
        spec = self.object_field()
        return SkyCoord(l=spec.l_deg * u.deg, b=spec.b_deg * u.deg, frame="galactic").icrs

    def write_standards(self, outdir: str | Path) -> list[Path]:
        """Persson standards, each at every configured airmass, NEXP dithered short exposures per band;
        the headers point off by the sequence's pointing error, as the science headers do."""
        std = self.config["standards"]
        catalogue = read_persson_standards(self.reference_dir / "persson1998_nir_standards.txt")
        shape, scale = self.detector.shape, PIXEL_SCALES[self.config["object"]["mode"]]
        paths: list[Path] = []
        for number in std["stars"]:
            rows = catalogue[catalogue["number"] == number]
            if len(rows) == 0:
                raise ValueError(f"standard {number} is not in {self.reference_dir / 'persson1998_nir_standards.txt'}")
            star = rows[0]
            centre = SkyCoord(star["ra"], star["dec"], unit=(u.hourangle, u.deg))
            for j, airmass in enumerate(std["airmasses"]):
                order = itertools.count(std["stars"].index(number) * len(self.bands()) * std["nexp"])
                for band in self.bands():
                    rng = random_stream(self.seed, f"standard/{number}/{j}/{band}")
                    offsets = dither_offsets(rng, std["nexp"], self.sim["jitter_box_arcsec"])
                    field_h = rng.uniform(14.0, 18.0, 15)
                    field_xy = rng.uniform(-0.45, 0.45, (15, 2)) * shape[0] * scale
                    pointing_error, rotation_error = self._telescope_errors(f"pointing/standard/{number}/{j}/{band}")
                    for i, offset in enumerate(offsets):
                        frame_rng = random_stream(self.seed, f"standard/{number}/{j}/{band}/{i}")
                        wcs = frame_wcs(pointing_after_offset(centre, offset), scale, shape)
                        x0, y0 = wcs.world_to_pixel(centre)
                        x = np.concatenate([[x0], x0 - field_xy[:, 0] / scale])
                        y = np.concatenate([[y0], y0 + field_xy[:, 1] / scale])
                        h = np.concatenate([[star["H"]], field_h])
                        k = np.concatenate([[star["K"]], field_h - 0.2])
                        rate = self.photometry.count_rate(band, h, k, airmass)
                        fwhm = self._psf_fwhm(frame_rng)
                        transparency = self._transparency(frame_rng)
                        rate = rate * transparency
                        image = render_stars(shape, x, y, rate, fwhm / scale, self.sim["moffat_beta"])
                        sky = self.photometry.surface_rate(band, self.sky.level(band, 0.2 + 0.1 * j, frame_rng), scale)
                        raw = expose(self.detector, self.maps, image + sky, std["dit"], std["ndit"], frame_rng)
                        exposure = (std["dit"] * std["ndit"] + OVERHEAD_S) * u.s
                        taken = next(order) * exposure
                        header = raw_header(reported_wcs(wcs, pointing_error, rotation_error), target=str(star["name"]),
                                            frame_type="STD", band=band, dit=std["dit"], ndit=std["ndit"], airmass=airmass,
                                            start=self.start + (0.2 + 0.1 * j) * u.hour + taken, pixel_scale=scale,
                                            expno=i + 1, nexp=std["nexp"])  # fmt: skip
                        header["HIERARCH ASTROPIPE TRANSPARENCY"] = (round(transparency, 5), "simulated truth")
                        paths.append(self._write_raw(outdir, raw, header))
        return paths + self._write_illumination_grid(outdir, catalogue)

    def _write_illumination_grid(self, outdir: str | Path, catalogue: Table) -> list[Path]:
        """The first standard stepped over an n x n grid across the array in every band (the
        illumination template, NDIT = 10 at the standards' DIT), at the first airmass, an hour before
        the science."""
        n, std = self.sim["illumination_grid"], self.config["standards"]
        if n == 0:
            return []
        star = catalogue[catalogue["number"] == std["stars"][0]][0]
        centre = SkyCoord(star["ra"], star["dec"], unit=(u.hourangle, u.deg))
        shape, scale = self.detector.shape, PIXEL_SCALES[self.config["object"]["mode"]]
        steps = np.linspace(-0.4, 0.4, n) * shape[0] * scale
        paths: list[Path] = []
        for b, band in enumerate(self.bands()):
            for i, (east, north) in enumerate((e, nn) for nn in steps for e in steps):
                rng = random_stream(self.seed, f"illumination/{band}/{i}")
                wcs = frame_wcs(pointing_after_offset(centre, np.array([-east, -north])), scale, shape)
                x, y = wcs.world_to_pixel(centre)
                rate = self.photometry.count_rate(band, np.array([star["H"]]), np.array([star["K"]]), std["airmasses"][0])
                image = render_stars(shape, np.array([x]), np.array([y]), rate, self._psf_fwhm(rng) / scale,
                                     self.sim["moffat_beta"])  # fmt: skip
                sky = self.photometry.surface_rate(band, self.sky.level(band, 0.05, rng), scale)
                raw = expose(self.detector, self.maps, image + sky, std["dit"], GRID_NDIT, rng)
                start = self.start - 1.0 * u.hour + (b * n * n + i) * (std["dit"] * GRID_NDIT + OVERHEAD_S) * u.s
                header = raw_header(wcs, target=str(star["name"]), frame_type="STD", band=band, dit=std["dit"],
                                    ndit=GRID_NDIT, airmass=std["airmasses"][0], start=start, pixel_scale=scale,
                                    expno=i + 1, nexp=n * n, template=ILLUMINATION_TEMPLATE)  # fmt: skip
                paths.append(self._write_raw(outdir, raw, header))
        return paths

    def reference_catalogue(self, field: str) -> Table:
        """A 2MASS-like catalogue of the field: shallow, blended at 2MASS resolution, offset (Dutra et al. 2003, §3.2).

        Stars closer than ``resolution_arcsec`` are merged into the brighter one
        (fluxes summed); each band is kept to its limit; magnitudes get the
        linear offset m_2MASS = m + offset + slope (m - 12) and noise.
        """
        ref = self.sim["twomass"]
        stars = self.scene(field).stars
        order = np.argsort(np.asarray(stars["K"]))
        xi, eta = np.asarray(stars["xi"])[order], np.asarray(stars["eta"])[order]
        flux = {b: 10 ** (-0.4 * np.asarray(stars[c])[order]) for b, c in (("H", "H"), ("Ks", "K"))}
        alive = np.ones(order.size, dtype=bool)
        bright = np.flatnonzero(np.asarray(stars["K"])[order] < ref["limit_Ks"] + 2.5)
        for i in bright:
            if not alive[i]:
                continue
            near = alive & (np.hypot(xi - xi[i], eta - eta[i]) < ref["resolution_arcsec"])
            near[i] = False
            for band in flux:
                flux[band][i] += flux[band][near].sum()
            alive[near] = False
        rng = random_stream(self.seed, f"twomass/{field}")
        table = Table()
        keep = alive & (-2.5 * np.log10(flux["Ks"]) < ref["limit_Ks"]) | alive & (-2.5 * np.log10(flux["H"]) < ref["limit_H"])
        table["ra"] = np.asarray(stars["ra"])[order][keep] * u.deg
        table["dec"] = np.asarray(stars["dec"])[order][keep] * u.deg
        for band in ("H", "Ks"):
            m = -2.5 * np.log10(flux[band][keep])
            error = 0.02 + 0.08 * 10 ** (0.4 * (m - ref[f"limit_{band}"]))
            observed = m + ref["offset"][band] + ref["slope"][band] * (m - 12.0) + error * rng.standard_normal(m.size)
            table[band] = np.where(m < ref[f"limit_{band}"], observed, np.nan) * u.mag
            table[f"e_{band}"] = np.where(m < ref[f"limit_{band}"], error, np.nan) * u.mag
        table.meta["description"] = f"2MASS-like reference catalogue of {field} (simulated)"
        return table

    # ----------------------------------------------------------------- truth
    def truth(self) -> dict[str, Any]:
        """Tables and documents of the truth: stars, scene, instrument, survey labels, response map."""
        fields = self.fields()
        scenes = {name: self.scene(name) for name in fields}
        stars = Table(np.concatenate([s.stars.as_array() for s in scenes.values()]))
        for column in ("xi", "eta"):
            stars[column].unit = u.arcsec
        for column in ("ra", "dec"):
            stars[column].unit = u.deg
        for column in ("H", "K", "absolute_k", "intrinsic_hk", "distance_modulus", "e_hk"):
            stars[column].unit = u.mag
        survey = [s for s in fields.values() if s.kind != "object"]
        labels = Table(
            {"field": [s.name for s in survey], "l": [s.l_deg for s in survey] * u.deg,
             "b": [s.b_deg for s in survey] * u.deg, "class": [s.kind for s in survey]}
        )  # fmt: skip
        obj = self.config["object"]["name"]
        scene = {
            "night": self.config["night"],
            "seed": self.seed,
            "extinction_law_ak_per_ehk": self.ak_per_ehk,
            "zero_points": self.sim["zero_points"],
            "colour_terms": self.sim["colour_terms"],
            "extinction_coefficients": self.sim["extinction"],
            "object_field": obj,
            "fields": {name: s.meta for name, s in scenes.items()},
            "bulge": {"e_hk_mean": fields[obj].bulge_e_hk, "e_hk_sigma": fields[obj].bulge_e_hk_sigma,
                      "distance_modulus": fields[obj].bulge_distance_modulus},
        }  # fmt: skip
        cluster = scene["fields"][obj].get("cluster", {})
        scene.update({"cluster_e_hk": cluster.get("e_hk"), "cluster_distance_kpc": cluster.get("distance_kpc"),
                      "cluster_k10": cluster.get("k10")})  # fmt: skip
        instrument = {
            "detector": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self.detector).items()},
            "n_hot_pixels": int(self.maps.hot.sum()),
            "n_dead_pixels": int(self.maps.dead.sum()),
            "pixel_scales_arcsec": PIXEL_SCALES,
            "seeing_arcsec": self.sim["seeing_arcsec"],
            "seeing_jitter": self.sim["seeing_jitter"],
            "moffat_beta": self.sim["moffat_beta"],
            "transparency_rms": self.sim["transparency_rms"],
            "sky_mag_arcsec2": self.sim["sky_mag_arcsec2"],
        }
        return {"stars": stars, "labels": labels, "scene": scene, "instrument": instrument,
                "response": self.maps.sky_response.astype(np.float32)}  # fmt: skip
