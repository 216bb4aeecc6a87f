"""Softmax regression with λ chosen by cross-validation."""

from ._cv import LinearCrossValidation
from ._docstring import fill_doc
from .softmax import SoftmaxClassifier


@fill_doc
class SoftmaxClassifierCV(LinearCrossValidation, SoftmaxClassifier):
    """:class:`SoftmaxClassifier` with its penalty λ chosen by cross-validation.

    {cv_linear_search}

    Parameters
    ----------
    {cv_options}
    {linear_options}

    Attributes
    ----------
    {cv_fitted}
    {cv_linear_paths}
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
