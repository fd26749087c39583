"""Run by ``tools/pip-check.sh`` in a virtual environment that plain pip installed from the wheel alone.

It proves what a user of that Python gets: the package and its emulator import, a pipeline endpoint run is
submitted to the emulator and followed to its end, and the SDK workspace is built where the SDK installs
(else it fails naming the extra).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
import time

RUN_DEADLINE_SECONDS = 120


def main() -> None:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="pip-check-airflow-"))
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_azureml.client.statuses import RunStatus
    from airflow_provider_azureml.emulator.connection import emulator_connection
    from airflow_provider_azureml.emulator.testing import run_emulator
    from airflow_provider_azureml.hooks.azureml import AzureMLHook

    sdk = importlib.util.find_spec("azureml") is not None
    with run_emulator() as emulator:
        os.environ["AIRFLOW_CONN_AZUREML_DEFAULT"] = json.dumps(emulator_connection(emulator.url))
        hook = AzureMLHook()
        endpoint = hook.get_pipeline_endpoint(name="training-endpoint")
        run = hook.submit_pipeline_endpoint_run(endpoint.id, experiment_name="pip-check")
        deadline = time.monotonic() + RUN_DEADLINE_SECONDS
        while (status := hook.get_pipeline_run(run.id).status) not in RunStatus.TERMINAL:
            if time.monotonic() > deadline:
                sys.exit(f"run {run.id} still {status} after {RUN_DEADLINE_SECONDS}s")
            time.sleep(0.2)
        if status not in RunStatus.SUCCESS:
            sys.exit(f"run {run.id} ended {status}")
        if sdk:
            workspace = hook.get_workspace()
            assert workspace.name == hook.config.workspace_name, workspace
        else:
            try:
                hook.get_workspace()
            except AirflowFailException as error:
                assert "airflow-provider-azureml[sdk]" in str(error), error
            else:
                sys.exit("get_workspace() worked without the SDK")
    print(f"pip-check Python {sys.version.split()[0]}: run {run.id} {status}; SDK installed: {sdk}")


if __name__ == "__main__":
    main()
