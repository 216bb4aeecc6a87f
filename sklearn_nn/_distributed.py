"""Fitting on Dask arrays: the objectives as map-reduces over row chunks.

J is a sum over samples plus a penalty (DESIGN.md §2), so its value, gradient and
Hessian-vector products split over any partition of the rows. The objectives here
have the interface of the in-memory ones (``n_params``, ``unpack``,
``value_and_grad``, ``hessp``, ``whitening``, ``model_params``, ``theta``,
``logits``, ``smooth``)
and so run under the same optimizer on the client, but their data terms are
computed chunk by chunk on the Dask workers:

* the chunks of X, Y and the weights are persisted once, when the objective is
  built, and stay on the workers; every evaluation sends the model parameters
  (a few arrays of θ's size) with one small task per worker (which loops over the
  chunks it holds) and receives partial sums of θ's size back, per chunk, which
  the client adds up in chunk order (deterministic);
* the optimizer's θ holds centred intercepts (c = b + μᵀW, see
  :class:`~sklearn_nn._objectives.CentredAffine`). μ and S = Σ s_i are reduced
  once; the client turns θ into model parameters (W, b), the chunks return
  gradients in (W, b), and the client maps them back: ∇c = ∇b, ∇W = ∇W_model − μ ∇bᵀ;
* what a Hessian product needs at θ (the head's curvature; the network's hidden
  activations) is persisted on the workers at θ and reused by every product at θ,
  like the in-memory objectives cache it.

Dask itself is imported only inside these functions, once a Dask collection has
reached the estimators: ``import sklearn_nn`` never imports Dask.
"""

import numbers
import sys
import uuid
from functools import partial
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._objectives import (
    ACTIVATIONS,
    DERIVATIVES,
    HEADS,
    CentredAffine,
    LinearObjective,
    TwoLayerObjective,
    block_curvatures,
    column_sums,
    covariance_terms,
    hessp_data_terms,
    largest_magnitude,
    linear_data_terms,
    products_with_rows,
    row_slices,
    scale_weights,
    weight_exponent,
    whitening_step,
)
from ._validation import (
    Weighting,
    check_features,
    check_weight_range,
    class_statistics,
    class_weighting,
    encode_labels,
    indicator,
    require_two_classes,
    weight_range,
)

__all__ = ["DaskLinearObjective", "DaskTwoLayerObjective", "is_dask_collection"]


def is_dask_collection(x):
    """Tell whether ``x`` is a Dask collection, without importing Dask.

    Nothing can be a Dask collection before Dask has been imported by someone.
    """
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(x)


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - only without dask[array]
        raise ImportError(
            "Fitting on Dask arrays needs dask[array]: pip install 'sklearn-nn[dask]'."
        ) from error
    return dask, da


# ---------------------------------------------------------------- map-reduce
def _sum_parts(parts):
    """Add up per-chunk tuples of arrays, in chunk order (reproducible rounding)."""
    total = [np.array(term, dtype=np.float64) for term in parts[0]]
    for part in parts[1:]:
        for accumulated, term in zip(total, part, strict=True):
            accumulated += term
    return total


def _distributed_client():
    """The dask.distributed Client that Dask would compute on now, or None."""
    dask, _ = _dask()
    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if type(client).__name__ == "Client" else None


def _aligned(chunk):
    """The chunk itself, or an aligned contiguous copy when it is not one.

    A chunk that crossed the network (e.g. from ``da.from_array``) can arrive on a
    worker at an unaligned address, where NumPy cannot use BLAS: products with it
    were measured 10x slower. Chunks made on the workers are aligned already.
    """
    if chunk.flags.aligned and chunk.flags.c_contiguous:
        return chunk
    aligned = np.empty(chunk.shape, dtype=chunk.dtype)
    aligned[...] = chunk
    return aligned


def _unique_name(what):
    """A Dask key name for arrays we derive (never the key of another fit's array).

    Dask names derived arrays by hashing their inputs, so two fits on the same data
    would reuse one key for graphs that Dask may have optimised differently, which
    the scheduler warns against.
    """
    return f"sklearn_nn-{what}-{uuid.uuid4().hex}"


def _aligned_chunks(array):
    return array.map_blocks(_aligned, dtype=array.dtype, name=_unique_name("aligned"))


def _map_chunks(func, args, *columns):
    """Run ``func(*chunk_values, *args)`` on every chunk of a group, in order."""
    return [func(*chunk, *args) for chunk in zip(*columns, strict=True)]


