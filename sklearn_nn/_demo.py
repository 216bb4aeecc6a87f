"""Command line of the package: ``python -m sklearn_nn demo [--data PATH] [--figures DIR]``.

The demo reproduces the courses' reference results as plain-text tables, one
section per data set: the logistic λ sweep on the course's microchips (the file that
ships with the package) and on their synthetic cousin, with the λ that
``RegLogisticClassifierCV`` chooses on the same folds, softmax regression against
the two-layer network on the cs231n spiral, and both on the 8x8 digits. Each section
is a function that prints its own header and table; :data:`SECTIONS` lists them in
order.

Then it draws the figures of the documentation's gallery: it runs every example
script ``examples/plot_*.py`` of the repository, as it is, and saves each figure the
script draws as ``<figures>/<script>_<n>.png`` (``demo_figures/`` by default). The
examples stay the one source of every figure — the gallery, this demo and
``tests/test_docs.py`` all run the same scripts — and stay standalone scripts a
reader can copy, instead of calls into plotting helpers hidden in the package. The
price: the figures need the repository's ``examples/`` folder next to the package
(``make demo`` always has it), and matplotlib (the ``plots`` extra). Without either,
the demo says so, and why, instead of naming a folder of figures it did not draw.
"""

import argparse
import contextlib
import io
import runpy
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from .datasets import _read_course_file, load_microchips, make_microchips, make_spiral
from .logistic import RegLogisticClassifier
from .logistic_cv import RegLogisticClassifierCV
from .network import TwoLayerMLPClassifier
from .softmax import SoftmaxClassifier

__all__ = ["main", "render_examples"]

REG_LAMBDAS = (0.0, 0.01, 0.1, 1.0, 10.0, 100.0)
RANDOM_STATE = 0
#: The gallery's example scripts: the repository's ``examples/`` folder.
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
#: Where the demo saves the figures unless told otherwise (relative to the current folder).
FIGURES_DIR = Path("demo_figures")


# ------------------------------------------------------------------ helpers
def _table(headers, rows):
    """Format rows as an aligned plain-text table (numbers right, text left)."""
    cells = [list(headers)] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(_is_number(row[i]) for row in cells[1:]) if rows else False
        for i in range(len(headers))
    ]

    def line(row):
        parts = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header(title):
    print()
    print(title)
    print("=" * len(title))


def _percent(accuracy):
    return f"{100 * accuracy:.2f}"


# ----------------------------------------------------------------- sections
def _course_pipeline(reg_lambda=1.0):
    return make_pipeline(PolynomialFeatures(6), RegLogisticClassifier(reg_lambda=reg_lambda))


def _fit_recording_convergence(estimator, *args):
    """Fit, and return how many ConvergenceWarnings the fit raised (counted, not hidden)."""
    with warnings.catch_warnings(record=True) as caught:
        # ConvergenceWarnings are recorded whatever the caller's filters (even "error");
        # other warnings keep those filters, and the ones recorded are re-emitted below.
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(*args)
    not_converged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for other in caught:
        if not issubclass(other.category, ConvergenceWarning):
            warnings.warn_explicit(
                other.message, other.category, other.filename, other.lineno, source=other.source
            )
    return len(not_converged)


def _folds():
    return StratifiedKFold(n_splits=5, shuffle=True, random_state=RANDOM_STATE)


def _lambda_table(name, X, y):
    """GridSearchCV over λ of PolynomialFeatures(6) → RegLogisticClassifier; print a table.

    Below it, the choice of RegLogisticClassifierCV on the same grid and folds: the
    estimator that makes this search along a path.
    """
    search = GridSearchCV(
        _course_pipeline(),
        {"reglogisticclassifier__reg_lambda": list(REG_LAMBDAS)},
        cv=_folds(),
        refit=False,
    )
    cv_unconverged = _fit_recording_convergence(search, X, y)
    cv_accuracy = search.cv_results_["mean_test_score"]

    rows = []
    for reg_lambda, accuracy in zip(REG_LAMBDAS, cv_accuracy, strict=True):
        model = _course_pipeline(reg_lambda)
        unconverged = _fit_recording_convergence(model, X, y)
        classifier = model[-1]
        note = "did not converge" if unconverged else ""
        rows.append(
            [
                f"{reg_lambda:g}",
                _percent(model.score(X, y)),
                _percent(accuracy),
                f"{classifier.loss_:.6f}",
                classifier.n_iter_,
                note,
            ]
        )
    majority = np.unique(y, return_counts=True)[1].max() / y.size
    print(f"{name}: {X.shape[0]} samples, majority rate {_percent(majority)} %")
    print(
        _table(
            ["lambda", "train acc %", "5-fold CV acc %", "final J", "iterations", "note"],
            rows,
        )
    )
    best = search.best_params_["reglogisticclassifier__reg_lambda"]
    print(f"selected lambda (best CV accuracy): {best:g}")
    path_search = RegLogisticClassifierCV(reg_lambdas=list(REG_LAMBDAS), cv=_folds())
    path_unconverged = _fit_recording_convergence(
        make_pipeline(PolynomialFeatures(6), path_search), X, y
    )
    note = " (not all its fits there converged)" if path_unconverged else ""
    print(
        "RegLogisticClassifierCV, the same grid and folds along a path: lambda "
        f"{path_search.reg_lambda_:g}, CV accuracy {_percent(path_search.best_score_)} %{note}"
    )
    if cv_unconverged:
        n_fits = len(REG_LAMBDAS) * search.n_splits_
        print(
            f"note: {cv_unconverged} of the {n_fits} cross-validation fits raised a "
            "ConvergenceWarning;\n"
            "      the full-set fits that did are marked in the table."
        )


