"""A run or step run as it stands at one instant: the one place its status, times and error are derived.

Records keep timelines (offsets from submission); every route reports what a :class:`RunView` says, so
the pipelines service, run history, artifacts and the Studio page cannot disagree about a run. The
backend makes views at its clock, under its lock; routers only serialize them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from airflow_provider_azureml.emulator.state.lifecycle import Timeline
from airflow_provider_azureml.emulator.state.records import PipelineRun, StepRun
from airflow_provider_azureml.emulator.wire.statuses import RunStatus, history_status

ROOT_RUN_TYPE = "azureml.PipelineRun"
STEP_RUN_TYPE = "azureml.StepRun"


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


@dataclass(frozen=True)
class RunView:
    """``run`` itself (``step`` None) or one of its step runs, at ``offset`` seconds after submission."""

    run: PipelineRun
    step: StepRun | None
    offset: float

    @property
    def run_id(self) -> str:
        return self.step.run_id if self.step else self.run.run_id

    @property
    def status(self) -> str:
        """AEVA's spelling (``Finished``); :attr:`history_status` is run history's."""
        return self._timeline.status_at(self.offset)

    @property
    def history_status(self) -> str:
        return history_status(self.status)

    @property
    def failed(self) -> bool:
        return self.status == RunStatus.FAILED

    @property
    def exists_in_history(self) -> bool:
        """A step run is created in run history when it starts; the root run on submission."""
        return self.step is None or self._timeline.started_before(self.offset)

    @property
    def created_at(self) -> datetime:
        started = self._timeline.entered(RunStatus.RUNNING) if self.step else None
        return utc(self.run.submitted_at + (started or 0.0))

    @property
    def submitted_at(self) -> datetime:
        return utc(self.run.submitted_at)

    @property
    def started_at(self) -> datetime | None:
        return self._reached(self._timeline.entered(RunStatus.RUNNING))

    @property
    def ended_at(self) -> datetime | None:
        return self._reached(self._timeline.ends_at)

    @property
    def error(self) -> str | None:
        """Why it failed, once it has: a step's own message; the root run's names the failing step."""
        if not self.failed:
            return None
        if self.step is not None:
            return self.step.error or "The step failed."
        return self.run.error_message() or "The pipeline run failed."

    @property
    def failed_step(self) -> StepRun | None:
        """The root run's failing step, once the run has failed."""
        if self.step is not None or not self.failed or self.run.failed_node_id is None:
            return None
        return self.run.steps[self.run.failed_node_id]

    @property
    def tags(self) -> dict[str, str]:
        if self.step is None:
            return self.run.tags
        return {"azureml.nodeid": self.step.node_id, "azureml.pipeline": self.run.run_id}

    @property
    def properties(self) -> dict[str, str]:
        if self.step is None:
            return self.run.properties
        return {
            "azureml.runsource": STEP_RUN_TYPE,
            "azureml.nodeid": self.step.node_id,
            "StepType": "emulated",
        }

    def filter_fields(self) -> dict[str, Any]:
        """The fields a ``runs:query`` filter can name."""
        return {
            "Tags": self.tags,
            "Properties": {} if self.step else self.run.properties,
            "Status": self.history_status,
            "CreatedUtc": self.created_at.timestamp(),
            "RunId": self.run_id,
        }

    def simulated_log(self) -> str:
        """A simulated step's driver log as far as it has got; a failed step's ends with its traceback."""
        assert self.step is not None
        step, run = self.step, self.run
        arguments = " ".join(f"--{name} {value}" for name, value in sorted(run.parameters.items()))
        lines = [
            f"[emulator] step '{step.name}' (node {step.node_id}) of pipeline run {run.run_id}",
            f"[emulator] running: python {step.script} {arguments}".rstrip(),
        ]
        status = self.status
        if status == RunStatus.FAILED:
            lines += [
                "Traceback (most recent call last):",
                f'  File "{step.script}", line 1, in <module>',
                f"UserError: {step.error}",
            ]
        elif status == RunStatus.FINISHED:
            lines.append("[emulator] step completed successfully")
        elif status == RunStatus.CANCELED:
            lines.append("[emulator] step canceled")
        return "\n".join(lines) + "\n"

    @property
    def _timeline(self) -> Timeline:
        return self.step.timeline if self.step else self.run.timeline

    def _reached(self, at: float | None) -> datetime | None:
        """Wall time of timeline offset ``at`` once the view's instant has passed it, else None."""
        return utc(self.run.submitted_at + at) if at is not None and at <= self.offset else None
