"""Docstring text that several estimators and functions share, written once.

A docstring names a fragment on a line of its own, ``{name}``; :func:`fill_doc`
replaces that line by the fragment, indented like the line. Only whole lines are
replaced, so the braces of LaTeX and of ``{array-like, ...}`` types stay as they are.
"""

import re
import textwrap

FRAGMENTS = {
    "linear_solver": """\
solver : {"lbfgs", "tnc", "cg", "newton-cg", "trust-ncg", "trust-krylov"}, default="lbfgs"
    scipy method: L-BFGS-B, truncated Newton with finite-difference curvature
    (TNC), nonlinear conjugate gradient (CG), or a second-order method using
    the exact Hessian-vector product: line-search Newton-CG, trust-region
    Newton-CG (Steihaug) or trust-region Krylov (GLTR).""",
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
