"""The run status vocabulary the emulator speaks, as the service does.

The pipelines (AEVA) service reports a pipeline run's or a step's success as ``Finished``; run history
reports the same run as ``Completed`` (:func:`history_status`). AEVA also still sends legacy integer
``StatusCode`` values, which the emulator writes beside the names (:data:`PIPELINE_STATUS_CODES`).
"""

from __future__ import annotations


class RunStatus:
    """Status names of pipeline runs and step runs, and the groups the emulator decides on."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    RUNNING = "Running"
    CANCEL_REQUESTED = "CancelRequested"
    FINISHED = "Finished"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    TERMINAL = frozenset({FINISHED, FAILED, CANCELED})


_HISTORY_NAMES = {RunStatus.FINISHED: RunStatus.COMPLETED}


def history_status(status: str) -> str:
    """Run history spells AEVA's ``Finished`` as ``Completed``; every other status is spelled alike."""
    return _HISTORY_NAMES.get(status, status)
