"""The emulator's stand-in for the Studio run page, which the task's "Azure ML Studio" link opens."""

from __future__ import annotations

import time

import requests

from airflow_provider_azureml.emulator.seeded import TRAINING_V1
from airflow_provider_azureml.hooks.azureml import AzureMLHook


def finished_run(hook: AzureMLHook, **options) -> str:
    run = hook.submit_pipeline_run(TRAINING_V1, experiment_name="studio-page", **options)
    deadline = time.monotonic() + 10
    while hook.get_pipeline_run(run.id).status not in ("Finished", "Failed") and time.monotonic() < deadline:
        time.sleep(0.05)
    return run.id


def test_the_studio_link_opens_a_page_with_status_steps_error_and_log(emulator_conn):
    hook = AzureMLHook()
    run_id = finished_run(hook, parameter_assignments={"avg_rate": 0.99}, tags={"team": "<b>ml</b>"})

    page = requests.get(hook.studio_run_url(run_id, "studio-page"), timeout=10)  # no token: a browser

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert run_id in html and "Failed" in html
    assert "train" in html and "avg_rate=0.99 makes the loss diverge" in html
    assert "Traceback" in html  # the step's log tail
    assert "&lt;b&gt;ml&lt;/b&gt;" in html and "<b>ml</b>" not in html  # values are escaped


def test_unknown_run_page_is_a_404(emulator_conn):
    assert requests.get(f"{emulator_conn.url}/runs/no-such-run", timeout=10).status_code == 404
