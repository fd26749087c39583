"""The seed schema (YAML or JSON): published pipelines, endpoints and per-pipeline behaviour.

The same models validate ``POST /_emulator/pipelines`` and ``POST /_emulator/endpoints``. Example::

    pipelines:
      - id: 0f0c...            # optional; a uuid is generated when absent
        name: training
        parameters: [{name: avg_rate, type: float, default: 0.5}]
        steps: [{name: train, script: train.py}]
        behaviour:
          durations: {not_started: 0.2, queued: 0.3, step: 0.5, cancel: 0.2}
          fail: {step: train, message: "loss is NaN", when: {avg_rate: "0.99"}}
    endpoints:
      - {name: training-endpoint, versions: [0f0c...], default_version: "0", status: Active}
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from airflow_provider_azureml.emulator.state.backend import Backend
from airflow_provider_azureml.emulator.state.records import (
    Behaviour,
    Endpoint,
    EntityStatus,
    FailureRule,
    ParameterDef,
    ParameterType,
    Pipeline,
    StepDef,
    build_graph,
    node_id_for,
)

DEFAULT_SEED = Path(__file__).with_name("seed_default.yaml")
Scalar = str | int | float | bool


def scalar_text(value: Scalar) -> str:
    """Parameter values as the SDK sends them: ``str()`` of the Python value."""
    return str(value)


class SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterSeed(SeedModel):
    name: str = Field(min_length=1)
    type: ParameterType = "string"
    default: Scalar


class StepSeed(SeedModel):
    name: str = Field(min_length=1)
    node_id: str | None = None
    script: str = "script.py"
    type: Literal["PythonScriptStep", "ParallelRunStep"] = "PythonScriptStep"
    depends_on: list[str] = []
    duration: float | None = Field(default=None, ge=0)


class FailSeed(SeedModel):
    step: str
    message: str
    when: dict[str, Scalar | list[Scalar]] = {}


class DurationsSeed(SeedModel):
    not_started: float | None = Field(default=None, ge=0)
    queued: float | None = Field(default=None, ge=0)
    step: float | None = Field(default=None, ge=0)
    cancel: float | None = Field(default=None, ge=0)


class BehaviourSeed(SeedModel):
    durations: DurationsSeed = DurationsSeed()
    fail: list[FailSeed] = []

    @field_validator("fail", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class PipelineSeed(SeedModel):
    id: str | None = None
    name: str = Field(min_length=1)
    version: str | None = None
    description: str = ""
    status: EntityStatus = "Active"
    continue_on_step_failure: bool = False
    parameters: list[ParameterSeed] = []
    steps: list[StepSeed] = Field(min_length=1)
    behaviour: BehaviourSeed = BehaviourSeed()

    @model_validator(mode="after")
    def _consistent(self) -> PipelineSeed:
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names):
            raise ValueError("step names must be unique")
        for index, step in enumerate(self.steps):
            if not set(step.depends_on) <= set(names[:index]):
                raise ValueError(f"step '{step.name}' may only depend on steps listed before it")
        parameters = {p.name for p in self.parameters}
        for rule in self.behaviour.fail:
            if rule.step not in names:
                raise ValueError(f"fail.step '{rule.step}' is not a step of this pipeline")
            if not set(rule.when) <= parameters:
                raise ValueError(f"fail.when names unknown parameters: {sorted(set(rule.when) - parameters)}")
        return self

    def to_pipeline(self, created_at: float) -> Pipeline:
        pipeline_id = self.id or str(uuid.uuid4())
        graph_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"azureml-emulator/graphs/{pipeline_id}"))
        steps = tuple(
            StepDef(
                name=s.name,
                node_id=s.node_id or node_id_for(pipeline_id, s.name),
                script=s.script,
                step_type=s.type,
                depends_on=tuple(s.depends_on),
                duration=s.duration,
            )
            for s in self.steps
        )
        failures = tuple(
            FailureRule(
                step=rule.step,
                message=rule.message,
                when={
                    name: tuple(scalar_text(v) for v in (values if isinstance(values, list) else [values]))
                    for name, values in rule.when.items()
                },
            )
            for rule in self.behaviour.fail
        )
        return Pipeline(
            id=pipeline_id,
            name=self.name,
            version=self.version,
            description=self.description,
            status=self.status,
            continue_on_step_failure=self.continue_on_step_failure,
            parameters=tuple(
                ParameterDef(name=p.name, type=p.type, default=scalar_text(p.default))
                for p in self.parameters
            ),
            steps=steps,
            graph_id=graph_id,
            graph=build_graph(graph_id, steps),
            behaviour=Behaviour(
                durations=self.behaviour.durations.model_dump(exclude_none=True), failures=failures
            ),
            created_at=created_at,
        )


class EndpointSeed(SeedModel):
    id: str | None = None
    name: str = Field(min_length=1)
    description: str = ""
    versions: list[str] = Field(min_length=1, description="published pipeline ids; version N is the Nth")
    default_version: str = "0"
    status: EntityStatus = "Active"

    @model_validator(mode="after")
    def _default_exists(self) -> EndpointSeed:
        if not self.default_version.isdigit() or int(self.default_version) >= len(self.versions):
            raise ValueError(
                f"default_version '{self.default_version}' is not one of 0..{len(self.versions) - 1}"
            )
        return self

    def to_endpoint(self, created_at: float) -> Endpoint:
        return Endpoint(
            id=self.id or str(uuid.uuid4()),
            name=self.name,
            description=self.description,
            status=self.status,
            pipeline_ids=list(self.versions),
            default_version=self.default_version,
            created_at=created_at,
        )


class WorkspaceSeed(SeedModel):
    """What the ARM workspace GET reports besides the names the client asked for."""

    workspace_id: str = "5e1f3c7a-9d2b-4c8e-a6f0-3b7d9e1c2a40"
    location: str = "westeurope"


class Seed(SeedModel):
    workspace: WorkspaceSeed = WorkspaceSeed()
    pipelines: list[PipelineSeed] = []
    endpoints: list[EndpointSeed] = []


def load_seed(path: str | Path) -> Seed:
    """Read a seed file; YAML is a superset of JSON, so one loader serves both."""
    return Seed.model_validate(yaml.safe_load(Path(path).read_text()) or {})


def apply_seed(backend: Backend, seed: Seed) -> None:
    for pipeline in seed.pipelines:
        backend.registry.register_pipeline(pipeline.to_pipeline(backend.clock()))
    for endpoint in seed.endpoints:
        backend.registry.register_endpoint(endpoint.to_endpoint(backend.clock()))
