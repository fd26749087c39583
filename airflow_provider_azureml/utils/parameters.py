"""Check PipelineParameter overrides against a published pipeline's declared parameters before submitting.

The service only finds a bad name or value after a run was created (or not at all), so the operator
checks names and types up front and lists what is allowed. Numbers given as text must be spelled with
ASCII digits and spaces, as the service parses them (a regex digit class, ``float()`` and ``str.strip()``
would take other scripts' digits and spaces too). Messages name parameters, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_azureml.client.errors import AzureMLConfigError

if TYPE_CHECKING:
    from airflow_provider_azureml.client.models import PipelineParameterSpec

_SPACE = "[ \t\r\n]*"
_TEXT = {
    "int": re.compile(f"{_SPACE}[+-]?[0-9]+{_SPACE}"),
    "float": re.compile(f"{_SPACE}[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?{_SPACE}"),
    "bool": re.compile(f"{_SPACE}(?:true|false){_SPACE}", re.IGNORECASE | re.ASCII),
}


def _matches(value: Any, declared: str) -> bool:
    """Whether ``value`` is acceptable for a parameter of the declared type (int, float, bool, string)."""
    if isinstance(value, str):
        pattern = _TEXT.get(declared)
        return pattern is None or bool(pattern.fullmatch(value))
    if declared == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if declared == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if declared == "bool":
        return isinstance(value, bool)
    return True


def validate_parameters(parameters: Mapping[str, Any], declared: Iterable[PipelineParameterSpec]) -> None:
    """Raise ``AzureMLConfigError`` naming every unknown name or mistyped value, with the valid ones.

    ``parameters`` were type-checked first (``PipelineParameters`` in client/models.py): str names, scalars.
    """
    specs = {spec.name: spec for spec in declared}
    allowed = ", ".join(f"{name} ({spec.type})" for name, spec in sorted(specs.items())) or "none"
    unknown = sorted(set(parameters) - set(specs))
    if unknown:
        raise AzureMLConfigError(
            f"pipeline_parameters has unknown name(s) {', '.join(unknown)}; the pipeline declares: {allowed}"
        )
    wrong = [
        f"{name} is not a valid {specs[name].type}"
        for name in sorted(parameters)
        if not _matches(parameters[name], specs[name].type)
    ]
    if wrong:
        raise AzureMLConfigError(f"pipeline_parameters: {'; '.join(wrong)}; the pipeline declares: {allowed}")
