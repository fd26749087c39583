"""Processes and clients of the acceptance suite: the emulator CLI, ``airflow standalone`` and their APIs.

Every process is started in a session of its own (``start_new_session=True``) and stopped by process
group, then by session: Airflow's task supervisor moves each task into a process group of its own, so a
sweep of the whole session is what leaves nothing behind. Stops are registered with ``atexit`` too.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from airflow_provider_azureml.client import routes
from airflow_provider_azureml.client.models import PipelineRun
from airflow_provider_azureml.emulator import connection
from airflow_provider_azureml.emulator.connection import EMULATOR_WORKSPACE, admin_headers
from airflow_provider_azureml.emulator.testing import emulator_command

REPO = Path(__file__).resolve().parents[2]
ACCEPTANCE_DAGS = Path(__file__).resolve().parent / "dags"
ARTIFACTS = REPO / "test-artifacts" / "acceptance"
VENV_BIN = Path(sys.executable).parent
EMULATOR_TOKEN = "emulator-token"  # what auth_method "emulator" sends; the emulator accepts only this
WORKSPACE = EMULATOR_WORKSPACE

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 1.0,
    what: str,
) -> T:
    """Call ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = probe()
        except (httpx.HTTPError, OSError) as error:
            value, last_error = None, error
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})"
            )
        time.sleep(interval)


# -- processes ----------------------------------------------------------------------------------------


