"""AzureMLPipelineRunSensor in poke, reschedule and deferrable modes, against the emulator over HTTP.

The three modes are driven the way Airflow drives them: poke is one ``execute``; reschedule is a new
sensor instance per ``execute`` until it stops raising ``AirflowRescheduleException``, with the task
instance answering ``get_first_reschedule_date`` as the scheduler's records would; deferrable is
``execute`` until ``TaskDeferred``, the trigger run to its event, then ``resume_execution`` on a new
instance (which is where ``BaseSensorOperator`` applies ``soft_fail`` to a deferred outcome).

Time is simulated (``sensor_conn``): the trigger's sleeps, Airflow's own between pokes and the scheduler's
wait before a rescheduled try all move the emulator's clock on, so the sensor pokes at realistic
intervals and the tests assert when it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.bases import sensor as airflow_sensor
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.links.studio import XCOM_EXPERIMENT_NAME, XCOM_RUN_ID, XCOM_STUDIO_URL
from airflow_provider_azureml.sensors.pipeline_run import AzureMLPipelineRunSensor
from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger
from tests.task_context import TaskInstanceStandIn, make_context
from tests.triggers.support import EXPERIMENT, FAILING_RATE, SimulatedTime, run_trigger, submit_run

MODES = ("poke", "reschedule", "deferrable")
INTERVAL = 60


@pytest.fixture
def sensor_conn(
    clocked_conn: RunningEmulator, wait_clock: SimulatedTime, monkeypatch: pytest.MonkeyPatch
) -> RunningEmulator:
    """``clocked_conn``, with Airflow's poke and reschedule modes on the test's clock too.

    ``BaseSensorOperator.execute`` times those modes itself (``time.monotonic``, ``time.sleep`` and
    ``timezone.utcnow`` in airflow.sdk.bases.sensor), so those names read ``wait_clock`` there.
    """
    monkeypatch.setattr(
        airflow_sensor, "time", SimpleNamespace(monotonic=wait_clock.monotonic, sleep=wait_clock.sleep)
    )
    monkeypatch.setattr(airflow_sensor, "timezone", SimpleNamespace(utcnow=lambda: utcnow(wait_clock)))
    return clocked_conn


def utcnow(clock: SimulatedTime) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


@dataclass
class SensorTaskInstance(TaskInstanceStandIn):
    """Adds what reschedule mode reads: the start of the first try that was rescheduled, if any."""

    task_id: str = "wait"
    first_reschedule_date: datetime | None = None

    def get_first_reschedule_date(self, context: Any) -> datetime | None:
        return self.first_reschedule_date


def sensor_factory(mode: str, run_id: str, **kwargs: Any) -> Callable[[], Any]:
    options = {
        "task_id": "wait",
        "run_id": run_id,
        "poke_interval": INTERVAL,
        "timeout": 3600,
        "mode": "reschedule" if mode == "reschedule" else "poke",
        "deferrable": mode == "deferrable",
        **kwargs,
    }
    return lambda: AzureMLPipelineRunSensor(**options)


def drive(mode: str, make: Callable[[], Any], context: dict[str, Any], clock: SimulatedTime) -> Any:
    """Run the sensor to its end the way the task runner and scheduler would in ``mode``."""
    if mode == "reschedule":
        return _drive_rescheduled(make, context, clock)
    try:
        return make().execute(context)
    except TaskDeferred as deferred:
        assert mode == "deferrable"
        event = run_trigger(deferred.trigger)
        return make().resume_execution(
            deferred.method_name, {**(deferred.kwargs or {}), "event": event}, context
        )


def _drive_rescheduled(make: Callable[[], Any], context: dict[str, Any], clock: SimulatedTime) -> Any:
    """Each try on a new instance; between tries, the scheduler waits for the reschedule date."""
    ti = context["ti"]
    first_start = utcnow(clock)
    for _ in range(200):
        try:
            return make().execute(context)
        except AirflowRescheduleException as rescheduled:
            ti.first_reschedule_date = ti.first_reschedule_date or first_start
            clock.sleep((rescheduled.reschedule_date - utcnow(clock)).total_seconds())
    raise AssertionError("the sensor was still rescheduling after 200 executions")


def new_context() -> dict[str, Any]:
    return make_context(ti=SensorTaskInstance())


@pytest.mark.parametrize("mode", MODES)
def test_finished_run_succeeds_and_pushes_the_link(sensor_conn, wait_clock, mode):
    run_id = submit_run()
    context = new_context()
    assert drive(mode, sensor_factory(mode, run_id), context, wait_clock) is None

    xcoms = context["ti"].xcoms
    assert xcoms[XCOM_RUN_ID] == run_id
    assert xcoms[XCOM_EXPERIMENT_NAME] == EXPERIMENT  # read from the run: not given to the sensor
    assert f"/runs/{run_id}?" in xcoms[XCOM_STUDIO_URL]


@pytest.mark.parametrize("mode", MODES)
def test_failed_run_fails_naming_the_step_and_its_error(sensor_conn, wait_clock, mode):
    run_id = submit_run(FAILING_RATE)
    with pytest.raises(AirflowFailException) as raised:
        drive(mode, sensor_factory(mode, run_id), new_context(), wait_clock)
    message = str(raised.value)
    assert run_id in message
    assert "step 'train'" in message
    assert "avg_rate=0.99 makes the loss diverge" in message


#: When each mode gives up on a run outlasting a 300 s timeout, poking every 60 s. Airflow's own loop
#: (poke, reschedule) checks the timeout after each poke, so it gives up at the first poke after 300 s;
#: the trigger's last sleep stops at its deadline, where it reads the run a last time.
GIVES_UP_AT = {"poke": 360.0, "reschedule": 360.0, "deferrable": 300.0}


@pytest.mark.parametrize("mode", MODES)
def test_run_outlasting_the_timeout_raises_sensor_timeout(sensor_conn, wait_clock, mode):
    sensor_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    started = wait_clock.now()
    with pytest.raises(AirflowSensorTimeout):
        drive(mode, sensor_factory(mode, run_id, timeout=300), new_context(), wait_clock)
    assert wait_clock.now() - started == GIVES_UP_AT[mode]


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_skips_a_failed_run(sensor_conn, wait_clock, mode):
    run_id = submit_run(FAILING_RATE)
    with pytest.raises(AirflowSkipException) as raised:
        drive(mode, sensor_factory(mode, run_id, soft_fail=True), new_context(), wait_clock)
    assert isinstance(raised.value.__cause__, AirflowFailException)
    assert "step 'train'" in str(raised.value.__cause__)


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_skips_a_timed_out_wait(sensor_conn, wait_clock, mode):
    sensor_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    started = wait_clock.now()
    with pytest.raises(AirflowSkipException) as raised:
        drive(mode, sensor_factory(mode, run_id, timeout=300, soft_fail=True), new_context(), wait_clock)
    if mode == "deferrable":  # skipped by resume_execution, from the trigger's timeout event
        assert isinstance(raised.value.__cause__, AirflowSensorTimeout)
    else:  # skipped by BaseSensorOperator.execute's own timeout check
        assert "Sensor has timed out" in str(raised.value)
    assert wait_clock.now() - started == GIVES_UP_AT[mode]


@pytest.mark.parametrize("mode", MODES)
def test_unknown_run_fails_clearly_or_is_skipped_with_soft_fail(sensor_conn, wait_clock, mode):
    with pytest.raises(AirflowException) as raised:
        drive(mode, sensor_factory(mode, "no-such-run"), new_context(), wait_clock)
    assert "no-such-run" in str(raised.value) and "404" in str(raised.value)
    assert isinstance(raised.value, AirflowFailException)  # the same in every mode: no retry helps
    with pytest.raises(AirflowSkipException):
        drive(mode, sensor_factory(mode, "no-such-run", soft_fail=True), new_context(), wait_clock)
    assert wait_clock.sleeps == []  # no waiting for an error no wait can fix


@pytest.mark.parametrize("avg_rate", [0.5, FAILING_RATE])
def test_deferrable_does_not_defer_for_a_run_already_finished(sensor_conn, manual_clock, avg_rate):
    run_id = submit_run(avg_rate)
    manual_clock.advance(1)  # fast emulator phases: the run has ended
    sensor = sensor_factory("deferrable", run_id)()
    if avg_rate == FAILING_RATE:
        with pytest.raises(AirflowFailException, match="step 'train'"):
            sensor.execute(new_context())
        with pytest.raises(AirflowSkipException):
            sensor_factory("deferrable", run_id, soft_fail=True)().execute(new_context())
    else:
        assert sensor.execute(new_context()) is None


def test_deferral_deadline_is_the_sensor_start_plus_timeout(emulator_conn):
    """The first poke is slowed down: the trigger's end time must still count from the sensor's start.

    On the real clock: the slow answer is the emulator really waiting ``slow`` seconds. The start is read
    before the request is sent, so it is at most ``after - SLOW``; the time of deferring would be later.
    """
    slow = 0.4
    emulator_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    emulator_conn.faults.inject("GET_PIPELINE_RUN", kind="delay", delay=slow)
    sensor = sensor_factory("deferrable", run_id, timeout=600, poke_interval=7, max_retries=2)()

    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(new_context())
    after = time.time()

    trigger = deferred.value.trigger
    assert isinstance(trigger, AzureMLPipelineRunTrigger)
    assert trigger.end_time is not None
    assert before <= trigger.end_time - 600 <= after - slow
    assert deferred.value.timeout is None  # one deadline only: no second, disagreeing defer timeout
    assert (trigger.run_id, trigger.experiment_name, trigger.poll_interval) == (run_id, EXPERIMENT, 7)
    assert trigger.cancel_on_kill is False  # the sensor does not own the run
    assert trigger.retry_settings["max_retries"] == 2


def test_reschedule_mode_gives_the_worker_slot_back_while_the_run_is_active(sensor_conn, wait_clock):
    sensor_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    with pytest.raises(AirflowRescheduleException) as raised:
        sensor_factory("reschedule", run_id)().execute(new_context())
    assert raised.value.reschedule_date == utcnow(wait_clock) + timedelta(seconds=INTERVAL)


def test_reschedule_mode_counts_the_timeout_from_the_first_try(sensor_conn, wait_clock):
    sensor_conn.backend.set_default_durations({"step": 3600})
    run_id = submit_run()
    context = new_context()
    context["ti"].first_reschedule_date = utcnow(wait_clock) - timedelta(seconds=120)
    with pytest.raises(AirflowSensorTimeout):
        sensor_factory("reschedule", run_id, timeout=60)().execute(context)


def test_poke_waits_out_transient_errors(sensor_conn, wait_clock):
    """Three failed pokes (no client retries), each followed by the poke interval; the fourth succeeds."""
    run_id = submit_run()
    sensor_conn.faults.inject("GET_PIPELINE_RUN", kind="error", status=503, count=2)
    sensor_conn.faults.inject("GET_RUN_CHILDREN", kind="throttle", count=1, retry_after=0)
    assert sensor_factory("poke", run_id, max_retries=0)().execute(new_context()) is None
    assert sensor_conn.faults.pending() == []
    assert wait_clock.sleeps == [INTERVAL] * 3


def test_given_experiment_still_pushes_the_link(sensor_conn):
    run_id = submit_run()
    context = new_context()
    sensor_factory("poke", run_id, experiment_name=EXPERIMENT)().execute(context)
    assert f"/runs/{run_id}?" in context["ti"].xcoms[XCOM_STUDIO_URL]


def test_malformed_event_is_refused():
    with pytest.raises(AirflowException, match="missing"):
        sensor_factory("deferrable", "r")().execute_complete(new_context(), {"status": "success"})
