"""Running notebooks with parameters on real kernels: ``execute_notebook``.

A run is prepared exactly as papermill prepares it (:mod:`pytest_nbscrap._prepare`), then run
here cell by cell with nbclient on a kernel that :mod:`pytest_nbscrap._kernels` owns, with
papermill's per-cell timing and status recorded as it goes (:mod:`pytest_nbscrap._run_record`).
A failure is first captured (:mod:`pytest_nbscrap._capture`) while the kernel can still be
asked about it, the executed notebook is written (:mod:`pytest_nbscrap._notebook_file`), and
only then is the error built.

This module and those it runs with are the only ones that import nbclient, nbformat and
jupyter_client; ``import pytest_nbscrap`` loads none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import sys
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError as NbclientCellError
from nbclient.exceptions import CellTimeoutError as NbclientTimeoutError
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from ._capture import (
    INTERRUPTED,
    TIMEOUT_ENAME,
    cancelling,
    cell_error,
    death,
    error,
    exited_cleanly,
    failed,
    judge,
    lost,
    note_error,
    timeout,
)
from ._conventions import SKIP_EXECUTION_TAG, cell_rule
from ._errors import ExecutionError
from ._failure import Failure
from ._kernels import KernelHandle, KernelStartError, log
from ._notebook_file import Writer, plain, write_checkpoints
from ._pool import DirectKernels, KernelSource
from ._prepare import STARTUP_TIMEOUT, CellProgress, PathLike, RunOptions, RunPlan, prepare
from ._reader import Notebook
from ._run_record import (
    cell_complete,
    cell_failed,
    cell_skipped,
    cell_start,
    notebook_complete,
    notebook_start,
)
from ._text import sanitize

__all__ = [
    "async_execute_notebook",
    "execute_notebook",
    "prepare",
    "run_prepared",
    "start_kernel",
]

T = TypeVar("T")

OUTPUT_WAIT = 600.0
"""Seconds a cell's output may take to arrive after the kernel's reply, when the cell has no
time limit (with one, it gets that long): the run ends only once the kernel says the cell is
done on IOPub (its idle status). A loaded machine reading a big output takes its time; only
output that never completes fails, as lost."""

# What nbclient waits for the rest of a timed-out cell's output, after the interrupt: that
# cell fails anyway, and a kernel deaf to interrupts must not hold the report for long.
_AFTER_INTERRUPT = 4


# -- the public entry points -------------------------------------------------------------------


def execute_notebook(
    path: PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    output_path: PathLike | None = None,
    kernel_name: str | None = None,
    timeout: float | None = None,
    cwd: PathLike | None = None,
    start_timeout: float = STARTUP_TIMEOUT,
    progress: CellProgress | None = None,
    log_output: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Notebook:
    """Runs the notebook at ``path`` with ``parameters`` and returns the executed notebook.

    Parameters are injected as papermill does; values must be JSON values (path objects are
    passed as strings). ``output_path``: where the executed notebook is written (atomically,
    also when a cell fails); the source notebook is never written. ``kernel_name`` overrides
    the notebook's kernelspec. ``timeout``: seconds per cell (None, 0 or less: no limit).
    ``cwd``: the kernel's working directory, by default the notebook's folder.
    ``start_timeout``: seconds the kernel may take to start and answer (papermill's).
    ``progress`` is called with ``(cells done, cells in all)`` as the run starts and after each
    cell. ``log_output``: each cell's output is written to stderr as it arrives, between
    papermill's ``Executing Cell N`` and ``Ending Cell N`` lines (papermill's ``log_output``).

    ``path`` and ``output_path`` may be URLs (``s3://bucket/run.ipynb``, ``gs://``, ``az://``,
    ``https://`` to read), through fsspec; ``storage_options`` go to the store's client. An
    output URL is uploaded whole once the run ends (also when a cell fails), never per cell;
    a notebook read from a URL runs in the current directory unless ``cwd`` is given.

    Raises :class:`~pytest_nbscrap._errors.CellExecutionError` (or its subclasses
    ``CellTimeoutError`` and ``KernelDiedError``) when a cell fails,
    ``KernelNotFoundError``, ``ParameterError``, ``NotebookReadError`` or ``ExecutionError``
    before or while starting. Warns :class:`UnknownParameterWarning`. The returned
    ``Notebook``'s path is ``output_path`` when given, else ``path``.
    """
    options = RunOptions.given(locals())
    plan = RunPlan.build(path, parameters, options, stacklevel=3)  # warnings: our caller's line
    try:
        return _run_sync(_execute(plan))
    except KeyboardInterrupt:
        # asyncio.run turns Ctrl-C into a bare KeyboardInterrupt; say what was kept.
        raise KeyboardInterrupt(_interrupted(plan)) from None


async def async_execute_notebook(
    path: PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    output_path: PathLike | None = None,
    kernel_name: str | None = None,
    timeout: float | None = None,
    cwd: PathLike | None = None,
    start_timeout: float = STARTUP_TIMEOUT,
    progress: CellProgress | None = None,
    log_output: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Notebook:
    """:func:`execute_notebook` for a running event loop; several may run at once."""
    options = RunOptions.given(locals())
    plan = RunPlan.build(path, parameters, options, stacklevel=3)  # warnings: our caller's line
    return await _execute(plan)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    # Decided before running, not inside the ``except RuntimeError``: anything the run
    # raises there would be chained to the unrelated "no running event loop".
    if not _loop_running():
        return asyncio.run(coroutine)
    # A loop already runs in this thread (a notebook, an async app): ours gets a thread.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nbscrap") as pool:
        return pool.submit(asyncio.run, coroutine).result()


# -- running -----------------------------------------------------------------------------------


async def start_kernel(
    kernel_name: str, cwd: str, start_timeout: float = STARTUP_TIMEOUT
) -> KernelHandle:
    """Starts a kernel the way every execution does (for :mod:`pytest_nbscrap._pool`)."""
    return await KernelHandle.start(kernel_name, cwd, startup_timeout=start_timeout)


async def run_prepared(plan: RunPlan, kernels: KernelSource | None = None) -> Notebook:
    """Runs a prepared plan, with kernels from ``kernels`` (a pool) or started directly."""
    return await _execute(plan, kernels)


async def _execute(plan: RunPlan, kernels: KernelSource | None = None) -> Notebook:
    nb = plan.nb
    notebook_start(nb)
    failure: Failure | None = None
    writer = None if plan.output_path is None else Writer(plan.output_path, plan.storage_options)
    # An upload per checkpoint would cost a request each: a URL gets the final notebook only.
    saver = (
        None
        if writer is None or writer.remote
        else asyncio.ensure_future(write_checkpoints(nb, writer))
    )
    kept = False
    unsaved: str | None = None  # why the executed notebook could not be written

    def keep() -> None:
        """Completes papermill's record and writes the executed notebook, once."""
        nonlocal kept, unsaved
        if kept:
            return
        kept = True
        if saver is not None:
            saver.cancel()
        notebook_complete(nb)
        if writer is not None:
            try:
                writer.final(nb)
            except OSError as exc:  # a full disk must not hide how the run went
                # A StorageError's reason is the store's answer, without the URL said twice.
                said = getattr(exc, "reason", None) or exc.strerror
                unsaved = said or str(exc) or type(exc).__name__

    try:
        direct = DirectKernels(functools.partial(start_kernel, start_timeout=plan.start_timeout))
        failure = await _run_on_kernel(plan, kernels or direct, keep)
    finally:
        keep()  # the kernel never started: the notebook is still kept, all cells pending
    notebook = Notebook.from_node(plain(nb), plan.output_path or plan.source_path, copy=False)
    if failure is not None:
        raise error(plan, notebook, failure, unsaved)
    if unsaved is not None:
        raise ExecutionError.from_unsaved(plan.shown_path, str(plan.output_path), unsaved)
    return notebook


def _interrupted(plan: RunPlan) -> str:
    kept = (
        "the executed notebook was not saved (no output_path)"
        if plan.output_path is None
        else f"what ran is kept in {plan.output_path}"
    )
    return f"{plan.shown_path}: interrupted; {kept}"


async def _run_on_kernel(
    plan: RunPlan, kernels: KernelSource, keep: Callable[[], None]
) -> Failure | None:
    """Runs the cells; ``keep`` saves the notebook as soon as they end, before the kernel is
    released: stopping a kernel can take seconds on a loaded machine, and a process told to
    exit (Ctrl-C under xdist, whose workers are killed a few seconds later) must have kept
    what ran by then."""
    try:
        # A direct start is bounded by start_timeout already, and says what the kernel printed.
        # A pool's kernel started earlier, on the pool's terms: the run waits for it no longer
        # than its own start_timeout.
        limit = None if isinstance(kernels, DirectKernels) else plan.start_timeout
        handle = await asyncio.wait_for(kernels.acquire(plan.kernel_name, plan.cwd), limit)
    except KernelStartError as exc:
        raise ExecutionError.from_kernel_start(
            plan.shown_path, plan.kernel_name, exc.reason, exc.output
        ) from None
    except asyncio.TimeoutError:
        raise ExecutionError.from_kernel_start(
            plan.shown_path,
            plan.kernel_name,
            f"TimeoutError: the kernel did not answer within {plan.start_timeout:g} s",
        ) from None
    succeeded = False
    try:
        failure = await _run_cells(plan, handle)
        succeeded = failure is None
    finally:
        try:
            keep()
        finally:
            # A good run's kernel gets a polite shutdown, as with papermill: atexit hooks may
            # still flush files. After a failure or a cancellation (Ctrl-C) it may be busy or
            # broken, and holds nothing worth waiting for.
            await kernels.release(handle, now=not succeeded)
    return failure


class _Client(NotebookClient):
    """nbclient's client, told when a cell's time limit ran out.

    After each execute reply nbclient waits ``iopub_timeout`` for the rest of the cell's
    output, up to the kernel's idle status; we make that wait long and an error (never "log
    and move on" with part of the output), except after a timeout's interrupt, when the
    cell fails anyway: then the old short wait, best effort.
    """

    timed_out = False
    output_log: _OutputLog | None = None

    def process_message(
        self, msg: dict[str, Any], cell: NotebookNode, cell_index: int
    ) -> NotebookNode | None:
        output: NotebookNode | None = super().process_message(msg, cell, cell_index)
        if output is not None and self.output_log is not None:
            self.output_log.output(output)  # as it arrives, as papermill's log_output does
        return output

    async def _async_handle_timeout(
        self, timeout: int, cell: NotebookNode | None = None
    ) -> dict[str, Any] | None:
        self.timed_out = True
        self.iopub_timeout = _AFTER_INTERRUPT
        self.raise_on_iopub_timeout = False
        reply: dict[str, Any] | None = await super()._async_handle_timeout(timeout, cell)
        return reply

    def expect_cell(self, limit: float | None) -> None:
        """Before each cell: its output may take as long as the cell may (OUTPUT_WAIT when
        it has no limit) to arrive after the reply; if it does not, that is an error."""
        self.timed_out = False
        self.iopub_timeout = _output_wait(limit)
        self.raise_on_iopub_timeout = True


class _OutputLog:
    """papermill's ``log_output``: each cell's output on stderr, framed by papermill's lines."""

    def __init__(self) -> None:
        self._at_line_start = True

    def _write(self, text: str) -> None:
        # The notebook's own text, on someone's terminal: colours stay, other controls go.
        text = sanitize(text, keep_color=True)
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()
            self._at_line_start = text.endswith("\n")

    def _line(self, text: str) -> None:
        self._write(("" if self._at_line_start else "\n") + text + "\n")

    def start(self, index: int) -> None:
        self._line(f"Executing Cell {index + 1:-<40}")

    def end(self, index: int) -> None:
        self._line(f"Ending Cell {index + 1:-<43}")

    def output(self, output: NotebookNode) -> None:
        if output.get("output_type") == "stream":
            self._write(str(output.get("text", "")))
        elif "text/plain" in (output.get("data") or {}):
            self._line(str(output["data"]["text/plain"]))


def _output_wait(limit: float | None) -> int:
    # nbclient's iopub_timeout takes whole seconds.
    return math.ceil(limit if limit is not None else OUTPUT_WAIT)


def _client(plan: RunPlan, handle: KernelHandle, replies: list[dict[str, Any]]) -> _Client:
    """nbclient's client on our kernel; each cell's execute_reply is appended to ``replies``."""
    limit = plan.timeout

    def keep_reply(*, execute_reply: dict[str, Any], **_: Any) -> None:
        replies.append(execute_reply)

    client = _Client(
        plan.nb,
        km=handle.manager,
        kernel_name=plan.kernel_name,
        log=log,
        startup_timeout=int(STARTUP_TIMEOUT),
        skip_cells_with_tag=SKIP_EXECUTION_TAG,
        on_cell_executed=keep_reply,
        # timeout_func, not timeout: nbclient's timeout trait takes whole seconds only.
        timeout_func=lambda _cell: limit,
        # On a timeout nbclient interrupts the kernel, collects where the cell was, and
        # reports this error, which we turn into CellTimeoutError.
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": TIMEOUT_ENAME,
            "evalue": f"Cell execution timed out after {limit} s",
            "traceback": [],
        },
    )
    client.kc = handle.client
    client.output_log = _OutputLog() if plan.log_output else None
    return client


