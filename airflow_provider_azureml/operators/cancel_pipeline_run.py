"""Cancel a pipeline run; a run that already ended is left as it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_azureml.client.errors import AzureMLError
from airflow_provider_azureml.client.statuses import RunState
from airflow_provider_azureml.links.studio import AzureMLPipelineRunLink, push_run_xcoms
from airflow_provider_azureml.operators.arguments import RunArguments
from airflow_provider_azureml.operators.base import AzureMLHookMixin, as_airflow_error

if TYPE_CHECKING:
    from airflow.sdk import Context


class AzureMLCancelPipelineRunOperator(AzureMLHookMixin, BaseOperator):
    """Request cancellation of ``run_id`` and return its status; a terminal run is not an error.

    A run id the workspace does not know fails the task at once (no retry can make it appear).
    """

    template_fields: Sequence[str] = ("run_id", "azureml_conn_id")
    operator_extra_links = (AzureMLPipelineRunLink(),)
    arguments = RunArguments

    def __init__(
        self,
        *,
        run_id: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id

    def execute(self, context: Context) -> str:
        self.check_arguments()
        try:
            return self._cancel(context)
        except AzureMLError as error:
            raise as_airflow_error(error, f"Cannot cancel Azure ML pipeline run {self.run_id}: ") from error

    def _cancel(self, context: Context) -> str:
        run = self.hook.get_pipeline_run(self.run_id)
        experiment = run.experiment_name or ""
        push_run_xcoms(
            context["ti"],
            run_id=self.run_id,
            experiment_name=experiment,
            studio_url=self.hook.studio_run_url(self.run_id, experiment),
        )
        if RunState(run.status).is_terminal:
            self.log.info(
                "Azure ML pipeline run %s already ended %s; nothing to cancel", self.run_id, run.status
            )
            return run.status
        self.hook.cancel_pipeline_run(self.run_id)
        status = self.hook.get_pipeline_run(self.run_id).status
        self.log.info("Cancel requested for Azure ML pipeline run %s; status now %s", self.run_id, status)
        return status
