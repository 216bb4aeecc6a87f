"""Behaviour of TwoLayerMLPClassifier, with scikit-learn's MLPClassifier as the oracle."""

import copy
import functools
import pickle
import warnings

import numpy as np
import pytest
from helpers import noisy_labels, standardised, targets
from scipy import sparse
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from sklearn_nn import TwoLayerMLPClassifier
from sklearn_nn._objectives import TwoLayerObjective
from sklearn_nn._objectives import network as network_objective

SOLVERS = ["lbfgs", "tnc", "cg"]
ACTIVATIONS = ["sigmoid", "tanh", "relu"]
OUTPUTS = ["softmax", "sigmoid"]
RELU_ADVICE = "solver='lbfgs' copes with them"


def objective_value(X, y, classes, coefs, intercepts, *, reg_lambda, output, activation):
    """Our J (unit sample weights) at a network given by coefs_/intercepts_ lists."""
    objective = TwoLayerObjective(
        X,
        targets(y, classes, output),
        np.ones(X.shape[0]),
        reg_lambda,
        output,
        activation,
        coefs[0].shape[1],
    )
    (W1, W2), (b1, b2) = coefs, intercepts
    theta = objective.theta(W1, b1, W2, b2)
    # θ holds centred intercepts; converting back must give the model's own arrays.
    for ours, given in zip(objective.model_params(theta), [W1, b1, W2, b2], strict=True):
        np.testing.assert_allclose(ours, given, rtol=0, atol=1e-12)
    return objective.value_and_grad(theta)[0]


