"""Intercepts taken at the data mean: the change of variables c = b + μᵀW."""

__all__ = ["Centring"]


class Centring:
    """An affine layer ``X W + b`` with its intercepts taken at the weighted mean row μ.

    The optimizer sees ``c = b + μᵀW`` instead of ``b``. This is an exact change of
    variables (the same J, X itself untouched), but with uncentred features the
    gradient no longer couples W and b through μ, which is what makes gradient
    methods crawl: on features centred at 100, CG needs thousands of iterations in
    (W, b) and a few dozen in (W, c). In (W, c) the layer is (X − 1μᵀ) W + c, so a
    gradient in the model's (W, b) turns into one in (W, c) by a rank-one term:
    X is never centred or copied.

    Parameters
    ----------
    mean : ndarray of shape (n_features,)
        μ = Σ_i s_i x_i / Σ_i s_i, float64.
    """

    def __init__(self, mean):
        self.mean = mean

    def intercepts(self, W, c):
        """Return the model's intercepts b = c − μᵀW."""
        return c - self.mean @ W

    def shifted(self, W, b):
        """Return the optimizer's intercepts c = b + μᵀW."""
        return b + self.mean @ W

    def weight_gradient(self, grad_W, grad_b):
        """∂/∂W in (W, c) from ∂/∂W and ∂/∂b in (W, b): ∂(XW + b)/∂W = X − 1μᵀ."""
        return grad_W - self.mean[:, None] * grad_b  # np.outer's product, without its checks
