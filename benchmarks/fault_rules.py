"""Fault rules on the request path: latency with a pathological ``path`` glob active versus no rule.

Every request not under ``/_emulator/`` is tried against every rule on the emulator's event loop, so a
rule's matching cost is paid by each request and, while it runs, by everything else. Here a few clients
send requests on a long path that the rule ``*a*a*a*a*a*a*a*b`` must scan (it never matches: no ``b``)
while one more polls ``GET /_emulator/health``; the same again with no rule. (As a regular expression,
``(a+)+b`` on a path of 41 characters did not answer, nor let health answer, within 10 s.)
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from benchmarks.support import HEADERS, admin, emulator, percentile, ratio

RULE = {"path": "*a*a*a*a*a*a*a*b", "kind": "error"}
LONG_PATH = "/" + "a" * 2000
HEALTH = "/_emulator/health"
SENDERS = 4


async def _timed(client: httpx.AsyncClient, path: str, into: list[float], errors: list[int]) -> None:
    started = time.perf_counter()
    response = await client.get(path)
    into.append(time.perf_counter() - started)
    if response.status_code >= 500:
        errors.append(response.status_code)


async def _measure(base_url: str, requests: int) -> dict[str, Any]:
    paths: list[float] = []
    health: list[float] = []
    errors: list[int] = []
    sending = True

    async def send(count: int) -> None:
        for _ in range(count):
            await _timed(client, LONG_PATH, paths, errors)

    async def poll() -> None:
        while sending:
            await _timed(client, HEALTH, health, errors)

    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, timeout=30) as client:
        await client.get(HEALTH)  # connect before timing
        poller = asyncio.create_task(poll())
        await asyncio.gather(*(send(requests // SENDERS) for _ in range(SENDERS)))
        sending = False
        await poller
    return {
        "path_p50_ms": percentile(paths, 50) * 1000,
        "path_p99_ms": percentile(paths, 99) * 1000,
        "health_p50_ms": percentile(health, 50) * 1000,
        "health_p99_ms": percentile(health, 99) * 1000,
        "health_samples": len(health),
        "errors": len(errors),
    }


def run(requests: int) -> dict[str, Any]:
    with emulator() as (url, _pid):
        without = asyncio.run(_measure(url, requests))
        admin(url, "POST", "faults", RULE)
        with_rule = asyncio.run(_measure(url, requests))
        if not admin(url, "GET", "faults"):
            raise RuntimeError("the rule was used up: the long path must never match it")
    result = {
        "path_chars": len(LONG_PATH),
        "requests_per_side": requests,
        "no_rule": without,
        "rule": with_rule,
        "path_p50_ratio": ratio(with_rule["path_p50_ms"], without["path_p50_ms"]),
    }
    for name, side in (("no rule", without), (f"rule {RULE['path']}", with_rule)):
        print(
            f"  {name}: {len(LONG_PATH)}-char path p50 {side['path_p50_ms']:.1f} ms, "
            f"p99 {side['path_p99_ms']:.1f} ms; health meanwhile p50 {side['health_p50_ms']:.1f} ms, "
            f"p99 {side['health_p99_ms']:.1f} ms ({side['health_samples']} samples, {side['errors']} errors)"
        )
    print(f"  path p50 with the rule / without: x{result['path_p50_ratio']:.2f}")
    return result
