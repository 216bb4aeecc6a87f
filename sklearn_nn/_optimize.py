"""The one place that calls :func:`scipy.optimize.minimize`.

It runs our solvers as scipy's methods (``_solver_options``), applies one stopping rule to every
solver, records the loss after every iteration, prints progress when asked, and
turns the outcome into ``n_iter_``, ``loss_curve_`` and at most one
:class:`~sklearn.exceptions.ConvergenceWarning`.

The stopping rule is the same for every solver: stop at the first iterate whose
gradient satisfies ‖∇J‖∞ ≤ tol. When a solver gives up before that (its line
search fails), it is restarted from its last iterate until a restarted run cannot
lower J beyond rounding (one gradient step may then give it another chance). Iterates
that leave J unchanged to rounding, with no new low of ‖∇J‖∞, are a stall: the fit
ends. All runs, those without an iterate too, stay within max_iter. A fit that ends
above tol gets a ConvergenceWarning that says why. A piecewise-smooth J (ReLU units,
``smooth=False``) has its minima on kinks, where no gradient is small: for it,
``NONSMOOTH_WINDOW`` iterations that lowered J by less than tol · max(|J|, 1) (the
rule of scikit-learn's MLP) also count as converged.

scipy's own rules differ per method, and fits of one objective stopped by different
rules end at different points (scikit-learn's sample-weight checks see that), so
scipy's tests are switched off and ours runs in the per-iteration callback.

The solver may work in coordinates u (``coordinates``: the linear models' whitening,
after which lbfgs may ``rewhiten`` at its iterate); only scipy sees u, the rest θ.
"""

import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from scipy.optimize import minimize as scipy_minimize

from . import instrumentation
from ._convergence import FLOAT64_ROUNDING, inf_norm, levelled_off, no_progress, warn_unconverged
from ._evaluations import CachedObjective, GuardedHessp, SubproblemFailed, guarded_hessian
from ._solver_options import (
    DENSE_HESSIAN,
    DENSE_HESSIAN_BYTES,
    LINE_SEARCH_SOLVERS,
    LINEAR_SOLVERS,
    SECOND_ORDER,
    scipy_options,
    trust_exact_radii,
)

__all__ = [
    "OptimizeOutcome",
    "StopTraining",
    "minimize",
]

#: Default ``rewhiten_after``: whitened well-conditioned fits end within these many
#: iterations of lbfgs, before a restart in J's curvature coordinates may pay.
REWHITEN_AFTER = 20
#: Iterates that moved θ but left J unchanged to rounding, since ‖∇J‖∞ last reached a
#: new low, after which a fit on a smooth J has stalled.
STALL_WINDOW = 3
#: Evaluations of an iterate whose line search took its first or second trial step.
EASY_STEP_EVALUATIONS = 2


@dataclass
class OptimizeOutcome:
    """What a fit keeps from an optimisation run."""

    x: np.ndarray
    loss: float
    grad_norm: float
    n_iter: int
    loss_curve: list = field(default_factory=list)
    converged: bool = False
    message: str = ""
    #: ∇J at x (in θ), for a caller that changes J by a known term (a path's λ).
    grad: np.ndarray | None = None


class _RunFinished(Exception):
    """Raised from the callback when the rule is met, max_iter is reached or J stalls."""


class StopTraining(Exception):
    """Raised by a user callback to end training early at the current iterate."""


