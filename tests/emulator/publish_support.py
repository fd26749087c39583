"""Fixtures for tests that publish with the real azureml SDK against the in-process emulator.

Import the fixtures a module needs (pytest registers imported fixtures). The SDK is imported once,
with ``HOME`` in a temporary directory, so its ``~/.azureml`` caches never touch the real home; each
publish then runs inside ``AzureMLHook.publishing_environment()``, exactly as the operator does.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.netguard import network_guard
from tests.pipelines._paths import DAGS_DIR


@pytest.fixture(scope="module")
def sdk_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Import the SDK (and the DAG folder's pipeline package) with ``HOME`` in a fresh directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        patch.setenv("AZUREML_CURRENT_CLOUD", "AzureCloud")
        patch.syspath_prepend(str(DAGS_DIR))
        for module in ("azureml.core", "azureml.pipeline.core", "azureml.pipeline.steps"):
            importlib.import_module(module)
        yield


@pytest.fixture
def no_external_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    yield from network_guard(monkeypatch)


@pytest.fixture
def hook(sdk_home: None, emulator_conn: RunningEmulator, no_external_network: list[object]) -> AzureMLHook:
    """A hook on the emulator connection; the network guard is on for the whole test."""
    return AzureMLHook()


@pytest.fixture
def workspace(hook: AzureMLHook) -> Iterator[Any]:
    """The hook's SDK workspace, inside the publishing environment."""
    with hook.publishing_environment():
        yield hook.get_workspace()
