"""The robustness table of Hudson et al. (1999) §3: bulk flows of subsamples and their differences.

* inner vs outer shell: clusters split by distance where the summed weights
  1/eps^2 are equal (the paper: the outer shell is larger by 240 +- 360 km/s);
* E vs S0: the whole chain with only ellipticals or only lenticulars
  (paper: they differ by 140 +- 330 km/s). The two fits share each common
  cluster's redshift error and thermal velocity, so their difference has
  Cov = C_E + C_S0 - X - X^T with X = C_E [sum r r^T (sigma_cz^2 + sigma_th^2) /
  (eps_E^2 eps_S0^2)] C_S0 over the clusters in both (tested by Monte Carlo);
* FP zero point +-1 % (paper: ~25 km/s);
* extinction map swapped (SFD -> Burstein & Heiles; paper: ~100 km/s drop), when
  the cluster table has both maps.

Differences of disjoint subsamples (the shells) carry the sum of their covariances;
for the zero-point and extinction changes (the same data) only the shift is given.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from astropy.table import Table

from astropipe.flow.bulkflow import BulkFlow, fit_bulk_flow
from astropipe.flow.geometry import unit_vectors
from astropipe.flow.peculiar import FlowResult, FlowSettings, analyse_survey

__all__ = ["morphology_difference", "select_galaxies", "shared_covariance", "subsample_table"]


def _difference(
    a: BulkFlow, b: BulkFlow, direction: np.ndarray, independent: bool, cross: np.ndarray | None = None
) -> dict:
    """b - a along the flow; with its error when the two fits have independent noise (or a known ``cross`` covariance)."""
    delta = b.vector - a.vector
    out = {
        "delta_vector_kms": delta.tolist(),
        "delta_along_flow_kms": float(delta @ direction),
        "delta_amplitude_kms": float(np.linalg.norm(b.vector) - np.linalg.norm(a.vector)),
    }
    if independent:
        covariance = a.covariance + b.covariance
        if cross is not None:
            covariance = covariance - cross - cross.T
        out["delta_along_flow_err_kms"] = float(np.sqrt(direction @ covariance @ direction))
        out["delta_chi2"] = float(delta @ np.linalg.solve(covariance, delta))
    return out


def subsample_table(
    clusters: Table, galaxies: Table, dispersions: Table, settings: FlowSettings = FlowSettings()
) -> dict:
    """Bulk flows of the subsamples and their differences from the reference analysis."""
    reference = analyse_survey(clusters, galaxies, dispersions, settings)
    direction = reference.flow.vector / np.linalg.norm(reference.flow.vector)
    table = reference.clusters
    order = np.argsort(np.asarray(table["distance_kms"]))
    weight = 1.0 / np.asarray(table["error_kms"])[order] ** 2
    split = int(np.searchsorted(np.cumsum(weight), 0.5 * weight.sum()))
    r_hat = unit_vectors(table["l"], table["b"])
    shells = {}
    for name, members in (("inner", order[: split + 1]), ("outer", order[split + 1 :])):
        shells[name] = fit_bulk_flow(
            r_hat[members],
            np.asarray(table["peculiar_kms"])[members],
            np.asarray(table["error_kms"])[members],
            np.asarray(table["distance_kms"])[members],
        )
    result = {
        "reference_vector_kms": reference.flow.vector.tolist(),
        "inner_vs_outer": {
            "split_distance_kms": float(np.asarray(table["distance_kms"])[order][split]),
            **_difference(shells["inner"], shells["outer"], direction, True),
        },
    }
    result["E_vs_S0"] = morphology_difference(clusters, galaxies, dispersions, settings, direction)
    for sign, label in ((+1, "zero_point_plus_1pc"), (-1, "zero_point_minus_1pc")):
        shifted = analyse_survey(clusters, galaxies, dispersions, replace(settings, zero_point_shift=0.01 * sign)).flow
        result[label] = _difference(reference.flow, shifted, direction, False)
    other_map = "bh" if settings.extinction_map == "sfd" else "sfd"
    if f"extinction_{other_map}" in clusters.colnames:  # a user's survey may have one map only
        swapped = analyse_survey(clusters, galaxies, dispersions, replace(settings, extinction_map=other_map)).flow
        result[f"extinction_{settings.extinction_map}_to_{other_map}"] = _difference(
            reference.flow, swapped, direction, False
        )
    return result


def select_galaxies(
    clusters: Table,
    galaxies: Table,
    dispersions: Table,
    galaxy_mask: np.ndarray,
    measurement_mask: np.ndarray | None = None,
) -> tuple[Table, Table, Table, list]:
    """A survey (analysis form) cut to the selected galaxies and measurements, renumbered.

    Clusters left with fewer than two selected galaxies (no FP distance) leave with their galaxies.
    Returns the clusters, galaxies (numbered 0..n-1 again) and dispersions (galaxy numbers mapped) that
    remain, and the names of the clusters that left.
    """
    names, counts = np.unique(np.asarray(galaxies["cluster"])[galaxy_mask], return_counts=True)
    enough = names[counts >= 2]
    cluster_keep = np.isin(np.asarray(clusters["cluster"]), enough)
    galaxy_keep = galaxy_mask & np.isin(np.asarray(galaxies["cluster"]), enough)
    renumber = np.full(len(galaxies), -1)
    renumber[np.flatnonzero(galaxy_keep)] = np.arange(int(galaxy_keep.sum()))
    measured = np.ones(len(dispersions), bool) if measurement_mask is None else measurement_mask
    sub_disp = dispersions[measured & galaxy_keep[np.asarray(dispersions["galaxy"])]]  # galaxies numbered by row
    sub_disp["galaxy"] = renumber[np.asarray(sub_disp["galaxy"])]
    sub_galaxies = galaxies[galaxy_keep]
    sub_galaxies["galaxy"] = np.arange(len(sub_galaxies))
    return clusters[cluster_keep], sub_galaxies, sub_disp, np.asarray(clusters["cluster"])[~cluster_keep].tolist()


def _morphology_flow(
    kind: str, clusters: Table, galaxies: Table, dispersions: Table, settings: FlowSettings
) -> FlowResult:
    """The whole chain on the galaxies of one morphology, in the clusters with two or more of them."""
    *survey, _ = select_galaxies(clusters, galaxies, dispersions, np.asarray(galaxies["morphology"]) == kind)
    n_runs = int(np.max(dispersions["run"])) + 1
    return analyse_survey(*survey, settings, n_runs)


def shared_covariance(a: FlowResult, b: FlowResult, cz_err: dict[str, float], thermal_kms: float) -> np.ndarray:
    """Cov(V_a, V_b) (km^2/s^2) from the terms two fits share in their common clusters: cz error and thermal motion.

    Each fit is V = C sum r v / eps^2 (eq. 1); a common cluster's velocity carries the same redshift
    error and thermal velocity in both, so Cov(V_a, V_b) = C_a [sum r r^T s^2 / (eps_a^2 eps_b^2)] C_b
    with s^2 = sigma_cz^2 + sigma_th^2.
    """
    names_a, names_b = list(a.clusters["cluster"]), list(b.clusters["cluster"])
    common = [name for name in names_a if name in set(names_b)]
    ia = np.array([names_a.index(name) for name in common], dtype=int)
    ib = np.array([names_b.index(name) for name in common], dtype=int)
    r_hat = unit_vectors(np.asarray(a.clusters["l"])[ia], np.asarray(a.clusters["b"])[ia])
    shared = np.array([cz_err[str(name)] for name in common]) ** 2 + thermal_kms**2
    weight = shared / (np.asarray(a.clusters["error_kms"])[ia] ** 2 * np.asarray(b.clusters["error_kms"])[ib] ** 2)
    middle = (r_hat * weight[:, None]).T @ r_hat
    return a.flow.covariance @ middle @ b.flow.covariance


def morphology_difference(
    clusters: Table, galaxies: Table, dispersions: Table, settings: FlowSettings, direction: np.ndarray
) -> dict:
    """S0 minus E flow along ``direction``, its error with the shared cluster terms, and that error if independent."""
    flows = {kind: _morphology_flow(kind, clusters, galaxies, dispersions, settings) for kind in ("E", "S0")}
    cz_err = dict(zip(map(str, clusters["cluster"]), np.asarray(clusters["cz_err"], float), strict=True))
    cross = shared_covariance(flows["E"], flows["S0"], cz_err, settings.thermal_kms)
    out = _difference(flows["E"].flow, flows["S0"].flow, direction, True, cross)
    independent = flows["E"].flow.covariance + flows["S0"].flow.covariance
    out["delta_along_flow_err_if_independent_kms"] = float(np.sqrt(direction @ independent @ direction))
    return out