def _session_members(session_id: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, session
        if int(fields[3]) == session_id and fields[0] != "Z":
            members.append(int(entry.name))
    return members


class ManagedProcess:
    """A command in a new session, its output in ``log_path``; ``stop()`` ends its group and session."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=REPO,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not started"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def members(self) -> list[int]:
        """Every live process of this session (the leader's pid is the session id)."""
        return [] if self.process is None else _session_members(self.process.pid)

    def stop(self, grace: float = 20.0) -> None:
        if self.process is None:
            return
        session = self.process.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(session, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and (self.process.poll() is None or _session_members(session)):
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(session, signal.SIGKILL)
        for pid in _session_members(session):  # tasks in process groups of their own
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.process = None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def stop_on_sigterm() -> None:
    """Turn SIGTERM (a CI timeout, a ``kill``) into KeyboardInterrupt: pytest then runs the finalizers."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


# -- the emulator -------------------------------------------------------------------------------------


class Emulator:
    """The emulator CLI on a fixed port with a ``--state`` file, so that it can be restarted."""

    def __init__(self, workdir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = workdir / "emulator-state.json"
        command = emulator_command(
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--blob-proxy-port",
            "0",
            "--state",
            str(self.state),
            "--expected-token",
            EMULATOR_TOKEN,
            "--log-level",
            "warning",
        )
        self.process = ManagedProcess("emulator", command, dict(os.environ), log_path)
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def start(self) -> None:
        self.process.start()
        wait_until(self.healthy, timeout=60, interval=0.3, what="the emulator to answer")

    def stop(self) -> None:
        self.process.stop()

    def restart(self, down_for: float) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def healthy(self) -> bool:
        if not self.process.running():
            raise AssertionError(f"the emulator exited; see {self.process.log_path}")
        return self.http.get("/_emulator/health").status_code == 200

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_emulator/{path}", json=body, headers=admin_headers())
        assert response.status_code < 300, (
            f"{method} /_emulator/{path}: {response.status_code} {response.text}"
        )
        return response.json()

    def set_durations(self, **seconds: float) -> None:
        self.admin(
            "PUT", "durations", {"not_started": 0.2, "queued": 0.3, "step": 0.5, "cancel": 0.2, **seconds}
        )

    def hold(self) -> None:
        """Stop the emulator's time: every run stays in its status (new ones NotStarted) until released."""
        self.admin("POST", "hold", {})

    def release(self) -> None:
        """Let the emulator's time go on from where :meth:`hold` stopped it."""
        self.admin("DELETE", "hold")

    def fault(self, **rule: Any) -> None:
        self.admin("POST", "faults", rule)

    def submissions(self, **tags: str) -> list[dict[str, Any]]:
        """Submissions whose ``airflow.<name>`` tags match, e.g. ``submissions(dag_id=..., run_id=...)``."""
        found = self.admin("GET", "submissions")
        return [s for s in found if all(s["tags"].get(f"airflow.{k}") == v for k, v in tags.items())]

    def run_status(self, run_id: str) -> str:
        """The run's status as the service reports it (``GET PipelineRuns/{id}``, with the token)."""
        path = routes.GET_PIPELINE_RUN.path(run_id=run_id, **WORKSPACE)
        response = self.http.get(path, headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"})
        response.raise_for_status()
        return PipelineRun.model_validate(response.json()).status


# -- Airflow ------------------------------------------------------------------------------------------


def emulator_connection(url: str, **overrides: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value (JSON) for the emulator at ``url``."""
    return json.dumps({**connection.emulator_connection(url), **overrides})


#: Airflow's own time limits, far above their defaults (30 s of silence, a 5 s API answer, 10 min queued):
#: on a loaded machine those declare a slow triggerer, scheduler or task dead, or a queued task lost, and
#: kill, reset or fail its work.
LIMITS_FOR_A_LOADED_MACHINE = {
    "AIRFLOW__TRIGGERER__RUNNER_HEALTH_CHECK_THRESHOLD": "600",
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "600",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "600",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "3600",
    "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "150",
}


class Airflow:
    """``airflow standalone`` in its own AIRFLOW_HOME: scheduler, dag-processor, triggerer, API server."""

    def __init__(self, home: Path, dags_folders: Iterable[Path], connections: dict[str, str], log_path: Path):
        self.home = home
        self.dags = home / "dags"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dags.mkdir(parents=True, exist_ok=True)
        for folder in dags_folders:
            shutil.copytree(
                folder, self.dags, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",  # standalone spawns `airflow ...`
                "PYTHONPATH": str(REPO),
                "AIRFLOW_HOME": str(home),
                # sqlite waits up to 120 s for a lock (default 5 s: API calls fail with 50 runs at once)
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=120",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                **LIMITS_FOR_A_LOADED_MACHINE,
                **{f"AIRFLOW_CONN_{name.upper()}": value for name, value in connections.items()},
            }
        )
        self.env = env
        self.process = ManagedProcess(
            "airflow standalone", [str(VENV_BIN / "airflow"), "standalone"], env, log_path
        )
        self.http = httpx.Client(base_url=self.url, timeout=300)  # above sqlite's lock wait (120 s)

    def start(self, expected_dags: Iterable[str], timeout: float = 300) -> float:
        """Start and wait until every component is healthy and the DAGs are parsed; returns the seconds."""
        started = time.monotonic()
        self.process.start()
        wait_until(self._healthy, timeout=timeout, interval=2, what="airflow standalone to be healthy")
        self._authenticate()
        wanted = set(expected_dags)
        wait_until(
            lambda: wanted <= {d["dag_id"] for d in self.get("/api/v2/dags", limit=100)["dags"]},
            timeout=timeout,
            interval=2,
            what=f"the DAGs {sorted(wanted)} to be parsed",
        )
        return time.monotonic() - started

    def stop(self) -> None:
        self.process.stop(grace=30)

    def _healthy(self) -> bool:
        if not self.process.running():
            raise AssertionError(f"airflow standalone exited; see {self.process.log_path}")
        health = self.http.get("/api/v2/monitor/health").json()
        return all(
            health.get(part, {}).get("status") == "healthy"
            for part in ("scheduler", "triggerer", "dag_processor")
        )

    def _authenticate(self) -> None:
        """All-admins mode: ``GET /auth/token`` issues a token without credentials (POST wants a login)."""
        response = self.http.get("/auth/token")
        assert response.status_code in (200, 201), f"/auth/token: {response.status_code} {response.text}"
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    # -- REST API -------------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        """One API call; a GET answered 5xx (sqlite busy under load) is tried again, twice at most."""
        for _ in range(2 if method == "GET" else 0):
            response = self.http.request(method, path, json=body, params=params or None)
            if response.status_code < 500:
                return response
            time.sleep(2)
        return self.http.request(method, path, json=body, params=params or None)

    def get(self, path: str, **params: Any) -> Any:
        response = self.request("GET", path, **params)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def unpause(self, dag_id: str) -> None:
        response = self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        assert response.status_code == 200, response.text

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> httpx.Response:
        """Trigger as the UI form does. A 5xx (sqlite busy under load) is tried again, as a user would;
        a 409 then means the first try did create the run, and its record is returned."""
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}}
        path = f"/api/v2/dags/{dag_id}/dagRuns"
        response = self.request("POST", path, body)
        for _ in range(2):
            if response.status_code < 500:
                break
            time.sleep(2)
            response = self.request("POST", path, body)
            if response.status_code == 409:
                return self.request("GET", f"{path}/{run_id}")
        return response

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Wait for a terminal DAG run state; returns it."""
        return wait_until(
            lambda: (state := self.dag_run(dag_id, run_id)["state"]) in ("success", "failed") and state,
            timeout=timeout,
            interval=2,
            what=f"DAG run {dag_id}/{run_id} to finish",
        )

    def wait_for_task(self, dag_id: str, run_id: str, task_id: str, state: str, timeout: float) -> Any:
        """Wait until the task instance is in ``state``; returns it as the API gives it."""
        return wait_until(
            lambda: (ti := self.task_instance(dag_id, run_id, task_id))["state"] == state and ti,
            timeout=timeout,
            interval=0.5,
            what=f"task {dag_id}/{run_id}/{task_id} to be {state}",
        )

    def wait_for_deferred(self, dag_id: str, run_ids: Iterable[str], task_id: str, timeout: float) -> None:
        """Wait until the task is deferred in every run and the scheduler has taken in the exit of each
        process that deferred.

        Airflow 3.3 fails a resumed task whose trigger fired before the scheduler took in that exit (the
        executor reports the exit for the same key: "finished with state success, but the task
        instance's state attribute is queued"), so a held run is released only after this.
        """
        wanted = set(run_ids)

        def deferred_and_taken_in() -> bool:
            found = self.get(f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances", state="deferred", limit=100)
            tis = [
                ti
                for ti in found["task_instances"]
                if ti["task_id"] == task_id and ti["dag_run_id"] in wanted
            ]
            log = self.process.log_path.read_text(errors="replace")
            return len(tis) == len(wanted) and all(self._exit_taken_in(ti) in log for ti in tis)

        wait_until(
            deferred_and_taken_in,
            timeout=timeout,
            interval=1,
            what=f"{len(wanted)} {dag_id}.{task_id} deferred",
        )

    @staticmethod
    def _exit_taken_in(ti: dict[str, Any]) -> str:
        """The scheduler's log line for the executor's report that the task instance's process ended."""
        key = (
            f"TaskInstanceKey(dag_id='{ti['dag_id']}', task_id='{ti['task_id']}', "
            f"run_id='{ti['dag_run_id']}', try_number={ti['try_number']}, map_index={ti['map_index']})"
        )
        return f"Received executor event with state success for task instance {key}"

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def task_tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries"
        return list(self.get(path)["task_instances"])

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[str]:
        """The messages of one try's log, the triggerer's part included, as the UI shows them."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        response = self.http.get(path, params={"full_content": True}, headers={"Accept": "application/json"})
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return [str(line.get("event", "")) for line in response.json()["content"]]

    def trigger_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """What the triggerer wrote for one try (``attempt=N.log.trigger.<triggerer job id>.log``)."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        files = sorted(folder.glob(f"attempt={try_number}.log.trigger.*.log"))
        assert files, f"the triggerer wrote no log for {dag_id}/{run_id}/{task_id} try {try_number}"
        return "".join(path.read_text() for path in files)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.get(path, deserialize=True)["value"]

    def count_tis(self, dag_id: str, state: str) -> int:
        found = self.get(f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances", state=state, limit=1)
        return int(found["total_entries"])

    def triggerer_processes(self) -> dict[str, int]:
        """The ``airflow triggerer`` supervisor and the trigger runner it forks (whose loop runs triggers)."""
        pids = [pid for pid in self.process.members() if cmdline(pid).endswith("airflow triggerer")]
        runners = [pid for pid in pids if parent_of(pid) in pids]
        supervisors = [pid for pid in pids if pid not in runners]
        assert len(supervisors) == 1 and len(runners) == 1, f"unexpected triggerer processes: {pids}"
        return {"supervisor": supervisors[0], "trigger_runner": runners[0]}

    def log_files(self) -> list[Path]:
        return sorted(p for p in (self.home / "logs").rglob("*") if p.is_file())