class _Chunks:
    """Persisted row chunks of X, Y and the weights, and map-reduces over them.

    With a dask.distributed client, the chunks are grouped by the worker holding
    them, and a map-reduce is one task per group (``Client.map`` on the futures of
    the chunks: no graph to build or optimise per evaluation, one message to the
    scheduler), run where its chunks live: per evaluation the scheduler handles as
    many tasks as there are workers, however many chunks. With Dask's local
    schedulers (no client) every chunk is a group, run as ``dask.delayed``.

    A *column* is a list over groups; its entry for a group is either the list of
    that group's chunks (the data) or one task whose value is such a list (what
    :meth:`persist` keeps on the workers). Partial sums are added up on the client
    in chunk order, so the rounding does not depend on the grouping.
    """

    def __init__(self, X, Y, sample_weight):
        dask, _ = _dask()
        self.client = _distributed_client()
        arrays = [_aligned_chunks(a) for a in (X, Y, sample_weight)]
        if self.client is None:
            self.X, self.Y, self.sample_weight = dask.persist(*arrays)
            chunks = [list(a.to_delayed().ravel()) for a in (self.X, self.Y, self.sample_weight)]
        else:
            self.X, self.Y, self.sample_weight = self.client.persist(list(arrays))
            chunks = [self._chunk_futures(a) for a in (self.X, self.Y, self.sample_weight)]
        # Chunks without rows add nothing to any sum, and reductions in the heads
        # (a max over Z) are undefined on zero rows: they get no task.
        filled = [i for i, n_rows in enumerate(X.chunks[0]) if n_rows]
        chunks = [[column[i] for i in filled] for column in chunks]
        # Each chunk's first row in X, a plain number sent with the tasks that need it.
        first_rows = np.concatenate([[0], np.cumsum(X.chunks[0])])
        chunks.append([int(first_rows[i]) for i in filled])
        if self.client is None:
            self.groups = [[i] for i in range(len(filled))]
        else:
            self.groups = self._groups_by_worker(chunks[0])
        self.X_chunks, self.Y_chunks, self.weight_chunks, self.first_rows = (
            [[column[i] for i in group] for group in self.groups] for column in chunks
        )
        # Keys unique to this objective (two fits on the same data must not share
        # results), then numbered: cheaper than hashing arguments per task.
        self._prefix = _unique_name("task")
        self._n_tasks = 0

    @property
    def columns(self):
        """The data columns ``X, Y, s``."""
        return self.X_chunks, self.Y_chunks, self.weight_chunks

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

    def tasks(self, func, *columns, args=()):
        """One task per group running ``func(*chunk_values, *args)`` on its chunks.

        ``args`` are small arrays sent with every task. Returns a column.
        """
        run = partial(_map_chunks, func, args)
        if self.client is None:
            dask, _ = _dask()
            return [dask.delayed(run, pure=False)(*group) for group in zip(*columns, strict=True)]
        self._n_tasks += 1
        name = f"{self._prefix}-{func.__name__.strip('_')}-{self._n_tasks}"
        keys = [f"{name}-{i}" for i in range(len(self.groups))]
        return self.client.map(run, *columns, key=keys, pure=False)

    def reduce(self, func, *columns, args=()):
        """Sum over chunks of ``func``'s tuples of partial sums, as float64 arrays."""
        tasks = self.tasks(func, *columns, args=args)
        if self.client is None:
            dask, _ = _dask()
            per_group = dask.compute(*tasks)
        else:
            per_group = self.client.gather(tasks)
        by_chunk = {}
        for group, parts in zip(self.groups, per_group, strict=True):
            by_chunk.update(zip(group, parts, strict=True))
        return _sum_parts([by_chunk[i] for i in sorted(by_chunk)])

    def persist(self, func, *columns, args=()):
        """Per-chunk results of ``func``, kept on the workers: a column."""
        tasks = self.tasks(func, *columns, args=args)
        if self.client is None:
            dask, _ = _dask()
            return list(dask.persist(*tasks))
        return tasks


class _Centring:
    """μ, the weighted mean row of X, and the maps b ↔ c = b + μᵀW."""

    intercepts = CentredAffine.intercepts
    shifted = CentredAffine.shifted

    def __init__(self, mean):
        self.mean = mean


def _weighted_column_sums(X, sample_weight):
    return np.ravel(X.T @ sample_weight), np.sum(sample_weight, dtype=np.float64)


