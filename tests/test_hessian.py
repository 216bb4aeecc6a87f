"""Second-order training: Hessian-vector products, Gauss-Newton, the Newton-type solvers.

The exact products are checked three ways: by the public ``hessian_check`` (H·v against
central differences of the gradient), column by column against a full
finite-difference Hessian, and against deliberately broken products that the check
must reject. The Gauss-Newton product is checked for symmetry, positive
semi-definiteness and against Jᵀ C J built independently from finite differences of
the logits. Then the cost in products with X. The solvers that use the products are
tested in ``test_second_order_solvers.py``.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import (
    PerturbedObjective,
    broken_estimator,
    small_network_params,
    small_problem,
)
from scipy.special import expit, softmax
from sklearn.base import clone

from sklearn_nn import (
    RegLogisticClassifier,
    SoftmaxClassifier,
    TwoLayerMLPClassifier,
    hessian_check,
)
from sklearn_nn._objectives import network as network_objective
from sklearn_nn._solver_options import SECOND_ORDER
from sklearn_nn.gradcheck import _objective_at_random_point

ACTIVATIONS = ["sigmoid", "tanh", "relu"]
OUTPUTS = ["softmax", "sigmoid"]
LINEAR_CASES = {
    # name: (estimator, number of classes)
    "logistic-binary": (RegLogisticClassifier, 2),
    "logistic-one-vs-rest": (RegLogisticClassifier, 3),
    "softmax": (SoftmaxClassifier, 3),
}

# hessian_check at a random θ ~ N(0, 1) along v ~ N(0, 1), ε = 1e-4: the O(ε²)
# truncation error of the central difference. Measured on the problems below
# (5 seeds each): linear models 5e-10..6e-9, the network 4e-9..1.2e-7 (tanh units
# at the top). The bar is 1e-6.
CORRECT = 1e-6
# A wrong product is off by far more: a missing λ term or a block scaled by 1.01
# gives 3e-3..4e-1 (measured), the Gauss-Newton product instead of the exact one
# 6e-2..3e-1.
BROKEN = 1e-3


def objective_at(estimator, X, y, sample_weight=None, random_state=0):
    """The estimator's internal objective built as fit builds it, and a random θ ~ N(0, 1)."""
    objective, theta = _objective_at_random_point(estimator, X, y, sample_weight, random_state)
    return objective._objective, theta


def full_hessian(objective, theta):
    """The matrix of ``objective.hessp`` at θ, one column per unit vector."""
    objective.value_and_grad(theta)
    return np.column_stack([objective.hessp(theta, e) for e in np.eye(theta.size)])


def finite_difference_hessian(objective, theta, eps=1e-5):
    """Column i = (∇J(θ + ε e_i) − ∇J(θ − ε e_i)) / 2ε: needs the gradient only."""
    columns = []
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        plus = objective.value_and_grad(theta + step)[1]
        minus = objective.value_and_grad(theta - step)[1]
        columns.append((plus - minus) / (2 * eps))
    return np.column_stack(columns)


def relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def weight_mask(objective, theta):
    """1 on the penalised weights, 0 on the intercepts, in θ's layout."""
    mask = np.ones_like(theta)
    for part in objective.unpack(mask):
        if part.ndim == 1:  # intercepts are the 1-D blocks (c of a linear model, c1, c2)
            part[:] = 0
    assert 0 < mask.sum() < mask.size
    return mask


