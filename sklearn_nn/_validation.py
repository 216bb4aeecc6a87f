"""The checks of ``fit``'s inputs, shared by in-memory and Dask fits.

Pure functions of arrays and parameters: no estimator is read or written here. An
in-memory fit passes whole arrays; a Dask fit reduces its chunks to the same small
summaries first (each chunk's weight range and per-class totals and maxima, see
:func:`weight_range` and :func:`class_statistics`), and both reach the same
decisions, with the same messages, from those summaries:

* labels: encoded into ``classes_`` and codes (:func:`encode_labels`), at least
  two classes (:func:`require_two_classes`);
* sample weights: shape, finite, non-negative, not all zero (:func:`check_weight_range`);
* class weights: a dict of finite non-negative factors or "balanced", S / (K·S_k)
  from the weighted class totals (:func:`class_weight_factors`);
* a positive total weight in every class, and no overflow of
  sample_weight × class_weight (:func:`class_weighting`);
* the penalty per unit of weight λ/S within float64 (:func:`check_penalty`);
* feature magnitudes within what training in X's dtype can take (:func:`check_features`).
"""

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._objectives.scan import class_totals, weight_exponent

FLOAT_DTYPES = (np.float64, np.float32)

#: Largest feature magnitude ``fit`` accepts, per dtype. The Hessian products of
#: second-order solvers grow like |x|³ and the solvers' curvature estimates like
#: |x|⁴; these bounds keep both finite (with weights scaled to at most 1) for any
#: realistic n_samples × n_features, where larger features would overflow.
LARGEST_FEATURE = {np.dtype(np.float64): 2.0**200, np.dtype(np.float32): 2.0**30}


def scaling_advice(dtype):
    """What to do about features too large for ``dtype``."""
    advice = "Scale the features (e.g. with sklearn.preprocessing.StandardScaler)"
    return advice + (" or pass X as float64." if dtype == np.float32 else ".")


def non_finite_error(name, has_nan):
    """The ValueError for an input that holds NaN (``has_nan``) or else infinity."""
    found = "NaN" if has_nan else "infinity"
    return ValueError(
        f"Input {name} contains {found}: {name} must be finite (NaN or infinity is not "
        "accepted). Remove or impute those entries."
    )


def check_features(largest, dtype):
    """Refuse X whose largest magnitude (:func:`scan_rows`) is not finite, or too large.

    ``largest`` is NaN when X holds a NaN, infinite when it holds an infinity.

    Examples
    --------
    >>> import numpy as np
    >>> check_features(3.0, np.float64)
    >>> check_features(np.nan, np.float64)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Input X contains NaN: X must be finite (NaN or infinity ...
    """
    if not np.isfinite(largest):
        raise non_finite_error("X", np.isnan(largest))
    limit = LARGEST_FEATURE[np.dtype(dtype)]
    if largest > limit:
        raise ValueError(
            f"Input X has features of magnitude up to {float(largest):.3g}; in "
            f"{np.dtype(dtype).name} the products of training overflow beyond "
            f"{limit:.3g}. {scaling_advice(dtype)}"
        )


# ------------------------------------------------------------------ labels
def _is_small_integer_range(y):
    """Whether y is a vector of non-negative integers no larger than its length."""
    return (
        y.ndim == 1 and y.dtype.kind in "iu" and y.size > 0 and 0 <= y.min() and y.max() <= y.size
    )


def _encode_by_counting(y):
    """``classes_`` and codes of non-negative integer labels by counting, not sorting.

    The same result as :func:`numpy.unique` and :func:`numpy.searchsorted`, in O(n)
    instead of O(n log n): a fifth of the time on 200 000 labels.
    """
    present = np.bincount(y) > 0
    classes = np.flatnonzero(present).astype(y.dtype)
    code_of = np.cumsum(present) - 1  # the index in classes of each present label
    return classes, code_of.astype(np.min_scalar_type(classes.size - 1))[y]


