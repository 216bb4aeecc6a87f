"""The objectives on their own: analytic gradients, the J convention, numerical care.

Every objective's analytic gradient is compared with central differences, with the
measure of the course's gradient checks, ‖g_num − g‖ / ‖g_num + g‖, on a random point
away from the optimum, for every head, with and without sample weights, with and
without the penalty, on dense and CSR data in float64 and float32.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from sklearn_nn._objectives import LinearObjective, column_sums, scaled_weights, scan_rows
from sklearn_nn._objectives.heads import softmax_head

EPS = 1e-4

# (head, number of output columns): a binary logistic regression has one sigmoid
# column; one-vs-rest has one per class (3+); softmax has one per class.
PROBLEMS = {
    "binary": ("sigmoid", 1),
    "one-vs-rest": ("sigmoid", 4),
    "softmax": ("softmax", 4),
}

# float64: central differences with ε = 1e-4 have a truncation error O(ε²) ≈ 1e-8
# relative to the gradient and a rounding error ≈ 1e-16/ε ≈ 1e-12; measured values
# are 1e-10..1e-9, so 1e-7 is tight enough to catch any wrong term.
# float32: the products with X run in float32 (by design, X is never promoted), so
# W is rounded to float32 before it meets X. θ ± ε then moves W by ε only up to the
# float32 spacing of W (≈ 6e-8·|W|), i.e. up to ≈ 6e-8 / 1e-4 ≈ 6e-4 relative error
# in each difference quotient, plus J's own float32 rounding of the same order.
# Measured: 2e-4..6e-4 on these problems. 2e-3 still rejects a wrong gradient (which
# is off by O(1e-1) or more); the float32 gradient is checked tightly against the
# float64 gradient of the same data in `test_float32_gradient_matches_float64`.
RTOL_GRADCHECK = {np.float64: 1e-7, np.float32: 2e-3}


def central_difference_error(value_and_grad, theta, eps=EPS):
    """The course's gradient check: ‖g_num − g‖ / ‖g_num + g‖ with central differences."""
    _, grad = value_and_grad(theta)
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        plus, _ = value_and_grad(theta + step)
        minus, _ = value_and_grad(theta - step)
        numeric[i] = (plus - minus) / (2 * eps)
    return np.linalg.norm(numeric - grad) / np.linalg.norm(numeric + grad)


def make_problem(problem, *, weighted, n_samples=40, n_features=5, seed=0):
    """Data with uncentred, differently scaled, partly zero features (sparse-friendly)."""
    head, n_outputs = PROBLEMS[problem]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * [1.0, 2.0, 0.5, 3.0, 1.5]
    X += [0.0, 1.0, -1.0, 4.0, 0.5]
    X[rng.random(X.shape) < 0.3] = 0.0
    n_classes = 2 if n_outputs == 1 else n_outputs
    y = np.arange(n_samples) % n_classes  # every class present
    rng.shuffle(y)
    if n_outputs == 1:
        Y = (y == 1).astype(float)[:, None]
    else:
        Y = (y[:, None] == np.arange(n_classes)).astype(float)
    if weighted:
        sample_weight = rng.uniform(0.1, 3.0, size=n_samples)
        sample_weight[0] = 0.0  # a zero weight is allowed and must drop the row
    else:
        sample_weight = np.ones(n_samples)
    return X, Y, sample_weight, head, rng