def briefly_fitted_sklearn_mlp(X, y, hidden, alpha):
    mlp = MLPClassifier(
        hidden_layer_sizes=(hidden,),
        activation="logistic",
        solver="lbfgs",
        alpha=alpha,
        max_iter=15,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mlp.fit(X, y)


def sklearn_mlp_loss(mlp, X, y):
    """scikit-learn's documented MLP loss, from its public API only."""
    squared_weights = sum(float(np.sum(W**2)) for W in mlp.coefs_)
    return (
        log_loss(y, mlp.predict_proba(X), labels=mlp.classes_)
        + (mlp.alpha / (2 * X.shape[0])) * squared_weights
    )


def digits_subset(n_samples=300):
    X, y = load_digits(return_X_y=True)
    return X[:n_samples] / 16, y[:n_samples]


# --------------------------------------------------------- parity with scikit-learn
PARITY_CASES = {
    # name: (dataset, first n rows, output that matches scikit-learn's MLP)
    "iris-softmax": ("iris", None, "softmax"),
    "digits-softmax": ("digits", 400, "softmax"),
    # scikit-learn uses a single logistic output unit for two classes.
    "breast-cancer-binary-sigmoid": ("breast_cancer", None, "sigmoid"),
}


def parity_data(dataset, n_rows):
    if dataset == "digits":
        return digits_subset(n_rows)
    return standardised(dataset)


@pytest.mark.parametrize("reg_lambda", [0.0, 0.1, 3.0])
@pytest.mark.parametrize("case", list(PARITY_CASES))
def test_objective_equals_sklearn_mlp_loss(case, reg_lambda):
    dataset, n_rows, output = PARITY_CASES[case]
    X, y = parity_data(dataset, n_rows)
    hidden = 6
    mlp = briefly_fitted_sklearn_mlp(X, y, hidden, alpha=reg_lambda)
    assert mlp.n_outputs_ == (1 if output == "sigmoid" else np.unique(y).size)

    ours = objective_value(
        X,
        y,
        mlp.classes_,
        mlp.coefs_,
        mlp.intercepts_,
        reg_lambda=reg_lambda,
        output=output,
        activation="sigmoid",
    )
    theirs = sklearn_mlp_loss(mlp, X, y)
    assert abs(ours - theirs) <= 1e-10, f"ours {ours!r} vs scikit-learn {theirs!r}"


@pytest.mark.parametrize("case", list(PARITY_CASES))
def test_predict_proba_equals_sklearn_mlp_at_same_weights(case):
    dataset, n_rows, output = PARITY_CASES[case]
    X, y = parity_data(dataset, n_rows)
    hidden = 6
    mlp = briefly_fitted_sklearn_mlp(X, y, hidden, alpha=1.0)
    net = TwoLayerMLPClassifier(hidden, output=output, random_state=0).fit(X, y)
    assert [W.shape for W in net.coefs_] == [W.shape for W in mlp.coefs_]
    assert [b.shape for b in net.intercepts_] == [b.shape for b in mlp.intercepts_]

    net.coefs_ = [W.copy() for W in mlp.coefs_]
    net.intercepts_ = [b.copy() for b in mlp.intercepts_]

    np.testing.assert_array_equal(net.classes_, mlp.classes_)
    np.testing.assert_allclose(net.predict_proba(X), mlp.predict_proba(X), rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(net.predict(X), mlp.predict(X))


def test_digits_accuracy_not_below_sklearn_mlp():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.3, stratify=y, random_state=0
    )
    ours, theirs = [], []
    # Same model, same iteration budget; either may stop at max_iter.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(5):
            net = TwoLayerMLPClassifier(25, reg_lambda=1.0, max_iter=200, random_state=seed)
            ours.append(net.fit(X_train, y_train).score(X_test, y_test))
            mlp = MLPClassifier(
                hidden_layer_sizes=(25,),
                activation="logistic",
                solver="lbfgs",
                alpha=1.0,
                max_iter=200,
                random_state=seed,
            )
            theirs.append(mlp.fit(X_train, y_train).score(X_test, y_test))

    report = f"held-out accuracy: ours {np.mean(ours):.4f}, scikit-learn {np.mean(theirs):.4f}"
    print(report)
    assert np.mean(ours) >= np.mean(theirs) - 0.005, report


# -------------------------------------------------------- pipelines and persistence
def test_pipeline_grid_search_parallel_pickle():
    X, y = digits_subset(300)
    pipeline = make_pipeline(StandardScaler(), TwoLayerMLPClassifier(random_state=0))
    grid = {
        "twolayermlpclassifier__reg_lambda": [0.3, 3.0],
        "twolayermlpclassifier__hidden_layer_size": [5, 15],
    }
    parallel = GridSearchCV(pipeline, grid, cv=3, n_jobs=2).fit(X, y)
    serial = GridSearchCV(pipeline, grid, cv=3, n_jobs=1).fit(X, y)

    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert parallel.best_params_ == serial.best_params_
    assert parallel.best_score_ > 0.85
    best = parallel.best_estimator_[-1]
    best_params = {name.split("__")[1]: value for name, value in parallel.best_params_.items()}
    assert best.get_params() == {**best.get_params(), **best_params}
    assert best.coefs_[0].shape == (64, best.hidden_layer_size)

    restored = pickle.loads(pickle.dumps(parallel))
    np.testing.assert_array_equal(restored.predict(X), parallel.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), parallel.predict_proba(X))


# ------------------------------------------------------------------ early stopping
@pytest.mark.parametrize("solver", SOLVERS)
def test_early_stopping_keeps_best_held_out_iterate(solver):
    X, y = noisy_labels()
    labels = np.array(["a", "b"])[y]  # the split stratifies on the *encoded* labels
    fraction, patience, max_iter = 0.2, 10, 2000
    net = TwoLayerMLPClassifier(
        reg_lambda=1e-4,  # small enough to overfit 30 % flipped labels
        solver=solver,
        max_iter=max_iter,
        early_stopping=True,
        validation_fraction=fraction,
        n_iter_no_change=patience,
        random_state=0,
    ).fit(X, labels)

    scores = net.validation_scores_
    assert net.n_iter_ < max_iter
    assert len(scores) == net.n_iter_ == len(net.loss_curve_)
    assert net.best_validation_score_ == max(scores)
    best = scores.index(max(scores))
    # Stopped by patience: n_iter_no_change iterations after the (first) best one.
    assert net.n_iter_ == best + 1 + patience

    # The held-out part, reproduced exactly as fit draws it.
    train, held_out = train_test_split(
        np.arange(X.shape[0]),
        test_size=fraction,
        stratify=np.unique(labels, return_inverse=True)[1],
        random_state=check_random_state(0),
    )
    assert held_out.size == 60
    assert net.score(X[held_out], labels[held_out]) == net.best_validation_score_
    # The returned weights are the best iterate, trained on the training part only.
    assert net.loss_ == net.loss_curve_[best]
    j_train = objective_value(
        X[train],
        labels[train],
        net.classes_,
        net.coefs_,
        net.intercepts_,
        reg_lambda=1e-4,
        output="softmax",
        activation="sigmoid",
    )
    assert net.loss_ == pytest.approx(j_train, rel=1e-12)


