"""Starting and stopping Jupyter kernels: the one place that owns a kernel process.

Everything about a kernel's life is here so that a pool (or an asynchronous shutdown off the
critical path) can replace :class:`KernelHandle` without touching the executor. Kernels talk
over IPC sockets on Linux: no TCP port is picked, so parallel pytest-xdist workers cannot race
for one, and no plain-text traffic crosses the network stack. Whatever the kernel process
writes outside the notebook (ipykernel's warnings, a fatal-error report) goes to a private log
file, never to the user's terminal; :meth:`KernelHandle.output` reads it back for error reports.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import IO, Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel, major_protocol_version
from jupyter_client.kernelspec import (
    NATIVE_KERNEL_NAME,
    KernelSpec,
    KernelSpecManager,
    NoSuchKernel,
)
from jupyter_client.manager import AsyncKernelManager

from . import _coverage

__all__ = [
    "KernelHandle",
    "KernelStartError",
    "canonical_kernel_name",
    "installed_kernels",
    "kernel_spec",
]

log = logging.getLogger("pytest_nbscrap.kernel")
# Our errors carry the facts; these records are for whoever turns logging on, not stderr.
log.addHandler(logging.NullHandler())

# AF_UNIX socket paths are limited to 108 bytes on Linux; we need room for "-ipc-N".
_MAX_IPC_PREFIX = 90
# Over TCP, ports are found free, then bound by the kernel a moment later: another process (a
# parallel kernel, an xdist worker's) may take one in between, and the kernel dies saying so.
_PORT_TAKEN = "Address already in use"
_START_ATTEMPTS = 3
# nbclient's reasoning holds: a history file per kernel is slow and races under xdist.
_HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"
# How long a kernel asked to shut down may take before SIGTERM (SIGKILL after twice that).
# A kernel exits within a few tenths of a second, but ipykernel's control thread sometimes
# hangs on its way out (posit-dev/positron#7142), a few runs in a hundred here; jupyter_client's
# default waits 2.5 s for it. A second still leaves atexit hooks time to flush files.
_POLITE_EXIT_SECONDS = 1.0


class KernelStartError(Exception):
    """A kernel process could not be started or did not answer; the executor reports it."""

    def __init__(self, reason: str, output: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.output = output


# jupyter_client's rule for kernel names; it logs any other name as given, and a notebook's
# kernelspec may hold anything (terminal escapes included).
_KERNEL_NAME = re.compile(r"[a-z0-9._\-]+", re.IGNORECASE)


# jupyter_client's KernelManager runs the name "python" on the native kernel (its
# ``_kernel_name_changed``), and KernelSpecManager finds a kernelspec whatever the case of its
# name; nbclient, papermill and nbmake inherit both, so a notebook saved with kernelspec
# "python" (nbval's default name) runs on python3 there, and here.
_ALIASES = {"python": NATIVE_KERNEL_NAME}


def canonical_kernel_name(name: str) -> str:
    """The name jupyter_client runs for ``name``: lower case, ``python`` as ``python3``.

    One kernel has one name here, so the pool shares kernels between both spellings.
    """
    lowered = name.lower()
    return _ALIASES.get(lowered, lowered)


def kernel_spec(name: str) -> KernelSpec | None:
    """The installed kernelspec that jupyter_client would run for ``name``, or None."""
    if not _KERNEL_NAME.fullmatch(name):
        return None
    try:
        spec: KernelSpec = KernelSpecManager().get_kernel_spec(canonical_kernel_name(name))
    except NoSuchKernel:
        return None
    return spec


def installed_kernels() -> tuple[str, ...]:
    return tuple(sorted(KernelSpecManager().find_kernel_specs()))


async def _message_about(
    channel: AsyncZMQSocketChannel, request: str, *, wait: float
) -> dict[str, Any] | None:
    """The first message on ``channel`` whose parent is ``request``, if one comes within
    ``wait`` seconds (others are skipped)."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        try:
            message: dict[str, Any] = await channel.get_msg(timeout=left)
        except Empty:
            return None
        if message["parent_header"].get("msg_id") == request:
            return message
    return None


def _adapt_protocol(client: AsyncKernelClient, reply: dict[str, Any]) -> None:
    # What KernelClient._handle_kernel_info_reply does: speak an older kernel's protocol.
    major = int(reply["content"]["protocol_version"].split(".")[0])
    if major != major_protocol_version:
        client.session.adapt_version = major


@dataclass(frozen=True)
class _Workdir:
    """A private (0700) folder for one kernel's connection file, IPC sockets and output log."""

    path: Path

    @classmethod
    def create(cls) -> _Workdir:
        return cls(Path(tempfile.mkdtemp(prefix="nbscrap-")))

    @property
    def connection_file(self) -> str:
        return str(self.path / "kernel.json")

    @property
    def log_file(self) -> Path:
        return self.path / "kernel.log"

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _transport(workdir: _Workdir) -> str:
    # jupyter_client names the sockets after the connection file: kernel-ipc-1, ...
    prefix = str(workdir.path / "kernel-ipc")
    if sys.platform.startswith("linux") and len(prefix) <= _MAX_IPC_PREFIX:
        return "ipc"
    return "tcp"


