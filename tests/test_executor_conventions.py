"""Notebooks written for nbclient, papermill, nbmake and nbval run here as they run there.

An error a cell leaves in its outputs fails the run even when the kernel answered "ok"; the
kernelspec name ``python`` runs on ``python3``; nbmake's ``metadata.execution`` and nbval's
skip and raises markers are honoured. Each kernel run here is one fixture notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import code_cell, notebook
from test_executor import kernels_import_this_checkout, scrap_data

from pytest_nbscrap._conventions import CellRule, ExecutionSettings, cell_rule
from pytest_nbscrap._errors import (
    CellExecutionError,
    CellTimeoutError,
    KernelNotFoundError,
    NotebookReadError,
)
from pytest_nbscrap._executor import execute_notebook, prepare
from pytest_nbscrap._kernels import canonical_kernel_name, kernel_spec
from pytest_nbscrap._reader import Notebook, read_notebook

# The autouse fixture that lets kernels import this checkout applies here too.
__all__ = ["kernels_import_this_checkout"]

HERE = Path(__file__).resolve().parent / "notebooks" / "exec"
TRIVIAL = HERE / "trivial.ipynb"


def statuses(nb: Notebook) -> list[str]:
    return [cell.metadata.papermill["status"] for cell in nb.cells]


def write(tmp_path: Path, nb: dict[str, object], name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


# -- an error output fails the cell, whatever the kernel answered (item 2) ----------------------


@pytest.fixture(scope="module")
def hook_failure(tmp_path_factory) -> CellExecutionError:
    output = tmp_path_factory.mktemp("hook") / "post_run_hook.ipynb"
    with pytest.raises(CellExecutionError) as caught:
        execute_notebook(HERE / "post_run_hook.ipynb", output_path=output)
    return caught.value


@pytest.mark.kernel
def test_an_error_left_by_a_post_run_cell_hook_fails_that_cell(hook_failure):
    assert type(hook_failure) is CellExecutionError
    assert (hook_failure.cell_number, hook_failure.ename) == (2, "ZeroDivisionError")
    assert hook_failure.evalue == "division by zero"
    assert "lambda *args: 1 / 0" in hook_failure.plain_traceback
    assert "cell 2 (In [2]) raised ZeroDivisionError: division by zero" in str(hook_failure)


@pytest.mark.kernel
def test_after_an_error_output_later_cells_do_not_run_and_the_cell_is_marked(hook_failure):
    kept = read_notebook(hook_failure.output_path)
    assert scrap_data(kept) == {"before": 1}
    assert statuses(kept) == ["completed", "failed", "pending"]
    assert kept.metadata.papermill["exception"] is True


@pytest.mark.kernel
def test_the_failure_view_shows_the_error_output(hook_failure):
    from pytest_nbscrap.export import failure_summary

    assert (
        failure_summary(hook_failure, color=False) == "ZeroDivisionError: division by zero (cell 2)"
    )


@pytest.mark.kernel
def test_a_drawing_error_of_the_inline_backend_fails_like_nbmakes_magic_error(tmp_path):
    with pytest.raises(CellExecutionError) as caught:
        execute_notebook(HERE / "magic_error.ipynb")
    assert (caught.value.cell_number, caught.value.ename) == (2, "ValueError")
    assert "ParseException" in caught.value.evalue


@pytest.mark.kernel
def test_an_error_output_in_a_cell_that_may_raise_lets_the_run_go_on():
    nb = execute_notebook(HERE / "post_run_hook_allowed.ipynb")
    assert scrap_data(nb) == {"reached": True}
    assert nb.cells[1]["outputs"][-1]["ename"] == "ZeroDivisionError"
    assert statuses(nb) == ["completed"] * 3


# -- kernel names as jupyter_client resolves them (item 5) --------------------------------------


def test_python_is_the_native_kernels_other_name_whatever_the_case():
    assert canonical_kernel_name("python") == "python3"
    assert canonical_kernel_name("Python3") == "python3"
    assert canonical_kernel_name("PYTHON") == "python3"
    assert kernel_spec("python") is not None
    assert prepare(TRIVIAL, kernel_name="Python").kernel_name == "python3"


@pytest.mark.kernel
def test_a_notebook_whose_kernelspec_is_named_python_runs():
    nb = execute_notebook(HERE / "python_kernelspec.ipynb")
    assert scrap_data(nb) == {"ran": True}
    assert nb.metadata.kernelspec["name"] == "python"  # the notebook's own record is kept


# -- who asked for a missing kernel (item 13) ---------------------------------------------------


def test_a_missing_kernel_names_whoever_the_caller_says_asked_for_it():
    with pytest.raises(KernelNotFoundError) as caught:
        prepare(
            TRIVIAL,
            kernel_name="no-such-kernel-nbscrap",
            kernel_requested_by="--nbscrap-kernel",
        )
    assert "(asked for by --nbscrap-kernel)" in str(caught.value)
    assert caught.value.requested_by == "--nbscrap-kernel"


# -- nbval's markers and tags (item 18) ---------------------------------------------------------


def test_nbval_markers_are_whole_comment_lines_anywhere_in_the_cell():
    def rule(source: str, *tags: str) -> CellRule:
        return cell_rule(code_cell(source, metadata={"tags": list(tags)}))

    assert rule("# NBVAL_SKIP\nx = 1") == CellRule(skip=True)
    assert rule("x = 1\n  ## NBVAL_SKIP  ") == CellRule(skip=True)
    assert rule("x = 1  # NBVAL_SKIP") == CellRule()  # not a comment line: nbval ignores it
    assert rule("# NBVAL_SKIP because") == CellRule()
    assert rule("#NBVAL_RAISES_EXCEPTION\n1/0") == CellRule(may_raise=True)
    assert rule("1/0", "nbval-raises-exception") == CellRule(may_raise=True)
    assert rule("1/0", "raises-exception") == CellRule(may_raise=True)
    assert rule("x = 1", "nbval-skip") == CellRule(skip=True)
    assert cell_rule({"source": ["# NBVAL", "_SKIP\n"], "metadata": {"tags": "nbval-skip"}}) == (
        CellRule(skip=True)  # a list source is joined; tags that are not a list are ignored
    )


@pytest.fixture(scope="module")
def nbval_run(tmp_path_factory) -> Notebook:
    output = tmp_path_factory.mktemp("nbval") / "nbval_markers.ipynb"
    return execute_notebook(HERE / "nbval_markers.ipynb", output_path=output)


@pytest.mark.kernel
def test_nbval_skipped_cells_do_not_run_and_keep_their_stored_outputs(nbval_run):
    source = read_notebook(HERE / "nbval_markers.ipynb")
    for index in (1, 2):
        cell = nbval_run.cells[index]
        assert cell["outputs"] == source.cells[index]["outputs"]
        assert cell["execution_count"] == source.cells[index]["execution_count"]
        assert cell.metadata.papermill["status"] == "skipped"


@pytest.mark.kernel
def test_nbval_raises_exception_cells_may_raise_and_the_run_goes_on(nbval_run):
    assert scrap_data(nbval_run) == {"reached": True}
    assert nbval_run.cells[3]["outputs"][-1]["ename"] == "ValueError"
    assert nbval_run.cells[4]["outputs"][-1]["ename"] == "ZeroDivisionError"
    assert statuses(nbval_run)[3:] == ["completed"] * 3
    # Skipped cells are not counted: the kernel's counts follow the cells that ran.
    assert [cell["execution_count"] for cell in nbval_run.cells] == [1, 7, 8, 2, 3, 4]


# -- nbmake's metadata.execution (item 18) ------------------------------------------------------


@pytest.mark.kernel
def test_allow_errors_in_the_notebook_lets_every_cell_raise():
    nb = execute_notebook(HERE / "allow_errors.ipynb")
    assert scrap_data(nb) == {"reached": True}
    assert nb.cells[1]["outputs"][-1]["evalue"] == "allowed by the notebook"
    assert nb.metadata.papermill["exception"] is None


@pytest.fixture(scope="module")
def own_timeout(tmp_path_factory) -> CellTimeoutError:
    output = tmp_path_factory.mktemp("own-timeout") / "own_timeout.ipynb"
    with pytest.raises(CellTimeoutError) as caught:
        execute_notebook(HERE / "own_timeout.ipynb", output_path=output, timeout=600)
    return caught.value


@pytest.mark.kernel
def test_the_notebooks_own_timeout_wins_when_it_is_stricter(own_timeout):
    assert (own_timeout.cell_number, own_timeout.timeout) == (3, 2)
    assert "timed out after 2 s (set by the notebook's metadata.execution.timeout)" in str(
        own_timeout
    )


@pytest.mark.kernel
def test_allow_errors_does_not_let_a_cell_time_out(own_timeout):
    # The allowed error of cell 2 did not stop the run; the timeout of cell 3 did.
    assert scrap_data(own_timeout.notebook) == {"started": True}
    assert statuses(own_timeout.notebook) == ["completed", "completed", "failed", "pending"]


def test_the_stricter_of_the_two_limits_wins():
    assert ExecutionSettings(timeout=5).limit(60) == 5
    assert ExecutionSettings(timeout=60).limit(5) == 5
    assert ExecutionSettings(timeout=60).limit(None) == 60
    assert ExecutionSettings(timeout=60).limit(0) == 60  # 0: no limit given
    assert ExecutionSettings().limit(7) == 7
    assert ExecutionSettings().limit(None) is None


def test_a_caller_limit_stricter_than_the_notebooks_is_the_callers():
    plan = prepare(HERE / "own_timeout.ipynb", timeout=1)
    assert (plan.timeout, plan.timeout_set_by) == (1, None)
    plan = prepare(HERE / "own_timeout.ipynb")
    assert (plan.timeout, plan.allow_errors) == (2, True)


@pytest.mark.parametrize(
    ("execution", "field", "shown"),
    [
        ({"timeout": "60"}, "metadata.execution.timeout", "'60' (str)"),
        ({"timeout": True}, "metadata.execution.timeout", "True (bool)"),
        ({"timeout": [1]}, "metadata.execution.timeout", "[1] (list)"),
        ({"allow_errors": "yes"}, "metadata.execution.allow_errors", "'yes' (str)"),
        ({"allow_errors": 1}, "metadata.execution.allow_errors", "1 (int)"),
        ("fast", "metadata.execution", "'fast' (str)"),
    ],
)
def test_malformed_execution_metadata_names_the_file_and_the_field(
    tmp_path, execution, field, shown
):
    path = write(tmp_path, notebook(code_cell("x = 1"), execution=execution))
    with pytest.raises(NotebookReadError) as caught:
        prepare(path)
    assert str(caught.value).startswith(f"Cannot read notebook {path}: {field} must be")
    assert str(caught.value).endswith(f"not {shown}")
    assert caught.value.path == str(path)


def test_no_limit_in_the_notebook_is_no_limit():
    assert ExecutionSettings.from_metadata("x", {"execution": {"timeout": 0}}).timeout is None
    assert ExecutionSettings.from_metadata("x", {"execution": {"timeout": -1}}).timeout is None
    assert ExecutionSettings.from_metadata("x", {"execution": {}}) == ExecutionSettings()
