"""Cost of one evaluation of J and ∇J against the BLAS floor: the two products with X.

Our evaluation comes from ``sklearn_nn.instrumentation.objective`` (J as ``fit``
builds it); the floor is timed four ways, interleaved with it, and the fastest
counts per round (benchmarks/README.md, "Cost per evaluation vs the floor").
"""

import statistics
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from benchmarks import measure
from benchmarks.bench import log


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


def linear_floor(workload, X, y, seconds):
    """Our evaluation and scikit-learn's on a linear workload, against the floor."""
    rng = np.random.default_rng(0)
    objective = workload.objective(X, y)
    theta = rng.normal(0.0, 0.01, objective.n_params)
    n, d = X.shape
    k = objective.n_params // (d + 1)  # θ holds (d + 1) numbers per output
    W = rng.standard_normal((d, k)).astype(X.dtype)
    G = rng.standard_normal((n, k)).astype(X.dtype)
    ways = _sparse_floors(X, W, G) if sparse.issparse(X) else _floors(X, W, G)
    functions = {**ways, "ours": fresh_theta_evaluation(objective, theta)}
    theirs = _sklearn_evaluation(workload, X, y, rng)
    if theirs is not None:
        functions["sklearn"] = theirs
    times = measure.interleaved(functions, budget_seconds=seconds)
    return _floor_row(f"X·W ({n}×{d}·{d}×{k}) + Xᵀ·G ({d}×{n}·{n}×{k})", times)


def network_floor(workload, X, y, seconds):
    """Our network's evaluation against the floor of its first layer."""
    rng = np.random.default_rng(0)
    objective = workload.objective(X, y)
    theta = rng.uniform(-0.1, 0.1, objective.n_params)
    n, d = X.shape
    h = workload.n_hidden
    W1 = rng.standard_normal((d, h)).astype(X.dtype)
    delta = rng.standard_normal((n, h)).astype(X.dtype)
    times = measure.interleaved(
        {**_floors(X, W1, delta), "ours": fresh_theta_evaluation(objective, theta)},
        budget_seconds=seconds,
    )
    return _floor_row(f"X·W1 ({n}×{d}·{d}×{h}) + Xᵀ·Δ ({d}×{n}·{n}×{h})", times)


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


def _sparse_floors(X, W, G):
    """The two products with sparse X, as scipy does them: X·W, then Xᵀ·G or (Gᵀ·X)ᵀ.

    scipy allocates its outputs (it has no ``out=``); both ways read X in its CSR order.
    """
    return {
        "floor sparse": lambda: (X @ W, X.T @ G),
        "floor sparse, Gᵀ·X": lambda: (X @ W, (G.T @ X).T),
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


def fresh_theta_evaluation(objective, theta):
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
