"""Stellar calibrations shared by the simulator and the analysis: :mod:`main_sequence`."""
