"""Atomic fits, determinism and thread safety.

Atomic fits: an exception or a KeyboardInterrupt at any point of ``fit`` (input
validation, the first evaluation of J, inside scipy's optimizer, while the fitted
attributes are written) leaves a fitted estimator exactly as it was -- same
``__dict__`` keys, equal arrays of the same dtype, nothing modified in place -- and
a fresh estimator unfitted; the KeyboardInterrupt reaches the caller.

Determinism: the same ``random_state`` gives bit-identical parameters, fit after
fit and in ``GridSearchCV`` run serially or in two processes. Thread safety: one
fitted estimator predicts from 8 threads at once exactly what it predicts serially.

Sample weights: the network fitted with integer weights (and balanced class weights)
predicts what it predicts fitted on the repeated rows, and zero weights what it
predicts on the rows dropped, in the configurations where the two fits agree to
rounding.
"""

import copy
import itertools
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from helpers import fitted_arrays
from sklearn.base import clone
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

import sklearn_nn._optimize
from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier
from sklearn_nn._solver_options import SOLVERS

SOLVER_NAMES = sorted(SOLVERS)
CLASSES = [RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier]


def make_estimator(cls, **params):
    if cls is TwoLayerMLPClassifier:
        params = {"hidden_layer_size": 4, "random_state": 0, **params}
    return cls(**params)


# ---------------------------------------------------------------- exact state
def assert_identical(before, after, path="state"):
    """Assert that two attribute values are equal in type, dtype, shape and every bit."""
    assert type(after) is type(before), f"{path}: {type(before)} became {type(after)}"
    if isinstance(before, np.ndarray):
        assert after.dtype == before.dtype and after.shape == before.shape, path
        if before.dtype.kind == "O":
            assert before.tolist() == after.tolist(), path
        else:
            assert before.tobytes() == after.tobytes(), f"{path}: values changed"
    elif isinstance(before, list | tuple):
        assert len(after) == len(before), path
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_identical(b, a, f"{path}[{i}]")
    elif isinstance(before, dict):
        assert after.keys() == before.keys(), f"{path}: keys changed"
        for key in before:
            assert_identical(before[key], after[key], f"{path}[{key!r}]")
    elif isinstance(before, float) and np.isnan(before):
        assert np.isnan(after), path
    elif isinstance(before, str | int | float | bool | type(None)):
        assert after == before, f"{path}: {before!r} became {after!r}"
    else:  # e.g. a RandomState given as random_state
        assert pickle.dumps(after) == pickle.dumps(before), path


def assert_same_state(estimator, snapshot):
    assert sorted(vars(estimator)) == sorted(snapshot), "the attributes differ"
    assert_identical(snapshot, vars(estimator), type(estimator).__name__)


# ----------------------------------------------------------- failure injection
class Boom(Exception):
    """An error from deep inside a fit."""


def raise_during_optimisation(monkeypatch, exception, after=3):
    """Make scipy's minimize raise ``exception`` at its ``after``-th evaluation of J."""
    real_minimize = sklearn_nn._optimize.scipy_minimize

    def minimize(fun, x0, *args, **kwargs):
        evaluations = itertools.count(1)

        def failing_fun(theta):
            if next(evaluations) >= after:
                raise exception
            return fun(theta)

        return real_minimize(failing_fun, x0, *args, **kwargs)

    monkeypatch.setattr(sklearn_nn._optimize, "scipy_minimize", minimize)


def raise_at_first_evaluation(monkeypatch, cls, exception):
    """Make the objective's value_and_grad raise on its first call (before scipy runs)."""
    real_objective = cls._objective

    def objective(self, *args, **kwargs):
        built = real_objective(self, *args, **kwargs)

        def value_and_grad(theta):
            raise exception

        built.value_and_grad = value_and_grad
        return built

    monkeypatch.setattr(cls, "_objective", objective)


def raise_while_storing(monkeypatch, cls, exception):
    """Write the new parameters, then raise: a half-written fitted state."""
    real_store = cls._store_params

    def store(self, *args, **kwargs):
        real_store(self, *args, **kwargs)
        raise exception

    monkeypatch.setattr(cls, "_store_params", store)


PHASES = ["first evaluation", "optimisation", "storing"]


def inject(phase, monkeypatch, cls, exception):
    if phase == "first evaluation":
        raise_at_first_evaluation(monkeypatch, cls, exception)
    elif phase == "optimisation":
        raise_during_optimisation(monkeypatch, exception)
    else:
        raise_while_storing(monkeypatch, cls, exception)


