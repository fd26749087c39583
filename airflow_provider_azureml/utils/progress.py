"""What a waiting task tells its user: progress lines while a run is active, and why it failed.

Shared by the synchronous wait, the sensor and the deferrable trigger, so every mode logs and fails
with the same words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_azureml.client.errors import AzureMLError
from airflow_provider_azureml.client.redaction import scrub
from airflow_provider_azureml.client.statuses import RunStatus

if TYPE_CHECKING:
    from airflow_provider_azureml.client.models import Run
    from airflow_provider_azureml.hooks.azureml import AzureMLHook

LOG_TAIL_LINES = 40


def step_name(step: Run) -> str:
    return step.display_name or step.name or step.node_id or step.run_id


def describe_progress(status: str, steps: Sequence[Run]) -> str:
    """One line: overall status, steps per status, and which steps are running."""
    counts = Counter(RunStatus.normalize(step.status) for step in steps)
    parts = [f"status {status}"]
    if counts:
        parts.append("steps: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    running = sorted(step_name(s) for s in steps if RunStatus.normalize(s.status) == RunStatus.RUNNING)
    if running:
        parts.append("running: " + ", ".join(running))
    return "; ".join(parts)


@dataclass
class ProgressLog:
    """Remembers the last progress line so that only changes are logged."""

    last: str | None = field(default=None)

    def update(self, line: str) -> str | None:
        if line == self.last:
            return None
        self.last = line
        return line

    def report(self, log: Any, run_id: str, status: str, steps: Sequence[Run]) -> None:
        """Log the progress line of one poll if it differs from the previous one (every waiting mode)."""
        if line := self.update(describe_progress(status, steps)):
            log.info("Azure ML pipeline run %s: %s", run_id, line)


def failed_steps(steps: Sequence[Run]) -> list[Run]:
    return [s for s in steps if RunStatus.normalize(s.status) == RunStatus.FAILED]


def failure_message(run_id: str, status: str, steps: Sequence[Run], root_error: str | None = None) -> str:
    """Name the run, its failing steps and their own error messages, never only 'failed'."""
    message = f"Azure ML pipeline run {run_id} ended {status}"
    failing = failed_steps(steps)
    if failing:
        details = "; ".join(
            f"step '{step_name(s)}' ({s.run_id}): {s.error.message if s.error else 'no error message'}"
            for s in failing
        )
        return scrub(f"{message}. Failed step(s): {details}")
    if root_error:
        return scrub(f"{message}: {root_error}")
    return message + "."


def explain_failure(hook: AzureMLHook, run_id: str, experiment_name: str, status: str) -> tuple[str, str]:
    """Return (message, log tail of the first failing step) read from run history."""
    steps = hook.list_step_runs(experiment_name, run_id)
    # Children listings may omit errors; the details route always carries them.
    steps = [
        hook.get_run_details(experiment_name, s.run_id) if s in failed_steps(steps) and not s.error else s
        for s in steps
    ]
    root_error = None
    if not failed_steps(steps):
        details = hook.get_run_details(experiment_name, run_id)
        root_error = details.error.message if details.error else None
    tail = ""
    failing = failed_steps(steps)
    if failing:
        tail = hook.get_step_log_tail(failing[0], lines=LOG_TAIL_LINES)
    return failure_message(run_id, status, steps, root_error), tail


def report_failure(hook: AzureMLHook, log: Any, run_id: str, experiment_name: str, status: str) -> str:
    """The failure message for the task, with the failing step's log tail logged first.

    A read error while gathering details must not hide the failure itself, so it degrades the message
    instead of replacing it (a sensor would otherwise fail with an HTTP error instead of the run's).
    """
    try:
        message, tail = explain_failure(hook, run_id, experiment_name, status)
    except AzureMLError as error:
        return f"Azure ML pipeline run {run_id} ended {status} (failure details unavailable: {error})"
    if tail:
        log.error("Last lines of the failing step's log:\n%s", scrub(tail))
    return message
