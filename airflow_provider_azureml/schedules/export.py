"""Export every active schedule of a workspace as a DAG file, and optionally disable it in Azure ML.

A schedule is disabled only after its file is written and parses (Airflow's ``DagBag`` imports it with
no error and finds its DAG), so at every moment either Azure ML or a valid DAG file has it. A schedule
whose pipeline or endpoint no longer exists is reported and skipped; the others are still exported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_azureml.client.errors import AzureMLNotFoundError
from airflow_provider_azureml.schedules.render import dag_id_for, render_dag

if TYPE_CHECKING:
    from airflow_provider_azureml.client.models import PipelineSchedule
    from airflow_provider_azureml.hooks.azureml import AzureMLHook


@dataclass(frozen=True)
class Exported:
    """What became of one schedule: ``path`` is None when it was skipped, ``problem`` says why."""

    schedule: PipelineSchedule
    path: Path | None
    disabled: bool = False
    problem: str | None = None

    def line(self) -> str:
        who = f"{self.schedule.name!r} ({self.schedule.id})"
        if self.path is None:
            return f"SKIPPED  {who}: {self.problem}"
        if self.problem:
            return f"FAILED   {who}: {self.path} {self.problem}; the Azure ML schedule stays active"
        state = "disabled in Azure ML" if self.disabled else "still active in Azure ML"
        return f"exported {who} -> {self.path} ({state})"


def export_schedules(
    hook: AzureMLHook,
    out: Path,
    *,
    conn_id: str,
    disable_after: bool = False,
    report: Callable[[Exported], None] = lambda exported: None,
) -> list[Exported]:
    """Write ``out/<dag id>.py`` for each active schedule; ``report`` hears of each as it is done."""
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for schedule in hook.list_schedules(active_only=True):
        result = _export(hook, schedule, out, conn_id=conn_id, disable_after=disable_after)
        report(result)
        results.append(result)
    return results


def _export(
    hook: AzureMLHook, schedule: PipelineSchedule, out: Path, *, conn_id: str, disable_after: bool
) -> Exported:
    missing = _missing_target(hook, schedule)
    if missing:
        return Exported(schedule, None, problem=missing)
    path = out / f"{dag_id_for(schedule)}.py"
    path.write_text(render_dag(schedule, conn_id))
    problem = parse_problem(path, dag_id_for(schedule))
    if problem:
        return Exported(schedule, path, problem=problem)
    if disable_after:
        hook.disable_schedule(schedule.id)
    return Exported(schedule, path, disabled=disable_after)


def _missing_target(hook: AzureMLHook, schedule: PipelineSchedule) -> str | None:
    """Why the schedule's pipeline or endpoint cannot be run any more, or None."""
    try:
        if schedule.pipeline_id:
            hook.get_published_pipeline(schedule.pipeline_id)
        else:
            hook.get_pipeline_endpoint(endpoint_id=schedule.pipeline_endpoint_id)
    except AzureMLNotFoundError:
        if schedule.pipeline_id:
            return f"its published pipeline {schedule.pipeline_id} no longer exists"
        return f"its pipeline endpoint {schedule.pipeline_endpoint_id} no longer exists"
    return None


def parse_problem(path: Path, dag_id: str) -> str | None:
    """None when Airflow's ``DagBag`` imports ``path`` without errors and finds ``dag_id`` in it."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=path)
    if bag.import_errors:
        return "does not parse: " + "; ".join(str(error) for error in bag.import_errors.values())
    if dag_id not in bag.dags:
        return f"parses but defines no DAG {dag_id!r}"
    return None
