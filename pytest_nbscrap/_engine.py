"""Executions for a whole test session on one private event loop, overlapped and pooled.

pytest calls in one thread, one item at a time; kernels want an event loop that lives as long
as they do. The engine owns that loop on a thread of its own: the plugin submits runs and waits
for their results, runs overlap up to ``workers`` at once, and kernels come from a
:class:`~pytest_nbscrap._pool.KernelPool` so starting and stopping them happens beside the
notebooks' own work instead of before and after it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._reader import Notebook

if TYPE_CHECKING:
    from ._pool import KernelPool
    from ._prepare import RunPlan

__all__ = ["Engine", "ExecutionSession"]

T = TypeVar("T")

#: Seconds ``close`` still waits for runs to keep their notebooks after a second interrupt.
_GRACE = 5.0


class Engine:
    """Runs prepared notebook executions; ``close`` leaves no kernel and no thread behind."""

    def __init__(self, *, workers: int = 1, spares: int | None = None) -> None:
        self.workers = max(1, workers)
        self._spares = self.workers if spares is None else spares
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: KernelPool | None = None
        self._slots: asyncio.Semaphore | None = None
        self._runs: set[asyncio.Task[Any]] = set()
        self._lock = threading.Lock()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="nbscrap-engine", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
                self._call(self._setup())
            return self._loop

    async def _setup(self) -> None:
        from . import _executor as executor
        from ._pool import KernelPool

        self._pool = KernelPool(executor.start_kernel, spares=self._spares)
        self._slots = asyncio.Semaphore(self.workers)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def submit(self, plan: RunPlan) -> concurrent.futures.Future[Notebook]:
        """Starts running a plan from :func:`executor.prepare`; the future holds the outcome."""
        loop = self._started()
        return asyncio.run_coroutine_threadsafe(self._run(plan), loop)

    async def _run(self, plan: RunPlan) -> Notebook:
        from . import _executor as executor

        assert self._slots is not None
        task = asyncio.current_task()
        assert task is not None
        self._runs.add(task)
        try:
            async with self._slots:
                return await executor.run_prepared(plan, self._pool)
        finally:
            self._runs.discard(task)

    def expect(self, kernel_name: str, cwd: str) -> None:
        """A run on ``kernel_name`` in ``cwd`` is coming: its kernel may start now."""
        loop = self._started()
        assert self._pool is not None
        loop.call_soon_threadsafe(self._pool.expect, (kernel_name, cwd))

    def close(self, timeout: float = 60.0) -> None:
        """Cancels what still runs (its kernel is killed, its notebook kept), stops every kernel,
        and ends the loop thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        shutdown = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            try:
                shutdown.result(timeout)
            except KeyboardInterrupt:
                # A second Ctrl-C, or the SIGINT an xdist worker sends itself when told to
                # exit: the cancelled runs are writing what they ran, which takes a moment.
                # Stopping the loop now would lose it; wait briefly, then give way.
                with contextlib.suppress(BaseException):
                    shutdown.result(_GRACE)
                raise
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()

    async def _shutdown(self) -> None:
        running = list(self._runs)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
        # What asyncio.run does before closing its loop: a cancelled cell leaves nbclient's
        # kernel-alive poll behind, and a loop closed over a pending task complains at exit.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)


class ExecutionSession:
    """Runs many notebooks from a script faster: kernels start ahead, stop in the background,
    and up to ``workers`` notebooks run at once. Every notebook still gets a fresh kernel.

    >>> with ExecutionSession(workers=2) as session:        # doctest: +SKIP
    ...     runs = [session.submit("src.ipynb", {"symbol": s}) for s in ("A", "B")]
    ...     notebooks = [run.result() for run in runs]

    Leaving the ``with`` block stops every kernel it started.
    """

    def __init__(self, *, workers: int = 1) -> None:
        self._engine = Engine(workers=workers)

    def submit(
        self,
        path: str | os.PathLike[str],
        parameters: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> concurrent.futures.Future[Notebook]:
        """Starts a run (options as :func:`execute_notebook`'s); its future holds the
        ``Notebook`` or raises what :func:`execute_notebook` would."""
        from ._executor import prepare

        plan = prepare(path, parameters, stacklevel=3, **options)
        self._engine.expect(plan.kernel_name, plan.cwd)
        return self._engine.submit(plan)

    def execute(
        self,
        path: str | os.PathLike[str],
        parameters: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Notebook:
        """:func:`execute_notebook`, on this session's kernels."""
        return self.submit(path, parameters, **options).result()

    def close(self) -> None:
        self._engine.close()

    def __enter__(self) -> ExecutionSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
