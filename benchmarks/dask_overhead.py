"""Overhead of fitting on a Dask cluster, against the same objective in memory.

The binary logistic workload (200 000 x 100 float64, λ = 1) as a Dask array of 4
row chunks persisted on a 2-worker ``LocalCluster`` (one thread each), compared
with the in-memory :class:`~sklearn_nn._objectives.LinearObjective` on one thread:

* time per evaluation of J and ∇J (``value_and_grad``) and per Hessian-vector
  product (``hessp``), medians over repeated calls at fresh points;
* bytes moved per evaluation: the payload (the task arguments sent, which hold the
  model parameters, and the partial sums gathered back, both pickled) and
  everything that crossed the loopback interface while evaluating (client,
  scheduler and workers talk over it; includes heartbeats), against the size of X;
* a whole L-BFGS fit both ways: seconds, iterations, loopback bytes per iteration.

Run it standalone (``python -m benchmarks.dask_overhead``) or call :func:`run`
and :func:`markdown` from the benchmark suite. Needs ``dask[array,distributed]``.
"""

import argparse
import pickle
import statistics
import time
from functools import partial

import numpy as np

N_SAMPLES, N_FEATURES, N_CHUNKS, N_WORKERS, REG_LAMBDA = 200_000, 100, 4, 2, 1.0


def make_workload(n_samples=N_SAMPLES, n_features=N_FEATURES, seed=0):
    """Binary labels from a noisy logistic model on standard normal features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features) / np.sqrt(n_features)
    y = (X @ w + rng.logistic(size=n_samples) > 0).astype(np.int64)
    return X, y


def _median_seconds(func, points):
    times = []
    for point in points:
        start = time.perf_counter()
        func(point)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _loopback_bytes():
    import psutil

    counters = psutil.net_io_counters(pernic=True).get("lo")
    return None if counters is None else counters.bytes_sent


class _PayloadMeter:
    """Count the pickled size of what the Dask objective sends and receives."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.sent = self.received = 0
        self._tasks, self._gather = chunks.tasks, chunks.client.gather
        chunks.tasks = self._count_tasks
        chunks.client.gather = self._count_gather

    def _count_tasks(self, func, *columns, args=()):
        from sklearn_nn._distributed import _map_chunks

        # What travels per task besides references to persisted chunks: the function
        # and the parameter-sized arguments.
        self.sent += len(self.chunks.groups) * len(
            pickle.dumps(partial(_map_chunks, func, args), protocol=5)
        )
        return self._tasks(func, *columns, args=args)

    def _count_gather(self, futures, *args, **kwargs):
        results = self._gather(futures, *args, **kwargs)
        self.received += sum(len(pickle.dumps(r, protocol=5)) for r in results)
        return results

    def close(self):
        self.chunks.tasks, self.chunks.client.gather = self._tasks, self._gather


