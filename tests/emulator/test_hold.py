"""Holding the emulator's time: runs stay where they are until released, then resume without a jump.

The backend is driven by a fake wall clock, so no test here waits for real time to pass.
"""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_azureml.emulator.state.backend import Backend
from airflow_provider_azureml.emulator.state.lifecycle import Durations, SimulatedTime
from airflow_provider_azureml.emulator.state.records import SubmitRequest
from airflow_provider_azureml.emulator.state.seed import DEFAULT_SEED, apply_seed, load_seed
from airflow_provider_azureml.emulator.state.state_file import StateFile
from airflow_provider_azureml.emulator.testing import ManualClock, RunningEmulator, run_emulator
from airflow_provider_azureml.emulator.wire.statuses import RunStatus as S
from tests.emulator.support import AUTH, TRAINING_V1, run_status, submit

#: NotStarted until 1 s, Queued until 2 s, Running until 12 s, then Finished.
DURATIONS = Durations(not_started=1, queued=1, step=10, cancel=1)


class FakeWall:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> FakeWall:
    return FakeWall()


@pytest.fixture
def backend(wall: FakeWall) -> Backend:
    seeded = Backend(clock=wall, default_durations=DURATIONS)
    apply_seed(seeded, load_seed(DEFAULT_SEED))
    return seeded


def status(backend: Backend, run_id: str) -> str:
    run = backend.get_run(run_id)
    return run.timeline.status_at(backend.offset(run))


def submit_run(backend: Backend) -> str:
    return backend.submit_pipeline(TRAINING_V1, SubmitRequest(experiment_name="exp")).run_id


def test_simulated_time_stands_still_while_held_and_goes_on_from_there() -> None:
    held = SimulatedTime().hold(wall=100.0)
    released = held.hold(wall=150.0).release(wall=400.0)

    assert held.now(wall=500.0) == 100.0
    assert released == SimulatedTime(lag=300.0)
    assert released.now(wall=401.0) == 101.0
    assert released.release(wall=900.0) == released


def test_held_runs_keep_their_status_and_resume_without_a_jump(backend: Backend, wall: FakeWall) -> None:
    running = submit_run(backend)
    wall.now += 5

    backend.hold()
    new = submit_run(backend)
    wall.now += 3_600

    assert (status(backend, running), status(backend, new)) == (S.RUNNING, S.NOT_STARTED)
    backend.release()
    wall.now += 1.5
    assert (status(backend, running), status(backend, new)) == (S.RUNNING, S.QUEUED)
    wall.now += 10.5
    assert (status(backend, running), status(backend, new)) == (S.FINISHED, S.FINISHED)


def test_a_hold_survives_a_restart_and_a_reset_releases_it(tmp_path, wall: FakeWall) -> None:
    path = tmp_path / "state.json"
    first = Backend(clock=wall, default_durations=DURATIONS, state_file=StateFile(path))
    apply_seed(first, load_seed(DEFAULT_SEED))
    run_id = submit_run(first)
    first.hold()
    first.close()
    wall.now += 3_600

    restarted = Backend(clock=wall, state_file=StateFile(path))
    assert restarted.held and status(restarted, run_id) == S.NOT_STARTED
    restarted.reset()
    assert not restarted.held
    assert restarted.clock() == 1_000.0  # time went on from the hold, not back
    restarted.close()


def test_hold_through_the_admin_api(emulator: RunningEmulator) -> None:
    hold = f"{emulator.url}/_emulator/hold"
    with httpx.Client(headers=AUTH, timeout=10) as client:
        assert client.post(hold).status_code == 415  # a POST must be JSON
        assert client.post(hold, json={}).json() == {"held": True}
        run = submit(client, emulator.url)
        assert client.get(hold).json() == {"held": True}
        assert run_status(client, emulator.url, run["Id"]) == S.NOT_STARTED
        assert client.delete(hold).json() == {"held": False}
        assert not emulator.backend.held


def test_a_manual_clock_moves_runs_only_when_advanced() -> None:
    clock = ManualClock(start=1_000.0)
    with run_emulator(clock=clock, durations=DURATIONS) as emulator:
        backend = emulator.backend
        run_id = submit_run(backend)
        assert status(backend, run_id) == S.NOT_STARTED
        clock.advance(1)
        assert status(backend, run_id) == S.QUEUED
        clock.advance(1)
        assert status(backend, run_id) == S.RUNNING
        clock.advance(3600)
        assert status(backend, run_id) == S.FINISHED


def test_the_admin_api_advances_the_clock_held_or_not(emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=f"{emulator.url}/_emulator") as client:
        before = client.get("/clock").json()["now"]
        moved = client.post("/clock/advance", json={"seconds": 3600}).json()
        assert moved["now"] >= before + 3600 and moved["held"] is False
        client.post("/hold", json={})
        held = client.post("/clock/advance", json={"seconds": 60}).json()
        assert held["held"] is True
        assert client.get("/clock").json()["now"] == held["now"]
        refused = client.post("/clock/advance", json={"seconds": -1})
        assert refused.status_code == 400 and "seconds" in refused.text
