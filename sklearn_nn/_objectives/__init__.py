"""The models' objectives: J(θ), ∇J(θ) and H(θ)·v on a flat parameter vector.

Every model here minimises the same convention. With per-sample weights s_i
(sample_weight × class_weight), S = Σ s_i, a per-sample loss ℓ_i and the penalised
weight matrices W (intercepts are never penalised)::

    J(θ) = ( Σ_i s_i · ℓ_i(θ)  +  (λ/2) · ‖W‖² ) / S

Dividing by S, never by the row count, makes an integer weight exactly equivalent
to repeating the row.

Nothing here knows about estimators or scipy. Where each concern lives
(``docs/architecture.md`` tells the whole design):

``heads``        per-sample losses of the logits, their gradients and curvatures
``kernels``      products and sums over row blocks of X (BLAS layouts)
``rows``         the rows protocol: the training rows in memory, one chunk
``scan``         ``fit``'s one pass over X, and the weights' power-of-two scale
``centring``     intercepts taken at the data mean
``whitening``    the linear models' change of coordinates for the solver
``activations``  the network's hidden units
``linear``       :class:`LinearObjective` (logistic, one-vs-rest, softmax)
``network``      :class:`TwoLayerObjective` (one hidden layer)

The Dask implementation of the rows protocol lives in :mod:`sklearn_nn._dask`.
"""

from .activations import ACTIVATIONS
from .heads import HEADS
from .kernels import column_sums
from .linear import LinearObjective
from .network import TwoLayerObjective
from .scan import ClassRowSums, class_totals, largest_magnitude, scaled_weights, scan_rows
from .whitening import covariance_terms, whitening_step

__all__ = [
    "ACTIVATIONS",
    "HEADS",
    "ClassRowSums",
    "LinearObjective",
    "TwoLayerObjective",
    "class_totals",
    "column_sums",
    "covariance_terms",
    "largest_magnitude",
    "scaled_weights",
    "scan_rows",
    "whitening_step",
]
