"""Typed views of the JSON the client reads and the one body it writes.

Aliases match the wire casing (PascalCase for pipelines, camelCase for run history); parsing is lenient:
unknown fields are ignored and optional ones default to None, so a service adding fields breaks nothing.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict, Unpack

from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.client.statuses import RunStatus
from airflow_provider_azureml.client.validation import NonEmptyStr, describe

#: Azure ML experiment names: 1-255 letters, digits, ``_`` or ``-``, starting with a letter or digit.
EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")
_PARAMETER_TYPES = {"0": "int", "1": "float", "2": "bool", "3": "string", "4": "unknown"}
_ENTITY_STATUS = {"0": "Active", "1": "Deprecated", "2": "Disabled"}


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in (value or {}).items()}


def _run_status(value: Any) -> str:
    return RunStatus.normalize(value)


def _list(value: Any) -> Any:
    return value or []


def _entity_status(value: Any) -> Any:
    """``EntityStatus`` may come as a legacy integer code."""
    return _ENTITY_STATUS.get(str(value), value) if value is not None else None


class PublishedPipeline(_Wire):
    """``PipelineEntity`` (``GET Pipelines/{id}``)."""

    id: str = Field(alias="Id")
    name: str | None = Field(None, alias="Name")
    description: str | None = Field(None, alias="Description")
    version: str | None = Field(None, alias="Version")
    graph_id: str | None = Field(None, alias="GraphId")
    url: str | None = Field(None, alias="Url")
    status: str | None = Field(None, alias="EntityStatus")
    parameter_assignments: dict[str, str] = Field(default_factory=dict, alias="ParameterAssignments")
    total_run_steps: int | None = Field(None, alias="TotalRunSteps")
    continue_on_step_failure: bool | None = Field(None, alias="ContinueRunOnStepFailure")

    _map = field_validator("parameter_assignments", mode="before")(_str_map)
    _status = field_validator("status", mode="before")(_entity_status)


class PipelineParameterSpec(_Wire):
    """One declared pipeline parameter; ``type`` is int, float, bool, string or unknown."""

    name: str = Field(alias="Name")
    default_value: str | None = Field(None, alias="DefaultValue")
    type: str = Field("unknown", alias="Type")
    is_optional: bool | None = Field(None, alias="IsOptional")

    @field_validator("type", mode="before")
    @classmethod
    def _type_name(cls, value: Any) -> str:
        text = str(value) if value is not None else "4"
        return _PARAMETER_TYPES.get(text, text if text in _PARAMETER_TYPES.values() else "unknown")

    @field_validator("default_value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return None if value is None else str(value)


class GraphInterface(_Wire):
    """``EntityInterface`` (``GET Graphs/{id}/Interface``)."""

    parameters: list[PipelineParameterSpec] = Field(default_factory=list, alias="Parameters")

    _list = field_validator("parameters", mode="before")(_list)


class PipelineVersion(_Wire):
    version: str = Field(alias="Version")
    pipeline_id: str = Field(alias="PipelineId")


class PipelineEndpoint(_Wire):
    """``PipelineEndpointEntity`` (``GET PipelineEndpoints/Id/{id}`` or ``/Name?Name=``)."""

    id: str = Field(alias="Id")
    name: str | None = Field(None, alias="Name")
    description: str | None = Field(None, alias="Description")
    default_version: str | None = Field(None, alias="DefaultVersion")
    versions: list[PipelineVersion] = Field(default_factory=list, alias="PipelineVersionList")
    url: str | None = Field(None, alias="Url")
    status: str | None = Field(None, alias="EntityStatus")

    _list = field_validator("versions", mode="before")(_list)
    _status = field_validator("status", mode="before")(_entity_status)

    def pipeline_id_for(self, version: str | None = None) -> str:
        """The published pipeline behind ``version`` (default: the endpoint's default version)."""
        wanted = str(version) if version is not None else self.default_version
        for entry in self.versions:
            if entry.version == wanted:
                return entry.pipeline_id
        available = ", ".join(v.version for v in self.versions) or "none"
        raise AzureMLConfigError(
            f"pipeline endpoint {self.name or self.id!r} has no version {wanted!r}; versions: {available}"
        )


class PipelineRun(_Wire):
    """``PipelineRunEntity``: the AEVA view of a pipeline run (status spelled ``Finished`` on success)."""

    id: str = Field(alias="Id")
    experiment_name: str | None = Field(None, alias="RunHistoryExperimentName")
    pipeline_id: str | None = Field(None, alias="PipelineId")
    status: str = Field(RunStatus.UNKNOWN, validation_alias=AliasPath("Status", "StatusCode"))
    status_detail: str | None = Field(None, validation_alias=AliasPath("Status", "StatusDetail"))
    creation_time: datetime | None = Field(None, validation_alias=AliasPath("Status", "CreationTime"))
    end_time: datetime | None = Field(None, validation_alias=AliasPath("Status", "EndTime"))
    parameter_assignments: dict[str, str] = Field(default_factory=dict, alias="ParameterAssignments")
    tags: dict[str, str] = Field(default_factory=dict, alias="tags")
    description: str | None = Field(None, alias="Description")

    _status = field_validator("status", mode="before")(_run_status)
    _maps = field_validator("parameter_assignments", "tags", mode="before")(_str_map)


class RunError(_Wire):
    """The ``error`` object of run history's ``ErrorResponse``."""

    code: str | None = None
    message: str | None = None
    target: str | None = None
    details: list[dict[str, Any]] = Field(default_factory=list)


class Run(_Wire):
    """``RunDto`` / ``RunDetailsDto`` from run history: a pipeline's root run or one of its step runs."""

    run_id: str = Field(alias="runId")
    parent_run_id: str | None = Field(None, alias="parentRunId")
    root_run_id: str | None = Field(None, alias="rootRunId")
    experiment_id: str | None = Field(None, alias="experimentId")
    status: str = Field(RunStatus.UNKNOWN, alias="status")
    run_type: str | None = Field(None, alias="runType")
    name: str | None = Field(None, alias="name")
    display_name: str | None = Field(None, alias="displayName")
    tags: dict[str, str] = Field(default_factory=dict, alias="tags")
    properties: dict[str, str] = Field(default_factory=dict, alias="properties")
    data_container_id: str | None = Field(None, alias="dataContainerId")
    created_utc: datetime | None = Field(None, alias="createdUtc")
    start_time_utc: datetime | None = Field(None, alias="startTimeUtc")
    end_time_utc: datetime | None = Field(None, alias="endTimeUtc")
    error: RunError | None = Field(None, validation_alias=AliasPath("error", "error"))

    _status = field_validator("status", mode="before")(_run_status)
    _maps = field_validator("tags", "properties", mode="before")(_str_map)

    @property
    def node_id(self) -> str | None:
        """The graph node this step run executes (``azureml.nodeid`` tag); None for a root run."""
        return self.tags.get("azureml.nodeid")

    @property
    def pipeline_status(self) -> str:
        """The status in the pipelines service's words (``Finished`` where run history says ``Completed``)."""
        return RunStatus.from_history(self.status)


def _experiment_name(value: str) -> str:
    if not EXPERIMENT_NAME.fullmatch(value):
        raise ValueError("1-255 letters, digits, '_' or '-', starting with a letter or digit")
    return value


def parameter_type(value: Any) -> str | None:
    """The declared parameter type (``bool``, ``int``, ``float``, ``string``) ``value`` is of; None if it is
    no pipeline parameter value at all.

    The one rule for parameter values: a str, an int, a finite float or a bool, and a bool is a bool, not an
    int (Python's ``True`` is an ``int``). The service takes each as text: see :func:`parameter_text`.
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float" if math.isfinite(value) else None
    return "string" if isinstance(value, str) else None


def parameter_text(value: str | int | float | bool) -> str:
    """A parameter value as sent: its ``str()``, as the SDK sends it (``True`` -> ``"True"``)."""
    return str(value)


def _scalar(value: Any) -> str | int | float | bool:
    """``ParameterValue``'s check: :func:`parameter_type`'s rule; the value is kept as given."""
    if parameter_type(value) is None:
        raise ValueError("allowed: str, int, float (finite) or bool")
    return value


def _version_label(value: Any) -> str | int:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError("allowed: str or int")


ExperimentName = Annotated[StrictStr, AfterValidator(_experiment_name)]
ParameterValue = Annotated[str | int | float | bool, PlainValidator(_scalar)]
#: PipelineParameter overrides, by name.
PipelineParameters = dict[NonEmptyStr, ParameterValue]
#: A published pipeline's or endpoint's version label; an int is taken as its decimal text.
VersionLabel = Annotated[str | int, PlainValidator(_version_label)]


class DataPath(BaseModel):
    """A DataPath parameter's value: this model, its wire dict or ``{datastore_name, relative_path}``."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", strict=True)

    datastore_name: NonEmptyStr = Field(alias="DataStoreName")
    relative_path: StrictStr = Field(alias="RelativePath")


_FREQUENCY = {"0": "Month", "1": "Week", "2": "Day", "3": "Hour", "4": "Minute"}
RECURRENCE_SCHEDULE_TYPES = ("0", "Recurrence")


class ScheduleRecurrence(_Wire):
    """A schedule's ``Recurrence``: the keywords of the SDK's ``ScheduleRecurrence`` (``time_of_day`` is
    sent as ``hours`` and ``minutes``); ``time_zone`` is a Windows zone id."""

    frequency: str = Field(alias="Frequency")
    interval: int = Field(alias="Interval")
    start_time: str | None = Field(None, alias="StartTime")
    time_zone: str | None = Field(None, alias="TimeZone")
    hours: list[int] | None = Field(None, validation_alias=AliasPath("Schedule", "Hours"))
    minutes: list[int] | None = Field(None, validation_alias=AliasPath("Schedule", "Minutes"))
    week_days: list[str] | None = Field(None, validation_alias=AliasPath("Schedule", "WeekDays"))

    @field_validator("frequency", mode="before")
    @classmethod
    def _frequency_name(cls, value: Any) -> Any:
        """A legacy numeric frequency as its name."""
        return _FREQUENCY.get(str(value), value)


class DatastoreTrigger(_Wire):
    """A datastore schedule's ``DataStoreTriggerInfo``: the folder polled every ``polling_interval`` min."""

    datastore_name: str | None = Field(None, alias="DataStoreName")
    polling_interval: int | None = Field(None, alias="PollingInterval")
    data_path_parameter_name: str | None = Field(None, alias="DataPathParameterName")
    path_on_datastore: str | None = Field(None, alias="PathOnDataStore")


def _data_paths(value: Any) -> dict[str, dict[str, Any]]:
    """Only the two keys of a ``DataPath`` (the service may add others)."""
    keys = ("DataStoreName", "RelativePath")
    return {str(k): {key: v.get(key) or "" for key in keys} for k, v in (value or {}).items()}


class PipelineSchedule(_Wire):
    """``PipelineScheduleEntity`` (``GET Schedules/{id}``): what is run, with what, and when."""

    id: str = Field(alias="Id")
    name: str | None = Field(None, alias="Name")
    pipeline_id: str | None = Field(None, alias="PipelineId")
    pipeline_endpoint_id: str | None = Field(None, alias="PipelineEndpointId")
    status: str | None = Field(None, alias="EntityStatus")
    schedule_type: str | None = Field(None, alias="ScheduleType")
    recurrence: ScheduleRecurrence | None = Field(None, alias="Recurrence")
    datastore_trigger: DatastoreTrigger | None = Field(None, alias="DataStoreTriggerInfo")
    experiment_name: str | None = Field(
        None, validation_alias=AliasPath("PipelineSubmissionInfo", "ExperimentName")
    )
    description: str | None = Field(None, validation_alias=AliasPath("PipelineSubmissionInfo", "Description"))
    parameter_assignments: dict[str, str] = Field(
        default_factory=dict, validation_alias=AliasPath("PipelineSubmissionInfo", "ParameterAssignments")
    )
    data_path_assignments: dict[str, DataPath] = Field(
        default_factory=dict, validation_alias=AliasPath("PipelineSubmissionInfo", "DataPathAssignments")
    )
    continue_on_step_failure: bool | None = Field(
        None, validation_alias=AliasPath("PipelineSubmissionInfo", "ContinueRunOnStepFailure")
    )
    created_date: str | None = Field(None, alias="CreatedDate")  # typed str by the SDK: kept as text

    _status = field_validator("status", mode="before")(_entity_status)
    _map = field_validator("parameter_assignments", mode="before")(_str_map)
    _paths = field_validator("data_path_assignments", mode="before")(_data_paths)

    @property
    def is_recurrence(self) -> bool:
        """A time-based schedule; otherwise it fires on datastore changes (as the SDK reads the type)."""
        return self.schedule_type in RECURRENCE_SCHEDULE_TYPES


class SubmissionOptions(TypedDict, total=False):
    """The optional fields of a submission, as keyword arguments of the hook's submit methods."""

    parameter_assignments: dict[str, Any] | None
    data_path_assignments: dict[str, Any] | None
    description: str | None
    tags: dict[str, str] | None
    continue_on_step_failure: bool | None
    properties: dict[str, str] | None


class SubmissionRequest(BaseModel):
    """``PipelineSubmissionInfo``: the body of every submit route. Build it with :meth:`build`.

    Strict: what it is given goes into a request, so a wrong type is an error, never converted.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid", strict=True, loc_by_alias=False)

    experiment_name: ExperimentName = Field(alias="ExperimentName")
    description: StrictStr | None = Field(None, alias="Description")
    parameter_assignments: PipelineParameters = Field(default_factory=dict, alias="ParameterAssignments")
    data_path_assignments: dict[NonEmptyStr, DataPath] = Field(
        default_factory=dict, alias="DataPathAssignments"
    )
    continue_on_step_failure: StrictBool | None = Field(None, alias="ContinueRunOnStepFailure")
    tags: dict[StrictStr, StrictStr] = Field(default_factory=dict, alias="tags")
    properties: dict[StrictStr, StrictStr] = Field(default_factory=dict, alias="Properties")

    @classmethod
    def build(cls, experiment_name: str, **options: Unpack[SubmissionOptions]) -> SubmissionRequest:
        """Check every field, raising ``AzureMLConfigError`` that names the bad ones (not their values)."""
        given = {name: value for name, value in options.items() if value is not None}
        try:
            return cls.model_validate({"experiment_name": experiment_name, **given})
        except ValidationError as error:
            raise AzureMLConfigError(describe(error)) from None

    @model_validator(mode="after")
    def _describe_by_experiment(self) -> SubmissionRequest:
        """Like the SDK, a run given no description is described by its experiment name."""
        if not self.description:
            self.description = self.experiment_name
        return self

    @field_serializer("parameter_assignments")
    def _as_text(self, values: dict[str, str | int | float | bool]) -> dict[str, str]:
        return {name: parameter_text(value) for name, value in values.items()}

    def to_wire(self) -> dict[str, Any]:
        """The JSON body; ``ContinueRunOnStepFailure`` is left out when unset (the pipeline's default)."""
        return self.model_dump(by_alias=True, exclude_none=True)
