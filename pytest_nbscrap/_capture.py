"""What went wrong in a run, captured while the kernel can still be asked, and the error built
from it once the executed notebook is kept.

:mod:`pytest_nbscrap._executor` runs the cells and calls these at each way a cell can fail: an
error (the kernel's reply, or an error output the kernel answered "ok" for), a time limit run
out, output that never completed, a dead kernel, an interrupted run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import nbformat as _nbformat
from nbclient.exceptions import CellExecutionError as NbclientCellError
from nbformat import NotebookNode

from ._conventions import is_clean_exit
from ._errors import CellExecutionError, CellTimeoutError, KernelDiedError
from ._failure import Failure
from ._kernels import KernelHandle
from ._prepare import RunPlan
from ._reader import Notebook
from ._run_record import cell_failed

__all__ = [
    "INTERRUPTED",
    "TIMEOUT_ENAME",
    "cancelling",
    "cell_error",
    "death",
    "error",
    "exited_cleanly",
    "failed",
    "judge",
    "lost",
    "note_error",
    "timeout",
]

# nbformat's functions are unannotated; reached through Any, they are visibly untyped here.
nbformat: Any = _nbformat

# nbclient reports a timed-out cell as an error with this name (its ``error_on_timeout``).
TIMEOUT_ENAME = "pytest_nbscrap.CellTimeout"
# A cell whose output never completed, in the kept notebook and the error.
_LOST_ENAME = "OutputLost"


def failed(plan: RunPlan, cell: NotebookNode, failure: Failure) -> Failure:
    cell_failed(plan.nb, cell)
    if failure.kind == "timeout":
        failure = replace(
            failure,
            evalue=_timed_out(plan),
            timeout=plan.timeout,
            timeout_set_by=plan.timeout_set_by,
        )
        # Said in the kept notebook too: the interrupt's KeyboardInterrupt alone reads as if
        # someone had pressed Ctrl-C.
        note_error(cell, failure.ename, failure.evalue)
    elif failure.kind == "lost":
        note_error(cell, failure.ename, failure.evalue)  # its outputs would read as complete
    return failure


def _timed_out(plan: RunPlan) -> str:
    assert plan.timeout is not None  # only a cell with a limit times out
    by = f" (set by {plan.timeout_set_by})" if plan.timeout_set_by else ""
    return f"Cell execution timed out after {plan.timeout:g} s{by}"


# Not one of papermill's statuses (pending, running, completed, failed): the cell was left
# as stored, by nbval's skip marker.
def judge(
    cell: NotebookNode, index: int, reply: dict[str, Any] | None, may_raise: bool
) -> Failure | None:
    """Whether a cell that nbclient let pass failed after all (nbclient raises only for an
    error *reply*, and only when the cell may not raise).

    A timeout always fails, as under nbmake. A cell the kernel answered "ok" fails when it
    holds an error output all the same (a post_run_cell hook or ``%matplotlib inline``'s
    drawing raised after the code ran): papermill, nbmake and nbval fail those, so do we.
    """
    content = reply.get("content", {}) if reply is not None else {}
    if content.get("status") == "error" and content.get("ename") == TIMEOUT_ENAME:
        return timeout(cell, index)
    if may_raise or content.get("status") == "error":
        return None  # an allowed error (nbclient raised for any other)
    output = _error_output(cell, counted=True)
    if output is None:
        return None
    return _caught(index, output.ename, output.evalue, output.traceback)


def cancelling() -> bool:
    """Whether the running task is being cancelled (Python 3.11+ can tell)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling is not None and cancelling())


INTERRUPTED = "the run was interrupted while this cell ran; later cells did not run"


def note_error(
    cell: NotebookNode, ename: str, evalue: str, traceback: tuple[str, ...] = ()
) -> None:
    """Leaves an error output in a cell whose failure the kernel could not report."""
    cell.setdefault("outputs", []).append(
        nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=list(traceback))
    )


def exited_cleanly(exc: NbclientCellError | NotebookNode) -> bool:
    return is_clean_exit(exc.ename, exc.evalue)


def _error_output(cell: NotebookNode, *, counted: bool = False) -> NotebookNode | None:
    """The cell's last error output; ``counted``: its first that is a failure (papermill does
    not count a clean ``sys.exit()``)."""
    errors = [output for output in cell.get("outputs", []) if output.output_type == "error"]
    if counted:
        return next((output for output in errors if not exited_cleanly(output)), None)
    return errors[-1] if errors else None


def cell_error(cell: NotebookNode, index: int, exc: NbclientCellError) -> Failure:
    if exc.ename == TIMEOUT_ENAME:
        return timeout(cell, index)
    output = _error_output(cell)
    return _caught(index, exc.ename, exc.evalue, output.traceback if output is not None else ())


def _caught(index: int, ename: str, evalue: str, traceback: Iterable[str]) -> Failure:
    return Failure(ename, evalue, tuple(traceback), executed_index=index)


def timeout(cell: NotebookNode, index: int) -> Failure:
    # The interrupt's KeyboardInterrupt traceback shows where the cell was stuck.
    output = _error_output(cell)
    traceback = tuple(output.traceback) if output is not None else ()
    return Failure(CellTimeoutError.__name__, "", traceback, "timeout", executed_index=index)


def lost(index: int, waited: int) -> Failure:
    evalue = (
        f"the kernel finished this cell, but the rest of its output did not arrive within "
        f"{waited} s; the outputs kept are incomplete"
    )
    return Failure(_LOST_ENAME, evalue, (), "lost", executed_index=index, waited=waited)


def death(handle: KernelHandle, index: int) -> Failure:
    said = handle.output()
    code = handle.exit_code()
    lines = tuple(said.splitlines()[-20:])
    evalue = "The kernel died" + (
        f" ({KernelDiedError.describe_exit(code)})" if code is not None else ""
    )
    return Failure(
        KernelDiedError.__name__,
        evalue,
        lines,
        "died",
        executed_index=index,
        exit_code=code,
        kernel_output=said,
    )


# -- results -----------------------------------------------------------------------------------


def error(
    plan: RunPlan, notebook: Notebook, failure: Failure, unsaved: str | None = None
) -> CellExecutionError:
    """The error for a failure captured while the cells ran, placed in the run now that the
    executed notebook is kept (or could not be)."""
    assert failure.executed_index is not None  # every captured failure knows its cell
    cell = notebook.cells[failure.executed_index]
    origin = plan.origins[failure.executed_index]
    count = cell.get("execution_count")
    placed = replace(
        failure,
        cell_number=None if origin is None else origin + 1,
        execution_count=count,
        source=cell.source,
        injected=origin is None,
        path=plan.shown_path,
        output_path=None if plan.output_path is None else str(plan.output_path),
        save_error=unsaved,
    )
    return CellExecutionError.from_failure(placed, notebook)
