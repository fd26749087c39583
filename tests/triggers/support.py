"""Helpers shared by the trigger, sensor and operator tests: start a run, drive a trigger to its event."""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_provider_azureml.hooks.azureml import AzureMLHook
from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger

TRAINING_V1 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e01"
FAILING_RATE = 0.99  # the seeded training pipeline fails its `train` step for this value
EXPERIMENT = "wait-tests"


def submit_run(avg_rate: float = 0.5) -> str:
    """Start a run of the seeded training pipeline straight through the hook (no operator involved)."""
    run = AzureMLHook().submit_pipeline_run(
        TRAINING_V1, experiment_name=EXPERIMENT, parameter_assignments={"avg_rate": avg_rate}
    )
    return run.id


def remote_status(run_id: str) -> str:
    return AzureMLHook().get_pipeline_run(run_id).status


async def first_event(trigger: AzureMLPipelineRunTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def run_trigger(trigger: AzureMLPipelineRunTrigger) -> dict[str, Any]:
    """The event, from synchronous code (a task resumed after deferral)."""
    return asyncio.run(first_event(trigger))
