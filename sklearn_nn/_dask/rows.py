"""The rows protocol on Dask arrays: chunk functions as map-reduces on the workers.

The chunks of X, Y and the weights are persisted once, when the rows are built, and
stay on the workers. Every call of :meth:`DaskRows.reduce` sends the chunk function
and its small arguments (arrays of θ's size) with one task per worker, which loops
over the chunks it holds, and receives partial sums of θ's size back, per chunk; the
client adds them up in chunk order, so the result does not depend on which worker
held which chunk. What a chunk function keeps (``keep=True``) stays on the worker
that computed it, for the next call at the same θ.
"""

from functools import partial

import numpy as np

from .._objectives.rows import RowChunk, RowsBase, sum_parts
from .._objectives.scan import scale_weights, weight_exponent
from .common import import_dask, unique_name

__all__ = ["DaskRows", "aligned_chunks"]


def _aligned(chunk):
    """The chunk itself, or an aligned contiguous copy when it is not one.

    A chunk that crossed the network (e.g. from ``da.from_array``) can arrive on a
    worker at an unaligned address, where NumPy cannot use BLAS: products with it
    are many times slower. Chunks made on the workers are aligned already.
    """
    if chunk.flags.aligned and chunk.flags.c_contiguous:
        return chunk
    aligned = np.empty(chunk.shape, dtype=chunk.dtype)
    aligned[...] = chunk
    return aligned


def aligned_chunks(array):
    """The Dask array with every chunk aligned and C-contiguous (see :func:`_aligned`)."""
    return array.map_blocks(_aligned, dtype=array.dtype, name=unique_name("aligned"))


def _distributed_client():
    """The dask.distributed Client that Dask would compute on now, or None."""
    dask, _ = import_dask()
    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if type(client).__name__ == "Client" else None


def _run_group(func, args, X, Y, s, first_rows, kept=None):
    """Run a chunk function on every chunk of a group, in order; one result per chunk.

    ``kept`` is the group's entry of a handle: the (sums, state) pairs of an earlier
    call, whose states the function receives.
    """
    results = []
    for i, chunk in enumerate(map(RowChunk, X, Y, s, first_rows)):
        chunk_args = (chunk,) if kept is None else (chunk, kept[i][1])
        results.append(func(*chunk_args, *args))
    return results


def _state_only(func, *chunk_args):
    """Run a chunk function whose result is all state: paired with no sums."""
    return None, func(*chunk_args)


def _sums_of(results):
    """The partial sums of a group's (sums, state) pairs."""
    return [sums for sums, _ in results]


def _weight_total(chunk):
    return (np.sum(chunk.sample_weight, dtype=np.float64),)


