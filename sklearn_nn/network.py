"""A network with one hidden layer, trained by backpropagation."""

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

# scikit-learn exposes no public path to its parameter-constraint types.
from sklearn.utils._param_validation import Interval, StrOptions

from . import _validation as checks
from ._base import BaseClassifier
from ._docstring import fill_doc
from ._objectives import ACTIVATIONS, HEADS, TwoLayerObjective
from ._optimize import StopTraining
from ._solver_options import SECOND_ORDER


@fill_doc
class TwoLayerMLPClassifier(BaseClassifier):
    r"""A two-layer neural network (one hidden layer) trained by backpropagation.

    input → ``hidden_layer_size`` units with activation f → output logits Z, with

    .. math::

        J = \frac{1}{S}\Big(\sum_i s_i\,\ell(z_i, y_i)
            + \frac{\lambda}{2}\big(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\big)\Big),

    s_i the sample weights (× class weights), S = Σ s_i, biases not penalised. The
    value and gradient come from one forward and one backward pass
    (:class:`~sklearn_nn._objectives.TwoLayerObjective`), minimised by a full-batch
    scipy solver.

    ``output="sigmoid"`` is the course network exactly: one sigmoid unit per class
    (one unit for two classes), cost = Σ over units of binary cross-entropy.
    ``output="softmax"`` is softmax + cross-entropy; with ``activation="sigmoid"``
    and three or more classes it has the objective of
    ``MLPClassifier(hidden_layer_sizes=(H,), activation="logistic", alpha=λ)``. On
    two classes scikit-learn's MLP has one logistic output unit: that is
    ``output="sigmoid"`` here.

    Parameters
    ----------
    hidden_layer_size : int, default=25
        H, the number of hidden units.
    activation : {"sigmoid", "tanh", "relu"}, default="sigmoid"
        Hidden-unit activation f.
    output : {"softmax", "sigmoid"}, default="softmax"
        Output layer and loss, see above.
    reg_lambda : float, default=1.0
        Strength λ ≥ 0 of the L2 penalty on both weight matrices (``alpha`` of
        scikit-learn's MLP).
    solver : {"lbfgs", "tnc", "cg", "newton-cg", "trust-ncg", "trust-krylov"}, default="lbfgs"
        scipy method: L-BFGS-B, truncated Newton with finite-difference curvature
        (TNC), nonlinear conjugate gradient (CG), or a second-order method that
        multiplies by the curvature chosen by ``hessian``: line-search Newton-CG,
        trust-region Newton-CG (Steihaug) or trust-region Krylov (GLTR).
    {max_iter_tol}
    {class_weight}
    warm_start : bool, default=False
        Start from the previous weights when refitting on the same classes and shapes.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data, score it
        (accuracy) after every iteration, stop when the score has not improved for
        ``n_iter_no_change`` iterations and keep the best iterate. Works for every
        solver (scikit-learn's MLP offers it for sgd and adam only).
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping`` is on.
    n_iter_no_change : int, default=10
        Patience of early stopping, in iterations.
    {verbose}
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the early-stopping split.
    hessian : {"exact", "gauss-newton"}, default="exact"
        Curvature used by the second-order solvers: the exact Hessian
        (Pearlmutter's R-operator) or the Gauss-Newton product (positive
        semi-definite). The trust-region solvers handle the exact Hessian's negative
        curvature, and it converges quadratically near a minimum, where
        Gauss-Newton, which drops the second-order term, converges only linearly
        and takes several times the products (the user guide's second-order
        section has the figures). Ignored by first-order solvers.

    Attributes
    ----------
    {classes}
    coefs_ : list of two ndarrays
        ``[W1, W2]`` of shapes (n_features, H) and (H, n_outputs), as in
        :class:`~sklearn.neural_network.MLPClassifier`.
    intercepts_ : list of two ndarrays
        ``[b1, b2]`` of shapes (H,) and (n_outputs,).
    {fitted_inputs}
    loss_ : float
        J at the returned weights (the best iterate under early stopping).
    loss_curve_ : list of float
        J after every iteration.
    validation_scores_ : list of float or None
        Held-out accuracy after every iteration (None without early stopping).
    best_validation_score_ : float or None
        Best held-out accuracy; the returned weights are the ones that reached it.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same model with ``alpha = λ``.

    Notes
    -----
    Initial weights and biases are drawn uniformly from [-ε, ε] with
    ε = √6 / √(L_in + L_out) per layer (Glorot-uniform, the course's ε_init); the
    scale does not depend on the number of samples.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_nn import TwoLayerMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> net = TwoLayerMLPClassifier(hidden_layer_size=25, random_state=0)
    >>> net.fit(X_train, y_train).score(X_test, y_test) > 0.9
    True
    >>> [W.shape for W in net.coefs_]
    [(64, 25), (25, 10)]
    """

    _parameter_constraints: dict = {
        **BaseClassifier._parameter_constraints,
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output": [StrOptions(set(HEADS))],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "hessian": [StrOptions({"exact", "gauss-newton"})],
    }

    def __init__(
        self,
        hidden_layer_size=25,
        *,
        activation="sigmoid",
        output="softmax",
        reg_lambda=1.0,
        solver="lbfgs",
        max_iter=500,
        tol=1e-5,
        class_weight=None,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        verbose=0,
        random_state=None,
        hessian="exact",
    ):
        self.hidden_layer_size = hidden_layer_size
        self.activation = activation
        self.output = output
        self.reg_lambda = reg_lambda
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.random_state = random_state
        self.hessian = hessian

    @property
    def _head(self):
        return self.output

    _logits_affine_in_X = False

    #: Largest reg_lambda / sum(sample_weight) a fit accepts. Every weight is 0 to
    #: float64's precision long before; beyond ~1e100 the second-order solvers'
    #: curvature products vᵀHv ≈ (λ/S)³ ‖W‖² overflow at the initial weights (they
    #: returned them untrained), and lbfgs and cg stepped to non-finite weights.
    _penalty_limit = 1e90

    def _check_problem(self, shape, n_classes, weighting):
        super()._check_problem(shape, n_classes, weighting)
        n_outputs = 1 if self.output == "sigmoid" and n_classes == 2 else n_classes
        checks.check_network_size(self.hidden_layer_size, *shape, n_outputs)

    def _objective(self, X, Y, weights, class_sums=None):
        # Only Hessian products reuse the forward pass of the last θ.
        return TwoLayerObjective(
            X,
            Y,
            weights,
            self.reg_lambda,
            self.output,
            self.activation,
            self.hidden_layer_size,
            hessian=self.hessian,
            keep_forward=self.solver in SECOND_ORDER,
            mean=None if class_sums is None else class_sums.mean,
        )

    def _initial_params(self, objective):
        rng = check_random_state(self.random_state)
        (n_features, n_hidden), _, (_, n_outputs), _ = objective.shapes
        params = []
        for fan_in, fan_out in [(n_features, n_hidden), (n_hidden, n_outputs)]:
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            params.append(rng.uniform(-bound, bound, size=(fan_in, fan_out)))
            params.append(rng.uniform(-bound, bound, size=fan_out))
        return objective.theta(*params)

    def _fitted_params(self, objective):
        shapes = [objective.shapes[0], objective.shapes[2]]
        if [W.shape for W in self.coefs_] != shapes:
            return None
        (W1, W2), (b1, b2) = self.coefs_, self.intercepts_
        return objective.theta(W1, b1, W2, b2)

    def _store_params(self, objective, theta):
        W1, b1, W2, b2 = (np.array(p) for p in objective.model_params(theta))
        self.coefs_ = [W1, W2]
        self.intercepts_ = [b1, b2]

    def _logits(self, X):
        (W1, W2), (b1, b2) = self.coefs_, self.intercepts_
        A = np.asarray(X @ W1.astype(X.dtype, copy=False))
        A += b1.astype(X.dtype, copy=False)
        ACTIVATIONS[self.activation](A)
        Z = A @ W2.astype(X.dtype, copy=False)
        Z += b2.astype(X.dtype, copy=False)
        return Z

    def _monitoring_split(self, X, y_encoded, weights):
        if not self.early_stopping:
            return X, y_encoded, weights, None
        try:
            train, held_out = train_test_split(
                np.arange(X.shape[0]),
                test_size=self.validation_fraction,
                stratify=y_encoded,
                random_state=check_random_state(self.random_state),
            )
        except ValueError as error:
            raise ValueError(
                "early_stopping could not hold out a stratified "
                f"validation_fraction={self.validation_fraction} of the data: {error}"
            ) from error
        monitor = _HeldOutMonitor(
            X[held_out], y_encoded[held_out], weights[held_out], self.n_iter_no_change
        )
        return X[train], y_encoded[train], weights[train], monitor

    def _store_monitoring(self, monitor):
        self.validation_scores_ = None if monitor is None else monitor.scores
        self.best_validation_score_ = None if monitor is None else monitor.best_score

    def _optimizer_callback(self, objective, monitor):
        return None if monitor is None else monitor.bind(objective)


class _HeldOutMonitor:
    """Score held-out data after every iteration; stop when it stops improving."""

    def __init__(self, X, y_encoded, weights, patience):
        self.X = X
        self.y_encoded = y_encoded
        self.weights = weights
        self.patience = patience
        self.objective = None
        self.scores = []
        self.best_score = None
        self.best_theta = None

    def bind(self, objective):
        """Return the optimizer callback that scores θ through ``objective``."""
        self.objective = objective
        return self.update

    def update(self, iteration, theta, loss):
        """Score θ; raise :class:`StopTraining` after ``patience`` non-improvements."""
        Z = self.objective.logits(theta, self.X)
        predicted = (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else Z.argmax(axis=1)
        score = accuracy_score(self.y_encoded, predicted, sample_weight=self.weights)
        self.scores.append(score)
        if self.best_score is None or score > self.best_score:
            self.best_score, self.best_theta = score, theta.copy()
        elif len(self.scores) - 1 - self.scores.index(self.best_score) >= self.patience:
            raise StopTraining
