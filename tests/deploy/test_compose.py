"""Static checks of the docker-compose deployment (docker-compose.yaml, Dockerfile, docker/azureml.env).

No Docker engine runs in CI, so nothing is built or started here. Instead:

1. ``docker-compose -f docker-compose.yaml config -q`` (Debian's docker-compose 1.29.2 validates a file
   without an engine). Installed by ``tools/install-compose-validator.sh``; missing validator fails
   under ``CI=true`` and skips locally.
2. Structural checks with PyYAML: services, the shared ``x-airflow-common`` anchor, ``depends_on``,
   health checks, ports, Airflow config keys, and the ``azureml_default`` connection, parsed by
   Airflow and by the provider.
3. The Dockerfile's Airflow version equals the ``apache-airflow`` pin in ``constraints-3.11.txt``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CONSTRAINTS = REPO / "constraints-3.11.txt"
INSTALL_VALIDATOR = REPO / "tools" / "install-compose-validator.sh"

IMAGE = "${AIRFLOW_IMAGE_NAME:-airflow-provider-azureml:local}"
# Airflow services and their command; all of them (and airflow-init) share x-airflow-common.
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
}
AIRFLOW_SERVICES = [*AIRFLOW_COMMANDS, "airflow-init"]
REQUIRED_SERVICES = {"postgres", "redis", "azureml-emulator", *AIRFLOW_SERVICES}
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
EMULATOR_ARGV = [
    "python",
    "-m",
    "airflow_provider_azureml.emulator",
    "--host",
    "0.0.0.0",
    "--port",
    "8089",
    "--state",
    "/state/emulator.json",
]
EMULATOR_HEALTH_URL = "http://localhost:8089/_emulator/health"
# Variables that change how compose interpolates the file: the checks below are about the defaults.
COMPOSE_VARIABLES = (
    "AIRFLOW_IMAGE_NAME",
    "AIRFLOW_UID",
    "AZUREML_ENV_FILE",
    "AIRFLOW_PROJ_DIR",
    "COMPOSE_FILE",
    "COMPOSE_PROJECT_NAME",
    "_AIRFLOW_WWW_USER_USERNAME",
    "_AIRFLOW_WWW_USER_PASSWORD",
)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _interpolate_default(value: str) -> str:
    """Resolve ``${VAR:-default}`` to its default, the way compose does when VAR is unset."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)


def _parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose env file; the values used here must be unquoted one-liners."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        assert sep, f"{path.name}:{number}: not KEY=VALUE"
        assert key not in values, f"{path.name}:{number}: {key} set twice"
        assert not (value[:1] in "'\"" and value[-1:] == value[:1]), (
            f"{path.name}:{number}: quoted value; compose versions disagree on quote removal"
        )
        values[key] = value
    return values


def _commented_connections(path: Path) -> list[dict[str, Any]]:
    """The commented-out example connections of an env file, parsed as JSON."""
    prefix = "# AIRFLOW_CONN_AZUREML_DEFAULT="
    return [
        json.loads(line[len(prefix) :]) for line in path.read_text().splitlines() if line.startswith(prefix)
    ]


def _airflow_version_pin() -> str:
    pins = [
        line.split("==", 1)[1].strip()
        for line in CONSTRAINTS.read_text().splitlines()
        if re.fullmatch(r"apache[-_.]airflow==\S+", line.strip(), flags=re.IGNORECASE)
    ]
    assert len(pins) == 1, f"expected exactly one apache-airflow pin in constraints-3.11.txt, found {pins}"
    return pins[0]


