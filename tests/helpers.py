"""Data and reference helpers shared by several test modules.

Test modules import it as ``from helpers import ...``: pytest's default ("prepend")
import mode puts tests/ (it has no ``__init__.py``) on ``sys.path``, as it does for
conftest.py. Only what two or more modules used, word for word, lives here.
"""

import functools
import re

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification
from sklearn.preprocessing import StandardScaler

from sklearn_nn._objectives import LinearObjective


# ------------------------------------------------------------------------ data sets
@functools.cache
def standardised(name):
    loader = {"breast_cancer": load_breast_cancer, "iris": load_iris, "wine": load_wine}[name]
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # Shared between tests: read-only, so that no fit can write into them.
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@functools.cache
def noisy_labels():
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=5, flip_y=0.3, random_state=0
    )
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def small_problem(n_classes=3):
    """The course's checkNNGradients set-up: 3 inputs, 10 samples, 3 classes by default."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10, 3))
    y = np.arange(10) % n_classes
    sample_weight = rng.uniform(0.5, 2.0, size=10)
    return X, y, sample_weight


def small_network_params(activation, output):
    """A network of five hidden units, small enough for element-wise numerical checks."""
    return {"hidden_layer_size": 5, "activation": activation, "output": output, "reg_lambda": 1.0}


# ---------------------------------------------------------------- the objective J
def targets(y, classes, output):
    """The indicator matrix our objective trains on (one column for a binary sigmoid)."""
    if output == "sigmoid" and classes.size == 2:
        return (y == classes[1]).astype(float)[:, None]
    return (y[:, None] == classes).astype(float)


def objective_value(X, y, classes, reg_lambda, head, coef, intercept):
    """Our J (unit sample weights) at a linear model given by sklearn-shaped coef_/intercept_."""
    objective = LinearObjective(
        X, targets(y, classes, head), np.ones(X.shape[0]), reg_lambda, head
    )
    # θ packs the weights as W of shape (n_features, n_outputs) = coef_.T.
    theta = objective.theta(np.asarray(coef).T, np.asarray(intercept))
    return objective.value_and_grad(theta)[0]


def assert_loss_curve_descends(model, X, y, reg_lambda, head):
    """One J per iteration, ending at ``loss_`` = J(coef_, intercept_), never rising from J(0)."""
    assert model.n_iter_ >= 1
    assert len(model.loss_curve_) == model.n_iter_
    assert model.loss_curve_[-1] == model.loss_
    J = functools.partial(objective_value, X, y, model.classes_, reg_lambda, head)
    assert model.loss_ == pytest.approx(J(model.coef_, model.intercept_), rel=1e-12)
    # Line search or trust region: J never rises (a rejected trust-region step
    # repeats the value).
    j_zero = J(np.zeros_like(model.coef_), np.zeros_like(model.intercept_))
    curve = np.array([j_zero, *model.loss_curve_])
    assert np.all(np.diff(curve) <= 1e-12)


# ---------------------------------------------------------------- fitted estimators
class PerturbedObjective:
    """Test double: the real objective, save for the method a subclass breaks by ``perturb``."""

    def __init__(self, objective, perturb):
        self._objective = objective
        self._perturb = perturb

    def __getattr__(self, name):
        return getattr(self._objective, name)


def broken_estimator(Estimator, Perturbed, perturb):
    """``Estimator`` fitting (and checked on) ``Perturbed(its objective, perturb)``."""

    class Broken(Estimator):
        def _objective(self, X, Y, weights, class_sums=None):
            return Perturbed(super()._objective(X, Y, weights, class_sums), perturb)

    Broken.__name__ = f"Broken{Estimator.__name__}"
    return Broken


def fitted_arrays(estimator):
    if hasattr(estimator, "coefs_"):
        return [*estimator.coefs_, *estimator.intercepts_]
    return [estimator.coef_, estimator.intercept_]


# One line of verbose=1 output: J, the gradient norm and the elapsed seconds.
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
PROGRESS_LINE = re.compile(
    rf"J\s*=\s*(?P<J>{NUMBER}).*grad.*?(?P<grad>{NUMBER}).*?(?P<seconds>{NUMBER})\s*s\s*$"
)
