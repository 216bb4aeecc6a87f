"""Behaviour of RegLogisticClassifier and SoftmaxClassifier, with scikit-learn as the oracle."""

import itertools
import pickle
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import PROGRESS_LINE, assert_loss_curve_descends, objective_value, standardised
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_iris, make_circles
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils.class_weight import compute_sample_weight

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier
from sklearn_nn.instrumentation import SOLVERS as ALL_SOLVERS
from sklearn_nn.instrumentation import objective

SOLVERS = ["lbfgs", "tnc", "cg"]
ESTIMATORS = [RegLogisticClassifier, SoftmaxClassifier]

# Our stopping rule is ‖∇J‖∞ ≤ tol. Around 1e-9 the decrease a line search can still
# see, ‖∇J‖²/L, falls below the float64 rounding of J itself (J ≈ 0.1 here, so
# ≈ 1e-17), and the solvers stop on "precision loss" with a ConvergenceWarning;
# 1e-8 is the tightest tolerance every solver reaches on every problem below. At
# ‖∇J‖∞ = 1e-8, J is within ~1e-13 of its minimum.
TIGHT_TOL = 1e-8
SKLEARN_TOL = 1e-10


# --------------------------------------------------------- parity with scikit-learn
def assert_matches_logistic_regression(Estimator, dataset, reg_lambda, solver, n_rows):
    """Fit ours and LogisticRegression(C=1/λ): the same J, weights and intercepts."""
    X, y = standardised(dataset)
    ours = Estimator(reg_lambda=reg_lambda, solver=solver, tol=TIGHT_TOL, max_iter=10_000)
    ours.fit(X, y)
    theirs = LogisticRegression(C=1 / reg_lambda, tol=SKLEARN_TOL, max_iter=10_000).fit(X, y)

    head = Estimator._head
    j_ours = objective_value(X, y, ours.classes_, reg_lambda, head, ours.coef_, ours.intercept_)
    j_theirs = objective_value(
        X, y, ours.classes_, reg_lambda, head, theirs.coef_, theirs.intercept_
    )
    assert abs(j_ours - j_theirs) <= 1e-7
    assert ours.loss_ == pytest.approx(j_ours, rel=1e-12)
    assert ours.coef_.shape == theirs.coef_.shape == (n_rows, X.shape[1])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("reg_lambda", [0.1, 1.0, 10.0])
def test_binary_matches_sklearn_logistic_regression(reg_lambda, solver):
    assert_matches_logistic_regression(
        RegLogisticClassifier, "breast_cancer", reg_lambda, solver, n_rows=1
    )


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("reg_lambda", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("dataset", ["wine", "iris"])
def test_softmax_matches_sklearn_multinomial_logistic_regression(dataset, reg_lambda, solver):
    # Both report the centred intercepts (a common shift changes no probability).
    assert_matches_logistic_regression(SoftmaxClassifier, dataset, reg_lambda, solver, n_rows=3)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    ("Estimator", "dataset"),
    [(RegLogisticClassifier, "breast_cancer"), (SoftmaxClassifier, "wine")],
)
def test_uncentred_features_match_sklearn(Estimator, dataset, solver):
    # Standardised features have mean 0, where the optimizer's intercepts (taken at
    # the data mean) and the model's intercept_ coincide; shifted features check that
    # intercept_ is converted back correctly. scikit-learn's lbfgs stops ~2e-4 short
    # in the intercepts on such features (it works in the raw coordinates); its
    # Newton solver is exact here.
    X, y = standardised(dataset)
    X = 2.0 * X + np.linspace(-5.0, 10.0, X.shape[1])
    ours = Estimator(solver=solver, tol=TIGHT_TOL, max_iter=10_000).fit(X, y)
    theirs = LogisticRegression(C=1.0, solver="newton-cholesky", tol=SKLEARN_TOL).fit(X, y)

    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_vs_rest_rows_are_binary_fits(solver):
    X, y = standardised("iris")
    ours = RegLogisticClassifier(reg_lambda=1.0, solver=solver, tol=TIGHT_TOL).fit(X, y)

    assert ours.coef_.shape == (3, X.shape[1])
    for k, label in enumerate(ours.classes_):
        binary = LogisticRegression(C=1.0, tol=SKLEARN_TOL, max_iter=10_000).fit(X, y == label)
        np.testing.assert_allclose(ours.coef_[k], binary.coef_[0], rtol=0, atol=1e-4)
        np.testing.assert_allclose(ours.intercept_[k], binary.intercept_[0], rtol=0, atol=1e-4)


