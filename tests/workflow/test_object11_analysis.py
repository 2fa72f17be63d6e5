"""Object 11 end to end from raw simulated frames: calibration, CMDs, decontamination, distances.

Uses the workflow run on the default configuration (``object11_run``: survey
fields switched off, they do not enter the object's analysis) and compares
every result with the injected truth. The recovered numbers are printed (``pytest -s``) and
docs/object11_validation.md quotes them.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from astropy.coordinates import SkyCoord
from astropy.table import Table
from conftest import REPO
from snakemake.utils import validate

from astropipe.cmd.sequences import locate_sequences
from astropipe.io.raw_frames import open_raw_frame

NIGHT = "2002-07-04"
REFERENCE = REPO / "resources" / "reference"


@pytest.fixture(scope="module")
def run(object11_run) -> Path:
    return object11_run


def _json(run: Path, path: str) -> dict:
    return json.loads((run / path).read_text())


def _truth_match(run: Path, table: Table) -> tuple[Table, np.ndarray]:
    """The nearest truth star (K < 19) to each catalogue star, and whether it lies within 0.4"."""
    truth = Table.read(run / f"results/truth/{NIGHT}/stars.ecsv")
    truth = truth[(truth["field"] == "object11") & (truth["K"] < 19)]
    index, separation, _ = SkyCoord(table["ra"], table["dec"], unit="deg").match_to_catalog_sky(
        SkyCoord(truth["ra"], truth["dec"], unit="deg")
    )
    return truth[index], separation.arcsec < 0.4


def _standards_cirrus_mag(run: Path, band: str) -> float:
    """Mean 2.5 log10(transparency) of the night's standard-star frames in ``band`` (simulated truth): the
    zero point a fit to the standards measures is the injected one plus this."""
    frames = Table.read(run / f"results/imaging/{NIGHT}/frames.ecsv", format="ascii.ecsv")
    values = []
    for path in frames["path"][(frames["type"] == "STD") & (frames["filter"] == band)]:
        with open_raw_frame(run / path) as hdul:
            values.append(2.5 * np.log10(hdul[0].header["HIERARCH ASTROPIPE TRANSPARENCY"]))
    return float(np.mean(values))


def test_transformation_agrees_with_the_injected_one(run):
    calibration = _json(run, f"results/imaging/{NIGHT}/calibration.json")
    scene = _json(run, f"results/truth/{NIGHT}/scene.json")
    for band in ("H", "Ks"):
        fitted = calibration["bands"][band]
        injected = scene["zero_points"][band] + _standards_cirrus_mag(run, band)
        print(
            f"{band}: a = {fitted['colour_term']:.4f} +- {fitted['colour_term_err']:.4f} (injected "
            f"{scene['colour_terms'][band]}), z = {fitted['zero_point_mag']:.4f} +- {fitted['zero_point_err_mag']:.4f} "
            f"(injected {scene['zero_points'][band]}, {injected:.4f} through the cirrus), rms {fitted['rms_mag']:.4f}"
        )
        assert abs(fitted["colour_term"] - scene["colour_terms"][band]) < 2 * fitted["colour_term_err"]
        assert abs(fitted["zero_point_mag"] - injected) < 3 * fitted["zero_point_err_mag"]
        assert fitted["n_standards"] == 3 and fitted["n_points"] == 9


def test_calibrated_magnitudes_match_the_truth(run):
    catalog = Table.read(run / f"results/imaging/{NIGHT}/object11/catalog.ecsv")
    truth, matched = _truth_match(run, catalog)
    good = matched & (catalog["flags_h"] == 0) & (catalog["flags_ks"] == 0) & (catalog["K"] > 11) & (catalog["K"] < 14)
    d_k = np.median(catalog["K"][good] - truth["K"][good])
    d_hk = np.median(catalog["HK"][good] - (truth["H"] - truth["K"])[good])
    print(f"11 < K < 14: median K - K_true = {d_k:+.3f}, (H-K) - (H-K)_true = {d_hk:+.3f} ({good.sum()} stars)")
    assert abs(d_k) < 0.03
    assert abs(d_hk) < 0.05


