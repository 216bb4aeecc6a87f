"""The course data sets and the ``python -m sklearn_nn demo`` command line."""

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

import sklearn_nn
from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier, _demo
from sklearn_nn._demo import main
from sklearn_nn.datasets import (
    load_exam_scores,
    load_microchips,
    make_microchips,
    make_spiral,
)


# ------------------------------------------------------------------ spiral
def test_make_spiral_shapes_and_labels():
    X, y = make_spiral(n_samples_per_class=50, n_classes=4, random_state=0)
    assert X.shape == (200, 2)
    assert y.shape == (200,)
    assert X.dtype == np.float64
    assert np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(np.bincount(y), [50] * 4)
    # Radii are linspace(0, 1, N) within each class, whatever the angular noise.
    radii = np.hypot(X[:, 0], X[:, 1]).reshape(4, 50)
    np.testing.assert_allclose(radii, np.tile(np.linspace(0, 1, 50), (4, 1)), atol=1e-12)


def test_make_spiral_is_the_cs231n_construction():
    N, K, noise = 30, 3, 0.2
    X, y = make_spiral(N, K, noise, random_state=np.random.RandomState(7))
    rng = np.random.RandomState(7)
    for j in range(K):
        r = np.linspace(0, 1, N)
        t = np.linspace(4 * j, 4 * (j + 1), N) + noise * rng.standard_normal(N)
        np.testing.assert_allclose(X[y == j], np.c_[r * np.sin(t), r * np.cos(t)])


def test_make_spiral_determinism():
    X1, y1 = make_spiral(random_state=3)
    X2, y2 = make_spiral(random_state=3)
    X3, _ = make_spiral(random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X_clean, _ = make_spiral(noise=0.0, random_state=None)
    np.testing.assert_array_equal(X_clean, make_spiral(noise=0.0, random_state=1)[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples_per_class": 0}, "n_samples_per_class"),
        ({"n_samples_per_class": 2.5}, "n_samples_per_class"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": True}, "n_classes"),
        ({"noise": -0.1}, "noise"),
        ({"noise": np.nan}, "noise"),
    ],
)
def test_make_spiral_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_spiral(**kwargs)


def test_spiral_network_reaches_the_cs231n_reference():
    # cs231n's figures: a linear softmax ≈ 0.52, a 100-unit ReLU network with its
    # reg = 1e-3 (λ = reg · m = 0.3) ≈ 0.99. Under filterwarnings = error a
    # ConvergenceWarning from either fit fails this test.
    X, y = make_spiral(n_samples_per_class=100, n_classes=3, random_state=0)
    softmax = SoftmaxClassifier(reg_lambda=0.3).fit(X, y)
    network = TwoLayerMLPClassifier(
        hidden_layer_size=100, activation="relu", reg_lambda=0.3, random_state=0
    ).fit(X, y)
    assert 0.45 <= softmax.score(X, y) <= 0.58
    assert network.score(X, y) >= 0.98
    assert network.loss_ < softmax.loss_


# ------------------------------------------------------- the course's files
COURSE_FILES = {"ex2data2.txt": load_microchips, "ex2data1.txt": load_exam_scores}


@pytest.mark.parametrize("filename", COURSE_FILES)
def test_course_loaders_return_the_shipped_file(filename):
    # The oracle: the packaged text file, read here by numpy on its own.
    data = np.loadtxt(Path(sklearn_nn.__file__).parent / "data" / filename, delimiter=",")
    X, y = COURSE_FILES[filename]()
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X, data[:, :2])
    np.testing.assert_array_equal(y, data[:, 2])
    assert set(np.unique(y)) == {0, 1}
    # A fresh copy each call: changing one result cannot change the next.
    X[0, 0] = np.nan
    assert np.isfinite(COURSE_FILES[filename]()[0][0, 0])


def test_course_loaders_shapes():
    X, y = load_microchips()
    assert X.shape == (118, 2)
    np.testing.assert_array_equal(np.bincount(y), [60, 58])
    X, y = load_exam_scores()
    assert X.shape == (100, 2)
    np.testing.assert_array_equal(np.bincount(y), [40, 60])
    assert 30 <= X.min() and X.max() <= 100


# -------------------------------------------------------------- microchips
def _training_accuracy(X, y, reg_lambda):
    model = make_pipeline(PolynomialFeatures(6), RegLogisticClassifier(reg_lambda=reg_lambda))
    return model.fit(X, y).score(X, y)


def test_make_microchips_shapes_labels_and_determinism():
    X, y = make_microchips(random_state=0)
    assert X.shape == (118, 2)
    assert y.shape == (118,)
    assert set(np.unique(y)) == {0, 1}
    # Fixed class counts: round(0.43 · 118) = 51 accepted chips.
    np.testing.assert_array_equal(np.bincount(y), [67, 51])
    assert X.min() > -1.05
    assert X.max() < 1.25
    X2, y2 = make_microchips(random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert make_microchips(n_samples=40, noise=0.0, random_state=1)[0].shape == (40, 2)


def test_make_microchips_noise_flips_labels_inside_the_region():
    # Without noise, label 1 is exactly "inside the wavy region" and a flexible model
    # separates far better than with the default 12 % of flipped labels.
    X, y = make_microchips(noise=0.0, random_state=0)
    clean = _training_accuracy(X, y, reg_lambda=0.01)
    X, y = make_microchips(noise=0.12, random_state=0)
    noisy = _training_accuracy(X, y, reg_lambda=0.01)
    assert clean > 0.95
    assert noisy < clean - 0.05


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 10.0}, "n_samples"),
        ({"noise": 0.6}, "noise"),
        ({"noise": -0.01}, "noise"),
    ],
)
def test_make_microchips_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_microchips(**kwargs)


