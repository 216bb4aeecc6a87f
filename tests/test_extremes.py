"""Numerical extremes, each a named test: the answer is finite, or a clear warning or error.

pytest runs with filterwarnings=error. These tests record the warnings of a fit and
then allow only a ConvergenceWarning (legitimate on such data): a RuntimeWarning
(overflow, division by zero, invalid value) fails, wherever it comes from.
"""

import re
import warnings

import numpy as np
import pytest
from helpers import fitted_arrays
from sklearn.base import clone
from sklearn.datasets import load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier
from sklearn_nn._objectives import TwoLayerObjective
from sklearn_nn._solver_options import SOLVERS

SOLVER_NAMES = sorted(SOLVERS)


def small_network(**params):
    return TwoLayerMLPClassifier(hidden_layer_size=5, random_state=0, **params)


ESTIMATORS = {
    "logistic": RegLogisticClassifier,
    "softmax": SoftmaxClassifier,
    "network": small_network,
}


def fit_recording_warnings(estimator, X, y):
    """Fit and predict; return the probabilities and every warning raised meanwhile."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y)
        proba = estimator.predict_proba(X)
        decision = estimator.decision_function(X)
    return proba, decision, caught


def assert_finite_model(estimator, proba, decision):
    for array in fitted_arrays(estimator):
        assert np.all(np.isfinite(array))
    assert np.isfinite(estimator.loss_)
    assert np.all(np.isfinite(estimator.loss_curve_))
    assert np.all(np.isfinite(proba))
    assert np.all(np.isfinite(decision))
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=10 * np.finfo(proba.dtype).eps)


def only_convergence_warnings(caught):
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert not others, [
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in others
    ]
    return [str(w.message) for w in caught]


def iris_standardised():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# --------------------------------------------------------------- separable, λ = 0
@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_separable_data_without_penalty_stays_finite(name, solver):
    # Two well separated blobs: with λ = 0 the optimum is at infinity (‖W‖ → ∞,
    # J → 0). The fit must stop at finite weights that classify every point,
    # or warn that it did not converge; never NaN or inf.
    X, y = make_blobs(n_samples=40, centers=[[-3, -3], [3, 3]], cluster_std=0.5, random_state=0)
    estimator = ESTIMATORS[name](reg_lambda=0.0, solver=solver, max_iter=200)
    proba, decision, caught = fit_recording_warnings(estimator, X, y)
    for message in only_convergence_warnings(caught):
        assert "did not converge" in message
    assert_finite_model(estimator, proba, decision)
    assert estimator.score(X, y) == 1.0
    assert estimator.loss_ < 0.05


# ------------------------------------------------------- features scaled by 1e6
@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_features_scaled_by_1e6_converge_or_advise_scaling(name, solver):
    # Scaling the features by 1e6 multiplies the curvature of J along W by 1e12
    # but not along the intercepts: an ill-conditioned problem. The fit either
    # converges or says what to do about it.
    X, y = iris_standardised()
    estimator = ESTIMATORS[name](solver=solver, max_iter=300)
    proba, decision, caught = fit_recording_warnings(estimator, X * 1e6, y)
    for message in only_convergence_warnings(caught):
        assert "scale the features" in message
    assert_finite_model(estimator, proba, decision)
    if not caught:
        assert estimator.n_iter_ < estimator.max_iter


# ----------------------------------------------- float32 near its largest value
@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_float32_near_overflow_is_finite_or_a_clear_error(name, solver):
    # float32 ends at 3.4e38. Features of ±1e38 overflow as soon as a few of them
    # are added up (a mean row, a gradient Xᵀ r) or multiplied by a weight > 3.
    X, y = iris_standardised()
    X32 = (X / np.abs(X).max() * 1e38).astype(np.float32)
    estimator = ESTIMATORS[name](solver=solver, max_iter=100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator.fit(X32, y)
        except ValueError as error:
            # A clear error says what is too large and what to do...
            assert "float32" in str(error) and "scale" in str(error).lower(), str(error)
            fitted = False
        else:
            fitted = True
            proba = estimator.predict_proba(X32)
            decision = estimator.decision_function(X32)
    # ...and no RuntimeWarning comes before it.
    only_convergence_warnings(caught)
    if fitted:
        assert_finite_model(estimator, proba, decision)
        assert proba.dtype == np.float32
    # A model fitted on ordinary float32 data, given such X to predict: finite
    # probabilities, or an error saying that the logits overflow float32; no
    # warning, no NaN.
    model = ESTIMATORS[name](solver=solver, tol=1e-3).fit(X.astype(np.float32), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            proba = model.predict_proba(X32)
        except ValueError as error:
            assert re.search(r"logits overflow float32.*float64", str(error)), str(error)
            for method in (model.decision_function, model.predict):
                with pytest.raises(ValueError, match="logits overflow float32"):
                    method(X32)
        else:
            assert np.all((proba >= 0) & (proba <= 1))
            np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
            assert np.all(np.isfinite(model.decision_function(X32)))


# --------------------------------------------------------- a saturated network
def saturated_problem(n_outputs, dtype=np.float64):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((30, 4)) * 1e4).astype(dtype)
    y = rng.integers(0, 3, 30)
    Y = np.zeros((30, n_outputs), dtype=dtype)
    Y[np.arange(30), y % n_outputs] = 1
    return X, Y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_saturated_network_objective_is_finite(activation, output, dtype):
    # Inputs of 1e4 drive every sigmoid/tanh unit to exactly 0, ±1 (and ReLU units
    # to 1e4-sized outputs); large output weights then give logits far beyond the
    # range of exp. J and ∇J must stay finite, with no warning.
    X, Y = saturated_problem(3, dtype)
    weights = np.ones(len(X))
    objective = TwoLayerObjective(X, Y, weights, 1.0, output, activation, 6)
    rng = np.random.default_rng(1)
    theta = rng.uniform(-1, 1, objective.n_params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for scale in (1.0, 30.0, 1e3):
            loss, grad = objective.value_and_grad(scale * theta)
            assert np.isfinite(loss) and loss > 0
            assert grad.shape == theta.shape and grad.dtype == np.float64
            assert np.all(np.isfinite(grad))
    # Saturated units are flat, not broken: J still decreases along −∇J.
    loss, grad = objective.value_and_grad(theta)
    step = 1e-3 / max(np.abs(grad).max(), 1e-12)
    assert objective.value_and_grad(theta - step * grad)[0] <= loss


@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_saturated_network_fit_is_finite(activation, solver):
    X, y = iris_standardised()
    estimator = small_network(activation=activation, solver=solver, max_iter=100)
    proba, decision, caught = fit_recording_warnings(estimator, X * 1e4, y)
    only_convergence_warnings(caught)
    assert_finite_model(estimator, proba, decision)
    # The network still learns something: better than the majority class.
    assert estimator.score(X * 1e4, y) > 0.5


# -------------------------------------------------------------- label oddities
@pytest.mark.parametrize("name", ESTIMATORS)
def test_labels_of_mixed_types_raise_a_clear_error(name):
    # Labels that cannot be ordered (strings and numbers) cannot become classes_;
    # the error must say so, not surface numpy's "'<' not supported" from np.unique.
    X, _ = iris_standardised()
    y = np.array(["setosa", 1] * 75, dtype=object)
    estimator = ESTIMATORS[name]()
    with pytest.raises((TypeError, ValueError), match=r"(?i)label|\by\b") as raised:
        estimator.fit(X, y)
    assert "not supported between instances" not in str(raised.value)
    # Nothing of the failed fit sticks.
    assert vars(estimator) == vars(clone(estimator))
