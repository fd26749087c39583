"""Long waits survive credential events, over HTTP against the emulator.

The emulator accepts one bearer token (rotatable through its admin API) and injects 401s. Azure AD is the
one stand-in: a credential whose token is derived from the connection's client secret, counting its
acquisitions. Time is simulated: the waits' sleeps move the emulator's clock on, and a test that changes
credentials mid-wait pauses it first (the wait then stands between two polls), so nothing races the
machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_azureml.client import credentials
from airflow_provider_azureml.client.credentials import AccessToken
from airflow_provider_azureml.emulator.connection import EMULATOR_WORKSPACE
from airflow_provider_azureml.emulator.infrastructure.faults import FaultRule
from airflow_provider_azureml.emulator.testing import ManualClock, RunningEmulator, run_emulator
from airflow_provider_azureml.operators.submit_pipeline_run import AzureMLSubmitPipelineRunOperator
from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger
from tests.task_context import make_context
from tests.triggers.support import (
    EXPERIMENT,
    PATIENCE,
    TRAINING_V1,
    SimulatedTime,
    run_trigger,
    submit_run,
    wait_until,
)


def token_for(secret: str) -> str:
    return f"tok-{secret}"


class Acquisitions(Counter):
    """Tokens acquired, per client secret."""


@pytest.fixture
def acquired(monkeypatch: pytest.MonkeyPatch) -> Acquisitions:
    counts = Acquisitions()

    class SecretCredential:
        def __init__(self, secret: str) -> None:
            self.secret = secret

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            counts[self.secret] += 1
            return AccessToken(token_for(self.secret), int(time.time()) + 3600)

    def build(config: Any) -> SecretCredential:
        return SecretCredential(config.client_secret.get_secret_value())

    for module in ("client.credentials", "client.base", "hooks.azureml"):
        monkeypatch.setattr(f"airflow_provider_azureml.{module}.build_credential", build)
    monkeypatch.setattr(credentials, "_shared_providers", {})
    return counts


@pytest.fixture
def emulator(manual_clock: ManualClock, wait_clock: SimulatedTime) -> Iterator[RunningEmulator]:
    with run_emulator(expected_token=token_for("first-secret"), clock=manual_clock) as running:
        yield running


def use_secret(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator, secret: str) -> None:
    connection = {
        "conn_type": "azureml",
        "host": emulator.url,
        "login": "app-id",
        "password": secret,
        "extra": {**EMULATOR_WORKSPACE, "tenant_id": "tenant", "auth_method": "service_principal_secret"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AZUREML_DEFAULT", json.dumps(connection))


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator, acquired: Acquisitions) -> None:
    use_secret(monkeypatch, emulator, "first-secret")


def refuse_next_reads(emulator: RunningEmulator, count: int, route: str = "GET_PIPELINE_RUN") -> None:
    emulator.faults.add(FaultRule(route=route, kind="error", status=401, count=count))


def operator(**kwargs: Any) -> AzureMLSubmitPipelineRunOperator:
    return AzureMLSubmitPipelineRunOperator(
        task_id="submit",
        published_pipeline_id=TRAINING_V1,
        experiment_name=EXPERIMENT,
        poll_interval=30,
        deferrable=False,
        **kwargs,
    )


def in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    """Start ``work``; the returned function joins it and returns its result (or raises its error)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(PATIENCE)
        assert not thread.is_alive(), "the wait did not end"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    return join


def rotate(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator, secret: str) -> None:
    """The secret is rotated in Azure AD (the emulator accepts only its token) and in the connection."""
    answer = httpx.put(f"{emulator.url}/_emulator/auth", json={"expected_token": token_for(secret)})
    assert answer.status_code == 200
    use_secret(monkeypatch, emulator, secret)


@pytest.mark.usefixtures("connection")
def test_a_synchronous_wait_survives_one_401(emulator: RunningEmulator, acquired: Acquisitions) -> None:
    refuse_next_reads(emulator, 1)
    summary = operator().execute(make_context())
    assert summary["status"] == "Finished"
    assert acquired == {"first-secret": 2}  # one renewal