@pytest.mark.parametrize("random_state", [0, 1, 2, 5])
def test_make_microchips_shows_the_course_lambda_pattern(random_state):
    X, y = make_microchips(random_state=random_state)
    majority = np.bincount(y).max() / y.size
    low = [_training_accuracy(X, y, reg_lambda) for reg_lambda in (0.01, 0.1, 1.0)]
    at_10 = _training_accuracy(X, y, 10.0)
    at_100 = _training_accuracy(X, y, 100.0)
    assert all(0.78 <= accuracy <= 0.92 for accuracy in low), low
    assert at_10 <= low[-1] - 0.03
    assert at_100 <= at_10 - 0.05
    assert at_100 == pytest.approx(majority, abs=0.03)


# -------------------------------------------------------------------- demo
def _lambda_rows(output, title):
    """Rows (lambda, train acc, CV acc, iterations, note) of the λ table after ``title``."""
    block = output.split(title, 1)[1]
    rows = {}
    for line in block.splitlines():
        match = re.match(r"\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+(\d+)\s*(.*)$", line)
        if match:
            rows[float(match[1])] = (float(match[2]), float(match[3]), int(match[4]), match[5])
        elif rows:
            break
    return rows


def _model_rows(output, title):
    """Cells of the rows of the model table that follows ``title``, keyed by model name."""
    block = output.split(title, 1)[1]
    rows = {}
    for line in block.splitlines():
        match = re.match(
            r"((?:SoftmaxClassifier|TwoLayerMLPClassifier)\S*(?: \S+\))?)\s+(.*)$", line
        )
        if match:
            rows[match[1]] = match[2].split()
        elif rows:
            break
    return rows


def test_demo_reports_fits_that_did_not_converge(capsys, monkeypatch):
    # Under pytest's filterwarnings = error a leaked ConvergenceWarning would fail the
    # run: the demo records the warnings and reports them, in the table and below it.
    def short_pipeline(reg_lambda=1.0):
        return make_pipeline(
            PolynomialFeatures(6), RegLogisticClassifier(reg_lambda=reg_lambda, max_iter=15)
        )

    monkeypatch.setattr(_demo, "_course_pipeline", short_pipeline)
    _demo._lambda_table("microchips", *make_microchips(random_state=0))
    output = capsys.readouterr().out
    rows = {float(line.split()[0]): line for line in output.splitlines()[3:9]}
    assert rows[0.0].endswith("did not converge") and " 15 " in rows[0.0]
    assert not rows[100.0].endswith("did not converge")
    note = re.search(r"note: (\d+) of the 30 cross-validation fits raised a Converg", output)
    assert note and 5 <= int(note[1]) < 30  # at least the five λ = 0 folds, not λ = 100's


