"""Photometric calibration: standard stars, the colour-term system, band matching, reference comparison."""
