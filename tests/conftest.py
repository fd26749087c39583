"""Shared fixtures: an in-process Azure ML emulator and an Airflow connection pointing at it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator

EMULATOR_CONNECTION = {
    "conn_type": "azureml",
    "extra": {
        "tenant_id": "00000000-0000-0000-0000-000000000000",
        "subscription_id": "00000000-0000-0000-0000-000000000001",
        "resource_group": "rg-emulator",
        "workspace_name": "ws-emulator",
        "auth_method": "emulator",
    },
}


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """The emulator on a free loopback port, default seed, phases of a few hundredths of a second."""
    with run_emulator() as running:
        yield running


@pytest.fixture
def emulator_conn(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """``azureml_default`` (via ``AIRFLOW_CONN_AZUREML_DEFAULT``) pointing at the emulator."""
    connection = {**EMULATOR_CONNECTION, "host": emulator.url}
    monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(connection))
    return emulator
