"""The "Azure ML Studio" button on tasks that submit or watch a pipeline run.

Airflow 3 computes the link on the worker when the task ends and stores it as an XCom, so it is built
from the XCom the task pushed right after submission: never from a connection lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

XCOM_RUN_ID = "azureml_run_id"
XCOM_EXPERIMENT_NAME = "azureml_experiment_name"
XCOM_STUDIO_URL = "azureml_studio_url"


class AzureMLPipelineRunLink(BaseOperatorLink):
    """Opens the pipeline run in Azure ML Studio."""

    name = "Azure ML Studio"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return XCom.get_value(ti_key=ti_key, key=XCOM_STUDIO_URL) or ""


def push_run_xcoms(ti: Any, *, run_id: str, experiment_name: str, studio_url: str) -> None:
    """Push what the link (and downstream tasks) read; every task type showing the link calls this."""
    ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
    ti.xcom_push(key=XCOM_EXPERIMENT_NAME, value=experiment_name)
    ti.xcom_push(key=XCOM_STUDIO_URL, value=studio_url)
