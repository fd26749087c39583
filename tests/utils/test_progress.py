"""Progress lines while waiting and failure messages: the words every waiting mode uses."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_azureml.client.models import Run
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from airflow_provider_azureml.utils.progress import (
    ProgressLog,
    describe_progress,
    failure_message,
    report_failure,
)

log = logging.getLogger(__name__)


def step(run_id: str, status: str, name: str | None = None, error: str | None = None) -> Run:
    body: dict = {"runId": run_id, "status": status, "displayName": name}
    if error:
        body["error"] = {"error": {"code": "UserError", "message": error}}
    return Run.model_validate(body)


def test_progress_counts_steps_per_status_and_names_the_running_ones():
    steps = [
        step("s1", "Completed", "prep"),
        step("s2", "Running", "train"),
        step("s3", "Running", "eval"),
        step("s4", "NotStarted", "score"),
    ]
    line = describe_progress("Running", steps)
    assert line == "status Running; steps: 1 Completed, 1 NotStarted, 2 Running; running: eval, train"


def test_progress_without_steps_shows_the_status_only():
    assert describe_progress("NotStarted", []) == "status NotStarted"


def test_progress_log_only_reports_changes(caplog: pytest.LogCaptureFixture):
    progress = ProgressLog()
    running = [step("s1", "Running", "train")]
    with caplog.at_level(logging.INFO):
        for status, steps in [
            ("NotStarted", []),
            ("NotStarted", []),
            ("Running", running),
            ("Running", running),
            ("Running", running),
            ("Finished", [step("s1", "Completed", "train")]),
        ]:
            progress.report(log, "run-1", status, steps)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Azure ML pipeline run run-1: status NotStarted",
        "Azure ML pipeline run run-1: status Running; steps: 1 Running; running: train",
        "Azure ML pipeline run run-1: status Finished; steps: 1 Completed",
    ]


def test_failure_message_names_each_failing_step_and_its_error():
    steps = [
        step("s1", "Completed", "prep"),
        step("s2", "Failed", "train", "ValueError: loss is nan"),
        step("s3", "Failed", "eval"),
    ]
    message = failure_message("run-1", "Failed", steps)
    assert message == (
        "Azure ML pipeline run run-1 ended Failed. Failed step(s): "
        "step 'train' (s2): ValueError: loss is nan; step 'eval' (s3): no error message"
    )


def test_failure_without_failing_steps_uses_the_run_error_or_says_nothing_more():
    assert failure_message("run-1", "Canceled", [], "canceled by user") == (
        "Azure ML pipeline run run-1 ended Canceled: canceled by user"
    )
    assert failure_message("run-1", "Canceled", []) == "Azure ML pipeline run run-1 ended Canceled."


def test_report_failure_survives_an_unreadable_history(emulator_conn):
    """A read error while explaining must not replace the run's failure by an HTTP error."""
    message = report_failure(AzureMLHook(), log, "no-such-run", "no-such-experiment", "Failed")
    assert message.startswith("Azure ML pipeline run no-such-run ended Failed (failure details unavailable:")
    assert "404" in message
