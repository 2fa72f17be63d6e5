"""The whole flow chain for many resampling realisations at once.

:func:`astropipe.flow.peculiar.analyse_survey` runs the chain once. Resampling runs it 10^4-10^5
times with only weights changing, and most of the chain does not change with them:

* **Run bootstrap.** Only the run offsets o (one per spectroscopic run, a few dozen numbers) depend
  on the bootstrap weights. Everything from the homogenised dispersions to the inverse-FP zero points
  is affine in o (Hudson et al. 1999, §2: log sigma_g = <log sigma>_g - sum_k M_gk o_k, with M_gk the
  share of galaxy g's weight measured in run k, and the FP a linear least-squares fit with a fixed
  design), and the FP's residual sum of squares is quadratic in o. So the survey is reduced once to
  a few small matrices (:class:`LinearisedSurvey`) and each realisation costs O(n_runs x n_clusters)
  plus the bootstrap's own O(n_measurements) offsets solve.
* **Cluster bootstrap and jackknife.** The FP and the offsets do not change at all; only the
  zero-point iteration and the bulk-flow fit see the cluster weights.

From the FP zero points on (distances, Malmquist correction, the no-monopole zero point, the
eq. 1 flow fit) every realisation is a row of an array. The results equal the per-realisation chain
to rounding (tests and ``benchmarks/flow_resampling.py`` compare them to 1e-8 km/s). A realisation
whose inputs :func:`astropipe.flow.bulkflow.check_flow_inputs` refuses (a cluster bootstrap that drew
every cluster from one hemisphere, say) gets no flow (NaN) and the reason, instead of stopping the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from astropipe.flow.batch_offsets import RunOffsetSystem, run_offset_system
from astropipe.flow.bulkflow import MAX_CONDITION, check_flow_inputs
from astropipe.flow.peculiar import (
    FlowSettings,
    malmquist_corrected,
    peculiar_velocity,
    redshift_distance,
    survey_constants,
)
from astropipe.flow.runs import homogenise, run_offsets
from astropipe.random_streams import random_stream

__all__ = [
    "FlowBatch",
    "LinearisedSurvey",
    "cluster_weighted_flows",
    "hemisphere_witnesses",
    "linearise_survey",
    "run_bootstrap_flows",
]

#: the no-monopole zero point is iterated at most this often, to a relative change of 1e-12 (as in the chain)
ZERO_POINT_ITERATIONS = 20


def _rowwise_product(rows: NDArray, matrix: NDArray) -> NDArray:
    """``rows @ matrix`` computed so that each row's result does not depend on the other rows.

    A BLAS product may sum a row in a different order depending on how many rows it is given; here each
    element is one contiguous numpy sum, so a realisation gives the same bits in any chunk.
    """
    return np.sum(rows[:, None, :] * np.ascontiguousarray(matrix.T)[None], axis=2)


@dataclass(frozen=True)
class LinearisedSurvey:
    """A survey reduced to what the chain needs per realisation.

    With o the run offsets (dex), the inverse FP of :func:`astropipe.flow.fundamental_plane.fit_inverse_fp`
    gives slopes = ``slopes0 - o @ slopes_per_offset``, zero points = ``zero_points0 - o @
    zero_points_per_offset`` and residual sum of squares ``rss0 - 2 o . rss_linear + o^T rss_quadratic o``.
    """

    offset_system: RunOffsetSystem
    offsets0: NDArray
    slopes0: NDArray
    slopes_per_offset: NDArray
    zero_points0: NDArray
    zero_points_per_offset: NDArray
    rss0: float
    rss_linear: NDArray
    rss_quadratic: NDArray
    degrees_of_freedom: float
    counts: NDArray
    cz_cmb: NDArray
    cz_err: NDArray
    r_hat: NDArray
    comoving_factor: NDArray
    cosmological: bool
    witnesses: NDArray
    settings: FlowSettings

    def fp(self, offsets: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """(slope a (R,), zero points (R, n_clusters), rms about the plane (R,)) for run offsets (R, n_runs)."""
        slopes = self.slopes0 - _rowwise_product(offsets, self.slopes_per_offset)
        zero_points = self.zero_points0 - _rowwise_product(offsets, self.zero_points_per_offset)
        quadratic = _rowwise_product(offsets, self.rss_quadratic)
        rss = self.rss0 - 2.0 * np.sum(offsets * self.rss_linear, axis=1) + np.sum(quadratic * offsets, axis=1)
        return slopes[:, 0], zero_points, np.sqrt(np.maximum(rss, 0.0) / self.degrees_of_freedom)


def linearise_survey(
    clusters: Table, galaxies: Table, dispersions: Table, settings: FlowSettings = FlowSettings()
) -> LinearisedSurvey:
    """Reduce a survey's tables to a :class:`LinearisedSurvey` (done once per resampling job).

    Raises
    ------
    ValueError
        As :func:`astropipe.flow.peculiar.analyse_survey` does: an extinction map without its column, a
        galaxy without a dispersion, a cluster with fewer than two galaxies.
    """
    constants = survey_constants(clusters, galaxies, settings.cosmological)
    n_gal, n_clu = len(galaxies), len(clusters)
    n_runs = int(np.max(dispersions["run"])) + 1
    member = constants.member
    base, _ = homogenise(dispersions, np.zeros(n_runs), n_gal)
    # share[g, k]: the fraction of galaxy g's inverse-variance weight measured in run k
    inverse_variance = 1.0 / np.asarray(dispersions["log_sigma_err"], float) ** 2
    share = np.zeros((n_gal, n_runs))
    np.add.at(share, (np.asarray(dispersions["galaxy"]), np.asarray(dispersions["run"])), inverse_variance)
    share /= share.sum(axis=1, keepdims=True)
    counts = np.bincount(member, minlength=n_clu).astype(float)
    if np.any(counts < 2):
        raise ValueError(
            f"clusters with fewer than 2 galaxies cannot have an FP distance: {np.flatnonzero(counts < 2).tolist()}"
        )
    mean_of = csr_matrix((1.0 / counts[member], (member, np.arange(n_gal))), shape=(n_clu, n_gal))

    def demeaned(values: NDArray) -> tuple[NDArray, NDArray]:
        means = mean_of @ values
        return values - means[member], means

    x1, x1_mean = demeaned(constants.log_theta)
    x2, x2_mean = demeaned(constants.surface_brightness(settings.extinction_map))
    design = np.column_stack([x1, x2])
    projector = np.linalg.solve(design.T @ design, design.T)  # slopes = projector @ y (y demeaned or not)
    y0, y0_mean = demeaned(base)
    share_dm, share_mean = demeaned(share)
    slopes0, slopes_per_offset = projector @ base, (projector @ share).T
    x_means = np.column_stack([x1_mean, x2_mean])
    residual0 = y0 - design @ slopes0
    residual_per_offset = share_dm - design @ slopes_per_offset.T
    return LinearisedSurvey(
        offset_system=run_offset_system(dispersions, n_runs),
        offsets0=run_offsets(dispersions, n_gal, n_runs),
        slopes0=slopes0,
        slopes_per_offset=slopes_per_offset,
        zero_points0=y0_mean - x_means @ slopes0,
        zero_points_per_offset=(share_mean - x_means @ slopes_per_offset.T).T,
        rss0=float(residual0 @ residual0),
        rss_linear=residual_per_offset.T @ residual0,
        rss_quadratic=residual_per_offset.T @ residual_per_offset,
        degrees_of_freedom=max(n_gal - (2 + n_clu), 1.0),
        counts=counts,
        cz_cmb=constants.cz_cmb,
        cz_err=constants.cz_err,
        r_hat=constants.r_hat,
        comoving_factor=constants.comoving_factor,
        cosmological=constants.cosmological,
        witnesses=hemisphere_witnesses(constants.r_hat),
        settings=settings,
    )


def _no_monopole_scale(relative: NDArray, delta: NDArray, survey: LinearisedSurvey, weight_c: NDArray) -> NDArray:
    """The distance scale of each realisation: error-weighted mean peculiar velocity zero (Hudson et al. 1999, §2)."""
    cz_cmb, cz_err, thermal = survey.cz_cmb, survey.cz_err, survey.settings.thermal_kms
    scale = np.sum(weight_c * cz_cmb, axis=1) / np.sum(weight_c * relative, axis=1)
    active = np.arange(scale.size)
    for _ in range(ZERO_POINT_ITERATIONS):
        rel, d, s = relative[active], delta[active], scale[active]
        distance = redshift_distance(s[:, None] * rel, survey.cosmological)
        error = np.sqrt((distance * d) ** 2 + cz_err**2 + thermal**2)
        w = weight_c[active] / error**2
        new_scale = s * np.sum(w * cz_cmb, axis=1) / np.sum(w * distance, axis=1)
        converged = np.abs(new_scale / s - 1.0) < 1e-12
        scale[active] = new_scale
        active = active[~converged]
        if active.size == 0:
            break
    return scale


def hemisphere_witnesses(r_hat: NDArray, wanted: int = 64, tries: int = 4000) -> NDArray:
    """Quadruples of directions whose tetrahedron holds the observer strictly inside, shape (k, 4).

    A realisation keeping the four clusters of any quadruple cannot have all its clusters in one
    hemisphere (the origin is inside their convex hull), so the exact test
    (:func:`astropipe.flow.bulkflow.check_flow_inputs`) is needed only for realisations that keep
    none. Drawn with a fixed generator, so the same survey always gives the same quadruples.
    """
    n = len(r_hat)
    if n < 4:
        return np.zeros((0, 4), int)
    quadruples = np.sort(random_stream(0).integers(n, size=(tries, 4)), axis=1)
    quadruples = np.unique(quadruples[np.all(np.diff(quadruples, axis=1) > 0, axis=1)], axis=0)
    system = np.concatenate([r_hat[quadruples].transpose(0, 2, 1), np.ones((len(quadruples), 1, 4))], axis=1)
    solvable = np.abs(np.linalg.det(system)) > 1e-9
    barycentric = np.linalg.solve(
        system[solvable], np.broadcast_to([0.0, 0.0, 0.0, 1.0], (int(solvable.sum()), 4))[..., None]
    )
    return quadruples[solvable][np.all(barycentric[..., 0] > 1e-9, axis=1)][:wanted]


def _unfit_rows(
    survey: LinearisedSurvey, weight_c: NDArray, velocity: NDArray, error: NDArray, normal: NDArray
) -> dict[int, str]:
    """The rows :func:`check_flow_inputs` refuses, with its reason.

    Cheap tests pick the rows that need the exact one: too few objects, non-finite or non-positive
    values, a condition number over :data:`MAX_CONDITION`, or no :func:`hemisphere_witnesses` quadruple kept.
    """
    kept = weight_c > 0
    witnessed = np.any(np.all(kept[:, survey.witnesses], axis=2), axis=1)
    finite = np.all(np.isfinite(velocity) & np.isfinite(error) & (error > 0), axis=1)
    # condition number <= trace^3 / (4 det) for a positive-definite 3 x 3 matrix (lambda_max <= trace,
    # lambda_min = det / (lambda_2 lambda_3) >= det / (trace / 2)^2): exact test only above the limit
    trace = np.trace(normal, axis1=1, axis2=2)
    determinant = np.linalg.det(np.where(finite[:, None, None], normal, np.eye(3)))
    ill_conditioned = ~(trace**3 < 4.0 * MAX_CONDITION * determinant)
    suspect = ~finite | ~witnessed | (weight_c.sum(axis=1) < 4) | ill_conditioned
    refused = {}
    for row in np.flatnonzero(suspect):
        repeat = np.repeat(np.arange(weight_c.shape[1]), weight_c[row].astype(int))
        try:
            check_flow_inputs(survey.r_hat[repeat], velocity[row, repeat], error[row, repeat])
        except ValueError as problem:
            refused[int(row)] = str(problem)
    return refused


class FlowBatch(NamedTuple):
    """Bulk flows of R realisations: ``vectors`` (R, 3) km/s, NaN where ``notes`` (R,) says why no flow could be fitted."""

    vectors: NDArray
    notes: list[str]


def _flows(
    survey: LinearisedSurvey, slope: NDArray, zero_points: NDArray, rms: NDArray, weight_c: NDArray
) -> FlowBatch:
    """Bulk flows from each realisation's FP, by the steps of :func:`analyse_survey` after the FP."""
    settings = survey.settings
    delta = np.log(10.0) * (rms / np.abs(slope))[:, None] / np.sqrt(survey.counts)
    relative = 10 ** (zero_points / slope[:, None])
    if settings.malmquist:
        relative = malmquist_corrected(relative, delta)
    relative = relative * survey.comoving_factor
    scale = _no_monopole_scale(relative, delta, survey, weight_c)
    distance = redshift_distance(scale[:, None] * relative * (1.0 + settings.zero_point_shift), survey.cosmological)
    error = np.sqrt((distance * delta) ** 2 + survey.cz_err**2 + settings.thermal_kms**2)
    velocity = peculiar_velocity(survey.cz_cmb, distance, settings.nonlinear)
    weight = weight_c / error**2
    outer = (survey.r_hat[:, :, None] * survey.r_hat[:, None, :]).reshape(-1, 9)
    normal = _rowwise_product(weight, outer).reshape(-1, 3, 3)
    refused = _unfit_rows(survey, weight_c, velocity, error, normal)
    rows = list(refused)
    normal[rows], weight[rows], velocity[rows] = np.eye(3), 0.0, 0.0  # placeholders: these rows' flows are NaN
    vectors = np.linalg.solve(normal, _rowwise_product(weight * velocity, survey.r_hat)[..., None])[..., 0]
    vectors[rows] = np.nan
    return FlowBatch(vectors, [refused.get(row, "") for row in range(len(vectors))])


