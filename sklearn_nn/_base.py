"""What the estimators share: parameters, validation, weights, the fit skeleton, predictions.

A concrete estimator supplies only what differs: its objective (``_objective``),
its starting point (``_initial_params``), how θ maps to fitted attributes and back
(``_store_params`` / ``_fitted_params``) and its forward pass to logits
(``_logits``). Everything downstream of the logits (probabilities, log
probabilities, decisions, labels) depends only on the output head and lives here.
"""

import numbers
from numbers import Integral, Real

import numpy as np
from scipy.special import log_expit, log_softmax, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import assert_all_finite, check_array

# scikit-learn exposes no public path to its parameter-constraint types.
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._callbacks import CallbackSupport, fit_as_task, report_iterations
from ._distributed import DaskLinearObjective, is_dask_collection, predict_blocks, prepare_fit
from ._objectives import LinearObjective, class_totals, largest_magnitude, scan_rows
from ._optimize import SECOND_ORDER, SOLVERS, minimize

_FLOAT_DTYPES = (np.float64, np.float32)

#: Largest feature magnitude ``fit`` accepts, per dtype. The Hessian products of
#: second-order solvers grow like |x|³ and the solvers' curvature estimates like
#: |x|⁴; these bounds keep both finite (with weights scaled to at most 1) for any
#: realistic n_samples × n_features, where larger features would overflow.
_LARGEST_FEATURE = {np.dtype(np.float64): 2.0**200, np.dtype(np.float32): 2.0**30}


def _scaling_advice(dtype):
    advice = "Scale the features (e.g. with sklearn.preprocessing.StandardScaler)"
    return advice + (" or pass X as float64." if dtype == np.float32 else ".")


