"""ONNX export: the graphs of sklearn_nn.onnx, run by onnxruntime, against predict_proba.

The oracle is the estimator itself on the same float32 rows: the ONNX labels must be
``predict``'s exactly and the probabilities ``predict_proba``'s within 1e-5, for every
output head and class count, alone and after scikit-learn's own converted steps. The
cross-validated estimators are held to the same oracle: their graph is that of the model
they chose.
"""

import functools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from numpydoc.validate import validate
from skl2onnx import to_onnx
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import sklearn_nn.onnx
from sklearn_nn import (
    RegLogisticClassifier,
    RegLogisticClassifierCV,
    SoftmaxClassifier,
    SoftmaxClassifierCV,
    TwoLayerMLPClassifier,
    TwoLayerMLPClassifierCV,
)

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "onnx.md"
TOLERANCE = 1e-5
# A small grid and three folds: the searches stay fast.
CV_OPTIONS = {"reg_lambdas": [0.1, 1.0, 10.0], "cv": 3}


def _network(model_class, activation, output, **penalty):
    """A small network of ``model_class`` (the network or its search), for ``MODELS``."""
    return functools.partial(
        model_class,
        hidden_layer_size=6,
        activation=activation,
        output=output,
        max_iter=2000,
        random_state=0,
        **penalty,
    )


MODELS = {
    "logistic": lambda: RegLogisticClassifier(reg_lambda=1.0),
    "softmax": lambda: SoftmaxClassifier(reg_lambda=1.0),
    **{
        f"network-{activation}-{output}": _network(
            TwoLayerMLPClassifier, activation, output, reg_lambda=1.0
        )
        for activation in ("sigmoid", "tanh", "relu")
        for output in ("softmax", "sigmoid")
    },
    "logistic-cv": lambda: RegLogisticClassifierCV(**CV_OPTIONS),
    "softmax-cv": lambda: SoftmaxClassifierCV(**CV_OPTIONS),
    **{
        f"network-cv-{activation}-{output}": _network(
            TwoLayerMLPClassifierCV, activation, output, **CV_OPTIONS
        )
        for activation, output in (("tanh", "sigmoid"), ("sigmoid", "softmax"))
    },
}
LABELS = {
    "int": np.array([-4, 2, 7]),  # neither 0..K-1 nor sorted by chance
    "str": np.array(["cat", "dog", "emu"]),
}


@functools.cache
def _data(n_classes):
    X, y = make_classification(
        n_samples=240,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        class_sep=0.8,
        random_state=n_classes,
    )
    return X, y


def _fitted(model_name, n_classes, labels, in_pipeline):
    X, y = _data(n_classes)
    model = MODELS[model_name]()
    if in_pipeline:
        model = make_pipeline(StandardScaler(), PolynomialFeatures(2), model)
    return model.fit(X, LABELS[labels][y]), X.astype(np.float32)


def _run(model, X, options=None):
    """Convert ``model`` for rows like X's and run the graph on X."""
    onx = to_onnx(model, X[:1], options=options)
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("labels", list(LABELS))
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("model_name", list(MODELS))
def test_onnx_labels_and_probabilities_match_the_model(model_name, n_classes, labels, in_pipeline):
    model, X = _fitted(model_name, n_classes, labels, in_pipeline)
    expected_labels, expected_proba = model.predict(X), model.predict_proba(X)
    # Probabilities of every size, not only near 0 and 1: their float32 rounding counts.
    assert np.mean((expected_proba > 0.05) & (expected_proba < 0.95)) > 0.2

    labels_out, proba = _run(model, X, options={"zipmap": False})
    assert proba.dtype == np.float32 and proba.shape == expected_proba.shape
    assert np.max(np.abs(proba - expected_proba)) <= TOLERANCE
    assert labels_out.dtype == (np.int64 if labels == "int" else object)
    np.testing.assert_array_equal(labels_out, expected_labels)

    # zipmap (the default): the same labels, and one {class: probability} per row.
    zip_labels, zip_proba = _run(model, X)
    np.testing.assert_array_equal(zip_labels, expected_labels)
    assert all(list(row) == model.classes_.tolist() for row in zip_proba)
    rows = np.array([[row[c] for c in model.classes_] for row in zip_proba])
    assert np.max(np.abs(rows - expected_proba)) <= TOLERANCE


@pytest.mark.parametrize(
    "model_name", ["logistic", "softmax", "network-tanh-sigmoid", "logistic-cv"]
)
def test_options_target_one_model_by_id(model_name):
    model, X = _fitted(model_name, 3, "int", in_pipeline=True)
    classifier = model[-1]
    # Per-model options, as for scikit-learn's classifiers inside a pipeline.
    labels, proba = _run(model, X, options={id(classifier): {"zipmap": False}})
    np.testing.assert_array_equal(labels, model.predict(X))
    assert np.max(np.abs(proba - model.predict_proba(X))) <= TOLERANCE

    labels, *columns = _run(model, X, options={id(classifier): {"zipmap": "columns"}})
    np.testing.assert_array_equal(labels, model.predict(X))
    assert np.max(np.abs(np.column_stack(columns) - model.predict_proba(X))) <= TOLERANCE

    _, _, class_labels = _run(model, X, options={"zipmap": False, "output_class_labels": True})
    np.testing.assert_array_equal(class_labels, classifier.classes_)

    # nocl: class indices instead of the labels.
    labels, _ = _run(model, X, options={"zipmap": False, "nocl": True})
    np.testing.assert_array_equal(labels, np.searchsorted(classifier.classes_, model.predict(X)))


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "model_name",
    [
        "logistic",
        "softmax",
        "network-relu-sigmoid",
        "logistic-cv",
        "softmax-cv",
        "network-cv-tanh-sigmoid",
    ],
)
def test_float64_input_gives_a_float64_graph(model_name, n_classes):
    X, y = _data(n_classes)
    # PolynomialFeatures has no float64 converter in skl2onnx; StandardScaler has.
    for model in (MODELS[model_name](), make_pipeline(StandardScaler(), MODELS[model_name]())):
        model.fit(X, y)
        labels, proba = _run(model, X, options={"zipmap": False})
        assert proba.dtype == np.float64
        np.testing.assert_array_equal(labels, model.predict(X))
        np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-12, atol=1e-14)


