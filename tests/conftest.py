"""Test-session set-up shared by every test module."""

import os

import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

#: Modules whose tests all run on one pytest-xdist worker. tests/test_dask.py starts
#: one LocalCluster for the module and fits its 36 cluster cases on it at once; split
#: over two workers, each would start a cluster and fit all 36 (twice the CPU).
ONE_WORKER_MODULES = ("tests/test_dask.py",)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``-n N`` as with ``--dist load``, but each of ONE_WORKER_MODULES on one worker.

    ``--dist loadgroup`` with an ``xdist_group`` mark would do it, but pytest-xdist 3.8
    drops the groups under pytest 9.2 (pytest-xdist#1386). Here every other test is a
    unit of its own, handed to whichever worker is free, as ``load`` does.
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerModules(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER_MODULES else nodeid

    return OneWorkerModules(config, log)


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    # scikit-learn's checks run 10-50x slower when BLAS threads oversubscribe the cores.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# Profiles of the property-based tests (tests/test_fuzz.py), chosen by the
# HYPOTHESIS_PROFILE environment variable:
#   default  `make test`: 340 examples per estimator, derandomized so that every run
#            on every machine checks the same examples (a failure is reproducible,
#            never flaky); well under 60 s in all.
#   nightly  `HYPOTHESIS_PROFILE=nightly make test`: fresh random examples on every
#            run, 6x as many; failures are saved in .hypothesis/ and replayed first.
# A fit's duration depends on the data drawn, so there is no per-example deadline.
_HYPOTHESIS_COMMON = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("default", max_examples=340, derandomize=True, **_HYPOTHESIS_COMMON)
settings.register_profile("nightly", max_examples=2000, **_HYPOTHESIS_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
