"""The linear models' objective: logistic, one-vs-rest and softmax regression."""

import numpy as np

from .._docstring import fill_doc
from .centring import Centring
from .heads import HEADS, class_codes
from .kernels import (
    affine_forward,
    column_sums,
    congruence_by_rows,
    row_blocks,
)
from .linear_terms import (
    chunk_covariance_terms,
    chunk_variance_terms,
    data_terms,
    head_curvatures,
    hessian_blocks,
    hessian_terms,
    hessp_terms,
    targets_by_output,
)
from .rows import AtTheta, InMemoryRows, make_rows
from .whitening import (
    CurvatureWhitening,
    DiagonalWhitening,
    Whitening,
    covariance_terms,
    variance_terms,
    whitening_step,
)

__all__ = ["LinearObjective"]

#: Largest curvature blocks :meth:`LinearObjective.curvature_whitening` forms (K blocks
#: of (d + 1)² float64): 128 MB, 4 000 features for one output.
_CURVATURE_BLOCKS_BYTES = 2**27
#: A Gram matrix's multiply-adds (BLAS-3) run about this many times faster than those
#: of the memory-bound products X·W (benchmarks/README.md, "Whitening").
_GRAM_SPEEDUP = 10


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

    Notes
    -----
    ``sample_weight`` of shape (n, G) makes this the objective of G fits on the same
    rows at once (the folds of a cross-validation: fit g weighs its held-out rows by
    zero), θ their parameters side by side: W has k·G columns, fit g's are
    ``W[:, g::G]``, and J = Σ_g J_g with each J_g normalised by its own
    weight sum S_g. The fits share each product with X (one BLAS call, no copy of
    any fold's rows); ∇J's block g is ∇J_g, so ‖∇J‖∞ ≤ tol holds for every fit.
    Their intercepts are centred at the mean of the fits' means, and their whitening
    is that of all rows: both are only changes of variables.
    """

    smooth = True

    def __init__(
        self, X, Y, sample_weight, reg_lambda, head, keep_curvature=False, class_sums=None
    ):
        if np.ndim(sample_weight) == 2 and sample_weight.shape[1] == 1:
            sample_weight = sample_weight[:, 0]  # one fit: J normalised by its S alike
        self.groups = 1 if np.ndim(sample_weight) == 1 else sample_weight.shape[1]
        n_classes = Y.shape[1]
        if head == "softmax" and isinstance(Y, np.ndarray):  # in memory, not Dask
            Y = class_codes(Y)
        if self.groups == 1:
            self.rows = make_rows(X, Y, sample_weight, targets_by_output)
            self.weight_sum = self.rows.weight_sum
            mean = self.rows.weighted_mean() if class_sums is None else class_sums.mean
        else:
            self.rows, mean = self._rows_of_fits(X, Y, n_classes, sample_weight)
            self.weight_sum = float(np.ldexp(1.0, -self.rows.weight_exponent))
            class_sums = None
        self.head = HEADS[head]
        self.centring = Centring(mean)
        self._class_sums = class_sums
        self._class_targets = _class_targets(class_sums, n_classes, keep_curvature)
        self.dtype = X.dtype
        self.product_dtype = X.dtype  # float64 after use_float64_products()
        self.n_features = X.shape[1]
        self.n_outputs = n_classes * self.groups
        self.keep_curvature = keep_curvature
        self._curvature = AtTheta()
        self._spread, self._whitening = None, (None, None)  # covariance or variances
        self.set_penalty(reg_lambda)

    def _rows_of_fits(self, X, Y, n_classes, sample_weight):
        """The rows of G fits, in the head's layout (``linear_terms._block``), and their mean row.

        Every fit's weights sum to one (times the rows' power of two), so that the
        head's one total is Σ_g (Σ_i s_ig ℓ_ig) / S_g; λ becomes λ / S_g per fit.
        """
        self._fit_weight_sums = sample_weight.sum(axis=0, dtype=np.float64)
        weights = sample_weight / self._fit_weight_sums
        blocks = row_blocks(X, n_classes * self.groups)
        repeats = (self.groups,) + (1,) * (Y.ndim - 1)  # Y: one-hot rows or class codes
        targets = np.concatenate([np.tile(Y[block], repeats) for block in blocks])
        fit_weights = np.concatenate([weights[block].T.ravel() for block in blocks])
        rows = InMemoryRows(X, np.asfortranarray(targets), fit_weights)
        # Each row weighs as much as in all fits together: the covariance's and the
        # centring's weights.
        self._row_weights = weights.sum(axis=1).astype(X.dtype)
        mean = np.ravel(X.T @ self._row_weights) / float(np.sum(weights))
        return rows, mean

    def set_penalty(self, reg_lambda):
        """Set λ, the L2 penalty on W (kept in the weights' scale: J is unchanged)."""
        if self.groups == 1:
            self.reg_lambda = self.rows.scaled_lambda(reg_lambda)
        else:
            per_fit = self.rows.scaled_lambda(1.0) * (reg_lambda / self._fit_weight_sums)
            self.reg_lambda = np.tile(per_fit, self.n_outputs // self.groups)

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
        return [np.asarray(array).astype(self.product_dtype, copy=False) for array in arrays]

    def use_float64_products(self):
        """Evaluate J, ∇J and H·v with float64 products from now on (float32 X).

        Near the optimum a float32 J stops resolving the decrease a line search asks
        for: its products round W to float32, so a step below float32's spacing of W
        leaves J unchanged. Row blocks of X are then cast to float64 one at a time
        (never all of X) and multiplied in float64.
        """
        self.product_dtype = np.dtype(np.float64)
        self._curvature.clear()

    def logits(self, theta, X=None):
        """Return Z = X W + b in X's dtype (on the training rows when ``X`` is None)."""
        W, b = (array.astype(self.dtype, copy=False) for array in self.model_params(theta))
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
        args = (data_terms, W_x, b_x, self.head, self.keep_curvature, self.groups)
        if self.keep_curvature:
            self._curvature.clear()  # freed before the new one is built
            (loss, grad_W, grad_b), curvature = self.rows.reduce(*args, keep=True)
            self._curvature.set(theta, curvature)
        else:
            loss, grad_W, grad_b = self.rows.reduce(*args)
        return (float(loss) + self._penalty(W)) / self.weight_sum, self._in_centred_coordinates(
            W, grad_W, grad_b
        )

    def penalty(self, theta):
        """The penalty's part of J(θ) at the current λ: λ/2 ‖W‖² / S."""
        return self._penalty(self.unpack(theta)[0]) / self.weight_sum

    def penalty_gradient(self, theta):
        """∇ of :meth:`penalty` at θ: λ W / S on W, zero on the intercepts."""
        W, _ = self.unpack(theta)
        out = np.zeros(self.n_params)
        out_W, _ = self.unpack(out)
        np.multiply(W, self.reg_lambda / self.weight_sum, out=out_W)
        return out

    def _penalty(self, W):
        """λ/2 ‖W‖², or Σ_g λ_g/2 ‖W_g‖² for several fits."""
        if self.groups == 1:
            return 0.5 * self.reg_lambda * float(W.ravel() @ W.ravel())
        return 0.5 * float(self.reg_lambda @ np.einsum("ij,ij->j", W, W))

    def _value_and_grad_at_zero_weights(self, W, c):
        """J and ∇J at W = 0 from the class sums, without reading X.

        Every sample of class j then has the logits z = b = c and its class's targets
        y_j, so the head on one row per class, weighted by the class totals S_j, gives
        Σ s ℓ and Σ G, and Xᵀ G = Σ_j (Σ_{i∈j} s_i x_i)(G_j / S_j)ᵀ.
        """
        sums = self._class_sums
        totals = sums.totals.astype(self.product_dtype)
        logits = np.tile(c.astype(self.product_dtype), (totals.size, 1))
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
            hessp_terms,
            *self._in_dtype(V_W, self.centring.intercepts(V_W, v_c)),
            self.groups,
            kept=self._curvature_at(theta),
        )
        return self._in_centred_coordinates(V_W, grad_W, grad_b)

    def newton_matrix(self, theta):
        """Return J's Hessian at θ as a dense (n_params, n_params) float64 matrix.

        H = (Σ_i x̃_i x̃_iᵀ ⊗ C_i + λ I on W) / S with x̃ = [x − μ, 1] in the centred
        coordinates: the matrix :meth:`hessp` multiplies by, formed for a solver that
        factorises it (``solver="trust-exact"``). It costs n·(d + 1)² multiply-adds per
        coupled pair of outputs (k for sigmoid units, k(k + 1)/2 for softmax, per fit),
        much more than a product once d is in the hundreds.

        One change, where Newton steps do not see it: a softmax J is flat along the
        common shift of all classes' intercepts (and, at λ = 0, of their weights on a
        feature), so H is singular there, and rounding would be amplified along it.
        Each of those directions gets the mean curvature of its own parameters. ∇J has
        no component along them at the symmetric iterates a fit keeps (it starts at
        W = 0), so the Newton step, −H⁻¹∇J, is the same, from a positive-definite
        matrix.
        """
        W, b = self.model_params(theta)
        (terms,) = self.rows.reduce(hessian_terms, W, b, self.head, self.groups)
        d, n_columns = self.n_features, self.n_outputs
        H = congruence_by_rows(terms, self._to_model_params(), n_columns)
        weights = np.arange(d * n_columns)
        H[weights, weights] += np.tile(np.broadcast_to(self.reg_lambda, (n_columns,)), d)
        H /= self.weight_sum
        n_classes = n_columns // self.groups
        if self.head is HEADS["softmax"] and n_classes > 1:
            for first in range(0, self.n_params, n_columns):  # a feature's, or the intercepts
                for fit in range(self.groups):
                    shift = np.ix_(*[first + fit + self.groups * np.arange(n_classes)] * 2)
                    H[shift] += np.trace(H[shift]) / n_classes**2
        return H

    def _to_model_params(self):
        """A with [w; b] = A [w; c] per column (b = c − μᵀw): a Hessian in θ is Aᵀ H A."""
        A = np.eye(self.n_features + 1)
        A[-1, :-1] = -self.centring.mean
        return A

    def curvature_whitening(self, theta):
        """Return coordinates in which J's curvature at θ is I on each output, or None.

        Each column j of W with its intercept, (w_j, c_j), gets the factor of its own
        block of the Hessian at θ (the softmax's coupling of classes left out): the
        :class:`CurvatureWhitening` a first-order solver is restarted in when the
        whitening at θ = 0 no longer matches J's shape (collinear features, nearly
        separable classes). None where a block is not positive definite;
        :attr:`curvature_whitening_cost` weighs it.
        """
        d, n_columns = self.n_features, self.n_outputs
        W, b = self.model_params(theta)
        (blocks,) = self.rows.reduce(hessian_blocks, W, b, self.head, self.groups)
        blocks = self.centring.curvature_blocks(blocks)
        features = np.arange(d)
        blocks[:, features, features] += np.broadcast_to(self.reg_lambda, (n_columns,))[:, None]
        blocks /= self.weight_sum
        return CurvatureWhitening.from_blocks(blocks)

    @property
    def curvature_whitening_cost(self):
        """The evaluations of J and ∇J a restart in :meth:`curvature_whitening` must save.

        Its blocks: n (d + 1)² multiply-adds per output against the 2 n d of one
        output's products, as BLAS-3 ``_GRAM_SPEEDUP`` times faster, over k outputs
        ~√k times one's (measured: 15-19 passes for 10 outputs of 100 features, 4.5
        for one); then lbfgs rebuilding its curvature pairs. Twice that for softmax,
        whose blocks leave out the coupling of classes; once for sigmoid outputs,
        whose blocks are the Hessian (benchmarks/README.md). Infinite where the
        blocks would exceed ``_CURVATURE_BLOCKS_BYTES`` (thousands of features).
        """
        width = self.n_features + 1
        if 8 * self.n_outputs * width**2 > _CURVATURE_BLOCKS_BYTES:
            return np.inf
        blocks = width / (2 * _GRAM_SPEEDUP) * np.sqrt(self.n_outputs)
        margin = 1 if self.head is HEADS["sigmoid"] else 2
        return margin * (blocks + self.curvature_whitening_after / 2)

    @property
    def curvature_whitening_after(self):
        """Iterations of lbfgs in one set of coordinates before a restart may pay.

        Half as many rebuild lbfgs's curvature pairs after one. Sigmoid outputs' blocks
        are the Hessian: a restart pays as soon as its pace is measured. Softmax's
        leave out the coupling of classes, which lbfgs must learn again: restarting it
        after 10 on raw digits at tol 1e-6 cost 1.3-1.6x the time (benchmarks/README.md).
        """
        return 10 if self.head is HEADS["sigmoid"] else 20

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
            curvature = self.rows.keep(head_curvatures, W, b, self.head, self.groups)
            self._curvature.set(theta, curvature)
        return curvature

    def _in_centred_coordinates(self, W, grad_W, grad_b):
        """Finish a gradient (or H·v) from the data terms' one in the model's (W, b).

        Returns the vector [∂/∂W, ∂/∂c] of (data terms + λ/2 ‖W‖²) / S. ``W`` is θ's
        W for a gradient, V_W for a product (the penalty's Hessian is λ I on W).
        """
        out_W = self.centring.weight_gradient(grad_W, grad_b)
        out_W += self.reg_lambda * W
        out = np.concatenate((out_W.ravel(), grad_b))
        out /= self.weight_sum
        return out

    def whitening(self):
        """Return the :class:`Whitening` of this problem, or None where A is not positive.

        The covariance comes from the same rows of X (every ``step``-th of the data) in memory
        and on Dask; where it would cost more than it saves, the :class:`DiagonalWhitening` of
        the features' variances (one pass). Either is kept, as is its whitening at the last λ.
        """
        penalty_curvature = np.mean(self.reg_lambda) / self.weight_sum
        if self._whitening[0] == penalty_curvature:  # a path asks twice per λ
            return self._whitening[1]
        n, d = self.rows.shape
        step = whitening_step(n, d, self.n_outputs)
        if step is None:
            in_chunk, of_rows, args = chunk_variance_terms, variance_terms, ()
            whitening = DiagonalWhitening.from_variances
        else:
            in_chunk, of_rows, args = chunk_covariance_terms, covariance_terms, (step,)
            whitening = Whitening.from_covariance
        if self._spread is None:
            if self.groups == 1:
                terms, weight_sum = self.rows.reduce(in_chunk, self.centring.mean, *args)
            else:
                terms, weight_sum = of_rows(
                    self.rows.X, self._row_weights, self.centring.mean, *args
                )
            self._spread = terms / float(weight_sum)
        curvature = self.head.curvature_at_zero(self.n_outputs // self.groups)
        whitened = whitening(self._spread, curvature, penalty_curvature, self.n_outputs)
        self._whitening = (penalty_curvature, whitened)
        return whitened


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
