"""The real SDK's publish path, unchanged (normal service caller), against the in-process emulator.

``Pipeline.publish()``, ``PipelineEndpoint.publish()`` and ``add_default()`` run inside the hook's
publishing environment; the emulator must then run what was published, one step run per graph node.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.emulator.wire.statuses import RunStatus
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.emulator import publish_support
from tests.emulator.support import TRAINING_ENDPOINT, TRAINING_V2, move_to
from tests.pipelines._paths import SCRIPTS_DIR

# Fixtures (pytest registers fixtures found in the test module).
sdk_home, no_external_network = publish_support.sdk_home, publish_support.no_external_network
hook, workspace = publish_support.hook, publish_support.workspace


def _publish_training(ws: Any, version: str = "7") -> Any:
    from azureml_pipelines.training import build_training_pipeline

    return build_training_pipeline(ws).publish(
        name="training-pipeline", description="trained", version=version
    )


def _publish_scoring(ws: Any) -> Any:
    from azureml_pipelines.batch_scoring import build_batch_scoring_pipeline

    return build_batch_scoring_pipeline(ws).publish(name="batch-scoring", version="3")


def _routes(emulator: RunningEmulator) -> dict[str, int]:
    return emulator.requests.snapshot()["routes"]


def test_publish_training_pipeline_gives_a_consumable_entity(
    workspace: Any, emulator_conn: RunningEmulator
) -> None:
    published = _publish_training(workspace)

    assert published.name == "training-pipeline"
    assert published.version == "7"
    assert published.status == "Active"
    assert published.total_run_steps == 1
    assert published.endpoint.startswith(emulator_conn.url)
    assert published.endpoint.endswith(f"/PipelineRuns/PipelineSubmit/{published.id}")
    pipeline = emulator_conn.backend.registry.get_pipeline(published.id)
    assert [(p.name, p.type, p.default) for p in pipeline.parameters] == [("avg_rate", "float", "0.5")]
    [step] = pipeline.steps
    assert (step.name, step.script, step.step_type) == ("train", "train.py", "PythonScriptStep")
    routes = _routes(emulator_conn)
    assert routes["POST CREATE_MODULE"] == 1
    assert routes["POST CREATE_SNAPSHOT"] == 1
    assert routes["PUT PUT_SNAPSHOT_BLOB"] >= 1


def test_snapshot_files_are_rebuilt_byte_for_byte(workspace: Any, emulator_conn: RunningEmulator) -> None:
    published = _publish_training(workspace)

    [step] = emulator_conn.backend.registry.get_pipeline(published.id).steps
    files = emulator_conn.backend.catalog.snapshot_files(step.snapshot_id or "")

    assert files["train.py"] == (SCRIPTS_DIR / "train.py").read_bytes()
    assert files["data/train.csv"] == (SCRIPTS_DIR / "data" / "train.csv").read_bytes()


def test_published_scoring_pipeline_runs_one_step_per_node_in_edge_order(
    workspace: Any, emulator_conn: RunningEmulator
) -> None:
    from azureml.pipeline.core import PublishedPipeline

    published = _publish_scoring(workspace)
    assert published.total_run_steps == 2
    interface = AzureMLHook().get_pipeline_parameters(published.id)
    assert {(p.name, p.type, p.default_value) for p in interface} == {
        ("mini_batch_size", "string", "5"),
        ("corrupt_items", "string", ""),
    }

    run = PublishedPipeline.get(workspace, published.id).submit(
        workspace, "publish-test", pipeline_parameters={"mini_batch_size": "7"}
    )

    move_to(emulator_conn, run.id)
    assert run.get_status() == RunStatus.FINISHED
    [submission] = emulator_conn.backend.submissions()
    assert submission.parameters_resolved == {"mini_batch_size": "7", "corrupt_items": ""}
    steps = emulator_conn.backend.get_run(run.id).steps.values()
    assert [s.name for s in steps] == ["prep", "score"]
    assert sorted(step.name for step in run.get_steps()) == ["prep", "score"]


def test_published_graph_serves_get_step_names(workspace: Any) -> None:
    from azureml.pipeline.core import PublishedPipeline

    published = _publish_scoring(workspace)

    assert sorted(PublishedPipeline.get(workspace, published.id).get_step_names()) == ["prep", "score"]


def test_identical_republish_reuses_modules_and_snapshot(
    workspace: Any, emulator_conn: RunningEmulator
) -> None:
    first = _publish_training(workspace)
    emulator_conn.requests.reset()

    second = _publish_training(workspace, version="8")

    routes = _routes(emulator_conn)
    assert second.id != first.id
    assert routes["GET MODULE_BY_HASH"] == 1
    assert "POST CREATE_MODULE" not in routes
    assert "POST SNAPSHOT_GET_BLOB" not in routes
    assert emulator_conn.backend.registry.get_pipeline(second.id).steps[0].module_id == (
        emulator_conn.backend.registry.get_pipeline(first.id).steps[0].module_id
    )


def test_publish_after_an_emulator_restart_uploads_again(
    hook: AzureMLHook, emulator_conn: RunningEmulator
) -> None:
    """The SDK's snapshot cache outlives a stateless emulator; the publishing environment must not care."""
    with hook.publishing_environment():
        _publish_training(hook.get_workspace())
    emulator_conn.restart()

    with hook.publishing_environment():
        published = _publish_training(hook.get_workspace())

    [step] = emulator_conn.backend.registry.get_pipeline(published.id).steps
    assert "train.py" in emulator_conn.backend.catalog.snapshot_files(step.snapshot_id or "")