def as_layout(X, dtype, layout):
    X = X.astype(dtype)
    return sp.csr_matrix(X) if layout == "csr" else X


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reg_lambda", [0.0, 0.7])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_gradient_matches_central_differences(problem, weighted, reg_lambda, dtype, layout):
    X, Y, sample_weight, head, rng = make_problem(problem, weighted=weighted)
    X = as_layout(X, dtype, layout)
    objective = LinearObjective(X, Y.astype(dtype), sample_weight, reg_lambda, head)
    theta = rng.normal(scale=0.5, size=objective.n_params)

    error = central_difference_error(objective.value_and_grad, theta)

    assert error <= RTOL_GRADCHECK[dtype]


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_float32_gradient_matches_float64(problem, layout):
    # The same (float32-representable) data in both dtypes: only rounding differs.
    X, Y, sample_weight, head, rng = make_problem(problem, weighted=True)
    X32 = X.astype(np.float32)
    objective32 = LinearObjective(as_layout(X32, np.float32, layout), Y, sample_weight, 0.7, head)
    objective64 = LinearObjective(as_layout(X32, np.float64, layout), Y, sample_weight, 0.7, head)
    theta = rng.normal(scale=0.5, size=objective64.n_params)

    value32, grad32 = objective32.value_and_grad(theta)
    value64, grad64 = objective64.value_and_grad(theta)

    assert grad32.dtype == np.float64  # the optimizer's vector stays float64
    assert value32 == pytest.approx(value64, rel=1e-6)
    assert np.linalg.norm(grad32 - grad64) <= 1e-5 * np.linalg.norm(grad64)


def assert_same_value_and_grad(objective, reference, theta):
    """``objective`` and ``reference`` agree on J(θ) and ∇J(θ) to rounding."""
    value, grad = objective.value_and_grad(theta)
    value_reference, grad_reference = reference.value_and_grad(theta)
    assert value == pytest.approx(value_reference, rel=1e-12)
    np.testing.assert_allclose(grad, grad_reference, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_csr_equals_dense(problem):
    X, Y, sample_weight, head, rng = make_problem(problem, weighted=True)
    dense = LinearObjective(X, Y, sample_weight, 0.7, head)
    sparse = LinearObjective(sp.csr_matrix(X), Y, sample_weight, 0.7, head)
    theta = rng.normal(scale=0.5, size=dense.n_params)

    assert_same_value_and_grad(sparse, dense, theta)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_value_at_zero(problem):
    # At θ = 0 every probability is 1/2 (sigmoid) or 1/K (softmax), whatever the
    # weights and λ: J = K·ln 2 for K sigmoid columns, ln K for a K-way softmax.
    X, Y, sample_weight, head, _ = make_problem(problem, weighted=True)
    objective = LinearObjective(X, Y, sample_weight, 3.0, head)
    n_outputs = Y.shape[1]
    expected = np.log(n_outputs) if head == "softmax" else n_outputs * np.log(2)

    value, _ = objective.value_and_grad(np.zeros(objective.n_params))

    assert value == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_integer_weights_equal_repeated_rows(problem):
    # J is divided by Σ s_i, never by the row count: integer weights repeat rows exactly.
    X, Y, _, head, rng = make_problem(problem, weighted=False)
    counts = rng.integers(0, 4, size=X.shape[0])
    counts[:2] = [1, 2]  # not all zero
    weighted = LinearObjective(X, Y, counts.astype(float), 0.7, head)
    repeated = LinearObjective(
        np.repeat(X, counts, axis=0),
        np.repeat(Y, counts, axis=0),
        np.ones(counts.sum()),
        0.7,
        head,
    )
    theta = rng.normal(scale=0.5, size=weighted.n_params)

    assert_same_value_and_grad(weighted, repeated, theta)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_scaling_every_weight_by_c_equals_dividing_lambda_by_c(problem):
    # (Σ c·s_i ℓ_i + (λ/2)‖W‖²) / (c·S) = (Σ s_i ℓ_i + (λ/(2c))‖W‖²) / S: the penalty
    # is not scaled with the weights (as C in scikit-learn is not), the data term is.
    X, Y, sample_weight, head, rng = make_problem(problem, weighted=True)
    scaled = LinearObjective(X, Y, 7.5 * sample_weight, 0.7, head)
    equivalent = LinearObjective(X, Y, sample_weight, 0.7 / 7.5, head)
    theta = rng.normal(scale=0.5, size=scaled.n_params)

    assert_same_value_and_grad(scaled, equivalent, theta)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_penalty_is_half_lambda_squared_weights_over_weight_sum(problem):
    # J(λ) − J(0) = (λ/2)·‖W‖² / S: the weights are penalised, intercepts are not.
    X, Y, sample_weight, head, rng = make_problem(problem, weighted=True)
    reg_lambda = 2.5
    penalised = LinearObjective(X, Y, sample_weight, reg_lambda, head)
    free = LinearObjective(X, Y, sample_weight, 0.0, head)
    theta = rng.normal(scale=0.5, size=penalised.n_params)
    W, _ = penalised.unpack(theta)
    expected = 0.5 * reg_lambda * np.sum(W**2) / sample_weight.sum()

    assert penalised.value_and_grad(theta)[0] - free.value_and_grad(theta)[0] == pytest.approx(
        expected, rel=1e-10
    )

    # Weights zero, intercepts anything: no penalty at all.
    W[...] = 0.0
    assert penalised.value_and_grad(theta)[0] == pytest.approx(
        free.value_and_grad(theta)[0], rel=1e-14
    )


# ----------------------------------------------------------------- numerical care
# pytest runs with filterwarnings=error, so an overflow in exp or a log(0) would
# raise a RuntimeWarning as an error in these tests.


def test_sigmoid_at_logits_plus_minus_1e4():
    # x = ±1 (mean 0, so the intercept stays 0), w = 1e4: z = ±1e4.
    X = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])  # the first two confidently wrong
    objective = LinearObjective(X, Y, np.ones(4), 0.0, "sigmoid")
    theta = np.zeros(objective.n_params)
    W, _ = objective.unpack(theta)
    W[...] = 1e4

    value, grad = objective.value_and_grad(theta)

    # Two losses of 1e4 (−log σ(−1e4)), two of 0 (−log σ(1e4) underflows to 0).
    assert value == pytest.approx(5000.0, rel=1e-14)
    # ∂J/∂w = Σ x_i (σ(z_i) − y_i) / 4 = (1·1 + (−1)·(−1)) / 4; ∂J/∂c = (1 − 1) / 4.
    np.testing.assert_allclose(grad, [0.5, 0.0], atol=1e-14)