# ------------------------------------------------------------------ predictions
PREDICTION_CASES = {
    "binary-logistic": (RegLogisticClassifier, "breast_cancer"),
    "one-vs-rest": (RegLogisticClassifier, "iris"),
    "softmax": (SoftmaxClassifier, "wine"),
    "binary-softmax": (SoftmaxClassifier, "breast_cancer"),
}


@pytest.mark.parametrize("case", list(PREDICTION_CASES))
def test_probabilities_are_consistent(case):
    Estimator, dataset = PREDICTION_CASES[case]
    X, y = standardised(dataset)
    # Scaled-up features give probabilities within rounding of 0 and 1 as well.
    X_test = np.vstack([X, 300 * X[:20]])
    model = Estimator(reg_lambda=0.1).fit(X, y)

    proba = model.predict_proba(X_test)
    log_proba = model.predict_log_proba(X_test)

    assert proba.shape == (X_test.shape[0], model.classes_.size)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(proba >= 0)
    # Log probabilities come from the logits: finite even where proba rounds to 0.
    assert np.all(np.isfinite(log_proba))
    assert np.min(log_proba) < -745  # below log of the smallest double: not log(proba)
    positive = proba > 1e-300
    np.testing.assert_allclose(
        log_proba[positive], np.log(proba[positive]), rtol=1e-12, atol=1e-13
    )
    np.testing.assert_array_equal(model.predict(X_test), model.classes_[proba.argmax(axis=1)])
    assert model.score(X, y) > 0.95


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_binary_decision_function_is_positive_for_second_class(Estimator):
    X, y = standardised("breast_cancer")
    # Labels whose sorted order is the reverse of the 0/1 code: classes_[1] is "malignant".
    labels = np.array(["malignant", "benign"])[y]
    model = Estimator().fit(X, labels)
    assert list(model.classes_) == ["benign", "malignant"]

    scores = model.decision_function(X)

    assert scores.shape == (X.shape[0],)
    np.testing.assert_array_equal(model.predict(X), np.where(scores > 0, "malignant", "benign"))
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], expit(scores), rtol=1e-12)
    # And the sign means what it says on the ground truth, not only on itself.
    assert np.mean((scores > 0) == (labels == "malignant")) > 0.95


def test_one_vs_rest_probabilities_are_normalised_sigmoids():
    X, y = standardised("iris")
    model = RegLogisticClassifier().fit(X, y)

    scores = model.decision_function(X)
    sigmoids = expit(scores)

    assert scores.shape == (X.shape[0], 3)
    np.testing.assert_allclose(
        model.predict_proba(X), sigmoids / sigmoids.sum(axis=1, keepdims=True), rtol=1e-12
    )


# --------------------------------------------------------- loss curve, verbose
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    ("Estimator", "dataset", "head"),
    [(RegLogisticClassifier, "breast_cancer", "sigmoid"), (SoftmaxClassifier, "iris", "softmax")],
)
def test_loss_curve_is_recorded_for_every_solver(Estimator, dataset, head, solver):
    X, y = standardised(dataset)
    model = Estimator(reg_lambda=0.1, solver=solver).fit(X, y)
    assert_loss_curve_descends(model, X, y, 0.1, head)


@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_prints_one_line_per_iteration(solver, capsys):
    X, y = standardised("iris")
    model = SoftmaxClassifier(solver=solver, verbose=1).fit(X, y)

    lines = capsys.readouterr().out.splitlines()
    progress = [match for line in lines if (match := PROGRESS_LINE.search(line))]

    # One line per iteration with J, the gradient norm and elapsed seconds (a header
    # line for the starting point, without seconds, is allowed).
    assert len(progress) == model.n_iter_
    assert len(lines) in (model.n_iter_, model.n_iter_ + 1)
    printed_j = [float(match["J"]) for match in progress]
    np.testing.assert_allclose(printed_j, model.loss_curve_, rtol=1e-8)
    assert float(progress[-1]["grad"]) <= model.tol
    seconds = [float(match["seconds"]) for match in progress]
    assert all(s >= 0 for s in seconds)
    assert seconds == sorted(seconds)