# ----------------------------------------------------- 1. exact products: hessian_check
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reg_lambda", [0.0, 3.0])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_network_hessian_check(activation, output, reg_lambda, weighted, n_classes):
    X, y, sample_weight = small_problem(n_classes)
    net = TwoLayerMLPClassifier(
        hidden_layer_size=5, activation=activation, output=output, reg_lambda=reg_lambda
    )
    difference = hessian_check(
        net, X, y, sample_weight=sample_weight if weighted else None, random_state=0
    )
    assert difference <= CORRECT


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("weighting", ["unweighted", "sample-weight", "balanced"])
@pytest.mark.parametrize("reg_lambda", [0.0, 1.0])
@pytest.mark.parametrize("case", list(LINEAR_CASES))
def test_linear_hessian_check(case, reg_lambda, weighting, layout):
    Estimator, n_classes = LINEAR_CASES[case]
    X, y, sample_weight = small_problem(n_classes)
    if layout == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))  # ~40 % zeros
    model = Estimator(
        reg_lambda=reg_lambda, class_weight="balanced" if weighting == "balanced" else None
    )
    difference = hessian_check(
        model,
        X,
        y,
        sample_weight=None if weighting == "unweighted" else sample_weight,
        random_state=0,
    )
    assert difference <= CORRECT


# Every model, evaluated directly: the full matrix of hessp against the full
# finite-difference Hessian (ε = 1e-5; measured agreement 5e-11..8e-10).
FULL_HESSIAN_CASES = {
    "logistic-binary-dense": (RegLogisticClassifier(reg_lambda=1.0), 2, "dense"),
    "logistic-one-vs-rest-csr": (RegLogisticClassifier(reg_lambda=0.0), 3, "csr"),
    "softmax-dense": (SoftmaxClassifier(reg_lambda=1.0), 3, "dense"),
    "softmax-csr": (SoftmaxClassifier(reg_lambda=0.0), 3, "csr"),
    **{
        f"network-{activation}-{output}": (
            TwoLayerMLPClassifier(5, activation=activation, output=output, reg_lambda=3.0),
            3,
            "dense",
        )
        for activation in ACTIVATIONS
        for output in OUTPUTS
    },
    "network-binary-sigmoid-output": (
        TwoLayerMLPClassifier(5, activation="tanh", output="sigmoid", reg_lambda=0.0),
        2,
        "dense",
    ),
}


@pytest.mark.parametrize("case", list(FULL_HESSIAN_CASES))
def test_hessp_equals_finite_difference_hessian(case):
    estimator, n_classes, layout = FULL_HESSIAN_CASES[case]
    X, y, sample_weight = small_problem(n_classes)
    if layout == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    objective, theta = objective_at(estimator, X, y, sample_weight)

    H = full_hessian(objective, theta)
    numerical = finite_difference_hessian(objective, theta)

    assert relative(H, numerical) <= 1e-7
    # The exact Hessian is symmetric: the products are its columns, computed
    # independently of each other.
    assert relative(H, H.T) <= 1e-12


class _PerturbedHessp(PerturbedObjective):
    """Test double: an objective whose Hessian-vector product is deliberately wrong."""

    def hessp(self, theta, v):
        out = self._objective.hessp(theta, v).copy()
        self._perturb(self._objective, v, out)
        return out


def _drop_w2_penalty(objective, v, out):
    V2 = objective.unpack(v)[2]
    objective.unpack(out)[2][...] -= objective.reg_lambda * V2 / objective.weight_sum


def _scale_w1_block(objective, v, out):
    objective.unpack(out)[0][...] *= 1.01


def _drop_linear_penalty(objective, v, out):
    V_W = objective.unpack(v)[0]
    objective.unpack(out)[0][...] -= objective.reg_lambda * V_W / objective.weight_sum


def _broken(Estimator, perturb):
    return broken_estimator(Estimator, _PerturbedHessp, perturb)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hessian_check_catches_broken_products(activation, output, n_classes):
    X, y, sample_weight = small_problem(n_classes)
    params = small_network_params(activation, output)

    def check(estimator):
        return hessian_check(estimator, X, y, sample_weight, random_state=0)

    assert check(TwoLayerMLPClassifier(**params)) <= CORRECT
    assert check(_broken(TwoLayerMLPClassifier, _drop_w2_penalty)(**params)) > BROKEN
    assert check(_broken(TwoLayerMLPClassifier, _scale_w1_block)(**params)) > BROKEN
    # Gauss-Newton is not the Hessian: the check tells them apart.
    assert check(TwoLayerMLPClassifier(hessian="gauss-newton", **params)) > BROKEN


