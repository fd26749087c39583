"""Run status vocabularies, defined once for the client, the operators, the trigger and the emulator.

The pipelines (AEVA) service reports success as ``Finished``; run history reports it as ``Completed``
for the same run id. Both are terminal successes here; :meth:`RunStatus.from_history` is the one place a
run history status becomes the pipelines service's, so a status read either way reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass


class RunStatus:
    """Status strings of pipeline runs and step runs, with the groups every caller decides on."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    PROVISIONING = "Provisioning"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    FINISHED = "Finished"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    NOT_RESPONDING = "NotResponding"
    UNKNOWN = "Unknown"

    SUCCESS = frozenset({FINISHED, COMPLETED})
    FAILURE = frozenset({FAILED, CANCELED})
    TERMINAL = SUCCESS | FAILURE
    #: Legacy integer codes of ``PipelineRunEntity.Status.StatusCode``.
    PIPELINE_CODES = {"0": NOT_STARTED, "1": RUNNING, "2": FAILED, "3": FINISHED, "4": CANCELED}
    #: Run history's names that the pipelines service spells otherwise; every other name is shared.
    HISTORY_NAMES = {COMPLETED: FINISHED}

    @classmethod
    def normalize(cls, value: object) -> str:
        """Map legacy integer codes to names; any other value is returned as a string."""
        text = str(value) if value is not None else cls.UNKNOWN
        return cls.PIPELINE_CODES.get(text, text)

    @classmethod
    def from_history(cls, value: object) -> str:
        """A pipeline run's status as run history reports it, in the pipelines service's words: a
        batched read of run history then gives the trigger the events and logs a read of the run gives."""
        text = cls.normalize(value)
        return cls.HISTORY_NAMES.get(text, text)


@dataclass(frozen=True)
class RunState:
    """A run's status with the decisions derived from it; JSON-able for trigger events and XCom."""

    status: str

    @property
    def is_terminal(self) -> bool:
        return self.status in RunStatus.TERMINAL

    @property
    def is_successful(self) -> bool:
        return self.status in RunStatus.SUCCESS

    def to_json(self) -> dict[str, str]:
        return {"status": self.status}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> RunState:
        return cls(RunStatus.normalize(data["status"]))
