"""solver="trust-exact": the linear models' dense Hessian, and fits that factorise it.

Oracles: the Hessian from central differences of the analytic gradient and from the
Hessian-vector product; the optimum of scikit-learn's LogisticRegression at the same
objective; GridSearchCV over the base model for the cross-validated search.
"""

import warnings

import numpy as np
import pytest
from helpers import objective_value, standardised
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_nn import (
    RegLogisticClassifier,
    RegLogisticClassifierCV,
    SoftmaxClassifier,
    TwoLayerMLPClassifier,
    _optimize,
)
from sklearn_nn._objectives import LinearObjective
from sklearn_nn.instrumentation import count_passes


def _problem(head, n_outputs, fits=1, dtype=np.float64, csr=False, seed=0):
    """Unscaled, off-centre features and uneven weights: nothing that hides a wrong term."""
    rng = np.random.default_rng(seed)
    n, d = 200, 5
    X = (rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d) + rng.uniform(-5, 5, d)).astype(
        dtype
    )
    if csr:
        X[rng.random(X.shape) < 0.6] = 0
        X = sparse.csr_matrix(X)
    if head == "softmax":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, n)]
    else:
        Y = (rng.random((n, n_outputs)) < 0.5).astype(float)
    weights = rng.uniform(0.5, 2, n)
    if fits > 1:  # folds side by side: each fit weighs its held-out rows by zero
        weights = (rng.random((n, fits)) < 0.8) * weights[:, None]
    objective = LinearObjective(X, Y, weights, 0.3, head)
    theta = rng.standard_normal(objective.n_params) * 0.1
    return objective, theta


def _difference_hessian(objective, theta, step=1e-6):
    columns = []
    for unit in np.eye(objective.n_params):
        upper = objective.value_and_grad(theta + step * unit)[1]
        lower = objective.value_and_grad(theta - step * unit)[1]
        columns.append((upper - lower) / (2 * step))
    return np.column_stack(columns)


@pytest.mark.parametrize(
    "n_outputs, fits, csr",
    [(1, 1, False), (3, 1, False), (1, 4, False), (2, 3, True), (1, 1, True)],
    ids=["binary", "one-vs-rest", "folds", "folds-csr", "binary-csr"],
)
def test_sigmoid_newton_matrix_is_the_hessian(n_outputs, fits, csr):
    objective, theta = _problem("sigmoid", n_outputs, fits, csr=csr)
    H = objective.newton_matrix(theta)
    scale = np.abs(H).max()
    # Measured 5e-11 (differences) and 1.4e-15 (products) of the largest entry.
    np.testing.assert_allclose(H, _difference_hessian(objective, theta), atol=1e-8 * scale)
    products = np.column_stack([objective.hessp(theta, e) for e in np.eye(objective.n_params)])
    np.testing.assert_allclose(H, products, atol=1e-13 * scale)


@pytest.mark.parametrize("fits, csr", [(1, False), (2, False), (2, True)])
def test_softmax_newton_matrix_is_the_hessian_off_the_flat_directions(fits, csr):
    n_classes = 3
    objective, theta = _problem("softmax", n_classes, fits, csr=csr)
    H = objective.newton_matrix(theta)
    exact = _difference_hessian(objective, theta)
    # The flat directions: every class's parameter of one feature (or the intercepts)
    # of one fit shifted together, which leaves each softmax unchanged.
    n_columns = n_classes * fits
    shifts = []
    for first in range(0, objective.n_params, n_columns):
        for fit in range(fits):
            shift = np.zeros(objective.n_params)
            shift[first + fit + fits * np.arange(n_classes)] = 1.0
            shifts.append(shift / np.sqrt(n_classes))
    shifts = np.array(shifts).T
    # Off them, the matrix is J's Hessian: H v = ∇²J v for every v ⊥ the shifts.
    off = np.linalg.svd(np.eye(objective.n_params) - shifts @ shifts.T)[0][:, : -shifts.shape[1]]
    scale = np.abs(exact).max()
    np.testing.assert_allclose(H @ off, exact @ off, atol=1e-8 * scale)
    # Along the intercepts' shift J is flat (∇²J = 0 there), yet the matrix is
    # positive definite.
    intercepts = shifts[:, -fits:]
    np.testing.assert_allclose(exact @ intercepts, 0, atol=1e-8 * scale)
    assert np.linalg.eigvalsh(H).min() > 0


def test_float32_rows_give_the_float64_hessian():
    objective64, theta = _problem("sigmoid", 2)
    objective32, _ = _problem("sigmoid", 2, dtype=np.float32)
    H64, H32 = objective64.newton_matrix(theta), objective32.newton_matrix(theta)
    assert H32.dtype == np.float64
    # Only X's rounding to float32 separates them (products in float64).
    np.testing.assert_allclose(H32, H64, rtol=0, atol=1e-5 * np.abs(H64).max())


