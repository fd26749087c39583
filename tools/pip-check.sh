#!/usr/bin/env bash
# Install the built wheel with plain pip (no uv) into a fresh virtual environment of Python $1, using that
# version's constraints, then submit one run to the emulator from there (tools/pip_check.py).
# Usage: tools/pip-check.sh 3.12
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"

# A pyenv-managed Python of that version if there is one, else python$version on PATH if it runs.
find_python() {
    if command -v pyenv >/dev/null; then
        local full
        full="$(pyenv versions --bare | grep -E "^${version//./\\.}\.[0-9]+$" | sort -V | tail -1 || true)"
        if [ -n "$full" ]; then
            PYENV_VERSION="$full" pyenv which python
            return
        fi
    fi
    if "python$version" -c "" 2>/dev/null; then
        command -v "python$version"
    fi
}
python="$(find_python)"
if [ -z "$python" ]; then
    echo "pip-check: no Python $version found (pyenv or python$version on PATH); install it to check it" >&2
    exit 1
fi
wheel="$(ls dist/*.whl)"
venv=".pip-check/python$version"
rm -rf "$venv"
"$python" -m venv "$venv"
# The [sdk] extra everywhere: it brings the SDK where the SDK installs (3.11) and nothing elsewhere.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "constraints-$version.txt" "$wheel[sdk]"
HBI_WORKSPACE_JOB=true "$venv/bin/python" tools/pip_check.py