def run_bootstrap_flows(survey: LinearisedSurvey, measurement_weights: NDArray) -> FlowBatch:
    """Bulk flows with the run offsets re-derived from each row of per-measurement weights.

    Parameters
    ----------
    survey : LinearisedSurvey
        From :func:`linearise_survey`.
    measurement_weights : numpy.ndarray (R, n_measurements)
        Bootstrap counts of the dispersion measurements, one row per realisation.
    """
    offsets, untied = survey.offset_system.offsets(np.asarray(measurement_weights, float))
    offsets[untied] = survey.offsets0  # placeholders: these realisations get no flow
    slope, zero_points, rms = survey.fp(offsets)
    batch = _flows(survey, slope, zero_points, rms, np.ones_like(zero_points))
    batch.vectors[untied] = np.nan
    for row in np.flatnonzero(untied):
        batch.notes[row] = (
            "the drawn measurements do not tie every spectroscopic run to the others: run offsets undefined"
        )
    return batch


def cluster_weighted_flows(survey: LinearisedSurvey, cluster_weights: NDArray) -> FlowBatch:
    """Bulk flows with each row of cluster weights (R, n_clusters): bootstrap counts, or 0 to leave a cluster out."""
    cluster_weights = np.asarray(cluster_weights, float)
    offsets = np.broadcast_to(survey.offsets0, (cluster_weights.shape[0], survey.offsets0.size))
    slope, zero_points, rms = survey.fp(offsets)
    return _flows(survey, slope, zero_points, rms, cluster_weights)
