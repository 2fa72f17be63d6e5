"""Ingest: ESO archive keywords, unused frames listed with their reason, and every bad input a clear
error naming the file and what is wrong."""

import re

import numpy as np
import pytest
from astropy.io import fits

from astropipe.reduce.ingest import IngestError, classify_frames, validate_night


def _frame(
    path, kind="OBJECT", band="Ks", dit=20.0, offset=(0.0, 0.0), lamp=None, drop=(), level=0.0, expno=2, extra=None
):
    header = fits.Header()
    values = {
        "OBJECT": "field",
        "MJD-OBS": 52460.0 + offset[0] / 1e4,
        "HIERARCH ESO INS PIXSCALE": 0.145,
        "HIERARCH ESO DPR CATG": "SCIENCE" if kind == "OBJECT" else "CALIB",
        "HIERARCH ESO DPR TYPE": kind,
        "HIERARCH ESO DPR TECH": "IMAGE,JITTER",
        "HIERARCH ESO TPL ID": "SOFI_img_obs_AutoJitter",
        "HIERARCH ESO DET DIT": dit,
        "HIERARCH ESO DET NDIT": 2,
        "HIERARCH ESO INS FILT1 ID": band,
        "HIERARCH ESO INS FILT2 ID": "open",
        "HIERARCH ESO TEL AIRM START": 1.1,
        "HIERARCH ESO TPL EXPNO": expno,
        "HIERARCH ESO SEQ CUMOFFSETX": offset[0],
        "HIERARCH ESO SEQ CUMOFFSETY": offset[1],
        **(extra or {}),
    }
    if lamp is not None:
        values["HIERARCH ESO INS LAMP1 ST"] = lamp
    for key, value in values.items():
        if key not in drop:
            header[key] = value
    fits.PrimaryHDU(np.full((4, 4), level, np.float32), header=header).writeto(path)
    return path


@pytest.fixture
def night(tmp_path):
    paths = [_frame(tmp_path / f"sci_{i}.fits", offset=(10.0 * i, -5.0 * i)) for i in range(4)]
    paths += [_frame(tmp_path / "dark.fits", kind="DARK", band="blank", dit=20.0)]
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
    with pytest.raises(
        IngestError, match=re.escape("narrow.fits: unknown filter 'Br_gamma' (keywords 'HIERARCH ESO INS FILT1 ID'")
    ):
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


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"HIERARCH ESO DPR CATG": "ACQUISITION"}, "an acquisition frame (DPR CATG = 'ACQUISITION')"),
        (
            {"HIERARCH ESO TPL ID": "SOFI_img_acq_MoveToPixel"},
            "an acquisition frame (TPL ID = 'SOFI_img_acq_MoveToPixel')",
        ),
        ({"HIERARCH ESO DPR CATG": "TEST"}, "a test frame"),
        ({"HIERARCH ESO DPR TECH": "SPECTRUM"}, "not an imaging frame (DPR TECH = 'SPECTRUM')"),
        ({"HIERARCH ESO DPR TYPE": "SKY"}, "an offset sky frame"),
        ({"HIERARCH ESO DPR TYPE": "OBJCT"}, "DPR TYPE = 'OBJCT' is not a frame type the imaging reduction uses"),
    ],
    ids=["acquisition", "acquisition template", "test", "spectroscopy", "offset sky", "unknown type"],
)
def test_frames_the_reduction_does_not_use_are_listed_with_the_reason(night, tmp_path, extra, reason):
    other = _frame(tmp_path / "SOFI.2002-07-05T01:00:00.000.fits", offset=(7.0, 7.0), extra=extra)
    frames = classify_frames([*night, other])
    row = frames[frames["path"] == str(other)][0]
    assert row["type"] == "UNUSED" and reason in row["reason"]
    validate_night(frames)  # the rest of the night is still reducible
    assert (frames["type"] == "OBJECT").sum() == 4


