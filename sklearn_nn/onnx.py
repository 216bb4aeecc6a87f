"""Export the classifiers to ONNX with skl2onnx.

Importing this module registers a converter for :class:`~sklearn_nn.RegLogisticClassifier`,
:class:`~sklearn_nn.SoftmaxClassifier` and :class:`~sklearn_nn.TwoLayerMLPClassifier`,
and for their cross-validated versions (:class:`~sklearn_nn.RegLogisticClassifierCV`,
:class:`~sklearn_nn.SoftmaxClassifierCV`, :class:`~sklearn_nn.TwoLayerMLPClassifierCV`),
with ``skl2onnx``; from then on :func:`skl2onnx.to_onnx` converts them, alone or inside
a :class:`~sklearn.pipeline.Pipeline`, as it converts scikit-learn's own classifiers:
two outputs, the labels and the probabilities (a list of dictionaries by default, a
matrix with the option ``zipmap=False``). ``import sklearn_nn`` itself never imports
``skl2onnx``, a slow import and an optional dependency (``pip install 'sklearn-nn[onnx]'``).

The graphs compute what ``predict`` and ``predict_proba`` compute, in the input's
precision (float32, ONNX's usual type, or float64): the logits from the fitted weights,
then the probabilities of the model's output head and the label of the largest score.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

try:
    from skl2onnx import update_registered_converter

    # The parser skl2onnx gives every classifier that declares the option zipmap
    # (it adds the ZipMap or class-label operators the options ask for); skl2onnx
    # has no public name for it.
    from skl2onnx._parse import _parse_sklearn_classifier
    from skl2onnx.algebra.onnx_ops import (
        OnnxAbs,
        OnnxAdd,
        OnnxArgMax,
        OnnxCast,
        OnnxConcat,
        OnnxExp,
        OnnxGather,
        OnnxIdentity,
        OnnxLog,
        OnnxMatMul,
        OnnxMin,
        OnnxNeg,
        OnnxRelu,
        OnnxSigmoid,
        OnnxSoftmax,
        OnnxSub,
        OnnxTanh,
    )
    from skl2onnx.common.data_types import guess_numpy_type
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from skl2onnx.common.utils_classifier import get_label_classes
    from skl2onnx.proto import onnx_proto
except ImportError as error:
    raise ImportError(
        "sklearn_nn.onnx needs skl2onnx to export models to ONNX (and onnxruntime to "
        f"run them): pip install 'sklearn-nn[onnx]' ({error})"
    ) from error

from .logistic import RegLogisticClassifier
from .logistic_cv import RegLogisticClassifierCV
from .network import TwoLayerMLPClassifier
from .network_cv import TwoLayerMLPClassifierCV
from .softmax import SoftmaxClassifier
from .softmax_cv import SoftmaxClassifierCV

__all__ = ["register_onnx_converters"]

#: The options every converter accepts, as for scikit-learn's classifiers.
_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}

#: ONNX operators of the hidden-unit activations of ``TwoLayerMLPClassifier``.
_ACTIVATIONS = {"sigmoid": OnnxSigmoid, "tanh": OnnxTanh, "relu": OnnxRelu}


def _parse(scope, model, inputs, custom_parsers=None):
    """skl2onnx's classifier parser, after a clear error for an unfitted model."""
    check_is_fitted(
        model, msg="This %(name)s instance is not fitted yet: fit it before converting it."
    )
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers=custom_parsers)


def _input(operator, opv):
    """The converter's input in a float type, and that type."""
    X = operator.inputs[0]
    dtype = guess_numpy_type(X.type)
    if dtype not in (np.float32, np.float64):
        # Integer or boolean features (the shape calculator accepts them), as float32.
        X, dtype = OnnxCast(X, to=onnx_proto.TensorProto.FLOAT, op_version=opv), np.float32
    return X, dtype


def _affine(A, W, b, dtype, opv):
    """A W + b, with W and b in the graph's precision."""
    return OnnxAdd(OnnxMatMul(A, W.astype(dtype), op_version=opv), b.astype(dtype), op_version=opv)


def _class_labels(scope, model):
    """The labels the graph outputs: int64 for numbers, as skl2onnx's, else strings.

    Float labels are whole numbers: classifiers refuse others as continuous targets.
    """
    classes = np.asarray(get_label_classes(scope, model))
    return classes.astype(np.int64 if classes.dtype.kind in "biuf" else str)


def _linear_logits(model, X, dtype, opv):
    """Logits of the linear models, Z = X Wᵀ + b, and their number of columns."""
    return _affine(X, model.coef_.T, model.intercept_, dtype, opv), model.intercept_.size


