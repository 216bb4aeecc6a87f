"""Sphinx configuration of the sklearn-nn documentation.

``make docs`` builds the site into ``docs/_build/html`` with warnings as errors and
runs every gallery example. With ``SPHINX_GALLERY_PLOT=0`` in the environment (as in
``tests/test_docs.py``) the gallery pages are built without running the examples;
the test suite runs them itself.
"""

import os
import re
import sys
from pathlib import Path

import sklearn_nn

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))  # for _gallery_order

project = "sklearn-nn"
author = "the sklearn-nn developers"
copyright = "the sklearn-nn developers"
release = sklearn_nn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Serves MathJax from the built site's _static/mathjax instead of a CDN, so that
    # the maths renders offline (the package's module name has dashes).
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
# No intersphinx: the build must succeed offline (an unreachable inventory is a
# warning, and warnings are errors here).

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]

# ------------------------------------------------------------------ API pages
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"  # the numpydoc sections carry the types

# numpydoc renders the docstrings; the class template lists the methods itself.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# Validate every docstring the reference renders against every numpydoc check except
# the ones scikit-learn's own docstring test skips (sklearn/tests/test_docstrings.py):
#   RT02  a single return value has a name as well as a type ("self : object",
#         "labels : ndarray ..."): the name is what the description refers to.
#   ES01, SA01, EX01  extended summary, See Also and Examples are required of every
#         public class and function, but not of each method ("Predict class labels."
#         is complete; the class's examples show the methods). Sphinx cannot tell
#         methods apart here, so tests/test_docs.py checks these three for the
#         classes and functions.
numpydoc_validation_checks = {"all", "RT02", "ES01", "SA01", "EX01"}

# ------------------------------------------------------------------- Markdown
myst_heading_anchors = 3
# $...$ and $$...$$ for maths in the Markdown pages, \begin{aligned} inside them.
myst_enable_extensions = ["dollarmath", "amsmath"]

# -------------------------------------------------------------------- gallery
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "_gallery_order.TeachingOrder",
    "plot_gallery": os.environ.get("SPHINX_GALLERY_PLOT", "1") != "0",
    "abort_on_example_error": True,
    "doc_module": ("sklearn_nn",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"sklearn_nn": None},
    "image_scrapers": ("matplotlib",),
    "min_reported_time": 0,
    # No "computation times" pages: they load jQuery and DataTables from CDNs, and
    # the site must work offline.
    "write_computation_times": False,
    "remove_config_comments": True,
}

# ----------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-nn {release}"
html_theme_options = {
    "navbar_align": "left",
    # The toctree's first pages, up to the API reference, stay in the top bar at
    # 1280 px; the rest go under "More".
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    # The benchmark report's tables get the page's full width: no table of contents
    # beside them.
    "secondary_sidebar_items": {"**": ["page-toc"], "benchmarks": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
# Single pages have no section navigation: no empty sidebar beside them.
html_sidebars = {
    page: [] for page in ("index", "getting_started", "user_guide", "benchmarks", "performance")
}
html_static_path = ["_static"]
# Wide tables (the benchmark report's) scroll sideways instead of being cut off.
html_css_files = ["tables.css"]
html_show_sourcelink = False

# ------------------------------------------------------------ optional pages
# Pages written alongside the code: the site lists them once they exist, and says
# how to produce the benchmark table while it does not.
BENCHMARK_RESULTS = ROOT / "benchmarks" / "results.md"
_OPTIONAL_PAGES = {"reliability": DOCS / "reliability.md", "dask": DOCS / "dask.md"}
_INCLUDE_RESULTS = re.compile(r"```\{include\} \.\./benchmarks/results\.md\n.*?```\n", re.DOTALL)
_NO_RESULTS_YET = """\
## Benchmark results

```{note}
`benchmarks/results.md` does not exist yet: run `make bench` in a clone of the
repository to produce it, then rebuild the documentation with `make docs`; the table
appears here.
```
"""


def _adapt_to_optional_files(app, docname, source):
    """Drop missing optional pages from the index; explain missing benchmark results."""
    if docname == "index":
        for page, path in _OPTIONAL_PAGES.items():
            if not path.is_file():
                source[0] = re.sub(rf"^[ \t]+{page}\n", "", source[0], flags=re.MULTILINE)
    elif docname == "benchmarks" and not BENCHMARK_RESULTS.is_file():
        source[0] = _INCLUDE_RESULTS.sub(_NO_RESULTS_YET, source[0])


def _reread_pages_with_optional_files(app, env, added, changed, removed):
    """Read index and benchmarks on every build: the optional files may have come or gone."""
    return ["index", "benchmarks"]


def setup(app):
    """Register the hooks that adapt the sources to the optional files."""
    app.connect("source-read", _adapt_to_optional_files)
    app.connect("env-get-outdated", _reread_pages_with_optional_files)