def encode_labels(y):
    """Return ``classes_`` (sorted unique labels) and each label's index in it.

    Examples
    --------
    >>> import numpy as np
    >>> classes, codes = encode_labels(np.array(["b", "a", "b"]))
    >>> classes.tolist(), codes.tolist()
    (['a', 'b'], [1, 0, 1])
    """
    try:
        if _is_small_integer_range(y):
            # Integer labels always pass check_classification_targets (it calls
            # them binary or multiclass), whose sort would cost more than this.
            return _encode_by_counting(y)
        check_classification_targets(y)
        classes = np.unique(y)
        # The same codes as np.unique(y, return_inverse=True), whose sorting
        # temporaries peak at 5x the labels' size (8 MB for 200 000 int64 labels,
        # the largest allocation of a whole linear fit) against 1x here; kept in
        # the smallest integer type (uint8 up to 256 classes), 1/8 of int64.
        codes = np.searchsorted(classes, y)
        return classes, codes.astype(np.min_scalar_type(classes.size - 1))
    except TypeError as error:
        types = sorted({type(label).__name__ for label in np.ravel(y)})
        if len(types) < 2:
            raise
        # numpy's own message ("'<' not supported between instances ...")
        # does not say that the labels are the problem.
        raise TypeError(
            f"The labels in y mix types {types} that cannot be sorted into "
            "classes_; use labels of one type (e.g. convert them all to str)."
        ) from error


def require_two_classes(classes, estimator_name):
    """Refuse labels of fewer than two classes."""
    if classes.size < 2:
        raise ValueError(
            f"{estimator_name} needs samples of at least 2 classes in y; "
            f"got 1 class: {classes.tolist()[0]!r}."
        )


def require_previous_classes(previous_classes, classes):
    """Refuse a warm start on other classes than the previous fit's, as scikit-learn's MLP.

    Its weights cannot seed this fit; starting afresh silently would hide that.
    """
    if previous_classes is not None and not np.array_equal(previous_classes, classes):
        raise ValueError(
            "warm_start can only be used where y has the same classes as in the "
            f"previous call to fit. Previously got {previous_classes.tolist()}, y has "
            f"{classes.tolist()}. Set warm_start=False to start afresh."
        )


def indicator(codes, n_classes, dtype, binary_in_one_column):
    """Target matrix Y of encoded labels: one-hot, or one 0/1 column for 2 classes.

    ``binary_in_one_column`` is true for sigmoid heads, whose binary problem has one
    output unit.

    Examples
    --------
    >>> import numpy as np
    >>> indicator(np.array([0, 1, 1]), 2, np.uint8, True).ravel().tolist()
    [0, 1, 1]
    >>> indicator(np.array([0, 2]), 3, np.uint8, True).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    if binary_in_one_column and n_classes == 2:
        return (codes == 1).astype(dtype)[:, None]
    Y = np.zeros((codes.size, n_classes), dtype=dtype)
    Y[np.arange(codes.size), codes] = 1
    return Y


# ----------------------------------------------------------------- weights
def as_sample_weight(sample_weight, n_samples, dtype):
    """Return ``sample_weight`` as a float64 vector of n_samples (unit weights in ``dtype``).

    Given weights stay float64 whatever X's dtype: a float32 objective receives them
    scaled by a power of two to at most 1 (see ``scaled_weights``), so that weights
    beyond float32's range are no reason to fail. Unit weights are made in X's dtype,
    as the objectives use them: then nothing copies them. Their values are checked by
    :func:`check_weight_range`.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, numbers.Real):
        return np.full(n_samples, float(sample_weight))
    sample_weight = check_array(
        sample_weight,
        ensure_2d=False,
        dtype=np.float64,
        ensure_all_finite=False,
        input_name="sample_weight",
    )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) to match X; got {sample_weight.shape}."
        )
    return sample_weight


def weight_range(sample_weight):
    """Return (min, max) of the weights; NaN in both if one weight is NaN."""
    return (
        float(np.min(sample_weight, initial=np.inf)),
        float(np.max(sample_weight, initial=-np.inf)),
    )


def check_weight_range(minimum, maximum):
    """Refuse sample weights with a NaN or infinity, a negative weight, or none positive."""
    if not (np.isfinite(minimum) and np.isfinite(maximum)):
        raise non_finite_error("sample_weight", np.isnan(minimum) or np.isnan(maximum))
    if minimum < 0:
        raise ValueError(f"sample_weight must be non-negative; got minimum {float(minimum)!r}.")
    if not maximum > 0:
        raise ValueError("sample_weight is zero for every sample; J would be 0/0.")


