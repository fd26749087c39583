"""AzureMLPublishPipelineOperator: the real SDK publishing the reference pipelines to the emulator.

``execute`` is called directly with a context stand-in (tests/task_context.py); the emulator's request
counts and state show what was published, reused and run. Runs are waited for on simulated time: the
emulator is on the test's clock, which the waits' sleeps move on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_azureml.emulator.testing import ManualClock, RunningEmulator, run_emulator
from airflow_provider_azureml.operators.publish_pipeline import AzureMLPublishPipelineOperator
from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from tests.emulator import publish_support
from tests.emulator.support import SCORING_ENDPOINT, TRAINING_ENDPOINT, TRAINING_V2
from tests.task_context import TaskInstanceStandIn, make_context
from tests.triggers.support import SimulatedTime

# Fixtures (pytest registers fixtures found in the test module).
sdk_home, no_external_network, hook = (
    publish_support.sdk_home,
    publish_support.no_external_network,
    publish_support.hook,
)
pytestmark = pytest.mark.usefixtures("hook")  # SDK home, network guard, emulator connection
TRAINING = "azureml_pipelines.training:build_training_pipeline"
SCORING = "azureml_pipelines.batch_scoring:build_batch_scoring_pipeline"


@pytest.fixture
def emulator(manual_clock: ManualClock, wait_clock: SimulatedTime) -> Iterator[RunningEmulator]:
    """The emulator behind ``emulator_conn`` (and so ``hook``), on the clock the waits sleep on."""
    with run_emulator(clock=manual_clock) as running:
        yield running


def _publish(**kwargs: Any) -> tuple[dict[str, Any], TaskInstanceStandIn]:
    options = {
        "task_id": "publish",
        "pipeline_factory": TRAINING,
        "pipeline_name": "training-pipeline",
        **kwargs,
    }
    ti = TaskInstanceStandIn(task_id="publish")
    return AzureMLPublishPipelineOperator(**options).execute(make_context(ti=ti)), ti


def _count(emulator: RunningEmulator, route: str) -> int:
    return emulator.requests.snapshot()["routes"].get(route, 0)


def _run(pipeline_id: str, parameters: dict[str, Any]) -> dict[str, Any]:
    submit = AzureMLSubmitPipelineRunOperator(
        task_id="run",
        published_pipeline_id=pipeline_id,
        experiment_name="published",
        pipeline_parameters=parameters,
        poll_interval=30,
    )
    return submit.execute(make_context(ti=TaskInstanceStandIn(task_id="run")))


def test_training_becomes_the_endpoint_default_and_runs_with_an_override(
    emulator_conn: RunningEmulator,
) -> None:
    result, ti = _publish(version="3", pipeline_endpoint_name="training-endpoint")

    endpoint = emulator_conn.backend.registry.get_endpoint(TRAINING_ENDPOINT)
    assert result["pipeline_endpoint_id"] == TRAINING_ENDPOINT
    assert result["pipeline_endpoint_version"] == endpoint.default_version == "2"
    assert endpoint.pipeline_ids == [endpoint.pipeline_ids[0], TRAINING_V2, result["published_pipeline_id"]]
    assert result["published_pipeline_url"].endswith(f"/PipelineSubmit/{result['published_pipeline_id']}")
    assert result["reused"] is False
    assert {k: ti.xcoms[k] for k in ti.xcoms} == {k: v for k, v in result.items() if k != "reused"}

    run = _run(result["published_pipeline_id"], {"avg_rate": 0.6})

    assert run["status"] == "Finished"
    [submission] = emulator_conn.backend.submissions()
    assert submission.pipeline_id == result["published_pipeline_id"]
    assert submission.parameters_resolved == {"avg_rate": "0.6"}
    assert [s.name for s in emulator_conn.backend.get_run(run["run_id"]).steps.values()] == ["train"]


def test_batch_scoring_runs_prep_then_score(emulator_conn: RunningEmulator) -> None:
    result, _ = _publish(
        pipeline_factory=SCORING,
        pipeline_name="batch-scoring",
        version="2",
        pipeline_endpoint_name="batch-scoring-endpoint",
    )
    assert result["pipeline_endpoint_id"] == SCORING_ENDPOINT

    run = _run(result["published_pipeline_id"], {"mini_batch_size": "3"})

    assert run["status"] == "Finished"
    steps = emulator_conn.backend.get_run(run["run_id"]).steps.values()
    assert [(s.name, s.script) for s in steps] == [("prep", "prep.py"), ("score", "driver/amlbi_main.py")]
    [submission] = emulator_conn.backend.submissions()
    assert submission.parameters_received == {"mini_batch_size": "3"}


def test_rerun_reuses_the_published_pipeline_and_leaves_the_endpoint_alone(
    emulator_conn: RunningEmulator,
) -> None:
    first, _ = _publish(version="3", pipeline_endpoint_name="training-endpoint")
    second, _ = _publish(version="3", pipeline_endpoint_name="training-endpoint")

    assert _count(emulator_conn, "POST CREATE_PIPELINE") == 1
    assert _count(emulator_conn, "PUT UPDATE_ENDPOINT") == 1
    assert second["reused"] is True
    assert {k: v for k, v in second.items() if k != "reused"} == {
        k: v for k, v in first.items() if k != "reused"
    }


def test_a_new_version_is_published_beside_the_old_one(emulator_conn: RunningEmulator) -> None:
    first, _ = _publish(version="3", pipeline_endpoint_name="training-endpoint")
    second, _ = _publish(version="4", pipeline_endpoint_name="training-endpoint")

    assert second["published_pipeline_id"] != first["published_pipeline_id"]
    assert (first["pipeline_endpoint_version"], second["pipeline_endpoint_version"]) == ("2", "3")
    assert emulator_conn.backend.registry.get_endpoint(TRAINING_ENDPOINT).default_version == "3"


def test_set_as_default_false_keeps_the_old_default(emulator_conn: RunningEmulator) -> None:
    result, _ = _publish(version="3", pipeline_endpoint_name="training-endpoint", set_as_default=False)

    endpoint = emulator_conn.backend.registry.get_endpoint(TRAINING_ENDPOINT)
    assert result["pipeline_endpoint_version"] == "2"
    assert endpoint.pipeline_ids[2] == result["published_pipeline_id"]
    assert endpoint.default_version == "1"


def test_reuse_finds_a_seeded_pipeline_of_the_same_name_and_version(emulator_conn: RunningEmulator) -> None:
    result, _ = _publish(version="1", pipeline_factory=_raises)  # the seed has training-pipeline v1

    assert result["reused"] is True
    assert _count(emulator_conn, "POST CREATE_PIPELINE") == 0


def test_a_missing_endpoint_is_created(emulator_conn: RunningEmulator) -> None:
    result, _ = _publish(version="1", pipeline_endpoint_name="nightly-training")

    endpoint = emulator_conn.backend.registry.get_endpoint_by_name("nightly-training")
    assert (result["pipeline_endpoint_id"], result["pipeline_endpoint_version"]) == (endpoint.id, "0")
    assert endpoint.pipeline_ids == [result["published_pipeline_id"]]


def test_without_an_endpoint_only_the_pipeline_is_published(emulator_conn: RunningEmulator) -> None:
    result, _ = _publish(version="9", description="no endpoint")

    assert (result["pipeline_endpoint_id"], result["pipeline_endpoint_version"]) == (None, None)
    assert (
        emulator_conn.backend.registry.get_pipeline(result["published_pipeline_id"]).description
        == "no endpoint"
    )
    assert _count(emulator_conn, "POST CREATE_ENDPOINT") == 0


# -- errors -------------------------------------------------------------------------------------------
def _raises(workspace: Any) -> Any:
    raise RuntimeError("the feature store is not reachable")


def _returns_a_dict(workspace: Any) -> Any:
    return {"steps": []}


def _missing_script(workspace: Any, *, source_directory: str) -> Any:
    from azureml_pipelines.training import build_training_pipeline

    return build_training_pipeline(workspace, source_directory=source_directory)


def _invalid_graph(workspace: Any) -> Any:
    """A pipeline whose graph fails the SDK's own ``validate()`` (an output without its port definition)."""
    from azureml_pipelines.training import build_training_pipeline

    pipeline = build_training_pipeline(workspace)
    [node] = pipeline.graph._nodes.values()
    node.get_output("model")._output_port_def = None
    return pipeline


