"""What ``fit`` learns of X in its one pass before optimising, and the weights' scale.

``scan_rows`` reads X once for its finiteness, its largest magnitude and the
weighted sums of its rows per class (the objectives' mean row μ, and J at W = 0).
The weights are scaled by a power of two so that the largest is at most 1: J is
unchanged, and no product of a weight with the data can overflow.
"""

from typing import NamedTuple

import numpy as np
from scipy import sparse

from .kernels import row_slices

__all__ = [
    "ClassRowSums",
    "class_totals",
    "largest_magnitude",
    "scale_weights",
    "scaled_weights",
    "scan_rows",
    "weight_exponent",
]


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


def scan_rows(X, sample_weight=None, codes=None, n_classes=None, bound=None):
    """Return max |x| over X (with ``bound``: see below; NaN if X holds one) and its class sums.

    One read of dense X from memory: each row block serves its magnitude and its
    weighted sums while it is in cache, so that ``fit`` checks the features and
    finds what the objectives need from all rows (:class:`ClassRowSums`) in a single
    pass. ``codes`` (each sample's class) and ``n_classes`` split the sums by class;
    they come with the weights. Weights are scaled and cast as the objectives scale
    them: X is never cast, nothing overflows. The sums are float64 (None without
    weights).

    With a ``bound``, the magnitude is only exact where it matters: the result is
    ≤ ``bound`` exactly when max |x| is, and is max |x| itself when larger. A row
    block whose Euclidean norm (one BLAS dot product) is well within the bound needs
    no max and min (two slower reads of it); NaN and infinity fail that test. The
    class sums take one matrix product per block, for two classes as well (on
    OpenBLAS faster than two vector products).
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
            # The weights as a sparse (n, n_classes) matrix: no dense one n·k long. As
            # Xᵀ·by_class, whose product converts by_class (n entries) to Xᵀ's CSC
            # layout: by_classᵀ·X would convert (copy) all of X.
            by_class = sparse.csr_matrix(
                (sample_weight, codes, np.arange(codes.size + 1)), shape=(codes.size, n_classes)
            )
            with np.errstate(over="ignore", invalid="ignore"):
                per_class += (X.T @ by_class).toarray()
    elif X.size == 0:
        largest = 0.0
    elif X.ndim == 1:
        largest = max(float(X.max()), -float(X.min()))
    else:
        magnitudes = []
        # Features too large for training overflow the sums; ``fit`` refuses them
        # by ``largest`` (``_check_magnitude``), so their sums are never used.
        with np.errstate(over="ignore", invalid="ignore"):
            for rows in row_slices(X.shape[0], X.shape[1] * X.itemsize):
                block = X[rows]
                magnitudes.append(_block_magnitude(block, bound))
                if weighted:
                    per_class += block.T @ _weights_by_class(
                        sample_weight[rows], codes[rows], n_classes
                    )
        # np.max, not max(): a NaN anywhere must come out, whatever its position.
        largest = float(np.max(magnitudes))
    return largest, ClassRowSums(per_class, totals) if weighted else None


def _block_magnitude(block, bound):
    """The largest |x| of a row block, or its Euclidean norm if within half ``bound``.

    max |x| ≤ ‖x‖, and the rounded sum of the non-negative squares is never below
    its largest rounded term (rounding is monotone, in any order of summation), so
    a computed norm within half the bound puts max |x| within the bound. F-ordered
    or strided blocks, which have no flat view, take max and min.
    """
    if bound is not None and block.flags.c_contiguous:
        entries = block.ravel()
        norm = np.sqrt(float(entries @ entries))
        if norm <= 0.5 * bound:
            return norm
    return max(block.max(), -block.min())


def class_totals(codes, weights, n_classes):
    """Σ of the weights per class; np.bincount in blocks of 8 192 rows.

    bincount casts the codes to intp and the weights to float64: on all rows at once
    that would be the largest temporaries of a linear fit.
    """
    totals = np.zeros(n_classes)
    for start in range(0, codes.size, 2**13):
        rows = slice(start, start + 2**13)
        totals += np.bincount(codes[rows], weights=weights[rows], minlength=n_classes)
    return totals


def _weights_by_class(sample_weight, codes, n_classes):
    """The (n, n_classes) matrix with s_i in column codes_i, zeros elsewhere."""
    weights = np.zeros((codes.size, n_classes), dtype=sample_weight.dtype)
    weights[np.arange(codes.size), codes] = sample_weight
    return weights