def class_statistics(codes, sample_weight, n_classes):
    """Return the total and the largest weight of each class (0 for an empty class)."""
    largest = np.zeros(n_classes)
    with np.errstate(invalid="ignore"):  # a NaN weight: refused by check_weight_range
        np.maximum.at(largest, codes, sample_weight)
    return class_totals(codes, sample_weight, n_classes), largest


def require_weight_in_every_class(totals, classes):
    """Refuse classes whose total weight is zero: J would never see them."""
    if not np.all(totals > 0):
        empty = classes[~(totals > 0)].tolist()
        raise ValueError(
            "Every class needs a positive total weight (sample_weight × class_weight); "
            f"class(es) {empty} have zero or negative total weight. Drop those samples "
            "or give them positive weight."
        )


def class_weight_factors(class_weight, classes, totals):
    """Return the factor of each class (None for ``class_weight=None``), checked.

    "balanced" gives S / (K · S_k) from the *weighted* class totals S_k, so that an
    integer weight stays equivalent to a repeated row (compute_class_weight only
    learned sample_weight in scikit-learn 1.7; we support 1.6).

    Examples
    --------
    >>> import numpy as np
    >>> class_weight_factors("balanced", np.array([0, 1]), np.array([1.0, 3.0])).tolist()
    [2.0, 0.6666666666666666]
    >>> class_weight_factors({0: np.inf}, np.array([0, 1]), np.array([1.0, 3.0]))
    Traceback (most recent call last):
    ...
    ValueError: class_weight must be finite; got inf for class 0.
    """
    if class_weight is None:
        return None
    if class_weight == "balanced":
        with np.errstate(over="ignore"):  # refused below
            total = float(np.sum(totals))
        if not np.isfinite(total):
            overflowing = classes[~np.isfinite(totals)].tolist() or classes.tolist()
            raise ValueError(
                "class_weight='balanced' divides by the total sample weight of each "
                f"class, which overflows float64 for class(es) {overflowing}; divide "
                "sample_weight by a constant."
            )
        return total / (classes.size * totals)
    per_class = compute_class_weight(class_weight, classes=classes, y=classes)
    for label, factor in zip(classes.tolist(), per_class.tolist(), strict=True):
        if not np.isfinite(factor):
            raise ValueError(f"class_weight must be finite; got {factor!r} for class {label!r}.")
        if factor < 0:
            raise ValueError(
                f"class_weight must be non-negative; got {factor!r} for class {label!r}."
            )
    return per_class


class Weighting(NamedTuple):
    """What the weights tell the rest of ``fit``, s_i = sample_weight_i × class_weight[y_i].

    ``per_class`` is each class's factor (None without class weights), ``totals`` the
    total of s per class and ``largest`` the largest s.
    """

    per_class: np.ndarray | None
    totals: np.ndarray
    largest: float


def class_weighting(class_weight, classes, totals, largest):
    """Check the classes' weights and return their :class:`Weighting`.

    ``totals`` and ``largest`` are each class's total and largest sample weight
    (:func:`class_statistics`). Every class needs a positive total, before and after
    the class weights, and no product sample_weight × class_weight may overflow (their
    sums may: the objectives scale the weights to at most 1 before they add them up).
    """
    require_weight_in_every_class(totals, classes)
    per_class = class_weight_factors(class_weight, classes, totals)
    if per_class is None:
        return Weighting(None, totals, float(np.max(largest)))
    # A total beyond float64 is no problem (see above); times a class weight 0 it is
    # NaN, and that class is refused for its zero weight.
    with np.errstate(over="ignore", invalid="ignore"):
        largest = largest * per_class
        totals = totals * per_class
    if not np.all(np.isfinite(largest)):
        raise ValueError(
            "sample_weight × class_weight overflows float64 for class(es) "
            f"{classes[~np.isfinite(largest)].tolist()}; divide sample_weight or "
            "class_weight by a constant."
        )
    require_weight_in_every_class(totals, classes)
    return Weighting(per_class, totals, float(np.max(largest)))


