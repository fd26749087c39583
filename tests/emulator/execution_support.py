"""Helpers for the execution-mode tests: publishing small pipelines, reading outputs, watching processes."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.emulator.wire.statuses import RunStatus
from tests.emulator.support import wait_for


def write_scripts(folder: Path, **scripts: str) -> Path:
    """``name=source`` pairs become ``folder/name.py``; returns the folder (a step's source directory)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in scripts.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder


def script_pipeline(
    ws: Any, source: Path, script: str, arguments: list[Any] | None = None, **step: Any
) -> Any:
    """A one-step pipeline running ``script`` from ``source``."""
    from azureml.core.runconfig import RunConfiguration
    from azureml.pipeline.core import Pipeline
    from azureml.pipeline.steps import PythonScriptStep

    runconfig = step.pop("runconfig", None) or RunConfiguration()
    return Pipeline(
        ws,
        steps=[
            PythonScriptStep(
                name=step.pop("name", Path(script).stem),
                script_name=script,
                arguments=arguments or [],
                source_directory=str(source),
                compute_target=("cpu-cluster", "AmlCompute"),
                runconfig=runconfig,
                allow_reuse=False,
                **step,
            )
        ],
    )


def step_runs(emulator: RunningEmulator, run_id: str) -> dict[str, Any]:
    """The emulator's step runs of ``run_id``, by step name."""
    return {step.name: step for step in emulator.backend.get_run(run_id).steps.values()}


def output_folder(emulator: RunningEmulator, run_id: str, step: str, port: str) -> Path:
    """Where the emulator keeps a PipelineData output: ``azureml/<step run id>/<port>`` on the datastore,
    the path Azure ML gives it; checked against what the backend reports."""
    step_run_id = step_runs(emulator, run_id)[step].run_id
    folder = emulator.backend.datastore_path(
        f"azureml://datastores/workspaceblobstore/paths/azureml/{step_run_id}/{port}"
    )
    assert emulator.backend.step_outputs(run_id)[step][port] == folder
    return folder


def wait_status(emulator: RunningEmulator, run_id: str, statuses: set[str], timeout: float = 60) -> str:
    backend = emulator.backend

    def status() -> str:
        run = backend.get_run(run_id)
        return run.timeline.status_at(backend.offset(run))

    return wait_for(status, lambda value: value in statuses, timeout)


def wait_terminal(emulator: RunningEmulator, run_id: str, timeout: float = 60) -> str:
    return wait_status(emulator, run_id, set(RunStatus.TERMINAL), timeout)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its parent counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
