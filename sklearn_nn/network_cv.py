"""The two-layer network with λ chosen by cross-validation."""

import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import _safe_indexing, check_random_state

from ._cv import CrossValidation
from ._docstring import fill_doc
from ._path import refits_along
from .network import TwoLayerMLPClassifier


@fill_doc
class TwoLayerMLPClassifierCV(CrossValidation, TwoLayerMLPClassifier):
    """:class:`TwoLayerMLPClassifier` with its penalty λ chosen by cross-validation.

    Each fold is trained by continuation: at the largest λ from the network's random
    initialisation, then at each smaller λ from the weights of the one before (a
    strongly regularised network is easy to train, and its weights are a good start
    for a weaker penalty). Every fold starts from the same initialisation, drawn
    once from ``random_state``. Early stopping, if set, applies within each λ. The
    held-out rows are scored at each λ, the λ of the best mean score is chosen (as
    :class:`~sklearn.model_selection.GridSearchCV` would over
    ``TwoLayerMLPClassifier(reg_lambda=...)`` with the same folds), and the network is
    refitted on all rows there, starting from the weights of the fold that scored
    best at that λ.

    Parameters
    ----------
    hidden_layer_size : int, default=25
        H, the number of hidden units.
    {cv_options}
    activation : {{"sigmoid", "tanh", "relu"}}, default="sigmoid"
        Hidden-unit activation, see :class:`TwoLayerMLPClassifier`.
    output : {{"softmax", "sigmoid"}}, default="softmax"
        Output layer and loss.
    solver : {{"lbfgs", "tnc", "cg", "newton-cg", "trust-ncg", "trust-krylov"}}, default="lbfgs"
        scipy method, see :class:`TwoLayerMLPClassifier`.
    {max_iter_tol}
    {class_weight}
    warm_start : bool, default=False
        Start every fold's path from the weights of the previous fit (same classes
        and shapes) instead of the random initialisation.
    early_stopping : bool, default=False
        Hold out part of each fit's training rows and stop when their score stops
        improving, see :class:`TwoLayerMLPClassifier`.
    validation_fraction : float, default=0.1
        Share held out when ``early_stopping`` is on.
    n_iter_no_change : int, default=10
        Patience of early stopping, in iterations.
    {verbose}
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights (the same for every fold and the refit) and the
        early-stopping splits.
    hessian : {{"exact", "gauss-newton"}}, default="exact"
        Curvature of the second-order solvers.

    Attributes
    ----------
    {cv_fitted}
    {classes}
    coefs_ : list of ndarray
        ``[W1, W2]`` of the refitted network (without ``refit``: the best fold's).
    intercepts_ : list of ndarray
        ``[b1, b2]``.
    {fitted_inputs}
    loss_ : float
        J of the refitted network on all rows.

    See Also
    --------
    TwoLayerMLPClassifier : The network at one λ.
    regularization_path : Fits along a path of λ.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import scale
    >>> from sklearn_nn import TwoLayerMLPClassifierCV
    >>> X, y = load_iris(return_X_y=True)
    >>> model = TwoLayerMLPClassifierCV(5, reg_lambdas=[10, 1], cv=3, random_state=0)
    >>> model.fit(scale(X), y).reg_lambda_ in (10, 1)
    True
    """

    _base_model = TwoLayerMLPClassifier

    def __init__(
        self,
        hidden_layer_size=25,
        *,
        reg_lambdas=10,
        cv=5,
        scoring=None,
        refit=True,
        n_jobs=None,
        activation="sigmoid",
        output="softmax",
        solver="lbfgs",
        max_iter=500,
        tol=1e-5,
        class_weight=None,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        verbose=0,
        random_state=None,
        hessian="exact",
    ):
        self.hidden_layer_size = hidden_layer_size
        self.reg_lambdas = reg_lambdas
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.activation = activation
        self.output = output
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.random_state = random_state
        self.hessian = hessian

    def _seeded_base(self):
        """The base model, its random state drawn once so that every fit starts alike."""
        random_state = self.random_state
        if not isinstance(random_state, (int, np.integer)):
            random_state = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        return self.base_estimator().set_params(random_state=random_state)

    def _fold_paths(self, data, fold_weights, reg_lambdas):
        base = self._seeded_base()
        start = self if self._warm_start_state() is not None else None
        labels, user_weight = data.classes[data.y_encoded], data.user_weight
        paths = Parallel(n_jobs=self.n_jobs)(
            delayed(refits_along)(
                base,
                _safe_indexing(data.X, train),
                labels[train],
                None if user_weight is None else user_weight[train],
                reg_lambdas,
                start,
            )
            for train, _ in data.folds
        )
        return _NetworkPaths(base, *zip(*paths, strict=True))

    def _refit(self, data, solved, best):
        fold_scores = [
            self.cv_results_[f"split{fold}_test_score"][self.best_index_]
            for fold in range(self.n_splits_)
        ]
        best_fold = solved.fits[int(np.argmax(fold_scores))][best]
        model = best_fold
        if self.refit:
            [model], _, [message] = refits_along(
                solved.base.set_params(reg_lambda=self.reg_lambda_),
                data.X,
                data.classes[data.y_encoded],
                data.user_weight,
                [self.reg_lambda_],
                start=best_fold,
            )
            if message is not None:
                warnings.warn(message, ConvergenceWarning, stacklevel=5)
        for name in ("coefs_", "intercepts_", "loss_", "loss_curve_"):
            setattr(self, name, getattr(model, name))
        # Every iteration of the search: each fold's path and the refit's.
        path_iterations = sum(fit.n_iter_ for fits in solved.fits for fit in fits)
        self.n_iter_ = path_iterations + (model.n_iter_ if self.refit else 0)
        self.validation_scores_ = model.validation_scores_
        self.best_validation_score_ = model.best_validation_score_


class _NetworkPaths:
    """The folds' networks along the path, in the order solved."""

    def __init__(self, base, fits, fit_times, warnings):
        self.base, self.fits, self.fit_times, self.warnings = base, fits, fit_times, warnings

    def held_out_logits(self, fold, X_test):
        """The logits of a fold's held-out rows at each λ."""
        return [model._logits(X_test) for model in self.fits[fold]]

    def model(self, search, fold, step):
        """The network fitted on a fold at the path's ``step``-th λ."""
        return self.fits[fold][step]
