"""Execution mode with the real SDK: the reference pipelines (and small purpose-built ones) are published,
submitted and really run on this machine by the emulator, then read back through the service's APIs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator
from airflow_provider_azureml.emulator.wire.statuses import RunStatus
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.emulator import publish_support
from tests.emulator.execution_support import (
    alive,
    output_folder,
    script_pipeline,
    step_runs,
    wait_for,
    wait_status,
    wait_terminal,
    write_scripts,
)
from tests.emulator.support import TRAINING_V1
from tests.schedules.support import SUBMISSION, create_schedule

sdk_home, no_external_network = publish_support.sdk_home, publish_support.no_external_network
hook, workspace = publish_support.hook, publish_support.workspace
SCORING_ITEMS = 23


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[RunningEmulator]:
    """Overrides the conftest emulator: this one executes published pipelines, files under tmp_path."""
    with run_emulator(execute=True, data_dir=tmp_path / "emulator-data") as running:
        yield running


def _publish(pipeline: Any, name: str) -> Any:
    return pipeline.publish(name=name, version="1")


def _training(ws: Any) -> Any:
    from azureml_pipelines.training import build_training_pipeline

    return _publish(build_training_pipeline(ws), "training-pipeline")


def _scoring(ws: Any) -> Any:
    from azureml_pipelines.batch_scoring import build_batch_scoring_pipeline

    return _publish(build_batch_scoring_pipeline(ws), "batch-scoring-pipeline")


def _scored_rows(emulator: RunningEmulator, run_id: str) -> list[str]:
    return (
        (output_folder(emulator, run_id, "score", "scores") / "parallel_run_step.txt")
        .read_text()
        .splitlines()
    )


def test_a_schedule_fires_an_executed_run_with_its_parameters(
    workspace: Any, emulator_conn: RunningEmulator
) -> None:
    published = _training(workspace)
    submission = {**SUBMISSION, "ParameterAssignments": {"avg_rate": "0.7"}}
    schedule = create_schedule(emulator_conn.url, PipelineId=published.id, PipelineSubmissionInfo=submission)

    # without a StartTime, a schedule fires once at creation (reading the submissions catches up)
    [fired] = [s for s in emulator_conn.backend.submissions() if s.schedule_id == schedule["Id"]]

    assert wait_terminal(emulator_conn, fired.run_id) == RunStatus.FINISHED
    assert emulator_conn.backend.get_run(fired.run_id).executed
    model = json.loads(
        (output_folder(emulator_conn, fired.run_id, "train", "model") / "model.json").read_text()
    )
    assert model["avg_rate"] == 0.7


def test_training_writes_model_json_with_the_submitted_avg_rate(
    workspace: Any, emulator_conn: RunningEmulator, tmp_path: Path
) -> None:
    published = _training(workspace)

    run = published.submit(workspace, "exec-training", pipeline_parameters={"avg_rate": 0.7})
    status = run.wait_for_completion(show_output=False, timeout_seconds=120)

    assert status == RunStatus.FINISHED
    folder = output_folder(emulator_conn, run.id, "train", "model")
    assert folder.is_relative_to(tmp_path / "emulator-data" / "datastores" / "workspaceblobstore" / "azureml")
    model = json.loads((folder / "model.json").read_text())
    assert model["avg_rate"] == 0.7
    assert model["metrics"]["accuracy"] > 0.8
    [step] = run.get_steps()
    tail = AzureMLHook().get_step_log_tail(AzureMLHook().get_run("exec-training", step.id))
    assert "avg_rate=0.7 rows=200" in tail
    assert "[emulator] exit code 0" in tail


def test_default_parameters_apply_when_the_submission_gives_none(
    workspace: Any, emulator_conn: RunningEmulator
) -> None:
    published = _training(workspace)

    run = published.submit(workspace, "exec-training")

    assert wait_terminal(emulator_conn, run.id) == RunStatus.FINISHED
    model = json.loads((output_folder(emulator_conn, run.id, "train", "model") / "model.json").read_text())
    assert model["avg_rate"] == 0.5


def test_batch_scoring_preps_then_scores_every_item_in_mini_batches(
    workspace: Any, emulator_conn: RunningEmulator
) -> None:
    published = _scoring(workspace)

    run = published.submit(workspace, "exec-scoring")

    assert wait_terminal(emulator_conn, run.id) == RunStatus.FINISHED
    rows = _scored_rows(emulator_conn, run.id)
    assert [row.split(",")[0] for row in rows] == [f"item-{i:03d}" for i in range(1, SCORING_ITEMS + 1)]
    assert all(0.0 <= float(row.split(",")[1]) <= 1.0 for row in rows)
    steps = step_runs(emulator_conn, run.id)
    prep_ended = steps["prep"].timeline.ends_at
    score_started = steps["score"].timeline.entered(RunStatus.RUNNING)
    assert prep_ended is not None and score_started is not None and prep_ended <= score_started
    prepped = output_folder(emulator_conn, run.id, "prep", "prepped")
    assert len(list(prepped.glob("*.json"))) == SCORING_ITEMS
    log = emulator_conn.backend.artifact(f"dcid.{steps['score'].run_id}", "azureml-logs/70_driver_log.txt")
    assert "23 items in 5 mini batches of up to 5" in log.content
    assert "Progress: 5/5 batches, 23/23 items, 0 failed" in log.content
    assert str(prepped) in log.content  # the driver was given the prep step's folder


def test_mini_batch_size_comes_from_the_submission(workspace: Any, emulator_conn: RunningEmulator) -> None:
    published = _scoring(workspace)

    run = published.submit(workspace, "exec-scoring", pipeline_parameters={"mini_batch_size": "7"})

    assert wait_terminal(emulator_conn, run.id) == RunStatus.FINISHED
    score = step_runs(emulator_conn, run.id)["score"]
    log = emulator_conn.backend.artifact(f"dcid.{score.run_id}", "azureml-logs/70_driver_log.txt").content
    assert "23 items in 4 mini batches of up to 7" in log
    assert len(_scored_rows(emulator_conn, run.id)) == SCORING_ITEMS


def test_error_threshold_tolerates_up_to_its_value_in_corrupt_items(
    workspace: Any, emulator_conn: RunningEmulator
) -> None:
    """The reference step allows 4 failed items: 4 corrupt files pass (19 rows), 5 fail the run."""
    published = _scoring(workspace)
    four = ",".join(f"item-{i:03d}" for i in (2, 3, 11, 20))
    five = four + ",item-023"

    tolerated = published.submit(workspace, "exec-scoring", pipeline_parameters={"corrupt_items": four})
    exceeded = published.submit(workspace, "exec-scoring", pipeline_parameters={"corrupt_items": five})

    assert wait_terminal(emulator_conn, tolerated.id) == RunStatus.FINISHED
    assert len(_scored_rows(emulator_conn, tolerated.id)) == SCORING_ITEMS - 4
    assert wait_terminal(emulator_conn, exceeded.id) == RunStatus.FAILED
    failed = emulator_conn.backend.get_run(exceeded.id)
    assert "5 items failed, more than error_threshold 4" in (failed.error_message() or "")
    assert step_runs(emulator_conn, exceeded.id)["prep"].timeline.final_status == RunStatus.FINISHED


def test_a_failing_script_fails_its_step_and_run_with_the_exception_line(
    workspace: Any, emulator_conn: RunningEmulator, tmp_path: Path
) -> None:
    source = write_scripts(
        tmp_path / "failing",
        boom="""
            import sys
            print("about to fail")
            raise ValueError("loss is nan at epoch " + sys.argv[2])
        """,
    )
    published = _publish(script_pipeline(workspace, source, "boom.py", ["--epoch", "3"]), "failing")

    run = published.submit(workspace, "exec-failing")
    status = run.wait_for_completion(show_output=False, timeout_seconds=120, raise_on_error=False)

    assert status == RunStatus.FAILED
    details = AzureMLHook().get_run("exec-failing", run.id)
    assert "ValueError: loss is nan at epoch 3" in str(details.error)
    [step] = run.get_steps()
    assert step.get_status() == RunStatus.FAILED
    tail = AzureMLHook().get_step_log_tail(AzureMLHook().get_run("exec-failing", step.id))
    assert "about to fail" in tail
    assert "Traceback (most recent call last)" in tail


def _slow_pipeline(ws: Any, tmp_path: Path, **step: Any) -> Any:
    """A step that starts a child process, writes both pids to ``pids.txt`` in its snapshot, then sleeps."""
    source = write_scripts(
        tmp_path / "slow",
        slow="""
            import subprocess, sys, time
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            with open("pids.txt.tmp", "w") as f:
                f.write(f"{__import__('os').getpid()} {child.pid}")
            __import__("os").replace("pids.txt.tmp", "pids.txt")
            print("sleeping", flush=True)
            time.sleep(600)
        """,
    )
    return _publish(script_pipeline(ws, source, "slow.py", **step), "slow")


def _pids(emulator: RunningEmulator, run_id: str) -> list[int]:
    step = step_runs(emulator, run_id)["slow"]
    pid_file = emulator.backend.layout.step_dir(run_id, step.run_id) / "snapshot" / "pids.txt"
    text = wait_for(lambda: pid_file.read_text() if pid_file.exists() else "", bool, timeout=60)
    return [int(pid) for pid in text.split()]


def test_cancel_kills_the_running_step_and_its_children(
    workspace: Any, emulator_conn: RunningEmulator, tmp_path: Path
) -> None:
    run = _slow_pipeline(workspace, tmp_path).submit(workspace, "exec-cancel")
    pids = _pids(emulator_conn, run.id)
    assert all(alive(pid) for pid in pids)

    run.cancel()

    assert wait_terminal(emulator_conn, run.id, timeout=30) == RunStatus.CANCELED
    assert not any(alive(pid) for pid in pids)
    assert run.get_status() == RunStatus.CANCELED
    assert step_runs(emulator_conn, run.id)["slow"].timeline.final_status == RunStatus.CANCELED


def test_max_run_duration_stops_and_fails_the_step(
    workspace: Any, emulator_conn: RunningEmulator, tmp_path: Path
) -> None:
    from azureml.core.runconfig import RunConfiguration

    runconfig = RunConfiguration()
    runconfig.max_run_duration_seconds = 2
    run = _slow_pipeline(workspace, tmp_path, runconfig=runconfig).submit(workspace, "exec-timeout")
    pids = _pids(emulator_conn, run.id)

    assert wait_terminal(emulator_conn, run.id, timeout=30) == RunStatus.FAILED
    assert "exceeded its time limit of 2 s" in (emulator_conn.backend.get_run(run.id).error_message() or "")
    assert not any(alive(pid) for pid in pids)


def _state_with_running_step(state: Path, run_id: str) -> str:
    """The state file's text once it records ``run_id`` with a step Running (as a crash would leave it)."""

    def running() -> str:
        text = state.read_text() if state.exists() else ""
        run = json.loads(text)["runs"].get(run_id) if text else None
        steps = run["steps"].values() if run else []
        return (
            text
            if any(entry[1] == RunStatus.RUNNING for s in steps for entry in s["timeline"]["entries"])
            else ""
        )

    return wait_for(running, bool, timeout=30)


