"""Property-based tests: whatever a user feeds ``fit``, no NaN, no crash, no side effect.

For every estimator, hypothesis draws a data set (1-60 rows, 1-20 features, values
from 0 and subnormals to ±1e150, constant, duplicated, offset and mixed-magnitude
columns, duplicated rows, float64 or float32), labels (1-6 classes of ints, strings,
booleans, mixed-sign numbers or integral floats, or non-integral floats that are
no classes at all), sample and class weights (none, scalars, subnormal to 1e308,
zeros, negatives, NaN and infinity) and the estimator's parameters (every solver the
estimator offers, λ from 0 to 1e300, a small ``max_iter``). The invariant:

* ``fit`` succeeds, or raises ``ValueError``/``TypeError`` whose message names the
  problem (one of ``EXPECTED_ERRORS``);
* after success, ``predict_proba`` is finite, in [0, 1], rows summing to 1 within
  1e-12; ``decision_function``, ``loss_``, ``loss_curve_`` and every fitted
  parameter are finite; ``predict`` returns labels from ``classes_``;
* no warning escapes other than :class:`~sklearn.exceptions.ConvergenceWarning`
  (legitimate on such data, and at most one per fit): a ``RuntimeWarning`` from an
  overflow, a division by zero or an invalid value fails the test;
* the caller's X, y, sample_weight and class_weight are unchanged.

The number of examples comes from the hypothesis profile (tests/conftest.py):
``default`` runs 340 per estimator, ``nightly`` 2000.
"""

import contextlib
import copy
import re
import signal
import threading
import warnings

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier
from sklearn_nn._solver_options import LINEAR_SOLVERS, SOLVERS

# Magnitudes of a column: exact zero, the smallest subnormal, tiny, ordinary, huge.
SCALES_64 = (0.0, 5e-324, 1e-300, 1e-150, 1e-30, 1e-8, 1.0, 1e8, 1e30, 1e100, 1e150)
# float32 stops at ~3.4e38 and its subnormals at ~1.4e-45.
SCALES_32 = (0.0, 1e-45, 1e-38, 1e-20, 1e-8, 1.0, 1e8, 1e20, 1e30)
COLUMN_KINDS = (
    "uniform",  # scale · U(-1, 1)
    "offset",  # scale · (1 + 0.01 · U(-1, 1)): far from 0, nearly constant
    "positive",  # scale · U(0, 1)
    "log",  # ±10^U(lo, hi): tiny and huge entries in one column
    "constant",  # one value in every row
    "duplicate",  # a copy of an earlier column
    "integer",  # small integers, as from a categorical encoding
    "mostly-zero",  # zeros with a few non-zero entries
)
LABEL_KINDS = ("int", "str", "bool", "signed", "integral-float", "continuous")

# A failed fit must say what is wrong with the input, in words a user can act on.
EXPECTED_ERRORS = [
    r"needs samples of at least 2 classes",  # one class in y
    r"Unknown label type: continuous",  # y holds non-integral floats
    r"sample_weight must be non-negative",
    r"sample_weight is zero for every sample",
    r"Every class needs a positive total weight",  # zero/negative class_weight
    r"The classes, .* are not in class_weight",  # class_weight keys unlike classes_
    r"early_stopping could not hold out",  # too few rows to split off a held-out set
    r"Input (X|sample_weight) contains (NaN|infinity): ",
    r"class_weight must be (finite|non-negative); got .* for class",
    r"sample_weight × class_weight overflows float64 for class",
    r"class_weight='balanced' divides by the total sample weight",
    r"reg_lambda / max\(sample_weight\) = .* overflows float64",  # weights tiny against λ
    r"reg_lambda / sum\(sample_weight\) = .* is above",  # the network's limit
    r"Input X has features of magnitude up to .* Scale the features",
    r"The labels in y mix types",
]


