"""What the Dask modules share: detecting, importing and naming Dask objects."""

import sys
import uuid

__all__ = ["import_dask", "is_dask_collection", "unique_name"]


def is_dask_collection(x):
    """Tell whether ``x`` is a Dask collection, without importing Dask.

    Nothing can be a Dask collection before Dask has been imported by someone.
    """
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(x)


def import_dask():
    """Return the modules ``dask`` and ``dask.array``, or say how to install them."""
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - only without dask[array]
        raise ImportError(
            "Fitting on Dask arrays needs dask[array]: pip install 'sklearn-nn[dask]'."
        ) from error
    return dask, da


def unique_name(what):
    """A Dask key name for arrays we derive (never the key of another fit's array).

    Dask names derived arrays by hashing their inputs, so two fits on the same data
    would reuse one key for graphs that Dask may have optimised differently, which
    the scheduler warns against.
    """
    return f"sklearn_nn-{what}-{uuid.uuid4().hex}"
