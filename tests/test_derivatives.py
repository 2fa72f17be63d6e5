"""Numerical second derivatives, checked on a quadratic form whose Hessian is known."""

import numpy as np

from astropipe.derivatives import hessian


def test_hessian_of_a_quadratic_form_is_its_matrix():
    matrix = np.array([[4.0, 1.0, -0.5], [1.0, 3.0, 0.2], [-0.5, 0.2, 2.0]])
    centre = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(
        hessian(lambda x: 0.5 * (x - centre) @ matrix @ (x - centre) + 7000.0, np.zeros(3)), matrix, atol=1e-4
    )
