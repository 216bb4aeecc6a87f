"""Numerical gradient checking of an estimator's own objective."""

import numpy as np
from sklearn.utils import check_random_state

from . import instrumentation
from ._docstring import fill_doc

__all__ = ["gradient_check", "hessian_check"]


@fill_doc
def gradient_check(estimator, X, y, sample_weight=None, eps=1e-4, random_state=None):
    """Compare the analytic gradient of an estimator's J with central differences.

    The estimator's objective J (with its parameters: λ, class weights, the
    network's shape and activation, ...) is built on ``(X, y, sample_weight)`` exactly
    as ``fit`` builds it, and evaluated at a random point θ ~ N(0, 1). Each
    coordinate of the numerical gradient is the central difference
    (J(θ + ε e_i) − J(θ − ε e_i)) / 2ε, so the check costs 2·len(θ) evaluations of J:
    use a small sample and, for a network, a few hidden units. The estimator itself
    is not modified.

    This is the tool to reach for after writing or changing a cost function: a
    correct gradient gives a relative difference around 1e-9 or smaller, a wrong one
    around 1e-2 or larger.

    Parameters
    ----------
    {check_data}
    eps : float, default=1e-4
        Step ε of the central differences.
    random_state : int, RandomState instance or None, default=None
        Seeds the random point θ.

    Returns
    -------
    relative_difference : float
        ‖g_num − g‖ / ‖g_num + g‖, the measure of the course's ``checkNNGradients``.

    See Also
    --------
    hessian_check : The same check for the Hessian-vector product.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn import TwoLayerMLPClassifier, gradient_check
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(5, 3)), np.array([0, 1, 2, 0, 1])
    >>> net = TwoLayerMLPClassifier(hidden_layer_size=5, reg_lambda=3.0)
    >>> gradient_check(net, X, y, random_state=0) < 1e-9
    True
    """
    objective, theta = _objective_at_random_point(estimator, X, y, sample_weight, random_state)
    _, analytic = objective.value_and_grad(theta)
    numerical = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        numerical[i] = objective.value_and_grad(theta + step)[0]
        numerical[i] -= objective.value_and_grad(theta - step)[0]
    numerical /= 2 * eps
    return _relative_difference(numerical, analytic)


@fill_doc
def hessian_check(estimator, X, y, sample_weight=None, eps=1e-4, random_state=None):
    """Compare the estimator's Hessian-vector product with differences of its gradient.

    At a random point θ ~ N(0, 1) and along a random direction v ~ N(0, 1), the
    analytic product H(θ)·v of the estimator's objective (for the network, the
    curvature chosen by its ``hessian`` parameter) is compared with the central
    difference (∇J(θ + εv) − ∇J(θ − εv)) / 2ε. Two gradient evaluations, whatever
    the size of θ. For ``hessian="gauss-newton"`` the reference is not its
    curvature, so expect a large difference there: the check is for exact
    Hessians.

    Parameters
    ----------
    {check_data}
    eps : float, default=1e-4
        Step ε of the central difference along v.
    random_state : int, RandomState instance or None, default=None
        Seeds θ and v.

    Returns
    -------
    relative_difference : float
        ‖Hv_num − Hv‖ / ‖Hv_num + Hv‖.

    See Also
    --------
    gradient_check : The same check for the gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn import TwoLayerMLPClassifier, hessian_check
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 0, 1, 2])
    >>> hessian_check(TwoLayerMLPClassifier(5, activation="tanh"), X, y, random_state=0) < 1e-6
    True
    """
    rng = check_random_state(random_state)
    objective, theta = _objective_at_random_point(estimator, X, y, sample_weight, rng)
    direction = rng.standard_normal(theta.size)
    objective.value_and_grad(theta)
    analytic = objective.hessp(theta, direction)
    numerical = objective.value_and_grad(theta + eps * direction)[1]
    numerical -= objective.value_and_grad(theta - eps * direction)[1]
    numerical /= 2 * eps
    return _relative_difference(numerical, analytic)


def _objective_at_random_point(estimator, X, y, sample_weight, random_state):
    """Build the estimator's J as ``fit`` does (the estimator untouched); draw θ ~ N(0, 1)."""
    objective = instrumentation.objective(estimator, X, y, sample_weight)
    theta = check_random_state(random_state).standard_normal(objective.n_params)
    return objective, theta


def _relative_difference(numerical, analytic):
    """The course's measure ‖a − b‖ / ‖a + b‖ (0 when both vanish)."""
    denominator = np.linalg.norm(numerical + analytic)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(numerical - analytic) / denominator)
