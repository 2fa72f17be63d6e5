"""Fig. 1 of Hudson et al. (1999) for one simulated survey: peculiar velocity against angle from the apex.

The survey carries 630 km/s towards (l, b) = (260, -1) deg; drawn when the documentation is built.
"""

import numpy as np

from astropipe.flow.figures import velocity_vs_apex_angle
from astropipe.flow.peculiar import analyse_survey
from astropipe.flow.survey import SurveySpec, simulate_survey

spec = SurveySpec()
clusters, galaxies, dispersions, truth = simulate_survey(spec, np.random.default_rng(2024))
result = analyse_survey(clusters, galaxies, dispersions, n_runs=spec.n_runs)
velocity_vs_apex_angle(result.clusters, result.flow.summary())
