"""The real SDK's batched run read, ``ExperimentClient.get_runs_by_run_ids``, against the emulator.

It sends ``RunId eq a or RunId eq b ...`` with bare ids, ``orderby RunId desc`` and ``top`` = its page
size, and follows ``continuationToken``: the filter and paging our client's ``get_run_statuses`` uses too.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import httpx

from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.emulator.wire.statuses import RunStatus
from tests.emulator.support import submit
from tests.emulator.test_sdk_referee import sdk, ws  # noqa: F401 - the SDK pointed at the emulator

EXPERIMENT = "exp"


def experiment_client(workspace: Any) -> Any:
    module = importlib.import_module("azureml._restclient.experiment_client")
    return module.ExperimentClient(workspace.service_context, EXPERIMENT)


def test_get_runs_by_run_ids_reads_many_runs_across_pages(
    sdk: SimpleNamespace,  # noqa: F811
    ws: Any,  # noqa: F811
    emulator: RunningEmulator,
) -> None:
    emulator.backend.hold()  # the runs stay where they are, whatever the machine's speed
    with httpx.Client(headers={"Authorization": "Bearer sdk-test-token"}) as client:
        run_ids = [submit(client, emulator.url, ExperimentName=EXPERIMENT)["Id"] for _ in range(7)]
        other = submit(client, emulator.url, ExperimentName="other")["Id"]
    before = emulator.requests.snapshot()["routes"].get("POST QUERY_RUNS", 0)

    runs = list(experiment_client(ws).get_runs_by_run_ids(run_ids=[*run_ids, other], page_size=3))

    assert [run.run_id for run in runs] == sorted(run_ids, reverse=True)
    assert {run.status for run in runs} == {RunStatus.NOT_STARTED}
    assert emulator.requests.snapshot()["routes"]["POST QUERY_RUNS"] - before == 3  # pages of 3, 3, 1
