"""How things are measured: timed fits, passes over X, peak memory, interleaved timings.

Nothing here knows which workload or estimator it measures.
"""

import contextlib
import ctypes
import gc
import statistics
import time
import tracemalloc
import warnings
from dataclasses import dataclass

from sklearn.exceptions import ConvergenceWarning

from sklearn_nn.instrumentation import count_passes

MB = 1024.0**2


@contextlib.contextmanager
def quiet():
    """Silence the convergence warnings that capped and ladder fits raise by design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# ---------------------------------------------------------------------- memory
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class PeakRSS:
    """Peak resident memory of a block above the resident memory before it, in MB.

    Linux only (None elsewhere): freed heap pages are returned to the system
    (``malloc_trim``) so that the block has to fault in whatever it uses, the kernel's
    high-water mark is reset (``/proc/self/clear_refs``), and after the block
    VmHWM − VmRSS(before) is what it added at its peak. Unlike tracemalloc this sees
    every allocation: BLAS buffers, liblinear's C++ copy of X, Fortran work arrays.
    It costs nothing inside the block, so it runs during the timed fits.
    """

    def __init__(self):
        self.peak_mb = None
        self._base_kb = None

    def __enter__(self):
        gc.collect()
        try:
            if _LIBC is not None:
                _LIBC.malloc_trim(0)
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
            self._base_kb = _status_kb("VmRSS")
        except (OSError, KeyError):
            self._base_kb = None
        return self

    def __exit__(self, *exc):
        if self._base_kb is not None:
            try:
                self.peak_mb = max(0.0, (_status_kb("VmHWM") - self._base_kb) / 1024.0)
            except (OSError, KeyError):
                self.peak_mb = None
        return False


def tracemalloc_peak_mb(function):
    """Peak of Python-visible allocations (numpy arrays included) while ``function`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def size_mb(X):
    """Megabytes that X occupies: a dense array's buffer, a CSR matrix's three arrays."""
    if hasattr(X, "indptr"):
        return (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / MB
    return X.nbytes / MB


# --------------------------------------------------------------------- timing
@dataclass
class FitResult:
    """One timed ``fit``."""

    model: object
    seconds: float
    rss_mb: float | None
    #: Passes over X that our optimizer made (``instrumentation.count_passes``); 0 for
    #: scikit-learn's fits, which do not go through it.
    counted_passes: int = 0
    #: Whether ``fit`` raised a ConvergenceWarning (recorded, not shown).
    warned: bool = False


def timed_fit(estimator, X, y):
    """Fit once; wall-clock time of ``fit`` alone, its peak extra RSS and its passes.

    Counting costs one Python-level increment per evaluation: negligible next to a
    pass over X. ConvergenceWarnings are recorded, not shown (ladder and capped fits
    raise them by design); any other warning goes on as it would.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        with count_passes() as counted, PeakRSS() as rss:
            start = time.perf_counter()
            estimator.fit(X, y)
            seconds = time.perf_counter() - start
    warned = False
    for record in caught:
        if issubclass(record.category, ConvergenceWarning):
            warned = True
        else:
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)
    return FitResult(estimator, seconds, rss.peak_mb, counted.passes, warned)


def interleaved(functions, *, min_rounds=7, max_rounds=41, budget_seconds=1.5):
    """Time each of ``functions`` (name → callable) once per round, rotating the order.

    Rounds continue until ``min_rounds`` and then until ``budget_seconds`` have passed
    (at most ``max_rounds``). One untimed warm-up call each. Returns name → list of
    seconds, aligned by round, so per-round ratios cancel slow drifts of the machine.
    """
    names = list(functions)
    for name in names:
        functions[name]()
    times = {name: [] for name in names}
    start = time.perf_counter()
    rounds = 0
    while rounds < min_rounds or (
        rounds < max_rounds and time.perf_counter() - start < budget_seconds
    ):
        shift = rounds % len(names)
        for name in names[shift:] + names[:shift]:
            begin = time.perf_counter()
            functions[name]()
            times[name].append(time.perf_counter() - begin)
        rounds += 1
    return times


def median_ratio(numerator, denominator):
    """Median of per-round ratios of two aligned timing lists."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))
