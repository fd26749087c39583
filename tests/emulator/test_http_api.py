"""Plain-HTTP tests of the emulator: discovery, bad input, auth, faults, queries, artifacts, admin API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import requests

from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.statuses import RunStatus
from tests.emulator.support import (
    AUTH,
    FAILING_MESSAGE,
    FAILING_RATE,
    SCORING,
    TRAIN_NODE,
    TRAINING_ENDPOINT,
    TRAINING_V1,
    TRAINING_V2,
    WORKSPACE_ID,
    finish,
    move_to,
    run_status,
    submit,
    url,
)


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(headers=AUTH, timeout=10) as session:
        yield session


def _aeva_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["Error"]["Code"] == code
    assert set(body["Error"]) >= {"Code", "Message", "Target", "Details", "InnerError"}
    assert body["Correlation"]["operation"]
    assert "Traceback" not in response.text
    return body["Error"]["Message"]


def _history_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["correlation"]["request"]
    return body["error"]["message"]


# -- discovery and ARM ---------------------------------------------------------------------------------
def test_discovery_points_every_service_at_the_emulator(emulator: RunningEmulator) -> None:
    response = httpx.get(emulator.url + routes.DISCOVERY.path())

    assert response.status_code == 200
    services = response.json()
    for key in ("api", "history", "experimentation", "hyperdrive", "modelmanagement", "studio"):
        assert services[key] == emulator.url


def test_arm_workspace_returns_the_requested_names(client: httpx.Client, emulator: RunningEmulator) -> None:
    scope = {"subscription_id": "sub-x", "resource_group": "rg-x", "workspace_name": "ws-x"}
    response = client.get(
        emulator.url + routes.ARM_WORKSPACE.path(**scope), params={"api-version": "2020-06-01"}
    )

    assert response.status_code == 200
    workspace = response.json()
    assert workspace["name"] == "ws-x"
    assert workspace["id"] == routes.ARM_WORKSPACE.path(**scope)
    assert workspace["location"] == "westeurope"
    assert workspace["properties"]["discoveryUrl"] == f"{emulator.url}/discovery"
    assert workspace["properties"]["workspaceId"] == WORKSPACE_ID


# -- AEVA reads ----------------------------------------------------------------------------------------
def test_data_types_lists_the_eleven_defaults(client: httpx.Client, emulator: RunningEmulator) -> None:
    types = client.get(url(emulator.url, routes.DATA_TYPES)).json()

    assert len(types) == 11
    assert {"AnyFile", "AnyDirectory", "AzureMLDataset"} <= {t["Id"] for t in types}
    created = client.post(url(emulator.url, routes.CREATE_DATA_TYPE), json={"Id": "Custom", "Name": "Custom"})
    assert created.status_code == 200
    assert created.json()["Id"] == "Custom"


def test_graph_interface_types_parameters(client: httpx.Client, emulator: RunningEmulator) -> None:
    pipeline = client.get(url(emulator.url, routes.GET_PIPELINE, pipeline_id=TRAINING_V2)).json()
    assert pipeline["ParameterAssignments"] == {"avg_rate": "0.5", "epochs": "10"}

    interface = client.get(url(emulator.url, routes.GET_GRAPH_INTERFACE, graph_id=pipeline["GraphId"])).json()
    graph = client.get(url(emulator.url, routes.GET_GRAPH, graph_id=pipeline["GraphId"])).json()

    assert {(p["Name"], p["Type"], p["DefaultValue"]) for p in interface["Parameters"]} == {
        ("avg_rate", "1", "0.5"),
        ("epochs", "0", "10"),
    }
    assert [node["Id"] for node in graph["ModuleNodes"]] == ["7a1c9e43"]


def test_endpoint_lookups(client: httpx.Client, emulator: RunningEmulator) -> None:
    by_name = client.get(url(emulator.url, routes.GET_ENDPOINT_BY_NAME), params={"Name": "training-endpoint"})
    by_id = client.get(url(emulator.url, routes.GET_ENDPOINT, endpoint_id=TRAINING_ENDPOINT))
    versions = client.get(url(emulator.url, routes.ENDPOINT_PIPELINES, endpoint_id=TRAINING_ENDPOINT))
    listing = client.get(url(emulator.url, routes.LIST_ENDPOINTS), params={"activeOnly": "true"})

    assert by_name.json() == by_id.json()
    assert by_id.json()["Url"] == url(emulator.url, routes.SUBMIT_ENDPOINT, endpoint_id=TRAINING_ENDPOINT)
    assert by_id.json()["PipelineVersionList"] == [
        {"Version": "0", "PipelineId": TRAINING_V1},
        {"Version": "1", "PipelineId": TRAINING_V2},
    ]
    assert [p["Id"] for p in versions.json()] == [TRAINING_V1, TRAINING_V2]
    assert {e["Name"] for e in listing.json()} == {"training-endpoint", "batch-scoring-endpoint"}
    missing = client.get(url(emulator.url, routes.GET_ENDPOINT_BY_NAME), params={"Name": "nope"})
    _aeva_error(missing, 404, "NotFound")


# -- submission and lifecycle --------------------------------------------------------------------------
def test_run_goes_through_the_lifecycle(client: httpx.Client, emulator: RunningEmulator) -> None:
    emulator.backend.hold()
    run = submit(client, emulator.url, tags={"dag_run": "r1"}, ParameterAssignments={"avg_rate": 0.25})
    seen = [run["Status"]["StatusCode"]]
    for status in (RunStatus.QUEUED, RunStatus.RUNNING, None):
        move_to(emulator, run["Id"], status)
        seen.append(run_status(client, emulator.url, run["Id"]))

    assert seen == [RunStatus.NOT_STARTED, RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.FINISHED]
    assert run["ParameterAssignments"] == {"avg_rate": "0.25"}
    assert run["tags"] == {"dag_run": "r1", "azureml.pipelineid": TRAINING_V1}
    dto = client.get(url(emulator.url, routes.GET_RUN, experiment_name="exp", run_id=run["Id"])).json()
    assert dto["status"] == RunStatus.COMPLETED
    assert dto["properties"]["azureml.runsource"] == "azureml.PipelineRun"
    assert dto["properties"]["azureml.parameters"] == '{"avg_rate": "0.25"}'
    assert dto["dataContainerId"] == f"dcid.{run['Id']}"
    assert dto["rootRunId"] == run["Id"]


def test_numbers_and_bools_in_assignments_are_stringified(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    run = submit(
        client, emulator.url, SCORING, ParameterAssignments={"mini_batch_size": 5, "input_path": True}
    )

    assert run["ParameterAssignments"] == {"mini_batch_size": "5", "input_path": "True"}


def test_endpoint_submit_with_version_in_path_and_query(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    target = url(
        emulator.url, routes.SUBMIT_ENDPOINT_VERSION, endpoint_id=TRAINING_ENDPOINT, pipeline_version="0"
    )
    pinned = client.post(target, params={"pipelineVersion": "0"}, json={"ExperimentName": "exp"})
    default = client.post(
        url(emulator.url, routes.SUBMIT_ENDPOINT, endpoint_id=TRAINING_ENDPOINT),
        json={"ExperimentName": "exp"},
    )
    by_query = client.post(
        url(emulator.url, routes.SUBMIT_ENDPOINT, endpoint_id=TRAINING_ENDPOINT),
        params={"pipelineVersion": "0"},
        json={"ExperimentName": "exp"},
    )

    assert pinned.json()["PipelineId"] == TRAINING_V1
    assert default.json()["PipelineId"] == TRAINING_V2
    assert by_query.json()["PipelineId"] == TRAINING_V1
    mismatch = client.post(target, params={"pipelineVersion": "1"}, json={"ExperimentName": "exp"})
    assert "differs" in _aeva_error(mismatch, 400, "BadRequest")
    missing = client.post(target.replace("/0", "/7"), json={"ExperimentName": "exp"})
    _aeva_error(missing, 404, "NotFound")


def test_failed_run_reports_the_failing_step(client: httpx.Client, emulator: RunningEmulator) -> None:
    run = submit(client, emulator.url, ParameterAssignments={"avg_rate": FAILING_RATE})
    assert finish(client, emulator, run["Id"]) == RunStatus.FAILED

    entity = client.get(url(emulator.url, routes.GET_PIPELINE_RUN, run_id=run["Id"])).json()
    root = client.get(url(emulator.url, routes.GET_RUN, experiment_name="exp", run_id=run["Id"])).json()
    children = client.get(
        url(emulator.url, routes.GET_RUN_CHILDREN, experiment_name="exp", run_id=run["Id"]),
        params={"$top": "500", "$orderby": "StartTimeUtc desc"},
    ).json()

    assert entity["HasErrors"] is True
    assert root["status"] == RunStatus.FAILED
    assert "'train'" in root["error"]["error"]["message"]
    assert FAILING_MESSAGE in root["error"]["error"]["message"]
    [step] = children["value"]
    assert children["continuationToken"] is None
    assert step["runType"] == "azureml.StepRun"
    assert step["tags"] == {"azureml.nodeid": TRAIN_NODE, "azureml.pipeline": run["Id"]}
    assert step["parentRunId"] == run["Id"]
    assert step["rootRunId"] == run["Id"]
    assert step["name"] == step["displayName"] == "train"
    assert step["status"] == RunStatus.FAILED
    assert step["error"] == {
        "error": {
            "code": "UserError",
            "message": FAILING_MESSAGE,
            "target": None,
            "details": [],
            "innerError": None,
        },
        "correlation": None,
    }
    assert step["dataContainerId"] == f"dcid.{step['runId']}"
    assert step["startTimeUtc"] and step["endTimeUtc"] and step["createdUtc"]


def test_node_status_routes(client: httpx.Client, emulator: RunningEmulator) -> None:
    run = submit(client, emulator.url)
    finish(client, emulator, run["Id"])

    node = client.post(url(emulator.url, routes.NODE_STATUS, run_id=run["Id"]), json=[TRAIN_NODE])
    nodes = client.post(url(emulator.url, routes.ALL_NODES_STATUS, run_id=run["Id"]), json=[])

    assert node.status_code == 200
    assert node.json() == RunStatus.FINISHED
    assert nodes.json()[TRAIN_NODE]["StatusCode"] == RunStatus.FINISHED
    assert nodes.json()[TRAIN_NODE]["RunId"]
    unknown = client.post(url(emulator.url, routes.NODE_STATUS, run_id=run["Id"]), json=["nope"])
    _aeva_error(unknown, 404, "NotFound")


def test_cancel_running_then_terminal_run(client: httpx.Client, emulator: RunningEmulator) -> None:
    emulator.backend.set_default_durations({"step": 30.0, "cancel": 0.3})
    run = submit(client, emulator.url)
    move_to(emulator, run["Id"], RunStatus.RUNNING)
    cancel = url(emulator.url, routes.CANCEL_PIPELINE_RUN, run_id=run["Id"])

    first = client.delete(cancel)

    assert first.status_code == 200
    assert first.content == b""
    assert run_status(client, emulator.url, run["Id"]) == RunStatus.CANCEL_REQUESTED
    assert finish(client, emulator, run["Id"]) == RunStatus.CANCELED
    timeline = emulator.backend.get_run(run["Id"]).timeline
    assert client.delete(cancel).status_code == 200
    assert emulator.backend.get_run(run["Id"]).timeline == timeline


def test_cancel_of_finished_run_is_a_no_op(client: httpx.Client, emulator: RunningEmulator) -> None:
    run = submit(client, emulator.url)
    finish(client, emulator, run["Id"])

    response = client.delete(url(emulator.url, routes.CANCEL_PIPELINE_RUN, run_id=run["Id"]))

    assert response.status_code == 200
    assert run_status(client, emulator.url, run["Id"]) == RunStatus.FINISHED


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "json"),
        (b"", "empty"),
        (b'{"ExperimentName": "exp", "ParameterAssignments": ["avg_rate"]}', "ParameterAssignments"),
        (b'{"ExperimentName": "exp", "ParameterAssignments": {"avg_rate": null}}', "ParameterAssignments"),
        (b'{"ParameterAssignments": {}}', "ExperimentName"),
        (b'{"experimentName": "exp"}', "ExperimentName"),
        (b'{"ExperimentName": "  "}', "ExperimentName"),
        (b'{"ExperimentName": 42}', "ExperimentName"),
        (b"[]", "body"),
    ],
)
def test_bad_submission_bodies_are_400(
    client: httpx.Client, emulator: RunningEmulator, body: bytes, needle: str
) -> None:
    response = client.post(
        url(emulator.url, routes.SUBMIT_PIPELINE, pipeline_id=TRAINING_V1),
        content=body,
        headers={"Content-Type": "application/json-patch+json; charset=utf-8"},
    )

    assert needle.lower() in _aeva_error(response, 400, "BadRequest").lower()
    assert emulator.backend.submissions() == []


def test_unknown_parameters_name_the_unknown_and_the_valid(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    response = client.post(
        url(emulator.url, routes.SUBMIT_PIPELINE, pipeline_id=TRAINING_V2),
        json={"ExperimentName": "exp", "ParameterAssignments": {"lr": "1", "batch": "2", "epochs": "3"}},
    )

    message = _aeva_error(response, 400, "BadRequest")
    assert "batch, lr" in message
    assert "avg_rate, epochs" in message


def test_unknown_parameters_can_be_allowed() -> None:
    with run_emulator(allow_unknown_parameters=True) as emulator, httpx.Client(headers=AUTH) as client:
        run = submit(client, emulator.url, ParameterAssignments={"lr": "1"})

        [submission] = emulator.backend.submissions()
        assert submission.parameters_resolved == {"avg_rate": "0.5", "lr": "1"}
        assert run["ParameterAssignments"] == {"avg_rate": "0.5", "lr": "1"}


def test_unknown_ids_are_404(client: httpx.Client, emulator: RunningEmulator) -> None:
    base = emulator.url
    _aeva_error(client.get(url(base, routes.GET_PIPELINE, pipeline_id="nope")), 404, "NotFound")
    _aeva_error(client.get(url(base, routes.GET_PIPELINE_RUN, run_id="nope")), 404, "NotFound")
    _aeva_error(client.get(url(base, routes.GET_GRAPH_INTERFACE, graph_id="nope")), 404, "NotFound")
    _aeva_error(client.delete(url(base, routes.CANCEL_PIPELINE_RUN, run_id="nope")), 404, "NotFound")
    _aeva_error(
        client.post(url(base, routes.SUBMIT_PIPELINE, pipeline_id="nope"), json={"ExperimentName": "e"}),
        404,
        "NotFound",
    )
    _aeva_error(
        client.post(url(base, routes.SUBMIT_ENDPOINT, endpoint_id="nope"), json={"ExperimentName": "e"}),
        404,
        "NotFound",
    )
    _history_error(client.get(url(base, routes.GET_RUN, experiment_name="e", run_id="nope")), 404, "NotFound")
    _aeva_error(client.get(base + "/pipelines/v1.0/nothing/here"), 404, "NotFound")
    _history_error(client.get(base + "/history/v1.0/nothing"), 404, "NotFound")


def test_run_in_another_experiment_is_404(client: httpx.Client, emulator: RunningEmulator) -> None:
    run = submit(client, emulator.url)

    response = client.get(url(emulator.url, routes.GET_RUN, experiment_name="other", run_id=run["Id"]))

    _history_error(response, 404, "NotFound")


def test_disabled_pipeline_and_endpoint_refuse_runs(client: httpx.Client, emulator: RunningEmulator) -> None:
    status = client.put(
        url(emulator.url, routes.SET_PIPELINE_STATUS, pipeline_id=TRAINING_V1), json="Disabled"
    )
    assert status.status_code == 200
    refused = client.post(
        url(emulator.url, routes.SUBMIT_PIPELINE, pipeline_id=TRAINING_V1), json={"ExperimentName": "exp"}
    )
    assert "Disabled" in _aeva_error(refused, 400, "BadRequest")
    active = client.get(url(emulator.url, routes.LIST_PIPELINES), params={"activeOnly": "true"}).json()
    assert TRAINING_V1 not in {p["Id"] for p in active}

    registered = httpx.post(
        f"{emulator.url}/_emulator/endpoints",
        json={"name": "off", "versions": [TRAINING_V2], "status": "Disabled"},
    )
    assert registered.status_code == 200
    off = client.post(
        url(emulator.url, routes.SUBMIT_ENDPOINT, endpoint_id=registered.json()["id"]),
        json={"ExperimentName": "e"},
    )
    assert "Disabled" in _aeva_error(off, 400, "BadRequest")


def test_bad_query_parameters_are_400(client: httpx.Client, emulator: RunningEmulator) -> None:
    response = client.get(url(emulator.url, routes.LIST_PIPELINES), params={"activeOnly": "maybe"})

    assert "activeOnly" in _aeva_error(response, 400, "BadRequest")


def test_unexpected_errors_are_500_without_traceback(
    client: httpx.Client, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(pipeline_id: str) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(emulator.backend.registry, "get_pipeline", explode)

    response = client.get(url(emulator.url, routes.GET_PIPELINE, pipeline_id=TRAINING_V1))

    _aeva_error(response, 500, "InternalServerError")
    assert "secret internals" not in response.text
    assert client.get(url(emulator.url, routes.DATA_TYPES)).status_code == 200


# -- auth ----------------------------------------------------------------------------------------------
def test_requests_without_bearer_get_401(emulator: RunningEmulator) -> None:
    aeva = httpx.get(url(emulator.url, routes.GET_PIPELINE, pipeline_id=TRAINING_V1))
    history = httpx.get(url(emulator.url, routes.GET_RUN, experiment_name="e", run_id="r"))
    basic = httpx.get(url(emulator.url, routes.DATA_TYPES), headers={"Authorization": "Basic abc"})
    empty = httpx.get(url(emulator.url, routes.DATA_TYPES), headers={"Authorization": "Bearer"})

    _aeva_error(aeva, 401, "Unauthorized")
    _history_error(history, 401, "Unauthorized")
    _aeva_error(basic, 401, "Unauthorized")
    _aeva_error(empty, 401, "Unauthorized")


def test_expected_token_is_enforced_and_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-token-value"
    with run_emulator(expected_token=secret) as emulator:
        caplog.set_level("DEBUG")
        wrong = httpx.get(url(emulator.url, routes.DATA_TYPES), headers={"Authorization": "Bearer other"})
        right = httpx.get(url(emulator.url, routes.DATA_TYPES), headers={"Authorization": f"Bearer {secret}"})

    _aeva_error(wrong, 401, "Unauthorized")
    assert right.status_code == 200
    assert secret not in caplog.text
    assert "other" not in wrong.text


# -- faults --------------------------------------------------------------------------------------------
def test_throttle_fault_sends_retry_after_then_recovers(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.faults.inject("GET_PIPELINE", kind="throttle", count=2, retry_after=3)
    target = url(emulator.url, routes.GET_PIPELINE, pipeline_id=TRAINING_V1)

    first, second, third = client.get(target), client.get(target), client.get(target)

    for response in (first, second):
        _aeva_error(response, 429, "TooManyRequests")
        assert response.headers["Retry-After"] == "3"
    assert third.status_code == 200


def test_error_fault_matches_method_and_route(client: httpx.Client, emulator: RunningEmulator) -> None:
    emulator.faults.inject("GET_PIPELINE_RUN", "GET", kind="error", status=503)
    run = submit(client, emulator.url)

    failed = client.get(url(emulator.url, routes.GET_PIPELINE_RUN, run_id=run["Id"]))

    _aeva_error(failed, 503, "ServiceUnavailable")
    assert client.get(url(emulator.url, routes.GET_PIPELINE_RUN, run_id=run["Id"])).status_code == 200


def test_error_fault_by_path_glob_in_history_shape(client: httpx.Client, emulator: RunningEmulator) -> None:
    emulator.faults.inject("*/experiments/exp/runs/*", kind="error", status=500)
    run = submit(client, emulator.url)

    failed = client.get(url(emulator.url, routes.GET_RUN, experiment_name="exp", run_id=run["Id"]))

    _history_error(failed, 500, "InternalServerError")


def test_delay_fault(client: httpx.Client, emulator: RunningEmulator) -> None:
    emulator.faults.inject("DATA_TYPES", kind="delay", delay=0.4)
    target = url(emulator.url, routes.DATA_TYPES)

    started = time.monotonic()
    delayed = client.get(target)
    delayed_for = time.monotonic() - started

    assert delayed.status_code == 200
    assert delayed_for >= 0.4  # a lower bound: no machine makes it faster
    assert emulator.faults.pending() == []  # spent: the next request is served as usual


def test_drop_fault_closes_the_connection_without_response(emulator: RunningEmulator) -> None:
    emulator.faults.inject("GET_PIPELINE", kind="drop")
    target = url(emulator.url, routes.GET_PIPELINE, pipeline_id=TRAINING_V1)

    with pytest.raises(requests.ConnectionError) as raised:
        requests.get(target, headers=AUTH, timeout=5)

    assert "RemoteDisconnected" in repr(raised.value) or "Connection aborted" in str(raised.value)
    assert requests.get(target, headers=AUTH, timeout=5).status_code == 200


def test_drop_after_fault_applies_the_request_but_loses_the_answer(emulator: RunningEmulator) -> None:
    emulator.faults.inject("SUBMIT_PIPELINE", kind="drop_after")
    target = url(emulator.url, routes.SUBMIT_PIPELINE, pipeline_id=TRAINING_V1)

    with pytest.raises(requests.ConnectionError):
        requests.post(target, headers=AUTH, json={"ExperimentName": "exp"}, timeout=5)

    assert len(emulator.backend.submissions()) == 1
    assert requests.post(target, headers=AUTH, json={"ExperimentName": "exp"}, timeout=5).status_code == 200
    assert len(emulator.backend.submissions()) == 2


def test_faults_through_the_admin_api(client: httpx.Client, emulator: RunningEmulator) -> None:
    added = httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"route": "DATA_TYPES", "method": "GET", "kind": "throttle", "count": 1, "retry_after": 2},
    )
    assert added.status_code == 200
    assert [f["route"] for f in httpx.get(f"{emulator.url}/_emulator/faults").json()] == ["DATA_TYPES"]

    throttled = client.get(url(emulator.url, routes.DATA_TYPES))

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    httpx.post(f"{emulator.url}/_emulator/faults", json={"path": "*/DataTypes", "kind": "error", "count": 5})
    assert httpx.delete(f"{emulator.url}/_emulator/faults").json() == {"cleared": 1}
    assert client.get(url(emulator.url, routes.DATA_TYPES)).status_code == 200
    bad = httpx.post(f"{emulator.url}/_emulator/faults", json={"route": "NO_SUCH_ROUTE", "kind": "drop"})
    assert "NO_SUCH_ROUTE" in _history_error(bad, 400, "BadRequest")


# -- runs:query ----------------------------------------------------------------------------------------
def _query(client: httpx.Client, base: str, experiment: str = "exp", **body: Any) -> httpx.Response:
    return client.post(url(base, routes.QUERY_RUNS, experiment_name=experiment), json=body)


def test_runs_query_filters(client: httpx.Client, emulator: RunningEmulator) -> None:
    tagged = submit(client, emulator.url, tags={"airflow.try": "dag.task.1", "team": "o'brien"})
    other = submit(client, emulator.url, tags={"airflow.try": "dag.task.2"})
    finish(client, emulator, tagged["Id"])
    finish(client, emulator, other["Id"])

    def ids(filter_text: str) -> set[str]:
        response = _query(client, emulator.url, filter=filter_text)
        assert response.status_code == 200, response.text
        return {run["runId"] for run in response.json()["value"]}

    assert ids("(Tags/airflow.try eq 'dag.task.1')") == {tagged["Id"]}
    assert ids("(Tags/airflow.try eq dag.task.2)") == {other["Id"]}
    assert ids("(Tags/team eq 'o''brien')") == {tagged["Id"]}
    assert ids("(Tags/team ne null or Tags/team eq null)") == {tagged["Id"]}
    assert ids("(Tags/airflow.try eq 'dag.task.1') and (Status eq 'Completed')") == {tagged["Id"]}
    assert ids("(Tags/airflow.try eq 'dag.task.1') and (Status eq Failed)") == set()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert ids(f"(Tags/airflow.try eq 'dag.task.1') and (CreatedUtc ge {future})") == set()
    assert ids(f"(Tags/airflow.try eq 'dag.task.1') and (CreatedUtc ge '{past}')") == {tagged["Id"]}
    assert tagged["Id"] not in {r["runId"] for r in _query(client, emulator.url, "other-exp").json()["value"]}


def test_runs_query_pages_with_continuation_token(client: httpx.Client, emulator: RunningEmulator) -> None:
    submitted = [submit(client, emulator.url, tags={"batch": "b"})["Id"] for _ in range(5)]

    seen, token, pages = [], None, 0
    while True:
        page = _query(
            client,
            emulator.url,
            filter="Tags/batch eq 'b'",
            top=2,
            orderby="CreatedUtc asc",
            continuationToken=token,
        ).json()
        seen += [run["runId"] for run in page["value"]]
        pages += 1
        token = page["continuationToken"]
        if token is None:
            break

    assert seen == submitted
    assert pages == 3


def test_runs_query_by_run_ids_pages_as_the_sdk_asks(client: httpx.Client, emulator: RunningEmulator) -> None:
    """``get_runs_by_run_ids``: bare ids joined with ``or``, ``RunId desc``, paged by ``top``; an id of
    another experiment or of no run is simply not in the answer."""
    wanted = [submit(client, emulator.url)["Id"] for _ in range(5)]
    elsewhere = submit(client, emulator.url, ExperimentName="other")["Id"]
    finish(client, emulator, wanted[0])
    filter_text = " or ".join(f"RunId eq {run_id}" for run_id in [*wanted, elsewhere, "no-such-run"])

    pages, token = [], None
    while True:
        page = _query(
            client, emulator.url, filter=filter_text, top=2, orderby="RunId desc", continuationToken=token
        ).json()
        pages.append(page["value"])
        if (token := page["continuationToken"]) is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [run["runId"] for page in pages for run in page] == sorted(wanted, reverse=True)
    status = {run["runId"]: run["status"] for page in pages for run in page}
    assert status[wanted[0]] == "Completed"  # run history's word for Finished


def test_runs_query_rejects_unsupported_filters(client: httpx.Client, emulator: RunningEmulator) -> None:
    response = _query(client, emulator.url, filter="Name gt 3")

    assert "Name gt 3" in _history_error(response, 400, "BadRequest")
    assert _query(client, emulator.url, orderby="Colour desc").status_code == 400
    assert _query(client, emulator.url, continuationToken="abc").status_code == 400


# -- artifacts -----------------------------------------------------------------------------------------
def test_failing_step_log_ends_with_the_error(client: httpx.Client, emulator: RunningEmulator) -> None:
    run = submit(client, emulator.url, ParameterAssignments={"avg_rate": FAILING_RATE})
    finish(client, emulator, run["Id"])
    [step] = client.get(
        url(emulator.url, routes.GET_RUN_CHILDREN, experiment_name="exp", run_id=run["Id"])
    ).json()["value"]
    container = step["dataContainerId"]

    listing = client.get(
        url(
            emulator.url,
            routes.LIST_ARTIFACTS,
            origin="ExperimentRun",
            container=container,
            prefix="azureml-logs",
        )
    ).json()
    [entry] = listing["value"]
    by_uri = httpx.get(entry["contentUri"])  # like a SAS URL: no bearer needed
    direct = client.get(
        url(
            emulator.url,
            routes.GET_ARTIFACT_CONTENT,
            origin="ExperimentRun",
            container=container,
            artifact_path="azureml-logs/70_driver_log.txt",
        )
    )

    assert entry["path"] == "azureml-logs/70_driver_log.txt"
    assert entry["origin"] == "ExperimentRun"
    assert entry["container"] == container
    assert by_uri.status_code == 200
    assert by_uri.text == direct.text
    assert by_uri.text.rstrip().splitlines()[-1] == f"UserError: {FAILING_MESSAGE}"
    assert "Traceback (most recent call last):" in by_uri.text


def test_artifact_listings_and_access(client: httpx.Client, emulator: RunningEmulator) -> None:
    run = submit(client, emulator.url)
    finish(client, emulator, run["Id"])
    root_logs = client.get(
        url(
            emulator.url,
            routes.LIST_ARTIFACTS,
            origin="ExperimentRun",
            container=f"dcid.{run['Id']}",
            prefix="user_logs",
        )
    )
    step_id = emulator.backend.get_run(run["Id"]).steps[TRAIN_NODE].run_id
    container = client.get(
        url(emulator.url, routes.LIST_ARTIFACT_CONTAINER, origin="ExperimentRun", container=f"dcid.{step_id}")
    )
    content = url(
        emulator.url,
        routes.GET_ARTIFACT_CONTENT,
        origin="ExperimentRun",
        container=f"dcid.{step_id}",
        artifact_path="azureml-logs/70_driver_log.txt",
    )

    assert root_logs.json() == {"value": [], "continuationToken": None}
    assert [a["path"] for a in container.json()["value"]] == ["azureml-logs/70_driver_log.txt"]
    assert "completed successfully" in client.get(content).text
    _history_error(httpx.get(content), 401, "Unauthorized")
    _history_error(httpx.get(content, params={"sig": "forged"}), 401, "Unauthorized")
    _history_error(client.get(content.replace("70_driver", "99_other")), 404, "NotFound")


# -- admin API -----------------------------------------------------------------------------------------
def test_admin_submissions_and_request_counts(client: httpx.Client, emulator: RunningEmulator) -> None:
    run = submit(client, emulator.url, ParameterAssignments={"avg_rate": "0.3"}, tags={"k": "v"})
    for _ in range(3):
        run_status(client, emulator.url, run["Id"])

    [submission] = httpx.get(f"{emulator.url}/_emulator/submissions").json()
    counts = httpx.get(f"{emulator.url}/_emulator/requests").json()

    assert submission["run_id"] == run["Id"]
    assert submission["pipeline_id"] == TRAINING_V1
    assert submission["experiment_name"] == "exp"
    assert submission["parameters_received"] == {"avg_rate": "0.3"}
    assert submission["parameters_resolved"] == {"avg_rate": "0.3"}
    assert submission["tags"] == {"k": "v"}
    assert submission["submitted_at"] > 0
    assert counts["routes"]["GET GET_PIPELINE_RUN"] == 3
    assert counts["routes"]["POST SUBMIT_PIPELINE"] == 1
    assert counts["runs"][run["Id"]] == 3
    assert httpx.get(f"{emulator.url}/_emulator/health").json() == {"status": "ok", "runs": 1}


def test_admin_registers_a_pipeline_with_behaviour(client: httpx.Client, emulator: RunningEmulator) -> None:
    registered = httpx.post(
        f"{emulator.url}/_emulator/pipelines",
        json={
            "name": "flaky",
            "parameters": [
                {"name": "mode", "type": "string", "default": "ok"},
                {"name": "n", "type": "int", "default": 1},
            ],
            "steps": [{"name": "one"}, {"name": "two", "script": "two.py"}],
            "behaviour": {
                "durations": {"step": 0.01},
                "fail": [{"step": "two", "message": "boom", "when": {"mode": ["bad", "worse"]}}],
            },
        },
    )
    assert registered.status_code == 200, registered.text
    pipeline_id = registered.json()["id"]

    good = submit(client, emulator.url, pipeline_id)
    bad = submit(client, emulator.url, pipeline_id, ParameterAssignments={"mode": "worse"})

    assert finish(client, emulator, good["Id"]) == RunStatus.FINISHED
    assert finish(client, emulator, bad["Id"]) == RunStatus.FAILED
    assert good["TotalRunSteps"] == 2
    invalid = httpx.post(f"{emulator.url}/_emulator/pipelines", json={"name": "x", "steps": []})
    assert "steps" in _history_error(invalid, 400, "BadRequest")
    wrong_step = httpx.post(
        f"{emulator.url}/_emulator/pipelines",
        json={"name": "x", "steps": [{"name": "a"}], "behaviour": {"fail": {"step": "zz", "message": "m"}}},
    )
    assert "zz" in _history_error(wrong_step, 400, "BadRequest")


def test_admin_reset_restores_the_seed(client: httpx.Client, emulator: RunningEmulator) -> None:
    submit(client, emulator.url)
    httpx.post(f"{emulator.url}/_emulator/pipelines", json={"name": "extra", "steps": [{"name": "s"}]})
    emulator.faults.inject("GET_RUN", kind="drop")

    assert httpx.post(f"{emulator.url}/_emulator/reset", json={}).status_code == 200

    assert emulator.backend.submissions() == []
    assert emulator.faults.pending() == []
    names = {p["Name"] for p in client.get(url(emulator.url, routes.LIST_PIPELINES)).json()}
    assert names == {"training-pipeline", "batch-scoring-pipeline"}


def test_admin_durations(emulator: RunningEmulator) -> None:
    response = httpx.put(f"{emulator.url}/_emulator/durations", json={"step": 2.5})

    assert response.status_code == 200
    assert response.json()["step"] == 2.5
    assert emulator.backend.default_durations.step == 2.5
    assert httpx.put(f"{emulator.url}/_emulator/durations", json={"step": -1}).status_code == 400
