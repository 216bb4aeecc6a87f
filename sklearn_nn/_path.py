"""Fits along a path of penalties λ, each solve warm-started from the one before.

The solutions of a model at nearby λ are close, so a path from the largest λ (the
most regularised, easiest fit) down to the smallest starts every solve near its
answer. For the linear models one objective serves the whole path (the data are
validated and scanned once, only λ changes), and it may hold several fits on the
same rows at once, the folds of a cross-validation, sharing each product with X.
"""

import copy
import itertools
import time
import warnings
from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch

from . import instrumentation
from ._optimize import REWHITEN_AFTER, minimize

__all__ = [
    "check_reg_lambdas",
    "minimize_objective",
    "recording_convergence",
    "refits_along",
    "regularization_path",
    "solve_path",
]


def minimize_objective(
    objective, theta0, *, solver, max_iter, tol, verbose=0, callback=None, first_evaluation=None
):
    """Minimise an objective of :mod:`~sklearn_nn._objectives` from θ0 (one fit).

    ``first_evaluation``, ``(θ0, J, ∇J)`` when the caller has evaluated J at θ0
    already, saves that evaluation.

    Returns
    -------
    OptimizeOutcome
        See :func:`~sklearn_nn._optimize.minimize`.
    """
    return minimize(
        objective.value_and_grad,
        theta0,
        solver=solver,
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        callback=callback,
        single_precision=objective.dtype == np.float32,
        smooth=objective.smooth,
        hessp=objective.hessp,
        hessian=getattr(objective, "newton_matrix", None),
        coordinates=objective.whitening(),
        refine=getattr(objective, "use_float64_products", None)
        if objective.dtype == np.float32
        else None,
        known=first_evaluation,
        rewhiten=getattr(objective, "curvature_whitening", None),
        rewhiten_cost=getattr(objective, "curvature_whitening_cost", None),
        rewhiten_after=getattr(objective, "curvature_whitening_after", REWHITEN_AFTER),
    )


def solve_path(objective, reg_lambdas, theta0, unconverged=None, **settings):
    """Minimise a linear objective at each λ in turn, each solve from the last solution.

    Parameters
    ----------
    objective : LinearObjective
        The problem; its penalty is set to each λ in turn.
    reg_lambdas : sequence of float
        The penalties, in the order solved (largest first, for a path).
    theta0 : ndarray
        Start of the first solve.
    unconverged : callable, optional
        ``unconverged(step, start, outcome, message) -> (outcome, message)``, called
        when the solve from ``start`` ends with a ConvergenceWarning; what it returns
        replaces that solve's result (and is where the next solve starts from).
    **settings
        ``solver``, ``max_iter``, ``tol`` and ``verbose``, as for
        :func:`minimize_objective`.

    Returns
    -------
    outcomes : list of OptimizeOutcome
        One per λ, in the order of ``reg_lambdas``.
    seconds : list of float
        The time each solve took.
    warnings : list of str or None
        The ConvergenceWarning of each solve (not emitted), or None.
    """
    outcomes, seconds, messages = [], [], []
    nodes = []  # (λ, θ) of the solves that moved: what predicts the next start
    secants = _Secants(objective)  # what corrects the prediction
    for step, reg_lambda in enumerate(reg_lambdas):
        start = time.perf_counter()
        last = outcomes[-1] if outcomes else None
        theta, first = _predicted_start(
            objective, reg_lambda, last, nodes, theta0, settings["tol"]
        )
        if last is not None:
            if theta is not last.x:
                secants.add(theta, first[2])
            theta, first = secants.corrected_start(first, settings["tol"])
        outcome, message = recording_convergence(
            minimize_objective, objective, theta, first_evaluation=first, **settings
        )
        if message is not None and unconverged is not None:
            outcome, message = unconverged(step, theta, outcome, message)
        seconds.append(time.perf_counter() - start)
        if last is None or not np.array_equal(outcome.x, last.x):
            nodes = [*nodes[-2:], (reg_lambda if reg_lambda > 0 else None, outcome.x)]
            secants.add(outcome.x, outcome.grad)
        outcomes.append(outcome)
        messages.append(message)
    return outcomes, seconds, messages