def test_early_stopping_scores_without_a_pass_over_the_training_rows(monkeypatch):
    # The monitor needs the model at the iterate, whose output intercepts depend on
    # the training rows' mean hidden activations: they are kept from the solver's
    # evaluation there, so scoring reads only the held-out rows.
    passes = {"training": 0, "held out": 0, "value_and_grad": 0}
    X, y = noisy_labels()
    n_held_out = int(np.ceil(0.1 * X.shape[0]))  # the default validation_fraction
    forward, value_and_grad = network_objective.affine_forward, TwoLayerObjective.value_and_grad

    def counted_forward(X, W, b):
        passes["held out" if X.shape[0] == n_held_out else "training"] += 1
        return forward(X, W, b)

    def counted_value_and_grad(self, theta):
        passes["value_and_grad"] += 1
        return value_and_grad(self, theta)

    monkeypatch.setattr(network_objective, "affine_forward", counted_forward)
    monkeypatch.setattr(TwoLayerObjective, "value_and_grad", counted_value_and_grad)
    net = TwoLayerMLPClassifier(
        reg_lambda=1e-4, max_iter=2000, early_stopping=True, random_state=0
    ).fit(X, y)
    assert passes["held out"] == net.n_iter_
    # θ's set-up, one per evaluation, and J at the restored best iterate.
    assert passes["training"] == 1 + passes["value_and_grad"]


def test_without_early_stopping_validation_attributes_are_none():
    X, y = noisy_labels()
    net = TwoLayerMLPClassifier(hidden_layer_size=5, random_state=0).fit(X, y)
    assert net.validation_scores_ is None
    assert net.best_validation_score_ is None
    # A refit without early stopping clears what an early-stopped fit recorded.
    net.set_params(early_stopping=True, reg_lambda=1e-4, max_iter=2000).fit(X, y)
    assert net.validation_scores_
    net.set_params(early_stopping=False).fit(X, y)
    assert net.validation_scores_ is None
    assert net.best_validation_score_ is None


# ------------------------------------------------------------ shapes and semantics
@pytest.mark.parametrize(
    ("n_classes", "output", "n_outputs"),
    [(2, "sigmoid", 1), (2, "softmax", 2), (3, "sigmoid", 3), (3, "softmax", 3)],
)
def test_fitted_shapes(n_classes, output, n_outputs):
    X, y = standardised("iris")
    keep = y < n_classes
    X, y = X[keep], y[keep]
    net = TwoLayerMLPClassifier(hidden_layer_size=7, output=output, random_state=0).fit(X, y)

    assert [W.shape for W in net.coefs_] == [(4, 7), (7, n_outputs)]
    assert [b.shape for b in net.intercepts_] == [(7,), (n_outputs,)]
    assert net.n_features_in_ == 4
    np.testing.assert_array_equal(net.classes_, np.arange(n_classes))
    expected = (X.shape[0],) if n_classes == 2 else (X.shape[0], n_classes)
    assert net.decision_function(X).shape == expected
    assert net.predict_proba(X).shape == (X.shape[0], n_classes)


