"""The project's performance targets next to what a run achieved: one table per kind.

Every target is checked on the float64 rows unless it says otherwise, and is never
lowered. A status is ``met``, ``not met``, ``undetermined`` (a capped competitor's
lower bound is below the target), ``pending`` (the solvers it needs do not exist
yet) or ``—`` (not run, or not measurable here).
"""

import statistics

from benchmarks import dask_overhead, measure
from benchmarks.lambda_targets import ACCURACY_MARGIN, lambda_targets
from benchmarks.linear_rows import TARGET_REL
from benchmarks.report import TargetTable, fmt_ratio, ratio_of
from benchmarks.user_data import user_workloads
from sklearn_nn.instrumentation import SECOND_ORDER_SOLVERS

#: Time to J*, scikit-learn's time ÷ ours: (workload, what, target, competitor).
SPEED_TARGETS = [
    ("binary", "binary: vs scikit-learn's fastest solver", 1.5, "fastest"),
    ("binary", "binary: vs scikit-learn lbfgs", 3, "lbfgs"),
    ("softmax", "softmax: vs scikit-learn's fastest solver", 2, "fastest"),
    ("softmax", "softmax: vs scikit-learn lbfgs", 5, "lbfgs"),
    ("ovr", "one-vs-rest: vs OvR(LogisticRegression) fastest", 1.5, "fastest"),
]
#: MLPClassifier(lbfgs) time ÷ our network's, at equal iterations.
NETWORK_SPEEDUP = 2.5
#: MLPClassifier(lbfgs) at its defaults: its time ÷ ours to its final J, and to its
#: held-out accuracy.
TIME_TO_MLP_SPEEDUP = 3
#: On every row of users' data: (what, target, competitor), as in SPEED_TARGETS.
USER_SPEED_TARGETS = [
    ("vs scikit-learn's fastest solver", 1.5, "fastest"),
    ("vs scikit-learn lbfgs", 3, "lbfgs"),
]
#: Our evaluation of J and ∇J ÷ the BLAS floor of its two products with X, on every
#: row (the earlier 1.25 on the original rows became 1.4 with the rows of users' data).
EVALUATION_COST = 1.4
#: Our float64 time ÷ our float32 time to the same J (rows of users' data: USER_...).
FLOAT32_SPEEDUP = 1.6
USER_FLOAT32_SPEEDUP = 1.5
#: The names of the rows on users' data (benchmarks/user_data.py).
USER_ROWS = tuple(user_workloads())
#: scikit-learn newton-cg time ÷ our best second-order solver's, on softmax.
SECOND_ORDER_SPEEDUP = 2


BOUND_NOTE = (
    "*Bound at the floor*: the ratio we would reach if each of our evaluations cost "
    "exactly the floor (achieved × our evaluation ÷ floor); a target above it needs "
    "fewer passes, not faster ones."
)


def targets_report(
    linear_rows,
    network_rows,
    digits_row,
    dask_row=None,
    defaults_rows=(),
    lambda_section=None,
    time_to_mlp=None,
):
    """Every table of targets, under one heading."""
    lines = [
        "## Performance targets vs achieved",
        "",
        "Measured on the float64 rows unless a target says otherwise. A ratio `> x` is a "
        "lower bound (the competitor was capped).",
        "",
    ]
    for table in [
        speed_targets(linear_rows),
        network_targets(network_rows, time_to_mlp),
        evaluation_cost_targets(linear_rows, network_rows),
        float32_targets(linear_rows, network_rows, defaults_rows),
        memory_targets(linear_rows, network_rows),
        second_order_targets(linear_rows, digits_row),
        dask_targets(dask_row),
        lambda_targets(lambda_section),
    ]:
        lines += table.lines()
    return lines


def _floor_bound(ratio, floor):
    """The ratio if each of our evaluations cost the floor (all other costs kept)."""
    if ratio is None or floor is None:
        return None
    return ratio * floor.ours_ratio


def _linear_row(linear_rows, name, dtype="float64"):
    return next((r for r in linear_rows if (r.workload.name, r.dtype) == (name, dtype)), None)


def _network_row(network_rows, dtype="float64"):
    return next((r for r in network_rows if r["dtype"] == dtype), None)


def _sides(row):
    """(ours, scikit-learn's) results of a network row."""
    results = list(row["results"].values())
    ours = next(r for r in results if r["contender"].side == "ours")
    theirs = next(r for r in results if r["contender"].side == "sklearn")
    return ours, theirs


