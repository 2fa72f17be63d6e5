"""A real run of the CI configuration (every rule), checked against the library and the truth."""

import json

import numpy as np
import pytest
import yaml
from astropy.table import Table
from conftest import CI_CONFIG, run_snakemake
from scipy.spatial import cKDTree

from astropipe.calibrate.saturated import saturated_detections
from astropipe.lensing import deflection_angle, time_delay


def test_grid_has_every_point_and_matches_the_library(ci_run):
    config = yaml.safe_load(CI_CONFIG.read_text())["lensing"]
    grid = Table.read(ci_run / "results/lensing/grid.ecsv", format="ascii.ecsv")
    assert len(grid) == len(config["speeds"]) * config["impact_parameter"]["points"]
    assert grid["alpha_exact"].unit == "rad"
    rows = grid[::5]
    np.testing.assert_array_equal(rows["alpha_exact"], deflection_angle(rows["b"], rows["v"]))
    radius = config["delay_radius_over_mass"]
    np.testing.assert_allclose(rows["delay_exact"], time_delay(radius, radius, rows["b"], rows["v"]), rtol=1e-12)


def test_summary_has_the_solar_limb_deflection(ci_run):
    summary = json.loads((ci_run / "results/lensing/summary.json").read_text())
    limb = {e["name"]: e for e in summary["examples"]}["light_at_solar_limb"]
    assert limb["alpha_exact_arcsec"] == pytest.approx(1.7512, abs=5e-5)
    light = next(s for s in summary["speeds"] if s["v"] == 1.0)
    assert light["critical_impact_parameter_m"] == pytest.approx(3 * np.sqrt(3))


def test_figures_logs_and_benchmarks_exist(ci_run):
    for name in (
        "joshi_fig1a_classical_vs_relativistic",
        "joshi_fig1b_light_vs_massive",
        "deflection_vs_impact_parameter",
        "time_delay",
        "cross_section",
    ):
        png = ci_run / f"results/figures/lensing/{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ci_run / "results/logs/lensing/gather.log").read_text().strip()
    assert (ci_run / "results/benchmarks/lensing/chunk_000.tsv").is_file()
    assert not list(ci_run.glob("results/**/.*.ecsv")), "temporary files of atomic writes were left behind"


def test_grid_is_identical_for_another_chunking(ci_run, tmp_path):
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["lensing"]["chunks"] = 5
    config_file = tmp_path / "five_chunks.yaml"
    config_file.write_text(yaml.safe_dump(config))
    # the target goes first: --configfile takes several values
    run_snakemake(
        "results/lensing/grid.ecsv", "--cores", "2", "--directory", str(tmp_path), "--configfile", str(config_file)
    )
    assert len(list((tmp_path / "results/lensing/chunks").glob("*.ecsv"))) == 5
    assert (tmp_path / "results/lensing/grid.ecsv").read_bytes() == (ci_run / "results/lensing/grid.ecsv").read_bytes()


def test_simulated_night_is_written_with_truth(ci_run):
    from astropipe.io.raw_frames import open_raw_frame

    night = ci_run / "results/raw/2002-07-05"
    frames = sorted((night / "object11" / "Ks").glob("SOFI.2002-07-0*.fits.Z"))
    assert len(frames) == 5
    with open_raw_frame(frames[0]) as hdul:
        assert hdul[0].header["HIERARCH ESO INS FILT1 ID"] == "Ks"
        assert hdul[0].data.shape == (512, 512)
    assert len(list((night / "standards").glob("SOFI.*.fits.Z"))) == 2 * 3 * 2 * 3 + 2 * 5 * 5  # + illumination grid
    assert not list((night / "calib").glob("*pixel*"))  # no bad-pixel map: the archive has none
    labels = Table.read(ci_run / "results/truth/2002-07-05/survey_labels.ecsv", format="ascii.ecsv")
    assert list(labels["field"]) == ["cand01", "cand02"]
    scene = json.loads((ci_run / "results/truth/2002-07-05/scene.json").read_text())
    assert scene["cluster_e_hk"] == 1.14 and scene["zero_points"]["Ks"] == 22.35


