"""Ingest: every bad input is a clear error naming the file and what is wrong."""

import re

import numpy as np
import pytest
from astropy.io import fits

from astropipe.reduce.ingest import IngestError, classify_frames, validate_night


def _frame(path, kind="OBJECT", band="Ks", dit=20.0, offset=(0.0, 0.0), lamp=None, drop=()):
    header = fits.Header()
    values = {
        "OBJECT": "field", "MJD-OBS": 52460.0 + offset[0] / 1e4, "PIXSCALE": 0.145,
        "HIERARCH ESO DPR TYPE": kind, "HIERARCH ESO DET DIT": dit, "HIERARCH ESO DET NDIT": 2,
        "HIERARCH ESO INS FILT1 NAME": band, "HIERARCH ESO TEL AIRM START": 1.1,
        "HIERARCH ESO SEQ CUMOFFSETX": offset[0], "HIERARCH ESO SEQ CUMOFFSETY": offset[1],
    }  # fmt: skip
    if lamp is not None:
        values["HIERARCH ESO INS LAMP1 ST"] = lamp
    for key, value in values.items():
        if key not in drop:
            header[key] = value
    fits.PrimaryHDU(np.zeros((4, 4), np.float32), header=header).writeto(path)
    return path


@pytest.fixture
def night(tmp_path):
    paths = [_frame(tmp_path / f"sci_{i}.fits", offset=(10.0 * i, -5.0 * i)) for i in range(4)]
    paths += [_frame(tmp_path / "dark.fits", kind="DARK", band="closed", dit=20.0)]
    paths += [_frame(tmp_path / f"flat_{s}.fits", kind="FLAT,LAMP", dit=3.0, lamp=s == "on") for s in ("on", "off")]
    paths += [_frame(tmp_path / "illum.fits", kind="ILLUM")]
    return paths


def test_a_complete_night_is_accepted(night):
    frames = classify_frames(night)
    validate_night(frames)
    assert sorted(set(frames["type"])) == ["DARK", "FLAT,LAMP", "ILLUM", "OBJECT"]


def test_corrupt_file_is_named(night, tmp_path):
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"this is not FITS at all" * 100)
    with pytest.raises(IngestError, match=re.escape("broken.fits: not a readable FITS file")):
        classify_frames([*night, bad])


def test_missing_keyword_is_named(night, tmp_path):
    path = _frame(tmp_path / "nodit.fits", drop=("HIERARCH ESO DET DIT",))
    with pytest.raises(IngestError, match=re.escape("nodit.fits: missing header keyword 'HIERARCH ESO DET DIT'")):
        classify_frames([*night, path])


def test_unknown_filter_is_named(night, tmp_path):
    path = _frame(tmp_path / "narrow.fits", band="Br_gamma")
    with pytest.raises(IngestError, match=re.escape("narrow.fits: unknown filter 'Br_gamma'")):
        classify_frames([*night, path])


def test_dit_without_darks_is_named(night, tmp_path):
    path = _frame(tmp_path / "long.fits", dit=45.0, offset=(3.0, 3.0))
    with pytest.raises(IngestError, match=re.escape("long.fits: DIT = 45.0 s has no matching dark")):
        validate_night(classify_frames([*night, path]))


def test_too_few_dither_positions_is_named(tmp_path, night):
    kept = [p for p in night if not p.name.startswith("sci_")]
    science = [_frame(tmp_path / f"stare_{i}.fits", offset=(0.0, 0.0)) for i in range(5)]
    with pytest.raises(IngestError, match=r"stare_0.fits.*1 dither position\(s\); sky subtraction needs >= 3"):
        validate_night(classify_frames([*kept, *science]))


def test_filter_without_flats_is_named(night):
    kept = [p for p in night if not p.name.startswith("flat_")]
    with pytest.raises(IngestError, match="filter Ks: needs lamp-on and lamp-off dome flats"):
        validate_night(classify_frames(kept))
