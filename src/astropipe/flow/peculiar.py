"""From FP distances to CMB-frame peculiar velocities, and the whole chain to a bulk flow.

* Homogeneous Malmquist bias (log-normal distance errors, uniform density):
  E[r | d] = d exp(3.5 Delta^2), Delta the fractional (ln) distance error.
* Zero point: the common FP zero point (a distance scale factor s) makes the
  error-weighted mean peculiar velocity zero - no net monopole (Hudson et al. 1999, §2).
* Peculiar velocity v = cz_CMB - s d (linear), or the non-linear form
  v = c (z - z_d) / (1 + z_d) for deeper samples.
* Errors eps^2 = (s d Delta)^2 + sigma_cz^2 + sigma_th^2 (eq. 1's error model).
* Cosmology (``FlowSettings.cosmological``, :mod:`astropipe.flow.cosmology`): surface brightnesses
  are corrected for the (1 + z)^4 dimming with each cluster's heliocentric redshift before the FP;
  the FP's relative distances, which angular sizes make angular-diameter distances, become comoving
  ones through D_C = D_A (1 + z) (z the CMB-frame redshift: the cosmological one is not known, and
  the difference, a fraction v/c, changes D_C by < 0.3 %); the zero point scales the comoving
  distances, and each cluster's distance in km/s is the cosmological redshift c z of its comoving
  distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.flow.bulkflow import BulkFlow, fit_bulk_flow
from astropipe.flow.cosmology import dimming_mag, redshift_kms
from astropipe.flow.fundamental_plane import InverseFP, fit_inverse_fp
from astropipe.flow.geometry import SPEED_OF_LIGHT_KMS, cmb_velocity, unit_vectors
from astropipe.flow.runs import homogenise, run_offsets

__all__ = [
    "FlowResult",
    "FlowSettings",
    "SurveyConstants",
    "analyse_survey",
    "malmquist_corrected",
    "peculiar_velocity",
    "redshift_distance",
    "survey_constants",
]


@dataclass(frozen=True)
class FlowSettings:
    """Settings of the flow chain (``flow`` in the configuration): the thermal velocity dispersion (km/s), the
    extinction map, the non-linear velocity estimator, the Malmquist correction, a fractional shift of the
    FP zero point (a robustness test) and whether the universe expands."""

    thermal_kms: float = 250.0
    extinction_map: str = "sfd"  # or "bh"
    nonlinear: bool = False
    malmquist: bool = True
    zero_point_shift: float = 0.0  # fractional change of the distance scale (FP zero point)
    cosmological: bool = True  # (1 + z)^4 dimming, angular-diameter and comoving distances

    def __post_init__(self) -> None:
        if not self.thermal_kms >= 0:
            raise ValueError(f"flow thermal_kms = {self.thermal_kms!r}: expected a velocity dispersion >= 0 km/s")
        if self.extinction_map not in ("sfd", "bh"):
            raise ValueError(f"flow extinction_map = {self.extinction_map!r}: expected 'sfd' or 'bh'")

    @classmethod
    def from_config(cls, flow: dict) -> FlowSettings:
        """The analysis settings of the workflow's ``flow`` configuration section."""
        return cls(
            thermal_kms=flow["thermal_kms"],
            extinction_map=flow["extinction_map"],
            nonlinear=flow["nonlinear"],
            malmquist=flow["malmquist"],
            cosmological=flow["cosmological"],
        )


@dataclass
class FlowResult:
    clusters: Table | None  # None when the analysis was asked for the flow only
    fp: InverseFP
    flow: BulkFlow
    offsets: NDArray[np.float64]


