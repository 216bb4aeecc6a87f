"""sklearn_nn.instrumentation: the objective a fit minimises, and the passes it makes.

The objective is checked against the fits themselves (their final loss, their
stopping rule, their whole loss curve from the same start) and against independent
facts (ln 2 and ln K at θ = 0, integer weights as repeated rows, Dask chunks as the
same rows in memory). The pass counter is checked against counts taken elsewhere:
calls that reach the objective's own methods.
"""

import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_nn import (
    RegLogisticClassifier,
    SoftmaxClassifier,
    TwoLayerMLPClassifier,
    instrumentation,
)
from sklearn_nn._optimize import minimize
from sklearn_nn.instrumentation import (
    SECOND_ORDER_SOLVERS,
    SOLVERS,
    count_passes,
    objective,
)

ESTIMATORS = {
    "logistic": RegLogisticClassifier(reg_lambda=0.5),
    "one-vs-rest": RegLogisticClassifier(reg_lambda=0.5),
    "softmax": SoftmaxClassifier(reg_lambda=0.5),
    "network": TwoLayerMLPClassifier(4, reg_lambda=0.5, random_state=0),
}
N_CLASSES = {"logistic": 2, "one-vs-rest": 3, "softmax": 3, "network": 3}


def problem(n_classes, n_samples=80, seed=0):
    X, y = make_classification(
        n_samples, 5, n_informative=3, n_classes=n_classes, random_state=seed
    )
    return X, y


def fitted(estimator, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.set_params(**params).fit(X, y)


# ------------------------------------------------------------------ objective
@pytest.mark.parametrize("case", ESTIMATORS)
def test_objective_at_the_fitted_model_is_the_fits_loss_and_is_stationary(case):
    X, y = problem(N_CLASSES[case])
    estimator = fitted(ESTIMATORS[case], X, y, tol=1e-8, max_iter=2000)
    J = objective(estimator, X, y)
    if case == "network":
        theta = J.point_of(estimator.coefs_, estimator.intercepts_)
    else:
        theta = J.point_of(estimator.coef_, estimator.intercept_)
    value, grad = J.value_and_grad(theta)
    assert theta.shape == grad.shape == (J.n_params,)
    np.testing.assert_allclose(value, estimator.loss_, rtol=1e-12)
    # fit's own stopping rule, ‖∇J‖∞ ≤ tol, holds at its result.
    assert np.max(np.abs(grad)) <= 1e-8


@pytest.mark.parametrize(
    ("estimator", "n_classes"), [(RegLogisticClassifier(), 2), (SoftmaxClassifier(), 4)]
)
def test_linear_models_start_at_zero_where_J_is_ln_K(estimator, n_classes):
    X, y = problem(n_classes)
    J = objective(estimator, X, y)
    theta0 = J.initial_point()
    assert np.array_equal(theta0, np.zeros(J.n_params))
    # θ = 0: every class equally likely, whatever λ and X.
    assert J.value_and_grad(theta0)[0] == pytest.approx(np.log(n_classes), rel=1e-12)


def test_network_loss_curve_from_the_initial_point_is_the_fits():
    # Our own optimizer run from initial_point() on value_and_grad retraces the fit
    # step by step: the same J and the same start.
    X, y = problem(3)
    net = TwoLayerMLPClassifier(4, reg_lambda=0.5, random_state=3, max_iter=15)
    J = objective(net, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        outcome = minimize(
            J.value_and_grad, J.initial_point(), solver="lbfgs", max_iter=15, tol=net.tol
        )
        net.fit(X, y)
    assert outcome.loss_curve == net.loss_curve_


def test_objective_weights_as_fit_does_and_leaves_its_inputs_alone():
    X, y = problem(3)
    weights = np.arange(X.shape[0]) % 3  # 0, 1, 2: dropped, kept, doubled rows
    estimator = SoftmaxClassifier(reg_lambda=0.5)
    X_copy, y_copy, w_copy = X.copy(), y.copy(), weights.copy()
    weighted = objective(estimator, X, y, weights)
    repeated = objective(estimator, np.repeat(X, weights, axis=0), np.repeat(y, weights))
    theta = np.random.default_rng(0).standard_normal(weighted.n_params)
    value, grad = weighted.value_and_grad(theta)
    expected_value, expected_grad = repeated.value_and_grad(theta)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-13)
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)
    assert np.array_equal(weights, w_copy)
    assert not hasattr(estimator, "coef_") and not hasattr(estimator, "n_features_in_")


def test_objective_rejects_what_fit_rejects():
    X, y = problem(2)
    with pytest.raises(ValueError, match="at least 2 classes"):
        objective(RegLogisticClassifier(), X, np.zeros_like(y))
    with pytest.raises(ValueError, match="reg_lambda"):
        objective(RegLogisticClassifier(reg_lambda=-1.0), X, y)


