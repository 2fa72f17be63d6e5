"""The colour sequences of a CMD (astropipe.cmd.sequences)."""

import numpy as np
import pytest

from astropipe.cmd.sequences import locate_sequences


def test_sequences_are_found_at_the_peaks_of_skewed_distributions():
    rng = np.random.default_rng(0)
    # blue: Gaussian at 0.25; red: a narrow clump at 1.10 on a broad tail to the blue (giant branch, errors)
    colours = np.concatenate(
        [rng.normal(0.25, 0.12, 1500), rng.normal(1.10, 0.05, 1200), 1.10 - rng.exponential(0.25, 1300)]
    )
    sequences = locate_sequences(colours, bootstrap=30)
    assert sequences.peaks[0] == pytest.approx(0.25, abs=0.03)
    assert sequences.peaks[1] == pytest.approx(1.10, abs=0.03)  # the blue tail pulls the smoothed mode
    assert 0.5 < sequences.valleys[0] < 0.8
    # the medians of the stars either side of the valley: the blue Gaussian's centre, the red clump + tail's median
    red = colours[colours > sequences.valleys[0]]
    assert sequences.medians[0] == pytest.approx(0.25, abs=0.02)
    assert sequences.medians[1] == pytest.approx(np.median(red), abs=1e-12)
    assert 0 < sequences.medians_err[1] < 0.02
    with pytest.raises(ValueError, match="needs at least 40"):
        locate_sequences(colours[:10])
    with pytest.raises(ValueError, match="1 peaks; 2 sequences expected"):
        locate_sequences(rng.normal(0.5, 0.1, 500))
