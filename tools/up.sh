#!/usr/bin/env bash
# `make up`: the emulator plus `airflow standalone` (UI at http://localhost:8080), with the
# azureml_default connection pointing at the emulator. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_BIN="$PWD/.venv/bin"
export PATH="$VENV_BIN:$PATH"  # standalone starts its components as `airflow ...`
EMULATOR_PORT="${EMULATOR_PORT:-8089}"
export AIRFLOW_HOME="$PWD/.demo/standalone"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=4
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True
export AIRFLOW_CONN_AZUREML_DEFAULT="$("$VENV_BIN/python" -c "import json, sys; from airflow_provider_azureml.emulator.connection import emulator_connection; print(json.dumps(emulator_connection(sys.argv[1])))" "http://127.0.0.1:$EMULATOR_PORT")"
mkdir -p "$AIRFLOW_HOME"

setsid "$VENV_BIN/python" -m airflow_provider_azureml.emulator --host 127.0.0.1 --port "$EMULATOR_PORT" \
  --state "$PWD/.demo/emulator-state.json" &
EMULATOR_PID=$!
setsid "$VENV_BIN/airflow" standalone &
AIRFLOW_PID=$!
stop() { kill -TERM -- "-$AIRFLOW_PID" "-$EMULATOR_PID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM
echo "Emulator: http://127.0.0.1:$EMULATOR_PORT   Airflow UI: http://localhost:8080 (no login)"
wait -n "$AIRFLOW_PID" "$EMULATOR_PID"
