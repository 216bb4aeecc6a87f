# Two commands for a newcomer: `make demo` and `make test`. Both build .venv from
# pyproject.toml by themselves and reinstall when pyproject.toml changes. The demo
# needs the package and matplotlib only; the tests need the test and docs extras too.
# One stamp per set of extras, each newer than pyproject.toml once that set is
# installed from it: a `make demo` venv gets the extras at the next `make test`.
# `make test VENV=/elsewhere/.venv` installs this checkout into another venv (.ci/run).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP_DEMO := $(VENV)/.installed-plots
STAMP_TEST := $(VENV)/.installed-test-docs

# scikit-learn's checks are 10-50x slower when BLAS threads oversubscribe 2 cores.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
# scikit-learn runs its array-API input check only when scipy's array API is enabled.
export SCIPY_ARRAY_API := 1

.PHONY: test demo lint clean bench docs

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP_DEMO): pyproject.toml | $(PY)
	@echo "Installing sklearn-nn and matplotlib into $(VENV) (less than a minute the first time)"
	$(PY) -m pip install --quiet -e ".[plots]"
	touch $@

# The docs extra includes plots: this install meets the demo's needs too.
$(STAMP_TEST): pyproject.toml | $(PY)
	@echo "Installing sklearn-nn with its test and docs extras into $(VENV) (about 1.5 minutes the first time)"
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $@ $(STAMP_DEMO)

test: $(STAMP_TEST)
	$(PY) -m pytest
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

demo: $(STAMP_DEMO)
	$(PY) -m sklearn_nn demo

# The benchmark suite (benchmarks/README.md), about 10 minutes on 2 cores. BLAS and
# OpenMP run 1 thread for every contender by default: on a shared machine ratios are
# then reproducible (2 threads next to another busy process slowed one scikit-learn
# solver 6-10x). `make bench BENCH_THREADS=2`, `make bench BENCH_ARGS="--only softmax"`.
BENCH_THREADS ?= 1
BENCH_ARGS ?=

bench: $(STAMP_TEST)
	OMP_NUM_THREADS=$(BENCH_THREADS) OPENBLAS_NUM_THREADS=$(BENCH_THREADS) \
	MKL_NUM_THREADS=$(BENCH_THREADS) $(PY) -m benchmarks.run --threads $(BENCH_THREADS) $(BENCH_ARGS)

# The documentation site, warnings as errors; runs every gallery example (< 2 min).
# `make test` builds it too (tests/test_docs.py), without running the gallery.
docs: $(STAMP_TEST)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

lint: $(STAMP_TEST)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache demo_figures \
		docs/_build docs/generated docs/auto_examples docs/gen_modules docs/sg_execution_times.rst
