"""PSF photometry in the role of DAOPHOT/ALLSTAR (Dutra et al. 2003, §3.1).

Modules: :mod:`background` (background and noise maps), :mod:`detection`
(star finding against the local noise), :mod:`epsf` (empirical PSF from bright
stars clear of brighter neighbours), :mod:`psf_model` (fast evaluation of the ePSF and its
derivatives), :mod:`fitting` (simultaneous vectorised fit of all stars),
:mod:`aperture_correction` (curve of growth), :mod:`saturated_stars` (one
star per saturated core), :mod:`subtraction_error` (the residual passes'
threshold), :mod:`pipeline` (detection, fitting, subtraction and re-detection
passes) and :mod:`artificial_stars` (completeness and photometric bias).
"""
