# One entry point for a fresh clone: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The development environment runs the real Azure ML SDK, which installs on Python 3.11 only.
DEV_PYTHON_VERSION := 3.11
LOCKED_PYTHON_VERSIONS := 3.11 3.12 3.13
UV := $(PYTHON) -m uv

.PHONY: venv test lint typecheck demo up acceptance bench clean lock dist pip-check

$(STAMP): pyproject.toml constraints-$(DEV_PYTHON_VERSION).txt
	@$(PYTHON) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(0 if v == "$(DEV_PYTHON_VERSION)" else "make needs Python $(DEV_PYTHON_VERSION) (the SDK does not install on " + v + "): make PYTHON=python$(DEV_PYTHON_VERSION) ...")'
	$(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==0.13.9" || $(PYTHON) -m pip install --user --quiet "uv==0.13.9"
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -c constraints-$(DEV_PYTHON_VERSION).txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# One lock per supported Python: the dev extra (with the SDK on 3.11), so plain pip and uv resolve alike.
lock:
	for version in $(LOCKED_PYTHON_VERSIONS); do \
		$(UV) pip compile pyproject.toml --extra dev --python-version $$version --quiet \
			-o constraints-$$version.txt || exit 1; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) lint typecheck
	$(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) .airflow-home .demo .pytest_cache .mypy_cache .ruff_cache dist .pip-check

# The wheel and sdist, checked as a package index would (twine check).
dist: $(STAMP)
	rm -rf dist
	$(UV) build --quiet --out-dir dist
	$(VENV)/bin/twine check --strict dist/*

# The wheel installed with plain pip on every supported Python, then one run submitted to the emulator
# from there (tools/pip_check.py).
pip-check: dist
	for version in $(LOCKED_PYTHON_VERSIONS); do \
		bash tools/pip-check.sh $$version || exit 1; \
	done

demo: $(STAMP)
	$(PY) -m tools.demo

up: $(STAMP)
	bash tools/up.sh

bench: $(STAMP)
	$(PY) -m benchmarks

acceptance: $(STAMP)
	AZUREML_ACCEPTANCE=1 $(VENV)/bin/pytest -q --durations=12 tests/acceptance
