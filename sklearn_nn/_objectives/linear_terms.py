"""The linear objective's chunk functions: what one chunk of rows adds to J, ∇J, H·v.

Each runs on one chunk of the rows protocol (:mod:`~sklearn_nn._objectives.rows`):
the whole data in memory, or one Dask chunk;
:class:`~sklearn_nn._objectives.linear.LinearObjective` sums their results. Row
blocks of the chunk run forward, head and backward while they are in cache.
"""

import numpy as np
from scipy import sparse
from scipy.linalg.blas import dsyrk

from .kernels import column_sums, products_by_output, products_with_rows, row_blocks, rows_in
from .whitening import covariance_terms, variance_terms

__all__ = [
    "chunk_covariance_terms",
    "chunk_variance_terms",
    "data_terms",
    "head_curvatures",
    "hessian_blocks",
    "hessian_terms",
    "hessp_terms",
    "targets_by_output",
]


def targets_by_output(Y, dtype):
    """The targets in the logits' layout (:func:`products_by_output`), as given."""
    return np.asfortranarray(Y)


def _block(chunk, block, groups, dtype):
    """A row block's X (in ``dtype``), its targets and its weights, as the head sees them.

    With G fits on the same rows (``groups`` > 1) the head sees each sample once
    per fit, one "row" per (fit, sample) of the block, fit by fit: the targets and
    weights of those rows are laid out so by the objective, block by block.
    """
    X_block = rows_in(chunk.X, block, dtype)
    if groups == 1:
        return X_block, chunk.Y[block], chunk.sample_weight[block]
    if not sparse.issparse(chunk.X):  # laid out in these same blocks
        rows = slice(block.start * groups, block.stop * groups)
        return X_block, chunk.Y[rows], chunk.sample_weight[rows]
    # Sparse X is laid out as one block; float64 products cut it into smaller ones,
    # whose (fit, sample) rows are gathered (a copy of the block's targets only).
    n_samples, outputs = chunk.X.shape[0], chunk.Y.shape[1:]  # () for class codes
    Y = chunk.Y.reshape((n_samples, groups, *outputs), order="F")[block]
    weights = chunk.sample_weight.reshape(n_samples, groups, order="F")[block]
    return X_block, Y.reshape((-1, *outputs), order="F"), weights.reshape(-1, order="F")


