"""Monte-Carlo recovery of the injected bulk flow: 200 simulated SMAC-like surveys through the whole chain.

Drawn when the documentation is built (``make docs``), from the library's own simulator, chain and figure.
"""

from astropipe.flow.figures import recovery_coverage
from astropipe.flow.recovery import recover, summarise_recovery
from astropipe.flow.survey import SurveySpec

realisations = recover(SurveySpec(), seed=2024, start=0, stop=200)
recovery_coverage(realisations, summarise_recovery(realisations))