def test_the_catalogues_hold_few_stars_that_were_never_injected(run):
    """Unflagged detections matching no injected star (within 0.4" and 0.75 mag, on the catalogue's own zero
    point): 9 % (H) and 6 % (Ks) of each band's catalogue. Before the residual passes' threshold took the
    subtracted models' uncertainty into account (and a saturated star was fitted as one star on its wings),
    26 % and 16 %: residuals of bright stars taken for stars (docs/imaging.md, photometry step 7)."""
    truth = Table.read(run / f"results/truth/{NIGHT}/stars.ecsv")
    truth = truth[truth["field"] == "object11"]
    for band, column in (("H", "H"), ("Ks", "K")):
        catalog = Table.read(run / f"results/imaging/{NIGHT}/object11/{band}/catalog.ecsv")
        index, separation, _ = SkyCoord(catalog["ra"], catalog["dec"], unit="deg").match_to_catalog_sky(
            SkyCoord(truth["ra"], truth["dec"], unit="deg")
        )
        true_mag, mag = np.asarray(truth[column])[index], np.asarray(catalog["mag_inst"])
        unflagged = np.asarray(catalog["flags"]) == 0
        close = separation.arcsec < 0.4
        zero_point = np.median((true_mag - mag)[close & unflagged])
        matched = close & (np.abs(true_mag - mag - zero_point) < 0.75)
        spurious = float(np.mean(~matched[unflagged]))
        print(f"{band}: {spurious:.1%} of {unflagged.sum()} unflagged detections match no injected star")
        assert spurious < 0.12


def test_reference_comparison_recovers_the_2mass_offsets(run):
    comparison = _json(run, f"results/imaging/{NIGHT}/object11/reference_comparison.json")
    for band, injected in (("H", 0.17), ("Ks", 0.11)):
        fit = comparison["bands"][band]
        print(
            f"{band}: 2MASS - ours = {fit['offset_mag']:+.3f} +- {fit['offset_err_mag']:.3f} at 12 mag "
            f"(injected {injected}), slope {fit['slope']:+.3f}, {fit['n_rejected']} of {fit['n_common']} rejected"
        )
        # unresolved faint stars inside the 2MASS beam and our own calibration error: within 0.06 mag
        assert abs(fit["offset_mag"] - injected) < 0.06


def test_saturated_stars_come_from_the_reference_in_our_system(run):
    cmd = _json(run, f"results/imaging/{NIGHT}/object11/cmd.json")
    stars = Table.read(run / f"results/imaging/{NIGHT}/object11/cmd_stars.ecsv")
    substitutes = stars[stars["source"] == "reference"]
    truth, matched = _truth_match(run, substitutes)
    d_k = np.asarray(substitutes["K"] - truth["K"])[matched]
    d_hk = np.asarray(substitutes["HK"] - (truth["H"] - truth["K"]))[matched]
    print(
        f"{cmd['n_saturated_replaced']} saturated detections replaced by {len(substitutes)} reference stars "
        f"({np.sum(substitutes['region'] == 'object')} in the object area): median K - K_true = {np.median(d_k):+.3f}, "
        f"(H-K) - true = {np.median(d_hk):+.3f}; saturated detections left: {cmd['n_rejected_saturated']}"
    )
    assert cmd["saturated_from_reference"] and cmd["n_saturated_replaced"] >= len(substitutes) > 50
    assert matched.mean() > 0.95
    # the 2MASS relation is measured on 11 < K < 12.5 only and held beyond it: a few 0.01 mag at the bright end
    assert abs(np.median(d_k)) < 0.1 and abs(np.median(d_hk)) < 0.06
    assert np.median(np.abs(d_k - np.median(d_k))) < 2 * np.median(substitutes["e_K"])
    # the point of it: the object CMD is complete at the bright end again (left out, the saturated stars took
    # 50 of the 56 true stars brighter than K = 12 in the object area with them)
    truth = Table.read(run / f"results/truth/{NIGHT}/stars.ecsv")
    truth = truth[truth["field"] == "object11"]
    in_object = np.hypot(truth["xi"], truth["eta"]) < cmd["object_radius_arcsec"]
    n_true, n_cmd = np.sum(in_object & (truth["K"] < 12)), np.sum((stars["region"] == "object") & (stars["K"] < 12))
    print(f"object area, K < 12: {n_cmd} stars in the CMD, {n_true} in the truth")
    assert n_cmd >= 0.8 * n_true