def test_filter_is_read_from_either_wheel(night, tmp_path):
    wheel2 = _frame(tmp_path / "wheel2.fits", band="open", offset=(3.0, 1.0), extra={"HIERARCH ESO INS FILT2 ID": "Ks"})
    frames = classify_frames([*night, wheel2])
    assert frames[frames["path"] == str(wheel2)]["filter"][0] == "Ks"
    assert frames[frames["type"] == "DARK"]["filter"][0] == "blank"


def test_the_first_exposure_of_a_template_is_the_offset_origin(night, tmp_path):
    first = _frame(tmp_path / "first.fits", offset=(4.0, -3.0), expno=1)  # the header's quirk: not zero
    frames = classify_frames([*night, first])
    row = frames[frames["path"] == str(first)][0]
    assert (row["offset_x"], row["offset_y"]) == (0.0, 0.0)


def test_lamp_states_come_from_the_levels_when_the_headers_do_not_tell(night, tmp_path):
    kept = [p for p in night if not p.name.startswith("flat_")]
    flats = [
        _frame(tmp_path / f"dome_{i}.fits", kind="FLAT,LAMP", dit=3.0, level=level)
        for i, level in enumerate((8000.0, 410.0, 8050.0, 400.0))
    ]
    frames = classify_frames([*kept, *flats])
    rows = frames[frames["type"] == "FLAT,LAMP"]
    assert list(rows["lamp_on"]) == [True, False, True, False] and set(rows["lamp_from"]) == {"level"}
    validate_night(frames)
    header_told = classify_frames(night)
    assert set(header_told[header_told["type"] == "FLAT,LAMP"]["lamp_from"]) == {"header"}


def test_flats_without_a_clear_lamp_split_are_named(night, tmp_path):
    kept = [p for p in night if not p.name.startswith("flat_")]
    flats = [
        _frame(tmp_path / f"dome_{i}.fits", kind="FLAT,LAMP", dit=3.0, level=level)
        for i, level in enumerate((8000.0, 7000.0, 6000.0))
    ]
    with pytest.raises(IngestError, match=r"dome_0.fits, dome_1.fits, dome_2.fits\): the headers do not tell"):
        classify_frames([*kept, *flats])


def test_target_names_become_field_names(night, tmp_path):
    frames = classify_frames(night, {"field": "object11"})
    assert set(frames[frames["type"] == "OBJECT"]["field"]) == {"object11"}
    odd = [
        _frame(tmp_path / f"odd_{i}.fits", offset=(2.0 * i, 1.0), extra={"OBJECT": "GLIMPSE +C01"}) for i in range(3)
    ]
    frames = classify_frames([*night, *odd])
    assert set(frames[frames["object"] == "GLIMPSE +C01"]["field"]) == {"GLIMPSE_C01"}
    validate_night(frames)


def test_two_targets_with_one_field_name_are_named(night, tmp_path):
    clash = _frame(tmp_path / "clash.fits", extra={"OBJECT": "field!"})
    with pytest.raises(IngestError, match=r"targets \['field', 'field!'\] all become field 'field'"):
        classify_frames([*night, clash])


def test_an_illumination_grid_replaces_the_illumination_frame(night, tmp_path):
    kept = [p for p in night if not p.name.startswith("illum")]
    with pytest.raises(
        IngestError, match="filter Ks: no illumination correction: neither a frame with ESO DPR TYPE = 'ILLUM'"
    ):
        validate_night(classify_frames(kept))
    grid = [
        _frame(
            tmp_path / f"grid_{i}.fits",
            kind="STD",
            dit=20.0,
            offset=(30.0 * (i % 3), 30.0 * (i // 3)),
            extra={"HIERARCH ESO TPL ID": "SOFI_img_cal_Illumination"},
        )
        for i in range(9)
    ]
    frames = classify_frames([*kept, *grid])
    assert (frames["type"] == "STD,ILLUM").sum() == 9
    validate_night(frames)
