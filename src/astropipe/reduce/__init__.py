"""Reduction of SOFI-like raw frames (Dutra et al. 2003, §2.1, §3.1).

Modules: :mod:`ingest` (classify and validate raw frames from their headers),
:mod:`calibration` (master darks and flats, bad-pixel mask), :mod:`sky`
(two-pass masked running-median sky), :mod:`registration` (offsets refined by
cross-correlation) and :mod:`stack` (sigma-clipped weighted combine with an
exposure map and WCS).
"""
