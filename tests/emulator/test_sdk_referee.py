"""The real azureml SDK, pointed at the in-process emulator, is the referee for the emulator's fidelity.

The SDK is imported once per module, with ``HOME`` in a temporary directory so its ``~/.azureml``
caches stay isolated. Authentication is a ``TokenAuthentication`` fed a fixed token: no Azure AD here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.emulator.wire.statuses import RunStatus
from tests.emulator.support import (
    FAILING_MESSAGE,
    FAILING_RATE,
    SCOPE,
    SCORING,
    TRAIN_NODE,
    TRAINING_V1,
    TRAINING_V2,
    WORKSPACE_ID,
    move_to,
)

TOKEN = "sdk-test-token"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The SDK classes, imported after ``HOME`` points at a fresh directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        patch.setenv("AZUREML_CURRENT_CLOUD", "AzureCloud")
        core = importlib.import_module("azureml.core")
        authentication = importlib.import_module("azureml.core.authentication")
        pipeline = importlib.import_module("azureml.pipeline.core")
        exceptions = importlib.import_module("azureml.exceptions")
        aeva_models = importlib.import_module("azureml.pipeline.core._restclients.aeva.models")

        class FixedTokenAuthentication(authentication.TokenAuthentication):  # type: ignore[name-defined]
            """The REST doc's adapter (section 6) with a fixed token standing in for a credential."""

            def __init__(self) -> None:
                super().__init__(get_token_for_audience=lambda resource: TOKEN, cloud="AzureCloud")

            def _get_azureml_client_token(self) -> str:
                return TOKEN

        yield SimpleNamespace(
            Workspace=core.Workspace,
            Experiment=core.Experiment,
            Auth=FixedTokenAuthentication,
            PublishedPipeline=pipeline.PublishedPipeline,
            PipelineEndpoint=pipeline.PipelineEndpoint,
            PipelineRun=pipeline.PipelineRun,
            StepRun=pipeline.StepRun,
            ActivityFailedException=exceptions.ActivityFailedException,
            ErrorResponseException=aeva_models.ErrorResponseException,
        )


@pytest.fixture
def ws(sdk: SimpleNamespace, emulator: RunningEmulator) -> Any:
    """A workspace whose discovery URL is the emulator's (``Workspace._discovery_url_internal``)."""
    workspace = sdk.Workspace(
        SCOPE["subscription_id"],
        SCOPE["resource_group"],
        SCOPE["workspace_name"],
        auth=sdk.Auth(),
        _disable_service_check=True,
        _workspace_id=WORKSPACE_ID,
    )
    workspace._discovery_url_internal = f"{emulator.url}/discovery"
    return workspace


def _finish(emulator: RunningEmulator, run: Any) -> str:
    """Move the emulator to the run's end (no waiting on the machine), then ask the SDK."""
    move_to(emulator, run.id)
    return run.get_status()


