"""The emulator's ParallelRunStep driver, standing in for the service's ``driver/amlbi_main.py``.

Run as ``python prs_driver.py <the step's arguments>`` in the step's snapshot folder (the executor does;
so can anyone, it needs only the standard library). It takes the arguments the SDK published
(``--scoring_module_name``, ``--mini_batch_size``, ``--error_threshold``, ``--output_action``,
``--append_row_file_name``, ``--run_invocation_timeout``, ``--run_max_try``, ``--output``,
``--process_count_per_node``, ``--input_fds_<i> <input name>``, then the user's own), and:

- lists the files of each FileDataset input (``AZUREML_DATAREFERENCE_<input name>`` names the folder; a
  path is accepted too) and cuts them into mini batches of ``mini_batch_size`` files;
- starts ``AZUREML_NODE_COUNT`` times ``process_count_per_node`` worker processes (1 per node by default,
  as in the SDK), at most one per core and per mini batch; each imports the entry script, calls
  ``init()`` once, then ``run(mini_batch)`` per batch (the file paths), with ``sys.argv`` holding every
  argument as on the service;
- a batch whose ``run`` raises, dies or exceeds ``run_invocation_timeout`` (its worker is killed and
  replaced) is tried again, up to ``run_max_try`` tries in all; then all its items count as failed.
  Items for which ``run`` returned no row (fewer rows than files) count as failed too;
- once failed items exceed ``error_threshold`` (-1: never) the step stops and fails;
- ``append_row`` writes every returned row (a DataFrame's rows space-separated) to
  ``--append_row_file_name`` (default ``parallel_run_step.txt``) in the ``--output`` folder, in mini
  batch order; ``summary_only`` writes none;
- progress goes to stdout (the step's log); the reason for a failure is the last line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import multiprocessing
import os
import re
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

DEFAULT_APPEND_ROW_FILE = "parallel_run_step.txt"
_INPUT_OPTION = re.compile(r"^--input_(fds|ds)_(\d+)$")


class DriverError(Exception):
    """The step fails with this message (last line on stderr)."""


# -- arguments ------------------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prs_driver", allow_abbrev=False)
    p.add_argument("--scoring_module_name", required=True)
    p.add_argument("--mini_batch_size", required=True)
    p.add_argument("--error_threshold", type=int, default=-1)
    p.add_argument("--output_action", choices=("append_row", "summary_only"), default="append_row")
    p.add_argument("--append_row_file_name", default=DEFAULT_APPEND_ROW_FILE)
    p.add_argument("--run_invocation_timeout", type=float, default=60)
    p.add_argument("--run_max_try", type=int, default=3)
    p.add_argument("--output", type=Path)
    p.add_argument("--process_count_per_node", type=int, default=1)
    return p


@dataclass(frozen=True)
class Settings:
    entry_script: Path
    mini_batch_size: int
    error_threshold: int
    output_action: str
    output_file: Path | None
    run_invocation_timeout: float
    run_max_try: int
    workers: int
    inputs: tuple[Path, ...]
    argv: tuple[str, ...]  # every argument, for the entry script's sys.argv


def _inputs(argv: list[str]) -> list[str]:
    """Values of ``--input_fds_<i>`` in index order; tabular inputs (``--input_ds_<i>``) are refused."""
    found = []
    for option, value in itertools.pairwise(argv):
        match = _INPUT_OPTION.match(option)
        if match and match[1] == "ds":
            raise DriverError(f"{option}: TabularDataset inputs are not supported by the emulator's driver.")
        if match:
            found.append((int(match[2]), value))
    return [value for _, value in sorted(found)]


def input_folder(name: str) -> Path:
    """An input named by the step (its mount is ``AZUREML_DATAREFERENCE_<name>``), or a plain path."""
    located = os.environ.get(f"AZUREML_DATAREFERENCE_{name}")
    path = Path(located) if located else Path(name)
    if not path.exists():
        raise DriverError(f"Input '{name}' was not found (no AZUREML_DATAREFERENCE_{name}, no such path).")
    return path


def _positive(name: str, text: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise DriverError(f"{name} must be a whole number of files, got {text!r}.") from None
    if value < 1:
        raise DriverError(f"{name} must be at least 1, got {value}.")
    return value


def settings(argv: list[str]) -> Settings:
    args, _ = parser().parse_known_args(argv)
    entry = Path(args.scoring_module_name)
    if not entry.is_file():
        raise DriverError(f"Entry script '{entry}' is not in the step's snapshot ({Path.cwd()}).")
    nodes = _positive("AZUREML_NODE_COUNT", os.environ.get("AZUREML_NODE_COUNT", "1"))
    per_node = _positive("process_count_per_node", args.process_count_per_node)
    output_file = None
    if args.output_action == "append_row":
        if args.output is None:
            raise DriverError("output_action append_row needs --output.")
        output_file = args.output / args.append_row_file_name
    return Settings(
        entry_script=entry.resolve(),
        mini_batch_size=_positive("mini_batch_size", args.mini_batch_size),
        error_threshold=args.error_threshold,
        output_action=args.output_action,
        output_file=output_file,
        run_invocation_timeout=args.run_invocation_timeout,
        run_max_try=max(1, args.run_max_try),
        workers=min(nodes * per_node, os.cpu_count() or 1),
        inputs=tuple(input_folder(name) for name in _inputs(argv)),
        argv=tuple(argv),
    )


def input_files(inputs: tuple[Path, ...]) -> list[str]:
    """Every file of every input, in path order: a FileDataset's items."""
    files: list[str] = []
    for root in inputs:
        files += [str(root)] if root.is_file() else sorted(str(p) for p in root.rglob("*") if p.is_file())
    return files


