"""Hostile or broken input fails its own notebook, with one line, before any kernel starts.

Malformed metadata is a NotebookReadError naming the field (under pytest: that item's failure,
the session goes on); parameter values that pass the JSON check but cannot be written as Python
are a ParameterError; a notebook's own timeout never switches off the caller's; an executed
notebook that cannot be saved (a full disk) is said in one line beside the run's own result.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import KERNELSPEC, code_cells, write_notebook
from test_executor import kernels_import_this_checkout, our_kernels

from pytest_nbscrap._conventions import ExecutionSettings
from pytest_nbscrap._errors import (
    CellExecutionError,
    ExecutionError,
    NotebookReadError,
    ParameterError,
    UsageError,
)
from pytest_nbscrap._executor import execute_notebook, prepare
from pytest_nbscrap._param_sets import safe_name

# The autouse fixture that lets kernels import this checkout applies here too.
__all__ = ["kernels_import_this_checkout"]


def write(path: Path, *sources: str, cell_metadata: Any = None, **metadata: Any) -> Path:
    cells = code_cells(*sources)
    if cell_metadata is not None:
        cells[0]["metadata"] = cell_metadata
    metadata.setdefault("kernelspec", KERNELSPEC)
    return write_notebook(path, *cells, **metadata)


# -- malformed metadata (item 2) ---------------------------------------------------------------

MALFORMED: dict[str, tuple[dict[str, Any], str]] = {
    "nbscrap_timeout_str": ({"nbscrap": {"timeout": "60"}}, "metadata.nbscrap.timeout"),
    "nbscrap_timeout_list": ({"nbscrap": {"timeout": [60]}}, "metadata.nbscrap.timeout"),
    "nbscrap_kernel": ({"nbscrap": {"kernel": 3}}, "metadata.nbscrap.kernel"),
    "kernelspec_name": (
        {"kernelspec": {"name": ["python3"], "display_name": "x"}},
        "metadata.kernelspec.name",
    ),
    "kernelspec_list": ({"kernelspec": ["python3"]}, "metadata.kernelspec must be an object"),
    "language_info": ({"language_info": "python"}, "metadata.language_info must be an object"),
    "papermill": ({"papermill": "yes"}, "metadata.papermill must be an object"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_metadata_is_a_notebook_read_error_naming_the_field(tmp_path, name):
    metadata, field = MALFORMED[name]
    path = write(tmp_path / f"{name}.ipynb", "x = 1", **metadata)
    with pytest.raises(NotebookReadError) as caught:
        prepare(path)
    assert field in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("tags", ["parameters", 5, [1]])
def test_a_cells_tags_that_are_not_a_list_of_strings_are_a_notebook_read_error(tmp_path, tags):
    path = write(tmp_path / "nb.ipynb", "x = 1", cell_metadata={"tags": tags})
    with pytest.raises(NotebookReadError, match=r"cell 1: metadata.tags must be a list"):
        prepare(path)


def test_null_metadata_values_are_absent_values(tmp_path):
    path = write(
        tmp_path / "nb.ipynb",
        "x = 1",
        cell_metadata={"tags": None},
        papermill=None,
        language_info=None,
        nbscrap={"timeout": None, "kernel": None},
    )
    plan = prepare(path)
    assert plan.kernel_name == "python3"
    assert plan.nb.metadata.papermill["parameters"] == {}
    assert plan.nb.cells[0].metadata.tags == []


def test_a_lone_surrogate_still_gives_a_file_name():
    assert safe_name("nb[s=\ud800]").startswith("nb[s=_]-")


def test_a_folder_of_broken_notebooks_fails_each_alone_and_runs_the_good_one(pytester):
    write(pytester.path / "good.ipynb", "x = 1")
    for name, (metadata, _) in MALFORMED.items():
        write(pytester.path / f"{name}.ipynb", "x = 1", **metadata)
    write(pytester.path / "tags.ipynb", "x = 1", cell_metadata={"tags": 5})
    result = pytester.runpytest_subprocess("--nbscrap", "-p", "no:cacheprovider", "-rf")
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    result.assert_outcomes(passed=1, failed=len(MALFORMED) + 1)
    for name, (_, field) in MALFORMED.items():
        result.stdout.fnmatch_lines([f"FAILED {name}.ipynb::{name} - NotebookReadError: *"])
        result.stdout.fnmatch_lines([f"Cannot read notebook *{name}.ipynb: {field}*"])
    result.stdout.fnmatch_lines(["Cannot read notebook *tags.ipynb: cell 1: metadata.tags*"])


def test_a_notebook_timeout_of_null_or_zero_is_no_limit_of_its_own():
    for value in (None, 0):
        settings = ExecutionSettings.from_metadata("nb", {"nbscrap": {"timeout": value}})
        assert settings.limit(300) == 300  # the caller's limit still holds
    stricter = ExecutionSettings.from_metadata(
        "nb", {"nbscrap": {"timeout": 20}, "execution": {"timeout": 30}}
    )
    assert (stricter.limit(300), stricter.timeout_key) == (20, "metadata.nbscrap.timeout")


def test_a_notebooks_own_timeout_is_honoured_by_execute_notebook_and_named(tmp_path):
    path = write(tmp_path / "nb.ipynb", "x = 1", nbscrap={"timeout": 5})
    plan = prepare(path, timeout=60)
    assert (plan.timeout, plan.timeout_set_by) == (5, "the notebook's metadata.nbscrap.timeout")
    assert prepare(path, timeout=2).timeout == 2


# -- parameters that cannot be written as Python (item 11) -------------------------------------


def _nested(depth: int) -> list[Any]:
    outer: list[Any] = []
    inner = outer
    for _ in range(depth - 1):
        inner.append([])
        inner = inner[0]
    return outer


def _huge_int() -> int:
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return int("7" * 5000)
    finally:
        sys.set_int_max_str_digits(limit)


UNWRITABLE: dict[str, tuple[str, Any, str]] = {
    "huge_int": ("n", _huge_int(), "more digits than Python writes"),
    "nested_250": ("n", _nested(250), "nested more than 100 levels deep"),
    "nested_3000": ("n", _nested(3000), "nested more than 100 levels deep"),
    "debug": ("__debug__", 1, "cannot assign to __debug__"),
    "surrogate": ("n", "a\ud800b", "lone surrogate"),
    "surrogate_key": ("n", {"\udcff": 1}, "lone surrogate"),
}


@pytest.mark.parametrize("case", sorted(UNWRITABLE))
def test_unwritable_parameters_are_a_parameter_error_before_any_kernel(tmp_path, case):
    name, value, reason = UNWRITABLE[case]
    path = write(tmp_path / "nb.ipynb", "n = 0", cell_metadata={"tags": ["parameters"]})
    with pytest.raises(ParameterError) as caught:
        prepare(path, {name: value})
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)
    assert our_kernels() == []


def test_an_output_path_that_is_a_folder_is_a_usage_error(tmp_path):
    path = write(tmp_path / "nb.ipynb", "x = 1")
    with pytest.raises(UsageError, match="is a folder"):
        prepare(path, output_path=tmp_path)


# -- a full disk (item 6) ----------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path) -> Iterator[Path]:
    """A 64 KB tmpfs (the tests run as root here): a bigger notebook cannot be written."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


