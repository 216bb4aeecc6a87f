"""The benchmark harness runs end to end on tiny workloads (no timing is asserted).

``make bench`` takes minutes; this runs every workload, both dtypes, the calibration
ladder, the capped (sag) and uncapped (lbfgs) competitor paths, the floor timings,
the memory measurements, the Dask overhead row (on a 2-worker LocalCluster) and the
report, at toy sizes, so that the suite cannot rot.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402

WORKLOADS = ["binary", "ovr", "softmax", "network"]


def test_quick_suite_runs_end_to_end(tmp_path):
    # One test, not a module fixture: under pytest-xdist a shared fixture runs once per
    # worker, and this is the slowest part of the file.
    output = tmp_path / "results.md"
    printed = run.main(
        ["--quick", "--ours", "lbfgs", "--theirs", "lbfgs,sag", "--output", str(output)]
    )
    report = output.read_text()
    assert report.strip() == printed.strip()

    for heading in [
        "# Benchmark results",
        "## Time to the optimum (linear models)",
        "## Network: same number of L-BFGS iterations",
        "## Cost per evaluation vs the BLAS floor",
        "## Digits: held-out accuracy",
        "## Dask: overhead of fitting on a cluster",
        "## Goals vs achieved",
    ]:
        assert heading in report
    for fact in ["- command:", "- machine:", "- threads:", "- BLAS/OpenMP:", "numpy"]:
        assert fact in report

    for workload in WORKLOADS:
        for dtype in ["float64", "float32"]:
            assert f"| {workload} | {dtype} | " in report
    assert "**ours lbfgs** (ours best)" in report
    assert "| sklearn sag |" in report and "| OvR(sklearn lbfgs) |" in report
    assert "| ours network lbfgs |" in report and "MLPClassifier(lbfgs)" in report
    assert_dask_section(report)

    goals = report.split("## Goals")[1]
    rows = [line for line in goals.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) > 10
    assert rows[0].startswith("| goal | target | achieved | status |")
    for line in rows[1:]:
        status = line.strip(" |").split("|")[3].strip()
        assert status in {"met", "not met", "pending", "—"} or status.startswith("undetermined")


def assert_dask_section(report):
    section = report.split("## Dask: overhead of fitting on a cluster")[1].split("\n## ")[0]
    assert "row chunks held by 2 workers" in section
    for row in [
        "| J and ∇J, per evaluation |",
        "| H·v, per product |",
        "| L-BFGS fit (`fit`, validation included) |",
        "| per evaluation: parameters and task code sent (pickled) |",
        "| per evaluation: partial sums received (pickled) |",
        "| per iteration of the L-BFGS fit: payload of its map-reduces, both ways |",
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
    assert "not measured: distributed is not installed" in report.split("## Goals")[1]


def test_unknown_workload_is_rejected():
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "no-such-workload"])
