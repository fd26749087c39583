"""Run history routes: camelCase ``RunDto``s for pipeline runs and their step runs, and ``runs:query``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from pydantic import TypeAdapter

from airflow_provider_azureml.emulator.infrastructure.context import Context, reached, utc
from airflow_provider_azureml.emulator.state.records import PipelineRun, StepRun, experiment_id
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.errors import BadRequest
from airflow_provider_azureml.emulator.wire.models import (
    ErrorResponse,
    QueryParams,
    RootError,
    RunDetailsDto,
    RunDto,
    RunPage,
)
from airflow_provider_azureml.emulator.wire.odata import parse_filter
from airflow_provider_azureml.emulator.wire.statuses import RunStatus, history_status

router = APIRouter()
QUERY = TypeAdapter(QueryParams)
DEFAULT_PAGE_SIZE = 100
SORT_FIELDS = {
    "createdutc": "created_utc",
    "starttimeutc": "start_time_utc",
    "endtimeutc": "end_time_utc",
    "runnumber": "run_number",
}
T = TypeVar("T")


def run_dto(ctx: Context, run: PipelineRun, step: StepRun | None) -> RunDto:
    """The ``RunDto`` of a pipeline run (``step`` None) or of one of its step runs, as of now."""
    offset = ctx.backend.offset(run)
    timeline = step.timeline if step else run.timeline
    status = timeline.status_at(offset)
    started = reached(run.submitted_at, timeline.entered(RunStatus.RUNNING), offset)
    ended = reached(run.submitted_at, timeline.ends_at, offset)
    common: dict[str, Any] = {
        "root_run_id": run.root_run_id,
        "experiment_id": experiment_id(run.experiment_name),
        "status": history_status(status),
        "start_time_utc": started,
        "end_time_utc": ended,
        "target": "emulator",
        "created_utc": utc(run.submitted_at + ctx.backend.created_offset(step)),
    }
    if step is None:
        return RunDto(
            run_id=run.run_id,
            parent_run_id=run.parent_run_id,
            run_number=run.run_number,
            run_type="azureml.PipelineRun",
            description=run.description,
            tags=run.tags,
            properties=run.properties,
            data_container_id=f"dcid.{run.run_id}",
            error=_root_error(run) if status == RunStatus.FAILED else None,
            **common,
        )
    return RunDto(
        run_id=step.run_id,
        parent_run_id=run.run_id,
        run_number=step.run_number,
        run_type="azureml.StepRun",
        name=step.name,
        display_name=step.name,
        tags=ctx.backend.step_tags(run, step),
        properties={
            "azureml.runsource": "azureml.StepRun",
            "azureml.nodeid": step.node_id,
            "StepType": "emulated",
        },
        data_container_id=f"dcid.{step.run_id}",
        error=_step_error(step) if status == RunStatus.FAILED else None,
        **common,
    )


def _step_error(step: StepRun) -> ErrorResponse:
    return ErrorResponse(error=RootError(code="UserError", message=step.error or "The step failed."))


def _root_error(run: PipelineRun) -> ErrorResponse:
    failed = run.steps[run.failed_node_id] if run.failed_node_id else None
    details = [_step_error(failed).error.model_copy(update={"target": failed.name})] if failed else []
    message = run.error_message() or "The pipeline run failed."
    return ErrorResponse(error=RootError(code="UserError", message=message, details=details))


def _sorted(dtos: list[RunDto], orderby: str | None) -> list[RunDto]:
    """Order by ``"<Field> [asc|desc]"`` (CreatedUtc, StartTimeUtc, EndTimeUtc or RunNumber).

    Newest first by default; runs without a value for the field (not started yet) come last.
    """
    words = (orderby or "CreatedUtc desc").split()
    field = SORT_FIELDS.get(words[0].lower()) if words else None
    if field is None or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
        raise BadRequest(f"Unsupported orderby '{orderby}'.", target="orderby")
    descending = len(words) == 2 and words[1].lower() == "desc"
    present = [dto for dto in dtos if getattr(dto, field) is not None]
    missing = [dto for dto in dtos if getattr(dto, field) is None]
    return sorted(present, key=lambda dto: getattr(dto, field), reverse=descending) + missing


def _page(items: Sequence[T], top: int | None, token: str | None) -> tuple[list[T], str | None]:
    """A page of ``top`` items after the position encoded in ``token``, and the next token."""
    if token is not None and not token.isdigit():
        raise BadRequest(f"Invalid continuation token '{token}'.", target="continuationToken")
    start, size = int(token or 0), top or DEFAULT_PAGE_SIZE
    end = start + size
    return list(items[start:end]), (str(end) if end < len(items) else None)


@router.get(routes.GET_RUN.template)
async def get_run(ctx: Context, experiment_name: str, run_id: str) -> RunDto:
    return run_dto(ctx, *ctx.backend.get_history_run(experiment_name, run_id))


@router.get(routes.GET_RUN_DETAILS.template)
async def get_run_details(ctx: Context, experiment_name: str, run_id: str) -> RunDetailsDto:
    dto = run_dto(ctx, *ctx.backend.get_history_run(experiment_name, run_id))
    return RunDetailsDto(
        run_id=dto.run_id,
        target=dto.target,
        status=dto.status,
        start_time_utc=dto.start_time_utc,
        end_time_utc=dto.end_time_utc,
        error=dto.error,
        properties=dto.properties,
    )


@router.get(routes.GET_RUN_CHILDREN.template)
async def get_run_children(
    ctx: Context,
    experiment_name: str,
    run_id: str,
    top: Annotated[int | None, Query(alias="$top", ge=1)] = None,
    orderby: Annotated[str | None, Query(alias="$orderby")] = None,
    continuation_token: Annotated[str | None, Query(alias="continuationToken")] = None,
) -> RunPage:
    run, _ = ctx.backend.get_history_run(experiment_name, run_id)
    dtos = [run_dto(ctx, run, step) for step in ctx.backend.children(experiment_name, run_id)]
    value, token = _page(_sorted(dtos, orderby), top, continuation_token)
    return RunPage(value=value, continuation_token=token)


@router.post(routes.QUERY_RUNS.template)
async def query_runs(ctx: Context, experiment_name: str) -> RunPage:
    params = await ctx.body(QUERY)
    records = ctx.backend.query_runs(experiment_name, parse_filter(params.filter))
    dtos = [run_dto(ctx, run, step) for run, step in records]
    value, token = _page(_sorted(dtos, params.orderby), params.top, params.continuation_token)
    return RunPage(value=value, continuation_token=token)
