"""The public gradient_check: it passes every correct objective and catches broken ones."""

import numpy as np
import pytest
from helpers import PerturbedObjective, broken_estimator, small_network_params, small_problem
from sklearn.base import clone

from sklearn_nn import (
    RegLogisticClassifier,
    SoftmaxClassifier,
    TwoLayerMLPClassifier,
    gradient_check,
)

# The course's checkNNGradients reaches ~1e-11 on its own tiny network; at a random
# θ ~ N(0, 1) the O(ε²) truncation error of the central differences, ε = 1e-4, gives
# up to ~1e-8 (measured worst: 1.1e-8, tanh + softmax, λ = 0).
CORRECT = 1e-7
# A wrong gradient is off by far more: scaling one block by 1.01 gives ~3e-3.
BROKEN = 1e-3


# ------------------------------------------------------------ correct gradients
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reg_lambda", [0.0, 3.0])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_network_gradient_is_correct(activation, output, reg_lambda, weighted):
    X, y, sample_weight = small_problem()
    net = TwoLayerMLPClassifier(
        hidden_layer_size=5, activation=activation, output=output, reg_lambda=reg_lambda
    )
    difference = gradient_check(
        net, X, y, sample_weight=sample_weight if weighted else None, random_state=0
    )
    assert difference <= CORRECT


@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_binary_network_gradient_is_correct(activation, output, class_weight):
    # Two classes: one output unit under the sigmoid head, two under softmax.
    X, y, sample_weight = small_problem(n_classes=2)
    net = TwoLayerMLPClassifier(
        hidden_layer_size=5,
        activation=activation,
        output=output,
        reg_lambda=1.5,
        class_weight=class_weight,
    )
    assert gradient_check(net, X, y, sample_weight=sample_weight, random_state=0) <= CORRECT


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_balanced_class_weight_network_gradient_is_correct(activation):
    X, y, sample_weight = small_problem()
    y = np.r_[np.zeros(6, dtype=int), np.ones(3, dtype=int), 2]  # unbalanced: 6, 3, 1
    net = TwoLayerMLPClassifier(
        hidden_layer_size=5, activation=activation, reg_lambda=1.0, class_weight="balanced"
    )
    assert gradient_check(net, X, y, sample_weight=sample_weight, random_state=0) <= CORRECT


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reg_lambda", [0.0, 1.0])
@pytest.mark.parametrize(
    ("Estimator", "n_classes"),
    [(RegLogisticClassifier, 2), (RegLogisticClassifier, 3), (SoftmaxClassifier, 3)],
    ids=["logistic-binary", "logistic-one-vs-rest", "softmax"],
)
def test_linear_gradient_is_correct(Estimator, n_classes, reg_lambda, weighted):
    X, y, sample_weight = small_problem(n_classes)
    model = Estimator(reg_lambda=reg_lambda, class_weight="balanced")
    difference = gradient_check(
        model, X, y, sample_weight=sample_weight if weighted else None, random_state=0
    )
    assert difference <= CORRECT


# ------------------------------------------------------------- broken gradients
class _PerturbedGradient(PerturbedObjective):
    """Test double: an objective whose gradient is deliberately wrong.

    The value is the true J; ``perturb(objective, theta, grad)`` edits the gradient in
    place.
    """

    def value_and_grad(self, theta):
        value, grad = self._objective.value_and_grad(theta)
        grad = grad.copy()
        self._perturb(self._objective, theta, grad)
        return value, grad


def _scale_w2_gradient(objective, theta, grad):
    objective.unpack(grad)[2][...] *= 1.01


def _drop_w2_penalty(objective, theta, grad):
    W2 = objective.unpack(theta)[2]
    objective.unpack(grad)[2][...] -= objective.reg_lambda * W2 / objective.weight_sum


def _drop_linear_penalty(objective, theta, grad):
    W = objective.unpack(theta)[0]
    objective.unpack(grad)[0][...] -= objective.reg_lambda * W / objective.weight_sum


def _broken(Estimator, perturb):
    return broken_estimator(Estimator, _PerturbedGradient, perturb)


