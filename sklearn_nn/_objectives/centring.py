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

    def curvature_blocks(self, blocks):
        """Turn Hessian blocks of single outputs in (w, b) into blocks in (w, c), in place.

        Each block H, (d + 1, d + 1) over [w, b] (symmetric), becomes Aᵀ H A with
        [w; b] = A [w; c], A = I except its last row [−μᵀ, 1]. With H = [[P, q], [qᵀ, r]]
        that is [[P − qμᵀ − μ(q − rμ)ᵀ, q − rμ], [(q − rμ)ᵀ, r]]: two rank-one
        updates per block instead of two dense (d + 1)³ products.
        """
        for block in blocks:  # (K, d + 1, d + 1)
            q = block[:-1, -1].copy()
            shifted = q - block[-1, -1] * self.mean
            P = block[:-1, :-1]
            P -= q[:, None] * self.mean
            P -= self.mean[:, None] * shifted
            block[:-1, -1] = block[-1, :-1] = shifted
        return blocks
