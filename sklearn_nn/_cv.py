"""What the cross-validated estimators share: the λ grid, the folds, the scores, the refit.

A cross-validated estimator is its base model (it predicts as the base model does,
from the refitted parameters) whose ``fit`` chooses λ: it fits every fold along a
path of penalties (``_path``), scores each fold's held-out rows at each λ, keeps the
results in :class:`~sklearn.model_selection.GridSearchCV`'s layout and refits on all
rows at the best λ. The subclasses supply the fold paths (``_fold_paths``) and the
refit (``_refit``).
"""

import time
import warnings
from numbers import Integral
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from scipy import sparse
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing

# scikit-learn exposes no public path to its parameter-constraint types.
from sklearn.utils._param_validation import Interval
from sklearn.utils.sparsefuncs import mean_variance_axis

from . import _validation as checks
from ._callbacks import fit_as_task, report_iterations
from ._objectives import LinearObjective
from ._path import check_reg_lambdas, minimize_objective, recording_convergence, solve_path
from ._solver_options import SECOND_ORDER

__all__ = ["CV_PARAMETERS", "CrossValidation", "LinearCrossValidation"]

#: The parameters every cross-validated estimator adds to its base model's.
CV_PARAMETERS = ("reg_lambdas", "cv", "scoring", "refit", "n_jobs")

#: The default grid spans these decades around λ_ref (see ``_default_grid``).
_GRID_DECADES = (-4.0, 2.0)


