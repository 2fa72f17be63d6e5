"""Supernova peculiar velocities: a synthetic Pantheon-format table with a known flow, and the real file."""

import re

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.cosmology import FlatLambdaCDM
from astropy.table import Table, vstack
from conftest import REPO
from scipy.stats import chi2

from astropipe.flow.error_model import ErrorModel
from astropipe.flow.geometry import SPEED_OF_LIGHT_KMS, unit_vectors
from astropipe.flow.supernovae import prepare_supernovae, read_pantheon, supernova_error_model, supernova_flow

PANTHEON = REPO / "resources" / "supernovae" / "pantheonplus_sh0es.dat"


def _synthetic_table(path, flow, n=400, seed=2):
    rng = np.random.default_rng(seed)
    cosmology = FlatLambdaCDM(H0=73.0, Om0=0.3)
    ra, dec = rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    sky = SkyCoord(ra, dec, unit="deg").galactic
    z_cos = rng.uniform(0.012, 0.09, n)
    v = unit_vectors(sky.l.deg, sky.b.deg) @ flow + 250.0 * rng.standard_normal(n)
    z_cmb = z_cos + v * (1 + z_cos) / SPEED_OF_LIGHT_KMS
    raw, intrinsic = np.full(n, 0.08), np.full(n, 0.09)  # a light curve's measurement error, the SN's own scatter
    mu = cosmology.distmod(z_cos).value + np.hypot(raw, intrinsic) * rng.standard_normal(n)
    cid = [f"SN{i}" for i in range(n)]
    table = Table(
        {
            "CID": cid,
            "zCMB": z_cmb,
            "MU_SH0ES": mu,
            "MU_SH0ES_ERR_DIAG": np.sqrt(raw**2 + intrinsic**2 + 0.05**2),
            "m_b_corr_err_VPEC": np.full(n, 0.05),
            "m_b_corr_err_RAW": raw,
            "RA": ra,
            "DEC": dec,
            "IS_CALIBRATOR": np.zeros(n, int),
        }
    )
    duplicate = table[:20].copy()  # the same SNe seen by a second survey
    duplicate["MU_SH0ES"] += 0.01
    calibrator = table[:1].copy()
    calibrator["CID"], calibrator["IS_CALIBRATOR"] = "CALIB", 1
    vstack([table, duplicate, calibrator]).write(path, format="ascii.basic")
    return n


def test_synthetic_flow_is_recovered_and_duplicates_combined(tmp_path):
    flow = 400.0 * unit_vectors(290.0, 10.0)[0]
    n = _synthetic_table(tmp_path / "sn.dat", flow)
    objects = prepare_supernovae(read_pantheon(tmp_path / "sn.dat"))
    assert len(objects) == n  # 20 duplicates merged, the calibrator excluded
    assert "CALIB" not in set(objects["name"])
    combined = objects[objects["name"] == "SN3"]
    # two light curves of one SN: their measurement errors average down, the SN's own scatter does not
    assert combined["mu_err"][0] == pytest.approx(np.sqrt(0.08**2 / 2 + 0.09**2), rel=1e-6)
    assert combined["light_curves"][0] == 2
    _, result, _ = supernova_flow(objects, ErrorModel(dispersion_kms=250.0))
    delta = result.vector - flow
    assert delta @ np.linalg.solve(result.covariance, delta) < chi2.ppf(0.997, 3)


def test_bad_table_is_named(tmp_path):
    Table({"CID": ["a"], "zCMB": [0.02]}).write(tmp_path / "bad.dat", format="ascii.basic")
    with pytest.raises(ValueError, match=re.escape("bad.dat: missing column")):
        read_pantheon(tmp_path / "bad.dat")


def test_pantheon_plus_runs_end_to_end_with_a_fitted_error_model():
    """The shipped table: the quoted diagonal errors are not statistical (chi^2/dof far below 1 with s = 1 and
    250 km/s); the fitted error model brings chi^2/dof to 1 within its scatter."""
    table = read_pantheon(PANTHEON)
    objects = prepare_supernovae(table)
    assert 400 < len(objects) < len(set(table["CID"]))
    assert np.all(objects["velocity_err_kms"] > 0) and np.all((objects["cz_cmb"] > 2990) & (objects["cz_cmb"] < 29980))
    dof = len(objects) - 3
    _, fixed, _ = supernova_flow(objects, supernova_error_model(objects, 250.0, fit=False))
    model = supernova_error_model(objects)
    _, fitted, _ = supernova_flow(objects, model)
    assert fixed.chi2 / dof < 1 - 3 * np.sqrt(2 / dof)
    assert abs(fitted.chi2 / dof - 1) < 3 * np.sqrt(2 / dof)
    assert 0 < model.error_scale < 1 and model.dispersion_err_kms > 0
    summary = fitted.summary()
    assert 0 < summary["amplitude_err_kms"] < 200 and np.isfinite(summary["l_deg"])


def test_the_log_distance_fit_recovers_the_flow_and_agrees_with_the_linearised_one(tmp_path):
    """A Gaussian likelihood in mu (Cosmicflows' choice) on a synthetic sample with a known flow, dispersion and errors."""
    from astropipe.flow.log_distance import log_distance_flow

    flow = 400.0 * unit_vectors(290.0, 10.0)[0]
    _synthetic_table(tmp_path / "sn.dat", flow, n=600, seed=7)
    objects = prepare_supernovae(read_pantheon(tmp_path / "sn.dat"))
    fit = log_distance_flow(objects)
    delta = np.asarray(fit["vector_kms"]) - flow
    covariance = np.asarray(fit["covariance_kms2"])
    assert delta @ np.linalg.solve(covariance, delta) < chi2.ppf(0.997, 3)
    assert fit["chi2_per_dof"] == pytest.approx(1.0, abs=0.1)
    assert fit["dispersion_kms"] == pytest.approx(250.0, abs=3 * fit["dispersion_err_kms"])
    assert fit["error_scale"] == pytest.approx(1.0, abs=3 * fit["error_scale_err"])
    _, linear, _ = supernova_flow(objects, supernova_error_model(objects))
    shift = np.asarray(fit["vector_kms"]) - linear.vector
    assert shift @ np.linalg.solve(covariance, shift) < 1.0  # the same flow within a fraction of its error
