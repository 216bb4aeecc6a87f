"""Whitening: the change of variables under which a linear model's J starts round."""

import numpy as np
from scipy import sparse
from scipy.linalg import LinAlgError, cholesky, get_lapack_funcs

from .kernels import BLOCK_BYTES, congruence_by_rows, row_slices

__all__ = [
    "CurvatureWhitening",
    "DiagonalWhitening",
    "Whitening",
    "covariance_terms",
    "variance_terms",
    "whitening_step",
]


class _KeepsLastTheta:
    """Coordinates u whose last θ = T u is kept.

    scipy's callback hands back the iterate that its solver has just evaluated,
    whose θ is then not computed again (benchmarks/README.md).
    """

    #: (u's bytes, θ) of the last :meth:`to_theta`.
    _last = None

    def to_theta(self, u):
        """Return θ = T u (also T v for a direction v: T is linear)."""
        key = u.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1].copy()
        theta = self._theta_of(u)
        self._last = (key, theta.copy())
        return theta


class Whitening(_KeepsLastTheta):
    """The change of variables θ = T u under which a linear model's J starts round.

    In the optimizer's coordinates u = [U, u_c] the model's weights and centred
    intercepts are W = L⁻ᵀ U and c = u_c / √a, with L Lᵀ = A ≈ a·Σ + δI, Σ the
    weighted covariance of the features, a the head's curvature per logit at θ = 0
    (¼ for sigmoid units, 1/K for softmax) and δ the penalty's curvature λ/S. That A
    is the Hessian of J at the start (up to the softmax's coupling of classes), so in
    u the solver meets J with curvature ≈ I: correlated or unevenly scaled features
    no longer stretch its level sets, and first-order solvers need far fewer passes
    over X. J and its minimiser are unchanged; ``minimize`` keeps reporting θ and
    tests ∇J in θ, so ``tol`` keeps its meaning.

    Parameters
    ----------
    factor : ndarray of shape (n_features, n_features)
        Lower-triangular Cholesky factor L of A.
    n_outputs : int
        Columns k of W.
    curvature : float
        a, the curvature of the intercepts.
    """

    def __init__(self, factor, n_outputs, curvature):
        self.factor = factor
        (self._trtrs,) = get_lapack_funcs(("trtrs",), (factor,))
        # LAPACK reads Fortran order: a C-ordered L is Lᵀ in Fortran order, an upper
        # factor, and solving with it swaps the transpositions (as solve_triangular).
        self._lapack_factor = (
            (factor, 1, False) if factor.flags.f_contiguous else (factor.T, 0, True)
        )
        self.n_outputs = n_outputs
        self.intercept_scale = float(np.sqrt(curvature))

    def _solve(self, B, trans):
        """L⁻¹ B (``trans=0``) or L⁻ᵀ B (``trans=1``), by LAPACK's trtrs.

        What :func:`scipy.linalg.solve_triangular` calls, without its argument
        checks, which cost more than the solve itself on small problems (a path of
        fits makes thousands of these calls).
        """
        factor, lower, flipped = self._lapack_factor
        solution, _ = self._trtrs(factor, B, lower=lower, trans=1 - trans if flipped else trans)
        return solution

    def _split(self, vector):
        d, k = self.factor.shape[0], self.n_outputs
        return vector[: d * k].reshape(d, k), vector[d * k :]

    def _join(self, W, c):
        return np.concatenate([W.ravel(), c])

    def _theta_of(self, u):
        U, u_c = self._split(u)
        # No finiteness check: a solver's non-finite trial direction (trust-krylov's
        # on extreme problems) must reach the Hessian product, whose guard ends the run.
        W = self._solve(U, trans=1)
        return self._join(W, u_c / self.intercept_scale)

    def from_theta(self, theta):
        """Return u = T⁻¹ θ, the coordinates of a starting point."""
        W, c = self._split(theta)
        return self._join(self.factor.T @ W, c * self.intercept_scale)

    def gradient_in_u(self, grad):
        """Return Tᵀ g: a gradient (or H T v) in θ turned into one in u."""
        grad_W, grad_c = self._split(grad)
        return self._join(
            self._solve(grad_W, trans=0),
            grad_c / self.intercept_scale,
        )

    def matrix_in_u(self, H):
        """Return Tᵀ H T: a symmetric matrix on θ (the dense Hessian) turned into one on u.

        T acts on each column of W alike: on the (feature or intercept) axis of θ laid
        out as (d + 1, k), it is blockdiag(L⁻ᵀ, 1/√a).
        """
        d = self.factor.shape[0]
        T = np.zeros((d + 1, d + 1))
        T[:d, :d] = self._solve(np.eye(d), trans=1)
        T[d, d] = 1.0 / self.intercept_scale
        return congruence_by_rows(H, T, self.n_outputs)

    @classmethod
    def from_covariance(cls, covariance, curvature, penalty_curvature, n_outputs):
        """Return the whitening for A = a·Σ + ρ·diag(a·Σ) + δI, or None if A is not positive.

        δ = λ/S is the penalty's curvature and ρ = ``_SHRINKAGE``. The shrinkage
        towards the diagonal (constant features: towards the average variance) keeps
        the curvature in u of directions the data never moves (collinear features,
        fewer rows than features: only the penalty acts there) below that of the
        directions the solver explores. At ρ = 0 it is 1 there and falls far below 1
        elsewhere as the fit saturates: lbfgs, whose step is scaled to the explored
        curvature, then amplifies rounding in those directions ~10x per iteration,
        and a weighted fit and its repeated-rows twin ended 1e-5 apart. The scales
        of the features are still removed in full. None where Σ overflowed
        (features near the limit of the float range): the solver then works in θ.
        """
        A = curvature * covariance
        d = A.shape[0]
        A.flat[:: d + 1] += penalty_curvature + _SHRINKAGE * _shrinkage_targets(np.diag(A))
        try:
            factor = cholesky(A, lower=True)
        except (LinAlgError, ValueError):
            return None
        if not np.all(np.isfinite(factor)) or not np.all(np.diag(factor) > 0):
            return None
        return cls(factor, n_outputs, curvature)


