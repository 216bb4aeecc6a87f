"""The optimizer's loops and messages: bounded runs, stalls, floors (``_optimize``)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import sklearn_nn._optimize as optimize
import sklearn_nn._path
from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier
from sklearn_nn._evaluations import GuardedHessp, SubproblemFailed
from sklearn_nn._optimize import minimize
from sklearn_nn._solver_options import SOLVERS
from sklearn_nn.instrumentation import objective


def count_scipy_runs(monkeypatch):
    """Count the calls of scipy.optimize.minimize made by ``minimize``."""
    runs = []
    real = optimize.scipy_minimize

    def counting(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(optimize, "scipy_minimize", counting)
    return runs


def count_evaluations(monkeypatch):
    """Count the evaluations of J that the estimators' fits ask ``minimize`` for."""
    evaluations = []
    real = sklearn_nn._path.minimize

    def counting_minimize(value_and_grad, theta0, **kwargs):
        def counted(theta):
            evaluations.append(1)
            return value_and_grad(theta)

        return real(counted, theta0, **kwargs)

    monkeypatch.setattr(sklearn_nn._path, "minimize", counting_minimize)
    return evaluations


def quadratic(theta):
    """J = ½‖θ − 1‖², with Hessian I."""
    return 0.5 * float((theta - 1) @ (theta - 1)), theta - 1


def identity_hessp(theta, v):
    return v


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_non_finite_j_at_the_start_is_an_error_not_a_loop(solver, monkeypatch):
    # J = inf from the start (all weights ~1e-310 in a network fit, say) used to make
    # the restart loop call scipy 18 492 times in 15 s at max_iter=20: inf - inf is
    # NaN, and the stall test never fired.
    runs = count_scipy_runs(monkeypatch)

    def infinite(theta):
        return np.inf, np.ones_like(theta)

    with pytest.raises(ValueError, match=r"J is not finite at the starting point.*reg_lambda"):
        minimize(infinite, np.zeros(3), solver=solver, max_iter=20, tol=1e-5, hessp=identity_hessp)
    assert runs == []


@pytest.mark.parametrize("solver", SOLVERS)
def test_restarts_are_bounded_by_max_iter_when_no_run_makes_an_iterate(solver, monkeypatch):
    # J is finite only at the start: no solver can make an accepted iterate. Even with
    # a stall test that never fires, runs that make no iterate count against max_iter.
    monkeypatch.setattr(optimize, "no_progress", lambda *args, **kwargs: False)
    runs = count_scipy_runs(monkeypatch)
    start = np.zeros(3)

    def finite_only_at_start(theta):
        if np.array_equal(theta, start):
            return 1.0, np.ones_like(theta)
        return np.inf, np.ones_like(theta)

    with pytest.warns(ConvergenceWarning, match="did not converge"):
        outcome = minimize(
            finite_only_at_start,
            start,
            solver=solver,
            max_iter=7,
            tol=1e-5,
            hessp=identity_hessp,
        )
    # (Trust-region rejections and L-BFGS-B's failed line search count as iterates.)
    assert 1 <= len(runs) <= 7 and outcome.n_iter <= 7
    assert outcome.loss == 1.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_converges_on_a_quadratic(solver):
    outcome = minimize(
        quadratic, np.zeros(4), solver=solver, max_iter=100, tol=1e-9, hessp=identity_hessp
    )
    assert outcome.converged and outcome.grad_norm <= 1e-9
    np.testing.assert_allclose(outcome.x, 1, atol=1e-8)
    assert len(outcome.loss_curve) == outcome.n_iter


@pytest.mark.parametrize("cls", [RegLogisticClassifier, SoftmaxClassifier])
def test_trust_krylov_below_its_floor_says_so_and_not_overflow(cls):
    # At |grad|inf ~ 1e-9 on this well-conditioned problem trlib's Lanczos process
    # hands over a NaN direction, or scipy gives up on its model; nothing overflows.
    # (Which of the two happens first is decided by rounding, and varies.)
    X, y = make_classification(200, 6, random_state=0)
    model = cls(reg_lambda=100, tol=1e-10, solver="trust-krylov")
    with pytest.warns(ConvergenceWarning) as caught:
        model.fit(X, y)
    (message,) = [str(w.message) for w in caught]
    assert "the Hessian product overflowed" not in message
    assert "Increase max_iter" not in message  # more iterations would not help
    assert ("NaN direction" in message and "tolerance floor" in message) or (
        "A bad approximation caused failure to predict improvement" in message
    )
    assert model.n_iter_ <= 10
    # Above the floor the same fit converges without a warning.
    cls(reg_lambda=100, tol=1e-8, solver="trust-krylov").fit(X, y)


