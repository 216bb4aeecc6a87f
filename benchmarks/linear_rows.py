"""The linear rows: every contender raced to the optimum J* of one (workload, dtype).

Calibration ladder, caps, re-checks against a falling J*, interleaved repeats and
memory, as benchmarks/README.md ("Time to the optimum") describes them.
"""

import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from benchmarks import floors, measure
from benchmarks.bench import log
from benchmarks.workloads import iterations, linear_params

#: Tolerances tried, loosest first; each contender is timed at the loosest that
#: brings its J within TARGET_REL · |J*| of J*.
LADDER = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
TARGET_REL = 1e-8
#: Our default solver at this tolerance on the float64 data gives the reference J
#: (the tightest tolerance every solver of ours reaches, see tests/test_linear_models).
REFERENCE_TOL = 1e-8
MAX_ITER = 10_000
#: Contenders within this factor of their side's fastest (and target references) are
#: repeated; slower ones are timed once: ±20 % cannot change their standing.
REPEAT_WINDOW = 2.0
FLOAT32_SKLEARN_CHOICES = ("references", "all")


@dataclass
class Entry:
    """One contender in one (workload, dtype) row."""

    contender: object
    status: str = "pending"  # ok | capped | not reached
    ladder_index: int = -1
    tol: float | None = None
    max_iter: int = MAX_ITER
    times: list = field(default_factory=list)
    rss: list = field(default_factory=list)
    rss_seen: list = field(default_factory=list)
    J: float | None = None
    best_J: float = math.inf
    n_iter: int | None = None
    passes: object = None  # workloads.Passes, or None when they cannot be known
    lower_bound: float = 0.0
    tracemalloc_mb: float | None = None

    @property
    def label(self):
        return self.contender.label

    @property
    def side(self):
        return self.contender.side

    @property
    def timed(self):
        """The timings that count: the interleaved repeat rounds when there are any
        (the calibration fit ran alone, under whatever load the machine had then)."""
        return self.times[1:] if len(self.times) > 1 else self.times

    @property
    def seconds(self):
        return statistics.median(self.timed) if self.times else None

    @property
    def rss_mb(self):
        """Median peak extra RSS of the timed fits; for a contender that never reached
        J*, the largest of its fits."""
        timed = [value for value in self.rss if value is not None]
        if timed:
            return statistics.median(timed)
        seen = [value for value in self.rss_seen if value is not None]
        return max(seen) if seen else None

    def reset(self):
        self.status, self.times, self.rss, self.J = "pending", [], [], None


@dataclass
class LinearRow:
    workload: object
    dtype: str
    entries: list
    J_star: float
    X_mb: float
    floor: floors.Floor | None = None
    notes: list = field(default_factory=list)
    #: float32 rows: our best float64 fit, timed again in this row's repeat rounds.
    paired_float64: list = field(default_factory=list)

    def best(self, side):
        done = [e for e in self.entries if e.side == side and e.status == "ok"]
        return min(done, key=lambda e: e.seconds) if done else None


