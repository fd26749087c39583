"""Run DAGs in real Airflow (``airflow dags test``) in a private AIRFLOW_HOME, against a given emulator.

Used by ``make demo`` and by the DAG tests, so both exercise the example DAGs the same way.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_azureml.emulator.connection import emulator_connection

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "dags"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@dataclass(frozen=True)
class DagTestResult:
    dag_id: str
    returncode: int
    seconds: float
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class LocalAirflow:
    """An Airflow installation of its own: sqlite metadata DB under ``home``, the repo's ``dags/`` folder."""

    def __init__(self, home: Path, emulator_url: str) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW_CONN_AZUREML_DEFAULT": json.dumps(emulator_connection(emulator_url)),
        }

    def migrate(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        subprocess.run([AIRFLOW, "db", "migrate"], env=self.env, check=True, capture_output=True, timeout=600)

    def dags_test(
        self, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 900
    ) -> DagTestResult:
        command = [AIRFLOW, "dags", "test", dag_id]
        if conf:
            command += ["--conf", json.dumps(conf)]
        started = time.monotonic()
        done = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        return DagTestResult(dag_id, done.returncode, time.monotonic() - started, done.stdout + done.stderr)

    @property
    def database(self) -> Path:
        return self.home / "airflow.db"

    def xcom(self, dag_id: str, task_id: str, key: str = "return_value") -> Any:
        """The latest XCom value of a task, read from the sqlite metadata DB; None when there is none."""
        with sqlite3.connect(self.database) as db:
            row = db.execute(
                "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = ?"
                " ORDER BY timestamp DESC LIMIT 1",
                (dag_id, task_id, key),
            ).fetchone()
        return None if row is None else json.loads(row[0])
