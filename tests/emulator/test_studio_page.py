"""The emulator's stand-in for the Studio run page, which the task's "Azure ML Studio" link opens."""

from __future__ import annotations

from typing import Any

import requests

from airflow_provider_azureml.emulator.seeded import TRAINING_V1
from airflow_provider_azureml.emulator.testing import RunningEmulator
from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.emulator.support import move_to


def finished_run(emulator: RunningEmulator, hook: AzureMLHook, **options: Any) -> str:
    run = hook.submit_pipeline_run(TRAINING_V1, experiment_name="studio-page", **options)
    move_to(emulator, run.id)
    return run.id


def test_the_studio_link_opens_a_page_with_status_steps_error_and_log(
    emulator_conn: RunningEmulator,
) -> None:
    hook = AzureMLHook()
    run_id = finished_run(
        emulator_conn, hook, parameter_assignments={"avg_rate": 0.99}, tags={"team": "<b>ml</b>"}
    )

    page = requests.get(hook.studio_run_url(run_id, "studio-page"), timeout=10)  # no token: a browser

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert run_id in html and "Failed" in html
    assert "train" in html and "avg_rate=0.99 makes the loss diverge" in html
    assert "Traceback" in html  # the step's log tail
    assert "&lt;b&gt;ml&lt;/b&gt;" in html and "<b>ml</b>" not in html  # values are escaped


def test_unknown_run_page_is_a_404(emulator_conn: RunningEmulator) -> None:
    assert requests.get(f"{emulator_conn.url}/runs/no-such-run", timeout=10).status_code == 404