def test_object_field_is_reduced_and_measured(ci_run):
    from astropy.io import fits

    base = ci_run / "results/imaging/2002-07-05/object11"
    for band in ("H", "Ks"):
        header = fits.getheader(base / band / "stack.fits")
        assert header["BUNIT"] == "adu/s" and header["NCOMBINE"] == 5 and "CTYPE1" in header
        catalog = Table.read(base / band / "catalog.ecsv", format="ascii.ecsv")
        assert len(catalog) > 100
        assert {"ra", "dec", "mag_inst", "mag_inst_err", "chi", "sharpness", "flags"} <= set(catalog.colnames)
        assert np.isfinite(catalog.meta["aperture_correction_mag"])
        completeness = Table.read(base / band / "completeness.ecsv", format="ascii.ecsv")
        assert completeness["completeness"].max() >= 0.8 and np.isfinite(completeness.meta["mag50_inst"])
    frames = Table.read(ci_run / "results/imaging/2002-07-05/frames.ecsv", format="ascii.ecsv")
    assert (frames["type"] == "OBJECT").sum() == 2 * 5 + 2 * 4


def test_the_background_reddening_maps_the_injected_screen(ci_run):
    """The CI configuration simulates a patchy foreground screen (E(H - K) rms 0.1 mag, 30" correlation) and turns
    the decontamination's background dereddening on: the offsets it applied follow the screen the truth's bulge
    stars lie behind (their local median E(H - K) within 6" of each CMD star), and the observed values are kept."""
    night = ci_run / "results/imaging/2002-07-05"
    report = json.loads((night / "object11/decontamination.json").read_text())["background_reddening"]
    assert report["mode"] == "always" and report["applied"] and report["n_reference"] > report["neighbours"] == 30
    stars = Table.read(night / "object11/membership.ecsv", format="ascii.ecsv")
    np.testing.assert_allclose(stars["HK_observed"] - stars["HK"], stars["e_hk_background"], atol=1e-9)
    np.testing.assert_allclose(stars["K_observed"] - stars["K"], 1.436 * stars["e_hk_background"], atol=1e-9)
    truth = Table.read(ci_run / "results/truth/2002-07-05/stars.ecsv", format="ascii.ecsv")
    bulge = truth[(truth["field"] == "object11") & (truth["population"] == "bulge")]
    scale = 3600.0 * np.array([np.cos(np.deg2rad(np.mean(bulge["dec"]))), 1.0])
    tree = cKDTree(np.column_stack([bulge["ra"], bulge["dec"]]) * scale)
    near = tree.query_ball_point(np.column_stack([stars["ra"], stars["dec"]]) * scale, 6.0)
    screen = np.array([np.median(bulge["e_hk"][index]) for index in near])
    assert np.std(screen) > 0.05  # the screen varies across the object area
    assert np.corrcoef(stars["e_hk_background"], screen)[0, 1] > 0.7


def test_object_field_is_calibrated_and_analysed(ci_run):
    night = ci_run / "results/imaging/2002-07-05"
    calibration = json.loads((night / "calibration.json").read_text())
    for band in ("H", "Ks"):
        fit = calibration["bands"][band]
        assert (
            fit["n_standards"] == 2
            and fit["n_points"] == 6
            and abs(fit["zero_point_mag"] - {"H": 22.92, "Ks": 22.35}[band]) < 0.05
        )
    catalog = Table.read(night / "object11/catalog.ecsv", format="ascii.ecsv")
    assert {"H", "e_H", "K", "e_K", "HK", "e_HK", "e_HK_cal"} <= set(catalog.colnames) and len(catalog) > 100
    summary = json.loads((night / "object11/summary.json").read_text())
    for key in ("k10", "e_hk", "e_hk_err", "e_hk_spread", "a_k", "a_k_err", "a_v"):
        assert np.isfinite(summary[key]), key
    for hypothesis in ("O5V", "B0V"):
        assert summary["distance_kpc"][hypothesis]["value"] > 0 and summary["distance_kpc"][hypothesis]["err"] > 0
    for name in (
        "fig6_2mass_comparison",
        "fig7_cmd",
        "fig8_luminosity_function",
        "fig9_decontamination",
        "fig10_main_sequence",
    ):
        assert (ci_run / f"results/figures/imaging/2002-07-05/object11/{name}.png").is_file()


def test_saturated_stars_can_be_left_out_instead(ci_run):
    """cmd.saturated_from_reference: false (CI configuration): no reference stars, every saturated detection out."""
    night = ci_run / "results/imaging/2002-07-05/object11"
    cmd = json.loads((night / "cmd.json").read_text())
    catalog = Table.read(night / "catalog.ecsv", format="ascii.ecsv")
    stars = Table.read(night / "cmd_stars.ecsv", format="ascii.ecsv")
    saturated = saturated_detections(catalog)
    assert cmd["saturated_from_reference"] is False
    assert cmd["n_saturated_replaced"] == 0 and cmd["n_from_reference"] == 0
    assert cmd["n_rejected_saturated"] == int(saturated.sum()) > 0
    assert set(stars["source"]) == {"psf"}
    assert not np.isin(np.asarray(stars["id"]), np.asarray(catalog["id"])[saturated]).any()


