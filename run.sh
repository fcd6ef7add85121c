#!/usr/bin/env bash
# The project's two entry points, each building its own environment from nothing:
#   bash run.sh example   runs the example workflow: a dozen source notebooks with one
#                         `nbscrap run --grid`, then the summary (example_notebooks/run_workflow.py)
#   bash run.sh test      runs the linters, the type checker and the test suite
# Extra arguments after `test` go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

VENV="${NBSCRAP_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

ensure_env() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        echo "creating $VENV with $("$PYTHON" --version 2>&1)" >&2
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    # Reinstall only when the dependency list changed.
    local stamp="$VENV/.nbscrap-installed"
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        # pip is quiet, so say what the wait is for (stderr: stdout stays the job's own).
        echo "setting up $VENV: installing pytest-nbscrap and its test dependencies" \
            "(jupyter, papermill, pandas, pyarrow, matplotlib; the first run takes a few minutes)" >&2
        "$VENV/bin/python" -m pip install --quiet -e ".[test]"
        echo "$VENV is ready" >&2
        echo "$want" > "$stamp"
    fi
}

case "${1:-}" in
    example)
        shift
        ensure_env
        exec "$VENV/bin/python" example_notebooks/run_workflow.py "$@"
        ;;
    test)
        shift
        ensure_env
        # Azurite, Azure Blob's emulator (an npm package), for the storage tests; they find
        # it under $VENV/node (tests/_servers.py).
        if [[ ! -x "$VENV/node/node_modules/.bin/azurite-blob" ]]; then
            echo "installing Azurite into $VENV/node with npm (the storage tests' Azure server)" >&2
            npm install --silent --no-audit --no-fund --prefix "$VENV/node" azurite >&2
        fi
        "$VENV/bin/ruff" check pytest_nbscrap tests bench
        "$VENV/bin/mypy"
        # Two workers: the suite starts many kernels and CI machines have two cores.
        exec "$VENV/bin/python" -m pytest -n 2 "$@"
        ;;
    *)
        echo "usage: bash run.sh example|test [args...]" >&2
        exit 2
        ;;
esac