def _network_logits(model, X, dtype, opv):
    """Logits of the two-layer network, Z = f(X W1 + b1) W2 + b2, and their number."""
    (W1, W2), (b1, b2) = model.coefs_, model.intercepts_
    hidden = _ACTIVATIONS[model.activation](_affine(X, W1, b1, dtype, opv), op_version=opv)
    return _affine(hidden, W2, b2, dtype, opv), b2.size


#: How each classifier computes its logits. The cross-validated estimators predict
#: from the same fitted attributes as their base models (those of the λ they chose).
_LOGITS = {
    RegLogisticClassifier: _linear_logits,
    RegLogisticClassifierCV: _linear_logits,
    SoftmaxClassifier: _linear_logits,
    SoftmaxClassifierCV: _linear_logits,
    TwoLayerMLPClassifier: _network_logits,
    TwoLayerMLPClassifierCV: _network_logits,
}


def _log_sigmoid(Z, dtype, opv):
    """Log σ(z) = min(z, 0) − log(1 + e^{−|z|}), without overflow.

    Not −softplus(−z): onnxruntime has no float64 Softplus.
    """
    one, zero = np.array([1], dtype=dtype), np.array([0], dtype=dtype)
    decay = OnnxExp(OnnxNeg(OnnxAbs(Z, op_version=opv), op_version=opv), op_version=opv)
    log_term = OnnxLog(OnnxAdd(decay, one, op_version=opv), op_version=opv)
    return OnnxSub(OnnxMin(Z, zero, op_version=opv), log_term, op_version=opv)


def _convert(scope, operator, container):
    """Converter of every classifier: labels and probabilities from its logits.

    They are those of ``predict`` and ``predict_proba``. The label is the class of
    the largest score: the logits, or for a single sigmoid output z the pair
    (−z, z), whose first entry wins a tie as ``z > 0`` does in ``predict``. The
    probabilities follow the output head: the softmax of the logits; σ of (−z, z)
    for one sigmoid output; for several, the sigmoids normalised to sum to one,
    computed as ``predict_log_proba`` computes them (the softmax of log σ(z)) so
    that they stay finite where every σ underflows.
    """
    model, opv = operator.raw_operator, container.target_opset
    X, dtype = _input(operator, opv)
    Z, n_outputs = _LOGITS[type(model)](model, X, dtype, opv)
    if model._head == "softmax":
        scores, proba = Z, OnnxSoftmax(Z, axis=1, op_version=opv)
    elif n_outputs == 1:
        scores = OnnxConcat(OnnxNeg(Z, op_version=opv), Z, axis=1, op_version=opv)
        proba = OnnxSigmoid(scores, op_version=opv)
    else:
        scores = Z
        proba = OnnxSoftmax(_log_sigmoid(Z, dtype, opv), axis=1, op_version=opv)
    labels_out, proba_out = operator.outputs[:2]
    OnnxIdentity(proba, op_version=opv, output_names=[proba_out]).add_to(scope, container)
    index = OnnxArgMax(scores, axis=1, keepdims=0, op_version=opv)
    classes = _class_labels(scope, model)
    OnnxGather(classes, index, op_version=opv, output_names=[labels_out]).add_to(scope, container)


def register_onnx_converters():
    """Register the ONNX converters of every classifier of this package with skl2onnx.

    The cross-validated classifiers convert as the model they chose: the graph holds
    the weights of their chosen λ only. Importing :mod:`sklearn_nn.onnx` calls this
    function; call it again to restore these converters after registering others for
    the same classes. From then on :func:`skl2onnx.to_onnx` converts the classifiers,
    alone or in a pipeline, with the options of scikit-learn's classifiers:
    ``zipmap`` (True, False or "columns"), ``output_class_labels`` and ``nocl``.

    See Also
    --------
    skl2onnx.to_onnx : Convert a fitted model or pipeline to ONNX.
    skl2onnx.update_registered_converter : How the converters are registered.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_nn import SoftmaxClassifier
    >>> from sklearn_nn.onnx import register_onnx_converters
    >>> register_onnx_converters()
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxClassifier().fit(X, y)
    >>> X = X.astype(np.float32)  # ONNX's usual precision
    >>> onx = to_onnx(model, X[:1], options={"zipmap": False})
    >>> session = onnxruntime.InferenceSession(onx.SerializeToString())
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool(np.all(labels == model.predict(X)))
    True
    >>> bool(np.allclose(proba, model.predict_proba(X), atol=1e-5))
    True
    """
    for model_class in _LOGITS:
        update_registered_converter(
            model_class,
            f"SklearnNN{model_class.__name__}",
            calculate_linear_classifier_output_shapes,
            _convert,
            parser=_parse,
            options=_OPTIONS,
        )


register_onnx_converters()
