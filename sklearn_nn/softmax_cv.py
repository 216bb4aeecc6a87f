"""Softmax regression with λ chosen by cross-validation."""

from ._cv import LinearCrossValidation
from ._docstring import fill_doc
from .softmax import SoftmaxClassifier


@fill_doc
class SoftmaxClassifierCV(LinearCrossValidation, SoftmaxClassifier):
    """:class:`SoftmaxClassifier` with its penalty λ chosen by cross-validation.

    For each fold it fits the model at every λ of ``reg_lambdas``, from the largest
    down, each fit warm-started from the one before; all folds of one λ are solved
    together, as one problem that shares every product with X. It scores the
    held-out rows at each λ, chooses the λ of the best mean score, as
    :class:`~sklearn.model_selection.GridSearchCV` over
    ``SoftmaxClassifier(reg_lambda=...)`` would with the same folds, and refits
    on all rows there. It then predicts as that refitted model.

    Parameters
    ----------
    {cv_options}
    {linear_options}

    Attributes
    ----------
    {cv_fitted}
    coef_path_ : ndarray of shape (n_splits, n_lambdas, n_outputs, n_features)
        Each fold's ``coef_`` at each λ of ``reg_lambdas_``.
    intercept_path_ : ndarray of shape (n_splits, n_lambdas, n_outputs)
        Each fold's ``intercept_`` at each λ.
    n_iter_path_ : ndarray of shape (n_splits, n_lambdas)
        Iterations of each λ's solve (shared by the folds solved together).
    {classes}
    coef_ : ndarray of shape (n_classes, n_features)
        Weights of the refitted model (without ``refit``: the folds' mean at λ).
    intercept_ : ndarray of shape (n_classes,)
        Its intercepts.
    {linear_fitted}

    See Also
    --------
    SoftmaxClassifier : The model at one λ.
    regularization_path : Fits along a path of λ.
    sklearn.linear_model.LogisticRegressionCV : The same search over ``C = 1/λ`` (3+ classes).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_nn import SoftmaxClassifierCV
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxClassifierCV(reg_lambdas=[0.1, 1, 10]).fit(X, y)
    >>> model.reg_lambda_ in (0.1, 1, 10), model.coef_path_.shape
    (True, (5, 3, 3, 4))
    """

    _base_model = SoftmaxClassifier
