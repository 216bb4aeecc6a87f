"""The network's objective: one hidden layer, backpropagation and Hessian products."""

from typing import NamedTuple

import numpy as np

from .._docstring import fill_doc
from .activations import ACTIVATIONS, DERIVATIVES
from .centring import Centring
from .heads import HEADS, class_codes
from .kernels import affine_backward, affine_forward, column_sums, products_by_output
from .rows import AtTheta, make_rows

__all__ = ["TwoLayerObjective"]


def _targets_in_dtype(Y, dtype):
    """One-hot targets in X's dtype and the logits' layout (output by output), once.

    The head runs on a whole chunk at once here (the hidden means couple its rows),
    and would otherwise cast all of Y in every evaluation. Class codes, the softmax
    head's targets in memory, are kept as they are.
    """
    return Y if Y.ndim == 1 else np.asfortranarray(Y, dtype=dtype)


def _hidden(X, W1, b1, activation):
    """A = f(X W1 + b1), in X's dtype, laid out unit by unit."""
    A = affine_forward(X, W1, b1)
    activation(A)
    return A


def _logits(X, W1, b1, W2, b2, activation):
    """Z = f(X W1 + b1) W2 + b2, all parameters in X's dtype."""
    Z = products_by_output(_hidden(X, W1, b1, activation), W2)
    Z += b2
    return Z


def _centred(G, sample_weight, g_over_S):
    """G − s gᵀ/S: ∂/∂A of Σ G ⊙ ((A − 1ā) W2) is this times W2ᵀ (the term through ā).

    The rank-one term is subtracted from G (n × k) rather than from the product
    (n × H): fewer entries to touch whenever k < H. It is made in G's dtype and
    layout, so that the subtraction runs along contiguous memory and the product
    that follows mixes no dtypes.
    """
    centred = np.empty_like(G)
    np.multiply(sample_weight[:, None], g_over_S, out=centred)
    return np.subtract(G, centred, out=centred)


# Chunk functions (see the rows protocol). An evaluation is three passes, each ending
# in a sum the next one needs: ā (the output intercepts depend on it), then ΣG (the
# term through ā of the backward pass), then the gradient. What a pass computes per
# row is kept where the chunk lives for the next: a dict of arrays per chunk.
def _hidden_terms(chunk, W1, b1, activation, keep):
    """Pass 1: Σ_i s_i A_i with A = f(X W1 + b1); A is kept when ``keep``."""
    A = _hidden(chunk.X, W1, b1, activation)
    sums = (chunk.sample_weight @ A,)
    return (sums, {"A": A}) if keep else sums


def _head_terms(chunk, kept, W2, b2, head):
    """Pass 2: Z = A W2 + b2 and the head, kept; returns Σ s ℓ and Σ G."""
    Z = products_by_output(kept["A"], W2)
    Z += b2
    loss, G = head.loss_and_grad(Z, chunk.Y, chunk.sample_weight)
    return (loss, column_sums(G)), {**kept, "Z": Z, "G": G}


def _backward_terms(chunk, kept, gradient, W2_t, g_over_S, first_derivative):
    """Pass 3: Aᵀ G, Xᵀ Δ and Σ Δ for Δ = ((G − s gᵀ/S) W2ᵀ) ⊙ f'(a).

    ``gradient`` names the kept G: ``"G"`` for the gradient, ``"R_G"`` for the
    Gauss-Newton product, which backpropagates R{G} as a gradient. Δ is made block by
    block (neither ∂/∂A nor Δ, n × H each, exists whole).
    """
    A, G = kept["A"], kept[gradient]
    centred = _centred(G, chunk.sample_weight, g_over_S)

    def delta_of(block):
        delta = products_by_output(centred[block], W2_t)  # A's layout
        delta *= first_derivative(A[block])
        return delta

    return (A.T @ G, *affine_backward(chunk.X, delta_of, W2_t.shape[1], W2_t.dtype))


def _direction_terms(chunk, kept, V1, v_b1, first_derivative):
    """Hessian pass 1: R{a} = X V1 + v_b1 and R{A} = f'(a) ⊙ R{a}, kept; Σ s R{A}."""
    first = first_derivative(kept["A"])
    R_pre = affine_forward(chunk.X, V1, v_b1)
    R_A = first * R_pre
    return (chunk.sample_weight @ R_A,), {**kept, "first": first, "R_pre": R_pre, "R_A": R_A}


