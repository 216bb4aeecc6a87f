"""Fitting and predicting on Dask arrays, and hyper-parameter searches on a Dask cluster.

The fits and searches run on one 2-worker ``LocalCluster`` (processes on loopback),
started once for the module and closed at its end (tests/conftest.py keeps the module
on one pytest-xdist worker, so one cluster). The maths of the distributed
objectives (value, gradient, Hessian products against the in-memory objectives)
and the input validation run on Dask's synchronous scheduler: they exercise the
same chunk functions, without the cluster's per-task latency.
"""

import concurrent.futures
import itertools
import subprocess
import sys
import warnings

import dask
import dask.array as da
import dask.distributed as distributed
import joblib
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from sklearn_nn import (
    RegLogisticClassifier,
    SoftmaxClassifier,
    TwoLayerMLPClassifier,
)
from sklearn_nn._objectives import LinearObjective, TwoLayerObjective

SOLVERS = ["lbfgs", "tnc", "cg", "newton-cg", "trust-ncg", "trust-krylov"]
CHUNK_ROWS = 16  # 60 rows -> 4 chunks, the last one shorter


@pytest.fixture(scope="module")
def client():
    # Worker processes get OMP/MKL/OPENBLAS_NUM_THREADS=1 from distributed's nanny.
    # Without a dashboard the scheduler still serves /metrics over HTTP, by default
    # on port 8787, and warns (an error here) when another cluster holds that port.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def make_data(n_classes, *, n_samples=60, n_features=3, seed=0):
    """Uncentred, unevenly scaled features; every class present; positive weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * [1.0, 2.0, 0.5][:n_features]
    X += [0.5, -1.0, 2.0][:n_features]
    y = np.arange(n_samples) % n_classes
    X[:, 0] += y  # learnable, not separable
    weights = rng.uniform(0.2, 3.0, size=n_samples)
    return X, y, weights


def chunked(*arrays):
    return [da.from_array(a, chunks=(CHUNK_ROWS, *a.shape[1:])) for a in arrays]


# ----------------------------------------------------- objectives (no cluster)
def indicator(y, head, n_classes):
    if head == "sigmoid" and n_classes == 2:
        return (y == 1).astype(float)[:, None]
    return (y[:, None] == np.arange(n_classes)).astype(float)


PROBLEMS = {"binary": ("sigmoid", 2), "one-vs-rest": ("sigmoid", 3), "softmax": ("softmax", 3)}


def assert_same_value_and_grad(distributed_, in_memory, theta):
    """The dask objective's J(θ) and ∇J(θ) are the in-memory ones to rounding."""
    value, grad = distributed_.value_and_grad(theta)
    expected_value, expected_grad = in_memory.value_and_grad(theta)
    assert value == pytest.approx(expected_value, rel=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-14)