@pytest.mark.parametrize(
    ("factory", "kwargs", "message"),
    [
        (_raises, {}, "_raises raised RuntimeError: the feature store is not reachable"),
        (
            _returns_a_dict,
            {},
            "_returns_a_dict returned builtins.dict, not an azureml.pipeline.core.Pipeline",
        ),
        ("no_such_package.pipelines:build", {}, "cannot import module 'no_such_package.pipelines'"),
        ("azureml_pipelines.training:no_such_function", {}, "has no callable 'no_such_function'"),
        ("azureml_pipelines.training", {}, "must be a callable or 'package.module:function'"),
        (_invalid_graph, {}, "failed validation: ["),
    ],
)
def test_factory_problems_fail_the_task_clearly(
    emulator_conn: RunningEmulator, factory: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(AirflowFailException) as raised:
        _publish(pipeline_factory=factory, factory_kwargs=kwargs, version="99")

    assert message in str(raised.value)
    assert _count(emulator_conn, "POST CREATE_PIPELINE") == 0


def test_invalid_graph_names_the_sdk_error(emulator_conn: RunningEmulator) -> None:
    with pytest.raises(AirflowFailException, match=r"\[model\] MissingOutputDef"):
        _publish(pipeline_factory=_invalid_graph, version="99")


def test_a_step_script_missing_from_source_directory_is_reported(
    emulator_conn: RunningEmulator, tmp_path: Any
) -> None:
    with pytest.raises(AirflowFailException, match=r"script not found at: .*train\.py"):
        _publish(pipeline_factory=_missing_script, factory_kwargs={"source_directory": str(tmp_path)})


def test_templated_fields() -> None:
    assert set(AzureMLPublishPipelineOperator.template_fields) >= {
        "pipeline_name",
        "description",
        "version",
        "pipeline_endpoint_name",
        "factory_kwargs",
    }


def test_the_publish_dag_publishes_and_runs_both_pipelines(emulator_conn: RunningEmulator) -> None:
    """The DAG's own tasks, executed in order; the XCom pull is resolved by hand (no scheduler here)."""
    import importlib

    dag = importlib.import_module("azureml_publish_pipelines").dag
    assert {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks} == {
        "publish_training": ["run_training"],
        "run_training": [],
        "publish_scoring": ["run_scoring"],
        "run_scoring": [],
    }
    for publish_id, run_id in (("publish_training", "run_training"), ("publish_scoring", "run_scoring")):
        published = dag.get_task(publish_id).execute(make_context(ti=TaskInstanceStandIn(task_id=publish_id)))
        run_task = dag.get_task(run_id)
        run_task.published_pipeline_id = published["published_pipeline_id"]
        run_task.poll_interval = 30
        assert run_task.execute(make_context(ti=TaskInstanceStandIn(task_id=run_id)))["status"] == "Finished"

    received = {s.experiment_name: s.parameters_received for s in emulator_conn.backend.submissions()}
    assert received == {
        "published-training": {"avg_rate": "0.6"},
        "published-batch-scoring": {"mini_batch_size": "3"},
    }
    assert emulator_conn.backend.registry.get_endpoint(TRAINING_ENDPOINT).default_version == "2"
    assert emulator_conn.backend.registry.get_endpoint(SCORING_ENDPOINT).default_version == "1"
