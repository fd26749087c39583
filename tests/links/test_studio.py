"""The "Azure ML Studio" extra link: read from the XCom the task pushed, nothing else.

``XCom.get_one`` is replaced by an in-memory store: the runtime XCom backend asks the task supervisor
over its comms channel, and no supervisor process exists in a unit test. Everything above that
boundary (``get_link`` -> ``XCom.get_value`` -> ``get_one`` with the key's ids) is the real code.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.execution_time.xcom import XCom
from airflow.sdk.types import TaskInstanceKey

from airflow_provider_azureml.links.studio import XCOM_STUDIO_URL, AzureMLPipelineRunLink
from airflow_provider_azureml.operators.cancel_pipeline_run import AzureMLCancelPipelineRunOperator
from airflow_provider_azureml.operators.invoke_pipeline_endpoint import AzureMLInvokePipelineEndpointOperator
from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from airflow_provider_azureml.sensors.pipeline_run import AzureMLPipelineRunSensor
from tests.task_context import TaskInstanceStandIn, make_context
from tests.triggers.support import TRAINING_V1

KEY = TaskInstanceKey(dag_id="train_dag", task_id="submit", run_id="manual__1", try_number=2, map_index=3)


@pytest.fixture
def xcom_store(monkeypatch: pytest.MonkeyPatch) -> dict[tuple, Any]:
    """XComs by (dag_id, task_id, run_id, map_index, key), served through ``XCom.get_one``."""
    store: dict[tuple, Any] = {}

    def get_one(cls, *, key, dag_id, task_id, run_id, map_index=None, include_prior_dates=False):
        return store.get((dag_id, task_id, run_id, map_index, key))

    monkeypatch.setattr(XCom, "get_one", classmethod(get_one))
    return store


def link_for(operator: Any) -> str:
    return AzureMLPipelineRunLink().get_link(operator, ti_key=KEY)


def test_link_is_the_url_the_task_pushed_for_its_own_instance(xcom_store):
    url = "https://ml.azure.com/runs/run-1?wsid=/subscriptions/s/resourcegroups/g/workspaces/w"
    xcom_store[(KEY.dag_id, KEY.task_id, KEY.run_id, KEY.map_index, XCOM_STUDIO_URL)] = url
    xcom_store[(KEY.dag_id, KEY.task_id, KEY.run_id, 0, XCOM_STUDIO_URL)] = "https://other-map-index"
    assert link_for(AzureMLSubmitPipelineRunOperator(task_id="submit", experiment_name="e")) == url


def test_no_xcom_gives_an_empty_link_without_any_connection_lookup(xcom_store, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AZUREML_DEFAULT", raising=False)
    assert link_for(AzureMLSubmitPipelineRunOperator(task_id="submit", experiment_name="e")) == ""


def test_link_of_a_real_submission_opens_its_run(emulator_conn, xcom_store):
    ti = TaskInstanceStandIn(
        dag_id=KEY.dag_id, task_id=KEY.task_id, run_id=KEY.run_id, map_index=KEY.map_index
    )
    op: Any = AzureMLSubmitPipelineRunOperator(
        task_id="submit",
        experiment_name="links",
        published_pipeline_id=TRAINING_V1,
        wait_for_completion=False,
    )
    run_id = op.execute(make_context(ti=ti))["run_id"]
    for key, value in ti.xcoms.items():  # what the supervisor would have stored
        xcom_store[(KEY.dag_id, KEY.task_id, KEY.run_id, KEY.map_index, key)] = value

    url = link_for(op)
    assert url.startswith(f"{emulator_conn.url}/runs/{run_id}?wsid=")
    assert "/workspaces/ws-emulator" in url


@pytest.mark.parametrize(
    "operator_class",
    [
        AzureMLSubmitPipelineRunOperator,
        AzureMLInvokePipelineEndpointOperator,
        AzureMLCancelPipelineRunOperator,
        AzureMLPipelineRunSensor,
    ],
)
def test_every_run_task_shows_the_link(operator_class):
    names = [link.name for link in operator_class.operator_extra_links]
    assert names == ["Azure ML Studio"]
    assert isinstance(operator_class.operator_extra_links[0], AzureMLPipelineRunLink)
