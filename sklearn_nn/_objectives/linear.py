"""The linear models' objective: logistic, one-vs-rest and softmax regression."""

import numpy as np

from .._docstring import fill_doc
from .centring import Centring
from .heads import HEADS
from .kernels import affine_forward, column_sums, products_by_output, row_blocks, rows_of
from .rows import AtTheta, make_rows
from .whitening import Whitening, covariance_terms, whitening_step

__all__ = ["LinearObjective"]


def _targets_by_output(Y, dtype):
    """The targets in the logits' layout (:func:`products_by_output`), as given."""
    return np.asfortranarray(Y)


def _data_terms(chunk, W, b, head, keep_curvature):
    """Σ s ℓ, Xᵀ G and Σ G on a chunk at the model's (W, b), block by block.

    G = ∂(Σ s ℓ)/∂Z. Each row block's logits, head and backward product run while
    the block is in cache. With ``keep_curvature`` the head's curvature of every
    block is returned as the chunk's state, for Hessian products at the same θ.
    """
    X, Y, s = chunk.X, chunk.Y, chunk.sample_weight
    loss, grad_W, grad_b = 0.0, np.zeros(W.shape), np.zeros(W.shape[1])
    curvatures = []
    for block in row_blocks(X):
        X_block = rows_of(X, block)
        Z = products_by_output(X_block, W)
        Z += b
        if keep_curvature:
            curvatures.append(head.curvature(Z, s[block]))
        block_loss, G = head.loss_and_grad(Z, Y[block], s[block])
        loss += block_loss
        grad_W += X_block.T @ G
        grad_b += column_sums(G)
    sums = (loss, grad_W, grad_b)
    return (sums, curvatures) if keep_curvature else sums


def _curvatures(chunk, W, b, head):
    """The head's curvature at the logits X W + b, one map ``dZ ↦ C dZ`` per row block."""
    X, s = chunk.X, chunk.sample_weight
    curvatures = []
    for block in row_blocks(X):
        Z = products_by_output(rows_of(X, block), W)
        Z += b
        curvatures.append(head.curvature(Z, s[block]))
    return curvatures


def _hessp_terms(chunk, curvatures, V, v_b):
    """Xᵀ U and Σ U with U = C (X V + v_b), row block by row block.

    Each block of X meets V and then U while it is in cache: a product reads X from
    memory once, like an evaluation.
    """
    X = chunk.X
    grad_W, grad_b = np.zeros(V.shape), np.zeros(V.shape[1])
    for block, curvature in zip(row_blocks(X), curvatures, strict=True):
        X_block = rows_of(X, block)
        U = products_by_output(X_block, V)
        U += v_b
        U = curvature(U)
        grad_W += X_block.T @ U
        grad_b += column_sums(U)
    return grad_W, grad_b


def _covariance_terms(chunk, mean, step):
    """:func:`covariance_terms` of a chunk's rows on the grid of every ``step``-th row."""
    return covariance_terms(
        chunk.X, chunk.sample_weight, mean, step, first=-chunk.first_row % step
    )