def weigh_samples(sample_weight, n_samples, dtype, codes, classes, class_weight):
    """Return the per-sample weights s_i of an in-memory fit and their :class:`Weighting`.

    Unit weights (no ``sample_weight``, no ``class_weight``) are returned as made, in
    ``dtype``, and read only for their class totals.
    """
    largest = 1.0
    if sample_weight is not None:
        sample_weight = as_sample_weight(sample_weight, n_samples, dtype)
        minimum, largest = weight_range(sample_weight)
        check_weight_range(minimum, largest)
    else:
        sample_weight = as_sample_weight(None, n_samples, dtype)
    if class_weight is None:
        totals = class_totals(codes, sample_weight, classes.size)
        return sample_weight, class_weighting(None, classes, totals, np.array([largest]))
    weighting = class_weighting(
        class_weight, classes, *class_statistics(codes, sample_weight, classes.size)
    )
    return sample_weight * weighting.per_class[codes], weighting


# ----------------------------------------------------------------- penalty
def check_penalty(reg_lambda, weighting, limit=None):
    """Refuse a penalty λ that float64 cannot carry against these weights.

    The objectives divide s and λ by the power of two at or above max(s)
    (``scaled_weights``): J = (Σ s ℓ + λ/2 ‖W‖²) / S is unchanged, but λ / max(s) must
    be a float64. When it is not, the weights are so tiny against λ that the penalty
    per unit of weight, λ/S, leaves nothing of the data in J. ``limit`` bounds λ/S
    further, for models whose solvers overflow below float64's largest number.

    Examples
    --------
    >>> import numpy as np
    >>> weighting = Weighting(None, np.array([1e-310, 1e-310]), 1e-310)
    >>> check_penalty(0.0, weighting)
    >>> check_penalty(1.0, weighting)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: reg_lambda / max(sample_weight) = 1 / 1e-310 overflows float64: ...
    """
    exponent = weight_exponent(weighting.largest)
    with np.errstate(over="ignore"):
        scaled = float(np.ldexp(float(reg_lambda), -exponent))
    # λ/S from scaled numbers: S itself may overflow (then λ/S is ~0) or be subnormal.
    with np.errstate(over="ignore"):
        scaled_total = float(np.ldexp(float(np.sum(weighting.totals)), -exponent))
    if not np.isfinite(scaled):
        raise ValueError(
            f"reg_lambda / max(sample_weight) = {reg_lambda:.3g} / {weighting.largest:.3g} "
            "overflows float64: the sample weights are so tiny against reg_lambda that "
            "the penalty per unit of weight, reg_lambda / sum(sample_weight), leaves "
            "nothing of the data in J. Multiply sample_weight by a constant or lower "
            "reg_lambda."
        )
    per_unit_weight = scaled / scaled_total
    if limit is not None and per_unit_weight > limit:
        raise ValueError(
            f"reg_lambda / sum(sample_weight) = {per_unit_weight:.3g} is above {limit:.0e}: "
            "a penalty this strong forces every weight to 0, and the solvers' curvature "
            "products overflow float64 at the initial weights. Lower reg_lambda or "
            "multiply sample_weight by a constant."
        )


def check_network_size(hidden_layer_size, n_samples, n_features, n_outputs):
    """Refuse a hidden layer whose arrays could not exist on this platform.

    numpy would fail inside its random module ("array is too big") without naming
    the parameter. Arrays that can exist but do not fit in memory still raise
    numpy's MemoryError, which gives their shape.

    Examples
    --------
    >>> check_network_size(25, 100, 4, 3)
    >>> check_network_size(2**62, 100, 4, 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: hidden_layer_size=4611686018427387904 is too large: ...
    """
    # Python integers: the products cannot overflow.
    n_params = (n_features + 1) * hidden_layer_size + (hidden_layer_size + 1) * n_outputs
    largest = max(n_params, n_samples * hidden_layer_size)
    if largest * np.dtype(np.float64).itemsize > np.iinfo(np.intp).max:
        raise ValueError(
            f"hidden_layer_size={hidden_layer_size} is too large: the network's weights "
            f"and hidden activations ({n_samples} samples × {hidden_layer_size} units) "
            "would be arrays of more bytes than this platform can address."
        )