def _scaled_chunks(X, Y, sample_weight, reg_lambda):
    """Persisted chunks of X, Y and the weights, and λ, scaled as in memory.

    :func:`~sklearn_nn._objectives.scaled_weights` divides s and λ by the power of
    two nearest max(s): an exact rescaling of J under which no product of a weight
    with the data overflows, and weights beyond float32's range still serve float32
    data. Here max(s) is one reduction, and each chunk of s is scaled in float64 and
    cast to X's dtype on its worker, giving the in-memory objective's weights exactly.
    """
    exponent = weight_exponent(sample_weight.max().compute())
    scaled = sample_weight.map_blocks(
        scale_weights, exponent, X.dtype, dtype=X.dtype, name=_unique_name("weights")
    )
    return _Chunks(X, Y, scaled), float(np.ldexp(float(reg_lambda), -exponent))


def _centring(chunks):
    """μ and S from one pass over the chunks, as :class:`CentredAffine` computes them."""
    X, _, s = chunks.columns
    column_sums, weight_sum = chunks.reduce(_weighted_column_sums, X, s)
    weight_sum = float(weight_sum)
    return _Centring(column_sums / weight_sum), weight_sum


def _as_dtype(array, dtype):
    return np.asarray(array).astype(dtype, copy=False)


# ------------------------------------------------------------ linear models
def _linear_terms(X, Y, s, W, b, head):
    """Σ s ℓ, Xᵀ G and Σ G of a chunk, block by block so that X is read once."""
    loss, grad_W, grad_b = 0.0, np.zeros(W.shape), np.zeros(W.shape[1])
    Y = np.asfortranarray(Y)  # the logits' layout (products_by_output), as in memory
    for block in row_slices(*X.shape, X.itemsize):
        block_loss, block_grad_W, block_grad_b = linear_data_terms(
            X[block], Y[block], s[block], W, b, head
        )
        loss += block_loss
        grad_W += block_grad_W
        grad_b += block_grad_b
    return np.float64(loss), grad_W, grad_b


def _chunk_covariance_terms(X, s, first_row, mean, step):
    """:func:`covariance_terms` of the chunk's rows on the grid of every ``step``-th row of X."""
    return covariance_terms(X, s, mean, step, first=-first_row % step)


class DaskLinearObjective:
    """:class:`~sklearn_nn._objectives.LinearObjective` on a Dask array.

    Same J, θ layout, centring, weight scaling and whitening; ``value_and_grad`` is one
    map-reduce over the persisted row chunks (one task per worker, partial sums of
    θ's size back), and so is ``hessp``, against the head's curvature kept on the
    workers at θ.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Training data chunked by rows only, float32 or float64.
    Y : dask.array.Array of shape (n_samples, n_outputs)
        Target indicator matrix in X's dtype, chunked like X's rows.
    sample_weight : dask.array.Array of shape (n_samples,)
        Non-negative weights with a positive sum, chunked like X's rows, in any
        float dtype: scaled as in memory, then cast to X's dtype.
    reg_lambda : float
        λ ≥ 0, the L2 penalty on W.
    head : {"sigmoid", "softmax"}
        Output loss.
    """

    smooth = True
    n_params = LinearObjective.n_params
    unpack = LinearObjective.unpack
    model_params = LinearObjective.model_params
    theta = LinearObjective.theta
    _in_centred_coordinates = LinearObjective._in_centred_coordinates
    _whitening_from = LinearObjective._whitening_from

    def __init__(self, X, Y, sample_weight, reg_lambda, head):
        self.dtype = X.dtype
        self.chunks, self.reg_lambda = _scaled_chunks(X, Y, sample_weight, reg_lambda)
        self.head = HEADS[head]
        self.layer, self.weight_sum = _centring(self.chunks)
        self.n_features = X.shape[1]
        self.n_outputs = Y.shape[1]
        self._curvature = (None, None)

    def _model_params_in_dtype(self, theta):
        W, b = self.model_params(theta)
        return _as_dtype(W, self.dtype), _as_dtype(b, self.dtype)

    def value_and_grad(self, theta):
        """Return J(θ) and ∇J(θ): one map-reduce over the chunks."""
        W, _ = self.unpack(theta)
        X, Y, s = self.chunks.columns
        loss, grad_W_model, grad_b = self.chunks.reduce(
            _linear_terms, X, Y, s, args=(*self._model_params_in_dtype(theta), self.head)
        )
        penalty = 0.5 * self.reg_lambda * float(W.ravel() @ W.ravel())
        return (float(loss) + penalty) / self.weight_sum, self._in_centred_coordinates(
            W, grad_W_model, grad_b
        )

    def whitening(self):
        """The in-memory objective's :class:`~sklearn_nn._objectives.Whitening`.

        The covariance is one map-reduce over the same rows of X as in memory
        (every ``step``-th row of the whole array), so both solvers take one path.
        """
        n, d = self.chunks.X.shape
        step = whitening_step(n, d, self.n_outputs)
        if step is None:
            return None
        X, _, s = self.chunks.columns
        terms, weight_sum = self.chunks.reduce(
            _chunk_covariance_terms, X, s, self.chunks.first_rows, args=(self.layer.mean, step)
        )
        return self._whitening_from(terms, float(weight_sum))

    def hessp(self, theta, v):
        """Return H(θ)·v: one map-reduce against the curvature persisted at θ."""
        X, _, _ = self.chunks.columns
        V_W, v_c = self.unpack(v)
        v_b = self.layer.intercepts(V_W, v_c)
        grad_W_model, grad_b = self.chunks.reduce(
            hessp_data_terms,
            X,
            self._curvature_at(theta),
            args=(_as_dtype(V_W, self.dtype), _as_dtype(v_b, self.dtype)),
        )
        return self._in_centred_coordinates(V_W, grad_W_model, grad_b)

    def _curvature_at(self, theta):
        """Per-chunk curvature of the head at θ, persisted on the workers once per θ."""
        key = theta.tobytes()
        if self._curvature[0] != key:
            X, _, s = self.chunks.columns
            curvature = self.chunks.persist(
                block_curvatures, X, s, args=(*self._model_params_in_dtype(theta), self.head)
            )
            self._curvature = (key, curvature)
        return self._curvature[1]

    def logits(self, theta, X=None):
        """Return Z = X W + b: a Dask array on the training X when ``X`` is None."""
        W, b = self._model_params_in_dtype(theta)
        X = self.chunks.X if X is None else X
        return X @ W + b