class DiagonalWhitening(Whitening):
    """:class:`Whitening` by the diagonal of A alone, for thousands of features.

    Where the d × d covariance would cost more than it saves (a sparse text matrix,
    say), the features' weighted variances, one pass over X, still remove their
    scales, which on tf-idf columns span orders of magnitude (the passes it saves:
    benchmarks/README.md). L is diag(√A_jj) of A = (1 + ρ)·a·diag(Σ) + δI, the
    diagonal of the full whitening's.

    Parameters
    ----------
    roots : ndarray of shape (n_features,)
        √A_jj.
    n_outputs : int
        Columns k of W.
    curvature : float
        a, the curvature of the intercepts.
    """

    def __init__(self, roots, n_outputs, curvature):
        self.factor = roots
        self.n_outputs = n_outputs
        self.intercept_scale = float(np.sqrt(curvature))

    def _solve(self, B, trans):
        return B / self.factor[:, None]

    def from_theta(self, theta):
        W, c = self._split(theta)
        return self._join(W * self.factor[:, None], c * self.intercept_scale)

    def matrix_in_u(self, H):
        T = np.diag(np.append(1.0 / self.factor, 1.0 / self.intercept_scale))
        return congruence_by_rows(H, T, self.n_outputs)

    @classmethod
    def from_variances(cls, variances, curvature, penalty_curvature, n_outputs):
        """Return the diagonal whitening of weighted variances, or None if one is not positive."""
        A = curvature * variances
        A += penalty_curvature + _SHRINKAGE * _shrinkage_targets(A)
        if not np.all(np.isfinite(A)) or not np.all(A > 0):
            return None
        return cls(np.sqrt(A), n_outputs, curvature)


def _shrinkage_targets(variances):
    """The variances the shrinkage adds ρ times; constant features get their average."""
    targets = np.array(variances, dtype=np.float64)
    targets[targets <= 1e-12 * targets.max(initial=0.0)] = np.mean(targets)
    return targets


