"""Parsing an example DAG must not import azureml, azure-identity or azure-core.

The DAG processor parses every DAG file again and again; those packages take seconds to import, so
only a running task may load them. Each file is executed the way the processor does it (a module from
a file path, the DAG folder on ``sys.path``) in a fresh interpreter, and ``sys.modules`` is checked.
Timings are in ``benchmarks/`` (``make bench``), never here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = sorted((Path(__file__).resolve().parent.parent / "dags").glob("azureml_*.py"))
FORBIDDEN = ("azureml", "azure.identity", "azure.core")

PARSE = """
import importlib.util, json, sys
from pathlib import Path
path, forbidden = Path(sys.argv[1]), tuple(sys.argv[2:])
sys.path.insert(0, str(path.parent))
spec = importlib.util.spec_from_file_location("unusual_prefix_" + path.stem, path)
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in forbidden))))
"""


def test_there_are_example_dags() -> None:
    assert len(DAGS) >= 2


@pytest.mark.parametrize("dag_file", DAGS, ids=lambda path: path.name)
def test_parsing_imports_no_heavy_package(dag_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PARSE, str(dag_file), *FORBIDDEN],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    heavy = json.loads(result.stdout.strip().splitlines()[-1])
    assert heavy == [], f"parsing {dag_file.name} imported {heavy[:10]}"
