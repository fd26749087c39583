"""Submissions: ``AzureMLHook.submit_pipeline_run`` versus the SDK's ``PublishedPipeline.get(...).submit``.

Both run in one worker process against one emulator, interleaved in blocks so that the emulator's
growing run table weighs on both alike. Token acquisitions are counted by wrapping the credential the
hook builds (the SDK workspace comes from a second hook, so it has its own count); token lookups count
how often each side asked the cache, which is what a cacheless credential would have been hit.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

from airflow_provider_azureml.client.credentials import TokenProvider, build_credential
from benchmarks.support import (
    CONN_ID,
    TRAINING_PIPELINE,
    admin,
    connection_env,
    emulator,
    percentile,
    ratio,
    run_worker,
)

EXPERIMENT = "bench-submit"
BLOCKS = 10
WARM_UP = 3


class CountingCredential:
    """Passes ``get_token`` through to the real credential and counts the acquisitions."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.get_token(*scopes, **kwargs)

    def close(self) -> None:
        self.inner.close()


class CountingTokenProvider(TokenProvider):
    lookups = 0

    def get_token(self, scope: str) -> str:
        self.lookups += 1
        return super().get_token(scope)


def _counted_hook() -> Any:
    from airflow_provider_azureml.hooks.azureml import AzureMLHook

    hook = AzureMLHook(CONN_ID)
    hook.tokens = CountingTokenProvider(CountingCredential(build_credential(hook.config)))
    return hook


def worker(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.submissions")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.getLogger("azureml").setLevel(logging.WARNING)
    from azureml.pipeline.core import PublishedPipeline

    hook, sdk_hook = _counted_hook(), _counted_hook()
    workspace = sdk_hook.get_workspace()
    calls = {
        "ours": lambda: hook.submit_pipeline_run(
            TRAINING_PIPELINE, experiment_name=EXPERIMENT, parameter_assignments={"avg_rate": 0.5}
        ),
        "sdk": lambda: PublishedPipeline.get(workspace, TRAINING_PIPELINE).submit(
            workspace, EXPERIMENT, pipeline_parameters={"avg_rate": 0.5}
        ),
    }
    latencies: dict[str, list[float]] = {side: [] for side in calls}
    busy = dict.fromkeys(calls, 0.0)
    requests = dict.fromkeys(calls, 0)
    for call in calls.values():  # first calls pay one-off discovery and pool set-up: not timed
        for _ in range(WARM_UP):
            call()
    for block in range(BLOCKS):
        for side, call in calls.items():
            admin(args.emulator, "DELETE", "requests")
            started = time.perf_counter()
            for _ in range(args.calls * (block + 1) // BLOCKS - args.calls * block // BLOCKS):
                began = time.perf_counter()
                call()
                latencies[side].append(time.perf_counter() - began)
            busy[side] += time.perf_counter() - started
            requests[side] += admin(args.emulator, "GET", "requests")["total"]
    providers = {"ours": hook.tokens, "sdk": sdk_hook.tokens}
    result = {
        side: {
            "calls": len(latencies[side]),
            "per_second": len(latencies[side]) / busy[side],
            "p50_ms": statistics.median(latencies[side]) * 1000,
            "p95_ms": percentile(latencies[side], 95) * 1000,
            "requests_per_call": requests[side] / len(latencies[side]),
            "token_acquisitions": providers[side].credential.calls,
            "token_lookups": providers[side].lookups,
            "calls_including_warm_up": len(latencies[side]) + WARM_UP,
        }
        for side in calls
    }
    args.out.write_text(json.dumps(result))


def run(calls: int) -> dict[str, Any]:
    with emulator() as (url, _pid):
        sides = run_worker(
            "benchmarks.submissions",
            ["--calls", str(calls), "--emulator", url],
            connection_env(url),
            "submissions",
            timeout=900,
        )
    ours, sdk = sides["ours"], sides["sdk"]
    result = {
        **sides,
        "per_second_ratio": ratio(ours["per_second"], sdk["per_second"]),
        "p50_ratio": ratio(ours["p50_ms"], sdk["p50_ms"]),
        "p95_ratio": ratio(ours["p95_ms"], sdk["p95_ms"]),
    }
    for name, side in (("hook.submit_pipeline_run", ours), ("SDK PublishedPipeline.get().submit()", sdk)):
        print(
            f"  {name}: {side['per_second']:.1f}/s, p50 {side['p50_ms']:.1f} ms, "
            f"p95 {side['p95_ms']:.1f} ms, "
            f"{side['requests_per_call']:.1f} requests/call; token acquisitions "
            f"{side['token_acquisitions']} for {side['calls_including_warm_up']} calls "
            f"({side['token_lookups']} cache lookups)"
        )
    print(
        f"  ratios ours/SDK: submissions/s x{result['per_second_ratio']:.2f}; "
        f"p50 x{result['p50_ratio']:.2f}; p95 x{result['p95_ratio']:.2f}"
    )
    return result


if __name__ == "__main__":
    worker()
