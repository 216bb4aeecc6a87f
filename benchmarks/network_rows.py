"""The network rows (same L-BFGS iterations as MLPClassifier; time to its J and
accuracy at its defaults) and the digits row.

benchmarks/README.md, "Network" and "Digits and passes", describes them.
"""

import math

import numpy as np

from benchmarks import floors, measure
from benchmarks.bench import log
from benchmarks.linear_rows import REPEAT_WINDOW, warm_up
from benchmarks.workloads import iterations

#: Interleaved rounds of MLP's fit and our two timed fits (MLP's takes ~11 s).
TIME_TO_MLP_ROUNDS = 2


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


def time_to_mlp_row(bench, workload, data):
    """Our network's time to MLPClassifier's final training J and held-out accuracy.

    MLPClassifier(lbfgs) runs at its defaults (the workload's architecture and
    alpha = λ); its ``loss_`` is our J. One fit of ours, capped at MLP's iterations,
    records J (``loss_curve_``) and the held-out accuracy (a ScoringMonitor whose
    scorer reads the held-out rows) after every iteration; the first iteration that
    reaches each of MLP's figures is then timed as a fit of that many iterations
    (the same deterministic path), in rounds interleaved with MLP's fit. None without
    ``sklearn.callback`` (scikit-learn < 1.9).
    """
    try:
        from sklearn.callback import ScoringMonitor
    except ImportError:
        return None
    X, y, X_held, y_held = data
    tag = f"{workload.name} time to MLP"
    mlp = measure.timed_fit(workload.mlp_at_defaults(), X, y)
    J_mlp, accuracy_mlp = float(mlp.model.loss_), float(mlp.model.score(X_held, y_held))
    log(f"{tag}: MLPClassifier {mlp.seconds:.2f} s, J {J_mlp:.5f}, accuracy {accuracy_mlp:.4f}")

    def held_out_accuracy(estimator, X_, y_):
        # A dict: scikit-learn 1.9's ScoringMonitor takes a callable's scores as one.
        return {"held_out_accuracy": estimator.score(X_held, y_held)}

    monitor = ScoringMonitor(scoring=held_out_accuracy)
    recorded = workload.estimator(tol=1e-12, max_iter=mlp.model.n_iter_)
    with measure.quiet():
        recorded.set_callbacks(monitor).fit(X, y)
    accuracies = [
        row["held_out_accuracy"]
        for row in monitor.get_logs().data
        if row["task_name"] == "iteration"
    ]
    reached = {
        "J": next((k + 1 for k, J in enumerate(recorded.loss_curve_) if J <= J_mlp), None),
        "accuracy": next((k + 1 for k, a in enumerate(accuracies) if a >= accuracy_mlp), None),
    }
    times = {"mlp": [mlp.seconds], **{key: [] for key, k in reached.items() if k}}
    for round_index in range(TIME_TO_MLP_ROUNDS):
        if round_index:
            if bench.over_budget():
                bench.skip_repeats(tag)
                break
            times["mlp"].append(measure.timed_fit(workload.mlp_at_defaults(), X, y).seconds)
        for key, k in reached.items():
            if k:
                fit = measure.timed_fit(workload.estimator(tol=1e-12, max_iter=k), X, y)
                times[key].append(fit.seconds)
        log(
            f"{tag}: round {round_index + 1}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
        )
    return {
        "kind": "time to MLP",
        "workload": workload,
        "mlp": {
            "J": J_mlp,
            "accuracy": accuracy_mlp,
            "n_iter": mlp.model.n_iter_,
            "warned": mlp.warned,
            "max_iter": mlp.model.max_iter,
            "tol": mlp.model.tol,
        },
        "reached": reached,
        "accuracy_at": {key: accuracies[k - 1] for key, k in reached.items() if k},
        "J_at": {key: recorded.loss_curve_[k - 1] for key, k in reached.items() if k},
        "times": times,
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