def logistic_section(course_data=None):
    """Regularised logistic regression on polynomial features: the λ sweep."""
    _header(
        "Logistic regression: PolynomialFeatures(6) -> RegLogisticClassifier, "
        "GridSearchCV over lambda"
    )
    _lambda_table("load_microchips() (the course's ex2data2)", *load_microchips())
    print(
        "the course reports 83.05 %, 74.58 % and 61.02 % training accuracy at lambda = 1, 10, 100"
    )
    print()
    X, y = make_microchips(random_state=RANDOM_STATE)
    _lambda_table(f"make_microchips(random_state={RANDOM_STATE})", X, y)
    if course_data is not None:
        print()
        _lambda_table(*course_data)


def _print_model_table(headers, rows):
    """Print a table whose last column is a note; leave that column out when all are empty."""
    if not any(row[-1] for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    print(_table(headers, rows))


def _timed_fit(estimator, X, y):
    """Fit; return the fit time in seconds and a note if it did not converge."""
    started = time.perf_counter()
    unconverged = _fit_recording_convergence(estimator, X, y)
    seconds = time.perf_counter() - started
    return f"{seconds:.3f}", "did not converge" if unconverged else ""


def spiral_section(course_data=None):
    """The cs231n spiral: a linear softmax cannot separate the arms, a network can."""
    _header(
        "The cs231n spiral (N=100 per class, K=3, noise 0.2): "
        "softmax regression vs a two-layer network"
    )
    X, y = make_spiral(n_samples_per_class=100, n_classes=3, random_state=RANDOM_STATE)
    # cs231n's reg multiplies ½‖W‖² in a loss averaged over m rows: λ = reg · m here.
    reg = 1e-3
    reg_lambda = reg * X.shape[0]
    models = [
        ("SoftmaxClassifier", SoftmaxClassifier(reg_lambda=reg_lambda)),
        (
            "TwoLayerMLPClassifier(100, relu)",
            TwoLayerMLPClassifier(
                hidden_layer_size=100,
                activation="relu",
                reg_lambda=reg_lambda,
                random_state=RANDOM_STATE,
            ),
        ),
    ]
    rows = []
    for name, model in models:
        fit_time, note = _timed_fit(model, X, y)
        row = [name, f"{model.reg_lambda:g}", f"{reg:g}", _percent(model.score(X, y))]
        rows.append([*row, f"{model.loss_:.6f}", model.n_iter_, fit_time, note])
    _print_model_table(
        [
            "model",
            "lambda",
            "cs231n reg = lambda/m",
            "train acc %",
            "final J",
            "iterations",
            "fit time s",
            "note",
        ],
        rows,
    )
    print(
        "cs231n reports about 52 % for the linear softmax and 98-99 % for the network on its\n"
        "own draw of the spiral; another draw moves these by a few %."
    )


def digits_section(course_data=None):
    """Softmax regression and a 25-unit network on scikit-learn's 8x8 digits, held out."""
    _header(
        "load_digits, stratified 70/30 split: StandardScaler -> "
        "SoftmaxClassifier vs TwoLayerMLPClassifier(25)"
    )
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=RANDOM_STATE
    )
    models = [
        ("SoftmaxClassifier", SoftmaxClassifier(reg_lambda=1.0)),
        (
            "TwoLayerMLPClassifier(25, sigmoid)",
            TwoLayerMLPClassifier(hidden_layer_size=25, reg_lambda=1.0, random_state=RANDOM_STATE),
        ),
    ]
    rows = []
    for name, classifier in models:
        model = make_pipeline(StandardScaler(), classifier)
        fit_time, note = _timed_fit(model, X_train, y_train)
        split = f"{X_train.shape[0]} / {X_test.shape[0]}"
        row = [name, f"{classifier.reg_lambda:g}", split, _percent(model.score(X_test, y_test))]
        rows.append([*row, classifier.n_iter_, fit_time, note])
    _print_model_table(
        [
            "model",
            "lambda",
            "train / test rows",
            "held-out acc %",
            "iterations",
            "fit time s",
            "note",
        ],
        rows,
    )


# Each section is ``section(course_data)``, where course_data is ``(name, X, y)`` from
# ``--data`` or None, and prints its own header and table.
SECTIONS = (logistic_section, spiral_section, digits_section)


