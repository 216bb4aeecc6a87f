"""The Markdown report: its header and one function per table of measurements.

The performance targets, checked against these measurements, are in ``targets.py``.
"""

import math
import os
import platform
import statistics
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from benchmarks import dask_overhead, measure
from benchmarks.choosing_lambda import (
    EXACT_TOL,
    GRID_OURS,
    GRID_SKLEARN,
    NO_ITERATION_TOL,
    ROW_SECONDS,
)
from benchmarks.choosing_lambda import LADDER as LAMBDA_LADDER
from benchmarks.linear_rows import LADDER, MAX_ITER, REPEAT_WINDOW, TARGET_REL


def fmt_time(seconds):
    """Seconds to three significant digits (— when unknown)."""
    if seconds is None:
        return "—"
    return f"{seconds:.3g}" if seconds < 100 else f"{seconds:.0f}"


def fmt_mb(value):
    """Megabytes to one decimal (— when unknown)."""
    return "—" if value is None else f"{value:.1f}"


def time_cell(entry):
    """A linear entry's time to J*, its capped lower bound, or "not reached"."""
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
    """A ratio as ``2.31×``, ``> 2.31×`` when it is a lower bound."""
    if ratio is None:
        return "—"
    return f"{'> ' if lower else ''}{ratio:.2f}×"


def code_version():
    """``git describe --always --dirty`` of the checkout (``unknown`` without git)."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            check=False,
        ).stdout.strip()
    except OSError:
        return "unknown"


def header(bench, command, total_seconds):
    """Title and facts of the run: command, date, machine, versions, threads, method."""
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
    commit = code_version()
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
        "J* = best J of any fit in the row. Competitors other than the targets' references "
        "(scikit-learn lbfgs; on softmax also newton-cg) are capped at "
        f"{bench.args.cap_factor:g}× the row's fastest time so far. Ratios are "
        "competitor ÷ our best solver (per row), the median of per-round ratios when both "
        f"were repeated. Repeats: {bench.args.repeats - 1} interleaved rounds after the "
        f"calibration fit for contenders within {REPEAT_WINDOW:g}× of their side's fastest "
        "and for the targets' references (n = rounds timed; n = 1: the calibration fit "
        "only). Memory: peak above the memory before `fit` (X excluded), RSS "
        "high-water mark during the timed fits and tracemalloc during a 1-iteration fit.",
    ]
    return lines + [f"- note: {note}" for note in dict.fromkeys(bench.notes)]


def linear_table(rows):
    """Time to the optimum J* of every linear contender, with its passes over X, its
    evaluation ÷ floor, its peak extra memory and the gap of its J to J*."""
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
            f"X is {row.X_mb:.3g} MB; J* = {row.J_star!r}"
        )
        lines.extend(f"  - {note}" for note in row.notes)
    lines.append(
        "- passes: ours counted (evaluations of J and ∇J plus Hessian products, each "
        "reading X once); scikit-learn's lbfgs: ≥ n_iter_ + 1 (one-vs-rest: summed over "
        "its problems), the fewest evaluations its L-BFGS can make, as its count is not "
        "public; its other solvers: —."
    )
    return [*lines, ""]


def floor_table(linear_rows, network_rows):
    """Cost of one evaluation of J and ∇J (ours and scikit-learn's) against the BLAS floor."""
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
    """Our network and MLPClassifier at equal L-BFGS iterations: time, held-out accuracy,
    final J, the cost of an evaluation inside the fit and peak extra memory."""
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
            if passes is not None and passes.count:
                # A lower bound on the evaluations bounds their cost from above.
                cost = 1e3 * seconds / passes.count / row["floor"].floor_ms
                in_fit = f"{'≤ ' if passes.at_least else ''}{cost:.2f}"
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
            "its figure. scikit-learn does not publish its evaluation count: ≥ n is "
            "n_iter_ + 1, the fewest evaluations its L-BFGS can make, so its in-fit cost "
            "is at most the ≤ figure."
        )
    return [*lines, ""]


