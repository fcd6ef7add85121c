"""papermill's record of a run, in the notebook's metadata, as papermill writes it.

papermill's loader adds its fields to the notebook and each cell; its
``NotebookExecutionManager`` then stamps the notebook's and each cell's start, end, duration,
status and whether it raised. Readers of executed notebooks (scrapbook, papermill's own
``cell_timing``, our :class:`~pytest_nbscrap._reader.Notebook`) read them back from there.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import nbformat as _nbformat
from nbformat import NotebookNode

from ._conventions import cell_rule
from ._reader import Notebook

__all__ = [
    "cell_complete",
    "cell_failed",
    "cell_skipped",
    "cell_start",
    "notebook_complete",
    "notebook_start",
    "papermill_node",
]

# nbformat's functions are unannotated; reached through Any, they are visibly untyped here.
nbformat: Any = _nbformat


def papermill_node(notebook: Notebook) -> NotebookNode:
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


def _now() -> datetime:
    return datetime.now(timezone.utc)


def notebook_start(nb: NotebookNode) -> None:
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


def cell_start(cell: NotebookNode) -> None:
    cell.metadata.papermill.update(start_time=_now().isoformat(), status="running", exception=False)


def cell_skipped(cell: NotebookNode) -> None:
    """A cell tagged to be skipped: recorded as not run (papermill has no such status)."""
    cell.metadata.papermill["status"] = "skipped"


def cell_failed(nb: NotebookNode, cell: NotebookNode) -> None:
    cell.metadata.papermill.update(exception=True, status="failed")
    nb.metadata.papermill["exception"] = True


def cell_complete(cell: NotebookNode) -> None:
    record = cell.metadata.papermill
    end = _now()
    record["end_time"] = end.isoformat()
    if record.get("start_time"):
        start = datetime.fromisoformat(record["start_time"])
        record["duration"] = (end - start).total_seconds()
    if record["status"] != "failed":
        record["status"] = "completed"


def notebook_complete(nb: NotebookNode) -> None:
    record = nb.metadata.papermill
    end = _now()
    record["end_time"] = end.isoformat()
    if record.get("start_time"):
        record["duration"] = (end - datetime.fromisoformat(record["start_time"])).total_seconds()
