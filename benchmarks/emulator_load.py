"""The emulator's own ceiling: status reads per second with N runs active, via the emulator's own loadcheck.

Compared with the load the waiting styles would put on it for the same number of runs, as measured by
``waits``: a trigger polling per run reads the run and its steps once per poll interval, the shared poller
reads 500 runs per request, the SDK reads the run every second.
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_provider_azureml.emulator import loadcheck
from benchmarks.support import ratio

CONCURRENCY = 32  # loadcheck's default: more connections in one httpx pool make the client the bottleneck


def run(runs: int, poll_interval: float, requests_per_run_minute: dict[str, float]) -> dict[str, Any]:
    with loadcheck.emulator_process({"not_started": 0.5, "queued": 0.5, "step": 8.0}) as (url, pid):
        checked = asyncio.run(loadcheck.check(url, runs, CONCURRENCY, pid))
    status_requests = checked["requests"] - runs
    per_second = status_requests / (checked["total_seconds"] - checked["submit_seconds"])
    demand = {side: per_minute * runs / 60 for side, per_minute in requests_per_run_minute.items()}
    headroom = {side: ratio(per_second, wanted) for side, wanted in demand.items()}
    result: dict[str, Any] = {
        **checked,
        "status_requests_per_second": per_second,
        "demand_per_second": demand,
        "headroom": headroom,
    }
    print(
        f"  {per_second:.0f} status requests/s with {checked['peak_active_runs']} runs active "
        f"(p50 {checked['poll_p50_ms']:.0f} ms, p95 {checked['poll_p95_ms']:.0f} ms, "
        f"{checked['errors']} errors, "
        f"emulator RSS {checked['emulator_rss_mib']:.0f} MiB)"
    )
    for side, wanted in demand.items():
        print(f"  headroom over {runs} {side} waits ({wanted:.0f} requests/s): x{headroom[side]:.2f}")
    return result
