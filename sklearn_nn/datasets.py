"""Small two-dimensional data sets of the classic courses.

``load_microchips`` and ``load_exam_scores`` load the two data files of the course's
logistic-regression exercise (ex2data2 and ex2data1), which ship with the package.
``make_spiral`` generates the cs231n spiral; ``make_microchips`` generates a synthetic
cousin of the microchip data, of any size and seed, made so that regularised logistic
regression on degree-6 polynomial features shows the course's dependence on λ.
"""

import io
from importlib import resources
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["load_exam_scores", "load_microchips", "make_microchips", "make_spiral"]


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _check_real(name, value, low, high=np.inf):
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not np.isfinite(value)
        or not low <= value <= high
    ):
        bounds = f"in [{low}, {high}]" if np.isfinite(high) else f">= {low}"
        raise ValueError(f"{name} must be a finite number {bounds}; got {value!r}.")
    return float(value)


def _read_course_file(source, name):
    """Read a course-format text file: comma separated x1, x2, label on each line.

    ``source`` is a path or an open text file; ``name`` names it in the error raised
    when the file does not have exactly three columns. Returns ``X`` of shape (m, 2)
    and the labels as floats, as they are written in the file.
    """
    data = np.loadtxt(source, delimiter=",", ndmin=2)
    if data.shape[1] != 3:
        raise ValueError(
            f"{name}: expected 3 comma separated columns (x1,x2,label); got {data.shape[1]}."
        )
    return data[:, :2], data[:, 2]


def _load_packaged(filename):
    """Read one of the course files shipped in ``sklearn_nn/data``; integer labels."""
    text = resources.files(__package__).joinpath("data", filename).read_text(encoding="ascii")
    X, y = _read_course_file(io.StringIO(text), filename)
    return X, y.astype(np.int64)


def load_microchips():
    """Load the course's microchip data (ex2data2): two test results of 118 chips.

    The data set of the regularised part of the course's logistic-regression
    exercise: each row holds the results of two quality tests of a microchip, and
    whether the chip was accepted (1) or rejected (0). The two classes are not
    linearly separable; the course fits logistic regression on the degree-6
    polynomial features of the two tests (28 columns with the constant) and compares
    λ = 0, 1, 10 and 100. Its reference figures, which this package reproduces: the
    cost at θ = 0 is ln 2 = 0.693147, the optimum at λ = 1 is J = 0.529003, and the
    training accuracy is 83.05 %, 74.58 % and 61.02 % at λ = 1, 10 and 100. The file
    ships with the package (``sklearn_nn/data/ex2data2.txt``); nothing is downloaded.

    Returns
    -------
    X : ndarray of shape (118, 2)
        The two test results of each chip (float64), in the order of the course file.
    y : ndarray of shape (118,)
        1 for an accepted chip, 0 for a rejected one (integers): 58 and 60 of them.

    See Also
    --------
    make_microchips : A synthetic set of the same kind, of any size and seed.
    load_exam_scores : The unregularised part of the same exercise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import PolynomialFeatures
    >>> from sklearn_nn import RegLogisticClassifier
    >>> from sklearn_nn.datasets import load_microchips
    >>> X, y = load_microchips()
    >>> X.shape, np.bincount(y)
    ((118, 2), array([60, 58]))
    >>> for reg_lambda in (1.0, 10.0, 100.0):
    ...     model = make_pipeline(
    ...         PolynomialFeatures(6), RegLogisticClassifier(reg_lambda=reg_lambda)
    ...     )
    ...     print(reg_lambda, f"{100 * model.fit(X, y).score(X, y):.2f} %")
    1.0 83.05 %
    10.0 74.58 %
    100.0 61.02 %
    """
    return _load_packaged("ex2data2.txt")