@pytest.mark.usefixtures("synchronous")
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_linear_objective_equals_in_memory(problem):
    head, n_classes = PROBLEMS[problem]
    X, y, weights = make_data(n_classes)
    Y = indicator(y, head, n_classes)
    in_memory = LinearObjective(X, Y, weights, 0.7, head)
    distributed_ = LinearObjective(*chunked(X, Y, weights), 0.7, head)
    rng = np.random.default_rng(1)
    theta, v = rng.normal(size=(2, in_memory.n_params))

    assert_same_value_and_grad(distributed_, in_memory, theta)
    np.testing.assert_allclose(
        distributed_.hessp(theta, v), in_memory.hessp(theta, v), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(distributed_.centring.mean, in_memory.centring.mean, rtol=1e-14)
    # Both divide s and λ by the same power of two (an exact rescaling of J).
    assert distributed_.reg_lambda == in_memory.reg_lambda
    assert distributed_.weight_sum == pytest.approx(in_memory.weight_sum, rel=1e-15)
    W, b = in_memory.model_params(theta)
    np.testing.assert_allclose(distributed_.theta(W, b), theta, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(
        distributed_.logits(theta).compute(), in_memory.logits(theta), rtol=1e-13, atol=1e-14
    )
    # The coordinates lbfgs restarts in: the curvature blocks are one map-reduce.
    np.testing.assert_allclose(
        distributed_.curvature_whitening(theta).factors,
        in_memory.curvature_whitening(theta).factors,
        rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.usefixtures("synchronous")
def test_diagonal_whitening_of_wide_data_equals_in_memory():
    # 300 features on 60 rows: the covariance would cost more than it saves, and the
    # features' variances (one map-reduce) whiten instead.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 300)) * np.logspace(-2, 2, 300) + 1.0
    y = (X[:, 0] + rng.normal(size=60) > 1.0).astype(float)[:, None]
    weights = rng.uniform(0.2, 3.0, size=60)
    in_memory = LinearObjective(X, y, weights, 0.7, "sigmoid").whitening()
    distributed_ = LinearObjective(*chunked(X, y, weights), 0.7, "sigmoid").whitening()
    assert type(in_memory).__name__ == type(distributed_).__name__ == "DiagonalWhitening"
    np.testing.assert_allclose(distributed_.factor, in_memory.factor, rtol=1e-12)


@pytest.mark.usefixtures("synchronous")
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_network_objective_equals_in_memory(problem, activation):
    # ā, the mean hidden activation in the centred output intercepts, depends on θ:
    # its terms in the gradient and both Hessian products are reduced separately.
    head, n_classes = PROBLEMS[problem]
    X, y, weights = make_data(n_classes)
    Y = indicator(y, head, n_classes)
    args = (0.7, head, activation, 4)
    in_memory = TwoLayerObjective(X, Y, weights, *args)
    distributed_ = TwoLayerObjective(*chunked(X, Y, weights), *args)
    rng = np.random.default_rng(2)
    theta, v = rng.normal(size=(2, in_memory.n_params))

    assert_same_value_and_grad(distributed_, in_memory, theta)
    for hessian in ["exact", "gauss-newton"]:
        in_memory.hessian = distributed_.hessian = hessian
        np.testing.assert_allclose(
            distributed_.hessp(theta, v), in_memory.hessp(theta, v), rtol=1e-12, atol=1e-13
        )
    model = in_memory.model_params(theta)
    for got, expected in zip(distributed_.model_params(theta), model, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(distributed_.theta(*model), theta, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(
        distributed_.logits(theta).compute(), in_memory.logits(theta), rtol=1e-12, atol=1e-13
    )


@pytest.mark.usefixtures("synchronous")
def test_float32_objective_stays_float32_and_matches():
    X, y, weights = make_data(3)
    X32 = X.astype(np.float32)
    Y = indicator(y, "softmax", 3).astype(np.float32)
    in_memory = TwoLayerObjective(X32, Y, weights, 0.7, "softmax", "tanh", 4)
    distributed_ = TwoLayerObjective(*chunked(X32, Y, weights), 0.7, "softmax", "tanh", 4)
    theta = np.random.default_rng(3).normal(size=in_memory.n_params)

    value, grad = distributed_.value_and_grad(theta)
    expected_value, expected_grad = in_memory.value_and_grad(theta)

    assert grad.dtype == np.float64
    assert distributed_.rows.X.dtype == np.float32
    assert value == pytest.approx(expected_value, rel=1e-6)
    assert np.linalg.norm(grad - expected_grad) <= 1e-5 * np.linalg.norm(expected_grad)


@pytest.mark.usefixtures("synchronous")
@pytest.mark.parametrize("scale", [1e-50, 1e40, 1e300], ids=["tiny", "beyond-float32", "huge"])
def test_extreme_weights_are_scaled_as_in_memory(scale):
    # Weights outside float32's range are fine in memory (validated in float64,
    # divided by a power of two near their maximum before the cast to X's dtype):
    # the Dask path must neither refuse them nor overflow on them.
    X, y, weights = make_data(3)
    X32, weights = X.astype(np.float32), weights * scale
    Y = indicator(y, "softmax", 3).astype(np.float32)
    in_memory = LinearObjective(X32, Y, weights, 0.7, "softmax")
    distributed_ = LinearObjective(*chunked(X32, Y, weights), 0.7, "softmax")

    np.testing.assert_array_equal(
        distributed_.rows.sample_weight.compute(), in_memory.rows.sample_weight
    )
    assert distributed_.reg_lambda == in_memory.reg_lambda
    theta = np.random.default_rng(4).normal(size=in_memory.n_params)
    value, grad = distributed_.value_and_grad(theta)
    expected_value, expected_grad = in_memory.value_and_grad(theta)
    assert value == pytest.approx(expected_value, rel=1e-6)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-5, atol=1e-6)

    with warnings.catch_warnings():
        # J is resolved to ~1e-8 in float32: either fit may stop just above tol.
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = SoftmaxClassifier().fit(X32, y, weights)
        model = SoftmaxClassifier().fit(*chunked(X32, y, weights))
    assert model.loss_ == pytest.approx(expected.loss_, rel=1e-6)
    np.testing.assert_allclose(model.coef_, expected.coef_, atol=1e-3)


@pytest.mark.usefixtures("synchronous")
def test_chunks_without_rows_are_skipped():
    # Row filters leave empty chunks; the heads (a max over the logits) need rows.
    X, y, weights = make_data(3)
    rows = ((20, 0, 20, 20),)
    X_dask = da.from_array(X, chunks=(*rows, (3,)))
    y_dask, w_dask = (da.from_array(a, chunks=rows) for a in (y, weights))
    for model in [SoftmaxClassifier(tol=1e-8), TwoLayerMLPClassifier(3, random_state=0)]:
        expected = clone(model).fit(X, y, weights)
        model.fit(X_dask, y_dask, w_dask)
        assert model.loss_ == pytest.approx(expected.loss_, abs=1e-12)
        np.testing.assert_array_equal(model.predict(X_dask).compute(), expected.predict(X))


@pytest.mark.usefixtures("synchronous")
def test_fit_without_a_cluster_uses_dask_local_scheduler():
    X, y, weights = make_data(3)
    in_memory = SoftmaxClassifier(tol=1e-8).fit(X, y, weights)
    on_dask = SoftmaxClassifier(tol=1e-8).fit(*chunked(X, y, weights))

    assert on_dask.loss_ == pytest.approx(in_memory.loss_, abs=1e-12)
    np.testing.assert_allclose(on_dask.coef_, in_memory.coef_, atol=1e-7)


@pytest.mark.usefixtures("synchronous")
def test_numpy_labels_weights_integer_data_and_unaligned_chunks():
    X, y, weights = make_data(2)
    X_int = np.round(X * 10).astype(np.int64)
    expected = RegLogisticClassifier(tol=1e-8).fit(X_int, y, weights)
    X_dask = da.from_array(X_int, chunks=(CHUNK_ROWS, 3))
    unaligned = da.from_array(weights, chunks=25)

    with_numpy_y = RegLogisticClassifier(tol=1e-8).fit(X_dask, y, weights)
    with_unaligned = RegLogisticClassifier(tol=1e-8).fit(X_dask, da.from_array(y), unaligned)

    for model in [with_numpy_y, with_unaligned]:
        assert model.loss_ == pytest.approx(expected.loss_, abs=1e-12)
        np.testing.assert_allclose(model.coef_, expected.coef_, atol=1e-7)
        assert model.n_features_in_ == 3


@pytest.mark.usefixtures("synchronous")
@pytest.mark.parametrize("class_weight", ["balanced", {0: 2.0, 1: 0.5, 2: 1.0}])
def test_class_weight(class_weight):
    X, y, weights = make_data(3)
    expected = SoftmaxClassifier(class_weight=class_weight, tol=1e-8).fit(X, y, weights)
    model = SoftmaxClassifier(class_weight=class_weight, tol=1e-8).fit(*chunked(X, y, weights))

    assert model.loss_ == pytest.approx(expected.loss_, abs=1e-12)
    np.testing.assert_allclose(model.coef_, expected.coef_, atol=1e-7)


def _rows(X):
    return da.from_array(X, chunks=(CHUNK_ROWS, X.shape[1]))


INVALID_INPUTS = {
    "1-D X": (lambda X, y, w: (da.from_array(X[:, 0]), y, w), "2-D Dask array"),
    "column chunks": (lambda X, y, w: (da.from_array(X, chunks=(20, 1)), y, w), "rows only"),
    "complex X": (lambda X, y, w: (_rows(X + 1j), y, w), "Complex data"),
    "string X": (lambda X, y, w: (_rows(X.astype(str)), y, w), "must hold numbers"),
    "NaN in X": (lambda X, y, w: (_rows(np.where(X > 2, np.nan, X)), y, w), "NaN or infinity"),
    "infinite X": (lambda X, y, w: (_rows(np.where(X > 2, np.inf, X)), y, w), "NaN or infinity"),
    "unknown chunks": (lambda X, y, w: (_rows(X)[_rows(X)[:, 0] > -10], y, w), "unknown"),
    "short y": (lambda X, y, w: (_rows(X), y[:-1], w), r"y must have shape \(60,\)"),
    "2-D y": (lambda X, y, w: (_rows(X), y[:, None], w), r"y must have shape \(60,\)"),
    "one class": (lambda X, y, w: (_rows(X), np.zeros_like(y), w), "at least 2 classes"),
    "continuous y": (lambda X, y, w: (_rows(X), y + 0.5, w), "Unknown label type"),
    "negative weight": (lambda X, y, w: (_rows(X), y, -w), "non-negative"),
    "zero weights": (lambda X, y, w: (_rows(X), y, 0 * w), "zero for every sample"),
    "sparse chunks": (
        lambda X, y, w: (_rows(X).map_blocks(sparse.csr_matrix), y, w),
        "must be NumPy arrays",
    ),
    "NaN weight": (lambda X, y, w: (_rows(X), y, np.where(w > 2, np.nan, w)), "NaN or inf"),
    "complex weights": (lambda X, y, w: (_rows(X), y, w + 1j), "Complex data"),
    "string weights": (lambda X, y, w: (_rows(X), y, w.astype(str)), "real numbers"),
    "class without weight": (
        lambda X, y, w: (_rows(X), y, np.where(y == 1, 0.0, w)),
        "positive total weight",
    ),
    "short weights": (lambda X, y, w: (_rows(X), y, w[:-1]), r"sample_weight must have shape"),
}


@pytest.mark.usefixtures("synchronous")
@pytest.mark.parametrize("case", list(INVALID_INPUTS))
def test_invalid_inputs_raise_clear_errors_and_leave_the_estimator_unchanged(case):
    X, y, weights = make_data(3)
    model = SoftmaxClassifier().fit(X, y)
    before = model.coef_.copy()
    make_inputs, message = INVALID_INPUTS[case]

    with pytest.raises(ValueError, match=message):
        model.fit(*make_inputs(X, y, weights))

    np.testing.assert_array_equal(model.coef_, before)


@pytest.mark.usefixtures("synchronous")
def test_early_stopping_is_refused_on_dask_arrays():
    X, y, _ = make_data(3)
    with pytest.raises(ValueError, match="early_stopping is not supported"):
        TwoLayerMLPClassifier(early_stopping=True).fit(*chunked(X, y))


@pytest.mark.usefixtures("synchronous")
def test_predict_on_dask_checks_fitted_and_features():
    X, y, _ = make_data(3)
    with pytest.raises(Exception, match="not fitted"):
        SoftmaxClassifier().predict(_rows(X))
    model = SoftmaxClassifier().fit(X, y)
    with pytest.raises(ValueError, match="expecting 3 features"):
        model.predict(_rows(X[:, :2]))
    # Column chunks and an empty block are fine for prediction.
    X_dask = da.concatenate([_rows(X[:0]), da.from_array(X, chunks=(25, 1))])
    np.testing.assert_array_equal(model.predict(X_dask).compute(), model.predict(X))


def test_importing_sklearn_nn_does_not_import_dask():
    code = (
        "import sys, numpy as np, sklearn_nn\n"
        "X = np.arange(20.0).reshape(10, 2); y = np.arange(10) % 2\n"
        "sklearn_nn.RegLogisticClassifier().fit(X, y).predict(X)\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------- on the cluster
CONVEX = {"logistic": (RegLogisticClassifier, 2), "softmax": (SoftmaxClassifier, 3)}
PREDICT_METHODS = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
# Predictions are checked on one fit per model (and per solver family): every method
# runs the same block-wise path, and each compute costs a round trip.
PREDICTED = {("lbfgs", True), ("newton-cg", False)}
FIT_CASES = [
    (model, solver, weighted)
    for model in [*CONVEX, "network"]
    for solver in SOLVERS
    for weighted in [False, True]
]


def _fit_case(model_name, solver, weighted):
    """Fit one case in memory and on Dask arrays; return both and the Dask predictions."""
    # Small, well-conditioned problems: every map-reduce is a round trip through the
    # scheduler, so the number of evaluations sets the time of these tests. The
    # default tol: both fits take the same path (every evaluation agrees to
    # rounding), so they stop at the same iterate whatever the tolerance.
    if model_name == "network":
        # Non-convex: compared after 20 iterations from one start. λ is small enough
        # that lbfgs and cg are far from converged after 20; the other solvers
        # converge in 9-13.
        X, y, weights = make_data(3, n_features=2)
        model = TwoLayerMLPClassifier(
            2, reg_lambda=0.3, solver=solver, max_iter=20, random_state=0
        )
    else:
        model_class, n_classes = CONVEX[model_name]
        X, y, weights = make_data(n_classes, n_features=2)
        model = model_class(reg_lambda=1.0, solver=solver)
    weights = weights if weighted else None
    in_memory = clone(model).fit(X, y, weights)
    X_dask, y_dask = chunked(X, y)
    on_dask = model.fit(X_dask, y_dask, None if weights is None else chunked(weights)[0])
    fits = {"X": X, "in_memory": in_memory, "on_dask": on_dask}
    if (solver, weighted) in PREDICTED:
        lazy = {method: getattr(on_dask, method)(X_dask) for method in PREDICT_METHODS}
        computed = dask.compute(*lazy.values())
        fits.update(lazy=lazy, computed=dict(zip(lazy, computed, strict=True)))
    return fits


@pytest.fixture(scope="module")
def cluster_fits(client):
    """Every case of FIT_CASES, fitted concurrently on the cluster.

    A fit on Dask arrays is bound by the latency of its map-reduces (a few ms to
    tens of ms each), not by work: running the 36 fits side by side from client
    threads takes about as long as the slowest one. The Client is thread-safe.
    """
    with (
        warnings.catch_warnings(),
        concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool,
    ):
        # Network fits stop at max_iter=20 by design.
        warnings.simplefilter("ignore", ConvergenceWarning)
        futures = {case: pool.submit(_fit_case, *case) for case in FIT_CASES}
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("model_name", list(CONVEX))
def test_convex_fit_on_cluster_reaches_the_in_memory_optimum(
    cluster_fits, model_name, solver, weighted
):
    fits = cluster_fits[model_name, solver, weighted]
    in_memory, on_dask = fits["in_memory"], fits["on_dask"]

    assert abs(on_dask.loss_ - in_memory.loss_) <= 1e-10
    np.testing.assert_allclose(on_dask.coef_, in_memory.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(on_dask.intercept_, in_memory.intercept_, rtol=0, atol=1e-6)
    assert on_dask.n_iter_ == in_memory.n_iter_


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_network_fit_on_cluster_follows_the_in_memory_path(cluster_fits, solver, weighted):
    fits = cluster_fits["network", solver, weighted]
    in_memory, on_dask = fits["in_memory"], fits["on_dask"]

    # Converged, or stopped by max_iter=20 (lbfgs, cg), on the same path.
    assert on_dask.n_iter_ == in_memory.n_iter_ <= 20
    if solver in {"lbfgs", "cg"}:
        assert in_memory.n_iter_ == 20
    # Rounding differences (~1e-16) grow along a non-convex path, slowly.
    assert on_dask.loss_curve_ == pytest.approx(in_memory.loss_curve_, rel=1e-8)
    for got, expected in zip(
        on_dask.coefs_ + on_dask.intercepts_,
        in_memory.coefs_ + in_memory.intercepts_,
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


PREDICT_CASES = [case for case in FIT_CASES if case[1:] in PREDICTED]


@pytest.mark.parametrize(
    "case", PREDICT_CASES, ids=["-".join(map(str, case)) for case in PREDICT_CASES]
)
def test_predictions_on_cluster_are_lazy_dask_arrays_equal_to_in_memory(cluster_fits, case):
    fits = cluster_fits[case]
    X, in_memory = fits["X"], fits["in_memory"]
    for method, lazy in fits["lazy"].items():
        expected = getattr(in_memory, method)(X)
        assert isinstance(lazy, da.Array), method
        assert lazy.shape == expected.shape, method
        assert lazy.chunks[0] == chunked(X)[0].chunks[0], method
        if method == "predict":
            np.testing.assert_array_equal(fits["computed"][method], expected)
        else:
            np.testing.assert_allclose(fits["computed"][method], expected, rtol=0, atol=1e-6)


def test_predictions_on_cluster_run_nothing_until_computed(client):
    X, y, _ = make_data(3)
    model = SoftmaxClassifier().fit(X, y)
    X_dask = client.persist(chunked(X)[0])
    distributed.wait(X_dask)

    with distributed.get_task_stream(client) as before:
        lazy = [getattr(model, method)(X_dask) for method in PREDICT_METHODS]
    with distributed.get_task_stream(client) as during:
        computed = dask.compute(*lazy)

    assert not before.data, "a predict method computed on the cluster before being asked"
    assert during.data
    for method, result in zip(PREDICT_METHODS, computed, strict=True):
        np.testing.assert_allclose(result, getattr(model, method)(X), rtol=1e-12, atol=0)


def test_binary_decision_function_on_cluster_is_one_dimensional(client):
    X, y, _ = make_data(2)
    model = RegLogisticClassifier().fit(*chunked(X, y))
    scores = model.decision_function(chunked(X)[0])
    assert scores.shape == (60,)
    np.testing.assert_allclose(scores.compute(), model.decision_function(X), rtol=1e-12)


def _comparable(cv_results):
    return {key: value for key, value in cv_results.items() if "time" not in key}


@pytest.mark.parametrize(
    ("search", "model", "params"),
    [
        (GridSearchCV, RegLogisticClassifier(), {"reg_lambda": [0.01, 1.0, 100.0]}),
        (
            RandomizedSearchCV,
            TwoLayerMLPClassifier(random_state=0),
            {"hidden_layer_size": [2, 4, 8], "reg_lambda": [0.1, 1.0, 10.0]},
        ),
    ],
    ids=["grid-logistic", "random-network"],
)
def test_search_on_cluster_equals_local_search(client, search, model, params):
    X, y, _ = make_data(3, n_samples=90)
    kwargs = {"cv": 3}
    if search is RandomizedSearchCV:
        kwargs.update(n_iter=4, random_state=0)
    local = search(model, params, n_jobs=1, **kwargs).fit(X, y)

    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = search(model, params, **kwargs).fit(X, y)

    assert tasks.data, "the search did not run on the cluster"
    local_results, remote_results = _comparable(local.cv_results_), _comparable(remote.cv_results_)
    assert local_results.keys() == remote_results.keys()
    for key, value in local_results.items():
        if np.asarray(value).dtype.kind == "f":
            np.testing.assert_allclose(remote_results[key], value, rtol=1e-12, atol=1e-12)
        else:
            assert list(remote_results[key]) == list(value), key
    assert remote.best_params_ == local.best_params_


def test_fitted_estimators_hold_no_dask_state(client):
    import pickle

    X, y, weights = make_data(3)
    model = TwoLayerMLPClassifier(3, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(*chunked(X, y, weights))
    restored = pickle.loads(pickle.dumps(model))
    for value in itertools.chain(vars(model).values(), model.coefs_, model.intercepts_):
        assert not dask.is_dask_collection(value)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