def test_published_pipeline_get_reads_the_entity(
    sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    published = sdk.PublishedPipeline.get(ws, TRAINING_V1)

    assert published.name == "training-pipeline"
    assert published.version == "1"
    assert published.status == "Active"
    assert published.total_run_steps == 1
    assert published.endpoint == (
        f"{emulator.url}/pipelines/v1.0/subscriptions/{SCOPE['subscription_id']}/resourceGroups/"
        f"{SCOPE['resource_group']}/providers/Microsoft.MachineLearningServices/workspaces/"
        f"{SCOPE['workspace_name']}/PipelineRuns/PipelineSubmit/{TRAINING_V1}"
    )


def test_published_pipeline_submit_records_assignments_and_finishes(
    sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    published = sdk.PublishedPipeline.get(ws, TRAINING_V1)

    run = published.submit(ws, "referee", pipeline_parameters={"avg_rate": 0.7})

    [submission] = emulator.backend.submissions()
    assert submission.run_id == run.id
    assert submission.experiment_name == "referee"
    assert submission.parameters_received == {"avg_rate": "0.7"}
    assert submission.parameters_resolved == {"avg_rate": "0.7"}
    assert _finish(emulator, run) == RunStatus.FINISHED
    assert run.get_details()["status"] == RunStatus.COMPLETED
    assert run.get_tags()["azureml.pipelineid"] == TRAINING_V1


def test_submit_uses_defaults_for_missing_parameters(
    sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    sdk.PublishedPipeline.get(ws, SCORING).submit(ws, "referee", pipeline_parameters={"mini_batch_size": "7"})

    [submission] = emulator.backend.submissions()
    assert submission.parameters_resolved == {"mini_batch_size": "7", "input_path": "scoring/in"}


def test_unknown_parameter_is_a_bad_request(sdk: SimpleNamespace, ws: Any) -> None:
    published = sdk.PublishedPipeline.get(ws, TRAINING_V1)

    with pytest.raises(sdk.ErrorResponseException) as raised:
        published.submit(ws, "referee", pipeline_parameters={"learning_rate": 0.1})

    assert "BadRequest" in str(raised.value)
    assert "learning_rate" in str(raised.value)


def test_endpoint_get_by_name_and_submit_default_and_pinned(
    sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    endpoint = sdk.PipelineEndpoint.get(ws, name="training-endpoint")
    assert endpoint.default_version == "1"
    assert [v.pipeline_id for v in endpoint.pipeline_version_list] == [TRAINING_V1, TRAINING_V2]

    default_run = endpoint.submit("referee", pipeline_parameters={"epochs": 3})
    pinned_run = endpoint.submit("referee", pipeline_parameters={"avg_rate": 0.2}, pipeline_version="0")

    by_run = {s.run_id: s for s in emulator.backend.submissions()}
    assert by_run[default_run.id].pipeline_id == TRAINING_V2
    assert by_run[default_run.id].endpoint_version == "1"
    assert by_run[default_run.id].parameters_resolved == {"avg_rate": "0.5", "epochs": "3"}
    assert by_run[pinned_run.id].pipeline_id == TRAINING_V1
    assert by_run[pinned_run.id].endpoint_version == "0"
    assert _finish(emulator, pinned_run) == RunStatus.FINISHED


def test_get_steps_returns_step_runs_in_graph(
    sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    run = sdk.PublishedPipeline.get(ws, SCORING).submit(ws, "referee")
    assert _finish(emulator, run) == RunStatus.FINISHED

    steps = list(run.get_steps())

    assert all(isinstance(step, sdk.StepRun) for step in steps)
    assert sorted(step.name for step in steps) == ["prep", "score"]
    assert {step.get_status() for step in steps} == {RunStatus.FINISHED}
    assert {step.pipeline_run_id for step in steps} == {run.id}


def test_failing_run_raises_with_the_step_message(
    sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    run = sdk.PublishedPipeline.get(ws, TRAINING_V1).submit(
        ws, "referee", pipeline_parameters={"avg_rate": float(FAILING_RATE)}
    )

    move_to(emulator, run.id)
    with pytest.raises(sdk.ActivityFailedException) as raised:
        run.wait_for_completion(show_output=False, raise_on_error=True)

    assert FAILING_MESSAGE in str(raised.value)
    assert "'train'" in str(raised.value)
    assert run.get_status() == RunStatus.FAILED
    [step] = run.get_steps()
    assert step.name == "train"
    assert step.get_status() == RunStatus.FAILED
    assert step.get_details()["error"]["error"]["message"] == FAILING_MESSAGE


def test_continue_on_step_failure_runs_independent_steps(
    sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator
) -> None:
    from airflow_provider_azureml.emulator.state.seed import PipelineSeed

    seed = PipelineSeed.model_validate(
        {
            "name": "three-steps",
            "steps": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d", "depends_on": ["b"]}],
            "behaviour": {"fail": {"step": "b", "message": "b broke"}},
        }
    )
    pipeline = emulator.backend.registry.register_pipeline(seed.to_pipeline(0.0))
    published = sdk.PublishedPipeline.get(ws, pipeline.id)

    keep_going = published.submit(ws, "referee", continue_on_step_failure=True)
    stop = published.submit(ws, "referee")

    assert _finish(emulator, keep_going) == RunStatus.FAILED
    assert _finish(emulator, stop) == RunStatus.FAILED
    assert {s.name: s.get_status() for s in keep_going.get_steps()} == {
        "a": RunStatus.FINISHED,
        "b": RunStatus.FAILED,
        "c": RunStatus.FINISHED,
    }
    assert {s.name: s.get_status() for s in stop.get_steps()} == {
        "a": RunStatus.FINISHED,
        "b": RunStatus.FAILED,
    }
    node_d = pipeline.step_by_name("d").node_id
    assert emulator.backend.get_run(keep_going.id).steps[node_d].status_at(1e9) == RunStatus.NOT_STARTED


def test_cancel_ends_canceled(sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator) -> None:
    emulator.backend.set_default_durations({"step": 30.0})
    run = sdk.PublishedPipeline.get(ws, TRAINING_V1).submit(ws, "referee")
    move_to(emulator, run.id, RunStatus.RUNNING)
    assert run.get_status() == RunStatus.RUNNING

    run.cancel()

    assert _finish(emulator, run) == RunStatus.CANCELED
    [step] = run.get_steps()
    assert step.get_status() == RunStatus.CANCELED


def test_step_status_by_node_id(sdk: SimpleNamespace, ws: Any, emulator: RunningEmulator) -> None:
    run = sdk.PublishedPipeline.get(ws, TRAINING_V1).submit(ws, "referee")
    _finish(emulator, run)

    [step] = run.get_steps()

    assert step._node_id == TRAIN_NODE
    assert step.get_status() == RunStatus.FINISHED