@pytest.mark.parametrize("solver", SOLVERS)
def test_silent_by_default(solver, capsys):
    X, y = standardised("iris")
    SoftmaxClassifier(solver=solver).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_convergence_warning_names_solver_and_iterations(Estimator, solver):
    X, y = standardised("wine")
    with pytest.warns(ConvergenceWarning) as record:
        model = Estimator(solver=solver, max_iter=1).fit(X, y)

    assert len(record) == 1
    message = str(record[0].message)
    assert re.search(rf"\b{solver}\b", message)
    assert re.search(r"\b1 iterations?\b", message)
    # The warning points at the caller's line, not inside the library.
    assert record[0].filename == __file__
    assert model.n_iter_ == 1


# ------------------------------------------------------------------ sample weights
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_class_weight_equals_equivalent_sample_weight(Estimator, solver):
    X, y = standardised("wine")  # classes of 59, 71 and 48 samples
    balanced = Estimator(solver=solver, class_weight="balanced", tol=TIGHT_TOL).fit(X, y)
    weighted = Estimator(solver=solver, tol=TIGHT_TOL).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    unweighted = Estimator(solver=solver, tol=TIGHT_TOL).fit(X, y)

    np.testing.assert_allclose(balanced.predict_proba(X), weighted.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(balanced.coef_, weighted.coef_, atol=1e-6)
    assert np.max(np.abs(balanced.coef_ - unweighted.coef_)) > 1e-3  # weights did matter

    class_weight = {0: 0.5, 1: 2.0, 2: 1.5}
    by_dict = Estimator(solver=solver, class_weight=class_weight, tol=TIGHT_TOL).fit(X, y)
    by_weights = Estimator(solver=solver, tol=TIGHT_TOL).fit(
        X, y, sample_weight=np.array([0.5, 2.0, 1.5])[y]
    )
    np.testing.assert_allclose(by_dict.predict_proba(X), by_weights.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_balanced_class_weight_uses_weighted_class_totals(Estimator):
    # "balanced" is S / (K·S_k) with S_k the total *sample weight* of class k, so that
    # an integer sample weight stays equivalent to a repeated row.
    X, y = standardised("wine")
    rng = np.random.default_rng(1)
    sample_weight = rng.integers(0, 4, size=y.size).astype(float)
    class_totals = np.bincount(y, weights=sample_weight)
    balanced = sample_weight.sum() / (3 * class_totals)

    by_class_weight = Estimator(class_weight="balanced", tol=TIGHT_TOL).fit(
        X, y, sample_weight=sample_weight
    )
    by_sample_weight = Estimator(tol=TIGHT_TOL).fit(
        X, y, sample_weight=sample_weight * balanced[y]
    )
    repeated = Estimator(class_weight="balanced", tol=TIGHT_TOL).fit(
        np.repeat(X, sample_weight.astype(int), axis=0),
        np.repeat(y, sample_weight.astype(int)),
    )

    proba = by_class_weight.predict_proba(X)
    np.testing.assert_allclose(proba, by_sample_weight.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(proba, repeated.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    ("Estimator", "dataset"),
    [
        (RegLogisticClassifier, "breast_cancer"),
        (RegLogisticClassifier, "wine"),
        (SoftmaxClassifier, "wine"),
    ],
)
def test_integer_sample_weight_equals_repeated_rows(Estimator, dataset, solver):
    X, y = standardised(dataset)
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, size=X.shape[0])  # zeros drop rows
    # Default tol, as in scikit-learn's own sample-weight equivalence check.
    weighted = Estimator(solver=solver).fit(X, y, sample_weight=counts)
    repeated = Estimator(solver=solver).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))

    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-7)
    assert weighted.n_iter_ == repeated.n_iter_