# ------------------------------------------------------------------ network
def _hidden(X, W1, b1, activation):
    A = np.asarray(X @ W1)
    A += b1
    ACTIVATIONS[activation](A)
    return A


def _weighted_hidden_sum(A, s):
    return ((s @ A).astype(np.float64),)


def _network_head(A, Y, s, W2, b2, head):
    """Logits, loss and G = ∂(Σ s ℓ)/∂Z of a chunk at the model's (W2, b2)."""
    Z = A @ W2
    Z += b2
    loss, G = head.loss_and_grad(Z, Y, s)
    return Z, np.float64(loss), G


def _network_grad_terms(X, Y, s, A, W2, b2, head, activation):
    """Partial sums of the backward pass on a chunk.

    With P = (G W2ᵀ) ⊙ f' and q = s f', the chunk returns Σ s ℓ, ΣG, AᵀG, Xᵀ[P q]
    and Σ[P q]: Δ = P − q ⊙ (g W2ᵀ/S) needs the global g = ΣG, so its two parts are
    reduced separately and combined on the client. One product with X for both.
    """
    _, loss, G = _network_head(A, Y, s, W2, b2, head)
    first = DERIVATIVES[activation][0](A)
    parts = np.empty((A.shape[0], 2 * A.shape[1]), dtype=A.dtype)
    P, q = parts[:, : A.shape[1]], parts[:, A.shape[1] :]
    np.matmul(G, W2.T, out=P)
    P *= first
    np.multiply(first, s[:, None], out=q)
    return (
        loss,
        column_sums(G),
        A.T @ G,
        products_with_rows(X, parts),
        column_sums(parts),
    )


def _network_hessp_terms(X, Y, s, A, V1, v_b1, W2, b2, V2, R_Z_shift, u, head, activation, exact):
    """Partial sums of a Hessian (or Gauss-Newton) product on a chunk.

    ``R_Z_shift`` = v_c2 − R{ā}W2 − āV2 and ``u`` = g W2ᵀ / S are global and sent;
    the terms that need Σ R{G} (known only after the reduction) come back split, as
    in :func:`_network_grad_terms`.
    """
    # The head at θ again from the A kept at θ (O(n H k)): keeping Z and G as well
    # would cost one more task per evaluation.
    Z, _, G = _network_head(A, Y, s, W2, b2, head)
    first_derivative, second_derivative = DERIVATIVES[activation]
    first = first_derivative(A)
    R_pre = np.asarray(X @ V1)
    R_pre += v_b1
    R_A = first * R_pre
    R_Z = R_A @ W2
    R_Z += A @ V2
    R_Z += R_Z_shift
    R_G = head.curvature(Z, s)(R_Z)
    Q = R_G @ W2.T
    grad_W2 = A.T @ R_G
    if exact:
        Q += G @ V2.T
        Q *= first
        dA = G @ W2.T
        dA -= s[:, None] * u
        dA *= second_derivative(A)
        dA *= R_pre
        Q += dA
        grad_W2 += R_A.T @ G
    else:
        Q *= first
    return column_sums(R_G), grad_W2, products_with_rows(X, Q), column_sums(Q)


