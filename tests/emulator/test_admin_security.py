"""The emulator's admin surface and its bad input, over HTTP: fault path patterns that cannot stall it,
admin writes only as JSON (and with the admin token when it has one), and 400s, never 500s, for
malformed bodies."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_azureml.emulator.__main__ import parser
from airflow_provider_azureml.emulator.connection import ADMIN_TOKEN_ENV, ADMIN_TOKEN_HEADER
from airflow_provider_azureml.emulator.infrastructure.faults import glob_match
from airflow_provider_azureml.emulator.infrastructure.routing import ROUTES
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.emulator.testing import cli_emulator as start_cli
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.routes import Route
from tests.emulator.support import AUTH, SCOPE, TRAINING_ENDPOINT, TRAINING_V1, url

ADMIN_TOKEN = "admin-s3cret-value"
#: Far above what a healthy answer takes on a loaded machine, far below what the regex rule took.
PATIENCE = 10.0
JSON = {"Content-Type": "application/json"}


# -- the emulator CLI, in its own process ---------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The CLI with its admin token from the environment, logging at debug level to a file; yields
    (base URL, log file). Its own process, so a stalled event loop there is a client timeout here."""
    log = tmp_path_factory.mktemp("cli-emulator") / "emulator.log"
    env = {**os.environ, ADMIN_TOKEN_ENV: ADMIN_TOKEN}
    with log.open("w") as sink, start_cli("--log-level", "debug", env=env, stderr=sink.fileno()) as (url, _):
        yield url, log


def _history_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["correlation"]["request"]
    return str(body["error"]["message"])


def _aeva_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["Error"]["Code"] == code
    assert body["Correlation"]["operation"]
    return str(body["Error"]["Message"])


def test_admin_token_guards_every_admin_write_and_is_never_logged(cli_emulator: tuple[str, Path]) -> None:
    base, log = cli_emulator
    rule = {"route": "DATA_TYPES", "kind": "drop"}
    with httpx.Client(base_url=base, timeout=PATIENCE) as admin:
        refused = [
            admin.post("/_emulator/faults", json=rule),
            admin.post("/_emulator/faults", json=rule, headers={ADMIN_TOKEN_HEADER: "wrong"}),
            admin.post("/_emulator/faults", json=rule, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}),
            admin.put("/_emulator/durations", json={"step": 9}),
            admin.delete("/_emulator/faults"),
            admin.post("/_emulator/reset", json={}),
        ]
        reads = [admin.get("/_emulator/health"), admin.get("/_emulator/faults")]
        accepted = admin.post("/_emulator/faults", json=rule, headers={ADMIN_TOKEN_HEADER: ADMIN_TOKEN})
        cleared = admin.delete("/_emulator/faults", headers={ADMIN_TOKEN_HEADER: ADMIN_TOKEN})

    for response in refused:
        assert ADMIN_TOKEN_HEADER in _history_error(response, 401, "Unauthorized")
    assert [response.status_code for response in reads] == [200, 200]
    assert reads[1].json() == []
    assert accepted.status_code == 200, accepted.text
    assert cleared.json() == {"cleared": 1}
    assert ADMIN_TOKEN not in log.read_text()
    assert all(ADMIN_TOKEN not in response.text for response in [*refused, accepted])


def test_admin_token_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, "from-env")

    assert parser().parse_args([]).admin_token == "from-env"
    assert parser().parse_args(["--admin-token", "from-flag"]).admin_token == "from-flag"
    monkeypatch.delenv(ADMIN_TOKEN_ENV)
    assert parser().parse_args([]).admin_token is None


# -- fault path patterns ----------------------------------------------------------------------------------
def test_pathological_fault_path_does_not_stall_the_emulator(cli_emulator: tuple[str, Path]) -> None:
    """As a regex rule, ``(a+)+b`` took time exponential in the path's length: a 41-character path got
    no answer within 10 s, and neither did health meanwhile. The glob is one pass over the path."""
    base, _ = cli_emulator
    long_path = "/" + "a" * 40
    with httpx.Client(base_url=base, timeout=PATIENCE, headers=AUTH) as client:
        added = client.post(
            "/_emulator/faults",
            json={"path": "*a*a*a*a*a*a*a*b", "kind": "error", "status": 503},
            headers={ADMIN_TOKEN_HEADER: ADMIN_TOKEN},
        )
        assert added.status_code == 200, added.text

        missed = client.get(long_path)
        health = client.get("/_emulator/health")
        hit = client.get(long_path + "b")

    assert missed.status_code == 404
    assert health.json()["status"] == "ok"
    _history_error(hit, 503, "ServiceUnavailable")


