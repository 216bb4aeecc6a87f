"""The solvers, and what each scipy method is told: its stopping tests off, its memory, its radius.

:mod:`~sklearn_nn._optimize` calls scipy; these are its solvers' names and kinds and
the options it passes, per method.
"""

import warnings

import numpy as np
import scipy.linalg

__all__ = [
    "DENSE_HESSIAN",
    "DENSE_HESSIAN_BYTES",
    "LBFGS_PAIRS_BYTES",
    "LINEAR_SOLVERS",
    "LINE_SEARCH_SOLVERS",
    "SECOND_ORDER",
    "SOLVERS",
    "lbfgs_memory",
    "scipy_options",
    "trust_exact_radii",
]

#: Our solver names and the scipy methods they run.
SOLVERS = {
    "lbfgs": "L-BFGS-B",
    "tnc": "TNC",
    "cg": "CG",
    "newton-cg": "Newton-CG",
    "trust-ncg": "trust-ncg",
    "trust-krylov": "trust-krylov",
}
#: Solvers that multiply by the Hessian (the objective's ``hessp``).
SECOND_ORDER = {"newton-cg", "trust-ncg", "trust-krylov"}
#: Solvers that factorise the Hessian as a dense matrix (the objective's ``hessian``):
#: the linear models only, whose Hessian is cheap to form when d·k is small.
DENSE_HESSIAN = {"trust-exact"}
#: The linear models' solvers: every solver, and the dense-Hessian ones.
LINEAR_SOLVERS = {**SOLVERS, "trust-exact": "trust-exact"}
#: Largest dense Hessian ``trust-exact`` may form, in bytes (scipy's factorisations
#: hold a few more matrices of its size).
DENSE_HESSIAN_BYTES = 2**30
#: Solvers whose iterations search along a line, evaluating J at each trial step.
LINE_SEARCH_SOLVERS = {"lbfgs", "cg", "newton-cg"}


def scipy_options(solver, n_params, max_iter):
    """Switch scipy's stopping tests off, so that ours (‖∇J‖∞ ≤ tol, in θ) decides.

    scipy sees the gradient in the solver's coordinates u, not in θ: any test of its
    own on that gradient could stop a run early, or never.
    """
    if solver == "lbfgs":
        # ftol=0: no stop on a small relative change of J; gtol=0: ours decides.
        memory = lbfgs_memory(n_params)
        return {"maxiter": max_iter, "gtol": 0.0, "ftol": 0.0, "maxls": 40, "maxcor": memory}
    if solver == "newton-cg":
        # xtol would stop on a small average step; our gradient rule decides instead.
        return {"maxiter": max_iter, "xtol": np.finfo(np.float64).eps}
    if solver in ("trust-ncg", "trust-krylov", "trust-exact"):
        return {"maxiter": max_iter, "gtol": 0.0}
    if solver == "cg":
        # Nonlinear CG keeps its directions conjugate only with near-exact line
        # searches; at scipy's loose c2=0.4, fits of one objective on different
        # layouts (dense vs CSR, weighted vs repeated rows) end ~1e-7 apart.
        return {"maxiter": max_iter, "gtol": 0.0, "norm": np.inf, "c2": 0.01}
    # TNC has no iteration limit of its own: the callback enforces max_iter; maxfun
    # guards against a runaway inner loop. Its own tests are off (tolerances 0, unit
    # scaling). Its Hessian products are gradient differences: at its default step
    # (√ε) rounding makes them ~1e-8 noisy, enough to send two fits of one objective
    # (weighted vs repeated rows) apart; accuracy=1e-2 takes a larger step, a slightly
    # biased but smooth product. scipy's maxCGit (n/2) gives 1 inner step on tiny
    # problems (gradient descent); up to n, capped at 50, keep it a Newton method.
    options = dict.fromkeys(("ftol", "gtol", "xtol"), 0.0)
    options.update(maxfun=max(100, max_iter * 100), maxCGit=min(50, n_params), accuracy=1e-2)
    return options | {"scale": np.ones(n_params), "offset": np.zeros(n_params)}


#: Bytes the L-BFGS curvature pairs may take before fewer than 30 are kept.
LBFGS_PAIRS_BYTES = 2**21


def lbfgs_memory(n_params):
    """Curvature pairs L-BFGS-B keeps: 30 (scipy: 10), fewer for a large θ.

    30 pairs model the curvature of ill-conditioned problems better: fewer
    iterations (a sigmoid network on scikit-learn's check data: 73 -> 59), and fewer
    iterations give rounding less room to grow. Each pair is two float64 vectors of
    θ's size, though: the course network's 10 285 parameters would hold 4.9 MB in 30
    pairs, more than its fit's other temporaries together. Above ``LBFGS_PAIRS_BYTES``
    fewer pairs are kept, never fewer than scipy's 10.
    """
    return int(np.clip(LBFGS_PAIRS_BYTES // (16 * max(n_params, 1)), 10, 30))


def trust_exact_radii(H, grad):
    """trust-exact's first radius: twice the length of the Newton step −H⁻¹∇J.

    Its steps are then exact Newton steps, from a Cholesky factor, until one is
    rejected. Steps on the trust region's boundary come from an iterative subproblem
    solver that stops within 10 % of its solution: a weighted fit and its
    repeated-rows twin, whose H differ by rounding, took different steps at scipy's
    first radius of 1. ``H`` and ``grad`` are in the solver's coordinates. Empty (scipy's
    radius) where H is singular or nearly (λ = 0, collinear X).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
            step = scipy.linalg.solve(H, grad, assume_a="pos")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning, ValueError):
        return {}
    radius = 2.0 * float(np.linalg.norm(step))
    if not np.isfinite(radius) or radius <= 0:
        return {}
    return {"initial_trust_radius": radius, "max_trust_radius": max(1000.0, 100 * radius)}
