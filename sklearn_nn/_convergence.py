"""When a fit has converged, stalled or levelled off, and the warning when it has not.

The tests :func:`~sklearn_nn._optimize.minimize` applies to every solver's iterates
(the stopping rule ‖∇J‖∞ ≤ tol itself is one line there), and the one
:class:`~sklearn.exceptions.ConvergenceWarning` a fit that ended above tol emits.
"""

import os
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "FLOAT64_ROUNDING",
    "NONSMOOTH_WINDOW",
    "inf_norm",
    "levelled_off",
    "no_progress",
    "warn_unconverged",
]

#: Rounding of a float64 sum J, relative to max(|J|, 1).
FLOAT64_ROUNDING = 4 * np.finfo(np.float64).eps
#: Iterations over which a piecewise-smooth J that fell by less than tol has converged.
NONSMOOTH_WINDOW = 10


def inf_norm(vector):
    """‖v‖∞, 0 for an empty vector."""
    return float(np.abs(vector).max()) if vector.size else 0.0


def no_progress(before, after, rounding=FLOAT64_ROUNDING):
    """Whether J fell by no more than ``rounding`` · max(|J|, 1); inf − inf: no progress."""
    return not before - after > rounding * max(abs(after), 1.0)


def levelled_off(loss_curve, tol):
    """Tell whether the last NONSMOOTH_WINDOW iterations lowered J by under tol·max(|J|, 1)."""
    if len(loss_curve) <= NONSMOOTH_WINDOW:
        return False
    earlier, last = loss_curve[-1 - NONSMOOTH_WINDOW], loss_curve[-1]
    return earlier - last <= tol * max(abs(last), 1.0)


def warn_unconverged(run):
    """Emit the ConvergenceWarning of a run that ended above tol: where, why, what helps.

    ``run`` is the :func:`~sklearn_nn._optimize.minimize` call's state: its solver,
    iterations, ‖∇J‖∞, tol, message and whether it stalled.
    """
    warnings.warn(
        f"The {run.solver!r} solver did not converge in {len(run.loss_curve)} "
        f"iterations (max_iter={run.max_iter}): |grad|inf = {run.grad_norm:.2e} "
        f"> tol = {run.tol:g}" + (f"; {run.message}" if run.message else "") + f". {_advice(run)}",
        ConvergenceWarning,
        stacklevel=_outside_stacklevel(),
    )


def _advice(run):
    """The remedies the ConvergenceWarning suggests."""
    advice = (
        # More iterations do not help a stalled fit.
        "Loosen tol, or scale the features (e.g. StandardScaler) or increase reg_lambda."
        if run.stalled
        else "Increase max_iter, scale the features (e.g. StandardScaler), "
        "increase reg_lambda, or loosen tol."
    )
    if not run.smooth and run.solver != "lbfgs":
        advice += (
            " ReLU units make J piecewise smooth and the tnc/cg line searches stop at"
            " its kinks; solver='lbfgs' copes with them."
        )
    return advice


def _outside_stacklevel():
    """The stacklevel of the first caller outside this package and scikit-learn's callbacks."""
    frame, level = sys._getframe(1), 1
    while frame is not None and any(part in frame.f_code.co_filename for part in _INSIDE):
        frame, level = frame.f_back, level + 1
    return level


#: Paths of a fit's own frames: this package's, and scikit-learn's callback wrappers'.
_INSIDE = (os.path.join(os.path.dirname(__file__), ""), os.path.join("sklearn", "callback", ""))
