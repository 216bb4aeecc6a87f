"""Output heads: per-sample losses of the logits, their gradients and curvatures.

A head knows no X: it maps the logits Z of some rows (and their targets Y and
weights s) to Σ_i s_i ℓ_i, to ∂/∂Z and to the curvature ``dZ ↦ H dZ``.

``"sigmoid"``
    one independent sigmoid unit per column, summed binary cross-entropy
    ℓ_i = Σ_k [log(1 + e^{z_ik}) − y_ik z_ik]  (logistic regression, one-vs-rest,
    the course network's output layer);
``"softmax"``
    multinomial cross-entropy ℓ_i = logsumexp(z_i) − Σ_k y_ik z_ik.

Both are computed from the logits (softplus through exp(−|z|), log-sum-exp after a
shift by the maximum), never from probabilities, so that no value of z overflows
or produces ``log(0)``.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._docstring import fill_doc
from .kernels import row_sums

__all__ = [
    "HEADS",
    "Head",
    "class_codes",
    "sigmoid_curvature",
    "sigmoid_head",
    "softmax_curvature",
    "softmax_head",
]


def sigmoid_head(Z, Y, sample_weight):
    """Summed binary cross-entropy of independent sigmoid outputs (a :class:`Head`'s loss).

    Y holds targets in {0, 1}, one column per output. Returns Σ_i s_i Σ_k ℓ_ik,
    accumulated in float64, and ∂/∂Z = s_i (σ(z_ik) − y_ik) in the dtype of ``Z``.
    """
    # With e = exp(−|z|) and m = ½ − y (the targets in Z's dtype once):
    #   ℓ = log1p(e) + ½|z| + m z,  softplus without overflow (max(z, 0) = ½(|z| + z)),
    #   σ(z) − y = sign(z)·(1/(1 + e) − ½) + m,
    # so one exponential serves both. numpy's maximum, reciprocal and uint8-float
    # arithmetic cost several times an add or a divide, hence none of them.
    half_minus_y = np.subtract(0.5, Y, dtype=Z.dtype)
    magnitude = np.abs(Z)
    e = np.negative(magnitude)
    np.exp(e, out=e)
    terms = np.log1p(e)
    magnitude *= 0.5
    terms += magnitude
    terms += np.multiply(half_minus_y, Z, out=magnitude)
    loss = _weighted_total(sample_weight, row_sums(terms))
    dZ = e
    dZ += 1
    np.divide(1, dZ, out=dZ)
    dZ -= 0.5
    np.copysign(dZ, Z, out=dZ)
    dZ += half_minus_y
    dZ *= sample_weight[:, None]
    return loss, dZ


def class_codes(Y):
    """Each row's class (n,), from one-hot targets (n, k): the softmax head's fast form.

    The head then reads each row's target logit at one position, instead of passing
    over an indicator of all n × k logits (:func:`softmax_head`).
    Codes take the smallest unsigned integers that hold k classes, as the one-hot
    targets take uint8.
    """
    return np.argmax(Y, axis=1).astype(np.min_scalar_type(Y.shape[1] - 1))


def softmax_head(Z, Y, sample_weight):
    """Multinomial cross-entropy of a softmax output (a :class:`Head`'s loss).

    Y holds one-hot targets (n, k), or each row's class as integer codes (n,).
    Returns Σ_i s_i (logsumexp(z_i) − z_i·y_i), accumulated in float64, and
    ∂/∂Z = s_i (softmax(z_i) − y_i) in the dtype of ``Z``.
    """
    if Y.ndim == 1:
        return _softmax_head_of_codes(Z, Y, sample_weight)
    # Targets in Z's dtype once: uint8-float arithmetic has no SIMD loop, and the
    # row sums of Y ⊙ Z by BLAS cost far less than an einsum over rows.
    Y = Y.astype(Z.dtype, copy=False)
    P, log_norm = _softmax_and_log_norm(Z)
    log_norm -= row_sums(Y * Z)
    loss = _weighted_total(sample_weight, log_norm)
    P -= Y
    P *= sample_weight[:, None]
    return loss, P


def _softmax_head_of_codes(Z, codes, sample_weight):
    """:func:`softmax_head` of targets given as class codes.

    Each row's target logit is read, and its −s_i added, at one position of the
    row, where a one-hot Y costs four passes over all n × k logits (its cast, Y ⊙ Z,
    their row sums, G − Y). The loss stays a sum of per-row terms
    logsumexp(z_i) − z_iy ≥ 0, rounded row by row as with one-hot targets.
    """
    if not (Z.flags.f_contiguous or Z.flags.c_contiguous):
        Z = np.asfortranarray(Z)
    positions = _positions(Z, codes)
    shift = Z.max(axis=1)
    P = np.subtract(Z, shift[:, None], out=np.empty_like(Z))  # in Z's layout: positions hold
    np.exp(P, out=P)
    sums = row_sums(P)
    log_norm = np.log(sums)
    log_norm += shift
    log_norm -= np.ravel(Z, order="K")[positions]
    loss = _weighted_total(sample_weight, log_norm)
    P /= sums[:, None]
    P *= sample_weight[:, None]
    np.ravel(P, order="K")[positions] -= sample_weight
    return loss, P


def _positions(Z, codes):
    """Flat positions in Z's memory of the entries (i, codes[i]); Z contiguous."""
    n_rows, n_columns = Z.shape
    codes = codes.astype(np.intp, copy=False)
    if Z.flags.f_contiguous:
        return codes * n_rows + np.arange(n_rows)
    return np.arange(0, n_rows * n_columns, n_columns) + codes


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


def _softmax_and_log_norm(Z):
    """Row-wise softmax P and log Σ_k exp(z_k), from one exponential of Z − max(z)."""
    shift = Z.max(axis=1)
    P = Z - shift[:, None]
    np.exp(P, out=P)
    sums = row_sums(P)
    P /= sums[:, None]
    return P, np.log(sums) + shift


@fill_doc
def sigmoid_curvature(Z, sample_weight):
    """Return ``dZ ↦ H dZ``, the head's Hessian in Z: s_i σ(z)(1 − σ(z)) ⊙ dZ.

    {curvature_params}

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


@fill_doc
def softmax_curvature(Z, sample_weight):
    """Return ``dZ ↦ H dZ``: per sample s_i (diag(p_i) − p_i p_iᵀ) dz_i.

    {curvature_params}

    Returns
    -------
    apply : callable
        Maps an (n_samples, n_outputs) direction to its image, in place: the
        direction is overwritten (callers pass a fresh array).
    """
    P, _ = _softmax_and_log_norm(Z)

    def apply(dZ):
        dZ *= P
        dZ -= P * row_sums(dZ)[:, None]
        dZ *= sample_weight[:, None]
        return dZ

    return apply


class Head(NamedTuple):
    """An output loss: its value and gradient in Z, and its curvature in Z.

    ``loss_and_grad(Z, Y, sample_weight)`` takes the logits Z (n, k), the targets
    Y (n, k) (for softmax also class codes (n,)) and the non-negative weights s
    (n,), and returns (Σ s ℓ as a float,
    ∂(Σ s ℓ)/∂Z in Z's dtype); ``curvature(Z, sample_weight)`` returns the map
    ``dZ ↦ H dZ``.

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
