"""Hand-written logistic, softmax and two-layer network classifiers for scikit-learn.

Each model has an explicit cost function J(θ) and analytic gradient, minimised with
:func:`scipy.optimize.minimize`; all follow one objective convention::

    J(θ) = ( Σ_i s_i · ℓ_i(θ)  +  (λ/2) · ‖W‖² ) / Σ_i s_i
"""

from ._path import regularization_path
from .gradcheck import gradient_check, hessian_check
from .logistic import RegLogisticClassifier
from .logistic_cv import RegLogisticClassifierCV
from .network import TwoLayerMLPClassifier
from .network_cv import TwoLayerMLPClassifierCV
from .softmax import SoftmaxClassifier
from .softmax_cv import SoftmaxClassifierCV

__all__ = [
    "RegLogisticClassifier",
    "RegLogisticClassifierCV",
    "SoftmaxClassifier",
    "SoftmaxClassifierCV",
    "TwoLayerMLPClassifier",
    "TwoLayerMLPClassifierCV",
    "gradient_check",
    "hessian_check",
    "regularization_path",
]
__version__ = "0.1.0"
