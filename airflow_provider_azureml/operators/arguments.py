"""What each operator and the sensor accept, checked after templating and before the first request.

Each model lists a task's own attribute names; the types are the ones the request models and the
connection use (client/models.py, client/validation.py), so every rule has one definition. Checking is
strict: a value of the wrong type is refused, never converted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from airflow.sdk.exceptions import AirflowFailException
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)

from airflow_provider_azureml.client.models import DataPath, ExperimentName, PipelineParameters, VersionLabel
from airflow_provider_azureml.client.validation import NonEmptyStr, PositiveSeconds, RetryCount, describe


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be the http(s) URL of a published pipeline or endpoint")
    return value


class HookArguments(BaseModel):
    """The connection and HTTP-retry settings every task takes (``AzureMLHookMixin``)."""

    model_config = ConfigDict(strict=True, frozen=True)

    azureml_conn_id: NonEmptyStr
    max_retries: RetryCount | None
    retry_max_seconds: PositiveSeconds | None
    request_timeout: PositiveSeconds | None


class RunArguments(HookArguments):
    """A task acting on an existing run (the cancel operator)."""

    run_id: NonEmptyStr


class SensorArguments(RunArguments):
    experiment_name: ExperimentName | None
    deferrable: StrictBool


class PipelineRunArguments(HookArguments):
    """What both submitting operators take (``AzureMLPipelineRunOperatorBase``)."""

    experiment_name: ExperimentName
    pipeline_parameters: PipelineParameters | None
    data_path_assignments: dict[NonEmptyStr, DataPath] | None
    description: StrictStr | None
    tags: dict[StrictStr, StrictStr] | None
    continue_on_step_failure: StrictBool | None
    wait_for_completion: StrictBool
    deferrable: StrictBool
    poll_interval: PositiveSeconds
    timeout: PositiveSeconds
    cancel_on_kill: StrictBool
    validate_parameters: StrictBool


class SubmitArguments(PipelineRunArguments):
    published_pipeline_id: StrictStr | None
    pipeline_endpoint_name: StrictStr | None
    pipeline_endpoint_id: StrictStr | None
    pipeline_version: VersionLabel | None

    @model_validator(mode="after")
    def _one_target(self) -> SubmitArguments:
        given = [
            name
            for name in ("published_pipeline_id", "pipeline_endpoint_name", "pipeline_endpoint_id")
            if getattr(self, name)
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of published_pipeline_id, pipeline_endpoint_name or pipeline_endpoint_id"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.pipeline_version not in (None, "") and self.published_pipeline_id:
            raise ValueError("pipeline_version applies to a pipeline endpoint, not to published_pipeline_id")
        return self


class InvokeArguments(PipelineRunArguments):
    endpoint_url: Annotated[StrictStr, AfterValidator(_http_url)]


class ScheduleArguments(HookArguments):
    """The schedule operator: one schedule, by id or by name, and what to do with it."""

    schedule_id: StrictStr | None
    schedule_name: StrictStr | None
    action: Literal["enable", "disable"]

    @model_validator(mode="after")
    def _one_schedule(self) -> ScheduleArguments:
        if bool(self.schedule_id) == bool(self.schedule_name):
            raise ValueError("give exactly one of schedule_id or schedule_name")
        return self


class PublishArguments(HookArguments):
    """``pipeline_factory`` is checked when it is resolved, also before any request."""

    pipeline_name: NonEmptyStr
    factory_kwargs: dict[StrictStr, Any] | None
    description: StrictStr | None
    version: VersionLabel | None
    continue_on_step_failure: StrictBool
    pipeline_endpoint_name: StrictStr | None
    pipeline_endpoint_description: StrictStr | None
    set_as_default: StrictBool
    reuse_existing: StrictBool


def validate_arguments(model: type[BaseModel], task: Any) -> None:
    """Fail the task at once (a retry would see the same values), naming every bad argument of ``model``."""
    try:
        model.model_validate({name: getattr(task, name) for name in model.model_fields})
    except ValidationError as error:
        raise AirflowFailException(f"invalid arguments: {describe(error)}") from None