@pytest.mark.parametrize("output", OUTPUTS)
def test_binary_decision_function_is_positive_for_second_class(output):
    X, y = standardised("breast_cancer")
    labels = np.array(["malignant", "benign"])[y]  # classes_[1] is "malignant"
    net = TwoLayerMLPClassifier(hidden_layer_size=5, output=output, random_state=0)
    net.fit(X, labels)
    assert list(net.classes_) == ["benign", "malignant"]

    scores = net.decision_function(X)

    assert scores.shape == (X.shape[0],)
    np.testing.assert_array_equal(net.predict(X), np.where(scores > 0, "malignant", "benign"))
    np.testing.assert_allclose(net.predict_proba(X)[:, 1], expit(scores), rtol=1e-10)
    assert np.mean((scores > 0) == (labels == "malignant")) > 0.95


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_probabilities_are_consistent(activation, output, n_classes):
    X, y = standardised("iris")
    keep = y < n_classes
    X, y = X[keep], y[keep]
    net = TwoLayerMLPClassifier(
        hidden_layer_size=6, activation=activation, output=output, random_state=0
    ).fit(X, y)
    X_test = np.vstack([X, 50 * X[:10]])  # also far out, where probabilities saturate

    proba = net.predict_proba(X_test)
    log_proba = net.predict_log_proba(X_test)

    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(proba >= 0)
    assert np.all(np.isfinite(log_proba))
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(net.predict(X_test), net.classes_[proba.argmax(axis=1)])
    assert net.score(X, y) > 0.9