def test_a_restart_ends_an_executing_run_failed_and_kills_its_processes(
    sdk_home: None, no_external_network: list[object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_azureml.emulator.connection import emulator_connection

    state = tmp_path / "state.json"
    with run_emulator(execute=True, state_file=state) as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(emulator_connection(emulator.url)))
        hook = AzureMLHook()
        with hook.publishing_environment():
            ws = hook.get_workspace()
            run = _slow_pipeline(ws, tmp_path).submit(ws, "exec-restart")
        pids = _pids(emulator, run.id)
        crashed = tmp_path / "crashed.json"
        crashed.write_text(_state_with_running_step(state, run.id))

        emulator.restart()

        restored = emulator.backend.get_run(run.id)
        assert restored.timeline.final_status == RunStatus.FAILED
        assert "emulator stopped while this run was executing" in (restored.error_message() or "")
        assert not any(alive(pid) for pid in pids)
        assert hook.get_pipeline_run(run.id).status == RunStatus.FAILED

    with run_emulator(state_file=crashed) as after_crash:  # the state a killed emulator left behind
        restored = after_crash.backend.get_run(run.id)
        assert restored.timeline.final_status == RunStatus.FAILED
        assert "emulator restarted while this run was executing" in (restored.error_message() or "")
        [step] = restored.steps.values()
        assert step.timeline.final_status == RunStatus.FAILED


def test_seeded_pipelines_stay_simulated(emulator_conn: RunningEmulator) -> None:
    run_id = AzureMLHook().submit_pipeline_run(TRAINING_V1, experiment_name="seeded").id

    assert wait_status(emulator_conn, run_id, set(RunStatus.TERMINAL)) == RunStatus.FINISHED
    run = emulator_conn.backend.get_run(run_id)
    assert not run.executed
    assert not emulator_conn.backend.layout.step_dir(run_id, run.steps["7a1c9e42"].run_id).exists()


def test_a_data_reference_input_reads_the_datastore_folder(
    workspace: Any, emulator_conn: RunningEmulator, tmp_path: Path
) -> None:
    import httpx
    from azureml.core import Datastore
    from azureml.data.data_reference import DataReference

    datastore_folder = Path(
        httpx.get(f"{emulator_conn.url}/_emulator/execution").json()["datastores"]["workspaceblobstore"]
    )
    (datastore_folder / "ref").mkdir(parents=True)
    (datastore_folder / "ref" / "lookup.csv").write_text("a,1\nb,2\n")
    lookup = DataReference(
        Datastore(workspace, "workspaceblobstore"),
        data_reference_name="lookup",
        path_on_datastore="ref/lookup.csv",
    )
    source = write_scripts(
        tmp_path / "lookup",
        count="""
            import sys
            with open(sys.argv[2]) as f:
                print("lookup rows:", len(f.read().splitlines()))
        """,
    )
    pipeline = script_pipeline(workspace, source, "count.py", ["--lookup", lookup], inputs=[lookup])

    run = _publish(pipeline, "lookup").submit(workspace, "exec-lookup")

    assert wait_terminal(emulator_conn, run.id) == RunStatus.FINISHED
    step = step_runs(emulator_conn, run.id)["count"]
    assert (
        "lookup rows: 2"
        in emulator_conn.backend.artifact(f"dcid.{step.run_id}", "azureml-logs/70_driver_log.txt").content
    )


def test_reset_stops_executing_runs(workspace: Any, emulator_conn: RunningEmulator, tmp_path: Path) -> None:
    import httpx

    run = _slow_pipeline(workspace, tmp_path).submit(workspace, "exec-reset")
    pids = _pids(emulator_conn, run.id)

    assert httpx.post(f"{emulator_conn.url}/_emulator/reset", json={}).status_code == 200

    wait_for(lambda: any(alive(pid) for pid in pids), lambda up: not up, timeout=30)
    assert emulator_conn.backend.submissions() == []