@dataclass(frozen=True)
class SurveyConstants:
    """What the chain needs from a survey's tables that no resampling changes: computed once.

    Attributes
    ----------
    names : list of str
        Cluster names.
    member : numpy.ndarray of int
        Each galaxy's cluster index.
    mu_e : dict
        Each galaxy's surface brightness (mag/arcsec^2) corrected with each extinction map the
        cluster table has (``sfd``, ``bh``), and for the (1 + z)^4 dimming when asked.
    log_theta : numpy.ndarray
        log10 of the angular size.
    cz_cmb, cz_err : numpy.ndarray
        CMB-frame cz and its error, km/s.
    comoving_factor : numpy.ndarray
        D_C / D_A = 1 + z_CMB of each cluster (1 without the cosmological corrections).
    cosmological : bool
        Whether the corrections were made (the chain maps comoving distances to redshifts then).
    r_hat : numpy.ndarray
        (n_clusters, 3) Galactic Cartesian unit vectors.
    """

    names: list[str]
    member: NDArray[np.int64]
    mu_e: dict[str, NDArray[np.float64]]
    log_theta: NDArray[np.float64]
    cz_cmb: NDArray[np.float64]
    cz_err: NDArray[np.float64]
    r_hat: NDArray[np.float64]
    comoving_factor: NDArray[np.float64]
    cosmological: bool

    def surface_brightness(self, extinction_map: str) -> NDArray[np.float64]:
        """mu_e corrected with ``extinction_map``; ValueError naming the missing column if the cluster table lacks it."""
        if extinction_map not in self.mu_e:
            raise ValueError(
                f"the cluster table has no column 'extinction_{extinction_map}' for the extinction map "
                f"{extinction_map!r} (flow.extinction_map)"
            )
        return self.mu_e[extinction_map]


def survey_constants(clusters: Table, galaxies: Table, cosmological: bool = True) -> SurveyConstants:
    """The survey's :class:`SurveyConstants` (cluster membership, extinction- and dimming-corrected mu_e, CMB cz,
    directions)."""
    names = list(clusters["cluster"])
    index = {name: k for k, name in enumerate(names)}
    try:
        member = np.array([index[c] for c in galaxies["cluster"]])
    except KeyError as error:
        raise ValueError(f"galaxy table names cluster {error.args[0]!r}, absent from the cluster table") from error
    dimming = (
        dimming_mag(np.asarray(clusters["cz_helio"], float) / SPEED_OF_LIGHT_KMS)
        if cosmological
        else np.zeros(len(names))
    )
    mu_e = {
        extinction_map: np.asarray(galaxies["mu_e"])
        - (np.asarray(clusters[f"extinction_{extinction_map}"]) + dimming)[member]
        for extinction_map in ("sfd", "bh")
        if f"extinction_{extinction_map}" in clusters.colnames
    }
    cz_cmb = cmb_velocity(clusters["cz_helio"], clusters["l"], clusters["b"])
    factor = 1.0 + cz_cmb / SPEED_OF_LIGHT_KMS if cosmological else np.ones(len(names))
    return SurveyConstants(
        names=names,
        member=member,
        mu_e=mu_e,
        log_theta=np.asarray(galaxies["log_theta"]),
        cz_cmb=cz_cmb,
        cz_err=np.asarray(clusters["cz_err"], float),
        r_hat=unit_vectors(clusters["l"], clusters["b"]),
        comoving_factor=factor,
        cosmological=cosmological,
    )


def redshift_distance(comoving: NDArray, cosmological: bool) -> NDArray:
    """A cluster's distance in km/s: the cosmological redshift c z of its comoving distance, or the distance itself."""
    return redshift_kms(comoving) if cosmological else comoving


def malmquist_corrected(distance: NDArray, fractional_error: NDArray) -> NDArray:
    """Homogeneous Malmquist correction for log-normal errors: d exp(3.5 Delta^2)."""
    return distance * np.exp(3.5 * fractional_error**2)


def peculiar_velocity(cz_cmb: NDArray, distance: NDArray, nonlinear: bool = False) -> NDArray:
    """v = cz - d, or c (z - z_d) / (1 + z_d) (distances and cz in km/s)."""
    if not nonlinear:
        return cz_cmb - distance
    z, z_d = cz_cmb / SPEED_OF_LIGHT_KMS, distance / SPEED_OF_LIGHT_KMS
    return SPEED_OF_LIGHT_KMS * (z - z_d) / (1.0 + z_d)


