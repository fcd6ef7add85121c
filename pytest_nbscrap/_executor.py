"""Running notebooks with parameters on real kernels: ``execute_notebook``.

The notebook is prepared exactly as papermill prepares it (its metadata, the injected
parameters cell after the cell tagged ``parameters``), then run cell by cell with nbclient on a
kernel that :mod:`pytest_nbscrap._kernels` owns, with papermill's per-cell timing and status
recorded as it goes. A failure is captured as a :class:`~._failure.Failure` while the kernel
can still be asked about it; the executed notebook is written, the failure is placed in the run
(paths, the cell's number) and only then is the error built around it.

This and its two private helpers are the only modules that import nbclient, nbformat and
jupyter_client; ``import pytest_nbscrap`` loads none of them.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import os
import re
import threading
import uuid
import warnings
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cache, partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import nbformat as _nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError as NbclientCellError
from nbclient.exceptions import CellTimeoutError as NbclientTimeoutError
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbformat.v4.nbjson import BytesEncoder
from traitlets.log import get_logger

from . import _parameters
from ._conventions import (
    INJECTED_PARAMETERS_TAG,
    PAPERMILL_ERROR_TAG,
    PARAMETERS_TAG,
    SKIP_EXECUTION_TAG,
    ExecutionSettings,
    cell_rule,
    first_tagged,
    is_clean_exit,
)
from ._errors import (
    CellExecutionError,
    CellTimeoutError,
    ExecutionError,
    KernelDiedError,
    KernelNotFoundError,
    ParameterError,
    UnknownParameterWarning,
    UsageError,
)
from ._failure import Failure
from ._kernels import (
    KernelHandle,
    KernelStartError,
    canonical_kernel_name,
    installed_kernels,
    kernel_spec,
    log,
)
from ._pool import DirectKernels, KernelSource
from ._reader import Notebook, read_notebook

__all__ = [
    "async_execute_notebook",
    "execute_notebook",
    "prepare",
    "run_prepared",
    "start_kernel",
]

PathLike = str | os.PathLike[str]
T = TypeVar("T")

# nbformat's functions are unannotated; reached through Any, they are visibly untyped here.
nbformat: Any = _nbformat

STARTUP_TIMEOUT = 60.0
"""Seconds a kernel may take to start and answer (papermill's ``start_timeout``)."""

# nbclient reports a timed-out cell as an error with this name (its ``error_on_timeout``).
_TIMEOUT_ENAME = "pytest_nbscrap.CellTimeout"
# A cell whose output never completed, in the kept notebook and the error.
_LOST_ENAME = "OutputLost"

OUTPUT_WAIT = 600.0
"""Seconds a cell's output may take to arrive after the kernel's reply, when the cell has no
time limit (with one, it gets that long): the run ends only once the kernel says the cell is
done on IOPub (its idle status). A loaded machine reading a big output takes its time; only
output that never completes fails, as lost."""

# What nbclient waits for the rest of a timed-out cell's output, after the interrupt: that
# cell fails anyway, and a kernel deaf to interrupts must not hold the report for long.
_AFTER_INTERRUPT = 4

CHECKPOINT_FIRST = 1.0
CHECKPOINT_MAX = 30.0
"""While a run lasts, the executed-so-far notebook is written to ``output_path`` after
``CHECKPOINT_FIRST`` seconds, then at doubling intervals up to ``CHECKPOINT_MAX``: a process
killed mid-notebook (an xdist worker, the OOM killer) leaves what ran. Short runs write once."""


# -- the public entry points -------------------------------------------------------------------


def execute_notebook(
    path: PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    output_path: PathLike | None = None,
    kernel_name: str | None = None,
    timeout: float | None = None,
    cwd: PathLike | None = None,
) -> Notebook:
    """Runs the notebook at ``path`` with ``parameters`` and returns the executed notebook.

    Parameters are injected as papermill does; values must be JSON values (path objects are
    passed as strings). ``output_path``: where the executed notebook is written (atomically,
    also when a cell fails); the source notebook is never written. ``kernel_name`` overrides
    the notebook's kernelspec. ``timeout``: seconds per cell (None, 0 or less: no limit).
    ``cwd``: the kernel's working directory, by default the notebook's folder.

    Raises :class:`~pytest_nbscrap._errors.CellExecutionError` (or its subclasses
    ``CellTimeoutError`` and ``KernelDiedError``) when a cell fails,
    ``KernelNotFoundError``, ``ParameterError``, ``NotebookReadError`` or ``ExecutionError``
    before or while starting. Warns :class:`UnknownParameterWarning`. The returned
    ``Notebook``'s path is ``output_path`` when given, else ``path``.
    """
    plan = prepare(
        path,
        parameters,
        output_path=output_path,
        kernel_name=kernel_name,
        timeout=timeout,
        cwd=cwd,
        stacklevel=3,  # the warning points at our caller's line
    )
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
) -> Notebook:
    """:func:`execute_notebook` for a running event loop; several may run at once."""
    plan = prepare(
        path,
        parameters,
        output_path=output_path,
        kernel_name=kernel_name,
        timeout=timeout,
        cwd=cwd,
        stacklevel=3,  # the warning points at our caller's line
    )
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