def test_colour_sequences_are_found_where_they_were_injected(run):
    cmd = _json(run, f"results/imaging/{NIGHT}/object11/cmd.json")
    stars = Table.read(run / f"results/imaging/{NIGHT}/object11/cmd_stars.ecsv")
    used = stars[stars["in_sequences"]]
    truth, matched = _truth_match(run, used)
    injected = locate_sequences(np.asarray(truth["H"] - truth["K"])[matched], bootstrap=20)
    found = [c["median_mag"] for c in cmd["colour_sequences"]["components"]]
    print(
        f"sequences (median colours) at H - K = {found[0]:.3f}, {found[1]:.3f}; the same stars' true colours: "
        f"{injected.medians[0]:.3f}, {injected.medians[1]:.3f}"
    )
    np.testing.assert_allclose(found, injected.medians, atol=0.05)


def test_reddening_and_distance(run):
    summary = _json(run, f"results/imaging/{NIGHT}/object11/summary.json")
    scene = _json(run, f"results/truth/{NIGHT}/scene.json")
    b0v = summary["distance_kpc"]["B0V"]
    print(
        f"foreground E(H-K) = {summary['foreground']['e_hk']:.3f} (injected {scene['bulge']['e_hk_mean']}); "
        f"cluster E(H-K) = {summary['e_hk']:.3f} +- {summary['e_hk_err']:.3f} (injected {scene['cluster_e_hk']}), "
        f"half-width {summary['e_hk_halfwidth']:.2f} (injected 0.35); K10 = {summary['k10']:.2f} +- "
        f"{summary['k10_err']:.2f} (injected {scene['cluster_k10']:.2f}); B0V d = {b0v['value']:.2f} +- "
        f"{b0v['err']:.2f} kpc (injected {scene['cluster_distance_kpc']})"
    )
    for key in ("k10", "e_hk", "e_hk_err", "e_hk_spread", "a_k", "a_k_err", "a_v"):
        assert np.isfinite(summary[key]), key
    assert set(summary["distance_kpc"]) == {"O5V", "B0V"}
    assert abs(summary["foreground"]["e_hk"] - scene["bulge"]["e_hk_mean"]) < 0.05
    assert abs(summary["e_hk"] - scene["cluster_e_hk"]) < 0.1
    # The paper's "within 15 %" is not a one-night test: the tenth-brightest member is set by a handful of stars
    # against a dense field, so K10 jumps between stars (the single-Moffat night of earlier versions gave 8.0 or
    # 9.4 kpc for frame weights 1e-4 apart; the eight validation nights, docs/object11_validation.md). What one night can test is that the quoted errors, which
    # bootstrap both CMDs, hold.
    assert abs(summary["k10"] - scene["cluster_k10"]) < 2.0 * summary["k10_err"]
    assert abs(b0v["value"] - scene["cluster_distance_kpc"]) < 2.0 * b0v["err"]
    assert summary["n_saturated_object_brighter_than_k10"] >= 0
    # E(H-K) says whether the mixture it is weighted by had its colour band at the bound
    mixture = _json(run, f"results/imaging/{NIGHT}/object11/decontamination.json")["mixture"]
    assert summary["e_hk_mixture_band_at_bound"] is mixture["colour_halfwidth_at_bound"]


