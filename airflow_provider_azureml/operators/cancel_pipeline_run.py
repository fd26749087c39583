"""Cancel a pipeline run; a run that already ended is left as it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_azureml.client.errors import AzureMLError
from airflow_provider_azureml.client.statuses import RunState
from airflow_provider_azureml.operators.base import AzureMLHookMixin, as_airflow_error

if TYPE_CHECKING:
    from airflow.sdk import Context


class AzureMLCancelPipelineRunOperator(AzureMLHookMixin, BaseOperator):
    """Request cancellation of ``run_id`` and return its status; a terminal run is not an error."""

    template_fields: Sequence[str] = ("run_id", "azureml_conn_id")

    def __init__(
        self,
        *,
        run_id: str,
        azureml_conn_id: str = "azureml_default",
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        request_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.azureml_conn_id = azureml_conn_id
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        self.request_timeout = request_timeout

    def execute(self, context: Context) -> str:
        try:
            status = self.hook.get_pipeline_run(self.run_id).status
            if RunState(status).is_terminal:
                self.log.info(
                    "Azure ML pipeline run %s already ended %s; nothing to cancel", self.run_id, status
                )
                return status
            self.hook.cancel_pipeline_run(self.run_id)
            status = self.hook.get_pipeline_run(self.run_id).status
        except AzureMLError as error:
            raise as_airflow_error(error) from error
        self.log.info("Cancel requested for Azure ML pipeline run %s; status now %s", self.run_id, status)
        return status