def _dockerfile_lines() -> list[str]:
    """Instructions of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", "", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in COMPOSE_VARIABLES}


def _healthcheck_script(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], f"expected a python health check, got {test}"
    return test[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_file() -> Path:
    common = yaml.safe_load(COMPOSE_FILE.read_text())["x-airflow-common"]
    (entry,) = common["env_file"]
    path = REPO / _interpolate_default(entry)
    assert path.is_file(), f"env_file {entry} resolves to a missing file"
    return path


@pytest.fixture(scope="module")
def docker_compose() -> str:
    """Path of docker-compose; under CI=true install it (tools/install-compose-validator.sh) or fail."""
    exe = shutil.which("docker-compose")
    in_ci = os.environ.get("CI", "").lower() == "true"
    if exe is None and in_ci:
        subprocess.run(["bash", str(INSTALL_VALIDATOR)], check=False, timeout=900)
        exe = shutil.which("docker-compose")
    if exe is None:
        reason = (
            "docker-compose (Debian's 1.29.2) is not installed, so docker-compose.yaml cannot be "
            "validated; run tools/install-compose-validator.sh as root"
        )
        if in_ci:
            pytest.fail(reason)
        pytest.skip(reason)
    return exe


# --------------------------------------------------------------------------------------------------
# 1. The compose validator
# --------------------------------------------------------------------------------------------------


def test_docker_compose_config_validates(docker_compose: str) -> None:
    result = subprocess.run(
        [docker_compose, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"docker-compose config -q failed:\n{result.stdout}{result.stderr}"
    assert result.stdout == ""


def test_docker_compose_resolves_connection_and_merges(docker_compose: str, env_file: Path) -> None:
    """Compose reads the env file and merges the anchors the way the structural checks assume."""
    result = subprocess.run(
        [docker_compose, "-f", str(COMPOSE_FILE), "config"],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    resolved = yaml.safe_load(result.stdout)["services"]
    assert set(resolved) >= REQUIRED_SERVICES
    expected_conn = _parse_env_file(env_file)["AIRFLOW_CONN_AZUREML_DEFAULT"]
    for name in AIRFLOW_SERVICES:
        service = resolved[name]
        assert service["image"] == "airflow-provider-azureml:local", name
        assert service["environment"]["AIRFLOW_CONN_AZUREML_DEFAULT"] == expected_conn, name
        assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert service["depends_on"]["azureml-emulator"] == {"condition": "service_healthy"}, name
    assert resolved["airflow-worker"]["environment"]["DUMB_INIT_SETSID"] == "0"
    assert resolved["azureml-emulator"]["command"] == EMULATOR_ARGV
    assert resolved["azureml-emulator"]["image"] == "airflow-provider-azureml:local"


# --------------------------------------------------------------------------------------------------
# 2. Structure
# --------------------------------------------------------------------------------------------------


def test_required_services_present(services: dict[str, Any]) -> None:
    missing = REQUIRED_SERVICES - set(services)
    assert not missing, f"missing services: {sorted(missing)}"


def test_airflow_services_merge_the_common_anchor(compose_text: str) -> None:
    """Each Airflow service is ``<<: *airflow-common`` (the same node), not a copy that can drift."""
    root = yaml.compose(compose_text)
    top = {key.value: value for key, value in root.value}
    common = top["x-airflow-common"]
    assert re.search(r"^x-airflow-common:\s*&airflow-common\b", compose_text, flags=re.MULTILINE)
    service_nodes = {key.value: value for key, value in top["services"].value}
    for name in AIRFLOW_SERVICES:
        merges = [value for key, value in service_nodes[name].value if key.value == "<<"]
        assert merges and merges[0] is common, f"{name} does not merge *airflow-common"


def test_common_settings(compose: dict[str, Any], services: dict[str, Any]) -> None:
    common = compose["x-airflow-common"]
    assert common["image"] == IMAGE
    assert common["build"] == "."
    assert (REPO / common["build"] / "Dockerfile").is_file()
    assert "./dags:/opt/airflow/dags:ro" in common["volumes"]
    env = common["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"], "the JWT secret must be shared by all components"
    assert env["AIRFLOW__API__SECRET_KEY"], "the API secret key must be shared by all components"
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in env, "the provider is installed in the image"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis"
    assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres"
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["image"] == IMAGE and service["build"] == ".", name
        assert service["env_file"] == common["env_file"], name
        for key, value in env.items():
            assert service["environment"].get(key) == value, f"{name} overrides {key}"
    for name, command in AIRFLOW_COMMANDS.items():
        assert services[name]["command"] == command, name
    init = services["airflow-init"]
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert "_AIRFLOW_WWW_USER_CREATE" not in init["environment"], "FAB-only; SimpleAuthManager is used"


def test_airflow_config_keys_exist(compose: dict[str, Any]) -> None:
    """``AIRFLOW__SECTION__KEY`` variables name real options: a typo would be silently ignored."""
    from airflow.configuration import conf

    described = conf.configuration_description
    env = compose["x-airflow-common"]["environment"]
    checked = 0
    for name in env:
        if not name.startswith("AIRFLOW__"):
            continue
        section, key = name[len("AIRFLOW__") :].lower().split("__", 1)
        if section == "celery":  # described by the celery provider, which is not installed here
            continue
        assert key in described.get(section, {}).get("options", {}), f"{name}: no [{section}] {key}"
        checked += 1
    assert checked >= 8


def test_depends_on_conditions(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert spec["condition"] in DEPENDS_ON_CONDITIONS, f"{name} -> {target}: {spec}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}: no healthcheck"
    for name in AIRFLOW_SERVICES:
        depends_on = services[name]["depends_on"]
        for target in ("postgres", "redis", "azureml-emulator"):
            assert depends_on[target] == {"condition": "service_healthy"}, f"{name} -> {target}"
    for name in AIRFLOW_COMMANDS:
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }, name
    assert "depends_on" not in services["azureml-emulator"], "the emulator must start on its own"


def test_ports(services: dict[str, Any]) -> None:
    assert services["airflow-apiserver"]["ports"] == ["8080:8080"]
    assert services["azureml-emulator"]["ports"] == ["8089:8089"]
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert len(published) == len(set(published)), f"port published twice: {published}"


def test_emulator_service(compose: dict[str, Any], services: dict[str, Any]) -> None:
    from airflow_provider_azureml.emulator.__main__ import parser

    emulator = services["azureml-emulator"]
    assert emulator["image"] == IMAGE and emulator["build"] == "."
    assert emulator["command"] == EMULATOR_ARGV
    args = parser().parse_args(emulator["command"][3:])  # the emulator's own CLI accepts the flags
    assert (args.host, args.port, str(args.state)) == ("0.0.0.0", 8089, "/state/emulator.json")
    volume, _, target = next(v for v in emulator["volumes"] if v.endswith(":/state")).partition(":")
    assert target == str(args.state.parent)
    assert volume in compose["volumes"], f"named volume {volume} is not declared"
    health = emulator["healthcheck"]
    assert EMULATOR_HEALTH_URL in _healthcheck_script(emulator)
    assert {"interval", "timeout", "retries", "start_period"} <= set(health)


def test_emulator_healthcheck_runs(services: dict[str, Any], emulator: Any) -> None:
    """The health check command itself, against a live emulator and against a closed port."""
    script = _healthcheck_script(services["azureml-emulator"])
    live = script.replace("localhost:8089", urlsplit(emulator.url).netloc)
    dead = script.replace("localhost:8089", f"127.0.0.1:{_free_port()}")
    assert subprocess.run([sys.executable, "-c", live], timeout=30).returncode == 0
    assert subprocess.run([sys.executable, "-c", dead], capture_output=True, timeout=30).returncode != 0


def test_apiserver_healthcheck(services: dict[str, Any]) -> None:
    script = _healthcheck_script(services["airflow-apiserver"])
    assert "http://localhost:8080/api/v2/monitor/health" in script
    compile(script, "healthcheck", "exec")


def test_connection_points_at_emulator(services: dict[str, Any], env_file: Path) -> None:
    from airflow.sdk import Connection

    from airflow_provider_azureml.client.config import AzureMLConnectionConfig

    raw = _parse_env_file(env_file)["AIRFLOW_CONN_AZUREML_DEFAULT"]
    conn_json = json.loads(raw)
    assert conn_json["conn_type"] == "azureml"
    host = urlsplit(conn_json["host"])
    assert host.scheme == "http" and host.hostname == "azureml-emulator"
    assert host.hostname in services
    assert host.port == int(EMULATOR_ARGV[EMULATOR_ARGV.index("--port") + 1])
    assert conn_json["extra"]["auth_method"] == "emulator"

    # Parsed the way Airflow reads AIRFLOW_CONN_* and the provider reads the connection.
    config = AzureMLConnectionConfig.from_connection(Connection.from_json(raw, conn_id="azureml_default"))
    assert config.auth_method == "emulator"
    assert config.endpoint == "http://azureml-emulator:8089"
    assert (config.subscription_id, config.resource_group, config.workspace_name) == (
        "00000000-0000-0000-0000-000000000001",
        "rg-emulator",
        "ws-emulator",
    )
    assert config.tenant_id == "00000000-0000-0000-0000-000000000000"


def test_real_workspace_example_is_valid(env_file: Path) -> None:
    """The commented service-principal example parses and satisfies the provider's checks."""
    from airflow.sdk import Connection

    from airflow_provider_azureml.client.config import AzureMLConnectionConfig

    (example,) = _commented_connections(env_file)
    config = AzureMLConnectionConfig.from_connection(
        Connection.from_json(json.dumps(example), conn_id="azureml_default")
    )
    assert config.auth_method == "service_principal_secret"
    assert config.client_id and config.client_secret and config.tenant_id
    assert config.endpoint is None, "a real workspace uses the cloud's endpoints, not an override"


