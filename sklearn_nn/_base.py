"""What the estimators share: parameters, validation, weights, the fit skeleton, predictions.

A concrete estimator supplies only what differs: its objective (``_objective``),
its starting point (``_initial_params``), how θ maps to fitted attributes and back
(``_store_params`` / ``_fitted_params``) and its forward pass to logits
(``_logits``). Everything downstream of the logits (probabilities, log
probabilities, decisions, labels) depends only on the output head and lives here.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import log_expit, log_softmax, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin

# scikit-learn exposes no public path to its parameter-constraint types.
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _validation as checks
from ._callbacks import CallbackSupport, fit_as_task, report_iterations
from ._distributed import blockwise_on_dask, is_dask_collection, prepare_fit
from ._docstring import fill_doc
from ._objectives import LinearObjective, largest_magnitude, scan_rows
from ._path import minimize_objective
from ._solver_options import LINEAR_SOLVERS, SECOND_ORDER, SOLVERS


def _validate_finite(estimator, X, finite=True):
    """``validate_data`` of new X for our dtypes, quiet about its own overflow on huge X.

    scikit-learn tests finiteness by summing X first; on float32 X near its largest
    value the sum overflows (inf − inf) and numpy warns "invalid value encountered
    in reduce" before scikit-learn falls back to its element-wise test, which
    decides correctly. (``fit`` tests finiteness in its own pass, see ``_prepare``.)
    ``finite=False`` leaves that test out.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return validate_data(
            estimator,
            X,
            accept_sparse="csr",
            dtype=checks.FLOAT_DTYPES,
            reset=False,
            ensure_all_finite=finite,
        )


