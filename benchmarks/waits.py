"""Deferred waits: N runs waited on by our trigger in one event loop versus the SDK's blocking wait.

The orchestrator (:func:`run`) starts a fresh emulator per side, sets phase durations through the admin
API, submits the runs over the REST API, starts a worker process, then reads each run's end time from
run history and the emulator's request counter. Workers (``python -m benchmarks.waits MODE``) are
separate processes so that each peak RSS is their own; ``idle-*`` modes load the same code and wait on
nothing, the baseline the memory is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import threading
import time
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
#: Runs are submitted in batches whose step lasts 15..25 s, so runs take ~20-30 s and end spread out.
NOT_STARTED, QUEUED, STEPS = 2.0, 3.0, (15.0, 17.5, 20.0, 22.5, 25.0)


# Workers ------------------------------------------------------------------------------------------------


async def _trigger_waits(run_ids: list[str], poll_interval: float) -> dict[str, float]:
    from airflow_provider_azureml.hooks.azureml import AzureMLHook
    from airflow_provider_azureml.triggers.pipeline_run import AzureMLPipelineRunTrigger

    retry_settings = AzureMLHook(CONN_ID).retry_settings
    seen: dict[str, float] = {}

    async def wait(run_id: str) -> None:
        trigger = AzureMLPipelineRunTrigger(  # as AzureMLBaseOperator.defer builds it
            run_id=run_id,
            experiment_name=EXPERIMENT,
            azureml_conn_id=CONN_ID,
            poll_interval=poll_interval,
            end_time=time.time() + 3600,
            retry_settings=retry_settings,
        )
        async for event in trigger.run():
            if event.payload.get("run_status") != "Finished":
                raise RuntimeError(f"unexpected event {event.payload}")
            seen[run_id] = time.time()
            return

    await asyncio.gather(*(wait(run_id) for run_id in run_ids))
    return seen


def _sdk_waits(run_ids: list[str]) -> dict[str, float]:
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
    return seen


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
    parser.add_argument("mode", choices=["triggers", "sdk", "idle-triggers", "idle-sdk"])
    parser.add_argument("--runs-file", type=Path)
    parser.add_argument("--poll-interval", type=float, default=10.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.getLogger("airflow_provider_azureml").setLevel(logging.WARNING)
    started, seen = time.time(), {}
    if args.mode == "triggers":
        seen = asyncio.run(_trigger_waits(json.loads(args.runs_file.read_text()), args.poll_interval))
    elif args.mode == "sdk":
        seen = _sdk_waits(json.loads(args.runs_file.read_text()))
    else:
        _idle(args.mode)
    args.out.write_text(json.dumps({"started": started, "seen": seen, **status_kib()}))


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


def _side(mode: str, runs: int, poll_interval: float, timeout: float) -> dict[str, Any]:
    with emulator() as (url, _pid):
        env = connection_env(url)
        run_ids = asyncio.run(_submit(url, runs))
        runs_file = RESULTS / "logs" / f"waits-{mode}-runs.json"
        runs_file.parent.mkdir(parents=True, exist_ok=True)
        runs_file.write_text(json.dumps(run_ids))
        admin(url, "DELETE", "requests")
        args = [mode, "--runs-file", str(runs_file), "--poll-interval", str(poll_interval)]
        result = run_worker("benchmarks.waits", args, env, f"waits-{mode}", timeout)
        requests = admin(url, "GET", "requests")
        ends = _end_times(url, run_ids)
        idle = run_worker("benchmarks.waits", [f"idle-{mode}"], env, f"waits-idle-{mode}", 300)
    seen = result["seen"]
    lags = [seen[run_id] - ends[run_id] for run_id in run_ids]
    run_minutes = sum(seen[run_id] - result["started"] for run_id in run_ids) / 60
    return {
        "waits": runs,
        "completed_seen": len(seen),
        "wall_after_last_end_s": max(seen.values()) - max(ends.values()),
        "lag_p50_s": statistics.median(lags),
        "lag_p95_s": percentile(lags, 95),
        "lag_max_s": max(lags),
        "peak_rss_mib": result["VmHWM"] / 1024,
        "idle_peak_rss_mib": idle["VmHWM"] / 1024,
        "rss_over_idle_mib": (result["VmHWM"] - idle["VmHWM"]) / 1024,
        "rss_over_idle_kib_per_wait": (result["VmHWM"] - idle["VmHWM"]) / runs,
        "requests": requests["total"],
        "requests_by_route": requests["routes"],
        "requests_per_run_minute": requests["total"] / run_minutes,
    }


def run(triggers: int, sdk_waits: int, poll_interval: float) -> dict[str, Any]:
    ours = _side("triggers", triggers, poll_interval, timeout=300)
    sdk = _side("sdk", sdk_waits, poll_interval, timeout=300)
    scaled_sdk_mib = sdk["rss_over_idle_kib_per_wait"] * triggers / 1024
    result = {
        "poll_interval_s": poll_interval,
        "ours": ours,
        "sdk": sdk,
        "sdk_rss_over_idle_scaled_to_triggers_mib": scaled_sdk_mib,
        "memory_per_wait_ratio": ratio(ours["rss_over_idle_kib_per_wait"], sdk["rss_over_idle_kib_per_wait"]),
        "requests_per_run_minute_ratio": ratio(
            ours["requests_per_run_minute"], sdk["requests_per_run_minute"]
        ),
        "lag_max_ratio": ratio(ours["lag_max_s"], sdk["lag_max_s"]),
    }
    for name, side in (("trigger, 1 event loop", ours), ("SDK wait_for_completion, 1 thread each", sdk)):
        print(
            f"  {name}: {side['completed_seen']}/{side['waits']} seen; after the emulator's last end: "
            f"{side['wall_after_last_end_s']:.1f} s; lag p50 {side['lag_p50_s']:.1f} s, max "
            f"{side['lag_max_s']:.1f} s; peak RSS {side['peak_rss_mib']:.0f} MiB (idle "
            f"{side['idle_peak_rss_mib']:.0f}, +{side['rss_over_idle_mib']:.0f} MiB, "
            f"{side['rss_over_idle_kib_per_wait']:.0f} KiB/wait); "
            f"{side['requests_per_run_minute']:.1f} requests/run/min"
        )
    print(
        f"  ratios ours/SDK: memory per wait x{result['memory_per_wait_ratio']:.2f} (SDK scaled to "
        f"{triggers} waits: +{scaled_sdk_mib:.0f} MiB vs ours +{ours['rss_over_idle_mib']:.0f} MiB); "
        f"requests/run/min x{result['requests_per_run_minute_ratio']:.2f}; max lag "
        f"x{result['lag_max_ratio']:.2f} (poll interval {poll_interval:.0f} s)"
    )
    return result


if __name__ == "__main__":
    worker()
