"""The acceptance suite: the emulator CLI and a real ``airflow standalone``, started once per session.

Collected only when ``AZUREML_ACCEPTANCE=1`` (``make acceptance``), so the default ``make test`` run
never starts Airflow. The scenarios run in file order (``test_1_...`` to ``test_7_...``) against the
same Airflow; each one sets the emulator's durations and faults it needs and filters submissions by
the ``airflow.*`` tags of its own DAG runs.

A scenario that must see something while a run is active (a task deferred, a worker killed mid-wait)
never races the run's duration against the machine's speed: it holds the emulator's time until it has
seen it (``Emulator.hold``, then ``release`` so that the runs finish), or, when the run is to be cancelled
anyway, gives it a step longer than the scenario may take.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.harness import (
    ACCEPTANCE_DAGS,
    ARTIFACTS,
    REPO,
    Airflow,
    Emulator,
    emulator_connection,
    stop_on_sigterm,
)

if os.environ.get("AZUREML_ACCEPTANCE") != "1":
    collect_ignore_glob = ["test_*.py"]

CLIENT_SECRET = "acceptance-client-secret-7c1e9a54d2"  # made up; must never appear in a log
DAG_IDS = (
    "azureml_recurring_training",
    "acceptance_deferred",
    "acceptance_sync",
    "acceptance_secret_check",
)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="session")
def figures(artifacts: Path) -> Iterator[dict[str, Any]]:
    """Numbers to report (scenarios 5 and 6): written to figures.json, printed in the summary."""
    yield FIGURES
    (artifacts / "figures.json").write_text(json.dumps(FIGURES, indent=2, sort_keys=True))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("acceptance figures (test-artifacts/acceptance/figures.json)")
        terminalreporter.write_line(json.dumps(FIGURES, indent=2, sort_keys=True))


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("acceptance")


@pytest.fixture(scope="session")
def emulator(workdir: Path, artifacts: Path) -> Iterator[Emulator]:
    running = Emulator(workdir, artifacts / "emulator.log")
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def airflow(emulator: Emulator, workdir: Path, artifacts: Path, figures: dict[str, Any]) -> Iterator[Airflow]:
    connections = {
        "azureml_default": emulator_connection(emulator.url),
        "azureml_secret_check": emulator_connection(
            emulator.url, login="acceptance-client", password=CLIENT_SECRET
        ),
    }
    # The log is read while the scenarios run (Airflow.wait_for_deferred), so it lives in this session's
    # own directory, out of reach of another session clearing the artifacts; it is copied there at the end.
    log = workdir / "standalone.log"
    standalone = Airflow(workdir / "airflow-home", [REPO / "dags", ACCEPTANCE_DAGS], connections, log)
    stop_on_sigterm()
    try:
        figures["standalone_startup_seconds"] = round(standalone.start(DAG_IDS), 1)
        for dag_id in DAG_IDS:
            standalone.unpause(dag_id)
        yield standalone
    finally:
        standalone.stop()
        if log.is_file():
            shutil.copy(log, artifacts / "standalone.log")
        if (standalone.home / "logs").is_dir():
            shutil.copytree(standalone.home / "logs", artifacts / "airflow-logs", dirs_exist_ok=True)


@pytest.fixture
def fresh_emulator(emulator: Emulator) -> Emulator:
    """No faults or hold left over, the default (fast) phase durations: each scenario sets what it needs."""
    emulator.admin("DELETE", "faults")
    emulator.release()
    emulator.set_durations()
    return emulator


def unique_run_id(prefix: str) -> str:
    return f"{prefix}__{time.strftime('%H%M%S')}_{time.monotonic_ns() % 1_000_000:06d}"
