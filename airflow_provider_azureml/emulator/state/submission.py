"""What a submission becomes: its parameters resolved against the pipeline's, and its run planned.

Pure functions: the backend calls them under its lock and stores the result.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping

from airflow_provider_azureml.emulator.state.lifecycle import Durations, StepSpec, open_plan, plan_run
from airflow_provider_azureml.emulator.state.records import (
    Pipeline,
    PipelineRun,
    StepRun,
    Submission,
    SubmitRequest,
)
from airflow_provider_azureml.emulator.state.views import ROOT_RUN_TYPE
from airflow_provider_azureml.emulator.wire.errors import BadRequest
from airflow_provider_azureml.emulator.wire.statuses import RunStatus


def resolve_parameters(
    pipeline: Pipeline, received: Mapping[str, str], *, allow_unknown: bool
) -> dict[str, str]:
    """The pipeline's defaults overridden by what was sent; a name it does not declare is a 400."""
    defaults = {p.name: p.default for p in pipeline.parameters}
    unknown = sorted(set(received) - set(defaults))
    if unknown and not allow_unknown:
        raise BadRequest(
            f"Unknown pipeline parameter(s) {', '.join(unknown)} for pipeline '{pipeline.name}'; "
            f"valid parameters: {', '.join(sorted(defaults)) or '(none)'}.",
            target="ParameterAssignments",
        )
    return {**defaults, **received}


def continue_on_failure(pipeline: Pipeline, request: SubmitRequest) -> bool:
    """The submission's choice if it made one, else the published pipeline's."""
    if request.continue_on_step_failure is None:
        return pipeline.continue_on_step_failure
    return request.continue_on_step_failure


def new_run(
    pipeline: Pipeline,
    request: SubmitRequest,
    submission: Submission,
    *,
    durations: Durations,
    executed: bool,
    next_run_number: Callable[[], int],
    root_run_id: str,
) -> PipelineRun:
    """The run record: a planned timeline for a simulated run, an open one for an executed run."""
    keep_going = continue_on_failure(pipeline, request)
    failures = {
        rule.step: rule.message
        for rule in reversed(pipeline.behaviour.failures)
        if rule.applies(submission.parameters_resolved)
    }
    durations = durations.merged(pipeline.behaviour.durations)
    specs = [StepSpec(s.name, s.node_id, s.depends_on, s.duration) for s in pipeline.steps]
    plan = open_plan(specs) if executed else plan_run(specs, failures, durations, keep_going)
    run_number = next_run_number()
    steps = {
        step.node_id: StepRun(
            run_id=str(uuid.uuid4()),
            run_number=next_run_number(),
            node_id=step.node_id,
            name=step.name,
            script=step.script,
            timeline=plan.steps[step.name],
            error=failures.get(step.name) if plan.steps[step.name].final_status == RunStatus.FAILED else None,
        )
        for step in pipeline.steps
    }
    properties = {
        **request.properties,
        "azureml.runsource": ROOT_RUN_TYPE,
        "runSource": "SDK",
        "runType": "SDK",
        "azureml.parameters": json.dumps(submission.parameters_resolved),
        "azureml.continue_on_step_failure": str(keep_going),
        "azureml.pipelineComponent": "pipelinerun",
    }
    if submission.endpoint_id:
        properties["azureml.pipelineEndpointId"] = submission.endpoint_id
    return PipelineRun(
        run_id=submission.run_id,
        run_number=run_number,
        root_run_id=root_run_id,
        experiment_name=request.experiment_name,
        pipeline_id=pipeline.id,
        graph_id=pipeline.graph_id,
        description=request.description or request.experiment_name,
        parameters=submission.parameters_resolved,
        tags={**request.tags, "azureml.pipelineid": pipeline.id},
        properties=properties,
        submitted_at=submission.submitted_at,
        timeline=plan.root,
        steps=steps,
        failed_node_id=pipeline.step_by_name(plan.failed_step).node_id if plan.failed_step else None,
        cancel_duration=durations.cancel,
        submission=submission,
        executed=executed,
    )
