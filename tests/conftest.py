"""Shared fixtures: an in-process Azure ML emulator and an Airflow connection pointing at it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_azureml.client.operations import clear_hosts_cache
from airflow_provider_azureml.emulator.connection import emulator_connection
from airflow_provider_azureml.emulator.testing import RunningEmulator, run_emulator


@pytest.fixture(autouse=True)
def _fresh_discovery_cache() -> Iterator[None]:
    """Discovered hosts are cached per process: each test discovers its own server's."""
    clear_hosts_cache()
    yield
    clear_hosts_cache()


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """The emulator on a free loopback port, default seed, phases of a few hundredths of a second."""
    with run_emulator() as running:
        yield running


@pytest.fixture
def emulator_conn(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """``azureml_default`` (via ``AIRFLOW_CONN_AZUREML_DEFAULT``) pointing at the emulator."""
    monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(emulator_connection(emulator.url)))
    return emulator