def _curvature_terms(chunk, kept, W2, V2, shift, head):
    """Hessian pass 2: R{Z} and R{G} = C R{Z}, kept; returns Σ R{G}."""
    R_Z = products_by_output(kept["R_A"], W2)
    R_Z += products_by_output(kept["A"], V2)
    R_Z += shift
    R_G = head.curvature(kept["Z"], chunk.sample_weight)(R_Z)
    return (column_sums(R_G),), {**kept, "R_G": R_G}


def _exact_backward_terms(chunk, kept, W2, V2, g_over_S, R_g_over_S, second_derivative):
    """Hessian pass 3 (exact): the R-operator of the backward pass, its sums over rows."""
    A, G, R_G, s = kept["A"], kept["G"], kept["R_G"], chunk.sample_weight
    centred = _centred(G, s, g_over_S)
    R_dA = products_by_output(_centred(R_G, s, R_g_over_S), W2.T)
    R_dA += products_by_output(centred, V2.T)
    dA = products_by_output(centred, W2.T)
    R_delta = R_dA * kept["first"]
    R_delta += dA * second_derivative(A) * kept["R_pre"]
    return (
        A.T @ R_G + kept["R_A"].T @ G,
        *affine_backward(chunk.X, lambda block: R_delta[block], R_delta.shape[1], W2.dtype),
    )


class _AtTheta(NamedTuple):
    """What the evaluation at θ leaves for the model and the Hessian products there."""

    mean_hidden: np.ndarray
    g: np.ndarray
    loss: float
    kept: object  # the rows' handle of the per-chunk forward pass, or None