# -- preparing a run (no kernel yet) -----------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Everything decided before a kernel starts; ``nb`` is the notebook that will run."""

    shown_path: str
    source_path: Path
    output_path: Path | None
    nb: NotebookNode
    # For each cell of ``nb``: its index in the source notebook (None for the injected cell).
    origins: tuple[int | None, ...]
    kernel_name: str
    cwd: str
    # Seconds per cell: the stricter of the caller's limit and the notebook's own (nbmake's
    # ``metadata.execution.timeout``); None for none. ``timeout_set_by`` says whose it is.
    timeout: float | None
    timeout_set_by: str | None = None
    # nbclient's allow_errors, from ``metadata.execution``: no error stops the run.
    allow_errors: bool = False

    @classmethod
    def build(
        cls,
        path: PathLike,
        parameters: Mapping[str, Any] | None,
        *,
        output_path: PathLike | None,
        kernel_name: str | None,
        timeout: float | None,
        cwd: PathLike | None,
        stacklevel: int,
        kernel_requested_by: str = "kernel_name",
    ) -> _Plan:
        shown = os.fspath(path)
        source = Path(path).absolute()
        notebook = read_notebook(path)
        # Checked first: everything below reads this metadata as the shapes checked here.
        settings = ExecutionSettings.from_metadata(
            shown, notebook.metadata, notebook.node.get("cells", ())
        )
        nb = _papermill_node(notebook)
        output = _output_target(shown, source, output_path)
        workdir = _working_directory(shown, source, cwd)
        origins = _drop_error_markers(nb)
        name, language = _kernel(shown, nb, kernel_name, kernel_requested_by)
        if parameters:
            values = _parameters.normalized(parameters)
            _check_parameters(shown, values, language)
            origins = _inject(nb, origins, values, name, language)
            _warn_unknown(shown, nb, origins, values, language=language, stacklevel=stacklevel + 1)
        nb.metadata.papermill["input_path"] = str(source)
        nb.metadata.papermill["output_path"] = None if output is None else str(output)
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float))
        ):
            raise UsageError(f"{shown}: timeout must be a number of seconds, not {timeout!r}")
        limit = settings.limit(timeout)
        set_by = (
            f"the notebook's {settings.timeout_key}"
            if limit is not None and limit == settings.timeout and limit != timeout
            else None
        )
        return cls(
            shown, source, output, nb, origins, name, workdir, limit, set_by, settings.allow_errors
        )


def _output_target(shown: str, source: Path, output_path: PathLike | None) -> Path | None:
    if output_path is None:
        return None
    output = Path(output_path).absolute()
    if output.is_dir():
        raise UsageError(
            f"{shown}: output_path {output} is a folder; give the executed notebook's file name"
        )
    if output.exists() and source.exists() and output.samefile(source):
        raise UsageError(
            f"{shown}: output_path is the source notebook itself; executed notebooks are "
            "written elsewhere, the source is never overwritten"
        )
    return output


def _working_directory(shown: str, source: Path, cwd: PathLike | None) -> str:
    folder = Path(cwd).absolute() if cwd is not None else source.parent
    if not folder.is_dir():
        raise UsageError(f"{shown}: the working directory {folder} is not a folder")
    return str(folder)