@pytest.mark.usefixtures("connection")
def test_a_deferred_wait_survives_one_401(emulator: RunningEmulator, acquired: Acquisitions) -> None:
    run_id = submit_run()
    before = acquired["first-secret"]
    refuse_next_reads(emulator, 1, route="QUERY_RUNS")  # the triggers' status reads are batched
    event = run_trigger(AzureMLPipelineRunTrigger(run_id, EXPERIMENT, poll_interval=30))
    assert event["status"] == "success"
    assert acquired["first-secret"] - before == 2  # the trigger's token, then one renewal


@pytest.mark.usefixtures("connection")
def test_a_synchronous_wait_follows_a_rotated_secret(
    emulator: RunningEmulator,
    acquired: Acquisitions,
    monkeypatch: pytest.MonkeyPatch,
    wait_clock: SimulatedTime,
) -> None:
    wait_clock.pause()
    join = in_thread(lambda: operator().execute(make_context()))
    wait_until(lambda: wait_clock.sleeps)  # it polled once and waits for the next poll
    rotate(monkeypatch, emulator, "second-secret")
    wait_clock.resume()
    assert join()["status"] == "Finished"
    assert acquired["second-secret"] == 1


@pytest.mark.usefixtures("connection")
def test_a_deferred_wait_follows_a_rotated_secret(
    emulator: RunningEmulator,
    acquired: Acquisitions,
    monkeypatch: pytest.MonkeyPatch,
    wait_clock: SimulatedTime,
) -> None:
    run_id = submit_run()
    wait_clock.pause()
    join = in_thread(lambda: run_trigger(AzureMLPipelineRunTrigger(run_id, EXPERIMENT, poll_interval=30)))
    wait_until(lambda: wait_clock.sleeps)  # it polled once and waits for the next poll
    rotate(monkeypatch, emulator, "second-secret")
    wait_clock.resume()
    assert join()["status"] == "success"
    assert acquired["second-secret"] == 1


@pytest.mark.usefixtures("connection")
def test_two_401s_fail_saying_what_to_check_and_a_retry_reattaches(emulator: RunningEmulator) -> None:
    refuse_next_reads(emulator, 2)
    context = make_context()
    with pytest.raises(AirflowFailException) as failure:
        operator().execute(context)
    message = str(failure.value)
    assert "a new token was refused too for connection 'azureml_default'" in message
    assert "(auth_method 'service_principal_secret')" in message and "first-secret" not in message
    [submission] = emulator.backend.submissions()
    assert f"The wait stopped, not Azure ML pipeline run {submission.run_id}" in message
    assert "it goes on in Azure ML (http://" in message
    assert "A retry of this task reattaches to it" in message

    context["ti"].try_number = 2
    assert operator().execute(context)["run_id"] == submission.run_id
    assert len(emulator.backend.submissions()) == 1


@pytest.mark.usefixtures("connection")
def test_a_deferred_wait_refused_twice_fails_the_task_saying_the_run_goes_on(
    emulator: RunningEmulator,
) -> None:
    run_id = submit_run()
    refuse_next_reads(emulator, 2, route="QUERY_RUNS")  # the batched read, then the run's own
    refuse_next_reads(emulator, 2)
    event = run_trigger(AzureMLPipelineRunTrigger(run_id, EXPERIMENT, poll_interval=30))
    assert (event["status"], event["permanent"]) == ("error", True)
    with pytest.raises(AirflowFailException) as failure:
        operator().execute_complete(make_context(), event)
    assert "a new token was refused too" in str(failure.value)
    assert f"The wait stopped, not Azure ML pipeline run {run_id}" in str(failure.value)


def test_the_emulator_refuses_a_malformed_rotation(emulator: RunningEmulator) -> None:
    for body in ({"expected_token": ""}, {"token": "x"}, {"expected_token": 5}):
        assert httpx.put(f"{emulator.url}/_emulator/auth", json=body).status_code == 400
    answer = httpx.put(f"{emulator.url}/_emulator/auth", json={"expected_token": None})
    assert answer.json() == {"token_required": False}
