"""The whitening of linear models: an exact change of variables that saves passes.

The solver works in u with θ = T u (``Whitening``). Asserted here: T is what its
methods say (inverse, transpose by central differences of J(T u)), the Hessian at
the start is near I in u, fits in u reach the optimum of fits in θ with fewer
evaluations, dense, CSR and strided rows give one covariance, and it is not built
where it would cost more than it saves; there (thousands of features) the diagonal
whitening by the features' variances takes its place.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier
from sklearn_nn._objectives import (
    LinearObjective,
    covariance_terms,
    whitening_step,
)
from sklearn_nn._objectives.whitening import DiagonalWhitening, variance_terms
from sklearn_nn._optimize import minimize
from sklearn_nn.instrumentation import count_passes

HEADS = {"sigmoid": RegLogisticClassifier, "softmax": SoftmaxClassifier}


def correlated_problem(head, n_samples=600, n_features=12, seed=0):
    """Correlated features on scales from 0.1 to 10, not centred, with 10 % noisy labels."""
    n_classes = 2 if head == "sigmoid" else 3
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features // 2,
        n_redundant=0,
        n_classes=n_classes,
        flip_y=0.1,
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    mixing = np.eye(n_features) + 0.6 * rng.normal(size=(n_features, n_features))
    X = X @ mixing * np.logspace(-1, 1, n_features) + 3.0
    Y = (y[:, None] == np.unique(y)).astype(np.uint8)
    if head == "sigmoid":
        Y = Y[:, 1:]
    weights = rng.uniform(0.5, 2.0, n_samples)
    return X, y, Y, weights


def test_the_whitening_is_built_once_per_lambda_and_follows_the_penalty():
    # A path asks for it twice per λ (the prediction's correction and the solve).
    X, _, Y, weights = correlated_problem("sigmoid")
    objective = LinearObjective(X, Y, weights, 0.5, "sigmoid")
    first = objective.whitening()
    assert objective.whitening() is first
    objective.set_penalty(50.0)
    changed = objective.whitening()
    fresh = LinearObjective(X, Y, weights, 50.0, "sigmoid").whitening()
    assert changed is not first
    np.testing.assert_allclose(changed.factor, fresh.factor, rtol=1e-12)
    assert not np.allclose(changed.factor, first.factor)


@pytest.mark.parametrize("head", HEADS)
def test_change_of_variables_is_exact_and_its_transpose_is_the_chain_rule(head):
    X, _, Y, weights = correlated_problem(head)
    objective = LinearObjective(X, Y, weights, 0.5, head)
    whitening = objective.whitening()
    rng = np.random.default_rng(1)
    theta = rng.normal(size=objective.n_params)
    np.testing.assert_allclose(whitening.to_theta(whitening.from_theta(theta)), theta, rtol=1e-12)

    # ∇_u J(T u) = Tᵀ ∇J(θ): against central differences of J(T u).
    u = whitening.from_theta(theta)
    _, grad = objective.value_and_grad(theta)
    analytic = whitening.gradient_in_u(grad)
    eps = 1e-6
    numeric = np.array(
        [
            (
                objective.value_and_grad(whitening.to_theta(u + eps * e))[0]
                - objective.value_and_grad(whitening.to_theta(u - eps * e))[0]
            )
            / (2 * eps)
            for e in np.eye(u.size)
        ]
    )
    assert np.linalg.norm(analytic - numeric) <= 1e-7 * np.linalg.norm(analytic)


@pytest.mark.parametrize("head", HEADS)
def test_hessian_at_the_start_is_round_in_u(head):
    X, _, Y, weights = correlated_problem(head)
    objective = LinearObjective(X, Y, weights, 0.5, head)
    whitening = objective.whitening()
    theta0 = np.zeros(objective.n_params)
    columns = np.eye(objective.n_params)
    H_theta = np.column_stack([objective.hessp(theta0, e) for e in columns])
    H_u = np.column_stack(
        [whitening.gradient_in_u(objective.hessp(theta0, whitening.to_theta(e))) for e in columns]
    )
    # Softmax: the Hessian is singular along "the same change for every class";
    # compare the spread of the rest of the spectrum.
    n_zero = objective.n_features + 1 if head == "softmax" else 0
    # Measured 2.7e5 / 136 (sigmoid) and 2.9e5 / 41 (softmax): the shrinkage keeps
    # the spread in u well above 1, the scales and most correlation are gone.
    assert _spread(H_theta, n_zero) > 1e5
    assert _spread(H_u, n_zero) < 300


def _spread(H, n_zero):
    """Largest over smallest eigenvalue, without the ``n_zero`` smallest."""
    eigenvalues = np.linalg.eigvalsh((H + H.T) / 2)[n_zero:]
    return eigenvalues[-1] / eigenvalues[0]


#: newton-cg cannot resolve gradients much below 1e-7 (user guide §13, Limits), and
#: TNC's finite-difference curvature crawls there on the softmax (1 808 passes); the
#: unwhitened CG softmax fit stalls at 1.2e-7 to 1e-7, by the rounding of its sums.
TOL = {"lbfgs": 1e-7, "cg": 1e-6, "tnc": 1e-6, "newton-cg": 1e-6}


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("solver", TOL)
def test_fit_in_u_reaches_the_optimum_in_fewer_evaluations(head, solver, monkeypatch):
    X, y, _, weights = correlated_problem(head)
    Estimator = HEADS[head]
    counts = []
    evaluate = LinearObjective.value_and_grad

    def counted(self, theta):
        counts[-1] += 1
        return evaluate(self, theta)

    def fit():
        counts.append(0)
        model = Estimator(reg_lambda=0.1, solver=solver, tol=TOL[solver], max_iter=10_000)
        return model.fit(X, y, sample_weight=weights)

    monkeypatch.setattr(LinearObjective, "value_and_grad", counted)
    whitened = fit()
    monkeypatch.setattr(LinearObjective, "whitening", lambda self: None)
    # Without the restart in coordinates from the curvature either (lbfgs).
    monkeypatch.setattr(LinearObjective, "curvature_whitening_cost", np.inf)
    plain = fit()

    # The same optimum, by the benchmark's measure (on these features a gradient of
    # 1e-7 leaves the weights uncertain to ~1e-4 along the flattest direction).
    assert abs(whitened.loss_ - plain.loss_) <= 1e-8 * plain.loss_
    # Curvature spread 3e5 in θ, ~1e2 in u: measured 2x (newton-cg) to 26x fewer passes.
    assert 2 * counts[0] <= counts[1]


def test_covariance_of_dense_csr_and_strided_rows_agree():
    X, _, _, weights = correlated_problem("sigmoid", n_samples=301)
    X[np.abs(X - 3.0) < 0.3] = 0.0  # sparse enough for CSR to mean something
    mean = (weights @ X) / weights.sum()
    for step in (1, 7):
        dense, dense_sum = covariance_terms(X, weights, mean, step)
        csr, csr_sum = covariance_terms(sp.csr_matrix(X), weights, mean, step)
        rows = X[::step] - mean
        expected = rows.T @ (rows * weights[::step, None])
        np.testing.assert_allclose(dense, expected, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(csr, expected, rtol=1e-9, atol=1e-9)
        assert dense_sum == csr_sum == pytest.approx(weights[::step].sum(), rel=1e-15)
    # A chunk's rows on the global grid: chunks [0, 100), [100, 301), step 7.
    head, _ = covariance_terms(X[:100], weights[:100], mean, 7, first=0)
    tail, _ = covariance_terms(X[100:], weights[100:], mean, 7, first=-100 % 7)
    np.testing.assert_allclose(head + tail, covariance_terms(X, weights, mean, 7)[0], rtol=1e-12)


def test_whitening_is_skipped_where_it_costs_more_than_it_saves():
    # Small problems: all rows (a weight and a repeated row give one covariance).
    assert whitening_step(15, 30, 3) == 1
    # The benchmark's shape: 50 rows per feature, evenly spaced.
    assert whitening_step(200_000, 100, 1) == 40
    # Thousands of features (text, say): the d x d covariance would dominate.
    assert whitening_step(20_000, 5_000, 1) is None
    assert whitening_step(1_000_000, 2_000, 1) is None


def test_constant_features_without_penalty_fit_without_whitening():
    # Σ = 0 and λ = 0: A = 0 has no Cholesky factor; the solver works in θ.
    X = np.ones((40, 3))
    y = np.arange(40) % 2
    objective = LinearObjective(X, (y == 1).astype(np.uint8)[:, None], np.ones(40), 0.0, "sigmoid")
    assert objective.whitening() is None
    model = RegLogisticClassifier(reg_lambda=0.0).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), 0.5, atol=1e-6)


def test_standardised_features_lose_nothing():
    # Whitening already-white features must not cost passes (the common case).
    X, y = make_classification(n_samples=2_000, n_features=8, random_state=3)
    X = StandardScaler().fit_transform(X)
    model = RegLogisticClassifier(tol=1e-8).fit(X, y)
    assert model.n_iter_ <= 12


def wide_sparse_problem(n_samples=2_000, n_features=3_000, seed=0):
    """CSR rows of unit norm over words of Zipf-distributed popularity (a text matrix)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_features + 1) ** 1.1
    per_row = rng.poisson(20, n_samples).clip(1)
    words = rng.choice(n_features, per_row.sum(), p=popularity / popularity.sum())
    documents = np.repeat(np.arange(n_samples), per_row)
    X = sp.csr_matrix((np.ones(words.size), (documents, words)), shape=(n_samples, n_features))
    X.sum_duplicates()
    X = sp.csr_matrix(sp.diags(1.0 / sp.linalg.norm(X, axis=1)) @ X)
    w = rng.normal(size=n_features) * (rng.random(n_features) < 0.1)
    z = X @ w
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-4 * (z - np.median(z)) / z.std()))).astype(
        int
    )
    return X, y