@pytest.mark.parametrize("reg_lambda", [0.1, 1.0])
@pytest.mark.parametrize(
    "Estimator, dataset, head",
    [
        (RegLogisticClassifier, "breast_cancer", "sigmoid"),
        (SoftmaxClassifier, "wine", "softmax"),
        (SoftmaxClassifier, "iris", "softmax"),
    ],
)
def test_same_optimum_as_sklearn_in_a_few_newton_steps(Estimator, dataset, head, reg_lambda):
    X, y = standardised(dataset)
    model = Estimator(reg_lambda=reg_lambda, solver="trust-exact", tol=1e-9).fit(X, y)
    sklearn = LogisticRegression(C=1 / reg_lambda, tol=1e-12, max_iter=10_000).fit(X, y)

    def J(fitted):
        return objective_value(
            X, y, model.classes_, reg_lambda, head, fitted.coef_, fitted.intercept_
        )

    assert model.loss_ == pytest.approx(J(model), rel=1e-12)
    assert abs(J(model) - J(sklearn)) <= 1e-10
    np.testing.assert_allclose(model.coef_, sklearn.coef_, rtol=0, atol=1e-5 / reg_lambda)
    # Newton's method from a Cholesky factor: measured 7-10 iterations.
    assert model.n_iter_ <= 15
    if head == "softmax":  # the symmetric representative, as the other solvers
        np.testing.assert_allclose(model.coef_.sum(axis=0), 0, atol=1e-12)


def test_unscaled_collinear_features_converge_in_a_few_newton_steps():
    # Columns that are combinations of a few, on scales 1e-2 to 1e3, plus 1 % noise:
    # curvature spread over ~1e10, what first-order steps crawl on.
    rng = np.random.default_rng(0)
    n, d = 2000, 12
    X = (rng.standard_normal((n, 3)) @ rng.standard_normal((3, d))) * np.logspace(-2, 3, d)
    X += 0.01 * rng.standard_normal((n, d)) * np.logspace(-2, 3, d)
    y = (X[:, 0] / 1e-2 + rng.standard_normal(n) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = RegLogisticClassifier(solver="trust-exact", tol=1e-8).fit(X, y)
    assert model.n_iter_ <= 20
    sklearn = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)

    def J(fitted):
        return objective_value(
            X, y, model.classes_, 1.0, "sigmoid", fitted.coef_, fitted.intercept_
        )

    assert J(model) <= J(sklearn) + 1e-12


def test_cross_validated_search_matches_grid_search():
    # The folds side by side in one problem: its matrix is block diagonal by fit.
    X, y = standardised("breast_cancer")
    grid, folds = np.logspace(-2, 1, 5), StratifiedKFold(4, shuffle=True, random_state=0)
    search = RegLogisticClassifierCV(reg_lambdas=grid, cv=folds, solver="trust-exact", tol=1e-8)
    search.fit(X, y)
    base = RegLogisticClassifier(solver="trust-exact", tol=1e-8)
    reference = GridSearchCV(base, {"reg_lambda": grid}, cv=folds).fit(X, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"], atol=1e-6
    )
    assert search.reg_lambda_ == reference.best_params_["reg_lambda"]


def test_the_network_does_not_offer_it():
    X, y = standardised("iris")
    with pytest.raises(InvalidParameterError, match="'solver' parameter"):
        TwoLayerMLPClassifier(solver="trust-exact").fit(X, y)


def test_a_hessian_too_large_is_refused_and_the_model_kept(monkeypatch):
    X, y = standardised("wine")
    model = SoftmaxClassifier().fit(X, y)
    coef = model.coef_.copy()
    n_params = (X.shape[1] + 1) * 3
    monkeypatch.setattr(_optimize, "DENSE_HESSIAN_BYTES", 8 * n_params**2 - 1)
    with pytest.raises(
        ValueError, match=rf"dense Hessian of the {n_params} parameters.*trust-ncg"
    ):
        model.set_params(solver="trust-exact").fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("head, n_outputs", [("sigmoid", 1), ("softmax", 3)])
def test_the_matrix_in_whitened_coordinates(head, n_outputs):
    # Oracle: T built column by column from the change of variables itself.
    objective, theta = _problem(head, n_outputs)
    whitening = objective.whitening()
    assert whitening is not None
    T = np.column_stack([whitening.to_theta(e) for e in np.eye(objective.n_params)])
    H = objective.newton_matrix(theta)
    np.testing.assert_allclose(whitening.matrix_in_u(H), T.T @ H @ T, rtol=1e-10, atol=1e-12)


def test_each_dense_hessian_is_counted_as_a_pass():
    X, y = standardised("breast_cancer")
    with count_passes() as counter:
        model = RegLogisticClassifier(solver="trust-exact").fit(X, y)
    # One Hessian per iteration at most, plus the one that sets the first radius
    # (at the start, where scipy asks for it again: formed once).
    assert 1 <= counter.hessians <= model.n_iter_ + 1
    assert counter.hessian_products == 0
    assert counter.passes == counter.evaluations + counter.hessians


@pytest.mark.parametrize("fits", [1, 2])
def test_sparse_rows_in_many_blocks_give_the_dense_matrix(fits):
    # 30 000 CSR rows are cut into several blocks (each weighted copy is one block's),
    # the folds' targets gathered block by block: the same matrix as dense X's.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30_000, 3)) * (rng.random((30_000, 3)) < 0.5)
    Y = np.eye(3)[rng.integers(0, 3, X.shape[0])]
    weights = rng.uniform(0.5, 2, X.shape[0])
    if fits > 1:
        weights = (rng.random((X.shape[0], fits)) < 0.8) * weights[:, None]
    dense = LinearObjective(X, Y, weights, 0.3, "softmax")
    csr = LinearObjective(sparse.csr_matrix(X), Y, weights, 0.3, "softmax")
    theta = rng.standard_normal(dense.n_params) * 0.1
    expected = dense.newton_matrix(theta)
    np.testing.assert_allclose(
        csr.newton_matrix(theta), expected, atol=1e-12 * np.abs(expected).max()
    )