def _predicted_start(objective, reg_lambda, last, nodes, theta0, tol):
    """Set the penalty to ``reg_lambda``; return the start of its solve.

    The solution θ(λ) is a smooth curve: the polynomial through the last (up to
    three) solutions ``nodes`` predicts the next one far better than the ``last``
    solution alone (on standardised digits it halves a path's iterations), in the
    scale of λ that :func:`_interpolation_scale` chooses. The prediction is taken
    only if its J is below that of the last solution. The start's evaluation is
    returned with it, ``(θ, J, ∇J)``, for the solve to begin with.

    Where the last solution already meets ``tol`` under the new λ (at small λ on
    large data sets, where the penalty's change is below tol), it is the answer and
    no prediction is evaluated: that solve costs no pass over the data. It is not a
    node (it did not move), so the next prediction still follows the curve.
    """
    if last is None:
        objective.set_penalty(reg_lambda)
        return theta0, None
    penalty_before, gradient_before = objective.penalty(last.x), objective.penalty_gradient(last.x)
    objective.set_penalty(reg_lambda)
    # J and ∇J at the last solution under the new λ differ only by the penalty's
    # terms: that start needs no pass over the data.
    value_at_last = last.loss - penalty_before + objective.penalty(last.x)
    at_last = (
        last.x,
        value_at_last,
        last.grad - gradient_before + objective.penalty_gradient(last.x),
    )
    usable = len(nodes) >= 2 and reg_lambda > 0 and all(node is not None for node, _ in nodes)
    if not usable or np.max(np.abs(at_last[2]), initial=0.0) <= tol:
        return last.x, at_last
    lambdas, solutions = np.array([node for node, _ in nodes]), [solution for _, solution in nodes]
    scale = _interpolation_scale(lambdas, solutions)
    guess = _polynomial_through(scale(lambdas), solutions, scale(reg_lambda))
    value, grad = objective.value_and_grad(guess)
    instrumentation._record_evaluation()
    if value < value_at_last:
        return guess, (guess, value, grad)
    return last.x, at_last


#: The scales of λ in which a path's solutions are interpolated. θ(λ) is smooth in
#: log λ where the penalty's curvature λ/S is comparable with the data's, and
#: nearly a straight line in λ where it is far below it (many rows: the penalty
#: hardly bends the fit), as it is on the benchmark's 100 000 × 100 binary problem.
_SCALES = (np.log, np.asarray)


def _interpolation_scale(lambdas, solutions):
    """The scale of :data:`_SCALES` in which the path's last solutions lie straightest.

    Each scale's straight line through the first two of three solutions predicts
    the third (no pass: they are known); the scale that predicts it best is used
    for the next λ. Before there are three, log λ.

    Examples
    --------
    >>> lambdas = np.array([3.0, 2.0, 1.0])
    >>> _interpolation_scale(lambdas, [np.array([1.0 + t]) for t in lambdas]) is np.asarray
    True
    >>> _interpolation_scale(lambdas, [np.log([t]) for t in lambdas]) is np.log
    True
    """
    if len(solutions) < 3:
        return _SCALES[0]
    errors = [
        np.linalg.norm(
            _polynomial_through(scale(lambdas[:2]), solutions[:2], scale(lambdas[2]))
            - solutions[2]
        )
        for scale in _SCALES
    ]
    return _SCALES[int(np.argmin(errors))]


def _polynomial_through(points, values, at):
    """The polynomial through ``(points[i], values[i])`` at ``at`` (Lagrange's form)."""
    result = np.zeros_like(values[0])
    for i, value in enumerate(values):
        others = np.delete(points, i)
        result += np.prod((at - others) / (points[i] - others)) * value
    return result


