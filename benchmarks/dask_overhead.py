"""Overhead of fitting on a Dask cluster, against the same objective in memory.

The suite's ``dask`` workload (``python -m benchmarks.run --only dask``; part of
``make bench``): the binary logistic data as a Dask array of row chunks spread over
the worker processes of a ``LocalCluster`` (one thread each), compared with the
same data in memory on one thread. Everything goes through public operations: J is
``sklearn_nn.instrumentation.objective`` of the same estimator on either input, and
the fits are ``RegLogisticClassifier.fit``.

* time per evaluation of J and ∇J (``value_and_grad``) and per Hessian-vector
  product (``hessp``), medians over calls at fresh points, in memory timed while no
  cluster runs (before it starts and after it stops);
* bytes moved: everything that crossed the loopback interface (client, scheduler
  and workers talk over it) during each evaluation and product, and during a whole
  fit; machine-wide, so it includes heartbeats and any other process's loopback
  traffic: an upper bound on what the cluster moved;
* a whole L-BFGS fit both ways: seconds, iterations, final J.

Dask is imported only inside :func:`run`: without it, :func:`unavailable` says why
and the suite reports the row as skipped.
"""

import statistics
import time
from functools import partial

import numpy as np

from benchmarks.bench import log


def unavailable():
    """Why the Dask row cannot run here, as a phrase, or None when it can."""
    try:
        import dask.array  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as error:
        return f"{error.name or error} is not installed (pip install 'sklearn-nn[dask]')"
    return None


def _loopback_bytes():
    """Bytes sent on the loopback interface so far (machine-wide), or None."""
    import psutil

    counters = psutil.net_io_counters(pernic=True).get("lo")
    return None if counters is None else counters.bytes_sent


def _calls(func, points):
    """Seconds and loopback bytes of each call of ``func`` at each point after the first.

    The first call is untimed (a warm-up). Bytes are read outside the timed interval;
    the list of bytes is empty when the machine has no loopback counters.
    """
    func(points[0])
    seconds, moved = [], []
    for point in points[1:]:
        before = _loopback_bytes()
        start = time.perf_counter()
        func(point)
        seconds.append(time.perf_counter() - start)
        after = _loopback_bytes()
        if before is not None and after is not None:
            moved.append(after - before)
    return seconds, moved


