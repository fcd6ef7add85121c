"""The suite's one notebook builder (notebook JSON as dicts), and papermill runs of them."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

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


def write_code_notebook(path: Path, *sources: str, id_prefix: str = "c", **metadata: Any) -> Path:
    """A notebook of one code cell per source, ids ``{id_prefix}0``, ... (nbformat 4.5 wants
    ids), run on python3 unless ``metadata`` names another kernelspec."""
    cells = [code_cell(source, id=f"{id_prefix}{index}") for index, source in enumerate(sources)]
    metadata.setdefault("kernelspec", KERNELSPEC)
    return write_notebook(path, *cells, **metadata)


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
