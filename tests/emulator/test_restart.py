"""With ``--state``, runs, registrations and submissions survive a restart of the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from airflow_provider_azureml.emulator.testing import cli_emulator, run_emulator
from airflow_provider_azureml.emulator.wire import routes
from airflow_provider_azureml.emulator.wire.statuses import RunStatus
from tests.emulator.support import AUTH, finish, move_to, run_status, submit, url


def test_runs_keep_their_id_status_and_timeline_across_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state" / "emulator.json"
    with run_emulator(state_file=state) as emulator, httpx.Client(headers=AUTH) as client:
        finished = submit(client, emulator.url, tags={"k": "v"})
        finish(client, emulator, finished["Id"])
        registered = httpx.post(
            f"{emulator.url}/_emulator/pipelines", json={"name": "kept", "steps": [{"name": "s"}]}
        )
        emulator.backend.set_default_durations({"step": 600.0})
        running = submit(client, emulator.url)
        move_to(emulator, running["Id"], RunStatus.RUNNING)  # and held there, across the restart
        before = {run_id: emulator.backend.get_run(run_id) for run_id in (finished["Id"], running["Id"])}
        base = emulator.url

        emulator.restart()

        assert emulator.url == base
        assert json.loads(state.read_text())["runs"].keys() == before.keys()
        for run_id, run in before.items():
            restored = emulator.backend.get_run(run_id)
            assert restored is not run
            assert restored.timeline == run.timeline
            assert restored.submitted_at == run.submitted_at
            assert restored.steps == run.steps
        assert run_status(client, base, finished["Id"]) == RunStatus.FINISHED
        assert run_status(client, base, running["Id"]) == RunStatus.RUNNING
        dto = client.get(url(base, routes.GET_RUN, experiment_name="exp", run_id=finished["Id"])).json()
        assert dto["tags"]["k"] == "v"
        assert dto["status"] == RunStatus.COMPLETED
        assert (
            client.get(url(base, routes.GET_PIPELINE, pipeline_id=registered.json()["id"])).status_code == 200
        )
        assert [s.run_id for s in emulator.backend.submissions()] == [finished["Id"], running["Id"]]
        assert submit(client, base)["Id"] not in before


def test_state_file_is_not_rewritten_for_reads(tmp_path: Path) -> None:
    state = tmp_path / "emulator.json"
    with run_emulator(state_file=state) as emulator, httpx.Client(headers=AUTH) as client:
        run = submit(client, emulator.url)
        finish(client, emulator, run["Id"])
        emulator.restart()
        written = state.stat().st_mtime_ns

        for _ in range(5):
            run_status(client, emulator.url, run["Id"])
        emulator.restart()

        assert state.stat().st_mtime_ns == written


def test_cli_writes_its_state_file_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "cli-state.json"
    with (
        cli_emulator("--state", str(state), "--log-level", "warning") as (base, _),
        httpx.Client(headers=AUTH) as client,
    ):
        run = submit(client, base)
    # leaving the block sent SIGTERM and waited for the process to end

    assert run["Id"] in json.loads(state.read_text())["runs"]
