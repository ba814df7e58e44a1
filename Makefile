# dao-abm: every target sets up .venv on its own; a fresh machine needs a Python >= 3.11 and make.
#
# PYTHON: the first of python3.13, python3.12, python3.11, python3 that runs and is >= 3.11
# with venv (a name can exist and fail, e.g. a pyenv shim of a version not installed);
# `make PYTHON=/path/to/python ...` chooses one.
PYTHON_OK := import sys, venv, ensurepip; assert sys.version_info >= (3, 11)
ifdef PYTHON
TRIED  := $(PYTHON)
else
TRIED  := python3.13 python3.12 python3.11 python3
PYTHON := $(or $(shell for p in $(TRIED); do $$p -c '$(PYTHON_OK)' >/dev/null 2>&1 && { echo $$p; break; }; done),python3)
endif
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Everything: the core, the browser view, the Dask cluster, the test tools.
EXTRAS := dev,viz,cluster

.PHONY: setup machine demo test lint bench clean clean-cache

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c '$(PYTHON_OK)' >/dev/null 2>&1 || { echo "make: dao-abm needs a Python >= 3.11 \
	with venv (tried: $(TRIED)); install one, or run make PYTHON=/path/to/python" >&2; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

# Machine setup for the browser tests: Debian's Chromium at /usr/bin/chromium (Playwright
# drives it; its own browser download is never used). Installed only when missing and when
# this is a root shell with apt-get; otherwise one line says so and the browser tests skip.
CHROMIUM := /usr/bin/chromium
APT      := apt-get -o DPkg::Lock::Timeout=600 -y -q

machine:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "make: $(CHROMIUM) is missing (browser tests will skip); as root: apt-get install chromium"; \
	else \
		echo "make: installing Debian's chromium for the browser tests (apt-get)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$(APT) install --no-install-recommends chromium >/dev/null 2>&1 \
		|| { $(APT) update >/dev/null 2>&1 && $(APT) install --no-install-recommends chromium >/dev/null 2>&1; } \
		|| echo "make: apt-get could not install chromium (browser tests will skip)"; \
	fi

demo: $(STAMP)
	$(BIN)/dao-abm run models/default.toml

lint: $(STAMP)
	$(BIN)/ruff check dao_abm tests benchmarks

# One pytest over all cores (at most 4 workers): whole files per worker (--dist loadfile), so a
# module's fixtures (the paper's quick tables, the viz servers) are computed once; files are
# handed out in collection order, the longest first (tests/conftest.py), not by test count.
# A plain `.venv/bin/python -m pytest tests/test_x.py` stays in one process.
test: lint machine
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

bench: $(STAMP) machine
	$(BIN)/python benchmarks/run.py

# numba's on-disk caches (__pycache__/*.nbi, *.nbc): a cached compiled function is checked
# against its own source file only, not against the modules it inlines or calls.
clean-cache:
	find dao_abm -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV) .pytest_cache .ruff_cache