def test_same_random_state_gives_identical_fits():
    X, y = standardised("iris")
    first = TwoLayerMLPClassifier(hidden_layer_size=8, random_state=3).fit(X, y)
    second = TwoLayerMLPClassifier(hidden_layer_size=8, random_state=3).fit(X, y)
    other = TwoLayerMLPClassifier(hidden_layer_size=8, random_state=4).fit(X, y)

    for a, b in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert first.n_iter_ == second.n_iter_
    assert first.loss_curve_ == second.loss_curve_
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_initial_weights_do_not_depend_on_the_data():
    X, y = standardised("iris")
    net = TwoLayerMLPClassifier(hidden_layer_size=8, random_state=0)

    def initial_model(X, y):
        classes = np.unique(y)
        objective = net._objective(X, targets(y, classes, "softmax"), np.ones(X.shape[0]))
        return objective.model_params(net._initial_params(objective))

    subset = np.r_[0:10, 50:60, 100:110]
    all_rows = initial_model(X, y)
    few_rows = initial_model(X[subset] + 5.0, y[subset])  # other n, other mean
    repeated = initial_model(np.tile(X, (3, 1)), np.tile(y, 3))

    for a, b, c in zip(all_rows, few_rows, repeated, strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
        np.testing.assert_allclose(c, a, rtol=0, atol=1e-12)
    # Glorot-uniform, the course's ε_init = √6/√(L_in + L_out), per layer.
    W1, b1, W2, b2 = all_rows
    for W, b, bound in [(W1, b1, np.sqrt(6 / (4 + 8))), (W2, b2, np.sqrt(6 / (8 + 3)))]:
        assert np.max(np.abs(W)) <= bound
        assert np.max(np.abs(b)) <= bound
        assert np.max(np.abs(W)) > 0.8 * bound


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_continues_from_previous_weights(solver):
    X, y = standardised("iris")
    cold = TwoLayerMLPClassifier(hidden_layer_size=10, solver=solver, random_state=0).fit(X, y)
    warm = TwoLayerMLPClassifier(
        hidden_layer_size=10, solver=solver, random_state=0, warm_start=True, tol=1e-2
    ).fit(X, y)
    loose_loss = warm.loss_

    warm.set_params(tol=1e-5).fit(X, y)
    assert warm.n_iter_ < cold.n_iter_
    assert warm.loss_curve_[0] <= loose_loss
    assert warm.loss_ == pytest.approx(cold.loss_, rel=1e-6)

    # At a converged point a warm refit has (almost) nothing left to do...
    coefs = [W.copy() for W in warm.coefs_]
    warm.fit(X, y)
    assert warm.n_iter_ <= 1
    np.testing.assert_allclose(warm.coefs_[1], coefs[1], atol=1e-5)
    # ...whereas a cold refit starts over from the random initial weights.
    cold.fit(X, y)
    assert cold.n_iter_ > 5


def test_warm_start_with_another_shape_starts_over():
    X, y = standardised("iris")
    net = TwoLayerMLPClassifier(hidden_layer_size=10, random_state=0, warm_start=True).fit(X, y)
    net.set_params(hidden_layer_size=6).fit(X, y)
    fresh = TwoLayerMLPClassifier(hidden_layer_size=6, random_state=0).fit(X, y)

    for a, b in zip(net.coefs_ + net.intercepts_, fresh.coefs_ + fresh.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_loss_curve_and_loss(output, solver):
    X, y = standardised("iris")
    net = TwoLayerMLPClassifier(
        hidden_layer_size=6, output=output, solver=solver, reg_lambda=0.5, random_state=0
    ).fit(X, y)

    assert net.n_iter_ >= 1
    assert len(net.loss_curve_) == net.n_iter_
    assert net.loss_curve_[-1] == net.loss_
    # loss_ is J at the stored weights, and every solver here descends.
    j = objective_value(
        X,
        y,
        net.classes_,
        net.coefs_,
        net.intercepts_,
        reg_lambda=0.5,
        output=output,
        activation="sigmoid",
    )
    assert net.loss_ == pytest.approx(j, rel=1e-12)
    assert np.all(np.diff(net.loss_curve_) <= 1e-12)


# At the float32 resolution of J (~1e-8), CG's line search cannot reach 1e-5.
FLOAT32_TOL = {"lbfgs": 1e-5, "tnc": 1e-5, "cg": 1e-4}


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_input(solver):
    X, y = standardised("iris")
    X32 = X.astype(np.float32)
    net64 = TwoLayerMLPClassifier(hidden_layer_size=10, solver=solver, random_state=0)
    net32 = clone(net64).set_params(tol=FLOAT32_TOL[solver])
    net64.fit(X32.astype(np.float64), y)
    net32.fit(X32, y)

    assert all(np.all(np.isfinite(W)) for W in net32.coefs_ + net32.intercepts_)
    proba = net32.predict_proba(X32)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(proba, net64.predict_proba(X32.astype(np.float64)), atol=3e-3)
    np.testing.assert_array_equal(net32.predict(X32), net64.predict(X32.astype(np.float64)))
    # CSR float32 X takes other products than C-ordered float32 X: the same fit, to
    # what its tol allows (as float64 above).
    csr = clone(net32).fit(sparse.csr_matrix(X32), y)
    np.testing.assert_allclose(csr.predict_proba(sparse.csr_matrix(X32)), proba, atol=3e-3)


# ---------------------------------------------------------------- ReLU and kinks
@functools.cache
def moons():
    X, y = make_moons(n_samples=100, noise=0.2, random_state=0)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def lbfgs_gain(net, X, y):
    """Relative decrease of J that L-BFGS still finds when started from net's weights."""
    # Started on a kink, L-BFGS itself may stall there and warn: only its gain counts.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        continued = copy.deepcopy(net).set_params(solver="lbfgs", warm_start=True).fit(X, y)
    return (net.loss_ - continued.loss_) / net.loss_


@pytest.mark.parametrize("solver", ["tnc", "cg"])
def test_relu_tnc_cg_converge_or_advise_lbfgs(solver):
    # ReLU makes J piecewise smooth; at its kinks the tnc/cg line searches may give
    # up with |grad| far above tol. Acceptable outcomes: a point that is (nearly) a
    # minimum -- L-BFGS started there finds < 1 % to gain -- or a ConvergenceWarning
    # that recommends lbfgs.
    X, y = moons()
    net = TwoLayerMLPClassifier(activation="relu", solver=solver, random_state=0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        net.fit(X, y)

    warned = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    if warned:
        assert RELU_ADVICE in str(warned[0].message)
    else:
        assert not record, [str(w.message) for w in record]
        gain = lbfgs_gain(net, X, y)
        assert gain < 1e-2, (
            f"{solver} reported convergence at J = {net.loss_:.6f}, but L-BFGS continues "
            f"from there to {net.loss_ * (1 - gain):.6f} ({gain:.1%} lower)"
        )


@pytest.mark.parametrize("solver", ["tnc", "cg"])
def test_relu_tnc_cg_warning_advises_lbfgs(solver):
    X, y = moons()
    net = TwoLayerMLPClassifier(activation="relu", solver=solver, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"solver='lbfgs' copes with them") as record:
        net.fit(X, y)
    assert len(record) == 1
    assert "ReLU" in str(record[0].message)


@pytest.mark.parametrize(
    "params",
    [
        {"activation": "relu", "solver": "lbfgs"},
        {"activation": "tanh", "solver": "cg"},
        {"activation": "sigmoid", "solver": "tnc"},
    ],
    ids=["relu-lbfgs", "tanh-cg", "sigmoid-tnc"],
)
def test_no_relu_advice_where_it_does_not_apply(params):
    X, y = moons()
    net = TwoLayerMLPClassifier(max_iter=3, random_state=0, **params)
    with pytest.warns(ConvergenceWarning) as record:
        net.fit(X, y)
    assert RELU_ADVICE not in str(record[0].message)


def test_relu_lbfgs_converges_without_warning():
    X, y = moons()
    # filterwarnings=error: any ConvergenceWarning fails this test.
    net = TwoLayerMLPClassifier(activation="relu", solver="lbfgs", random_state=0).fit(X, y)
    assert net.n_iter_ < net.max_iter
    assert lbfgs_gain(net, X, y) < 1e-3
    assert net.score(X, y) > 0.9


# -------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"hidden_layer_size": 0}, r"'hidden_layer_size' parameter .* Got 0"),
        ({"hidden_layer_size": 2.5}, r"'hidden_layer_size' parameter"),
        ({"activation": "softplus"}, r"'activation' parameter .* 'softplus'"),
        ({"output": "linear"}, r"'output' parameter .* 'linear'"),
        ({"validation_fraction": 0.0}, r"'validation_fraction' parameter .* Got 0"),
        ({"validation_fraction": 1.0}, r"'validation_fraction' parameter .* Got 1"),
        ({"n_iter_no_change": 0}, r"'n_iter_no_change' parameter .* Got 0"),
        ({"early_stopping": "yes"}, r"'early_stopping' parameter"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else "",
)
def test_bad_parameters_raise_clear_error(params, match):
    X, y = standardised("iris")
    net = TwoLayerMLPClassifier(**params)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)
    assert not hasattr(net, "coefs_")


def test_early_stopping_on_too_little_data_raises_clear_error():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(9, 3)), np.arange(9) % 3
    # 10 % of 9 rows is 1 held-out row: too few to hold out one of each of 3 classes.
    net = TwoLayerMLPClassifier(hidden_layer_size=3, early_stopping=True)
    with pytest.raises(ValueError, match=r"early_stopping.*validation_fraction=0\.1"):
        net.fit(X, y)
    assert not hasattr(net, "coefs_")
    # Without early stopping the same data fits.
    net.set_params(early_stopping=False).fit(X, y)


def test_lbfgs_memory_is_capped_for_large_networks(monkeypatch):
    # 30 curvature pairs, unless they would take more than 2 MB (two float64 vectors
    # of θ's size each): the course network's 10 285 parameters keep 12, never < 10.
    import sklearn_nn._optimize as optimize
    from sklearn_nn._solver_options import lbfgs_memory

    seen = []
    original = optimize.scipy_minimize

    def recording(*args, options=None, **kwargs):
        seen.append(options["maxcor"])
        return original(*args, options=options, **kwargs)

    monkeypatch.setattr(optimize, "scipy_minimize", recording)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 400)), np.arange(60) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 2 iterations: by design
        TwoLayerMLPClassifier(25, max_iter=2, random_state=0).fit(X, y)
        TwoLayerMLPClassifier(3, max_iter=2, random_state=0).fit(X[:, :5], y)
    assert seen[0] == 12 and seen[-1] == 30
    assert [lbfgs_memory(n) for n in (10**6, 4369, 1)] == [10, 30, 30]
