"""The checks of fit's inputs: one message per problem, in memory and on Dask arrays.

Each bad input gets a ValueError naming the real problem, the same on both paths, and
leaves a previous fit exactly as it was. Extreme but valid inputs (huge or tiny
weights, a huge penalty) give a finite model whose answer is checked against what J
says it must be.
"""

import copy
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier
from sklearn_nn._solver_options import LINEAR_SOLVERS, SOLVERS
from sklearn_nn._validation import class_weight_factors

ESTIMATORS = [RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier]


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def overlapping(n_samples=300, seed=0):
    """3 features, 3 classes drawn from a softmax model: a finite unpenalised optimum."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 3))
    Z = X @ np.array([[1.0, -0.5, 0.0], [0.0, 1.0, -1.0], [0.5, 0.0, 0.5]])
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=(n_samples, 1))).sum(axis=1)
    return X, y


def make(cls, **params):
    if cls is TwoLayerMLPClassifier:
        params = {"hidden_layer_size": 4, "random_state": 0, **params}
    return cls(**{"max_iter": 300, "tol": 1e-4, **params})


def parameters(model):
    if hasattr(model, "coefs_"):
        return [*model.coefs_, *model.intercepts_]
    return [model.coef_, model.intercept_]


def assert_same_state(model, snapshot):
    assert vars(model).keys() == snapshot.keys()
    for key, value in snapshot.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(vars(model)[key], value, strict=True)
        elif isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            for a, b in zip(vars(model)[key], value, strict=True):
                np.testing.assert_array_equal(a, b, strict=True)
        else:
            assert vars(model)[key] == value, key


def _weights(values):
    return lambda X, y: np.asarray(values(y), dtype=float)


# name -> (estimator parameters, sample_weight(X, y) or None, X(X) or None, message)
BAD_INPUTS = {
    "NaN in X": ({}, None, lambda X: np.where(X > 2, np.nan, X), r"Input X contains NaN: X"),
    "infinity in X": (
        {},
        None,
        lambda X: np.where(X > 2, np.inf, X),
        r"Input X contains infinity: X must be finite",
    ),
    "NaN weight": (
        {},
        _weights(lambda y: np.where(np.arange(y.size) == 3, np.nan, 1.0)),
        None,
        r"Input sample_weight contains NaN: sample_weight must be finite",
    ),
    "infinite weight": (
        {},
        _weights(lambda y: np.where(np.arange(y.size) == 3, np.inf, 1.0)),
        None,
        r"Input sample_weight contains infinity",
    ),
    "negative weight": (
        {},
        _weights(lambda y: np.where(np.arange(y.size) == 3, -2.0, 1.0)),
        None,
        r"sample_weight must be non-negative; got minimum -2.0\.",
    ),
    "zero weights": ({}, _weights(lambda y: 0 * y), None, "zero for every sample"),
    "class without weight": (
        {},
        _weights(lambda y: (y != 1).astype(float)),
        None,
        r"positive total weight .*; class\(es\) \[1\] have zero",
    ),
    "infinite class_weight": (
        {"class_weight": {0: np.inf}},
        None,
        None,
        r"^class_weight must be finite; got inf for class 0\.$",
    ),
    "NaN class_weight": (
        {"class_weight": {2: np.nan}},
        None,
        None,
        r"^class_weight must be finite; got nan for class 2\.$",
    ),
    "negative class_weight": (
        {"class_weight": {1: -1.0}},
        None,
        None,
        r"^class_weight must be non-negative; got -1.0 for class 1\.$",
    ),
    "sample_weight x class_weight overflows": (
        {"class_weight": {0: 1e10}},
        _weights(lambda y: np.full(y.size, 1e300)),
        None,
        r"sample_weight × class_weight overflows float64 for class\(es\) \[0\]",
    ),
    "balanced totals overflow": (
        {"class_weight": "balanced"},
        _weights(lambda y: np.full(y.size, 1e308)),
        None,
        r"class_weight='balanced' divides by the total sample weight .* \[0, 1, 2\]",
    ),
    "subnormal weights against reg_lambda": (
        {},
        _weights(lambda y: np.full(y.size, 1e-310)),
        None,
        r"reg_lambda / max\(sample_weight\) = 1 / 1e-310 overflows float64",
    ),
}


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_one_clear_message_in_memory_and_on_dask(case, cls):
    params, make_weights, make_X, message = BAD_INPUTS[case]
    X, y = iris()
    weights = None if make_weights is None else make_weights(X, y)
    X_bad = X if make_X is None else make_X(X)

    model = make(cls, **params)
    with pytest.raises(ValueError, match=message) as in_memory:
        model.fit(X_bad, y, sample_weight=weights)
    assert not hasattr(model, "classes_")

    with dask.config.set(scheduler="synchronous"), pytest.raises(ValueError) as on_dask:
        chunks = (40, X.shape[1])
        dask_weights = None if weights is None else da.from_array(weights, chunks=40)
        make(cls, **params).fit(da.from_array(X_bad, chunks=chunks), y, dask_weights)
    assert str(on_dask.value) == str(in_memory.value)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_leaves_the_previous_fit_intact(case, cls):
    params, make_weights, make_X, message = BAD_INPUTS[case]
    X, y = iris()
    model = make(cls).fit(X, y)
    snapshot = copy.deepcopy(vars(model))
    model.set_params(**params)
    snapshot.update(params)
    with pytest.raises(ValueError, match=message):
        model.fit(
            X if make_X is None else make_X(X),
            y,
            sample_weight=None if make_weights is None else make_weights(X, y),
        )
    assert_same_state(model, snapshot)


def test_balanced_factors_are_scikit_learns_for_unit_weights():
    y = np.array([0, 0, 0, 1, 2, 2])
    classes = np.unique(y)
    factors = class_weight_factors("balanced", classes, np.bincount(y).astype(float))
    expected = compute_class_weight("balanced", classes=classes, y=y)
    np.testing.assert_allclose(factors, expected, rtol=1e-15)


# ----------------------------------------------------------------- the penalty
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("reg_lambda", [1e150, 1e300])
def test_network_refuses_a_penalty_beyond_its_limit(reg_lambda, solver):
    X, y = iris()
    net = make(TwoLayerMLPClassifier, reg_lambda=reg_lambda, solver=solver)
    with pytest.raises(ValueError, match=r"reg_lambda / sum\(sample_weight\) = .* above 1e\+90"):
        net.fit(X, y)
    # Tiny weights are the same penalty per unit of weight, and get the same answer.
    with pytest.raises(ValueError, match=r"reg_lambda / sum\(sample_weight\) = 6.67e\+297"):
        net.set_params(reg_lambda=1.0).fit(X, y, sample_weight=np.full(y.size, 1e-300))


def _fit_quietly(model, *args):
    # Under a penalty that leaves nothing of the data in J, ∇J's share from the data
    # cannot be driven below tol: a ConvergenceWarning is the honest outcome there.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args)


@pytest.mark.parametrize("solver", SOLVERS)
def test_network_below_the_limit_fits_weights_near_zero(solver):
    # Only W is asserted: under such a penalty the solvers no longer fit the output
    # intercepts to the class frequencies (see the user guide's differences section).
    X, y = iris()
    net = _fit_quietly(make(TwoLayerMLPClassifier, reg_lambda=1e80, solver=solver), X, y)
    assert all(np.all(np.isfinite(p)) for p in parameters(net))
    assert np.isfinite(net.loss_)
    assert max(np.abs(W).max() for W in net.coefs_) < 1e-30
    assert np.all(np.isfinite(net.predict_proba(X)))


@pytest.mark.parametrize("solver", LINEAR_SOLVERS)
@pytest.mark.parametrize("cls", [RegLogisticClassifier, SoftmaxClassifier])
def test_linear_models_under_a_huge_penalty_fit_the_intercepts_only(cls, solver):
    X, y = iris()
    weights = np.where(y == 0, 2.0, 1.0)  # class frequencies 1/2, 1/4, 1/4
    model = cls(reg_lambda=1e300, solver=solver, tol=1e-8, max_iter=100)
    model = _fit_quietly(model, X, y, weights)
    assert np.abs(model.coef_).max() < 1e-290
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, np.tile([0.5, 0.25, 0.25], (y.size, 1)), atol=1e-7)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_subnormal_weights_without_penalty_fit_as_unit_weights(cls):
    # λ = 0: J depends on the weights only through their ratios, all equal here.
    X, y = overlapping()
    # The network is given a small penalty-free budget: it need not converge, only
    # follow the same path on the same J.
    budget = {"max_iter": 40, "tol": 1e-3} if cls is TwoLayerMLPClassifier else {"tol": 1e-8}
    unit = _fit_quietly(make(cls, reg_lambda=0.0, **budget), X, y)
    tiny = make(cls, reg_lambda=0.0, **budget)
    _fit_quietly(tiny, X, y, np.full(y.size, 1e-310))
    np.testing.assert_allclose(tiny.predict_proba(X), unit.predict_proba(X), atol=1e-7)


def test_huge_hidden_layer_is_refused_by_name():
    X, y = iris()
    net = TwoLayerMLPClassifier(4, random_state=0).fit(X, y)
    snapshot = copy.deepcopy(vars(net))
    with pytest.raises(ValueError, match=r"hidden_layer_size=4611686018427387904 is too large"):
        net.set_params(hidden_layer_size=2**62).fit(X, y)
    snapshot["hidden_layer_size"] = 2**62
    assert_same_state(net, snapshot)


# ------------------------------------------------------ the symmetric softmax
def _softmax_J(model, X, y, reg_lambda):
    """J of the stored parameters, computed here from scratch."""
    Z = X @ model.coef_.T + model.intercept_
    Z -= Z.max(axis=1, keepdims=True)
    log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    data = -log_p[np.arange(y.size), y].sum()
    return (data + 0.5 * reg_lambda * np.sum(model.coef_**2)) / y.size


@pytest.mark.parametrize("solver", LINEAR_SOLVERS)
def test_softmax_returns_the_symmetric_solution(solver):
    X, y = iris()
    reg_lambda = 1 / 150
    model = SoftmaxClassifier(reg_lambda=reg_lambda, solver=solver, tol=1e-6, max_iter=2000)
    model.fit(X, y)

    scale = np.abs(model.coef_).max()
    np.testing.assert_allclose(model.coef_.sum(axis=0), 0, atol=1e-12 * scale)
    np.testing.assert_allclose(model.intercept_.sum(), 0, atol=1e-12 * scale)
    # loss_ is J at the stored (centred) parameters, and the curve ends there.
    assert model.loss_ == pytest.approx(_softmax_J(model, X, y, reg_lambda), rel=1e-12)
    assert model.loss_curve_[-1] == model.loss_
    # Any other representative of the same probabilities has a larger J.
    shifted = copy.deepcopy(model)
    shifted.coef_ = model.coef_ + 0.01
    np.testing.assert_allclose(shifted.predict_proba(X), model.predict_proba(X), rtol=1e-10)
    assert _softmax_J(shifted, X, y, reg_lambda) > model.loss_
    # The unique minimiser: scikit-learn's at C = 1/λ.
    reference = LogisticRegression(C=1 / reg_lambda, tol=1e-12, max_iter=10_000).fit(X, y)
    # (iris is nearly separable: the optimum is flat, tol = 1e-6 leaves ~1e-3 in W)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-3 * scale)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-3 * scale)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("solver", LINEAR_SOLVERS)
def test_unpenalised_softmax_is_scikit_learns_symmetric_solution(solver):
    # Overlapping classes: the unpenalised optimum is finite, and only the symmetric
    # representative makes it unique.
    X, y = overlapping()
    model = SoftmaxClassifier(reg_lambda=0.0, solver=solver, tol=1e-8, max_iter=5000)
    model.fit(X, y)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(reference.coef_.sum(axis=0), 0, atol=1e-8)
    np.testing.assert_allclose(model.coef_.sum(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize("cls", [RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier])
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize(("value", "message"), [(np.nan, "NaN"), (-np.inf, "infinity")])
@pytest.mark.parametrize("layout", ["C", "F", "csr", "float32"])
def test_non_finite_x_in_prediction_is_refused(cls, binary, value, message, layout):
    # The linear models test X's finiteness through their logits where every feature
    # has a nonzero weight, else X itself (a BLAS may skip zero weights); so does the
    # network, whose saturating units could map an infinity to a finite logit.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = y == 0 if binary else y
    model = cls(tol=1e-3).fit(X, y)
    X_bad = X[:5].copy()
    X_bad[3, 2] = value
    X_bad = {
        "C": X_bad,
        "F": np.asfortranarray(X_bad),
        "csr": sp.csr_matrix(X_bad),
        "float32": X_bad.astype(np.float32),
    }[layout]
    for zero_weight in [False, True] if cls is not TwoLayerMLPClassifier else [False]:
        if zero_weight:
            model.coef_[:, 2] = 0.0
        for method in ["predict", "predict_proba", "predict_log_proba", "decision_function"]:
            with pytest.raises(ValueError, match=message):
                getattr(model, method)(X_bad)
