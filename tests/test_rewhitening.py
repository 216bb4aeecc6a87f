"""lbfgs restarted in coordinates from J's curvature at its iterate (``CurvatureWhitening``).

Asserted here: the coordinates are an exact change of variables whose Hessian at
their iterate is I on each output's block (against columns of ``hessp``); on
collinear, unscaled features, where the whitening at θ = 0 leaves lbfgs hundreds of
iterations, the restart reaches scikit-learn's optimum in a fraction of the passes;
fits that converge anyway, and problems whose blocks would be too large, never pay
for it; sigmoid outputs weigh a restart after 10 iterations, softmax after 20.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import objective_value
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklearn_nn import RegLogisticClassifier, RegLogisticClassifierCV, SoftmaxClassifier
from sklearn_nn._objectives import LinearObjective
from sklearn_nn._path import minimize_objective
from sklearn_nn.instrumentation import count_passes


def collinear_unscaled(n_samples=4_000, n_features=24, seed=0):
    """Features of rank d/4 plus 1 % noise, on scales from 1e-2 to 1e3, and labels."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, n_features // 4))
    X = latent @ rng.normal(size=(n_features // 4, n_features))
    X += 0.01 * rng.normal(size=X.shape)
    logits = latent @ rng.normal(size=n_features // 4)
    y = (logits + rng.logistic(size=n_samples) > 0).astype(int)
    return X * np.logspace(-2, 3, n_features), y


@pytest.mark.parametrize(
    ("head", "groups", "n_samples"),
    # 8 000 rows: the blocks are summed over several row blocks of X.
    [("sigmoid", 1, 300), ("softmax", 1, 300), ("sigmoid", 3, 300), ("softmax", 1, 8_000)],
)
def test_coordinates_are_exact_and_round_at_their_iterate(head, groups, n_samples):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 5)) * np.logspace(-1, 1, 5) + 2.0
    n_outputs = 1 if head == "sigmoid" else 3
    Y = (rng.integers(0, 3, size=(n_samples, 1)) == np.arange(3)).astype(np.uint8)[:, :n_outputs]
    if groups > 1:  # three fits side by side, each on its own rows
        weights = (rng.uniform(size=(n_samples, groups)) < 0.7).astype(float)
        Y = np.tile(Y, (groups, 1))
    else:
        weights = rng.uniform(0.5, 2.0, n_samples)
    objective = LinearObjective(X, Y, weights, 0.3, head)
    theta = 0.5 * rng.normal(size=objective.n_params)
    coordinates = objective.curvature_whitening(theta)

    v = rng.normal(size=objective.n_params)
    np.testing.assert_allclose(coordinates.to_theta(coordinates.from_theta(v)), v, rtol=1e-10)
    g = rng.normal(size=objective.n_params)  # Tᵀ is the transpose of T
    assert coordinates.gradient_in_u(g) @ v == pytest.approx(g @ coordinates.to_theta(v))

    # Tᵀ H T from the Hessian products: I on each output's block (sigmoid units: I).
    columns = np.eye(objective.n_params)
    H_u = np.column_stack(
        [
            coordinates.gradient_in_u(objective.hessp(theta, coordinates.to_theta(e)))
            for e in columns
        ]
    )
    width = objective.n_features + 1
    for block in range(objective.n_outputs):
        own = slice(block * width, (block + 1) * width)
        np.testing.assert_allclose(H_u[own, own], np.eye(width), atol=1e-9)
    if head == "sigmoid":
        np.testing.assert_allclose(H_u, np.eye(objective.n_params), atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_collinear_unscaled_features_converge_in_a_fraction_of_the_passes(dtype, monkeypatch):
    X, y = collinear_unscaled()
    X = X.astype(dtype)
    with warnings.catch_warnings(), count_passes() as restarted:
        warnings.simplefilter("error")  # the default fit converges
        model = RegLogisticClassifier().fit(X, y)
    assert restarted.hessians >= 1

    monkeypatch.setattr(LinearObjective, "curvature_whitening_cost", np.inf)
    with count_passes() as plain:
        RegLogisticClassifier().fit(X, y)
    assert plain.hessians == 0
    # Measured 28 against 275 passes (float64), 47 against 353 (float32).
    assert 5 * restarted.passes <= plain.passes

    # scikit-learn's optimum of the same objective (C = 1/λ), far past its tol.
    exact = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    exact.fit(X.astype(np.float64), y)
    X64, classes = X.astype(np.float64), np.unique(y)
    ours = objective_value(X64, y, classes, 1.0, "sigmoid", model.coef_, model.intercept_)
    theirs = objective_value(X64, y, classes, 1.0, "sigmoid", exact.coef_, exact.intercept_)
    assert ours == pytest.approx(theirs, rel=1e-8)


def test_sparse_rows_give_the_dense_coordinates_and_fit():
    X, y = collinear_unscaled(n_samples=1_000, n_features=12)
    Y = y[:, None].astype(np.uint8)
    theta = np.random.default_rng(0).normal(size=13) * 1e-3
    dense = LinearObjective(X, Y, np.ones(1_000), 1.0, "sigmoid").curvature_whitening(theta)
    csr = LinearObjective(sp.csr_matrix(X), Y, np.ones(1_000), 1.0, "sigmoid")
    np.testing.assert_allclose(csr.curvature_whitening(theta).factors, dense.factors, rtol=1e-8)
    with count_passes() as counted:
        sparse_fit = RegLogisticClassifier().fit(sp.csr_matrix(X), y)
    assert counted.hessians >= 1
    dense_fit = RegLogisticClassifier().fit(X, y)
    assert sparse_fit.loss_ == pytest.approx(dense_fit.loss_, rel=1e-9)


def test_the_search_restarts_its_stacked_folds_and_equals_cold_fits():
    X, y = collinear_unscaled(n_samples=1_500)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings(), count_passes() as counted:
        warnings.simplefilter("error")
        search = RegLogisticClassifierCV(reg_lambdas=[10.0, 1.0], cv=folds, tol=1e-6).fit(X, y)
    assert counted.hessians >= 1
    for fold, (train, _) in enumerate(folds.split(X, y)):
        for step, reg_lambda in enumerate(search.reg_lambdas_):
            # The oracle: Newton steps of the dense Hessian, which reach 1e-8 here
            # (a line search finds J flat to rounding from |grad|inf ~1e-6 on).
            cold = RegLogisticClassifier(reg_lambda=reg_lambda, solver="trust-exact", tol=1e-8)
            cold.fit(X[train], y[train])
            J = objective_value(
                X[train],
                y[train],
                cold.classes_,
                reg_lambda,
                "sigmoid",
                search.coef_path_[fold, step],
                search.intercept_path_[fold, step],
            )
            assert J == pytest.approx(cold.loss_, rel=1e-8)


def test_fits_that_converge_anyway_or_are_too_wide_never_pay_for_it():
    X, y = make_classification(n_samples=3_000, n_features=20, random_state=0)
    X = StandardScaler().fit_transform(X)
    with count_passes() as counted:
        RegLogisticClassifier(tol=1e-8).fit(X, y)
        SoftmaxClassifier(tol=1e-8).fit(X, y)
    assert counted.hessians == 0
    # Thousands of features (text, say): the blocks would take gigabytes.
    wide = sp.random(50, 5_000, density=0.01, format="csr", random_state=0)
    objective = LinearObjective(wide, np.ones((50, 1), np.uint8), np.ones(50), 1.0, "sigmoid")
    assert objective.curvature_whitening_cost == np.inf


@pytest.mark.parametrize(("head", "first_chance"), [("sigmoid", 10), ("softmax", 20)])
def test_a_restart_is_weighed_sooner_where_the_blocks_are_the_hessian(head, first_chance):
    # Sigmoid outputs are independent, so their blocks are H itself; the softmax's
    # leave out the coupling of the classes, which lbfgs must learn again.
    X, y = collinear_unscaled()
    Y = np.column_stack([y == 0, y == 1]).astype(np.uint8)
    objective = LinearObjective(
        X, Y[:, 1:] if head == "sigmoid" else Y, np.ones(len(y)), 1.0, head
    )
    assert objective.curvature_whitening_after == first_chance
    restarts_by_iteration = []
    with count_passes() as counted:
        outcome = minimize_objective(
            objective,
            np.zeros(objective.n_params),
            solver="lbfgs",
            max_iter=500,
            tol=1e-5,
            callback=lambda *_: restarts_by_iteration.append(counted.hessians),
        )
    assert outcome.converged
    # The first restart comes as soon as the pace is measured, and not before.
    assert restarts_by_iteration.index(1) == first_chance