def test_a_nan_direction_is_the_subproblem_solvers_floor_not_an_overflow():
    guarded = GuardedHessp(identity_hessp, 3)
    with pytest.raises(SubproblemFailed, match="NaN direction; nothing overflowed") as info:
        guarded(np.zeros(3), np.full(3, np.nan))
    assert info.value.at_floor
    with pytest.raises(SubproblemFailed, match="the Hessian product overflowed") as info:
        GuardedHessp(lambda theta, v: v * np.inf, 3)(np.zeros(3), np.ones(3))
    assert not info.value.at_floor


def iris_scaled(dtype):
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(dtype), y


def test_a_stalled_line_search_ends_within_a_few_evaluations(monkeypatch):
    # A tol below what rounding resolves: line searches find J unchanged to rounding.
    # They once spent up to 34 evaluations an iteration (246 for a float32 fit, 5x
    # the float64 fit's). float32 now goes on with float64 products where its own J
    # stops resolving, and the stall ends the fit within a few evaluations after.
    evaluations = count_evaluations(monkeypatch)
    model = SoftmaxClassifier(reg_lambda=1 / 150, tol=1e-12)
    with pytest.warns(ConvergenceWarning):
        model.fit(*iris_scaled(np.float64))
    float64_evaluations = len(evaluations)
    evaluations.clear()
    with pytest.warns(ConvergenceWarning, match="made no progress: J is unchanged to rounding"):
        model.fit(*iris_scaled(np.float32))
    assert len(evaluations) <= 1.5 * float64_evaluations
    assert model.n_iter_ < 100


def test_float32_goes_on_in_float64_where_its_J_stops_resolving(monkeypatch):
    # At tol=1e-7 a float32 J (resolved to ~1e-8) stalled at |grad|inf ~1e-5 with a
    # warning; with float64 products from there it converges, in a few more
    # evaluations than the float64 fit.
    evaluations = count_evaluations(monkeypatch)
    SoftmaxClassifier(reg_lambda=1 / 150, tol=1e-7).fit(*iris_scaled(np.float64))
    float64_evaluations = len(evaluations)
    evaluations.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxClassifier(reg_lambda=1 / 150, tol=1e-7).fit(*iris_scaled(np.float32))
    assert len(evaluations) <= 1.5 * float64_evaluations
    X, y = iris_scaled(np.float64)
    J = objective(SoftmaxClassifier(reg_lambda=1 / 150), X, y)
    theta = J.point_of(model.coef_, model.intercept_)
    assert np.abs(J.value_and_grad(theta)[1]).max() <= 2e-7


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_a_float32_line_search_at_its_rounding_goes_on_in_float64_at_once(monkeypatch, solver):
    # Where the float32 J stops resolving, a line search used to shrink its step 10
    # to 40 evaluations long before its iterate reached the stall watch (newton-cg on
    # standardised digits at tol=1e-7: 79 evaluations against float64's 11). A trial
    # equal to the iterate's J past the second trial point now ends the run there.
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    evaluations = count_evaluations(monkeypatch)
    model = SoftmaxClassifier(tol=1e-7, solver=solver)
    model.fit(X, y)
    float64_evaluations = len(evaluations)
    evaluations.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X.astype(np.float32), y)
    assert len(evaluations) <= float64_evaluations + 3 * (optimize.EASY_STEP_EVALUATIONS + 1)
    J = objective(SoftmaxClassifier(), X, y)
    theta = J.point_of(model.coef_, model.intercept_)
    assert np.abs(J.value_and_grad(theta)[1]).max() <= 2e-7


def test_newton_cg_below_its_floor_stops_instead_of_creeping(monkeypatch):
    # Newton-CG's inner loop ends at once where pᵀHp ≤ 3ε: below |grad|inf ~1.3e-7
    # here each run made no step, and gradient steps alternated with idle runs
    # until max_iter (500 iterations for a fit that was done after 15).
    runs = count_scipy_runs(monkeypatch)
    model = SoftmaxClassifier(reg_lambda=1 / 150, tol=1e-7, solver="newton-cg")
    with pytest.warns(ConvergenceWarning, match="solver's floor"):
        model.fit(*iris_scaled(np.float64))
    assert model.n_iter_ < 30 and len(runs) < 10
    assert (
        model.loss_
        <= SoftmaxClassifier(reg_lambda=1 / 150, tol=1e-5).fit(*iris_scaled(np.float64)).loss_
    )
