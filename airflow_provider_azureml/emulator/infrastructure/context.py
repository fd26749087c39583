"""What every router needs: the shared services, the request's base URL, body parsing, time formatting."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pydantic import TypeAdapter, ValidationError

from airflow_provider_azureml.emulator.infrastructure.faults import FaultInjector
from airflow_provider_azureml.emulator.infrastructure.routing import RequestCounter
from airflow_provider_azureml.emulator.infrastructure.tls import EmulatorCA
from airflow_provider_azureml.emulator.state.backend import Backend
from airflow_provider_azureml.emulator.state.lifecycle import Durations
from airflow_provider_azureml.emulator.state.seed import DEFAULT_SEED, Seed
from airflow_provider_azureml.emulator.wire.errors import BadRequest
from airflow_provider_azureml.emulator.wire.routes import Route

T = TypeVar("T")
SCOPE_KEYS = ("subscription_id", "resource_group", "workspace_name")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything chosen at start-up (command line or test fixture)."""

    seed_file: Path | None = DEFAULT_SEED
    state_file: Path | None = None
    expected_token: str | None = None  # None: any non-empty bearer token is accepted
    admin_token: str | None = field(default=None, repr=False)  # None: admin writes need no token
    allow_unknown_parameters: bool = False
    public_url: str | None = None  # None: the scheme and Host of each request
    durations: Durations = field(default_factory=Durations)  # defaults for pipelines not setting their own
    data_dir: Path | None = (
        None  # uploaded blobs, snapshot files, the CA; None: beside the state file or temp
    )
    blob_proxy_port: int = 0  # the CONNECT proxy for blob uploads; 0 picks a free port
    execute: bool = False  # run published pipelines' steps as local processes (see .executor)
    step_timeout: float | None = None  # execute mode: limit for steps without MaxRunDurationSeconds
    #: The wall clock the emulator's time follows; tests pass a :class:`~.clock.ManualClock`.
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    def resolved_data_dir(self) -> Path | None:
        """Where blobs and the CA live: ``data_dir``, else ``<state file>.d`` so they persist together."""
        if self.data_dir is not None:
            return self.data_dir
        return self.state_file.with_name(self.state_file.name + ".d") if self.state_file else None


class ContentSigner:
    """Signs artifact content URLs, the stand-in for blob SAS tokens: such URLs need no bearer token."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def sign(self, container: str, path: str) -> str:
        return hmac.new(self._key, f"{container}/{path}".encode(), hashlib.sha256).hexdigest()

    def valid(self, container: str, path: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(container, path), signature)


@dataclass
class Services:
    backend: Backend
    faults: FaultInjector
    counter: RequestCounter
    config: EmulatorConfig
    seed: Seed = field(default_factory=Seed)  # applied at start-up and by POST /_emulator/reset
    signer: ContentSigner = field(default_factory=ContentSigner)
    ca: EmulatorCA | None = None  # signs the blob host's certificate (see .blobproxy)
    blob_proxy_port: int | None = None  # set by the server once the proxy listens
    #: The bearer token accepted now (None: any): ``config.expected_token`` until the admin API rotates it.
    expected_token: str | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.expected_token = self.config.expected_token


class RequestContext:
    """The services plus what depends on the request: its base URL and workspace scope."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.services: Services = request.app.state.services
        self.backend = self.services.backend
        public_url = self.services.config.public_url
        self.base_url = (public_url or str(request.base_url)).rstrip("/")

    def url(self, route: Route, **params: object) -> str:
        """Absolute URL of ``route`` in the workspace scope of the current request."""
        scope = {key: self.request.path_params[key] for key in SCOPE_KEYS if key in self.request.path_params}
        return self.base_url + route.path(**scope, **params)

    async def body(self, adapter: TypeAdapter[T]) -> T:
        """The JSON body validated by ``adapter``; any problem is a 400 naming the offending fields."""
        raw = await self.request.body()
        if not raw.strip():
            raise BadRequest("The request body is empty; a JSON body is required.")
        try:
            return adapter.validate_json(raw)
        except ValidationError as error:
            raise BadRequest(validation_message(error)) from None


def validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{location}: {item['msg']}")
    return "Invalid request body: " + "; ".join(problems)


Context = Annotated[RequestContext, Depends(RequestContext)]
