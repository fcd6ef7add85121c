"""execute_notebook on a real ipykernel: parameters, files, and every way a run can fail.

Runs are shared through module-scoped fixtures (a kernel start costs about a second), and each
test checks one thing about one of them. After every failure mode, the process table must show
no kernel of ours left behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pickle
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

import pytest_nbscrap
from pytest_nbscrap import _kernels
from pytest_nbscrap._errors import (
    CellExecutionError,
    CellTimeoutError,
    ExecutionError,
    KernelDiedError,
    KernelNotFoundError,
    NbScrapError,
    NotebookReadError,
    ParameterError,
    UnknownParameterWarning,
    UsageError,
)
from pytest_nbscrap._executor import async_execute_notebook, execute_notebook
from pytest_nbscrap._reader import Notebook

HERE = Path(__file__).resolve().parent / "notebooks" / "exec"
PARAMS = HERE / "params.ipynb"
FAILS = HERE / "fails.ipynb"
TRIVIAL = HERE / "trivial.ipynb"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def our_kernels() -> list[psutil.Process]:
    """Kernel processes this test process started that still exist (zombies included)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE or "ipykernel_launcher" in " ".join(
                child.cmdline()
            ):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.fixture(scope="module", autouse=True)
def no_kernels_kept_warm_by_this_session(pytestconfig):
    """Notebooks that earlier test modules ran through this session's own plugin leave its
    kernel pool a warm kernel until the session ends; it is not this module's to find."""
    from pytest_nbscrap._session import NAME

    session = pytestconfig.pluginmanager.get_plugin(NAME)
    if session is not None:
        session.runner.close()


@pytest.fixture(scope="module", autouse=True)
def kernels_import_this_checkout():
    """Kernels are other processes: they import pytest_nbscrap from here, installed or not."""
    root = str(Path(pytest_nbscrap.__file__).resolve().parents[1])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.getenv("PYTHONPATH")])))
        yield


@dataclass(frozen=True)
class Run:
    """One execution: what came back (or what was raised), and where things were written."""

    notebook: Notebook | None
    error: BaseException | None
    output: Path
    seconds: float
    source_hash_before: str
    source_hash_after: str
    warnings: tuple[warnings.WarningMessage, ...] = ()


def run(tmp: Path, source: Path, parameters=None, **options) -> Run:
    output = tmp / "executed" / source.name
    before = sha256(source)
    start = time.monotonic()
    notebook, error = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownParameterWarning)
        try:
            notebook = execute_notebook(source, parameters, output_path=output, **options)
        except NbScrapError as exc:
            error = exc
    seconds = time.monotonic() - start
    return Run(notebook, error, output, seconds, before, sha256(source), tuple(caught))


def scrap_data(notebook: Notebook) -> dict[str, object]:
    return {name: scrap.data for name, scrap in notebook.scraps.items()}


def assert_pickles(error: NbScrapError, *attributes: str) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    for name in attributes:
        assert getattr(copy, name) == getattr(error, name), name


# -- a successful run with parameters ----------------------------------------------------------


@pytest.fixture(scope="module")
def params_run(tmp_path_factory) -> Run:
    return run(tmp_path_factory.mktemp("params"), PARAMS, {"symbol": "XYZ", "days": 5})


@pytest.mark.kernel
def test_parameters_reach_the_kernel(params_run):
    assert params_run.error is None
    assert params_run.notebook is not None
    assert scrap_data(params_run.notebook)["symbol"] == "XYZ"
    assert scrap_data(params_run.notebook)["days"] == 5


@pytest.mark.kernel
def test_parameters_are_recorded_as_papermill_does(params_run):
    assert params_run.notebook is not None
    assert params_run.notebook.parameters == {"symbol": "XYZ", "days": 5}


@pytest.mark.kernel
def test_injected_cell_follows_the_parameters_cell(params_run):
    assert params_run.notebook is not None
    tags = [cell.metadata.get("tags", []) for cell in params_run.notebook.cells]
    assert tags[1] == ["parameters"]
    assert tags[2] == ["injected-parameters"]
    assert params_run.notebook.cells[2].source == '# Parameters\nsymbol = "XYZ"\ndays = 5\n'


@pytest.mark.kernel
def test_cell_timing_and_counts_are_recorded(params_run):
    notebook = params_run.notebook
    assert notebook is not None
    assert notebook.execution_counts == [None, 1, 2, 3, 4]
    timing = notebook.cell_timing
    assert timing[0] is None
    assert all(isinstance(seconds, float) and seconds >= 0 for seconds in timing[1:])
    statuses = {cell.metadata.papermill["status"] for cell in notebook.cells}
    assert statuses == {"completed"}
    assert notebook.metadata.papermill["exception"] is None
    assert notebook.metadata.language_info["name"] == "python"