class _NetworkState:
    """What the client keeps of a forward and backward pass at θ."""

    def __init__(self, **values):
        self.__dict__.update(values)


class DaskTwoLayerObjective:
    """:class:`~sklearn_nn._objectives.TwoLayerObjective` on a Dask array.

    Same J, θ layout, weight scaling and centring of both layers. An evaluation is
    two map-reduces: the first computes the hidden activations A of every chunk,
    keeps them on the workers and returns Σ s A (hence ā, which the output
    intercepts depend on); the second runs the head and the backward pass. The term
    of ∂/∂A through ā, −(s/S)(g W2ᵀ), needs the global g = ΣG, so each chunk
    returns Xᵀ[(G W2ᵀ) ⊙ f'] and M = Xᵀ(s f') (one product with X) and the client forms
    ∇W1_model = Xᵀ[(G W2ᵀ) ⊙ f'] − M ⊙ (g W2ᵀ/S). ``hessp`` is one map-reduce,
    against the activations A kept on the workers at θ (R{ā} comes from M and m).

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Training data chunked by rows only, float32 or float64.
    Y : dask.array.Array of shape (n_samples, n_outputs)
        Target indicator matrix in X's dtype, chunked like X's rows.
    sample_weight : dask.array.Array of shape (n_samples,)
        Non-negative weights with a positive sum, chunked like X's rows, in any
        float dtype: scaled as in memory, then cast to X's dtype.
    reg_lambda : float
        λ ≥ 0, the L2 penalty on W1 and W2.
    head : {"sigmoid", "softmax"}
        Output loss.
    activation : {"sigmoid", "tanh", "relu"}
        Hidden activation.
    n_hidden : int
        H, the number of hidden units.
    hessian : {"exact", "gauss-newton"}, default="exact"
        Which curvature ``hessp`` multiplies by.
    """

    n_params = TwoLayerObjective.n_params
    unpack = TwoLayerObjective.unpack
    whitening = TwoLayerObjective.whitening

    def __init__(
        self, X, Y, sample_weight, reg_lambda, head, activation, n_hidden, hessian="exact"
    ):
        self.smooth = activation != "relu"
        self.dtype = X.dtype
        self.chunks, self.reg_lambda = _scaled_chunks(X, Y, sample_weight, reg_lambda)
        self.head = HEADS[head]
        self.activation = activation
        self.hessian = hessian
        self.layer, self.weight_sum = _centring(self.chunks)
        d, k = X.shape[1], Y.shape[1]
        self.shapes = [(d, n_hidden), (n_hidden,), (n_hidden, k), (k,)]
        self._bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in self.shapes])
        self._state = (None, None)

    def _in_dtype(self, *arrays):
        return [_as_dtype(array, self.dtype) for array in arrays]

    def _hidden_at(self, W1, b1):
        """Persisted hidden activations of every chunk, and ā = Σ s A / S."""
        X, _, s = self.chunks.columns
        hidden = self.chunks.persist(_hidden, X, args=(*self._in_dtype(W1, b1), self.activation))
        (hidden_sum,) = self.chunks.reduce(_weighted_hidden_sum, hidden, s)
        return hidden, hidden_sum / self.weight_sum

    def model_params(self, theta):
        """Return the model's ``[W1, b1, W2, b2]`` for θ."""
        state = self._forward(theta)
        return [state.W1, state.b1, state.W2, state.b2]

    def theta(self, W1, b1, W2, b2):
        """Return θ for the network with the given weights and biases."""
        _, mean_hidden = self._hidden_at(W1, b1)
        c1 = self.layer.shifted(W1, b1)
        return np.concatenate([np.ravel(W1), c1, np.ravel(W2), b2 + mean_hidden @ W2])

    def logits(self, theta, X=None):
        """Return Z = f(X W1 + b1) W2 + b2: a Dask array on the training X when None."""
        W1, b1, W2, b2 = self._in_dtype(*self.model_params(theta))
        X = self.chunks.X if X is None else X
        if not is_dask_collection(X):
            return _hidden(X, W1, b1, self.activation) @ W2 + b2
        return X.map_blocks(
            lambda block: _hidden(block, W1, b1, self.activation) @ W2 + b2,
            chunks=(X.chunks[0], (W2.shape[1],)),
            dtype=X.dtype,
        )

    def _forward(self, theta):
        """Forward and backward pass at θ: two map-reduces, cached for ``hessp`` at θ."""
        key = theta.tobytes()
        if self._state[0] == key:
            return self._state[1]
        W1, c1, W2, c2 = self.unpack(theta)
        b1 = self.layer.intercepts(W1, c1)
        hidden, mean_hidden = self._hidden_at(W1, b1)
        b2 = c2 - mean_hidden @ W2
        X, Y, s = self.chunks.columns
        W2_x, b2_x = self._in_dtype(W2, b2)
        loss, g, AtG, Xt_parts, sum_parts = self.chunks.reduce(
            _network_grad_terms, X, Y, s, hidden, args=(W2_x, b2_x, self.head, self.activation)
        )
        H = W2.shape[0]
        state = _NetworkState(
            W1=W1,
            b1=b1,
            W2=W2,
            b2=b2,
            hidden=hidden,
            mean_hidden=mean_hidden,
            loss=float(loss),
            g=g,
            AtG=AtG,
            XtP=Xt_parts[:, :H],
            sum_P=sum_parts[:H],
            M=Xt_parts[:, H:],
            m=sum_parts[H:],
        )
        self._state = (key, state)
        return state

    def _first_layer_backward(self, XtP, sum_P, state, u, out_W1, out_c1):
        """∂/∂W1, ∂/∂c1 of Δ = P − (s f') ⊙ u from the reduced Xᵀ P, Σ P and M, m."""
        out_c1[:] = sum_P - state.m * u
        out_W1[:] = XtP - state.M * u
        out_W1 -= np.outer(self.layer.mean, out_c1)

    def value_and_grad(self, theta):
        """Return J(θ) and ∇J(θ), the gradient as a float64 vector like θ."""
        state = self._forward(theta)
        W1, _, W2, _ = self.unpack(theta)
        grad = np.empty_like(theta)
        out_W1, out_c1, out_W2, out_c2 = self.unpack(grad)
        out_c2[:] = state.g
        out_W2[:] = state.AtG - np.outer(state.mean_hidden, state.g)
        u = state.g @ W2.T / self.weight_sum
        self._first_layer_backward(state.XtP, state.sum_P, state, u, out_W1, out_c1)
        out_W1 += self.reg_lambda * W1
        out_W2 += self.reg_lambda * W2
        grad /= self.weight_sum
        squared_weights = float(W1.ravel() @ W1.ravel() + W2.ravel() @ W2.ravel())
        return (state.loss + 0.5 * self.reg_lambda * squared_weights) / self.weight_sum, grad

    def hessp(self, theta, v):
        """Return H(θ)·v (``hessian="exact"``) or the Gauss-Newton G(θ)·v.

        The formulas of :meth:`TwoLayerObjective.hessp`, in one map-reduce. R{ā}
        needs no pass of its own: R{ā} = Σ_i s_i f'_i ⊙ (x_i V1 + R{b1}) / S
        = (Σ_j M_j ⊙ V1_j + m ⊙ R{b1}) / S, with M = Xᵀ(s f') and m = Σ s f'
        reduced with the gradient at θ.
        """
        state = self._forward(theta)
        W2 = state.W2
        V1, v_c1, V2, v_c2 = self.unpack(v)
        X, Y, s = self.chunks.columns
        v_b1 = self.layer.intercepts(V1, v_c1)
        R_mean = ((state.M * V1).sum(axis=0) + state.m * v_b1) / self.weight_sum
        exact = self.hessian == "exact"
        u = state.g @ W2.T / self.weight_sum
        R_Z_shift = v_c2 - R_mean @ W2 - state.mean_hidden @ V2
        R_G_sum, grad_W2, XtQ, sum_Q = self.chunks.reduce(
            _network_hessp_terms,
            X,
            Y,
            s,
            state.hidden,
            args=(
                *self._in_dtype(V1, v_b1, W2, state.b2, V2, R_Z_shift, u),
                self.head,
                self.activation,
                exact,
            ),
        )
        out = np.empty_like(v)
        out_W1, out_c1, out_W2, out_c2 = self.unpack(out)
        out_c2[:] = R_G_sum
        out_W2[:] = grad_W2 - np.outer(state.mean_hidden, R_G_sum)
        u_R = R_G_sum @ W2.T
        if exact:
            out_W2 -= np.outer(R_mean, state.g)
            u_R += state.g @ V2.T
        self._first_layer_backward(XtQ, sum_Q, state, u_R / self.weight_sum, out_W1, out_c1)
        out_W1 += self.reg_lambda * V1
        out_W2 += self.reg_lambda * V2
        out /= self.weight_sum
        return out


