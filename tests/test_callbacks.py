"""scikit-learn's callback API on our estimators (``sklearn_nn._callbacks``)."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import RegLogisticClassifier, SoftmaxClassifier, TwoLayerMLPClassifier
from sklearn_nn._callbacks import fit_as_task, load_callback_api
from sklearn_nn._solver_options import LINEAR_SOLVERS, SOLVERS


class Recorder:
    """A minimal FitCallback keeping (estimator name, task name, fitted?) per ended task."""

    def __init__(self, stop_after=None):
        self.ended, self.begun, self.stop_after = [], [], stop_after

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.begun.append((type(estimator).__name__, context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.ended.append((type(estimator).__name__, context.task_name, fitted_estimator))
        iterations = [e for e in self.ended if e[1] == "iteration" and e[2] is not None]
        return self.stop_after is not None and len(iterations) >= self.stop_after

    def iterations(self, name):
        return [e[2] for e in self.ended if e[:2] == (name, "iteration") and e[2] is not None]


class PropagatedRecorder(Recorder):
    max_propagation_depth = None


def iris(dtype=np.float64):
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(dtype), y


MODELS = [
    lambda solver: SoftmaxClassifier(solver=solver),
    lambda solver: RegLogisticClassifier(solver=solver),
    lambda solver: TwoLayerMLPClassifier(4, solver=solver, random_state=0, max_iter=40),
]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("make", MODELS)
def test_every_iterate_of_every_solver_is_reported(solver, make):
    recorder = Recorder()
    model = make(solver).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 40 network iterations
        model.fit(*iris())
    name = type(model).__name__
    fitted = recorder.iterations(name)
    assert len(fitted) == model.n_iter_ > 0
    # The last reported model is the fitted one (no early stopping here).
    np.testing.assert_array_equal(
        fitted[-1].predict_proba(iris()[0]), model.predict_proba(iris()[0])
    )
    # Every begun task ended; the fit is one task with the iterations below it.
    assert len(recorder.begun) == len(recorder.ended)
    assert recorder.ended[-1][:2] == (name, "fit")


def test_restarts_and_gradient_steps_are_reported_too():
    # float32 at a tol below what even float64 resolves: the float32 run ends, the
    # fit goes on with float64 products and stalls; every run's iterations reported.
    recorder = Recorder()
    model = SoftmaxClassifier(reg_lambda=1 / 150, tol=1e-12).set_callbacks(recorder)
    with pytest.warns(ConvergenceWarning):
        model.fit(*iris(np.float32))
    assert len(recorder.iterations("SoftmaxClassifier")) == model.n_iter_ > 30


@pytest.mark.parametrize("solver", LINEAR_SOLVERS)
def test_progress_bar_on_every_solver(solver, capsys):
    SoftmaxClassifier(solver=solver).set_callbacks(ProgressBar()).fit(*iris())
    out = capsys.readouterr().out
    assert "SoftmaxClassifier - fit" in out and "100%" in out


def test_scoring_monitor_scores_the_model_of_each_iteration():
    # Oracle: the same fit stopped by max_iter=k, scored independently.
    X, y = iris()
    monitor = ScoringMonitor(scoring="neg_log_loss")
    model = SoftmaxClassifier(reg_lambda=0.1).set_callbacks(monitor).fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "iteration"]
    assert len(rows) == model.n_iter_
    for k in (1, 3, 7, model.n_iter_):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            stopped = SoftmaxClassifier(reg_lambda=0.1, max_iter=k).fit(X, y)
        assert rows[k - 1]["task_id"] == k - 1
        np.testing.assert_allclose(
            rows[k - 1]["neg_log_loss"], -log_loss(y, stopped.predict_proba(X)), rtol=1e-12
        )


def test_a_callback_may_stop_training():
    recorder = Recorder(stop_after=3)
    model = SoftmaxClassifier(tol=1e-10).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is no failure
        model.fit(*iris())
    assert model.n_iter_ == 3
    assert len(recorder.iterations("SoftmaxClassifier")) == 3


def test_callbacks_propagate_through_pipeline_and_grid_search():
    X, y = load_iris(return_X_y=True)
    recorder = PropagatedRecorder()
    pipeline = make_pipeline(StandardScaler(), SoftmaxClassifier())
    pipeline.set_callbacks(recorder).fit(X, y)
    assert len(recorder.iterations("SoftmaxClassifier")) == pipeline[-1].n_iter_ > 0

    recorder = PropagatedRecorder()
    search = GridSearchCV(SoftmaxClassifier(), {"reg_lambda": [0.1, 1.0]}, cv=2)
    search.set_callbacks(recorder).fit(X, y)
    fits = [e for e in recorder.ended if e[:2] == ("SoftmaxClassifier", "fit")]
    assert len(fits) == 2 * 2 + 1  # candidates × folds, and the refit
    assert len(recorder.iterations("SoftmaxClassifier")) > len(fits)
    # The estimators hold nothing of the fit's callback bookkeeping afterwards.
    assert not hasattr(search.best_estimator_, "_callback_task")


def test_early_stopping_reports_each_iterate_then_stops():
    X, y = iris()
    recorder = Recorder()
    net = TwoLayerMLPClassifier(
        8, early_stopping=True, n_iter_no_change=2, random_state=0, max_iter=300
    ).set_callbacks(recorder)
    net.fit(X, y)
    assert len(recorder.iterations("TwoLayerMLPClassifier")) == net.n_iter_
    assert len(net.validation_scores_) == net.n_iter_


def test_without_sklearn_callback_the_fit_is_as_before(monkeypatch):
    # scikit-learn < 1.9 has no sklearn.callback: the guard answers None, and a fit
    # then runs alone (no hook called) to the same model.
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    assert load_callback_api() is None
    recorder = Recorder()
    model = SoftmaxClassifier().set_callbacks(recorder)
    fit_as_task(model, model._fit, *iris(), None, api=None)
    assert recorder.ended == recorder.begun == []
    np.testing.assert_array_equal(model.coef_, SoftmaxClassifier().fit(*iris()).coef_)
