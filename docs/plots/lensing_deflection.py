"""Exact deflection against impact parameter for the default speeds, with the weak-field and strong-deflection forms.

The workflow's figure (``results/figures/lensing/deflection_vs_impact_parameter.png``) on a coarser grid,
drawn from the library when the documentation is built.
"""

import numpy as np

from astropipe.lensing.figures import deflection_vs_impact_parameter
from astropipe.lensing.grid import grid_points, tabulate

v, b = grid_points([1.0, 0.9, 0.5, 0.2, 0.05, 0.01, 0.002], min_over_critical=1.001, max_over_mass=1.0e8, points=40)
deflection_vs_impact_parameter(tabulate(np.asarray(v), np.asarray(b), plane_distance=1.0e6, delay_radius=1.0e9))
