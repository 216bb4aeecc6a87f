"""
Choosing λ along a path: RegLogisticClassifierCV
================================================

:class:`~sklearn_nn.RegLogisticClassifierCV` chooses λ by cross-validation as
:class:`~sklearn.model_selection.GridSearchCV` over
:class:`~sklearn_nn.RegLogisticClassifier` does, with the same folds and the same
grid, but it solves the folds along a path: from the largest λ down, each λ started
from a prediction of its solution from the ones before, all folds of one λ solved as
one problem. Its ``cv_results_`` have GridSearchCV's layout, so the two searches
can be compared number for number: their curves of the held-out accuracy overlay.

The data are the course's microchips (:func:`~sklearn_nn.datasets.load_microchips`)
with degree-6 polynomial features; ``reg_lambdas=20`` asks for the default grid of 20
values, derived from the data's scale.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from sklearn_nn import RegLogisticClassifier, RegLogisticClassifierCV
from sklearn_nn.datasets import load_microchips

X, y = load_microchips()
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
model = make_pipeline(PolynomialFeatures(6), RegLogisticClassifierCV(reg_lambdas=20, cv=folds))
model.fit(X, y)
search = model[-1]  # the fitted RegLogisticClassifierCV
reg_lambdas = search.reg_lambdas_
print(f"grid: {reg_lambdas.size} values of λ from {reg_lambdas[0]:.3g} to {reg_lambdas[-1]:.3g}")
print(f"chosen λ = {search.reg_lambda_:.3g}, cross-validated accuracy {search.best_score_:.3f}")
print(f"iterations of the stacked solve at each λ (largest first): {search.n_iter_path_[0, ::-1]}")

# %%
# The same search with GridSearchCV: the base model in the same pipeline, the same
# grid and the same folds, each of its 100 fits started from zero.
grid_search = GridSearchCV(
    make_pipeline(PolynomialFeatures(6), RegLogisticClassifier()),
    {"reglogisticclassifier__reg_lambda": reg_lambdas},
    cv=folds,
).fit(X, y)
gap = np.abs(
    search.cv_results_["mean_test_score"] - grid_search.cv_results_["mean_test_score"]
).max()
chosen = grid_search.best_params_["reglogisticclassifier__reg_lambda"]
print(f"GridSearchCV chooses λ = {chosen:.3g}; largest gap in mean accuracy: {gap:.1e}")

# %%
# Left: each fold's weights at each λ (``coef_path_``, of shape (folds, λ, outputs,
# features)), averaged over the folds: 28 curves, one per polynomial feature. The
# constant feature's weight stays 0 (the intercept is fitted apart); the others
# shrink towards 0 as λ grows. Right: the mean held-out accuracy of the five folds,
# with a band of ± one standard deviation across folds, and GridSearchCV's on top.
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
mean_path = search.coef_path_[:, :, 0, :].mean(axis=0)  # (n_lambdas, n_features)
left.plot(reg_lambdas, mean_path, linewidth=1)
left.set_xscale("log")
left.set_yscale("symlog", linthresh=1.0)
left.set_xlabel("λ (reg_lambda), log scale")
left.set_ylabel("weight, mean over the folds (symmetric log scale)")
left.set_title("Coefficient paths: coef_path_ of RegLogisticClassifierCV")

results = search.cv_results_
mean, std = results["mean_test_score"], results["std_test_score"]
right.plot(reg_lambdas, mean, "-", color="tab:orange", label="RegLogisticClassifierCV")
right.fill_between(
    reg_lambdas, mean - std, mean + std, color="tab:orange", alpha=0.2, label="± 1 std, folds"
)
right.errorbar(
    reg_lambdas,
    grid_search.cv_results_["mean_test_score"],
    yerr=grid_search.cv_results_["std_test_score"],
    fmt="o",
    markerfacecolor="none",
    color="black",
    capsize=3,
    label="GridSearchCV over RegLogisticClassifier",
)
majority = np.bincount(y).max() / y.size
right.axhline(majority, color="gray", linestyle=":", label=f"majority rate ({majority:.3f})")
right.set_xscale("log")
right.set_xlabel("λ (reg_lambda), log scale")
right.set_ylabel("held-out accuracy (mean of 5 folds)")
right.set_title("Cross-validated accuracy: the two searches overlay")

for ax in (left, right):
    ax.axvline(search.reg_lambda_, color="black", linestyle="--", linewidth=1)
    ax.grid(True, which="major", alpha=0.3)
right.plot([], [], color="black", linestyle="--", label=f"chosen λ = {search.reg_lambda_:.3g}")
right.legend(loc="lower left")
fig.suptitle("Choosing λ by cross-validation: PolynomialFeatures(6) on the course's microchips")
plt.show()