class _Secants:
    """The curvature of J's data terms along a path, from its last points; a quasi-Newton step.

    The gradient G(θ) of J's data terms (∇J without the penalty) does not depend on
    λ, so its differences between the path's last ``MEMORY`` points (solutions and
    predictions) are secant pairs of the data terms' Hessian at every λ, to which the
    penalty adds its known curvature. From the predicted start, one quasi-Newton step
    with those pairs (L-BFGS's two-loop recursion, in the whitened coordinates, whose
    initial matrix I is the whitening's curvature) corrects the prediction. The
    nearest points hold the curvature where the path is: more of them did no better
    (benchmarks/README.md).
    """

    MEMORY = 3

    def __init__(self, objective):
        self.objective = objective
        self.points = []  # (θ, G(θ))

    def add(self, theta, grad):
        """Remember θ with ∇J(θ) at the current λ (kept as G, without the penalty)."""
        data_gradient = grad - self.objective.penalty_gradient(theta)
        self.points = [*self.points[1 - self.MEMORY :], (theta, data_gradient)]

    def corrected_start(self, first, tol):
        """The start ``first`` = (θ, J, ∇J) after one quasi-Newton step, if J falls there.

        Returned as ``(θ, (θ, J, ∇J))``: the evaluation at the new θ (one pass) is the
        solve's first. A start that meets tol is returned as it is.
        """
        theta, value, grad = first
        coordinates = self.objective.whitening()
        if coordinates is None or np.max(np.abs(grad), initial=0.0) <= tol:
            return theta, first
        pairs = []
        for (theta_0, g_0), (theta_1, g_1) in itertools.pairwise(self.points):
            step = theta_1 - theta_0
            s = coordinates.from_theta(step)
            y = coordinates.gradient_in_u(g_1 - g_0 + self.objective.penalty_gradient(step))
            if s @ y > 1e-12 * np.sqrt((s @ s) * (y @ y)):  # positive curvature: usable
                pairs.append((s, y))
        direction = coordinates.gradient_in_u(grad)
        alphas = []
        for s, y in reversed(pairs):
            alphas.append((s @ direction) / (s @ y))
            direction = direction - alphas[-1] * y
        for (s, y), alpha in zip(pairs, reversed(alphas), strict=True):
            direction = direction + (alpha - (y @ direction) / (s @ y)) * s
        candidate = theta - coordinates.to_theta(direction)
        candidate_value, candidate_grad = self.objective.value_and_grad(candidate)
        instrumentation._record_evaluation()
        if candidate_value < value:
            return candidate, (candidate, candidate_value, candidate_grad)
        return theta, first


