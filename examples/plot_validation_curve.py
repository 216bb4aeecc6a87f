"""
Choosing λ with GridSearchCV: a validation curve
================================================

Training accuracy only rises as the penalty λ falls, so it cannot choose λ.
Cross-validation can: :class:`~sklearn.model_selection.GridSearchCV` fits
``PolynomialFeatures(6) → RegLogisticClassifier`` on four fifths of the microchips and
scores it on the fifth left out, for every λ on a logarithmic grid. The curve of the
mean held-out accuracy against λ shows over-fitting on the left (training accuracy
above held-out accuracy) and under-fitting on the right (both fall towards the
majority rate). :class:`~sklearn_nn.RegLogisticClassifierCV` makes the same search
along a path, with the same held-out scores (the example before this one).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from sklearn_nn import RegLogisticClassifier
from sklearn_nn.datasets import make_microchips

X, y = make_microchips(random_state=0)
model = make_pipeline(PolynomialFeatures(6), RegLogisticClassifier())
reg_lambdas = np.logspace(-3, 2, 16)
search = GridSearchCV(
    model,
    {"reglogisticclassifier__reg_lambda": reg_lambdas},
    cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
    return_train_score=True,
)
# The smallest λ may not converge within max_iter on some folds: count, don't hide.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    search.fit(X, y)
n_unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
best_lambda = search.best_params_["reglogisticclassifier__reg_lambda"]
print(f"best λ = {best_lambda:.3g}, cross-validated accuracy {search.best_score_:.3f}")
print(f"{n_unconverged} of {reg_lambdas.size * search.n_splits_} fits did not converge")

# %%
# Mean accuracy over the five folds, with a band of ± one standard deviation across
# folds. λ = 0 has no place on a logarithmic axis; the curve's left end already shows
# its behaviour.
results = search.cv_results_
fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
for split, color in [("train", "tab:blue"), ("test", "tab:orange")]:
    mean = results[f"mean_{split}_score"]
    std = results[f"std_{split}_score"]
    label = "training accuracy" if split == "train" else "cross-validated accuracy"
    ax.plot(reg_lambdas, mean, "o-", color=color, label=label)
    ax.fill_between(reg_lambdas, mean - std, mean + std, color=color, alpha=0.2)
majority = np.bincount(y).max() / y.size
ax.axhline(majority, color="gray", linestyle=":", label=f"majority rate ({majority:.3f})")
ax.axvline(best_lambda, color="black", linestyle="--", label=f"selected λ = {best_lambda:.3g}")
ax.set_xscale("log")
ax.set_xlabel("λ (reg_lambda), log scale")
ax.set_ylabel("accuracy (mean of 5 folds, ± 1 std)")
ax.set_title("Validation curve of λ: PolynomialFeatures(6) → RegLogisticClassifier")
ax.legend(loc="lower left")
ax.grid(True, which="major", alpha=0.3)
plt.show()
