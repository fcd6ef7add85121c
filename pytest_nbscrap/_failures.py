"""What went wrong in a run, captured while the kernel can still be asked, and the error built
from it once the executed notebook is kept.

:mod:`pytest_nbscrap._executor` runs the cells and calls these at each way a cell can fail: an
error (the kernel's reply, or an error output the kernel answered "ok" for), a time limit run
out, output that never completed, a dead kernel, an interrupted run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

import nbformat as _nbformat
from nbclient.exceptions import CellExecutionError as NbclientCellError
from nbformat import NotebookNode

from ._conventions import is_clean_exit
from ._errors import CellExecutionError, CellTimeoutError, KernelDiedError
from ._kernels import KernelHandle
from ._prepare import RunPlan as _Plan
from ._reader import Notebook
from ._run_record import cell_failed as _cell_failed

__all__ = [
    "_INTERRUPTED",
    "_SKIPPED",
    "_TIMEOUT_ENAME",
    "_Failure",
    "_cancelling",
    "_cell_error",
    "_death",
    "_error",
    "_failed",
    "_is_clean_exit",
    "_judge",
    "_lost",
    "_note_error",
    "_timeout",
]

# nbformat's functions are unannotated; reached through Any, they are visibly untyped here.
nbformat: Any = _nbformat

# nbclient reports a timed-out cell as an error with this name (its ``error_on_timeout``).
_TIMEOUT_ENAME = "pytest_nbscrap.CellTimeout"
# A cell whose output never completed, in the kept notebook and the error.
_LOST_ENAME = "OutputLost"


@dataclass(frozen=True)
class _Failure:
    """What went wrong in which cell, captured while the kernel could still be asked."""

    kind: Literal["error", "timeout", "died", "lost"]
    executed_index: int
    ename: str
    evalue: str
    traceback: tuple[str, ...]
    exit_code: int | None = None
    kernel_output: str = ""
    waited: int = 0  # for "lost": seconds the rest of the output was waited for


def _failed(plan: _Plan, cell: NotebookNode, failure: _Failure) -> _Failure:
    _cell_failed(plan.nb, cell)
    if failure.kind == "timeout":
        # Said in the kept notebook too: the interrupt's KeyboardInterrupt alone reads as if
        # someone had pressed Ctrl-C.
        _note_error(cell, failure.ename, _timed_out(plan))
    elif failure.kind == "lost":
        _note_error(cell, failure.ename, failure.evalue)  # its outputs would read as complete
    return failure


def _timed_out(plan: _Plan) -> str:
    assert plan.timeout is not None  # only a cell with a limit times out
    by = f" (set by {plan.timeout_set_by})" if plan.timeout_set_by else ""
    return f"Cell execution timed out after {plan.timeout:g} s{by}"


# Not one of papermill's statuses (pending, running, completed, failed): the cell was left
# as stored, by nbval's skip marker.
_SKIPPED = "skipped"


def _judge(
    cell: NotebookNode, index: int, reply: dict[str, Any] | None, may_raise: bool
) -> _Failure | None:
    """Whether a cell that nbclient let pass failed after all (nbclient raises only for an
    error *reply*, and only when the cell may not raise).

    A timeout always fails, as under nbmake. A cell the kernel answered "ok" fails when it
    holds an error output all the same (a post_run_cell hook or ``%matplotlib inline``'s
    drawing raised after the code ran): papermill, nbmake and nbval fail those, so do we.
    """
    content = reply.get("content", {}) if reply is not None else {}
    if content.get("status") == "error" and content.get("ename") == _TIMEOUT_ENAME:
        return _timeout(cell, index)
    if may_raise or content.get("status") == "error":
        return None  # an allowed error (nbclient raised for any other)
    output = _error_output(cell, counted=True)
    if output is None:
        return None
    return _Failure("error", index, output.ename, output.evalue, tuple(output.traceback))


def _cancelling() -> bool:
    """Whether the running task is being cancelled (Python 3.11+ can tell)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling is not None and cancelling())


_INTERRUPTED = "the run was interrupted while this cell ran; later cells did not run"


def _note_error(
    cell: NotebookNode, ename: str, evalue: str, traceback: tuple[str, ...] = ()
) -> None:
    """Leaves an error output in a cell whose failure the kernel could not report."""
    cell.setdefault("outputs", []).append(
        nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=list(traceback))
    )


def _is_clean_exit(exc: NbclientCellError | NotebookNode) -> bool:
    return is_clean_exit(exc.ename, exc.evalue)


def _error_output(cell: NotebookNode, *, counted: bool = False) -> NotebookNode | None:
    """The cell's last error output; ``counted``: its first that is a failure (papermill does
    not count a clean ``sys.exit()``)."""
    errors = [output for output in cell.get("outputs", []) if output.output_type == "error"]
    if counted:
        return next((output for output in errors if not _is_clean_exit(output)), None)
    return errors[-1] if errors else None


def _cell_error(cell: NotebookNode, index: int, exc: NbclientCellError) -> _Failure:
    if exc.ename == _TIMEOUT_ENAME:
        return _timeout(cell, index)
    output = _error_output(cell)
    traceback = tuple(output.traceback) if output is not None else ()
    return _Failure("error", index, exc.ename, exc.evalue, traceback)


def _timeout(cell: NotebookNode, index: int) -> _Failure:
    # The interrupt's KeyboardInterrupt traceback shows where the cell was stuck.
    output = _error_output(cell)
    traceback = tuple(output.traceback) if output is not None else ()
    return _Failure("timeout", index, CellTimeoutError.__name__, "", traceback)


def _lost(index: int, waited: int) -> _Failure:
    evalue = (
        f"the kernel finished this cell, but the rest of its output did not arrive within "
        f"{waited} s; the outputs kept are incomplete"
    )
    return _Failure("lost", index, _LOST_ENAME, evalue, (), waited=waited)


def _death(handle: KernelHandle, index: int) -> _Failure:
    said = handle.output()
    code = handle.exit_code()
    lines = tuple(said.splitlines()[-20:])
    evalue = "The kernel died" + (
        f" ({KernelDiedError.describe_exit(code)})" if code is not None else ""
    )
    return _Failure("died", index, KernelDiedError.__name__, evalue, lines, code, said)


def _error(
    plan: _Plan, notebook: Notebook, failure: _Failure, unsaved: str | None = None
) -> CellExecutionError:
    index = failure.executed_index
    cell = notebook.cells[index]
    facts = CellExecutionError.cell_facts(
        path=plan.shown_path,
        output_path=None if plan.output_path is None else str(plan.output_path),
        notebook=notebook,
        cell_index=plan.origins[index],
        executed_index=index,
        execution_count=cell.get("execution_count"),
        source=cell.source,
        ename=failure.ename,
        evalue=failure.evalue,
        traceback=failure.traceback,
        save_error=unsaved,
    )
    if failure.kind == "timeout":
        assert plan.timeout is not None
        facts["evalue"] = _timed_out(plan)
        return CellTimeoutError.from_timeout(facts, plan.timeout, plan.timeout_set_by)
    if failure.kind == "died":
        return KernelDiedError.from_death(facts, failure.exit_code, failure.kernel_output)
    if failure.kind == "lost":
        return CellExecutionError.from_lost_output(facts, failure.waited)
    return CellExecutionError.from_facts(facts)
