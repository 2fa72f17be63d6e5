"""The simulated night: headers, WCS, determinism, completeness, and the scene's physics."""

import filecmp

import astropy.units as u
import numpy as np
import pytest
import yaml
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS
from conftest import REPO
from snakemake.utils import validate

from astropipe.io.raw_frames import open_raw_frame, read_raw_data
from astropipe.reduce.eso_headers import cumulative_offsets, filter_name, frame_kind
from astropipe.reduce.ingest import classify_frames
from astropipe.simulate.night import NightSimulation

REFERENCE = REPO / "resources" / "reference"

REQUIRED_KEYWORDS = [
    "OBJECT",
    "DATE-OBS",
    "MJD-OBS",
    "EXPTIME",
    "BUNIT",
    "ARCFILE",
    "HIERARCH ESO INS PIXSCALE",
    "HIERARCH ESO DPR CATG",
    "HIERARCH ESO DPR TYPE",
    "HIERARCH ESO DPR TECH",
    "HIERARCH ESO TPL ID",
    "HIERARCH ESO OBS TARG NAME",
    "HIERARCH ESO DET DIT",
    "HIERARCH ESO DET NDIT",
    "HIERARCH ESO INS FILT1 ID",
    "HIERARCH ESO INS FILT2 ID",
    "HIERARCH ESO TEL AIRM START",
    "HIERARCH ESO SEQ CUMOFFSETX",
    "HIERARCH ESO SEQ CUMOFFSETY",
    "HIERARCH ESO TPL EXPNO",
    "HIERARCH ESO TPL NEXP",
]


def _true_wcs(header):
    """The WCS the simulator drew the stars with (the header's has a pointing error and a rotation)."""
    wcs = WCS(header)
    wcs.wcs.crval = [header["HIERARCH ASTROPIPE TRUE CRVAL1"], header["HIERARCH ASTROPIPE TRUE CRVAL2"]]
    scale = header["HIERARCH ESO INS PIXSCALE"] / 3600.0
    wcs.wcs.pc, wcs.wcs.cdelt = np.eye(2), [-scale, scale]
    return wcs


def _header(path):
    with open_raw_frame(path) as hdul:
        return hdul[0].header.copy()


def _config(path=REPO / "tests" / "config-ci.yaml"):
    config = yaml.safe_load(path.read_text())
    config["imaging"]["field_names"] = {"Object 11": "object11"}
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    return config["imaging"]


@pytest.fixture(scope="module")
def night():
    return NightSimulation(_config(), REFERENCE)


@pytest.fixture(scope="module")
def ks_sequence(night, tmp_path_factory):
    directory = tmp_path_factory.mktemp("object11_Ks")
    return night.write_sequence("object11", "Ks", directory)


def test_frames_are_named_and_compressed_as_the_eso_archive_delivers_them(ks_sequence):
    for path in ks_sequence:
        header = _header(path)
        assert path.name == f"SOFI.{header['DATE-OBS'][:23]}.fits.Z"
        assert header["ARCFILE"] == path.name.removesuffix(".Z")
        assert path.read_bytes()[:2] == b"\x1f\x9d"  # Unix compress


def test_headers_carry_the_eso_keywords(ks_sequence, night):
    times = []
    for i, path in enumerate(ks_sequence):
        header = _header(path)
        for key in REQUIRED_KEYWORDS:
            assert key in header, f"{path.name} lacks {key}"
        assert "PIXSCALE" not in header  # SOFI has only ESO INS PIXSCALE
        assert filter_name(header) == "Ks" and frame_kind(header).kind == "OBJECT"
        assert header["HIERARCH ESO OBS TARG NAME"] == "Object 11"  # the configured target name of object11
        assert header["HIERARCH ESO DET DIT"] == 20 and header["HIERARCH ESO DET NDIT"] == 3
        assert header["HIERARCH ESO TEL AIRM START"] >= 1.0
        assert header["HIERARCH ESO TPL EXPNO"] == i + 1
        assert WCS(header).has_celestial
        times.append(header["MJD-OBS"])
    assert np.all(np.diff(times) > 0)


def test_cumulative_offsets_err_as_the_telescope_reports_them(ks_sequence, night):
    first = _true_wcs(_header(ks_sequence[0]))
    point = first.pixel_to_world(100.0, 120.0)
    errors = []
    for path in ks_sequence:
        header = _header(path)
        x, y = _true_wcs(header).world_to_pixel(point)
        true = (header["HIERARCH ASTROPIPE TRUE CUMOFFSETX"], header["HIERARCH ASTROPIPE TRUE CUMOFFSETY"])
        assert x - 100.0 == pytest.approx(true[0], abs=0.01) and y - 120.0 == pytest.approx(true[1], abs=0.01)
        errors.append(np.subtract((header["HIERARCH ESO SEQ CUMOFFSETX"], header["HIERARCH ESO SEQ CUMOFFSETY"]), true))
    errors = np.array(errors)
    assert np.all(np.abs(errors) <= 10.0) and np.any(np.abs(errors) > 1.0)
    assert np.any(errors[0] != 0.0)  # the first exposure reports a non-zero offset ...
    assert cumulative_offsets(_header(ks_sequence[0])) == (0.0, 0.0)  # ... which the reading ignores


