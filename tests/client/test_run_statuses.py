"""``get_run_statuses``: many runs' statuses in one ``runs:query`` per batch, against the emulator."""

from __future__ import annotations

from airflow_provider_azureml.client.operations import (
    MAX_FILTER_CHARS,
    RUN_IDS_PER_QUERY,
    run_id_batches,
    run_id_clause,
)
from airflow_provider_azureml.client.statuses import RunStatus
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.emulator.support import move_to

TRAINING_V1 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e01"


def test_run_ids_are_written_as_the_sdk_writes_them() -> None:
    assert run_id_clause("3f6c1d2e-8a4b_x.1") == "RunId eq 3f6c1d2e-8a4b_x.1"  # bare
    assert run_id_clause("it's odd") == "RunId eq 'it''s odd'"  # quoted when bare would not parse


def test_batches_hold_a_page_of_ids_and_a_bounded_filter() -> None:
    ids = [f"run-{index:04d}" for index in range(1201)]
    assert [len(batch) for batch in run_id_batches(ids + ids[:5])] == [500, 500, 201]  # repeats dropped
    assert RUN_IDS_PER_QUERY == 500

    long_ids = [f"{index:03d}-" + "x" * 996 for index in range(40)]
    batches = run_id_batches(long_ids)
    assert [run_id for batch in batches for run_id in batch] == long_ids
    assert all(len(" or ".join(map(run_id_clause, batch))) <= MAX_FILTER_CHARS for batch in batches)
    assert len(batches) == 2


def test_statuses_come_in_one_query_in_the_pipelines_services_words(emulator_conn: RunningEmulator) -> None:
    hook = AzureMLHook()
    ended = hook.submit_pipeline_run(TRAINING_V1, experiment_name="statuses").id
    emulator_conn.backend.set_default_durations({"step": 3600})
    running = hook.submit_pipeline_run(TRAINING_V1, experiment_name="statuses").id
    elsewhere = hook.submit_pipeline_run(TRAINING_V1, experiment_name="other").id
    move_to(emulator_conn, ended)  # time held at its end: the other is still active, whatever the machine
    before = emulator_conn.requests.snapshot()["routes"].get("POST QUERY_RUNS", 0)

    statuses = hook.client.get_run_statuses("statuses", [ended, running, elsewhere, "no-such-run"])

    assert statuses[ended] == RunStatus.FINISHED  # run history says Completed
    assert statuses[running] not in RunStatus.TERMINAL
    assert set(statuses) == {ended, running}  # unknown to the experiment: not in the answer
    assert emulator_conn.requests.snapshot()["routes"]["POST QUERY_RUNS"] - before == 1
    assert RunStatus.from_history(RunStatus.COMPLETED) == RunStatus.FINISHED
    assert RunStatus.from_history(RunStatus.CANCEL_REQUESTED) == RunStatus.CANCEL_REQUESTED