def test_softmax_at_logits_plus_minus_1e4():
    X = np.array([[1e4], [-1e4], [0.0]])
    Y = np.eye(3)
    objective = LinearObjective(X, Y, np.ones(3), 0.0, "softmax")
    theta = np.zeros(objective.n_params)
    W, _ = objective.unpack(theta)
    W[...] = [[-1.0, 0.0, 1.0]]  # rows of Z: [−1e4, 0, 1e4], [1e4, 0, −1e4], [0, 0, 0]

    value, grad = objective.value_and_grad(theta)

    # Losses: 2e4 (true class at −1e4 against 1e4), 1e4 (0 against 1e4), ln 3.
    assert value == pytest.approx((3e4 + np.log(3)) / 3, rel=1e-14)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_head_of_class_codes_equals_that_of_one_hot_targets(order, dtype):
    rng = np.random.default_rng(0)
    n, k = 300, 5
    Z = np.asarray(rng.normal(scale=30.0, size=(n, k)), dtype=dtype, order=order)
    codes = rng.integers(k, size=n)
    weights = rng.uniform(size=n) * (rng.uniform(size=n) > 0.2)  # some rows held out
    Z_before = Z.copy()

    loss, G = softmax_head(Z, codes, weights)
    one_hot_loss, one_hot_G = softmax_head(Z, np.eye(k, dtype=np.uint8)[codes], weights)

    Z64 = Z.astype(np.float64)
    expected = weights @ (logsumexp(Z64, axis=1) - Z64[np.arange(n), codes])
    expected_G = weights[:, None] * (softmax(Z64, axis=1) - np.eye(k)[codes])
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(expected, rel=rtol)
    assert loss == pytest.approx(one_hot_loss, rel=rtol)
    assert G.dtype == dtype
    np.testing.assert_allclose(G, expected_G, atol=rtol)
    np.testing.assert_allclose(G, one_hot_G, atol=rtol)
    np.testing.assert_array_equal(Z, Z_before)