_ScaledW2Network = _broken(TwoLayerMLPClassifier, _scale_w2_gradient)
_UnpenalisedW2Network = _broken(TwoLayerMLPClassifier, _drop_w2_penalty)
_UnpenalisedLogistic = _broken(RegLogisticClassifier, _drop_linear_penalty)
_UnpenalisedSoftmax = _broken(SoftmaxClassifier, _drop_linear_penalty)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("Broken", [_ScaledW2Network, _UnpenalisedW2Network])
def test_broken_network_gradient_is_caught(Broken, activation, output, n_classes):
    X, y, sample_weight = small_problem(n_classes)
    params = small_network_params(activation, output)

    correct = gradient_check(TwoLayerMLPClassifier(**params), X, y, sample_weight, random_state=0)
    broken = gradient_check(Broken(**params), X, y, sample_weight, random_state=0)

    assert correct <= CORRECT
    assert broken > BROKEN


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("Broken", [_UnpenalisedLogistic, _UnpenalisedSoftmax])
def test_broken_linear_gradient_is_caught(Broken, n_classes):
    X, y, sample_weight = small_problem(n_classes)
    assert gradient_check(Broken(reg_lambda=1.0), X, y, sample_weight, random_state=0) > BROKEN


# ---------------------------------------------------------------- no side effects
@pytest.mark.parametrize(
    "estimator",
    [
        TwoLayerMLPClassifier(hidden_layer_size=5, activation="tanh", class_weight="balanced"),
        RegLogisticClassifier(reg_lambda=0.5),
        SoftmaxClassifier(reg_lambda=0.5),
    ],
    ids=["network", "logistic", "softmax"],
)
def test_estimator_is_not_modified(estimator):
    X, y, sample_weight = small_problem()
    estimator = clone(estimator)
    params_before = estimator.get_params(deep=False)
    state_before = dict(vars(estimator))

    gradient_check(estimator, X, y, sample_weight=sample_weight, random_state=0)

    assert estimator.get_params(deep=False) == params_before
    # No fitted attribute (n_features_in_, classes_, ...) and nothing private appeared.
    assert vars(estimator) == state_before
    assert not [name for name in vars(estimator) if name.endswith("_")]


def test_fitted_estimator_is_not_modified_and_its_weights_are_not_used():
    X, y, _ = small_problem()
    net = TwoLayerMLPClassifier(hidden_layer_size=5, random_state=0).fit(X, y)
    coefs = [W.copy() for W in net.coefs_]
    intercepts = [b.copy() for b in net.intercepts_]
    state_before = dict(vars(net))

    # Other data (more rows, a fourth feature) must not leak n_features_in_ into `net`.
    X_other = np.hstack([np.vstack([X, X[:4] + 1.0]), np.linspace(-1, 1, 14)[:, None]])
    y_other = np.r_[y, y[:4]]
    fitted = gradient_check(net, X_other, y_other, random_state=1)
    unfitted = gradient_check(
        TwoLayerMLPClassifier(hidden_layer_size=5, random_state=0),
        X_other,
        y_other,
        random_state=1,
    )

    assert fitted == unfitted <= CORRECT
    assert vars(net).keys() == state_before.keys()
    for name, value in state_before.items():
        assert vars(net)[name] is value, name
    for before, after in zip(coefs + intercepts, net.coefs_ + net.intercepts_, strict=True):
        np.testing.assert_array_equal(after, before)


def test_inputs_are_not_modified():
    X, y, sample_weight = small_problem()
    originals = (X.copy(), y.copy(), sample_weight.copy())
    gradient_check(
        TwoLayerMLPClassifier(hidden_layer_size=5, class_weight="balanced"),
        X,
        y,
        sample_weight=sample_weight,
        random_state=0,
    )
    for array, original in zip((X, y, sample_weight), originals, strict=True):
        np.testing.assert_array_equal(array, original)


def test_random_state_chooses_the_point():
    X, y, sample_weight = small_problem()
    net = TwoLayerMLPClassifier(hidden_layer_size=5, activation="tanh")
    first = gradient_check(net, X, y, sample_weight, random_state=0)
    again = gradient_check(net, X, y, sample_weight, random_state=np.random.RandomState(0))
    other = gradient_check(net, X, y, sample_weight, random_state=1)
    assert first == again
    assert other != first