@pytest.mark.parametrize("case", list(LINEAR_CASES))
def test_hessian_check_catches_broken_linear_products(case):
    Estimator, n_classes = LINEAR_CASES[case]
    X, y, sample_weight = small_problem(n_classes)
    assert hessian_check(Estimator(reg_lambda=1.0), X, y, sample_weight, random_state=0) <= (
        CORRECT
    )
    broken = _broken(Estimator, _drop_linear_penalty)(reg_lambda=1.0)
    assert hessian_check(broken, X, y, sample_weight, random_state=0) > BROKEN


@pytest.mark.parametrize(
    "estimator",
    [
        RegLogisticClassifier(reg_lambda=1.0),
        SoftmaxClassifier(reg_lambda=1.0),
        TwoLayerMLPClassifier(5, activation="tanh", reg_lambda=1.0),
        TwoLayerMLPClassifier(5, hessian="gauss-newton", reg_lambda=1.0),
    ],
    ids=["logistic", "softmax", "network-exact", "network-gauss-newton"],
)
def test_hessp_is_recomputed_at_a_new_theta(estimator):
    # The products cache the head's curvature (the network: its forward pass) per θ,
    # keyed by θ's bytes. scipy may hand over the same array mutated in place: the
    # product at the new values must not be the stale one.
    X, y, sample_weight = small_problem()
    objective, theta = objective_at(estimator, X, y, sample_weight, random_state=0)
    _, other = objective_at(estimator, X, y, sample_weight, random_state=1)
    v = np.random.default_rng(2).standard_normal(theta.size)
    fresh, _ = objective_at(estimator, X, y, sample_weight)
    fresh.value_and_grad(other)
    expected = fresh.hessp(other, v)

    buffer = theta.copy()
    objective.value_and_grad(buffer)
    before = objective.hessp(buffer, v)
    buffer[:] = other  # same array object, new values
    after = objective.hessp(buffer, v)

    np.testing.assert_allclose(after, expected, rtol=1e-12, atol=1e-15)
    assert relative(before, expected) > 1e-2


# ------------------------------------------------------------------ 2. Gauss-Newton
def jacobian_of_logits(objective, theta, eps=1e-6):
    """∂Z/∂θ by central differences of the logits: shape (n_samples, n_outputs, n_params)."""
    columns = []
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        plus, minus = objective.logits(theta + step), objective.logits(theta - step)
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=-1)


def head_curvature(Z, sample_weight, output):
    """Per sample, the head's Hessian in z: s·diag(p(1 − p)) or s·(diag(p) − ppᵀ)."""
    k = Z.shape[1]
    if output == "sigmoid":
        p = expit(Z)
        blocks = np.einsum("ik,kl->ikl", p * (1 - p), np.eye(k))
    else:
        p = softmax(Z, axis=1)
        blocks = np.einsum("ik,kl->ikl", p, np.eye(k)) - p[:, :, None] * p[:, None, :]
    return sample_weight[:, None, None] * blocks


