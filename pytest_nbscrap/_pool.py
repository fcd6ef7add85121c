"""Fresh kernels, started before they are needed and stopped after, off the critical path.

Every kernel serves exactly one notebook: the pool never reuses one, it only moves the start
earlier (while the previous notebook still runs) and the shutdown later (while the next one
already runs). That keeps each notebook's outcome exactly what a cold start would give.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from ._kernels import KernelHandle

__all__ = ["DirectKernels", "KernelKey", "KernelPool", "KernelSource"]

#: A kernel is started for a kernel name in a working directory.
KernelKey = tuple[str, str]

StartKernel = Callable[[str, str], Awaitable[KernelHandle]]


class KernelSource(Protocol):
    """Where the executor gets a kernel for a run, and gives it back."""

    async def acquire(self, kernel_name: str, cwd: str) -> KernelHandle: ...

    async def release(self, handle: KernelHandle, *, now: bool) -> None: ...


class DirectKernels:
    """A kernel started when asked for and stopped when given back: no pool (the default)."""

    def __init__(self, start: StartKernel) -> None:
        self._start = start

    async def acquire(self, kernel_name: str, cwd: str) -> KernelHandle:
        return await self._start(kernel_name, cwd)

    async def release(self, handle: KernelHandle, *, now: bool) -> None:
        await handle.shutdown(now=now)


class KernelPool:
    """Keeps up to ``spares`` kernels starting for the runs expected next.

    ``expect(key)`` says what a coming run will need; without a word, the pool expects the
    next run to look like the last one (most suites run one folder of notebooks on one kernel).
    Must be used from one event loop.
    """

    def __init__(self, start: StartKernel, *, spares: int = 1) -> None:
        self._start = start
        self._spares_wanted = spares
        self._spares: dict[KernelKey, deque[asyncio.Task[KernelHandle]]] = {}
        self._expected: deque[KernelKey] = deque()
        self._stopping: set[asyncio.Task[None]] = set()
        self._closed = False

    def expect(self, key: KernelKey) -> None:
        """A run needing ``key`` comes soon: start its kernel if a spare slot is free."""
        self._expected.append(key)
        self._top_up()

    async def acquire(self, kernel_name: str, cwd: str) -> KernelHandle:
        key = (kernel_name, cwd)
        with contextlib.suppress(ValueError):
            self._expected.remove(key)
        task = self._take_spare(key)
        if task is None:
            task = self._launch(key)
        self._top_up(default=key)
        handle = await task
        if handle.exit_code() is not None:  # died while waiting: a fresh one, started now
            self.release_soon(handle, now=True)
            handle = await self._launch(key)
        return handle

    async def release(self, handle: KernelHandle, *, now: bool) -> None:
        self.release_soon(handle, now=now)

    def release_soon(self, handle: KernelHandle, *, now: bool) -> None:
        """Stops ``handle`` in the background; :meth:`close` waits for it."""
        stopping = asyncio.ensure_future(handle.shutdown(now=now))
        self._stopping.add(stopping)
        stopping.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        """Stops every spare and waits for every shutdown: no kernel outlives the pool."""
        self._closed = True
        for tasks in self._spares.values():
            self._discard(tasks)
        self._spares.clear()
        while self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)

    def _launch(self, key: KernelKey) -> asyncio.Task[KernelHandle]:
        return asyncio.ensure_future(self._start(*key))

    def _take_spare(self, key: KernelKey) -> asyncio.Task[KernelHandle] | None:
        tasks = self._spares.get(key)
        while tasks:
            task = tasks.popleft()
            if not (task.done() and (task.cancelled() or task.exception() is not None)):
                return task
        return None

    def _discard(self, tasks: deque[asyncio.Task[KernelHandle]]) -> None:
        for task in tasks:
            stopping = asyncio.ensure_future(self._stop_when_started(task))
            self._stopping.add(stopping)
            stopping.add_done_callback(self._stopping.discard)

    @staticmethod
    async def _stop_when_started(task: asyncio.Task[KernelHandle]) -> None:
        # A kernel still starting is cancelled: KernelHandle.start kills what it launched, at
        # once, where waiting for it to answer first could outlast the process that owns it.
        task.cancel()
        try:
            handle = await task
        except BaseException:  # cancelled or failed: nothing is left running
            return
        await handle.shutdown(now=True)

    def _spare_count(self) -> int:
        return sum(len(tasks) for tasks in self._spares.values())

    def _top_up(self, default: KernelKey | None = None) -> None:
        if self._closed:
            return
        wanted = list(self._expected) or ([default] if default else [])
        for key in [key for key in self._spares if key not in wanted]:
            self._discard(self._spares.pop(key))  # a guess that no run needs
        for key in wanted:
            if self._spare_count() >= self._spares_wanted:
                return
            have = len(self._spares.get(key, ()))
            needed = wanted.count(key)
            if have < needed:
                self._spares.setdefault(key, deque()).append(self._launch(key))