def _papermill_node(notebook: Notebook) -> NotebookNode:
    """The notebook as nbformat's node, with the fields papermill's loader adds."""
    nb: NotebookNode = nbformat.from_dict(notebook.node)
    if nb.get("nbformat_minor", 0) < 5:
        # Cell ids arrive with 4.5; nbformat adds them, as papermill has it do.
        nb = nbformat.v4.upgrade(nb, from_version=4, from_minor=nb.get("nbformat_minor", 0))
    if nb.metadata.get("papermill") is None:  # absent, or null
        nb.metadata["papermill"] = {
            "default_parameters": {},
            "parameters": {},
            "environment_variables": {},
            "version": _papermill_version(),
        }
    for cell in nb.cells:
        if cell.metadata.get("tags") is None:
            cell.metadata["tags"] = []
        cell.metadata.setdefault("papermill", {})
    return nb


@cache
def _papermill_version() -> str | None:
    try:
        return version("papermill")
    except PackageNotFoundError:  # pragma: no cover - papermill is a dependency
        return None


def _drop_error_markers(nb: NotebookNode) -> tuple[int | None, ...]:
    kept = [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if PAPERMILL_ERROR_TAG not in cell.metadata.tags
    ]
    nb.cells = [cell for _, cell in kept]
    return tuple(index for index, _ in kept)


def _kernel(
    shown: str, nb: NotebookNode, kernel_name: str | None, kernel_requested_by: str
) -> tuple[str, str]:
    """The kernel to run (checked to be installed, named as jupyter_client runs it) and the
    notebook's language. ``kernel_requested_by`` says who gave ``kernel_name``."""
    if kernel_name:
        name, requested_by = kernel_name, kernel_requested_by
    elif (nb.metadata.get("kernelspec") or {}).get("name"):
        name, requested_by = nb.metadata.kernelspec.name, "the notebook's kernelspec"
    else:
        # nbclient's choice too: a notebook without a kernelspec runs on the default kernel.
        name, requested_by = "python3", "default (the notebook has no kernelspec)"
    spec = kernel_spec(name)
    if spec is None:
        raise KernelNotFoundError.from_names(shown, name, installed_kernels(), requested_by)
    language = (
        (nb.metadata.get("language_info") or {}).get("name")
        or (nb.metadata.get("kernelspec") or {}).get("language")
        or spec.language
    )
    return canonical_kernel_name(name), str(language)


def _check_parameters(shown: str, values: Mapping[str, Any], language: str) -> None:
    problem = _parameters.find_problem(values, language)
    if problem is not None:
        raise ParameterError.from_value(shown, problem.name, problem.value, problem.reason)


def _inject(
    nb: NotebookNode,
    origins: tuple[int | None, ...],
    values: dict[str, Any],
    kernel_name: str,
    language: str,
) -> tuple[int | None, ...]:
    """Adds the injected-parameters cell where papermill puts it; returns the new origins."""
    cell = nbformat.v4.new_code_cell(source=_parameters.render(values, kernel_name, language))
    cell.metadata["tags"] = [INJECTED_PARAMETERS_TAG]
    cell.metadata["papermill"] = {}
    injected = first_tagged(nb.cells, INJECTED_PARAMETERS_TAG)
    tagged = first_tagged(nb.cells, PARAMETERS_TAG)
    if injected >= 0:  # a notebook papermill already ran: replace its injected cell
        before, after = injected, injected + 1
    elif tagged >= 0:
        before = after = tagged + 1
    else:
        before = after = 0
    nb.cells = [*nb.cells[:before], cell, *nb.cells[after:]]
    nb.metadata.papermill["parameters"] = values
    return (*origins[:before], None, *origins[after:])