BIG = "print('x' * 200_000)"


@pytest.mark.kernel
def test_a_full_disk_keeps_the_cells_own_error_and_says_the_notebook_was_not_saved(
    tmp_path, full_disk
):
    path = write(tmp_path / "nb.ipynb", BIG, "1 / 0")
    output = full_disk / "out.ipynb"
    with pytest.raises(CellExecutionError) as caught:
        execute_notebook(path, output_path=output)
    error = caught.value
    assert error.ename == "ZeroDivisionError"
    assert error.__context__ is None
    assert error.__cause__ is None
    assert str(error).endswith(
        f"the executed notebook could not be saved to {output}: No space left on device"
    )
    assert error.save_error == "No space left on device"
    assert not output.exists()


@pytest.mark.kernel
def test_a_full_disk_after_a_good_run_is_an_execution_error_naming_the_path(tmp_path, full_disk):
    path = write(tmp_path / "nb.ipynb", BIG)
    output = full_disk / "out.ipynb"
    with pytest.raises(ExecutionError) as caught:
        execute_notebook(path, output_path=output)
    assert type(caught.value) is ExecutionError
    assert str(caught.value) == (
        f"{path}: the notebook ran, but the executed notebook could not be saved to {output}: "
        "No space left on device"
    )
    assert list(full_disk.iterdir()) == []  # no temporary file left behind


@pytest.mark.kernel
def test_a_checkpoint_is_not_left_as_the_result_when_the_final_write_fails(tmp_path, full_disk):
    output = full_disk / "out.ipynb"
    # The first cell waits until a checkpoint (small: it fits) is at the output path, so the
    # race a loaded machine ran into now and then happens every time.
    wait = (
        "import os, time\n"
        f"for _ in range(1200):\n    if os.path.exists({str(output)!r}): break\n"
        "    time.sleep(0.1)\n"
        f"assert os.path.exists({str(output)!r}), 'no checkpoint in 120 s'"
    )
    path = write(tmp_path / "nb.ipynb", wait, BIG)
    with pytest.raises(ExecutionError) as caught:
        execute_notebook(path, output_path=output)
    assert type(caught.value) is ExecutionError
    assert str(caught.value).endswith("No space left on device")
    assert list(full_disk.iterdir()) == []  # the partial run is not read as the result


@pytest.mark.kernel
@pytest.mark.parametrize("value", [None, 0])
def test_a_collected_notebooks_null_or_zero_timeout_keeps_the_sessions(pytester, value):
    write(pytester.path / "slow.ipynb", "import time\ntime.sleep(60)", nbscrap={"timeout": value})
    result = pytester.runpytest_subprocess(
        "--nbscrap", "--nbscrap-timeout=2", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CellTimeoutError*2 s*"])
