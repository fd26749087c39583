"""Shared fixtures: an in-process Azure ML emulator and an Airflow connection pointing at it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from airflow_provider_azureml.client.operations import clear_hosts_cache
from airflow_provider_azureml.emulator.connection import emulator_connection
from airflow_provider_azureml.emulator.testing import ManualClock, RunningEmulator, run_emulator

if TYPE_CHECKING:
    from tests.triggers.support import SimulatedTime


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


@pytest.fixture
def manual_clock() -> ManualClock:
    """The emulator's wall clock, at a whole second of the current time (so that waits add up exactly)."""
    return ManualClock(start=float(int(time.time())))


@pytest.fixture
def wait_clock(manual_clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> SimulatedTime:
    """The trigger, the sensor and the submitting operators wait on ``manual_clock``: see SimulatedTime."""
    from airflow_provider_azureml.operators.base import AzureMLPipelineRunOperatorBase
    from airflow_provider_azureml.sensors.pipeline_run import AzureMLPipelineRunSensor
    from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger
    from tests.triggers.support import SimulatedTime

    clock = SimulatedTime(manual_clock)
    for waiting in (AzureMLPipelineRunTrigger, AzureMLPipelineRunSensor, AzureMLPipelineRunOperatorBase):
        monkeypatch.setattr(waiting, "clock", clock)
    return clock


@pytest.fixture
def clocked_conn(
    manual_clock: ManualClock, wait_clock: SimulatedTime, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningEmulator]:
    """``azureml_default`` pointing at an emulator on ``manual_clock``, which only the waits' sleeps move
    on (``wait_clock``) or the test itself (``manual_clock.advance``)."""
    with run_emulator(clock=manual_clock) as running:
        monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(emulator_connection(running.url)))
        yield running
