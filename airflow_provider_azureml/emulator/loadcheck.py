"""Load check: 1,000 runs active at once, all polled concurrently until terminal.

``python -m airflow_provider_azureml.emulator.loadcheck [--runs 1000] [--concurrency 32]`` starts the
emulator in a subprocess, submits the runs, polls every active run's status in rounds with httpx,
then prints request latency percentiles, errors and the emulator's resident memory (VmRSS).
Latencies are measured by the client, which shares the machine's CPUs with the emulator; with ~100
connections in one httpx pool the client itself adds second-long tails, hence the default of 32.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx

from airflow_provider_azureml.emulator.seeded import TRAINING_V1
from airflow_provider_azureml.emulator.testing import cli_emulator
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.statuses import RunStatus

SCOPE = {
    "subscription_id": "loadcheck-sub",
    "resource_group": "loadcheck-rg",
    "workspace_name": "loadcheck-ws",
}
HEADERS = {"Authorization": "Bearer loadcheck"}


@contextmanager
def emulator_process(durations: dict[str, float]) -> Iterator[tuple[str, int]]:
    """Start the emulator CLI on a free port with these phase durations; yield (base URL, pid)."""
    options = [arg for name, seconds in durations.items() for arg in ("--duration", f"{name}={seconds}")]
    with cli_emulator("--log-level", "warning", *options) as (url, process):
        yield url, process.pid


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS line")


class Recorder:
    """Times requests and counts the non-200 ones."""

    def __init__(self, concurrency: int) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._slots = asyncio.Semaphore(concurrency)

    async def timed(self, call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
        async with self._slots:
            started = time.perf_counter()
            try:
                response = await call()
            except httpx.HTTPError as error:
                self.errors.append(repr(error))
                return None
            self.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            self.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
            return None
        return response


async def check(base: str, runs: int, concurrency: int, pid: int) -> dict[str, float]:
    recorder = Recorder(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, limits=limits, timeout=30) as client:
        # Open the pooled connections first, so latencies below are per request, not per TCP connect.
        await asyncio.gather(*(client.get(routes.DATA_TYPES.path(**SCOPE)) for _ in range(concurrency)))
        submit_url = routes.SUBMIT_PIPELINE.path(**SCOPE, pipeline_id=TRAINING_V1)
        started = time.perf_counter()
        submitted = await asyncio.gather(
            *(
                recorder.timed(partial(client.post, submit_url, json={"ExperimentName": f"load{i % 10}"}))
                for i in range(runs)
            )
        )
        submit_seconds = time.perf_counter() - started
        active = {response.json()["Id"] for response in submitted if response is not None}
        peak_active, rounds = 0, 0
        while active:
            rounds += 1
            ids = sorted(active)
            responses = await asyncio.gather(
                *(
                    recorder.timed(partial(client.get, routes.GET_PIPELINE_RUN.path(**SCOPE, run_id=rid)))
                    for rid in ids
                )
            )
            statuses = {
                rid: r.json()["Status"]["StatusCode"] for rid, r in zip(ids, responses, strict=True) if r
            }
            peak_active = max(peak_active, sum(s not in RunStatus.TERMINAL for s in statuses.values()))
            active -= {rid for rid, status in statuses.items() if status in RunStatus.TERMINAL}
            await asyncio.sleep(0.2)
        total_seconds = time.perf_counter() - started
    return {
        "runs": runs,
        "requests": len(recorder.latencies) + len(recorder.errors),
        "errors": len(recorder.errors),
        "poll_rounds": rounds,
        "peak_active_runs": peak_active,
        "submit_seconds": submit_seconds,
        "total_seconds": total_seconds,
        **_percentiles("submit", recorder.latencies[:runs]),
        **_percentiles("poll", recorder.latencies[runs:]),
        "emulator_rss_mib": rss_kib(pid) / 1024,
    }


def _percentiles(name: str, latencies: list[float]) -> dict[str, float]:
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        f"{name}_p50_ms": quantiles[49] * 1000,
        f"{name}_p95_ms": quantiles[94] * 1000,
        f"{name}_max_ms": max(latencies) * 1000,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_azureml.emulator.loadcheck", description=__doc__
    )
    parser.add_argument("--runs", type=int, default=1000, help="runs to submit (default: %(default)s)")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight (default: %(default)s)"
    )
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=8.0,
        help="duration of the run's step, long enough for all runs to overlap (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    durations = {"not_started": 0.5, "queued": 0.5, "step": args.step_seconds}
    with emulator_process(durations) as (url, pid):
        results = asyncio.run(check(url, args.runs, args.concurrency, pid))
    for name, value in results.items():
        print(f"{name:>18}: {value:.1f}" if isinstance(value, float) else f"{name:>18}: {value}")
    if results["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
