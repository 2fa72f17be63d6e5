"""A simulated SMAC-like Fundamental-Plane survey with a known bulk flow (the geometry of Hudson et al. 1999).

Clusters: isotropic directions, 90 % of those at |b| < 15 deg rejected (the
zone of avoidance), distances uniform in 3000-14000 km/s (or, with
``radial_density="volume"``, uniform in volume: n(r) ~ r^2, the homogeneous
density the Malmquist correction assumes), 4-56 galaxies each
(log-normal, median 8, total fixed). With ``size_limit_arcsec`` the sample is
diameter-limited, as catalogues selected on angular size are: galaxies are drawn
from the cluster's parent population until the cluster has its count of
galaxies larger than the limit, so distant clusters hold only the larger
galaxies (the selection the inverse FP is insensitive to and a forward FP is not).

With ``cosmological`` (the default) the universe expands: a cluster's drawn
distance is its comoving distance (km/s), its cosmological redshift follows
from a flat LambdaCDM (:mod:`astropipe.flow.cosmology`), the observed redshift
composes it with the peculiar velocity, (1 + z) = (1 + z_cos)(1 + v/c), angular
sizes are those at the angular-diameter distance D_C / (1 + z_cos), and surface
brightnesses are dimmed by 10 log10(1 + z_helio). The truth's
``cluster_distance_kms`` is then c z_cos, the distance in km/s the analysis estimates. Galaxies follow the forward FP
log R_e = 1.25 log sigma + 0.32 <mu>_e - 8.9 (kpc) with 0.065 dex intrinsic
scatter, which with the measurement errors gives the paper's 21 % distance
error per galaxy in the inverse fit; their angular radii follow from the
true distance (H0 = 100, so distances are in km/s). Velocity dispersions are
measured in spectroscopic runs with offsets up to 0.03 dex; a third of the
galaxies are observed in two runs, which ties the runs together. Cluster
velocities are the injected bulk flow projected on the line of sight plus a
250 km/s thermal component; the catalogue holds heliocentric cz with a
150 km/s error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.flow.cosmology import dimming_mag, redshift_kms
from astropipe.flow.geometry import CMB_DIPOLE_B, CMB_DIPOLE_KMS, CMB_DIPOLE_L, SPEED_OF_LIGHT_KMS, unit_vectors

__all__ = ["FP_SLOPE_MU", "FP_SLOPE_SIGMA", "FP_ZERO", "SurveySpec", "simulate_survey"]

FP_SLOPE_SIGMA, FP_SLOPE_MU, FP_ZERO = 1.25, 0.32, -8.9
ARCSEC_KPC_PER_KMS = np.log10(206.265 * 100.0)  # theta["] = 206.265 R[kpc] / (d[km/s] / 100)


@dataclass(frozen=True)
class SurveySpec:
    n_clusters: int = 56
    n_galaxies: int = 699
    cz_min: float = 3000.0
    cz_max: float = 14000.0
    flow_kms: float = 630.0
    flow_l_deg: float = 260.0
    flow_b_deg: float = -1.0
    thermal_kms: float = 250.0
    cz_error_kms: float = 150.0
    n_runs: int = 12
    run_offset_max_dex: float = 0.03
    second_run_fraction: float = 0.35
    intrinsic_scatter_dex: float = 0.065
    sigma_error_dex: float = 0.035
    radius_error_dex: float = 0.02
    mu_error_mag: float = 0.03
    radial_density: str = "uniform"
    size_limit_arcsec: float | None = None
    cosmological: bool = True

    def __post_init__(self) -> None:
        if self.radial_density not in ("uniform", "volume"):
            raise ValueError(f"radial_density {self.radial_density!r}: expected 'uniform' (in distance) or 'volume'")
        if self.size_limit_arcsec is not None and self.size_limit_arcsec <= 0:
            raise ValueError(f"size_limit_arcsec {self.size_limit_arcsec}: expected a positive angular size or None")


def _galaxy_counts(rng, spec):
    counts = np.clip(np.round(np.exp(rng.normal(np.log(8.0), 0.75, spec.n_clusters))), 4, 56).astype(int)
    while counts.sum() != spec.n_galaxies:
        k = rng.integers(spec.n_clusters)
        if counts.sum() < spec.n_galaxies and counts[k] < 56:
            counts[k] += 1
        elif counts.sum() > spec.n_galaxies and counts[k] > 4:
            counts[k] -= 1
    return counts


def _parent_galaxies(rng: np.random.Generator, spec: SurveySpec, distance: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """log sigma, <mu>_e and the true log theta of galaxies at ``distance`` (km/s) drawn from the forward FP."""
    n = distance.size
    log_sigma = rng.normal(2.30, 0.10, n)
    mu_e = rng.normal(19.8, 0.55, n)
    log_r = (
        FP_SLOPE_SIGMA * log_sigma + FP_SLOPE_MU * mu_e + FP_ZERO + spec.intrinsic_scatter_dex * rng.standard_normal(n)
    )
    return log_sigma, mu_e, log_r - np.log10(distance) + ARCSEC_KPC_PER_KMS


def _size_limited_galaxies(
    rng: np.random.Generator, spec: SurveySpec, distance: NDArray, counts: NDArray
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """The first ``counts[k]`` galaxies of cluster k's parent population whose observed size passes the limit:
    log sigma, <mu>_e, the true and the observed log theta."""
    limit = np.log10(spec.size_limit_arcsec)
    parts = []
    for d, count in zip(distance, counts, strict=True):
        kept: list[NDArray] = []
        while sum(len(block) for block in kept) < count:
            log_sigma, mu_e, log_theta = _parent_galaxies(rng, spec, np.full(4 * count, d))
            observed = log_theta + spec.radius_error_dex * rng.standard_normal(log_theta.size)
            kept.append(np.column_stack([log_sigma, mu_e, log_theta, observed])[observed > limit])
        parts.append(np.concatenate(kept)[:count])
    table = np.concatenate(parts)
    return table[:, 0], table[:, 1], table[:, 2], table[:, 3]


def _cluster_directions(rng: np.random.Generator, spec: SurveySpec) -> NDArray:
    """Unit vectors of the clusters: isotropic, 90 % of those within |b| < 15 deg rejected (the zone of avoidance)."""
    directions = []
    while len(directions) < spec.n_clusters:
        v = rng.normal(size=3)
        v /= np.linalg.norm(v)
        if abs(np.degrees(np.arcsin(v[2]))) >= 15.0 or rng.random() < 0.1:
            directions.append(v)
    return np.array(directions)


@dataclass(frozen=True)
class _ClusterKinematics:
    """Distances (km/s: comoving, redshift and angular-diameter), the injected flow and peculiar velocities,
    and the observed heliocentric redshift of each cluster."""

    comoving: NDArray
    redshift_distance: NDArray
    angular_distance: NDArray
    flow: NDArray
    peculiar: NDArray
    z_helio: NDArray
    cz_helio: NDArray


def _cluster_kinematics(rng: np.random.Generator, spec: SurveySpec, r_hat: NDArray) -> _ClusterKinematics:
    """Distances uniform in distance or in volume; v = V.r + thermal; cz composed with the Hubble flow in an
    expanding universe, moved to the heliocentric frame, with the redshift error."""
    if spec.radial_density == "volume":
        distance = np.cbrt(rng.uniform(spec.cz_min**3, spec.cz_max**3, spec.n_clusters))
    else:
        distance = rng.uniform(spec.cz_min, spec.cz_max, spec.n_clusters)
    flow = spec.flow_kms * unit_vectors(spec.flow_l_deg, spec.flow_b_deg)[0]
    peculiar = r_hat @ flow + spec.thermal_kms * rng.standard_normal(spec.n_clusters)
    if spec.cosmological:  # distance is comoving; the Hubble flow and the peculiar velocity compose
        redshift_distance = redshift_kms(distance)
        cz_cmb = SPEED_OF_LIGHT_KMS * (
            (1.0 + redshift_distance / SPEED_OF_LIGHT_KMS) * (1.0 + peculiar / SPEED_OF_LIGHT_KMS) - 1.0
        )
        angular_distance = distance / (1.0 + redshift_distance / SPEED_OF_LIGHT_KMS)
    else:
        redshift_distance = angular_distance = distance
        cz_cmb = distance + peculiar
    dipole = CMB_DIPOLE_KMS * unit_vectors(CMB_DIPOLE_L, CMB_DIPOLE_B)[0]
    z_hel = (1.0 + cz_cmb / SPEED_OF_LIGHT_KMS) / (1.0 + (r_hat @ dipole) / SPEED_OF_LIGHT_KMS) - 1.0
    cz_helio = z_hel * SPEED_OF_LIGHT_KMS + spec.cz_error_kms * rng.standard_normal(spec.n_clusters)
    return _ClusterKinematics(distance, redshift_distance, angular_distance, flow, peculiar, z_hel, cz_helio)


def _cluster_table(rng: np.random.Generator, spec: SurveySpec, r_hat: NDArray, kinematics: _ClusterKinematics) -> Table:
    """Positions, observed redshifts and two extinction maps (the second 10 % lower with 0.02 mag of scatter)."""
    extinction_sfd = rng.exponential(0.1, spec.n_clusters)
    extinction_bh = np.maximum(0.9 * extinction_sfd + 0.02 * rng.standard_normal(spec.n_clusters), 0.0)
    return Table(
        {
            "cluster": [f"C{k + 1:02d}" for k in range(spec.n_clusters)],
            "l": np.degrees(np.arctan2(r_hat[:, 1], r_hat[:, 0])) % 360.0,
            "b": np.degrees(np.arcsin(r_hat[:, 2])),
            "cz_helio": kinematics.cz_helio,
            "cz_err": np.full(spec.n_clusters, spec.cz_error_kms),
            "extinction_sfd": extinction_sfd,
            "extinction_bh": extinction_bh,
        }
    )


def _galaxy_table(
    rng: np.random.Generator, spec: SurveySpec, clusters: Table, kinematics: _ClusterKinematics
) -> tuple[Table, NDArray]:
    """The galaxies of every cluster from the forward FP (size-limited if configured), their observed sizes and
    surface brightnesses (dimmed by the SFD extinction and, expanding, by (1 + z)^4); and their true log sigma."""
    counts = _galaxy_counts(rng, spec)
    member = np.repeat(np.arange(spec.n_clusters), counts)
    n = member.size
    if spec.size_limit_arcsec is None:
        log_sigma, mu_e, log_theta = _parent_galaxies(rng, spec, kinematics.angular_distance[member])
        observed_log_theta = None  # drawn below, in the order the default survey always drew it
    else:
        log_sigma, mu_e, log_theta, observed_log_theta = _size_limited_galaxies(
            rng, spec, kinematics.angular_distance, counts
        )
    dimming = dimming_mag(kinematics.z_helio) if spec.cosmological else np.zeros(spec.n_clusters)
    galaxies = Table(
        {
            "galaxy": np.arange(n),
            "cluster": np.asarray(clusters["cluster"])[member],
            "log_theta": (
                log_theta + spec.radius_error_dex * rng.standard_normal(n)
                if observed_log_theta is None
                else observed_log_theta
            ),
            "log_theta_err": np.full(n, spec.radius_error_dex),
            "mu_e": mu_e
            + (np.asarray(clusters["extinction_sfd"]) + dimming)[member]
            + spec.mu_error_mag * rng.standard_normal(n),
            "mu_e_err": np.full(n, spec.mu_error_mag),
            "morphology": np.where(rng.random(n) < 0.5, "E", "S0"),
            "mg2": 0.2 * log_sigma - 0.2 + 0.02 * rng.standard_normal(n),
        }
    )
    return galaxies, log_sigma


def _dispersion_table(rng: np.random.Generator, spec: SurveySpec, log_sigma: NDArray) -> tuple[Table, NDArray]:
    """One dispersion per galaxy and a second run for ``second_run_fraction`` of them, each run offset; and the offsets."""
    n = log_sigma.size
    offsets = rng.uniform(-spec.run_offset_max_dex, spec.run_offset_max_dex, spec.n_runs)
    first_run = rng.integers(spec.n_runs, size=n)
    second = rng.random(n) < spec.second_run_fraction
    other = (first_run + rng.integers(1, spec.n_runs, size=n)) % spec.n_runs
    galaxy_id = np.concatenate([np.arange(n), np.flatnonzero(second)])
    run = np.concatenate([first_run, other[second]])
    measured = log_sigma[galaxy_id] + offsets[run] + spec.sigma_error_dex * rng.standard_normal(galaxy_id.size)
    return Table(
        {
            "galaxy": galaxy_id,
            "run": run,
            "log_sigma": measured,
            "log_sigma_err": np.full(galaxy_id.size, spec.sigma_error_dex),
        }
    ), offsets


def simulate_survey(spec: SurveySpec, rng: np.random.Generator) -> tuple[Table, Table, Table, dict]:
    """Draw a survey.

    Returns
    -------
    clusters : Table
        ``cluster``, ``l``, ``b``, ``cz_helio``, ``cz_err`` (km/s), ``extinction_sfd``, ``extinction_bh`` (mag).
    galaxies : Table
        ``galaxy``, ``cluster``, ``log_theta`` (arcsec), ``log_theta_err``, ``mu_e``, ``mu_e_err``,
        ``morphology`` (E/S0), ``mg2``.
    dispersions : Table
        One row per measurement: ``galaxy``, ``run``, ``log_sigma``, ``log_sigma_err``.
    truth : dict
        Injected flow, run offsets, true distances and velocities.
    """
    r_hat = _cluster_directions(rng, spec)
    kinematics = _cluster_kinematics(rng, spec, r_hat)
    clusters = _cluster_table(rng, spec, r_hat, kinematics)
    galaxies, log_sigma = _galaxy_table(rng, spec, clusters, kinematics)
    dispersions, offsets = _dispersion_table(rng, spec, log_sigma)
    truth = {
        "flow_vector_kms": kinematics.flow.tolist(),
        "flow_kms": spec.flow_kms,
        "flow_l_deg": spec.flow_l_deg,
        "flow_b_deg": spec.flow_b_deg,
        "thermal_kms": spec.thermal_kms,
        "run_offsets_dex": offsets.tolist(),
        "cluster_distance_kms": kinematics.redshift_distance.tolist(),
        "cluster_comoving_kms": kinematics.comoving.tolist(),
        "cluster_peculiar_kms": kinematics.peculiar.tolist(),
        "fp": {
            "slope_sigma": FP_SLOPE_SIGMA,
            "slope_mu": FP_SLOPE_MU,
            "zero": FP_ZERO,
            "intrinsic_scatter_dex": spec.intrinsic_scatter_dex,
        },
    }
    return clusters, galaxies, dispersions, truth
