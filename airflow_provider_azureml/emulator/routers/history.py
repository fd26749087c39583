"""Run history routes: camelCase ``RunDto``s for pipeline runs and their step runs, and ``runs:query``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query
from pydantic import TypeAdapter

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.state.records import experiment_id
from airflow_provider_azureml.emulator.state.views import ROOT_RUN_TYPE, STEP_RUN_TYPE, RunView
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

router = APIRouter()
QUERY = TypeAdapter(QueryParams)
DEFAULT_PAGE_SIZE = 100
SORT_FIELDS = {
    "createdutc": "created_utc",
    "starttimeutc": "start_time_utc",
    "endtimeutc": "end_time_utc",
    "runnumber": "run_number",
    "runid": "run_id",  # ``get_runs_by_run_ids`` orders by ``RunId desc``
}
T = TypeVar("T")


def run_dto(view: RunView) -> RunDto:
    """The ``RunDto`` of a pipeline run or of one of its step runs."""
    run, step = view.run, view.step
    return RunDto(
        run_id=view.run_id,
        root_run_id=run.root_run_id,
        parent_run_id=run.run_id if step else run.parent_run_id,
        experiment_id=experiment_id(run.experiment_name),
        run_number=step.run_number if step else run.run_number,
        run_type=STEP_RUN_TYPE if step else ROOT_RUN_TYPE,
        name=step.name if step else None,
        display_name=step.name if step else None,
        description=None if step else run.description,
        status=view.history_status,
        start_time_utc=view.started_at,
        end_time_utc=view.ended_at,
        created_utc=view.created_at,
        target="emulator",
        tags=view.tags,
        properties=view.properties,
        data_container_id=f"dcid.{view.run_id}",
        error=run_error(view),
    )


def run_error(view: RunView) -> ErrorResponse | None:
    """A failed run's error; the root run's lists its failing step's error as a detail."""
    if view.error is None:
        return None
    failed = view.failed_step
    details = (
        [RootError(code="UserError", message=failed.error or "The step failed.", target=failed.name)]
        if failed
        else []
    )
    return ErrorResponse(error=RootError(code="UserError", message=view.error, details=details))


def _sorted(dtos: list[RunDto], orderby: str | None) -> list[RunDto]:
    """Order by ``"<Field> [asc|desc]"`` (CreatedUtc, StartTimeUtc, EndTimeUtc, RunNumber or RunId).

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
    return run_dto(ctx.backend.history_view(experiment_name, run_id))


@router.get(routes.GET_RUN_DETAILS.template)
async def get_run_details(ctx: Context, experiment_name: str, run_id: str) -> RunDetailsDto:
    dto = run_dto(ctx.backend.history_view(experiment_name, run_id))
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
    dtos = [run_dto(view) for view in ctx.backend.children(experiment_name, run_id)]
    value, token = _page(_sorted(dtos, orderby), top, continuation_token)
    return RunPage(value=value, continuation_token=token)


@router.post(routes.QUERY_RUNS.template)
async def query_runs(ctx: Context, experiment_name: str) -> RunPage:
    params = await ctx.body(QUERY)
    views = ctx.backend.query_runs(experiment_name, parse_filter(params.filter))
    dtos = [run_dto(view) for view in views]
    value, token = _page(_sorted(dtos, params.orderby), params.top, params.continuation_token)
    return RunPage(value=value, continuation_token=token)
