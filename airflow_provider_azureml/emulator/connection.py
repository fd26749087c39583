"""The ``azureml`` connection that points Airflow at an emulator, defined once for every local setup.

The emulator answers for any workspace scope; these are the names the demo, the tests, the benchmarks
and ``make up`` use. ``auth_method: emulator`` sends a fixed token that is not a secret.
"""

from __future__ import annotations

from typing import Any

EMULATOR_WORKSPACE = {
    "subscription_id": "00000000-0000-0000-0000-000000000001",
    "resource_group": "rg-emulator",
    "workspace_name": "ws-emulator",
}
EMULATOR_TENANT_ID = "00000000-0000-0000-0000-000000000000"


def emulator_connection(url: str) -> dict[str, Any]:
    """The connection (``AIRFLOW_CONN_*`` JSON form) for the emulator at ``url``."""
    return {
        "conn_type": "azureml",
        "host": url,
        "extra": {"tenant_id": EMULATOR_TENANT_ID, **EMULATOR_WORKSPACE, "auth_method": "emulator"},
    }
