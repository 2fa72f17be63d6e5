"""E minus S0: the two fits share every common cluster's redshift error and thermal motion.

Over many simulated surveys with one flow everywhere, the scatter of the difference along the flow
must match the quoted error that accounts for the shared terms, and be smaller than the error that
treats the two subsamples as independent (which the difference used to carry).
"""

import numpy as np
import pytest

from astropipe.flow.peculiar import FlowSettings
from astropipe.flow.subsamples import morphology_difference
from astropipe.flow.survey import SurveySpec, simulate_survey

SURVEYS = 600


@pytest.fixture(scope="module")
def differences():
    direction = np.array([np.cos(np.radians(260.0)), np.sin(np.radians(260.0)), 0.0])
    rows = []
    for seed in range(SURVEYS):
        tables = simulate_survey(SurveySpec(), np.random.default_rng(1000 + seed))[:3]
        result = morphology_difference(*tables, FlowSettings(), direction)
        rows.append(
            (
                result["delta_along_flow_kms"],
                result["delta_along_flow_err_kms"],
                result["delta_along_flow_err_if_independent_kms"],
            )
        )
    return np.array(rows)


def test_the_quoted_error_matches_the_scatter_of_the_difference(differences):
    scatter = np.std(differences[:, 0], ddof=1)
    quoted = np.sqrt(np.mean(differences[:, 1] ** 2))
    # the standard deviation of a sample of 600 is known to 1/sqrt(2 x 599) = 2.9 %; allow three of those
    assert scatter == pytest.approx(quoted, rel=3 * 0.029)
    assert abs(np.mean(differences[:, 0])) < 3 * scatter / np.sqrt(SURVEYS)  # one flow everywhere: no offset


def test_the_shared_terms_make_the_difference_more_precise_than_independence_says(differences):
    assert np.all(differences[:, 1] < differences[:, 2])
    scatter = np.std(differences[:, 0], ddof=1)
    independent = np.sqrt(np.mean(differences[:, 2] ** 2))
    assert scatter < independent
