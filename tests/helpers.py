"""The suite's one notebook builder (notebook JSON as dicts), papermill runs of its notebooks,
and the process table search behind the ``leftover_kernels`` fixture (conftest.py)."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import psutil

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def code_cell(
    source: str = "", outputs: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": "code",
        "source": source,
        "metadata": extra.pop("metadata", {}),
        "outputs": outputs or [],
        "execution_count": extra.pop("execution_count", 1),
    }
    cell.update(extra)
    return cell


def notebook(*cells: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": list(cells)}


def write_notebook(path: Path, *cells: dict[str, Any], **metadata: Any) -> Path:
    """Writes ``notebook(*cells, **metadata)`` to ``path`` (its folder made if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook(*cells, **metadata)), encoding="utf-8")
    return path


def code_cells(*sources: str, params: str | None = None) -> list[dict[str, Any]]:
    """One unexecuted code cell per source, after a cell tagged ``parameters`` holding
    ``params`` if given; ids ``c0``, ``c1``... (nbformat 4.5 wants ids)."""
    cells = [code_cell(source, execution_count=None) for source in sources]
    if params is not None:
        cells.insert(0, code_cell(params, execution_count=None, metadata={"tags": ["parameters"]}))
    return [{**cell, "id": f"c{index}"} for index, cell in enumerate(cells)]


def write_code_notebook(
    path: Path, *sources: str, params: str | None = None, **metadata: Any
) -> Path:
    """Writes a notebook of ``code_cells(*sources, params=params)``, run on python3 unless
    ``metadata`` names another kernelspec."""
    metadata.setdefault("kernelspec", KERNELSPEC)
    return write_notebook(path, *code_cells(*sources, params=params), **metadata)


def write_silent_kernelspec(folder: Path, name: str = "silent") -> str:
    """Installs, under ``folder`` (to be put on JUPYTER_PATH), a kernel whose process starts
    but never answers; returns its name."""
    spec = folder / "kernels" / name
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", "import time; time.sleep(120)", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": name, "language": "python"})
    )
    return name


def execute_with_papermill(source: Path, output: Path, *, cwd: Path) -> None:
    """Runs ``source`` through real papermill (nbclient) on python3, writing ``output``.

    The kernel talks over IPC sockets in a folder of its own. Over TCP (papermill's default)
    jupyter_client picks free ports and the kernel binds them a moment later, so another
    kernel starting meanwhile (pytest-xdist's other worker) could take one: "Address already
    in use". The transport is set through traitlets config, not by handing papermill a kernel
    manager: nbclient then still owns the manager, so it shuts the kernel down and closes
    every zmq socket (a manager passed in is left running, its sockets open for the suite's
    ``filterwarnings = error`` to meet as ResourceWarnings).
    """
    import papermill
    from traitlets.config import Config

    # Short and private: AF_UNIX paths are limited to 108 bytes, and the sockets are
    # named "<ip>-<port>" with ports counted from 1 where no such file exists.
    sockets = Path(tempfile.mkdtemp(prefix="nbpm-"))
    config = Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / "kernel")}})
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            kernel_name="python3",
            progress_bar=False,
            cwd=str(cwd),
            config=config,
        )
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


# A process's tag is an environment variable, so whatever it starts (a pytest run's kernels, a
# kernel's own children) carries it too, wherever it is reparented. Every tag this test process
# hands out begins with RUN, so its strays can be found (and not another pytest's on the box).
TAG = "NBSCRAP_TEST_RUN"
RUN = uuid.uuid4().hex[:8]


def new_tag() -> str:
    return f"{RUN}-{uuid.uuid4().hex}"


def tagged(matches: Callable[[str], bool]) -> list[psutil.Process]:
    """Live (not zombie) processes whose tag ``matches``."""
    found = []
    for process in psutil.process_iter():
        try:
            tag = process.environ().get(TAG)
            if tag and matches(tag) and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def kill(processes: Iterable[psutil.Process]) -> None:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def run_on_a_terminal(
    command: Sequence[str], *, cwd: Path, stream: str = "stdout", env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Runs ``command`` with ``stream`` ("stdout" or "stderr") on a pseudo-terminal 80 columns
    wide (tqdm draws nothing on one 0 columns wide); its status and what the terminal got."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    outputs = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: child}
    with subprocess.Popen(
        list(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL, **outputs
    ) as process:
        os.close(child)
        seen = b""
        while True:
            ready, _, _ = select.select([main], [], [], 180)
            if not ready:
                process.kill()
                break
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        status = process.wait(timeout=60)
    os.close(main)
    return status, seen.decode("utf-8", "replace")


def default_sigint() -> None:
    """For ``preexec_fn``: a child that is sent SIGINT must not inherit SIGINT ignored (a shell
    without job control ignores it in background jobs, and Python then leaves it ignored)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