class BaseClassifier(CallbackSupport, ClassifierMixin, BaseEstimator):
    """Shared skeleton of every classifier in this package. Not for direct use."""

    _parameter_constraints: dict = {
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    #: Output head of the objective: "sigmoid" or "softmax" (see ``_objectives``).
    _head = None

    #: Whether the logits are affine in X, so that non-finite X makes them
    #: non-finite (a network's saturating units can map an infinity to 1).
    _logits_affine_in_X = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ----------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None):
        """Fit the model by minimising its regularised objective J.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is used as float32, without a float64 copy.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights, multiplied by ``class_weight``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # A failed or interrupted fit leaves the estimator exactly as it was (restored
        # after the callbacks' teardown, which needs the fit's callback context).
        previous_state = self.__dict__.copy()
        try:
            return fit_as_task(self, self._fit, X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise

    def _fit(self, X, y, sample_weight):
        previous_classes = self._warm_start_state()
        objective, classes, monitor = self._build_objective(X, y, sample_weight)
        theta0 = None
        if previous_classes is not None and np.array_equal(previous_classes, classes):
            theta0 = self._fitted_params(objective)
        if theta0 is None:
            theta0 = self._initial_params(objective)

        outcome = minimize_objective(
            objective,
            theta0,
            solver=self.solver,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            callback=report_iterations(
                self, objective, classes, self._optimizer_callback(objective, monitor)
            ),
        )
        theta, loss = outcome.x, outcome.loss
        if monitor is not None and monitor.best_theta is not None:
            theta = monitor.best_theta
            loss = objective.value_and_grad(theta)[0]
        self._store_monitoring(monitor)
        self.classes_ = classes
        self._store_params(objective, theta)
        self.n_iter_ = outcome.n_iter
        self._store_loss(objective, theta, loss, outcome.loss_curve)
        return self

    def _build_objective(self, X, y, sample_weight):
        """Validate the inputs of ``fit``; return its objective, classes and monitor.

        The encoded labels and combined weights die with this frame: the objective
        keeps what it needs (targets, weights scaled in X's dtype), and the
        optimisation, where the peak memory of a fit lies, runs without them.
        """
        if is_dask_collection(X):
            # Dask arrays: validated by Dask reductions, fitted by map-reduces over
            # their row chunks (``_distributed``); the optimizer is the same.
            X_fit, Y_fit, weights_fit, classes = self._prepare_dask(X, y, sample_weight)
            return self._objective(X_fit, Y_fit, weights_fit), classes, None
        X, y_encoded, classes, weights, class_sums = self._prepare(X, y, sample_weight)
        X_fit, y_fit, weights_fit, monitor = self._monitoring_split(X, y_encoded, weights)
        if X_fit is not X:
            class_sums = None  # rows held out: the objective sums its own rows
        # 0/1 targets as uint8: an (n, k) indicator takes 1 byte per entry instead of
        # 4 or 8; the heads cast a row block to X's dtype before using it.
        Y_fit = self._targets(y_fit, classes.size, np.uint8)
        del y_encoded, y_fit, weights  # not needed by the objective: freed before it is built
        return self._objective(X_fit, Y_fit, weights_fit, class_sums), classes, monitor

    def _prepare(self, X, y, sample_weight):
        """Validate the inputs of ``fit``; return X, encoded y, classes, weights, sums.

        X is read from memory once, by :func:`scan_rows`: its finiteness, its
        magnitude and its weighted row sums per class (the objective's mean row μ,
        and its J at the start) come from the same pass, not from three
        (scikit-learn's finiteness test alone reads all of X, a sixth of a binary
        logistic fit), and the first evaluation of J needs none. The checks
        themselves are those of a Dask fit (``_validation``).
        """
        self._validate_params()
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=checks.FLOAT_DTYPES, ensure_all_finite=False
        )
        classes, y_encoded = checks.encode_labels(y)
        checks.require_two_classes(classes, type(self).__name__)
        checks.require_previous_classes(self._warm_start_state(), classes)
        weights, weighting = checks.weigh_samples(
            sample_weight, X.shape[0], X.dtype, y_encoded, classes, self.class_weight
        )
        self._check_problem(X.shape, classes.size, weighting)
        largest, class_sums = scan_rows(
            X, weights, y_encoded, classes.size, bound=checks.LARGEST_FEATURE[X.dtype]
        )
        checks.check_features(largest, X.dtype)
        return X, y_encoded, classes, weights, class_sums

    def _prepare_dask(self, X, y, sample_weight):
        """Validate the Dask inputs of ``fit``; return X, Y, weights (Dask arrays), classes."""
        self._validate_params()
        prepared = prepare_fit(
            X,
            y,
            sample_weight,
            class_weight=self.class_weight,
            estimator_name=type(self).__name__,
            binary_in_one_column=self._head == "sigmoid",
            early_stopping=getattr(self, "early_stopping", False),
        )
        checks.require_previous_classes(self._warm_start_state(), prepared.classes)
        self._check_problem(prepared.X.shape, prepared.classes.size, prepared.weighting)
        self.n_features_in_ = prepared.X.shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return prepared.X, prepared.Y, prepared.sample_weight, prepared.classes

    #: Labels to ``classes_`` and codes (the function of ``_validation``).
    _encode_labels = staticmethod(checks.encode_labels)

    #: Largest penalty per unit of weight, reg_lambda / sum(sample_weight), that the
    #: model's solvers can take (None: any whose scaled λ is a float64).
    _penalty_limit = None

    def _check_problem(self, shape, n_classes, weighting):
        """Refuse a problem whose training would overflow: here, an extreme penalty."""
        for reg_lambda in self._penalties():
            checks.check_penalty(reg_lambda, weighting, self._penalty_limit)

    def _penalties(self):
        """The penalties λ a fit will use."""
        return [self.reg_lambda]

    def _store_loss(self, objective, theta, loss, loss_curve):
        """Keep ``loss_`` (J at the stored θ) and ``loss_curve_`` (J after every iteration)."""
        self.loss_ = loss
        self.loss_curve_ = loss_curve

    def _warm_start_state(self):
        """Return the classes of the previous fit when it should seed this one."""
        if self.warm_start and hasattr(self, "classes_"):
            return self.classes_
        return None

    def _monitoring_split(self, X, y_encoded, weights):
        """Split off held-out data scored during training; none by default."""
        return X, y_encoded, weights, None

    def _store_monitoring(self, monitor):
        """Keep what the held-out monitor recorded; nothing by default."""

    def _optimizer_callback(self, objective, monitor):
        """Per-iteration callback for the optimizer; none by default."""
        return None

    def _targets(self, y_encoded, n_classes, dtype):
        """Indicator matrix Y: one column for a binary sigmoid head, else one-hot."""
        return checks.indicator(y_encoded, n_classes, dtype, self._head == "sigmoid")

    # -------------------------------------------------------------- predicting
    def _validated_logits(self, X):
        check_is_fitted(self)
        # Affine logits in which every feature has a nonzero weight test X's
        # finiteness: a NaN or an infinity in X makes them non-finite, whatever the
        # BLAS (old reference BLAS skipped zero weights). One read of X, not two.
        by_logits = self._logits_affine_in_X and np.all(np.any(self.coef_ != 0, axis=0))
        X_new = _validate_finite(self, X, finite=not by_logits)
        with np.errstate(over="ignore", invalid="ignore"):
            Z = self._logits(X_new)
        if not np.all(np.isfinite(Z)):
            X = _validate_finite(self, X)  # refuses a NaN or an infinity in X
            # X is finite: only an overflow gets here, from features far larger
            # than those of the training data.
            raise ValueError(
                f"The logits overflow {Z.dtype} on this X (features of magnitude up "
                f"to {largest_magnitude(X):.3g}). {checks.scaling_advice(Z.dtype)}"
            )
        return Z

    @blockwise_on_dask
    @fill_doc
    def decision_function(self, X):
        """Confidence scores (logits) per sample.

        {predict_X}

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, one score per sample, positive meaning ``classes_[1]``;
            otherwise one logit per class.
        """
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            return Z[:, 0]
        if self._head == "softmax" and Z.shape[1] == 2:
            return Z[:, 1] - Z[:, 0]
        return Z

    @blockwise_on_dask
    @fill_doc
    def predict_log_proba(self, X):
        """Logarithm of class probabilities, computed from logits without overflow.

        {predict_X}

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        Z = self._validated_logits(X)
        # Logits ~1e38 apart in float32 give log-probabilities below −3.4e38: −inf
        # is their correctly rounded value, not an error.
        with np.errstate(over="ignore"):
            if self._head == "softmax":
                log_p = log_softmax(Z, axis=1)
            elif Z.shape[1] == 1:
                log_p = np.hstack([log_expit(-Z), log_expit(Z)])
            else:
                # One-vs-rest: the K sigmoid probabilities, normalised to sum to one.
                log_p = log_expit(Z)
                log_p -= logsumexp(log_p, axis=1, keepdims=True)
        if log_p.dtype == np.float32:
            # A float32 probability within 3e-8 of 1 is 1: its logarithm is then 0,
            # as predict_proba's would be (1 − p lives on in the other classes').
            log_p[np.exp(log_p) == 1] = 0
        return log_p

    @blockwise_on_dask
    @fill_doc
    def predict_proba(self, X):
        """Class probabilities, ``exp`` of :meth:`predict_log_proba`; rows sum to one.

        {predict_X}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            P(class | x), in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    @blockwise_on_dask
    @fill_doc
    def predict(self, X):
        """Predict class labels.

        {predict_X}

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            One of ``classes_`` per sample.
        """
        scores = self.decision_function(X)
        indices = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[indices]


class LinearClassifier(BaseClassifier):
    """A linear model ``Z = X Wᵀ + b`` under the head of the subclass."""

    _parameter_constraints: dict = {
        **BaseClassifier._parameter_constraints,
        "solver": [StrOptions(set(LINEAR_SOLVERS))],
    }

    def __init__(
        self,
        *,
        reg_lambda=1.0,
        solver="lbfgs",
        max_iter=500,
        tol=1e-5,
        class_weight=None,
        warm_start=False,
        verbose=0,
    ):
        self.reg_lambda = reg_lambda
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose

    def _objective(self, X, Y, weights, class_sums=None):
        # Only Hessian products reuse the curvature of the last evaluation.
        return LinearObjective(
            X,
            Y,
            weights,
            self.reg_lambda,
            self._head,
            keep_curvature=self.solver in SECOND_ORDER,
            class_sums=class_sums,
        )

    def _initial_params(self, objective):
        # Zeros: the course's start, independent of the data, so weighted and
        # repeated fits follow the same path.
        return np.zeros(objective.n_params)

    def _fitted_params(self, objective):
        if self.coef_.shape != (objective.n_outputs, objective.n_features):
            return None
        return objective.theta(self.coef_.T, self.intercept_)

    def _store_params(self, objective, theta):
        self._store_coefficients(*objective.model_params(theta))

    def _store_coefficients(self, W, b):
        """Keep the weights W (n_features, n_outputs) and intercepts b as fitted."""
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = np.array(b, dtype=np.float64)

    def _logits(self, X):
        Z = X @ self.coef_.T.astype(X.dtype, copy=False)
        Z += self.intercept_.astype(X.dtype, copy=False)
        return np.asarray(Z)