def first_data():
    """3 features with column names (so feature_names_in_ is set), 3 classes."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X[:, :3])
    return pd.DataFrame(X, columns=["a", "b", "c"]), y


def second_data():
    """Different everything: 5 unnamed features, string labels, 2 classes."""
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X[:, :5])
    return X, np.where(y == 0, "first", "other")


# -------------------------------------------------------------- atomic fits
@pytest.mark.parametrize("exception", [Boom("injected"), KeyboardInterrupt()], ids=repr)
@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("cls", CLASSES)
def test_failed_refit_keeps_the_previous_fit_exactly(
    cls, warm_start, phase, exception, monkeypatch
):
    X_first, y_first = first_data()
    estimator = make_estimator(cls, warm_start=warm_start).fit(X_first, y_first)
    snapshot = copy.deepcopy(vars(estimator))
    proba = estimator.predict_proba(X_first)
    assert hasattr(estimator, "feature_names_in_")

    # With warm_start, refit on half the rows (the previous weights seed the
    # failing fit); otherwise on data of another shape, labels and feature names.
    X_second, y_second = (X_first[::2], y_first[::2]) if warm_start else second_data()
    inject(phase, monkeypatch, cls, exception)
    with pytest.raises(type(exception)):
        estimator.fit(X_second, y_second)

    assert_same_state(estimator, snapshot)
    monkeypatch.undo()
    np.testing.assert_array_equal(estimator.predict_proba(X_first), proba, strict=True)


@pytest.mark.parametrize("cls", CLASSES)
def test_refit_rejected_by_validation_keeps_the_previous_fit_exactly(cls):
    # validate_data resets n_features_in_ and feature_names_in_ before it looks
    # for NaN: the restore must undo that too.
    X_first, y_first = first_data()
    estimator = make_estimator(cls).fit(X_first, y_first)
    snapshot = copy.deepcopy(vars(estimator))
    X_bad = pd.DataFrame(np.full((6, 5), np.nan), columns=list("vwxyz"))
    with pytest.raises(ValueError, match="NaN"):
        estimator.fit(X_bad, [0, 1] * 3)
    with pytest.raises(ValueError, match=r"positive total weight|non-negative"):
        estimator.fit(X_first.iloc[:, :2], y_first, sample_weight=-np.ones(len(y_first)))
    assert_same_state(estimator, snapshot)


@pytest.mark.parametrize("exception", [Boom("injected"), KeyboardInterrupt()], ids=repr)
@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("cls", CLASSES)
def test_failed_first_fit_leaves_the_estimator_unfitted(cls, phase, exception, monkeypatch):
    estimator = make_estimator(cls)
    unfitted = copy.deepcopy(vars(estimator))
    inject(phase, monkeypatch, cls, exception)
    with pytest.raises(type(exception)):
        estimator.fit(*first_data())
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)
    assert_same_state(estimator, unfitted)
    with pytest.raises(NotFittedError):
        estimator.predict(first_data()[0])


@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("cls", CLASSES)
def test_keyboard_interrupt_inside_every_solver_reaches_the_caller(cls, solver, monkeypatch):
    # Each scipy method calls J from its own loop (TNC from C code): the
    # interrupt must come out of all of them, not be turned into a stop or a warning.
    estimator = make_estimator(cls, solver=solver)
    raise_during_optimisation(monkeypatch, KeyboardInterrupt(), after=4)
    with pytest.raises(KeyboardInterrupt):
        estimator.fit(*first_data())
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


# -------------------------------------------------------------- determinism
# Short runs that may stop at max_iter: bit-identity must hold on any path.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("cls", CLASSES)
def test_same_random_state_gives_bit_identical_parameters(cls, solver):
    X, y = first_data()
    first = make_estimator(cls, solver=solver, max_iter=60, tol=1e-3).fit(X, y)
    again = clone(first).fit(X, y)
    refit = first.fit(X, y)  # the same object, fitted once more
    reference = [a.copy() for a in fitted_arrays(again)]
    for other in (first, refit):
        for a, b in zip(fitted_arrays(other), reference, strict=True):
            assert a.tobytes() == b.tobytes()
    assert first.loss_curve_ == again.loss_curve_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_network_depends_on_random_state_only(solver):
    X, y = first_data()
    net = TwoLayerMLPClassifier(hidden_layer_size=4, solver=solver, max_iter=30, tol=1e-3)
    a = clone(net).set_params(random_state=1).fit(X, y)
    b = clone(net).set_params(random_state=np.random.RandomState(1)).fit(X, y)
    c = clone(net).set_params(random_state=2).fit(X, y)
    for W_a, W_b in zip(fitted_arrays(a), fitted_arrays(b), strict=True):
        assert W_a.tobytes() == W_b.tobytes()
    assert a.coefs_[0].tobytes() != c.coefs_[0].tobytes()


@pytest.mark.parametrize("cls", CLASSES)
def test_grid_search_is_identical_serial_and_in_two_processes(cls):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    grid = {"reg_lambda": [0.01, 1.0, 30.0], "solver": ["lbfgs", "tnc"]}
    searches = [
        GridSearchCV(make_estimator(cls, max_iter=100, tol=1e-4), grid, cv=3, n_jobs=n_jobs).fit(
            X, y
        )
        for n_jobs in (1, 2)
    ]
    serial, parallel = searches
    assert serial.best_params_ == parallel.best_params_
    for key in ["mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score"]:
        assert serial.cv_results_[key].tobytes() == parallel.cv_results_[key].tobytes(), key
    assert serial.cv_results_["params"] == parallel.cv_results_["params"]
    for a, b in zip(
        fitted_arrays(serial.best_estimator_), fitted_arrays(parallel.best_estimator_), strict=True
    ):
        assert a.tobytes() == b.tobytes()


# ------------------------------------------------------------ thread safety
@pytest.mark.parametrize("cls", CLASSES)
def test_one_estimator_predicts_the_same_from_8_threads(cls):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    estimator = make_estimator(cls, max_iter=200).fit(X, y)
    snapshot = copy.deepcopy(vars(estimator))
    rng = np.random.default_rng(0)
    # Large enough that the threads' BLAS calls and ufuncs overlap in time.
    X_many = rng.standard_normal((20_000, 4))
    expected = (
        estimator.predict_proba(X_many),
        estimator.decision_function(X_many),
        estimator.predict(X_many),
    )
    start = threading.Barrier(8)

    def predict(_):
        start.wait()
        return [
            (
                estimator.predict_proba(X_many),
                estimator.decision_function(X_many),
                estimator.predict(X_many),
            )
            for _ in range(3)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(predict, range(8)))
    for per_thread in results:
        for proba, decision, labels in per_thread:
            assert proba.tobytes() == expected[0].tobytes()
            assert decision.tobytes() == expected[1].tobytes()
            np.testing.assert_array_equal(labels, expected[2], strict=True)
    assert_same_state(estimator, snapshot)


# Weighted ≡ repeated rows for the network: configurations whose fits on the data of
# scikit-learn's sample-weight check agree to rounding (the others split, see
# test_common.py and the user guide, section 13).
EQUIVALENT_NETWORKS = [
    {"activation": "sigmoid", "output": "softmax", "solver": "lbfgs"},
    {"activation": "tanh", "output": "sigmoid", "solver": "lbfgs"},
    {"activation": "sigmoid", "output": "sigmoid", "solver": "trust-ncg"},
    {"activation": "tanh", "output": "softmax", "solver": "trust-ncg"},
    {"activation": "relu", "output": "sigmoid", "solver": "trust-ncg"},
    {"activation": "relu", "output": "softmax", "solver": "trust-krylov"},
]
#: Largest |Δ predict_proba| accepted: the sample-weight check's rtol=1e-7 on
#: probabilities of 0.02-0.9 is 2e-9 and more; the gaps measured are ≤ 2e-13.
EQUIVALENCE_ATOL = 1e-9


def _weight_check_data():
    """The data of scikit-learn's sample-weight check: 15 rows, 30 features, 3 classes."""
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    return X, rng.randint(0, 3, size=15), rng.randint(0, 5, size=15)


