"""Peculiar velocities from type Ia supernova distances (e.g. Pantheon+SH0ES), for the same bulk-flow fit.

Choices (configurable in ``flow.supernovae``, documented in docs/flow.md):

* Cepheid-host calibrators (IS_CALIBRATOR = 1) are excluded by default: their
  SN magnitudes, with their hosts' Cepheid distances, fix the absolute
  magnitude of the SH0ES scale, so they calibrate the distances rather than
  sample the flow (their hosts were chosen for their Cepheids; most lie below
  z = 0.01 anyway: 10 of the 77 light curves are above).
* The error on a light curve's mu is split in two: its measurement error
  (m_b_corr_err_RAW) and the rest of the diagonal error without the catalogue's
  own peculiar-velocity term (ERR_DIAG^2 - RAW^2 - VPEC^2: the SN's intrinsic
  scatter and bias-correction error), which belongs to the supernova.
* The same SN observed by several surveys (repeated CID) is combined by
  generalised least squares: the light curves share the SN's intrinsic
  scatter, so mu is their mean weighted by 1 / RAW^2 and its variance
  1 / sum(1 / RAW^2) + the shared part (the error does not shrink by sqrt(n)).
* The velocity errors are sqrt((s e)^2 + sigma_v^2) with the error scale s
  and the velocity dispersion sigma_v fitted by maximum likelihood
  (:mod:`astropipe.flow.error_model`), or fixed at s = 1 and the thermal
  250 km/s.
* Redshift range z_min < zCMB < z_max (default 0.01-0.1): below, peculiar
  velocities dominate the redshift; above, errors of thousands of km/s.
* The cosmological redshift z_cos of each distance comes from the
  luminosity distance of a flat LambdaCDM (H0 = 73, consistent with the SH0ES
  magnitude scale; Omega_m = 0.3), and the peculiar velocity from the
  non-linear estimator v = c (z_CMB - z_cos) / (1 + z_cos) (Davis &
  Scrimgeour 2014). As for the FP survey, a common distance zero point is
  chosen so that the error-weighted mean velocity is zero (no monopole).
"""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.cosmology import FlatLambdaCDM
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.flow.bulkflow import BulkFlow, fit_bulk_flow
from astropipe.flow.error_model import ErrorModel, fit_error_model
from astropipe.flow.geometry import SPEED_OF_LIGHT_KMS, unit_vectors
from astropipe.io import table_checks
from astropipe.io.table_checks import Column, TableError

__all__ = ["prepare_supernovae", "read_pantheon", "supernova_error_model", "supernova_flow"]


def _velocity_not_redshift(values: NDArray) -> str | None:
    if np.max(values) > 10.0:
        return f"values up to {np.max(values):.4g}: these look like cz in km/s; give the redshift z"
    return None


#: the Pantheon+ columns the analysis reads, with the ranges a real supernova can have
COLUMNS = (
    Column("CID", "name", None, "supernova name (repeated when several surveys observed it)"),
    Column("zCMB", "number", None, "CMB-frame redshift", 0.0, 3.0, positive=True, implausible=_velocity_not_redshift),
    Column("MU_SH0ES", "number", "mag", "distance modulus on the SH0ES Cepheid scale", 20.0, 50.0),
    Column("MU_SH0ES_ERR_DIAG", "number", "mag", "diagonal error of MU_SH0ES", 0.0, 10.0, positive=True),
    Column("m_b_corr_err_VPEC", "number", "mag", "the part of the error from peculiar velocities", 0.0, 10.0),
    Column("m_b_corr_err_RAW", "number", "mag", "the light curve's measurement error", 0.0, 10.0, positive=True),
    Column("RA", "number", "deg", "right ascension (J2000)", 0.0, 360.0),
    Column("DEC", "number", "deg", "declination (J2000)", -90.0, 90.0),
    Column("IS_CALIBRATOR", "choice", None, "1 for Cepheid-host calibrators, else 0", choices=("0", "1")),
)
REQUIRED = tuple(column.name for column in COLUMNS)


def read_pantheon(path: str | Path) -> Table:
    """Read and check a Pantheon+-format table (whitespace separated, header line).

    Raises
    ------
    TableError
        Naming the file and the line of a damaged or truncated line, or the column, row and value of
        a missing column, a placeholder (-999 ...), a value no supernova can have, redshifts given as
        velocities, positions in radians, or one light curve (CID and IDSURVEY) listed twice.
    """
    path = Path(path)
    if not path.is_file():
        raise TableError(f"supernova table {path} not found")
    table_checks.check_field_counts(path)
    table = table_checks.read_table(path, "ascii.basic")
    missing = [c for c in REQUIRED if c not in table.colnames]
    if missing:
        raise TableError(f"{path}: missing column(s) {missing}; expected the Pantheon+ format ({', '.join(REQUIRED)})")
    values = {column.name: table_checks.check_column(table, column, path) for column in COLUMNS}
    if table_checks.looks_like_radians(values["RA"], values["DEC"]):
        raise TableError(
            f"{path}: columns 'RA' and 'DEC' look like radians (every RA within [0, 2 pi], every DEC "
            f"within [-pi/2, pi/2]); give them in degrees"
        )
    table_checks.check_unique_rows(table, ["CID", "IDSURVEY"] if "IDSURVEY" in table.colnames else table.colnames, path)
    return table