def load_exam_scores():
    """Load the course's admission data (ex2data1): two exam scores of 100 applicants.

    The data set of the first part of the course's logistic-regression exercise:
    each row holds an applicant's scores in two exams (on a 0-100 scale) and whether
    the applicant was admitted (1) or not (0). The classes are nearly linearly
    separable, and the course fits unregularised logistic regression on the raw
    scores. Its reference figures, which ``RegLogisticClassifier(reg_lambda=0)``
    reproduces: the cost at the optimum is J = 0.203, with θ = (−25.161, 0.206,
    0.201) (intercept first), an applicant with scores 45 and 85 is admitted with
    probability 0.776, and the training accuracy is 89 %. The file ships with the
    package (``sklearn_nn/data/ex2data1.txt``); nothing is downloaded.

    Returns
    -------
    X : ndarray of shape (100, 2)
        The two exam scores of each applicant (float64), in the order of the course file.
    y : ndarray of shape (100,)
        1 for an admitted applicant, 0 otherwise (integers): 60 and 40 of them.

    See Also
    --------
    load_microchips : The regularised part of the same exercise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn import RegLogisticClassifier
    >>> from sklearn_nn.datasets import load_exam_scores
    >>> X, y = load_exam_scores()
    >>> X.shape, np.bincount(y)
    ((100, 2), array([40, 60]))
    >>> model = RegLogisticClassifier(reg_lambda=0.0).fit(X, y)
    >>> print(f"J = {model.loss_:.3f}, accuracy {model.score(X, y):.2f}")
    J = 0.203, accuracy 0.89
    >>> print(f"{model.predict_proba([[45.0, 85.0]])[0, 1]:.3f}")
    0.776
    """
    return _load_packaged("ex2data1.txt")


def make_spiral(n_samples_per_class=100, n_classes=3, noise=0.2, random_state=None):
    """Generate the cs231n spiral: ``n_classes`` interleaved arms in the plane.

    Class j has ``N = n_samples_per_class`` points at radii r = linspace(0, 1, N) and
    angles t = linspace(4j, 4(j + 1), N) + noise · ε with ε ~ N(0, 1), placed at
    (r sin t, r cos t). No linear classifier separates the arms: a linear softmax
    reaches about 0.52 training accuracy on the default set, a small network about 0.99.

    Parameters
    ----------
    n_samples_per_class : int, default=100
        Number of points N per class (≥ 1).
    n_classes : int, default=3
        Number of classes (arms) K (≥ 2).
    noise : float, default=0.2
        Standard deviation of the Gaussian noise added to the angles (≥ 0).
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the noise; pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (N · K, 2)
        Point coordinates, class by class.
    y : ndarray of shape (N · K,)
        Class labels 0, …, K − 1 (integers).

    See Also
    --------
    make_microchips : A binary non-linear set, for logistic regression on polynomial features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn.datasets import make_spiral
    >>> X, y = make_spiral(n_samples_per_class=100, n_classes=3, random_state=0)
    >>> X.shape, y.shape
    ((300, 2), (300,))
    >>> np.bincount(y)
    array([100, 100, 100])
    >>> bool(np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0))
    True
    """
    n = _check_int("n_samples_per_class", n_samples_per_class, 1)
    n_classes = _check_int("n_classes", n_classes, 2)
    noise = _check_real("noise", noise, 0.0)
    rng = check_random_state(random_state)

    X = np.empty((n * n_classes, 2))
    y = np.repeat(np.arange(n_classes), n)
    r = np.linspace(0.0, 1.0, n)
    for j in range(n_classes):
        t = np.linspace(4.0 * j, 4.0 * (j + 1), n) + noise * rng.standard_normal(n)
        X[j * n : (j + 1) * n] = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return X, y


