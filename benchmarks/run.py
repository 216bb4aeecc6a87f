"""Run the side-by-side benchmark suite and write ``benchmarks/results.md``.

    python -m benchmarks.run                 # everything, real sizes (make bench)
    python -m benchmarks.run --only softmax  # one workload (comma-separated list)
    python -m benchmarks.run --only dask --output /tmp/dask.md   # the Dask row alone
    python -m benchmarks.run --quick --output /tmp/r.md   # tiny sizes, seconds

See benchmarks/README.md for the method. Progress goes to stderr, the Markdown
report to stdout and to ``--output``.
"""

import argparse
import gc
import math
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from benchmarks import choosing_lambda, dask_overhead, defaults, report
from benchmarks.bench import Bench, log
from benchmarks.linear_rows import FLOAT32_SKLEARN_CHOICES, linear_row
from benchmarks.network_rows import digits_row, network_row, time_to_mlp_row
from benchmarks.targets import targets_report
from benchmarks.user_data import NOT_IN_DEFAULT_RUN, MissingData, user_workloads
from benchmarks.workloads import workloads

OUTPUT = Path(__file__).with_name("results.md")


def parse_args(argv):
    """The options of a run, checked and completed with their defaults."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated workloads (binary,ovr,softmax,network,digits,lambda,dask, the "
        "rows on users' data: collinear,microchips,digits16-softmax,...,mnist,text), or "
        "'user' for all of those; default: all but " + ",".join(NOT_IN_DEFAULT_RUN),
    )
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument(
        "--ours", default=None, help="comma-separated solvers of ours to run (default: all)"
    )
    parser.add_argument(
        "--theirs",
        default=None,
        help="comma-separated scikit-learn solvers to run (default: all)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="timings per contender")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads")
    parser.add_argument(
        "--cap-factor",
        type=float,
        default=2.5,
        help="cap competitors (not lbfgs) at this multiple of the row's fastest time",
    )
    parser.add_argument(
        "--float32-sklearn",
        choices=FLOAT32_SKLEARN_CHOICES,
        default="references",
        help="scikit-learn solvers in float32 rows: the targets' references, or all",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds after which no further repeats start (default 360; quick: none)",
    )
    parser.add_argument("--floor-seconds", type=float, default=None)
    parser.add_argument(
        "--lambda-full-ladder",
        action="store_true",
        help="choosing λ: the tolerance ladder and every exact search on the 100 000-row "
        "row too (adds minutes)",
    )
    parser.add_argument(
        "--output", default=None, help=f"Markdown file (default {OUTPUT}; quick: none)"
    )
    args = parser.parse_args(argv)
    known = list(workloads(args.quick))
    groups = {"user": list(user_workloads(args.quick))}
    args.only = [name for name in args.only.split(",") if name] or [
        name for name in known if name not in NOT_IN_DEFAULT_RUN
    ]
    args.only = list(dict.fromkeys(n for name in args.only for n in groups.get(name, [name])))
    unknown = set(args.only) - set(known)
    if unknown:
        parser.error(f"unknown workload(s) {sorted(unknown)}; choose from {sorted(known)}")
    args.ours, args.theirs = (
        None if names is None else {name for name in names.split(",") if name}
        for names in (args.ours, args.theirs)
    )
    args.dtypes = [d for d in args.dtypes.split(",") if d]
    if set(args.dtypes) - {"float64", "float32"} or not args.dtypes:
        parser.error("--dtypes takes float64 and/or float32")
    if args.budget is None:
        args.budget = math.inf if args.quick else 360.0
    if args.quick and "--repeats" not in " ".join(argv):
        args.repeats = 2
    if args.floor_seconds is None:
        args.floor_seconds = 0.05 if args.quick else 1.5
    if args.output is None and not args.quick:
        args.output = str(OUTPUT)
    return args


def main(argv=None):
    """Run the selected workloads; print the report, write it to ``--output``, return it."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # Everything imported so far lives for the whole run: keep it out of the
    # collections before each measured fit (130 000 objects cost ~0.2 s per collect).
    gc.freeze()
    bench = Bench(args)
    command = "python -m benchmarks.run" + ("" if not argv else " " + " ".join(argv))
    chosen = workloads(args.quick)
    linear_rows, network_rows, defaults_rows, digits, dask_row = [], [], [], None, None
    lambda_section = time_to_mlp = None
    with threadpool_limits(limits=args.threads):
        for name in args.only:
            workload = chosen[name]
            if workload.kind == "dask":
                # Makes its own data, once Dask is known to be there.
                dask_row = dask_overhead.dask_row(workload)
                continue
            if workload.kind == "lambda":  # each of its rows makes its own data
                lambda_section = choosing_lambda.lambda_section(bench, workload)
                continue
            start = time.perf_counter()
            try:
                data = workload.data()
            except MissingData as missing:
                bench.notes.append(f"{name} not run: {missing}.")
                log(f"{name}: not run: {missing}")
                continue
            log(f"{name}: data in {time.perf_counter() - start:.1f} s — {workload.describe()}")
            if workload.kind == "linear":
                previous = None
                for dtype in args.dtypes:
                    row = linear_row(bench, workload, *data, dtype, previous)
                    linear_rows.append(row)
                    previous = row if dtype == "float64" else previous
                J_star = min(r.J_star for r in linear_rows if r.workload is workload)
                defaults_rows.append(
                    defaults.defaults_row(bench, workload, *data, J_star, args.dtypes)
                )
            elif workload.kind == "network":
                for dtype in args.dtypes:
                    network_rows.append(network_row(bench, workload, data, dtype))
                time_to_mlp = time_to_mlp_row(bench, workload, data)
            else:
                digits = digits_row(bench, workload)
            del data
    total = time.perf_counter() - bench.started
    lines = [*report.header(bench, command, total), ""]
    if linear_rows:
        lines += report.linear_table(linear_rows)
    if network_rows:
        lines += report.network_table(network_rows)
    if time_to_mlp is not None:
        lines += report.time_to_mlp_table(time_to_mlp)
    if linear_rows or network_rows:
        lines += report.floor_table(linear_rows, network_rows)
    if defaults_rows:
        lines += report.defaults_table(defaults_rows)
    if digits is not None:
        lines += report.digits_table(digits)
    if lambda_section is not None:
        lines += report.lambda_tables(lambda_section, bench, command)
    if dask_row is not None:
        lines += report.dask_table(dask_row)
    lines += targets_report(
        linear_rows, network_rows, digits, dask_row, defaults_rows, lambda_section, time_to_mlp
    )
    markdown = "\n".join(lines)
    print(markdown)
    if args.output:
        Path(args.output).write_text(markdown + "\n")
        log(f"wrote {args.output}")
    return markdown


if __name__ == "__main__":
    main()
