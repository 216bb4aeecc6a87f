"""Choosing λ: searches over a grid of λ by cross-validation, ours and scikit-learn's.

Every contender of a row gets the same data, the same λ grid and the same folds
(``StratifiedKFold(k, shuffle=True, random_state=0)``), one BLAS thread and
``n_jobs=1``, and runs at its defaults, in interleaved rounds: our cross-validated
estimator, scikit-learn's ``LogisticRegressionCV`` over C = 1/λ (the mapping of
docs/user_guide.md, §3), and ``GridSearchCV`` over our base model and over
``LogisticRegression``. The linear searches are then run along a ladder of
tolerances and at tol = 1e-10, the "exact" search whose mean held-out scores the
others are compared with (benchmarks/README.md, "Choosing λ").
"""

import functools
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from benchmarks import measure, user_data
from benchmarks.bench import log
from benchmarks.floors import fresh_theta_evaluation
from benchmarks.linear_rows import MAX_ITER
from benchmarks.workloads import SEED, Passes, linear_data
from sklearn_nn import (
    RegLogisticClassifier,
    RegLogisticClassifierCV,
    SoftmaxClassifier,
    SoftmaxClassifierCV,
    TwoLayerMLPClassifier,
    TwoLayerMLPClassifierCV,
    instrumentation,
)

#: The contenders, by key: our cross-validated estimator, scikit-learn's, and
#: GridSearchCV over our base model and over LogisticRegression.
OURS_CV, SKLEARN_CV, GRID_OURS, GRID_SKLEARN = "ours CV", "LRCV", "grid ours", "grid sklearn"
LINEAR = (OURS_CV, SKLEARN_CV, GRID_OURS, GRID_SKLEARN)
#: Tolerances each linear search is also run at (loosest first), and the exact one.
LADDER = (1e-3, 1e-4, 1e-5, 1e-6, 1e-8)
EXACT_TOL = 1e-10
#: A tolerance every starting point meets: a search at it runs no iteration, so its
#: time is its fixed cost (validation, set-up, one evaluation per fit, scores, refit;
#: our paths evaluate only the first start, as each later one meets it unmoved).
NO_ITERATION_TOL = 1e9
#: Interleaved rounds: at least MIN_ROUNDS, further ones (up to --repeats) only while
#: the row has taken less than ROW_SECONDS: a round of the 100 000-row row takes ~35 s.
MIN_ROUNDS = 2
ROW_SECONDS = 12.0
#: Rows (a seeded sample) of the untimed warm-up fit of every contender.
WARM_UP_ROWS = 500


