"""What the optimizer puts around J and H·v: a short memo of J, and a guarded product.

scipy's solvers call them; :mod:`~sklearn_nn._optimize` decides what a fit does with
what they report.
"""

import math
from collections import OrderedDict

import numpy as np

from . import instrumentation

__all__ = ["CachedObjective", "GuardedHessp", "SubproblemFailed", "guarded_hessian"]


class SubproblemFailed(Exception):
    """Raised from the Hessian product when an inner solver cannot end on its own.

    ``at_floor``: ∇J is too small for the inner solver; more iterations would not help.
    """

    def __init__(self, message, at_floor=False):
        super().__init__(message)
        self.at_floor = at_floor


class GuardedHessp:
    """``hessp`` for scipy, stopping inner loops that would never end.

    scipy's trust-ncg solves its subproblem with an unbounded CG loop: a NaN or
    infinite product (λ/S ~ 1e158 when all weights are ~1e-150) keeps it running
    forever, and so can rounding on such a problem. A non-finite product, or more
    products at one θ than CG needs in exact arithmetic (n) with a wide margin,
    ends the run as a failed line search would.
    """

    def __init__(self, hessp, n_params):
        self._hessp = hessp
        self._limit = 20 * n_params + 100
        self._theta_key = None
        self._count = 0

    def __call__(self, theta, v):
        key = theta.tobytes()
        if key != self._theta_key:
            self._theta_key, self._count = key, 0
        self._count += 1
        if self._count > self._limit:
            raise SubproblemFailed(f"more than {self._limit} Hessian products at one point")
        if not np.isfinite(v).all():
            # trust-krylov's Lanczos process (trlib) divides by norms that vanish when ∇J
            # is tiny (~1e-9, well-conditioned problems): a NaN direction follows.
            raise SubproblemFailed(
                "the subproblem solver broke down (it asked for the Hessian product along"
                " a NaN direction; nothing overflowed): this gradient is below what it"
                " resolves on this problem, its tolerance floor",
                at_floor=True,
            )
        instrumentation._record_hessian_product()
        product = self._hessp(theta, v)
        if not np.isfinite(product).all():
            raise SubproblemFailed("the Hessian product overflowed")
        return product


def guarded_hessian(hessian, n_params, max_bytes):
    """``hessian`` for scipy's trust-exact, refused up front when too large to form.

    Raises a ValueError when there is no ``hessian`` or its matrix would take more
    than ``max_bytes``; the returned function ends the run, as a failed subproblem,
    when a Hessian is not finite (scipy's Cholesky factorisations would loop on it).
    """
    if hessian is None:
        raise ValueError("solver='trust-exact' needs the dense Hessian of J; this model has none.")
    size = 8 * n_params**2
    if size > max_bytes:
        raise ValueError(
            f"solver='trust-exact' forms the dense Hessian of the {n_params} parameters, "
            f"{size / 2**30:.1f} GiB, more than {max_bytes / 2**30:.0f} GiB: use "
            "solver='trust-ncg' or 'newton-cg', which need only Hessian-vector products."
        )

    def guarded(theta):
        instrumentation._record_hessian()
        matrix = hessian(theta)
        if not np.all(np.isfinite(matrix)):
            raise SubproblemFailed("the Hessian overflowed")
        return matrix

    return guarded


class CachedObjective:
    """Remember the last few (θ, J, ∇J) so the callback never re-evaluates.

    scipy hands the callback the accepted iterate, which the solver evaluated a
    moment before (TNC evaluates other points in between), so a short memory hits.
    """

    def __init__(self, value_and_grad, size=4):
        self._value_and_grad = value_and_grad
        self._size = size
        self._memory = OrderedDict()
        self.n_evaluations = 0

    def remember(self, theta, value, grad):
        """Hold (θ, J, ∇J), evaluated elsewhere: asking for that θ costs no pass."""
        self._memory[np.asarray(theta, dtype=np.float64).tobytes()] = (float(value), grad)

    def forget(self):
        """Drop what is remembered: J itself changed (a float32 fit went on in float64)."""
        self._memory.clear()

    def __call__(self, theta):
        key = theta.tobytes()
        if key not in self._memory:
            self.n_evaluations += 1
            instrumentation._record_evaluation()
            # A line search may try a point so far out that J exceeds the float
            # range (logits ~1e308 on features of 1e8 after one wild step; then
            # inf − inf in the head): there J = +inf is the true answer, and every
            # solver backs off from it.
            with np.errstate(over="ignore", invalid="ignore"):
                value, grad = self._value_and_grad(theta)
            value = float(value)
            if not math.isfinite(value):
                value = np.inf
            elif not np.isfinite(grad).all():
                raise FloatingPointError(f"J = {value!r} is finite but its gradient is not.")
            self._memory[key] = (value, grad)
            if len(self._memory) > self._size:
                self._memory.popitem(last=False)
        value, grad = self._memory[key]
        return value, grad.copy()
