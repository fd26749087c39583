"""Batch-scoring throughput of the emulator's ParallelRunStep driver: 1 worker process vs. one per core.

``python -m tools.prs_throughput [--items 2000] [--mini-batch-size 10] [--work-ms 0]`` writes N item files
as ``prep.py`` does, then runs the driver on them (the reference ``scoring.py`` as entry script, in a copy
of the scripts folder) twice: ``AZUREML_NODE_COUNT=1`` with 1 process per node, then with
``os.cpu_count()`` processes per node. Each time is the whole step (worker start-up and ``init()``
included) and every item must come back as a row. ``--work-ms`` adds that much CPU work per item, to see
how the pool scales when scoring, rather than process start-up, dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from airflow_provider_azureml.emulator.execution.commands import PRS_DRIVER
from tools.local_airflow import REPO

SCRIPTS = REPO / "dags" / "azureml_pipelines" / "scripts"
BUSY_ENTRY = """
import time

from scoring import init, run as score

WORK_SECONDS = {seconds}


def run(mini_batch):
    rows = score(mini_batch)
    for _ in mini_batch:  # CPU work per item, standing in for a heavier model
        until = time.process_time() + WORK_SECONDS
        while time.process_time() < until:
            pass
    return rows
"""


def write_items(folder: Path, count: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for i in range(1, count + 1):
        item = {"id": f"item-{i:05d}", "features": [round(rng.uniform(-1, 1), 3) for _ in range(3)]}
        (folder / f"{item['id']}.json").write_text(json.dumps(item) + "\n")


def run_driver(snapshot: Path, items: Path, output: Path, entry: str, batch: int, processes: int) -> float:
    """Seconds the driver takes with ``processes`` workers; fails unless every item became a row."""
    command = [
        sys.executable,
        str(PRS_DRIVER),
        "--scoring_module_name",
        entry,
        "--mini_batch_size",
        str(batch),
    ]
    command += ["--error_threshold", "0", "--process_count_per_node", str(processes)]
    command += ["--output", str(output), "--input_fds_0", "items"]
    env = {**os.environ, "AZUREML_NODE_COUNT": "1", "AZUREML_DATAREFERENCE_items": str(items)}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=snapshot, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the driver failed:\n{done.stderr[-2000:]}")
    rows = (output / "parallel_run_step.txt").read_text().splitlines()
    expected = len(list(items.iterdir()))
    if len(rows) != expected:
        raise SystemExit(f"expected {expected} rows, got {len(rows)}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--mini-batch-size", type=int, default=10)
    parser.add_argument("--work-ms", type=float, default=0.0, help="CPU milliseconds added per item")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="prs-throughput-") as temp:
        root = Path(temp)
        snapshot = Path(shutil.copytree(SCRIPTS, root / "snapshot"))
        entry = "scoring.py"
        if args.work_ms:
            entry = "busy_scoring.py"
            (snapshot / entry).write_text(BUSY_ENTRY.format(seconds=args.work_ms / 1000))
        write_items(root / "items", args.items)
        print(f"{args.items} items, mini batches of {args.mini_batch_size}, {entry}, {cores} cores")
        results = {}
        for processes in dict.fromkeys((1, cores)):
            seconds = run_driver(
                snapshot, root / "items", root / f"out-{processes}", entry, args.mini_batch_size, processes
            )
            results[processes] = seconds
            print(f"  {processes} worker(s): {seconds:6.2f} s, {args.items / seconds:8.0f} items/s")
        print(f"  speed-up with {cores} workers: {results[1] / results[cores]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