@dataclass(frozen=True)
class SearchRow:
    """One problem on which λ is chosen, and which contenders choose it."""

    name: str
    model: str  # "binary", "softmax" or "network"
    about: str
    source: object  # () -> (X, y); the network: (X, y, X_held, y_held)
    reg_lambdas: tuple
    n_folds: int
    contenders: tuple
    #: Whether the linear searches also run along LADDER (they all run their exact
    #: search then); otherwise only the ``exact`` contender's exact search runs.
    ladder: bool = False
    exact: str | None = None
    hidden: int = 25

    def folds(self):
        return StratifiedKFold(self.n_folds, shuffle=True, random_state=SEED)

    def label(self, key):
        """A contender's name in the report."""
        if self.model == "network":
            return {
                OURS_CV: "TwoLayerMLPClassifierCV",
                GRID_OURS: "GridSearchCV(TwoLayerMLPClassifier)",
            }[key]
        ours = "RegLogisticClassifier" if self.model == "binary" else "SoftmaxClassifier"
        return {
            OURS_CV: f"{ours}CV",
            SKLEARN_CV: "LogisticRegressionCV",
            GRID_OURS: f"GridSearchCV({ours})",
            GRID_SKLEARN: "GridSearchCV(LogisticRegression)",
        }[key]

    def search(self, key, tol=None):
        """The unfitted search ``key``: at its defaults, or at ``tol`` (max_iter 10 000)."""
        settings = {} if tol is None else {"tol": tol, "max_iter": MAX_ITER}
        grid, folds = [float(value) for value in self.reg_lambdas], self.folds()
        if self.model == "network":
            # Seeded: TwoLayerMLPClassifier draws its initial weights from random_state.
            network = {"hidden_layer_size": self.hidden, "random_state": SEED, **settings}
            if key == OURS_CV:
                return TwoLayerMLPClassifierCV(**network, reg_lambdas=grid, cv=folds, n_jobs=1)
            return GridSearchCV(
                TwoLayerMLPClassifier(**network), {"reg_lambda": grid}, cv=folds, n_jobs=1
            )
        binary = self.model == "binary"
        if key == OURS_CV:
            search = RegLogisticClassifierCV if binary else SoftmaxClassifierCV
            return search(reg_lambdas=grid, cv=folds, n_jobs=1, **settings)
        if key == GRID_OURS:
            base = RegLogisticClassifier if binary else SoftmaxClassifier
            return GridSearchCV(base(**settings), {"reg_lambda": grid}, cv=folds, n_jobs=1)
        if key == SKLEARN_CV:
            # C = 1/λ, ascending as its own default grid (the path runs from the
            # strongest penalty). l1_ratios=(0,) and scoring="accuracy" are what its
            # defaults do (an L2 penalty, accuracy), stated to avoid their
            # FutureWarnings; use_legacy_attributes=False changes attributes only.
            return LogisticRegressionCV(
                Cs=[1.0 / value for value in reversed(grid)],
                cv=folds,
                n_jobs=1,
                l1_ratios=(0.0,),
                scoring="accuracy",
                use_legacy_attributes=False,
                **settings,
            )
        Cs = [1.0 / value for value in grid]
        return GridSearchCV(LogisticRegression(**settings), {"C": Cs}, cv=folds, n_jobs=1)

    def default_tol(self, key):
        """The tolerance a contender's fits stop at by default."""
        search = self.search(key)
        return getattr(search, "estimator", search).tol

    def mean_scores(self, key, search):
        """Mean held-out accuracy at each λ of the grid, in the grid's order."""
        if key == SKLEARN_CV:  # (folds, l1 ratios, Cs), Cs in ascending order
            return np.asarray(search.scores_, dtype=float).mean(axis=0)[0][::-1]
        return np.asarray(search.cv_results_["mean_test_score"], dtype=float)

    def chosen(self, key, search):
        """Index in the grid of the λ the search chose."""
        if key == OURS_CV:
            value = search.reg_lambda_
        elif key == SKLEARN_CV:
            value = 1.0 / float(search.C_)
        else:
            params = search.best_params_
            value = params["reg_lambda"] if "reg_lambda" in params else 1.0 / params["C"]
        return int(np.argmin(np.abs(np.log(self.reg_lambdas) - np.log(value))))

    def work(self, key, search, fit):
        """(minimize calls, iterations or None, Passes or None) of a fitted search."""
        n_fits = len(self.reg_lambdas) * self.n_folds
        if key == OURS_CV:
            # The linear folds are one stacked problem per λ; the network's folds are
            # fitted one by one. Iterations: n_iter_, the search's and the refit's.
            solves = len(self.reg_lambdas) if self.model != "network" else n_fits
            return solves + 1, int(search.n_iter_), Passes(fit.counted_passes)
        if key == SKLEARN_CV:
            # Its n_iter_ holds the fold fits' iterations (not the refit's): scipy's
            # L-BFGS evaluates J at least once per iteration and once at the start.
            iterations = int(np.sum(search.n_iter_))
            return n_fits + 1, iterations, Passes(iterations + n_fits, at_least=True)
        passes = Passes(fit.counted_passes) if key == GRID_OURS else None
        return n_fits + 1, None, passes


@dataclass
class Run:
    """One fit of a search: its time, its scores, the λ it chose, what it did."""

    tol: float | None
    seconds: float
    scores: np.ndarray
    chosen: int
    warned: bool
    fits: int = 0
    iterations: int | None = None
    passes: Passes | None = None
    held_out: float | None = None


@dataclass
class Entry:
    """One contender of a row: its timed rounds, its ladder and its exact search."""

    key: str
    label: str
    times: list = field(default_factory=list)
    first: Run | None = None
    ladder: list = field(default_factory=list)
    exact: Run | None = None
    #: Our searches: seconds at NO_ITERATION_TOL, their fixed cost.
    fixed_seconds: float | None = None

    @property
    def seconds(self):
        return statistics.median(self.times)

    def work(self):
        """What the search did at its defaults: time, fits, iterations, passes."""
        run = self.first
        text = f"{self.label} {self.seconds:.3g} s: {run.fits} fits"
        if run.iterations is not None:
            text += f", {run.iterations} iterations"
        if run.passes is not None and run.passes.count:
            per_pass = 1e3 * self.seconds / run.passes.count
            text += f", {run.passes} passes at {'≤ ' if run.passes.at_least else ''}"
            text += f"{per_pass:.3g} ms"
        if self.fixed_seconds is not None:
            text += f" ({self.fixed_seconds:.3g} s fixed)"
        return text