def _z_of_mu(mu: NDArray, cosmology: FlatLambdaCDM) -> tuple[NDArray, NDArray]:
    """Cosmological redshift of each distance modulus and dz/dmu, by interpolation on a fine grid.

    Raises ValueError for a modulus outside the grid (1e-4 < z < 10) instead of clamping it.
    """
    grid = np.geomspace(1e-4, 10.0, 6000)
    mu_grid = cosmology.distmod(grid).value
    outside = (mu < mu_grid[0]) | (mu > mu_grid[-1])
    if np.any(outside):
        raise ValueError(
            f"distance moduli {mu[outside][:3].tolist()} lie outside the range {mu_grid[0]:.2f}-"
            f"{mu_grid[-1]:.2f} mag (1e-4 < z < 10) of this cosmology"
        )
    z = np.interp(mu, mu_grid, grid)
    dz_dmu = np.interp(mu, mu_grid, np.gradient(grid, mu_grid))
    return z, dz_dmu


def prepare_supernovae(
    table: Table,
    z_min: float = 0.01,
    z_max: float = 0.1,
    exclude_calibrators: bool = True,
    h0: float = 73.0,
    omega_m: float = 0.3,
) -> Table:
    """One row per supernova: l, b, cz_CMB, distance (c z_cos), peculiar velocity and its error (km/s)."""
    rows = table[np.asarray(table["IS_CALIBRATOR"]) == 0] if exclude_calibrators else table
    total_variance = (
        np.asarray(rows["MU_SH0ES_ERR_DIAG"], float) ** 2 - np.asarray(rows["m_b_corr_err_VPEC"], float) ** 2
    )
    if np.any(total_variance <= 0):
        raise ValueError(
            f"non-positive distance-modulus variance after removing the VPEC term for CID "
            f"{list(np.asarray(rows['CID'])[total_variance <= 0][:3])}"
        )
    # a few light curves quote a measurement error above their diagonal error: the diagonal error rules
    measurement = np.minimum(np.asarray(rows["m_b_corr_err_RAW"], float) ** 2, total_variance)
    shared = total_variance - measurement
    weight = 1.0 / measurement
    names, first, inverse = np.unique(np.asarray(rows["CID"]).astype(str), return_index=True, return_inverse=True)
    light_curves = np.bincount(inverse)
    total = np.bincount(inverse, weights=weight)
    mu = np.bincount(inverse, weights=weight * np.asarray(rows["MU_SH0ES"], float)) / total
    mu_variance = 1.0 / total + np.bincount(inverse, weights=shared) / light_curves
    z_cmb = np.bincount(inverse, weights=np.asarray(rows["zCMB"], float)) / light_curves
    sky = SkyCoord(np.asarray(rows["RA"], float)[first] * u.deg, np.asarray(rows["DEC"], float)[first] * u.deg).galactic
    keep = (z_cmb > z_min) & (z_cmb < z_max)
    z_cos, dz_dmu = _z_of_mu(mu[keep], FlatLambdaCDM(H0=h0, Om0=omega_m))
    zc = z_cmb[keep]
    velocity = SPEED_OF_LIGHT_KMS * (zc - z_cos) / (1.0 + z_cos)
    dv_dmu = -SPEED_OF_LIGHT_KMS * (1.0 + zc) / (1.0 + z_cos) ** 2 * dz_dmu
    return Table(
        {
            "name": names[keep],
            "l": sky.l.deg[keep],
            "b": sky.b.deg[keep],
            "cz_cmb": SPEED_OF_LIGHT_KMS * zc,
            "distance_kms": SPEED_OF_LIGHT_KMS * z_cos,
            "mu": mu[keep],
            "mu_err": np.sqrt(mu_variance[keep]),
            "light_curves": light_curves[keep],
            "peculiar_kms": velocity,
            "dv_dmu": dv_dmu,
            "velocity_err_kms": np.abs(dv_dmu) * np.sqrt(mu_variance[keep]),
        }
    )


def supernova_flow(objects: Table, error_model: ErrorModel) -> tuple[Table, BulkFlow, float]:
    """Zero point without monopole, then the bulk flow; returns (objects with errors, flow, mu offset).

    The velocity errors are ``error_model.errors`` of the quoted ones (see :func:`supernova_error_model`).
    """
    velocity = np.asarray(objects["peculiar_kms"], float)
    slope = np.asarray(objects["dv_dmu"], float)
    error = error_model.errors(objects["velocity_err_kms"])
    w = 1.0 / error**2
    offset = -np.sum(w * velocity) / np.sum(w * slope)  # linearised: v(mu + offset) = v + slope * offset
    out = objects.copy()
    out["peculiar_kms"] = velocity + slope * offset
    out["error_kms"] = error
    flow = fit_bulk_flow(unit_vectors(out["l"], out["b"]), out["peculiar_kms"], error, out["distance_kms"])
    return out, flow, float(offset)


def supernova_error_model(objects: Table, thermal_kms: float = 250.0, fit: bool = True) -> ErrorModel:
    """The error model of the supernovae: fitted by maximum likelihood, or s = 1 and sigma_v = ``thermal_kms``."""
    if not fit:
        return ErrorModel(dispersion_kms=thermal_kms)
    return fit_error_model(
        unit_vectors(objects["l"], objects["b"]),
        objects["peculiar_kms"],
        objects["velocity_err_kms"],
        objects["dv_dmu"],
        start_dispersion_kms=thermal_kms,
    )
