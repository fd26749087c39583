"""Provider metadata read by Airflow's ProvidersManager through the ``apache_airflow_provider`` entry point.

Kept free of imports beyond the standard library: Airflow calls it during provider discovery.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_azureml import __version__

AUTH_METHODS = (
    "service_principal_secret",
    "service_principal_certificate",
    "managed_identity",
    "workload_identity",
    "azure_cli",
    "default",
    "emulator",
)
CLOUDS = ("public", "china", "usgov")


def _field(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"], **schema}}


INTEGRATION = "Azure Machine Learning"
PACKAGE = "airflow_provider_azureml"


def _modules(*names: str) -> list[dict[str, Any]]:
    return [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.{name}" for name in names]}]


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-azureml",
        "name": "Azure Machine Learning (pipelines, SDK v1)",
        "description": "Publish, submit, invoke and wait for Azure Machine Learning pipeline runs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://learn.microsoft.com/azure/machine-learning/v1/",
                "tags": ["azure"],
            }
        ],
        "hooks": _modules("hooks.azureml"),
        "operators": _modules(
            "operators.submit_pipeline_run",
            "operators.invoke_pipeline_endpoint",
            "operators.cancel_pipeline_run",
            "operators.publish_pipeline",
            "operators.schedule",
        ),
        "sensors": _modules("sensors.pipeline_run"),
        "triggers": _modules("triggers.pipeline_run"),
        "extra-links": [f"{PACKAGE}.links.studio.AzureMLPipelineRunLink"],
        "connection-types": [
            {
                "connection-type": "azureml",
                "hook-class-name": f"{PACKAGE}.hooks.azureml.AzureMLHook",
                "hook-name": INTEGRATION,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {
                        "login": "Client ID",
                        "password": "Client secret",
                        "host": "Endpoint override",
                    },
                    "placeholders": {
                        "login": "application (client) id of the service principal or managed identity",
                        "password": "client secret (service principal secret only)",
                        "host": "leave empty for Azure; e.g. http://127.0.0.1:8089 for the local emulator",
                    },
                },
                "conn-fields": {
                    "tenant_id": _field("Tenant ID", "Microsoft Entra tenant (directory) id."),
                    "subscription_id": _field("Subscription ID", "Azure subscription holding the workspace."),
                    "resource_group": _field("Resource group", "Resource group of the workspace."),
                    "workspace_name": _field("Workspace name", "Azure ML workspace name."),
                    "auth_method": _field(
                        "Authentication method",
                        "How to get the Azure AD token ('emulator': fixed token, endpoint override only).",
                        enum=list(AUTH_METHODS),
                        default="default",
                    ),
                    "certificate_path": _field(
                        "Certificate path",
                        "PEM/PKCS12 certificate file (service_principal_certificate).",
                    ),
                    "certificate_password": _field(
                        "Certificate password",
                        "Password of the certificate file, if any.",
                        format="password",
                    ),
                    "cloud": _field(
                        "Cloud", "Azure cloud of the workspace.", enum=list(CLOUDS), default="public"
                    ),
                    "max_retries": _field(
                        "Max retries",
                        "Retries on throttling, 5xx and connection errors (default 6).",
                        type=["integer", "null"],
                    ),
                    "timeout": _field(
                        "Request timeout (s)",
                        "Per-request timeout in seconds (default 60).",
                        type=["number", "null"],
                    ),
                },
            }
        ],
    }