def _warn_unknown(
    shown: str,
    nb: NotebookNode,
    origins: tuple[int | None, ...],
    values: Mapping[str, Any],
    *,
    language: str,
    stacklevel: int,
) -> None:
    """Warns about parameters the parameters cell does not define, as papermill logs them."""
    names = ", ".join(repr(name) for name in values)
    tagged = first_tagged(nb.cells, PARAMETERS_TAG)
    if tagged < 0:
        message = (
            f"{shown} has no cell tagged 'parameters', so its parameters are injected at the "
            f"top of the notebook: {names}"
        )
        warnings.warn(
            UnknownParameterWarning(message, shown, tuple(values), None), stacklevel=stacklevel
        )
        return
    if language not in _parameters.PYTHON_KERNELS:
        return  # papermill can only inspect Python parameters cells
    defined = _parameters.defined_parameters(nb.cells[tagged].source)
    unknown = tuple(name for name in values if defined is not None and name not in defined)
    if defined is None or not unknown:
        return
    number = (origins[tagged] or 0) + 1
    listed = ", ".join(repr(name) for name in defined) or "nothing"
    message = (
        f"{shown}: the parameters cell (cell {number}) does not define "
        f"{', '.join(repr(name) for name in unknown)}; it defines {listed}. "
        "The value is injected anyway"
    )
    warnings.warn(UnknownParameterWarning(message, shown, unknown, defined), stacklevel=stacklevel)


# -- papermill's record of a run (what NotebookExecutionManager writes) ------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _notebook_start(nb: NotebookNode) -> None:
    nb.metadata.papermill.update(
        start_time=_now().isoformat(), end_time=None, duration=None, exception=None
    )
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell_rule(cell).skip:
            cell.execution_count = None
            cell.outputs = []
        cell.metadata.papermill = {
            "exception": None,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "status": "pending",
        }


def _cell_start(cell: NotebookNode) -> None:
    cell.metadata.papermill.update(start_time=_now().isoformat(), status="running", exception=False)


def _cell_failed(nb: NotebookNode, cell: NotebookNode) -> None:
    cell.metadata.papermill.update(exception=True, status="failed")
    nb.metadata.papermill["exception"] = True


def _cell_complete(cell: NotebookNode) -> None:
    record = cell.metadata.papermill
    end = _now()
    record["end_time"] = end.isoformat()
    if record.get("start_time"):
        start = datetime.fromisoformat(record["start_time"])
        record["duration"] = (end - start).total_seconds()
    if record["status"] != "failed":
        record["status"] = "completed"


def _notebook_complete(nb: NotebookNode) -> None:
    record = nb.metadata.papermill
    end = _now()
    record["end_time"] = end.isoformat()
    if record.get("start_time"):
        record["duration"] = (end - datetime.fromisoformat(record["start_time"])).total_seconds()


# -- running -----------------------------------------------------------------------------------


async def start_kernel(kernel_name: str, cwd: str) -> KernelHandle:
    """Starts a kernel the way every execution does (for :mod:`pytest_nbscrap._pool`)."""
    return await KernelHandle.start(kernel_name, cwd, startup_timeout=STARTUP_TIMEOUT)


def prepare(
    path: PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    output_path: PathLike | None = None,
    kernel_name: str | None = None,
    timeout: float | None = None,
    cwd: PathLike | None = None,
    stacklevel: int = 2,
    kernel_requested_by: str = "kernel_name",
) -> _Plan:
    """Everything :func:`execute_notebook` checks before a kernel starts, done now (in the
    caller's thread, so warnings point at the caller); run it with :func:`run_prepared`.

    ``kernel_requested_by`` names whoever chose ``kernel_name``, for the KernelNotFoundError
    (the pytest plugin passes its marker or option)."""
    return _Plan.build(
        path,
        parameters,
        output_path=output_path,
        kernel_name=kernel_name,
        timeout=timeout,
        cwd=cwd,
        stacklevel=stacklevel + 1,
        kernel_requested_by=kernel_requested_by,
    )


async def run_prepared(plan: _Plan, kernels: KernelSource | None = None) -> Notebook:
    """Runs a prepared plan, with kernels from ``kernels`` (a pool) or started directly."""
    return await _execute(plan, kernels)


async def _execute(plan: _Plan, kernels: KernelSource | None = None) -> Notebook:
    nb = plan.nb
    _notebook_start(nb)
    failure: Failure | None = None
    writer = None if plan.output_path is None else _Writer(plan.output_path)
    saver = None if writer is None else asyncio.ensure_future(_checkpoints(nb, writer))
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
        _notebook_complete(nb)
        if writer is not None:
            try:
                writer.final(nb)
            except OSError as exc:  # a full disk must not hide how the run went
                unsaved = exc.strerror or str(exc) or type(exc).__name__

    try:
        failure = await _run_on_kernel(plan, kernels or DirectKernels(start_kernel), keep)
    finally:
        keep()  # the kernel never started: the notebook is still kept, all cells pending
    notebook = Notebook.from_node(_plain(nb), plan.output_path or plan.source_path, copy=False)
    if failure is not None:
        raise _error(plan, notebook, failure, unsaved)
    if unsaved is not None:
        raise ExecutionError.from_unsaved(plan.shown_path, str(plan.output_path), unsaved)
    return notebook


