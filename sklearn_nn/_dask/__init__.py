"""Fitting and predicting on Dask arrays.

The objectives are written once, over the rows protocol
(:mod:`sklearn_nn._objectives.rows`); :class:`DaskRows` is its implementation on the
row chunks of Dask arrays, as map-reduces run where the chunks live. Dask itself is
imported only once a Dask collection has reached the estimators: ``import
sklearn_nn`` never imports Dask.
"""

from .common import import_dask, is_dask_collection, unique_name
from .rows import DaskRows

__all__ = ["DaskRows", "import_dask", "is_dask_collection", "unique_name"]
