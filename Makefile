# Two commands on a fresh machine:  make run   (the default workflow)
#                                   make test  (the test suite)
# Both create or reuse the virtual environment .venv and install what is needed.

VENV := .venv
# Prefer Python 3.12 (photutils 3.1 needs it): PATH, then pyenv's versions, then python3.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
            $$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo $$p; break; }; done)
STAMP := $(VENV)/.installed
CORES ?= all

.PHONY: run test validate dryrun rulegraph report clean-results

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.11 found (tried python3.12, pyenv 3.12, python3)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES)

test: $(STAMP)
	$(VENV)/bin/python -m pytest

validate: $(STAMP)
	$(VENV)/bin/python validation/object11_nights.py
	$(VENV)/bin/python validation/object11_limits.py

dryrun: $(STAMP)
	$(VENV)/bin/snakemake -n

rulegraph: $(STAMP)
	$(VENV)/bin/snakemake --rulegraph dot > results/rulegraph.dot

report: $(STAMP)
	$(VENV)/bin/snakemake --report results/report.html

clean-results:
	rm -rf results/lensing results/figures results/logs results/benchmarks
