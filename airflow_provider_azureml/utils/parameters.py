"""Check PipelineParameter overrides against a published pipeline's declared parameters before submitting.

The service only finds a bad name or value after a run was created (or not at all), so the operator
checks names and types up front and lists what is allowed. Numbers given as text must be spelled with
ASCII digits and spaces, as the service parses them (a regex digit class, ``float()`` and ``str.strip()``
would take other scripts' digits and spaces too). Messages name parameters, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_azureml.client.errors import AzureMLConfigError
from airflow_provider_azureml.client.models import PipelineParameterSpec, parameter_type

_SPACE = "[ \t\r\n]*"
_TEXT = {
    "int": re.compile(f"{_SPACE}[+-]?[0-9]+{_SPACE}"),
    "float": re.compile(f"{_SPACE}[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?{_SPACE}"),
    "bool": re.compile(f"{_SPACE}(?:true|false){_SPACE}", re.IGNORECASE | re.ASCII),
}


#: The value types a declared int, float or bool takes besides its text; a string or unknown takes any.
_TAKES = {"int": {"int"}, "float": {"int", "float"}, "bool": {"bool"}}


def _matches(value: Any, declared: str) -> bool:
    """Whether ``value`` is acceptable for a parameter of the declared type (int, float, bool, string)."""
    given = parameter_type(value)
    if given == "string":
        pattern = _TEXT.get(declared)
        return pattern is None or bool(pattern.fullmatch(value))
    return given is not None and given in _TAKES.get(declared, {given})


def validate_parameters(parameters: Mapping[str, Any], declared: Iterable[PipelineParameterSpec]) -> None:
    """Raise ``AzureMLConfigError`` naming every unknown name or mistyped value, with the valid ones.

    Value types follow the one rule of client/models.py (``parameter_type``), which the operators' argument
    check (``PipelineParameters``) applied first; text must spell the declared type as the service reads it.
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
