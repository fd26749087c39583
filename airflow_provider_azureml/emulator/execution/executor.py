"""Execution mode (``--execute``): published pipelines run their own steps as local processes.

A submitted run of a published pipeline becomes a :class:`RunJob`, executed on a background thread (a
small pool, so request handlers never wait): its steps one after another in graph order, each a
subprocess in its own session (process group) with the step's snapshot as working directory. The
step's stdout and stderr stream into its driver log while it runs; its exit code decides its status, and
a failure's last stderr lines become the step's error. Cancelling a run, a step's time limit and
stopping the emulator kill the whole process group (a ParallelRunStep's workers with it): SIGTERM, then
SIGKILL after a grace period. Status changes go to a :class:`RunRecorder` (the backend), which is what
every API reads.

Execution runs code sent to the emulator, so it listens on loopback only unless told otherwise
(:func:`check_binding`).
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from airflow_provider_azureml.emulator.execution.commands import StepCommand
from airflow_provider_azureml.emulator.state.lifecycle import StepSpec, blocked
from airflow_provider_azureml.emulator.wire.statuses import RunStatus

log = logging.getLogger(__name__)
#: Runs executing at once; later runs stay Queued, as on a busy compute cluster.
MAX_CONCURRENT_RUNS = 4
KILL_GRACE_SECONDS = 2.0
ERROR_TAIL_LINES = 5
_POLL_SECONDS = 0.05


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, allow_remote_execution: bool) -> None:
    """Refuse execution on a non-loopback address unless explicitly allowed: anyone who can reach the
    emulator could then run code on this machine by publishing a pipeline."""
    if not allow_remote_execution and not is_loopback(host):
        raise ValueError(
            f"--execute runs the code of every pipeline published to the emulator, so it listens on a "
            f"loopback address only; '{host}' is not one. Add --allow-remote-execution to listen there "
            "anyway (only on a network you trust)."
        )


class RunRecorder(Protocol):
    """Where the executor reports; the backend turns reports into timeline entries."""

    def run_started(self, run_id: str) -> None: ...

    def step_started(self, run_id: str, node_id: str) -> bool:
        """Record the start; False when the run has ended meanwhile (cancelled, emulator stopping)."""
        ...

    def step_ended(self, run_id: str, node_id: str, outcome: str, error: str | None) -> None: ...

    def run_ended(self, run_id: str, error: str | None = None) -> None:
        """The run is over; ``error``: the executor failed, whatever still runs fails with it."""
        ...


@dataclass(frozen=True)
class StepJob:
    spec: StepSpec
    step_run_id: str
    snapshot_id: str
    step_dir: Path
    log_path: Path
    resolve: Callable[[Path], StepCommand]  # snapshot folder -> command; may raise StepSetupError


@dataclass(frozen=True)
class RunJob:
    run_id: str
    steps: tuple[StepJob, ...]
    continue_on_step_failure: bool


@dataclass(frozen=True)
class StepOutcome:
    status: str
    error: str | None = None


@dataclass
class _Control:
    """One run's cancel switch and the process it is waiting on."""

    canceled: threading.Event = field(default_factory=threading.Event)
    future: Future[None] | None = None


class Executor:
    def __init__(
        self,
        recorder: RunRecorder,
        copy_snapshot: Callable[[str, Path], None],
        max_runs: int = MAX_CONCURRENT_RUNS,
        kill_grace: float = KILL_GRACE_SECONDS,
    ) -> None:
        """``copy_snapshot(snapshot_id, folder)`` writes a snapshot's files into ``folder``."""
        self._recorder = recorder
        self._copy_snapshot = copy_snapshot
        self._kill_grace = kill_grace
        self._pool = ThreadPoolExecutor(max_workers=max_runs, thread_name_prefix="emulator-run")
        self._controls: dict[str, _Control] = {}
        self._lock = threading.Lock()

    def submit(self, job: RunJob) -> None:
        control = _Control()
        with self._lock:
            self._controls[job.run_id] = control
            control.future = self._pool.submit(self._execute, job, control)

    def cancel(self, run_id: str) -> None:
        """Stop a run: kill its running step, start no other; a queued run ends without starting."""
        with self._lock:
            control = self._controls.get(run_id)
        if control is None:
            return
        control.canceled.set()
        if control.future is not None and control.future.cancel():
            self._forget(run_id)
            self._recorder.run_ended(run_id)

    def close(self) -> None:
        """Kill every running step and wait for the run threads to finish reporting."""
        with self._lock:
            controls = list(self._controls.values())
        for control in controls:
            control.canceled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._controls.pop(run_id, None)

    def _execute(self, job: RunJob, control: _Control) -> None:
        error = None
        try:
            self._run_steps(job, control)
        except Exception as failure:  # a bug here must not leave the run Running, nor make it Finished
            log.exception("executing run %s failed", job.run_id)
            error = f"The emulator failed while executing the run: {type(failure).__name__}: {failure}"
        finally:
            self._forget(job.run_id)
            self._recorder.run_ended(job.run_id, error)

    def _run_steps(self, job: RunJob, control: _Control) -> None:
        if control.canceled.is_set():
            return
        self._recorder.run_started(job.run_id)
        any_failed, not_run = False, set[str]()
        for step in job.steps:
            if control.canceled.is_set():
                return
            if blocked(step.spec, any_failed, not_run, job.continue_on_step_failure):
                not_run.add(step.spec.name)
                continue
            if not self._recorder.step_started(job.run_id, step.spec.node_id):
                return
            outcome = self._run_step(step, control)
            self._recorder.step_ended(job.run_id, step.spec.node_id, outcome.status, outcome.error)
            if outcome.status != RunStatus.FINISHED:
                any_failed = True
                not_run.add(step.spec.name)

    def _run_step(self, step: StepJob, control: _Control) -> StepOutcome:
        step.log_path.parent.mkdir(parents=True, exist_ok=True)
        with step.log_path.open("ab", buffering=0) as log_file:
            writer = _LogWriter(log_file)
            writer.line(
                f"[emulator] step '{step.spec.name}' (node {step.spec.node_id}), step run {step.step_run_id}"
            )
            try:
                command = self._prepare(step)
            except Exception as error:  # StepSetupError, or the snapshot could not be written
                message = f"The step could not be prepared: {error}"
                writer.line(f"[emulator] {message}")
                return StepOutcome(RunStatus.FAILED, message)
            writer.line(f"[emulator] running in {step.step_dir / 'snapshot'}: {command.display()}")
            try:
                return StepProcess(command, step.step_dir / "snapshot", writer, self._kill_grace).run(
                    control.canceled
                )
            except OSError as error:  # the process could not even start
                writer.line(f"[emulator] could not start the step: {error}")
                return StepOutcome(RunStatus.FAILED, f"The step could not be started: {error}")

    def _prepare(self, step: StepJob) -> StepCommand:
        snapshot = step.step_dir / "snapshot"
        self._copy_snapshot(step.snapshot_id, snapshot)
        command = step.resolve(snapshot)
        for folder in command.outputs.values():
            folder.mkdir(parents=True, exist_ok=True)
        return command


