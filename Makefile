# Two commands on a fresh machine:  make run   (the default workflow)
#                                   make test  (the test suite)
# Both create or reuse the virtual environment .venv and install the locked versions
# (requirements.lock, written by `make lock`) plus the workflow's library in editable mode.

VENV := .venv
# Python 3.12 or newer (the locked photutils and numpy need it): PATH, then pyenv's versions.
PYTHON ?= $(shell for p in python3.12 python3.13 python3 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
            $$p -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && { echo $$p; break; }; done)
STAMP := $(VENV)/.installed
CORES ?= all

.PHONY: run smoke test validate dryrun rulegraph report docs lock clean-results

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (tried python3.12, python3.13, python3, pyenv 3.12)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES)

smoke: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES) --configfile tests/config-ci.yaml

# one pytest-xdist worker per core; the modules of an expensive shared run stay on one worker (tests/conftest.py)
test: $(STAMP)
	$(VENV)/bin/python -m pytest -n auto

validate: $(STAMP)
	$(VENV)/bin/python validation/object11_nights.py
	$(VENV)/bin/python validation/row_crosstalk.py
	$(VENV)/bin/python validation/numerical_noise.py
	$(VENV)/bin/python validation/photometry_maps.py
	$(VENV)/bin/python validation/object11_limits.py
	$(VENV)/bin/python validation/upper_ms_selection.py
	$(VENV)/bin/python validation/decontamination_axis.py
	$(VENV)/bin/python validation/mixture_operating_point.py
	$(VENV)/bin/python validation/mixture_operating_point.py --error-tail-mag 0.15
	$(VENV)/bin/python validation/reddening_errors.py
	$(VENV)/bin/python validation/survey_nights.py

dryrun: $(STAMP)
	$(VENV)/bin/snakemake -n

rulegraph: $(STAMP)
	mkdir -p results
	$(VENV)/bin/snakemake --rulegraph dot > results/rulegraph.dot

report: $(STAMP)
	$(VENV)/bin/snakemake --report results/report.html

# The documentation site (Sphinx; warnings are errors, as in the tests) into docs/_build/html.
docs: $(STAMP)
	$(VENV)/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

# Re-resolve the locked versions from pyproject.toml (any platform, Python >= 3.12).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.12 -o requirements.lock

# Everything the workflow writes under results/ (keeps results/.gitkeep), and Snakemake's
# metadata of those results in .snakemake/ (keeps its conda environments).
clean-results:
	find results -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .snakemake/metadata .snakemake/incomplete .snakemake/locks .snakemake/log .snakemake/slurm_logs