def _competitor(row, solver):
    """scikit-learn's entry for ``solver``, or its fastest that reached J* ("fastest").

    When none reached J*, "fastest" is the capped entry with the smallest lower bound:
    every scikit-learn solver then takes longer than it (the others that were not
    capped never reach J*), so its ratio is a lower bound for all of them.
    """
    sklearn = [e for e in row.entries if e.side == "sklearn"]
    if solver == "fastest":
        done = [e for e in sklearn if e.status == "ok"]
        if done:
            return min(done, key=lambda e: e.seconds)
        capped = [e for e in sklearn if e.status == "capped"]
        return min(capped, key=lambda e: e.lower_bound) if capped else None
    return next((e for e in sklearn if e.contender.solver == solver), None)


def speed_targets(linear_rows):
    """Time to J* of scikit-learn's solvers ÷ our best solver's, linear workloads."""
    table = TargetTable(
        "Time to the optimum vs scikit-learn", "Per linear workload. " + BOUND_NOTE, True
    )
    user = [
        (name, f"{name}: {what}", target, solver)
        for name in USER_ROWS
        if _linear_row(linear_rows, name) is not None
        for what, target, solver in USER_SPEED_TARGETS
    ]
    for name, what, target, solver in SPEED_TARGETS + user:
        wanted = f"≥ {target}×"
        row = _linear_row(linear_rows, name)
        if row is None:
            table.add(what, wanted, "not run", "—")
            continue
        ours, competitor = row.best("ours"), _competitor(row, solver)
        if ours is None or competitor is None:
            table.add(what, wanted, "ours or competitor did not reach J*", "not met")
            continue
        ratio, lower = ratio_of(competitor, ours)
        if ratio is None:
            table.add(what, wanted, f"{competitor.label} did not reach J*", "—")
            continue
        achieved = f"{fmt_ratio(ratio, lower)} ({competitor.label} vs {ours.label})"
        if ratio >= target:
            status = "met"
        elif lower:
            status = "undetermined (competitor capped below the target)"
        else:
            status = "not met"
        bound = None if lower else _floor_bound(ratio, row.floor)
        table.add(what, wanted, achieved, status, bound)
    return table


def network_targets(network_rows, time_to_mlp=None):
    """Our network against MLPClassifier(lbfgs): at equal iterations, and to its J and
    held-out accuracy at its defaults."""
    table = TargetTable(
        "Network vs MLPClassifier",
        "Same number of L-BFGS iterations, timed in the same rounds. " + BOUND_NOTE,
        True,
    )
    what = "network: vs MLPClassifier(lbfgs), same iterations"
    row = _network_row(network_rows)
    if row is None:
        table.add(what, f"≥ {NETWORK_SPEEDUP}×", "not run", "—")
        return table
    ours, theirs = _sides(row)
    ratio = measure.median_ratio(theirs["times"], ours["times"])  # same rounds
    same = ours["n_iter"] == theirs["n_iter"]
    table.add(
        what,
        f"≥ {NETWORK_SPEEDUP}×",
        f"{ratio:.2f}× ({ours['n_iter']} vs {theirs['n_iter']} iterations)",
        "met" if ratio >= NETWORK_SPEEDUP and same else "not met",
        _floor_bound(ratio, row["floor"]),
    )
    drop = theirs["accuracy"] - ours["accuracy"]
    table.add(
        "network: held-out accuracy no worse than MLP's",
        f"≥ MLP − {100 * ACCURACY_MARGIN:g} pt",
        f"{100 * ours['accuracy']:.2f} % vs {100 * theirs['accuracy']:.2f} %",
        "met" if drop <= ACCURACY_MARGIN else "not met",
    )
    _time_to_mlp_targets(table, time_to_mlp)
    return table


def _time_to_mlp_targets(table, row):
    """Our time to MLPClassifier's final training J and held-out accuracy, at its defaults."""
    for key, label in (("J", "final training J"), ("accuracy", "held-out accuracy")):
        what = f"network: time to MLPClassifier's {label} (MLP at its defaults)"
        wanted = f"≥ {TIME_TO_MLP_SPEEDUP}×"
        if row is None:
            table.add(what, wanted, "not run (needs scikit-learn ≥ 1.9's callbacks)", "—")
            continue
        times, k = row["times"], row["reached"][key]
        if k is None:
            table.add(
                what, wanted, f"not within MLP's {row['mlp']['n_iter']} iterations", "not met"
            )
            continue
        ratio = measure.median_ratio(times["mlp"][: len(times[key])], times[key])
        # Both with held-out accuracy at least MLP's own.
        accurate = row["accuracy_at"][key] >= row["mlp"]["accuracy"]
        table.add(
            what,
            f"{wanted}, held-out accuracy ≥ MLP's",
            f"{ratio:.2f}× ({k} vs {row['mlp']['n_iter']} iterations; accuracy there "
            f"{100 * row['accuracy_at'][key]:.2f} % vs {100 * row['mlp']['accuracy']:.2f} %)",
            "met" if ratio >= TIME_TO_MLP_SPEEDUP and accurate else "not met",
        )


