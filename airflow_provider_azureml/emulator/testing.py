"""Run the emulator in-process for tests: ``with run_emulator() as emulator: ...``.

``emulator.url`` is its base URL (loopback, free port), ``emulator.backend`` its state for assertions,
``emulator.faults`` the fault injector (``emulator.faults.inject(routes.GET_PIPELINE_RUN, kind="throttle")``),
``emulator.requests`` the request counter, and ``emulator.restart()`` stops and starts it again on the
same port (with a ``state_file``, runs survive the restart).

``clock`` is the wall clock the emulator's time follows: with a :class:`~.infrastructure.clock.ManualClock`,
runs progress only when the test calls ``clock.advance(seconds)``.

``execute=True`` runs published pipelines' steps as local processes (:mod:`.execution.executor`), keeping
their files in ``data_dir`` (a temporary directory when None); seeded pipelines stay simulated.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from airflow_provider_azureml.emulator.execution.executor import check_binding
from airflow_provider_azureml.emulator.infrastructure.app import EmulatorApp, build_app
from airflow_provider_azureml.emulator.infrastructure.clock import ManualClock
from airflow_provider_azureml.emulator.infrastructure.context import EmulatorConfig
from airflow_provider_azureml.emulator.infrastructure.faults import FaultInjector
from airflow_provider_azureml.emulator.infrastructure.routing import RequestCounter
from airflow_provider_azureml.emulator.infrastructure.server import EmulatorServer
from airflow_provider_azureml.emulator.state.backend import Backend
from airflow_provider_azureml.emulator.state.lifecycle import Durations
from airflow_provider_azureml.emulator.state.seed import DEFAULT_SEED

#: Phase durations that finish a one-step run in about a tenth of a second.
FAST_DURATIONS = Durations(not_started=0.02, queued=0.03, step=0.05, cancel=0.02)


class RunningEmulator:
    """A started emulator; see the module docstring."""

    def __init__(self, config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.faults = FaultInjector()
        self._server = self._start(host, port)
        self.url = self._server.url

    def _start(self, host: str, port: int) -> EmulatorServer:
        server = EmulatorServer(build_app(self.config, self.faults), host, port)
        server.start()
        return server

    @property
    def app(self) -> EmulatorApp:
        return self._server.app

    @property
    def backend(self) -> Backend:
        return self.app.services.backend

    @property
    def requests(self) -> RequestCounter:
        return self.app.services.counter

    def restart(self) -> None:
        """Stop (writing the state file) and start again on the same port, as a new process would."""
        host, port = self._server.socket.getsockname()[:2]
        self._server.stop()
        self._server = self._start(host, port)

    def stop(self) -> None:
        self._server.stop()


@contextmanager
def run_emulator(
    *,
    seed_file: str | Path | None = DEFAULT_SEED,
    state_file: str | Path | None = None,
    durations: Durations = FAST_DURATIONS,
    expected_token: str | None = None,
    admin_token: str | None = None,
    allow_unknown_parameters: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    execute: bool = False,
    step_timeout: float | None = None,
    data_dir: str | Path | None = None,
    allow_remote_execution: bool = False,
    clock: Callable[[], float] = time.time,
) -> Iterator[RunningEmulator]:
    """Serve the emulator from a background thread for the duration of the ``with`` block."""
    if execute:
        check_binding(host, allow_remote_execution)
    config = EmulatorConfig(
        seed_file=Path(seed_file) if seed_file else None,
        state_file=Path(state_file) if state_file else None,
        expected_token=expected_token,
        admin_token=admin_token,
        allow_unknown_parameters=allow_unknown_parameters,
        durations=durations,
        data_dir=Path(data_dir) if data_dir else None,
        execute=execute,
        step_timeout=step_timeout,
        clock=clock,
    )
    emulator = RunningEmulator(config, host, port)
    try:
        yield emulator
    finally:
        emulator.stop()


def emulator_command(*options: str) -> list[str]:
    """The emulator's command line with this Python: ``python -m airflow_provider_azureml.emulator ...``."""
    return [sys.executable, "-m", "airflow_provider_azureml.emulator", *options]


@contextmanager
def cli_emulator(
    *options: str, env: Mapping[str, str] | None = None, stderr: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run the emulator CLI as its own process on a free port; yield its base URL and the process.

    It prints its URL on its first line once it listens. On exit it gets SIGTERM, on which it writes its
    state file, as a service manager would stop it.
    """
    command = emulator_command("--port", "0", *options)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the emulator did not report its URL (got {url!r})")
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


__all__ = [
    "FAST_DURATIONS",
    "ManualClock",
    "RunningEmulator",
    "cli_emulator",
    "emulator_command",
    "run_emulator",
]
