"""The rows protocol: the training rows of an objective, in memory or in Dask chunks.

J is a sum over samples plus a penalty, so everything an objective computes from the
data is a sum of per-chunk terms. An objective never touches X itself: it hands a
*chunk function* to its rows, which run it on each chunk of rows and add up what it
returns. Two implementations have one interface:

:class:`InMemoryRows`
    X, Y and the weights as arrays in memory: a single chunk, all the rows.
:class:`~sklearn_nn._dask.DaskRows`
    the row chunks of Dask arrays, persisted on the workers; each chunk function runs
    where its chunk lives, and only the partial sums (θ-sized) travel.

A chunk function ``func(chunk, *args)`` receives a :class:`RowChunk` (arrays in
memory) and returns a tuple of partial sums: arrays or numbers, added up over the
chunks in chunk order in float64 (so the rounding does not depend on the grouping of
chunks). With ``keep=True`` it returns ``(sums, state)``: the sums are reduced and
the per-chunk ``state`` stays where the chunk lives, returned as a *handle* that a
later call passes back as ``kept=handle``; the function then receives that chunk's
state after the chunk: ``func(chunk, state, *args)``.

Inside a chunk, dense X is processed in cache-sized row blocks
(:func:`~sklearn_nn._objectives.kernels.row_blocks`): forward, head and backward of a
block run while it is in cache, so one evaluation reads X from memory once.

The rows also own the weights' scale: s is divided by the power of two at or above
max(s) (:func:`~sklearn_nn._objectives.scan.weight_exponent`), and an objective
divides λ by the same power (:meth:`InMemoryRows.scaled_lambda`), which leaves J
unchanged and keeps every product of a weight with the data from overflowing.
"""

from typing import NamedTuple

import numpy as np

from .scan import scale_weights, weight_exponent

__all__ = ["AtTheta", "InMemoryRows", "RowChunk", "RowsBase", "make_rows", "sum_parts"]


class RowChunk(NamedTuple):
    """Consecutive training rows in memory, as a chunk function sees them."""

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    first_row: int


def sum_parts(parts):
    """Add up per-chunk tuples of partial sums, in chunk order, as float64 arrays."""
    if len(parts) == 1:  # the chunk's own arrays: nothing to add up, nothing to copy
        return [np.asarray(term, dtype=np.float64) for term in parts[0]]
    total = [np.array(term, dtype=np.float64) for term in parts[0]]
    for part in parts[1:]:
        for accumulated, term in zip(total, part, strict=True):
            accumulated += term
    return total


def _weighted_row_sum(chunk):
    """Σ_i s_i x_i over a chunk, and Σ_i s_i."""
    X, s = chunk.X, chunk.sample_weight
    return np.ravel(X.T @ s), np.sum(s, dtype=np.float64)


class RowsBase:
    """What every implementation of the rows protocol derives from the others' methods.

    An implementation sets ``shape``, ``dtype``, ``weight_exponent`` (the power of
    two the weights were divided by) and ``weight_sum`` (S of the scaled weights),
    and implements ``reduce``, ``keep`` and ``map``.
    """

    def scaled_lambda(self, reg_lambda):
        """λ / 2**e: the penalty in the weights' scale, so that J is unchanged."""
        return float(np.ldexp(float(reg_lambda), -self.weight_exponent))

    def weighted_mean(self):
        """μ = Σ_i s_i x_i / Σ_i s_i, float64: one pass over the rows."""
        row_sum, _ = self.reduce(_weighted_row_sum)
        return row_sum / self.weight_sum


class InMemoryRows(RowsBase):
    """All training rows in memory, as one chunk.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, float32 or float64; never copied or cast.
    Y : ndarray of shape (n_samples, n_outputs) or (n_samples,)
        Targets, in the layout the objective asks for (``prepare_targets``); class
        codes for a softmax head.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights with a positive sum, in any float dtype: scaled by a
        power of two and cast to X's dtype.
    prepare_targets : callable, default=None
        ``prepare_targets(Y, dtype)``: the objective's layout of the targets, applied
        once (``dtype`` is X's).
    """

    def __init__(self, X, Y, sample_weight, prepare_targets=None):
        sample_weight = np.asarray(sample_weight)
        self.weight_exponent = weight_exponent(sample_weight.max())
        sample_weight = scale_weights(sample_weight, self.weight_exponent, X.dtype)
        if prepare_targets is not None:
            Y = prepare_targets(Y, X.dtype)
        self.chunk = RowChunk(X, Y, sample_weight, 0)
        self.weight_sum = float(np.sum(sample_weight, dtype=np.float64))
        self.dtype = X.dtype
        self.shape = X.shape

    @property
    def X(self):
        """The training X."""
        return self.chunk.X

    @property
    def sample_weight(self):
        """The scaled weights s / 2**e, in X's dtype."""
        return self.chunk.sample_weight

    def reduce(self, func, *args, kept=None, keep=False):
        """Sum of ``func``'s partial sums over the chunks (and the kept state's handle)."""
        chunk_args = (self.chunk,) if kept is None else (self.chunk, kept[0])
        result = func(*chunk_args, *args)
        if keep:
            sums, state = result
            return sum_parts([sums]), [state]
        return sum_parts([result])

    def keep(self, func, *args, kept=None):
        """Run ``func`` on every chunk and keep its result there; return the handle."""
        chunk_args = (self.chunk,) if kept is None else (self.chunk, kept[0])
        return [func(*chunk_args, *args)]

    def map(self, func, *args, n_columns):
        """Return ``func(X_chunk, *args)`` of every chunk, stacked by rows (n, n_columns)."""
        return func(self.chunk.X, *args)


def make_rows(X, Y, sample_weight, prepare_targets=None):
    """The rows of (X, Y, s): :class:`InMemoryRows`, or Dask rows for Dask arrays."""
    from .._dask import DaskRows, is_dask_collection

    if is_dask_collection(X):
        return DaskRows(X, Y, sample_weight, prepare_targets)
    return InMemoryRows(X, Y, sample_weight, prepare_targets)


class AtTheta:
    """What an objective keeps of the last θ it evaluated: one θ at a time.

    Keyed by θ's bytes: an optimizer asks again at exactly the point it evaluated
    (a Hessian product at the iterate, the model at the accepted iterate).
    """

    def __init__(self):
        self._key, self._value = None, None

    def get(self, theta):
        """The value kept at θ, or None."""
        return self._value if self._key == theta.tobytes() else None

    def set(self, theta, value):
        """Keep ``value`` for θ (forgetting the previous θ's)."""
        self._key, self._value = theta.tobytes(), value

    def clear(self):
        """Forget, so that the memory is free before a new value is built."""
        self._key, self._value = None, None
