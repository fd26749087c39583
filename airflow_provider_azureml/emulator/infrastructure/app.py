"""The app factory: FastAPI routers behind one outer ASGI layer that counts, injects faults and authenticates.

Errors always leave in the service's shape: AEVA paths (``/pipelines/...``) get
``{"Error": {"Code", "Message", ...}, "Correlation": {...}}``; every other path gets run history's
``{"error": {"code", "message", ...}, "correlation": {...}}``. No response ever carries a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from airflow_provider_azureml.emulator.infrastructure.context import EmulatorConfig, Services
from airflow_provider_azureml.emulator.infrastructure.faults import FaultInjector, FaultRule
from airflow_provider_azureml.emulator.infrastructure.routing import RequestCounter, match_route
from airflow_provider_azureml.emulator.infrastructure.tls import EmulatorCA
from airflow_provider_azureml.emulator.routers import (
    admin,
    artifacts,
    content,
    datastores,
    discovery,
    experiments,
    history,
    pipelines,
    publishing,
    schedules,
    studio,
)
from airflow_provider_azureml.emulator.state.backend import Backend
from airflow_provider_azureml.emulator.state.seed import Seed, apply_seed, load_seed
from airflow_provider_azureml.emulator.state.state_file import StateFile
from airflow_provider_azureml.emulator.wire.errors import (
    ERRORS_BY_STATUS,
    BadRequest,
    EmulatorError,
    Unauthorized,
)
from airflow_provider_azureml.emulator.wire.models import (
    AevaErrorResponse,
    AevaRootError,
    ErrorResponse,
    RootError,
)
from airflow_provider_azureml.emulator.wire.routes import AEVA_ROOT, SNAPSHOT_CONTAINER

log = logging.getLogger("airflow_provider_azureml.emulator")

# A browser follows the Studio link without a token; the page shows what run history would.
UNAUTHENTICATED_ROUTES = frozenset({"DISCOVERY", "STUDIO_RUN"})
SIGNED_BLOB_ROUTES = frozenset({"PUT_SNAPSHOT_BLOB", "HEAD_SNAPSHOT_BLOB"})
#: Wall-clock seconds between the server's schedule checks, for when no request comes in.
SCHEDULE_TICK_SECONDS = 1.0
ConnectionAborter = Callable[[Scope], Awaitable[None]]


def error_response(path: str, error: EmulatorError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The service's error body for ``error``, AEVA-shaped or history-shaped by ``path``."""
    correlation_id = str(uuid.uuid4())
    correlation = {"operation": correlation_id, "request": correlation_id}
    body: AevaErrorResponse | ErrorResponse
    if path.startswith(AEVA_ROOT):
        body = AevaErrorResponse(
            error=AevaRootError(code=error.code, message=error.message, target=error.target),
            correlation=correlation,
        )
    else:
        body = ErrorResponse(
            error=RootError(code=error.code, message=error.message, target=error.target),
            correlation=correlation,
        )
    return JSONResponse(
        body.model_dump(mode="json", by_alias=True),
        status_code=error.status,
        headers={"x-ms-request-id": correlation_id, **(headers or {})},
    )