def evaluation_cost_targets(linear_rows, network_rows):
    """Our evaluation of J and ∇J ÷ the floor of its two products with X, per workload."""
    table = TargetTable(
        "Cost of one evaluation",
        "Our J and ∇J against the two products with X they cannot avoid (float64 rows).",
    )
    floors = [(r.workload.name, r.dtype, r.floor) for r in linear_rows]
    floors += [(r["workload"].name, r["dtype"], r["floor"]) for r in network_rows]
    for name, dtype, floor in floors:
        if dtype != "float64":
            continue
        table.add(
            f"{name}: evaluation ÷ floor (float64)",
            f"≤ {EVALUATION_COST}",
            f"{floor.ours_ratio:.2f}",
            "met" if floor.ours_ratio <= EVALUATION_COST else "not met",
        )
    return table


def float32_targets(linear_rows, network_rows, defaults_rows=()):
    """Our best float64 time ÷ our best float32 time to the same result, per workload;
    and whether our float32 fit at defaults ends as the float64 one does."""
    table = TargetTable(
        "float32 vs float64",
        "Our best float64 fit timed again in every repeat round of the float32 row, so "
        "that both are measured under the same load. At defaults: the float32 fit ends "
        "without a ConvergenceWarning, with ‖∇J‖∞ (float64 evaluation) within its tol.",
    )
    for name in ("binary", "ovr", "softmax", *USER_ROWS):
        f64, f32 = _linear_row(linear_rows, name), _linear_row(linear_rows, name, "float32")
        if f64 is None or f32 is None:
            continue
        target = USER_FLOAT32_SPEEDUP if name in USER_ROWS else FLOAT32_SPEEDUP
        wanted = f"≥ {target}×"
        a, b = f64.best("ours"), f32.best("ours")
        if a is None or b is None:
            what = f"{name}: float32 vs float64, same accuracy"
            table.add(what, wanted, "J* not reached", "not met")
            continue
        rounds = b.times[1:]
        if f32.paired_float64 and len(rounds) == len(f32.paired_float64):
            # Both timed in the same interleaved rounds of the float32 row.
            ratio = measure.median_ratio(f32.paired_float64, rounds)
            how = "same rounds"
        else:
            ratio, how = a.seconds / b.seconds, "rows timed apart"
        table.add(
            f"{name}: float32 vs float64 to the same (J − J*)/J* ≤ {TARGET_REL:g}",
            wanted,
            f"{ratio:.2f}× ({b.label} f32 vs {a.label} f64, {how})",
            "met" if ratio >= target else "not met",
        )
    for row in defaults_rows:
        fit = row.fit("ours", "float32")
        if fit is None:
            continue
        reached = not fit.warned and fit.grad_inf <= fit.tol
        table.add(
            f"{row.workload.name}: float32 fit at defaults converges",
            f"no ConvergenceWarning, ‖∇J‖∞ ≤ {fit.tol:g}",
            f"{'ConvergenceWarning' if fit.warned else 'no warning'}, ‖∇J‖∞ = "
            f"{fit.grad_inf:.1e}, {fit.n_iter} iterations",
            "met" if reached else "not met",
        )
    row64, row32 = _network_row(network_rows), _network_row(network_rows, "float32")
    if row64 is not None and row32 is not None:
        ours64, ours32 = _sides(row64)[0], _sides(row32)[0]
        paired = row32["paired_float64"]
        if len(paired) == len(ours32["times"]):
            ratio = measure.median_ratio(paired, ours32["times"])  # same rounds
        else:
            ratio = statistics.median(ours64["times"]) / statistics.median(ours32["times"])
        close = abs(ours64["accuracy"] - ours32["accuracy"]) <= ACCURACY_MARGIN
        table.add(
            "network: float32 vs float64, same iterations and accuracy (±0.5 pt)",
            f"≥ {FLOAT32_SPEEDUP}×",
            f"{ratio:.2f}× (held-out {100 * ours32['accuracy']:.2f} % vs "
            f"{100 * ours64['accuracy']:.2f} %)",
            "met" if ratio >= FLOAT32_SPEEDUP and close else "not met",
        )
    return table


