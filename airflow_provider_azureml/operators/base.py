"""What submitting operators share: submit once, remember the run, wait in one of three ways, fail clearly.

The synchronous path runs through Airflow's ``ResumableJobMixin`` (the run id goes to the task state
store before any wait), and the deferrable path reuses it: ``poll_until_complete`` defers, after the mixin
has stored the id. The gap the mixin documents (a worker killed between submit and store) is closed by
tagging each submission with an idempotency key and looking it up before submitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.bases.operator import BaseOperatorMeta
from airflow.sdk.bases.resumablejobmixin import ResumableJobMixin
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_azureml.client.errors import (
    AzureMLAmbiguousSubmitError,
    AzureMLConfigError,
    AzureMLConnectionError,
    AzureMLServiceError,
)
from airflow_provider_azureml.client.models import parameter_text
from airflow_provider_azureml.client.redaction import scrub
from airflow_provider_azureml.client.retry import is_permanent, is_transient
from airflow_provider_azureml.client.statuses import RunState, RunStatus
from airflow_provider_azureml.links.studio import AzureMLPipelineRunLink, push_run_xcoms
from airflow_provider_azureml.operators.arguments import (
    HookArguments,
    PipelineRunArguments,
    validate_arguments,
)
from airflow_provider_azureml.utils.events import validate_event
from airflow_provider_azureml.utils.idempotency import IDEMPOTENCY_TAG, submission_tags
from airflow_provider_azureml.utils.progress import ProgressLog, report_failure
from airflow_provider_azureml.utils.waiting import REAL_CLOCK, Pacing, WaitClock, sleep_before_poll

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_azureml.client.models import PipelineRun, SubmissionOptions
    from airflow_provider_azureml.hooks.azureml import AzureMLHook

DEFAULT_TIMEOUT = 7 * 24 * 3600.0
AMBIGUOUS_SUBMIT_ATTEMPTS = 3  # submits whose answer may be lost, each followed by a look-up by tag


def _default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)


def run_ref(run_id: str, experiment_name: str) -> dict[str, str]:
    """What the task state store keeps for a run: JSON, enough to reconnect."""
    return {"run_id": run_id, "experiment_name": experiment_name}


class AzureMLHookMixin:
    """
    Connection and HTTP-retry settings, and the hook they make; shared by every operator and sensor.

    :param azureml_conn_id: the ``azureml`` connection.
    :param max_retries: HTTP retries on throttling, 5xx and connection errors (default: the connection's).
    :param retry_max_seconds: total time the retries of one call may take.
    :param request_timeout: per-request timeout in seconds.
    """

    #: The task's arguments and their types (operators/arguments.py), checked by :meth:`check_arguments`.
    arguments: ClassVar[type[HookArguments]] = HookArguments

    # Applied like ResumableJobMixin does, so that ``default_args`` can set these keywords too.
    @BaseOperatorMeta._apply_defaults  # type: ignore[type-var]
    def __init__(
        self,
        *,
        azureml_conn_id: str = "azureml_default",
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        request_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.azureml_conn_id = azureml_conn_id
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        self.request_timeout = request_timeout

    @cached_property
    def hook(self) -> AzureMLHook:
        from airflow_provider_azureml.hooks.azureml import AzureMLHook

        return AzureMLHook(
            self.azureml_conn_id,
            max_retries=self.max_retries,
            retry_max_seconds=self.retry_max_seconds,
            request_timeout=self.request_timeout,
        )

    @property
    def retry_settings(self) -> dict[str, Any]:
        return {
            "max_retries": self.max_retries,
            "retry_max_seconds": self.retry_max_seconds,
            "request_timeout": self.request_timeout,
        }

    def check_arguments(self) -> None:
        """Fail without retries on a mistyped argument or connection field: a retry would see the same.

        Called first in ``execute``: after templating, before any request. The hook reports a bad
        connection field as ``AirflowFailException``.
        """
        validate_arguments(self.arguments, self)
        self.hook.config  # noqa: B018 - parsing the connection is the check


def as_airflow_error(error: Exception, prefix: str = "") -> AirflowException:
    """Errors that a retry cannot fix fail the task at once; the rest may be retried."""
    return airflow_error(f"{prefix}{error}", permanent=is_permanent(error))


def airflow_error(message: str, *, permanent: bool) -> AirflowException:
    message = scrub(message)
    return AirflowFailException(message) if permanent else AirflowException(message)


def checked_event(event: Any) -> dict[str, Any]:
    """A trigger event that is well formed and not an error; raises what the sync path would raise."""
    try:
        event = validate_event(event)
    except ValueError as error:
        raise AirflowException(str(error)) from error
    if event["status"] == "error":
        raise airflow_error(event["message"], permanent=bool(event.get("permanent")))
    return event


def read_run(
    hook: AzureMLHook, log: Any, progress: ProgressLog, run_id: str, experiment_name: str | None
) -> PipelineRun:
    """One synchronous poll: the run, its steps' progress logged on change; the client's errors raised."""
    run = hook.get_pipeline_run(run_id)
    steps = hook.list_step_runs(experiment_name or run.experiment_name or "", run_id)
    progress.report(log, run_id, run.status, steps)
    return run


def observe_run(
    hook: AzureMLHook, log: Any, progress: ProgressLog, run_id: str, experiment_name: str | None
) -> PipelineRun | None:
    """One poll of a wait that does not pace itself (sensor poke, the read before deferring).

    Returns None after an error worth waiting out (throttling, 5xx, connection) so that a long wait
    survives what the client's own retries did not; any other error fails the task.
    """
    try:
        return read_run(hook, log, progress, run_id, experiment_name)
    except (AzureMLConnectionError, AzureMLServiceError) as error:
        if not is_transient(error):
            raise as_airflow_error(error) from error
        log.warning("Could not read Azure ML pipeline run %s, will retry: %s", run_id, error)
        return None


class AzureMLPipelineRunOperatorBase(AzureMLHookMixin, ResumableJobMixin, BaseOperator):
    """
    Base of the operators that start a pipeline run; subclasses say how to submit (``_submit``).

    :param experiment_name: Azure ML experiment the run belongs to.
    :param pipeline_parameters: PipelineParameter overrides (scalar values).
    :param data_path_assignments: DataPath parameter overrides: ``{name: {"DataStoreName", "RelativePath"}}``.
    :param description: run description.
    :param tags: run tags; the operator adds ``airflow.*`` tags identifying the task instance.
    :param continue_on_step_failure: let independent steps go on after a step fails.
    :param wait_for_completion: wait for a terminal state (default True).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poll_interval: seconds between status reads.
    :param timeout: seconds to wait before failing (and cancelling, with ``cancel_on_kill``).
    :param cancel_on_kill: cancel the remote run when the task is killed or times out.
    :param validate_parameters: check names and types against the pipeline's declared parameters.
    """

    template_fields: Sequence[str] = (
        "experiment_name",
        "pipeline_parameters",
        "data_path_assignments",
        "description",
        "tags",
        "azureml_conn_id",
    )
    template_fields_renderers = {
        "pipeline_parameters": "json",
        "data_path_assignments": "json",
        "tags": "json",
    }
    operator_extra_links = (AzureMLPipelineRunLink(),)
    ui_color = "#cfe6fb"
    external_id_key = "azureml_pipeline_run"
    arguments: ClassVar[type[HookArguments]] = PipelineRunArguments
    #: What the waits read time from and the synchronous wait sleeps on (tests put simulated time here).
    clock: ClassVar[WaitClock] = REAL_CLOCK

    def __init__(
        self,
        *,
        experiment_name: str,
        pipeline_parameters: dict[str, Any] | None = None,
        data_path_assignments: dict[str, dict[str, str]] | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        continue_on_step_failure: bool | None = None,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = 30.0,
        timeout: float = DEFAULT_TIMEOUT,
        cancel_on_kill: bool = True,
        validate_parameters: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.experiment_name = experiment_name
        self.pipeline_parameters = pipeline_parameters
        self.data_path_assignments = data_path_assignments
        self.description = description
        self.tags = tags
        self.continue_on_step_failure = continue_on_step_failure
        self.wait_for_completion = wait_for_completion
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.cancel_on_kill = cancel_on_kill
        self.validate_parameters = validate_parameters
        self.run_id: str | None = None

    # -- subclass hooks -------------------------------------------------------------------------------
    def _check_target(self) -> None:
        """Validate what will be submitted against the service (pipeline exists, parameters known)."""
        raise NotImplementedError

    def _submit(self, tags: dict[str, str]) -> PipelineRun:
        raise NotImplementedError

    def _describe_target(self) -> dict[str, Any]:
        """What was submitted, for the returned summary."""
        raise NotImplementedError

    def _submission_options(self, tags: dict[str, str]) -> SubmissionOptions:
        """The body fields every submit route takes, from this operator's arguments."""
        return {
            "parameter_assignments": self.pipeline_parameters,
            "data_path_assignments": self.data_path_assignments,
            "description": self.description,
            "tags": tags,
            "continue_on_step_failure": self.continue_on_step_failure,
        }

    # -- submission -----------------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        self.check_arguments()
        return self.execute_resumable(context)

    def _check_fields(self) -> None:
        """Checks of the arguments against the connection (their types were checked in ``execute``)."""

    def submit_job(self, context: Context) -> Any:
        tags = {**(self.tags or {}), **submission_tags(context)}
        try:
            self._check_fields()
            previous = self._find_previous_run(tags[IDEMPOTENCY_TAG])
            if previous is not None:
                self.log.info("Reconnecting to run %s submitted by an earlier try of this task", previous)
                return run_ref(previous, self.experiment_name)
            self._check_target()
            return run_ref(self._submit_once(tags), self.experiment_name)
        except (AzureMLConfigError, AzureMLServiceError, AzureMLConnectionError) as error:
            raise as_airflow_error(error) from error

    def _find_previous_run(self, key: str) -> str | None:
        """The newest run tagged with this task instance's key, if it is active or succeeded."""
        runs = self.hook.find_runs_by_tags(self.experiment_name, {IDEMPOTENCY_TAG: key})
        # Runs without a creation time (none is expected) sort as oldest instead of breaking the sort.
        for run in sorted(runs, key=lambda r: (r.created_utc is not None, r.created_utc), reverse=True):
            status = RunStatus.normalize(run.status)
            return run.run_id if status not in RunStatus.FAILURE else None
        return None

    def _submit_once(self, tags: dict[str, str]) -> str:
        """Submit; whenever the answer was lost after sending, look the run up before sending again.

        Every lost answer is followed by a look-up, the resubmit's included: a second lost answer may
        well have created the run. After ``AMBIGUOUS_SUBMIT_ATTEMPTS`` the error is raised (a retry of
        the task looks the run up first too).
        """
        attempt = 1
        while True:
            try:
                run = self._submit(tags)
            except AzureMLAmbiguousSubmitError:
                self.log.warning(
                    "The submit answer was lost (attempt %d of %d); looking the run up by its tag",
                    attempt,
                    AMBIGUOUS_SUBMIT_ATTEMPTS,
                )
                found = self._find_previous_run(tags[IDEMPOTENCY_TAG])
                if found is not None:
                    return found
                if attempt >= AMBIGUOUS_SUBMIT_ATTEMPTS:
                    raise
                attempt += 1
                continue
            self.log.info("Submitted Azure ML pipeline run %s (experiment %s)", run.id, self.experiment_name)
            return run.id

    # -- ResumableJobMixin ----------------------------------------------------------------------------
    def get_job_status(self, external_id: Any, context: Context) -> str:
        return self.hook.get_pipeline_run(external_id["run_id"]).status

    def is_job_active(self, status: str) -> bool:
        return not RunState(status).is_terminal

    def is_job_succeeded(self, status: str) -> bool:
        return RunState(status).is_successful

    def poll_until_complete(self, external_id: Any, context: Context) -> Any:
        """Wait here, or defer unless the run already ended (no deferral for a finished run)."""
        self._remember(context, external_id)
        if self.wait_for_completion:
            if self.deferrable:
                self._finish_or_defer(external_id)
            else:
                self._wait(external_id)
        return self.get_job_result(external_id, context)

    def _finish_or_defer(self, external_id: Any) -> None:
        run_id, experiment = external_id["run_id"], external_id["experiment_name"]
        run = observe_run(self.hook, self.log, ProgressLog(), run_id, experiment)
        if run is None or not RunState(run.status).is_terminal:
            self._defer(external_id)
        else:
            self._finish(run_id, experiment, run.status)

    def get_job_result(self, external_id: Any, context: Context) -> dict[str, Any]:
        self._remember(context, external_id)
        run = self.hook.get_pipeline_run(external_id["run_id"])
        return {
            "run_id": run.id,
            "experiment_name": external_id["experiment_name"],
            "status": run.status,
            "studio_url": self.hook.studio_run_url(run.id, external_id["experiment_name"]),
            "parameters": {name: parameter_text(v) for name, v in (self.pipeline_parameters or {}).items()},
            **self._describe_target(),
        }

    def _remember(self, context: Context, external_id: Any) -> None:
        """Push the run id and Studio URL once per try, before any wait."""
        if self.run_id == external_id["run_id"]:
            return
        self.run_id = external_id["run_id"]
        experiment = external_id["experiment_name"]
        push_run_xcoms(
            context["ti"],
            run_id=self.run_id,
            experiment_name=experiment,
            studio_url=self.hook.studio_run_url(self.run_id, experiment),
        )

    # -- waiting --------------------------------------------------------------------------------------
    def _defer(self, external_id: Any) -> None:
        from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger

        self.defer(
            trigger=AzureMLPipelineRunTrigger(
                run_id=external_id["run_id"],
                experiment_name=external_id["experiment_name"],
                azureml_conn_id=self.azureml_conn_id,
                poll_interval=self.poll_interval,
                end_time=self.clock.now() + self.timeout,
                cancel_on_kill=self.cancel_on_kill,
                retry_settings=self.retry_settings,
            ),
            method_name="execute_complete",
        )

    def _wait(self, external_id: Any) -> None:
        """Poll until the run ends or ``timeout`` passes, paced as the trigger is (``utils/waiting.py``)."""
        run_id, experiment = external_id["run_id"], external_id["experiment_name"]
        clock = self.clock
        deadline = clock.monotonic() + self.timeout
        progress = ProgressLog()
        status = RunStatus.UNKNOWN
        pacing = Pacing(self.poll_interval, fraction=clock.jitter())
        while True:
            started = clock.monotonic()
            try:
                status = read_run(self.hook, self.log, progress, run_id, experiment).status
            except (AzureMLConnectionError, AzureMLServiceError) as error:
                self._wait_out(error, run_id, status)
                wait, pacing = pacing.after_transient_error()
                self.log.warning(
                    "Transient error polling run %s, next poll in %.2fs: %s", run_id, wait, error
                )
            except AirflowException as error:  # the connection itself is unusable
                raise self._abandoned(error, run_id, status) from None
            else:
                if RunState(status).is_terminal:
                    return self._finish(run_id, experiment, status)
                wait, pacing = pacing.after_poll(clock.monotonic() - started)
            sleep = sleep_before_poll(wait, deadline, clock.monotonic())
            if sleep is None:
                return self._finish(run_id, experiment, self._final_look(run_id, status), timed_out=True)
            clock.sleep(sleep)

    def _final_look(self, run_id: str, status: str) -> str:
        """The status at the deadline, read once more (the run may have ended); a transient error keeps
        ``status``."""
        try:
            return self.hook.get_pipeline_run(run_id).status
        except (AzureMLConnectionError, AzureMLServiceError) as error:
            self._wait_out(error, run_id, status)
            return status

    def _wait_out(
        self, error: AzureMLConnectionError | AzureMLServiceError, run_id: str, status: str
    ) -> None:
        """Return if ``error`` is worth waiting out (throttling, 5xx, connection); else end the wait."""
        if not is_transient(error):
            raise self._abandoned(as_airflow_error(error), run_id, status) from None

    def _finish(self, run_id: str, experiment: str, status: str, *, timed_out: bool = False) -> None:
        """Return on success; otherwise raise with the failing steps' own errors and log tail."""
        state = RunState(status)
        if state.is_successful:
            self.log.info("Azure ML pipeline run %s %s", run_id, status)
            return
        if not state.is_terminal and timed_out:
            if self.cancel_on_kill:
                self.hook.cancel_pipeline_run(run_id)
                self.log.warning("Cancel requested for run %s after the %ss timeout", run_id, self.timeout)
            raise AirflowException(f"Azure ML pipeline run {run_id} still {status} after {self.timeout}s")
        raise AirflowException(report_failure(self.hook, self.log, run_id, experiment, status))

    def _abandoned(self, error: AirflowException, run_id: str, status: str) -> AirflowException:
        """``error`` ended the wait, not the run: say so, with the run's link and what a retry does."""
        try:
            link = f" ({self.hook.studio_run_url(run_id)})"
        except AirflowException:  # the connection itself is what broke
            link = ""
        seen = "its status not read yet" if status == RunStatus.UNKNOWN else f"last seen {status}"
        note = (
            f"The wait stopped, not Azure ML pipeline run {run_id} ({seen}): it goes on in Azure ML{link}. "
            "A retry of this task reattaches to it instead of submitting another; cancel it in Studio if it "
            "should stop."
        )
        self.log.error(note)
        return type(error)(f"{error} {note}")

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        try:
            event = checked_event(event)
        except AirflowException as error:
            if isinstance(event, dict) and event.get("status") == "error":
                raise self._abandoned(error, event["run_id"], event["run_status"]) from None
            raise
        external_id = run_ref(event["run_id"], event["experiment_name"])
        self._finish(
            event["run_id"],
            event["experiment_name"],
            event["run_status"],
            timed_out=event["status"] == "timeout",
        )
        return self.get_job_result(external_id, context)

    def on_kill(self) -> None:
        if self.cancel_on_kill and self.run_id:
            self.hook.cancel_pipeline_run(self.run_id)
            self.log.info("Cancel requested for Azure ML pipeline run %s", self.run_id)