def run(
    n_samples=N_SAMPLES,
    n_features=N_FEATURES,
    n_chunks=N_CHUNKS,
    n_workers=N_WORKERS,
    reg_lambda=REG_LAMBDA,
    repeats=15,
    fit=True,
    client=None,
):
    """Measure the Dask path against the in-memory path; return a dict of results.

    Parameters
    ----------
    n_samples, n_features : int
        Size of the binary logistic workload.
    n_chunks : int
        Row chunks of the Dask array.
    n_workers : int
        Worker processes of the LocalCluster started here (one thread each);
        ignored when ``client`` is given.
    reg_lambda : float
        λ of the objective.
    repeats : int
        Evaluations timed per measurement (the median is reported).
    fit : bool
        Also time a whole L-BFGS fit both ways.
    client : distributed.Client, optional
        An existing cluster's client; by default a LocalCluster is started and closed.
    """
    import dask.array as da
    from distributed import Client, LocalCluster
    from threadpoolctl import threadpool_limits

    from sklearn_nn import RegLogisticClassifier
    from sklearn_nn._distributed import DaskLinearObjective
    from sklearn_nn._objectives import LinearObjective

    X, y = make_workload(n_samples, n_features)
    Y = y[:, None].astype(np.float64)
    weights = np.ones(n_samples)
    rng = np.random.default_rng(1)
    points = [rng.normal(scale=0.1, size=n_features + 1) for _ in range(repeats)]
    result = {
        "n_samples": n_samples,
        "n_features": n_features,
        "n_chunks": n_chunks,
        "n_params": n_features + 1,
        "X_bytes": X.nbytes,
    }

    # In memory, one BLAS thread: the workers below have one thread each as well.
    with threadpool_limits(limits=1, user_api="blas"):
        in_memory = LinearObjective(X, Y, weights, reg_lambda, "sigmoid")
        result["memory_eval_s"] = _median_seconds(in_memory.value_and_grad, points)
        in_memory.value_and_grad(points[0])
        result["memory_hessp_s"] = _median_seconds(partial(in_memory.hessp, points[0]), points[1:])
        if fit:
            start = time.perf_counter()
            model = RegLogisticClassifier(reg_lambda=reg_lambda).fit(X, y)
            result["memory_fit_s"] = time.perf_counter() - start
            result["memory_fit_iter"] = model.n_iter_

    cluster = None
    if client is None:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
        client = Client(cluster)
    try:
        rows = -(-n_samples // n_chunks)
        start = time.perf_counter()
        # X goes to the workers once, here; the fits below reuse the persisted chunks.
        X_dask, y_dask = client.persist(
            [da.from_array(X, chunks=(rows, n_features)), da.from_array(y, chunks=rows)]
        )
        Y_dask = (y_dask[:, None] == 1).astype(np.float64)
        w_dask = da.ones(n_samples, chunks=rows)
        objective = DaskLinearObjective(X_dask, Y_dask, w_dask, reg_lambda, "sigmoid")
        result["dask_setup_s"] = time.perf_counter() - start  # send X, μ and S
        objective.value_and_grad(points[0])  # warm-up: workers import sklearn_nn

        value, grad = objective.value_and_grad(points[1])
        expected_value, expected_grad = in_memory.value_and_grad(points[1])
        result["max_grad_difference"] = float(np.max(np.abs(grad - expected_grad)))
        result["value_difference"] = abs(value - expected_value)

        meter = _PayloadMeter(objective.chunks)
        loopback_before = _loopback_bytes()
        result["dask_eval_s"] = _median_seconds(objective.value_and_grad, points)
        loopback_after = _loopback_bytes()
        result["payload_sent_per_eval"] = meter.sent / repeats
        result["payload_received_per_eval"] = meter.received / repeats
        if loopback_before is not None:
            result["loopback_per_eval"] = (loopback_after - loopback_before) / repeats
        objective.hessp(points[0], points[1])  # persists the curvature at θ
        meter.sent = meter.received = 0
        result["dask_hessp_s"] = _median_seconds(partial(objective.hessp, points[0]), points[1:])
        result["payload_per_hessp"] = (meter.sent + meter.received) / (repeats - 1)
        meter.close()
        result["groups"] = len(objective.chunks.groups)

        if fit:
            loopback_before = _loopback_bytes()
            start = time.perf_counter()
            model = RegLogisticClassifier(reg_lambda=reg_lambda).fit(X_dask, y_dask)
            result["dask_fit_s"] = time.perf_counter() - start
            result["dask_fit_iter"] = model.n_iter_
            if loopback_before is not None:
                result["dask_fit_loopback_per_iter"] = (
                    _loopback_bytes() - loopback_before
                ) / model.n_iter_
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
    return result


def _bytes(n):
    for unit in ["B", "kB", "MB", "GB"]:
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def markdown(result):
    """The results of :func:`run` as a small Markdown table."""
    r = result
    ms = 1e3
    lines = [
        f"Binary logistic, {r['n_samples']:,} x {r['n_features']} float64 "
        f"(X = {_bytes(r['X_bytes'])}), {r['n_params']} parameters; Dask: "
        f"{r['n_chunks']} chunks in {r['groups']} worker groups.",
        "",
        "| measure | in memory (1 thread) | Dask | Dask − in memory |",
        "|---|---:|---:|---:|",
        f"| J and ∇J, per evaluation | {r['memory_eval_s'] * ms:.1f} ms "
        f"| {r['dask_eval_s'] * ms:.1f} ms "
        f"| {(r['dask_eval_s'] - r['memory_eval_s']) * ms:+.1f} ms |",
        f"| H·v, per product | {r['memory_hessp_s'] * ms:.1f} ms "
        f"| {r['dask_hessp_s'] * ms:.1f} ms "
        f"| {(r['dask_hessp_s'] - r['memory_hessp_s']) * ms:+.1f} ms |",
    ]
    if "dask_fit_s" in r:
        lines.append(
            f"| L-BFGS fit | {r['memory_fit_s']:.2f} s ({r['memory_fit_iter']} it.) "
            f"| {r['dask_fit_s']:.2f} s ({r['dask_fit_iter']} it.) "
            f"| {r['dask_fit_s'] - r['memory_fit_s']:+.2f} s |"
        )
    lines += [
        "",
        "| bytes moved | per evaluation |",
        "|---|---:|",
        f"| parameters and task code sent (pickled) | {_bytes(r['payload_sent_per_eval'])} |",
        f"| partial sums received (pickled) | {_bytes(r['payload_received_per_eval'])} |",
        f"| per H·v product, both ways | {_bytes(r['payload_per_hessp'])} |",
    ]
    if "loopback_per_eval" in r:
        lines.append(
            f"| all loopback traffic (client, scheduler, workers) | "
            f"{_bytes(r['loopback_per_eval'])} |"
        )
    if "dask_fit_loopback_per_iter" in r:
        lines.append(
            f"| all loopback traffic of the L-BFGS fit / its iterations "
            f"(includes the fit's one-off checks and set-up) | "
            f"{_bytes(r['dask_fit_loopback_per_iter'])} |"
        )
    lines.append(f"| X itself (sent once, before the first fit) | {_bytes(r['X_bytes'])} |")
    lines += [
        "",
        f"Setup (sending X to the workers, μ and S): {r['dask_setup_s']:.2f} s. "
        f"Largest gradient difference Dask vs in memory: {r['max_grad_difference']:.1e}.",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=N_SAMPLES)
    parser.add_argument("--features", type=int, default=N_FEATURES)
    parser.add_argument("--chunks", type=int, default=N_CHUNKS)
    parser.add_argument("--workers", type=int, default=N_WORKERS)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-fit", action="store_true", help="skip the whole fits")
    args = parser.parse_args()
    result = run(
        args.samples,
        args.features,
        args.chunks,
        args.workers,
        repeats=args.repeats,
        fit=not args.no_fit,
    )
    print(markdown(result))


if __name__ == "__main__":
    main()