def recording_convergence(fit, *args, **kwargs):
    """Run ``fit(*args, **kwargs)``; return its result and its ConvergenceWarning's text.

    The ConvergenceWarning (None if there was none) is returned instead of emitted:
    a search decides which of its fits' warnings concern the user. Other warnings
    pass through.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit(*args, **kwargs)
    message = None
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            message = str(warning.message)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return result, message


def check_reg_lambdas(reg_lambdas):
    """Return the penalties of a path as a 1-D float64 array, or raise a ValueError.

    Examples
    --------
    >>> check_reg_lambdas([10, 1, 0.1])
    array([10. ,  1. ,  0.1])
    >>> check_reg_lambdas([1.0, -1.0])
    Traceback (most recent call last):
    ...
    ValueError: reg_lambdas must be non-negative; got -1 at position 1.
    """
    if isinstance(reg_lambdas, Real):
        raise TypeError(
            f"reg_lambdas must be a sequence of penalties, got the number {reg_lambdas!r}."
        )
    try:
        values = np.asarray(reg_lambdas, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"reg_lambdas must be a sequence of numbers: {error}") from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"reg_lambdas must be a non-empty 1-D sequence, got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)):
        position = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValueError(
            f"reg_lambdas must be finite; got {values[position]} at position {position}."
        )
    if np.any(values < 0):
        position = int(np.flatnonzero(values < 0)[0])
        raise ValueError(
            f"reg_lambdas must be non-negative; got {values[position]:g} at position {position}."
        )
    return values


def regularization_path(estimator, X, y, reg_lambdas, *, sample_weight=None):
    """Fit a model at every penalty λ, from the largest down, each fit warm-started.

    Each fit starts from the solution at the previous, larger λ, where the model is
    close to its answer, so a path costs far less than separate fits. The linear
    models validate and scan X once and share one objective along the path; the
    network refits itself with ``warm_start=True`` (continuation from strong to weak
    regularisation, from the estimator's random initialisation).

    Parameters
    ----------
    estimator : RegLogisticClassifier, SoftmaxClassifier or TwoLayerMLPClassifier
        An estimator of this package; its ``reg_lambda`` is ignored, its other
        parameters used for every fit. It is not modified.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Class labels.
    reg_lambdas : array-like of shape (n_lambdas,)
        Penalties λ ≥ 0, in any order.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights.

    Returns
    -------
    path : Bunch
        ``reg_lambdas`` (as given), ``estimators`` (a fitted copy of ``estimator``
        at each λ, in the same order), ``n_iter`` and ``loss`` (J at each solution);
        for the linear models also ``coef`` (n_lambdas, n_outputs, n_features) and
        ``intercept`` (n_lambdas, n_outputs).

    See Also
    --------
    RegLogisticClassifierCV : Chooses λ by cross-validation along such paths.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from sklearn_nn import RegLogisticClassifier, regularization_path
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> path = regularization_path(RegLogisticClassifier(), scale(X), y, [100, 10, 1])
    >>> path.coef.shape
    (3, 1, 30)
    >>> bool(abs(path.coef[0]).sum() < abs(path.coef[2]).sum())  # shrunk at λ = 100
    True
    """
    from ._base import LinearClassifier  # which imports this module

    values = check_reg_lambdas(reg_lambdas)
    order = np.argsort(-values, kind="stable")
    if isinstance(estimator, LinearClassifier):
        fits = _linear_path(estimator, X, y, sample_weight, values[order])
    else:
        fits, _, messages = refits_along(estimator, X, y, sample_weight, values[order])
        _warn_about(values[order], messages)
    estimators = [None] * values.size
    for position, fitted in zip(order, fits, strict=True):
        estimators[position] = fitted
    path = Bunch(
        reg_lambdas=values,
        estimators=estimators,
        n_iter=np.array([fitted.n_iter_ for fitted in estimators]),
        loss=np.array([fitted.loss_ for fitted in estimators]),
    )
    if isinstance(estimator, LinearClassifier):
        path.coef = np.stack([fitted.coef_ for fitted in estimators])
        path.intercept = np.stack([fitted.intercept_ for fitted in estimators])
    return path


def _linear_path(estimator, X, y, sample_weight, reg_lambdas):
    """Fitted copies of a linear model along ``reg_lambdas`` (in that order), one objective."""
    # Validated at the largest λ: a penalty the weights can carry, they carry at any smaller.
    model = clone(estimator).set_params(reg_lambda=float(reg_lambdas[0]))
    objective, classes, _ = model._build_objective(X, y, sample_weight)
    outcomes, _, messages = solve_path(
        objective,
        reg_lambdas,
        model._initial_params(objective),
        solver=model.solver,
        max_iter=model.max_iter,
        tol=model.tol,
        verbose=model.verbose,
    )
    _warn_about(reg_lambdas, messages)
    fits = []
    for reg_lambda, outcome in zip(reg_lambdas, outcomes, strict=True):
        fitted = copy.copy(model).set_params(reg_lambda=float(reg_lambda))
        objective.set_penalty(reg_lambda)
        fitted.classes_ = classes
        fitted._store_params(objective, outcome.x)
        fitted.n_iter_ = outcome.n_iter
        fitted._store_loss(objective, outcome.x, outcome.loss, outcome.loss_curve)
        fits.append(fitted)
    return fits


def refits_along(estimator, X, y, sample_weight, reg_lambdas, start=None):
    """Refit a model with ``warm_start`` along ``reg_lambdas`` (in that order).

    ``start``, a fitted model of the same classes and shapes, seeds the first fit;
    without it the first fit starts from the estimator's initialisation.

    Returns
    -------
    fits : list of estimators
        A fitted copy at each λ.
    seconds : list of float
        The time each fit took.
    warnings : list of str or None
        The ConvergenceWarning of each fit (not emitted), or None.
    """
    model = clone(estimator).set_params(warm_start=True)
    if start is not None:
        model.__dict__.update(copy.deepcopy(_fitted_attributes(start)))
    fits, seconds, messages = [], [], []
    for reg_lambda in reg_lambdas:
        begin = time.perf_counter()
        model.set_params(reg_lambda=float(reg_lambda))
        _, message = recording_convergence(model.fit, X, y, sample_weight)
        seconds.append(time.perf_counter() - begin)
        messages.append(message)
        fits.append(copy.deepcopy(model).set_params(warm_start=estimator.warm_start))
        if _predicts_a_constant(model, X):
            # A penalty strong enough to zero the network's weights leaves it at a
            # stationary point (W = 0: no gradient reaches either layer), from which
            # no smaller λ can move it: the next fit starts from the initialisation.
            model = clone(estimator).set_params(warm_start=True)
    return fits, seconds, messages


def _warn_about(reg_lambdas, messages):
    """Emit the ConvergenceWarnings of a path's fits, each with its λ."""
    for reg_lambda, message in zip(reg_lambdas, messages, strict=True):
        if message is not None:
            warnings.warn(
                f"At reg_lambda={reg_lambda:.6g}: {message}", ConvergenceWarning, stacklevel=3
            )


def _predicts_a_constant(model, X, rows=1000):
    """Whether the model's logits are the same for every row (among the first ``rows``)."""
    Z = np.atleast_2d(model.decision_function(X[:rows]).T).T
    spread = np.ptp(Z, axis=0).max()
    return bool(spread <= 1e-6 * max(1.0, float(np.abs(Z).max())))


def _fitted_attributes(model):
    """The attributes a fit sets: public names ending in an underscore."""
    return {
        name: value
        for name, value in vars(model).items()
        if name.endswith("_") and not name.startswith("_")
    }