# -------------------------------------------------------------------- warm start
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_continues_from_previous_solution(Estimator, solver):
    X, y = standardised("wine")
    cold = Estimator(solver=solver, tol=TIGHT_TOL).fit(X, y)

    warm = Estimator(solver=solver, tol=1e-3, warm_start=True).fit(X, y)
    warm.set_params(tol=TIGHT_TOL).fit(X, y)
    assert warm.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-5)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, atol=1e-5)
    assert warm.loss_ == pytest.approx(cold.loss_, rel=1e-10)

    # Refitting at the optimum has (almost) nothing left to do...
    warm.fit(X, y)
    assert warm.n_iter_ <= 1
    # ...whereas without warm_start each fit starts over from zero.
    cold.fit(X, y)
    assert cold.n_iter_ > 1


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_with_different_classes_raises_and_keeps_the_model(Estimator):
    # As scikit-learn's MLPClassifier: the previous weights cannot seed this fit.
    X, y = standardised("wine")
    binary = y < 2
    model = Estimator(warm_start=True, tol=TIGHT_TOL).fit(X, y)
    before = model.coef_.copy()
    with pytest.raises(ValueError, match=r"warm_start .* same classes.*\[0, 1, 2\].*\[0, 1\]"):
        model.fit(X[binary], y[binary])

    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    np.testing.assert_array_equal(model.coef_, before)
    # Without warm_start the same refit starts afresh.
    model.set_params(warm_start=False).fit(X[binary], y[binary])
    reference = Estimator(tol=TIGHT_TOL).fit(X[binary], y[binary])
    np.testing.assert_array_equal(model.classes_, [0, 1])
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)


# ---------------------------------------------------------- sparse and float32 input
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_csr_input_gives_dense_coefficients(Estimator, solver):
    X, y = standardised("wine")
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # ~40 % zeros
    dense = Estimator(solver=solver, tol=TIGHT_TOL).fit(X, y)
    sparse = Estimator(solver=solver, tol=TIGHT_TOL).fit(sp.csr_matrix(X), y)

    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=0, atol=1e-7
    )


# Near |grad|inf = 1e-5 a step lowers J by ~1e-10, below J's float32 resolution
# (~1e-8), so the line searches of CG and TNC may give up there: whether they end
# just below or just above 1e-5 is decided by rounding (unit weights scaled to 1
# instead of ½, which changes no value of J, moved iris TNC from converged to 1.4e-5
# and iris CG the other way). 1e-4 is within float32's reach; L-BFGS-B reaches 1e-5.
FLOAT32_TOL = {"lbfgs": 1e-5, "tnc": 1e-4, "cg": 1e-4}


@pytest.mark.parametrize("solver", ["lbfgs", "tnc", "cg"])
@pytest.mark.parametrize(
    ("Estimator", "dataset"),
    [
        (RegLogisticClassifier, "breast_cancer"),
        (RegLogisticClassifier, "iris"),
        (SoftmaxClassifier, "wine"),
    ],
)
def test_float32_input_fits_close_to_float64(Estimator, dataset, solver):
    X, y = standardised(dataset)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    model64 = Estimator(solver=solver, tol=TIGHT_TOL).fit(X64, y)
    model32 = Estimator(solver=solver, tol=FLOAT32_TOL[solver]).fit(X32, y)

    # Accuracy measured where it matters: the float64 J at the float32 solution.
    # Measured gaps: 4e-7 relative (lbfgs at 1e-5) to 3e-5 (cg at 1e-4).
    head = "softmax" if Estimator is SoftmaxClassifier else "sigmoid"
    classes = model64.classes_
    optimum = objective_value(X64, y, classes, 1.0, head, model64.coef_, model64.intercept_)
    reached = objective_value(X64, y, classes, 1.0, head, model32.coef_, model32.intercept_)
    assert 0 <= reached - optimum <= 1e-4 * abs(optimum)
    # Along the flat directions of breast cancer, |grad| ≤ tol still lets
    # probabilities move by ~100·tol (measured 4e-3 for cg at 1e-4).
    np.testing.assert_allclose(
        model32.predict_proba(X32), model64.predict_proba(X64), atol=100 * FLOAT32_TOL[solver]
    )


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("Estimator", [RegLogisticClassifier, SoftmaxClassifier])
@pytest.mark.parametrize("scaled", [True, False], ids=["standardised", "raw"])
def test_float32_fits_reach_the_tolerance_of_float64(Estimator, solver, scaled):
    # float32 J resolves ~1e-8: line searches used to stop short of tol there (CG at
    # the default tol on iris, lbfgs on raw digits); the fit now finishes with float64
    # products, block by block, and reaches the same tol with no warning.
    X, y = standardised("iris") if scaled else load_iris(return_X_y=True)
    for tol in (1e-5, 1e-7):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            double = Estimator(solver=solver, tol=tol).fit(X, y)
            single = Estimator(solver=solver, tol=tol).fit(X.astype(np.float32), y)
        J = objective(Estimator(solver=solver), X, y)
        theta = J.point_of(single.coef_, single.intercept_)
        assert np.abs(J.value_and_grad(theta)[1]).max() <= 10 * tol
        assert single.loss_ == pytest.approx(double.loss_, rel=1e-6)