def _logits(X_block, W, b, groups):
    """Z = X W + b of a row block in the head's layout: one row per (fit, sample).

    W's columns are output by output, fit by fit within an output (column j·G + g
    is output j of fit g), so the logits laid out output by output
    (:func:`products_by_output`) are already, without a copy, the head's rows of k
    outputs, fit by fit: column j of Z holds output j of every (fit, sample).
    """
    Z = products_by_output(X_block, W)
    Z += b
    return Z.reshape(-1, W.shape[1] // groups, order="F")


def _backward(X_block, G, n_columns):
    """Xᵀ G and Σ G of a row block, G back in the layout of W's columns."""
    G = G.reshape(-1, n_columns, order="F")
    return products_with_rows(X_block, G), column_sums(G)


def data_terms(chunk, W, b, head, keep_curvature, groups=1):
    """Σ s ℓ, Xᵀ G and Σ G on a chunk at the model's (W, b), block by block.

    G = ∂(Σ s ℓ)/∂Z. Each row block's logits, head and backward product run while
    the block is in cache. With ``keep_curvature`` the head's curvature of every
    block is returned as the chunk's state, for Hessian products at the same θ.
    """
    loss, grad_W, grad_b = 0.0, np.zeros(W.shape), np.zeros(W.shape[1])
    curvatures = []
    for block in row_blocks(chunk.X, W.shape[1], W.dtype):
        X_block, Y, s = _block(chunk, block, groups, W.dtype)
        Z = _logits(X_block, W, b, groups)
        if keep_curvature:
            curvatures.append(head.curvature(Z, s))
        block_loss, G = head.loss_and_grad(Z, Y, s)
        loss += block_loss
        block_W, block_b = _backward(X_block, G, W.shape[1])
        grad_W += block_W
        grad_b += block_b
    sums = (loss, grad_W, grad_b)
    return (sums, curvatures) if keep_curvature else sums


def head_curvatures(chunk, W, b, head, groups=1):
    """The head's curvature at the logits X W + b, one map ``dZ ↦ C dZ`` per row block."""
    curvatures = []
    for block in row_blocks(chunk.X, W.shape[1], W.dtype):
        X_block, _, s = _block(chunk, block, groups, W.dtype)
        curvatures.append(head.curvature(_logits(X_block, W, b, groups), s))
    return curvatures


def hessp_terms(chunk, curvatures, V, v_b, groups=1):
    """Xᵀ U and Σ U with U = C (X V + v_b), row block by row block.

    Each block of X meets V and then U while it is in cache: a product reads X from
    memory once, like an evaluation.
    """
    grad_W, grad_b = np.zeros(V.shape), np.zeros(V.shape[1])
    for block, curvature in zip(row_blocks(chunk.X, V.shape[1], V.dtype), curvatures, strict=True):
        X_block = rows_in(chunk.X, block, V.dtype)
        U = curvature(_logits(X_block, V, v_b, groups))
        block_W, block_b = _backward(X_block, U, V.shape[1])
        grad_W += block_W
        grad_b += block_b
    return grad_W, grad_b


def _curvature_columns(chunk, W, b, head, groups):
    """Per row block and output j: the block's rows in float64 and C_i e_j, (groups, n, k).

    C_i is the head's curvature of sample i (k × k; diagonal for sigmoid units), read
    off its map ``dZ ↦ C dZ`` along each output's unit direction, from row blocks
    cast one at a time.
    """
    k = W.shape[1] // groups
    for block in row_blocks(chunk.X, W.shape[1], np.float64, copied=True):
        X_block, _, s = _block(chunk, block, groups, np.float64)
        curvature = head.curvature(_logits(X_block, W, b, groups), s)
        for first in range(k):
            unit = np.zeros((s.size, k))
            unit[:, first] = 1.0
            yield X_block, first, curvature(unit).reshape(groups, X_block.shape[0], k)


def hessian_terms(chunk, W, b, head, groups=1):
    """Σ_i x̃_i x̃_iᵀ ⊗ C_i over a chunk, x̃ = [x, 1]: the data's Hessian in (W, b).

    Returned as one array (d + 1, K, d + 1, K) over (feature or intercept, column of
    W), float64. Fits side by side (``groups``) do not couple: only each fit's own
    columns get terms.
    """
    n_columns = W.shape[1]
    k = n_columns // groups
    terms = np.zeros((W.shape[0] + 1, n_columns, W.shape[0] + 1, n_columns))
    for X_block, first, C in _curvature_columns(chunk, W, b, head, groups):
        for g in range(groups):
            for second in range(first, k):  # C_i is symmetric
                if not C[g, :, second].any():  # sigmoid units: no coupling
                    continue
                gram = _weighted_gram(X_block, C[g, :, second])
                first_column, second_column = first * groups + g, second * groups + g
                terms[:, second_column, :, first_column] += gram
                if second != first:
                    terms[:, first_column, :, second_column] += gram.T
    return (terms,)


def hessian_blocks(chunk, W, b, head, groups=1):
    """Σ_i (C_i)_jj x̃_i x̃_iᵀ over a chunk for each column j of W: (K, d + 1, d + 1).

    The diagonal blocks of :func:`hessian_terms`: each output's own curvature, the
    softmax's coupling of classes left out.
    """
    blocks = np.zeros((W.shape[1], W.shape[0] + 1, W.shape[0] + 1))
    for X_block, first, C in _curvature_columns(chunk, W, b, head, groups):
        for g in range(groups):
            blocks[first * groups + g] += _weighted_gram(X_block, C[g, :, first], upper=True)
    # Summed as upper triangles and mirrored once, not once per row block: on
    # hundreds of features the mirror costs a sizeable part of the syrk itself.
    rows, columns = np.triu_indices(blocks.shape[1], 1)
    blocks[:, columns, rows] = blocks[:, rows, columns]
    return (blocks,)


def _weighted_gram(X, weights, upper=False):
    """[[Xᵀ D X, Xᵀ w], [wᵀ X, Σ w]] with D = diag(w): x̃ = [x, 1]'s weighted Gram matrix.

    Dense X under non-negative weights (sigmoid units, softmax's own-class terms) as
    RᵀR with R = √w ⊙ X, by BLAS's syrk: half the multiply-adds, 1.25-1.5× faster
    than Xᵀ(w ⊙ X) on blocks of 29-101 features. With ``upper``, only the upper
    triangle is exact (syrk's lower one stays zero), for a caller that sums many.
    """
    d = X.shape[1]
    gram = np.empty((d + 1, d + 1))
    if sparse.issparse(X):
        weighted = X.multiply(weights[:, None]).tocsr()
        gram[:d, :d] = sparse.csr_matrix(X.T @ weighted).toarray()
        gram[:d, d] = np.ravel(weighted.sum(axis=0))
    elif weights.min(initial=0.0) >= 0:
        roots = np.sqrt(weights)
        R = X * roots[:, None]
        upper_part = dsyrk(1.0, R.T, trans=0, lower=0)  # R.T is Fortran-ordered: no copy
        gram[:d, :d] = upper_part if upper else upper_part + np.triu(upper_part, 1).T
        gram[:d, d] = R.T @ roots
    else:
        weighted = X * weights[:, None]
        gram[:d, :d] = X.T @ weighted
        gram[:d, d] = column_sums(weighted)
    gram[d, :d] = gram[:d, d]
    gram[d, d] = weights.sum()
    return gram


def chunk_variance_terms(chunk, mean):
    """:func:`variance_terms` of a chunk's rows."""
    return variance_terms(chunk.X, chunk.sample_weight, mean)


def chunk_covariance_terms(chunk, mean, step):
    """:func:`covariance_terms` of a chunk's rows on the grid of every ``step``-th row."""
    return covariance_terms(
        chunk.X, chunk.sample_weight, mean, step, first=-chunk.first_row % step
    )