def test_path_regex_is_refused_naming_what_replaced_it(emulator: RunningEmulator) -> None:
    faults = f"{emulator.url}/_emulator/faults"

    regex = httpx.post(faults, json={"path_regex": "(a+)+b", "kind": "error"})
    relative = httpx.post(faults, json={"path": "DataTypes", "kind": "error"})
    too_long = httpx.post(faults, json={"path": "/" + "a*" * 600, "kind": "error"})

    message = _history_error(regex, 400, "BadRequest")
    assert "path_regex" in message and "'path'" in message and "'*'" in message
    assert "start with '/' or '*'" in _history_error(relative, 400, "BadRequest")
    _history_error(too_long, 400, "BadRequest")
    assert emulator.faults.pending() == []


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/a/b", "/a/b", True),
        ("/a/b", "/a/b/c", False),  # the whole path, not a search in it
        ("*/b", "/a/b", True),
        ("/a*", "/a/b/c", True),  # '*' crosses '/'
        ("*/runs/*/details", "/h/runs/r1/details", True),
        ("*/runs/*/details", "/h/runs/r1/children", False),
        ("*a*a*b", "/ab", False),  # each piece is used once, left to right
        ("*a*a*b", "/aab", True),
        ("/x*x", "/x", False),  # head and tail may not overlap
        ("/a.b", "/aXb", False),  # '.' is literal
        ("/[ab]", "/a", False),  # and so are brackets
        ("**", "/", True),
    ],
)
def test_fault_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


# -- admin writes take JSON -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "what", "content", "content_type"),
    [
        ("POST", "faults", json.dumps({"route": "DATA_TYPES", "kind": "drop"}), "text/plain"),
        ("POST", "pipelines", "name=x&steps=s", "application/x-www-form-urlencoded"),
        ("POST", "reset", None, None),  # a body-less POST is still a cross-site "simple request"
        ("POST", "endpoints", json.dumps({"name": "e", "versions": ["x"]}), None),
        ("PUT", "durations", json.dumps({"step": 9}), "text/plain"),
        ("DELETE", "faults", "x", "text/plain"),
    ],
)
def test_admin_writes_need_a_json_content_type(
    emulator: RunningEmulator, method: str, what: str, content: str | None, content_type: str | None
) -> None:
    emulator.faults.inject("GET_RUN", kind="drop")
    headers = {"Content-Type": content_type} if content_type else {}

    refused = httpx.request(method, f"{emulator.url}/_emulator/{what}", content=content, headers=headers)

    assert "application/json" in _history_error(refused, 415, "UnsupportedMediaType")
    assert len(emulator.faults.pending()) == 1
    assert emulator.backend.default_durations.step != 9


def test_admin_writes_as_json_and_body_less_deletes_are_served(emulator: RunningEmulator) -> None:
    admin = f"{emulator.url}/_emulator"
    rule = json.dumps({"route": "DATA_TYPES", "kind": "drop"})

    added = httpx.post(
        f"{admin}/faults", content=rule, headers={"Content-Type": "Application/JSON; charset=utf-8"}
    )
    cleared = httpx.delete(f"{admin}/faults")
    reset = httpx.post(f"{admin}/reset", json={})

    assert added.status_code == 200, added.text
    assert cleared.json() == {"cleared": 1}
    assert reset.status_code == 200


# -- malformed bodies are 400s -----------------------------------------------------------------------------
def _graph(**graph: Any) -> dict[str, Any]:
    return {"Name": "p", "Graph": graph}