def _assert_same_network(weighted, repeated, X):
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=0, atol=EQUIVALENCE_ATOL
    )
    for ours, theirs in zip(
        weighted.coefs_ + weighted.intercepts_, repeated.coefs_ + repeated.intercepts_, strict=True
    ):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-7)


@pytest.mark.parametrize("params", EQUIVALENT_NETWORKS, ids=lambda p: "-".join(p.values()))
def test_network_balanced_integer_weights_equal_repeated_rows(params):
    X, y, counts = _weight_check_data()
    counts = np.maximum(counts, 1)
    network = TwoLayerMLPClassifier(random_state=0, class_weight="balanced", **params)
    weighted = clone(network).fit(X, y, sample_weight=counts)
    repeated = clone(network).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    _assert_same_network(weighted, repeated, X)


@pytest.mark.parametrize("params", EQUIVALENT_NETWORKS, ids=lambda p: "-".join(p.values()))
def test_network_zero_weights_equal_dropped_rows(params):
    X, y, weights = _weight_check_data()
    kept = weights > 0
    network = TwoLayerMLPClassifier(random_state=0, **params)
    weighted = clone(network).fit(X, y, sample_weight=weights.astype(float))
    dropped = clone(network).fit(X[kept], y[kept], sample_weight=weights[kept].astype(float))
    _assert_same_network(weighted, dropped, X)
