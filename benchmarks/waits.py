"""Deferred waits: N runs waited on in one event loop, per-run polling versus the shared status poller,
and versus the SDK's blocking wait.

The orchestrator (:func:`run`) starts a fresh emulator per side, sets phase durations through the admin
API, submits the runs over the REST API, starts a worker process, then reads each run's end time from
run history and the emulator's request counter. Workers (``python -m benchmarks.waits MODE``) are
separate processes so that each peak RSS is their own; ``idle-*`` modes load the same code and wait on
nothing, the baseline the memory is compared with.

Sides: ``shared`` is :class:`AzureMLPipelineRunTrigger` as the operator builds it (its waits share one
poller); ``per-run`` is the trigger as it was before the shared poller (issue 17), reproduced here: each
wait reads its run and its steps once an interval, the first wait a random part of it; ``sdk`` is
``PipelineRun.wait_for_completion``, one thread per run. ``shared`` runs a second time with bursts of
429s injected on ``runs:query`` (``throttled``), counting the events each run got.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from airflow_provider_azureml.client import routes
from benchmarks.support import (
    CONN_ID,
    HEADERS,
    RESULTS,
    SCOPE,
    TRAINING_PIPELINE,
    admin,
    connection_env,
    emulator,
    percentile,
    ratio,
    run_worker,
    status_kib,
)

EXPERIMENT = "bench-waits"
#: Runs are submitted in 21 batches whose step lasts 40, 41, ... 60 s, so runs take ~45-65 s: long enough
#: for a rate per minute, short enough for a run of the benchmark to take minutes, and their ends fall at
#: every phase of a poll interval, as independent runs' ends do (not in a few clusters).
NOT_STARTED, QUEUED, STEPS = 2.0, 3.0, tuple(40.0 + second for second in range(21))
#: Requests that read a run's status; step listings (``GET_RUN_CHILDREN``) are counted apart.
STATUS_ROUTES = ("GET GET_PIPELINE_RUN", "POST QUERY_RUNS", "GET GET_RUN", "GET GET_RUN_DETAILS")
#: The ``throttled`` side: a burst of 429s on ``runs:query`` this often, each more than the client's
#: retries (6 by default) absorb, so the poller falls back to reading runs one by one.
BURST = {"route": "QUERY_RUNS", "kind": "throttle", "count": 20, "retry_after": 1}
BURST_EVERY = 15.0


# Workers ------------------------------------------------------------------------------------------------


async def _shared_waits(run_ids: list[str], poll_interval: float) -> tuple[dict[str, float], Counter[str]]:
    """Every run waited on by our trigger, all in this event loop: they share one status poller."""
    from airflow_provider_azureml.hooks.azureml import AzureMLHook
    from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger

    retry_settings = AzureMLHook(CONN_ID).retry_settings
    events: Counter[str] = Counter()

    async def wait(run_id: str) -> tuple[str, float]:
        trigger = AzureMLPipelineRunTrigger(  # as AzureMLBaseOperator.defer builds it
            run_id=run_id,
            experiment_name=EXPERIMENT,
            azureml_conn_id=CONN_ID,
            poll_interval=poll_interval,
            end_time=time.time() + 3600,
            retry_settings=retry_settings,
        )
        async for event in trigger.run():
            events[run_id] += 1
            if event.payload.get("run_status") != "Finished":
                raise RuntimeError(f"unexpected event {event.payload}")
        return run_id, time.time()

    return dict(await asyncio.gather(*(wait(run_id) for run_id in run_ids))), events


async def _per_run_waits(run_ids: list[str], poll_interval: float) -> tuple[dict[str, float], Counter[str]]:
    """The trigger before the shared poller: each wait reads its run and its steps every interval."""
    from airflow_provider_azureml.client.statuses import RunState
    from airflow_provider_azureml.hooks.azureml import AzureMLHook
    from airflow_provider_azureml.utils.waiting import Pacing

    retry_settings = AzureMLHook(CONN_ID).retry_settings

    async def wait(run_id: str) -> tuple[str, float]:
        async with await AzureMLHook.get_async_client_for(CONN_ID, **retry_settings) as client:
            pacing = Pacing(poll_interval, fraction=random.random())
            while True:
                started = time.monotonic()
                run = await client.get_pipeline_run(run_id)
                await client.list_step_runs(EXPERIMENT, run_id)
                if RunState(run.status).is_terminal:
                    return run_id, time.time()
                wait, pacing = pacing.after_poll(time.monotonic() - started)
                await asyncio.sleep(wait)

    return dict(await asyncio.gather(*(wait(run_id) for run_id in run_ids))), Counter(run_ids)


def _sdk_waits(run_ids: list[str]) -> tuple[dict[str, float], Counter[str]]:
    """One thread per run blocked in ``PipelineRun.wait_for_completion``, like a PythonOperator each."""
    from azureml.core import Experiment
    from azureml.pipeline.core import PipelineRun

    from airflow_provider_azureml.hooks.azureml import AzureMLHook

    experiment = Experiment(AzureMLHook(CONN_ID).get_workspace(), EXPERIMENT, _create_in_cloud=False)
    seen: dict[str, float] = {}

    def wait(run_id: str) -> None:
        PipelineRun(experiment, run_id).wait_for_completion(show_output=False)
        seen[run_id] = time.time()

    threads = [threading.Thread(target=wait, args=(run_id,), daemon=True) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen, Counter(seen.keys())


def _idle(mode: str) -> None:
    """Load what the waiting side loads, then wait on nothing for a moment."""
    from airflow_provider_azureml.hooks.azureml import AzureMLHook
    from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger  # noqa: F401

    if mode == "idle-sdk":
        from azureml.core import Experiment
        from azureml.pipeline.core import PipelineRun  # noqa: F401

        Experiment(AzureMLHook(CONN_ID).get_workspace(), EXPERIMENT, _create_in_cloud=False)
    else:
        json.dumps(AzureMLHook(CONN_ID).retry_settings)
    asyncio.run(asyncio.sleep(2))


def worker(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.waits")
    parser.add_argument("mode", choices=["shared", "per-run", "sdk", "idle-triggers", "idle-sdk"])
    parser.add_argument("--runs-file", type=Path)
    parser.add_argument("--poll-interval", type=float, default=10.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.getLogger("airflow_provider_azureml").setLevel(logging.WARNING)
    started, seen, events = time.time(), {}, Counter[str]()
    run_ids = json.loads(args.runs_file.read_text()) if args.runs_file else []
    if args.mode == "shared":
        seen, events = asyncio.run(_shared_waits(run_ids, args.poll_interval))
    elif args.mode == "per-run":
        seen, events = asyncio.run(_per_run_waits(run_ids, args.poll_interval))
    elif args.mode == "sdk":
        seen, events = _sdk_waits(run_ids)
    else:
        _idle(args.mode)
    args.out.write_text(json.dumps({"started": started, "seen": seen, "events": events, **status_kib()}))


# Orchestration -----------------------------------------------------------------------------------------


async def _submit(base_url: str, runs: int) -> list[str]:
    """Submit ``runs`` runs over the REST API, one batch per step duration."""
    url = base_url + routes.SUBMIT_PIPELINE.path(**SCOPE, pipeline_id=TRAINING_PIPELINE)
    body = {"ExperimentName": EXPERIMENT, "ParameterAssignments": {"avg_rate": "0.5"}}
    slots, ids = asyncio.Semaphore(32), []

    async def submit(client: httpx.AsyncClient) -> str:
        async with slots:
            response = await client.post(url, json=body)
            response.raise_for_status()
            return str(response.json()["Id"])

    async with httpx.AsyncClient(headers=HEADERS, timeout=60) as client:
        for index, step in enumerate(STEPS):
            durations = {"not_started": NOT_STARTED, "queued": QUEUED, "step": step}
            await asyncio.to_thread(admin, base_url, "PUT", "durations", durations)
            count = runs * (index + 1) // len(STEPS) - runs * index // len(STEPS)
            ids += await asyncio.gather(*(submit(client) for _ in range(count)))
    return ids


def _end_times(base_url: str, run_ids: list[str]) -> dict[str, float]:
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=60) as client:
        ends = {}
        for run_id in run_ids:
            path = routes.GET_RUN.path(**SCOPE, experiment_name=EXPERIMENT, run_id=run_id)
            ends[run_id] = datetime.fromisoformat(client.get(path).json()["endTimeUtc"]).timestamp()
    return ends


def _bursts(base_url: str, stop: threading.Event) -> int:
    """Inject a burst of 429s on ``runs:query`` every ``BURST_EVERY`` seconds until ``stop``."""
    injected = 0
    while not stop.wait(0 if not injected else BURST_EVERY):
        admin(base_url, "POST", "faults", BURST)
        injected += 1
    return injected


def _side(
    mode: str, runs: int, poll_interval: float, timeout: float, *, throttled: bool = False
) -> dict[str, Any]:
    with emulator() as (url, _pid):
        env = connection_env(url)
        run_ids = asyncio.run(_submit(url, runs))
        name = f"{mode}-throttled" if throttled else mode
        runs_file = RESULTS / "logs" / f"waits-{name}-runs.json"
        runs_file.parent.mkdir(parents=True, exist_ok=True)
        runs_file.write_text(json.dumps(run_ids))
        admin(url, "DELETE", "requests")
        stop, bursts = threading.Event(), [0]
        injector = threading.Thread(target=lambda: bursts.__setitem__(0, _bursts(url, stop)), daemon=True)
        if throttled:
            injector.start()
        try:
            args = [mode, "--runs-file", str(runs_file), "--poll-interval", str(poll_interval)]
            result = run_worker("benchmarks.waits", args, env, f"waits-{name}", timeout)
        finally:
            stop.set()
            if throttled:
                injector.join()
        requests = admin(url, "GET", "requests")
        ends = _end_times(url, run_ids)
        idle_mode = "idle-sdk" if mode == "sdk" else "idle-triggers"
        idle = run_worker("benchmarks.waits", [idle_mode], env, f"waits-{idle_mode}-{name}", 300)
    seen, events = result["seen"], Counter(result["events"])
    lags = [seen[run_id] - ends[run_id] for run_id in run_ids]
    minutes = (max(seen.values()) - result["started"]) / 60
    by_route = requests["routes"]
    status_requests = sum(by_route.get(route, 0) for route in STATUS_ROUTES)
    return {
        "waits": runs,
        "completed_seen": len(seen),
        "events_per_wait_min_max": [min(events[r] for r in run_ids), max(events[r] for r in run_ids)],
        "wall_minutes": minutes,
        "wall_after_last_end_s": max(seen.values()) - max(ends.values()),
        "lag_p50_s": statistics.median(lags),
        "lag_p95_s": percentile(lags, 95),
        "lag_max_s": max(lags),
        "peak_rss_mib": result["VmHWM"] / 1024,
        "idle_peak_rss_mib": idle["VmHWM"] / 1024,
        "rss_over_idle_mib": (result["VmHWM"] - idle["VmHWM"]) / 1024,
        "rss_over_idle_kib_per_wait": (result["VmHWM"] - idle["VmHWM"]) / runs,
        "requests": requests["total"],
        "requests_by_route": by_route,
        "requests_per_minute": requests["total"] / minutes,
        "status_requests_per_minute": status_requests / minutes,
        "step_listings_per_minute": by_route.get("GET GET_RUN_CHILDREN", 0) / minutes,
        "status_requests_per_run_minute": status_requests / minutes / runs,
        "throttle_bursts_injected": bursts[0],
    }


def run(triggers: int, sdk_waits: int, poll_interval: float) -> dict[str, Any]:
    timeout = 600
    sides = {
        "per_run": _side("per-run", triggers, poll_interval, timeout),
        "shared": _side("shared", triggers, poll_interval, timeout),
        "shared_throttled": _side("shared", triggers, poll_interval, timeout, throttled=True),
        "sdk": _side("sdk", sdk_waits, poll_interval, timeout),
    }
    scale = triggers / sdk_waits  # the SDK's figures scaled to as many waits as the triggers had
    shared, per_run, sdk = sides["shared"], sides["per_run"], sides["sdk"]
    result: dict[str, Any] = {
        "poll_interval_s": poll_interval,
        **sides,
        "sdk_scaled_to_triggers": {
            "rss_over_idle_mib": sdk["rss_over_idle_kib_per_wait"] * triggers / 1024,
            "status_requests_per_minute": sdk["status_requests_per_minute"] * scale,
        },
        "status_requests_ratio_shared_per_run": ratio(
            shared["status_requests_per_minute"], per_run["status_requests_per_minute"]
        ),
        "requests_ratio_shared_per_run": ratio(shared["requests_per_minute"], per_run["requests_per_minute"]),
    }
    print(f"  {'':32} {'status req/min':>14} {'all req/min':>11} {'lag p50/p95/max s':>19} {'RSS +MiB':>9}")
    names = {
        "per_run": f"per-run polling, {triggers} waits",
        "shared": f"shared poller, {triggers} waits",
        "shared_throttled": f"shared, 429 bursts, {triggers}",
        "sdk": f"SDK threads, {sdk_waits} waits",
    }
    for key, side in sides.items():
        lags = f"{side['lag_p50_s']:.1f}/{side['lag_p95_s']:.1f}/{side['lag_max_s']:.1f}"
        print(
            f"  {names[key]:32} {side['status_requests_per_minute']:14.0f} "
            f"{side['requests_per_minute']:11.0f} {lags:>19} {side['rss_over_idle_mib']:9.0f}   "
            f"{side['completed_seen']}/{side['waits']} seen, events per wait "
            f"{'..'.join(map(str, side['events_per_wait_min_max']))}"
        )
    scaled = result["sdk_scaled_to_triggers"]
    print(
        f"  SDK scaled to {triggers} waits: {scaled['status_requests_per_minute']:.0f} status req/min, "
        f"+{scaled['rss_over_idle_mib']:.0f} MiB; shared / per-run status requests "
        f"x{result['status_requests_ratio_shared_per_run']:.3f}, all requests "
        f"x{result['requests_ratio_shared_per_run']:.3f} (poll interval {poll_interval:.0f} s; "
        f"{sides['shared_throttled']['throttle_bursts_injected']} bursts of {BURST['count']} 429s)"
    )
    return result


if __name__ == "__main__":
    worker()