# ------------------------------------------------------------- validation
def _check_rows_array(X, da, name="X"):
    """X as a 2-D float Dask array chunked by rows only, or a clear ValueError."""
    if not isinstance(X, da.Array):
        raise ValueError(
            f"Of the Dask collections only dask.array.Array is supported as {name}; got "
            f"{type(X).__name__}. Convert a Dask DataFrame with .to_dask_array(lengths=True)."
        )
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D Dask array {name} of shape (n_samples, n_features); "
            f"got {X.ndim}-D with shape {X.shape}."
        )
    if any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError(
            f"The row chunk sizes of the Dask array {name} are unknown; call "
            f"{name}.compute_chunk_sizes() first."
        )
    if len(X.chunks[1]) != 1:
        raise ValueError(
            f"The Dask array {name} must be chunked by rows only (every chunk holds all "
            f"{X.shape[1]} features); got column chunks {X.chunks[1]}. Use "
            f"{name}.rechunk({{1: -1}})."
        )
    if not isinstance(X._meta, np.ndarray):
        # The chunk functions use NumPy's dense API (flags, BLAS products).
        raise ValueError(
            f"The chunks of the Dask array {name} must be NumPy arrays; got "
            f"{type(X._meta).__name__}. Sparse chunks are not supported for fitting: "
            f"densify them ({name}.map_blocks(lambda chunk: chunk.toarray())) or fit "
            "in memory."
        )
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported; the Dask array {name} is {X.dtype}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"The Dask array {name} must hold numbers (float32 or float64 are used as they "
            f"are); got dtype {X.dtype}."
        )
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return X


