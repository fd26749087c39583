"""The control API under ``/_emulator/``, never part of the Azure surface (see the package docs).

It takes no Azure AD token. Its writes are guarded by :func:`guard_writes`: a JSON content type, and
the admin token when the emulator has one (``--admin-token`` or ``AZUREML_EMULATOR_ADMIN_TOKEN``).
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.datastructures import Headers

from airflow_provider_azureml.emulator.connection import ADMIN_TOKEN_HEADER
from airflow_provider_azureml.emulator.execution.commands import DEFAULT_DATASTORE
from airflow_provider_azureml.emulator.infrastructure.context import Context
from airflow_provider_azureml.emulator.infrastructure.faults import FaultRule
from airflow_provider_azureml.emulator.infrastructure.tls import BLOB_HOST
from airflow_provider_azureml.emulator.state.lifecycle import Durations
from airflow_provider_azureml.emulator.state.records import Endpoint, Pipeline, Submission
from airflow_provider_azureml.emulator.state.seed import DurationsSeed, EndpointSeed, PipelineSeed, apply_seed
from airflow_provider_azureml.emulator.wire.errors import (
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)

ADMIN_PREFIX = "/_emulator"
READ_METHODS = frozenset({"GET", "HEAD"})
PIPELINE_SEED = TypeAdapter(PipelineSeed)
ENDPOINT_SEED = TypeAdapter(EndpointSeed)
FAULT_RULE = TypeAdapter(FaultRule)
DURATIONS = TypeAdapter(DurationsSeed)


class TokenRotation(BaseModel):
    """The body of ``PUT /_emulator/auth``."""

    model_config = ConfigDict(extra="forbid")

    expected_token: str | None = Field(min_length=1)


TOKEN_ROTATION = TypeAdapter(TokenRotation)


class ClockAdvance(BaseModel):
    """The body of ``POST /_emulator/clock/advance``."""

    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0, le=10 * 365 * 24 * 3600)


CLOCK_ADVANCE = TypeAdapter(ClockAdvance)


async def guard_writes(ctx: Context) -> None:
    """Admin writes need the admin token, if one is set, and a JSON content type on POSTs and bodies.

    A web page can make a browser send a cross-site POST without asking first (a CORS "simple request":
    ``text/plain``, a form encoding, or no body at all), but not a POST with ``application/json``, nor
    any PUT or DELETE: those need a preflight, which this API never grants. So every POST, and any write
    with a body, must be JSON; a DELETE without a body (clear faults, reset counts) need not.
    """
    request = ctx.request
    if request.method in READ_METHODS:
        return
    expected = ctx.services.config.admin_token
    if expected is not None and not _same(request.headers.get(ADMIN_TOKEN_HEADER, ""), expected):
        raise Unauthorized(
            f"Admin writes need the emulator's admin token in the {ADMIN_TOKEN_HEADER} header."
        )
    if (request.method == "POST" or _has_body(request.headers)) and not _is_json(request.headers):
        raise UnsupportedMediaType("Admin writes take a JSON body: send Content-Type: application/json.")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _is_json(headers: Headers) -> bool:
    return headers.get("content-type", "").partition(";")[0].strip().lower() == "application/json"


router = APIRouter(prefix=ADMIN_PREFIX, tags=["emulator admin"], dependencies=[Depends(guard_writes)])


@router.get("/health")
async def health(ctx: Context) -> dict[str, Any]:
    return {"status": "ok", "runs": len(ctx.backend.submissions())}


@router.get("/publishing")
async def publishing(ctx: Context) -> dict[str, str]:
    """What a process running ``Pipeline.publish()`` against this emulator must set (``docs/emulator.md``).

    ``https_proxy`` is the blob proxy on the host the client reached us on; ``ca_bundle_pem`` is the CA
    to trust (``REQUESTS_CA_BUNDLE``); ``blob_host`` is the only host the proxy tunnels to.
    """
    services = ctx.services
    if services.ca is None or services.blob_proxy_port is None:
        raise ServiceUnavailable("The blob proxy is not running, so publishing cannot upload snapshots.")
    host = ctx.request.url.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return {
        "https_proxy": f"http://{host}:{services.blob_proxy_port}",
        "ca_bundle_pem": services.ca.pem,
        "blob_host": BLOB_HOST,
    }


@router.get("/execution")
async def execution(ctx: Context) -> dict[str, Any]:
    """Whether published pipelines really run (``--execute``) and where their files are on this machine."""
    backend = ctx.backend
    if not backend.executes:
        return {"execute": False}
    return {
        "execute": True,
        "step_timeout": backend.step_timeout,
        "data_dir": str(backend.data_dir),
        "datastores": {DEFAULT_DATASTORE: str(backend.layout.datastore(DEFAULT_DATASTORE))},
    }


@router.get("/submissions")
async def submissions(ctx: Context) -> list[Submission]:
    return ctx.backend.submissions()


@router.post("/pipelines")
async def register_pipeline(ctx: Context) -> Pipeline:
    seed = await ctx.body(PIPELINE_SEED)
    return ctx.backend.registry.register_pipeline(seed.to_pipeline(ctx.backend.clock()))


@router.post("/endpoints")
async def register_endpoint(ctx: Context) -> Endpoint:
    seed = await ctx.body(ENDPOINT_SEED)
    return ctx.backend.registry.register_endpoint(seed.to_endpoint(ctx.backend.clock()))


@router.put("/durations")
async def set_durations(ctx: Context) -> Durations:
    """Default phase durations for pipelines whose seed does not set their own."""
    overrides = await ctx.body(DURATIONS)
    return ctx.backend.set_default_durations(overrides.model_dump())


@router.get("/hold")
async def hold_state(ctx: Context) -> dict[str, bool]:
    return {"held": ctx.backend.held}


@router.post("/hold")
async def hold(ctx: Context) -> dict[str, bool]:
    """Stop the emulator's time, so every simulated run stays in its status until released: a test can
    wait for what it must see while a run is active, however slow the machine."""
    ctx.backend.hold()
    return {"held": True}


@router.delete("/hold")
async def release(ctx: Context) -> dict[str, bool]:
    """Time goes on from where the hold stopped it: held runs resume, they do not jump ahead."""
    ctx.backend.release()
    return {"held": False}


@router.get("/clock")
async def clock(ctx: Context) -> dict[str, Any]:
    return {"now": ctx.backend.clock(), "held": ctx.backend.held}


@router.post("/clock/advance")
async def advance_clock(ctx: Context) -> dict[str, Any]:
    """Jump the emulator's time ahead, held or not: a test (or a process driving the command-line
    emulator) moves simulated runs through their phases without waiting for them."""
    advance = await ctx.body(CLOCK_ADVANCE)
    return {"now": ctx.backend.advance(advance.seconds), "held": ctx.backend.held}


@router.put("/auth")
async def rotate_token(ctx: Context) -> dict[str, bool]:
    """Accept only this bearer token from now on (``null``: any), as a rotated credential would; requests
    with the old one get the service's 401. The token is never echoed."""
    rotation = await ctx.body(TOKEN_ROTATION)
    ctx.services.expected_token = rotation.expected_token
    return {"token_required": rotation.expected_token is not None}


@router.get("/faults")
async def list_faults(ctx: Context) -> list[FaultRule]:
    return ctx.services.faults.pending()


@router.post("/faults")
async def add_fault(ctx: Context) -> FaultRule:
    return ctx.services.faults.add(await ctx.body(FAULT_RULE))


@router.delete("/faults")
async def clear_faults(ctx: Context) -> dict[str, int]:
    cleared = len(ctx.services.faults.pending())
    ctx.services.faults.clear()
    return {"cleared": cleared}


@router.get("/requests")
async def request_counts(ctx: Context) -> dict[str, Any]:
    return ctx.services.counter.snapshot()


@router.delete("/requests")
async def reset_request_counts(ctx: Context) -> dict[str, str]:
    ctx.services.counter.reset()
    return {"status": "ok"}


@router.post("/reset")
async def reset(ctx: Context) -> dict[str, str]:
    """Back to the start-up seed: runs, submissions, registrations, faults and counters are dropped, a
    hold is released and the start-up bearer token is expected again."""
    ctx.backend.reset()
    apply_seed(ctx.backend, ctx.services.seed)
    ctx.services.faults.clear()
    ctx.services.counter.reset()
    ctx.services.expected_token = ctx.services.config.expected_token
    return {"status": "ok"}
