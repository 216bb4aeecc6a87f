"""Overhead of fitting on a Dask cluster, against the same objective in memory.

The suite's ``dask`` workload (``python -m benchmarks.run --only dask``; part of
``make bench``): the binary logistic data as a Dask array of row chunks spread over
the worker processes of a ``LocalCluster`` (one thread each), compared with the
in-memory :class:`~sklearn_nn._objectives.LinearObjective` on one thread:

* time per evaluation of J and ∇J (``value_and_grad``) and per Hessian-vector
  product (``hessp``), medians over calls at fresh points, in memory timed while no
  cluster runs (before it starts and after it stops);
* bytes moved per evaluation: the payload (the task arguments sent, which hold the
  model parameters, and the partial sums gathered back, both pickled) and everything
  that crossed the loopback interface while evaluating (client, scheduler and
  workers talk over it; machine-wide, so it includes heartbeats), against the size
  of X;
* a whole L-BFGS fit both ways: seconds, iterations, final J, and the payload and
  loopback bytes per iteration.

Dask is imported only inside :func:`run`: without it, :func:`unavailable` says why
and the suite reports the row as skipped.
"""

import pickle
import statistics
import time
from functools import partial

import numpy as np


def unavailable():
    """Why the Dask row cannot run here, as a phrase, or None when it can."""
    try:
        import dask.array  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as error:
        return f"{error.name or error} is not installed (pip install 'sklearn-nn[dask]')"
    return None


def _seconds(func, points):
    """Seconds per call of ``func`` at each point, after an untimed first call."""
    func(points[0])
    times = []
    for point in points[1:]:
        start = time.perf_counter()
        func(point)
        times.append(time.perf_counter() - start)
    return times


def _in_memory_times(objective, theta, points):
    """Seconds per in-memory evaluation and per product at θ, on one BLAS thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return {
            "eval": _seconds(objective.value_and_grad, points),
            "hessp": _seconds(partial(objective.hessp, theta), points),
        }


def _loopback_bytes():
    import psutil

    counters = psutil.net_io_counters(pernic=True).get("lo")
    return None if counters is None else counters.bytes_sent


class _PayloadMeter:
    """Count the pickled size of what every Dask objective sends and gathers back.

    A context manager: while it is open, the map-reduces of any
    Dask-backed objective (including those a ``fit`` builds) are
    counted: per task, the function and its parameter-sized arguments; per chunk,
    the partial sums that the client adds up.
    """

    def __enter__(self):
        from sklearn_nn._dask import rows

        self._module = rows
        self._tasks, self._sum_parts = rows.DaskRows._tasks, rows.sum_parts
        self.sent = self.received = 0
        meter = self

        def tasks(dask_rows, run, *columns):
            # What travels per task besides references to persisted chunks.
            meter.sent += len(dask_rows.groups) * len(pickle.dumps(run, protocol=5))
            return meter._tasks(dask_rows, run, *columns)

        def sum_parts(parts):
            meter.received += sum(len(pickle.dumps(part, protocol=5)) for part in parts)
            return meter._sum_parts(parts)

        rows.DaskRows._tasks, rows.sum_parts = tasks, sum_parts
        return self

    def __exit__(self, *exc_info):
        self._module.DaskRows._tasks, self._module.sum_parts = self._tasks, self._sum_parts

    @property
    def total(self):
        return self.sent + self.received


def _rows_on_workers(client, arrays, n_chunks):
    """Dask arrays of the given NumPy arrays' row chunks, spread over the workers.

    Chunk i of every array is sent to worker i mod n_workers, once. (Persisting
    ``da.from_array`` leaves the placement to the scheduler, which was seen to put
    every chunk on one worker, and sends X inside the task graph.)
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
    return [da.concatenate(column) for column in columns]