def test_survey_fields_are_classified(ci_run):
    classification = Table.read(ci_run / "results/survey/2002-07-05/classification.ecsv", format="ascii.ecsv")
    assert list(classification["field"]) == ["cand01", "cand02"]
    assert {"l", "b", "class", "true_class", "overdensity_sigma", "nebulosity_snr", "bright_excess", "evidence"} <= set(
        classification.colnames
    )
    summary = json.loads((ci_run / "results/survey/2002-07-05/classification.json").read_text())
    assert summary["n_fields"] == 2 and 0.0 <= summary["agreement"] <= 1.0
    assert sum(sum(row.values()) for row in summary["confusion_matrix"].values()) == 2
    for name in ("fig5_sky_map.png", "confusion_matrix.png", "cand01_thumbnail.png", "cand02_thumbnail.png"):
        assert (ci_run / "results/figures/survey/2002-07-05" / name).is_file()


def test_flow_branch_outputs(ci_run):
    bulkflow = json.loads((ci_run / "results/flow/smac_sim/bulkflow.json").read_text())
    for key in (
        "vector_kms",
        "covariance_kms2",
        "amplitude_kms",
        "amplitude_err_kms",
        "amplitude_debiased_kms",
        "l_deg",
        "l_err_deg",
        "b_deg",
        "b_err_deg",
        "delta_chi2_rest",
        "p_rest",
        "lower95_kms",
        "n_objects",
    ):
        assert key in bulkflow
    resampling = json.loads((ci_run / "results/flow/smac_sim/resampling.json").read_text())
    assert resampling["cluster_bootstrap"]["n"] == 40 and resampling["jackknife_cluster"]["n"] == 56
    budget = resampling["error_budget"]  # the fit's error (+) the run-correction bootstrap's, along the flow
    assert budget["amplitude_err_random_kms"] == pytest.approx(bulkflow["amplitude_err_kms"], rel=1e-12)
    assert budget["amplitude_err_total_kms"] == pytest.approx(
        np.hypot(budget["amplitude_err_random_kms"], budget["amplitude_err_systematic_kms"]), rel=1e-9
    )
    assert 0 <= budget["lower95_total_kms"] <= bulkflow["lower95_kms"]
    assert len(list((ci_run / "results/flow/smac_sim/resample").glob("*.ecsv"))) == 3
    truth = json.loads((ci_run / "results/truth/flow/smac_sim.json").read_text())
    assert truth["flow_kms"] == 630.0
    recovery = json.loads((ci_run / "results/flow/smac_sim/recovery.json").read_text())
    assert recovery["n_realisations"] == 30 and set(recovery["coverage"]) == {"68", "95"}
    assert np.shape(recovery["monopole_dipole_covariance_kms2"]) == (4, 4)
    assert (ci_run / "results/figures/flow/smac_sim/recovery_coverage.png").is_file()
    supernovae = json.loads((ci_run / "results/flow/pantheonplus/bulkflow.json").read_text())
    assert supernovae["n_objects"] > 400 and supernovae["selection"]["z_max"] == 0.1
    # the error model fitted by maximum likelihood: chi^2 per degree of freedom near 1
    assert supernovae["error_model"]["fitted"] is True and abs(supernovae["chi2_per_dof"] - 1) < 3 * (2 / 500) ** 0.5
    assert (ci_run / "results/figures/flow/pantheonplus/aitoff_directions.png").is_file()
    assert abs(supernovae["log_distance"]["chi2_per_dof"] - 1) < 0.15  # the likelihood in distance modulus
    for survey in ("smac_sim", "pantheonplus"):  # both flows against linear LambdaCDM, and their MV flows
        lcdm = json.loads((ci_run / f"results/flow/{survey}/lcdm.json").read_text())
        assert 100 < lcdm["lcdm"]["expected_rms_kms"] < 400 and 0 <= lcdm["lcdm"]["p"] <= 1
        assert lcdm["minimum_variance"]["radius_kms"] == 5000.0 and len(lcdm["minimum_variance"]["vector_kms"]) == 3
