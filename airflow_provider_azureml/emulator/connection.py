"""The ``azureml`` connection that points Airflow at an emulator, defined once for every local setup.

The emulator answers for any workspace scope; these are the names the demo, the tests, the benchmarks
and ``make up`` use. ``auth_method: emulator`` sends a fixed token that is not a secret. The admin
API's own token, when the emulator has one, is a separate header (:func:`admin_headers`).
"""

from __future__ import annotations

import os
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


#: A header of its own, so the admin token is never mistaken for (or sent as) an Azure AD bearer token.
ADMIN_TOKEN_HEADER = "X-Emulator-Admin-Token"
ADMIN_TOKEN_ENV = "AZUREML_EMULATOR_ADMIN_TOKEN"


def admin_headers() -> dict[str, str]:
    """The admin token header when ``AZUREML_EMULATOR_ADMIN_TOKEN`` is set, else none.

    For scripts that call the admin API of an emulator CLI they start with their own environment (from
    which it takes that token).
    """
    token = os.environ.get(ADMIN_TOKEN_ENV)
    return {ADMIN_TOKEN_HEADER: token} if token else {}
