"""Run history's experiment routes that ``PipelineRun`` construction reads (``Schedule.get_pipeline_runs``
builds an ``Experiment``, then reads each run by experiment id)."""

from __future__ import annotations

from fastapi import APIRouter

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.routers.history import run_dto
from airflow_provider_azureml.emulator.state.records import experiment_id
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.models import ExperimentDto, RunDto

router = APIRouter()


@router.get(routes.GET_EXPERIMENT.template)
async def get_experiment(experiment_name: str) -> ExperimentDto:
    """Every experiment exists: a submission creates its experiment, so none is ever missing here."""
    return ExperimentDto(experiment_id=experiment_id(experiment_name), name=experiment_name)


@router.get(routes.GET_RUN_BY_EXPERIMENT_ID.template)
async def get_run_by_experiment_id(ctx: Context, experiment_id: str, run_id: str) -> RunDto:
    backend = ctx.backend
    return run_dto(backend.history_view(backend.experiment_named(experiment_id), run_id))