class CurvatureWhitening(_KeepsLastTheta):
    """The change of variables θ = T u under which J's curvature at an iterate is I.

    For each column j of W, with its intercept, θ_j = (w_j, c_j) = L_j⁻ᵀ u_j, where
    L_j L_jᵀ = H_j is that output's block of the Hessian at the iterate. Where the
    whitening at θ = 0 stops matching J's shape as a fit goes on (the saturated rows of
    nearly separable classes carry no curvature; collinear features keep what the
    shrinkage towards the diagonal left in), a first-order solver restarted in these
    coordinates meets J round again near its minimum. u is laid out block by block,
    (K, d + 1); only the solver sees it.

    Parameters
    ----------
    factors : ndarray of shape (n_outputs, n_features + 1, n_features + 1)
        The lower-triangular Cholesky factors L_j.
    """

    def __init__(self, factors):
        self.factors = factors
        # The inverses once, so that each product is one batched matmul rather than
        # K triangular solves (a cross-validation stacks 50 outputs; OpenBLAS's
        # triangular solve of one vector is slower than the matmul even for one).
        # LAPACK's trtri inverts in half the time of a solve against the identity;
        # Cholesky factors (``from_blocks``) have a positive diagonal, so it succeeds.
        (trtri,) = get_lapack_funcs(("trtri",), (factors,))
        self._inverses = np.empty_like(factors)
        for inverse, factor in zip(self._inverses, factors, strict=True):
            inverse[...] = trtri(factor, lower=1)[0]

    def _blocks(self, theta):
        n_outputs, width = self.factors.shape[:2]
        blocks = np.empty((n_outputs, width))
        blocks[:, :-1] = theta[: (width - 1) * n_outputs].reshape(width - 1, n_outputs).T
        blocks[:, -1] = theta[(width - 1) * n_outputs :]
        return blocks

    @staticmethod
    def _theta(blocks):
        return np.concatenate([blocks[:, :-1].T.ravel(), blocks[:, -1]])

    def _theta_of(self, u):
        u = u.reshape(self.factors.shape[:2])
        return self._theta(np.matmul(u[:, None, :], self._inverses)[:, 0])

    def from_theta(self, theta):
        """Return u = T⁻¹ θ: each block's Lᵀ θ_j."""
        return np.matmul(self._blocks(theta)[:, None, :], self.factors)[:, 0].ravel()

    def gradient_in_u(self, grad):
        """Return Tᵀ g: each block's L⁻¹ g_j."""
        return np.matmul(self._inverses, self._blocks(grad)[:, :, None])[:, :, 0].ravel()

    @classmethod
    def from_blocks(cls, blocks):
        """Return the coordinates of the curvature blocks H_j, or None if one is not positive."""
        try:
            factors = np.linalg.cholesky(blocks)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(factors)):
            return None
        return cls(factors)


#: Rows of X whose covariance defines the whitening, per feature: enough to estimate
#: Σ's eigenvalues well for a preconditioner, at a fraction of a pass.
_WHITENING_ROWS_PER_FEATURE = 50
#: Largest cost of the covariance, in multiply-adds per multiply-add of one product
#: X·W: a BLAS-3 product runs much faster per operation than the memory-bound X·W.
_WHITENING_BUDGET = 10
#: Below this many multiply-adds the covariance costs nothing worth weighing.
_WHITENING_FREE = 10**7
#: ρ, shrinkage of the whitened covariance towards its diagonal. At 0.3 weighted and
#: repeated-rows fits agree as without whitening, and so do dense and CSR, float32
#: and float64 fits; the price is that more correlation is left in
#: (benchmarks/README.md, "Why the core is shaped as it is").
_SHRINKAGE = 0.3
#: Bytes of X per centred copy of the covariance's rows (benchmarks/README.md:
#: "Covariance blocks of 256 kB"), well below a product's row block.
_COVARIANCE_BLOCK_BYTES = 2**18


