"""Pure objective functions: value and gradient of J(θ) on a flat parameter vector.

Every model here minimises the same convention (DESIGN.md §2). With per-sample
weights s_i (sample_weight × class_weight), S = Σ s_i, a per-sample loss ℓ_i and the
penalised weight matrices W (intercepts are never penalised)::

    J(θ) = ( Σ_i s_i · ℓ_i(θ)  +  (λ/2) · ‖W‖² ) / S

Dividing by S, never by the row count, makes an integer weight exactly equivalent
to repeating the row.

The loss ℓ_i is a *head* applied to the output logits z_i of a model:

``"sigmoid"``
    one independent sigmoid unit per column, summed binary cross-entropy
    ℓ_i = Σ_k [log(1 + e^{z_ik}) − y_ik z_ik]  (logistic regression, one-vs-rest,
    the course network's output layer);
``"softmax"``
    multinomial cross-entropy ℓ_i = logsumexp(z_i) − Σ_k y_ik z_ik.

Both are computed from the logits (softplus through exp(−|z|), log-sum-exp after
subtracting the row maximum), never from probabilities, so that no value of z
overflows or produces ``log(0)``.

Nothing here knows about estimators or scipy: an objective is built from data and
exposes ``value_and_grad(theta)``, plus ``unpack`` to turn θ into the model's arrays.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.linalg import LinAlgError, cholesky, solve_triangular

__all__ = [
    "ACTIVATIONS",
    "HEADS",
    "CentredAffine",
    "ClassRowSums",
    "LinearObjective",
    "TwoLayerObjective",
    "block_curvatures",
    "class_totals",
    "column_sums",
    "hessp_data_terms",
    "linear_data_terms",
    "products_with_rows",
    "scan_rows",
    "sigmoid_head",
    "softmax_head",
]


def sigmoid_head(Z, Y, sample_weight):
    """Summed binary cross-entropy of independent sigmoid outputs.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        Logits.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets in {0, 1}.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights s_i.

    Returns
    -------
    loss : float
        Σ_i s_i Σ_k ℓ_ik, accumulated in float64.
    dZ : ndarray of shape (n_samples, n_outputs)
        ∂loss/∂Z = s_i (σ(z_ik) − y_ik), in the dtype of ``Z``.
    """
    # With e = exp(−|z|) and m = ½ − y (the targets in Z's dtype once):
    #   ℓ = log1p(e) + ½|z| + m z,  softplus without overflow (max(z, 0) = ½(|z| + z)),
    #   σ(z) − y = sign(z)·(1/(1 + e) − ½) + m,
    # so one exponential serves both. Per 2 MB row block, numpy's maximum, reciprocal
    # and uint8-float arithmetic cost 2-4x an add or a divide, hence none of them.
    half_minus_y = np.subtract(0.5, Y, dtype=Z.dtype)
    magnitude = np.abs(Z)
    e = np.negative(magnitude)
    np.exp(e, out=e)
    terms = np.log1p(e)
    magnitude *= 0.5
    terms += magnitude
    terms += np.multiply(half_minus_y, Z, out=magnitude)
    loss = _weighted_total(sample_weight, _row_sums(terms))
    dZ = e
    dZ += 1
    np.divide(1, dZ, out=dZ)
    dZ -= 0.5
    np.copysign(dZ, Z, out=dZ)
    dZ += half_minus_y
    dZ *= sample_weight[:, None]
    return loss, dZ


def softmax_head(Z, Y, sample_weight):
    """Multinomial cross-entropy of a softmax output.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_classes)
        Logits.
    Y : ndarray of shape (n_samples, n_classes)
        One-hot targets.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights s_i.

    Returns
    -------
    loss : float
        Σ_i s_i (logsumexp(z_i) − z_i·y_i), accumulated in float64.
    dZ : ndarray of shape (n_samples, n_classes)
        ∂loss/∂Z = s_i (softmax(z_i) − y_i), in the dtype of ``Z``.
    """
    # Targets in Z's dtype once: uint8-float arithmetic has no SIMD loop, and the
    # row sums of Y ⊙ Z by BLAS cost a sixth of an einsum over rows.
    Y = Y.astype(Z.dtype, copy=False)
    P, log_norm = _softmax_and_log_norm(Z)
    log_norm -= _row_sums(Y * Z)
    loss = _weighted_total(sample_weight, log_norm)
    P -= Y
    P *= sample_weight[:, None]
    return loss, P


def _weighted_total(sample_weight, per_sample):
    """Σ_i s_i ℓ_i in float64, from terms in the data's dtype.

    Per-sample terms stay in Z's dtype, their weighted total is float64: in float32 a
    J summed in float32 is too coarse for the line searches near the optimum. Both
    vectors are cast (numpy would cast the weights anyway, more slowly, for a mixed
    product); in float64 neither is copied.
    """
    return float(
        sample_weight.astype(np.float64, copy=False) @ per_sample.astype(np.float64, copy=False)
    )


def _exp_minus_abs(Z):
    """exp(−|Z|) in (0, 1], never overflowing."""
    e = np.abs(Z)
    np.negative(e, out=e)
    return np.exp(e, out=e)


#: Widest range of logits for which one shift serves every row: exp(−span) is still
#: a normal number, so no row's largest term underflows.
_SAFE_SPAN = {np.dtype(np.float64): 700.0, np.dtype(np.float32): 80.0}


def _row_sums(A):
    """Return Σ_k A_ik per row, as a BLAS matrix-vector product (a view for one column).

    On rows of ~10 entries numpy's ``sum(axis=1)`` is ~5x slower; on one column the
    product itself costs 10 µs per row block, 6 % of a binary evaluation.
    """
    if A.shape[1] == 1:
        return A[:, 0]
    return A @ np.ones(A.shape[1], dtype=A.dtype)


#: Ones for the column sums of up to 65 536 rows, made once (512 kB): making them
#: for every row block cost more than the product itself (1.7 of 3 µs on 2 621 rows).
_ONES = np.ones(2**16)
_ONES.flags.writeable = False


def column_sums(A):
    """Return Σ_i A_i in float64.

    float64 columns go through a BLAS matrix-vector product: numpy's ``sum(axis=0)``
    costs up to twice as much on blocks of a few thousand rows, 1.5x on C-ordered
    rows of 10-25 entries. float32 columns are summed by numpy in float64: the product
    would first cast the whole block to float64, at 2.5x the cost of the sum.
    """
    if A.dtype != np.float64:
        return A.sum(axis=0, dtype=np.float64)
    n_rows = A.shape[0]
    ones = _ONES[:n_rows] if n_rows <= _ONES.size else np.ones(n_rows)
    return ones @ A


def _softmax_and_log_norm(Z):
    """Row-wise softmax P and log Σ_k exp(z_k), from one exponential of Z − shift.

    The shift is max(Z) for all rows when the logits span less than ``_SAFE_SPAN``
    (as exact as the row maxima, and the row-wise max is numpy's slowest step here:
    a third of the head's time on 100 000 × 10), else each row's maximum.
    """
    top = Z.max()
    if top - Z.min() < _SAFE_SPAN[Z.dtype]:
        shift = top
        P = Z - shift
    else:
        shift = Z.max(axis=1)
        P = Z - shift[:, None]
    np.exp(P, out=P)
    sums = _row_sums(P)
    P /= sums[:, None]
    return P, np.log(sums) + shift


def sigmoid_curvature(Z, sample_weight):
    """Return ``dZ ↦ H dZ``, the head's Hessian in Z: s_i σ(z)(1 − σ(z)) ⊙ dZ.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        Logits at which the curvature is taken.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights s_i.

    Returns
    -------
    apply : callable
        Maps an (n_samples, n_outputs) direction to its image, elementwise and in
        place: the direction is overwritten (callers pass a fresh array).
    """
    # σ(z)(1 − σ(z)) = e/(1 + e)² with e = exp(−|z|): no cancellation, no overflow.
    weights = _exp_minus_abs(Z)
    denominator = weights + 1
    denominator *= denominator
    weights /= denominator
    weights *= sample_weight[:, None]
    return lambda dZ: np.multiply(dZ, weights, out=dZ)


def softmax_curvature(Z, sample_weight):
    """Return ``dZ ↦ H dZ``: per sample s_i (diag(p_i) − p_i p_iᵀ) dz_i.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_classes)
        Logits at which the curvature is taken.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights s_i.

    Returns
    -------
    apply : callable
        Maps an (n_samples, n_classes) direction to its image, in place: the
        direction is overwritten (callers pass a fresh array).
    """
    P, _ = _softmax_and_log_norm(Z)

    def apply(dZ):
        dZ *= P
        dZ -= P * _row_sums(dZ)[:, None]
        dZ *= sample_weight[:, None]
        return dZ

    return apply


def weight_exponent(largest_weight):
    """Return e with largest_weight / 2**e in (0.5, 1], the power of two for the weights.

    A largest weight that is a power of two keeps its scale: unit weights stay 1.
    """
    mantissa, exponent = np.frexp(float(largest_weight))
    return int(exponent) - int(mantissa == 0.5)


def scale_weights(sample_weight, exponent, dtype):
    """Return s / 2**exponent in ``dtype``; s itself when that changes nothing.

    Scaled in float64 and written in ``dtype`` in one pass, without a float64
    temporary; exact, a power of two only shifts exponents. Unit weights in X's
    dtype (``fit`` makes them so without ``sample_weight``) are not copied: a copy
    would be the largest array a linear fit allocates.
    """
    sample_weight = np.asarray(sample_weight)
    if exponent == 0 and sample_weight.dtype == dtype:
        return sample_weight
    sample_weight = sample_weight.astype(np.float64, copy=False)
    scaled = np.empty(sample_weight.shape, dtype=dtype)
    return np.ldexp(sample_weight, -exponent, out=scaled, casting="same_kind")


def scaled_weights(sample_weight, reg_lambda, dtype):
    """Return s, S = Σ s and λ, all divided by the power of two at or above max(s).

    J = (Σ s ℓ + λ/2 ‖W‖²) / S is unchanged -- exactly, a power of two only shifts
    exponents -- but with every s ≤ 1 no product of the weights with the data can
    overflow, however large the weights a user passes (even beyond float32's range:
    they are scaled in float64, then cast to ``dtype``).
    """
    sample_weight = np.asarray(sample_weight)
    exponent = weight_exponent(sample_weight.max())
    scaled = scale_weights(sample_weight, exponent, dtype)
    weight_sum = float(np.sum(scaled, dtype=np.float64))
    return scaled, weight_sum, float(np.ldexp(float(reg_lambda), -exponent))


class Head(NamedTuple):
    """An output loss: its value and gradient in Z, and its curvature in Z.

    ``curvature_at_zero(k)`` is the curvature per logit at Z = 0 (all outputs
    undecided), where every fit of a linear model starts.
    """

    loss_and_grad: Callable
    curvature: Callable
    curvature_at_zero: Callable


def _sigmoid_curvature_at_zero(n_outputs):
    return 0.25  # σ(0)(1 − σ(0))


def _softmax_curvature_at_zero(n_outputs):
    return 1.0 / n_outputs  # p = 1/k: diag(p) − ppᵀ has eigenvalue 1/k (and 0 along 1)


HEADS = {
    "sigmoid": Head(sigmoid_head, sigmoid_curvature, _sigmoid_curvature_at_zero),
    "softmax": Head(softmax_head, softmax_curvature, _softmax_curvature_at_zero),
}


#: Bytes of X per row block: small enough that a block read by one operation is
#: still in cache for the next, so a sequence of them reads X from memory once.
BLOCK_BYTES = 2**21


def row_slices(n_rows, n_features, itemsize, block_bytes=BLOCK_BYTES):
    """Slices of consecutive rows holding about ``block_bytes`` of a dense array."""
    rows = max(256, block_bytes // max(1, n_features * itemsize))
    return [slice(start, start + rows) for start in range(0, n_rows, rows)]


def largest_magnitude(X):
    """Return max |x| over X (NaN if X holds one), reading dense X from memory once.

    Each row block serves both its max and its min while it is in cache; no |X|
    temporary the size of X is made.
    """
    return scan_rows(X)[0]


class ClassRowSums(NamedTuple):
    """Weighted sums of the rows of X per class, from ``fit``'s one pass over X.

    ``per_class[:, j]`` is Σ s_i x_i over the samples of class j and ``totals[j]`` is
    Σ s_i over them, the weights scaled as the objectives scale them
    (:func:`scaled_weights`). They give the objectives the mean row μ without a
    pass of their own, and J and ∇J at W = 0 without any (see
    :meth:`LinearObjective.value_and_grad`).
    """

    per_class: np.ndarray
    totals: np.ndarray

    @property
    def mean(self):
        """μ = Σ_i s_i x_i / Σ_i s_i, float64."""
        return self.per_class.sum(axis=1) / self.totals.sum()


def scan_rows(X, sample_weight=None, codes=None, n_classes=None):
    """Return max |x| over X (NaN if X holds one) and, given weights, its class sums.

    One read of dense X from memory: each row block serves its max, its min and its
    weighted sums while it is in cache, so that ``fit`` checks the features and
    finds what the objectives need from all rows (:class:`ClassRowSums`) in a single
    pass. ``codes`` (each sample's class) and ``n_classes`` split the sums by class;
    they come with the weights. Weights are scaled and cast as the objectives scale
    them: X is never cast, nothing overflows. The sums are float64 (None without
    weights).
    """
    weighted = sample_weight is not None
    if weighted:
        sample_weight = np.asarray(sample_weight)
        sample_weight = scale_weights(sample_weight, weight_exponent(sample_weight.max()), X.dtype)
        totals = class_totals(codes, sample_weight, n_classes)
        per_class = np.zeros((X.shape[1], n_classes))
    if sparse.issparse(X):
        data = X.data
        largest = max(float(data.max()), -float(data.min())) if data.size else 0.0
        if weighted:
            # The weights as a sparse (n, n_classes) matrix: no dense one n·k long.
            by_class = sparse.csr_matrix(
                (sample_weight, codes, np.arange(codes.size + 1)), shape=(codes.size, n_classes)
            )
            with np.errstate(over="ignore", invalid="ignore"):
                per_class += (by_class.T @ X).T.toarray()
    elif X.size == 0:
        largest = 0.0
    elif X.ndim == 1:
        largest = max(float(X.max()), -float(X.min()))
    else:
        extremes = []
        # Features too large for training overflow the sums; ``fit`` refuses them
        # by ``largest`` (``_check_magnitude``), so their sums are never used.
        with np.errstate(over="ignore", invalid="ignore"):
            for rows in row_slices(*X.shape, X.itemsize):
                block = X[rows]
                extremes += [block.max(), -block.min()]
                if weighted:
                    per_class += _block_class_sums(
                        block, sample_weight[rows], codes[rows], n_classes
                    )
        # np.max, not max(): a NaN anywhere must come out, whatever its position.
        largest = float(np.max(extremes))
    return largest, ClassRowSums(per_class, totals) if weighted else None


def class_totals(codes, weights, n_classes):
    """Σ of the weights per class; np.bincount in blocks of 8 192 rows.

    bincount casts the codes to intp and the weights to float64: on all rows at once
    that is 8 bytes per row twice, the largest temporaries of a linear fit (the codes
    themselves take 1); per block, 128 kB.
    """
    totals = np.zeros(n_classes)
    for start in range(0, codes.size, 2**13):
        rows = slice(start, start + 2**13)
        totals += np.bincount(codes[rows], weights=weights[rows], minlength=n_classes)
    return totals


def _block_class_sums(block, sample_weight, codes, n_classes):
    """Σ s_i x_i per class over a row block, shape (n_features, n_classes).

    Up to two classes, one vector product each: a matrix product with two columns
    costs about four of them.
    """
    if n_classes <= 2:
        return np.column_stack([(sample_weight * (codes == j)) @ block for j in range(n_classes)])
    return block.T @ _weights_by_class(sample_weight, codes, n_classes)


def _weights_by_class(sample_weight, codes, n_classes):
    """The (n, n_classes) matrix with s_i in column codes_i, zeros elsewhere."""
    weights = np.zeros((codes.size, n_classes), dtype=sample_weight.dtype)
    weights[np.arange(codes.size), codes] = sample_weight
    return weights


def row_blocks(X):
    """Slices of rows of X to process together; one for sparse X (slicing CSR copies)."""
    if sparse.issparse(X):
        return [slice(0, X.shape[0])]
    return row_slices(*X.shape, X.itemsize)


def rows_of(X, block):
    """The rows of X in ``block`` (X itself when the block is all of it)."""
    if block.start == 0 and block.stop >= X.shape[0]:
        return X
    return X[block]


class CentredAffine:
    """The first affine layer ``X W + b``, with its intercepts taken at the data mean.

    The optimizer sees ``c = b + μᵀW`` instead of ``b``, μ being the weighted mean
    of the rows of X. This is an exact change of variables (the same J, X itself
    untouched), but with uncentred features the gradient no longer couples W and b
    through μ, which is what makes gradient methods crawl: on features centred at
    100, CG needs 15 000 iterations in (W, b) and a few dozen in (W, c).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, float32 or float64; products run in its dtype.
    sample_weight : ndarray of shape (n_samples,)
        Weights defining the mean μ.
    mean : ndarray of shape (n_features,), default=None
        μ, when the caller has it already (``fit`` finds it in the pass that checks
        X, see :func:`scan_rows`); else computed here, one more pass over X.
    """

    def __init__(self, X, sample_weight, mean=None):
        self.X = X
        if mean is None:
            mean = np.ravel(X.T @ sample_weight).astype(np.float64)
            mean /= float(np.sum(sample_weight, dtype=np.float64))
        self.mean = mean

    def row_blocks(self):
        """Slices of rows to process together; one for sparse X (slicing CSR copies)."""
        return row_blocks(self.X)

    def rows(self, block):
        """The rows of X in ``block`` (X itself when the block is all of it)."""
        return rows_of(self.X, block)

    def intercepts(self, W, c):
        """Return the model's intercepts b = c − μᵀW."""
        return c - self.mean @ W

    def shifted(self, W, b):
        """Return the optimizer's intercepts c = b + μᵀW."""
        return b + self.mean @ W

    def forward(self, W, c, X=None):
        """Return ``X W + b`` in X's dtype (the training X when ``X`` is None).

        Laid out output by output, as :func:`products_by_output`; dense X is
        multiplied row block by row block into one output, which on a tall X and a
        few dozen columns OpenBLAS runs ~5 % faster than one call.
        """
        X = self.X if X is None else X
        b = self.intercepts(W, c).astype(X.dtype, copy=False)
        W = W.astype(X.dtype, copy=False)
        if sparse.issparse(X):
            out = products_by_output(X, W)
            out += b
            return out
        out = np.empty((W.shape[1], X.shape[0]), dtype=X.dtype)
        for block in row_blocks(X):
            np.matmul(W.T, X[block].T, out=out[:, block])
            out[:, block] += b[:, None]
        return out.T

    def backward(self, delta, grad_W, grad_c):
        """Write ∂/∂W and ∂/∂c of Σ delta ⊙ (X W + b) into the given arrays."""
        self.backward_by_blocks(lambda block: delta[block], grad_W, grad_c)

    def backward_by_blocks(self, delta_of, grad_W, grad_c):
        """As :meth:`backward`, with delta made block by block by ``delta_of(block)``.

        Each block of delta meets its rows of X while they are in cache, and the
        whole delta never needs to exist.
        """
        total = None
        grad_c[:] = 0
        for block in self.row_blocks():
            delta = delta_of(block)
            grad_c += column_sums(delta)
            product = products_with_rows(self.rows(block), delta)
            # Summed in the products' own layout: no strided copy per block.
            total = product if total is None else np.add(total, product, out=total)
        # ∂(XW + b)/∂W = X − 1μᵀ: the centring is a rank-one term, X is not copied.
        grad_W[:] = total
        grad_W -= np.outer(self.mean, grad_c)


class Whitening:
    """The change of variables θ = T u under which a linear model's J starts round.

    In the optimizer's coordinates u = [U, u_c] the model's weights and centred
    intercepts are W = L⁻ᵀ U and c = u_c / √a, with L Lᵀ = A ≈ a·Σ + δI, Σ the
    weighted covariance of the features, a the head's curvature per logit at θ = 0
    (¼ for sigmoid units, 1/K for softmax) and δ the penalty's curvature λ/S. That A
    is the Hessian of J at the start (up to the softmax's coupling of classes), so in
    u the solver meets J with curvature ≈ I: correlated or unevenly scaled features
    no longer stretch its level sets. lbfgs needs half the passes over X on the
    benchmark's binary problem (16 → 8) and 2-26x fewer on features scaled from 0.1
    to 10 (tests/test_whitening.py). J and its minimiser are unchanged; ``minimize``
    keeps reporting θ and tests ∇J in θ, so ``tol`` keeps its meaning.

    Parameters
    ----------
    factor : ndarray of shape (n_features, n_features)
        Lower-triangular Cholesky factor L of A.
    n_outputs : int
        Columns k of W.
    curvature : float
        a, the curvature of the intercepts.
    """

    def __init__(self, factor, n_outputs, curvature):
        self.factor = factor
        self.n_outputs = n_outputs
        self.intercept_scale = float(np.sqrt(curvature))

    def _split(self, vector):
        d, k = self.factor.shape[0], self.n_outputs
        return vector[: d * k].reshape(d, k), vector[d * k :]

    def _join(self, W, c):
        return np.concatenate([W.ravel(), c])

    def to_theta(self, u):
        """Return θ = T u (also T v for a direction v: T is linear)."""
        U, u_c = self._split(u)
        # No finiteness check: a solver's non-finite trial direction (trust-krylov's
        # on extreme problems) must reach the Hessian product, whose guard ends the run.
        W = solve_triangular(self.factor, U, lower=True, trans="T", check_finite=False)
        return self._join(W, u_c / self.intercept_scale)

    def from_theta(self, theta):
        """Return u = T⁻¹ θ, the coordinates of a starting point."""
        W, c = self._split(theta)
        return self._join(self.factor.T @ W, c * self.intercept_scale)

    def gradient_in_u(self, grad):
        """Return Tᵀ g: a gradient (or H T v) in θ turned into one in u."""
        grad_W, grad_c = self._split(grad)
        return self._join(
            solve_triangular(self.factor, grad_W, lower=True, check_finite=False),
            grad_c / self.intercept_scale,
        )

    @classmethod
    def from_covariance(cls, covariance, curvature, penalty_curvature, n_outputs):
        """Return the whitening for A = a·Σ + ρ·diag(a·Σ) + δI, or None if A is not positive.

        δ = λ/S is the penalty's curvature and ρ = ``_SHRINKAGE``. The shrinkage
        towards the diagonal (constant features: towards the average variance) keeps
        the curvature in u of directions the data never moves (collinear features,
        fewer rows than features: only the penalty acts there) below that of the
        directions the solver explores. At ρ = 0 it is 1 there and falls far below 1
        elsewhere as the fit saturates: lbfgs, whose step is scaled to the explored
        curvature, then amplifies rounding in those directions ~10x per iteration,
        and a weighted fit and its repeated-rows twin ended 1e-5 apart. The scales
        of the features are still removed in full. None where Σ overflowed
        (features near the limit of the float range): the solver then works in θ.
        """
        A = curvature * covariance
        d = A.shape[0]
        variances = np.diag(A).copy()
        # Features without variance (constant columns) shrink towards the average.
        variances[variances <= 1e-12 * variances.max(initial=0.0)] = np.mean(variances)
        A.flat[:: d + 1] += penalty_curvature + _SHRINKAGE * variances
        try:
            factor = cholesky(A, lower=True)
        except (LinAlgError, ValueError):
            return None
        if not np.all(np.isfinite(factor)) or not np.all(np.diag(factor) > 0):
            return None
        return cls(factor, n_outputs, curvature)


#: Rows of X whose covariance defines the whitening, per feature: 50·d rows estimate
#: Σ's eigenvalues within ~±30 %, plenty for a preconditioner, at a fraction of a pass.
_WHITENING_ROWS_PER_FEATURE = 50
#: Largest cost of the covariance, in multiply-adds per multiply-add of one product
#: X·W: a BLAS-3 product runs ~20x faster per operation than the memory-bound X·W.
_WHITENING_BUDGET = 10
#: Below this many multiply-adds the covariance costs nothing worth weighing.
_WHITENING_FREE = 10**7
#: ρ, shrinkage of the whitened covariance towards its diagonal. At 0.3 weighted and
#: repeated-rows fits agree as without whitening (1e-9 to 1e-14), and so do dense and
#: CSR, float32 and float64 fits (at 0.1 they drifted 1e-7 apart); the benchmark's
#: fits take the passes they take at ρ = 0 (binary 8, softmax 14, one-vs-rest 15).
#: The price: more correlation is left in. lbfgs on raw breast-cancer features took
#: 106, 171 and 240 passes at ρ = 0.1, 0.3 and 1 (158 without whitening).
_SHRINKAGE = 0.3


def whitening_step(n_samples, n_features, n_outputs):
    """Return the row step of the covariance's rows, or None if whitening does not pay.

    All rows while that costs next to nothing (so that a weight and a repeated row
    give one covariance, as scikit-learn's checks require), else every ``step``-th
    row, at most 50·d of them. The covariance and its Cholesky factor must cost less
    than ``_WHITENING_BUDGET`` products X·W: so never for thousands of features (a
    sparse text matrix, say).
    """
    if (n_samples + n_features) * n_features**2 <= _WHITENING_FREE:
        return 1
    rows = min(n_samples, _WHITENING_ROWS_PER_FEATURE * n_features)
    cost = (rows + n_features) * n_features**2
    if cost > _WHITENING_BUDGET * n_samples * n_features * n_outputs:
        return None
    return -(-n_samples // rows)


def covariance_terms(X, sample_weight, mean, step, first=0):
    """Σ s_i (x_i − μ)(x_i − μ)ᵀ and Σ s_i over the rows first, first + step, ... of X.

    Taking every ``step``-th row samples X evenly whatever its order (sorted by
    class, say); a Dask chunk passes the ``first`` of its rows on the global grid.
    Dense rows are centred block by block (no cancellation, no copy larger than a
    block); sparse rows, few and small, as Σ s x xᵀ − a μᵀ − μ aᵀ + (Σ s) μ μᵀ in
    float64, a = Σ s x, which keeps them sparse.
    """
    rows, weights = X[first::step], sample_weight[first::step]
    weight_sum = float(np.sum(weights, dtype=np.float64))
    if sparse.issparse(X):
        rows = sparse.csr_matrix(rows, dtype=np.float64)
        weighted_sum = rows.T @ weights
        terms = (rows.T @ sparse.diags(weights.astype(np.float64)) @ rows).toarray()
        terms -= np.outer(weighted_sum, mean) + np.outer(mean, weighted_sum)
        terms += weight_sum * np.outer(mean, mean)
        return terms, weight_sum
    terms = np.zeros((X.shape[1], X.shape[1]))
    # Small blocks: each is a centred copy, and the fit's peak memory should not grow
    # by one of X's cache-sized row blocks for it (2 MB at 200 000 x 100).
    for block in row_slices(*rows.shape, rows.itemsize, BLOCK_BYTES // 8):
        centred = rows[block] - mean.astype(X.dtype)
        centred *= np.sqrt(weights[block])[:, None]
        terms += centred.T @ centred
    return terms, weight_sum


def products_by_output(X, W):
    """Return X W, shape (n, k), laid out output by output (Fortran order).

    Computed as (Wᵀ Xᵀ)ᵀ, which OpenBLAS runs 10-20 % faster than X W for 10-25
    outputs; and the heads' per-sample steps (weights, softmax normalisers, sums over
    the k outputs) then run along contiguous memory instead of over rows of k numbers.
    Softmax and one-vs-rest evaluations cost ~10 % less so. Targets are stored the
    same way (:class:`LinearObjective`), so that elementwise steps mix no layouts.
    """
    return np.asarray(W.T @ X.T).T


def products_with_rows(X, delta):
    """Return Xᵀ delta, shape (n_features, n_columns).

    Dense float64 X is multiplied as (deltaᵀ X)ᵀ: when X comes from memory (the
    network reads it a second time, after its forward pass over all rows; a Dask
    chunk), OpenBLAS's dgemm runs that ~15 % faster for 25-50 columns. Its sgemm
    runs it ~3 % slower, so float32 and sparse X are multiplied as they are.
    """
    if X.dtype == np.float64 and not sparse.issparse(X):
        return (delta.T @ X).T
    return X.T @ delta


def linear_data_terms(X, Y, sample_weight, W, b, head, curvatures=None):
    """Data terms of a linear model on some rows, at its model parameters (W, b).

    The part of J that is a sum over samples, and its gradient in the *uncentred*
    parameters, on the rows given: :class:`LinearObjective` adds these up over row
    blocks in memory, the Dask objective over the chunks of a Dask array.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_rows, n_features)
        Rows of the data.
    Y : ndarray of shape (n_rows, n_outputs)
        Their target indicator rows.
    sample_weight : ndarray of shape (n_rows,)
        Their weights s_i, in X's dtype.
    W : ndarray of shape (n_features, n_outputs)
        Weights, in X's dtype.
    b : ndarray of shape (n_outputs,)
        Model intercepts (not the centred ones), in X's dtype.
    head : Head
        Output loss, a value of :data:`HEADS`.
    curvatures : list, default=None
        If given, the head's curvature at these rows' logits is appended to it
        (for Hessian products at the same θ, without computing the logits again).

    Returns
    -------
    loss : float
        Σ_i s_i ℓ_i over these rows.
    grad_W : ndarray of shape (n_features, n_outputs)
        Xᵀ G, with G = ∂(Σ s ℓ)/∂Z.
    grad_b : ndarray of shape (n_outputs,)
        Σ_i G_i, in float64.
    """
    Z = products_by_output(X, W)
    Z += b
    if curvatures is not None:
        curvatures.append(head.curvature(Z, sample_weight))
    loss, G = head.loss_and_grad(Z, Y, sample_weight)
    return loss, X.T @ G, column_sums(G)


def block_curvatures(X, sample_weight, W, b, head):
    """The head's curvature at the logits X W + b, one map ``dZ ↦ C dZ`` per row block."""
    curvatures = []
    for block in row_blocks(X):
        Z = products_by_output(rows_of(X, block), W)
        Z += b
        curvatures.append(head.curvature(Z, sample_weight[block]))
    return curvatures


def hessp_data_terms(X, curvatures, V, v_b):
    """Xᵀ U and Σ U with U = C (X V + v_b), row block by row block.

    Each block of X meets V and then U while it is in cache: a product reads X from
    memory once, like an evaluation.
    """
    grad_W, grad_b = np.zeros(V.shape), np.zeros(V.shape[1])
    for block, curvature in zip(row_blocks(X), curvatures, strict=True):
        X_block = rows_of(X, block)
        U = products_by_output(X_block, V)
        U += v_b
        U = curvature(U)
        grad_W += X_block.T @ U
        grad_b += column_sums(U)
    return grad_W, grad_b


class LinearObjective:
    """J of a linear model ``Z = X W + b`` under a sigmoid or softmax head.

    Shapes: X (n, d) dense or CSR, float32 or float64; Y (n, k); W (d, k); b (k,).
    θ = [W.ravel(), c] with c the intercepts at the data mean (see
    :class:`CentredAffine`); θ and the gradient are float64, the products with X
    run in X's dtype, so float32 data is never promoted or copied.

    With the sigmoid head and k columns this is k independent binary logistic
    regressions (one-vs-rest) whose J is the sum of the k binary J's; with k = 1 it
    is binary logistic regression. With the softmax head it is multinomial
    (softmax) regression.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data.
    Y : ndarray of shape (n_samples, n_outputs)
        Target indicator matrix (0/1 in any real dtype; ``fit`` passes uint8).
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights with a positive sum.
    reg_lambda : float
        λ ≥ 0, the L2 penalty on W.
    head : {"sigmoid", "softmax"}
        Output loss, see :data:`HEADS`.
    keep_curvature : bool, default=False
        Keep the head's curvature at the θ of the last evaluation (n·k numbers) for
        ``hessp`` at that θ. Second-order fits pass True: their products at θ then
        need no logits of their own. First-order fits save that memory.
    class_sums : ClassRowSums, default=None
        The weighted row sums of X per class (:func:`scan_rows`), for the classes
        whose indicator rows Y holds: one-hot, or with one column the second of two.
        They give μ without a pass over X, and J and ∇J at W = 0 (every fit's
        start) without any.
    """

    smooth = True

    def __init__(
        self, X, Y, sample_weight, reg_lambda, head, keep_curvature=False, class_sums=None
    ):
        self.Y = np.asfortranarray(Y)  # the logits' layout (products_by_output)
        self.sample_weight, self.weight_sum, self.reg_lambda = scaled_weights(
            sample_weight, reg_lambda, X.dtype
        )
        self.head = HEADS[head]
        self.layer = CentredAffine(
            X, self.sample_weight, None if class_sums is None else class_sums.mean
        )
        self._class_sums = class_sums
        self._class_targets = _class_targets(class_sums, Y.shape[1], keep_curvature)
        self.dtype = X.dtype
        self.n_features = X.shape[1]
        self.n_outputs = Y.shape[1]
        self.keep_curvature = keep_curvature
        self._curvature = (None, None)

    @property
    def n_params(self):
        """Length of θ."""
        return (self.n_features + 1) * self.n_outputs

    def unpack(self, theta):
        """Split θ into views ``W`` of shape (d, k) and ``c`` of shape (k,)."""
        d, k = self.n_features, self.n_outputs
        return theta[: d * k].reshape(d, k), theta[d * k :]

    def model_params(self, theta):
        """Return the model's ``(W, b)`` for θ."""
        W, c = self.unpack(theta)
        return W, self.layer.intercepts(W, c)

    def theta(self, W, b):
        """Return θ for the model with weights ``W`` (d, k) and intercepts ``b``."""
        return np.concatenate([np.ravel(W), self.layer.shifted(W, b)])

    def logits(self, theta, X=None):
        """Return Z = X W + b in X's dtype (the training X when ``X`` is None)."""
        return self.layer.forward(*self.unpack(theta), X)

    def value_and_grad(self, theta):
        """Return J(θ) and ∇J(θ), the gradient as a float64 vector like θ.

        Dense X is processed in row blocks: forward, head and backward of a block
        run while it is in cache, so X is read from memory once per evaluation and
        the logits exist only block by block.
        """
        W, c = self.unpack(theta)
        if self._class_targets is not None and not W.any():
            return self._value_and_grad_at_zero_weights(W, c)
        dtype = self.dtype
        W_x = W.astype(dtype, copy=False)
        b_x = self.layer.intercepts(W, c).astype(dtype, copy=False)
        grad_W, grad_b = np.zeros(W.shape), np.zeros(W.shape[1])
        loss = 0.0
        curvatures = None
        if self.keep_curvature:
            self._curvature = (None, None)  # freed before the new one is built
            curvatures = []
        for block in self.layer.row_blocks():
            block_loss, block_grad_W, block_grad_b = linear_data_terms(
                self.layer.rows(block),
                self.Y[block],
                self.sample_weight[block],
                W_x,
                b_x,
                self.head,
                curvatures,
            )
            loss += block_loss
            grad_W += block_grad_W
            grad_b += block_grad_b
        if curvatures is not None:
            self._curvature = (theta.tobytes(), curvatures)
        penalty = 0.5 * self.reg_lambda * float(W.ravel() @ W.ravel())
        return (loss + penalty) / self.weight_sum, self._in_centred_coordinates(W, grad_W, grad_b)

    def _value_and_grad_at_zero_weights(self, W, c):
        """J and ∇J at W = 0 from the class sums, without reading X.

        Every sample of class j then has the logits z = b = c and its class's targets
        y_j, so the head on one row per class, weighted by the class totals S_j, gives
        Σ s ℓ and Σ G, and Xᵀ G = Σ_j (Σ_{i∈j} s_i x_i)(G_j / S_j)ᵀ.
        """
        sums = self._class_sums
        totals = sums.totals.astype(self.dtype)
        logits = np.tile(c.astype(self.dtype), (totals.size, 1))
        loss, G = self.head.loss_and_grad(logits, self._class_targets, totals)
        grad_W = sums.per_class @ (G / totals[:, None])
        return loss / self.weight_sum, self._in_centred_coordinates(W, grad_W, column_sums(G))

    def hessp(self, theta, v):
        """Return H(θ)·v, the exact Hessian of J times a vector, in closed form.

        H·v = (Xᵀ C(X V_W + v_b) + λ V_W) / S in the centred coordinates, with C the
        head's curvature at θ (s·p(1−p) for sigmoid units, the multinomial
        s·(diag(p) − ppᵀ) for softmax). Cost: two products with X (X·V_W and Xᵀ·U,
        row block by row block, so X is read once), plus one (the logits) at a θ
        whose curvature was not kept by the evaluation there.
        """
        V_W, v_c = self.unpack(v)
        dtype = self.dtype
        grad_W, grad_b = hessp_data_terms(
            self.layer.X,
            self._curvature_at(theta),
            V_W.astype(dtype, copy=False),
            self.layer.intercepts(V_W, v_c).astype(dtype, copy=False),
        )
        return self._in_centred_coordinates(V_W, grad_W, grad_b)

    def _in_centred_coordinates(self, W, grad_W, grad_b):
        """Finish a gradient (or H·v) from the data terms' one in the model's (W, b).

        Returns the vector [∂/∂W, ∂/∂c] of (data terms + λ/2 ‖W‖²) / S: the centring
        is a rank-one term, ∂(XW + b)/∂W = X − 1μᵀ (X is not copied), and the
        penalty acts on W only. ``W`` is θ's W for a gradient, V_W for a product
        (the penalty's Hessian is λ I on W).
        """
        out = np.empty(self.n_params)
        out_W, out_c = self.unpack(out)
        out_c[:] = grad_b
        out_W[:] = grad_W - np.outer(self.layer.mean, grad_b)
        out_W += self.reg_lambda * W
        out /= self.weight_sum
        return out

    def whitening(self):
        """Return the :class:`Whitening` of this problem, or None where it does not pay."""
        n, d = self.layer.X.shape
        step = whitening_step(n, d, self.n_outputs)
        if step is None:
            return None
        return self._whitening_from(
            *covariance_terms(self.layer.X, self.sample_weight, self.layer.mean, step)
        )

    def _whitening_from(self, terms, weight_sum):
        """The :class:`Whitening` for the covariance sums of :func:`covariance_terms`."""
        return Whitening.from_covariance(
            terms / weight_sum,
            self.head.curvature_at_zero(self.n_outputs),
            self.reg_lambda / self.weight_sum,
            self.n_outputs,
        )

    def _curvature_at(self, theta):
        """Return the head's curvature at θ per row block, built once per θ.

        A Newton-CG inner loop calls ``hessp`` many times at one θ: the logits (one
        product with X) are computed once per θ, or not at all when the evaluation
        at θ kept its curvature (``keep_curvature``).
        """
        key = theta.tobytes()
        if self._curvature[0] != key:
            self._curvature = (None, None)  # freed before the new one is built
            W, b = self.model_params(theta)
            curvatures = block_curvatures(
                self.layer.X,
                self.sample_weight,
                W.astype(self.dtype, copy=False),
                b.astype(self.dtype, copy=False),
                self.head,
            )
            self._curvature = (key, curvatures)
        return self._curvature[1]


def _class_targets(class_sums, n_outputs, keep_curvature):
    """Each class's indicator row, for J at W = 0 from class sums; None to read X.

    Second-order fits read X all the same: their Hessian products at the start need
    the curvature that an evaluation over the rows leaves behind.
    """
    if class_sums is None or keep_curvature or not np.all(class_sums.totals > 0):
        return None
    n_classes = class_sums.totals.size
    if n_outputs == n_classes:
        return np.eye(n_classes, dtype=np.uint8)
    if n_outputs == 1 and n_classes == 2:
        return np.array([[0], [1]], dtype=np.uint8)  # binary: Y marks the second class
    return None


def _sigmoid_in_place(A):
    """σ(A) = 1/(1 + e^{−A}), in place.

    numpy's SIMD exp makes this ~4x faster than scipy's ``expit`` (a tenth of a
    network evaluation), to the last bit or two. Below −709 (−88 in float32) e^{−A}
    overflows to inf and σ = 0, where the true value is below the smallest normal
    number.
    """
    np.negative(A, out=A)
    with np.errstate(over="ignore"):
        np.exp(A, out=A)
    A += 1
    return np.divide(1, A, out=A)


#: Hidden-unit activations, applied in place to the pre-activations.
ACTIVATIONS = {
    "sigmoid": _sigmoid_in_place,
    "tanh": lambda A: np.tanh(A, out=A),
    "relu": lambda A: np.maximum(A, 0, out=A),
}


def _sigmoid_slope(A):
    """Return σ' = A(1 − A), with one temporary the size of A."""
    slope = 1 - A
    slope *= A
    return slope


def _tanh_slope(A):
    """Return tanh' = 1 − A², with one temporary the size of A."""
    slope = A * A
    return np.subtract(1, slope, out=slope)


#: ``(f', f'')`` of each activation, written through its output A = f(a).
DERIVATIVES = {
    "sigmoid": (_sigmoid_slope, lambda A: A * (1 - A) * (1 - 2 * A)),
    "tanh": (_tanh_slope, lambda A: -2 * A * (1 - A * A)),
    "relu": (lambda A: (A > 0).astype(A.dtype), lambda A: np.zeros_like(A)),
}


class TwoLayerObjective:
    """J of a network with one hidden layer: value, gradient and Hessian products.

    Forward pass, with f the hidden activation::

        A = f(X W1 + b1)        (n, H)
        Z = A W2 + b2           (n, k), logits of the sigmoid or softmax head

    J = (Σ_i s_i ℓ_i + (λ/2)(‖W1‖² + ‖W2‖²)) / S; biases are not penalised. With the
    sigmoid head this is the course network's cost exactly.

    Both layers take their intercepts at the mean of their input (the centring of
    Schraudolph, "Centering neural network gradient factors", 1998): θ holds
    c1 = b1 + μᵀW1 (μ the weighted mean row of X, see :class:`CentredAffine`) and
    c2 = b2 + āᵀW2 (ā = Σ_i s_i A_i / S, the weighted mean hidden activation at θ).
    The model is the same, but sigmoid units, whose outputs average ~0.5, no longer
    couple W2 and b2: on scikit-learn's sample-weight check data L-BFGS needs ~70
    instead of ~190 iterations, short enough that equivalent fits stay together.

    Backward pass (G = ∂(Σ s ℓ)/∂Z from the head, g = Σ_i G_i)::

        ∇c2 = g,                     ∇W2 = Aᵀ G − ā gᵀ + λ W2
        ∂/∂A = G W2ᵀ − (s/S) (g W2ᵀ)  (the second term through ā)
        Δ   = ∂/∂A ⊙ f'(X W1 + b1),  then ∇W1, ∇c1 as for a centred affine layer

    Hessian-vector products (``hessp``): ``hessian="exact"`` applies Pearlmutter's
    R-operator (the directional derivative of the backward pass, one extra forward
    and backward pass); ``hessian="gauss-newton"`` keeps only Jᵀ C J, with J the
    Jacobian of Z in θ and C the head's curvature, which is positive semi-definite
    (plus λ on the weights) and suits non-convex training.

    Cost in products with X: ``value_and_grad`` two (X W1, Xᵀ Δ); ``hessp`` two
    (X V1, Xᵀ R{Δ}), the forward pass at θ being reused from the last
    ``value_and_grad`` at θ.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data.
    Y : ndarray of shape (n_samples, n_outputs)
        Target indicator matrix (0/1 in any real dtype; ``fit`` passes uint8).
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights with a positive sum.
    reg_lambda : float
        λ ≥ 0, the L2 penalty on W1 and W2.
    head : {"sigmoid", "softmax"}
        Output loss, see :data:`HEADS`.
    activation : {"sigmoid", "tanh", "relu"}
        Hidden activation, see :data:`ACTIVATIONS`.
    n_hidden : int
        H, the number of hidden units.
    hessian : {"exact", "gauss-newton"}, default="exact"
        Which curvature ``hessp`` multiplies by.
    keep_forward : bool, default=True
        Keep the forward pass of the last θ (A, Z and G: n·(H + 2k) numbers) for
        ``hessp`` at θ. First-order fits pass False and save that memory.
    mean : ndarray of shape (n_features,), default=None
        The weighted mean row μ of X, if known (see :class:`CentredAffine`).
    """

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        reg_lambda,
        head,
        activation,
        n_hidden,
        hessian="exact",
        keep_forward=True,
        mean=None,
    ):
        # ReLU makes J piecewise smooth: its minima may lie on kinks.
        self.smooth = activation != "relu"
        # In X's dtype once: the head runs on all rows at once here (the hidden
        # means couple them), and would otherwise cast all of Y in every evaluation,
        # a temporary as large as this copy at the same moment of the pass.
        self.Y = Y.astype(X.dtype, copy=False)
        self.sample_weight, self.weight_sum, self.reg_lambda = scaled_weights(
            sample_weight, reg_lambda, X.dtype
        )
        self.head = HEADS[head]
        self.activation = ACTIVATIONS[activation]
        self.first_derivative, self.second_derivative = DERIVATIVES[activation]
        self.hessian = hessian
        self.keep_forward = keep_forward
        self.layer = CentredAffine(X, self.sample_weight, mean)
        self.dtype = X.dtype
        d, k = X.shape[1], Y.shape[1]
        self.shapes = [(d, n_hidden), (n_hidden,), (n_hidden, k), (k,)]
        self._bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in self.shapes])
        self._cache = (None, None)
        self._last_mean_hidden = (None, None)

    @property
    def n_params(self):
        """Length of θ."""
        return int(self._bounds[-1])

    def unpack(self, theta):
        """Split θ into views ``W1, c1, W2, c2``."""
        return [
            theta[start:stop].reshape(shape)
            for start, stop, shape in zip(
                self._bounds[:-1], self._bounds[1:], self.shapes, strict=True
            )
        ]

    def _hidden(self, W1, c1, X=None):
        A = self.layer.forward(W1, c1, X)
        self.activation(A)
        return A

    def _mean_hidden(self, A):
        """ā = Σ_i s_i A_i / S on the training rows, in float64."""
        return (self.sample_weight @ A).astype(np.float64) / self.weight_sum

    def _mean_hidden_at(self, theta):
        """ā at θ: kept from the last forward pass if it was at θ, else a new pass.

        The per-iteration monitor of early stopping and the end of a fit ask for
        the model at the iterate the solver has just evaluated; recomputing ā there
        would read X once more.
        """
        key, mean_hidden = self._last_mean_hidden
        if key == theta.tobytes():
            return mean_hidden
        W1, c1, _, _ = self.unpack(theta)
        return self._mean_hidden(self._hidden(W1, c1))

    def model_params(self, theta):
        """Return the model's ``[W1, b1, W2, b2]`` for θ."""
        W1, c1, W2, c2 = self.unpack(theta)
        mean_hidden = self._mean_hidden_at(theta)
        return [W1, self.layer.intercepts(W1, c1), W2, c2 - mean_hidden @ W2]

    def theta(self, W1, b1, W2, b2):
        """Return θ for the network with the given weights and biases."""
        c1 = self.layer.shifted(W1, b1)
        mean_hidden = self._mean_hidden(self._hidden(W1, c1))
        return np.concatenate([np.ravel(W1), c1, np.ravel(W2), b2 + mean_hidden @ W2])

    def logits(self, theta, X=None):
        """Return Z = f(X W1 + b1) W2 + b2 in X's dtype (training X when None)."""
        W1, b1, W2, b2 = self.model_params(theta)
        A = self._hidden(W1, self.layer.shifted(W1, b1), X)
        Z = A @ W2.astype(A.dtype, copy=False)
        Z += b2.astype(A.dtype, copy=False)
        return Z

    def _forward(self, theta):
        """Forward pass and head at θ on the training rows, kept for ``hessp`` at θ."""
        key = theta.tobytes()
        if self._cache[0] == key:
            return self._cache[1]
        # Released before the new pass allocates: the two states never coexist.
        self._cache = (None, None)
        W1, c1, W2, c2 = self.unpack(theta)
        A = self._hidden(W1, c1)
        mean_hidden = self._mean_hidden(A)
        self._last_mean_hidden = (key, mean_hidden)
        Z = A @ W2.astype(A.dtype, copy=False)
        Z += (c2 - mean_hidden @ W2).astype(A.dtype, copy=False)
        loss, G = self.head.loss_and_grad(Z, self.Y, self.sample_weight)
        state = _ForwardState(A, mean_hidden, Z, loss, G)
        if self.keep_forward:
            self._cache = (key, state)
        return state

    def _backward(self, state, W2, G, out):
        """Write the backward pass of Σ G ⊙ Z into ``out`` (no penalty)."""
        out_W1, out_c1, out_W2, out_c2 = self.unpack(out)
        out_c2[:] = column_sums(G)
        out_W2[:] = state.A.T @ G
        out_W2 -= np.outer(state.mean_hidden, out_c2)
        # Δ = ∂/∂A ⊙ f'(a) block by block: neither ∂/∂A nor Δ (n × H each) exists whole.
        centred = self._centred_output_gradient(G, out_c2)
        W2_t = W2.astype(G.dtype, copy=False).T

        def delta_of(block):
            delta = products_by_output(centred[block], W2_t)  # A's layout
            delta *= self.first_derivative(state.A[block])
            return delta

        self.layer.backward_by_blocks(delta_of, out_W1, out_c1)

    def _centred_output_gradient(self, G, G_sum):
        """G − s gᵀ/S: ∂/∂A of Σ G ⊙ ((A − 1ā) W2) is this times W2ᵀ (the term through ā).

        The rank-one term is subtracted from G (n × k) rather than from the product
        (n × H): fewer entries to touch whenever k < H.
        """
        centred = np.outer(self.sample_weight, (G_sum / self.weight_sum).astype(G.dtype))
        return np.subtract(G, centred, out=centred)

    def _through_output_layer(self, G, G_sum, W2):
        """∂/∂A of Σ G ⊙ ((A − 1ā) W2): (G − s gᵀ/S) W2ᵀ, the rank-one term through ā."""
        return self._centred_output_gradient(G, G_sum) @ W2.astype(G.dtype, copy=False).T

    def _add_penalty_gradient(self, theta, out):
        W1, _, W2, _ = self.unpack(theta)
        out_W1, _, out_W2, _ = self.unpack(out)
        out_W1 += self.reg_lambda * W1
        out_W2 += self.reg_lambda * W2

    def value_and_grad(self, theta):
        """Return J(θ) and ∇J(θ), the gradient as a float64 vector like θ."""
        state = self._forward(theta)
        W1, _, W2, _ = self.unpack(theta)
        grad = np.empty_like(theta)
        self._backward(state, W2, state.G, grad)
        self._add_penalty_gradient(theta, grad)
        grad /= self.weight_sum
        squared_weights = float(W1.ravel() @ W1.ravel() + W2.ravel() @ W2.ravel())
        return (state.loss + 0.5 * self.reg_lambda * squared_weights) / self.weight_sum, grad

    def whitening(self):
        """None: the first layer's curvature depends on the hidden units, not X alone."""
        return None

    def hessp(self, theta, v):
        """Return H(θ)·v (``hessian="exact"``) or the Gauss-Newton G(θ)·v.

        Both start from the directional derivative of the forward pass along v::

            R{a} = X V1 + (v_c1 − μ V1),   R{A} = f'(a) ⊙ R{a},   R{ā} = sᵀR{A} / S
            R{Z} = (R{A} − 1R{ā}) W2 + (A − 1ā) V2 + v_c2,       R{G} = C R{Z}

        Gauss-Newton backpropagates R{G} as a gradient. The exact product adds the
        terms of the R-operator that differentiate the backward pass itself: R{A}ᵀG
        in W2, G V2ᵀ in ∂/∂A, and (∂/∂A) ⊙ f''(a) ⊙ R{a} in Δ.
        """
        state = self._forward(theta)
        _, _, W2, _ = self.unpack(theta)
        V1, v_c1, V2, v_c2 = self.unpack(v)
        dtype = state.A.dtype
        first = self.first_derivative(state.A)

        R_pre = self.layer.forward(V1, v_c1)
        R_A = first * R_pre
        R_mean = self._mean_hidden(R_A)
        R_Z = R_A @ W2.astype(dtype, copy=False)
        R_Z += state.A @ V2.astype(dtype, copy=False)
        R_Z += (v_c2 - R_mean @ W2 - state.mean_hidden @ V2).astype(dtype)
        R_G = self.head.curvature(state.Z, self.sample_weight)(R_Z)

        out = np.empty_like(v)
        out_W1, out_c1, out_W2, out_c2 = self.unpack(out)
        if self.hessian == "gauss-newton":
            self._backward(state, W2, R_G, out)
        else:
            G_sum = column_sums(state.G)
            out_c2[:] = column_sums(R_G)
            out_W2[:] = state.A.T @ R_G + R_A.T @ state.G
            out_W2 -= np.outer(state.mean_hidden, out_c2) + np.outer(R_mean, G_sum)
            R_dA = self._through_output_layer(R_G, out_c2, W2)
            R_dA += self._through_output_layer(state.G, G_sum, V2)
            dA = self._through_output_layer(state.G, G_sum, W2)
            R_delta = R_dA * first
            R_delta += dA * self.second_derivative(state.A) * R_pre
            self.layer.backward(R_delta, out_W1, out_c1)
        self._add_penalty_gradient(v, out)
        out /= self.weight_sum
        return out


class _ForwardState(NamedTuple):
    """What the backward pass and the Hessian products need from the forward pass."""

    A: np.ndarray
    mean_hidden: np.ndarray
    Z: np.ndarray
    loss: float
    G: np.ndarray