def _aligned_vector(values, X, da, name, dtype=None):
    """A 1-D Dask array of n_samples values chunked like the rows of X.

    With ``dtype``, the values must be real numbers, and are cast to it.
    """
    if not is_dask_collection(values):
        values = np.asarray(values)
    elif not isinstance(values, da.Array):
        raise ValueError(f"{name} must be a 1-D Dask or NumPy array; got {type(values).__name__}.")
    if values.shape != (X.shape[0],):
        raise ValueError(f"{name} must have shape ({X.shape[0]},) to match X; got {values.shape}.")
    if dtype is not None:
        if values.dtype.kind == "c":
            raise ValueError(f"Complex data not supported; {name} is {values.dtype}.")
        if values.dtype.kind not in "biuf":
            raise ValueError(f"{name} must hold real numbers; got dtype {values.dtype}.")
        values = values.astype(dtype)
    if isinstance(values, np.ndarray):
        return da.from_array(values, chunks=(X.chunks[0],))
    if any(np.isnan(size) for size in values.chunks[0]):
        raise ValueError(f"The chunk sizes of {name} are unknown; call compute_chunk_sizes().")
    # Small vectors: aligning their chunks with X's rows is cheap, and needed because
    # each task reads the X, y and weight chunks of the same rows.
    return values if values.chunks[0] == X.chunks[0] else values.rechunk((X.chunks[0],))


def _chunk_summary(X, y, sample_weight):
    """What ``fit`` checks, on one chunk: magnitudes, weight range, labels, class statistics."""
    labels, codes = encode_labels(y)
    return (
        largest_magnitude(X),
        weight_range(sample_weight),
        labels,
        class_statistics(codes, sample_weight, labels.size),
    )


def _indicator(y, classes, dtype, binary_in_one_column):
    """The indicator matrix of a chunk of labels, as in memory."""
    return indicator(np.searchsorted(classes, y), classes.size, dtype, binary_in_one_column)


def _class_weighted(sample_weight, y, classes, per_class):
    return sample_weight * per_class[np.searchsorted(classes, y)]


class PreparedFit(NamedTuple):
    """The validated Dask inputs of ``fit``: X, Y and the weights s (lazy), and more.

    ``weighting`` is the :class:`~sklearn_nn._validation.Weighting` of s.
    """

    X: object
    Y: object
    sample_weight: object
    classes: np.ndarray
    weighting: Weighting