def test_a_uniform_foreground_is_left_as_it_is(run):
    """The default night has no foreground screen: the background-reddening map holds only the noise of its local
    medians (ratio ~1), ``auto`` does not apply it, and the stars keep their measured magnitudes."""
    report = _json(run, f"results/imaging/{NIGHT}/object11/decontamination.json")["background_reddening"]
    assert report["mode"] == "auto" and not report["applied"]
    assert 0.7 < report["significance"] < 2.0
    assert report["offset_rms_mag"] == pytest.approx(report["significance"] * report["uniform_foreground_rms_mag"])
    members = Table.read(run / f"results/imaging/{NIGHT}/object11/membership.ecsv")
    assert "H_observed" not in members.colnames and "e_hk_background" not in members.colnames


def _membership_against_truth(run: Path) -> tuple[Table, np.ndarray, np.ndarray]:
    """membership.ecsv, which of its stars are true members, and which lie above both completeness limits."""
    members = Table.read(run / f"results/imaging/{NIGHT}/object11/membership.ecsv")
    cmd = _json(run, f"results/imaging/{NIGHT}/object11/cmd.json")
    truth, matched = _truth_match(run, members)
    complete = (members["K"] < cmd["completeness_limit_k_mag"]) & (members["H"] < cmd["completeness_limit_h_mag"])
    return members, matched & np.asarray(truth["member"]), np.asarray(complete)


def test_decontamination_keeps_members_and_removes_the_field(run):
    members, member, complete = _membership_against_truth(run)
    kept = members["probability"] >= members.meta["member_probability"]
    kept_members = kept[member & complete].mean()
    removed_field = (~kept[~member & complete]).mean()
    print(
        f"decontamination: {kept_members:.0%} of {int((member & complete).sum())} true members kept, "
        f"{removed_field:.0%} of {int((~member & complete).sum())} field stars removed in the object area"
    )
    for cut in (0.2, 0.3, 0.4):  # the trade-off a user can choose with member_probability (docs/imaging.md)
        loose = members["probability"] >= cut
        print(
            f"  at probability >= {cut}: {loose[member & complete].mean():.0%} kept, "
            f"{(~loose[~member & complete]).mean():.0%} removed"
        )
    # the target is 80 % / 80 %; at probability >= 0.5 even a classifier that knew the populations' densities
    # keeps only 25-64 % of the members (validation/object11_limits.py; docs/object11_validation.md, "The decontamination:
    # where the members are"), so the bounds are what such a classifier allows, not the target (this night: 67 % of
    # 52 members, 88 % of 500 field stars; matching on H instead of the equal-density scale, 90 %)
    assert removed_field >= 0.85
    assert kept_members >= 0.55


