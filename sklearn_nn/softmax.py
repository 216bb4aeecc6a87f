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

    def _store_coefficients(self, W, b):
        super()._store_coefficients(W, b)
        # Adding one vector to every class's weights, or one constant to every
        # intercept, shifts all logits of a sample alike and so changes no
        # probability: solvers may drift along both (TNC did, by 0.1 on iris). The
        # symmetric representative is reported, as scikit-learn's LogisticRegression
        # does: intercepts summing to zero, and weights summing to zero over the
        # classes, which also makes ‖W‖² (the penalty) the smallest.
        self.coef_ -= self.coef_.mean(axis=0)
        self.intercept_ -= self.intercept_.mean()

    def _store_loss(self, objective, theta, loss, loss_curve):
        # Centring the weights lowers ‖W‖² by K‖m‖², m their mean over the K classes,
        # and changes nothing else in J: loss_ is J at the parameters stored, and so is
        # the curve's last entry when it is J at θ, the iterate stored.
        W, _ = objective.model_params(theta)
        mean = W.mean(axis=1)
        removed = 0.5 * objective.reg_lambda * W.shape[1] * float(mean @ mean)
        centred_loss = loss - removed / objective.weight_sum
        if loss_curve and loss_curve[-1] == loss:
            loss_curve = [*loss_curve[:-1], centred_loss]
        super()._store_loss(objective, theta, centred_loss, loss_curve)