def linear_row(bench, workload, X64, y, dtype, previous=None):
    """Race every contender of ``workload`` to J* on its data in ``dtype``: a LinearRow.

    ``previous`` is the float64 row of the same workload when this is its float32
    row: its choices seed this row's ladders, and its best fit is timed again here.
    """
    args = bench.args
    X = X64 if dtype == "float64" else X64.astype(np.float32)
    # J is always evaluated in float64 on the exact values the fit saw.
    X_eval = X64 if dtype == "float64" else X.astype(np.float64)
    evaluator = workload.objective(X_eval, y)
    tag = f"{workload.name} {dtype}"

    def J(model):
        coef, intercept = linear_params(model)
        return evaluator.value_and_grad(evaluator.point_of(coef, intercept))[0]

    contenders = bench.selected(workload.ours() + workload.sklearn())
    hints = {}
    if previous is not None:
        keep = {e.label for e in previous.entries if e.contender.target_reference}
        fastest = previous.best("sklearn")
        if fastest is not None:
            keep.add(fastest.label)
        if args.float32_sklearn == "references":
            contenders = [c for c in contenders if c.side == "ours" or c.label in keep]
        hints = {e.label: max(0, e.ladder_index - 1) for e in previous.entries}
    entries = [Entry(c) for c in contenders]
    warm_up(tag, contenders, X, y)

    # Reference J: our default solver, tight tolerance, float64 copy of the data.
    observed = []
    reference = entries[0].contender.build(REFERENCE_TOL, MAX_ITER)
    with measure.quiet():
        start = time.perf_counter()
        reference.fit(X_eval, y)
    observed.append(J(reference))
    log(
        f"{tag}: reference {entries[0].label} tol={REFERENCE_TOL:g} (float64): "
        f"J={observed[0]!r} in {time.perf_counter() - start:.2f} s"
    )
    del reference

    def target():
        J_star = min(observed)
        return J_star + TARGET_REL * abs(J_star)

    best_time, best_sklearn = [math.inf], [math.inf]

    def attempt(entry, tol, max_iter):
        estimator = entry.contender.build(tol, max_iter)
        fit = measure.timed_fit(estimator, X, y)
        passes = entry.contender.passes(fit) if entry.contender.passes else None
        entry.rss_seen.append(fit.rss_mb)
        value = J(fit.model)
        observed.append(value)
        entry.best_J = min(entry.best_J, value)
        n_iter = iterations(fit.model)
        gap = (value - min(observed)) / abs(min(observed))
        log(
            f"{tag}: {entry.label:<26} tol={tol:<6g} max_iter={max_iter:<5d} "
            f"{fit.seconds:7.2f} s  iters={n_iter:<5d} (J-J*)/J*={gap:.1e}"
        )
        return fit, value, n_iter, passes

    def accept(entry, index, fit, value, n_iter, passes):
        entry.status, entry.ladder_index, entry.tol = "ok", index, LADDER[index]
        entry.times, entry.rss = [fit.seconds], [fit.rss_mb]
        entry.J, entry.n_iter, entry.passes = value, n_iter, passes
        best_time[0] = min(best_time[0], fit.seconds)
        if entry.side == "sklearn":
            best_sklearn[0] = min(best_sklearn[0], fit.seconds)

    def walk(entry, start):
        cap = math.inf
        if not entry.contender.target_reference and math.isfinite(best_time[0]):
            cap = args.cap_factor * best_time[0]
            if entry.side == "sklearn" and math.isfinite(best_sklearn[0]):
                # Long enough to tell whether it beats scikit-learn's fastest so far.
                cap = max(cap, best_sklearn[0])
        if entry.contender.iteration_capped and math.isfinite(cap):
            # One iteration may take seconds (an epoch, a Hessian): start at one and
            # grow max_iter towards the cap while fits run out of iterations.
            entry.max_iter = 1
        previous, unchanged = None, 0
        retried = False
        index = start
        while index < len(LADDER):
            fit, value, n_iter, passes = attempt(entry, LADDER[index], entry.max_iter)
            if value <= target():
                return accept(entry, index, fit, value, n_iter, passes)
            if fit.seconds > cap:
                first = not entry.contender.iteration_capped or entry.max_iter == 1
                if first and not retried and fit.seconds < 2 * cap:
                    # One slow fit on a shared machine proves nothing: run it again.
                    # (Not after growing max_iter: then the overshoot was expected.)
                    retried = True
                    continue
                entry.lower_bound = max(entry.lower_bound, fit.seconds)
                entry.status = "capped"
                return
            entry.lower_bound = max(entry.lower_bound, fit.seconds)
            if entry.max_iter < MAX_ITER and n_iter >= entry.max_iter:
                room = 0.9 * cap / fit.seconds
                # A scikit-learn solver must be shown slower than its fastest so far
                # before it is capped, or "scikit-learn's fastest" stays undecided.
                beaten = entry.side != "sklearn" or fit.seconds >= best_sklearn[0]
                if room < 1.5 and beaten:
                    # Out of iterations, and 1.5× as many would not fit in the cap.
                    entry.status = "capped"
                    return
                grow = min(8.0, max(1.5, room))
                entry.max_iter = min(MAX_ITER, math.ceil(entry.max_iter * grow))
                continue
            if previous is not None and abs(value - previous) <= 1e-13 * abs(value):
                # Two tighter tolerances that change nothing: the solver has stalled. (One
                # is not enough: a fast solver can stop at the same point for two decades.)
                unchanged += 1
                if unchanged == 2:
                    break
            else:
                unchanged = 0
            previous = value
            index += 1
        entry.status = "not reached"

    for entry in entries:
        walk(entry, hints.get(entry.label, 0))
    # J* may have dropped after a contender was accepted: re-check, walk on.
    for _ in range(3):
        stale = [e for e in entries if e.status == "ok" and e.J > target()]
        for entry in stale:
            log(f"{tag}: {entry.label} no longer within target of J*; walking on")
            start = entry.ladder_index + 1
            entry.reset()
            walk(entry, start)
        if not stale:
            break

    paired = None
    best64 = previous.best("ours") if previous is not None else None
    if best64 is not None:
        # float32 vs float64 is a performance target: time our best float64 fit in
        # the same rounds as the float32 repeats, so that a drifting machine cancels out.
        paired = (lambda: best64.contender.build(best64.tol, best64.max_iter), X64)
    paired_times = repeat(
        bench, tag, entries, lambda e: e.contender.build(e.tol, e.max_iter), X, y, paired
    )

    for entry in entries:
        if entry.contender.iteration_capped:
            # One iteration of these costs seconds, and much of their memory is
            # C/C++ (liblinear) that tracemalloc cannot see: RSS only.
            continue
        tol = entry.tol if entry.tol is not None else LADDER[0]
        estimator = entry.contender.build(tol, 1)
        with measure.quiet():
            entry.tracemalloc_mb = measure.tracemalloc_peak_mb(lambda est=estimator: est.fit(X, y))

    row = LinearRow(workload, dtype, entries, min(observed), measure.size_mb(X))
    row.paired_float64 = paired_times
    row.floor = floors.linear_floor(workload, X, y, bench.args.floor_seconds)
    log(
        f"{tag}: evaluation {row.floor.ours_ms:.2f} ms = {row.floor.ours_ratio:.2f}× "
        f"floor ({row.floor.floor_ms:.2f} ms)"
    )
    if previous is not None and args.float32_sklearn == "references":
        row.notes.append(
            "float32 row: scikit-learn's fastest solver of the float64 row and lbfgs "
            "(the targets' references) only; `--float32-sklearn all` runs every solver."
        )
    return row