def analyse_survey(
    clusters: Table,
    galaxies: Table,
    dispersions: Table,
    settings: FlowSettings = FlowSettings(),
    n_runs: int | None = None,
    measurement_weights: NDArray | None = None,
    cluster_weights: NDArray | None = None,
    offsets: NDArray | None = None,
    *,
    constants: SurveyConstants | None = None,
    with_table: bool = True,
) -> FlowResult:
    """Run homogenisation -> inverse FP -> distances -> Malmquist -> zero point -> peculiar velocities -> bulk flow.

    ``measurement_weights`` (per dispersion measurement) resample the run
    corrections; ``cluster_weights`` (per cluster, e.g. bootstrap counts or a
    0 to leave a cluster out) resample the clusters in the flow fit;
    ``offsets`` fixes the run offsets instead of solving for them. ``constants`` (from
    :func:`survey_constants` of the same tables) saves recomputing what no resampling changes;
    ``with_table=False`` skips the per-cluster table (resampling needs the flow only).
    """
    constants = survey_constants(clusters, galaxies, settings.cosmological) if constants is None else constants
    member = constants.member
    n_gal, n_clu = len(galaxies), len(clusters)
    n_runs = int(np.max(dispersions["run"])) + 1 if n_runs is None else n_runs
    if offsets is None:
        offsets = run_offsets(dispersions, n_gal, n_runs, measurement_weights)
    log_sigma, _ = homogenise(dispersions, offsets, n_gal)
    fp = fit_inverse_fp(
        log_sigma, constants.log_theta, constants.surface_brightness(settings.extinction_map), member, n_clu
    )
    delta = fp.fractional_error()
    relative = 10 ** fp.log_distance()  # angular-diameter distances, up to the zero point
    if settings.malmquist:
        relative = malmquist_corrected(relative, delta)
    relative = relative * constants.comoving_factor
    cz_cmb, cz_err = constants.cz_cmb, constants.cz_err
    weight_c = np.ones(n_clu) if cluster_weights is None else np.asarray(cluster_weights, float)
    scale = np.sum(weight_c * cz_cmb) / np.sum(weight_c * relative)
    for _ in range(20):  # no net monopole: error-weighted mean peculiar velocity = 0
        distance = redshift_distance(scale * relative, constants.cosmological)
        error = np.sqrt((distance * delta) ** 2 + cz_err**2 + settings.thermal_kms**2)
        w = weight_c / error**2
        new_scale = scale * np.sum(w * cz_cmb) / np.sum(w * distance)
        converged = abs(new_scale / scale - 1.0) < 1e-12
        scale = new_scale
        if converged:
            break
    distance = redshift_distance(scale * relative * (1.0 + settings.zero_point_shift), constants.cosmological)
    error = np.sqrt((distance * delta) ** 2 + cz_err**2 + settings.thermal_kms**2)
    velocity = peculiar_velocity(cz_cmb, distance, settings.nonlinear)
    r_hat = constants.r_hat
    keep = weight_c > 0
    repeat = (
        np.repeat(np.arange(n_clu)[keep], weight_c[keep].astype(int))
        if cluster_weights is not None
        else np.arange(n_clu)
    )
    flow = fit_bulk_flow(r_hat[repeat], velocity[repeat], error[repeat], distance[repeat])
    if not with_table:
        return FlowResult(clusters=None, fp=fp, flow=flow, offsets=offsets)
    table = Table(
        {
            "cluster": constants.names,
            "l": clusters["l"],
            "b": clusters["b"],
            "n_galaxies": fp.counts,
            "cz_cmb": cz_cmb,
            "distance_kms": distance,
            "distance_frac_err": delta,
            "peculiar_kms": velocity,
            "error_kms": error,
        }
    )
    return FlowResult(clusters=table, fp=fp, flow=flow, offsets=offsets)