@pytest.mark.parametrize("Estimator", [RegLogisticClassifier, SoftmaxClassifier])
def test_float32_default_fits_converge_at_every_lambda_and_weighting(Estimator):
    # 31 such float32 iris fits warned where none in float64 did.
    X, y = load_iris(return_X_y=True)
    counts = np.random.default_rng(0).integers(1, 4, y.size).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for solver, reg_lambda in itertools.product(["lbfgs", "cg"], [0.0, 1e-3, 1.0, 100.0]):
            for sample_weight, class_weight in [(None, None), (counts, None), (None, "balanced")]:
                model = Estimator(solver=solver, reg_lambda=reg_lambda, class_weight=class_weight)
                model.fit(X.astype(np.float32), y, sample_weight=sample_weight)
                J = objective(clone(model), X, y, sample_weight=sample_weight)
                theta = J.point_of(model.coef_, model.intercept_)
                assert np.abs(J.value_and_grad(theta)[1]).max() <= 2 * model.tol


@pytest.mark.parametrize(
    ("Estimator", "n_classes"),
    [(RegLogisticClassifier, 2), (RegLogisticClassifier, 3), (SoftmaxClassifier, 3)],
)
def test_float32_input_is_never_copied_to_float64(Estimator, n_classes):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 50)).astype(np.float32)
    score = X @ rng.normal(size=50) + rng.logistic(size=X.shape[0])
    y = np.digitize(score, [0.0] if n_classes == 2 else [-2.0, 2.0])
    float64_copy = 2 * X.nbytes
    model = Estimator(tol=1e-4)

    tracemalloc.start()
    try:
        model.fit(X, y)
        _, fit_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        model.predict_proba(X)
        _, predict_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert fit_peak < float64_copy
    assert predict_peak < float64_copy


# -------------------------------------------------------- pipelines and persistence
def test_pipeline_grid_search_clone_and_pickle():
    X, y = make_circles(n_samples=200, noise=0.15, factor=0.5, random_state=0)
    pipeline = Pipeline(
        [("poly", PolynomialFeatures(6)), ("clf", RegLogisticClassifier(max_iter=2000))]
    )
    search = GridSearchCV(pipeline, {"clf__reg_lambda": [0.1, 1.0, 1000.0]}, cv=3).fit(X, y)

    scores = search.cv_results_["mean_test_score"]
    assert search.best_score_ > 0.8
    assert scores[2] < search.best_score_  # λ reaches the estimator: λ = 1000 underfits
    best = search.best_estimator_
    assert best.named_steps["clf"].reg_lambda == search.best_params_["clf__reg_lambda"]

    refitted = clone(best).fit(X, y)
    np.testing.assert_array_equal(refitted.predict(X), best.predict(X))
    np.testing.assert_allclose(refitted.predict_proba(X), best.predict_proba(X), rtol=1e-12)

    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict(X), best.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), best.predict_proba(X))


# -------------------------------------------------------------------- bad input
def _fit(X=None, y=None, sample_weight=None, **params):
    def run(Estimator):
        rng = np.random.default_rng(0)
        X_ok = rng.normal(size=(12, 3))
        y_ok = np.arange(12) % 3
        Estimator(**params).fit(
            X_ok if X is None else X(X_ok), y_ok if y is None else y(y_ok), sample_weight
        )

    return run


def _with(X, index, value, dtype=None):
    X = X.astype(dtype or X.dtype)
    X[index] = value
    return X


def _predict_with_wrong_n_features(Estimator):
    rng = np.random.default_rng(0)
    model = Estimator().fit(rng.normal(size=(12, 3)), np.arange(12) % 3)
    model.predict(rng.normal(size=(4, 5)))


