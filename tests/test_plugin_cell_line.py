"""Under ``pytest -v`` on a terminal, the running cell of the notebook a test waits for."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import run_on_a_terminal, write_code_notebook

pytestmark = pytest.mark.kernel

SAVE, RESTORE, ERASE = "\x1b7", "\x1b8", "\x1b[K"


def pytest_on_a_terminal(folder: Path, *args: str) -> tuple[int, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "PY_COLORS")}
    command = [sys.executable, "-m", "pytest", "--nbscrap", "-p", "no:cacheprovider", *args]
    return run_on_a_terminal(command, cwd=folder, env={**env, "TERM": "xterm"})


@pytest.fixture
def slow(tmp_path: Path) -> Path:
    # The first cell sleeps so that the test is surely waiting when the second starts: the
    # run is submitted just before the wait begins.
    write_code_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(3)", "x = 1", "y = 2")
    return tmp_path


def test_the_running_cell_is_shown_on_the_tests_line_and_erased_before_its_result(slow):
    status, seen = pytest_on_a_terminal(slow, "-v")
    assert status == 0, seen
    second = seen.index(f"{SAVE}{ERASE} slow.ipynb: cell 2/3{RESTORE}")
    third = seen.index(f"{SAVE}{ERASE} slow.ipynb: cell 3/3{RESTORE}", second)
    erased = seen.index(ERASE, third + len(SAVE) + len(ERASE))
    assert erased < seen.index("PASSED", third)
    assert "slow.ipynb::slow" in seen[:second]  # on the test's own line


def test_without_v_no_cell_is_shown(slow):
    status, seen = pytest_on_a_terminal(slow)
    assert status == 0, seen
    assert "cell 2/3" not in seen
    assert SAVE not in seen