class KernelHandle:
    """One running kernel: its manager, a connected client, and the private files it uses.

    Start it with :meth:`start`, stop it with :meth:`shutdown` (idempotent; it always leaves
    no process and no files behind).
    """

    def __init__(self, manager: AsyncKernelManager, workdir: _Workdir, output: IO[bytes]) -> None:
        self.manager = manager
        self.client: AsyncKernelClient | None = None
        # The kernel_info_reply content the kernel answered with (its language_info, ...).
        self.info: dict[str, Any] = {}
        self._workdir = workdir
        self._output = output
        self._stopped = False
        # The kernel's process group (jupyter_client starts each kernel in a session of its
        # own): what the notebook started belongs to it.
        self._group: int | None = None
        # Set when this process is measured by coverage: the kernel measures itself too.
        self.coverage: _coverage.KernelCoverage | None = None

    @classmethod
    async def start(cls, kernel_name: str, cwd: str, *, startup_timeout: float) -> KernelHandle:
        """Starts ``kernel_name`` in ``cwd`` and waits until it answers.

        Raises :class:`KernelStartError` (with the kernel's own output) when it cannot. A start
        that lost a TCP port to another process is tried again, on new ports.
        """
        attempt = 1
        while True:
            try:
                return await cls._start_once(kernel_name, cwd, startup_timeout)
            except KernelStartError as exc:
                if attempt >= _START_ATTEMPTS or _PORT_TAKEN not in exc.output:
                    raise
                log.warning("kernel %s lost a port to another process; starting again", kernel_name)
                attempt += 1

    @classmethod
    async def _start_once(cls, kernel_name: str, cwd: str, startup_timeout: float) -> KernelHandle:
        workdir = _Workdir.create()
        manager = AsyncKernelManager(
            kernel_name=kernel_name,
            transport=_transport(workdir),
            connection_file=workdir.connection_file,
            shutdown_wait_time=2 * _POLITE_EXIT_SECONDS,
            log=log,
        )
        output = workdir.log_file.open("wb")
        handle = cls(manager, workdir, output)
        try:
            await handle._launch(cwd, startup_timeout)
        except BaseException as exc:
            # Read the kernel's words before shutdown removes the log.
            said = handle.output()
            await handle.shutdown(now=True)
            if isinstance(exc, Exception):
                raise KernelStartError(f"{type(exc).__name__}: {exc}", said) from exc
            raise
        return handle

    async def _launch(self, cwd: str, startup_timeout: float) -> None:
        extra = [_HISTORY_IN_MEMORY] if self.manager.ipykernel else []
        measured = _coverage.for_kernel() if self.manager.ipykernel else None
        self.coverage = measured
        # Without coverage, no environment is passed: jupyter_client copies this process's.
        launch: dict[str, Any] = {}
        if measured is not None:
            extra += measured.arguments
            launch["env"] = measured.environment()
        await self.manager.start_kernel(
            extra_arguments=extra,
            cwd=cwd,
            **launch,
            # No stdin (nothing may block on it); stdout and stderr to the private log.
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        self._group = getattr(self.manager.provisioner, "pgid", None)
        if self._group is not None:
            _ORPHANS.watch(self._group)
        client = self.manager.client()
        self.client = client
        client.start_channels()
        client.allow_stdin = False
        self.info = await self._wait_until_ready(client, startup_timeout)

    async def _wait_until_ready(self, client: AsyncKernelClient, timeout: float) -> dict[str, Any]:
        """jupyter_client's ``wait_for_ready``, without its closing wait for IOPub silence.

        That final drain always waits 0.2 s for nothing, a fifth of a trivial notebook's run;
        the messages it would drain are harmless, as nbclient only reads messages whose parent
        is the request it sent.
        """
        deadline = time.monotonic() + timeout
        while True:
            request = client.kernel_info()
            reply = await _message_about(client.shell_channel, request, wait=1.0)
            # The reply counts once IOPub has delivered this request's status too: a SUB
            # socket joins late (ZeroMQ's "slow joiner"), and its first messages may be lost.
            if reply is not None and (
                await _message_about(client.iopub_channel, request, wait=0.2) is not None
            ):
                _adapt_protocol(client, reply)
                info: dict[str, Any] = reply["content"]
                return info
            if not await self.manager.is_alive():
                raise RuntimeError("the kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel did not answer within {timeout:g} s")

    def exit_code(self) -> int | None:
        """The kernel process's return code once it has ended, else None."""
        provisioner: Any = self.manager.provisioner
        process = getattr(provisioner, "process", None)
        if process is None:
            return None
        code: int | None = process.poll()
        return code

    def output(self, max_chars: int = 4000) -> str:
        """The end of what the kernel process wrote outside the notebook."""
        try:
            self._output.flush()
            data = self._workdir.log_file.read_bytes()
        except (OSError, ValueError):
            return ""
        return data[-max_chars:].decode("utf-8", errors="replace")

    async def shutdown(self, *, now: bool) -> None:
        """Stops the kernel (politely unless ``now``), its channels, and removes its files."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.manager.has_kernel:
                await self._stop_process(now=now)
            await self.manager.cleanup_resources()
        finally:
            if self._group is not None:
                _ORPHANS.release(self._group)
            if self.client is not None:
                self.client.stop_channels()
            self._output.close()
            self._workdir.remove()

    async def _stop_process(self, *, now: bool) -> None:
        # KernelManager.shutdown_kernel, less its interrupt of an idle kernel and with a
        # finer poll: a kernel exits within milliseconds of being asked, and its 0.1 s poll
        # showed as a tenth of a trivial notebook's run time.
        manager = self.manager
        manager.shutting_down = True
        measured = self.coverage
        process = getattr(manager.provisioner, "process", None)  # forgotten once reaped
        if await manager.is_alive():
            if now and measured is None:
                # The whole process group, so nothing the notebook started outlives it.
                await manager.signal_kernel(getattr(signal, "SIGKILL", signal.SIGTERM))
            elif not now:
                await manager.request_shutdown()
        if measured is not None:
            await _let_save(manager, polite=not now)
        # Waits for the exit (escalating to SIGTERM, then SIGKILL) and reaps the process.
        await manager.finish_shutdown(pollinterval=0.01)
        if measured is not None and process is not None:
            measured.stopped(process.poll())


async def _let_save(manager: AsyncKernelManager, *, polite: bool) -> None:
    """A kernel measured by coverage saves its data as it exits, or on SIGTERM (coverage's
    ``sigterm``), even in the middle of a cell: after the usual wait for a polite exit it
    gets SIGTERM, then time to save before any kill."""
    if polite and await _exited(manager, _POLITE_EXIT_SECONDS):
        return
    if await manager.is_alive():
        await manager.signal_kernel(signal.SIGTERM)
    await _exited(manager, _coverage.SAVE_SECONDS)


async def _exited(manager: AsyncKernelManager, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while await manager.is_alive():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


# -- what a kernel started never outlives it -------------------------------------------------

# The watcher's whole program: it holds the kernels' process groups it is told of ("+pgid",
# "-pgid") and, when its input ends (the pytest process is gone, however it died), kills those
# still held. Its own session keeps a terminal's Ctrl-C and a group kill away from it.
_WATCHER = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


class _Orphans:
    """Kills kernels' process groups when this process dies without stopping them.

    ipykernel exits within a second of its parent's death (it polls its parent pid), but the
    processes a notebook started (a server, a ``sleep``) are its children, not ipykernel, and
    would run on after ``kill -9`` of pytest. ``PR_SET_PDEATHSIG`` would reach the kernel only,
    not its children, and ipykernel leaves with ``os._exit`` (no atexit hook runs), so a small
    watcher process reads a pipe from this one: the pipe ends when this process ends, whatever
    ended it, and the watcher then kills each group still registered. A normal shutdown kills
    the group itself (:meth:`release`) and unregisters it. POSIX only; elsewhere, nothing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watcher: subprocess.Popen[bytes] | None = None
        self._owner = 0  # the pid that started the watcher: a forked child needs its own

    def watch(self, group: int) -> None:
        self._tell(f"+{group}\n")

    def release(self, group: int) -> None:
        """The kernel has stopped: end what it left in its group, and stop watching it.

        The group's number cannot be reused while any process is in it, so the kill reaches
        only what the kernel left, or nothing (an empty group's number is free again, but a
        new process would have to become a group leader under that very number meanwhile)."""
        if hasattr(os, "killpg"):
            with contextlib.suppress(OSError):  # an empty group: nothing was left
                os.killpg(group, signal.SIGKILL)
        self._tell(f"-{group}\n")

    def _tell(self, line: str) -> None:
        if not hasattr(os, "killpg"):
            return
        with self._lock:
            watcher = self._watcher
            if watcher is None or self._owner != os.getpid() or watcher.poll() is not None:
                watcher = self._watcher = subprocess.Popen(
                    [sys.executable, "-c", _WATCHER],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                    env={},  # needs nothing; and carries no variable that names a test run
                )
                if not self._owner:
                    atexit.register(self._close)
                self._owner = os.getpid()
            assert watcher.stdin is not None
            try:
                watcher.stdin.write(line.encode())
                watcher.stdin.flush()
            except OSError as exc:  # the watcher is gone: the next call starts another
                log.warning("the kernel watcher is gone: %s", exc)

    def _close(self) -> None:
        """At a normal exit: ends the pipe (the watcher kills what is still registered, which
        is nothing once every kernel was stopped) and waits for the watcher, which would
        otherwise outlive this process as a zombie-to-be and a ResourceWarning."""
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is None or self._owner != os.getpid():
            return  # a forked child: the watcher is its parent's
        assert watcher.stdin is not None
        with contextlib.suppress(OSError):
            watcher.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            watcher.wait(timeout=5)


_ORPHANS = _Orphans()