def reference_value(objective, theta, X, Y, sample_weight, reg_lambda, head):
    """J from the model's logits with numpy's own stable formulas, in float64."""
    Z = np.asarray(objective.logits(theta), dtype=np.float64)
    if head == "sigmoid":
        per_sample = np.sum(np.logaddexp(0.0, Z) - Y * Z, axis=1)
    else:
        per_sample = logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1)
    W, _ = objective.unpack(theta)
    penalty = 0.5 * reg_lambda * np.sum(W**2)
    return (sample_weight @ per_sample + penalty) / sample_weight.sum()


@pytest.mark.parametrize(
    ("dtype", "scale"),
    [(np.float64, 1e6), (np.float64, 1e150), (np.float32, 1e6), (np.float32, 1e30)],
)
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_huge_feature_values_give_finite_loss_and_gradient(problem, dtype, scale):
    X, Y, sample_weight, head, rng = make_problem(problem, weighted=True)
    X = (X * scale).astype(dtype)
    objective = LinearObjective(X, Y.astype(dtype), sample_weight, 1.0, head)
    theta = rng.normal(scale=0.5, size=objective.n_params)

    value, grad = objective.value_and_grad(theta)

    assert np.max(np.abs(objective.logits(theta))) > 0.1 * scale  # logits are huge
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    expected = reference_value(objective, theta, X, Y, sample_weight, 1.0, head)
    assert value == pytest.approx(expected, rel=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("head, n_outputs", [("sigmoid", 1), ("sigmoid", 3), ("softmax", 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse_X", [False, True])
def test_zero_weights_take_the_intercepts_as_logits(head, n_outputs, dtype, sparse_X):
    # At W = 0 (every fit's start) the logits are the intercepts: given fit's class
    # sums (scan_rows) the evaluation reads no X at all. Against the general path at
    # W = 0 and at W = 1e-30, whose products change the logits by less than their
    # rounding.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4)).astype(dtype) + 3.0
    X = sp.csr_matrix(X) if sparse_X else X
    n_classes = max(2, n_outputs)
    codes = rng.integers(0, n_classes, 300).astype(np.uint8)
    Y = (codes[:, None] == np.arange(n_classes)).astype(np.uint8)
    if n_outputs == 1:
        Y = Y[:, 1:]
    weights = rng.uniform(0.5, 2.0, 300)
    class_sums = scan_rows(X, weights, codes, n_classes)[1]
    objective = LinearObjective(X, Y, weights, 0.5, head)
    from_sums = LinearObjective(X, Y, weights, 0.5, head, class_sums=class_sums)
    theta = np.zeros(objective.n_params)
    theta[-n_outputs:] = rng.standard_normal(n_outputs)
    tiny = theta.copy()
    tiny[:-n_outputs] = 1e-30
    value, grad = objective.value_and_grad(tiny)
    # float32: Xᵀ G on uncentred features (at 3 ± 1) in float32 rounding, then the
    # centring's cancellation; the class sums are accumulated in float64.
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    for zero in (objective, from_sums):
        zero_value, zero_grad = zero.value_and_grad(theta)
        np.testing.assert_allclose(zero_value, value, rtol=rtol)
        np.testing.assert_allclose(zero_grad, grad, rtol=rtol, atol=rtol * np.abs(grad).max())
    np.testing.assert_allclose(from_sums.centring.mean, objective.centring.mean, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n_rows", [1, 2621, 2**16, 2**16 + 1])
def test_column_sums_are_float64_sums(n_rows, order, dtype):
    # Row blocks up to 65 536 rows share one kept vector of ones, longer arrays make
    # their own; float32 is summed in float64. Against math.fsum, exact in float64.
    rng = np.random.default_rng(n_rows)
    A = np.asarray(rng.standard_normal((n_rows, 3)) * 1e3, dtype=dtype, order=order)
    sums = column_sums(A)
    assert sums.dtype == np.float64
    exact = [math.fsum(column) for column in A.T.astype(np.float64)]
    np.testing.assert_allclose(sums, exact, rtol=1e-12, atol=1e-9)
    # Twice in a row (the kept ones must still be ones), and on a view of rows.
    np.testing.assert_array_equal(column_sums(A), sums)
    half = A[: n_rows // 2 + 1]
    np.testing.assert_allclose(
        column_sums(half), half.astype(np.float64).sum(axis=0), rtol=1e-12, atol=1e-9
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("largest", "scale"),
    [(1.0, 1.0), (0.5, 2.0), (3.0, 0.25), (0.3, 2.0), (2.0**100, 2.0**-100), (1e300, 2.0**-997)],
)
def test_weights_are_scaled_by_the_power_of_two_at_or_above_the_largest(largest, scale, dtype):
    # Every scaled weight ≤ 1 and the largest in (0.5, 1]; λ scales with them, so J
    # is unchanged. Weights beyond float32's range are scaled in float64 first.
    weights = np.array([largest, largest / 3, 0.0])
    scaled, weight_sum, reg_lambda = scaled_weights(weights, 0.7, dtype)
    assert scaled.dtype == dtype
    np.testing.assert_array_equal(scaled, (weights * scale).astype(dtype))
    assert 0.5 < scaled.max() <= 1.0
    assert weight_sum == pytest.approx(float(np.sum(weights * scale)), rel=1e-7)
    assert reg_lambda == 0.7 * scale


def test_unit_weights_in_the_data_dtype_are_not_copied():
    # fit's weights without sample_weight: the objective uses them as they are (a
    # copy would be the largest array of a linear fit).
    for dtype in (np.float32, np.float64):
        ones = np.ones(1000, dtype=dtype)
        scaled, weight_sum, reg_lambda = scaled_weights(ones, 0.7, dtype)
        assert scaled is ones
        assert (weight_sum, reg_lambda) == (1000.0, 0.7)
    # Any other dtype is written into a new array, never over the caller's.
    ones = np.ones(1000)
    scaled = scaled_weights(ones, 0.7, np.float32)[0]
    assert scaled.dtype == np.float32 and not np.shares_memory(scaled, ones)


def test_class_sums_of_csr_rows_equal_dense_and_copy_no_x():
    # Xᵀ·(weights by class): the product converts the small weight matrix, not X (the
    # other order, (weights by class)ᵀ·X, copied all of X into CSC).
    import tracemalloc

    rng = np.random.default_rng(1)
    dense = rng.standard_normal((20_000, 200)) * (rng.random((20_000, 200)) < 0.05)
    X = sp.csr_matrix(dense)
    codes = rng.integers(0, 3, 20_000).astype(np.uint8)
    weights = rng.uniform(0.5, 2.0, 20_000)
    expected = scan_rows(dense, weights, codes, 3)[1]
    tracemalloc.start()
    largest, sums = scan_rows(X, weights, codes, 3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert largest == np.abs(dense).max()
    np.testing.assert_allclose(sums.per_class, expected.per_class, rtol=1e-12, atol=1e-12)
    size_of_x = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    assert peak < size_of_x / 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_scan_with_a_bound_is_exact_where_the_bound_is_crossed(dtype, n_classes):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9_000, 40)).astype(dtype)
    codes = rng.integers(0, n_classes, 9_000)
    weights = rng.uniform(0.5, 2.0, 9_000)
    bound = 2.0**30 if dtype == np.float32 else 2.0**200
    largest, sums = scan_rows(X, weights, codes, n_classes, bound=bound)
    assert np.abs(X).max() <= largest <= bound
    scaled = scaled_weights(weights, 0.0, dtype)[0].astype(np.float64)
    expected = np.column_stack([X[codes == j].T @ scaled[codes == j] for j in range(n_classes)])
    # float32 sums of ~4 500 products each: rounding ≈ √n·ε·Σ|s x| ≈ 1e-5.
    tol = 1e-12 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(sums.per_class, expected, rtol=tol, atol=tol)
    # One entry just beyond the bound (in a block whose norm is near it) is found
    # exactly; so are NaN and infinity, wherever they are.
    beyond = np.nextafter(dtype(bound), dtype(np.inf))
    for value, expected_largest in [(beyond, float(beyond)), (np.nan, np.nan), (-np.inf, np.inf)]:
        Xv = X.copy()
        Xv[7_000, 3] = value
        found = scan_rows(Xv, weights, codes, n_classes, bound=bound)[0]
        np.testing.assert_equal(found, expected_largest)
