"""Peculiar velocities and bulk flows of galaxy clusters (Hudson et al. 1999).

Modules: :mod:`geometry` (directions, CMB frame), :mod:`survey` (a simulated
SMAC-like survey with a known flow), :mod:`input_tables` (the input format of
a user's survey and its validation), :mod:`runs` (homogenisation of velocity
dispersions across spectroscopic runs), :mod:`fundamental_plane` (inverse FP
fit and cluster distances), :mod:`peculiar` (Malmquist correction, zero point,
peculiar velocities), :mod:`bulkflow` (the chi^2 bulk-flow fit),
:mod:`resample` (bootstrap and jackknife realisations), :mod:`subsamples`
(the robustness table), :mod:`recovery` (Monte-Carlo recovery of an injected
flow), :mod:`supernovae` (type Ia supernova tables) and :mod:`figures`.
"""
