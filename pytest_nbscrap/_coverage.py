"""Coverage of the code that notebooks run: the one home of the rule "a kernel measures itself
when this process is measured".

A kernel is a separate process, so coverage.py in pytest (pytest-cov's ``--cov``, or
``coverage run -m pytest``) sees none of the lines a notebook runs. This module uses coverage's
own subprocess machinery, the one ``[run] patch = subprocess`` sets up: the kernel gets the
measuring process's configuration, serialized, in ``COVERAGE_PROCESS_CONFIG``, and calls
``coverage.process_startup()`` as it starts (this module, loaded as an IPython extension, calls
it: no ``.pth`` file is written into the user's environment). It writes a parallel data file
next to the parent's, where ``coverage combine`` and pytest-cov's combine (serial and under
xdist) find it.

When coverage is not running, :func:`for_kernel` says so without importing coverage, and the
kernel starts exactly as it would without this module: same argv, same environment.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "SAVE_SECONDS",
    "Finished",
    "KernelCoverage",
    "counts",
    "finish",
    "for_kernel",
    "load_ipython_extension",
]

# IPython loads this module as an extension (load_ipython_extension, below) as the kernel starts,
# before it serves any request. An extra extension leaves the notebook's namespace and the
# user's own configured extensions and exec_lines alone.
_STARTUP = f"--IPKernelApp.extra_extensions={__name__}"
# What the measuring process says at its save about itself; both are wrong once kernels
# measured for it: the package was imported, in a kernel.
_PARENT_ONLY_WARNINGS = ("module-not-imported", "no-data-collected")
# A measured kernel saves its data as it exits or on SIGTERM: a few tenths of a second, more
# on a loaded machine (the save also lists the source files that never ran). Its stop waits
# this long after SIGTERM before a kill.
SAVE_SECONDS = 20.0

_serial = itertools.count(1)
_lock = threading.Lock()
_started: list[KernelCoverage] = []  # every measured kernel of this process, for finish()
_lost: list[KernelCoverage] = []


@dataclass(frozen=True)
class KernelCoverage:
    """What one kernel needs to measure itself, and where its data lands."""

    #: The parent's data file (absolute) plus a name of this kernel's own: the kernel writes
    #: ``<prefix>.<host>.<pid>.<random>``, which the parent's combine matches (``.coverage.*``).
    prefix: str
    config: str  # the serialized configuration for COVERAGE_PROCESS_CONFIG
    arguments: tuple[str, ...] = (_STARTUP,)

    def environment(self) -> dict[str, str]:
        """The kernel's whole environment: this process's, and the configuration."""
        return {**os.environ, "COVERAGE_PROCESS_CONFIG": self.config}

    def data_files(self) -> list[str]:
        folder, name = Path(self.prefix).parent, Path(self.prefix).name + "."
        with contextlib.suppress(OSError):  # no folder: nothing was saved
            return [str(path) for path in folder.iterdir() if path.name.startswith(name)]
        return []

    def stopped(self, exit_code: int | None) -> None:
        """The kernel has exited with ``exit_code``. Killed by any signal but SIGTERM (which
        it answers by saving), it saved nothing. (A data file is no sign: a kernel that ran
        none of the measured code writes none.)"""
        if exit_code is not None and exit_code < 0 and exit_code != -signal.SIGTERM:
            with _lock:
                _lost.append(self)


def load_ipython_extension(_ipython: object) -> None:
    """In a kernel started by :func:`for_kernel`'s arguments: coverage's own start-up for a
    new process, reading COVERAGE_PROCESS_CONFIG."""
    import coverage

    coverage.process_startup()


def _measuring() -> Any:
    """The running ``coverage.Coverage`` of this process, or None; coverage is imported by
    whoever measures, so a process that has not imported it is not measured."""
    if "coverage" not in sys.modules:
        return None
    from coverage import Coverage

    return Coverage.current()


def for_kernel() -> KernelCoverage | None:
    """What a kernel started now needs to be measured, or None when nothing is measured."""
    cov = _measuring()
    if cov is None:
        return None
    from coverage.files import relative_directory

    # Relative names in the configuration were meant from where the parent started (its
    # relative directory); the kernel runs in the notebook's folder.
    base = Path(relative_directory() or Path.cwd())
    config = copy.copy(cov.config)
    data_file = str(base / config.data_file)
    data = getattr(cov, "_data", None)  # coverage's own data object knows its absolute name
    if data is not None:
        data_file = data.base_filename()
    prefix = f"{data_file}.nbscrap-{os.getpid()}-{next(_serial)}"
    config.data_file = prefix
    config.parallel = True  # one file per kernel (and per process the notebook starts)
    # The kernel records absolute paths; a combine with relative_files makes them relative
    # to the combining process's folder, as the parent's own are.
    config.relative_files = False
    config.source = [_resolved(base, name, only_existing=True) for name in config.source or []]
    config.source_dirs = [_resolved(base, name) for name in config.source_dirs or []]
    config.run_omit = [_pattern(base, pattern) for pattern in config.run_omit or []]
    config.run_include = [_pattern(base, pattern) for pattern in config.run_include or []]
    # A kernel stopped with SIGTERM (a timeout, Ctrl-C) or leaving through os._exit (its
    # parent died) still saves.
    config.sigterm = True
    config.patch = sorted({*config.patch, "_exit"})
    kernel = KernelCoverage(prefix=prefix, config=config.serialize())
    with _lock:
        _started.append(kernel)
    return kernel


def _resolved(base: Path, name: str, *, only_existing: bool = False) -> str:
    # ``source`` holds folders or module names: a name is kept as it is.
    path = base / name
    return str(path) if not only_existing or path.exists() else name


def _pattern(base: Path, pattern: str) -> str:
    # coverage's rule (files.prep_patterns): a pattern not starting with a wildcard is a path.
    return pattern if pattern.startswith(("*", "?")) else str(base / pattern)


@dataclass(frozen=True)
class Finished:
    """What the measured kernels of a process left, once they have all stopped."""

    measured: int = 0
    lost: int = 0

    def __add__(self, other: Finished) -> Finished:
        return Finished(self.measured + other.measured, self.lost + other.lost)

    def message(self) -> str | None:
        if not self.lost:
            return None
        verb = "was" if self.lost == 1 else "were"
        return (
            f"nbscrap: coverage: {self.lost} of {self.measured} measured notebook kernels {verb} "
            "killed before saving their data; the lines they ran count as not run"
        )


def finish() -> Finished:
    """Once every kernel has stopped, before the measuring process saves and combines: its
    own warnings that the package was never imported are dropped (kernels imported it), and
    a measuring process that keeps one data file (``coverage run`` without ``-p``) takes the
    kernels' data into it, as ``coverage combine`` would for a parallel one."""
    with _lock:
        kernels, lost = list(_started), len(_lost)
        _started.clear()
        _lost.clear()
    cov = _measuring()
    files = [name for kernel in kernels for name in kernel.data_files()]
    if cov is not None and files:
        disabled = list(cov.get_option("run:disable_warnings") or [])
        cov.set_option("run:disable_warnings", [*disabled, *_PARENT_ONLY_WARNINGS])
        if not cov.get_option("run:parallel"):
            cov.combine(data_paths=files)
    return Finished(measured=len(kernels), lost=lost)


def counts(sent: Mapping[str, int]) -> Finished:
    """A :class:`Finished` that an xdist worker sent as a plain mapping."""
    return Finished(measured=sent.get("measured", 0), lost=sent.get("lost", 0))
