"""DAG files import our operators at parse time: no module of ours may pull in azureml or azure-identity.

Each module is imported in turn in a fresh interpreter; the first module after whose import a heavy
package appears in ``sys.modules`` is the culprit. The emulator is a separate program and is skipped.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import airflow_provider_azureml

FORBIDDEN = ("azureml", "azure.identity", "azure.core")

PROBE = """
import importlib, json, sys
forbidden = tuple(sys.argv[2:])
def heavy():
    return sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in forbidden))
culprits = {}
for name in json.loads(sys.argv[1]):
    before = set(heavy())
    importlib.import_module(name)
    new = [m for m in heavy() if m not in before]
    if new:
        culprits[name] = new[:5]
print(json.dumps(culprits))
"""


def our_modules() -> list[str]:
    package = airflow_provider_azureml
    names = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        if ".emulator" not in info.name:
            names.append(info.name)
    return names


def test_our_modules_list_covers_hooks_and_client() -> None:
    names = our_modules()
    assert "airflow_provider_azureml.hooks.azureml" in names
    assert "airflow_provider_azureml.client.sync_client" in names
    assert not [n for n in names if ".emulator" in n]


def test_no_module_imports_azureml_or_azure_identity() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(our_modules()), *FORBIDDEN],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    culprits = json.loads(result.stdout.strip().splitlines()[-1])
    assert culprits == {}, f"modules importing heavy packages at import time: {culprits}"