def _in_memory_times(objective, theta, points):
    """Seconds per in-memory evaluation and per product at θ, on one BLAS thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return {
            "eval": _calls(objective.value_and_grad, points)[0],
            "hessp": _calls(partial(objective.hessp, theta), points)[0],
        }


def _rows_on_workers(client, arrays, n_chunks):
    """Dask arrays of the given NumPy arrays' row chunks, spread over the workers.

    Chunk i of every array is sent to worker i mod n_workers, once; returns the arrays
    and how many workers hold chunks. (Persisting ``da.from_array`` leaves the
    placement to the scheduler, which was seen to put every chunk on one worker, and
    sends X inside the task graph.)
    """
    import dask.array as da

    workers = sorted(client.scheduler_info()["workers"])
    n_samples = arrays[0].shape[0]
    rows = -(-n_samples // n_chunks)
    bounds = [(start, min(start + rows, n_samples)) for start in range(0, n_samples, rows)]
    columns = [[] for _ in arrays]
    for i, (start, stop) in enumerate(bounds):
        parts = client.scatter(
            [array[start:stop] for array in arrays], workers=[workers[i % len(workers)]]
        )
        for column, part, array in zip(columns, parts, arrays, strict=True):
            shape = (stop - start, *array.shape[1:])
            column.append(da.from_delayed(part, shape=shape, dtype=array.dtype))
    return [da.concatenate(column) for column in columns], min(len(workers), len(bounds))


def run(X, y, *, n_chunks=4, n_workers=2, reg_lambda=1.0, evaluations=15):
    """Measure the Dask path against the in-memory path; return a dict of results.

    The in-memory objective is timed while no cluster runs, before the cluster starts
    and again after it stops: a running LocalCluster, even idle, slows the client
    process's own arithmetic, and the two blocks bracket a load that drifts meanwhile.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64 data of a binary problem.
    y : ndarray of shape (n_samples,)
        Its two classes.
    n_chunks : int, default=4
        Row chunks of the Dask array.
    n_workers : int, default=2
        Worker processes of the LocalCluster started here (one thread each).
    reg_lambda : float, default=1.0
        λ of the objective.
    evaluations : int, default=15
        Calls timed per measurement (and per block in memory), at fresh points.
    """
    from distributed import Client, LocalCluster
    from threadpoolctl import threadpool_limits

    from sklearn_nn import RegLogisticClassifier
    from sklearn_nn.instrumentation import objective

    n_samples, n_features = X.shape
    estimator = RegLogisticClassifier(reg_lambda=reg_lambda)
    rng = np.random.default_rng(1)
    # θ for the checks and the products' curvature; then a warm-up point and one per call.
    theta, *points = rng.normal(scale=0.1, size=(evaluations + 2, n_features + 1))
    result = {
        "n_samples": n_samples,
        "n_features": n_features,
        "n_chunks": n_chunks,
        "n_params": n_features + 1,
        "param_bytes": (n_features + 1) * 8,
        "X_bytes": X.nbytes,
        "evaluations": evaluations,
    }

    in_memory = objective(estimator, X, y)
    memory_times = _in_memory_times(in_memory, theta, points)
    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        local_fit = RegLogisticClassifier(reg_lambda=reg_lambda).fit(X, y)
        result["memory_fit_s"] = time.perf_counter() - start
    result["memory_fit_iter"] = local_fit.n_iter_

    # No dashboard; the scheduler's /metrics endpoint on a free port, not on 8787,
    # where another cluster on this machine would make it warn.
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        # X goes to the workers once, here; the fit below reuses the chunks.
        (X_dask, y_dask), result["groups"] = _rows_on_workers(client, [X, y], n_chunks)
        on_cluster = objective(estimator, X_dask, y_dask)
        result["dask_setup_s"] = time.perf_counter() - start  # send X, validate, μ and S

        value, grad = on_cluster.value_and_grad(theta)
        expected_value, expected_grad = in_memory.value_and_grad(theta)
        result["max_grad_difference"] = float(np.max(np.abs(grad - expected_grad)))
        result["value_difference"] = abs(value - expected_value)

        dask_times, moved = {}, {}
        dask_times["eval"], moved["eval"] = _calls(on_cluster.value_and_grad, points)
        # The first product at θ computes the head's curvature there; the rest reuse
        # it, as a Newton-CG inner loop does.
        dask_times["hessp"], moved["hessp"] = _calls(partial(on_cluster.hessp, theta), points)
        for key, values in moved.items():
            if values:
                result[f"loopback_per_{key}"] = statistics.median(values)

        loopback_before = _loopback_bytes()
        start = time.perf_counter()
        dask_fit = RegLogisticClassifier(reg_lambda=reg_lambda).fit(X_dask, y_dask)
        result["dask_fit_s"] = time.perf_counter() - start
        n_iter = result["dask_fit_iter"] = dask_fit.n_iter_
        if loopback_before is not None:
            result["fit_loopback_per_iter"] = (_loopback_bytes() - loopback_before) / n_iter
        result["fit_loss_difference"] = abs(dask_fit.loss_ - local_fit.loss_)

    for key, later in _in_memory_times(in_memory, theta, points).items():
        memory = memory_times[key] + later
        result[f"memory_{key}_s"] = statistics.median(memory)
        result[f"dask_{key}_s"] = statistics.median(dask_times[key])
        result[f"{key}_ratio"] = result[f"dask_{key}_s"] / result[f"memory_{key}_s"]
    return result


def dask_row(workload):
    """The measurements of :func:`run` on the ``dask`` workload, or why they were not made."""
    reason = unavailable()
    if reason is not None:
        log(f"dask: skipped, {reason}")
        return {"workload": workload, "skipped": reason}
    start = time.perf_counter()
    X, y = workload.data()
    log(f"dask: data in {time.perf_counter() - start:.1f} s — {workload.describe()}")
    result = run(
        X,
        y,
        n_chunks=workload.n_chunks,
        n_workers=workload.n_workers,
        reg_lambda=workload.binary.reg_lambda,
        evaluations=workload.evaluations,
    )
    moved = result.get("fit_loopback_per_iter")
    log(
        f"dask: evaluation {1e3 * result['dask_eval_s']:.1f} ms vs "
        f"{1e3 * result['memory_eval_s']:.1f} ms in memory; "
        + ("no loopback counters" if moved is None else f"{moved:.0f} B per fit iteration")
    )
    return {"workload": workload, "result": result}


def _bytes(n):
    for unit in ["B", "kB", "MB", "GB"]:
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def bytes_per_iteration(result):
    """Loopback bytes per iteration of the Dask fit, for the targets: (bytes, text).

    (None, reason) when the machine has no loopback counters.
    """
    r = result
    moved = r.get("fit_loopback_per_iter")
    if moved is None:
        return None, "not measured: no loopback counters on this machine"
    return moved, (
        f"{_bytes(moved)} per iteration (all loopback traffic) = "
        f"{moved / r['param_bytes']:.0f}× θ ({_bytes(r['param_bytes'])}); "
        f"n·8 B = {_bytes(8 * r['n_samples'])}, X = {_bytes(r['X_bytes'])}"
    )


def markdown(result):
    """The results of :func:`run` as Markdown: a sentence of method and two tables."""
    r = result
    ms = 1e3
    lines = [
        f"Binary logistic, {r['n_samples']:,} × {r['n_features']} float64 "
        f"(X = {_bytes(r['X_bytes'])}), {r['n_params']} parameters "
        f"(θ = {_bytes(r['param_bytes'])}); Dask: {r['n_chunks']} row chunks held by "
        f"{r['groups']} workers of a LocalCluster, one thread per worker; in memory: one "
        "BLAS thread, timed while no cluster runs (before it starts and after it stops: "
        "a running cluster slows this process). J is our estimator's objective on either "
        "input (`sklearn_nn.instrumentation.objective`). Times are medians of "
        f"{r['evaluations']} calls at fresh points (in memory: {2 * r['evaluations']}); "
        "the fits ran once each.",
        "",
        "| measure | in memory | Dask | Dask ÷ in memory | Dask − in memory |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, key in [("J and ∇J, per evaluation", "eval"), ("H·v, per product", "hessp")]:
        memory, dask, ratio = r[f"memory_{key}_s"], r[f"dask_{key}_s"], r[f"{key}_ratio"]
        lines.append(
            f"| {label} | {memory * ms:.1f} ms | {dask * ms:.1f} ms | {ratio:.1f}× "
            f"| {(dask - memory) * ms:+.1f} ms |"
        )
    lines += [
        f"| L-BFGS fit (`fit`, validation included) | {r['memory_fit_s']:.2f} s "
        f"({r['memory_fit_iter']} it.) | {r['dask_fit_s']:.2f} s ({r['dask_fit_iter']} it.) "
        f"| {r['dask_fit_s'] / r['memory_fit_s']:.1f}× "
        f"| {r['dask_fit_s'] - r['memory_fit_s']:+.2f} s |",
        "",
        "| bytes moved (all loopback traffic: client, scheduler, workers; machine-wide) | Dask |",
        "|---|---:|",
    ]
    rows = [
        ("per evaluation (median of the calls)", "loopback_per_eval"),
        ("per H·v product (median of the calls)", "loopback_per_hessp"),
        (
            "per iteration of the L-BFGS fit (includes the fit's one-off checks and set-up)",
            "fit_loopback_per_iter",
        ),
    ]
    for label, key in rows:
        lines.append(f"| {label} | {_bytes(r[key]) if key in r else 'n/a'} |")
    lines += [
        f"| the parameters θ, for scale | {_bytes(r['param_bytes'])} |",
        f"| X itself (sent once, before the first fit) | {_bytes(r['X_bytes'])} |",
        "",
        f"Setup (sending X to the workers, validating the Dask inputs, μ and S): "
        f"{r['dask_setup_s']:.2f} s. Dask vs in memory: |ΔJ| = {r['value_difference']:.1e} "
        f"and largest gradient difference {r['max_grad_difference']:.1e} at one point; "
        f"final J of the two fits differs by {r['fit_loss_difference']:.1e}.",
    ]
    return "\n".join(lines)