@dataclass
class LambdaRow:
    spec: SearchRow
    entries: list
    shape: tuple
    #: ms of one evaluation of J and ∇J of one fold's fit (our base model).
    fold_eval_ms: float
    held_out_rows: int = 0

    def entry(self, key):
        return next((e for e in self.entries if e.key == key), None)

    @property
    def reference(self):
        """The entry ratios are taken against: our CV estimator, else our grid search."""
        return self.entry(OURS_CV) or self.entry(GRID_OURS)

    def ratio(self, entry, reference=None):
        """Its time ÷ the reference's: the median of per-round ratios (same rounds)."""
        return measure.median_ratio(entry.times, (reference or self.reference).times)

    def exact_of(self, entry):
        """The exact search its scores are compared with: its own, else the row's one."""
        if entry.exact is not None:
            return entry.exact
        shared = self.entry(self.spec.exact) if self.spec.exact else None
        return None if shared is None else shared.exact

    def gap(self, entry, run, where=False):
        """max |mean score − exact's| over the grid (``where``: and the λ of it), or None
        without an exact search."""
        exact = self.exact_of(entry)
        if exact is None:
            return None
        gaps = np.abs(run.scores - exact.scores)
        largest = float(np.max(gaps))
        return (largest, self.spec.reg_lambdas[int(np.argmax(gaps))]) if where else largest

    def ladder_runs(self, entry):
        """(tol, Run, seconds) of a search along the ladder, its default fit in its place
        (time: the rounds' median) and its exact search last; loosest first."""
        default = self.spec.default_tol(entry.key)
        runs = [(run.tol, run, run.seconds) for run in entry.ladder]
        runs.append((default, entry.first, entry.seconds))
        runs.sort(key=lambda item: -item[0])
        if entry.exact is not None:
            runs.append((EXACT_TOL, entry.exact, entry.exact.seconds))
        return runs

    def exact_spread(self):
        """How far the contenders' exact searches differ (max |Δ mean score|)."""
        exacts = [e.exact.scores for e in self.entries if e.exact is not None]
        if len(exacts) < 2:
            return None
        return max(float(np.max(np.abs(s - exacts[0]))) for s in exacts[1:])


@dataclass(frozen=True)
class LambdaWorkload:
    """The "choosing λ" rows, as one workload of the suite (``--only lambda``)."""

    name: str
    quick: bool = False
    kind: str = field(default="lambda", init=False)

    def describe(self):
        return (
            "choosing λ: our CV estimators, LogisticRegressionCV, GridSearchCV over our "
            "base models and over LogisticRegression, same grid and folds"
        )

    def rows(self, full_ladder=False):
        return search_rows(self.quick, full_ladder)


def held_out_digits(n_samples=None):
    """Standardised digits, 25 % held out (stratified, seeded): (X, y, X_held, y_held)."""
    X, y = user_data.digits(n_samples, standardise=True)
    X, X_held, y, y_held = train_test_split(X, y, test_size=0.25, stratify=y, random_state=SEED)
    return X, y, X_held, y_held


def search_rows(quick=False, full_ladder=False):
    """The rows at full or smoke-test sizes; ``full_ladder``: the ladder on every row."""
    n_digits = 300 if quick else None
    n_binary, d_binary = (3_000, 20) if quick else (100_000, 100)
    grid = tuple(np.logspace(-3, 2, 5 if quick else 20))
    digits = functools.partial(user_data.digits, n_digits, True)
    return [
        SearchRow(
            "microchips",
            "binary",
            "the course's microchips, PolynomialFeatures(6)",
            user_data.microchips_polynomial,
            grid,
            5,
            LINEAR,
            ladder=True,
        ),
        SearchRow(
            "digits",
            "softmax",
            "scikit-learn's digits, standardised",
            digits,
            grid,
            5,
            (OURS_CV, SKLEARN_CV, GRID_OURS),
            ladder=True,
        ),
        SearchRow(
            "digits-10λ",
            "softmax",
            "scikit-learn's digits, standardised; GridSearchCV at defaults",
            digits,
            tuple(np.logspace(-3, 2, 3 if quick else 10)),
            5,
            (GRID_OURS, GRID_SKLEARN),
            exact="each",
        ),
        SearchRow(
            "binary",
            "binary",
            "the binary workload's generator (make_classification, standardised)",
            functools.partial(linear_data, n_binary, d_binary, 2),
            grid,
            5,
            LINEAR,
            ladder=full_ladder,
            # Its exact searches take 18-51 s each: one, the fastest measured
            # (LogisticRegressionCV, 18 s against ours' 29 s), stands for all.
            exact=SKLEARN_CV,
        ),
        SearchRow(
            "network",
            "network",
            "scikit-learn's digits, standardised, 25 % held out (stratified)",
            functools.partial(held_out_digits, n_digits),
            tuple(np.logspace(-3, 2, 3 if quick else 6)),
            3,
            (OURS_CV, GRID_OURS),
            hidden=8 if quick else 25,
        ),
    ]


