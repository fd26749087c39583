# One entry point for a fresh clone: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test lint typecheck demo up acceptance bench clean lock

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==0.13.9" || $(PYTHON) -m pip install --user --quiet "uv==0.13.9"
	$(PYTHON) -m uv venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(PYTHON) -m uv pip install --quiet --python $(PY) --compile-bytecode -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lock:
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o constraints.txt

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) lint typecheck
	$(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) .airflow-home .demo .pytest_cache .mypy_cache .ruff_cache

demo: $(STAMP)
	$(PY) -m tools.demo

up: $(STAMP)
	bash tools/up.sh

bench: $(STAMP)
	$(PY) -m benchmarks

acceptance: $(STAMP)
	AZUREML_ACCEPTANCE=1 $(VENV)/bin/pytest -q --durations=12 tests/acceptance
