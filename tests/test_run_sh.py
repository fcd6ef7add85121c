"""``bash run.sh`` says what it installs before the wait, once, and is quiet when nothing changed.

pip itself is not run here (a real install takes minutes and the network): ``PYTHON`` names a
stand-in interpreter whose venv holds a stand-in python that records what it was asked to do.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STAND_IN = """#!/usr/bin/env bash
# A python that makes venvs whose python only records its arguments.
if [[ "$1" == "--version" ]]; then echo "Python 3.99.0"; exit 0; fi
if [[ "$1 $2" == "-m venv" ]]; then
    mkdir -p "$3/bin"
    printf '#!/usr/bin/env bash\\necho "$*" >> "%s/calls"\\n' "$3" > "$3/bin/python"
    chmod +x "$3/bin/python"
fi
"""


def run_sh(tmp_path: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    python = tmp_path / "python"
    python.write_text(STAND_IN)
    python.chmod(0o755)
    env = {**os.environ, "PYTHON": str(python), "NBSCRAP_VENV": str(venv)}
    return subprocess.run(
        ["bash", str(ROOT / "run.sh"), "example"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_first_run_says_what_it_installs_and_the_next_says_nothing(tmp_path):
    venv = tmp_path / "venv"
    first = run_sh(tmp_path, venv)
    assert f"creating {venv} with Python 3.99.0" in first.stderr
    assert f"setting up {venv}: installing pytest-nbscrap and its test dependencies" in first.stderr
    assert "the first run takes a few minutes" in first.stderr
    calls = (venv / "calls").read_text().splitlines()
    assert "-m pip install --quiet -e .[test]" in calls
    assert calls[-1] == "example_notebooks/run_workflow.py"
    again = run_sh(tmp_path, venv)
    assert again.stderr == ""