def minimize(
    value_and_grad,
    theta0,
    *,
    solver,
    max_iter,
    tol,
    verbose=0,
    callback=None,
    single_precision=False,
    smooth=True,
    hessp=None,
    hessian=None,
    coordinates=None,
    refine=None,
    known=None,
    rewhiten=None,
    rewhiten_cost=None,
    rewhiten_after=REWHITEN_AFTER,
):
    """Minimise J from ``theta0`` with one of scipy's solvers.

    The policy, one step each below: run the scipy solver (:meth:`_Minimization.run`)
    until an iterate meets the stopping rule; when it gives up before, restart it from
    its best iterate (:meth:`_Minimization.should_restart`), after a plain gradient
    step when a restarted run stalled (:meth:`_Minimization.rescue`); a float32 J
    whose runs end short of the rule goes on once in float64 instead
    (:meth:`_Minimization.refined`); finally turn the outcome into an
    :class:`OptimizeOutcome` and at most one ConvergenceWarning
    (:meth:`_Minimization.verdict`).

    Parameters
    ----------
    value_and_grad : callable
        ``value_and_grad(theta) -> (J, grad)`` on a float64 vector.
    theta0 : ndarray of shape (n_params,)
        Starting point; not modified.
    solver : {"lbfgs", "tnc", "cg", "newton-cg", "trust-ncg", "trust-krylov", "trust-exact"}
        Key of :data:`LINEAR_SOLVERS`: L-BFGS-B, TNC, CG (Polak-Ribière), Newton-CG,
        trust-ncg, trust-krylov or trust-exact. Newton-CG, trust-ncg and
        trust-krylov are :data:`SECOND_ORDER` and need ``hessp``; trust-exact
        (:data:`DENSE_HESSIAN`) needs ``hessian``.
    max_iter : int
        Maximum number of iterations (not evaluations).
    tol : float
        Stop when ‖∇J‖∞ ≤ tol.
    verbose : int, default=0
        If ≥ 1, print one line per iteration: iteration, J, ‖∇J‖∞, seconds.
    callback : callable, default=None
        ``callback(iteration, theta, loss)`` after every iteration. It may raise
        :class:`StopTraining` to end the run at the current iterate.
    single_precision : bool, default=False
        Whether J is evaluated in float32: J is then resolved to ~1e-8 (relative),
        which the stall watch allows for until ``refine`` is called.
    smooth : bool, default=True
        False for a piecewise-smooth J: then a run whose J stopped decreasing over
        ``NONSMOOTH_WINDOW`` iterations has converged as well.
    hessp : callable, default=None
        ``hessp(theta, v) -> H v``; required by the solvers in :data:`SECOND_ORDER`.
    hessian : callable, default=None
        ``hessian(theta) -> H``, the dense (n_params, n_params) Hessian; required by
        the solvers in :data:`DENSE_HESSIAN`, which refuse a θ whose Hessian would
        take more than ``DENSE_HESSIAN_BYTES``.
    coordinates : object, default=None
        A linear change of variables θ = T u for the solver, with methods
        ``to_theta(u)``, ``from_theta(theta)``, ``gradient_in_u(g)`` (Tᵀ g) and, for
        trust-exact, ``matrix_in_u(H)`` (Tᵀ H T), such as
        :class:`~sklearn_nn._objectives.Whitening`. The solver works in u; everything
        else here -- the stopping rule, the callback, the result -- in θ.
    refine : callable, default=None
        For a float32 J: ``refine()`` switches J (and ``hessp``) to float64
        arithmetic. Called at most once, when the fit would end above tol with
        iterations left; the fit then goes on from its best iterate.
    known : tuple, default=None
        ``(θ, J, ∇J)`` evaluated by the caller (a path's start): no pass, not counted.
    rewhiten : callable, default=None
        ``rewhiten(theta)`` -> coordinates (as ``coordinates``) in which J's
        curvature at θ is I, or None. lbfgs goes on in those from its iterate when,
        after ``rewhiten_after`` iterations in one set of coordinates, its pace
        predicts more evaluations left than ``rewhiten_cost``, what a restart must
        save to pay (evaluations of J and ∇J; None: ``rewhiten_after`` of them).
    rewhiten_cost : float, default=None
    rewhiten_after : int, default=REWHITEN_AFTER

    Returns
    -------
    OptimizeOutcome
        Final point, loss, gradient norm, iterations and the loss curve.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn._optimize import minimize
    >>> def value_and_grad(theta):  # J = ½‖θ − 1‖²
    ...     return 0.5 * float((theta - 1) @ (theta - 1)), theta - 1
    >>> outcome = minimize(value_and_grad, np.zeros(3), solver="lbfgs", max_iter=50, tol=1e-8)
    >>> outcome.converged, np.allclose(outcome.x, 1)
    (True, True)
    """
    run = _Minimization(
        value_and_grad,
        theta0,
        solver=solver,
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        callback=callback,
        single_precision=single_precision,
        smooth=smooth,
        hessp=hessp,
        hessian=hessian,
        coordinates=coordinates,
        refine=refine,
        known=known,
        rewhiten=rewhiten,
        rewhiten_cost=rewhiten_cost,
        rewhiten_after=rewhiten_after,
    )
    start = run.theta if run.grad_norm > tol else None
    while start is not None and run.budget_left():
        run.rewhitened()
        start_loss = run.loss
        # A float32 J that stops a run goes on in float64 (``refined``) rather than
        # restarting: its runs end where J no longer resolves their progress.
        ended_by_scipy = run.run(start)
        if run.rewhiten_due:
            start = run.theta
            continue
        if not (ended_by_scipy and run.refine is None and run.should_restart(start_loss)):
            if not run.refined():
                break
        start = run.theta
    return run.verdict()