def test_mixture_members_at_the_field_removal_operating_point(run):
    """The mixture model's members (docs/imaging.md, Decontamination): their count, and kept/removed against the truth."""
    members, member, complete = _membership_against_truth(run)
    mixture = _json(run, f"results/imaging/{NIGHT}/object11/decontamination.json")["mixture"]
    p = np.asarray(members["mixture_probability"])
    kept = p >= members.meta["mixture_threshold"]
    kept_members, removed_field = kept[member & complete].mean(), (~kept[~member & complete]).mean()
    print(
        f"mixture model: {mixture['n_members']:.1f} members fitted ({int((member & complete).sum())} true); at p >= "
        f"{mixture['threshold']:.3f}: {kept_members:.0%} of the members kept, {removed_field:.0%} of the field removed "
        f"(measured on the field region {mixture['field_region_removal']:.0%}; expected by the model "
        f"{mixture['expected_completeness']:.0%} / {mixture['expected_field_removal']:.0%})"
    )
    assert np.all(np.isnan(p[~complete])) and np.nansum(p) == pytest.approx(mixture["n_members"], rel=1e-4)
    n_true, n_field = int((member & complete).sum()), int((~member & complete).sum())
    # the count's own error (inverse Hessian; the field's Poisson noise under the band is in it); the object
    # area can hold more field stars than the field region predicts, and the model takes some for members
    assert abs(mixture["n_members"] - n_true) < 3 * mixture["n_members_err"]
    # the threshold removes mixture_field_removal of the field region's own stars placed over the object area;
    # the object area's field stars are removed as often within their binomial error (this night 82 % of 535
    # against 85 % measured: on the twelve simulated nights the difference is -4 to +2 points)
    assert mixture["operating_point"] == "field_removal"
    measured = mixture["field_region_removal"]
    assert measured == pytest.approx(0.85, abs=0.005)
    assert removed_field == pytest.approx(measured, abs=3 * np.sqrt(measured * (1 - measured) / n_field))
    # the target, >= 80 % of the members kept while >= 80 % of the field is removed, within its binomial error on
    # this one night: 84 % of 51 members and 82 % of 535 field stars (at the balanced point, the default before
    # the field removal was measured on the field region, 84 % and 85 %; docs/object11_validation.md has both on the twelve
    # nights)
    assert kept_members >= 0.8 - 2 * np.sqrt(0.8 * 0.2 / n_true)
    assert removed_field >= 0.8 - 2 * np.sqrt(0.8 * 0.2 / n_field)


def test_probabilities_are_checked_against_the_statistical_excess(run):
    """decontamination.json's truth-free check: object minus area-scaled field above the limits, and the sum of p."""
    members, member, complete = _membership_against_truth(run)
    check = _json(run, f"results/imaging/{NIGHT}/object11/decontamination.json")["above_completeness_limits"]
    assert check["n_object"] == complete.sum()
    assert check["sum_probability"] == pytest.approx(members["probability"][complete].sum())
    n_true = int((member & complete).sum())
    print(
        f"above the limits: statistical excess {check['statistical_excess']:.1f} +- "
        f"{check['statistical_excess_err']:.1f}, true members {n_true}, sum of p {check['sum_probability']:.1f}"
    )
    assert abs(check["statistical_excess"] - n_true) < 2 * check["statistical_excess_err"]


def test_multi_night_validation_compares_a_night_as_these_tests_do(run):
    """``make validate`` (validation/object11_nights.py) reads the fixture's night into the same numbers."""
    spec = importlib.util.spec_from_file_location("object11_nights", REPO / "validation" / "object11_nights.py")
    validation = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(validation)
    config = yaml.safe_load((run / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    row = validation.compare(run / "results", NIGHT, config["imaging"]["distance"])
    summary = _json(run, f"results/imaging/{NIGHT}/object11/summary.json")
    scene = _json(run, f"results/truth/{NIGHT}/scene.json")
    assert row["k10_pull"] == pytest.approx((summary["k10"] - scene["cluster_k10"]) / summary["k10_err"])
    assert row["d_b0v_kpc"] == summary["distance_kpc"]["B0V"]["value"]
    assert row["d_true_kpc"] == scene["cluster_distance_kpc"] and row["e_hk_true"] == scene["cluster_e_hk"]
    members, member, complete = _membership_against_truth(run)
    kept = members["probability"] >= members.meta["member_probability"]
    assert row["members_kept"] == pytest.approx(kept[member & complete].mean())
    assert row["field_removed"] == pytest.approx((~kept[~member & complete]).mean())
    assert row["e_hk"] == summary["e_hk"] and np.isfinite(row["e_hk_upper_ms_all_members"])
    for share in ("upper_ms_paper_field_share", "upper_ms_mixture_field_share"):
        assert 0.0 <= row[share] < 1.0, share


def test_figures_exist(run):
    for name in (
        "fig6_2mass_comparison",
        "fig7_cmd",
        "fig8_luminosity_function",
        "fig9_decontamination",
        "fig10_main_sequence",
    ):
        path = run / f"results/figures/imaging/{NIGHT}/object11/{name}.png"
        assert path.stat().st_size > 10_000, path
