"""Docstring text that several estimators and functions share, written once.

A docstring names a fragment on a line of its own, ``{name}``; :func:`fill_doc`
replaces that line by the fragment, indented like the line. Only whole lines are
replaced, so the braces of LaTeX and of ``{array-like, ...}`` types stay as they are.
"""

import re
import textwrap

FRAGMENTS = {
    "linear_solver": """\
solver : {"lbfgs", "tnc", "cg", "newton-cg", "trust-ncg", "trust-krylov", "trust-exact"}, \
default="lbfgs"
    scipy method: L-BFGS-B (restarted in coordinates from the curvature at its
    iterate when its pace says the whitening no longer fits: collinear or raw
    features, nearly separable classes), truncated Newton with finite-difference
    curvature (TNC), nonlinear conjugate gradient (CG), a second-order method using
    the exact Hessian-vector product: line-search Newton-CG, trust-region
    Newton-CG (Steihaug) or trust-region Krylov (GLTR), or the trust-region
    method that factorises the dense Hessian (trust-exact): a few iterations
    on unscaled or collinear features, for up to a few hundred parameters
    ((n_features + 1) · n_outputs).""",
    "max_iter_tol": """\
max_iter : int, default=500
    Maximum number of solver iterations.
tol : float, default=1e-5
    Stop when the largest absolute entry of ∇J is at most ``tol``.""",
    "class_weight": """\
class_weight : dict, "balanced" or None, default=None
    Weights per class, multiplied into the sample weights. "balanced" uses
    S / (K · S_k), with S_k the total sample weight of class k.""",
    "verbose": """\
verbose : int, default=0
    If ≥ 1, print iteration, J, ‖∇J‖∞ and elapsed seconds at every iteration.""",
    "classes": """\
classes_ : ndarray of shape (n_classes,)
    Class labels.""",
    "fitted_inputs": """\
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during fit, when X has string column names.
n_iter_ : int
    Iterations the solver ran.""",
    "predict_X": """\
Parameters
----------
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Samples.""",
    "objective_data": """\
X : {ndarray, sparse matrix, dask.array.Array} of shape (n_samples, n_features)
    Training data.
Y : ndarray of shape (n_samples, n_outputs)
    Target indicator matrix (0/1 in any real dtype; ``fit`` passes uint8).
sample_weight : ndarray of shape (n_samples,)
    Non-negative weights with a positive sum.""",
    "curvature_params": """\
Parameters
----------
Z : ndarray of shape (n_samples, n_outputs)
    Logits at which the curvature is taken.
sample_weight : ndarray of shape (n_samples,)
    Non-negative weights s_i.""",
    "check_data": """\
estimator : RegLogisticClassifier, SoftmaxClassifier or TwoLayerMLPClassifier
    Supplies the objective and its parameters; fitted or not.
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Data on which J is evaluated.
y : array-like of shape (n_samples,)
    Labels.
sample_weight : array-like of shape (n_samples,), default=None
    Per-sample weights, as in ``fit``.""",
}

# The options of both linear estimators, in the order of their signature.
FRAGMENTS["linear_options"] = "\n".join(
    [
        FRAGMENTS["linear_solver"],
        FRAGMENTS["max_iter_tol"],
        FRAGMENTS["class_weight"],
        "warm_start : bool, default=False",
        "    Start from the previous solution when refitting on the same classes.",
        FRAGMENTS["verbose"],
    ]
)
FRAGMENTS["linear_fitted"] = "\n".join(
    [
        FRAGMENTS["fitted_inputs"],
        "loss_ : float",
        "    J at the solution.",
        "loss_curve_ : list of float",
        "    J after every iteration.",
    ]
)

FRAGMENTS["cv_options"] = """\
reg_lambdas : int or array-like of shape (n_lambdas,), default=10
    The penalties λ ≥ 0 tried. An int n: n values log-spaced from 10⁻⁴ to 10² times
    λ_ref = S · a · (mean feature variance), S the total sample weight and a the
    output's curvature per logit at the start (¼ for sigmoid units, 1/K for softmax):
    from a penalty that barely acts to one that dominates the data.
cv : int, cross-validation generator or iterable, default=5
    An int: that many stratified folds (:class:`~sklearn.model_selection.StratifiedKFold`,
    without shuffling, as :class:`~sklearn.model_selection.GridSearchCV`); or any
    scikit-learn splitter or iterable of (train, test) index pairs. Every training
    part must hold every class.
scoring : str, callable or None, default=None
    Held-out score to maximise: None means accuracy (the estimator's ``score``);
    any scikit-learn scorer name or ``scorer(estimator, X, y)``.
refit : bool, default=True
    Refit on all rows at the chosen λ, starting from the folds' mean solution there.
n_jobs : int, default=None
    Folds solved in parallel by joblib (so a joblib Dask backend spreads them over a
    cluster); None means 1."""
FRAGMENTS["cv_fitted"] = """\
reg_lambdas_ : ndarray of shape (n_lambdas,)
    The penalties tried, in the order of ``cv_results_``.
reg_lambda_ : float
    The chosen penalty, ``reg_lambdas_[best_index_]``.
best_index_ : int
    Index of the chosen λ in ``cv_results_``: the best mean held-out score, the first
    in ``reg_lambdas_`` among ties (as :class:`~sklearn.model_selection.GridSearchCV`).
best_score_ : float
    Its mean held-out score.
cv_results_ : dict of ndarray
    :class:`~sklearn.model_selection.GridSearchCV`'s layout: ``params``,
    ``param_reg_lambda``, ``split{k}_test_score``, ``mean_test_score``,
    ``std_test_score``, ``rank_test_score``, ``mean_fit_time``, ``std_fit_time``,
    ``mean_score_time``, ``std_score_time``. A fit time is the fold's share of the
    time of its λ's solve.
n_splits_ : int
    Number of folds."""

FRAGMENTS["cv_linear_paths"] = """\
coef_path_ : ndarray of shape (n_splits, n_lambdas, n_outputs, n_features)
    Each fold's ``coef_`` at each λ of ``reg_lambdas_``.
intercept_path_ : ndarray of shape (n_splits, n_lambdas, n_outputs)
    Each fold's ``intercept_`` at each λ.
n_iter_path_ : ndarray of shape (n_splits, n_lambdas)
    Iterations of each λ's solve (shared by the folds solved together), plus the
    fold's own solve when the joint one ended without converging."""
FRAGMENTS["cv_linear_search"] = """\
For each fold it fits the model at every λ of ``reg_lambdas``, from the largest
down, each fit starting from a prediction of its solution from the ones before; all
folds of one λ are solved together, as one problem that shares every product with X.
It scores the held-out rows at each λ, chooses the λ of the best mean score, as
:class:`~sklearn.model_selection.GridSearchCV` over the base model would with the same
folds, and refits on all rows there. It then predicts as that refitted model."""

_PLACEHOLDER = re.compile(r"^( *)\{(\w+)\}$", flags=re.MULTILINE)


def fill_doc(obj):
    """Replace the ``{name}`` lines of ``obj.__doc__`` by their fragments; return ``obj``.

    Parameters
    ----------
    obj : function or class
        Its docstring is rewritten in place (left alone under ``python -OO``).

    Returns
    -------
    obj : function or class
        The same object, so that this serves as a decorator.
    """
    if obj.__doc__:
        obj.__doc__ = _PLACEHOLDER.sub(
            lambda match: textwrap.indent(FRAGMENTS[match[2]], match[1]), obj.__doc__
        )
    return obj