def memory_targets(linear_rows, network_rows):
    """Peak extra memory of our fits against scikit-learn's, and against the size of X."""
    table = TargetTable(
        "Peak memory",
        "Peak memory of `fit` above the memory before it (X excluded): RSS high-water "
        "mark during the timed fits, tracemalloc during a 1-iteration fit; every row.",
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
        table.add(
            f"{row.workload.name} {row.dtype}: peak extra memory of {ours.label} below "
            "every scikit-learn solver's",
            "below",
            achieved,
            "met" if below else "not met",
        )
    for row in network_rows:
        ours, theirs = _sides(row)
        ours_rss, theirs_rss = _median_or_none(ours["rss"]), _median_or_none(theirs["rss"])
        below = ours["tracemalloc_mb"] < theirs["tracemalloc_mb"]
        achieved = f"tracemalloc {ours['tracemalloc_mb']:.1f} vs {theirs['tracemalloc_mb']:.1f} MB"
        if ours_rss is not None and theirs_rss is not None:
            below = below and ours_rss < theirs_rss
            achieved += f"; RSS {ours_rss:.1f} vs {theirs_rss:.1f} MB"
        table.add(
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
        table.add(
            f"{row.workload.name} {row.dtype}: no full copy of X in any of our solvers",
            f"peak extra < size of X ({row.X_mb:.0f} MB)",
            f"largest {worst[0]:.1f} MB ({worst[1]}; max of tracemalloc and RSS)",
            "met" if worst[0] < row.X_mb else "not met",
        )
    return table


def second_order_targets(linear_rows, digits_row):
    """Our solvers that multiply by the Hessian: speed on softmax, passes on digits."""
    table = TargetTable(
        "Second-order solvers",
        f"Our solvers that use Hessian products ({', '.join(SECOND_ORDER_SOLVERS)}).",
    )
    row = _linear_row(linear_rows, "softmax")
    what = "softmax: best second-order solver of ours vs scikit-learn newton-cg"
    wanted = f"≥ {SECOND_ORDER_SPEEDUP}×"
    if row is None:
        table.add(what, wanted, "not run", "—")
    else:
        second_order = [
            e
            for e in row.entries
            if e.side == "ours" and e.contender.solver in SECOND_ORDER_SOLVERS
        ]
        done = [e for e in second_order if e.status == "ok"]
        theirs = _competitor(row, "newton-cg")
        if not second_order:
            table.add(what, wanted, "solvers not available yet", "pending")
        elif theirs is None:
            table.add(what, wanted, "scikit-learn newton-cg not run", "—")
        elif not done:
            table.add(what, wanted, "no second-order solver reached J*", "not met")
        else:
            best = min(done, key=lambda e: e.seconds)
            ratio, lower = ratio_of(theirs, best)
            table.add(
                what,
                wanted,
                f"{fmt_ratio(ratio, lower)} ({best.label})",
                "met" if ratio is not None and ratio >= SECOND_ORDER_SPEEDUP else "not met",
            )
    if digits_row is not None:
        _digits_passes_target(table, digits_row["results"])
    return table


def _digits_passes_target(table, results):
    """A second-order network solver as accurate as lbfgs with fewer passes over X."""
    what = "digits network: a second-order solver ≥ lbfgs accuracy with fewer passes"
    wanted = "fewer passes, ≥ accuracy"
    base = results.get("ours network lbfgs")
    candidates = [
        (label, r)
        for label, r in results.items()
        if label.startswith("ours network") and r["contender"].solver in SECOND_ORDER_SOLVERS
    ]
    if base is None:
        table.add(what, wanted, "lbfgs not run", "—")
        return
    if not candidates:
        table.add(what, wanted, "no second-order solver run", "pending")
        return
    wins = [
        label
        for label, r in candidates
        if r["passes"].count < base["passes"].count and r["accuracy"] >= base["accuracy"]
    ]
    detail = "; ".join(
        f"{label}: {r['passes']} passes, {100 * r['accuracy']:.2f} %" for label, r in candidates
    )
    detail += f" (lbfgs: {base['passes']} passes, {100 * base['accuracy']:.2f} %)"
    table.add(what, wanted, detail, "met" if wins else "not met")


def dask_targets(dask_row):
    """Bytes a fit on a Dask array moves per iteration: O(parameters), not O(data)."""
    table = TargetTable(
        "Fitting on a Dask cluster",
        "Below one float64 per sample per iteration, nothing that grows with the data is "
        "moved. Loopback traffic is machine-wide, an upper bound on the cluster's own.",
    )
    what = "dask: bytes moved per L-BFGS iteration are O(parameters), not O(data)"
    wanted = "< n × 8 B"
    if dask_row is None:
        table.add(what, wanted, "not run", "—")
    elif "skipped" in dask_row:
        table.add(what, wanted, f"not measured: {dask_row['skipped']}", "—")
    else:
        moved, achieved = dask_overhead.bytes_per_iteration(dask_row["result"])
        if moved is None:
            table.add(what, wanted, achieved, "—")
        else:
            met = moved < 8 * dask_row["result"]["n_samples"]
            table.add(what, wanted, achieved, "met" if met else "not met")
    return table


def _median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