def mini_batches(files: list[str], size: int) -> list[list[str]]:
    return [files[start : start + size] for start in range(0, len(files), size)]


# -- workers --------------------------------------------------------------------------------------------
def _rows(result: Any) -> list[str]:
    """What ``run`` returned as output lines: a DataFrame's rows space-separated, else ``str`` of each."""
    if hasattr(result, "to_csv"):
        return str(result.to_csv(sep=" ", header=False, index=False)).splitlines()
    return [str(row) for row in result or []]


def _load_entry_script(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def worker_main(entry_script: str, argv: list[str], conn: Connection) -> None:
    """A worker process: ``init()`` once, then ``run(mini_batch)`` for each batch the driver sends."""
    sys.argv = [entry_script, *argv]
    try:
        module = _load_entry_script(Path(entry_script))
        if hasattr(module, "init"):
            module.init()
    except BaseException:
        sys.stdout.flush()
        conn.send(("init_failed", traceback.format_exc()))
        return
    sys.stdout.flush()
    conn.send(("ready",))
    while (task := conn.recv()) is not None:
        batch_id, items = task
        try:
            reply: tuple[Any, ...] = ("done", batch_id, _rows(module.run(items)), None)
        except Exception:
            reply = ("done", batch_id, None, traceback.format_exc())
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send(reply)
    if hasattr(module, "shutdown"):
        module.shutdown()


@dataclass
class Batch:
    id: int
    items: list[str]
    tries: int = 0


@dataclass
class Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    ready: bool = False
    batch: Batch | None = None
    since: float = field(default_factory=time.monotonic)


class RowWriter:
    """Appends each batch's rows in batch order, whatever order the batches finish in."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.written = 0
        self._next = 0
        self._waiting: dict[int, list[str]] = {}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def add(self, batch_id: int, rows: list[str]) -> None:
        self._waiting[batch_id] = rows
        while self._next in self._waiting:
            ready = self._waiting.pop(self._next)
            if self.path is not None and ready:
                with self.path.open("a") as handle:
                    handle.writelines(f"{row}\n" for row in ready)
                self.written += len(ready)
            self._next += 1


class Driver:
    def __init__(self, config: Settings, batches: list[list[str]]) -> None:
        self.config = config
        self.pending = deque(Batch(i, items) for i, items in enumerate(batches))
        self.total_batches = len(batches)
        self.total_items = sum(len(items) for items in batches)
        self.done_batches = self.processed = self.failed_items = 0
        self.rows = RowWriter(config.output_file)
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[Worker] = []

    def run(self) -> None:
        count = min(self.config.workers, self.total_batches)
        for folder in self.config.inputs:
            print(f"[prs] input: {folder}", flush=True)
        print(
            f"[prs] {self.total_items} items in {self.total_batches} mini batches of up to "
            f"{self.config.mini_batch_size}; {count} worker processes",
            flush=True,
        )
        self.workers = [self._start_worker() for _ in range(count)]
        try:
            while self.pending or any(w.batch for w in self.workers):
                self._dispatch()
                self._receive()
                self._check_timeouts()
        finally:
            self._stop_workers()

    def _start_worker(self) -> Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=worker_main,
            args=(str(self.config.entry_script), list(self.config.argv), child),
            daemon=True,
        )
        process.start()
        child.close()
        return Worker(process, parent)

    def _dispatch(self) -> None:
        for worker in self.workers:
            if worker.ready and worker.batch is None and self.pending:
                worker.batch = self.pending.popleft()
                worker.batch.tries += 1
                worker.since = time.monotonic()
                worker.conn.send((worker.batch.id, worker.batch.items))

    def _receive(self) -> None:
        ready = wait([w.conn for w in self.workers], timeout=self._wait_time())
        for worker in [w for w in self.workers if w.conn in ready]:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                self._replace(worker, f"worker process exited with code {worker.process.exitcode}")
                continue
            self._handle(worker, message)

    def _wait_time(self) -> float:
        busy = [w.since for w in self.workers if w.batch is not None]
        if not busy:
            return 1.0
        return max(0.0, min(busy) + self.config.run_invocation_timeout - time.monotonic())

    def _handle(self, worker: Worker, message: tuple[Any, ...]) -> None:
        if message[0] == "init_failed":
            raise DriverError(f"init() of {self.config.entry_script.name} failed:\n{message[1].rstrip()}")
        if message[0] == "ready":
            worker.ready = True
            return
        _, batch_id, rows, error = message
        batch, worker.batch = worker.batch, None
        assert batch is not None and batch.id == batch_id
        if error is not None:
            self._retry_or_fail(batch, f"run() raised:\n{error.rstrip()}")
        else:
            self._account(batch, rows)

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for worker in list(self.workers):
            if worker.batch is not None and now - worker.since > self.config.run_invocation_timeout:
                self._replace(
                    worker,
                    f"run() exceeded run_invocation_timeout ({self.config.run_invocation_timeout:g} s)",
                )

    def _replace(self, worker: Worker, reason: str) -> None:
        """Kill a worker that died or hung; its batch is tried again elsewhere (or fails)."""
        worker.process.kill()
        worker.process.join()
        worker.conn.close()
        self.workers[self.workers.index(worker)] = self._start_worker()
        if worker.batch is not None:
            self._retry_or_fail(worker.batch, reason)

    def _retry_or_fail(self, batch: Batch, reason: str) -> None:
        last = reason.splitlines()[-1]
        if batch.tries < self.config.run_max_try:
            print(
                f"[prs] mini batch {batch.id + 1}: try {batch.tries} of {self.config.run_max_try} failed: "
                f"{last}; retrying",
                flush=True,
            )
            self.pending.append(batch)
            return
        print(
            f"[prs] mini batch {batch.id + 1} failed after {batch.tries} tries: {reason}",
            file=sys.stderr,
            flush=True,
        )
        self._account(batch, [])

    def _account(self, batch: Batch, rows: list[str]) -> None:
        failed = max(0, len(batch.items) - len(rows))
        self.done_batches += 1
        self.processed += len(batch.items)
        self.failed_items += failed
        self.rows.add(batch.id, rows)
        print(
            f"[prs] mini batch {batch.id + 1}/{self.total_batches}: {len(batch.items)} items, "
            f"{len(rows)} rows{f', {failed} failed' if failed else ''}. "
            f"Progress: {self.done_batches}/{self.total_batches} batches, "
            f"{self.processed}/{self.total_items} items, {self.failed_items} failed",
            flush=True,
        )
        threshold = self.config.error_threshold
        if threshold >= 0 and self.failed_items > threshold:
            raise DriverError(
                f"{self.failed_items} items failed, more than error_threshold {threshold}; the step stops."
            )

    def _stop_workers(self) -> None:
        for worker in self.workers:  # one still in init() reads the stop once init() returns
            if worker.process.is_alive():
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        deadline = time.monotonic() + 5
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


def _summary(driver: Driver, started: float) -> Iterator[str]:
    config = driver.config
    yield (
        f"[prs] done: {driver.processed}/{driver.total_items} items in {driver.done_batches} mini batches, "
        f"{driver.failed_items} failed (error_threshold {config.error_threshold}), "
        f"{time.monotonic() - started:.2f} s"
    )
    if config.output_file is not None:
        yield f"[prs] {driver.rows.written} rows in {config.output_file}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    sys.path[0] = os.getcwd()  # the entry script's imports resolve in the snapshot, not here
    started = time.monotonic()
    try:
        config = settings(argv)
        driver = Driver(config, mini_batches(input_files(config.inputs), config.mini_batch_size))
        driver.run()
    except DriverError as error:
        print(f"ParallelRunStep failed: {error}", file=sys.stderr, flush=True)
        return 1
    for line in _summary(driver, started):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