def test_variances_of_dense_csr_and_chunked_rows_agree():
    X, _, _, weights = correlated_problem("sigmoid", n_samples=301)
    X[np.abs(X - 3.0) < 0.3] = 0.0
    mean = (weights @ X) / weights.sum()
    expected = ((X - mean) ** 2).T @ weights
    for rows in (X, sp.csr_matrix(X)):
        terms, weight_sum = variance_terms(rows, weights, mean)
        np.testing.assert_allclose(terms, expected, rtol=1e-10)
        assert weight_sum == pytest.approx(weights.sum(), rel=1e-15)
    head, _ = variance_terms(X[:100], weights[:100], mean)
    tail, _ = variance_terms(X[100:], weights[100:], mean)
    np.testing.assert_allclose(head + tail, expected, rtol=1e-10)


def test_diagonal_whitening_of_wide_data_is_exact_and_its_transpose_is_the_chain_rule():
    X, y = wide_sparse_problem(n_samples=300, n_features=600)
    objective = LinearObjective(X, y[:, None].astype(np.uint8), np.ones(300), 1.0, "sigmoid")
    assert whitening_step(300, 600, 1) is None
    whitening = objective.whitening()
    assert isinstance(whitening, DiagonalWhitening)
    rng = np.random.default_rng(0)
    theta = rng.normal(size=objective.n_params)
    np.testing.assert_allclose(whitening.to_theta(whitening.from_theta(theta)), theta, rtol=1e-12)
    # ∇_u J(T u) = Tᵀ ∇J(θ), along random directions, against central differences.
    u = whitening.from_theta(theta)
    analytic = whitening.gradient_in_u(objective.value_and_grad(theta)[1])
    for v in rng.normal(size=(5, u.size)):
        eps = 1e-6
        plus = objective.value_and_grad(whitening.to_theta(u + eps * v))[0]
        minus = objective.value_and_grad(whitening.to_theta(u - eps * v))[0]
        assert (plus - minus) / (2 * eps) == pytest.approx(analytic @ v, rel=1e-6)


