"""Persistence: pickle, joblib and skops round trips predict exactly as the original.

skops (scikit-learn's secure format) loads only types the user trusts. A dumped
model of ours -- alone or in a Pipeline -- must ask the user to trust our own
classes and nothing else: no numpy scalar types, no scipy objects, no private
helpers of ours in the fitted state.
"""

import itertools
import pickle
import re
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier

OUR_TYPES = {
    "sklearn_nn.logistic.RegLogisticClassifier",
    "sklearn_nn.softmax.SoftmaxClassifier",
    "sklearn_nn.network.TwoLayerMLPClassifier",
}


def type_path(estimator):
    return f"{type(estimator).__module__}.{type(estimator).__qualname__}"


# Configurations that put different things into the fitted state: string labels
# and feature names (object arrays), boolean labels, class_weight dicts, early
# stopping (validation_scores_), float32 input, a RandomState as random_state.
def configurations():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    frame = pd.DataFrame(X, columns=["sepal length", "sepal width", "petal length", "petal width"])
    scaled = StandardScaler().fit_transform(X)
    return {
        "logistic": (RegLogisticClassifier(), scaled, names[y]),
        "logistic-binary-bool": (
            RegLogisticClassifier(class_weight="balanced", solver="tnc"),
            scaled,
            y == 2,
        ),
        "softmax-names": (SoftmaxClassifier(class_weight={0: 2.0}), frame, y),
        "softmax-float32": (
            SoftmaxClassifier(solver="cg", tol=1e-3),
            scaled.astype(np.float32),
            y,
        ),
        "network": (TwoLayerMLPClassifier(hidden_layer_size=5, random_state=0), scaled, names[y]),
        "network-early-stopping": (
            TwoLayerMLPClassifier(
                hidden_layer_size=5,
                early_stopping=True,
                activation="relu",
                random_state=np.random.RandomState(0),
            ),
            frame,
            y,
        ),
    }


CONFIGURATIONS = configurations()


@pytest.fixture(scope="module", params=sorted(CONFIGURATIONS))
def fitted(request):
    estimator, X, y = CONFIGURATIONS[request.param]
    return estimator.fit(X, y), X


def assert_predicts_identically(loaded, original, X):
    assert type(loaded) is type(original)
    assert loaded.predict_proba(X).tobytes() == original.predict_proba(X).tobytes()
    assert loaded.decision_function(X).tobytes() == original.decision_function(X).tobytes()
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X), strict=True)
    assert loaded.get_params().keys() == original.get_params().keys()


def test_pickle_round_trip(fitted):
    estimator, X = fitted
    assert_predicts_identically(pickle.loads(pickle.dumps(estimator)), estimator, X)


def test_joblib_round_trip(fitted, tmp_path):
    estimator, X = fitted
    joblib.dump(estimator, tmp_path / "model.joblib")
    assert_predicts_identically(joblib.load(tmp_path / "model.joblib"), estimator, X)


def test_skops_needs_trust_in_our_class_only(fitted, tmp_path):
    estimator, X = fitted
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= OUR_TYPES, f"skops also asks to trust {set(untrusted) - OUR_TYPES}"
    assert untrusted == [type_path(estimator)]
    # Nothing is loaded without that trust...
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    # ...and with it, the model is the same.
    assert_predicts_identically(sio.load(path, trusted=untrusted), estimator, X)


def test_skops_pipeline_needs_trust_in_our_class_only(tmp_path):
    X, y = load_iris(return_X_y=True)
    path = tmp_path / "pipeline.skops"
    for estimator in (
        RegLogisticClassifier(),
        SoftmaxClassifier(),
        TwoLayerMLPClassifier(hidden_layer_size=5, random_state=0),
    ):
        pipeline = make_pipeline(StandardScaler(), estimator).fit(X, y)
        sio.dump(pipeline, path)
        untrusted = sio.get_untrusted_types(file=path)
        assert untrusted == [type_path(estimator)]
        loaded = sio.load(path, trusted=untrusted)
        assert loaded.predict_proba(X).tobytes() == pipeline.predict_proba(X).tobytes()
        np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X), strict=True)


def test_fitted_state_holds_plain_python_and_numpy_arrays(fitted):
    # What keeps skops' list short: scalars and lists of plain Python numbers,
    # arrays as numpy arrays; no numpy scalar types, no private helper objects.
    estimator, _ = fitted
    for name, value in vars(estimator).items():
        if not name.endswith("_"):
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            assert isinstance(item, np.ndarray | int | float | str | type(None)), (
                name,
                type(item),
            )
            assert type(item) in (np.ndarray, int, float, str, type(None)), (name, type(item))


def test_reliability_page_snippet_prints_what_the_page_shows(tmp_path, monkeypatch, capsys):
    # docs/reliability.md shows skops' dump / get_untrusted_types / load: run it.
    page = Path(__file__).parents[1] / "docs" / "reliability.md"
    blocks = re.findall(r"```(\w+)\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)
    pairs = [
        (code, output)
        for (language, code), (next_language, output) in itertools.pairwise(blocks)
        if language == "python" and next_language == "text"
    ]
    assert pairs
    monkeypatch.chdir(tmp_path)  # the snippet writes model.skops
    for code, expected in pairs:
        exec(compile(code, str(page), "exec"), {})
        assert capsys.readouterr().out == expected
