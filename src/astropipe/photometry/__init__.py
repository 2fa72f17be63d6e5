"""PSF photometry in the role of DAOPHOT/ALLSTAR (Dutra et al. 2003, §3.1).

Modules: :mod:`pipeline` (one image: detection, fitting, subtraction and re-detection passes) and its
:mod:`settings`; :mod:`background` (background and noise maps) and :mod:`star_masks` (the stars masked out of
it); :mod:`detection` (star finding against the local noise); :mod:`epsf` (empirical PSF from bright stars
clear of brighter neighbours) and :mod:`second_psf_pass` (rebuilt with the neighbours subtracted, constant or
varying: :mod:`psf_variation`, :mod:`psf_distortion`, :mod:`psf_polynomial`, :mod:`psf_grid`);
:mod:`psf_model` (fast evaluation of the ePSF and its derivatives); :mod:`star_list` (the stars of the passes),
:mod:`fitting` (simultaneous vectorised fit of all stars) and :mod:`fit_engines` (it or photutils');
:mod:`saturated_stars` (one star per saturated core); :mod:`subtraction_error` and :mod:`residual_detection`
(new stars in the subtracted image); :mod:`catalog` (the catalogue and its flags);
:mod:`aperture_correction` (curve of growth) and :mod:`field_aperture_correction` (measured on a catalogue's
brightest clean stars); :mod:`artificial_stars`, :mod:`completeness_test` and :mod:`completeness_curve`
(completeness and photometric bias); :mod:`psf_file` (the ePSFs on disk) and :mod:`image_input` (the stack).
"""