def test_wide_sparse_fits_reach_the_optimum_in_far_fewer_passes(monkeypatch):
    X, y = wide_sparse_problem()
    # What the diagonal whitening buys alone: no restart in curvature coordinates,
    # which on these 3 000 features would make up for part of it.
    monkeypatch.setattr(LinearObjective, "curvature_whitening_cost", np.inf)
    with count_passes() as diagonal:
        scaled = RegLogisticClassifier(tol=1e-7).fit(X, y)
    monkeypatch.setattr(DiagonalWhitening, "from_variances", classmethod(lambda cls, *_: None))
    with count_passes() as plain:
        unscaled = RegLogisticClassifier(tol=1e-7).fit(X, y)
    assert scaled.loss_ == pytest.approx(unscaled.loss_, rel=1e-9)
    # Measured 14 against 47 passes (text-like 50 000 x 20 000: 10 against 128).
    assert 3 * diagonal.passes <= plain.passes
    dense = RegLogisticClassifier(tol=1e-7).fit(X.toarray(), y)  # one path for both layouts
    assert dense.loss_ == pytest.approx(scaled.loss_, rel=1e-9)


@pytest.mark.parametrize("solver", ["lbfgs", "tnc", "cg", "newton-cg"])
def test_a_start_whose_evaluation_is_known_costs_no_pass(solver):
    # scipy evaluates J first at its start u = T⁻¹θ0, which maps back to θ0 only to
    # rounding: a warm start (a λ path's) must not pay a pass for it.
    X, _, Y, weights = correlated_problem("sigmoid")
    objective = LinearObjective(X, Y, weights, 0.5, "sigmoid")
    whitening = objective.whitening()
    theta0 = np.random.default_rng(2).normal(size=objective.n_params)
    assert not np.array_equal(whitening.to_theta(whitening.from_theta(theta0)), theta0)
    evaluated = []

    def value_and_grad(theta):
        evaluated.append(theta.copy())
        return objective.value_and_grad(theta)

    outcome = minimize(
        value_and_grad,
        theta0,
        solver=solver,
        max_iter=200,
        tol=1e-6,
        hessp=objective.hessp,
        coordinates=whitening,
        known=(theta0, *objective.value_and_grad(theta0)),
    )
    assert outcome.converged
    assert evaluated
    assert not any(np.allclose(theta, theta0, rtol=1e-12, atol=0) for theta in evaluated)