class _Writer:
    """Writes one run's notebook to ``target``: checkpoints now and then, the final one once.

    A checkpoint is written in a thread (validating and dumping the whole notebook takes
    seconds for a big one, which on the event loop would stop the reading of the kernel's
    output), from a snapshot taken on the loop, where nothing changes the notebook meanwhile.
    Once the final notebook is written, no checkpoint still in flight may replace it.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._closed = False

    def checkpoint(self, snapshot: NotebookNode) -> None:
        """In a worker thread: writes ``snapshot`` (which it owns) unless the final is written."""
        _validate(snapshot)
        _write_atomically(_file_chunks(snapshot), self.target, self._publish_checkpoint)

    def final(self, nb: NotebookNode) -> None:
        _validate(nb)
        # A structural copy (the strings are shared): the file's layout changes it.
        _write_atomically(_file_chunks(copy.deepcopy(nb)), self.target, self._publish_final)

    def _publish_checkpoint(self, temporary: Path) -> None:
        with self._lock:
            if self._closed:
                temporary.unlink()
            else:
                temporary.replace(self.target)

    def _publish_final(self, temporary: Path) -> None:
        with self._lock:
            self._closed = True
            temporary.replace(self.target)


async def _checkpoints(nb: NotebookNode, writer: _Writer) -> None:
    """Writes the notebook as it stands, now and then, until cancelled (see CHECKPOINT_FIRST)."""
    delay = CHECKPOINT_FIRST
    while True:
        await asyncio.sleep(delay)
        # A structural copy: the strings (the bulk of a big notebook) are shared, not copied.
        snapshot = copy.deepcopy(nb)
        try:
            await asyncio.to_thread(writer.checkpoint, snapshot)
        except OSError as exc:  # a full disk: the final write says so, with the run's result
            log.warning("checkpoint of %s not written: %s", writer.target, exc)
            return
        delay = min(delay * 2, CHECKPOINT_MAX)


def _interrupted(plan: _Plan) -> str:
    kept = (
        "the executed notebook was not saved (no output_path)"
        if plan.output_path is None
        else f"what ran is kept in {plan.output_path}"
    )
    return f"{plan.shown_path}: interrupted; {kept}"


async def _run_on_kernel(
    plan: _Plan, kernels: KernelSource, keep: Callable[[], None]
) -> Failure | None:
    """Runs the cells; ``keep`` saves the notebook as soon as they end, before the kernel is
    released: stopping a kernel can take seconds on a loaded machine, and a process told to
    exit (Ctrl-C under xdist, whose workers are killed a few seconds later) must have kept
    what ran by then."""
    try:
        handle = await kernels.acquire(plan.kernel_name, plan.cwd)
    except KernelStartError as exc:
        raise ExecutionError.from_kernel_start(
            plan.shown_path, plan.kernel_name, exc.reason, exc.output
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


def _output_wait(limit: float | None) -> int:
    # nbclient's iopub_timeout takes whole seconds.
    return math.ceil(limit if limit is not None else OUTPUT_WAIT)


def _client(plan: _Plan, handle: KernelHandle, replies: list[dict[str, Any]]) -> _Client:
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
            "ename": _TIMEOUT_ENAME,
            "evalue": f"Cell execution timed out after {limit} s",
            "traceback": [],
        },
    )
    client.kc = handle.client
    return client


async def _run_cells(plan: _Plan, handle: KernelHandle) -> Failure | None:
    replies: list[dict[str, Any]] = []
    client = _client(plan, handle, replies)
    if "language_info" in handle.info:
        plan.nb.metadata["language_info"] = handle.info["language_info"]
    for index, cell in enumerate(plan.nb.cells):
        rule = cell_rule(cell, allow_errors=plan.allow_errors)
        if cell.cell_type == "code" and rule.skip:
            cell.metadata.papermill["status"] = _SKIPPED  # its stored outputs stay
            continue
        may_raise = rule.may_raise
        # nbclient reads this for each cell: an error it allows neither raises nor stops the
        # kernel's queue (stop_on_error). Whatever nbclient allows, the reply is judged below.
        client.allow_errors = may_raise
        replies.clear()
        client.expect_cell(plan.timeout)
        _cell_start(cell)
        try:
            count = client.code_cells_executed + 1
            await client.async_execute_cell(cell, index, execution_count=count)
            failure = _judge(cell, index, replies[-1] if replies else None, may_raise)
            if failure is not None:
                return _failed(plan, cell, failure)
        except NbclientCellError as exc:
            if _is_clean_exit(exc):
                return None  # sys.exit(0) ends a notebook early, successfully (papermill's rule)
            return _failed(plan, cell, _cell_error(cell, index, exc))
        except NbclientTimeoutError:
            if client.timed_out:
                return _failed(plan, cell, _timeout(cell, index))
            return _failed(plan, cell, _lost(index, _output_wait(plan.timeout)))
        except (DeadKernelError, asyncio.CancelledError) as exc:
            _cell_failed(plan.nb, cell)
            if isinstance(exc, asyncio.CancelledError) or _cancelling():
                # Ctrl-C under asyncio.run cancels us, and nbclient reports any cancellation
                # as a dead kernel: mark the cell, and let the cancellation go on.
                _note_error(cell, "KeyboardInterrupt", _INTERRUPTED)
                raise asyncio.CancelledError from None
            # nbclient numbers a cell only once it replies; the dead one still ran.
            cell.execution_count = cell.execution_count or client.code_cells_executed
            failure = _death(handle, index)
            # Said in the kept notebook too, which is read long after this error is gone.
            _note_error(cell, failure.ename, failure.evalue, failure.traceback)
            return failure
        finally:
            _cell_complete(cell)
    return None


def _failed(plan: _Plan, cell: NotebookNode, failure: Failure) -> Failure:
    _cell_failed(plan.nb, cell)
    if failure.kind == "timeout":
        failure = replace(
            failure,
            evalue=_timed_out(plan),
            timeout=plan.timeout,
            timeout_set_by=plan.timeout_set_by,
        )
        # Said in the kept notebook too: the interrupt's KeyboardInterrupt alone reads as if
        # someone had pressed Ctrl-C.
        _note_error(cell, failure.ename, failure.evalue)
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
) -> Failure | None:
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
    return _caught(index, output.ename, output.evalue, output.traceback)


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


def _cell_error(cell: NotebookNode, index: int, exc: NbclientCellError) -> Failure:
    if exc.ename == _TIMEOUT_ENAME:
        return _timeout(cell, index)
    output = _error_output(cell)
    return _caught(index, exc.ename, exc.evalue, output.traceback if output is not None else ())


def _caught(index: int, ename: str, evalue: str, traceback: Iterable[str]) -> Failure:
    return Failure(ename, evalue, tuple(traceback), executed_index=index)


def _timeout(cell: NotebookNode, index: int) -> Failure:
    # The interrupt's KeyboardInterrupt traceback shows where the cell was stuck.
    output = _error_output(cell)
    traceback = tuple(output.traceback) if output is not None else ()
    return Failure(CellTimeoutError.__name__, "", traceback, "timeout", executed_index=index)


def _lost(index: int, waited: int) -> Failure:
    evalue = (
        f"the kernel finished this cell, but the rest of its output did not arrive within "
        f"{waited} s; the outputs kept are incomplete"
    )
    return Failure(_LOST_ENAME, evalue, (), "lost", executed_index=index, waited=waited)


def _death(handle: KernelHandle, index: int) -> Failure:
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


def _plain(nb: NotebookNode) -> dict[str, Any]:
    """A plain copy: the result must not change with ``nb`` and must pickle anywhere.

    Its dicts and lists are new (nbformat's nodes become dicts); its strings, the bulk of a big
    notebook, are ``nb``'s own, being immutable: a JSON round trip would hold the notebook
    twice more (the text, then the parsed copy) at the run's peak.
    """
    copied: dict[str, Any] = _plain_value(nb)
    return copied


def _plain_value(value: Any) -> Any:
    if type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, dict) and all(type(key) is str for key in value):
        return {key: _plain_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_value(item) for item in value]
    # Anything else becomes what JSON makes of it (or fails as JSON would), as it always did.
    return json.loads(json.dumps(value))


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _validate(nb: NotebookNode) -> None:
    """Validates as ``nbformat.writes`` does: an invalid notebook is logged, and still written."""
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        get_logger().error("Notebook JSON is invalid: %s", exc)


@dataclass(frozen=True)
class _Lines:
    """A string the file holds as its list of lines (nbformat's ``split_lines``), split lazily."""

    text: str

    def lines(self) -> Iterator[str]:
        # str.splitlines(True), one line at a time: splitting a big output at once copies it.
        return (match[0] for match in _LINE.finditer(self.text) if match[0])


_BREAKS = r"\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines' line boundaries
_LINE = re.compile(rf"[^{_BREAKS}]*(?:\r\n|[{_BREAKS}])?")
# nbformat's v4 mimebundle rule (rwbase._split_mimebundle): text/* and these are split.
_SPLIT_MIMES = frozenset({"application/javascript", "image/svg+xml"})


def _file_chunks(owned: NotebookNode) -> Iterator[str]:
    """The text ``nbformat.writes`` makes of a notebook (the same characters), chunk by chunk.

    ``owned`` is changed on the way (it must be a copy, as nbformat's writer makes one): its
    multi-line strings are marked to be written as lists of lines, and nbformat strips its
    transient fields. Streaming to the file never holds the whole text, nor the split lines.
    """
    for cell in owned.cells:
        if isinstance(cell.get("source"), str):
            cell["source"] = _Lines(cell["source"])
        for attachment in cell.get("attachments", {}).values():
            _split_bundle(attachment)
        if cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type in {"execute_result", "display_data"}:
                    _split_bundle(output.get("data", {}))
                elif output.output_type == "stream" and isinstance(output.text, str):
                    output["text"] = _Lines(output.text)
    return _json_chunks(nbformat.v4.rwbase.strip_transient(owned), 0)


def _split_bundle(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_MIMES):
            data[key] = _Lines(value)


def _json_chunks(value: Any, level: int) -> Iterator[str]:
    """``value`` in nbformat's JSON layout (see _dumps), with ``level`` as its indentation."""
    inner = "\n" + " " * (level + 1)
    if isinstance(value, _Lines):
        separator = "["
        for line in value.lines():
            yield separator + inner
            yield _dumps(line)
            separator = ","
        yield "[]" if separator == "[" else "\n" + " " * level + "]"
    elif isinstance(value, dict) and value and all(type(key) is str for key in value):
        separator = "{"
        for key, item in sorted(value.items()):
            yield separator + inner + _dumps(key) + ": "
            yield from _json_chunks(item, level + 1)
            separator = ","
        yield "\n" + " " * level + "}"
    elif isinstance(value, (list, tuple)) and value:
        separator = "["
        for item in value:
            yield separator + inner
            yield from _json_chunks(item, level + 1)
            separator = ","
        yield "\n" + " " * level + "]"
    else:  # scalars, empty containers, odd keys: json's own text, indented where it nests
        text = _dumps(value)
        yield text.replace("\n", "\n" + " " * level) if level and "\n" in text else text


# nbformat's v4 JSON layout (nbjson.JSONWriter.writes). JSON text holds newlines only between
# its items (never inside a string), so indenting every one nests a dumped value.
_dumps = partial(
    json.dumps,
    cls=BytesEncoder,
    indent=1,
    sort_keys=True,
    separators=(",", ": "),
    ensure_ascii=False,
)


def _write_atomically(chunks: Iterable[str], target: Path, publish: Callable[[Path], None]) -> None:
    """Writes ``chunks`` to a temporary file that ``publish`` renames: ``target`` is never
    seen half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename; "x" mode honours the umask, unlike mkstemp.
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as stream:
            for chunk in chunks:
                stream.write(chunk)
        publish(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _error(
    plan: _Plan, notebook: Notebook, failure: Failure, unsaved: str | None = None
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