class _Minimization:
    """One call of :func:`minimize`: memo, best iterate, loss curve, messages; its steps."""

    def __init__(
        self, value_and_grad, theta0, *, hessp, hessian, coordinates, known, rewhiten, **settings
    ):
        # settings: minimize's solver, max_iter, tol, verbose, callback, single_precision,
        # smooth, refine, rewhiten_cost, rewhiten_after.
        vars(self).update(settings)
        self.rewhiten = rewhiten if self.solver == "lbfgs" else None
        self.rewhiten_due = False
        self.objective = CachedObjective(value_and_grad)
        if known is not None:
            self.objective.remember(*known)
        self.method = LINEAR_SOLVERS[self.solver]
        # J's rounding, relative to max(|J|, 1): float64 sums, of float32 terms for
        # float32 data (resolved to ~1e-8 then).
        self.rounding = 1e-8 if self.single_precision else FLOAT64_ROUNDING
        theta0 = np.array(theta0, dtype=np.float64)
        self.hessp = GuardedHessp(hessp, theta0.size) if self.solver in SECOND_ORDER else None
        self.hessian = None
        if self.solver in DENSE_HESSIAN:
            self.hessian = guarded_hessian(hessian, theta0.size, DENSE_HESSIAN_BYTES)
            self._hessian_at = (None, None)  # (u's bytes, Tᵀ H T): scipy's and our radius
        self.coordinates = _SAME_COORDINATES if coordinates is None else coordinates
        self.loss_curve = []
        self.message = ""
        self.stopped_by_callback = self.stalled = self.rescued = False
        self.idle_runs = 0  # scipy runs that made no accepted iterate
        self.started = time.perf_counter()
        loss0, grad0 = self.objective(theta0)
        if not np.isfinite(loss0):
            raise ValueError(
                f"J is not finite at the starting point (J = {loss0!r}): reg_lambda or the "
                "sample/class weights are too extreme, or the features too large, for J to "
                "be computed in float64. Use a smaller reg_lambda, weights of a moderate "
                "range, or scaled features (e.g. StandardScaler)."
            )
        self.theta, self.loss, self.grad = theta0, loss0, grad0
        self.grad_norm = inf_norm(grad0)
        # The stall watch: the smallest gradient so far, and how many iterates since
        # left J unchanged to rounding.
        self.best_grad_norm, self.flat_iterates = self.grad_norm, 0
        self.evaluations_at_last_iterate = self.objective.n_evaluations
        # (iteration, evaluations) when the solver's coordinates were last set (or J
        # went on in float64), and the best ‖∇J‖∞ after each iteration.
        self.coordinates_since, self.best_norms = (0, self.objective.n_evaluations), []
        if self.verbose:
            norm = self.grad_norm
            print(f"{self.method}: iter {0:4d}  J = {loss0:.10g}  |grad|inf = {norm:.3e}")

    # ------------------------------------------------------------ the solver's view
    def objective_in_u(self, u):
        """J and its gradient in the solver's coordinates u.

        A line search on a float32 J whose trial past the ``EASY_STEP_EVALUATIONS``-th
        equals the iterate's J to rounding no longer resolves J: it would shrink its
        step 10 to 40 evaluations long. The run ends there, to go on in float64.
        """
        loss, grad = self.objective(self.coordinates.to_theta(u))
        if (
            self.refine is not None
            and self.smooth  # at a kink (ReLU) a flat trial says nothing of rounding
            and self.solver in LINE_SEARCH_SOLVERS
            and self.objective.n_evaluations - self.evaluations_at_last_iterate
            > EASY_STEP_EVALUATIONS
            and abs(loss - self.loss) <= self.rounding * max(abs(self.loss), 1.0)
        ):
            raise _RunFinished  # and ``refined`` goes on
        return loss, self.coordinates.gradient_in_u(grad)

    def hessp_in_u(self, u, v):
        """The Hessian product in the solver's coordinates u: Tᵀ H T v."""
        theta, direction = self.coordinates.to_theta(u), self.coordinates.to_theta(v)
        return self.coordinates.gradient_in_u(self.hessp(theta, direction))

    def hessian_in_u(self, u):
        """The dense Hessian in the solver's coordinates u: Tᵀ H T, kept for one u.

        In u the Newton step is the same, but the trust region is round where the
        data's curvature is, and the matrix stays within the float range under an
        extreme λ.
        """
        key = u.tobytes()
        if self._hessian_at[0] != key:
            H = self.hessian(self.coordinates.to_theta(u))
            self._hessian_at = (key, self.coordinates.matrix_in_u(H))
        return self._hessian_at[1]

    def per_iteration(self, u):
        """Book the accepted iterate u (in θ): the callback scipy calls."""
        self.record(self.coordinates.to_theta(np.asarray(u, dtype=np.float64)))

    # ------------------------------------------------------------------- the steps
    def budget_left(self):
        """Whether another scipy run fits in max_iter, counting runs with no iterate too."""
        return len(self.loss_curve) + self.idle_runs < self.max_iter

    def record(self, theta):
        """Book an accepted iterate θ; raise _RunFinished when the run should end."""
        theta = np.array(theta, dtype=np.float64)
        loss, grad = self.objective(theta)
        if loss == np.inf:  # the memo's J where it is not finite
            # A step into overflow (huge λ: J ~ 1e298 at the start): keep the last iterate.
            self.message = "the solver stepped to a point where J is not finite"
            raise _RunFinished
        moved = not (theta == self.theta).all()
        previous_loss = self.loss
        self.theta, self.loss, self.grad, self.grad_norm = theta, loss, grad, inf_norm(grad)
        self.loss_curve.append(loss)
        iteration = len(self.loss_curve)
        if self.verbose:
            elapsed = time.perf_counter() - self.started
            print(
                f"{self.method}: iter {iteration:4d}  J = {loss:.10g}  "
                f"|grad|inf = {self.grad_norm:.3e}  {elapsed:8.3f} s"
            )
        if self.callback is not None:
            self.callback(iteration, theta, loss)
        if (
            self.grad_norm <= self.tol
            or iteration >= self.max_iter
            or (not self.smooth and levelled_off(self.loss_curve, self.tol))
        ):
            raise _RunFinished
        evaluations = self.objective.n_evaluations - self.evaluations_at_last_iterate
        self.evaluations_at_last_iterate = self.objective.n_evaluations
        if moved and self.smooth and self._stalled_at(previous_loss, evaluations):
            raise _RunFinished
        self.best_norms.append(self.best_grad_norm)
        if self.rewhiten is not None and self._rewhitening_pays():
            self.rewhiten_due = True
            raise _RunFinished

    def _rewhitening_pays(self):
        """Whether lbfgs, at its pace in these coordinates, has more left than rewhitening costs.

        After ``rewhiten_after`` iterations in them, the decline of the best ‖∇J‖∞ over
        the last half of them, extrapolated, predicts the evaluations left to tol;
        those must exceed ``rewhiten_cost``.
        """
        since, evaluations_since = self.coordinates_since
        iterations, window = len(self.loss_curve) - since, self.rewhiten_after // 2
        if iterations < self.rewhiten_after:
            return False
        rate = np.log(self.best_norms[-1 - window] / self.best_norms[-1]) / window
        left = np.log(self.best_grad_norm / self.tol) / rate if rate > 0 else np.inf
        per_iteration = (self.objective.n_evaluations - evaluations_since) / iterations
        cost = self.rewhiten_after if self.rewhiten_cost is None else self.rewhiten_cost
        return left * per_iteration > cost

    def rewhitened(self):
        """Move to coordinates from J's curvature at the iterate, when due; True if so.

        The whitening at θ = 0 may stop matching J's shape: the curvature of nearly
        separable classes concentrates on few rows, collinear features keep what its
        shrinkage left in. In coordinates from the curvature at its iterate lbfgs meets
        J round again near the minimum (its curvature pairs, of the old coordinates,
        go). Where a block is not positive definite, it keeps its coordinates for good.
        """
        if not self.rewhiten_due:
            return False
        self.rewhiten_due = False
        coordinates = self.rewhiten(self.theta)
        instrumentation._record_hessian()
        if coordinates is None:
            self.rewhiten = None
        else:
            self.coordinates = coordinates
        self.coordinates_since = (len(self.loss_curve), self.objective.n_evaluations)
        return coordinates is not None

    def _stalled_at(self, previous_loss, evaluations):
        """Watch for a stall; True when STALL_WINDOW flat iterates followed the best ∇J.

        An iterate is flat when it left J unchanged to J's rounding. At a tight tol J
        may stop changing while ‖∇J‖∞ still reaches new lows, each restarting the count.
        A line search that has run into rounding does neither, at up to 40 evaluations
        an iteration. (Trust-region rejections leave θ in place: not counted.) With a
        float32 J still to refine, one flat iterate whose line search took more than
        ``EASY_STEP_EVALUATIONS`` evaluations ends the run (the fit goes on in float64).
        """
        flat = no_progress(previous_loss, self.loss, self.rounding)
        if flat and self.refine is not None and evaluations > EASY_STEP_EVALUATIONS:
            # A float32 J that no longer resolves the progress, and a line search
            # that starts to search for it: go on in float64 (``refined``).
            return True
        if self.grad_norm < self.best_grad_norm:
            self.best_grad_norm, self.flat_iterates = self.grad_norm, 0
        elif flat:
            self.flat_iterates += 1
        if self.flat_iterates < STALL_WINDOW:
            return False
        self.stalled = True
        steps = "trust-region steps" if self.solver.startswith("trust") else "line search"
        self.message = (
            f"the {steps} made no progress: J is unchanged to rounding over the last "
            f"{STALL_WINDOW} iterations at |grad|inf = {self.grad_norm:.2e}; the tolerance "
            "is below what this problem's rounding allows"
        )
        return True

    def refined(self):
        """Switch a float32 J to float64 once, when it would end above tol; True if done.

        The best iterate is evaluated anew and the stall watch starts afresh: the fit
        goes on with J resolved to float64's rounding.
        """
        if (
            self.refine is None
            or self.grad_norm <= self.tol
            or self.stopped_by_callback
            or not self.budget_left()
        ):
            return False
        self.refine()
        self.refine, self.single_precision = None, False
        self.rounding = FLOAT64_ROUNDING
        self.objective.forget()
        loss, grad = self.objective(self.theta)
        self.loss, self.grad, self.grad_norm = loss, grad, inf_norm(grad)
        self.best_grad_norm, self.flat_iterates = self.grad_norm, 0
        self.coordinates_since = (len(self.loss_curve), self.objective.n_evaluations)
        self.stalled = self.rescued = False
        self.message = ""
        return self.grad_norm > self.tol

    def run(self, start):
        """Run the scipy solver once from ``start``; return whether a restart may follow.

        Not after our rule, the user's callback or a failed subproblem (from the same
        point it fails again). A run that ended inside a line search may hold a better
        final point than its last iterate: it is kept if its J is lower.
        """
        options = scipy_options(self.solver, start.size, self.max_iter - len(self.loss_curve))
        u = self.coordinates.from_theta(start)
        if start is self.theta:
            # scipy evaluates J at u first, at T(T⁻¹θ): θ to rounding, not bit for bit,
            # which would cost the memo a pass; J and ∇J there are those at θ.
            self.objective.remember(self.coordinates.to_theta(u), self.loss, self.grad)
        if self.hessian is not None:
            options |= trust_exact_radii(self.hessian_in_u(u), self.objective_in_u(u)[1])
        iterations_before = len(self.loss_curve)
        try:
            # After a wild trial point (see CachedObjective) scipy's own arithmetic
            # may overflow too (Newton-CG scales a direction of tiny negative
            # curvature by 1/curv). The iterates kept all have a finite J.
            with np.errstate(over="ignore", invalid="ignore"):
                result = scipy_minimize(
                    self.objective_in_u,
                    u,
                    method=self.method,
                    jac=True,
                    hessp=self.hessp_in_u if self.hessp is not None else None,
                    hess=self.hessian_in_u if self.hessian is not None else None,
                    callback=self.per_iteration,
                    options=options,
                )
        except _RunFinished:
            return False
        except StopTraining:
            self.stopped_by_callback = True
            return False
        except SubproblemFailed as failure:
            self.message, self.stalled = f"stopped, {failure}", failure.at_floor
            return False
        except ValueError as error:
            # scipy's finiteness checks inside its own arithmetic: trust-ncg's CG
            # iterate overflowing under extreme weights (1e300), or trust-exact's
            # subproblem solver at a gradient below ~1e-10 in u (its CLOSE_TO_ZERO),
            # estimating a singular vector from a factor it never computed.
            if "infs or NaNs" not in str(error):
                raise
            self.stalled = True
            self.message = (
                f"stopped, scipy's {self.method} met a NaN or infinity in its own "
                "arithmetic (an overflowing subproblem step, or a gradient below what "
                "it resolves)"
            )
            return False
        self.message = f"scipy says: {result.message}"
        self.idle_runs += len(self.loss_curve) == iterations_before
        final_theta = self.coordinates.to_theta(result.x)
        final_loss, final_grad = self.objective(final_theta)
        if final_loss < self.loss:
            self.theta, self.loss, self.grad = final_theta, final_loss, final_grad
            self.grad_norm = inf_norm(final_grad)
        return True

    def should_restart(self, start_loss):
        """Decide, after a run that gave up before our rule was met, whether to restart.

        When the solver's model of J (conjugate direction, curvature pairs, TNC's
        preconditioner) has gone stale -- at a kink, or on a non-convex J from a poor
        start -- its line search fails while J still falls: restarting from the last
        iterate is the standard remedy. A run that lowered J by no more than rounding
        ends the restarts, unless :meth:`rescue` steps on (once).
        """
        self.stalled = no_progress(start_loss, self.loss)
        if self.stalled and self.rescued:
            # The run after a rescue step made no progress either: only gradient steps
            # would move, each followed by an idle run (Newton-CG where pᵀHp ≤ 3ε).
            self.message = (
                f"the solver makes no progress from here ({self.message}), only plain "
                f"gradient steps would, at |grad|inf = {self.grad_norm:.2e}: the tolerance "
                "is below this solver's floor on this problem"
            )
            return False
        self.rescued = False
        if self.smooth and self.stalled and self.grad_norm > self.tol and self.budget_left():
            if not self.rescue():
                return False
        return (
            not self.stalled
            and not (not self.smooth and levelled_off(self.loss_curve, self.tol))
            and self.budget_left()
        )

    def rescue(self):
        """Take one gradient step after a stalled run; return whether the fit goes on.

        A restarted solver found no decrease, yet ∇J is not small: TNC's finite-
        difference curvature can keep proposing a step its line search rejects (tanh
        networks from ~1.5 % of random starts). A gradient step with backtracking
        lowers a smooth J; from its iterate the solver gets another chance. (At the
        kinks of a piecewise-smooth J it buys only tiny steps: not tried there.) False
        when the step's iterate ended the fit (our rule, max_iter or the callback).
        """
        stepped = self._gradient_step()
        if stepped is None:
            why = "the solver made no progress: J is unchanged to rounding from its last "
            why += f"start at |grad|inf = {self.grad_norm:.2e}, along −∇J too"
            self.message = f"{self.message}; {why}" if self.message else why
            return True
        try:
            self.record(stepped)
        except _RunFinished:
            if not self.rewhiten_due:  # our rule, max_iter or a stall ended the fit
                return False
        except StopTraining:
            self.stopped_by_callback = True
            return False
        self.stalled, self.rescued = False, True
        return True

    def _gradient_step(self, max_halvings=50):
        """The first θ − t∇J, t = 1, 1/2, 1/4, ..., that lowers J by 1e-4·t·‖∇J‖² (Armijo).

        None when none of them does (a kink, or rounding).
        """
        loss, grad = self.objective(self.theta)
        decrease, step = 1e-4 * float(grad @ grad), 1.0
        for _ in range(max_halvings):
            candidate = self.theta - step * grad
            if self.objective(candidate)[0] <= loss - step * decrease < loss:
                return candidate
            step /= 2
        return None

    def verdict(self):
        """Return the outcome; warn once when a smooth J ended above tol.

        Only a piecewise-smooth J may end above tol: at a kink no gradient is small. A
        stall is not enough there: a line search that finds no descent at a kink has
        not found a minimum (lbfgs may still lower J by 5-15 % from such a point).
        """
        converged = self.grad_norm <= self.tol or (
            not self.smooth and levelled_off(self.loss_curve, self.tol)
        )
        if not converged and not self.stopped_by_callback:
            warn_unconverged(self)
        outcome = self.theta, self.loss, self.grad_norm, len(self.loss_curve), self.loss_curve
        return OptimizeOutcome(*outcome, converged=converged, message=self.message, grad=self.grad)


#: θ itself as the solver's coordinates (T = I).
_SAME_COORDINATES = SimpleNamespace(to_theta=lambda u: u)
_SAME_COORDINATES.from_theta = _SAME_COORDINATES.gradient_in_u = _SAME_COORDINATES.to_theta
_SAME_COORDINATES.matrix_in_u = _SAME_COORDINATES.to_theta