def warm_up(tag, contenders, X, y):
    """Fit every contender once on a few rows, untimed: lazy imports, first-call
    set-up and code paths of this dtype are paid here, not in a timed fit."""
    rows = min(X.shape[0], 2_000)
    start = time.perf_counter()
    for contender in contenders:
        with measure.quiet():
            contender.build(LADDER[0], 5).fit(X[:rows], y[:rows])
    log(f"{tag}: warm-up on {rows} rows in {time.perf_counter() - start:.1f} s")


def repeat(bench, tag, entries, build, X, y, paired=None):
    """Further timings, interleaved round by round, of the contenders that matter.

    ``paired = (build, X_other)``: one more fit timed in every round, on other data
    (our best float64 fit, in a float32 row); its times are returned.
    """
    paired_times = []
    done = [e for e in entries if e.status == "ok"]
    fastest = {}
    for entry in done:
        fastest[entry.side] = min(fastest.get(entry.side, math.inf), entry.times[0])
    chosen = [
        e
        for e in done
        if e.contender.target_reference or e.times[0] <= REPEAT_WINDOW * fastest[e.side]
    ]
    for round_index in range(bench.args.repeats - 1):
        if bench.over_budget():
            bench.skip_repeats(tag)
            return paired_times
        shift = round_index % max(1, len(chosen))
        for entry in chosen[shift:] + chosen[:shift]:
            fit = measure.timed_fit(build(entry), X, y)
            entry.times.append(fit.seconds)
            entry.rss.append(fit.rss_mb)
        if paired is not None:
            paired_times.append(measure.timed_fit(paired[0](), paired[1], y).seconds)
        log(
            f"{tag}: repeat {round_index + 2}: "
            + ", ".join(f"{e.label} {e.times[-1]:.2f} s" for e in chosen)
            + (f", ours best float64 {paired_times[-1]:.2f} s" if paired else "")
        )
    return paired_times
