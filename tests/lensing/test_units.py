"""Physical units: particle speeds and deflections as quantities (astropipe.lensing.units)."""

import astropy.units as u
import numpy as np
import pytest

from astropipe.lensing import (
    deflection_angle_quantity,
    speed_from_kinetic_energy,
)


def test_neutrino_speed_and_deflection_at_the_solar_limb():
    v = speed_from_kinetic_energy(1 * u.MeV, 0.1 * u.eV)
    # gamma = 1e7: 1 - v = 1/(2 gamma^2)
    assert 1 - v == pytest.approx(0.5e-14, rel=1e-2)
    light = deflection_angle_quantity(1 * u.R_sun, 1 * u.M_sun, v=1.0)
    neutrino = deflection_angle_quantity(1 * u.R_sun, 1 * u.M_sun, kinetic_energy=1 * u.MeV, particle_mass=0.1 * u.eV)
    assert neutrino.to_value(u.arcsec) == pytest.approx(light.to_value(u.arcsec), rel=1e-12)
    slow = speed_from_kinetic_energy(1 * u.eV, 1 * u.MeV)
    assert slow == pytest.approx(np.sqrt(2e-6), rel=1e-6)


def test_units_are_checked():
    with pytest.raises(u.UnitsError, match="lens mass"):
        deflection_angle_quantity(1 * u.km, 1 * u.km, v=0.5)
    with pytest.raises(ValueError, match="either v"):
        deflection_angle_quantity(1 * u.R_sun, 1 * u.M_sun)