@pytest.mark.parametrize("reg_lambda", [0.0, 3.0])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gauss_newton_is_symmetric_positive_semidefinite(activation, output, reg_lambda):
    X, y, sample_weight = small_problem()
    net = TwoLayerMLPClassifier(
        5, activation=activation, output=output, reg_lambda=reg_lambda, hessian="gauss-newton"
    )
    objective, theta = objective_at(net, X, y, sample_weight)
    objective.value_and_grad(theta)
    rng = np.random.default_rng(0)

    # Symmetry and non-negative curvature on random directions, product by product.
    for _ in range(20):
        v, w = rng.standard_normal((2, theta.size))
        Gv, Gw = objective.hessp(theta, v), objective.hessp(theta, w)
        assert w @ Gv == pytest.approx(v @ Gw, rel=1e-12)
    V = rng.standard_normal((200, theta.size))
    curvature = np.array([v @ objective.hessp(theta, v) for v in V])
    assert np.all(curvature >= 0)

    # And as a matrix: symmetric, no eigenvalue below rounding.
    G = full_hessian(objective, theta)
    assert relative(G, G.T) <= 1e-12
    eigenvalues = np.linalg.eigvalsh(G)
    assert eigenvalues[0] >= -1e-12 * eigenvalues[-1]

    # Not so the exact Hessian at the same θ (measured: its smallest eigenvalue is
    # -0.04 to -0.34 times its largest): the checks above are not vacuous.
    exact, _ = objective_at(clone(net).set_params(hessian="exact"), X, y, sample_weight)
    exact_eigenvalues = np.linalg.eigvalsh(full_hessian(exact, theta))
    assert exact_eigenvalues[0] < -1e-2 * exact_eigenvalues[-1]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("reg_lambda", [0.0, 3.0])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gauss_newton_is_jacobian_transpose_curvature_jacobian(
    activation, output, reg_lambda, n_classes
):
    # G = (Jᵀ C J + λ·diag(weights)) / S with J = ∂Z/∂θ (here by finite differences of
    # the logits, through the centred intercepts) and C the head's curvature in Z
    # (here from the probabilities): built without any of the objective's backward
    # passes. Measured agreement: 1e-10..7e-10.
    X, y, sample_weight = small_problem(n_classes)
    net = TwoLayerMLPClassifier(
        5, activation=activation, output=output, reg_lambda=reg_lambda, hessian="gauss-newton"
    )
    objective, theta = objective_at(net, X, y, sample_weight)

    J = jacobian_of_logits(objective, theta)
    C = head_curvature(objective.logits(theta), objective.rows.sample_weight, output)
    reference = np.einsum("ikp,ikl,ilq->pq", J, C, J)
    # The objective's own λ and S: it scales both (and the weights) by one power of 2.
    reference += objective.reg_lambda * np.diag(weight_mask(objective, theta))
    reference /= objective.weight_sum

    G = full_hessian(objective, theta)
    assert relative(G, reference) <= 1e-7
    # Gauss-Newton drops the second-order term: in general it is not the Hessian
    # (measured ‖H − G‖ / ‖H‖ = 0.19..0.56 here).
    exact, _ = objective_at(clone(net).set_params(hessian="exact"), X, y, sample_weight)
    assert relative(G, full_hessian(exact, theta)) > 0.05


@pytest.mark.parametrize("hessian", ["exact", "gauss-newton"])
@pytest.mark.parametrize("output", OUTPUTS)
def test_softmax_output_intercepts_have_a_flat_direction(output, hessian):
    # Adding the same t to every output intercept shifts all logits of a sample by t:
    # the softmax is unchanged, J is constant along that direction, and H (and G)
    # maps it to 0. The Hessian is singular there; sigmoid outputs have no such
    # direction. (What the user guide says about reproducibility rests on this.)
    X, y, sample_weight = small_problem()
    net = TwoLayerMLPClassifier(5, output=output, reg_lambda=1.0, hessian=hessian)
    objective, theta = objective_at(net, X, y, sample_weight)
    shift = np.zeros_like(theta)
    objective.unpack(shift)[3][:] = 1.0
    objective.value_and_grad(theta)
    image = np.linalg.norm(objective.hessp(theta, shift))
    if output == "softmax":
        assert image <= 1e-14
    else:
        assert image > 1e-2


def test_linear_softmax_intercepts_have_a_flat_direction():
    X, y, sample_weight = small_problem()
    objective, theta = objective_at(SoftmaxClassifier(reg_lambda=1.0), X, y, sample_weight)
    shift = np.zeros_like(theta)
    objective.unpack(shift)[1][:] = 1.0
    objective.value_and_grad(theta)
    assert np.linalg.norm(objective.hessp(theta, shift)) <= 1e-14