def run(X, y, *, n_chunks=4, n_workers=2, reg_lambda=1.0, evaluations=15):
    """Measure the Dask path against the in-memory path; return a dict of results.

    The in-memory objective is timed while no cluster runs, before the cluster starts
    and again after it stops: a running LocalCluster, even idle, slows the client
    process's own arithmetic (measured: 16 → 22 ms per evaluation on 2 cores), and the
    two blocks bracket a load that drifts meanwhile.

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
    import dask.array as da
    from distributed import Client, LocalCluster
    from threadpoolctl import threadpool_limits

    from sklearn_nn import RegLogisticClassifier
    from sklearn_nn._objectives import LinearObjective

    n_samples, n_features = X.shape
    Y = (y == np.unique(y)[1]).astype(np.float64)[:, None]
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

    in_memory = LinearObjective(X, Y, np.ones(n_samples), reg_lambda, "sigmoid")
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
        X_dask, Y_dask, y_dask = _rows_on_workers(client, [X, Y, y], n_chunks)
        weights = da.ones(n_samples, chunks=(X_dask.chunks[0],))
        objective = LinearObjective(X_dask, Y_dask, weights, reg_lambda, "sigmoid")
        result["dask_setup_s"] = time.perf_counter() - start  # send X, μ and S
        result["groups"] = len(objective.rows.groups)

        value, grad = objective.value_and_grad(theta)
        expected_value, expected_grad = in_memory.value_and_grad(theta)
        result["max_grad_difference"] = float(np.max(np.abs(grad - expected_grad)))
        result["value_difference"] = abs(value - expected_value)

        with _PayloadMeter() as meter:
            loopback_before = _loopback_bytes()
            dask_times = {"eval": _seconds(objective.value_and_grad, points)}
            loopback_after = _loopback_bytes()
            calls = len(points)  # the timed calls and one warm-up call
            result["payload_sent_per_eval"] = meter.sent / calls
            result["payload_received_per_eval"] = meter.received / calls
            if loopback_before is not None:
                result["loopback_per_eval"] = (loopback_after - loopback_before) / calls
            # The first product at θ persists the head's curvature there; the rest
            # reuse it, as a Newton-CG inner loop does.
            meter.sent = meter.received = 0
            dask_times["hessp"] = _seconds(partial(objective.hessp, theta), points)
            result["payload_per_hessp"] = meter.total / calls

        with _PayloadMeter() as meter:
            loopback_before = _loopback_bytes()
            start = time.perf_counter()
            dask_fit = RegLogisticClassifier(reg_lambda=reg_lambda).fit(X_dask, y_dask)
            result["dask_fit_s"] = time.perf_counter() - start
            n_iter = result["dask_fit_iter"] = dask_fit.n_iter_
            result["fit_payload_per_iter"] = meter.total / n_iter
            if loopback_before is not None:
                result["fit_loopback_per_iter"] = (_loopback_bytes() - loopback_before) / n_iter
        result["fit_loss_difference"] = abs(dask_fit.loss_ - local_fit.loss_)

    for key, later in _in_memory_times(in_memory, theta, points).items():
        memory = memory_times[key] + later
        result[f"memory_{key}_s"] = statistics.median(memory)
        result[f"dask_{key}_s"] = statistics.median(dask_times[key])
        result[f"{key}_ratio"] = result[f"dask_{key}_s"] / result[f"memory_{key}_s"]
    return result


def _bytes(n):
    for unit in ["B", "kB", "MB", "GB"]:
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def bytes_per_iteration(result):
    """The bytes moved per L-BFGS iteration, for the goals table: (bytes, text)."""
    r = result
    moved = r["fit_payload_per_iter"]
    return moved, (
        f"{_bytes(moved)} per iteration = {moved / r['param_bytes']:.0f}× θ "
        f"({_bytes(r['param_bytes'])}); n·8 B = {_bytes(8 * r['n_samples'])}, "
        f"X = {_bytes(r['X_bytes'])}"
    )


def markdown(result):
    """The results of :func:`run` as Markdown: a sentence of method and two tables."""
    r = result
    ms = 1e3
    lines = [
        f"Binary logistic, {r['n_samples']:,} × {r['n_features']} float64 "
        f"(X = {_bytes(r['X_bytes'])}), {r['n_params']} parameters "
        f"(θ = {_bytes(r['param_bytes'])}); Dask: {r['n_chunks']} row chunks held by "
        f"{r['groups']} workers of a LocalCluster (one task per worker and map-reduce), "
        "one thread per worker; in memory: one BLAS thread, timed while no cluster runs "
        "(before it starts and after it stops: a running cluster slows this process). "
        f"Times are medians of {r['evaluations']} calls at fresh points (in memory: "
        f"{2 * r['evaluations']}); the fits ran once each.",
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
        "| bytes moved | Dask |",
        "|---|---:|",
        f"| per evaluation: parameters and task code sent (pickled) "
        f"| {_bytes(r['payload_sent_per_eval'])} |",
        f"| per evaluation: partial sums received (pickled) "
        f"| {_bytes(r['payload_received_per_eval'])} |",
        f"| per H·v product, both ways (pickled) | {_bytes(r['payload_per_hessp'])} |",
    ]
    if "loopback_per_eval" in r:
        lines.append(
            f"| per evaluation: all loopback traffic (client, scheduler, workers; "
            f"machine-wide) | {_bytes(r['loopback_per_eval'])} |"
        )
    lines.append(
        f"| per iteration of the L-BFGS fit: payload of its map-reduces, both ways "
        f"| {_bytes(r['fit_payload_per_iter'])} |"
    )
    if "fit_loopback_per_iter" in r:
        lines.append(
            f"| per iteration of the L-BFGS fit: all loopback traffic (includes the fit's "
            f"one-off checks and set-up) | {_bytes(r['fit_loopback_per_iter'])} |"
        )
    lines += [
        f"| the parameters θ, for scale | {_bytes(r['param_bytes'])} |",
        f"| X itself (sent once, before the first fit) | {_bytes(r['X_bytes'])} |",
        "",
        f"Setup (sending X to the workers, μ and S): {r['dask_setup_s']:.2f} s. Dask vs "
        f"in memory: |ΔJ| = {r['value_difference']:.1e} and largest gradient difference "
        f"{r['max_grad_difference']:.1e} at one point; final J of the two fits differs by "
        f"{r['fit_loss_difference']:.1e}.",
    ]
    return "\n".join(lines)
