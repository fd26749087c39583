"""``make demo``: every example DAG end to end in real Airflow against the embedded emulator.

Starts the emulator on a free loopback port, gives Airflow a private home under ``.demo/``, runs each DAG
with ``airflow dags test`` and prints what Azure ML (the emulator) received and how each run ended.
Exits non-zero if any DAG fails; everything it started is stopped on the way out.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from typing import Any

from airflow_provider_azureml.emulator.lifecycle import Durations
from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator
from tools.local_airflow import REPO, DagTestResult, LocalAirflow, emulator_connection

#: (DAG id, run conf), in the order a new user would meet them.
DEMO_DAGS: list[tuple[str, dict[str, Any] | None]] = [
    ("azureml_publish_pipelines", None),
    ("azureml_recurring_training", {"avg_rate": 0.8}),
    ("azureml_batch_scoring", None),
    ("azureml_training_data_landing", None),
    ("azureml_retrain_on_new_data", None),
    ("azureml_invoke_published_endpoint", None),
]


@dataclass(frozen=True)
class DemoRow:
    result: DagTestResult
    runs: list[tuple[str, dict[str, str], str]]  # (run id, parameters received, final status)


def final_status(run_id: str) -> str:
    from airflow_provider_azureml.hooks.azureml import AzureMLHook

    return AzureMLHook().get_pipeline_run(run_id).status


def run_demo(emulator: RunningEmulator, airflow: LocalAirflow) -> list[DemoRow]:
    rows = []
    for dag_id, conf in DEMO_DAGS:
        print(
            f"-> airflow dags test {dag_id}" + (f" --conf '{json.dumps(conf)}'" if conf else ""), flush=True
        )
        result = airflow.dags_test(dag_id, conf)
        if not result.ok:
            print(result.output[-4000:], file=sys.stderr)
        submissions = [s for s in emulator.backend.submissions() if s.tags.get("airflow.dag_id") == dag_id]
        runs = [(s.run_id, s.parameters_received, final_status(s.run_id)) for s in submissions]
        rows.append(DemoRow(result, runs))
    return rows


def print_summary(rows: list[DemoRow]) -> None:
    print(
        f"\n{'DAG':<36} {'result':<8} {'Azure ML run id':<38} {'parameters received':<26} {'status':<10} time"
    )
    for row in rows:
        runs = row.runs or [("-", {}, "-")]
        for index, (run_id, parameters, status) in enumerate(runs):
            dag = row.result.dag_id if index == 0 else ""
            outcome = ("ok" if row.result.ok else "FAILED") if index == 0 else ""
            elapsed = f"{row.result.seconds:.1f}s" if index == 0 else ""
            shown = json.dumps(parameters) if parameters else "-"
            print(f"{dag:<36} {outcome:<8} {run_id:<38} {shown:<26} {status:<10} {elapsed}")


def main() -> int:
    home = REPO / ".demo" / "airflow-home"
    shutil.rmtree(home, ignore_errors=True)
    with run_emulator(durations=Durations()) as emulator:
        print(f"Azure ML emulator at {emulator.url}", flush=True)
        os.environ["AIRFLOW_CONN_AZUREML_DEFAULT"] = json.dumps(emulator_connection(emulator.url))
        airflow = LocalAirflow(home, emulator.url)
        airflow.migrate()
        rows = run_demo(emulator, airflow)
    print_summary(rows)
    failed = [row.result.dag_id for row in rows if not row.result.ok]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} DAGs succeeded"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
