"""A plain stand-in for Azure ML Studio's run page, so the task's "Azure ML Studio" link works locally.

It shows what run history holds: status, parameters, tags, each step's status and error, and the tail
of each step's log. Read-only, and served without a token because a browser follows the link.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.routers.history import run_dto
from airflow_provider_azureml.emulator.wire import routes

router = APIRouter()
LOG_TAIL_LINES = 20


def _table(rows: dict[str, str]) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows.items())
    return f"<table>{cells}</table>" if rows else "<p>none</p>"


@router.get(routes.STUDIO_RUN.template, response_class=HTMLResponse)
async def studio_run(ctx: Context, run_id: str) -> HTMLResponse:
    run = ctx.backend.get_run(run_id)
    root = run_dto(ctx, run, None)
    sections = [
        f"<h1>Pipeline run {escape(run.run_id)}</h1>",
        f"<p>Experiment <b>{escape(run.experiment_name)}</b>, pipeline {escape(run.pipeline_id)}: "
        f"<b>{escape(root.status or '')}</b></p>",
        f"<p>{escape(root.error.error.message)}</p>" if root.error and root.error.error else "",
        "<h2>Parameters</h2>" + _table(run.parameters),
        "<h2>Tags</h2>" + _table(run.tags),
        "<h2>Steps</h2>",
    ]
    for step in run.steps.values():
        dto = run_dto(ctx, run, step)
        log = ctx.backend.artifacts(f"dcid.{step.run_id}")
        tail = "\n".join(log[0].content.splitlines()[-LOG_TAIL_LINES:]) if log else ""
        error = dto.error.error.message if dto.error and dto.error.error else ""
        sections.append(
            f"<h3>{escape(step.name)}: {escape(dto.status or '')}</h3>"
            + (f"<p>{escape(error)}</p>" if error else "")
            + (f"<pre>{escape(tail)}</pre>" if tail else "")
        )
    title = f"Azure ML emulator: run {escape(run.run_id)}"
    return HTMLResponse(
        f"<!doctype html><html><head><title>{title}</title></head><body>{''.join(sections)}</body></html>"
    )