def time_to_mlp_table(row):
    """Our network's time to MLPClassifier's final J and held-out accuracy, MLP at defaults."""
    mlp, reached, times = row["mlp"], row["reached"], row["times"]
    mlp_seconds = statistics.median(times["mlp"])
    lines = [
        "## Network: time to MLPClassifier's loss and accuracy",
        "",
        f"{row['workload'].describe().rsplit(', ', 1)[0]}. MLPClassifier(lbfgs) at its "
        f"defaults (`max_iter={mlp['max_iter']}`, `tol={mlp['tol']:g}`): "
        f"{mlp['n_iter']} iterations"
        f"{', ConvergenceWarning' if mlp['warned'] else ''}, final `loss_` (our J at alpha = λ) "
        f"{mlp['J']:.5f}, held-out accuracy {mlp['accuracy']:.4f}. Ours: one fit capped at MLP's "
        "iterations records J and the held-out accuracy after every iteration (a "
        "`ScoringMonitor`); the first iteration to reach each of MLP's figures is then timed as "
        "a fit of that many iterations (the same path), in rounds interleaved with MLP's fit; "
        "ratio = median of per-round ratios.",
        "",
        "| reaching MLP's | iterations | time [s] | n | ratio vs MLP | J there | "
        "held-out accuracy there |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| (MLPClassifier itself) | {mlp['n_iter']} | {mlp_seconds:.3g} | {len(times['mlp'])} "
        f"| 1.00× | {mlp['J']:.5f} | {mlp['accuracy']:.4f} |",
    ]
    for key, label in (("J", "final training J"), ("accuracy", "held-out accuracy")):
        k = reached[key]
        if k is None:
            lines.append(f"| {label} | not within {mlp['n_iter']} | — | — | — | — | — |")
            continue
        ratio = measure.median_ratio(times["mlp"][: len(times[key])], times[key])
        lines.append(
            f"| {label} | {k} | {statistics.median(times[key]):.3g} | {len(times[key])} | "
            f"{ratio:.2f}× | {row['J_at'][key]:.5f} | {row['accuracy_at'][key]:.4f} |"
        )
    return [*lines, ""]


