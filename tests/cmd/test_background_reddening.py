"""The background's differential reddening: mapped from a reference sequence behind a known screen, it recovers
the screen to the noise of its local medians, and a uniform foreground maps to nothing."""

import numpy as np
import pytest
from astropy.table import Table

from astropipe.cmd.background_reddening import background_reddening_step, map_background_reddening

LAW = 1.436  # A_K / E(H - K)
N_STARS = 4000
SIDE = 150.0  # arcsec
SEQUENCE_SCATTER = 0.05  # mag: intrinsic colour scatter plus measurement error


def _sequence(rng, screen):
    """Giants on a tilted sequence (H - K)_0 = 0.30 - 0.04 (K0 - 12) with K0 in 10-15, behind the screen's E(H - K)
    at their positions (over a mean foreground of 0.7)."""
    x, y = rng.uniform(0.0, SIDE, (2, N_STARS))
    k0 = rng.uniform(10.0, 15.0, N_STARS)
    intrinsic = 0.30 - 0.04 * (k0 - 12.0)
    extra = screen(x, y)
    hk = intrinsic + SEQUENCE_SCATTER * rng.standard_normal(N_STARS) + 0.7 + extra
    return x, y, k0 + LAW * (0.7 + extra), hk, extra, intrinsic


def _gradient(x, y):
    return 0.2 * (x / SIDE - 0.5) + 0.1 * np.sin(2 * np.pi * y / SIDE)


def test_a_screen_across_the_field_is_recovered_to_the_local_medians_noise():
    rng = np.random.default_rng(4)
    x, y, k, hk, extra, intrinsic = _sequence(rng, _gradient)
    neighbours = 40
    mapped = map_background_reddening(x, y, k, hk, np.ones(N_STARS, bool), LAW, neighbours)
    # offsets are relative to the frame's median foreground
    truth = extra - np.median(extra)
    # the median of 40 stars of scatter 0.05 has an error of 1.25 * 0.05 / sqrt(40) = 0.010 mag, and the screen
    # changes by up to ~0.02 mag across the ~10" its 40 nearest neighbours span
    residual = mapped.offset - truth
    assert np.std(residual) < 0.02
    assert abs(np.median(residual)) < 0.005
    assert np.corrcoef(mapped.offset, truth)[0, 1] > 0.95
    assert mapped.varies_across_field and mapped.significance > 5
    # moved back along the vector, the sequence is as narrow as without the screen
    _, dereddened_hk = mapped.deredden(k + hk, hk, LAW)
    behind_median_foreground = intrinsic + 0.7 + np.median(extra)
    assert np.std(hk - behind_median_foreground) > 2 * SEQUENCE_SCATTER
    assert np.std(dereddened_hk - behind_median_foreground) == pytest.approx(SEQUENCE_SCATTER, rel=0.3)


def test_a_uniform_foreground_maps_to_the_local_medians_noise_only():
    rng = np.random.default_rng(5)
    x, y, k, hk, *_ = _sequence(rng, lambda x, y: np.zeros_like(x))
    mapped = map_background_reddening(x, y, k, hk, np.ones(N_STARS, bool), LAW, 40)
    assert np.std(mapped.offset) < 1.6 * 1.25 * SEQUENCE_SCATTER / np.sqrt(40)
    # the noise a uniform foreground's map has, from the sequence's own spread: the offsets' rms is about it
    assert mapped.sequence_spread == pytest.approx(SEQUENCE_SCATTER, rel=0.1)
    assert mapped.significance == pytest.approx(1.0, abs=0.3) and not mapped.varies_across_field
    assert mapped.reference.mean() > 0.97  # only the Gaussian tails beyond 3 sigma are clipped


def test_stars_off_the_sequence_do_not_pull_the_map():
    """A compact group of stars 0.3 mag redder than the sequence (a cluster's members) among the references moves
    the offsets near it by far less than its own offset: they are clipped or outvoted by the median."""
    rng = np.random.default_rng(6)
    x, y, k, hk, *_ = _sequence(rng, lambda x, y: np.zeros_like(x))
    members = np.hypot(x - SIDE / 2, y - SIDE / 2) < 15.0
    group = rng.random(N_STARS) < 0.3
    hk = np.where(members & group, hk + 0.3, hk)
    mapped = map_background_reddening(x, y, k, hk, np.ones(N_STARS, bool), LAW, 40)
    assert np.median(mapped.offset[members & ~group]) < 0.05


def test_too_few_reference_stars_are_refused_with_the_counts():
    x = y = k = hk = np.arange(10.0)
    with pytest.raises(ValueError, match="10 reference stars, expected more than the 30 neighbours"):
        map_background_reddening(x, y, k, hk, np.ones(10, bool), LAW, 30)


def _cmd_stars(rng, screen) -> Table:
    x, y, k, hk, *_ = _sequence(rng, screen)
    region = np.where(np.hypot(x - SIDE / 2, y - SIDE / 2) < 40.0, "object", "field")
    return Table({"x_ks": x, "y_ks": y, "H": k + hk, "K": k, "HK": hk, "region": region})


def _step(stars: Table, mode: str):
    settings = {"mode": mode, "neighbours": 40}
    return background_reddening_step(stars, 0.0, (99.0, 99.0), LAW, settings, source="cmd_stars.ecsv")


def test_auto_applies_the_map_only_where_the_foreground_varies():
    uniform = _cmd_stars(np.random.default_rng(7), lambda x, y: np.zeros_like(x))
    stars, report = _step(uniform, "auto")
    assert stars is uniform and not report["applied"] and report["significance"] < 2.0
    stars, report = _step(uniform, "always")
    assert report["applied"] and {"H_observed", "K_observed", "HK_observed", "e_hk_background"} <= set(stars.colnames)
    np.testing.assert_allclose(stars["HK_observed"] - stars["HK"], stars["e_hk_background"])
    screened = _cmd_stars(np.random.default_rng(7), _gradient)
    stars, report = _step(screened, "auto")
    assert report["applied"] and report["significance"] > 5
    # the object disc at the field's centre sits where the gradient is zero, the field region around it on both sides
    assert report["field_region_median_offset_mag"] == pytest.approx(report["object_area_median_offset_mag"], abs=0.03)
    stars, report = _step(screened, "never")
    assert stars is screened and report == {"mode": "never", "applied": False}


def test_a_field_too_sparse_to_map_is_left_as_measured_by_auto_and_refused_by_always():
    sparse = _cmd_stars(np.random.default_rng(8), _gradient)[:30]
    stars, report = _step(sparse, "auto")
    assert stars is sparse and not report["applied"] and "30 reference stars" in report["not_mapped"]
    with pytest.raises(ValueError, match=r"cmd_stars.ecsv: .*30 reference stars.*mode: always"):
        _step(sparse, "always")
