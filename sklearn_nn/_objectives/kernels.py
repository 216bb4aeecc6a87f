"""Products and sums over the rows of X, in row blocks that stay in cache.

Everything here is BLAS-level arithmetic that knows no model: how X is cut into row
blocks, how its products with a parameter matrix are laid out, and how columns are
summed. The layouts are chosen for speed; ``benchmarks/README.md`` records the
measurements behind them.
"""

import numpy as np
from scipy import sparse

__all__ = [
    "BACKWARD_BLOCK_BYTES",
    "BLOCK_BYTES",
    "WORK_BYTES_PER_OUTPUT",
    "affine_backward",
    "affine_forward",
    "column_sums",
    "congruence_by_rows",
    "products_by_output",
    "products_with_rows",
    "row_blocks",
    "row_slices",
    "row_sums",
    "rows_in",
    "rows_of",
]

#: Bytes of a row block's working set: its rows of X and the work on them, small
#: enough that a block read by one operation is still in cache for the next, so a
#: sequence of them reads X from memory once.
BLOCK_BYTES = 5 * 2**19

#: Bytes of work per row and output column besides the row of X: the head's
#: temporaries and BLAS's packed copies of the logits and of their gradient. Without
#: them a block of many outputs (softmax, one-vs-rest, the folds of a
#: cross-validation side by side) overflows the cache before its backward product.
WORK_BYTES_PER_OUTPUT = 256


#: Bytes of X per row block of :func:`affine_backward` (dense X).
BACKWARD_BLOCK_BYTES = 2**22


