"""``start_timeout``: how long a run waits for its kernel to start and answer (papermill's)."""

from __future__ import annotations

import contextlib
import os

import psutil
import pytest
from helpers import TAG, tagged, write_code_notebook, write_silent_kernelspec

from pytest_nbscrap import ExecutionSession, execute_notebook
from pytest_nbscrap._errors import ExecutionError, UsageError


@pytest.fixture
def silent(tmp_path, monkeypatch, leftover_kernels) -> str:
    """A kernel that never answers (its process tagged by ``leftover_kernels``)."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return write_silent_kernelspec(tmp_path)


def silent_processes() -> list[psutil.Process]:
    """This test's silent kernels still alive."""
    mine = os.environ[TAG]
    found = []
    for process in tagged(lambda tag: tag == mine):
        with contextlib.suppress(psutil.Error):
            if "time.sleep(120)" in " ".join(process.cmdline()):
                found.append(process)
    return found


@pytest.mark.kernel
def test_a_kernel_that_does_not_answer_in_start_timeout_is_an_execution_error(tmp_path, silent):
    path = write_code_notebook(tmp_path / "nb.ipynb", "1")
    with pytest.raises(ExecutionError) as caught:
        execute_notebook(path, kernel_name=silent, start_timeout=1)
    assert str(caught.value) == (
        f"{path}: kernel 'silent' did not start: TimeoutError: the kernel did not answer within 1 s"
    )
    assert silent_processes() == []


@pytest.mark.kernel
def test_a_sessions_run_waits_for_its_pooled_kernel_no_longer_than_start_timeout(tmp_path, silent):
    path = write_code_notebook(tmp_path / "nb.ipynb", "1")
    with ExecutionSession() as session:
        run = session.submit(path, kernel_name=silent, start_timeout=1)
        with pytest.raises(ExecutionError, match="did not answer within 1 s"):
            run.result(timeout=50)  # the pool's own start limit is 60 s
    assert silent_processes() == []


@pytest.mark.parametrize("value", [0, -1, True, "5"])
def test_start_timeout_must_be_a_positive_number(tmp_path, value):
    path = write_code_notebook(tmp_path / "nb.ipynb", "1")
    with pytest.raises(UsageError, match="start_timeout must be a positive number of seconds"):
        execute_notebook(path, start_timeout=value)