def test_integer_input_is_computed_in_float32():
    X, y = _data(3)
    X = np.round(4 * X).astype(np.int64)
    model = MODELS["network-tanh-softmax"]().fit(X, y)
    labels, proba = _run(model, X, options={"zipmap": False})
    assert proba.dtype == np.float32
    np.testing.assert_array_equal(labels, model.predict(X))
    assert np.max(np.abs(proba - model.predict_proba(X.astype(np.float32)))) <= TOLERANCE


@pytest.mark.parametrize("model_name", ["logistic", "network-relu-sigmoid"])
def test_one_vs_rest_probabilities_stay_finite_where_every_sigmoid_underflows(model_name):
    X, y = _data(3)
    model = MODELS[model_name]().fit(X, y)
    # Rows far from the data where every class's σ(z) is 0 in float32 (z < −104):
    # along a direction d with coef_ d = −1 for the linear model, and among rows
    # scaled up 1000 times for the ReLU network, which grows linearly as well.
    if model_name == "logistic":
        direction = np.linalg.lstsq(model.coef_, -np.ones(3), rcond=None)[0]
        X_far = np.outer([100, 200, 400], direction).astype(np.float32)
    else:
        X_far = np.vstack([X * 1e3, -X * 1e3]).astype(np.float32)
    assert np.any(np.all(model.decision_function(X_far) < -104, axis=1))
    labels, proba = _run(model, X_far, options={"zipmap": False})
    assert np.all(np.isfinite(proba))
    assert np.max(np.abs(proba - model.predict_proba(X_far))) <= TOLERANCE
    np.testing.assert_array_equal(labels, model.predict(X_far))


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize(
    "model_class",
    [RegLogisticClassifier, TwoLayerMLPClassifier, SoftmaxClassifierCV, TwoLayerMLPClassifierCV],
)
def test_unfitted_model_is_refused_with_a_clear_error(model_class, in_pipeline):
    model = model_class()
    if in_pipeline:
        model = make_pipeline(StandardScaler(), model)
    X = np.zeros((1, 3), dtype=np.float32)
    with pytest.raises(NotFittedError, match=f"{model_class.__name__} .*not fitted.*convert"):
        to_onnx(model, X)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("model_name", ["logistic-cv", "softmax-cv", "network-cv-tanh-sigmoid"])
def test_cross_validated_model_without_refit_converts_the_model_it_predicts_with(
    model_name, n_classes
):
    # Without refit, the weights are the folds' mean (linear) or the best fold's
    # (network): the graph must use those, as predict does.
    X, y = _data(n_classes)
    model = MODELS[model_name]().set_params(refit=False).fit(X, y)
    X = X.astype(np.float32)
    labels, proba = _run(model, X, options={"zipmap": False})
    np.testing.assert_array_equal(labels, model.predict(X))
    assert np.max(np.abs(proba - model.predict_proba(X))) <= TOLERANCE


def _python(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )


def test_import_sklearn_nn_does_not_import_skl2onnx():
    completed = _python("import sys, sklearn_nn; print('skl2onnx' in sys.modules)")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"


def test_without_skl2onnx_the_import_error_says_what_to_install():
    # sys.modules[name] = None makes `import name` fail as if it were not installed.
    completed = _python(
        "import sys\n"
        "sys.modules['skl2onnx'] = None\n"
        "try:\n"
        "    import sklearn_nn.onnx\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    assert completed.returncode == 0, completed.stderr
    assert "pip install 'sklearn-nn[onnx]'" in completed.stdout


def test_register_onnx_converters_docstring_passes_numpydoc_validation():
    # The checks tests/test_docs.py applies to the public functions of sklearn_nn.
    name = "sklearn_nn.onnx.register_onnx_converters"
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"]]
    assert [error for error in errors if not error.startswith("RT02")] == []
    assert sklearn_nn.onnx.__all__ == ["register_onnx_converters"]


def _page_blocks():
    """The python blocks of docs/onnx.md, each with the text block after it, if any."""
    blocks = re.findall(r"```(\w+)\n(.*?)```", DOCS_PAGE.read_text(encoding="utf-8"), re.DOTALL)
    return [
        (code, blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" else None)
        for i, (language, code) in enumerate(blocks)
        if language == "python"
    ]


def test_docs_page_examples_run_and_print_what_the_page_shows(capsys, tmp_path, monkeypatch):
    # One namespace: the page's blocks continue one another, as in a session.
    monkeypatch.chdir(tmp_path)  # the page saves model.onnx in the working directory
    namespace = {}
    blocks = _page_blocks()
    assert len(blocks) >= 3
    for index, (code, expected) in enumerate(blocks):
        exec(compile(code, f"onnx.md block {index}", "exec"), namespace)
        printed = capsys.readouterr().out
        if expected is not None:
            assert printed.split() == expected.split(), f"block {index}"
