"""``make demo``: every example DAG end to end in real Airflow against the embedded emulator.

Starts the emulator on a free loopback port in execution mode (published pipelines really run their
scripts; their files under ``.demo/emulator-data/``), gives Airflow a private home under ``.demo/``, runs
each DAG with ``airflow dags test`` and prints what Azure ML (the emulator) received, how each run ended
and where the executed steps wrote their outputs. Exits non-zero if any DAG fails; everything it started
is stopped on the way out.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from airflow_provider_azureml.emulator.connection import EMULATOR_WORKSPACE, emulator_connection
from airflow_provider_azureml.emulator.seeded import TRAINING_V1
from airflow_provider_azureml.emulator.state.lifecycle import Durations
from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.schedules.export import Exported, export_schedules
from tools.local_airflow import REPO, DagTestResult, LocalAirflow

#: (DAG id, run conf), in the order a new user would meet them.
DEMO_DAGS: list[tuple[str, dict[str, Any] | None]] = [
    ("azureml_publish_pipelines", None),
    ("azureml_recurring_training", {"avg_rate": 0.8}),
    ("azureml_batch_scoring", None),
    ("azureml_training_data_landing", None),
    ("azureml_retrain_on_new_data", None),
    ("azureml_invoke_published_endpoint", None),
]


DATA_DIR = REPO / ".demo" / "emulator-data"
SCHEDULES_DIR = REPO / ".demo" / "exported-schedules"
#: An Azure ML schedule as ``Schedule.create(ws, ..., recurrence=ScheduleRecurrence("Day", 1,
#: start_time="2030-01-01T06:30:00", time_zone=TimeZone.WEuropeStandardTime))`` sends it.
DEMO_SCHEDULE = {
    "Name": "nightly-training",
    "PipelineId": TRAINING_V1,
    "PipelineSubmissionInfo": {
        "ExperimentName": "nightly-training",
        "ParameterAssignments": {"avg_rate": "0.6"},
    },
    "Recurrence": {
        "Frequency": "Day",
        "Interval": 1,
        "StartTime": "2030-01-01T06:30:00",
        "TimeZone": "W. Europe Standard Time",
    },
    "ScheduleType": "0",
}


@dataclass(frozen=True)
class DemoRow:
    result: DagTestResult
    runs: list[tuple[str, dict[str, str], str]]  # (run id, parameters received, final status)
    outputs: list[tuple[str, str, Path]]  # (run id, "step/output", folder) of executed runs


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
        outputs = [
            (s.run_id, f"{step}/{port}", folder)
            for s in submissions
            for step, ports in emulator.backend.step_outputs(s.run_id).items()
            for port, folder in ports.items()
        ]
        rows.append(DemoRow(result, runs, outputs))
    return rows


def describe(folder: Path) -> str:
    """What an output folder holds, with the facts the demo is about (avg_rate, rows scored)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    if not files:
        return "(empty)"
    model = folder / "model.json"
    if model.is_file():
        return f"model.json, avg_rate={json.loads(model.read_text()).get('avg_rate')}"
    rows = folder / "parallel_run_step.txt"
    if rows.is_file():
        return f"parallel_run_step.txt, {len(rows.read_text().splitlines())} rows"
    return f"{len(files)} files"


def print_outputs(rows: list[DemoRow]) -> None:
    """Where executed steps wrote. A datastore URI maps to a local path:
    ``azureml://datastores/workspaceblobstore/paths/<p>`` is ``DATA_DIR/datastores/workspaceblobstore/<p>``.
    """
    datastore = DATA_DIR / "datastores" / "workspaceblobstore"
    print(f"\nOutputs of executed runs (azureml://datastores/workspaceblobstore/paths/ is {datastore}/):")
    for row in rows:
        for run_id, name, folder in row.outputs:
            shown = folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder
            print(f"  {row.result.dag_id:<36} {run_id[:8]} {name:<16} {shown}  [{describe(folder)}]")


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


def print_reported_location(emulator: RunningEmulator, airflow: LocalAirflow) -> None:
    """The batch-scoring DAG reports its output as a datastore URI (true on Azure); here is the file."""
    uri = airflow.xcom("azureml_batch_scoring", "report_output")
    if not uri:
        return
    path = emulator.backend.datastore_path(uri)
    found = f"{len(path.read_text().splitlines())} rows" if path.is_file() else "missing"
    print(f"\nazureml_batch_scoring reported {uri}\n  = {path} ({found})")


def export_demo_schedule(emulator: RunningEmulator) -> Exported:
    """Create one Azure ML schedule on the emulator, then export it as a DAG file that Airflow parses."""
    from airflow_provider_azureml.hooks.azureml import AzureMLHook

    shutil.rmtree(SCHEDULES_DIR, ignore_errors=True)
    created = httpx.post(
        emulator.url + routes.CREATE_SCHEDULE.path(**EMULATOR_WORKSPACE),
        json=DEMO_SCHEDULE,
        headers={"Authorization": "Bearer demo"},
    )
    created.raise_for_status()
    [exported] = export_schedules(AzureMLHook(), SCHEDULES_DIR, conn_id="azureml_default")
    return exported


def print_exported_schedule(exported: Exported) -> None:
    """Where the exported DAG is, and its DAG part (the docstring above it explains the migration)."""
    print(f"\nAzure ML schedule export: {exported.line()}")
    if exported.path is None:
        return
    lines = exported.path.read_text().splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("with DAG("))
    print("\n".join(f"  {line}" for line in lines[start : start + 9]))


def main() -> int:
    home = REPO / ".demo" / "airflow-home"
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    with run_emulator(durations=Durations(), execute=True, data_dir=DATA_DIR) as emulator:
        print(f"Azure ML emulator at {emulator.url}", flush=True)
        os.environ["AIRFLOW_CONN_AZUREML_DEFAULT"] = json.dumps(emulator_connection(emulator.url))
        airflow = LocalAirflow(home, emulator.url)
        airflow.migrate()
        rows = run_demo(emulator, airflow)
        exported = export_demo_schedule(emulator)
    print_summary(rows)
    print_outputs(rows)
    print_reported_location(emulator, airflow)
    print_exported_schedule(exported)
    failed = [row.result.dag_id for row in rows if not row.result.ok]
    if exported.problem:
        failed.append("schedule export")
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} DAGs succeeded"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
