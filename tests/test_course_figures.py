"""The course's reference figures on its two data files, reproduced end to end.

The figures are those the course's logistic-regression exercise reports: on the
microchips (ex2data2) the cost at θ = 0, the optimum at λ = 1 and the training
accuracy at λ = 1, 10 and 100; on the exam scores (ex2data1) the unregularised
optimum, one applicant's admission probability and the training accuracy.
"""

import numpy as np
import pytest
from scipy.special import log_expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures

from sklearn_nn import RegLogisticClassifier
from sklearn_nn._objectives import LinearObjective
from sklearn_nn.datasets import load_exam_scores, load_microchips

SOLVERS = ["lbfgs", "tnc", "cg"]


@pytest.fixture(scope="module")
def microchips():
    X, y = load_microchips()
    assert X.shape == (118, 2)
    return X, y


def course_cost(theta, features, y, reg_lambda):
    """The course's J: features[:, 0] is the ones column, θ_0 is not penalised.

    J(θ) = (1/m) Σ [−y log σ(xθ) − (1 − y) log(1 − σ(xθ))] + (λ/2m) Σ_{j≥1} θ_j².
    """
    z = features @ theta
    log_likelihood = np.where(y == 1, log_expit(z), log_expit(-z))
    m = y.size
    return -np.mean(log_likelihood) + reg_lambda / (2 * m) * np.sum(theta[1:] ** 2)


@pytest.mark.parametrize("solver", SOLVERS)
def test_training_accuracy_for_lambda_1_10_100(microchips, solver):
    X, y = microchips
    everything = np.arange(y.size)
    search = GridSearchCV(
        Pipeline([("poly", PolynomialFeatures(6)), ("clf", RegLogisticClassifier(solver=solver))]),
        {"clf__reg_lambda": [1, 10, 100]},
        # One split whose train and test sets are the whole data: the test score is
        # the course's training accuracy.
        cv=[(everything, everything)],
        scoring="accuracy",
    ).fit(X, y)

    accuracy = search.cv_results_["mean_test_score"]
    np.testing.assert_array_equal(np.round(accuracy * y.size).astype(int), [98, 88, 72])
    np.testing.assert_allclose(100 * accuracy, [83.05, 74.58, 61.02], rtol=0, atol=0.01)


def test_cost_at_zero_is_ln_2(microchips):
    X, y = microchips
    features = PolynomialFeatures(6).fit_transform(X)
    objective = LinearObjective(
        features, y[:, None].astype(float), np.ones(y.size), 1.0, "sigmoid"
    )

    value, _ = objective.value_and_grad(np.zeros(objective.n_params))

    assert value == pytest.approx(0.693147, abs=5e-7)
    assert value == pytest.approx(np.log(2), rel=1e-15)
    assert course_cost(np.zeros(features.shape[1]), features, y, 1.0) == pytest.approx(value)


@pytest.mark.parametrize("include_bias", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
def test_optimum_for_lambda_1(microchips, solver, include_bias):
    # The course's θ_0 multiplies a column of ones and is not penalised; our model has
    # its own unpenalised intercept_. With include_bias=False the 27 polynomial terms
    # are exactly the course's θ_1..θ_27 and intercept_ is θ_0. With include_bias=True
    # the ones column *also* gets a weight, and that one is penalised: since it does
    # the same job as the free intercept, the optimum sets it to 0 and J is unchanged.
    # Both are checked: J = 0.529003 either way, and equal to the course formula.
    X, y = microchips
    poly = PolynomialFeatures(6, include_bias=include_bias)
    features = poly.fit_transform(X)
    model = RegLogisticClassifier(reg_lambda=1.0, solver=solver, tol=1e-8, max_iter=10_000)
    model.fit(features, y)

    assert model.loss_ == pytest.approx(0.529003, abs=1e-6)

    weights = model.coef_[0]
    if include_bias:
        assert abs(weights[0]) < 1e-6  # the penalised copy of the intercept vanishes
        theta = np.r_[model.intercept_[0] + weights[0], weights[1:]]
    else:
        theta = np.r_[model.intercept_[0], weights]
    ones_first = PolynomialFeatures(6, include_bias=True).fit_transform(X)
    assert course_cost(theta, ones_first, y, 1.0) == pytest.approx(model.loss_, rel=1e-10)


def test_sklearn_logistic_regression_reaches_the_same_optimum(microchips):
    X, y = microchips
    features = PolynomialFeatures(6, include_bias=False).fit_transform(X)
    theirs = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(features, y)
    ours = RegLogisticClassifier(reg_lambda=1.0, tol=1e-8).fit(features, y)

    ones_first = PolynomialFeatures(6, include_bias=True).fit_transform(X)
    theta = np.r_[theirs.intercept_, theirs.coef_[0]]
    assert course_cost(theta, ones_first, y, 1.0) == pytest.approx(0.529003, abs=1e-6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-4)


@pytest.mark.parametrize("solver", [*SOLVERS, "newton-cg"])
def test_exam_scores_unregularised_optimum(solver):
    # Part one of the exercise: no penalty, raw scores (0-100). The course's figures:
    # J = 0.203 at θ = (−25.161, 0.206, 0.201), P(admitted | 45, 85) = 0.776, 89 %.
    X, y = load_exam_scores()
    model = RegLogisticClassifier(reg_lambda=0.0, solver=solver).fit(X, y)

    theta = np.r_[model.intercept_, model.coef_[0]]
    ones_first = np.column_stack([np.ones(y.size), X])
    assert model.loss_ == pytest.approx(0.203498, abs=1e-6)
    assert course_cost(theta, ones_first, y, 0.0) == pytest.approx(model.loss_, rel=1e-12)
    np.testing.assert_allclose(theta, [-25.161, 0.206, 0.201], atol=1e-3)
    assert model.predict_proba([[45.0, 85.0]])[0, 1] == pytest.approx(0.776, abs=5e-4)
    assert model.score(X, y) == 0.89