@fill_doc
class LinearObjective:
    """J of a linear model ``Z = X W + b`` under a sigmoid or softmax head.

    Shapes: X (n, d) dense or CSR, float32 or float64; Y (n, k); W (d, k); b (k,).
    θ = [W.ravel(), c] with c the intercepts at the data mean (see
    :class:`~sklearn_nn._objectives.centring.Centring`); θ and the gradient are
    float64, the products with X run in X's dtype, so float32 data is never
    promoted or copied. X may be a Dask array: the rows protocol
    (:mod:`~sklearn_nn._objectives.rows`) then runs the same chunk functions on its
    chunks.

    With the sigmoid head and k columns this is k independent binary logistic
    regressions (one-vs-rest) whose J is the sum of the k binary J's; with k = 1 it
    is binary logistic regression. With the softmax head it is multinomial
    (softmax) regression.

    Parameters
    ----------
    {objective_data}
    reg_lambda : float
        λ ≥ 0, the L2 penalty on W.
    head : {"sigmoid", "softmax"}
        Output loss, see :data:`~sklearn_nn._objectives.heads.HEADS`.
    keep_curvature : bool, default=False
        Keep the head's curvature at the θ of the last evaluation (n·k numbers) for
        ``hessp`` at that θ. Second-order fits pass True: their products at θ then
        need no logits of their own. First-order fits save that memory.
    class_sums : ClassRowSums, default=None
        The weighted row sums of X per class (:func:`~sklearn_nn._objectives.scan.scan_rows`),
        for the classes whose indicator rows Y holds: one-hot, or with one column the
        second of two. They give μ without a pass over X, and J and ∇J at W = 0
        (every fit's start) without any.
    """

    smooth = True

    def __init__(
        self, X, Y, sample_weight, reg_lambda, head, keep_curvature=False, class_sums=None
    ):
        self.rows = make_rows(X, Y, sample_weight, _targets_by_output)
        self.weight_sum = self.rows.weight_sum
        self.reg_lambda = self.rows.scaled_lambda(reg_lambda)
        self.head = HEADS[head]
        mean = self.rows.weighted_mean() if class_sums is None else class_sums.mean
        self.centring = Centring(mean)
        self._class_sums = class_sums
        self._class_targets = _class_targets(class_sums, Y.shape[1], keep_curvature)
        self.dtype = X.dtype
        self.n_features = X.shape[1]
        self.n_outputs = Y.shape[1]
        self.keep_curvature = keep_curvature
        self._curvature = AtTheta()

    @property
    def n_params(self):
        """Length of θ."""
        return (self.n_features + 1) * self.n_outputs

    def unpack(self, theta):
        """Split θ into views ``W`` of shape (d, k) and ``c`` of shape (k,)."""
        d, k = self.n_features, self.n_outputs
        return theta[: d * k].reshape(d, k), theta[d * k :]

    def model_params(self, theta):
        """Return the model's ``(W, b)`` for θ."""
        W, c = self.unpack(theta)
        return W, self.centring.intercepts(W, c)

    def theta(self, W, b):
        """Return θ for the model with weights ``W`` (d, k) and intercepts ``b``."""
        return np.concatenate([np.ravel(W), self.centring.shifted(W, b)])

    def _in_dtype(self, *arrays):
        return [np.asarray(array).astype(self.dtype, copy=False) for array in arrays]

    def logits(self, theta, X=None):
        """Return Z = X W + b in X's dtype (on the training rows when ``X`` is None)."""
        W, b = self._in_dtype(*self.model_params(theta))
        if X is None:
            return self.rows.map(affine_forward, W, b, n_columns=self.n_outputs)
        return affine_forward(X, W, b)

    def value_and_grad(self, theta):
        """Return J(θ) and ∇J(θ), the gradient as a float64 vector like θ.

        One pass over the rows: forward, head and backward of a row block run while
        it is in cache, and the logits exist only block by block.
        """
        W, c = self.unpack(theta)
        if self._class_targets is not None and not W.any():
            return self._value_and_grad_at_zero_weights(W, c)
        W_x, b_x = self._in_dtype(W, self.centring.intercepts(W, c))
        args = (_data_terms, W_x, b_x, self.head, self.keep_curvature)
        if self.keep_curvature:
            self._curvature.clear()  # freed before the new one is built
            (loss, grad_W, grad_b), curvature = self.rows.reduce(*args, keep=True)
            self._curvature.set(theta, curvature)
        else:
            loss, grad_W, grad_b = self.rows.reduce(*args)
        penalty = 0.5 * self.reg_lambda * float(W.ravel() @ W.ravel())
        return (float(loss) + penalty) / self.weight_sum, self._in_centred_coordinates(
            W, grad_W, grad_b
        )

    def _value_and_grad_at_zero_weights(self, W, c):
        """J and ∇J at W = 0 from the class sums, without reading X.

        Every sample of class j then has the logits z = b = c and its class's targets
        y_j, so the head on one row per class, weighted by the class totals S_j, gives
        Σ s ℓ and Σ G, and Xᵀ G = Σ_j (Σ_{i∈j} s_i x_i)(G_j / S_j)ᵀ.
        """
        sums = self._class_sums
        totals = sums.totals.astype(self.dtype)
        logits = np.tile(c.astype(self.dtype), (totals.size, 1))
        loss, G = self.head.loss_and_grad(logits, self._class_targets, totals)
        grad_W = sums.per_class @ (G / totals[:, None])
        return loss / self.weight_sum, self._in_centred_coordinates(W, grad_W, column_sums(G))

    def hessp(self, theta, v):
        """Return H(θ)·v, the exact Hessian of J times a vector, in closed form.

        H·v = (Xᵀ C(X V_W + v_b) + λ V_W) / S in the centred coordinates, with C the
        head's curvature at θ (s·p(1−p) for sigmoid units, the multinomial
        s·(diag(p) − ppᵀ) for softmax). Cost: two products with X (X·V_W and Xᵀ·U,
        row block by row block, so X is read once), plus one (the logits) at a θ
        whose curvature was not kept by the evaluation there.
        """
        V_W, v_c = self.unpack(v)
        grad_W, grad_b = self.rows.reduce(
            _hessp_terms,
            *self._in_dtype(V_W, self.centring.intercepts(V_W, v_c)),
            kept=self._curvature_at(theta),
        )
        return self._in_centred_coordinates(V_W, grad_W, grad_b)

    def _curvature_at(self, theta):
        """Return the head's curvature at θ per chunk, built once per θ.

        A Newton-CG inner loop calls ``hessp`` many times at one θ: the logits (one
        product with X) are computed once per θ, or not at all when the evaluation
        at θ kept its curvature (``keep_curvature``).
        """
        curvature = self._curvature.get(theta)
        if curvature is None:
            self._curvature.clear()  # freed before the new one is built
            W, b = self._in_dtype(*self.model_params(theta))
            curvature = self.rows.keep(_curvatures, W, b, self.head)
            self._curvature.set(theta, curvature)
        return curvature

    def _in_centred_coordinates(self, W, grad_W, grad_b):
        """Finish a gradient (or H·v) from the data terms' one in the model's (W, b).

        Returns the vector [∂/∂W, ∂/∂c] of (data terms + λ/2 ‖W‖²) / S. ``W`` is θ's
        W for a gradient, V_W for a product (the penalty's Hessian is λ I on W).
        """
        out = np.empty(self.n_params)
        out_W, out_c = self.unpack(out)
        out_c[:] = grad_b
        out_W[:] = self.centring.weight_gradient(grad_W, grad_b)
        out_W += self.reg_lambda * W
        out /= self.weight_sum
        return out

    def whitening(self):
        """Return the :class:`Whitening` of this problem, or None where it does not pay.

        The covariance comes from the same rows of X (every ``step``-th of the whole
        data) in memory and on Dask, so both take one path.
        """
        n, d = self.rows.shape
        step = whitening_step(n, d, self.n_outputs)
        if step is None:
            return None
        terms, weight_sum = self.rows.reduce(_covariance_terms, self.centring.mean, step)
        return Whitening.from_covariance(
            terms / float(weight_sum),
            self.head.curvature_at_zero(self.n_outputs),
            self.reg_lambda / self.weight_sum,
            self.n_outputs,
        )


def _class_targets(class_sums, n_outputs, keep_curvature):
    """Each class's indicator row, for J at W = 0 from class sums; None to read X.

    Second-order fits read X all the same: their Hessian products at the start need
    the curvature that an evaluation over the rows leaves behind.
    """
    if class_sums is None or keep_curvature or not np.all(class_sums.totals > 0):
        return None
    n_classes = class_sums.totals.size
    if n_outputs == n_classes:
        return np.eye(n_classes, dtype=np.uint8)
    if n_outputs == 1 and n_classes == 2:
        return np.array([[0], [1]], dtype=np.uint8)  # binary: Y marks the second class
    return None
