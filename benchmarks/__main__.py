"""``python -m benchmarks [--quick] [--only NAME ...]``: run the benchmarks, print ratios, write JSON.

The JSON goes to ``benchmarks/results/`` (gitignored) with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import emulator_load, fault_rules, parse_cost, submissions, waits
from benchmarks.support import RESULTS

SECTIONS = ("parse", "waits", "submissions", "emulator", "faults")
FULL = {
    "parse_repeats": 11,
    "triggers": 1000,
    "sdk_waits": 200,
    "submissions": 1000,
    "emulator_runs": 1000,
    "fault_requests": 2000,
}
QUICK = {
    "parse_repeats": 3,
    "triggers": 200,
    "sdk_waits": 50,
    "submissions": 200,
    "emulator_runs": 200,
    "fault_requests": 400,
}


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?"
        ),
        "memory_mib": int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1]) // 1024,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"smaller run: {QUICK}")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--poll-interval", type=float, default=10.0, help="trigger poll interval (s)")
    parser.add_argument("--sdk-waits", type=int, help="SDK waiting threads (default: 200, quick: 50)")
    args = parser.parse_args(argv)
    sizes = {**(QUICK if args.quick else FULL)}
    if args.sdk_waits:
        sizes["sdk_waits"] = args.sdk_waits
    report: dict[str, Any] = {"machine": machine(), "sizes": sizes, "argv": sys.argv[1:]}
    print(f"machine: {report['machine']}\nsizes: {sizes}")
    started = time.time()
    if "parse" in args.only:
        print(f"DAG parse cost vs EmptyOperator twins (median of {sizes['parse_repeats']} interpreters):")
        report["parse"] = parse_cost.run(sizes["parse_repeats"])
    if "waits" in args.only:
        print(
            f"Deferred waits: {sizes['triggers']} triggers in one loop, polling per run and sharing a poller,"
            f" vs {sizes['sdk_waits']} SDK threads:"
        )
        report["waits"] = waits.run(sizes["triggers"], sizes["sdk_waits"], args.poll_interval)
    if "submissions" in args.only:
        print(f"Submissions, {sizes['submissions']} sequential calls each:")
        report["submissions"] = submissions.run(sizes["submissions"])
    if "emulator" in args.only:
        print(f"Emulator, {sizes['emulator_runs']} active runs polled concurrently:")
        # Measured above when it ran; else the nominal: run and steps once per poll interval, run each second.
        measured = report.get("waits", {})
        per_minute = {
            "per-run trigger": measured.get("per_run", {}).get(
                "status_requests_per_run_minute", 60 / args.poll_interval
            ),
            "shared-poller trigger": measured.get("shared", {}).get(
                "status_requests_per_run_minute", 60 / args.poll_interval / 500
            ),
            "SDK": measured.get("sdk", {}).get("status_requests_per_run_minute", 60.0),
        }
        report["emulator"] = emulator_load.run(sizes["emulator_runs"], args.poll_interval, per_minute)
    if "faults" in args.only:
        print(f"Fault rules, {sizes['fault_requests']} requests on a long path per side:")
        report["faults"] = fault_rules.run(sizes["fault_requests"])
    report["seconds"] = time.time() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"done in {report['seconds']:.0f} s; results: {out.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