@st.composite
def feature_matrices(draw):
    """An (n, d) array of the shape, column kinds, magnitudes and duplicates drawn.

    Hypothesis draws the structure (shape, dtype, which column kinds and magnitudes
    occur, how many rows are duplicated) and shrinks it; a seeded generator fills in
    the numbers, which keeps an example at ~15 draws instead of ~100.
    """
    n_samples = draw(st.integers(1, 60))
    n_features = draw(st.integers(1, 20))
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32]))
    scales = SCALES_64 if dtype == np.float64 else SCALES_32
    kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=4, unique=True))
    magnitudes = draw(st.lists(st.sampled_from(scales), min_size=1, max_size=3, unique=True))
    n_duplicated = draw(st.integers(0, n_samples - 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    event(f"dtype: {np.dtype(dtype).name}")
    X = np.empty((n_samples, n_features))
    for j in range(n_features):
        kind = kinds[rng.integers(len(kinds))]
        scale = magnitudes[rng.integers(len(magnitudes))]
        if kind == "uniform":
            X[:, j] = scale * rng.uniform(-1, 1, n_samples)
        elif kind == "offset":
            X[:, j] = scale * (1 + 0.01 * rng.uniform(-1, 1, n_samples))
        elif kind == "positive":
            X[:, j] = scale * rng.uniform(0, 1, n_samples)
        elif kind == "log":
            top = np.log10(scales[-1])
            exponents = rng.uniform(-top, top, n_samples)
            X[:, j] = rng.choice([-1.0, 1.0], n_samples) * 10.0**exponents
        elif kind == "constant":
            X[:, j] = scale
        elif kind == "duplicate" and j > 0:
            X[:, j] = X[:, rng.integers(j)]
        elif kind == "integer":
            X[:, j] = rng.integers(-3, 4, n_samples)
        else:
            X[:, j] = np.where(rng.uniform(size=n_samples) < 0.1, scale, 0.0)
    if n_duplicated:
        targets = rng.choice(n_samples, n_duplicated, replace=False)
        X[targets] = X[rng.integers(0, n_samples, n_duplicated)]
    return X.astype(dtype)


@st.composite
def labels(draw, n_samples):
    """y of one label kind, 1-6 classes in random proportions (some may be absent)."""
    kind = draw(st.sampled_from(LABEL_KINDS))
    n_classes = draw(st.integers(1, 2 if kind == "bool" else 6))
    if kind == "int":
        values = draw(st.lists(st.integers(0, 10**9), min_size=n_classes, unique=True))
    elif kind == "str":
        values = draw(st.lists(st.text(max_size=4), min_size=n_classes, unique=True))
    elif kind == "bool":
        values = [False, True]
    elif kind == "signed":
        values = draw(st.lists(st.integers(-5, 5), min_size=n_classes, unique=True))
    elif kind == "integral-float":
        integers = draw(st.lists(st.integers(-5, 5), min_size=n_classes, unique=True))
        values = [float(v) for v in integers]
    else:
        fractional = st.floats(-10, 10).filter(lambda v: v != int(v))
        values = draw(st.lists(fractional, min_size=n_classes, unique=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    proportions = rng.dirichlet(np.ones(n_classes))
    y = np.array(values[:n_classes])[rng.choice(n_classes, n_samples, p=proportions)]
    event(f"labels: {kind}")
    # A Python list is as common an input as an array.
    return y.tolist() if draw(st.booleans()) else y


@st.composite
def sample_weights(draw, n_samples):
    kinds = ["none", "none", "scalar", "array", "integers", "zeros", "negative", "non-finite"]
    kind = draw(st.sampled_from(kinds))
    event(f"sample_weight: {kind}")
    if kind == "none":
        return None
    if kind == "scalar":
        return draw(st.sampled_from([0.0, 1e-310, 1e-8, 0.5, 3.0, 1e8, 1e300, np.inf, np.nan]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # From subnormal (where λ / max(s) overflows) to the largest floats (where sums do).
    scale = draw(st.sampled_from([1e-310, 1e-300, 1e-150, 1e-8, 1.0, 1e8, 1e150, 1e308]))
    weights = scale * rng.uniform(0, 1, n_samples)
    if kind == "integers":
        weights = rng.integers(0, 4, n_samples).astype(float)
    elif kind == "zeros":
        weights[rng.uniform(size=n_samples) < 0.5] = 0.0
    elif kind == "negative":
        weights[rng.integers(n_samples)] = -scale
    elif kind == "non-finite":
        weights[rng.integers(n_samples)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return weights if draw(st.booleans()) else weights.tolist()


@st.composite
def class_weights(draw, y):
    kind = draw(st.sampled_from(["none", "none", "balanced", "dict"]))
    event(f"class_weight: {kind}")
    if kind == "none":
        return None
    if kind == "balanced":
        return "balanced"
    classes = np.unique(np.asarray(y)).tolist()
    chosen = draw(st.lists(st.sampled_from(classes), unique=True, max_size=len(classes)))
    weight = st.sampled_from(
        [0.0, 1e-320, 1e-10, 0.5, 1.0, 3.0, 1e10, 1e300, -1.0, np.inf, np.nan]
    )
    class_weight = {label: draw(weight) for label in chosen}
    if draw(st.integers(0, 9)) == 0:
        class_weight["not a class"] = 1.0
    return class_weight


def common_params(draw, estimator_class):
    params = {
        "solver": draw(
            st.sampled_from(
                sorted(SOLVERS if estimator_class is TwoLayerMLPClassifier else LINEAR_SOLVERS)
            )
        ),
        "reg_lambda": draw(st.sampled_from([0.0, 1e-8, 1e-3, 1.0, 1e3, 1e8, 1e30, 1e100, 1e300])),
        "tol": draw(st.sampled_from([1e-8, 1e-5, 1e-2])),
        "max_iter": draw(st.integers(1, 25)),
        "warm_start": draw(st.booleans()),
    }
    event(f"solver: {params['solver']}")
    if estimator_class is TwoLayerMLPClassifier:
        params.update(
            hidden_layer_size=draw(st.integers(1, 4)),
            activation=draw(st.sampled_from(["sigmoid", "tanh", "relu"])),
            output=draw(st.sampled_from(["softmax", "sigmoid"])),
            early_stopping=draw(st.integers(0, 7)) == 0,
            validation_fraction=0.25,
            n_iter_no_change=3,
            random_state=draw(st.integers(0, 2**32 - 1)),
            max_iter=draw(st.integers(1, 15)),
        )
    return params


@st.composite
def problems(draw, estimator_class):
    X = draw(feature_matrices())
    y = draw(labels(X.shape[0]))
    sample_weight = draw(sample_weights(X.shape[0]))
    params = common_params(draw, estimator_class)
    params["class_weight"] = draw(class_weights(y))
    return estimator_class(**params), X, y, sample_weight


def _finite_params(estimator):
    if hasattr(estimator, "coefs_"):
        arrays = [*estimator.coefs_, *estimator.intercepts_]
    else:
        arrays = [estimator.coef_, estimator.intercept_]
    return all(np.all(np.isfinite(a)) for a in arrays)


# A fit here takes milliseconds (max_iter ≤ 25 on ≤ 60 × 20 data). One that runs for
# seconds is stuck -- scipy's trust-ncg, for one, loops forever on a NaN Hessian
# product -- and must fail the test, not hang `make test`.
FIT_TIME_LIMIT = 10.0


class FitTimeout(AssertionError):
    """A fit (and its predictions) ran longer than FIT_TIME_LIMIT seconds."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise FitTimeout in the block after ``seconds`` (POSIX main thread; else no limit)."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum, frame):
        raise FitTimeout(f"fit still running after {seconds} s: an endless loop?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_fit_invariant(estimator, X, y, sample_weight):
    originals = copy.deepcopy((X, y, sample_weight, estimator.class_weight))
    with warnings.catch_warnings(record=True) as caught, time_limit(FIT_TIME_LIMIT):
        # Every warning is recorded (not raised, so that a fit cannot be cut short
        # by one); then anything but a ConvergenceWarning fails the test.
        warnings.simplefilter("always")
        try:
            estimator.fit(X, y, sample_weight=sample_weight)
            if estimator.warm_start:
                estimator.fit(X, y, sample_weight=sample_weight)
            error = None
        except (ValueError, TypeError) as exc:
            error = exc
        if error is None:
            proba = estimator.predict_proba(X)
            decision = estimator.decision_function(X)
            predicted = estimator.predict(X)
    unexpected = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert not unexpected, [
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in unexpected
    ]
    # One fit warns at most once (twice with the warm-started second fit).
    assert len(caught) <= (2 if estimator.warm_start else 1), [str(w.message) for w in caught]

    # The caller's inputs are untouched, whatever happened.
    for before, after in zip(
        originals, (X, y, sample_weight, estimator.class_weight), strict=True
    ):
        if isinstance(before, np.ndarray):
            assert after.dtype == before.dtype
            np.testing.assert_array_equal(after, before, strict=True)
        else:
            np.testing.assert_equal(after, before)  # NaN weights equal themselves here

    if error is not None:
        event(f"error: {type(error).__name__}")
        message = str(error)
        assert any(re.search(pattern, message) for pattern in EXPECTED_ERRORS), (
            f"{type(error).__name__} does not name the problem: {message}"
        )
        return
    event("fitted")
    n_classes = estimator.classes_.size
    np.testing.assert_array_equal(estimator.classes_, np.unique(np.asarray(y)))
    assert proba.shape == (len(X), n_classes)
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    # float32 X gives float32 probabilities (as in scikit-learn), which sum to one
    # to float32 rounding only.
    atol = 1e-12 if proba.dtype == np.float64 else 10 * np.finfo(np.float32).eps
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=atol)
    assert decision.shape == ((len(X),) if n_classes == 2 else (len(X), n_classes))
    assert np.all(np.isfinite(decision))
    assert np.isin(predicted, estimator.classes_).all()
    assert np.isfinite(estimator.loss_)
    assert np.all(np.isfinite(estimator.loss_curve_))
    assert _finite_params(estimator)


@pytest.mark.parametrize(
    "estimator_class", [RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier]
)
@given(data=st.data())
def test_fit_on_arbitrary_input_is_finite_or_a_clear_error(estimator_class, data):
    estimator, X, y, sample_weight = data.draw(problems(estimator_class))
    check_fit_invariant(estimator, X, y, sample_weight)