def row_slices(n_rows, bytes_per_row, block_bytes=BLOCK_BYTES):
    """Slices of consecutive rows, each about ``block_bytes`` at ``bytes_per_row``."""
    rows = max(256, block_bytes // max(1, bytes_per_row))
    return [slice(start, start + rows) for start in range(0, n_rows, rows)]


def row_sums(A):
    """Return Σ_k A_ik per row, as a BLAS matrix-vector product (a view for one column).

    On rows of a few dozen entries numpy's ``sum(axis=1)`` is several times slower.
    """
    if A.shape[1] == 1:
        return A[:, 0]
    return A @ np.ones(A.shape[1], dtype=A.dtype)


def column_sums(A):
    """Return Σ_i A_i in float64.

    float64 columns go through a BLAS matrix-vector product, faster than numpy's
    ``sum(axis=0)`` on blocks of a few thousand short rows. float32 columns are
    summed by numpy in float64: the product would first cast the whole block.
    """
    if A.dtype != np.float64:
        return A.sum(axis=0, dtype=np.float64)
    return np.ones(A.shape[0]) @ A


def row_blocks(X, n_outputs, dtype=None, copied=False):
    """Slices of rows of X to process together, for products in ``dtype`` (X's if None).

    A block holds as many rows as fit, with the work on their ``n_outputs`` output
    columns (:data:`WORK_BYTES_PER_OUTPUT`), in :data:`BLOCK_BYTES`. One slice for
    sparse X in its own dtype (slicing CSR copies); a sparse X to be cast, or whose
    blocks the caller copies anyway (``copied``: a weighted copy), is cut into blocks
    too, so that only one block is ever copied.
    """
    work = WORK_BYTES_PER_OUTPUT * n_outputs
    if not sparse.issparse(X):
        return row_slices(X.shape[0], X.shape[1] * X.itemsize + work)
    if (dtype is None or dtype == X.dtype) and not copied:
        return [slice(0, X.shape[0])]
    entries_per_row = max(1, X.nnz // max(1, X.shape[0]))
    entry_bytes = X.data.itemsize + X.indices.itemsize
    return row_slices(X.shape[0], entries_per_row * entry_bytes + work)


def congruence_by_rows(H, T, n_columns):
    """Return Mᵀ H M for M = T ⊗ I: T acting alike on every column of a (p, k) layout.

    H is a matrix on vectors laid out as (p, k) row-major (θ = [W; c] with k
    columns), of shape (p·k, p·k); T is (p, p). Two tensor contractions, no
    (p·k)² matrix M.
    """
    p = T.shape[0]
    H = H.reshape(p, n_columns, p, n_columns)
    H = np.tensordot(T, H, axes=(0, 0))  # (a, j, q, l)
    H = np.tensordot(H, T, axes=(2, 0))  # (a, j, l, b)
    return H.transpose(0, 1, 3, 2).reshape(p * n_columns, p * n_columns)


def rows_of(X, block):
    """The rows of X in ``block`` (X itself when the block is all of it)."""
    if block.start == 0 and block.stop >= X.shape[0]:
        return X
    return X[block]


def rows_in(X, block, dtype):
    """The rows of X in ``block``, in ``dtype``: a copy of the block only if cast."""
    return rows_of(X, block).astype(dtype, copy=False)


def products_by_output(X, W):
    """Return X W, shape (n, k), laid out output by output (Fortran order).

    Computed as (Wᵀ Xᵀ)ᵀ, which OpenBLAS runs faster than X W for a few dozen
    outputs; and the heads' per-sample steps (weights, softmax normalisers, sums over
    the k outputs) then run along contiguous memory instead of over rows of k numbers.
    Targets are stored the same way (the linear objective), so that elementwise steps
    mix no layouts.
    """
    return np.asarray(W.T @ X.T).T


def products_with_rows(X, delta):
    """Return Xᵀ delta, shape (n_features, n_columns).

    Dense X is multiplied as (deltaᵀ X)ᵀ, which OpenBLAS runs faster from a few
    columns on, whether X comes from memory (the network's second read of X, a Dask
    chunk) or from cache (a linear model's row block): in float64 in either layout,
    in float32 for C-ordered X (benchmarks/README.md). float32 Fortran-ordered and
    sparse X are multiplied as they are.
    """
    if not sparse.issparse(X) and (X.dtype == np.float64 or X.flags.c_contiguous):
        return (delta.T @ X).T
    return X.T @ delta


def affine_forward(X, W, b):
    """Return ``X W + b`` in W's dtype, laid out output by output.

    ``W`` and ``b`` share a dtype, normally X's; the layout is
    :func:`products_by_output`'s. float32 X with float64 parameters is multiplied in
    float64, cast one row block at a time (never all of X at once). C-ordered
    float32 X is multiplied as X W, block by block, each block's product copied into
    the output's layout while in cache: OpenBLAS's sgemm runs X W faster than
    (Wᵀ Xᵀ)ᵀ (benchmarks/README.md).
    """
    cast = X.dtype != W.dtype
    if cast or (not sparse.issparse(X) and X.dtype == np.float32 and X.flags.c_contiguous):
        out = np.empty((X.shape[0], W.shape[1]), dtype=W.dtype, order="F")
        if cast:
            blocks = row_blocks(X, W.shape[1], W.dtype)
        else:
            blocks = row_slices(X.shape[0], X.shape[1] * X.itemsize)
        for block in blocks:
            X_block = rows_in(X, block, W.dtype)
            out[block] = products_by_output(X_block, W) if cast else X_block @ W
    else:
        out = products_by_output(X, W)
    out += b
    return out


def affine_backward(X, delta_of, n_columns, dtype=None):
    """Return Xᵀ Δ and Σ_i Δ_i, Δ (n, ``n_columns``) made block by block by ``delta_of(block)``.

    The whole Δ never needs to exist. Xᵀ Δ is summed in the products' own dtype and
    layout (no strided copy per block), Σ Δ in float64. The products run in ``dtype``
    (X's if None), X cast block by block. Dense blocks hold about
    :data:`BACKWARD_BLOCK_BYTES` of X: Δ comes from what the forward pass kept, not
    from X, so only the product reads the block, and BLAS runs it faster on larger
    ones (benchmarks/README.md).
    """
    dtype = X.dtype if dtype is None else dtype
    product_total, column_total = None, 0.0
    if sparse.issparse(X):
        blocks = row_blocks(X, n_columns, dtype)
    else:
        blocks = row_slices(
            X.shape[0], X.shape[1] * np.dtype(dtype).itemsize, BACKWARD_BLOCK_BYTES
        )
    for block in blocks:
        delta = delta_of(block)
        column_total = column_total + column_sums(delta)
        product = products_with_rows(rows_in(X, block, dtype), delta)
        product_total = (
            product if product_total is None else np.add(product_total, product, out=product_total)
        )
    return product_total, column_total