BAD_INPUTS = {
    "nan-in-X": (_fit(X=lambda X: _with(X, (0, 1), np.nan)), ValueError, "NaN"),
    "inf-in-X": (_fit(X=lambda X: _with(X, (0, 1), np.inf)), ValueError, "infinity"),
    "string-in-X": (
        _fit(X=lambda X: _with(X, (0, 1), "abc", dtype=object)),
        ValueError,
        "could not convert string to float: 'abc'",
    ),
    "one-class": (_fit(y=lambda y: np.zeros_like(y)), ValueError, "at least 2 classes"),
    "all-zero-sample-weight": (
        _fit(sample_weight=np.zeros(12)),
        ValueError,
        "sample_weight is zero for every sample",
    ),
    "negative-sample-weight": (
        _fit(sample_weight=np.r_[-1.0, np.ones(11)]),
        ValueError,
        "sample_weight must be non-negative",
    ),
    "sample-weight-wrong-length": (
        _fit(sample_weight=np.ones(11)),
        ValueError,
        r"sample_weight must have shape \(12,\).*got \(11,\)",
    ),
    "1-D-X": (_fit(X=lambda X: X[:, 0]), ValueError, "Expected 2D array, got 1D array"),
    "wrong-n-features-at-predict": (
        _predict_with_wrong_n_features,
        ValueError,
        "X has 5 features, but .* is expecting 3 features",
    ),
    "unknown-solver": (_fit(solver="newton"), ValueError, "'solver' parameter .* 'newton'"),
    "negative-reg_lambda": (_fit(reg_lambda=-1.0), ValueError, "'reg_lambda' parameter"),
    "max_iter-0": (_fit(max_iter=0), ValueError, "'max_iter' parameter .* Got 0"),
    "tol-0": (_fit(tol=0.0), ValueError, r"'tol' parameter .* range \(0.0, inf\)"),
    "class-with-zero-total-weight": (
        _fit(sample_weight=(np.arange(12) % 3 != 2).astype(float)),
        ValueError,
        r"positive total weight.*\[2\]",
    ),
    "class-weight-zero": (
        _fit(class_weight={0: 1.0, 1: 0.0, 2: 1.0}),
        ValueError,
        r"positive total weight.*\[1\]",
    ),
}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_clear_error(case, Estimator):
    run, error, match = BAD_INPUTS[case]
    with pytest.raises(error, match=match):
        run(Estimator)


@pytest.mark.parametrize("layout", ["float64", "float32", "csr"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_inputs_are_not_modified(Estimator, layout):
    X, y = standardised("wine")
    X = {"float64": X.copy(), "float32": X.astype(np.float32), "csr": sp.csr_matrix(X)}[layout]
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=y.size)
    originals = (X.copy(), y.copy(), sample_weight.copy())

    model = Estimator(class_weight="balanced").fit(X, y, sample_weight=sample_weight)
    model.predict_proba(X)

    X_before, y_before, weight_before = originals
    if sp.issparse(X):
        assert (X != X_before).nnz == 0
        X, X_before = X.toarray(), X_before.toarray()
    np.testing.assert_array_equal(X, X_before)
    assert X.dtype == X_before.dtype
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(sample_weight, weight_before)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([0, 1, 1, 0]),  # counted: non-negative integers up to the length
        np.array([2, 5, 5, 9, 2, 9, 9, 5, 9, 2], dtype=np.uint8),  # counted, with gaps
        np.array([3, 7, 3, 7], dtype=np.int32),  # counted, no 0
        np.array([-1, 4, 4, -1]),  # sorted: a negative label
        np.array([0, 1000, 0, 1000]),  # sorted: beyond the length
        np.array(["b", "a", "b", "a"]),  # sorted: strings
    ],
)
def test_labels_encoded_as_numpy_unique_does(labels):
    # Small non-negative integer labels are encoded by counting (O(n)), the rest by
    # sorting: both must give numpy's classes, in the labels' dtype, and its codes.
    X = np.random.default_rng(0).standard_normal((labels.size, 2))
    classes, codes = np.unique(labels, return_inverse=True)
    model = SoftmaxClassifier().fit(X, labels)
    assert model.classes_.dtype == classes.dtype
    np.testing.assert_array_equal(model.classes_, classes)
    encoded = SoftmaxClassifier._encode_labels(labels)
    np.testing.assert_array_equal(encoded[0], classes)
    np.testing.assert_array_equal(encoded[1], codes)
    np.testing.assert_array_equal(model.predict(X), classes[model.predict_proba(X).argmax(1)])