def test_demo_runs_end_to_end(capsys):
    started = time.perf_counter()
    assert main(["demo", "--no-figures"]) == 0
    elapsed = time.perf_counter() - started
    output = capsys.readouterr().out

    for header in (
        "Logistic regression: PolynomialFeatures(6) -> RegLogisticClassifier",
        "The cs231n spiral (N=100 per class, K=3, noise 0.2): softmax regression vs a two-layer",
        "load_digits, stratified 70/30 split: StandardScaler -> SoftmaxClassifier vs "
        "TwoLayerMLPClassifier(25)",
    ):
        assert header in output
    assert "demo finished in" in output
    assert elapsed < 30

    # The course's file, with the course's figures at λ = 1, 10 and 100.
    course = _lambda_rows(output, "load_microchips() (the course's ex2data2)")
    assert sorted(course) == [0.0, 0.01, 0.1, 1.0, 10.0, 100.0]
    assert [course[reg_lambda][0] for reg_lambda in (1.0, 10.0, 100.0)] == [83.05, 74.58, 61.02]

    rows = _lambda_rows(output, "make_microchips(random_state=0)")
    assert sorted(rows) == [0.0, 0.01, 0.1, 1.0, 10.0, 100.0]
    assert rows[100.0][0] < rows[10.0][0] < rows[1.0][0]
    # Unregularised degree-6 features are nearly separable: the λ = 0 fit takes over
    # 100 iterations, 4x any regularised one, even with lbfgs restarted in coordinates
    # from the curvature (whether it ends within max_iter depends on rounding, i.e. on
    # the BLAS threads; the next test covers the report).
    assert rows[0.0][2] > 4 * max(rows[reg_lambda][2] for reg_lambda in rows if reg_lambda > 0)
    assert all(rows[reg_lambda][3] == "" for reg_lambda in rows if reg_lambda > 0)
    assert re.search(r"selected lambda \(best CV accuracy\): [\d.]+", output)

    # Below each table, RegLogisticClassifierCV on the same grid and folds: GridSearchCV's
    # choice, at the accuracy of the table's row for that λ.
    selected = re.findall(r"selected lambda \(best CV accuracy\): ([\d.]+)", output)
    along_path = re.findall(
        r"RegLogisticClassifierCV, the same grid and folds along a path: "
        r"lambda ([\d.]+), CV accuracy ([\d.]+) %\n",
        output,
    )
    assert [reg_lambda for reg_lambda, _ in along_path] == selected
    assert len(selected) == 2
    for table, (reg_lambda, accuracy) in zip([course, rows], along_path, strict=True):
        assert table[float(reg_lambda)][1] == float(accuracy)

    # Spiral: lambda, cs231n reg, train acc %, final J, iterations, fit time s. Every
    # fit converged, so the table has no note column.
    spiral = _model_rows(output, "The cs231n spiral")
    assert list(spiral) == ["SoftmaxClassifier", "TwoLayerMLPClassifier(100, relu)"]
    for cells in spiral.values():
        assert len(cells) == 6
        assert cells[:2] == ["0.3", "0.001"]
    softmax, network = spiral.values()
    assert 45 <= float(softmax[2]) <= 58
    # cs231n's reference network: 100 ReLU units, reg 1e-3, λ = 0.3 here.
    assert float(network[2]) >= 98
    assert float(network[3]) < float(softmax[3])
    assert int(network[4]) >= 1

    # Digits: lambda, train / test rows (three cells), held-out acc %, iterations, fit
    # time s; the network's row uses the softmax row's split.
    digits = _model_rows(output, "load_digits, stratified 70/30 split")
    assert list(digits) == ["SoftmaxClassifier", "TwoLayerMLPClassifier(25, sigmoid)"]
    for cells in digits.values():
        assert len(cells) == 7
        assert cells[:4] == ["1", "1257", "/", "540"]
        assert float(cells[4]) > 95
        assert int(cells[5]) >= 1


def test_demo_with_a_data_file(tmp_path, capsys):
    # A user's file in the course format: here the course's microchips, rows shuffled
    # and labels written as floats, so the table must show the course's figures again.
    X, y = load_microchips()
    order = np.random.RandomState(0).permutation(y.size)
    path = tmp_path / "chips.txt"
    np.savetxt(path, np.column_stack([X, y])[order], delimiter=",")
    assert main(["demo", "--no-figures", "--data", str(path)]) == 0
    output = capsys.readouterr().out
    rows = _lambda_rows(output, str(path))
    assert rows[1.0][0] == 83.05
    assert rows[10.0][0] == 74.58
    assert rows[100.0][0] == 61.02


def test_demo_with_unreadable_data_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "two_columns.txt"
    bad.write_text("0.1,0.2\n0.3,0.4\n")
    for path in (bad, tmp_path / "missing.txt"):
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--data", str(path)])
        assert exit_info.value.code == 2
        assert "--data" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["nonsense"]])
def test_missing_or_unknown_subcommand_prints_usage_and_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: python -m sklearn_nn" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    completed = subprocess.run(
        [sys.executable, "-m", "sklearn_nn"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2
    assert "usage:" in completed.stderr
