"""``python -m airflow_provider_azureml.emulator``: run the emulator and print its base URL on stdout."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from airflow_provider_azureml.emulator.connection import ADMIN_TOKEN_ENV, ADMIN_TOKEN_HEADER
from airflow_provider_azureml.emulator.execution.executor import check_binding
from airflow_provider_azureml.emulator.infrastructure.app import build_app
from airflow_provider_azureml.emulator.infrastructure.context import EmulatorConfig
from airflow_provider_azureml.emulator.infrastructure.server import EmulatorServer
from airflow_provider_azureml.emulator.state.lifecycle import Durations
from airflow_provider_azureml.emulator.state.seed import DEFAULT_SEED

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _duration(text: str) -> tuple[str, float]:
    name, _, seconds = text.partition("=")
    if name not in Durations.__dataclass_fields__ or not seconds:
        raise argparse.ArgumentTypeError(
            f"expected PHASE=SECONDS with PHASE in {list(Durations.__dataclass_fields__)}"
        )
    try:
        return name, float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {seconds!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_azureml.emulator",
        description="Local emulator of the Azure ML v1 pipelines REST service (pipelines, run history, "
        "artifacts, discovery, ARM workspace). Prints its base URL, then serves until interrupted.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    p.add_argument(
        "--port", type=int, default=8089, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    p.add_argument(
        "--seed",
        type=Path,
        default=DEFAULT_SEED,
        metavar="FILE",
        help="YAML/JSON seed of published pipelines and endpoints (default: the bundled seed_default.yaml)",
    )
    p.add_argument("--no-seed", action="store_true", help="start with no pipelines or endpoints")
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="persist runs, registrations and submissions in FILE and restore them at start-up",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep uploaded snapshot files, the emulator's CA and (--execute) datastores and step files here "
        "(default: FILE.d beside --state, else a temporary directory removed at exit)",
    )
    p.add_argument(
        "--blob-proxy-port",
        type=int,
        metavar="PORT",
        help="port of the HTTPS CONNECT proxy through which Pipeline.publish() uploads snapshots to "
        "*.blob.core.windows.net (served here, TLS with the emulator's CA; other hosts get 403); "
        "0 picks a free one (default: --port + 1, or a free port with --port 0). "
        "Clients read it, and the CA, from GET /_emulator/publishing",
    )
    p.add_argument(
        "--expected-token",
        metavar="TOKEN",
        help="accept only this bearer token (default: any non-empty bearer token)",
    )
    p.add_argument(
        "--admin-token",
        default=os.environ.get(ADMIN_TOKEN_ENV) or None,
        metavar="TOKEN",
        help=f"require this token in the {ADMIN_TOKEN_HEADER} header of every admin write (POST, PUT, "
        f"DELETE under /_emulator/); reads stay open. Default: ${ADMIN_TOKEN_ENV}, which keeps the "
        "token out of the process list; unset: no token",
    )
    p.add_argument(
        "--allow-unknown-parameters",
        action="store_true",
        help="accept submissions naming parameters the pipeline does not define (default: 400)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="base URL to advertise in discovery and entity URLs (default: from each request's Host)",
    )
    p.add_argument(
        "--duration",
        type=_duration,
        action="append",
        default=[],
        metavar="PHASE=SECONDS",
        help="default phase duration, repeatable; PHASE is not_started, queued, step or cancel "
        f"(defaults: {Durations()})",
    )
    p.add_argument(
        "--execute",
        action="store_true",
        help="run the steps of submitted published pipelines as local processes: scripts with this Python, "
        "ParallelRunSteps with the emulator's driver; outputs under DATA_DIR/datastores/<datastore>/ "
        "(fill DATA_DIR/datastores/workspaceblobstore/ with input data). Runs the code it is sent, so it "
        "refuses a non-loopback --host. Seeded pipelines stay simulated",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        metavar="SECONDS",
        help="with --execute: stop and fail a step running longer than this, unless its own "
        "MaxRunDurationSeconds is set (default: no limit)",
    )
    p.add_argument(
        "--allow-remote-execution",
        action="store_true",
        help="let --execute listen on a non-loopback --host: anyone reaching it can run code here",
    )
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="log level (default: %(default)s)")
    return p


def _blob_proxy_port(port: int, chosen: int | None) -> int:
    if chosen is not None:
        return chosen
    return port + 1 if port else 0


def main(argv: Sequence[str] | None = None) -> None:
    cli = parser()
    args = cli.parse_args(argv)
    if args.execute:
        try:
            check_binding(args.host, args.allow_remote_execution)
        except ValueError as error:
            cli.error(str(error))
    logging.basicConfig(
        level=args.log_level.upper() if args.log_level != "trace" else "DEBUG",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = EmulatorConfig(
        seed_file=None if args.no_seed else args.seed,
        state_file=args.state,
        expected_token=args.expected_token,
        admin_token=args.admin_token or None,
        allow_unknown_parameters=args.allow_unknown_parameters,
        public_url=args.public_url,
        durations=Durations().merged(dict(args.duration)),
        data_dir=args.data_dir,
        blob_proxy_port=_blob_proxy_port(args.port, args.blob_proxy_port),
        execute=args.execute,
        step_timeout=args.step_timeout,
    )
    server = EmulatorServer(build_app(config), args.host, args.port, args.log_level)
    logging.getLogger("airflow_provider_azureml.emulator").info(
        "blob proxy for publishing on port %s",
        config.blob_proxy_port if server.blob_proxy is None else server.blob_proxy.port,
    )
    print(server.url, flush=True)
    server.run()


if __name__ == "__main__":
    main()
