"""The package sits in Airflow's dags folder: importing it must stay cheap, the scripts unparsed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipelines._paths import DAGS_DIR, PACKAGE_DIR, SCRIPTS_DIR


def run_python(code: str, **env: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=DAGS_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_importing_the_factories_does_not_import_azureml() -> None:
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(DAGS_DIR)!r})\n"
        "from azureml_pipelines.training import build_training_pipeline\n"
        "from azureml_pipelines.batch_scoring import build_batch_scoring_pipeline\n"
        "import azureml_pipelines.sample_data\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('azureml', 'numpy'))\n"
        "factories = [build_training_pipeline, build_batch_scoring_pipeline]\n"
        "print(json.dumps([[callable(f) for f in factories], loaded]))\n"
    )
    assert json.loads(run_python(code)) == [[True, True], []]


def test_airflow_dag_discovery_skips_the_step_scripts(tmp_path: Path) -> None:
    code = (
        "import json\n"
        "from airflow.utils.file import list_py_file_paths\n"
        f"print(json.dumps(list_py_file_paths({str(DAGS_DIR)!r}, safe_mode=False)))\n"
    )
    found = {Path(p).resolve() for p in json.loads(run_python(code, AIRFLOW_HOME=str(tmp_path)))}

    assert PACKAGE_DIR / "training.py" in found  # discovery did look inside the package
    assert not {p for p in found if SCRIPTS_DIR in p.parents}


def test_shipped_files_are_small() -> None:
    data = list((SCRIPTS_DIR / "data").iterdir())
    assert {p.name for p in data} == {"train.csv", "score_input.csv", "model.json"}
    assert sum(p.stat().st_size for p in data) < 16_000


def test_network_guard_refuses_and_records(no_external_network: list[object]) -> None:
    with socket.socket() as sock, pytest.raises(OSError, match="network guard"):
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(OSError, match="network guard"):
        socket.getaddrinfo("example.invalid", 443)
    assert no_external_network == [("192.0.2.1", 80), "example.invalid"]
    no_external_network.clear()  # the guard would otherwise fail this test at teardown

    server = socket.create_server(("127.0.0.1", 0))
    with server, socket.create_connection(server.getsockname(), timeout=1):
        pass
