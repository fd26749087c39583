"""Shared plumbing: the emulator process, the connection, worker subprocesses, memory and statistics."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from airflow_provider_azureml.emulator.connection import (
    EMULATOR_WORKSPACE,
    admin_headers,
    emulator_connection,
)
from airflow_provider_azureml.emulator.loadcheck import emulator_process
from airflow_provider_azureml.emulator.seeded import TRAINING_V1

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CONN_ID = "azureml_default"
SCOPE = EMULATOR_WORKSPACE
TRAINING_PIPELINE = TRAINING_V1  # seeded, parameter avg_rate
HEADERS = {"Authorization": "Bearer bench"}


def connection_env(base_url: str) -> dict[str, str]:
    """``AIRFLOW_CONN_AZUREML_DEFAULT`` for the emulator, so hooks and triggers need no metadata DB."""
    return {f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(emulator_connection(base_url))}


@contextmanager
def emulator() -> Iterator[tuple[str, int]]:
    """A fresh emulator (started the way ``loadcheck`` starts it), stopped on exit; yields (URL, pid)."""
    with emulator_process({}) as (url, pid):
        yield url, pid


def admin(base_url: str, method: str, what: str, body: Any = None) -> Any:
    response = httpx.request(
        method, f"{base_url}/_emulator/{what}", json=body, headers=admin_headers(), timeout=30
    )
    response.raise_for_status()
    return response.json()


def status_kib(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS) in KiB from /proc."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if line.startswith(("VmRSS", "VmHWM")))
    return {name: int(value.split()[0]) for name, value in fields.items()}


def run_worker(module: str, args: Sequence[str], env: dict[str, str], log_name: str, timeout: float) -> Any:
    """Run ``python -m module args --out FILE`` in its own process group; return the JSON it wrote.

    Workers are separate processes so each peak RSS (VmHWM) is its own; their chatter goes to a log
    under ``benchmarks/results/logs``. The whole group is killed on timeout or interruption.
    """
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out = logs / f"{log_name}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", module, *args, "--out", str(out)]
    with open(logs / f"{log_name}.log", "w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    if code != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed ({code}); see {logs / log_name}.log")
    return json.loads(out.read_text())


def percentile(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else float("inf")
