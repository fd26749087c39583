"""The publish plumbing without the SDK: blob proxy, TLS, signed blob routes, snapshots, CLI and admin."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from airflow.sdk.exceptions import AirflowException

from airflow_provider_azureml.emulator.__main__ import _blob_proxy_port, parser
from airflow_provider_azureml.emulator.connection import EMULATOR_TENANT_ID, EMULATOR_WORKSPACE
from airflow_provider_azureml.emulator.infrastructure.tls import BLOB_HOST
from airflow_provider_azureml.emulator.state.blobs import file_hash
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.emulator.support import AUTH, url


@pytest.fixture
def publishing(emulator: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    info = httpx.get(f"{emulator.url}/_emulator/publishing").json()
    ca = tmp_path / "ca.pem"
    ca.write_text(info["ca_bundle_pem"])
    return {**info, "ca_file": str(ca)}


@pytest.fixture
def blob_session(publishing: dict[str, str]) -> Iterator[requests.Session]:
    """A session that reaches the blob host only through the emulator's proxy, trusting its CA."""
    with requests.Session() as session:
        session.trust_env = False
        session.proxies = {"https": publishing["https_proxy"]}
        session.verify = publishing["ca_file"]
        yield session


def _upload_urls(emulator: RunningEmulator, *names: str) -> dict[str, str]:
    response = httpx.post(
        url(emulator.url, routes.SNAPSHOT_GET_BLOB), json={"FileNames": list(names)}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    return {node["fullName"]: node["blobUri"] for node in response.json()["fileNodes"]}


def _connect(proxy_url: str, authority: str) -> bytes:
    host, port = proxy_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        return sock.recv(4096)


def test_admin_publishing_names_the_proxy_and_the_ca(publishing: dict[str, str]) -> None:
    assert publishing["https_proxy"].startswith("http://127.0.0.1:")
    assert publishing["blob_host"] == BLOB_HOST == "emuacct.blob.core.windows.net"
    assert publishing["ca_bundle_pem"].startswith("-----BEGIN CERTIFICATE-----")


def test_proxy_tunnels_only_to_blob_hosts(publishing: dict[str, str]) -> None:
    assert _connect(publishing["https_proxy"], f"{BLOB_HOST}:443").startswith(b"HTTP/1.1 200")
    assert _connect(publishing["https_proxy"], "dc.services.visualstudio.com:443").startswith(b"HTTP/1.1 403")
    assert _connect(publishing["https_proxy"], f"{BLOB_HOST}:8443").startswith(b"HTTP/1.1 403")


def test_blob_host_is_untrusted_without_the_emulator_ca(publishing: dict[str, str]) -> None:
    with requests.Session() as session, pytest.raises(requests.exceptions.SSLError):
        session.trust_env = False
        session.head(f"https://{BLOB_HOST}/snapshots/x", proxies={"https": publishing["https_proxy"]})


def test_signed_put_then_head_then_no_overwrite(
    emulator: RunningEmulator, blob_session: requests.Session
) -> None:
    uri = _upload_urls(emulator, "pkg/util.py")["pkg/util.py"]
    body = b"print('hi')\n"
    headers = {
        "x-ms-blob-type": "BlockBlob",
        "If-None-Match": "*",
        "Content-sha256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }

    assert blob_session.put(uri, data=body, headers=headers).status_code == 201
    head = blob_session.head(uri)
    assert (head.status_code, head.headers["Content-Length"]) == (200, str(len(body)))
    assert blob_session.put(uri, data=body, headers=headers).status_code == 409


def test_unsigned_or_corrupt_uploads_are_refused(
    emulator: RunningEmulator, blob_session: requests.Session
) -> None:
    uri = _upload_urls(emulator, "a.py")["a.py"]

    assert blob_session.put(uri.split("?")[0], data=b"x").status_code == 401
    assert blob_session.put(uri.replace("sig=", "sig=0"), data=b"x").status_code == 401
    assert blob_session.put(uri, data=b"x", headers={"Content-sha256": "bm9wZQ=="}).status_code == 400


def test_block_upload_is_reassembled(emulator: RunningEmulator, blob_session: requests.Session) -> None:
    uri = _upload_urls(emulator, "big.bin")["big.bin"]
    parts = [os.urandom(1000), os.urandom(10), b""]
    ids = [base64.b64encode(f"block-{n}".encode()).decode() for n in range(len(parts))]
    for block_id, part in zip(ids, parts, strict=True):
        assert blob_session.put(f"{uri}&comp=block&blockid={block_id}", data=part).status_code == 201
    block_list = "<BlockList>" + "".join(f"<Latest>{i}</Latest>" for i in ids) + "</BlockList>"

    assert blob_session.put(f"{uri}&comp=blocklist", data=block_list).status_code == 201
    assert emulator.backend.catalog.blobs.read(uri.split(BLOB_HOST + "/")[1].split("?")[0]) == b"".join(parts)


def _tree(files: dict[str, bytes]) -> dict[str, object]:
    children = {
        name: {"name": name, "type": "File", "hash": file_hash(data, name), "timestamp": "t", "children": {}}
        for name, data in files.items()
    }
    return {"name": "", "type": "Directory", "hash": "root", "timestamp": "t", "children": children}


def test_snapshot_needs_every_file_and_becomes_the_latest(
    emulator: RunningEmulator, blob_session: requests.Session
) -> None:
    files = {"a.py": b"a = 1\n", "b.py": b"b = 2\n"}
    uris = _upload_urls(emulator, "a.py")
    blob_session.put(uris["a.py"], data=files["a.py"])
    body = {
        "ParentSnapshotId": None,
        "DirTreeNode": _tree(files),
        "FileRevisionList": {"FileNodes": [{"FullName": "a.py", "BlobUri": uris["a.py"], "FileSize": 6}]},
    }
    create = url(emulator.url, routes.CREATE_SNAPSHOT, snapshot_id="s1")

    refused = httpx.post(create, json=body, headers=AUTH)
    assert refused.status_code == 400
    assert "b.py" in refused.json()["error"]["message"]

    uris = _upload_urls(emulator, "b.py")
    blob_session.put(uris["b.py"], data=files["b.py"])
    body["FileRevisionList"] = {"FileNodes": [{"FullName": "b.py", "BlobUri": uris["b.py"], "FileSize": 6}]}
    assert httpx.post(create, json=body, headers=AUTH).status_code == 200

    latest = httpx.get(url(emulator.url, routes.SNAPSHOT_LATEST_METADATA), headers=AUTH).json()
    assert latest["id"] == "s1"
    assert set(latest["root"]["children"]) == {"a.py", "b.py"}
    assert emulator.backend.catalog.snapshot_files("s1") == files


def test_module_naming_an_unknown_snapshot_is_a_clear_400(emulator: RunningEmulator) -> None:
    response = httpx.post(
        url(emulator.url, routes.CREATE_MODULE), json={"Name": "train", "StorageId": "gone"}, headers=AUTH
    )

    assert response.status_code == 400
    assert ".projectcontent" in response.json()["Error"]["Message"]


def test_endpoint_update_keeps_versions_contiguous(emulator: RunningEmulator) -> None:
    from tests.emulator.support import TRAINING_ENDPOINT, TRAINING_V1

    entity = httpx.get(
        url(emulator.url, routes.GET_ENDPOINT, endpoint_id=TRAINING_ENDPOINT), headers=AUTH
    ).json()
    entity["PipelineVersionList"].append({"Version": "5", "PipelineId": TRAINING_V1})

    response = httpx.put(
        url(emulator.url, routes.UPDATE_ENDPOINT, endpoint_id=TRAINING_ENDPOINT), json=entity, headers=AUTH
    )

    assert response.status_code == 400
    assert "0..n-1" in response.json()["Error"]["Message"]


# -- the hook's publishing environment ---------------------------------------------------------------
def test_publishing_environment_sets_and_restores_the_environment(
    emulator_conn: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", ".windows.net")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    home = os.environ.get("HOME")

    with AzureMLHook().publishing_environment():
        inside = {
            name: os.environ.get(name) for name in ("HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "HOME")
        }
        ca_bundle = Path(inside["REQUESTS_CA_BUNDLE"] or "")
        assert ca_bundle.read_text().startswith("-----BEGIN CERTIFICATE-----")

    assert (
        inside["HTTPS_PROXY"] == httpx.get(f"{emulator_conn.url}/_emulator/publishing").json()["https_proxy"]
    )
    assert "windows.net" not in (inside["NO_PROXY"] or "")
    assert inside["HOME"] != home
    assert os.environ.get("HTTPS_PROXY") is None
    assert os.environ["NO_PROXY"] == ".windows.net"
    assert os.environ.get("HOME") == home
    assert not ca_bundle.exists()


def test_publishing_environment_is_a_no_op_against_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = {"tenant_id": EMULATOR_TENANT_ID, **EMULATOR_WORKSPACE, "auth_method": "default"}
    monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps({"conn_type": "azureml", "extra": extra}))
    before = dict(os.environ)

    with AzureMLHook().publishing_environment():
        assert dict(os.environ) == before


def test_publishing_environment_fails_fast_without_a_working_proxy(emulator_conn: RunningEmulator) -> None:
    emulator_conn._server.blob_proxy.stop()  # type: ignore[union-attr]
    started = time.monotonic()

    with pytest.raises(AirflowException, match="blob proxy"), AzureMLHook().publishing_environment():
        pytest.fail("the block must not run")

    assert time.monotonic() - started < 5


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_documents_the_blob_proxy_and_data_dir() -> None:
    text = parser().format_help()

    assert "--blob-proxy-port" in text
    assert "--data-dir" in text
    assert (_blob_proxy_port(8089, None), _blob_proxy_port(0, None), _blob_proxy_port(8089, 9000)) == (
        8090,
        0,
        9000,
    )


def test_data_sources_by_hash_create_and_get(emulator: RunningEmulator) -> None:
    by_hash = url(emulator.url, routes.DATA_SOURCE_BY_HASH, identifier_hash="h1")
    assert httpx.get(by_hash, headers=AUTH).status_code == 404
    info = {
        "Name": "lookup",
        "DataStoreName": "workspaceblobstore",
        "PathOnDataStore": "ref/x.csv",
        "IdentifierHash": "h1",
    }

    created = httpx.post(url(emulator.url, routes.CREATE_DATA_SOURCE), json=info, headers=AUTH).json()

    assert httpx.get(by_hash, headers=AUTH).json()["Id"] == created["Id"]
    fetched = httpx.get(url(emulator.url, routes.GET_DATA_SOURCE, data_source_id=created["Id"]), headers=AUTH)
    assert (fetched.json()["Name"], fetched.json()["UploadState"]) == ("lookup", "Completed")
