"""Test-session set-up shared by every test module."""

import os

import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits


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
