"""Scenario 2: the UI in a real browser (Debian's chromium through Playwright, never a downloaded one).

Without chromium or Playwright this fails under CI (``CI=true``) and is skipped locally, with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_azureml.hooks.azureml import AzureMLHook
from tests.acceptance.conftest import unique_run_id

pytestmark = pytest.mark.timeout(600)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAG_ID = "azureml_recurring_training"


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser scenario cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, airflow: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=airflow.url, viewport={"width": 1400, "height": 1800})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def visible_labels(dialog: Any) -> set[str]:
    return {
        label.inner_text().strip().rstrip("*").strip()
        for label in dialog.locator("label").all()
        if label.is_visible()
    }


def test_connection_form_shows_the_azureml_fields_with_the_secret_masked(page, artifacts):
    page.goto("/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox").first.click()
    # The form lists connection types by the provider's hook name.
    page.keyboard.type(AzureMLHook.hook_name)
    page.get_by_role("option", name=AzureMLHook.hook_name, exact=True).click()

    secret = dialog.locator("input[name=password]")
    secret.fill("typed-into-the-form")
    dialog.screenshot(path=str(artifacts / "connection-form-standard-fields.png"))
    assert {"Endpoint override", "Client ID", "Client secret"} <= visible_labels(dialog)
    assert secret.is_visible()
    assert secret.get_attribute("type") == "password"  # shown as dots

    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    dialog.locator("input[name=element_workspace_name]").wait_for()
    dialog.screenshot(path=str(artifacts / "connection-form-extra-fields.png"))
    assert {
        "Tenant ID",
        "Subscription ID",
        "Resource group",
        "Workspace name",
        "Authentication method",
        "Certificate path",
        "Certificate password",
        "Cloud",
        "Max retries",
        "Request timeout (s)",
    } <= visible_labels(dialog)
    assert dialog.locator("input[name=element_certificate_password]").get_attribute("type") == "password"
    for field in ("tenant_id", "subscription_id", "resource_group", "workspace_name"):
        assert dialog.locator(f"input[name=element_{field}]").is_visible()


def test_trigger_form_value_reaches_the_service(page, airflow, fresh_emulator, artifacts):
    run_id = unique_run_id("ui")
    page.goto(f"/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    avg_rate = dialog.locator("input[name=element_avg_rate]")
    assert avg_rate.input_value() == "0.5"  # the Param's default
    assert dialog.get_by_text("Average rate").first.is_visible()
    avg_rate.fill("0.42")
    dialog.get_by_role("button", name="Advanced Options").click()
    dialog.locator("input[name=dagRunId]").fill(run_id)
    dialog.screenshot(path=str(artifacts / "trigger-form-avg-rate.png"))

    fresh_emulator.hold()  # the run stays NotStarted until Airflow has taken in the task's deferral
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/dagRuns")) as posted:
        dialog.get_by_role("button", name="Trigger").last.click()
    assert posted.value.status == 200, posted.value.text()
    assert posted.value.request.post_data_json["conf"] == {"avg_rate": 0.42}
    airflow.wait_for_deferred(DAG_ID, [run_id], "train", timeout=300)
    fresh_emulator.release()

    assert airflow.wait_for_run(DAG_ID, run_id, timeout=180) == "success"
    [submission] = fresh_emulator.submissions(dag_id=DAG_ID, run_id=run_id)
    assert submission["parameters_received"] == {"avg_rate": "0.42"}
    page.goto(f"/dags/{DAG_ID}/runs/{run_id}")
    page.get_by_text(run_id).first.wait_for()
    page.screenshot(path=str(artifacts / "triggered-run.png"))