# --------------------------------------------------------------------------------------------------
# 3. Image
# --------------------------------------------------------------------------------------------------


def test_dockerfile_airflow_version_matches_constraints() -> None:
    pin = _airflow_version_pin()
    lines = _dockerfile_lines()
    from_index = next(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    args = dict(
        re.fullmatch(r"ARG (\w+)=(\S+)", line).groups()  # type: ignore[union-attr]
        for line in lines[:from_index]
        if re.fullmatch(r"ARG \w+=\S+", line)
    )
    assert args["AIRFLOW_VERSION"] == pin
    image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], lines[from_index].split()[1])
    assert image == f"apache/airflow:{pin}-python{args['PYTHON_VERSION']}"
    header = re.search(r"--python-version (\S+)", CONSTRAINTS.read_text())
    assert header and header.group(1) == args["PYTHON_VERSION"], "lock for another Python"
    # The ARG is re-declared after FROM so the build-time checks and the install can use it.
    assert "ARG AIRFLOW_VERSION" in lines[from_index + 1 :]


def test_dockerfile_installs_provider_from_checkout() -> None:
    lines = _dockerfile_lines()
    copied = [
        source
        for line in lines
        if line.startswith("COPY ")
        for source in [part for part in line.split()[1:] if not part.startswith("--")][:-1]
    ]
    for required in (
        "pyproject.toml",
        "constraints-3.11.txt",
        "README.md",
        "LICENSE",
        "airflow_provider_azureml/",
        "dags/",
    ):
        assert required in copied, f"Dockerfile does not COPY {required}"
        assert (REPO / required).exists()
    installs = [line for line in lines if "pip install" in line]
    assert len(installs) == 1
    assert "-c constraints-3.11.txt" in installs[0]
    assert '"apache-airflow==${AIRFLOW_VERSION}" ".[sdk]"' in installs[0]
    assert "--no-cache-dir" in installs[0]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users[-1] == "airflow", "pip must run as, and the image must end as, the airflow user"
    check = 'grep -qxF "apache-airflow==${AIRFLOW_VERSION}" constraints-3.11.txt'
    assert any(check in line for line in lines)


def test_dockerignore_keeps_build_inputs_out_of_the_way() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "**/__pycache__", ".pytest_cache", "test-artifacts"} <= patterns
    for needed in (
        "pyproject.toml",
        "constraints-3.11.txt",
        "README.md",
        "airflow_provider_azureml",
        "dags",
        "*",
    ):
        assert needed not in patterns, f".dockerignore excludes {needed}, which the Dockerfile copies"
