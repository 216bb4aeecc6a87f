"""Multinomial softmax regression."""

from ._base import LinearClassifier
from ._docstring import fill_doc


@fill_doc
class SoftmaxClassifier(LinearClassifier):
    r"""Multinomial softmax regression (the cs231n linear classifier) with an L2 penalty.

    It fits one weight column and one unpenalised intercept per class by minimising

    .. math::

        J(W, b) = \frac{1}{S}\Big(\sum_i s_i\,\big[\operatorname{logsumexp}(z_i)
                  - z_{i,y_i}\big] + \frac{\lambda}{2}\lVert W\rVert^2\Big),
                  \qquad z_i = x_i W + b,

    with s_i the sample weights (× class weights) and S = Σ s_i. On three or more
    classes the optimum is the one of
    :class:`sklearn.linear_model.LogisticRegression` with ``C = 1/λ``; cs231n's
    ``reg`` (loss + ½·reg·‖W‖²) is λ/m on m samples.

    Parameters
    ----------
    reg_lambda : float, default=1.0
        Strength λ ≥ 0 of the L2 penalty on the weights (not the intercepts).
    {linear_options}

    Attributes
    ----------
    {classes}
    coef_ : ndarray of shape (n_classes, n_features)
        One weight row per class (also for two classes).
    intercept_ : ndarray of shape (n_classes,)
        Intercepts (never penalised), centred to sum to zero: a common shift of
        all intercepts leaves every probability unchanged.
    {linear_fitted}

    See Also
    --------
    RegLogisticClassifier : Binary logistic regression, one-vs-rest for many classes.
    sklearn.linear_model.LogisticRegression : The same optimum at ``C = 1/λ``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_nn import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxClassifier(reg_lambda=1.0).fit(X, y)
    >>> model.coef_.shape
    (3, 4)
    >>> round(model.score(X, y), 2)
    0.97
    """

    _head = "softmax"

    def _store_params(self, objective, theta):
        super()._store_params(objective, theta)
        # Adding one constant to every intercept changes no probability and no
        # penalty, so solvers may drift along it; report the centred representative
        # (the one scikit-learn's LogisticRegression reports).
        self.intercept_ -= self.intercept_.mean()