# ------------------------------------------------------------------- 3. the cost
def counting_view(X):
    """A view of dense X that counts the matrix products it takes part in."""
    counter = {"products": 0}

    class CountingArray(np.ndarray):
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            if ufunc is np.matmul:
                counter["products"] += 1
            inputs = tuple(np.asarray(x) if isinstance(x, CountingArray) else x for x in inputs)
            return getattr(ufunc, method)(*inputs, **kwargs)

    return X.view(CountingArray), counter


COST_CASES = {
    "logistic-binary": (RegLogisticClassifier(reg_lambda=1.0), 2),
    "softmax": (SoftmaxClassifier(reg_lambda=1.0), 3),
    # Second-order solvers: only their fits keep the curvature (the network: the
    # forward pass) of the last evaluation for hessp.
    "logistic-binary-newton-cg": (RegLogisticClassifier(reg_lambda=1.0, solver="newton-cg"), 2),
    "softmax-trust-ncg": (SoftmaxClassifier(reg_lambda=1.0, solver="trust-ncg"), 3),
    "network-exact": (
        TwoLayerMLPClassifier(5, activation="tanh", reg_lambda=1.0, solver="trust-ncg"),
        3,
    ),
    "network-gauss-newton": (
        TwoLayerMLPClassifier(5, hessian="gauss-newton", solver="newton-cg"),
        3,
    ),
}


@pytest.mark.parametrize("case", list(COST_CASES))
def test_products_with_X_per_evaluation(case):
    estimator, n_classes = COST_CASES[case]
    X, y, sample_weight = small_problem(n_classes)
    objective, theta = objective_at(estimator, X, y, sample_weight)
    counted_X, counter = counting_view(objective.rows.X)
    objective.rows.chunk = objective.rows.chunk._replace(X=counted_X)
    v, w = np.random.default_rng(0).standard_normal((2, theta.size))
    reference, _ = objective_at(estimator, X, y, sample_weight)
    reference.value_and_grad(theta)

    def products(call):
        before = counter["products"]
        result = call()
        return counter["products"] - before, result

    # value_and_grad: X W forward and Xᵀ G backward.
    n_value_and_grad, _ = products(lambda: objective.value_and_grad(theta))
    assert n_value_and_grad == 2
    # hessp: X·V forward and Xᵀ·U backward, plus, for first-order fits of the linear
    # models, the logits at θ once per θ (their evaluation keeps no curvature);
    # second-order fits reuse the curvature (network: forward pass) of the evaluation.
    n_first, first = products(lambda: objective.hessp(theta, v))
    n_second, second = products(lambda: objective.hessp(theta, w))
    first_at_theta = 3 if estimator.solver not in SECOND_ORDER else 2
    assert (n_first, n_second) == (first_at_theta, 2)
    # A product at a θ the evaluation did not see builds its curvature first.
    n_elsewhere, _ = products(lambda: objective.hessp(theta + 0.01, v))
    assert n_elsewhere == 3
    np.testing.assert_allclose(first, reference.hessp(theta, v), rtol=1e-13)
    np.testing.assert_allclose(second, reference.hessp(theta, w), rtol=1e-13)


@pytest.mark.parametrize("hessian", ["exact", "gauss-newton"])
def test_network_products_go_through_the_first_layer_once_each_way(monkeypatch, hessian):
    # The same count by another route: each forward / backward of the first layer is
    # one product with X (dense or sparse).
    X, y, sample_weight = small_problem()
    net = TwoLayerMLPClassifier(5, hessian=hessian, solver="trust-krylov")
    objective, theta = objective_at(net, sp.csr_matrix(X), y, sample_weight)
    calls = []
    # Every product of the first layer with X goes through these two kernels.
    for name in ("affine_forward", "affine_backward"):
        original = getattr(network_objective, name)

        def counted(*args, _name=name, _original=original):
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(network_objective, name, counted)

    objective.value_and_grad(theta)
    assert calls == ["affine_forward", "affine_backward"]
    calls.clear()
    objective.hessp(theta, np.ones_like(theta))
    assert calls == ["affine_forward", "affine_backward"]
