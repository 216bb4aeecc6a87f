"""The network rows (same L-BFGS iterations as MLPClassifier) and the digits row.

benchmarks/README.md, "Network" and "Digits and passes", describes both.
"""

import math

import numpy as np

from benchmarks import floors, measure
from benchmarks.bench import log
from benchmarks.linear_rows import REPEAT_WINDOW, warm_up
from benchmarks.workloads import iterations


def network_row(bench, workload, data, dtype):
    """Our network and MLPClassifier, same iterations, interleaved rounds, in ``dtype``."""
    X_train, y_train, X_held, y_held = data
    cast = np.float64 if dtype == "float64" else np.float32
    X, X_h = X_train.astype(cast), X_held.astype(cast)
    tag = f"{workload.name} {dtype}"
    tols = {"ours": 1e-12, "sklearn": 0.0}  # never stop before max_iter
    contenders = workload.contenders()
    results = {c.label: {"contender": c, "times": [], "rss": []} for c in contenders}
    warm_up(tag, contenders, X, y_train)
    paired = []
    for round_index in range(bench.args.repeats):
        if round_index and bench.over_budget():
            bench.skip_repeats(tag)
            break
        order = contenders[round_index % 2 :] + contenders[: round_index % 2]
        if dtype == "float32":
            # float32 vs float64 is a performance target: our float64 fit, timed in
            # the same rounds.
            ours = next(c for c in contenders if c.side == "ours")
            estimator = ours.build(tols["ours"], workload.n_iter)
            paired.append(measure.timed_fit(estimator, X_train, y_train).seconds)
        for contender in order:
            estimator = contender.build(tols[contender.side], workload.n_iter)
            fit = measure.timed_fit(estimator, X, y_train)
            result = results[contender.label]
            result["times"].append(fit.seconds)
            result["rss"].append(fit.rss_mb)
            if round_index == 0:
                result["passes"] = contender.passes(fit)
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
    floor = floors.network_floor(workload, X, y_train, bench.args.floor_seconds)
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


def digits_row(bench, workload):
    """Every contender of the digits workload, each to its own default stopping rule."""
    X_train, X_test, y_train, y_test = workload.data()
    contenders = bench.selected(workload.contenders())
    results = {c.label: {"contender": c, "times": []} for c in contenders}
    active = contenders
    for round_index in range(bench.args.repeats):
        if round_index and bench.over_budget():
            bench.skip_repeats("digits")
            break
        if round_index == 1:
            # As for the linear rows: repeat what is within REPEAT_WINDOW of the
            # fastest fit of the same model (network or linear).
            first = {c.label: results[c.label]["times"][0] for c in contenders}
            fastest = {}
            for c in contenders:
                fastest[c.model] = min(fastest.get(c.model, math.inf), first[c.label])
            active = [c for c in contenders if first[c.label] <= REPEAT_WINDOW * fastest[c.model]]
        shift = round_index % len(active)
        for contender in active[shift:] + active[:shift]:
            estimator = contender.build(None, workload.max_iter)
            fit = measure.timed_fit(estimator, X_train, y_train)
            result = results[contender.label]
            result["times"].append(fit.seconds)
            if round_index == 0:
                result["n_iter"] = iterations(fit.model)
                result["passes"] = contender.passes(fit)
                result["accuracy"] = float(fit.model.score(X_test, y_test))
        log(
            f"digits: round {round_index + 1}: "
            + ", ".join(f"{c.label} {results[c.label]['times'][-1]:.3f} s" for c in active)
        )
    return {"kind": "digits", "workload": workload, "results": results}
