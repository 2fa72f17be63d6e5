"""Simulated SOFI/NTT nights: raw frames written as the instrument would, plus the truth.

Modules: :mod:`detector` (the Hawaii array), :mod:`psf` (Moffat star rendering),
:mod:`populations` (bulge, disc and cluster stars), :mod:`scene` (fields and
their truth), :mod:`observation` (sky, dithers, headers, WCS) and :mod:`night`
(the frames of a whole night).
"""
