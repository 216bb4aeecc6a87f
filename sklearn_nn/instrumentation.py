"""Look inside a fit: the objective it minimises, and the passes over X it makes.

Two tools for benchmarks, experiments and teaching, next to the estimators'
public interface:

* :func:`objective` returns the objective J that ``fit`` would minimise on the
  given data (validation, label encoding, sample and class weights, the network's
  held-out split, exactly as ``fit`` does them), with its value and gradient, its
  Hessian-vector product and the point ``fit`` starts from: to time one
  evaluation, to evaluate J at another model's parameters, or to drive an
  optimizer of one's own.
* :func:`count_passes` counts, while it is open, the evaluations of J and ∇J and
  the Hessian-vector products that fits make through their optimizer; each reads
  the training rows once.

It also names the solvers: ``SOLVERS``, every value the ``solver`` parameter of
every estimator accepts, ``LINEAR_SOLVERS``, those of the linear models (also
``"trust-exact"``, which factorises their dense Hessian), and
``SECOND_ORDER_SOLVERS``, those that multiply by the Hessian (through ``hessp``).
"""

import contextlib

import numpy as np
from sklearn.base import clone

__all__ = [
    "LINEAR_SOLVERS",  # noqa: F822 (provided by __getattr__ below)
    "SECOND_ORDER_SOLVERS",  # noqa: F822
    "SOLVERS",  # noqa: F822
    "Objective",
    "PassCounter",
    "count_passes",
    "objective",
]


def __getattr__(name):
    # The solver names, as tuples, read from ``_solver_options`` when first asked.
    if name in ("SOLVERS", "LINEAR_SOLVERS", "SECOND_ORDER_SOLVERS"):
        from ._solver_options import LINEAR_SOLVERS, SECOND_ORDER, SOLVERS

        if name == "SOLVERS":
            return tuple(SOLVERS)
        if name == "LINEAR_SOLVERS":
            return tuple(LINEAR_SOLVERS)
        return tuple(solver for solver in SOLVERS if solver in SECOND_ORDER)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------ objective
class Objective:
    """The objective J of one estimator on one data set, as ``fit`` builds it.

    Returned by :func:`objective`; not built directly. θ is the flat float64 vector
    of parameters that the optimizer of ``fit`` works on. Its layout is internal
    (the intercepts are taken at the data mean): convert a model's parameters with
    :meth:`point_of` rather than by hand.

    Parameters
    ----------
    inner : object
        The estimator's internal objective.
    start : ndarray of shape (n_params,)
        The point ``fit`` starts from.

    Attributes
    ----------
    n_params : int
        Length of θ.

    See Also
    --------
    objective : Build the objective of an estimator on data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn import SoftmaxClassifier
    >>> from sklearn_nn.instrumentation import objective
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 2])
    >>> J = objective(SoftmaxClassifier(), X, y)
    >>> J.n_params  # one weight and one intercept per class
    6
    """

    def __init__(self, inner, start):
        self._objective = inner
        self._start = start
        self.n_params = int(inner.n_params)

    def value_and_grad(self, theta):
        """J(θ) and its gradient ∇J(θ).

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            The point, float64.

        Returns
        -------
        value : float
            J(θ).
        grad : ndarray of shape (n_params,)
            ∇J(θ), float64.
        """
        value, grad = self._objective.value_and_grad(np.asarray(theta, dtype=np.float64))
        return float(value), grad

    def hessp(self, theta, v):
        """The product H(θ)·v of the Hessian of J at θ with a vector v.

        For a network, H is the curvature its ``hessian`` parameter chooses (the
        exact Hessian or the Gauss-Newton matrix).

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
            The point, float64.
        v : ndarray of shape (n_params,)
            The vector.

        Returns
        -------
        product : ndarray of shape (n_params,)
            H(θ)·v, float64.
        """
        theta = np.asarray(theta, dtype=np.float64)
        return self._objective.hessp(theta, np.asarray(v, dtype=np.float64))

    def initial_point(self):
        """The point θ₀ that ``fit`` starts from, as a fresh copy.

        Zeros for the linear models; for a network, its seeded initialisation
        (drawn once, when the objective was built: with an integer
        ``random_state`` the start of every ``fit``). A warm start from a previous
        fit is not reflected.

        Returns
        -------
        theta0 : ndarray of shape (n_params,)
            The starting point, float64.
        """
        return self._start.copy()

    def point_of(self, coef, intercept):
        """The point θ of the model with the given parameters.

        Parameters
        ----------
        coef : array-like or list of array-like
            Linear models: ``coef_`` of shape (n_outputs, n_features), as the
            estimators (and scikit-learn's linear models) store it. Network:
            ``coefs_``, the list ``[W1, W2]``.
        intercept : array-like or list of array-like
            Linear models: ``intercept_`` of shape (n_outputs,). Network:
            ``intercepts_``, the list ``[b1, b2]``.

        Returns
        -------
        theta : ndarray of shape (n_params,)
            The same model as a point of J, float64.
        """
        if isinstance(coef, (list, tuple)):
            (W1, W2), (b1, b2) = coef, intercept
            params = [np.asarray(p, dtype=np.float64) for p in (W1, b1, W2, b2)]
            return self._objective.theta(*params)
        coef = np.asarray(coef, dtype=np.float64)
        return self._objective.theta(coef.T, np.asarray(intercept, dtype=np.float64))


