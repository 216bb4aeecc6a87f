"""L2-regularised logistic regression, one-vs-rest for more than two classes."""

from ._base import LinearClassifier
from ._docstring import fill_doc


@fill_doc
class RegLogisticClassifier(LinearClassifier):
    r"""Regularised logistic regression, the course's model, as a scikit-learn classifier.

    For two classes it fits one weight vector w and an unpenalised intercept b by
    minimising

    .. math::

        J(w, b) = \frac{1}{S}\Big(\sum_i s_i\,\big[\log(1 + e^{z_i}) - y_i z_i\big]
                  + \frac{\lambda}{2}\lVert w\rVert^2\Big), \qquad z_i = x_i\cdot w + b,

    with s_i the sample weights (× class weights) and S = Σ s_i. With s_i = 1 this is
    the course formula J = (1/m) Σ ℓ_i + (λ/2m) Σ_{j≥1} θ_j². The optimum is the one of
    :class:`sklearn.linear_model.LogisticRegression` with ``C = 1/λ``.

    For K ≥ 3 classes it is one-vs-rest (the course's one-vs-all): K independent binary
    problems "class k against the rest", minimised jointly (their J's add up);
    ``predict_proba`` normalises the K sigmoid outputs so that rows sum to one.

    Parameters
    ----------
    reg_lambda : float, default=1.0
        Strength λ ≥ 0 of the L2 penalty on the weights (not the intercepts).
        ``C = 1/λ`` in :class:`~sklearn.linear_model.LogisticRegression`; λ = 0
        means no penalty.
    {linear_options}

    Attributes
    ----------
    {classes}
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights; one row for two classes.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (never penalised).
    {linear_fitted}

    See Also
    --------
    SoftmaxClassifier : Multinomial (softmax) regression.
    sklearn.linear_model.LogisticRegression : The same optimum at ``C = 1/λ``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_nn import RegLogisticClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), RegLogisticClassifier(reg_lambda=1.0))
    >>> round(model.fit(X, y).score(X, y), 3)
    0.988
    """

    _head = "sigmoid"