def _validate_finite(estimator, X):
    """``validate_data`` of new X for our dtypes, quiet about its own overflow on huge X.

    scikit-learn tests finiteness by summing X first; on float32 X near its largest
    value the sum overflows (inf − inf) and numpy warns "invalid value encountered
    in reduce" before scikit-learn falls back to its element-wise test, which
    decides correctly. (``fit`` tests finiteness in its own pass, see ``_prepare``.)
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return validate_data(estimator, X, accept_sparse="csr", dtype=_FLOAT_DTYPES, reset=False)


def _is_small_integer_range(y):
    """Whether y is a vector of non-negative integers no larger than its length."""
    return (
        y.ndim == 1 and y.dtype.kind in "iu" and y.size > 0 and 0 <= y.min() and y.max() <= y.size
    )


def _encode_by_counting(y):
    """``classes_`` and codes of non-negative integer labels by counting, not sorting.

    The same result as :func:`numpy.unique` and :func:`numpy.searchsorted`, in O(n)
    instead of O(n log n): a fifth of the time on 200 000 labels.
    """
    present = np.bincount(y) > 0
    classes = np.flatnonzero(present).astype(y.dtype)
    code_of = np.cumsum(present) - 1  # the index in classes of each present label
    return classes, code_of.astype(np.min_scalar_type(classes.size - 1))[y]


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

        outcome = minimize(
            objective.value_and_grad,
            theta0,
            solver=self.solver,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            callback=report_iterations(
                self, objective, classes, self._optimizer_callback(objective, monitor)
            ),
            single_precision=objective.dtype == np.float32,
            smooth=objective.smooth,
            hessp=objective.hessp,
            coordinates=objective.whitening(),
        )
        theta, loss = outcome.x, outcome.loss
        if monitor is not None and monitor.best_theta is not None:
            theta = monitor.best_theta
            loss = objective.value_and_grad(theta)[0]
        self._store_monitoring(monitor)
        self.classes_ = classes
        self._store_params(objective, theta)
        self.n_iter_ = outcome.n_iter
        self.loss_ = loss
        self.loss_curve_ = outcome.loss_curve
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
            X_fit, Y_fit, weights_fit, classes = prepare_fit(self, X, y, sample_weight)
            return self._objective(X_fit, Y_fit, weights_fit), classes, None
        X, y_encoded, classes, weights, class_sums = self._prepare(X, y, sample_weight)
        X_fit, y_fit, weights_fit, monitor = self._monitoring_split(X, y_encoded, weights)
        if X_fit is not X:
            class_sums = None  # rows held out: the objective sums its own rows
        # 0/1 targets as uint8: an (n, k) indicator takes 1 byte per entry instead of
        # 4 or 8; the heads cast a row block to X's dtype (a few µs) before using it.
        Y_fit = self._targets(y_fit, classes.size, np.uint8)
        del y_encoded, y_fit, weights  # not needed by the objective: freed before it is built
        return self._objective(X_fit, Y_fit, weights_fit, class_sums), classes, monitor

    def _prepare(self, X, y, sample_weight):
        """Validate the inputs of ``fit``; return X, encoded y, classes, weights, sums.

        X is read from memory once, by :func:`scan_rows`: its finiteness, its
        magnitude and its weighted row sums per class (the objective's mean row μ,
        and its J at the start) come from the same pass, not from three
        (scikit-learn's finiteness test alone reads all of X, a sixth of a binary
        logistic fit), and the first evaluation of J needs none.
        """
        self._validate_params()
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=_FLOAT_DTYPES, ensure_all_finite=False
        )
        classes, y_encoded = self._encode_labels(y)
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y; "
                f"got 1 class: {classes.tolist()[0]!r}."
            )
        weights = self._combined_weights(sample_weight, X, classes, y_encoded)
        largest, class_sums = scan_rows(X, weights, y_encoded, classes.size)
        if not np.isfinite(largest):
            # scikit-learn's own test, for its own message (only on non-finite X).
            assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
        self._check_magnitude(largest, X.dtype)
        return X, y_encoded, classes, weights, class_sums

    @staticmethod
    def _encode_labels(y):
        """Return ``classes_`` (sorted unique labels) and each label's index in it."""
        try:
            if _is_small_integer_range(y):
                # Integer labels always pass check_classification_targets (it calls
                # them binary or multiclass), whose sort would cost more than this.
                return _encode_by_counting(y)
            check_classification_targets(y)
            classes = np.unique(y)
            # The same codes as np.unique(y, return_inverse=True), whose sorting
            # temporaries peak at 5x the labels' size (8 MB for 200 000 int64 labels,
            # the largest allocation of a whole linear fit) against 1x here; kept in
            # the smallest integer type (uint8 up to 256 classes), 1/8 of int64.
            codes = np.searchsorted(classes, y)
            return classes, codes.astype(np.min_scalar_type(classes.size - 1))
        except TypeError as error:
            types = sorted({type(label).__name__ for label in np.ravel(y)})
            if len(types) < 2:
                raise
            # numpy's own message ("'<' not supported between instances ...")
            # does not say that the labels are the problem.
            raise TypeError(
                f"The labels in y mix types {types} that cannot be sorted into "
                "classes_; use labels of one type (e.g. convert them all to str)."
            ) from error

    @staticmethod
    def _check_magnitude(largest, dtype):
        """Refuse features too large for the products of training in ``dtype``."""
        limit = _LARGEST_FEATURE[np.dtype(dtype)]
        if largest > limit:
            raise ValueError(
                f"Input X has features of magnitude up to {float(largest):.3g}; in "
                f"{np.dtype(dtype).name} the products of training overflow beyond "
                f"{limit:.3g}. {_scaling_advice(dtype)}"
            )

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
        if self._head == "sigmoid" and n_classes == 2:
            return (y_encoded == 1).astype(dtype)[:, None]
        Y = np.zeros((y_encoded.size, n_classes), dtype=dtype)
        Y[np.arange(y_encoded.size), y_encoded] = 1
        return Y

    def _combined_weights(self, sample_weight, X, classes, y_encoded):
        """Per-sample weights s_i = sample_weight_i × class_weight[y_i], validated."""
        # Given weights stay float64 whatever X's dtype: a float32 objective receives
        # them scaled by a power of two to at most 1 (see ``scaled_weights``), so that
        # weights beyond float32's range are no reason to fail. Unit weights are made
        # in X's dtype, as the objectives use them: then nothing copies them.
        n_samples = X.shape[0]
        if sample_weight is None:
            sample_weight = np.ones(n_samples, dtype=X.dtype)
        elif isinstance(sample_weight, numbers.Real):
            sample_weight = np.full(n_samples, float(sample_weight))
        else:
            sample_weight = check_array(
                sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
            )
            if sample_weight.shape != (n_samples,):
                raise ValueError(
                    f"sample_weight must have shape ({n_samples},) to match X; "
                    f"got {sample_weight.shape}."
                )
        if np.any(sample_weight < 0):
            raise ValueError(
                f"sample_weight must be non-negative; got minimum {sample_weight.min()!r}."
            )
        if not np.any(sample_weight > 0):
            raise ValueError("sample_weight is zero for every sample; J would be 0/0.")

        self._require_weight_in_every_class(sample_weight, classes, y_encoded)
        if self.class_weight == "balanced":
            # Balanced weights from *weighted* class totals, so that an integer weight
            # stays equivalent to a repeated row (compute_class_weight only learned
            # sample_weight in scikit-learn 1.7; we support 1.6).
            totals = class_totals(y_encoded, sample_weight, classes.size)
            per_class = totals.sum() / (classes.size * totals)
        elif self.class_weight is None:
            return sample_weight
        else:
            per_class = compute_class_weight(self.class_weight, classes=classes, y=classes)
        weights = sample_weight * per_class[y_encoded]
        self._require_weight_in_every_class(weights, classes, y_encoded)
        return weights

    @staticmethod
    def _require_weight_in_every_class(weights, classes, y_encoded):
        totals = class_totals(y_encoded, weights, classes.size)
        if not np.all(totals > 0):
            empty = classes[totals <= 0].tolist()
            raise ValueError(
                "Every class needs a positive total weight (sample_weight × class_weight); "
                f"class(es) {empty} have zero or negative total weight. Drop those samples "
                "or give them positive weight."
            )

    # -------------------------------------------------------------- predicting
    def _validated_logits(self, X):
        check_is_fitted(self)
        X = _validate_finite(self, X)
        with np.errstate(over="ignore", invalid="ignore"):
            Z = self._logits(X)
        if not np.all(np.isfinite(Z)):
            # X is finite: only an overflow gets here, from features far larger
            # than those of the training data.
            raise ValueError(
                f"The logits overflow {Z.dtype} on this X (features of magnitude up "
                f"to {largest_magnitude(X):.3g}). {_scaling_advice(Z.dtype)}"
            )
        return Z

    def decision_function(self, X):
        """Confidence scores (logits) per sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, one score per sample, positive meaning ``classes_[1]``;
            otherwise one logit per class.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "decision_function", X)
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            return Z[:, 0]
        if self._head == "softmax" and Z.shape[1] == 2:
            return Z[:, 1] - Z[:, 0]
        return Z

    def predict_log_proba(self, X):
        """Logarithm of class probabilities, computed from logits without overflow.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict_log_proba", X)
        Z = self._validated_logits(X)
        # Logits ~1e38 apart in float32 give log-probabilities below −3.4e38: −inf
        # is their correctly rounded value, not an error.
        with np.errstate(over="ignore"):
            if self._head == "softmax":
                return log_softmax(Z, axis=1)
            if Z.shape[1] == 1:
                return np.hstack([log_expit(-Z), log_expit(Z)])
            # One-vs-rest: the K sigmoid probabilities, normalised to sum to one.
            log_p = log_expit(Z)
            return log_p - logsumexp(log_p, axis=1, keepdims=True)

    def predict_proba(self, X):
        """Class probabilities; rows sum to one.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict_proba", X)
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            One of ``classes_`` per sample.
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict", X)
        scores = self.decision_function(X)
        indices = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[indices]


class LinearClassifier(BaseClassifier):
    """A linear model ``Z = X Wᵀ + b`` under the head of the subclass."""

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
        args = (X, Y, weights, self.reg_lambda, self._head)
        if is_dask_collection(X):
            return DaskLinearObjective(*args)
        # Only Hessian products reuse the curvature of the last evaluation.
        return LinearObjective(
            *args, keep_curvature=self.solver in SECOND_ORDER, class_sums=class_sums
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
        W, b = objective.model_params(theta)
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = b

    def _logits(self, X):
        Z = X @ self.coef_.T.astype(X.dtype, copy=False)
        Z += self.intercept_.astype(X.dtype, copy=False)
        return np.asarray(Z)
