"""The cross-validated estimators and regularization_path, against cold fits and GridSearchCV."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_nn import (
    RegLogisticClassifier,
    RegLogisticClassifierCV,
    SoftmaxClassifier,
    SoftmaxClassifierCV,
    TwoLayerMLPClassifier,
    TwoLayerMLPClassifierCV,
    regularization_path,
)
from sklearn_nn._path import _Secants, minimize_objective
from sklearn_nn.datasets import load_microchips
from sklearn_nn.instrumentation import count_passes, objective

GRID = np.logspace(-3, 2, 8)
FOLDS = StratifiedKFold(4, shuffle=True, random_state=0)


def _microchips():
    X, y = load_microchips()
    return PolynomialFeatures(6, include_bias=False).fit_transform(X), y


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# Binary, one-vs-rest and softmax; class weights computed on each fold's training part.
LINEAR_CASES = [
    pytest.param(RegLogisticClassifierCV, RegLogisticClassifier, _microchips, None, id="binary"),
    pytest.param(RegLogisticClassifierCV, RegLogisticClassifier, _iris, "balanced", id="ovr"),
    pytest.param(SoftmaxClassifierCV, SoftmaxClassifier, _iris, None, id="softmax"),
]


@pytest.mark.parametrize(("SearchCV", "Base", "data", "class_weight"), LINEAR_CASES)
def test_every_fold_and_lambda_is_the_cold_fit(SearchCV, Base, data, class_weight):
    X, y = data()
    search = SearchCV(reg_lambdas=GRID, cv=FOLDS, tol=1e-8, class_weight=class_weight)
    search.fit(X, y)
    assert search.coef_path_.shape[:2] == (4, GRID.size)
    for fold, (train, _) in enumerate(FOLDS.split(X, y)):
        for step, reg_lambda in enumerate(GRID):
            base = Base(reg_lambda=reg_lambda, tol=1e-8, class_weight=class_weight)
            J = objective(base, X[train], y[train])
            theta = J.point_of(search.coef_path_[fold, step], search.intercept_path_[fold, step])
            cold = base.fit(X[train], y[train]).loss_
            assert J.value_and_grad(theta)[0] == pytest.approx(cold, rel=1e-9)


def test_folds_the_stacked_solve_cannot_finish_are_solved_alone():
    # At λ = 0 the degree-6 microchips folds are nearly (or fully) separable: the
    # folds' joint solve stops at max_iter=80 (it needs 91 iterations), and each
    # fold then converges on its own.
    X, y = _microchips()
    search = RegLogisticClassifierCV(
        reg_lambdas=[0.0, 0.01, 1.0], cv=FOLDS, tol=1e-8, max_iter=80
    ).fit(X, y)
    assert np.all(search.n_iter_path_[:, 0] > search.max_iter)
    for fold, (train, _) in enumerate(FOLDS.split(X, y)):
        base = RegLogisticClassifier(reg_lambda=0.0, tol=1e-8, max_iter=1000)
        J = objective(base, X[train], y[train])
        theta = J.point_of(search.coef_path_[fold, 0], search.intercept_path_[fold, 0])
        value, grad = J.value_and_grad(theta)
        assert np.abs(grad).max() <= 1e-8
        cold = base.fit(X[train], y[train]).loss_
        if cold > 1e-3:  # a finite optimum (separable folds have none: J → 0)
            assert value == pytest.approx(cold, rel=1e-9)


@pytest.mark.parametrize(("SearchCV", "Base", "data", "class_weight"), LINEAR_CASES)
def test_scores_and_choice_equal_grid_search(SearchCV, Base, data, class_weight):
    X, y = data()
    search = SearchCV(reg_lambdas=GRID, cv=FOLDS, tol=1e-8, class_weight=class_weight).fit(X, y)
    grid = GridSearchCV(
        Base(tol=1e-8, class_weight=class_weight), {"reg_lambda": GRID}, cv=FOLDS
    ).fit(X, y)
    for key in ["mean_test_score", "std_test_score", "rank_test_score"] + [
        f"split{k}_test_score" for k in range(4)
    ]:
        np.testing.assert_allclose(search.cv_results_[key], grid.cv_results_[key], atol=1e-6)
    assert search.cv_results_["params"] == grid.cv_results_["params"]
    np.testing.assert_array_equal(
        search.cv_results_["param_reg_lambda"], grid.cv_results_["param_reg_lambda"]
    )
    assert set(grid.cv_results_) <= set(search.cv_results_)
    assert search.best_index_ == grid.best_index_
    assert search.reg_lambda_ == grid.best_params_["reg_lambda"]
    assert search.best_score_ == pytest.approx(grid.best_score_, abs=1e-12)
    # The refit is the base model fitted on all rows at the chosen λ.
    # (Parameters agree to the solver's tolerance over the curvature; J to 1e-9.)
    refit = grid.best_estimator_
    assert search.loss_ == pytest.approx(refit.loss_, rel=1e-9)
    np.testing.assert_allclose(search.predict_proba(X), refit.predict_proba(X), atol=1e-4)
    np.testing.assert_array_equal(search.predict(X), refit.predict(X))


def test_other_scorers_equal_grid_search():
    X, y = _iris()
    for scoring in ["neg_log_loss", "balanced_accuracy", get_scorer("f1_macro")]:
        search = SoftmaxClassifierCV(reg_lambdas=GRID, cv=FOLDS, tol=1e-8, scoring=scoring)
        grid = GridSearchCV(
            SoftmaxClassifier(tol=1e-8), {"reg_lambda": GRID}, cv=FOLDS, scoring=scoring
        )
        np.testing.assert_allclose(
            search.fit(X, y).cv_results_["mean_test_score"],
            grid.fit(X, y).cv_results_["mean_test_score"],
            atol=1e-6,
        )
        assert search.reg_lambda_ == grid.best_params_["reg_lambda"]


def test_sample_weight_weighs_fits_and_scores_as_routed_grid_search():
    X, y = _microchips()
    weight = np.random.default_rng(0).uniform(0.2, 3.0, y.size)
    search = RegLogisticClassifierCV(reg_lambdas=GRID, cv=FOLDS, tol=1e-8)
    search.fit(X, y, sample_weight=weight)
    with config_context(enable_metadata_routing=True):
        scorer = get_scorer("accuracy").set_score_request(sample_weight=True)
        base = RegLogisticClassifier(tol=1e-8).set_fit_request(sample_weight=True)
        grid = GridSearchCV(base, {"reg_lambda": GRID}, cv=FOLDS, scoring=scorer)
        grid.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"], atol=1e-6
    )
    assert search.reg_lambda_ == grid.best_params_["reg_lambda"]
    assert search.loss_ == pytest.approx(grid.best_estimator_.loss_, rel=1e-9)


def test_default_grid_is_log_spaced_from_the_data_and_ascending():
    X, y = _microchips()
    search = RegLogisticClassifierCV(reg_lambdas=7, cv=3).fit(X, y)
    ratios = search.reg_lambdas_[1:] / search.reg_lambdas_[:-1]
    np.testing.assert_allclose(ratios, ratios[0])
    assert search.reg_lambdas_[-1] / search.reg_lambdas_[0] == pytest.approx(1e6)
    # Scaling the features by 10 scales their variance, and so the grid, by 100.
    scaled = RegLogisticClassifierCV(reg_lambdas=7, cv=3).fit(10 * X, y)
    np.testing.assert_allclose(scaled.reg_lambdas_, 100 * search.reg_lambdas_, rtol=1e-9)
    # The grid brackets a useful penalty: the best score is not at the strongest one.
    assert search.best_index_ < search.reg_lambdas_.size - 1


def test_refit_false_keeps_the_folds_mean_at_the_chosen_lambda():
    X, y = _iris()
    search = SoftmaxClassifierCV(reg_lambdas=GRID, cv=FOLDS, refit=False).fit(X, y)
    mean = search.coef_path_[:, search.best_index_].mean(axis=0)
    np.testing.assert_allclose(search.coef_, mean - mean.mean(axis=0), atol=1e-12)
    refitted = SoftmaxClassifierCV(reg_lambdas=GRID, cv=FOLDS).fit(X, y)
    assert refitted.loss_ <= search.loss_


def test_parallel_folds_equal_serial():
    X, y = _iris()
    serial = RegLogisticClassifierCV(reg_lambdas=GRID, cv=FOLDS, tol=1e-8).fit(X, y)
    parallel = RegLogisticClassifierCV(reg_lambdas=GRID, cv=FOLDS, tol=1e-8, n_jobs=2).fit(X, y)
    assert parallel.loss_ == pytest.approx(serial.loss_, rel=1e-9)
    np.testing.assert_allclose(parallel.coef_path_, serial.coef_path_, atol=1e-3)
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_pipeline_and_nested_grid_search_over_the_degree():
    X, y = load_microchips()
    pipeline = make_pipeline(PolynomialFeatures(), RegLogisticClassifierCV(reg_lambdas=GRID))
    outer = GridSearchCV(pipeline, {"polynomialfeatures__degree": [1, 6]}, cv=3).fit(X, y)
    assert outer.best_params_["polynomialfeatures__degree"] == 6  # not linearly separable
    inner = outer.best_estimator_[-1]
    assert inner.reg_lambda_ in GRID and inner.n_features_in_ == 28


def test_pandas_sparse_float32_and_string_labels():
    pd = pytest.importorskip("pandas")
    X, y = _iris()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    dense = SoftmaxClassifierCV(reg_lambdas=GRID, cv=FOLDS, tol=1e-8).fit(X, names)
    assert set(dense.predict(X)) <= set(names) and dense.classes_.tolist() == sorted(set(names))
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(4)])
    from_frame = clone(dense).fit(frame, names)
    assert from_frame.feature_names_in_.tolist() == list(frame.columns)
    from_csr = clone(dense).fit(sparse.csr_matrix(X), names)
    for other in (from_frame, from_csr):
        assert other.loss_ == pytest.approx(dense.loss_, rel=1e-9)
        np.testing.assert_array_equal(
            other.cv_results_["mean_test_score"], dense.cv_results_["mean_test_score"]
        )
    from_f32 = SoftmaxClassifierCV(reg_lambdas=GRID, cv=FOLDS).fit(X.astype(np.float32), names)
    assert from_f32.reg_lambda_ == dense.reg_lambda_
    assert from_f32.coef_path_.dtype == np.float64
    # At most one held-out sample of a fold (37 or 38 rows) classified otherwise.
    difference = from_f32.cv_results_["mean_test_score"] - dense.cv_results_["mean_test_score"]
    assert np.abs(difference).max() <= 1 / 37 / 4 + 1e-12


def test_inputs_are_not_modified_and_pickle_round_trips():
    X, y = _iris()
    X_before, weight = X.copy(), np.linspace(0.5, 2, y.size)
    weight_before = weight.copy()
    search = SoftmaxClassifierCV(reg_lambdas=GRID, cv=3).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(weight, weight_before)
    loaded = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))


@pytest.mark.parametrize(
    ("reg_lambdas", "message"),
    [
        ([], "non-empty"),
        ([1.0, -0.5], "non-negative; got -0.5 at position 1"),
        ([1.0, np.nan], "finite; got nan at position 1"),
        ([1.0, np.inf], "finite"),
        ([[1.0, 2.0]], "1-D"),
    ],
)
def test_bad_grids_are_refused(reg_lambdas, message):
    X, y = _iris()
    with pytest.raises(ValueError, match=message):
        RegLogisticClassifierCV(reg_lambdas=reg_lambdas).fit(X, y)


def test_too_many_folds_and_a_class_missing_from_a_training_part_are_refused():
    X, y = _iris()
    few = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y > 0)]
    with pytest.raises(ValueError, match="cv=5 folds need at least 5 samples of every class"):
        SoftmaxClassifierCV(reg_lambdas=GRID).fit(X[few], y[few])
    # Unshuffled KFold on sorted labels: the first fold holds out all of class 0.
    with pytest.raises(ValueError, match=r"training part of fold 0 holds no sample of class"):
        SoftmaxClassifierCV(reg_lambdas=GRID, cv=KFold(3)).fit(X, y)


def test_a_failed_fit_leaves_the_previous_model():
    X, y = _iris()
    search = SoftmaxClassifierCV(reg_lambdas=GRID, cv=3).fit(X, y)
    before = search.coef_.copy(), search.reg_lambda_
    with pytest.raises(ValueError, match="finite"):
        search.set_params(reg_lambdas=[1.0, np.nan]).fit(X, y)
    np.testing.assert_array_equal(search.coef_, before[0])
    assert search.reg_lambda_ == before[1]


def test_only_the_chosen_lambda_can_warn():
    X, y = _iris()
    # max_iter=3 stops every fit early: one warning, about the chosen λ, and the refit's.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = SoftmaxClassifierCV(reg_lambdas=GRID, cv=3, max_iter=3).fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(messages) == 2
    assert messages[0].startswith(f"At the chosen reg_lambda={search.reg_lambda_:.6g}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SoftmaxClassifierCV(reg_lambdas=GRID, cv=3).fit(X, y)


@pytest.mark.parametrize("Base", [RegLogisticClassifier, SoftmaxClassifier])
def test_regularization_path_equals_cold_fits_in_the_order_given(Base):
    X, y = _iris()
    reg_lambdas = [0.1, 10.0, 1e-3, 1.0]
    path = regularization_path(Base(tol=1e-8), X, y, reg_lambdas)
    np.testing.assert_array_equal(path.reg_lambdas, reg_lambdas)
    for position, reg_lambda in enumerate(reg_lambdas):
        cold = Base(reg_lambda=reg_lambda, tol=1e-8).fit(X, y)
        fitted = path.estimators[position]
        assert fitted.reg_lambda == reg_lambda
        assert fitted.loss_ == pytest.approx(cold.loss_, rel=1e-9)
        np.testing.assert_array_equal(path.coef[position], fitted.coef_)
        np.testing.assert_array_equal(fitted.predict(X), cold.predict(X))
    # Warm starts: the path needs fewer iterations than the cold fits.
    cold_iterations = sum(Base(reg_lambda=lam, tol=1e-8).fit(X, y).n_iter_ for lam in reg_lambdas)
    assert path.n_iter.sum() < cold_iterations


def test_a_solution_meeting_tol_at_the_next_lambda_is_kept_without_a_pass():
    # On 20 000 rows a step from λ = 1e-3 to 5e-4 changes ∇J by ~1e-8 per unit weight,
    # far below tol: the first solution is the second's answer, at no pass over X.
    X, y = make_classification(20_000, 5, n_informative=3, flip_y=0.1, random_state=0)
    base = RegLogisticClassifier(tol=1e-5)
    with count_passes() as first_only:
        regularization_path(base, X, y, [1e-3])
    with count_passes() as both:
        path = regularization_path(base, X, y, [1e-3, 5e-4])
    assert path.n_iter[1] == 0
    assert both.passes == first_only.passes
    np.testing.assert_array_equal(path.coef[1], path.coef[0])
    # It is the optimum at 5e-4 to rounding, as a cold fit far past tol tells.
    exact = RegLogisticClassifier(reg_lambda=5e-4, tol=1e-8).fit(X, y)
    assert path.loss[1] == pytest.approx(exact.loss_, rel=1e-9)
    assert path.loss[1] >= exact.loss_ - 1e-15


def _solved_at(objective, reg_lambda, theta):
    objective.set_penalty(reg_lambda)
    return minimize_objective(objective, theta, solver="lbfgs", max_iter=500, tol=1e-10)


def test_a_predicted_start_is_corrected_by_the_secants_of_the_path():
    # The data terms' gradient does not depend on λ: the solutions at λ = 40 and 20
    # hold a secant pair of their curvature, which moves the solution at 20 most of
    # the way to the one at 10 (the oracle: a cold fit far past tol; measured: 7x
    # closer, ∇J 7.7x smaller).
    X, y = make_classification(4000, 8, random_state=0)
    model = RegLogisticClassifier()
    build, _, _ = model._build_objective(X, y, None)
    secants = _Secants(build)
    theta = model._initial_params(build)
    for reg_lambda in (40.0, 20.0):
        solved = _solved_at(build, reg_lambda, theta)
        secants.add(solved.x, solved.grad)
        theta = solved.x
    exact = _solved_at(build, 10.0, np.zeros_like(theta)).x  # leaves λ = 10 set
    value, grad = build.value_and_grad(theta)
    with count_passes() as passes:
        corrected, (at, corrected_value, corrected_grad) = secants.corrected_start(
            (theta, value, grad), tol=1e-10
        )
    assert passes.passes == 1  # the evaluation at the new start, the solve's first
    assert corrected is at and corrected_value < value
    np.testing.assert_array_equal(build.value_and_grad(at)[1], corrected_grad)
    assert np.linalg.norm(at - exact) < np.linalg.norm(theta - exact) / 5
    assert np.abs(corrected_grad).max() < np.abs(grad).max() / 5
    # A start that meets tol is kept, at no pass.
    with count_passes() as none:
        kept, first = secants.corrected_start((theta, value, grad), tol=1.0)
    assert kept is theta and none.passes == 0
    # Secants of a wrong curvature (the gradients shrunk a thousandfold) step too far;
    # J rises there, and the start is kept.
    wrong = _Secants(build)
    wrong.points = [(point, 1e-3 * gradient) for point, gradient in secants.points]
    kept, first = wrong.corrected_start((theta, value, grad), tol=1e-10)
    assert kept is theta and first[1] == value


def test_network_path_is_a_continuation_from_the_initialisation():
    X, y = _iris()
    base = TwoLayerMLPClassifier(5, random_state=0, max_iter=2000)
    path = regularization_path(base, X, y, [0.01, 1.0])
    # The largest λ is fitted first, from the initialisation: the cold fit exactly.
    cold = clone(base).set_params(reg_lambda=1.0).fit(X, y)
    for mine, theirs in zip(path.estimators[1].coefs_, cold.coefs_, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # The smaller λ starts from there: a warm-started fit of the same model.
    warm = copy.deepcopy(cold).set_params(reg_lambda=0.01, warm_start=True).fit(X, y)
    for mine, theirs in zip(path.estimators[0].coefs_, warm.coefs_, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not path.estimators[0].warm_start


def test_network_path_restarts_after_a_collapse():
    X, y = _iris()
    base = TwoLayerMLPClassifier(5, random_state=0, max_iter=2000)
    # λ = 1e5 leaves a network with constant outputs: the next λ restarts afresh.
    path = regularization_path(base, X, y, [1e5, 0.1])
    collapsed = path.estimators[0].predict_proba(X)
    assert np.ptp(collapsed, axis=0).max() < 1e-6
    cold = clone(base).set_params(reg_lambda=0.1).fit(X, y)
    np.testing.assert_array_equal(path.estimators[1].coefs_[0], cold.coefs_[0])
    assert path.estimators[1].score(X, y) > 0.95


def test_network_cv_folds_share_one_initialisation_and_match_grid_search_at_the_top():
    X, y = _iris()
    grid = [0.3, 3.0]
    search = TwoLayerMLPClassifierCV(5, reg_lambdas=grid, cv=FOLDS, random_state=0)
    search.fit(X, y)
    base = TwoLayerMLPClassifier(5, random_state=0)
    reference = GridSearchCV(base, {"reg_lambda": grid}, cv=FOLDS).fit(X, y)
    # The largest λ is every fold's first fit, cold from the shared initialisation:
    # its scores are GridSearchCV's exactly; the smaller λ is warm-started.
    top = int(np.argmax(grid))
    for k in range(4):
        key = f"split{k}_test_score"
        assert search.cv_results_[key][top] == reference.cv_results_[key][top]
    assert abs(search.best_score_ - reference.best_score_) <= 0.02
    assert search.score(X, y) >= reference.score(X, y) - 0.02


def test_network_cv_draws_one_seed_for_every_fold_and_the_refit():
    X, y = _iris()
    params = {"hidden_layer_size": 4, "reg_lambdas": [0.1, 1.0], "cv": 3}
    drawn = TwoLayerMLPClassifierCV(random_state=np.random.RandomState(7), **params).fit(X, y)
    seed = int(np.random.RandomState(7).randint(np.iinfo(np.int32).max))
    seeded = TwoLayerMLPClassifierCV(random_state=seed, **params).fit(X, y)
    np.testing.assert_array_equal(drawn.coefs_[0], seeded.coefs_[0])
    for key in ("split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(drawn.cv_results_[key], seeded.cv_results_[key])


def test_class_weights_balanced_per_fold_for_the_network():
    X, y = make_classification(120, 5, n_informative=3, weights=[0.8], random_state=0)
    search = TwoLayerMLPClassifierCV(
        4, reg_lambdas=[0.1, 1.0], cv=3, class_weight="balanced", random_state=0
    ).fit(X, y)
    reference = GridSearchCV(
        TwoLayerMLPClassifier(4, class_weight="balanced", random_state=0),
        {"reg_lambda": [0.1, 1.0]},
        cv=3,
    ).fit(X, y)
    top = 1
    np.testing.assert_array_equal(
        [search.cv_results_[f"split{k}_test_score"][top] for k in range(3)],
        [reference.cv_results_[f"split{k}_test_score"][top] for k in range(3)],
    )
