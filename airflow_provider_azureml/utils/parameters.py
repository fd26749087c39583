"""Check PipelineParameter overrides against a published pipeline's declared parameters before submitting.

The service only finds a bad name or value after a run was created (or not at all), so the operator
checks names and types up front and lists what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_azureml.client.errors import AzureMLConfigError

if TYPE_CHECKING:
    from airflow_provider_azureml.client.models import PipelineParameterSpec

SCALAR_TYPES = (str, int, float, bool)
_INT = re.compile(r"^[+-]?\d+$")
_BOOL_WORDS = {"true", "false"}


def _float_ok(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _matches(value: Any, declared: str) -> bool:
    """Whether ``value`` is acceptable for a parameter of the declared type (int, float, bool, string)."""
    if declared == "int":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and bool(_INT.match(value.strip()))
        )
    if declared == "float":
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
            isinstance(value, str) and _float_ok(value)
        )
    if declared == "bool":
        return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in _BOOL_WORDS)
    return True


def check_scalar_values(parameters: Mapping[str, Any], field: str = "pipeline_parameters") -> None:
    """Reject values the service cannot take (lists, dicts, None): it only accepts strings of scalars."""
    if not isinstance(parameters, Mapping):
        raise AzureMLConfigError(
            f"{field} must be a mapping of parameter name to value, got {type(parameters).__name__}"
        )
    for name, value in parameters.items():
        if not isinstance(value, SCALAR_TYPES):
            raise AzureMLConfigError(
                f"{field}[{name!r}] is a {type(value).__name__}; allowed: str, int, float or bool"
            )


def validate_parameters(parameters: Mapping[str, Any], declared: Iterable[PipelineParameterSpec]) -> None:
    """Raise ``AzureMLConfigError`` naming every unknown name or mistyped value, with the valid ones."""
    check_scalar_values(parameters)
    specs = {spec.name: spec for spec in declared}
    allowed = ", ".join(f"{name} ({spec.type})" for name, spec in sorted(specs.items())) or "none"
    unknown = sorted(set(parameters) - set(specs))
    if unknown:
        raise AzureMLConfigError(
            f"pipeline_parameters has unknown name(s) {', '.join(unknown)}; the pipeline declares: {allowed}"
        )
    wrong = [
        f"{name}={parameters[name]!r} is not a valid {specs[name].type}"
        for name in sorted(parameters)
        if not _matches(parameters[name], specs[name].type)
    ]
    if wrong:
        raise AzureMLConfigError(f"pipeline_parameters: {'; '.join(wrong)}; the pipeline declares: {allowed}")
