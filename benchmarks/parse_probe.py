"""Run by path in a fresh interpreter: ``python benchmarks/parse_probe.py measure|shape DAG_FILE``.

``measure`` imports ``airflow.sdk`` first (common to every DAG file, so not ours to count), then executes
the DAG file the way Airflow's DAG processor does (a module from a file path, its folder on sys.path)
and prints the execution time and the modules it added. ``shape`` prints the DAG's task ids,
dependencies, schedule and params, from which an ``EmptyOperator`` twin is generated.
"""

import importlib.util
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import airflow.sdk  # noqa: F401  (the common baseline, loaded before the clock starts)


def execute(path: Path) -> object:
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"unusual_prefix_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(path: Path) -> dict:
    before = set(sys.modules)
    started = time.perf_counter()
    execute(path)
    seconds = time.perf_counter() - started
    return {"exec_seconds": seconds, "added": sorted(set(sys.modules) - before)}


def schedule_spec(schedule: object) -> dict:
    if schedule is None or isinstance(schedule, str):
        return {"literal": schedule}
    if isinstance(schedule, timedelta):
        return {"timedelta": schedule.total_seconds()}
    if isinstance(schedule, list | tuple) and all(type(a).__name__ == "Asset" for a in schedule):
        return {"assets": [[asset.name, asset.uri] for asset in schedule]}
    return {"unsupported": repr(schedule)}


def shape(path: Path) -> dict:
    from airflow.sdk import DAG

    dags = [value for value in vars(execute(path)).values() if isinstance(value, DAG)]
    return {
        "dags": [
            {
                "dag_id": dag.dag_id,
                "description": dag.description,
                "schedule": schedule_spec(dag.schedule),
                "start_date": dag.start_date.isoformat() if dag.start_date else None,
                "catchup": dag.catchup,
                "tags": sorted(dag.tags),
                "render_template_as_native_obj": dag.render_template_as_native_obj,
                "params": {
                    name: {"value": param.value, "description": param.description, "schema": param.schema}
                    for name, param in dag.params.items()
                },
                "tasks": {task.task_id: sorted(task.downstream_task_ids) for task in dag.tasks},
            }
            for dag in dags
        ]
    }


if __name__ == "__main__":
    mode, file = sys.argv[1], Path(sys.argv[2]).resolve()
    print(json.dumps(measure(file) if mode == "measure" else shape(file), default=str))