# ------------------------------------------------------------------ figures
def render_examples(scripts, folder, check_figure=None):
    """Run example scripts and save every figure each one draws as PNG.

    Each script runs as ``__main__`` with matplotlib's non-interactive Agg backend,
    its standard output captured, and its figures saved as
    ``folder/<script stem>_<n>.png`` (n = 1, 2, ... in the order drawn) and closed.
    Warnings and errors of a script propagate to the caller.

    Parameters
    ----------
    scripts : iterable of path-like
        The example scripts, run in this order.
    folder : path-like
        Folder for the PNG files; created if missing.
    check_figure : callable, default=None
        Called as ``check_figure(script, figure)`` on every figure before it is
        saved (the tests check legibility with it).

    Returns
    -------
    rendered : list of tuple
        One ``(script, pngs, seconds)`` per script: its path, the list of paths of
        the PNG files it produced and its run time in seconds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rendered = []
    for script in map(Path, scripts):
        plt.close("all")
        started = time.perf_counter()
        with matplotlib.rc_context(), contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(script), run_name="__main__")
            pngs = []
            for n, number in enumerate(plt.get_fignums(), start=1):
                figure = plt.figure(number)
                if check_figure is not None:
                    check_figure(script, figure)
                png = folder / f"{script.stem}_{n}.png"
                figure.savefig(png, dpi=100)
                pngs.append(png)
        plt.close("all")
        rendered.append((script, pngs, time.perf_counter() - started))
    return rendered


def figures_section(folder=FIGURES_DIR):
    """Draw the gallery's figures: run every ``examples/plot_*.py``, save them as PNG.

    Returns the number of PNG files written: 0 when matplotlib or the examples are
    missing, which the section then explains instead of drawing.
    """
    _header("Figures: the documentation's examples")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(
            "No figures: plots need matplotlib, which is not installed. Install it with\n"
            "the 'plots' extra, pip install 'sklearn-nn[plots]' (in a clone of the\n"
            "repository: pip install -e '.[plots]'; make demo installs it), or run\n"
            "python -m sklearn_nn demo --no-figures for the tables alone."
        )
        return 0
    scripts = sorted(EXAMPLES_DIR.glob("plot_*.py"))
    if not scripts:
        print(
            "No figures: they are drawn by the example scripts of the repository's\n"
            f"examples/ folder, and there are none in {EXAMPLES_DIR}\n"
            "(an installed package does not include them). Run make demo in a clone\n"
            "of the repository for the figures."
        )
        return 0
    folder = Path(folder)
    # Figures of an earlier run (perhaps of an example since renamed) would mislead.
    for stale in folder.glob("plot_*.png"):
        stale.unlink()
    rendered = render_examples(scripts, folder)
    rows = [
        [script.name, len(pngs), f"{seconds:.1f}", ", ".join(png.name for png in pngs)]
        for script, pngs, seconds in rendered
    ]
    print(_table(["example", "figures", "seconds", "files"], rows))
    total = sum(len(pngs) for _, pngs, _ in rendered)
    print(f"{total} figures written to {folder}/ (open the PNG files to see them)")
    return total


def run_demo(course_data=None, figures=FIGURES_DIR):
    """Run every section of the demo, in order, printing to standard output.

    ``figures`` is the folder for the PNG figures, or None to draw none.
    """
    started = time.perf_counter()
    for section in SECTIONS:
        section(course_data)
    drawn = figures_section(figures) if figures is not None else 0
    print()
    print(f"demo finished in {time.perf_counter() - started:.1f} s")
    if drawn:
        print(f"figures: {figures}/")


# ------------------------------------------------------------- command line
def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_nn",
        description="Hand-written scikit-learn classifiers: reproduce the courses' results.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="print the reference tables (logistic λ sweep, spiral, digits) and, from a "
        "clone of the repository with matplotlib, save the examples' figures as PNG",
    )
    demo.add_argument(
        "--data",
        metavar="PATH",
        type=Path,
        help="also sweep λ on a course-format text file (comma separated x1,x2,label)",
    )
    figures = demo.add_mutually_exclusive_group()
    figures.add_argument(
        "--figures",
        metavar="DIR",
        type=Path,
        default=FIGURES_DIR,
        help=f"folder for the figures (default: {FIGURES_DIR})",
    )
    figures.add_argument(
        "--no-figures",
        dest="figures",
        action="store_const",
        const=None,
        help="print the tables only",
    )
    return parser


def main(argv=None):
    """Entry point of ``python -m sklearn_nn``.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Exit status 0. A missing or unknown subcommand, or an unreadable ``--data``
        file, prints usage and raises ``SystemExit(2)``.

    Examples
    --------
    Without a subcommand it prints usage to standard error and exits with status 2:

    >>> from sklearn_nn._demo import main
    >>> try:
    ...     main([])
    ... except SystemExit as exit:
    ...     print("exit status", exit.code)
    exit status 2
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        course_data = None
        if args.data is not None:
            try:
                course_data = (str(args.data), *_read_course_file(args.data, args.data))
            except (OSError, ValueError) as error:
                parser.error(f"--data: {error}")
        run_demo(course_data, figures=args.figures)
    return 0
