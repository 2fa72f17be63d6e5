"""Removal of the SOFI array's inter-quadrant row cross-talk.

The four quadrants of the Hawaii array are read out in parallel, and a row read at the same time as a
brightly illuminated one shows a level proportional to that row's total signal (Finger & Nicolini, ESO,
"Interquadrant row crosstalk": a fully illuminated row put 1.5 % of its per-pixel intensity into the
unilluminated row 512 above, read at the same time). With rows r and r + N/2 read together, every pixel
of the pair reads kappa times the pair's summed counts more:

    M = T + kappa G_T,        G_T = sum of T over the 2 x N_columns pixels of the pair,

so the pair's measured sum is G_M = (1 + 2 N_columns kappa) G_T and the correction is exact:

    T = M - kappa G_M / (1 + 2 N_columns kappa).

kappa = 1.5 % / 1024 = 1.46e-5 for SOFI's 1024 columns. A bright star draws a faint stripe along its rows
and those half an array away; the stripe moves with the dither, so the sky frame made from the neighbouring
exposures does not remove it. The correction acts on the counts above the reset level (raw minus the master
dark, itself a raw frame with the same cross-talk, which the difference carries linearly), before the
non-linearity correction (it arises in the readout, after the pixels' non-linear response).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["SOFI_ROW_CROSSTALK", "remove_row_crosstalk"]

#: SOFI's coefficient: 1.5 % of a fully illuminated row's per-pixel level over its 1024 columns
SOFI_ROW_CROSSTALK = 0.015 / 1024


def remove_row_crosstalk(counts: NDArray[np.float64], coefficient: float) -> NDArray[np.float64]:
    """Counts above the reset level with the row cross-talk removed (ADU).

    Parameters
    ----------
    counts : numpy.ndarray
        A raw frame minus its reset level (e.g. the master dark of its DIT), N rows (even) x columns.
    coefficient : float
        kappa, ADU per pixel of a row pair per ADU summed over the pair (:data:`SOFI_ROW_CROSSTALK`);
        0 returns the counts unchanged.

    Returns
    -------
    numpy.ndarray
        T = M - kappa G_M / (1 + 2 N_columns kappa), the exact inverse of the cross-talk.

    Examples
    --------
    A star's row and the row half an array away both read kappa times its flux more; the correction
    removes the stripe exactly:

    >>> import numpy as np
    >>> true = np.zeros((4, 8)); true[0, 3] = 1.0e6
    >>> measured = true + 1.46e-5 * 1.0e6 * np.array([[1.0], [0.0], [1.0], [0.0]])
    >>> bool(np.allclose(remove_row_crosstalk(measured, 1.46e-5), true))
    True
    """
    if coefficient == 0:
        return counts
    if counts.ndim != 2 or counts.shape[0] % 2:
        raise ValueError(
            f"remove_row_crosstalk: the cross-talk pairs row r with r + N/2 of a 2-d frame; got shape {counts.shape}"
        )
    half = counts.shape[0] // 2
    pair_sum = counts[:half].sum(axis=1) + counts[half:].sum(axis=1)
    ghost = coefficient * pair_sum / (1.0 + 2.0 * counts.shape[1] * coefficient)
    return counts - np.tile(ghost, 2)[:, None]
