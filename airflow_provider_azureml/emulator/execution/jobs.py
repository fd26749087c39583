"""What the executor runs for a run of a published pipeline: per step, its folders and its command.

Ports are mapped here from the published graph, so a downstream input is its producer's output folder.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

from airflow_provider_azureml.emulator.execution.commands import (
    DataLayout,
    StepCommand,
    StepContext,
    input_folders,
    output_folders,
    resolve,
)
from airflow_provider_azureml.emulator.execution.executor import RunJob, StepJob
from airflow_provider_azureml.emulator.state.catalog import Catalog
from airflow_provider_azureml.emulator.state.lifecycle import StepSpec
from airflow_provider_azureml.emulator.state.records import Pipeline, PipelineRun


def _nodes(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    return {str(node["Id"]): node for node in pipeline.graph.get("ModuleNodes") or []}


def run_job(
    pipeline: Pipeline,
    run: PipelineRun,
    *,
    catalog: Catalog,
    layout: DataLayout,
    step_timeout: float | None,
    continue_on_failure: bool,
) -> RunJob:
    """The executor's job for ``run``; each step's command is resolved once its snapshot is in place."""
    nodes = _nodes(pipeline)
    produced: dict[tuple[str, str], Path] = {}
    steps = []
    for step in pipeline.steps:
        step_run = run.steps[step.node_id]
        node, module = nodes[step.node_id], catalog.get_module(step.module_id or "").info
        outputs = output_folders(node, module, layout, step_run.run_id)
        produced.update({(step.node_id, port): folder for port, folder in outputs.items()})
        context = StepContext(
            node=node,
            module=module,
            parameters=run.parameters,
            inputs={},
            outputs=outputs,
            default_timeout=step_timeout,
        )
        steps.append(
            StepJob(
                spec=StepSpec(step.name, step.node_id, step.depends_on),
                step_run_id=step_run.run_id,
                snapshot_id=step.snapshot_id or "",
                step_dir=layout.step_dir(run.run_id, step_run.run_id),
                log_path=layout.step_log(run.run_id, step_run.run_id),
                resolve=functools.partial(
                    _resolve_step, pipeline.graph, context, dict(produced), catalog, layout
                ),
            )
        )
    return RunJob(run.run_id, tuple(steps), continue_on_failure)


def _resolve_step(
    graph: dict[str, Any],
    context: StepContext,
    produced: dict[tuple[str, str], Path],
    catalog: Catalog,
    layout: DataLayout,
    snapshot: Path,
) -> StepCommand:
    node_id = str(context.node["Id"])
    inputs = input_folders(
        graph, node_id, produced, lambda source_id: catalog.get_data_source(source_id).info, layout
    )
    return resolve(dataclasses.replace(context, inputs=inputs), snapshot)


def step_outputs(
    pipeline: Pipeline, run: PipelineRun, *, catalog: Catalog, layout: DataLayout
) -> dict[str, dict[str, Path]]:
    """Where an executed run's steps write: output folders by step name and output name."""
    if not run.executed:
        return {}
    nodes = _nodes(pipeline)
    return {
        step.name: output_folders(
            nodes[step.node_id],
            catalog.get_module(step.module_id).info,
            layout,
            run.steps[step.node_id].run_id,
        )
        for step in pipeline.steps
        if step.module_id
    }
