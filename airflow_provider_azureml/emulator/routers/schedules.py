"""Schedule routes (AEVA): create, read, update (enable and disable are updates), list, and the runs a
schedule submitted. Parse and serialize only: the checks and the firing are :mod:`..state.schedules`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import TypeAdapter

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.routers.pipelines import ActiveOnly, run_entity, submit_request
from airflow_provider_azureml.emulator.state.records import (
    EntityStatus,
    Recurrence,
    Schedule,
    ScheduleRequest,
    SubmitRequest,
)
from airflow_provider_azureml.emulator.state.schedules import datastore_trigger, recurrence
from airflow_provider_azureml.emulator.state.views import utc
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.errors import BadRequest
from airflow_provider_azureml.emulator.wire.models import (
    DataStoreTriggerInfo,
    PipelineRunEntity,
    PipelineScheduleEntity,
    RecurrenceInfo,
    RecurrencePattern,
    ScheduleCreationInfo,
    ScheduleUpdateBody,
)

router = APIRouter()
CREATION = TypeAdapter(ScheduleCreationInfo)
UPDATE = TypeAdapter(ScheduleUpdateBody)
RECURRENCE_TYPES = ("0", "Recurrence")
DATASTORE_TYPES = ("1", "DataStore")


def schedule_request(body: ScheduleCreationInfo, status: EntityStatus = "Active") -> ScheduleRequest:
    """A creation or update body as the state takes it: a recurrence, or else a datastore trigger."""
    kind = body.schedule_type or (RECURRENCE_TYPES[0] if body.recurrence else DATASTORE_TYPES[0])
    if kind not in RECURRENCE_TYPES + DATASTORE_TYPES:
        raise BadRequest(f"Unknown ScheduleType '{kind}': expected 0 (Recurrence) or 1 (DataStore).")
    request = ScheduleRequest(
        name=body.name,
        pipeline_id=body.pipeline_id,
        endpoint_id=body.pipeline_endpoint_id,
        schedule_type=kind,
        submission=submit_request(body.pipeline_submission_info),
        status=status,
    )
    if request.is_recurrence:
        if body.recurrence is None:
            raise BadRequest("A recurrence schedule (ScheduleType 0) needs Recurrence.", target="Recurrence")
        request.recurrence = _recurrence(body.recurrence)
    else:
        trigger = body.data_store_trigger_info or DataStoreTriggerInfo()
        request.trigger = datastore_trigger(
            trigger.data_store_name,
            trigger.polling_interval,
            trigger.data_path_parameter_name,
            trigger.path_on_data_store,
        )
    return request


def _recurrence(info: RecurrenceInfo) -> Recurrence:
    pattern = info.schedule or RecurrencePattern()
    return recurrence(
        info.frequency,
        info.interval,
        start_time=info.start_time,
        time_zone=info.time_zone,
        hours=pattern.hours,
        minutes=pattern.minutes,
        week_days=pattern.week_days,
    )


def submission_info(request: SubmitRequest) -> dict[str, Any]:
    """``PipelineSubmissionInfo`` as the SDK reads it back (``Description``, ``ContinueRunOnStepFailure``)
    and re-sends it on update (the assignment maps, ``ExperimentName``)."""
    return {
        "ExperimentName": request.experiment_name,
        "Description": request.description,
        "ParameterAssignments": request.parameters,
        "DataPathAssignments": {
            name: {"DataStoreName": path.datastore_name, "RelativePath": path.relative_path}
            for name, path in request.data_paths.items()
        },
        "DataSetDefinitionValueAssignments": {},
        "ContinueRunOnStepFailure": request.continue_on_step_failure,
        "Properties": request.properties,
        "tags": request.tags,
    }


def schedule_entity(schedule: Schedule) -> PipelineScheduleEntity:
    rule, trigger = schedule.recurrence, schedule.trigger
    return PipelineScheduleEntity(
        id=schedule.id,
        name=schedule.name,
        pipeline_id=schedule.pipeline_id,
        pipeline_endpoint_id=schedule.endpoint_id,
        pipeline_submission_info=submission_info(schedule.submission),
        recurrence=None
        if rule is None
        else RecurrenceInfo(
            frequency=rule.frequency,
            interval=rule.interval,
            start_time=rule.start_time,
            time_zone=rule.time_zone,
            schedule=RecurrencePattern(
                hours=_listed(rule.hours), minutes=_listed(rule.minutes), week_days=_listed(rule.week_days)
            )
            if rule.hours or rule.minutes or rule.week_days
            else None,
        ),
        data_store_trigger_info=None
        if trigger is None
        else DataStoreTriggerInfo(
            data_store_name=trigger.datastore_name,
            polling_interval=trigger.polling_interval,
            data_path_parameter_name=trigger.data_path_parameter_name,
            path_on_data_store=trigger.path_on_datastore,
        ),
        schedule_type=schedule.schedule_type,
        entity_status=schedule.status,
        etag=str(schedule.etag),
        created_date=utc(schedule.created_at),
        last_modified_date=utc(schedule.modified_at),
    )


def _listed(values: tuple[Any, ...] | None) -> list[Any] | None:
    return None if values is None else list(values)


@router.post(routes.CREATE_SCHEDULE.template)
async def create_schedule(ctx: Context) -> PipelineScheduleEntity:
    request = schedule_request(await ctx.body(CREATION))
    return schedule_entity(ctx.backend.schedules.create(request))


@router.get(routes.GET_SCHEDULE.template)
async def get_schedule(ctx: Context, schedule_id: str) -> PipelineScheduleEntity:
    return schedule_entity(ctx.backend.schedules.get(schedule_id))


@router.put(routes.UPDATE_SCHEDULE.template)
async def update_schedule(ctx: Context, schedule_id: str) -> PipelineScheduleEntity:
    ctx.backend.schedules.get(schedule_id)  # an unknown id is a 404 whatever the body
    body = await ctx.body(UPDATE)
    request = schedule_request(body, body.entity_status)
    return schedule_entity(ctx.backend.schedules.update(schedule_id, request))


@router.get(routes.LIST_SCHEDULES.template)
async def list_schedules(ctx: Context, active_only: ActiveOnly = True) -> list[PipelineScheduleEntity]:
    return [schedule_entity(s) for s in ctx.backend.schedules.list(active_only=active_only)]


@router.get(routes.SCHEDULES_OF_PIPELINE.template)
async def schedules_of_pipeline(ctx: Context, pipeline_id: str) -> list[PipelineScheduleEntity]:
    """Every schedule of the pipeline, active or not (the SDK sends no ``activeOnly`` here)."""
    ctx.backend.registry.get_pipeline(pipeline_id)
    return [schedule_entity(s) for s in ctx.backend.schedules.list(pipeline_id=pipeline_id)]


@router.get(routes.SCHEDULES_OF_ENDPOINT.template)
async def schedules_of_endpoint(ctx: Context, endpoint_id: str) -> list[PipelineScheduleEntity]:
    ctx.backend.registry.get_endpoint(endpoint_id)
    return [schedule_entity(s) for s in ctx.backend.schedules.list(endpoint_id=endpoint_id)]


@router.get(routes.RUNS_OF_SCHEDULE.template)
async def runs_of_schedule(ctx: Context, schedule_id: str) -> list[PipelineRunEntity]:
    return [run_entity(view) for view in ctx.backend.schedule_runs(schedule_id)]


@router.get(routes.LAST_RUN_OF_SCHEDULE.template, response_model=None)
async def last_run_of_schedule(ctx: Context, schedule_id: str) -> PipelineRunEntity | Response:
    """The newest run, or 204 with no body when the schedule has submitted none (the SDK's ``None``)."""
    views = ctx.backend.schedule_runs(schedule_id)
    return run_entity(views[-1]) if views else Response(status_code=204)