@fill_doc
class TwoLayerObjective:
    """J of a network with one hidden layer: value, gradient and Hessian products.

    Forward pass, with f the hidden activation::

        A = f(X W1 + b1)        (n, H)
        Z = A W2 + b2           (n, k), logits of the sigmoid or softmax head

    J = (Σ_i s_i ℓ_i + (λ/2)(‖W1‖² + ‖W2‖²)) / S; biases are not penalised. With the
    sigmoid head this is the course network's cost exactly.

    Both layers take their intercepts at the mean of their input (the centring of
    Schraudolph, "Centering neural network gradient factors", 1998): θ holds
    c1 = b1 + μᵀW1 (μ the weighted mean row of X, see
    :class:`~sklearn_nn._objectives.centring.Centring`) and c2 = b2 + āᵀW2
    (ā = Σ_i s_i A_i / S, the weighted mean hidden activation at θ). The model is the
    same, but sigmoid units, whose outputs average ~0.5, no longer couple W2 and b2,
    and L-BFGS needs far fewer iterations.

    Backward pass (G = ∂(Σ s ℓ)/∂Z from the head, g = Σ_i G_i)::

        ∇c2 = g,                     ∇W2 = Aᵀ G − ā gᵀ + λ W2
        ∂/∂A = G W2ᵀ − (s/S) (g W2ᵀ)  (the second term through ā)
        Δ   = ∂/∂A ⊙ f'(X W1 + b1),  then ∇W1, ∇c1 as for a centred affine layer

    ā and g are sums over all rows, so an evaluation is three passes over the rows
    (ā; the head and g; the backward pass), run by the rows protocol: in memory one
    chunk, on Dask one map-reduce each. Only the first and the last multiply by X.

    Hessian-vector products (``hessp``): ``hessian="exact"`` applies Pearlmutter's
    R-operator (the directional derivative of the backward pass, one extra forward
    and backward pass); ``hessian="gauss-newton"`` keeps only Jᵀ C J, with J the
    Jacobian of Z in θ and C the head's curvature, which is positive semi-definite
    (plus λ on the weights) and suits non-convex training.

    Parameters
    ----------
    {objective_data}
    reg_lambda : float
        λ ≥ 0, the L2 penalty on W1 and W2.
    head : {"sigmoid", "softmax"}
        Output loss, see :data:`~sklearn_nn._objectives.heads.HEADS`.
    activation : {"sigmoid", "tanh", "relu"}
        Hidden activation, see :data:`~sklearn_nn._objectives.activations.ACTIVATIONS`.
    n_hidden : int
        H, the number of hidden units.
    hessian : {"exact", "gauss-newton"}, default="exact"
        Which curvature ``hessp`` multiplies by.
    keep_forward : bool, default=True
        Keep the forward pass of the last θ (A, Z and G: n·(H + 2k) numbers) for
        ``hessp`` at θ. First-order fits pass False and save that memory.
    mean : ndarray of shape (n_features,), default=None
        The weighted mean row μ of X, if known (``fit`` finds it while checking X).
    """

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        reg_lambda,
        head,
        activation,
        n_hidden,
        hessian="exact",
        keep_forward=True,
        mean=None,
    ):
        # ReLU makes J piecewise smooth: its minima may lie on kinks.
        self.smooth = activation != "relu"
        d, k = X.shape[1], Y.shape[1]
        if head == "softmax" and isinstance(Y, np.ndarray):  # in memory, not Dask
            Y = class_codes(Y)
        self.rows = make_rows(X, Y, sample_weight, _targets_in_dtype)
        self.weight_sum = self.rows.weight_sum
        self.reg_lambda = self.rows.scaled_lambda(reg_lambda)
        self.head = HEADS[head]
        self.activation = ACTIVATIONS[activation]
        self.first_derivative, self.second_derivative = DERIVATIVES[activation]
        self.hessian = hessian
        self.keep_forward = keep_forward
        self.centring = Centring(self.rows.weighted_mean() if mean is None else mean)
        self.dtype = X.dtype
        self.product_dtype = X.dtype  # float64 after use_float64_products()
        self.shapes = [(d, n_hidden), (n_hidden,), (n_hidden, k), (k,)]
        self._bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in self.shapes])
        self._at = AtTheta()

    @property
    def n_params(self):
        """Length of θ."""
        return int(self._bounds[-1])

    def unpack(self, theta):
        """Split θ into views ``W1, c1, W2, c2``."""
        return [
            theta[start:stop].reshape(shape)
            for start, stop, shape in zip(
                self._bounds[:-1], self._bounds[1:], self.shapes, strict=True
            )
        ]

    def _in_dtype(self, *arrays):
        return [np.asarray(array).astype(self.product_dtype, copy=False) for array in arrays]

    def use_float64_products(self):
        """Evaluate J, ∇J and H·v in float64 from now on (float32 X).

        Near the optimum a float32 J stops resolving the decrease a line search asks
        for. Row blocks of X are then cast to float64 one at a time (never all of X).
        """
        self.product_dtype = np.dtype(np.float64)
        self._at.clear()

    def _first_layer(self, W1, c1):
        """W1 and the model's b1 = c1 − μᵀW1, in X's dtype."""
        return self._in_dtype(W1, self.centring.intercepts(W1, c1))

    def _hidden_pass(self, W1, c1, keep):
        """ā = Σ s A / S at (W1, c1), and the handle of A when ``keep``."""
        args = (_hidden_terms, *self._first_layer(W1, c1), self.activation, keep)
        if keep:
            (hidden_sum,), kept = self.rows.reduce(*args, keep=True)
        else:
            (hidden_sum,), kept = self.rows.reduce(*args), None
        return hidden_sum / self.weight_sum, kept

    def _mean_hidden_at(self, theta):
        """ā at θ: kept from the last evaluation if it was at θ, else one pass.

        The per-iteration monitor of early stopping and the end of a fit ask for the
        model at the iterate the solver has just evaluated; recomputing ā there would
        read X once more.
        """
        at = self._at.get(theta)
        if at is not None:
            return at.mean_hidden
        W1, c1, _, _ = self.unpack(theta)
        return self._hidden_pass(W1, c1, keep=False)[0]

    def model_params(self, theta):
        """Return the model's ``[W1, b1, W2, b2]`` for θ."""
        W1, c1, W2, c2 = self.unpack(theta)
        mean_hidden = self._mean_hidden_at(theta)
        return [W1, self.centring.intercepts(W1, c1), W2, c2 - mean_hidden @ W2]

    def theta(self, W1, b1, W2, b2):
        """Return θ for the network with the given weights and biases."""
        c1 = self.centring.shifted(W1, b1)
        mean_hidden, _ = self._hidden_pass(W1, c1, keep=False)
        return np.concatenate([np.ravel(W1), c1, np.ravel(W2), b2 + mean_hidden @ W2])

    def logits(self, theta, X=None):
        """Return Z = f(X W1 + b1) W2 + b2 in X's dtype (training rows when None)."""
        W1, b1, W2, b2 = self.model_params(theta)
        b1 = self.centring.intercepts(W1, self.centring.shifted(W1, b1))
        params = (*(array.astype(self.dtype) for array in (W1, b1, W2, b2)), self.activation)
        if X is None:
            return self.rows.map(_logits, *params, n_columns=W2.shape[1])
        return _logits(X, *params)

    def _forward(self, theta):
        """Passes 1 and 2 at θ: ā, the head, Σ s ℓ and g; kept for ``hessp`` at θ."""
        at = self._at.get(theta)
        if at is not None and at.kept is not None:
            return at
        # Released before the new pass allocates: the two states never coexist.
        self._at.clear()
        W1, c1, W2, c2 = self.unpack(theta)
        mean_hidden, hidden = self._hidden_pass(W1, c1, keep=True)
        (loss, g), kept = self.rows.reduce(
            _head_terms,
            *self._in_dtype(W2, c2 - mean_hidden @ W2),
            self.head,
            kept=hidden,
            keep=True,
        )
        at = _AtTheta(mean_hidden, g, float(loss), kept)
        self._at.set(theta, at if self.keep_forward else at._replace(kept=None))
        return at

    def _backward(self, at, W2, gradient, g, out):
        """Write the backward pass of Σ G ⊙ Z into ``out`` (no penalty).

        ``gradient`` names the kept G (see :func:`_backward_terms`), ``g`` its sum.
        """
        out_W1, out_c1, out_W2, out_c2 = self.unpack(out)
        out_c2[:] = g
        A_t_G, X_t_delta, delta_sum = self.rows.reduce(
            _backward_terms,
            gradient,
            *self._in_dtype(W2.T, g / self.weight_sum),
            self.first_derivative,
            kept=at.kept,
        )
        out_W2[:] = A_t_G - np.outer(at.mean_hidden, g)
        out_c1[:] = delta_sum
        out_W1[:] = self.centring.weight_gradient(X_t_delta, delta_sum)

    def _add_penalty_gradient(self, theta, out):
        W1, _, W2, _ = self.unpack(theta)
        out_W1, _, out_W2, _ = self.unpack(out)
        out_W1 += self.reg_lambda * W1
        out_W2 += self.reg_lambda * W2

    def value_and_grad(self, theta):
        """Return J(θ) and ∇J(θ), the gradient as a float64 vector like θ."""
        at = self._forward(theta)
        W1, _, W2, _ = self.unpack(theta)
        grad = np.empty_like(theta)
        self._backward(at, W2, "G", at.g, grad)
        self._add_penalty_gradient(theta, grad)
        grad /= self.weight_sum
        squared_weights = float(W1.ravel() @ W1.ravel() + W2.ravel() @ W2.ravel())
        return (at.loss + 0.5 * self.reg_lambda * squared_weights) / self.weight_sum, grad

    def whitening(self):
        """None: the first layer's curvature depends on the hidden units, not X alone."""
        return None

    def hessp(self, theta, v):
        """Return H(θ)·v (``hessian="exact"``) or the Gauss-Newton G(θ)·v.

        Both start from the directional derivative of the forward pass along v::

            R{a} = X V1 + (v_c1 − μ V1),   R{A} = f'(a) ⊙ R{a},   R{ā} = sᵀR{A} / S
            R{Z} = (R{A} − 1R{ā}) W2 + (A − 1ā) V2 + v_c2,       R{G} = C R{Z}

        Gauss-Newton backpropagates R{G} as a gradient. The exact product adds the
        terms of the R-operator that differentiate the backward pass itself: R{A}ᵀG
        in W2, G V2ᵀ in ∂/∂A, and (∂/∂A) ⊙ f''(a) ⊙ R{a} in Δ. Three passes over the
        rows, like an evaluation, the forward pass at θ reused from it.
        """
        at = self._forward(theta)
        _, _, W2, _ = self.unpack(theta)
        V1, v_c1, V2, v_c2 = self.unpack(v)
        (R_hidden_sum,), kept = self.rows.reduce(
            _direction_terms,
            *self._first_layer(V1, v_c1),
            self.first_derivative,
            kept=at.kept,
            keep=True,
        )
        R_mean = R_hidden_sum / self.weight_sum
        shift = v_c2 - R_mean @ W2 - at.mean_hidden @ V2
        (R_g,), kept = self.rows.reduce(
            _curvature_terms, *self._in_dtype(W2, V2, shift), self.head, kept=kept, keep=True
        )
        out = np.empty_like(v)
        out_W1, out_c1, out_W2, out_c2 = self.unpack(out)
        if self.hessian == "gauss-newton":
            self._backward(at._replace(kept=kept), W2, "R_G", R_g, out)
        else:
            out_c2[:] = R_g
            R_A_t_G, X_t_R_delta, R_delta_sum = self.rows.reduce(
                _exact_backward_terms,
                *self._in_dtype(W2, V2, at.g / self.weight_sum, R_g / self.weight_sum),
                self.second_derivative,
                kept=kept,
            )
            out_W2[:] = R_A_t_G - (np.outer(at.mean_hidden, R_g) + np.outer(R_mean, at.g))
            out_c1[:] = R_delta_sum
            out_W1[:] = self.centring.weight_gradient(X_t_R_delta, R_delta_sum)
        self._add_penalty_gradient(v, out)
        out /= self.weight_sum
        return out