@pytest.mark.kernel
def test_kernel_runs_in_the_notebooks_folder(params_run):
    assert params_run.notebook is not None
    assert scrap_data(params_run.notebook)["cwd"] == str(HERE)


@pytest.mark.kernel
def test_kernel_talks_over_ipc_on_linux(params_run):
    assert params_run.notebook is not None
    expected = "ipc" if sys.platform.startswith("linux") else "tcp"
    assert scrap_data(params_run.notebook)["transport"] == expected


@pytest.mark.kernel
def test_output_is_written_and_is_what_was_returned(params_run):
    assert params_run.notebook is not None
    written = json.loads(params_run.output.read_text(encoding="utf-8"))
    assert written["metadata"]["papermill"]["parameters"] == {"symbol": "XYZ", "days": 5}
    assert written["metadata"]["papermill"]["output_path"] == str(params_run.output)
    assert params_run.notebook.path == str(params_run.output)
    assert scrap_data(Notebook.from_path(params_run.output)) == scrap_data(params_run.notebook)


@pytest.mark.kernel
@pytest.mark.parametrize("outcome", ["params_run", "failed_run"])
def test_a_run_leaves_no_temporary_file_beside_its_output(outcome, request):
    executed = request.getfixturevalue(outcome)
    assert sorted(path.name for path in executed.output.parent.iterdir()) == [executed.output.name]


@pytest.mark.kernel
@pytest.mark.parametrize("outcome", ["params_run", "failed_run"])
def test_a_run_leaves_the_source_notebook_untouched(outcome, request):
    executed = request.getfixturevalue(outcome)
    assert executed.source_hash_after == executed.source_hash_before


@pytest.mark.kernel
def test_no_kernel_is_left_after_a_run(params_run):
    assert params_run.error is None
    assert our_kernels() == []


@pytest.mark.kernel
def test_without_output_path_nothing_is_written_and_path_is_the_source(tmp_path):
    notebook = execute_notebook(TRIVIAL)
    assert notebook.path == str(TRIVIAL)
    assert notebook.execution_counts == [1]
    assert sorted(HERE.glob(".*.tmp")) == []


# -- cwd, kernel_name, and parameters the notebook does not define ---------------------------