class _LogWriter:
    """Lines from both pipes into one log file, whole lines at a time; keeps the tail of stderr."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._lock = threading.Lock()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=ERROR_TAIL_LINES)

    def line(self, text: str) -> None:
        self.write(text.encode() + b"\n")

    def write(self, data: bytes, from_stderr: bool = False) -> None:
        with self._lock:
            self._handle.write(data)
        if from_stderr and data.strip():
            self.stderr_tail.append(data.decode(errors="replace").rstrip())

    def pump(self, pipe: IO[bytes], from_stderr: bool) -> None:
        with pipe:
            for data in iter(pipe.readline, b""):
                self.write(data if data.endswith(b"\n") else data + b"\n", from_stderr)


class StepProcess:
    """One step's process group: started, watched for exit, cancel and time limit, always cleaned up."""

    def __init__(self, command: StepCommand, cwd: Path, writer: _LogWriter, kill_grace: float) -> None:
        self.command = command
        self.cwd = cwd
        self.writer = writer
        self.kill_grace = kill_grace

    def run(self, canceled: threading.Event) -> StepOutcome:
        started = time.monotonic()
        process = subprocess.Popen(
            self.command.argv,
            cwd=self.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.command.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a kill reaches every process it started
        )
        pumps = [
            threading.Thread(target=self.writer.pump, args=(pipe, is_err), daemon=True)
            for pipe, is_err in ((process.stdout, False), (process.stderr, True))
        ]
        for pump in pumps:
            pump.start()
        try:
            stopped = self._wait(process, canceled, started)
        finally:
            self._kill_group(process)
            for pump in pumps:
                pump.join(timeout=5)
        elapsed = time.monotonic() - started
        return self._outcome(process.returncode, stopped, elapsed)

    def _wait(
        self, process: subprocess.Popen[bytes], canceled: threading.Event, started: float
    ) -> str | None:
        """Wait for the exit; returns why the step was stopped ("canceled", "timeout") or None."""
        timeout = self.command.timeout
        while process.poll() is None:
            if canceled.wait(_POLL_SECONDS):
                self._stop(process)
                return "canceled"
            if timeout is not None and time.monotonic() - started > timeout:
                self._stop(process)
                return "timeout"
        return None

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(self.kill_grace)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()

    def _kill_group(self, process: subprocess.Popen[bytes]) -> None:
        """Whatever the step left behind in its group goes too (workers, background children)."""
        if process.poll() is None:
            self._stop(process)
        _signal_group(process, signal.SIGKILL)

    def _outcome(self, returncode: int, stopped: str | None, elapsed: float) -> StepOutcome:
        if stopped == "canceled":
            self.writer.line(f"[emulator] step canceled after {elapsed:.1f} s; its processes were killed")
            return StepOutcome(RunStatus.CANCELED)
        if stopped == "timeout":
            message = f"The step exceeded its time limit of {self.command.timeout:g} s and was stopped."
            self.writer.line(f"[emulator] {message}")
            return StepOutcome(RunStatus.FAILED, message)
        self.writer.line(f"[emulator] exit code {returncode} after {elapsed:.1f} s")
        if returncode == 0:
            return StepOutcome(RunStatus.FINISHED)
        tail = "\n".join(self.writer.stderr_tail) or "(nothing on stderr)"
        return StepOutcome(RunStatus.FAILED, f"The step exited with code {returncode}:\n{tail}")


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        elif process.poll() is None:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