def test_endpoint_publish_and_add_default(workspace: Any, emulator_conn: RunningEmulator) -> None:
    from azureml.pipeline.core import PipelineEndpoint

    first, second = _publish_training(workspace, "20"), _publish_training(workspace, "21")

    created = PipelineEndpoint.publish(workspace, "fresh-endpoint", "made by the SDK", first)
    created.add_default(second)
    seeded = PipelineEndpoint.get(workspace, name="training-endpoint")
    seeded.add(second)

    fresh = emulator_conn.backend.registry.get_endpoint(created.id)
    assert (fresh.pipeline_ids, fresh.default_version) == ([first.id, second.id], "1")
    kept = emulator_conn.backend.registry.get_endpoint(TRAINING_ENDPOINT)
    assert kept.pipeline_ids[-1] == second.id
    assert kept.default_version == "1"  # add() leaves the seeded default (version 1) alone
    assert kept.pipeline_ids[1] == TRAINING_V2


def test_endpoint_with_an_existing_name_is_refused_by_the_sdk(workspace: Any) -> None:
    from azureml.pipeline.core import PipelineEndpoint

    published = _publish_training(workspace)

    with pytest.raises(ValueError, match="already exists"):
        PipelineEndpoint.publish(workspace, "training-endpoint", "", published)


def test_snapshots_survive_a_restart_with_a_state_file(
    sdk_home: None, no_external_network: list[object], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from airflow_provider_azureml.emulator.connection import emulator_connection
    from airflow_provider_azureml.emulator.testing import run_emulator

    with run_emulator(state_file=tmp_path / "state.json") as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(emulator_connection(emulator.url)))
        with AzureMLHook().publishing_environment():
            first = _publish_training(AzureMLHook().get_workspace())
        emulator.restart()
        emulator.requests.reset()
        with AzureMLHook().publishing_environment():
            second = _publish_training(AzureMLHook().get_workspace(), version="8")

        [step] = emulator.backend.registry.get_pipeline(first.id).steps
        assert "train.py" in emulator.backend.catalog.snapshot_files(step.snapshot_id or "")
        assert "POST CREATE_MODULE" not in emulator.requests.snapshot()["routes"]  # the module hash hit
        assert emulator.backend.registry.get_pipeline(second.id).steps[0].module_id == step.module_id
