"""The pure parts: run timelines, planning with failures, and the OData filter subset."""

from __future__ import annotations

import pytest

from airflow_provider_azureml.emulator import seeded
from airflow_provider_azureml.emulator.__main__ import parser
from airflow_provider_azureml.emulator.state.lifecycle import (
    Durations,
    StepSpec,
    Timeline,
    plan_run,
)
from airflow_provider_azureml.emulator.state.seed import DEFAULT_SEED, load_seed
from airflow_provider_azureml.emulator.wire.errors import BadRequest
from airflow_provider_azureml.emulator.wire.odata import Clause, matches, parse_filter
from airflow_provider_azureml.emulator.wire.statuses import RunStatus as S
from airflow_provider_azureml.emulator.wire.statuses import history_status

DURATIONS = Durations(not_started=1, queued=2, step=10, cancel=3)
STEPS = [StepSpec("prep", "n1"), StepSpec("score", "n2", depends_on=("prep",)), StepSpec("report", "n3")]


def test_plan_runs_steps_one_after_another() -> None:
    plan = plan_run(STEPS, {}, DURATIONS, continue_on_step_failure=False)

    assert plan.root.entries == ((0, S.NOT_STARTED), (1, S.QUEUED), (3, S.RUNNING), (33, S.FINISHED))
    assert [plan.steps[s.name].entered(S.RUNNING) for s in STEPS] == [3, 13, 23]
    assert plan.steps["score"].status_at(12.9) == S.NOT_STARTED
    assert plan.steps["score"].status_at(13) == S.RUNNING
    assert plan.steps["report"].status_at(40) == S.FINISHED
    assert plan.failed_step is None


def test_failure_stops_later_steps_unless_told_to_continue() -> None:
    stop = plan_run(STEPS, {"prep": "boom"}, DURATIONS, continue_on_step_failure=False)
    go_on = plan_run(STEPS, {"prep": "boom"}, DURATIONS, continue_on_step_failure=True)

    assert stop.root.entries[-1] == (13, S.FAILED)
    assert [stop.steps[s.name].final_status for s in STEPS] == [S.FAILED, S.NOT_STARTED, S.NOT_STARTED]
    assert go_on.root.entries[-1] == (23, S.FAILED)
    assert [go_on.steps[s.name].final_status for s in STEPS] == [S.FAILED, S.NOT_STARTED, S.FINISHED]
    assert stop.failed_step == go_on.failed_step == "prep"


def test_cancel_rewrites_only_the_future() -> None:
    plan = plan_run(STEPS, {}, DURATIONS, continue_on_step_failure=False)

    canceled = plan.root.cancel(5, DURATIONS.cancel)

    assert canceled.entries[-2:] == ((5, S.CANCEL_REQUESTED), (8, S.CANCELED))
    assert canceled.status_at(4) == S.RUNNING
    assert canceled.status_at(6) == S.CANCEL_REQUESTED
    assert canceled.ends_at == 8
    assert plan.root.cancel(40, 3) == plan.root
    assert canceled.cancel(6, 3) == canceled


def test_timelines_reject_transitions_outside_the_table() -> None:
    with pytest.raises(ValueError, match="Finished -> Running"):
        Timeline.of((0, S.NOT_STARTED), (1, S.RUNNING), (2, S.FINISHED), (3, S.RUNNING))
    with pytest.raises(ValueError, match="NotStarted -> Finished"):
        Timeline.of((0, S.NOT_STARTED), (1, S.FINISHED))
    with pytest.raises(ValueError, match="starts NotStarted"):
        Timeline.of((0, S.RUNNING))


def test_history_spells_success_completed() -> None:
    assert history_status(S.FINISHED) == S.COMPLETED
    assert history_status(S.CANCEL_REQUESTED) == S.CANCEL_REQUESTED


def test_filter_parsing() -> None:
    clauses = parse_filter(
        "(Tags/a.b eq 'x and y') and (Status eq Running) and (CreatedUtc ge 2024-01-01T00:00:00Z)"
    )

    assert clauses == [
        Clause("eq", "Tags", "a.b", "x and y"),
        Clause("eq", "Status", None, "Running"),
        Clause("time", "CreatedUtc", None, 1704067200.0, "ge"),
    ]
    fields = {"Tags": {"a.b": "x and y"}, "Status": "Running", "CreatedUtc": 1704067200.0, "Properties": {}}
    assert matches(clauses, fields)
    assert not matches(clauses, {**fields, "Status": "Completed"})
    assert parse_filter("  ") == []
    with pytest.raises(BadRequest, match="not-a-date"):
        parse_filter("CreatedUtc ge not-a-date")


def test_filter_or_binds_looser_than_and_and_run_ids_become_one_set() -> None:
    """``RunId eq a or RunId eq b`` is how ``get_runs_by_run_ids`` asks (``_odata/runs.py``): bare ids."""
    assert parse_filter("RunId eq a-1 or RunId eq 'b c' or RunId eq a-1") == [
        Clause("in", "RunId", None, frozenset({"a-1", "b c"}))
    ]
    [either] = parse_filter("RunId eq a or Status eq Running and Tags/k eq v")
    assert either.kind == "any"
    fields = {"RunId": "z", "Status": "Running", "Tags": {"k": "v"}, "Properties": {}, "CreatedUtc": 0.0}
    assert matches([either], fields)
    assert not matches([either], {**fields, "Tags": {}})
    assert matches([either], {**fields, "RunId": "a", "Tags": {}})
    # The SDK's and_join wraps the whole conjunction: "((A) and (B))".
    assert parse_filter("((Tags/a eq 1) and (Status eq Running))") == [
        Clause("eq", "Tags", "a", "1"),
        Clause("eq", "Status", None, "Running"),
    ]
    assert parse_filter("(RunId eq a or RunId eq b) and (Status eq Running)") == [
        Clause("in", "RunId", None, frozenset({"a", "b"})),
        Clause("eq", "Status", None, "Running"),
    ]


def test_cli_help_documents_every_option() -> None:
    text = parser().format_help()

    for option in (
        "--host",
        "--port",
        "--seed",
        "--no-seed",
        "--state",
        "--expected-token",
        "--allow-unknown-parameters",
        "--public-url",
        "--duration",
        "--log-level",
    ):
        assert option in text


def test_the_seeded_ids_are_the_default_seeds() -> None:
    seed = load_seed(DEFAULT_SEED)
    pipelines = {pipeline.id for pipeline in seed.pipelines}
    endpoints = {endpoint.id: endpoint.versions for endpoint in seed.endpoints}
    assert {seeded.TRAINING_V1, seeded.TRAINING_V2, seeded.SCORING} == pipelines
    assert endpoints == {
        seeded.TRAINING_ENDPOINT: [seeded.TRAINING_V1, seeded.TRAINING_V2],
        seeded.SCORING_ENDPOINT: [seeded.SCORING],
    }