@pytest.fixture(scope="module")
def elsewhere_run(tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("elsewhere")
    return run(folder, PARAMS, {"symbol": "Q", "unheard_of": 1}, cwd=folder)


@pytest.mark.kernel
def test_cwd_chooses_the_working_directory(elsewhere_run):
    assert elsewhere_run.notebook is not None
    assert scrap_data(elsewhere_run.notebook)["cwd"] == str(elsewhere_run.output.parents[1])


@pytest.mark.kernel
def test_unknown_parameter_warns_with_the_defined_names(elsewhere_run):
    [caught] = [w for w in elsewhere_run.warnings if w.category is UnknownParameterWarning]
    warning = caught.message
    assert isinstance(warning, UnknownParameterWarning)
    assert warning.unknown == ("unheard_of",)
    assert warning.defined == ("symbol", "days")
    assert "does not define 'unheard_of'; it defines 'symbol', 'days'" in str(warning)
    assert caught.filename == __file__  # points at the caller of execute_notebook


@pytest.mark.kernel
def test_unknown_parameter_is_injected_anyway(elsewhere_run):
    assert elsewhere_run.notebook is not None
    assert elsewhere_run.notebook.parameters == {"symbol": "Q", "unheard_of": 1}
    assert scrap_data(elsewhere_run.notebook)["symbol"] == "Q"


@pytest.mark.kernel
def test_without_parameters_cell_parameters_go_on_top(tmp_path):
    with pytest.warns(UnknownParameterWarning, match="no cell tagged 'parameters'") as caught:
        notebook = execute_notebook(HERE / "noparams.ipynb", {"value": 7})
    assert caught[0].message.defined is None  # type: ignore[union-attr]
    assert notebook.cells[0].metadata["tags"] == ["injected-parameters"]
    assert scrap_data(notebook)["value"] == 7


@pytest.mark.kernel
def test_kernel_name_overrides_the_kernelspec(tmp_path):
    notebook = execute_notebook(HERE / "nokernel.ipynb", kernel_name="python3")
    assert notebook.execution_counts == [1]


# -- a cell that raises -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory) -> Run:
    return run(tmp_path_factory.mktemp("fails"), FAILS, {"divisor": 0})


@pytest.fixture(scope="module")
def failure(failed_run) -> CellExecutionError:
    assert type(failed_run.error) is CellExecutionError
    return failed_run.error


@pytest.mark.kernel
def test_cell_error_names_the_source_cell_not_the_shifted_one(failure):
    # Source cells: 0 parameters, 1 glue, 2 markdown, 3 divides. The injected cell shifts the
    # executed notebook by one; the error speaks of the source notebook.
    assert failure.cell_index == 3
    assert failure.cell_number == 4
    assert failure.executed_index == 4
    assert failure.notebook.cells[failure.executed_index].source == failure.source


@pytest.mark.kernel
def test_cell_error_carries_the_cells_facts(failure):
    assert failure.execution_count == 4
    assert failure.source == 'print("about to divide")\n1 / divisor'
    assert failure.ename == "ZeroDivisionError"
    assert failure.evalue == "division by zero"
    assert failure.path == str(FAILS)


@pytest.mark.kernel
def test_cell_error_traceback_comes_with_and_without_colour(failure):
    assert any("\x1b[" in line for line in failure.traceback)
    assert "\x1b[" not in failure.plain_traceback
    assert "----> 2 1 / divisor" in failure.plain_traceback
    assert failure.plain_traceback.rstrip().endswith("ZeroDivisionError: division by zero")


@pytest.mark.kernel
def test_cell_error_reads_as_one_paragraph(failed_run, failure):
    assert str(failure) == (
        f"{FAILS}: cell 4 (In [4]) raised ZeroDivisionError: division by zero; "
        f"executed notebook: {failed_run.output}"
    )


@pytest.mark.kernel
def test_scraps_glued_before_the_failure_are_readable(failure):
    assert scrap_data(failure.notebook) == {"before": 42}


@pytest.mark.kernel
def test_failed_notebook_is_written_in_its_failing_state(failed_run, failure):
    written = Notebook.from_path(failed_run.output)
    cell = written.cells[failure.executed_index]
    assert [output["output_type"] for output in cell["outputs"]] == ["stream", "error"]
    assert cell.metadata.papermill["status"] == "failed"
    assert written.metadata.papermill["exception"] is True
    assert written.cells[-1].metadata.papermill["status"] == "pending"
    assert failure.output_path == str(failed_run.output)


@pytest.mark.kernel
def test_cell_error_in_a_plain_script_is_not_chained_to_the_event_loop_lookup(failure):
    # Raised with no event loop running (as in a script): nothing else was being handled.
    assert failure.__context__ is None
    assert failure.__cause__ is None


@pytest.mark.kernel
def test_cell_error_pickles_with_its_facts(failure):
    assert_pickles(
        failure,
        "path",
        "output_path",
        "cell_index",
        "cell_number",
        "executed_index",
        "execution_count",
        "source",
        "ename",
        "evalue",
        "traceback",
        "plain_traceback",
    )
    copy = pickle.loads(pickle.dumps(failure))
    assert scrap_data(copy.notebook) == {"before": 42}


@pytest.mark.kernel
def test_no_kernel_is_left_after_a_cell_error(failed_run):
    assert failed_run.error is not None
    assert our_kernels() == []


# -- tags and exits -----------------------------------------------------------------------------


@pytest.mark.kernel
def test_raises_exception_cells_may_raise_and_skip_execution_cells_are_skipped(tmp_path):
    notebook = execute_notebook(HERE / "tags.ipynb")
    assert scrap_data(notebook) == {"reached": True}
    allowed, skipped = notebook.cells[1], notebook.cells[2]
    assert allowed["outputs"][0]["ename"] == "ValueError"
    assert skipped["outputs"] == []
    assert skipped.get("execution_count") is None


@pytest.mark.kernel
def test_system_exit_zero_ends_the_notebook_successfully(tmp_path):
    notebook = execute_notebook(HERE / "exits.ipynb", {"code": 0})
    assert scrap_data(notebook) == {"before_exit": 1}
    assert notebook.cells[3].metadata.papermill["status"] == "completed"
    assert notebook.cells[4].metadata.papermill["status"] == "pending"


@pytest.mark.kernel
def test_system_exit_with_a_failure_code_is_a_cell_error(tmp_path):
    with pytest.raises(CellExecutionError) as caught:
        execute_notebook(HERE / "exits.ipynb", {"code": 3})
    assert (caught.value.ename, caught.value.evalue) == ("SystemExit", "3")
    assert caught.value.cell_number == 3
    assert our_kernels() == []


# -- timeout ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def timed_out(tmp_path_factory) -> Run:
    return run(tmp_path_factory.mktemp("hangs"), HERE / "hangs.ipynb", timeout=2)


@pytest.mark.kernel
def test_timeout_raises_cell_timeout_error_naming_the_cell(timed_out):
    error = timed_out.error
    assert type(error) is CellTimeoutError
    assert isinstance(error, CellExecutionError)
    assert (error.cell_number, error.execution_count, error.timeout) == (2, 2, 2)
    assert str(error) == (
        f"{HERE / 'hangs.ipynb'}: cell 2 (In [2]) timed out after 2 s; the kernel was "
        f"interrupted and shut down; executed notebook: {timed_out.output}"
    )


@pytest.mark.kernel
def test_timeout_is_called_cell_timeout_error_wherever_it_is_read(timed_out):
    from pytest_nbscrap.export import failure_summary

    error = timed_out.error
    assert isinstance(error, CellTimeoutError)
    said = "Cell execution timed out after 2 s"
    assert (error.ename, error.evalue) == ("CellTimeoutError", said)
    assert failure_summary(error, color=False) == f"CellTimeoutError: {said} (cell 2)"
    # The kept notebook says so after the interrupt's KeyboardInterrupt, read long after.
    kept = Notebook.from_path(timed_out.output).cells[error.executed_index]
    errors = [output for output in kept["outputs"] if output["output_type"] == "error"]
    assert [(output["ename"], output["evalue"]) for output in errors][-1] == (
        "CellTimeoutError",
        said,
    )


@pytest.mark.kernel
def test_timeout_shows_where_the_interrupt_found_the_cell(timed_out):
    error = timed_out.error
    assert isinstance(error, CellTimeoutError)
    assert "----> 1 time.sleep(60)" in error.plain_traceback
    assert scrap_data(error.notebook) == {"started": True}


@pytest.mark.kernel
def test_timeout_does_not_wait_for_the_cell(timed_out):
    assert timed_out.seconds < 30  # the cell sleeps 60 s


@pytest.mark.kernel
def test_timeout_error_pickles(timed_out):
    assert isinstance(timed_out.error, CellTimeoutError)
    assert_pickles(timed_out.error, "timeout", "cell_index", "plain_traceback")


@pytest.mark.kernel
def test_no_kernel_is_left_after_a_timeout(timed_out):
    assert timed_out.error is not None
    assert our_kernels() == []


# -- kernel death -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["exit", "segfault"])
def died(request, tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp(f"dies-{request.param}")
    # A generous timeout: a death must be noticed long before it.
    return run(folder, HERE / "dies.ipynb", {"how": request.param}, timeout=120)


@pytest.mark.kernel
def test_kernel_death_is_reported_promptly_naming_the_cell(died):
    error = died.error
    assert type(error) is KernelDiedError
    assert error.cell_number == 3
    assert "the kernel died" in str(error)
    assert "while running cell 3 (In [4])" in str(error)
    assert died.seconds < 30


@pytest.mark.kernel
def test_kernel_death_says_how_the_process_ended(died):
    error = died.error
    assert isinstance(error, KernelDiedError)
    if error.notebook.parameters["how"] == "exit":
        assert error.exit_code == 3
        assert "(exit status 3)" in str(error)
    else:
        assert error.exit_code == -11
        assert "(killed by SIGSEGV)" in str(error)


@pytest.mark.kernel
def test_kernel_death_is_called_kernel_died_error_wherever_it_is_read(died):
    from pytest_nbscrap.export import failure_summary

    error = died.error
    assert isinstance(error, KernelDiedError)
    assert error.ename == "KernelDiedError"
    assert failure_summary(error, color=False) == f"KernelDiedError: {error.evalue} (cell 3)"
    kept = Notebook.from_path(died.output).cells[error.executed_index]
    assert kept["outputs"][-1]["ename"] == "KernelDiedError"


@pytest.mark.kernel
def test_kernel_death_keeps_what_ran_before(died):
    error = died.error
    assert isinstance(error, KernelDiedError)
    assert scrap_data(error.notebook) == {"alive": True}
    assert Notebook.from_path(died.output).cells[3].metadata.papermill["status"] == "failed"


@pytest.mark.kernel
def test_kernel_death_error_pickles(died):
    assert isinstance(died.error, KernelDiedError)
    assert_pickles(died.error, "exit_code", "kernel_output", "cell_index")


@pytest.mark.kernel
def test_no_kernel_is_left_after_a_kernel_death(died):
    assert died.error is not None
    assert our_kernels() == []


@pytest.mark.kernel
def test_next_execution_works_after_a_failure(died, timed_out, failed_run):
    assert execute_notebook(TRIVIAL).execution_counts == [1]


# -- kernels that are missing or cannot start ---------------------------------------------------


def test_missing_kernel_names_it_and_the_installed_ones():
    with pytest.raises(KernelNotFoundError) as caught:
        execute_notebook(HERE / "nokernel.ipynb")
    error = caught.value
    assert error.kernel_name == "no-such-kernel-nbscrap"
    assert "python3" in error.available
    assert "asked for by the notebook's kernelspec" in str(error)
    assert "kernel_name=NAME (--nbscrap-kernel NAME under pytest)" in str(error)
    assert_pickles(error, "kernel_name", "available", "requested_by")


def test_missing_kernel_given_as_kernel_name_says_so():
    with pytest.raises(KernelNotFoundError, match="asked for by kernel_name"):
        execute_notebook(TRIVIAL, kernel_name="no-such-kernel-nbscrap")


@pytest.fixture
def broken_kernel(tmp_path, monkeypatch) -> str:
    """An installed kernelspec whose process prints a complaint and exits at once."""
    spec = tmp_path / "kernels" / "broken"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", "import sys; print('cannot go on', file=sys.stderr); exit(1)"]
    spec.joinpath("kernel.json").write_text(
        json.dumps(
            {"argv": [*argv, "{connection_file}"], "display_name": "Broken", "language": "python"}
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return "broken"


@pytest.mark.kernel
def test_kernel_that_cannot_start_is_an_execution_error_with_its_output(broken_kernel):
    with pytest.raises(ExecutionError) as caught:
        execute_notebook(TRIVIAL, kernel_name=broken_kernel)
    error = caught.value
    assert type(error) is ExecutionError
    assert str(error).startswith(f"{TRIVIAL}: kernel 'broken' did not start: ")
    assert "the kernel's last output: cannot go on" in str(error)
    assert_pickles(error, "kernel_name", "reason", "kernel_output")
    assert our_kernels() == []


# -- parameters and paths refused before any kernel starts -------------------------------------


def test_unrenderable_parameter_is_refused_before_a_kernel_starts(monkeypatch):
    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(_kernels.KernelHandle, "start", no_kernel)
    with pytest.raises(ParameterError) as caught:
        execute_notebook(PARAMS, {"symbol": {"a", "b"}})
    assert caught.value.name == "symbol"
    assert "symbol is of type set" in str(caught.value)
    assert_pickles(caught.value, "name", "value_repr", "reason")


def test_missing_notebook_is_a_read_error(tmp_path):
    with pytest.raises(NotebookReadError, match="no such file"):
        execute_notebook(tmp_path / "absent" / "absent.ipynb")


def test_output_path_may_not_be_the_source():
    with pytest.raises(UsageError, match="output_path is the source notebook"):
        execute_notebook(TRIVIAL, output_path=TRIVIAL)


def test_cwd_must_be_a_folder(tmp_path):
    with pytest.raises(UsageError, match="is not a folder"):
        execute_notebook(TRIVIAL, cwd=tmp_path / "absent")


# -- the terminal, the event loop, and parallel kernels -----------------------------------------


@pytest.mark.kernel
def test_kernel_chatter_stays_out_of_the_terminal(capfd, monkeypatch):
    # Over TCP ipykernel warns that traffic is not encrypted; none of it may reach the user.
    monkeypatch.setattr(_kernels, "_transport", lambda _workdir: "tcp")
    execute_notebook(TRIVIAL)
    assert capfd.readouterr() == ("", "")


@pytest.mark.kernel
def test_execute_notebook_works_inside_a_running_event_loop():
    async def from_a_coroutine() -> Notebook:
        return execute_notebook(TRIVIAL)

    assert asyncio.run(from_a_coroutine()).execution_counts == [1]


@pytest.mark.kernel
def test_parallel_runs_of_one_notebook_do_not_collide(tmp_path):
    async def both() -> list[Notebook]:
        return await asyncio.gather(
            async_execute_notebook(PARAMS, {"symbol": "A"}, output_path=tmp_path / "a.ipynb"),
            async_execute_notebook(PARAMS, {"symbol": "B"}, output_path=tmp_path / "b.ipynb"),
        )

    first, second = asyncio.run(both())
    assert (scrap_data(first)["symbol"], scrap_data(second)["symbol"]) == ("A", "B")
    assert our_kernels() == []