def whitening_step(n_samples, n_features, n_outputs):
    """Return the row step of the covariance's rows, or None if whitening does not pay.

    All rows while that costs next to nothing (so that a weight and a repeated row
    give one covariance, as scikit-learn's checks require), else every ``step``-th
    row, at most 50·d of them. The covariance and its Cholesky factor must cost less
    than ``_WHITENING_BUDGET`` products X·W: so never for thousands of features (a
    sparse text matrix, say).
    """
    if (n_samples + n_features) * n_features**2 <= _WHITENING_FREE:
        return 1
    rows = min(n_samples, _WHITENING_ROWS_PER_FEATURE * n_features)
    cost = (rows + n_features) * n_features**2
    if cost > _WHITENING_BUDGET * n_samples * n_features * n_outputs:
        return None
    return -(-n_samples // rows)


def covariance_terms(X, sample_weight, mean, step, first=0):
    """Σ s_i (x_i − μ)(x_i − μ)ᵀ and Σ s_i over the rows first, first + step, ... of X.

    Taking every ``step``-th row samples X evenly whatever its order (sorted by
    class, say); a Dask chunk passes the ``first`` of its rows on the global grid.
    Dense rows are centred block by block (no cancellation, no copy larger than a
    block); sparse rows, few and small, as Σ s x xᵀ − a μᵀ − μ aᵀ + (Σ s) μ μᵀ in
    float64, a = Σ s x, which keeps them sparse.
    """
    rows, weights = X[first::step], sample_weight[first::step]
    weight_sum = float(np.sum(weights, dtype=np.float64))
    if sparse.issparse(X):
        rows = sparse.csr_matrix(rows, dtype=np.float64)
        weighted_sum = rows.T @ weights
        terms = (rows.T @ sparse.diags(weights.astype(np.float64)) @ rows).toarray()
        terms -= np.outer(weighted_sum, mean) + np.outer(mean, weighted_sum)
        terms += weight_sum * np.outer(mean, mean)
        return terms, weight_sum
    terms = np.zeros((X.shape[1], X.shape[1]))
    # Small blocks: each is a centred copy, and the fit's peak memory should not grow
    # by one of X's cache-sized row blocks for it.
    for block in row_slices(rows.shape[0], rows.shape[1] * rows.itemsize, _COVARIANCE_BLOCK_BYTES):
        centred = rows[block] - mean.astype(X.dtype)
        centred *= np.sqrt(weights[block])[:, None]
        terms += centred.T @ centred
    return terms, weight_sum


def variance_terms(X, sample_weight, mean):
    """Σ s_i (x_ij − μ_j)² for every feature j, and Σ s_i, over all rows of X.

    Dense rows are centred block by block, as in :func:`covariance_terms`. CSR rows
    give Σ s x² − 2 μ Σ s x + (Σ s) μ² in float64 (clipped at 0 against
    cancellation), the squares from their stored entries in blocks: no copy of X.
    """
    d = X.shape[1]
    weights = np.asarray(sample_weight, dtype=np.float64)
    weight_sum = float(np.sum(weights))
    if sparse.issparse(X):
        X = sparse.csr_matrix(X)  # a view of CSR rows, whose entries are read below
        squares = np.zeros(d)
        # Blocks of rows holding about BLOCK_BYTES of float64 entries and their weights.
        per_row = 16 * max(1.0, X.nnz / max(1, X.shape[0]))
        for block in row_slices(X.shape[0], int(per_row), BLOCK_BYTES):
            bounds = X.indptr[block.start : block.stop + 1]
            entries = slice(bounds[0], bounds[-1])
            values = np.square(X.data[entries], dtype=np.float64)
            values *= np.repeat(weights[block], np.diff(bounds))
            squares += np.bincount(X.indices[entries], weights=values, minlength=d)
        squares += weight_sum * mean**2 - 2 * mean * np.ravel(X.T @ weights)
        return np.maximum(squares, 0.0), weight_sum
    squares = np.zeros(d)
    for block in row_slices(X.shape[0], d * X.itemsize, _COVARIANCE_BLOCK_BYTES):
        centred = X[block] - mean
        squares += np.square(centred, out=centred).T @ weights[block]
    return squares, weight_sum