def create_api(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_fire_schedules(services.backend))
        yield
        ticker.cancel()
        services.backend.close()  # uvicorn re-raises SIGTERM after shutdown: write the state file first

    api = FastAPI(
        title="Azure ML pipelines emulator",
        docs_url=f"{admin.ADMIN_PREFIX}/docs",
        openapi_url=f"{admin.ADMIN_PREFIX}/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    api.state.services = services
    routers = (discovery, pipelines, schedules, publishing, history, experiments, artifacts, content)
    for module in (*routers, datastores, studio, admin):
        api.include_router(module.router)

    @api.exception_handler(EmulatorError)
    async def emulator_error(request: Request, error: EmulatorError) -> JSONResponse:
        return error_response(request.url.path, error)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return error_response(request.url.path, BadRequest(f"Invalid request: {problems}"))

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        cls = ERRORS_BY_STATUS.get(error.status_code, EmulatorError)
        failure = cls(f"{request.method} {request.url.path}: {error.detail}")
        failure.status = error.status_code
        if error.status_code == 405:
            failure.code = "MethodNotAllowed"
        return error_response(request.url.path, failure)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        return error_response(
            request.url.path, EmulatorError("The emulator hit an internal error; see its log.")
        )

    return api


async def _fire_schedules(backend: Backend) -> None:
    """Submit due scheduled runs every :data:`SCHEDULE_TICK_SECONDS`, so that a schedule fires on an
    emulator nobody is calling. Each request also catches up first (:meth:`EmulatorApp.__call__`); either
    way a due instant is submitted once, stamped with its own time, so the tick changes no outcome."""
    while True:
        await asyncio.sleep(SCHEDULE_TICK_SECONDS)
        try:
            backend.catch_up()
        except Exception:
            log.exception("firing schedules failed")


class EmulatorApp:
    """The ASGI application: request counting, fault injection and bearer auth around the FastAPI routes.

    The admin API (``/_emulator/...``) bypasses all three; its writes have their own guard
    (:func:`.admin.guard_writes`). ``abort_connection`` is installed by the server that runs the app;
    it is what makes a ``drop`` fault close the socket without a response.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self.api = create_api(services)
        self.abort_connection: ConnectionAborter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.services.backend.catch_up()  # what a request reads includes the scheduled runs due by now
        if scope["type"] != "http" or scope["path"].startswith(admin.ADMIN_PREFIX):
            await self._serve(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        route, params = match_route(method, path)
        self.services.counter.record(method, route, path, params)
        fault = self.services.faults.take(method, route, path)
        early = fault if fault is not None and fault.kind != "drop_after" else None
        if early is not None and await self._inject(early, scope, receive, send):
            return
        problem = self._auth_problem(scope, route, params)
        if problem is not None:
            await error_response(path, Unauthorized(problem))(scope, receive, send)
            return
        if fault is not None and fault.kind == "drop_after":
            await self._serve(scope, receive, _discard)  # the request takes effect...
            await self._drop(scope)  # ...but its answer is lost
            return
        await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.api(scope, receive, send)
        except Exception:
            # The catch-all handler has already answered 500; Starlette re-raises for the server log.
            log.exception("unhandled error serving %s %s", scope.get("method"), scope.get("path"))

    async def _inject(self, fault: FaultRule, scope: Scope, receive: Receive, send: Send) -> bool:
        """Apply ``fault``; True when the request has been answered (or dropped) here."""
        log.info("injecting %s fault into %s %s", fault.kind, scope["method"], scope["path"])
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay)
            return False
        if fault.kind == "drop":
            await self._drop(scope)
            return True
        status = fault.http_status
        error = ERRORS_BY_STATUS.get(status, EmulatorError)(f"Injected fault: HTTP {status}.")
        error.status = status
        headers = {"Retry-After": f"{fault.retry_after:g}"} if status == 429 else None
        await error_response(scope["path"], error, headers)(scope, receive, send)
        return True

    async def _drop(self, scope: Scope) -> None:
        if self.abort_connection is None:
            raise RuntimeError("dropping a connection needs EmulatorServer, which can abort sockets")
        await self.abort_connection(scope)

    def _auth_problem(self, scope: Scope, route: str | None, params: dict[str, Any]) -> str | None:
        """Why the request is not authenticated, or None. Never logs or echoes the token."""
        if route in UNAUTHENTICATED_ROUTES or self._signed_content(scope, route, params):
            return None
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return "Missing or malformed Authorization header: expected 'Bearer <token>'."
        expected = self.services.expected_token
        if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
            return "The bearer token is not valid for this emulator."
        return None

    def _signed_content(self, scope: Scope, route: str | None, params: dict[str, Any]) -> bool:
        """Artifact content and snapshot blobs are reached by signed URL (a SAS stand-in), no token."""
        signature = QueryParams(scope["query_string"]).get("sig", "")
        if route == "GET_ARTIFACT_CONTENT":
            return self.services.signer.valid(params["container"], params["artifact_path"], signature)
        if route in SIGNED_BLOB_ROUTES:
            return self.services.signer.valid(SNAPSHOT_CONTAINER, params["blob_name"], signature)
        return False


async def _discard(message: Message) -> None:
    """An ASGI ``send`` that throws the response away."""


def build_app(config: EmulatorConfig, faults: FaultInjector | None = None) -> EmulatorApp:
    """Assemble the service: restore ``config.state_file`` if it holds state, else apply the seed."""
    seed = load_seed(config.seed_file) if config.seed_file else Seed()
    backend = Backend(
        clock=config.clock,
        allow_unknown_parameters=config.allow_unknown_parameters,
        default_durations=config.durations,
        state_file=StateFile(config.state_file) if config.state_file else None,
        data_dir=config.resolved_data_dir(),
        execute=config.execute,
        step_timeout=config.step_timeout,
    )
    if not backend.restored:
        apply_seed(backend, seed)
    services = Services(backend, faults or FaultInjector(), RequestCounter(), config, seed)
    services.ca = EmulatorCA.load_or_create(backend.data_dir / "tls")
    return EmulatorApp(services)
