"""Wait for a pipeline run submitted elsewhere (another task, an external service)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from airflow_provider_azureml.client.statuses import RunState
from airflow_provider_azureml.links.studio import AzureMLPipelineRunLink, push_run_xcoms
from airflow_provider_azureml.operators.arguments import SensorArguments
from airflow_provider_azureml.operators.base import (
    AzureMLHookMixin,
    _default_deferrable,
    checked_event,
    observe_run,
)
from airflow_provider_azureml.utils.progress import ProgressLog, report_failure
from airflow_provider_azureml.utils.waiting import REAL_CLOCK, WaitClock

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_azureml.client.models import PipelineRun


class AzureMLPipelineRunSensor(AzureMLHookMixin, BaseSensorOperator):
    """
    Succeed when ``run_id`` finishes; fail with the failing steps' errors when it fails or is canceled.

    Works in ``poke``, ``reschedule`` and deferrable modes with one meaning of ``timeout`` (seconds since
    the sensor started) and ``soft_fail`` (a failed or timed-out wait is skipped) in all three: every mode
    goes through ``BaseSensorOperator.execute``, whose first poke defers in deferrable mode unless the run
    already ended, and the deferred outcome comes back through ``resume_execution``, which applies
    ``soft_fail`` the same way. ``experiment_name`` is read from the run when not given.
    """

    template_fields: Sequence[str] = ("run_id", "experiment_name", "azureml_conn_id")
    operator_extra_links = (AzureMLPipelineRunLink(),)
    arguments = SensorArguments
    #: Where the deferral deadline's start is read (poke and reschedule modes time themselves in Airflow).
    clock: ClassVar[WaitClock] = REAL_CLOCK

    def __init__(
        self,
        *,
        run_id: str,
        experiment_name: str | None = None,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.experiment_name = experiment_name
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self._progress = ProgressLog()
        self._started_at: float | None = None
        self._links_pushed = False

    def execute(self, context: Context) -> Any:
        self.check_arguments()
        self._started_at = self.clock.now()
        return super().execute(context)

    def poke(self, context: Context) -> bool:
        run = observe_run(self.hook, self.log, self._progress, self.run_id, self.experiment_name)
        if run is not None:
            self._learn(context, run)
            if self._is_done(run.status):
                return True
        if self.deferrable:
            self._defer()
        return False

    def _learn(self, context: Context, run: PipelineRun) -> None:
        """Take the experiment from the run when not given, and push the link's XCom once per try."""
        if not self.experiment_name:
            self.experiment_name = run.experiment_name or ""
        if not self._links_pushed:
            push_run_xcoms(
                context["ti"],
                run_id=self.run_id,
                experiment_name=self.experiment_name,
                studio_url=self.hook.studio_run_url(self.run_id, self.experiment_name),
            )
            self._links_pushed = True

    def _is_done(self, status: str) -> bool:
        """True on success, False while active; ``AirflowFailException`` naming the failing steps."""
        state = RunState(status)
        if state.is_successful:
            return True
        if state.is_terminal:
            experiment = self.experiment_name or ""
            raise AirflowFailException(report_failure(self.hook, self.log, self.run_id, experiment, status))
        return False

    def _defer(self) -> None:
        """Hand the wait to the triggerer; its deadline is the sensor's start plus ``timeout``."""
        from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger

        started_at = self._started_at if self._started_at is not None else self.clock.now()
        self.defer(
            trigger=AzureMLPipelineRunTrigger(
                run_id=self.run_id,
                experiment_name=self.experiment_name or "",
                azureml_conn_id=self.azureml_conn_id,
                poll_interval=self.poke_interval,
                end_time=started_at + self.timeout,
                cancel_on_kill=False,
                retry_settings=self.retry_settings,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> None:
        """Judge the trigger's event; ``resume_execution`` turns these errors into skips with soft_fail."""
        event = checked_event(event)
        self.experiment_name = event["experiment_name"]
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"{event['message']} (sensor timeout {self.timeout}s)")
        self._is_done(event["run_status"])