def test_header_wcs_points_off_the_truth_by_the_drawn_error(ks_sequence):
    header = _header(ks_sequence[0])
    true = SkyCoord(header["HIERARCH ASTROPIPE TRUE CRVAL1"], header["HIERARCH ASTROPIPE TRUE CRVAL2"], unit="deg")
    reported = SkyCoord(header["CRVAL1"], header["CRVAL2"], unit="deg")
    error = reported.separation(true).to_value(u.arcsec)
    assert error == pytest.approx(header["HIERARCH ASTROPIPE POINTING ERROR"], abs=1e-3) and error > 0.5
    assert abs(header["HIERARCH ASTROPIPE ROTATION ERROR"]) > 0.0


def test_true_wcs_places_the_truth_stars(ks_sequence, night):
    stars = night.scene("object11").stars
    header = _header(ks_sequence[0])
    data = read_raw_data(ks_sequence[0])
    wcs = _true_wcs(header)
    x, y = wcs.world_to_pixel(SkyCoord(stars["ra"], stars["dec"], unit="deg"))
    inside = (x > 15) & (x < 240) & (y > 15) & (y < 240)
    k = np.asarray(stars["K"])
    # isolated: no star within 8 px brighter than 3 mag fainter (a blend's light centre is not either star)
    blended = [
        np.any((np.hypot(x - x[i], y - y[i]) < 8) & (k < k[i] + 3) & (np.arange(k.size) != i)) for i in range(k.size)
    ]
    brightest = np.argsort(np.where(inside & ~np.array(blended), k, 99))[:3]
    for i in brightest:
        xi, yi = int(round(x[i])), int(round(y[i]))
        box = data[yi - 4 : yi + 5, xi - 4 : xi + 5] - np.median(data)
        yy, xx = np.mgrid[yi - 4 : yi + 5, xi - 4 : xi + 5]
        weights = np.clip(box, 0, None)
        assert (xx * weights).sum() / weights.sum() == pytest.approx(x[i], abs=0.5)
        assert (yy * weights).sum() / weights.sum() == pytest.approx(y[i], abs=0.5)


def test_same_seed_gives_byte_identical_frames(ks_sequence, tmp_path):
    again = NightSimulation(_config(), REFERENCE).write_sequence("object11", "Ks", tmp_path)
    for a, b in zip(ks_sequence, again, strict=True):
        assert filecmp.cmp(a, b, shallow=False)
    other = _config()
    other["seed"] += 1
    different = NightSimulation(other, REFERENCE).write_sequence("object11", "Ks", tmp_path / "other")
    assert not filecmp.cmp(ks_sequence[0], different[0], shallow=False)


def test_different_frames_get_independent_noise(night, tmp_path):
    paths = night.write_calibrations(tmp_path)
    darks = [read_raw_data(p) for p in paths if p.name.startswith("SOFI") and _header(p)["HIERARCH ESO DET DIT"] == 20]
    good = ~night.maps.bad & (night.maps.variable_excess == 0)  # variable pixels repeat their high state
    a, b = (d[good] - d[good].mean() for d in darks[:2])
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02


def test_calibrations_cover_every_dit_and_band(night, tmp_path):
    paths = night.write_calibrations(tmp_path)
    raw = [_header(p) for p in paths]
    assert all(p.name.startswith("SOFI.") for p in paths)  # only what the archive delivers: no products
    assert {h["HIERARCH ESO DET DIT"] for h in raw if frame_kind(h).kind == "DARK"} == {30, 20, 7, 2, 3}
    assert all(filter_name(h) == "blank" for h in raw if frame_kind(h).kind == "DARK")
    assert {filter_name(h) for h in raw if frame_kind(h).kind == "FLAT,LAMP"} == {"H", "Ks"}
    assert len({h["DATE-OBS"] for h in raw}) == len(raw)  # one archive name per frame


def test_illumination_products_are_written_when_there_is_no_grid(tmp_path):
    config = _config()
    config["simulation"]["illumination_grid"] = 0
    names = {p.name for p in NightSimulation(config, REFERENCE).write_calibrations(tmp_path)}
    assert {"illumination_H.fits", "illumination_Ks.fits"} <= names