def objective(estimator, X, y, sample_weight=None):
    """The objective J that ``estimator.fit(X, y, sample_weight)`` would minimise.

    J is built exactly as ``fit`` builds it: the inputs validated, the labels
    encoded, sample and class weights combined, the held-out split of a network
    with ``early_stopping`` taken off; in memory, or over the chunks of Dask
    arrays. The estimator itself is neither fitted nor modified (a clone is used).

    Parameters
    ----------
    estimator : RegLogisticClassifier, SoftmaxClassifier or TwoLayerMLPClassifier
        Supplies the model and its parameters (λ, class weights, the network's
        shape, ...); fitted or not.
    X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
        Training data, as for ``fit``.
    y : array-like of shape (n_samples,)
        Labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights, as for ``fit``.

    Returns
    -------
    Objective
        J with ``n_params``, ``value_and_grad``, ``hessp``, ``initial_point`` and
        ``point_of``.

    See Also
    --------
    count_passes : Count the evaluations that fits make.
    sklearn_nn.gradient_check : Check ∇J against finite differences of J.

    Examples
    --------
    J at the fitted model is the fit's final loss:

    >>> import numpy as np
    >>> from sklearn_nn import RegLogisticClassifier
    >>> from sklearn_nn.instrumentation import objective
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(50, 3)), rng.randint(2, size=50)
    >>> clf = RegLogisticClassifier(reg_lambda=1.0).fit(X, y)
    >>> J = objective(clf, X, y)
    >>> value, grad = J.value_and_grad(J.point_of(clf.coef_, clf.intercept_))
    >>> bool(np.isclose(value, clf.loss_))
    True
    >>> round(J.value_and_grad(J.initial_point())[0], 4)  # θ = 0: every probability 1/2
    0.6931
    """
    estimator = clone(estimator)
    inner, _, _ = estimator._build_objective(X, y, sample_weight)
    start = np.asarray(estimator._initial_params(inner), dtype=np.float64)
    return Objective(inner, start)


# --------------------------------------------------------------- pass counts
#: The counters of the open ``count_passes`` blocks, innermost last.
_ACTIVE = []


class PassCounter:
    """Evaluations and Hessian-vector products counted by :func:`count_passes`.

    Yielded by :func:`count_passes`, whose block it counts; its figures stay readable
    after the block has ended.

    Attributes
    ----------
    evaluations : int
        Evaluations of J and ∇J made by the optimizer of a fit (a repeated point,
        answered from the optimizer's memory, is not counted).
    hessian_products : int
        Hessian-vector products (second-order solvers only).
    hessians : int
        Dense Hessians formed (``solver="trust-exact"`` only). Each reads the rows
        once too, but costs (d + 1) multiply-adds per row and feature for every
        coupled pair of outputs, against an evaluation's 2 per output.
    passes : int
        Their sum: each reads the training rows once.

    See Also
    --------
    count_passes : The context manager that yields it.
    objective : The objective whose evaluations a fit makes.

    Examples
    --------
    >>> from sklearn_nn.instrumentation import PassCounter
    >>> PassCounter().passes
    0
    """

    def __init__(self):
        self.evaluations = 0
        self.hessian_products = 0
        self.hessians = 0

    @property
    def passes(self):
        """Evaluations, Hessian-vector products and dense Hessians."""
        return self.evaluations + self.hessian_products + self.hessians

    def __repr__(self):
        return (
            f"PassCounter(evaluations={self.evaluations}, "
            f"hessian_products={self.hessian_products}, hessians={self.hessians})"
        )


@contextlib.contextmanager
def count_passes():
    """Count the passes over the training rows that fits make while the block runs.

    Counted where a fit's optimizer asks its objective for a new evaluation of J
    and ∇J, or for a Hessian-vector product: each reads the training rows once. The
    set-up of a fit (validation, the scan of X for the data mean, the whitening of
    the linear models) is not counted, nor is scoring held-out data. Blocks nest:
    every open block counts. Counts are global: fits running in other threads
    meanwhile are included.

    Yields
    ------
    PassCounter
        Its counts grow while the block runs and stay readable after it.

    See Also
    --------
    objective : The objective whose evaluations are counted.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_nn import RegLogisticClassifier
    >>> from sklearn_nn.instrumentation import count_passes
    >>> X, y = make_classification(n_samples=50, n_features=3, n_redundant=0, random_state=0)
    >>> with count_passes() as counted:
    ...     clf = RegLogisticClassifier(solver="newton-cg").fit(X, y)
    >>> counted.evaluations > clf.n_iter_ and counted.hessian_products > 0
    True
    >>> counted.passes == counted.evaluations + counted.hessian_products
    True
    """
    counter = PassCounter()
    _ACTIVE.append(counter)
    try:
        yield counter
    finally:
        _ACTIVE.remove(counter)


def _record_evaluation():
    """Book one evaluation of J and ∇J in every open counter (called by the optimizer)."""
    for counter in _ACTIVE:
        counter.evaluations += 1


def _record_hessian():
    """Book one dense Hessian in every open counter (called by the optimizer)."""
    for counter in _ACTIVE:
        counter.hessians += 1


def _record_hessian_product():
    """Book one Hessian-vector product in every open counter (called by the optimizer)."""
    for counter in _ACTIVE:
        counter.hessian_products += 1