# Geometry of make_microchips. Points lie at distance r ~ U[_R_MIN, _R_MAX] from _CENTRE
# (denser towards the centre, like the course data), at a uniform angle φ; label 1 means
# r < _boundary(φ), a closed wavy curve shifted to the right of the centre. The class
# counts are fixed (a fraction _POSITIVE_FRACTION of label 1) so that the majority rate,
# and with it the λ = 100 accuracy, does not vary with the seed.
_CENTRE = np.array([0.05, 0.15])
_R_MIN, _R_MAX = 0.15, 1.05
_POSITIVE_FRACTION = 0.43


def _boundary(phi):
    return 0.62 + 0.15 * np.cos(phi) + 0.08 * np.sin(3.0 * phi)


def _sample_region(rng, n_points, inside):
    """Draw ``n_points`` points uniformly in (r, φ), inside or outside the boundary."""
    found = np.empty((0, 2))
    while found.shape[0] < n_points:
        batch = 4 * (n_points - found.shape[0]) + 16
        phi = rng.uniform(-np.pi, np.pi, batch)
        r = rng.uniform(_R_MIN, _R_MAX, batch)
        keep = (r < _boundary(phi)) == inside
        points = _CENTRE + np.column_stack([r * np.cos(phi), r * np.sin(phi)])[keep]
        found = np.vstack([found, points])
    return found[:n_points]


def make_microchips(n_samples=118, noise=0.12, random_state=None):
    """Generate a 2-D, non-linear binary set in the spirit of the course's microchip tests.

    Label 1 ("accepted chip") marks a wavy closed region around the origin; points
    lie in about [-1, 1.1] × [-0.9, 1.2]. Exactly ``round(0.43 · n_samples)`` points
    are drawn inside the region and the rest outside it; then ``round(noise ·
    n_samples)`` labels are flipped, half of them each way, so that the class counts
    (and the majority rate, 57 % by default) stay fixed.

    With the default arguments, ``Pipeline(PolynomialFeatures(6),
    RegLogisticClassifier(reg_lambda=λ))`` shows the pattern of the course's ex2data2
    (training accuracy 83 %, 75 %, 61 % at λ = 1, 10, 100): about 80-90 % for
    0.01 ≤ λ ≤ 1 (more at λ = 0, which overfits), lower at λ = 10, and at λ = 100
    the majority rate, 56.8 %, as the penalty shrinks the model to nearly a constant.
    Measured over ``random_state`` 0 to 39: 84 % (80-89 %) at λ = 1, 74 % (64-82 %)
    at λ = 10 and 56.8 % every time at λ = 100.

    Parameters
    ----------
    n_samples : int, default=118
        Number of points (≥ 2); 118 as in the course data.
    noise : float, default=0.12
        Fraction of labels flipped, in [0, 0.5].
    random_state : int, RandomState instance or None, default=None
        Seed or generator; pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The two test results of each chip, in random order.
    y : ndarray of shape (n_samples,)
        Labels 0 or 1 (integers).

    See Also
    --------
    load_microchips : The course's own microchip data.
    make_spiral : The cs231n spiral, a multi-class non-linear set.

    Examples
    --------
    >>> from sklearn_nn.datasets import make_microchips
    >>> X, y = make_microchips(random_state=0)
    >>> X.shape, y.tolist().count(0), y.tolist().count(1)
    ((118, 2), 67, 51)
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    noise = _check_real("noise", noise, 0.0, 0.5)
    rng = check_random_state(random_state)

    n_positive = round(_POSITIVE_FRACTION * n_samples)
    X = np.vstack(
        [
            _sample_region(rng, n_positive, inside=True),
            _sample_region(rng, n_samples - n_positive, inside=False),
        ]
    )
    y = np.repeat([1, 0], [n_positive, n_samples - n_positive])

    n_flipped = round(noise * n_samples)
    to_negative = rng.choice(n_positive, n_flipped // 2, replace=False)
    to_positive = n_positive + rng.choice(
        n_samples - n_positive, n_flipped - n_flipped // 2, replace=False
    )
    y[to_negative] = 0
    y[to_positive] = 1

    order = rng.permutation(n_samples)
    return X[order], y[order]