@pytest.mark.parametrize("case", ["one-vs-rest", "network"])
def test_objective_on_dask_chunks_is_the_objective_in_memory(case):
    X, y = problem(N_CLASSES[case])
    estimator = ESTIMATORS[case]
    with dask.config.set(scheduler="synchronous"):
        chunked = objective(estimator, da.from_array(X, chunks=25), da.from_array(y, chunks=25))
        in_memory = objective(estimator, X, y)
        theta = np.random.default_rng(1).standard_normal(in_memory.n_params)
        v = np.random.default_rng(2).standard_normal(in_memory.n_params)
        value, grad = chunked.value_and_grad(theta)
        product = chunked.hessp(theta, v)
    expected_value, expected_grad = in_memory.value_and_grad(theta)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(product, in_memory.hessp(theta, v), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- pass counts
class CountedCalls:
    """``value_and_grad`` and ``hessp`` of an objective, counting the calls that reach it."""

    def __init__(self, J):
        self.J, self.evaluations, self.products = J, 0, 0

    def value_and_grad(self, theta):
        self.evaluations += 1
        return self.J.value_and_grad(theta)

    def hessp(self, theta, v):
        self.products += 1
        return self.J.hessp(theta, v)


@pytest.mark.parametrize("solver", SOLVERS)
def test_counter_counts_the_evaluations_that_reach_the_objective(solver):
    # The optimizer asks again for points it evaluated a moment before (every iterate,
    # for the stopping rule); those are answered from its memory and not counted.
    X, y = problem(3)
    J = objective(SoftmaxClassifier(reg_lambda=0.5), X, y)
    calls = CountedCalls(J)
    with count_passes() as counted:
        outcome = minimize(
            calls.value_and_grad,
            J.initial_point(),
            solver=solver,
            max_iter=200,
            tol=1e-6,
            hessp=calls.hessp,
        )
    assert outcome.converged and outcome.n_iter > 2
    assert counted.evaluations == calls.evaluations
    assert counted.hessian_products == calls.products
    assert counted.passes == calls.evaluations + calls.products
    assert (calls.products > 0) == (solver in SECOND_ORDER_SOLVERS)


@pytest.mark.parametrize("solver", ["lbfgs", "tnc", "newton-cg", "trust-ncg"])
@pytest.mark.parametrize("case", ["logistic", "network"])
def test_counter_of_a_fit_matches_calls_to_its_objective_class(case, solver, monkeypatch):
    # Independent count: every call that reaches the methods of the estimator's
    # internal objective class during the fit.
    X, y = problem(N_CLASSES[case])
    estimator = ESTIMATORS[case].set_params(solver=solver, max_iter=30)
    cls = type(objective(estimator, X, y)._objective)
    reached = {"value_and_grad": 0, "hessp": 0}
    for name in reached:
        original = getattr(cls, name)

        def counting(self, *args, _name=name, _original=original):
            reached[_name] += 1
            return _original(self, *args)

        monkeypatch.setattr(cls, name, counting)
    with count_passes() as counted:
        fitted(estimator, X, y)
    assert counted.evaluations == reached["value_and_grad"] > estimator.n_iter_
    assert counted.hessian_products == reached["hessp"]


def test_counters_nest_count_only_while_open_and_include_every_fit():
    X, y = problem(2)
    with count_passes() as outer:
        RegLogisticClassifier().fit(X, y)
        first = outer.passes
        with count_passes() as inner:
            RegLogisticClassifier(solver="newton-cg").fit(X, y)
        assert inner.passes > 0 and inner.hessian_products > 0
        assert outer.passes == first + inner.passes
    closed = (outer.evaluations, outer.hessian_products, inner.evaluations)
    RegLogisticClassifier().fit(X, y)
    assert (outer.evaluations, outer.hessian_products, inner.evaluations) == closed
    assert not instrumentation._ACTIVE


def test_counter_is_closed_when_the_block_raises():
    with pytest.raises(ValueError), count_passes():
        RegLogisticClassifier().fit(np.ones((3, 2)), [0, 0, 0])
    assert not instrumentation._ACTIVE


def test_solver_names_are_those_the_estimators_accept():
    X, y = problem(2, n_samples=30)
    assert set(SECOND_ORDER_SOLVERS) < set(SOLVERS) and SOLVERS[0] == "lbfgs"
    for solver in SOLVERS:
        with count_passes() as counted:
            fitted(RegLogisticClassifier(solver=solver, max_iter=20), X, y)
        assert (counted.hessian_products > 0) == (solver in SECOND_ORDER_SOLVERS)
    with pytest.raises(ValueError, match="solver"):
        RegLogisticClassifier(solver="no-such-solver").fit(X, y)
    with pytest.raises(AttributeError, match="NO_SUCH_NAME"):
        instrumentation.NO_SUCH_NAME  # noqa: B018