def test_standards_at_every_airmass(night, tmp_path):
    config = _config()["standards"]
    paths = night.write_standards(tmp_path)
    grid = 2 * _config()["simulation"]["illumination_grid"] ** 2
    assert len(paths) == len(config["stars"]) * len(config["airmasses"]) * 2 * config["nexp"] + grid
    headers = [_header(p) for p in paths]
    assert sum(frame_kind(h).kind == "STD,ILLUM" for h in headers) == grid
    assert {h["HIERARCH ESO TEL AIRM START"] for h in headers} == set(config["airmasses"])
    headers = [h for h in headers if frame_kind(h).kind == "STD"]
    assert len({p.name for p in paths}) == len(paths)
    assert {h["HIERARCH ESO OBS TARG NAME"] for h in headers} == {"S791-C", "S875-C"}  # HST names of 9150, 9170
    assert headers[0]["HIERARCH ESO DPR TYPE"] == "STD" and headers[0]["HIERARCH ESO DET DIT"] == 2


@pytest.fixture(scope="module")
def default_scene():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    return NightSimulation(config["imaging"], REFERENCE).scene("object11")


def test_cluster_tenth_brightest_star_is_near_the_paper(default_scene):
    cluster = default_scene.meta["cluster"]
    assert cluster["k10"] == pytest.approx(12.7, abs=0.3)
    members = default_scene.stars[default_scene.stars["member"]]
    assert np.median(members["e_hk"]) == pytest.approx(1.14, abs=0.05)
    assert np.max(np.hypot(members["xi"], members["eta"])) <= 40.0


def test_bulge_clump_and_disc_sequence_sit_where_the_paper_sees_them(default_scene):
    stars = default_scene.stars
    colour = np.asarray(stars["H"] - stars["K"])
    clump = (stars["population"] == "bulge") & (np.abs(stars["absolute_k"] + 1.99) < 0.2)
    # clump: (H-K)0 = 0.15 plus E(H-K) = 0.10 + 0.60 (Dutra et al. 2003, §3.3)
    assert np.median(colour[clump]) == pytest.approx(0.85, abs=0.05)
    disc = (stars["population"] == "disc") & (stars["K"] < 16)
    assert np.median(colour[disc]) == pytest.approx(0.25, abs=0.08)
    area = (2 * default_scene.spec.half_size_arcsec / 60) ** 2
    assert np.sum(stars["K"] < 17) / area > 300  # crowded: > 300 stars / arcmin^2 at K < 17


def test_reference_catalogue_is_shallow_blended_and_offset(night):
    table = night.reference_catalogue("object11")
    # H < 14 before the offset (0.17 + 0.02 (m - 12)) and the noise (0.10 mag at the limit; 5 sigma for ~300 stars)
    assert np.nanmax(table["H"].value) < 14.0 + 0.17 + 0.02 * 2.0 + 5 * 0.10
    stars = night.scene("object11").stars
    truth = SkyCoord(stars["ra"], stars["dec"], unit="deg")
    ref = SkyCoord(table["ra"], table["dec"])
    index, _, _ = ref.match_to_catalog_sky(truth)
    # blending at 2MASS resolution: the catalogue star holds the light of its neighbours
    neighbours = truth.search_around_sky(ref, 2.5 * u.arcsec)
    flux = 10 ** (-0.4 * np.asarray(stars["H"]))
    summed = np.bincount(neighbours[0], weights=flux[neighbours[1]], minlength=len(table))
    blended = -2.5 * np.log10(summed)
    finite = np.isfinite(table["H"].value)
    offset = table["H"].value[finite] - blended[finite]
    expected = 0.17 + 0.02 * (blended[finite] - 12.0)
    assert np.median(offset - expected) == pytest.approx(0.0, abs=0.02)
    assert np.median(summed[finite] / flux[index[finite]]) > 1.0  # crowded: most entries are blends


def test_survey_labels_follow_the_configured_classes():
    config = _config()
    config["survey"]["n_fields"] = 8
    night = NightSimulation(config, REFERENCE)
    specs = night.survey_fields()
    assert [s.name for s in specs] == [f"cand{i:02d}" for i in range(1, 9)]
    counts = {c: sum(s.kind == c for s in specs) for c in {s.kind for s in specs}}
    assert counts == {"embedded_cluster": 2, "dissolving_cluster": 2, "bright_star_blend": 2, "field": 2}


@pytest.mark.parametrize(("compression", "suffix"), [("none", ".fits"), ("gzip", ".fits.gz")])
def test_other_compressions_are_written_and_read(tmp_path, compression, suffix):
    config = _config()
    config["simulation"]["compression"] = compression
    paths = NightSimulation(config, REFERENCE).write_calibrations(tmp_path)
    assert all(p.name.startswith("SOFI.") and p.name.endswith(suffix) for p in paths)
    frames = classify_frames(paths)
    assert set(frames["type"]) == {"DARK", "FLAT,LAMP"} and set(frames["lamp_from"][frames["type"] == "FLAT,LAMP"]) == {
        "level"
    }
