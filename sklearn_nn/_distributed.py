"""Fitting on Dask arrays: the checks of ``fit`` as Dask reductions, and prediction.

``prepare_fit`` validates Dask inputs with the in-memory path's rules
(:mod:`sklearn_nn._validation`), one task per chunk, and returns the Dask arrays the
objectives are built on; the objectives then run over
:class:`~sklearn_nn._dask.DaskRows`, the Dask implementation of the rows protocol.
``predict_blocks`` maps the in-memory prediction methods over row chunks. Dask
itself is imported only once a Dask collection has reached the estimators.
"""

import functools
import numbers
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._dask import import_dask, is_dask_collection, unique_name
from ._dask.rows import aligned_chunks
from ._objectives import largest_magnitude
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

__all__ = [
    "PreparedFit",
    "blockwise_on_dask",
    "is_dask_collection",
    "predict_blocks",
    "prepare_fit",
]


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
    dask, da = import_dask()
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
            X.shape[0], chunks=(X.chunks[0],), dtype=np.float64, name=unique_name("ones")
        )
    elif isinstance(sample_weight, numbers.Real):
        sample_weight = da.full(
            X.shape[0],
            float(sample_weight),
            chunks=(X.chunks[0],),
            dtype=np.float64,
            name=unique_name("full"),
        )
    else:
        sample_weight = _aligned_vector(sample_weight, X, da, "sample_weight", np.float64)
    # Persisted once here, for the checks and for the objective, which keeps it.
    X = aligned_chunks(X)
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
        name=unique_name("targets"),
    )
    if weighting.per_class is not None:
        sample_weight = da.map_blocks(
            _class_weighted,
            sample_weight,
            y,
            classes,
            weighting.per_class,
            dtype=np.float64,
            name=unique_name("weights"),
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
    _, da = import_dask()
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


def blockwise_on_dask(method):
    """Make a prediction method ``method(self, X)`` run block by block on Dask arrays.

    On a Dask collection the method returns a lazy Dask array from
    :func:`predict_blocks`; on anything else it runs as written.
    """

    @functools.wraps(method)
    def predict(self, X):
        if is_dask_collection(X):
            return predict_blocks(self, method.__name__, X)
        return method(self, X)

    return predict
