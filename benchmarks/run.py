"""Run the side-by-side benchmark suite and write ``benchmarks/results.md``.

    python -m benchmarks.run                 # everything, real sizes (make bench)
    python -m benchmarks.run --only softmax  # one workload (comma-separated list)
    python -m benchmarks.run --only dask --output /tmp/dask.md   # the Dask row alone
    python -m benchmarks.run --quick --output /tmp/r.md   # tiny sizes, seconds

See benchmarks/README.md for the method. Progress goes to stderr, the Markdown
report to stdout and to ``--output``.
"""

import argparse
import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks import dask_overhead, measure
from benchmarks.workloads import iterations, linear_params, workloads

#: Tolerances tried, loosest first; each contender is timed at the loosest that
#: brings its J within TARGET_REL · |J*| of J*.
LADDER = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
TARGET_REL = 1e-8
#: Our default solver at this tolerance on the float64 data gives the reference J
#: (the tightest tolerance every solver of ours reaches, see tests/test_linear_models).
REFERENCE_TOL = 1e-8
MAX_ITER = 10_000
#: Contenders within this factor of their side's fastest (and goal references) are
#: repeated; slower ones are timed once: ±20 % cannot change their standing.
REPEAT_WINDOW = 2.0
FLOAT32_SKLEARN_CHOICES = ("goals", "all")
OUTPUT = Path(__file__).with_name("results.md")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ================================================================ linear rows
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
    passes: int | None = None
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
class Floor:
    """Interleaved per-evaluation timings of one row."""

    products: str
    floor_ms: float
    ours_ms: float
    ours_ratio: float
    sklearn_ms: float | None
    sklearn_ratio: float | None
    rounds: int


@dataclass
class LinearRow:
    workload: object
    dtype: str
    entries: list
    J_star: float
    X_mb: float
    floor: Floor | None = None
    notes: list = field(default_factory=list)
    #: float32 rows: our best float64 fit, timed again in this row's repeat rounds.
    paired_float64: list = field(default_factory=list)

    def best(self, side):
        done = [e for e in self.entries if e.side == side and e.status == "ok"]
        return min(done, key=lambda e: e.seconds) if done else None


