"""Wait for a pipeline run submitted elsewhere (another task, an external service)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_azureml.client.errors import AzureMLError
from airflow_provider_azureml.client.statuses import RunState
from airflow_provider_azureml.links.studio import XCOM_STUDIO_URL, AzureMLPipelineRunLink
from airflow_provider_azureml.operators.base import AzureMLHookMixin, _default_deferrable, as_airflow_error
from airflow_provider_azureml.utils.events import validate_event
from airflow_provider_azureml.utils.progress import ProgressLog, describe_progress, explain_failure

if TYPE_CHECKING:
    from airflow.sdk import Context


class AzureMLPipelineRunSensor(AzureMLHookMixin, BaseSensorOperator):
    """
    Succeed when ``run_id`` finishes; fail with the failing steps' errors when it fails or is canceled.

    Works in ``poke``, ``reschedule`` and deferrable modes with one meaning of ``timeout`` (seconds since
    the sensor started) and ``soft_fail`` (a failed or timed-out wait is skipped) in all three.
    ``experiment_name`` is read from the run when not given.
    """

    template_fields: Sequence[str] = ("run_id", "experiment_name", "azureml_conn_id")
    operator_extra_links = (AzureMLPipelineRunLink(),)

    def __init__(
        self,
        *,
        run_id: str,
        experiment_name: str | None = None,
        deferrable: bool | None = None,
        azureml_conn_id: str = "azureml_default",
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        request_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.experiment_name = experiment_name
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self.azureml_conn_id = azureml_conn_id
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        self.request_timeout = request_timeout
        self._progress = ProgressLog()

    def _experiment(self, context: Context) -> tuple[str, str]:
        """Read the run's status and, once, its experiment (pushing the Studio URL with it)."""
        run = self.hook.get_pipeline_run(self.run_id)
        if not self.experiment_name:
            self.experiment_name = run.experiment_name or ""
            url = self.hook.studio_run_url(self.run_id, self.experiment_name)
            context["ti"].xcom_push(key=XCOM_STUDIO_URL, value=url)
        return run.status, self.experiment_name

    def poke(self, context: Context) -> bool:
        try:
            status, experiment = self._experiment(context)
            steps = self.hook.list_step_runs(experiment, self.run_id)
        except AzureMLError as error:
            raise as_airflow_error(error) from error
        if line := self._progress.update(describe_progress(status, steps)):
            self.log.info("Azure ML pipeline run %s: %s", self.run_id, line)
        return self._decide(status)

    def _decide(self, status: str) -> bool:
        state = RunState(status)
        if state.is_successful:
            return True
        if state.is_terminal:
            message, tail = explain_failure(self.hook, self.run_id, self.experiment_name or "", status)
            if tail:
                self.log.error("Last lines of the failing step's log:\n%s", tail)
            raise AirflowFailException(message)
        return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger

        self.defer(
            trigger=AzureMLPipelineRunTrigger(
                run_id=self.run_id,
                experiment_name=self.experiment_name or "",
                azureml_conn_id=self.azureml_conn_id,
                poll_interval=self.poke_interval,
                end_time=time.time() + self.timeout,
                cancel_on_kill=False,
                retry_settings=self.retry_settings,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> None:
        try:
            event = validate_event(event)
        except ValueError as error:
            raise AirflowException(str(error)) from error
        if event["status"] == "error":
            raise AirflowException(event["message"])
        self.experiment_name = event["experiment_name"]
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"{event['message']} (sensor timeout {self.timeout}s)")
        self._decide(event["run_status"])