def digits_table(row):
    """Held-out accuracy, time, iterations and passes over X on scikit-learn's digits."""
    lines = [
        "## Digits: held-out accuracy",
        "",
        f"{row['workload'].describe()}. Passes = evaluations of J and ∇J and Hessian "
        "products (each: two products with X), counted for our estimators; for "
        "scikit-learn's L-BFGS, ≥ n_iter_ + 1 (its count is not public).",
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


def dask_table(row):
    """Overhead of fitting on a Dask cluster against in memory (``dask_overhead``)."""
    lines = ["## Dask: overhead of fitting on a cluster", "", f"{row['workload'].describe()}."]
    if "skipped" in row:
        lines.append(f"Not measured: {row['skipped']}.")
    else:
        lines += ["", dask_overhead.markdown(row["result"])]
    return [*lines, ""]


def defaults_table(rows):
    """Our estimator and scikit-learn's at their defaults, float64 and float32 side by side."""
    lines = [
        "## Fits at defaults: float32 against float64",
        "",
        "Each estimator constructed with the penalty only (`RegLogisticClassifier(reg_lambda=λ)`"
        ", `LogisticRegression(C=1/λ)`, ...), fitted on the float64 values and on the same "
        "values in float32, in interleaved rounds. ‖∇J‖∞ and J of the result are evaluated "
        "in float64 by our objective on the values the fit saw; J* is the row's (time to "
        "the optimum). float64 ÷ float32 is the median of per-round ratios.",
        "",
        "| workload | contender | dtype | tol | ConvergenceWarning | iterations | ‖∇J‖∞ | "
        "(J − J*)/J* | time [s] | n | float64 ÷ float32 |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        for fit in row.fits:
            speedup = row.speedup(fit.side) if fit.dtype == "float32" else None
            gap = (fit.J - row.J_star) / abs(row.J_star)
            lines.append(
                f"| {row.workload.name} | {fit.label} | {fit.dtype} | {fit.tol:g} | "
                f"{'yes' if fit.warned else 'no'} | {fit.n_iter} | {fit.grad_inf:.1e} | "
                f"{gap:.1e} | {fmt_time(fit.seconds)} | {len(fit.times)} | "
                f"{'—' if speedup is None else f'{speedup:.2f}×'} |"
            )
    return [*lines, ""]


def _per_pass(run, seconds):
    """ms per pass over X of a search (``≤`` when its passes are a lower bound)."""
    if run.passes is None or not run.passes.count:
        return "—"
    return f"{'≤ ' if run.passes.at_least else ''}{1e3 * seconds / run.passes.count:.3g}"


def _gap_cell(row, entry, run):
    gap = row.gap(entry, run)
    return "—" if gap is None else f"{gap:.1e}"


def lambda_tables(section, bench, command):
    """The searches over λ (``choosing_lambda``): times, scores, work, defaults, ladder."""
    rows = section["rows"]
    lines = [
        "## Choosing λ: searches by cross-validation",
        "",
        f"Measured by `{command}` (code {code_version()}, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average at start/end "
        f"{bench.load_start:.2f} / {os.getloadavg()[0]:.2f}). In each row every contender "
        "gets the same data, λ grid and folds (`StratifiedKFold(k, shuffle=True, "
        "random_state=0)`), `n_jobs=1` and one BLAS thread, and runs at its defaults; "
        "`LogisticRegressionCV` and `GridSearchCV(LogisticRegression)` search C = 1/λ. "
        "Contenders are fitted in interleaved rounds (order rotating; at least 2, more up "
        f"to {bench.args.repeats} while the row has taken less than {ROW_SECONDS:g} s); "
        "time = median, ratio = median of per-round ratios, contender ÷ ours (bold). "
        "Scores are mean held-out accuracies over the folds, one per λ; *exact* is the "
        f"same search at tol = {EXACT_TOL:g} (max_iter 10 000), and max |Δ| the largest "
        "difference of a search's mean scores from the exact ones over the grid. Passes: "
        "ours counted (`instrumentation.count_passes`; a pass of our linear CV estimator "
        "evaluates every fold at once); LogisticRegressionCV: ≥ Σ n_iter_ + fits, the "
        "fewest its L-BFGS can make; fits: `minimize` calls, refit included. *Fixed*: our "
        f"search at tol = {NO_ITERATION_TOL:g}, which every starting point meets: no fit "
        "iterates, what is left is validation, set-up, one evaluation per fit (on our "
        "paths none where the last solution meets tol at the new λ: at this tol, every fit "
        "after the first), scoring and the refit's set-up.",
        "",
        "| row | contender | time [s] | n | ratio vs ours | fixed [s] | chosen λ | "
        "its mean score | max abs(Δ) vs exact | ConvergenceWarning | fits | iterations | "
        "passes | ms per pass | held-out accuracy |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        grid = row.spec.reg_lambdas
        for entry in row.entries:
            run = entry.first
            label = f"**{entry.label}**" if entry is row.reference else entry.label
            lines.append(
                f"| {row.spec.name} | {label} | {fmt_time(entry.seconds)} | "
                f"{len(entry.times)} | {row.ratio(entry):.2f}× | "
                f"{fmt_time(entry.fixed_seconds)} | {grid[run.chosen]:.3g} | "
                f"{run.scores[run.chosen]:.4f} | {_gap_cell(row, entry, run)} | "
                f"{'yes' if run.warned else 'no'} | {run.fits} | "
                f"{'—' if run.iterations is None else run.iterations} | "
                f"{'—' if run.passes is None else run.passes} | "
                f"{_per_pass(run, entry.seconds)} | "
                f"{'—' if run.held_out is None else f'{run.held_out:.4f}'} |"
            )
    lines.append("")
    for row in rows:
        spec, grid = row.spec, row.spec.reg_lambdas
        exact = "each search's own"
        if spec.exact not in (None, "each") and not spec.ladder:
            exact = f"{spec.label(spec.exact)}'s, for every contender"
        spread = row.exact_spread()
        agree = ""
        if spread is not None:
            agree = "; the exact searches' mean scores are " + (
                "identical" if spread == 0 else f"within {spread:.1e} of each other"
            )
        what = f"{spec.model}, " if spec.model != "network" else f"H = {spec.hidden}, "
        held = f"; {row.held_out_rows} rows held out" if row.held_out_rows else ""
        lines.append(
            f"- {spec.name}: {spec.about}, {row.shape[0]:,} × {row.shape[1]}{held}; "
            f"{what}{len(grid)} λ log-spaced from {grid[0]:g} to {grid[-1]:g}, "
            f"{spec.n_folds} folds; one fold's evaluation of J and ∇J (our base model): "
            f"{row.fold_eval_ms:.3g} ms"
            + ("" if spec.model == "network" else f"; exact: {exact}{agree}")
        )
    lines += [
        "",
        "### GridSearchCV over λ, each library at its defaults",
        "",
        "| row | contender | tol | time [s] | n | ratio vs ours | max abs(Δ) vs exact | "
        "chosen λ | exact's λ |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours, theirs = row.entry(GRID_OURS), row.entry(GRID_SKLEARN)
        if ours is None or theirs is None:
            continue
        grid = row.spec.reg_lambdas
        for entry in (ours, theirs):
            exact = row.exact_of(entry)
            lines.append(
                f"| {row.spec.name} | {entry.label} | {row.spec.default_tol(entry.key):g} | "
                f"{fmt_time(entry.seconds)} | {len(entry.times)} | "
                f"{row.ratio(entry, ours):.2f}× | {_gap_cell(row, entry, entry.first)} | "
                f"{grid[entry.first.chosen]:.3g} | "
                f"{'—' if exact is None else f'{grid[exact.chosen]:.3g}'} |"
            )
    lines += [
        "",
        "### Tolerance ladder",
        "",
        f"Each linear search at tol = {', '.join(f'{t:g}' for t in LAMBDA_LADDER)} (max_iter "
        "10 000, one fit each, interleaved) and at its default tol (its default fit, "
        "max_iter included: the rounds above), against its exact search.",
        "",
        "| row | contender | tol | time [s] | max abs(Δ) vs exact | chosen λ | exact's λ? | "
        "ConvergenceWarning |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        grid = row.spec.reg_lambdas
        for entry in row.entries:
            exact = row.exact_of(entry)
            if exact is None or (not entry.ladder and entry.exact is None):
                continue
            for tol, run, seconds in row.ladder_runs(entry):
                if run is entry.first:
                    tol_cell = f"{tol:g} (default)"
                else:
                    tol_cell = f"{tol:g}" + (" (exact)" if run is entry.exact else "")
                lines.append(
                    f"| {row.spec.name} | {entry.label} | {tol_cell} | {fmt_time(seconds)} | "
                    f"{_gap_cell(row, entry, run)} | {grid[run.chosen]:.3g} | "
                    f"{'yes' if run.chosen == exact.chosen else 'no'} | "
                    f"{'yes' if run.warned else 'no'} |"
                )
    return [*lines, ""]


class TargetTable:
    """The rows of one table of targets, and its Markdown."""

    def __init__(self, title, description, bound_column=False):
        self.title, self.description, self.bound_column = title, description, bound_column
        self.rows = []
        #: What limits a missed target, as measured: bullets under the table.
        self.notes = []

    def add(self, what, target, achieved, status, bound=None):
        cells = [what, target, achieved, status]
        if self.bound_column:
            cells.append("—" if bound is None else f"{bound:.2f}×")
        self.rows.append(f"| {' | '.join(cells)} |")

    def lines(self):
        heading = "| measure | target | achieved | status |"
        rule = "|---|---|---|---|"
        if self.bound_column:
            heading, rule = heading + " bound at the floor |", rule + "---:|"
        lines = [f"### {self.title}", "", self.description, "", heading, rule, *self.rows, ""]
        return lines + ([f"- {note}" for note in self.notes] + [""] if self.notes else [])
