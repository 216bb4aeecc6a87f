"""Logistic regression with λ chosen by cross-validation."""

from ._cv import LinearCrossValidation
from ._docstring import fill_doc
from .logistic import RegLogisticClassifier


@fill_doc
class RegLogisticClassifierCV(LinearCrossValidation, RegLogisticClassifier):
    """:class:`RegLogisticClassifier` with its penalty λ chosen by cross-validation.

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
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of the refitted model (without ``refit``: the folds' mean at λ).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Its intercepts.
    {linear_fitted}

    See Also
    --------
    RegLogisticClassifier : The model at one λ.
    regularization_path : Fits along a path of λ.
    sklearn.linear_model.LogisticRegressionCV : The same search over ``C = 1/λ``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_nn import RegLogisticClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), RegLogisticClassifierCV(reg_lambdas=[0.1, 1, 10]))
    >>> search = model.fit(X, y)[-1]
    >>> search.reg_lambda_ in (0.1, 1, 10), search.coef_path_.shape
    (True, (5, 3, 1, 30))
    """

    _base_model = RegLogisticClassifier