class DaskRows(RowsBase):
    """The training rows as the row chunks of Dask arrays (see the rows protocol).

    With a dask.distributed client, the chunks are grouped by the worker holding
    them, and a map-reduce is one task per group (``Client.map`` on the futures of
    the chunks: no graph to build or optimise per call, one message to the
    scheduler), run where its chunks live: per call the scheduler handles as many
    tasks as there are workers, however many chunks. With Dask's local schedulers
    (no client) every chunk is a group, run as ``dask.delayed``.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Training data chunked by rows only, float32 or float64.
    Y : dask.array.Array of shape (n_samples, n_outputs)
        Targets, chunked like X's rows.
    sample_weight : dask.array.Array of shape (n_samples,)
        Non-negative weights with a positive sum, chunked like X's rows, in any
        float dtype: scaled as in memory, then cast to X's dtype, on the workers.
    prepare_targets : callable, default=None
        ``prepare_targets(Y_chunk, dtype)``: the objective's layout of the targets,
        applied once per chunk.
    """

    def __init__(self, X, Y, sample_weight, prepare_targets=None):
        dask, _ = import_dask()
        self.weight_exponent = weight_exponent(sample_weight.max().compute())
        sample_weight = sample_weight.map_blocks(
            scale_weights,
            self.weight_exponent,
            X.dtype,
            dtype=X.dtype,
            name=unique_name("weights"),
        )
        Y = aligned_chunks(Y)
        if prepare_targets is not None:
            meta = prepare_targets(np.zeros((0, Y.shape[1]), dtype=Y.dtype), X.dtype)
            Y = Y.map_blocks(
                prepare_targets, X.dtype, dtype=meta.dtype, name=unique_name("targets")
            )
        arrays = [aligned_chunks(X), Y, aligned_chunks(sample_weight)]
        self.client = _distributed_client()
        if self.client is None:
            self.X, self.Y, self.sample_weight = persisted = dask.persist(*arrays)
            chunks = [list(a.to_delayed().ravel()) for a in persisted]
        else:
            self.X, self.Y, self.sample_weight = persisted = self.client.persist(arrays)
            chunks = [self._chunk_futures(a) for a in persisted]
        # Chunks without rows add nothing to any sum, and reductions in the heads
        # (a max over Z) are undefined on zero rows: they get no task.
        filled = [i for i, n_rows in enumerate(X.chunks[0]) if n_rows]
        chunks = [[column[i] for i in filled] for column in chunks]
        # Each chunk's first row in X, a plain number sent with its tasks.
        first_rows = np.concatenate([[0], np.cumsum(X.chunks[0])])
        chunks.append([int(first_rows[i]) for i in filled])
        if self.client is None:
            self.groups = [[i] for i in range(len(filled))]
        else:
            self.groups = self._groups_by_worker(chunks[0])
        self._columns = [
            [[column[i] for i in group] for group in self.groups] for column in chunks
        ]
        # Keys unique to these rows (two fits on the same data must not share
        # results), then numbered: cheaper than hashing arguments per task.
        self._prefix = unique_name("task")
        self._n_tasks = 0
        self.dtype = X.dtype
        self.shape = X.shape
        self.weight_sum = float(self.reduce(_weight_total)[0])

    @staticmethod
    def _chunk_futures(array):
        """The futures of a persisted array's chunks, in row order."""
        from dask.core import flatten
        from distributed import futures_of

        by_key = {future.key: future for future in futures_of(array)}
        return [by_key[key] for key in flatten(array.__dask_keys__())]

    def _groups_by_worker(self, futures):
        """Chunk indices grouped by the worker that holds each chunk."""
        from distributed import wait

        wait(futures)
        who_has = self.client.who_has(futures)
        by_worker = {}
        for i, future in enumerate(futures):
            holders = sorted(who_has.get(future.key, ())) or [None]
            by_worker.setdefault(holders[0], []).append(i)
        return sorted(by_worker.values())

    def _tasks(self, run, *columns):
        """One task per group running ``run(*group_entries)``: a column of tasks."""
        if self.client is None:
            dask, _ = import_dask()
            return [dask.delayed(run, pure=False)(*group) for group in zip(*columns, strict=True)]
        self._n_tasks += 1
        label = getattr(run, "name", None) or run.__name__
        name = f"{self._prefix}-{label}-{self._n_tasks}"
        keys = [f"{name}-{i}" for i in range(len(self.groups))]
        return self.client.map(run, *columns, key=keys, pure=False)

    def _persist(self, tasks):
        if self.client is None:
            dask, _ = import_dask()
            return list(dask.persist(*tasks))
        return tasks

    def _gather_sums(self, tasks):
        """Sum of the groups' per-chunk partial sums, in chunk order."""
        if self.client is None:
            dask, _ = import_dask()
            per_group = dask.compute(*tasks)
        else:
            per_group = self.client.gather(tasks)
        by_chunk = {}
        for group, parts in zip(self.groups, per_group, strict=True):
            by_chunk.update(zip(group, parts, strict=True))
        return sum_parts([by_chunk[i] for i in sorted(by_chunk)])

    def _run(self, func, args, kept):
        run = partial(_run_group, func, args)
        run.name = getattr(func, "__name__", "state").strip("_")
        columns = self._columns if kept is None else [*self._columns, kept]
        return self._tasks(run, *columns)

    def reduce(self, func, *args, kept=None, keep=False):
        """Sum of ``func``'s partial sums over the chunks (and the kept state's handle)."""
        tasks = self._run(func, args, kept)
        if not keep:
            return self._gather_sums(tasks)
        results = self._persist(tasks)
        return self._gather_sums(self._tasks(_sums_of, results)), results

    def keep(self, func, *args, kept=None):
        """Run ``func`` on every chunk and keep its result on the workers; the handle."""
        return self._persist(self._run(partial(_state_only, func), args, kept))

    def map(self, func, *args, n_columns):
        """Return ``func(X_chunk, *args)`` of every chunk: a Dask array (n, n_columns)."""
        return self.X.map_blocks(
            lambda block: func(block, *args),
            chunks=(self.X.chunks[0], (n_columns,)),
            dtype=self.dtype,
        )
