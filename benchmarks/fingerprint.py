"""Fingerprints of a fixed set of fits, to show that a refactoring changed no arithmetic.

``python -m benchmarks.fingerprint save FILE`` fits every estimator with every solver
on small seeded problems (dense and CSR, float64 and float32, weighted, class-weighted,
early stopping) and stores the fitted arrays, ``n_iter_`` and ``loss_curve_``;
``python -m benchmarks.fingerprint compare FILE`` fits them again and lists every fit
whose results are not bit for bit the stored ones. Run ``save`` before the change and
``compare`` after it, on the same machine and libraries.
"""

import argparse
import sys
import warnings

import numpy as np
from scipy import sparse
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier

SOLVERS = ("lbfgs", "tnc", "cg", "newton-cg", "trust-ncg", "trust-krylov")


def _problems():
    X, y = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    X[:, 0] = X[:, 0] * 50 + 100  # one unscaled, uncentred feature
    Xb, yb = make_classification(400, 6, random_state=1)
    iris_X, iris_y = load_iris(return_X_y=True)
    iris_X = StandardScaler().fit_transform(iris_X)
    weights = np.random.default_rng(0).integers(0, 4, size=y.size).astype(float)
    return {
        "multi": (X, y, None),
        "multi-f32": (X.astype(np.float32), y, None),
        "multi-csr": (sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0.0)), y, None),
        "multi-weighted": (X, y, weights),
        "binary": (Xb, yb, None),
        "iris": (iris_X, iris_y, None),
    }


def _models():
    for solver in SOLVERS:
        yield f"logistic-{solver}", RegLogisticClassifier(solver=solver, reg_lambda=0.5)
        yield f"softmax-{solver}", SoftmaxClassifier(solver=solver, reg_lambda=0.5)
        yield (
            f"logistic-balanced-{solver}",
            RegLogisticClassifier(solver=solver, class_weight="balanced"),
        )
        for activation in ("sigmoid", "tanh", "relu"):
            yield (
                f"network-{activation}-{solver}",
                TwoLayerMLPClassifier(
                    6, activation=activation, solver=solver, max_iter=60, random_state=0
                ),
            )
    yield (
        "network-early-stopping",
        TwoLayerMLPClassifier(8, early_stopping=True, max_iter=80, random_state=0),
    )
    yield (
        "network-sigmoid-output",
        TwoLayerMLPClassifier(5, output="sigmoid", max_iter=80, random_state=0),
    )


def fingerprints():
    """Fitted arrays of every (problem, model) pair, by name."""
    out = {}
    for problem, (X, y, weights) in _problems().items():
        for name, model in _models():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y, sample_weight=weights)
            if hasattr(model, "coef_"):
                arrays = [model.coef_, model.intercept_]
            else:
                arrays = [*model.coefs_, *model.intercepts_]
            arrays += [np.array([model.n_iter_]), np.array(model.loss_curve_)]
            for i, array in enumerate(arrays):
                out[f"{problem}/{name}/{i}"] = np.asarray(array)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "compare"])
    parser.add_argument("file")
    args = parser.parse_args(argv)
    current = fingerprints()
    if args.action == "save":
        np.savez(args.file, **current)
        print(f"saved {len(current)} arrays to {args.file}")
        return 0
    stored = np.load(args.file)
    differ = sorted(
        {
            key.rsplit("/", 1)[0]
            for key in stored.files
            if key not in current or not np.array_equal(stored[key], current[key])
        }
    )
    fits = {key.rsplit("/", 1)[0] for key in stored.files}
    print(f"{len(fits) - len(differ)} of {len(fits)} fits bit-identical")
    for name in differ:
        print(f"  differs: {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