def prepare_fit(
    X, y, sample_weight, *, class_weight, estimator_name, binary_in_one_column, early_stopping
):
    """Validate the Dask inputs of ``fit``; return a :class:`PreparedFit`.

    The checks of the in-memory path (``_validation``), on summaries that one task
    per persisted chunk computes: X's largest magnitude, the weights' range, the
    chunk's labels with their total and largest weight. Y and the combined weights
    s_i = sample_weight_i × class_weight[y_i] stay lazy; the objective persists
    them next to X.
    """
    dask, da = _dask()
    X = _check_rows_array(X, da)
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"Found array with shape {X.shape}; fitting needs at least 1 x 1.")
    if early_stopping:
        raise ValueError(
            "early_stopping is not supported on Dask arrays: hold out validation data "
            "yourself, or fit in memory."
        )
    y = _aligned_vector(y, X, da, "y")
    # Weights are validated and combined in float64 whatever X's dtype, as in memory:
    # the objective scales them before casting them to X's dtype, so weights beyond
    # float32's range (or below its smallest number) are no reason to fail.
    given_weights = sample_weight is not None
    if sample_weight is None:
        sample_weight = da.ones(
            X.shape[0], chunks=(X.chunks[0],), dtype=np.float64, name=_unique_name("ones")
        )
    elif isinstance(sample_weight, numbers.Real):
        sample_weight = da.full(
            X.shape[0],
            float(sample_weight),
            chunks=(X.chunks[0],),
            dtype=np.float64,
            name=_unique_name("full"),
        )
    else:
        sample_weight = _aligned_vector(sample_weight, X, da, "sample_weight", np.float64)
    # Persisted once here, for the checks and for the objective, which keeps it.
    X = _aligned_chunks(X)
    X, y, sample_weight = dask.persist(X, y, sample_weight)

    summaries = dask.compute(
        *[
            dask.delayed(_chunk_summary, pure=False)(*chunk)
            for chunk in zip(
                X.to_delayed().ravel(), y.to_delayed(), sample_weight.to_delayed(), strict=True
            )
        ]
    )
    X_peaks, weight_ranges, labels, statistics = zip(*summaries, strict=True)
    classes, codes = encode_labels(np.concatenate(labels))
    require_two_classes(classes, estimator_name)
    minima, maxima = np.array(weight_ranges).T
    if given_weights:
        # np.min and np.max, not min(): a NaN in any chunk must come out.
        check_weight_range(np.min(minima), np.max(maxima))
    totals = np.bincount(codes, np.concatenate([t for t, _ in statistics]), classes.size)
    largest = np.zeros(classes.size)
    np.maximum.at(largest, codes, np.concatenate([m for _, m in statistics]))
    weighting = class_weighting(class_weight, classes, totals, largest)
    check_features(np.max(X_peaks), X.dtype)

    n_outputs = indicator(np.zeros(0, dtype=np.intp), classes.size, X.dtype, binary_in_one_column)
    Y = y.map_blocks(
        _indicator,
        classes,
        X.dtype,
        binary_in_one_column,
        new_axis=1,
        chunks=(X.chunks[0], (n_outputs.shape[1],)),
        dtype=X.dtype,
        name=_unique_name("targets"),
    )
    if weighting.per_class is not None:
        sample_weight = da.map_blocks(
            _class_weighted,
            sample_weight,
            y,
            classes,
            weighting.per_class,
            dtype=np.float64,
            name=_unique_name("weights"),
        )
    return PreparedFit(X, Y, sample_weight, classes, weighting)


# ------------------------------------------------------------- prediction
def _predict_block(X, estimator, method, empty):
    return empty if X.shape[0] == 0 else getattr(estimator, method)(X)


def predict_blocks(estimator, method, X):
    """``estimator.<method>`` of a Dask array, lazily, block by block of rows.

    Each block goes through the in-memory method (and its validation); the result
    is a Dask array with X's row chunks.
    """
    _, da = _dask()
    check_is_fitted(estimator)
    if not isinstance(X, da.Array) or X.ndim != 2:
        X = _check_rows_array(X, da)  # raises the message that fits
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    # One row through the in-memory method gives the result's dtype and columns.
    probe = getattr(estimator, method)(np.zeros((1, X.shape[1]), dtype=X.dtype))
    empty = np.empty((0, *probe.shape[1:]), dtype=probe.dtype)
    kwargs = {"estimator": estimator, "method": method, "empty": empty, "dtype": probe.dtype}
    if probe.ndim == 1:
        return X.map_blocks(_predict_block, drop_axis=1, meta=empty, **kwargs)
    return X.map_blocks(
        _predict_block, chunks=(X.chunks[0], (probe.shape[1],)), meta=empty, **kwargs
    )