# ------------------------------------------------------------------ measuring
def _run(row, key, X, y, tol=None, held=None):
    """Fit search ``key`` of ``row`` once, timed: a Run."""
    search = row.search(key, tol)
    fit = measure.timed_fit(search, X, y)
    fits, iterations, passes = row.work(key, search, fit)
    held_out = None if held is None else float(search.score(*held))
    return Run(
        tol,
        fit.seconds,
        row.mean_scores(key, search),
        row.chosen(key, search),
        fit.warned,
        fits,
        iterations,
        passes,
        held_out,
    )


def _fold_evaluation_ms(row, X, y):
    """One evaluation of J and ∇J of our base model on one fold's training rows."""
    train, _ = next(row.folds().split(X, y))
    if row.model == "network":
        base = TwoLayerMLPClassifier(row.hidden, random_state=SEED)
    else:
        base = RegLogisticClassifier() if row.model == "binary" else SoftmaxClassifier()
    objective = instrumentation.objective(base, X[train], y[train])
    evaluate = fresh_theta_evaluation(objective, objective.initial_point())
    times = measure.interleaved({"fold": evaluate}, budget_seconds=0.3)["fold"]
    return 1e3 * statistics.median(times)


def lambda_row(bench, row):
    """Time every contender of ``row`` in interleaved rounds, then its ladder: a LambdaRow."""
    start = time.perf_counter()
    data = row.source()
    X, y = data[0], data[1]
    held = (data[2], data[3]) if len(data) == 4 else None
    seconds = time.perf_counter() - start
    log(f"lambda {row.name}: data {X.shape[0]:,} × {X.shape[1]} in {seconds:.1f} s")
    entries = [Entry(key, row.label(key)) for key in row.contenders]
    sample = np.random.default_rng(SEED).permutation(len(y))[:WARM_UP_ROWS]
    with measure.quiet():
        for entry in entries:  # untimed: lazy imports and first calls are paid here
            row.search(entry.key).fit(X[sample], y[sample])
    start = time.perf_counter()
    rounds = 0
    while rounds < bench.args.repeats:
        if rounds and bench.over_budget():
            bench.skip_repeats(f"lambda {row.name}")
            break
        if rounds >= MIN_ROUNDS and time.perf_counter() - start > ROW_SECONDS:
            break
        shift = rounds % len(entries)
        for entry in entries[shift:] + entries[:shift]:
            run = _run(row, entry.key, X, y, held=held)
            entry.times.append(run.seconds)
            entry.first = entry.first or run
        rounds += 1
        log(
            f"lambda {row.name}: round {rounds}: "
            + ", ".join(f"{e.label} {e.times[-1]:.3f} s" for e in entries)
        )
    for entry in entries:
        if entry.key in (OURS_CV, GRID_OURS):
            search = row.search(entry.key, NO_ITERATION_TOL)
            entry.fixed_seconds = measure.timed_fit(search, X, y).seconds
    if row.model != "network":
        _ladder(row, entries, X, y)
    return LambdaRow(
        row, entries, X.shape, _fold_evaluation_ms(row, X, y), len(held[1]) if held else 0
    )


def _ladder(row, entries, X, y):
    """Every linear search along LADDER (if the row has it) and its exact search."""
    ladder = entries if row.ladder else []
    for index, tol in enumerate(LADDER if ladder else ()):
        # At its default tol a search's rung is its default fit, timed already.
        rung = [e for e in ladder if tol != row.default_tol(e.key)]
        shift = index % len(rung)
        for entry in rung[shift:] + rung[:shift]:
            entry.ladder.append(_run(row, entry.key, X, y, tol))
        log(
            f"lambda {row.name}: tol {tol:g}: "
            + ", ".join(f"{e.label} {e.ladder[-1].seconds:.3f} s" for e in rung)
        )
    exact = ladder or [e for e in entries if row.exact in ("each", e.key)]
    for entry in exact:
        entry.exact = _run(row, entry.key, X, y, EXACT_TOL)
        log(f"lambda {row.name}: {entry.label} at tol {EXACT_TOL:g}: {entry.exact.seconds:.2f} s")


def lambda_section(bench, workload):
    """Every row of the workload: the section's measurements."""
    rows = [lambda_row(bench, row) for row in workload.rows(bench.args.lambda_full_ladder)]
    return {"workload": workload, "rows": rows}
