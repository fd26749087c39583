"""A plain stand-in for Azure ML Studio's run page, so the task's "Azure ML Studio" link works locally.

It shows what run history holds: status, parameters, tags, each step's status and error, and the tail
of each step's log. Read-only, and served without a token because a browser follows the link.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.wire import routes

router = APIRouter()
LOG_TAIL_LINES = 20


def _table(rows: dict[str, str]) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows.items())
    return f"<table>{cells}</table>" if rows else "<p>none</p>"


@router.get(routes.STUDIO_RUN.template, response_class=HTMLResponse)
async def studio_run(ctx: Context, run_id: str) -> HTMLResponse:
    root = ctx.backend.view(run_id)
    run = root.run
    sections = [
        f"<h1>Pipeline run {escape(run.run_id)}</h1>",
        f"<p>Experiment <b>{escape(run.experiment_name)}</b>, pipeline {escape(run.pipeline_id)}: "
        f"<b>{escape(root.history_status)}</b></p>",
        f"<p>{escape(root.error)}</p>" if root.error else "",
        "<h2>Parameters</h2>" + _table(run.parameters),
        "<h2>Tags</h2>" + _table(run.tags),
        "<h2>Steps</h2>",
    ]
    for step in ctx.backend.step_views(run_id).values():
        assert step.step is not None
        log = ctx.backend.artifacts(f"dcid.{step.run_id}")
        tail = "\n".join(log[0].content.splitlines()[-LOG_TAIL_LINES:]) if log else ""
        sections.append(
            f"<h3>{escape(step.step.name)}: {escape(step.history_status)}</h3>"
            + (f"<p>{escape(step.error)}</p>" if step.error else "")
            + (f"<pre>{escape(tail)}</pre>" if tail else "")
        )
    title = f"Azure ML emulator: run {escape(run.run_id)}"
    return HTMLResponse(
        f"<!doctype html><html><head><title>{title}</title></head><body>{''.join(sections)}</body></html>"
    )
