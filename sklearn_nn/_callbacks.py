"""scikit-learn's callback API (``sklearn.callback``, scikit-learn ≥ 1.9) for our fits.

Where it exists, the estimators have ``set_callbacks`` (from
:class:`sklearn.callback.CallbackSupportMixin`), a fit is one callback task, and every
accepted optimizer iterate -- of every solver, restarts and gradient steps included --
ends one subtask named "iteration", whose ``fitted_estimator`` is the model at that
iterate. So :class:`~sklearn.callback.ProgressBar` and
:class:`~sklearn.callback.ScoringMonitor` work, also propagated from a ``Pipeline`` or
``GridSearchCV``, and a callback whose ``on_fit_task_end`` returns True stops the fit
at that iterate (without a ConvergenceWarning). On older scikit-learn the estimators
fit exactly as without callbacks (docs/callbacks.md).
"""

import copy

from ._optimize import StopTraining

__all__ = ["CallbackSupport", "fit_as_task", "load_callback_api", "report_iterations"]


def load_callback_api():
    """Return ``(CallbackSupportMixin, with_callbacks)``, or None before scikit-learn 1.9.

    Returns
    -------
    tuple or None
        The mixin that gives estimators ``set_callbacks`` and the decorator that tears
        callbacks down after a fit; None where ``sklearn.callback`` does not exist.

    Examples
    --------
    >>> api = load_callback_api()
    >>> api is None or hasattr(api[0], "set_callbacks")
    True
    """
    try:
        from sklearn.callback import CallbackSupportMixin, with_callbacks
    except ImportError:
        return None
    return CallbackSupportMixin, with_callbacks


class _NoCallbackSupport:
    """Stands in for ``CallbackSupportMixin`` on scikit-learn < 1.9: adds nothing."""


_API = load_callback_api()
#: The first base of every estimator here: scikit-learn's mixin where it exists.
CallbackSupport = _NoCallbackSupport if _API is None else _API[0]


def fit_as_task(estimator, fit, X, y, sample_weight, api=_API):
    """Run ``fit(X, y, sample_weight)`` as the estimator's callback task.

    Parameters
    ----------
    estimator : BaseClassifier
        The estimator being fitted.
    fit : callable
        Its fit proper, ``fit(X, y, sample_weight)``.
    X, y, sample_weight
        The arguments of ``fit``, handed to the callbacks as scikit-learn's do.
    api : tuple or None, default: this scikit-learn's
        :func:`load_callback_api`'s answer; None runs ``fit`` alone.

    Returns
    -------
    estimator : BaseClassifier
        The fitted estimator.
    """
    if api is None:
        return fit(X, y, sample_weight)
    return api[1](_run_task)(estimator, fit, X, y, sample_weight)


def _run_task(estimator, fit, X, y, sample_weight):
    """The fit between the root task's begin and end hooks (within ``with_callbacks``)."""
    # Iterations are at most max_iter subtasks, plus the one begun after the last.
    context = estimator._init_callback_context(max_subtasks=estimator.max_iter + 1)
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    context.call_on_fit_task_begin(estimator=estimator, X=X, y=y, metadata=metadata)
    task = _FitTask(context, X, y, metadata)
    estimator._callback_task = task
    try:
        fit(X, y, sample_weight)
        task.close(estimator)
    finally:
        del estimator._callback_task
    context.call_on_fit_task_end(
        estimator=estimator, X=X, y=y, metadata=metadata, reconstruction_attributes={}
    )
    return estimator


class _FitTask:
    """What the iteration reports need of the fit task: its context and data."""

    def __init__(self, context, X, y, metadata):
        self.context, self.X, self.y, self.metadata = context, X, y, metadata
        self.reporter = None

    def close(self, estimator):
        """End the subtask begun after the last iterate (an empty task, as scikit-learn's)."""
        if self.reporter is not None:
            self.reporter.iteration.call_on_fit_task_end(estimator=estimator)
            self.reporter = None


def report_iterations(estimator, objective, classes, callback):
    """Return the optimizer's per-iteration callback, reporting to the estimator's callbacks.

    Parameters
    ----------
    estimator : BaseClassifier
        The estimator being fitted.
    objective : object
        Its objective (for the model at an iterate, through ``_store_params``).
    classes : ndarray
        The classes of this fit.
    callback : callable or None
        The estimator's own per-iteration callback (early stopping), run after the
        report; it may raise :class:`~sklearn_nn._optimize.StopTraining`.

    Returns
    -------
    callable or None
        ``callback`` itself when no scikit-learn callback is set.
    """
    task = getattr(estimator, "_callback_task", None)
    if task is None or not getattr(estimator, "_skl_callbacks", None):
        return callback
    task.reporter = _IterationReporter(estimator, task, objective, classes, callback)
    return task.reporter


class _IterationReporter:
    """One callback subtask per iterate: ended by the iterate, then the next one begun."""

    def __init__(self, estimator, task, objective, classes, callback):
        self.estimator, self.task = estimator, task
        self.objective, self.classes, self.callback = objective, classes, callback
        self.iteration = self._begin()

    def _begin(self):
        context = self.task.context.subcontext(task_name="iteration")
        context.call_on_fit_task_begin(
            estimator=self.estimator, X=self.task.X, y=self.task.y, metadata=self.task.metadata
        )
        return context

    def __call__(self, iteration, theta, loss):
        stop = self.iteration.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.task.X,
            y=self.task.y,
            metadata=self.task.metadata,
            # Evaluated only when a callback asks for the fitted estimator.
            reconstruction_attributes=lambda: self._fitted_attributes(theta),
        )
        self.iteration = self._begin()
        if self.callback is not None:
            self.callback(iteration, theta, loss)
        if stop:
            raise StopTraining

    def _fitted_attributes(self, theta):
        """The fitted attributes of the model at θ, set on a copy of the estimator."""
        probe = copy.copy(self.estimator)
        probe._store_params(self.objective, theta)
        probe.classes_ = self.classes
        return {
            name: value
            for name, value in vars(probe).items()
            if name.endswith("_") and not name.startswith("_")
        }