class Bench:
    """State of one run: options, the clock, and everything measured so far."""

    def __init__(self, args):
        self.args = args
        self.started = time.perf_counter()
        self.rows = []
        self.notes = []

    def selected(self, contenders):
        """The contenders allowed by ``--ours`` and ``--theirs``."""
        allowed = {"ours": self.args.ours, "sklearn": self.args.theirs}
        return [c for c in contenders if allowed[c.side] is None or c.solver in allowed[c.side]]

    def over_budget(self):
        return time.perf_counter() - self.started > self.args.budget

    # ------------------------------------------------------------ linear rows
    def linear_row(self, workload, X64, y, dtype, previous=None):
        args = self.args
        X = X64 if dtype == "float64" else X64.astype(np.float32)
        # J is always evaluated in float64 on the exact values the fit saw.
        X_eval = X64 if dtype == "float64" else X.astype(np.float64)
        evaluator = workload.objective(X_eval, y)
        tag = f"{workload.name} {dtype}"

        def J(model):
            coef, intercept = linear_params(model)
            theta = evaluator.theta(coef.T.astype(np.float64), intercept.astype(np.float64))
            return float(evaluator.value_and_grad(theta)[0])

        contenders = self.selected(workload.ours() + workload.sklearn())
        hints = {}
        if previous is not None:
            keep = {e.label for e in previous.entries if e.contender.goal_reference}
            fastest = previous.best("sklearn")
            if fastest is not None:
                keep.add(fastest.label)
            if args.float32_sklearn == "goals":
                contenders = [c for c in contenders if c.side == "ours" or c.label in keep]
            hints = {e.label: max(0, e.ladder_index - 1) for e in previous.entries}
        entries = [Entry(c) for c in contenders]
        self.warm_up(tag, contenders, X, y)

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
            fit = measure.timed_fit(estimator, X, y, passes=entry.contender.passes)
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
            return fit, value, n_iter

        def accept(entry, index, fit, value, n_iter):
            entry.status, entry.ladder_index, entry.tol = "ok", index, LADDER[index]
            entry.times, entry.rss = [fit.seconds], [fit.rss_mb]
            entry.J, entry.n_iter, entry.passes = value, n_iter, fit.passes
            best_time[0] = min(best_time[0], fit.seconds)
            if entry.side == "sklearn":
                best_sklearn[0] = min(best_sklearn[0], fit.seconds)

        def walk(entry, start):
            cap = math.inf
            if not entry.contender.goal_reference and math.isfinite(best_time[0]):
                cap = args.cap_factor * best_time[0]
                if entry.side == "sklearn" and math.isfinite(best_sklearn[0]):
                    # Long enough to tell whether it beats scikit-learn's fastest so far.
                    cap = max(cap, best_sklearn[0])
            if entry.contender.iteration_capped and math.isfinite(cap):
                # One iteration may take seconds (an epoch, a Hessian): start at one and
                # grow max_iter towards the cap while fits run out of iterations.
                entry.max_iter = 1
            previous = None
            retried = False
            index = start
            while index < len(LADDER):
                fit, value, n_iter = attempt(entry, LADDER[index], entry.max_iter)
                if value <= target():
                    return accept(entry, index, fit, value, n_iter)
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
                    break  # a tighter tolerance changed nothing: the solver has stalled
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
            # float32 vs float64 is a goal: time our best float64 fit in the same
            # rounds as the float32 repeats, so that a drifting machine cancels out.
            paired = (lambda: best64.contender.build(best64.tol, best64.max_iter), X64)
        paired_times = self.repeat(
            tag, entries, lambda e: e.contender.build(e.tol, e.max_iter), X, y, paired
        )

        for entry in entries:
            if entry.contender.iteration_capped:
                # One iteration of these costs seconds, and much of their memory is
                # C/C++ (liblinear) that tracemalloc cannot see: RSS only.
                continue
            tol = entry.tol if entry.tol is not None else LADDER[0]
            estimator = entry.contender.build(tol, 1)
            with measure.quiet():
                entry.tracemalloc_mb = measure.tracemalloc_peak_mb(
                    lambda est=estimator: est.fit(X, y)
                )

        row = LinearRow(workload, dtype, entries, min(observed), X.nbytes / measure.MB)
        row.paired_float64 = paired_times
        row.floor = self.linear_floor(workload, X, y)
        log(
            f"{tag}: evaluation {row.floor.ours_ms:.2f} ms = {row.floor.ours_ratio:.2f}× "
            f"floor ({row.floor.floor_ms:.2f} ms)"
        )
        if previous is not None and args.float32_sklearn == "goals":
            row.notes.append(
                "float32 row: scikit-learn's fastest solver of the float64 row and lbfgs "
                "(the goals' references) only; `--float32-sklearn all` runs every solver."
            )
        return row

    def warm_up(self, tag, contenders, X, y):
        """Fit every contender once on a few rows, untimed: lazy imports, first-call
        set-up and code paths of this dtype are paid here, not in a timed fit."""
        rows = min(X.shape[0], 2_000)
        start = time.perf_counter()
        for contender in contenders:
            with measure.quiet():
                contender.build(LADDER[0], 5).fit(X[:rows], y[:rows])
        log(f"{tag}: warm-up on {rows} rows in {time.perf_counter() - start:.1f} s")

    def repeat(self, tag, entries, build, X, y, paired=None):
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
            if e.contender.goal_reference or e.times[0] <= REPEAT_WINDOW * fastest[e.side]
        ]
        for round_index in range(self.args.repeats - 1):
            if self.over_budget():
                self.notes.append(f"time budget reached: {tag} got fewer repeats than asked.")
                log(f"{tag}: time budget reached, skipping further repeats")
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

    def linear_floor(self, workload, X, y):
        rng = np.random.default_rng(0)
        objective = workload.objective(X, y)
        theta = rng.normal(0.0, 0.01, objective.n_params)
        n, d = X.shape
        k = objective.n_outputs
        W = rng.standard_normal((d, k)).astype(X.dtype)
        G = rng.standard_normal((n, k)).astype(X.dtype)
        functions = {**_floors(X, W, G), "ours": _fresh_theta_evaluation(objective, theta)}
        theirs = _sklearn_evaluation(workload, X, y, rng)
        if theirs is not None:
            functions["sklearn"] = theirs
        times = measure.interleaved(functions, budget_seconds=self.args.floor_seconds)
        return _floor_row(f"X·W ({n}×{d}·{d}×{k}) + Xᵀ·G ({d}×{n}·{n}×{k})", times)

    # ------------------------------------------------------------ network row
    def network_row(self, workload, data, dtype):
        X_train, y_train, X_held, y_held = data
        cast = np.float64 if dtype == "float64" else np.float32
        X, X_h = X_train.astype(cast), X_held.astype(cast)
        tag = f"{workload.name} {dtype}"
        tols = {"ours": 1e-12, "sklearn": 0.0}  # never stop before max_iter
        contenders = workload.contenders()
        results = {c.label: {"contender": c, "times": [], "rss": []} for c in contenders}
        self.warm_up(tag, contenders, X, y_train)
        paired = []
        for round_index in range(self.args.repeats):
            if round_index and self.over_budget():
                self.notes.append(f"time budget reached: {tag} got fewer repeats than asked.")
                break
            order = contenders[round_index % 2 :] + contenders[: round_index % 2]
            if dtype == "float32":
                # float32 vs float64 is a goal: our float64 fit, timed in the same rounds.
                ours = next(c for c in contenders if c.side == "ours")
                estimator = ours.build(tols["ours"], workload.n_iter)
                paired.append(measure.timed_fit(estimator, X_train, y_train).seconds)
            for contender in order:
                estimator = contender.build(tols[contender.side], workload.n_iter)
                fit = measure.timed_fit(estimator, X, y_train, passes=contender.passes)
                result = results[contender.label]
                result["times"].append(fit.seconds)
                result["rss"].append(fit.rss_mb)
                if round_index == 0:
                    result["passes"] = fit.passes
                    result["n_iter"] = iterations(fit.model)
                    result["accuracy"] = float(fit.model.score(X_h, y_held))
                    result["loss"] = float(fit.model.loss_)
                log(f"{tag}: {contender.label:<28} {fit.seconds:7.2f} s")
        for contender in contenders:
            estimator = contender.build(tols[contender.side], 1)
            with measure.quiet():
                results[contender.label]["tracemalloc_mb"] = measure.tracemalloc_peak_mb(
                    lambda est=estimator: est.fit(X, y_train)
                )
        floor = self.network_floor(workload, X, y_train)
        log(f"{tag}: evaluation {floor.ours_ms:.2f} ms = {floor.ours_ratio:.2f}× floor")
        return {
            "kind": "network",
            "workload": workload,
            "dtype": dtype,
            "results": results,
            "floor": floor,
            "X_mb": X.nbytes / measure.MB,
            "paired_float64": paired,
        }

    def network_floor(self, workload, X, y):
        rng = np.random.default_rng(0)
        objective = workload.objective(X, y)
        theta = rng.uniform(-0.1, 0.1, objective.n_params)
        n, d = X.shape
        h = workload.n_hidden
        W1 = rng.standard_normal((d, h)).astype(X.dtype)
        delta = rng.standard_normal((n, h)).astype(X.dtype)
        times = measure.interleaved(
            {**_floors(X, W1, delta), "ours": _fresh_theta_evaluation(objective, theta)},
            budget_seconds=self.args.floor_seconds,
        )
        return _floor_row(f"X·W1 ({n}×{d}·{d}×{h}) + Xᵀ·Δ ({d}×{n}·{n}×{h})", times)

    # ------------------------------------------------------------- digits row
    def digits_row(self, workload):
        X_train, X_test, y_train, y_test = workload.data()
        contenders = self.selected(workload.contenders())
        results = {c.label: {"contender": c, "times": []} for c in contenders}
        active = contenders
        for round_index in range(self.args.repeats):
            if round_index and self.over_budget():
                self.notes.append("time budget reached: digits got fewer repeats than asked.")
                break
            if round_index == 1:
                # As for the linear rows: repeat what is within REPEAT_WINDOW of the
                # fastest fit of the same model (network or linear).
                first = {c.label: results[c.label]["times"][0] for c in contenders}
                fastest = {}
                for c in contenders:
                    fastest[c.model] = min(fastest.get(c.model, math.inf), first[c.label])
                active = [
                    c for c in contenders if first[c.label] <= REPEAT_WINDOW * fastest[c.model]
                ]
            shift = round_index % len(active)
            for contender in active[shift:] + active[:shift]:
                estimator = contender.build(None, workload.max_iter)
                fit = measure.timed_fit(estimator, X_train, y_train, passes=contender.passes)
                result = results[contender.label]
                result["times"].append(fit.seconds)
                if round_index == 0:
                    result["n_iter"] = iterations(fit.model)
                    result["passes"] = fit.passes
                    result["accuracy"] = float(fit.model.score(X_test, y_test))
            log(
                f"digits: round {round_index + 1}: "
                + ", ".join(f"{c.label} {results[c.label]['times'][-1]:.3f} s" for c in active)
            )
        return {"kind": "digits", "workload": workload, "results": results}

    # --------------------------------------------------------------- dask row
    def dask_row(self, workload):
        """Overhead of the Dask path (``dask_overhead``), or why it was not measured."""
        reason = dask_overhead.unavailable()
        if reason is not None:
            log(f"dask: skipped, {reason}")
            return {"workload": workload, "skipped": reason}
        start = time.perf_counter()
        X, y = workload.data()
        log(f"dask: data in {time.perf_counter() - start:.1f} s — {workload.describe()}")
        result = dask_overhead.run(
            X,
            y,
            n_chunks=workload.n_chunks,
            n_workers=workload.n_workers,
            reg_lambda=workload.binary.reg_lambda,
            evaluations=workload.evaluations,
        )
        log(
            f"dask: evaluation {1e3 * result['dask_eval_s']:.1f} ms vs "
            f"{1e3 * result['memory_eval_s']:.1f} ms in memory; "
            f"{result['fit_payload_per_iter']:.0f} B per fit iteration"
        )
        return {"workload": workload, "result": result}