AEVA_CASES: list[tuple[Route, Any]] = [
    (routes.CREATE_PIPELINE, b"not json"),
    (routes.CREATE_PIPELINE, b"[]"),  # JSON, not an object
    (routes.CREATE_PIPELINE, {"Graph": {}}),  # no Name
    (routes.CREATE_PIPELINE, _graph(ModuleNodes=[5])),
    (routes.CREATE_PIPELINE, _graph(ModuleNodes={"n1": {"Id": "n1"}})),
    (routes.CREATE_PIPELINE, _graph(ModuleNodes=[{"ModuleId": "m"}])),  # a node without Id
    (routes.CREATE_PIPELINE, _graph(ModuleNodes=[{"Id": "n1", "ModuleParameters": [5]}])),
    (routes.CREATE_PIPELINE, _graph(Edges=[5])),
    (routes.CREATE_PIPELINE, _graph(Edges=[{"SourceOutputPort": "n1"}])),
    (routes.CREATE_PIPELINE, _graph(DatasetNodes=["d1"])),
    (routes.CREATE_PIPELINE, {**_graph(), "GraphInterface": {"Parameters": 5}}),
    (routes.CREATE_PIPELINE, {**_graph(), "GraphInterface": {"Parameters": [{"Type": 0}]}}),
    (routes.CREATE_MODULE, {"Name": "m", "StorageId": ["s1"]}),
    (routes.CREATE_MODULE, {"Name": "m", "IdentifierHash": 5}),
    (routes.CREATE_MODULE, {"Name": "m", "StructuredInterface": 5}),
    (routes.CREATE_MODULE, {"Name": "m", "StructuredInterface": {"Parameters": [5]}}),
    (routes.CREATE_DATA_SOURCE, {"Name": "d", "IdentifierHash": ["h"]}),
    (routes.SET_PIPELINE_STATUS, {"Status": "Active"}),
    (routes.SET_PIPELINE_STATUS, ["Active"]),
    (routes.UPDATE_ENDPOINT, {"Name": "e", "DefaultVersion": "0", "PipelineVersionList": [5]}),
]
SNAPSHOT_CASES: list[tuple[Route, Any]] = [
    (routes.CREATE_SNAPSHOT, b"{"),
    (routes.CREATE_SNAPSHOT, b'"snapshot"'),
    (routes.CREATE_SNAPSHOT, {}),  # no DirTreeNode
    (routes.CREATE_SNAPSHOT, {"DirTreeNode": {"children": {"a.py": 5}}}),
    (routes.CREATE_SNAPSHOT, {"DirTreeNode": {"children": ["a.py"]}}),
    (routes.CREATE_SNAPSHOT, {"DirTreeNode": {"children": {"src": {"children": {"a.py": "File"}}}}}),
    (
        routes.CREATE_SNAPSHOT,
        {"DirTreeNode": {}, "FileRevisionList": {"FileNodes": [{"FullName": "a.py", "BlobUri": "http://["}]}},
    ),
    (routes.CREATE_SNAPSHOT, {"DirTreeNode": {}, "FileRevisionList": {"FileNodes": [5]}}),
    (routes.SNAPSHOT_GET_BLOB, {"FileNames": [5]}),
    (routes.SNAPSHOT_GET_BLOB, b"null"),
]
PATH_PARAMS = {"pipeline_id": TRAINING_V1, "endpoint_id": TRAINING_ENDPOINT, "snapshot_id": "s1"}


def _send(client: httpx.Client, base: str, route: Route, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    names = set(re.findall(r"\{(\w+)", route.template)) - set(SCOPE)
    params = {name: PATH_PARAMS.get(name, "x") for name in names}
    return client.request(route.method, url(base, route, **params), content=content, headers=JSON)


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(headers=AUTH, timeout=PATIENCE) as session:
        yield session


@pytest.mark.parametrize(("route", "body"), AEVA_CASES)
def test_malformed_aeva_bodies_are_aeva_400s(
    client: httpx.Client, emulator: RunningEmulator, route: Route, body: Any
) -> None:
    response = _send(client, emulator.url, route, body)

    _aeva_error(response, 400, "BadRequest")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("route", "body"), SNAPSHOT_CASES)
def test_malformed_snapshot_bodies_are_history_400s(
    client: httpx.Client, emulator: RunningEmulator, route: Route, body: Any
) -> None:
    response = _send(client, emulator.url, route, body)

    _history_error(response, 400, "BadRequest")
    assert "Traceback" not in response.text


def test_no_write_route_answers_junk_with_a_server_error(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    """Every body-taking route of the table, and the admin writes, against a handful of junk bodies."""
    junk: list[Any] = [b"", b"junk", b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b"5", b"null", [5], [[]], {}]
    junk += [{"a": [1]}, {"Name": 5, "Graph": [], "DirTreeNode": 5, "FileNames": {}, "ExperimentName": []}]
    writes = [route for route in ROUTES.values() if route.method in ("POST", "PUT", "DELETE")]
    admin = [Route("admin", method, f"/_emulator/{what}") for method, what in ADMIN_WRITES]

    failures = [
        f"{route.method} {route.template} {body!r:.60}: {response.status_code}"
        for route in writes + admin
        for body in junk
        if (response := _send(client, emulator.url, route, body)).status_code >= 500
    ]

    assert failures == []


ADMIN_WRITES = [("POST", "pipelines"), ("POST", "endpoints"), ("POST", "faults"), ("PUT", "durations")]
