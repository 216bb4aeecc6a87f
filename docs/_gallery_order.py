"""Teaching order of the gallery examples, for ``sphinx_gallery_conf`` in ``conf.py``.

A module of its own because Sphinx pickles its configuration, and a sort key defined
in ``conf.py`` cannot be pickled.
"""

from pathlib import Path

ORDER = [
    "plot_regularization.py",
    "plot_choosing_lambda.py",
    "plot_validation_curve.py",
    "plot_spiral.py",
    "plot_solver_curves.py",
    "plot_digits.py",
]


class TeachingOrder:
    """Sort key of sphinx-gallery: the examples of :data:`ORDER` first, others by name.

    Parameters
    ----------
    src_dir : str
        The gallery's source folder (unused; sphinx-gallery passes it).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        return "TeachingOrder"

    def __call__(self, filename):
        """Return the sort key of ``filename``."""
        name = Path(filename).name
        return (ORDER.index(name), "") if name in ORDER else (len(ORDER), name)