def _floors(X, W, G):
    """The two products any evaluation must do, in the four ways BLAS can do them.

    ``plain``: X·W then Xᵀ·G over all rows (X read from memory twice); ``blocked``:
    both products on row blocks of ~2 MB, so that each block is still in cache for the
    second product (X read once); ``blocked by output``: the same blocks with X·W
    computed as (Wᵀ·Xᵀ)ᵀ and G laid out the same way, each output's column contiguous
    (OpenBLAS runs these 10-20 % faster for 10-25 columns; our linear objectives work
    so); ``blocked by output, Gᵀ·X``: as the last, with Xᵀ·G computed as (Gᵀ·X)ᵀ
    (float64 OpenBLAS runs it ~15 % faster for the network's 400 × 25, with X read
    from memory; our network's first layer works so in float64). Outputs are
    preallocated: only the products count.
    """
    n, d = X.shape
    k = W.shape[1]
    forward, backward = np.empty((n, k), X.dtype), np.empty((d, k), X.dtype)
    rows = max(256, 2**21 // max(1, d * X.itemsize))
    blocks = [slice(start, min(n, start + rows)) for start in range(0, n, rows)]
    W_t, G_by_output = np.ascontiguousarray(W.T), np.asfortranarray(G)
    forward_t = np.empty((k, n), X.dtype)

    def plain():
        np.matmul(X, W, out=forward)
        np.matmul(X.T, G, out=backward)

    def blocked(by_output, transposed):
        """Both products per row block: X·W as (Wᵀ·Xᵀ)ᵀ if ``by_output``, Xᵀ·G as (Gᵀ·X)ᵀ if
        ``transposed``. The choice is made per call by two tests, not by extra calls."""
        G_rows = G_by_output if by_output else G
        total = np.empty((k, d) if transposed else (d, k), X.dtype)
        partial = np.empty_like(total)

        def run():
            total[:] = 0
            for block in blocks:
                X_block = X[block]
                if by_output:
                    np.matmul(W_t, X_block.T, out=forward_t[:, block])
                else:
                    np.matmul(X_block, W, out=forward[block])
                if transposed:
                    np.matmul(G_rows[block].T, X_block, out=partial)
                else:
                    np.matmul(X_block.T, G_rows[block], out=partial)
                np.add(total, partial, out=total)

        return run

    return {
        "floor plain": plain,
        "floor blocked": blocked(by_output=False, transposed=False),
        "floor blocked by output": blocked(by_output=True, transposed=False),
        "floor blocked by output, Gᵀ·X": blocked(by_output=True, transposed=True),
    }


def _floor_row(products, times):
    """The Floor row of interleaved ``times`` (ours, the two floors, scikit-learn's if timed)."""
    floor = _floor_times(times)
    theirs = times.get("sklearn")
    return Floor(
        products=products,
        floor_ms=1e3 * statistics.median(floor),
        ours_ms=1e3 * statistics.median(times["ours"]),
        ours_ratio=measure.median_ratio(times["ours"], floor),
        sklearn_ms=1e3 * statistics.median(theirs) if theirs else None,
        sklearn_ratio=measure.median_ratio(theirs, floor) if theirs else None,
        rounds=len(floor),
    )


def _floor_times(times):
    """Per round, the fastest of the ways: the floor is the best BLAS can do."""
    ways = [times[name] for name in times if name.startswith("floor ")]
    return [min(round_times) for round_times in zip(*ways, strict=True)]


def _fresh_theta_evaluation(objective, theta):
    """``value_and_grad`` at a new θ every call, as in a solver: no per-θ cache can hit."""
    state = {"calls": 0}

    def evaluate():
        state["calls"] += 1
        point = theta.copy()
        point[0] += 1e-12 * state["calls"]
        return objective.value_and_grad(point)

    return evaluate


def _sklearn_evaluation(workload, X, y, rng):
    """scikit-learn's own loss+gradient for this problem (private API), or None.

    It is what its lbfgs/newton solvers call once per evaluation: LinearModelLoss on
    HalfBinomialLoss (one-vs-rest: once per class) or HalfMultinomialLoss, 1 thread.
    """
    try:
        from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss

        classes = np.unique(y)
        n, d = X.shape
        l2 = workload.reg_lambda / n
        if workload.head == "softmax":
            loss = LinearModelLoss(HalfMultinomialLoss(n_classes=classes.size), True)
            coef = np.asfortranarray(rng.normal(0, 0.01, (classes.size, d + 1)).astype(X.dtype))
            labels = np.searchsorted(classes, y).astype(X.dtype)
            loss.loss_gradient(coef, X, labels, l2_reg_strength=l2, n_threads=1)
            return lambda: loss.loss_gradient(coef, X, labels, l2_reg_strength=l2, n_threads=1)
        loss = LinearModelLoss(HalfBinomialLoss(), True)
        coef = rng.normal(0, 0.01, d + 1).astype(X.dtype)
        positives = [classes[1]] if classes.size == 2 else list(classes)
        targets = [(y == c).astype(X.dtype) for c in positives]

        def evaluate():
            for target in targets:
                loss.loss_gradient(coef, X, target, l2_reg_strength=l2, n_threads=1)

        evaluate()
        return evaluate
    except Exception as error:  # private API: report n/a rather than fail the run
        log(f"scikit-learn's evaluation not measured: {error!r}")
        return None


# =================================================================== reports
def fmt_time(seconds):
    if seconds is None:
        return "—"
    return f"{seconds:.3g}" if seconds < 100 else f"{seconds:.0f}"


def fmt_mb(value):
    return "—" if value is None else f"{value:.1f}"


def time_cell(entry):
    if entry.status == "ok":
        return fmt_time(entry.seconds)
    if entry.status == "capped":
        return f"> {fmt_time(entry.lower_bound)} (capped)"
    return "not reached"


def ratio_of(entry, ours):
    """(ratio, is_lower_bound) of an entry's time to our best entry's, or (None, False).

    When both were timed in the same repeat rounds, the ratio is the median of the
    per-round ratios (a drifting machine cancels out); otherwise, of the medians.
    """
    if ours is None:
        return None, False
    if entry.status == "ok":
        rounds, our_rounds = entry.times[1:], ours.times[1:]
        if rounds and len(rounds) == len(our_rounds):
            return measure.median_ratio(rounds, our_rounds), False
        return entry.seconds / ours.seconds, False
    if entry.status == "capped":
        return entry.lower_bound / ours.seconds, True
    return None, False


def fmt_ratio(ratio, lower):
    if ratio is None:
        return "—"
    return f"{'> ' if lower else ''}{ratio:.2f}×"


def header(bench, command, total_seconds):
    import scipy
    import sklearn

    import sklearn_nn

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    pools = []
    for pool in threadpool_info():
        where = Path(pool["filepath"]).parent.name
        keys = ("version", "architecture", "threading_layer")
        extra = ", ".join(str(pool[key]) for key in keys if pool.get(key))
        pools.append(
            f"{pool['internal_api']} ({where}{', ' + extra if extra else ''}): "
            f"{pool['num_threads']} thread(s)"
        )
    env = ", ".join(
        f"{name}={os.environ.get(name, 'unset')}"
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    )
    lines = [
        "# Benchmark results",
        "",
        f"- command: `{command}`",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; total runtime "
        f"{total_seconds:.0f} s; code: {commit}",
        f"- machine: {os.cpu_count()} cores ({cpu}), load average at start/end "
        f"{bench.load_start:.2f} / {os.getloadavg()[0]:.2f} (shared machine)",
        f"- versions: Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"sklearn_nn {sklearn_nn.__version__}",
        f"- threads: {bench.args.threads} for every contender ({env}; enforced with "
        "threadpoolctl); single-threaded BLAS keeps the ratios reproducible on a shared "
        "2-core machine — with 2 threads and another process running, scikit-learn's "
        "newton-cholesky slowed from 28 s to 170–300 s",
        "- BLAS/OpenMP: " + "; ".join(pools),
        f"- method (benchmarks/README.md): time to J* is the median wall time of `fit` at "
        f"the loosest tolerance of {', '.join(f'{t:g}' for t in LADDER)} whose result has "
        f"J ≤ J* + {TARGET_REL:g}·|J*|, J evaluated in float64 by our objective; "
        "J* = best J of any fit in the row. Competitors other than the goals' references "
        "(scikit-learn lbfgs; on softmax also newton-cg) are capped at "
        f"{bench.args.cap_factor:g}× the row's fastest time so far. Ratios are "
        "competitor ÷ our best solver (per row), the median of per-round ratios when both "
        f"were repeated. Repeats: {bench.args.repeats - 1} interleaved rounds after the "
        f"calibration fit for contenders within {REPEAT_WINDOW:g}× of their side's fastest "
        "and for the goals' references (n = rounds timed; n = 1: the calibration fit "
        "only). Memory: peak above the memory before `fit` (X excluded), RSS "
        "high-water mark during the timed fits and tracemalloc during a 1-iteration fit.",
    ]
    return lines + [f"- note: {note}" for note in dict.fromkeys(bench.notes)]


def linear_table(rows):
    lines = [
        "## Time to the optimum (linear models)",
        "",
        "| workload | dtype | contender | tol (max_iter) | time to J* [s] | n | "
        "ratio vs ours | passes | eval ÷ floor | extra MB tracemalloc | extra MB RSS | "
        "(J − J*)/J* |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours = row.best("ours")
        for entry in row.entries:
            ratio, lower = ratio_of(entry, ours)
            label = entry.label
            if entry is ours:
                label = f"**{label}** (ours best)"
            tol = "—"
            if entry.tol is not None:
                tol = f"{entry.tol:g}"
                if entry.max_iter != MAX_ITER:
                    tol += f" ({entry.max_iter})"
            floor = "—"
            if row.floor is not None:
                value = row.floor.ours_ratio if entry.side == "ours" else row.floor.sklearn_ratio
                floor = "—" if value is None else f"{value:.2f}"
            J = entry.J if entry.J is not None else entry.best_J
            gap = (J - row.J_star) / abs(row.J_star) if math.isfinite(J) else None
            lines.append(
                f"| {row.workload.name} | {row.dtype} | {label} | {tol} | {time_cell(entry)} | "
                f"{len(entry.timed) or '—'} | {fmt_ratio(ratio, lower)} | "
                f"{entry.passes if entry.passes is not None else '—'} | {floor} | "
                f"{fmt_mb(entry.tracemalloc_mb)} | {fmt_mb(entry.rss_mb)} | "
                f"{'—' if gap is None else f'{gap:.1e}'} |"
            )
    lines.append("")
    for row in rows:
        lines.append(
            f"- {row.workload.name} {row.dtype}: {row.workload.describe()}; "
            f"X is {row.X_mb:.0f} MB; J* = {row.J_star!r}"
        )
        lines.extend(f"  - {note}" for note in row.notes)
    return [*lines, ""]


def floor_table(linear_rows, network_rows):
    lines = [
        "## Cost per evaluation vs the BLAS floor",
        "",
        "Objective + gradient once, vs the two products with X it cannot avoid "
        "(same shapes and dtype, preallocated outputs), timed in interleaved rounds; "
        "ratio = median of per-round ratios. scikit-learn's is its own `LinearModelLoss."
        "loss_gradient` (what its lbfgs/newton solvers call; one-vs-rest: once per class).",
        "",
        "| workload | dtype | floor products | floor [ms] | ours [ms] | ours ÷ floor | "
        "scikit-learn [ms] | scikit-learn ÷ floor | rounds |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, dtype, floor in [(r.workload.name, r.dtype, r.floor) for r in linear_rows] + [
        (r["workload"].name, r["dtype"], r["floor"]) for r in network_rows
    ]:
        sk_ms = "n/a" if floor.sklearn_ms is None else f"{floor.sklearn_ms:.2f}"
        sk_ratio = "n/a" if floor.sklearn_ratio is None else f"{floor.sklearn_ratio:.2f}"
        lines.append(
            f"| {name} | {dtype} | {floor.products} | {floor.floor_ms:.2f} | "
            f"{floor.ours_ms:.2f} | {floor.ours_ratio:.2f} | {sk_ms} | {sk_ratio} | "
            f"{floor.rounds} |"
        )
    return [*lines, ""]


def network_table(rows):
    lines = [
        "## Network: same number of L-BFGS iterations",
        "",
        "| workload | dtype | contender | iterations | evaluations | time [s] | n | "
        "per iteration [ms] | ratio vs ours | held-out accuracy | final J | "
        "in-fit evaluation ÷ floor | isolated eval ÷ floor | extra MB tracemalloc | "
        "extra MB RSS |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        results = row["results"]
        ours = next(r for r in results.values() if r["contender"].side == "ours")
        for label, result in results.items():
            seconds = statistics.median(result["times"])
            rss = [value for value in result["rss"] if value is not None]
            floor = f"{row['floor'].ours_ratio:.2f}" if result is ours else "n/a"
            passes = result["passes"]
            in_fit = "n/a"
            if passes:
                in_fit = f"{1e3 * seconds / passes / row['floor'].floor_ms:.2f}"
            lines.append(
                f"| {row['workload'].name} | {row['dtype']} | {label} | {result['n_iter']} | "
                f"{passes if passes is not None else 'n/a'} | "
                f"{fmt_time(seconds)} | {len(result['times'])} | "
                f"{1e3 * seconds / max(1, result['n_iter']):.1f} | "
                f"{measure.median_ratio(result['times'], ours['times']):.2f}× | "
                f"{result['accuracy']:.4f} | "
                f"{result['loss']:.4f} | {in_fit} | {floor} | "
                f"{fmt_mb(result['tracemalloc_mb'])} | "
                f"{fmt_mb(statistics.median(rss) if rss else None)} |"
            )
    lines.append("")
    for row in rows[:1]:
        lines.append(
            f"- {row['workload'].describe()}; X is {row['X_mb']:.0f} MB in float64. "
            "Both start from their own seeded Glorot initialisation (different scales), "
            "so the final J differ; held-out images come from unseen source digits. "
            "In-fit evaluation ÷ floor = (time ÷ evaluations) ÷ the floor of the table "
            "below: with equal evaluations, no speed-up over MLPClassifier can exceed "
            "its figure."
        )
    return [*lines, ""]


def digits_table(row):
    lines = [
        "## Digits: held-out accuracy",
        "",
        f"{row['workload'].describe()}. Passes = objective evaluations (each: two products "
        "with X), counted for our estimators.",
        "",
        "| contender | time [s] | n | iterations | passes over X | held-out accuracy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, result in row["results"].items():
        passes = "n/a" if result["passes"] is None else str(result["passes"])
        lines.append(
            f"| {label} | {statistics.median(result['times']):.3f} | {len(result['times'])} | "
            f"{result['n_iter']} | {passes} | {result['accuracy']:.4f} |"
        )
    return [*lines, ""]


# --------------------------------------------------------------------- goals
def dask_table(row):
    lines = ["## Dask: overhead of fitting on a cluster", "", f"{row['workload'].describe()}."]
    if "skipped" in row:
        lines.append(f"Not measured: {row['skipped']}.")
    else:
        lines += ["", dask_overhead.markdown(row["result"])]
    return [*lines, ""]


def goals_table(linear_rows, network_rows, digits_row, dask_row=None):
    """The project's performance goals next to what this run achieved."""
    lines = [
        "## Goals vs achieved",
        "",
        "Measured on the float64 rows unless the goal says otherwise. A ratio `> x` is a "
        "lower bound (the competitor was capped). *Bound at the floor*: the ratio we would "
        "reach if each of our evaluations cost exactly the floor (achieved × our "
        "evaluation ÷ floor); a goal above it needs fewer passes, not faster ones.",
        "",
        "| goal | target | achieved | status | bound at the floor |",
        "|---|---|---|---|---:|",
    ]
    by_key = {(r.workload.name, r.dtype): r for r in linear_rows}
    net_by_dtype = {r["dtype"]: r for r in network_rows}

    def add(goal, target, achieved, status, bound=None):
        bound_cell = "—" if bound is None else f"{bound:.2f}×"
        lines.append(f"| {goal} | {target} | {achieved} | {status} | {bound_cell} |")

    def floor_bound(ratio, floor):
        # Each of our evaluations costs floor.ours_ratio × the floor: at the floor the
        # same fit would be that much faster (all other costs kept).
        if ratio is None or floor is None:
            return None
        return ratio * floor.ours_ratio

    def speed_goal(name, what, target, pick):
        row = by_key.get((name, "float64"))
        if row is None:
            return add(what, f"≥ {target}×", "not run", "—")
        ours = row.best("ours")
        competitor = pick(row)
        if ours is None or competitor is None:
            return add(what, f"≥ {target}×", "ours or competitor did not reach J*", "not met")
        ratio, lower = ratio_of(competitor, ours)
        if ratio is None:
            return add(what, f"≥ {target}×", f"{competitor.label} did not reach J*", "—")
        achieved = f"{fmt_ratio(ratio, lower)} ({competitor.label} vs {ours.label})"
        if ratio >= target:
            status = "met"
        elif lower:
            status = "undetermined (competitor capped below the goal)"
        else:
            status = "not met"
        bound = None if lower else floor_bound(ratio, row.floor)
        add(what, f"≥ {target}×", achieved, status, bound)

    def fastest_sklearn(row):
        done = [e for e in row.entries if e.side == "sklearn" and e.status == "ok"]
        return min(done, key=lambda e: e.seconds) if done else None

    def sklearn_solver(solver):
        def pick(row):
            return next(
                (e for e in row.entries if e.side == "sklearn" and e.contender.solver == solver),
                None,
            )

        return pick

    speed_goal("binary", "binary: vs scikit-learn's fastest solver", 1.5, fastest_sklearn)
    speed_goal("binary", "binary: vs scikit-learn lbfgs", 3, sklearn_solver("lbfgs"))
    speed_goal("softmax", "softmax: vs scikit-learn's fastest solver", 2, fastest_sklearn)
    speed_goal("softmax", "softmax: vs scikit-learn lbfgs", 5, sklearn_solver("lbfgs"))
    speed_goal("ovr", "one-vs-rest: vs OvR(LogisticRegression) fastest", 1.5, fastest_sklearn)

    row = net_by_dtype.get("float64")
    if row is None:
        add("network: vs MLPClassifier(lbfgs), same iterations", "≥ 2.5×", "not run", "—")
    else:
        results = list(row["results"].values())
        ours = next(r for r in results if r["contender"].side == "ours")
        theirs = next(r for r in results if r["contender"].side == "sklearn")
        ratio = measure.median_ratio(theirs["times"], ours["times"])  # same rounds
        same = ours["n_iter"] == theirs["n_iter"]
        add(
            "network: vs MLPClassifier(lbfgs), same iterations",
            "≥ 2.5×",
            f"{ratio:.2f}× ({ours['n_iter']} vs {theirs['n_iter']} iterations)",
            "met" if ratio >= 2.5 and same else "not met",
            floor_bound(ratio, row["floor"]),
        )
        drop = theirs["accuracy"] - ours["accuracy"]
        add(
            "network: held-out accuracy no worse than MLP's",
            "≥ MLP − 0.5 pt",
            f"{100 * ours['accuracy']:.2f} % vs {100 * theirs['accuracy']:.2f} %",
            "met" if drop <= 0.005 else "not met",
        )

    for row in linear_rows + [r for r in network_rows]:
        is_linear = isinstance(row, LinearRow)
        name = row.workload.name if is_linear else row["workload"].name
        dtype = row.dtype if is_linear else row["dtype"]
        if dtype != "float64":
            continue
        floor = row.floor if is_linear else row["floor"]
        add(
            f"{name}: evaluation ÷ floor (float64)",
            "≤ 1.25",
            f"{floor.ours_ratio:.2f}",
            "met" if floor.ours_ratio <= 1.25 else "not met",
        )

    for name in ("binary", "ovr", "softmax"):
        f64, f32 = by_key.get((name, "float64")), by_key.get((name, "float32"))
        if f64 is None or f32 is None:
            continue
        a, b = f64.best("ours"), f32.best("ours")
        if a is None or b is None:
            what = f"{name}: float32 vs float64, same accuracy"
            add(what, "≥ 1.6×", "J* not reached", "not met")
            continue
        rounds = b.times[1:]
        if f32.paired_float64 and len(rounds) == len(f32.paired_float64):
            # Both timed in the same interleaved rounds of the float32 row.
            ratio = measure.median_ratio(f32.paired_float64, rounds)
            how = "same rounds"
        else:
            ratio, how = a.seconds / b.seconds, "rows timed apart"
        add(
            f"{name}: float32 vs float64 to the same (J − J*)/J* ≤ {TARGET_REL:g}",
            "≥ 1.6×",
            f"{ratio:.2f}× ({b.label} f32 vs {a.label} f64, {how})",
            "met" if ratio >= 1.6 else "not met",
        )
    if "float64" in net_by_dtype and "float32" in net_by_dtype:
        ours64, ours32 = (
            next(r for r in net_by_dtype[d]["results"].values() if r["contender"].side == "ours")
            for d in ("float64", "float32")
        )
        paired = net_by_dtype["float32"]["paired_float64"]
        if len(paired) == len(ours32["times"]):
            ratio = measure.median_ratio(paired, ours32["times"])  # same rounds
        else:
            ratio = statistics.median(ours64["times"]) / statistics.median(ours32["times"])
        close = abs(ours64["accuracy"] - ours32["accuracy"]) <= 0.005
        add(
            "network: float32 vs float64, same iterations and accuracy (±0.5 pt)",
            "≥ 1.6×",
            f"{ratio:.2f}× (held-out {100 * ours32['accuracy']:.2f} % vs "
            f"{100 * ours64['accuracy']:.2f} %)",
            "met" if ratio >= 1.6 and close else "not met",
        )

    for row in linear_rows:
        ours = row.best("ours")
        sklearn_entries = [e for e in row.entries if e.side == "sklearn"]
        rss = [(e.rss_mb, e.label) for e in sklearn_entries if e.rss_mb is not None]
        traced = [(e.tracemalloc_mb, e.label) for e in sklearn_entries if e.tracemalloc_mb]
        if ours is None or ours.rss_mb is None or not rss:
            continue
        low = min(rss)
        below = ours.rss_mb < low[0]
        achieved = f"RSS {ours.rss_mb:.1f} vs {low[0]:.1f} MB ({low[1]})"
        if ours.tracemalloc_mb is not None and traced:
            low_traced = min(traced)
            below = below and ours.tracemalloc_mb < low_traced[0]
            achieved += (
                f"; tracemalloc {ours.tracemalloc_mb:.1f} vs {low_traced[0]:.1f} MB "
                f"({low_traced[1]})"
            )
        add(
            f"{row.workload.name} {row.dtype}: peak extra memory of {ours.label} below "
            "every scikit-learn solver's",
            "below",
            achieved,
            "met" if below else "not met",
        )
    for row in network_rows:
        results = list(row["results"].values())
        ours = next(r for r in results if r["contender"].side == "ours")
        theirs = next(r for r in results if r["contender"].side == "sklearn")
        ours_rss, theirs_rss = _median_or_none(ours["rss"]), _median_or_none(theirs["rss"])
        below = ours["tracemalloc_mb"] < theirs["tracemalloc_mb"]
        achieved = f"tracemalloc {ours['tracemalloc_mb']:.1f} vs {theirs['tracemalloc_mb']:.1f} MB"
        if ours_rss is not None and theirs_rss is not None:
            below = below and ours_rss < theirs_rss
            achieved += f"; RSS {ours_rss:.1f} vs {theirs_rss:.1f} MB"
        add(
            f"network {row['dtype']}: peak extra memory below MLPClassifier's",
            "below",
            achieved,
            "met" if below else "not met",
        )
    for row in linear_rows:
        peaks = [
            (max(v for v in (e.tracemalloc_mb, e.rss_mb) if v is not None), e.label)
            for e in row.entries
            if e.side == "ours" and (e.tracemalloc_mb is not None or e.rss_mb is not None)
        ]
        if not peaks:
            continue
        worst = max(peaks)
        add(
            f"{row.workload.name} {row.dtype}: no full copy of X in any of our solvers",
            f"peak extra < size of X ({row.X_mb:.0f} MB)",
            f"largest {worst[0]:.1f} MB ({worst[1]}; max of tracemalloc and RSS)",
            "met" if worst[0] < row.X_mb else "not met",
        )

    # Issue 5: second-order solvers (rows appear once the solvers exist).
    second_order = ("newton-cg", "trust-ncg", "trust-krylov")
    row = by_key.get(("softmax", "float64"))
    goal = "softmax: best second-order solver of ours vs scikit-learn newton-cg"
    if row is None:
        add(goal, "≥ 2×", "not run", "—")
    else:
        ours = [
            e
            for e in row.entries
            if e.side == "ours" and e.contender.solver in second_order and e.status == "ok"
        ]
        theirs = sklearn_solver("newton-cg")(row)
        if not any(e.side == "ours" and e.contender.solver in second_order for e in row.entries):
            add(goal, "≥ 2×", "solvers not available yet", "pending")
        elif not ours or theirs is None:
            add(goal, "≥ 2×", "no second-order solver reached J*", "not met")
        else:
            best = min(ours, key=lambda e: e.seconds)
            ratio, lower = ratio_of(theirs, best)
            add(
                goal,
                "≥ 2×",
                f"{fmt_ratio(ratio, lower)} ({best.label})",
                "met" if ratio is not None and ratio >= 2 else "not met",
            )
    if digits_row is not None:
        results = digits_row["results"]
        base = results.get("ours network lbfgs")
        candidates = [
            (label, r)
            for label, r in results.items()
            if label.startswith("ours network") and r["contender"].solver in second_order
        ]
        goal = "digits network: a second-order solver ≥ lbfgs accuracy with fewer passes"
        if base is None:
            add(goal, "fewer passes, ≥ accuracy", "lbfgs not run", "—")
        elif not candidates:
            add(goal, "fewer passes, ≥ accuracy", "no second-order solver run", "pending")
        else:
            wins = [
                label
                for label, r in candidates
                if r["passes"] < base["passes"] and r["accuracy"] >= base["accuracy"]
            ]
            detail = "; ".join(
                f"{label}: {r['passes']} passes, {100 * r['accuracy']:.2f} %"
                for label, r in candidates
            )
            detail += f" (lbfgs: {base['passes']} passes, {100 * base['accuracy']:.2f} %)"
            add(goal, "fewer passes, ≥ accuracy", detail, "met" if wins else "not met")

    # Issue 8: a fit on a Dask array moves O(parameters) per iteration, not O(data):
    # below one float64 per sample, less than any transfer that grows with n.
    goal = "dask: bytes moved per L-BFGS iteration are O(parameters), not O(data)"
    target = "< n × 8 B"
    if dask_row is None:
        add(goal, target, "not run", "—")
    elif "skipped" in dask_row:
        add(goal, target, f"not measured: {dask_row['skipped']}", "—")
    else:
        moved, achieved = dask_overhead.bytes_per_iteration(dask_row["result"])
        met = moved < 8 * dask_row["result"]["n_samples"]
        add(goal, target, achieved, "met" if met else "not met")
    return [*lines, ""]


def _median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ======================================================================= main
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated workloads: binary,ovr,softmax,network,digits,dask",
    )
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument(
        "--ours", default=None, help="comma-separated solvers of ours to run (default: all)"
    )
    parser.add_argument(
        "--theirs",
        default=None,
        help="comma-separated scikit-learn solvers to run (default: all)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="timings per contender")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads")
    parser.add_argument(
        "--cap-factor",
        type=float,
        default=2.5,
        help="cap competitors (not lbfgs) at this multiple of the row's fastest time",
    )
    parser.add_argument(
        "--float32-sklearn",
        choices=FLOAT32_SKLEARN_CHOICES,
        default="goals",
        help="scikit-learn solvers in float32 rows: the goals' references, or all",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds after which no further repeats start (default 360; quick: none)",
    )
    parser.add_argument("--floor-seconds", type=float, default=None)
    parser.add_argument(
        "--output", default=None, help=f"Markdown file (default {OUTPUT}; quick: none)"
    )
    args = parser.parse_args(argv)
    known = list(workloads(args.quick))
    args.only = [name for name in args.only.split(",") if name] or known
    unknown = set(args.only) - set(known)
    if unknown:
        parser.error(f"unknown workload(s) {sorted(unknown)}; choose from {sorted(known)}")
    for side in ("ours", "theirs"):
        value = getattr(args, side)
        setattr(args, side, None if value is None else {v for v in value.split(",") if v})
    args.dtypes = [d for d in args.dtypes.split(",") if d]
    if set(args.dtypes) - {"float64", "float32"} or not args.dtypes:
        parser.error("--dtypes takes float64 and/or float32")
    if args.budget is None:
        args.budget = math.inf if args.quick else 360.0
    if args.quick and "--repeats" not in " ".join(argv):
        args.repeats = 2
    if args.floor_seconds is None:
        args.floor_seconds = 0.05 if args.quick else 1.5
    if args.output is None and not args.quick:
        args.output = str(OUTPUT)
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # Everything imported so far lives for the whole run: keep it out of the
    # collections before each measured fit (130 000 objects cost ~0.2 s per collect).
    gc.freeze()
    bench = Bench(args)
    bench.load_start = os.getloadavg()[0]
    command = "python -m benchmarks.run" + ("" if not argv else " " + " ".join(argv))
    chosen = workloads(args.quick)
    linear_rows, network_rows, digits_row, dask_row = [], [], None, None
    with threadpool_limits(limits=args.threads):
        for name in args.only:
            workload = chosen[name]
            if workload.kind == "dask":
                # Makes its own data, once Dask is known to be there.
                dask_row = bench.dask_row(workload)
                continue
            start = time.perf_counter()
            data = workload.data()
            log(f"{name}: data in {time.perf_counter() - start:.1f} s — {workload.describe()}")
            if workload.kind == "linear":
                previous = None
                for dtype in args.dtypes:
                    row = bench.linear_row(workload, *data, dtype, previous)
                    linear_rows.append(row)
                    previous = row if dtype == "float64" else previous
            elif workload.kind == "network":
                for dtype in args.dtypes:
                    network_rows.append(bench.network_row(workload, data, dtype))
            else:
                digits_row = bench.digits_row(workload)
            del data
    total = time.perf_counter() - bench.started
    lines = header(bench, command, total)
    lines.append("")
    if linear_rows:
        lines += linear_table(linear_rows)
    if network_rows:
        lines += network_table(network_rows)
    if linear_rows or network_rows:
        lines += floor_table(linear_rows, network_rows)
    if digits_row is not None:
        lines += digits_table(digits_row)
    if dask_row is not None:
        lines += dask_table(dask_row)
    lines += goals_table(linear_rows, network_rows, digits_row, dask_row)
    report = "\n".join(lines)
    print(report)
    if args.output:
        Path(args.output).write_text(report + "\n")
        log(f"wrote {args.output}")
    return report


if __name__ == "__main__":
    main()
