"""What is benchmarked: seeded data sets, and the contenders that fit them.

Everything that names a size, a data generator, a solver or a competitor lives
here; ``measure.py`` knows how to time and ``run.py`` how to organise and report.

Adding a solver to ``sklearn_nn`` adds its rows by itself: our contenders are read
from ``sklearn_nn.instrumentation.SOLVERS``.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_nn import (
    RegLogisticClassifier,
    SoftmaxClassifier,
    TwoLayerMLPClassifier,
    instrumentation,
)

SEED = 0
#: scikit-learn's solvers for binary logistic regression; liblinear has no multinomial.
SKLEARN_BINARY_SOLVERS = ("lbfgs", "newton-cholesky", "newton-cg", "liblinear", "sag", "saga")
SKLEARN_MULTINOMIAL_SOLVERS = ("lbfgs", "newton-cholesky", "newton-cg", "sag", "saga")
#: Solvers whose single fit cannot be bounded by a tolerance: their iterations are
#: capped from a 1-iteration probe so that a fit lasts about the time cap.
ITERATION_CAPPED = {"sag", "saga", "liblinear", "newton-cholesky"}
#: Competitors named by a performance target (scikit-learn's lbfgs everywhere, and
#: newton-cg on softmax): always measured to J*, never capped, always repeated.
TARGET_REFERENCES = {"binary": {"lbfgs"}, "ovr": {"lbfgs"}, "softmax": {"lbfgs", "newton-cg"}}


@dataclass(frozen=True)
class Passes:
    """Passes over X of one fit (each: one forward and one backward product with X)."""

    count: int
    #: True when ``count`` is a lower bound read from public attributes, not a count.
    at_least: bool = False

    def __str__(self):
        return f"≥ {self.count}" if self.at_least else str(self.count)


def counted_passes(fit):
    """Our fits: evaluations and Hessian products, counted by ``count_passes``."""
    return Passes(fit.counted_passes)


def sklearn_lbfgs_passes(fit):
    """scikit-learn's L-BFGS fits: at least ``n_iter_ + 1`` evaluations per problem.

    scikit-learn does not publish how often its L-BFGS evaluated J; scipy's L-BFGS-B
    evaluates it at the start and at least once in every iteration, so n_iter_ + 1
    (one-vs-rest: summed over its binary problems) is a lower bound.
    """
    models = getattr(fit.model, "estimators_", [fit.model])
    return Passes(sum(int(np.max(model.n_iter_)) + 1 for model in models), at_least=True)


def our_solvers(estimator_class, n_params=None):
    """Our solver names, the estimator's default first (new solvers appear here).

    A linear model of ``n_params`` parameters also gets ``"trust-exact"`` up to
    ``DENSE_HESSIAN_PARAMS`` of them: beyond, its dense Hessian costs far more than
    the fit (softmax 100 000 × 100 × 10: ~56 G multiply-adds per Hessian), or more
    memory than it may take (the text row's 20 001 parameters: 3.2 GB).
    """
    default = estimator_class().solver
    names = instrumentation.SOLVERS
    if n_params is not None and n_params <= DENSE_HESSIAN_PARAMS:
        names = instrumentation.LINEAR_SOLVERS
    return [default] + [name for name in names if name != default]


#: Most parameters of a linear row on which ``"trust-exact"`` runs.
DENSE_HESSIAN_PARAMS = 1000


# ----------------------------------------------------------------------- data
def linear_data(n_samples, n_features, n_classes, seed=SEED):
    """``make_classification``, standardised: what a linear model is usually given.

    30 % of the features carry the signal, 20 % are linear combinations of those
    (correlated columns, as in real data), the rest is noise; two Gaussian clusters
    per class and 5 % of the labels flipped, so no class is separable and the optimum
    is finite even at λ → 0. Features standardised (StandardScaler), float64, C order.
    """
    n_informative = max(5, (3 * n_features) // 10)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=max(1, n_features // 5),
        n_classes=n_classes,
        n_clusters_per_class=2,
        flip_y=0.05,
        class_sep=1.0,
        random_state=seed,
    )
    return np.ascontiguousarray(StandardScaler().fit_transform(X)), y


def digits20(n_train, n_held_out, seed=SEED):
    """Synthetic 20 × 20 handwritten digits, the course network's input shape.

    Each image is one of scikit-learn's 1 797 8 × 8 digits, enlarged to 16 × 16
    (bilinear), placed at a random offset in a 20 × 20 frame, scaled in intensity by
    U(0.7, 1) and blurred by N(0, 0.1²) pixel noise; values are pixel intensities
    (≈ [0, 1]), not standardised, as in the course. Training and held-out images are
    drawn from disjoint sets of source digits (4/5 and 1/5), so held-out accuracy
    measures generalisation to new writers' digits, not to new noise.
    """
    rng = np.random.default_rng(seed)
    digits = load_digits()
    sources = np.clip(ndimage.zoom(digits.images / 16.0, (1, 2.0, 2.0), order=1), 0, 1)
    order = rng.permutation(len(sources))
    n_test_sources = len(sources) // 5

    def draw(pool, n):
        chosen = rng.choice(pool, n)
        frames = np.zeros((n, 20, 20))
        rows = rng.integers(0, 5, n)[:, None] + np.arange(16)
        cols = rng.integers(0, 5, n)[:, None] + np.arange(16)
        frames[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]] = sources[chosen]
        frames *= rng.uniform(0.7, 1.0, (n, 1, 1))
        frames += rng.normal(0.0, 0.1, frames.shape)
        return np.ascontiguousarray(frames.reshape(n, 400)), digits.target[chosen]

    X_train, y_train = draw(order[n_test_sources:], n_train)
    X_held, y_held = draw(order[:n_test_sources], n_held_out)
    return X_train, y_train, X_held, y_held


def digits8(n_samples=None, seed=SEED):
    """scikit-learn's digits (8 × 8, /16), stratified 75/25 split; optionally subsampled."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if n_samples is not None:
        X, y = X[:n_samples], y[:n_samples]
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


# ------------------------------------------------------------------ workloads
@dataclass(frozen=True)
class LinearWorkload:
    """A convex linear problem; contenders race to its optimum J*."""

    name: str
    n_samples: int
    n_features: int
    n_classes: int
    estimator: type
    head: str
    sklearn_solvers: tuple
    one_vs_rest: bool = False
    reg_lambda: float = 1.0
    #: "binary", "ovr" or "softmax"; empty: the workload's name (the synthetic rows).
    model: str = ""
    #: ``source() -> (X, y)``; None: :func:`linear_data` at this workload's sizes.
    source: object = None
    #: What the data are, for the report (the synthetic rows: empty).
    about: str = ""
    #: scikit-learn solvers always run to J* (None: ``TARGET_REFERENCES`` of the model).
    references: frozenset | None = None
    kind: str = field(default="linear", init=False)

    @property
    def model_kind(self):
        return self.model or self.name

    @property
    def n_params(self):
        """Length of θ: (d + 1) per output, one output for a binary model."""
        outputs = 1 if self.model_kind == "binary" else self.n_classes
        return (self.n_features + 1) * outputs

    def describe(self):
        model = {
            "binary": "binary logistic",
            "ovr": f"one-vs-rest, {self.n_classes} classes",
            "softmax": f"softmax, {self.n_classes} classes",
        }[self.model_kind]
        about = f", {self.about}" if self.about else ""
        return f"{model}{about}, {self.n_samples:,} × {self.n_features}, λ = {self.reg_lambda:g}"

    def data(self):
        if self.source is not None:
            return self.source()
        return linear_data(self.n_samples, self.n_features, self.n_classes)

    def objective(self, X, y):
        """Our objective J on (X, y), as our estimator's ``fit`` builds it."""
        return instrumentation.objective(self.estimator(reg_lambda=self.reg_lambda), X, y)

    def ours(self):
        return [
            Contender(
                f"ours {solver}",
                "ours",
                solver,
                _our_linear_builder(self.estimator, self.reg_lambda, solver),
                passes=counted_passes,
            )
            for solver in our_solvers(self.estimator, self.n_params)
        ]

    def sklearn(self):
        wrap = "OvR(sklearn {})" if self.one_vs_rest else "sklearn {}"
        references = self.references
        if references is None:
            references = TARGET_REFERENCES[self.model_kind]
        return [
            Contender(
                wrap.format(solver),
                "sklearn",
                solver,
                _sklearn_linear_builder(self.reg_lambda, solver, self.one_vs_rest),
                iteration_capped=solver in ITERATION_CAPPED,
                target_reference=solver in references,
                passes=sklearn_lbfgs_passes if solver == "lbfgs" else None,
            )
            for solver in self.sklearn_solvers
        ]


@dataclass(frozen=True)
class NetworkWorkload:
    """The two-layer network: same L-BFGS iterations as scikit-learn's MLP."""

    name: str
    n_samples: int
    n_held_out: int
    n_hidden: int
    n_iter: int
    reg_lambda: float = 1.0
    n_features: int = 400
    n_classes: int = 10
    kind: str = field(default="network", init=False)

    def describe(self):
        return (
            f"network, synthetic 20×20 digits, {self.n_samples:,} × {self.n_features} "
            f"× {self.n_classes} classes, H = {self.n_hidden}, λ = alpha = "
            f"{self.reg_lambda:g}, {self.n_iter} L-BFGS iterations"
        )

    def data(self):
        return digits20(self.n_samples, self.n_held_out)

    def estimator(self, tol=1e-5, max_iter=200):
        """Our network of this workload."""
        return TwoLayerMLPClassifier(
            self.n_hidden,
            activation="sigmoid",
            output="softmax",
            reg_lambda=self.reg_lambda,
            solver="lbfgs",
            max_iter=max_iter,
            tol=tol,
            random_state=SEED,
        )

    def objective(self, X, y):
        """Our network's J on (X, y), as its ``fit`` builds it."""
        return instrumentation.objective(self.estimator(), X, y)

    def mlp_at_defaults(self):
        """MLPClassifier(lbfgs) as users run it: this architecture and alpha = λ, else defaults."""
        return MLPClassifier(
            (self.n_hidden,),
            activation="logistic",
            solver="lbfgs",
            alpha=self.reg_lambda,
            random_state=SEED,
        )

    def contenders(self):
        ours = Contender("ours lbfgs", "ours", "lbfgs", self.estimator, passes=counted_passes)
        theirs = Contender(
            "sklearn MLPClassifier(lbfgs)",
            "sklearn",
            "lbfgs",
            lambda tol, max_iter: MLPClassifier(
                (self.n_hidden,),
                activation="logistic",
                solver="lbfgs",
                alpha=self.reg_lambda,
                max_iter=max_iter,
                tol=tol,
                random_state=SEED,
            ),
            passes=sklearn_lbfgs_passes,
        )
        return [ours, theirs]


@dataclass(frozen=True)
class DigitsWorkload:
    """scikit-learn's digits: held-out accuracy, time and passes, each to its own stop."""

    name: str
    n_samples: int | None
    max_iter: int
    n_hidden: int = 25
    reg_lambda: float = 1.0
    kind: str = field(default="digits", init=False)

    def describe(self):
        size = "all 1 797" if self.n_samples is None else f"{self.n_samples}"
        return (
            f"digits (load_digits, {size} images / 16, 75/25 stratified split), "
            f"λ = alpha = C⁻¹ = {self.reg_lambda:g}, max_iter = {self.max_iter}, "
            "default tolerances"
        )

    def data(self):
        return digits8(self.n_samples)

    def contenders(self):
        lam, it, hidden = self.reg_lambda, self.max_iter, self.n_hidden
        rows = []
        for solver in our_solvers(TwoLayerMLPClassifier):
            rows.append(
                Contender(
                    f"ours network {solver}",
                    "ours",
                    solver,
                    _our_network_builder(hidden, lam, solver, it),
                    model="network",
                    passes=counted_passes,
                )
            )
        rows.append(
            Contender(
                "sklearn MLPClassifier(lbfgs)",
                "sklearn",
                "lbfgs",
                lambda tol, max_iter: MLPClassifier(
                    (hidden,),
                    activation="logistic",
                    solver="lbfgs",
                    alpha=lam,
                    max_iter=it,
                    random_state=SEED,
                ),
                model="network",
                passes=sklearn_lbfgs_passes,
            )
        )
        rows.append(
            Contender(
                "ours softmax lbfgs",
                "ours",
                "lbfgs",
                lambda tol, max_iter: SoftmaxClassifier(reg_lambda=lam, max_iter=it),
                model="linear",
                passes=counted_passes,
            )
        )
        rows.append(
            Contender(
                "sklearn LogisticRegression(lbfgs)",
                "sklearn",
                "lbfgs",
                lambda tol, max_iter: LogisticRegression(C=1 / lam, max_iter=it),
                model="linear",
                passes=sklearn_lbfgs_passes,
            )
        )
        return rows


@dataclass(frozen=True)
class DaskWorkload:
    """The binary workload as a Dask array on a LocalCluster, against in memory.

    ``benchmarks/dask_overhead.py`` measures it: per-evaluation overhead of the Dask
    path and the bytes that cross the loopback interface per evaluation and iteration.
    """

    name: str
    binary: LinearWorkload
    n_chunks: int = 4
    n_workers: int = 2
    #: Evaluations (and Hessian-vector products) timed each way; medians reported.
    evaluations: int = 15
    kind: str = field(default="dask", init=False)

    def describe(self):
        return (
            f"{self.binary.describe()}, float64, as a Dask array of {self.n_chunks} row "
            f"chunks on a LocalCluster of {self.n_workers} worker processes (1 thread each)"
        )

    def data(self):
        return self.binary.data()


@dataclass(frozen=True)
class Contender:
    """One estimator configuration; ``build(tol, max_iter)`` returns it unfitted."""

    label: str
    side: str  # "ours" or "sklearn"
    solver: str
    build: object
    iteration_capped: bool = False
    target_reference: bool = False
    model: str = ""  # digits: "network" or "linear", to compare like with like
    #: ``passes(fit) -> Passes`` of a timed fit, or None when they cannot be known.
    passes: object = None


def _our_linear_builder(estimator, reg_lambda, solver):
    def build(tol, max_iter):
        return estimator(reg_lambda=reg_lambda, solver=solver, tol=tol, max_iter=max_iter)

    return build


def _our_network_builder(hidden, reg_lambda, solver, max_iter):
    def build(tol, _):
        return TwoLayerMLPClassifier(
            hidden,
            activation="sigmoid",
            output="softmax",
            reg_lambda=reg_lambda,
            solver=solver,
            max_iter=max_iter,
            random_state=SEED,
        )

    return build


def _sklearn_linear_builder(reg_lambda, solver, one_vs_rest):
    def build(tol, max_iter):
        model = LogisticRegression(
            C=1.0 / reg_lambda, solver=solver, tol=tol, max_iter=max_iter, random_state=SEED
        )
        return OneVsRestClassifier(model) if one_vs_rest else model

    return build


def linear_params(model):
    """(coef (k, d), intercept (k,)) of a fitted linear model, OvR stacked."""
    if hasattr(model, "estimators_"):
        coef = np.vstack([est.coef_ for est in model.estimators_])
        intercept = np.concatenate([est.intercept_ for est in model.estimators_])
        return coef, intercept
    return np.asarray(model.coef_), np.asarray(model.intercept_)


def iterations(model):
    """Iterations of a fitted model; for one-vs-rest the largest over its problems."""
    if hasattr(model, "estimators_"):
        return max(iterations(est) for est in model.estimators_)
    return int(np.max(model.n_iter_))


def workloads(quick=False):
    """All workloads, by name, at full or smoke-test (``quick``) sizes."""
    from benchmarks.choosing_lambda import LambdaWorkload  # these import this module
    from benchmarks.user_data import user_workloads

    if quick:
        sizes = {"binary": (3_000, 20), "ovr": (2_000, 20), "softmax": (2_000, 20)}
        network = NetworkWorkload("network", 600, 200, n_hidden=8, n_iter=5)
        digits = DigitsWorkload("digits", n_samples=300, max_iter=15)
    else:
        sizes = {"binary": (200_000, 100), "ovr": (100_000, 100), "softmax": (100_000, 100)}
        network = NetworkWorkload("network", 20_000, 5_000, n_hidden=25, n_iter=50)
        digits = DigitsWorkload("digits", n_samples=None, max_iter=500)
    binary = LinearWorkload(
        "binary", *sizes["binary"], 2, RegLogisticClassifier, "sigmoid", SKLEARN_BINARY_SOLVERS
    )
    return {
        "binary": binary,
        "ovr": LinearWorkload(
            "ovr",
            *sizes["ovr"],
            10,
            RegLogisticClassifier,
            "sigmoid",
            SKLEARN_BINARY_SOLVERS,
            one_vs_rest=True,
        ),
        "softmax": LinearWorkload(
            "softmax",
            *sizes["softmax"],
            10,
            SoftmaxClassifier,
            "softmax",
            SKLEARN_MULTINOMIAL_SOLVERS,
        ),
        "network": network,
        "digits": digits,
        **user_workloads(quick),
        "lambda": LambdaWorkload("lambda", quick),
        "dask": DaskWorkload("dask", binary, evaluations=3 if quick else 15),
    }