class CrossValidation:
    """Mixin of the cross-validated estimators: ``fit`` chooses λ by cross-validation.

    Placed before the base model in the bases. ``_base_model`` is the class of the
    estimator fitted at each λ (and for :class:`~sklearn.model_selection.GridSearchCV`
    comparisons); it must accept every parameter of the cross-validated estimator
    but those of :data:`CV_PARAMETERS`, plus ``reg_lambda``.
    """

    _base_model = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._base_model is not None:  # the base model's constraints, λ's replaced
            constraints = dict(cls._base_model._parameter_constraints)
            del constraints["reg_lambda"]
            cls._parameter_constraints = {**constraints, **CrossValidation._cv_constraints}

    _cv_constraints = {
        "reg_lambdas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def fit(self, X, y, sample_weight=None, groups=None):
        """Choose λ by cross-validation along a warm-started path, then refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is used as float32.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights. They weigh every fit (with
            ``class_weight``) and every held-out score, as scikit-learn's
            :class:`~sklearn.linear_model.LogisticRegressionCV` does when metadata
            routing passes them to its scorer.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware splitter given as ``cv``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        previous_state = self.__dict__.copy()
        try:
            return fit_as_task(
                self, lambda X, y, s: self._cross_validate(X, y, s, groups), X, y, sample_weight
            )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise

    def _penalties(self):
        # An explicit grid is checked against the weights with the data; a default
        # one is derived from them.
        if isinstance(self.reg_lambdas, Integral):
            return []
        return check_reg_lambdas(self.reg_lambdas)

    def base_estimator(self, reg_lambda=1.0):
        """Return the unfitted base model with these parameters at ``reg_lambda``.

        Parameters
        ----------
        reg_lambda : float, default=1.0
            Its penalty.

        Returns
        -------
        estimator : object
            What :class:`~sklearn.model_selection.GridSearchCV` would fit at λ.
        """
        params = {
            name: value
            for name, value in self.get_params(deep=False).items()
            if name not in CV_PARAMETERS
        }
        return self._base_model(reg_lambda=reg_lambda, **params)

    # ------------------------------------------------------------------ fitting
    def _cross_validate(self, X, y, sample_weight, groups):
        X, y_encoded, classes, weights, class_sums = self._prepare(X, y, sample_weight)
        user_weight = None
        if sample_weight is not None:
            user_weight = checks.as_sample_weight(sample_weight, X.shape[0], np.float64)
        folds = self._folds(X, y, y_encoded, classes, groups)
        self.classes_, self.n_splits_ = classes, len(folds)
        data = _FitData(X, y_encoded, classes, weights, class_sums, user_weight, folds)
        fold_weights = self._fold_weights(data)
        if isinstance(self.reg_lambdas, Integral):
            grid = self._default_grid(X, weights, classes)
        else:
            grid = check_reg_lambdas(self.reg_lambdas)
        descending = np.argsort(-grid, kind="stable")
        solved = self._fold_paths(data, fold_weights, grid[descending])
        scores, fit_times, score_times = self._scores(data, solved)
        # Back from the order solved to the order of the grid.
        position = np.empty_like(descending)
        position[descending] = np.arange(grid.size)
        scores, fit_times, score_times = (
            array[:, position] for array in (scores, fit_times, score_times)
        )
        self.reg_lambdas_ = grid
        self.cv_results_ = _cv_results(grid, scores, fit_times, score_times)
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.reg_lambda_ = float(grid[self.best_index_])
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self._warn_about_chosen(solved, position[self.best_index_])
        self._store_path(solved, position)
        self._refit(data, solved, position[self.best_index_])
        return self

    def _folds(self, X, y, y_encoded, classes, groups):
        """The (train, test) index pairs, each training part holding every class."""
        if isinstance(self.cv, Integral):
            counts = np.bincount(y_encoded, minlength=classes.size)
            smallest = int(np.argmin(counts))
            if counts[smallest] < self.cv:
                raise ValueError(
                    f"cv={self.cv} folds need at least {self.cv} samples of every class; "
                    f"class {classes[smallest].tolist()!r} has {counts[smallest]}. Use fewer "
                    "folds (a smaller cv)."
                )
        splitter = check_cv(self.cv, y, classifier=True)
        folds = [
            (np.asarray(train), np.asarray(test)) for train, test in splitter.split(X, y, groups)
        ]
        for index, (train, _) in enumerate(folds):
            missing = np.setdiff1d(np.arange(classes.size), y_encoded[train])
            if missing.size:
                raise ValueError(
                    f"The training part of fold {index} holds no sample of class(es) "
                    f"{classes[missing].tolist()}: every fold's model must know every "
                    "class. Use a stratified splitter (cv as an int) or fewer folds."
                )
        return folds

    def _fold_weights(self, data):
        """Each fold's training weights (sample × class weights, "balanced" per fold)."""
        y_encoded, classes, user_weight = data.y_encoded, data.classes, data.user_weight
        weights = np.zeros((y_encoded.size, len(data.folds)))
        for index, (train, _) in enumerate(data.folds):
            try:
                fold_weight, weighting = checks.weigh_samples(
                    None if user_weight is None else user_weight[train],
                    train.size,
                    data.X.dtype,
                    y_encoded[train],
                    classes,
                    self.class_weight,
                )
            except ValueError as error:
                raise ValueError(f"In the training part of fold {index}: {error}") from error
            self._check_problem((train.size, self.n_features_in_), classes.size, weighting)
            weights[train, index] = fold_weight
        return weights

    def _default_grid(self, X, weights, classes):
        """``reg_lambdas`` log-spaced values around λ_ref = S · a · tr(Σ) / d.

        λ_ref is the penalty whose curvature per unit of weight, λ/S, equals the
        data's average curvature per weight at the start of a fit (a, the head's
        curvature per logit, times the features' mean variance): from 10⁻⁴ λ_ref (the
        penalty barely acts) to 10² λ_ref (it dominates the data), ascending.
        """
        total = float(np.sum(weights, dtype=np.float64))
        variance = _feature_variance(X, weights)
        n_outputs = 1 if self._head == "sigmoid" and classes.size == 2 else classes.size
        curvature = 0.25 if self._head == "sigmoid" else 1.0 / n_outputs
        reference = total * curvature * variance if variance > 0 else total
        return reference * np.logspace(*_GRID_DECADES, self.reg_lambdas)

    def _scores(self, data, solved):
        """Held-out scores, fit and score times, each of shape (n_folds, n_lambdas)."""
        X, y_encoded, classes, user_weight = data.X, data.y_encoded, data.classes, data.user_weight
        fit_times = np.asarray(solved.fit_times)
        scores, score_times = np.empty(fit_times.shape), np.empty(fit_times.shape)
        accuracy = self.scoring in (None, "accuracy")
        scorer = None if accuracy else check_scoring(self.base_estimator(), self.scoring)
        for index, (_, test) in enumerate(data.folds):
            start = time.perf_counter()
            weight = None if user_weight is None else user_weight[test]
            X_test = _safe_indexing(X, test)  # one fold's rows at a time
            if accuracy:
                for step, Z in enumerate(solved.held_out_logits(index, X_test)):
                    hits = _labels_of(Z) == y_encoded[test]
                    scores[index, step] = np.average(hits, weights=weight)
            else:
                y_test = classes[y_encoded[test]]
                kwargs = {} if weight is None else {"sample_weight": weight}
                for step in range(fit_times.shape[1]):
                    model = solved.model(self, index, step)
                    scores[index, step] = scorer(model, X_test, y_test, **kwargs)
            score_times[index] = (time.perf_counter() - start) / fit_times.shape[1]
        return scores, fit_times, score_times

    def _warn_about_chosen(self, solved, best):
        """One ConvergenceWarning if a fold's fit at the chosen λ stopped above tol.

        The fits at other λ only rank candidates: their warnings are not emitted.
        """
        messages = [message for message in np.asarray(solved.warnings)[:, best] if message]
        if messages:
            warnings.warn(
                f"At the chosen reg_lambda={self.reg_lambda_:.6g}, the fits of "
                f"{len(messages)} of {self.n_splits_} folds stopped early: {messages[0]}",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _store_path(self, solved, position):
        """Keep what the fold paths leave beyond scores (the linear models' coefficients)."""


class _FitData(NamedTuple):
    """The validated inputs of a cross-validated fit, and its folds."""

    X: object
    y_encoded: np.ndarray
    classes: np.ndarray
    weights: np.ndarray  # sample × class weights of all rows (the refit's)
    class_sums: object
    user_weight: np.ndarray  # the sample weights alone (the scores'), or None
    folds: list


def _labels_of(Z):
    """Class codes predicted from logits, as the estimators' ``predict`` decides."""
    return (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else Z.argmax(axis=1)


def _feature_variance(X, weights):
    """The features' mean weighted variance, without a copy of X (a grid's scale only)."""
    if sparse.issparse(X):
        return float(np.mean(mean_variance_axis(X, axis=0, weights=weights)[1]))
    total = float(np.sum(weights, dtype=np.float64))
    mean = (weights.astype(X.dtype) @ X) / total
    squares = np.einsum("ij,ij,i->j", X, X, weights.astype(X.dtype)) / total
    return float(np.mean(np.maximum(squares - mean * mean, 0.0)))


def _cv_results(grid, scores, fit_times, score_times):
    """``cv_results_`` in :class:`~sklearn.model_selection.GridSearchCV`'s layout."""
    results = {
        "mean_fit_time": fit_times.mean(axis=0),
        "std_fit_time": fit_times.std(axis=0),
        "mean_score_time": score_times.mean(axis=0),
        "std_score_time": score_times.std(axis=0),
        "param_reg_lambda": np.ma.MaskedArray(grid, mask=np.zeros(grid.size, dtype=bool)),
        "params": [{"reg_lambda": float(value)} for value in grid],
    }
    for index, split in enumerate(scores):
        results[f"split{index}_test_score"] = split
    means = scores.mean(axis=0)
    results["mean_test_score"] = means
    results["std_test_score"] = scores.std(axis=0)
    # GridSearchCV's ranks: ties share the best rank, NaN scores come last.
    ranked = np.where(np.isnan(means), -np.inf, means)
    results["rank_test_score"] = rankdata(-ranked, method="min").astype(np.int32)
    return results


class LinearCrossValidation(CrossValidation):
    """Cross-validation of a linear model: the folds of each λ solved as one problem.

    The folds' fits are one :class:`~sklearn_nn._objectives.LinearObjective` whose
    weights have one column per fold (zero on its held-out rows): every evaluation
    multiplies X once by the weights of all folds, no fold's rows are copied, and
    the optimizer is called once per λ instead of once per λ and fold. With
    ``n_jobs`` the folds are split into that many such problems, run by joblib.
    """

    def __init__(
        self,
        *,
        reg_lambdas=10,
        cv=5,
        scoring=None,
        refit=True,
        n_jobs=None,
        solver="lbfgs",
        max_iter=500,
        tol=1e-5,
        class_weight=None,
        warm_start=False,
        verbose=0,
    ):
        self.reg_lambdas = reg_lambdas
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose

    def _settings(self):
        return {
            "solver": self.solver,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "verbose": self.verbose,
        }

    def _fold_paths(self, data, fold_weights, reg_lambdas):
        Y = self._targets(data.y_encoded, data.classes.size, np.uint8)
        start = None
        if self._warm_start_state() is not None:
            start = (self.coef_.T, self.intercept_)
        n_folds = fold_weights.shape[1]
        parts = np.array_split(np.arange(n_folds), min(effective_n_jobs(self.n_jobs), n_folds))
        solved = Parallel(n_jobs=self.n_jobs)(
            delayed(_stacked_path)(
                data.X, Y, fold_weights[:, part], reg_lambdas, self._head, start, self._settings()
            )
            for part in parts
        )
        arrays = zip(*(part for part, _ in solved), strict=True)
        paths = _LinearPaths(reg_lambdas, *(np.concatenate(parts) for parts in arrays))
        paths.search_iterations = sum(iterations for _, iterations in solved)
        return paths

    def _store_path(self, solved, position):
        # One model stores every fold's parameters as fitted (the softmax centred).
        model, coef, intercept = self.base_estimator(), [], []
        for fold in range(len(solved.coef)):
            for step in position:
                model._store_coefficients(solved.coef[fold, step], solved.intercept[fold, step])
                coef.append(model.coef_)
                intercept.append(model.intercept_)
        shape = (len(solved.coef), len(position))
        self.coef_path_ = np.array(coef).reshape(*shape, *coef[0].shape)
        self.intercept_path_ = np.array(intercept).reshape(*shape, -1)
        self.n_iter_path_ = solved.n_iter[:, position]

    def _refit(self, data, solved, best):
        classes = data.classes
        Y = self._targets(data.y_encoded, classes.size, np.uint8)
        objective = LinearObjective(
            data.X,
            Y,
            data.weights,
            self.reg_lambda_,
            self._head,
            keep_curvature=self.refit and self.solver in SECOND_ORDER,
            class_sums=data.class_sums,
        )
        # The folds' mean solution at the chosen λ: without refit, the model itself
        # (as LogisticRegressionCV's); with refit, a start close to the answer.
        theta = objective.theta(
            solved.coef[:, best].mean(axis=0), solved.intercept[:, best].mean(axis=0)
        )
        if self.refit:
            callback = report_iterations(self, objective, classes, None)
            outcome = minimize_objective(objective, theta, callback=callback, **self._settings())
            theta, loss, n_iter, curve = (
                outcome.x,
                outcome.loss,
                outcome.n_iter,
                outcome.loss_curve,
            )
        else:
            loss, n_iter, curve = objective.value_and_grad(theta)[0], 0, []
        self._store_params(objective, theta)
        # Every iteration of the search: each λ's solve (its folds solved together
        # count once) and the refit's.
        self.n_iter_ = solved.search_iterations + n_iter
        self._store_loss(objective, theta, loss, curve)


def _stacked_path(X, Y, fold_weights, reg_lambdas, head, start, settings):
    """Solve some folds' fits together along the path; their parameters at each λ.

    Returns arrays with one row per fold: weights (n_folds, n_lambdas, d, k),
    intercepts (n_folds, n_lambdas, k), iterations and seconds (n_folds, n_lambdas)
    and warnings; and the number of iterations of the solves (those solved together
    counted once).
    """
    n_folds = fold_weights.shape[1]
    keep_curvature = settings["solver"] in SECOND_ORDER
    objective = LinearObjective(
        X, Y, fold_weights, reg_lambdas[0], head, keep_curvature=keep_curvature
    )
    if start is None:
        theta = np.zeros(objective.n_params)
    else:
        # W's columns output by output, fold by fold (LinearObjective's layout).
        theta = objective.theta(np.repeat(start[0], n_folds, axis=1), np.repeat(start[1], n_folds))
    own_iterations = np.zeros((n_folds, len(reg_lambdas)), dtype=int)

    def folds_apart(step, start, outcome, message):
        # The folds' curvatures differ, and one quasi-Newton model of them all can
        # stall where each fold alone converges (nearly separable folds at λ → 0):
        # each fold then finishes its own solve from its part of the stacked one.
        W, b = (np.array(array) for array in objective.model_params(start))
        messages = []
        for fold in range(n_folds):
            alone = LinearObjective(
                X, Y, fold_weights[:, [fold]], reg_lambdas[step], head, keep_curvature
            )
            columns = slice(fold, None, n_folds)
            theta = alone.theta(W[:, columns], b[columns])
            result, fold_message = recording_convergence(
                minimize_objective, alone, theta, **settings
            )
            W[:, columns], b[columns] = alone.model_params(result.x)
            own_iterations[fold, step] = result.n_iter
            if fold_message is not None:
                messages.append(f"fold {fold}: {fold_message}")
        theta = objective.theta(W, b)
        outcome.x = theta
        outcome.loss, outcome.grad = objective.value_and_grad(theta)
        return outcome, "; ".join(messages) or None

    outcomes, seconds, messages = solve_path(
        objective, reg_lambdas, theta, unconverged=folds_apart, **settings
    )
    k = objective.n_outputs // n_folds
    coef = np.empty((n_folds, len(reg_lambdas), X.shape[1], k))
    intercept = np.empty((n_folds, len(reg_lambdas), k))
    for step, outcome in enumerate(outcomes):
        W, b = objective.model_params(outcome.x)
        coef[:, step] = W.reshape(X.shape[1], k, n_folds).transpose(2, 0, 1)
        intercept[:, step] = b.reshape(k, n_folds).T
    n_iter = np.tile([outcome.n_iter for outcome in outcomes], (n_folds, 1)) + own_iterations
    fit_times = np.tile(np.asarray(seconds) / n_folds, (n_folds, 1))
    warnings = np.array([messages] * n_folds, dtype=object)
    iterations = sum(outcome.n_iter for outcome in outcomes) + int(own_iterations.sum())
    return (coef, intercept, n_iter, fit_times, warnings), iterations


class _LinearPaths:
    """The folds' solutions along the path, in the order solved."""

    def __init__(self, reg_lambdas, coef, intercept, n_iter, fit_times, warnings):
        self.reg_lambdas = reg_lambdas
        self.coef, self.intercept = coef, intercept
        self.n_iter, self.fit_times, self.warnings = n_iter, fit_times, warnings

    def held_out_logits(self, fold, X_test):
        """The logits of a fold's held-out rows at each λ, from one product."""
        coef = self.coef[fold]
        n_lambdas, d, k = coef.shape
        W = coef.transpose(1, 0, 2).reshape(d, n_lambdas * k).astype(X_test.dtype)
        Z = np.asarray(X_test @ W) + self.intercept[fold].ravel().astype(X_test.dtype)
        return [Z[:, step * k : (step + 1) * k] for step in range(n_lambdas)]

    def model(self, search, fold, step):
        """The base model fitted on a fold at the path's ``step``-th λ."""
        model = search.base_estimator(float(self.reg_lambdas[step]))
        model.classes_ = search.classes_
        model.n_features_in_ = search.n_features_in_
        if hasattr(search, "feature_names_in_"):
            model.feature_names_in_ = search.feature_names_in_
        model._store_coefficients(self.coef[fold, step], self.intercept[fold, step])
        model.n_iter_ = int(self.n_iter[fold, step])
        return model
