"""Fits at their defaults, in float64 and float32: what a user gets without tuning.

For each linear workload, our estimator and ``LogisticRegression`` (one-vs-rest:
wrapped), constructed with the penalty only, are fitted on the float64 and the
float32 data in interleaved rounds. The first round records whether ``fit`` raised
a ConvergenceWarning, its iterations, and |∇J|∞ and J of the result, evaluated in
float64 by our objective on the values the fit saw (benchmarks/README.md, "Fits at
defaults").
"""

import statistics
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from benchmarks import measure
from benchmarks.bench import log
from benchmarks.workloads import iterations, linear_params

#: Interleaved rounds of default fits (a default fit is cheap: no ladder).
ROUNDS = 3


@dataclass
class DefaultFit:
    """One contender at its defaults on one dtype."""

    label: str
    side: str
    dtype: str
    tol: float
    times: list = field(default_factory=list)
    warned: bool = False
    n_iter: int = 0
    grad_inf: float = np.nan
    J: float = np.nan

    @property
    def seconds(self):
        return statistics.median(self.times)


@dataclass
class DefaultsRow:
    workload: object
    J_star: float
    fits: list

    def fit(self, side, dtype):
        return next((f for f in self.fits if (f.side, f.dtype) == (side, dtype)), None)

    def speedup(self, side):
        """float64 time ÷ float32 time of ``side``, median of per-round ratios."""
        f64, f32 = self.fit(side, "float64"), self.fit(side, "float32")
        if f64 is None or f32 is None:
            return None
        return measure.median_ratio(f64.times, f32.times)


def _contenders(workload):
    """(label, side, tol, build) of our estimator and scikit-learn's, both at defaults."""
    lam = workload.reg_lambda
    ours = workload.estimator(reg_lambda=lam)

    def theirs():
        model = LogisticRegression(C=1.0 / lam)
        return OneVsRestClassifier(model) if workload.one_vs_rest else model

    label = "OvR(sklearn default)" if workload.one_vs_rest else "sklearn default"
    return [
        (
            f"ours default ({ours.solver})",
            "ours",
            ours.tol,
            lambda: workload.estimator(reg_lambda=lam),
        ),
        (f"{label} (lbfgs)", "sklearn", LogisticRegression().tol, theirs),
    ]


def defaults_row(bench, workload, X64, y, J_star, dtypes):
    """Fit both contenders at defaults on each of ``dtypes``: a DefaultsRow.

    ``J_star`` is the best J of the workload's linear rows; J of a default fit below
    it lowers it.
    """
    data = {dtype: X64 if dtype == "float64" else X64.astype(np.float32) for dtype in dtypes}
    evaluators = {
        dtype: workload.objective(X if dtype == "float64" else X.astype(np.float64), y)
        for dtype, X in data.items()
    }
    cases = [
        (DefaultFit(label, side, dtype, tol), build, dtype)
        for label, side, tol, build in _contenders(workload)
        for dtype in dtypes
    ]
    for round_index in range(ROUNDS):
        if round_index and bench.over_budget():
            bench.skip_repeats(f"{workload.name} defaults")
            break
        shift = round_index % len(cases)
        for fit_record, build, dtype in cases[shift:] + cases[:shift]:
            fit = measure.timed_fit(build(), data[dtype], y)
            fit_record.times.append(fit.seconds)
            if round_index == 0:
                evaluator = evaluators[dtype]
                coef, intercept = linear_params(fit.model)
                value, grad = evaluator.value_and_grad(evaluator.point_of(coef, intercept))
                fit_record.warned, fit_record.n_iter = fit.warned, iterations(fit.model)
                fit_record.J, fit_record.grad_inf = float(value), float(np.max(np.abs(grad)))
    fits = [fit_record for fit_record, _, _ in cases]
    row = DefaultsRow(workload, min([J_star, *(f.J for f in fits)]), fits)
    for f in fits:
        log(
            f"{workload.name} {f.dtype}: {f.label} at defaults {f.seconds:.3f} s, "
            f"{f.n_iter} iterations, |∇J|∞ = {f.grad_inf:.1e}, warning: {f.warned}"
        )
    return row