async def _run_cells(plan: RunPlan, handle: KernelHandle) -> Failure | None:
    replies: list[dict[str, Any]] = []
    client = _client(plan, handle, replies)
    if "language_info" in handle.info:
        plan.nb.metadata["language_info"] = handle.info["language_info"]
    cells = len(plan.nb.cells)
    if plan.progress is not None:
        plan.progress(0, cells)
    for index, cell in enumerate(plan.nb.cells):
        with _told(plan, client.output_log, index, cells):
            rule = cell_rule(cell, allow_errors=plan.allow_errors)
            if cell.cell_type == "code" and rule.skip:
                cell_skipped(cell)  # its stored outputs stay
                continue
            may_raise = rule.may_raise
            # nbclient reads this for each cell: an error it allows neither raises nor stops
            # the kernel's queue (stop_on_error). Whatever nbclient allows, the reply is judged.
            client.allow_errors = may_raise
            replies.clear()
            client.expect_cell(plan.timeout)
            cell_start(cell)
            try:
                count = client.code_cells_executed + 1
                await client.async_execute_cell(cell, index, execution_count=count)
                failure = judge(cell, index, replies[-1] if replies else None, may_raise)
                if failure is not None:
                    return failed(plan, cell, failure)
            except NbclientCellError as exc:
                if exited_cleanly(exc):
                    return None  # sys.exit(0) ends a notebook early, successfully (papermill)
                return failed(plan, cell, cell_error(cell, index, exc))
            except NbclientTimeoutError:
                if client.timed_out:
                    return failed(plan, cell, timeout(cell, index))
                return failed(plan, cell, lost(index, _output_wait(plan.timeout)))
            except (DeadKernelError, asyncio.CancelledError) as exc:
                cell_failed(plan.nb, cell)
                if isinstance(exc, asyncio.CancelledError) or cancelling():
                    # Ctrl-C under asyncio.run cancels us, and nbclient reports any
                    # cancellation as a dead kernel: mark the cell, let the cancellation go on.
                    note_error(cell, "KeyboardInterrupt", INTERRUPTED)
                    raise asyncio.CancelledError from None
                # nbclient numbers a cell only once it replies; the dead one still ran.
                cell.execution_count = cell.execution_count or client.code_cells_executed
                failure = death(handle, index)
                # Said in the kept notebook too, which is read long after this error is gone.
                note_error(cell, failure.ename, failure.evalue, failure.traceback)
                return failure
            finally:
                cell_complete(cell)
    return None


@contextlib.contextmanager
def _told(plan: RunPlan, log: _OutputLog | None, index: int, cells: int) -> Iterator[None]:
    """Around one cell: papermill's log lines, and the progress once it is done (failed too)."""
    if log is not None:
        log.start(index)
    try:
        yield
    finally:
        if log is not None:
            log.end(index)
        if plan.progress is not None:
            plan.progress(index + 1, cells)
