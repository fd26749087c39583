"""Fixtures for the reference pipelines: `dags` on sys.path, a network guard, an offline workspace.

azureml is imported inside fixtures only, so the script tests never pay for it.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.netguard import network_guard
from tests.pipelines._paths import DAGS_DIR

if str(DAGS_DIR) not in sys.path:
    sys.path.insert(0, str(DAGS_DIR))

# The keys azureml's ServiceContext reads from discovery; all point at the loopback server.
DISCOVERY_KEYS = ("api", "experimentation", "history", "hyperdrive", "modelmanagement", "studio")


@pytest.fixture(autouse=True)
def no_external_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Refuse, and fail the test on, any DNS lookup or connect to a non-loopback host (tests/netguard.py)."""
    yield from network_guard(monkeypatch)


class _DiscoveryHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        if self.path != "/discovery":
            self.send_error(404)
            return
        base = f"http://127.0.0.1:{self.server.server_port}"  # type: ignore[attr-defined]
        body = json.dumps(dict.fromkeys(DISCOVERY_KEYS, base)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def discovery_server() -> Iterator[http.server.ThreadingHTTPServer]:
    """Loopback stand-in for workspace discovery, the one call ``Pipeline()`` makes even offline.

    Its ``paths`` lists what was requested, so tests can check nothing else was.
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DiscoveryHandler)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def offline_workspace(
    discovery_server: http.server.ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """A Workspace that never calls ARM: fixed id, fixed token, discovery on loopback."""
    from azureml._base_sdk_common import service_discovery
    from azureml.core import Workspace
    from azureml.core.authentication import TokenAuthentication

    class FixedTokenAuthentication(TokenAuthentication):
        """No Azure AD here: every audience gets the same opaque token."""

        def __init__(self) -> None:
            super().__init__(lambda audience: "test-token", cloud="AzureCloud")

    # The SDK caches discovery answers in ~/.azureml/.discovery; keep that cache per test.
    init = service_discovery.CachedServiceDiscovery.__init__
    monkeypatch.setattr(init, "__defaults__", (str(tmp_path / ".azureml" / ".discovery"),))

    ws = Workspace(
        "00000000-0000-0000-0000-000000000000",
        "rg-test",
        "ws-test",
        auth=FixedTokenAuthentication(),
        _disable_service_check=True,
        _workspace_id="11111111-2222-3333-4444-555555555555",
    )
    ws._discovery_url_internal = f"http://127.0.0.1:{discovery_server.server_address[1]}/discovery"
    return ws


class RecordingUploader:
    """Stands in for the snapshot uploader: remembers which folders would be snapshotted."""

    def __init__(self) -> None:
        self.directories: list[Path] = []

    def upload(self, directory: str) -> str:
        self.directories.append(Path(directory).resolve())
        return f"snapshot-{len(self.directories)}"


@pytest.fixture
def uploader() -> RecordingUploader:
    return RecordingUploader()


@pytest.fixture
def dryrun_provider(offline_workspace: Any, uploader: RecordingUploader) -> Any:
    """The SDK's own in-memory service (``DryRunServiceCaller``) behind a real workflow provider."""
    from azureml.pipeline.core._aeva_provider import _AevaWorkflowProvider
    from azureml.pipeline.core._restclients.aeva.dryrun_service_caller import DryRunServiceCaller

    return _AevaWorkflowProvider(DryRunServiceCaller(), uploader, offline_workspace)


@pytest.fixture
def offline_datastore(offline_workspace: Any) -> Any:
    """Passed as default_datastore so the graph builder does not ask the service for one."""
    from azureml.data.azure_storage_datastore import AzureBlobDatastore

    return AzureBlobDatastore(
        offline_workspace, "workspaceblobstore", "azureml-blobstore-test", "teststorage"
    )
