"""``--nbscrap-update``: fresh outputs written back into a source notebook, and the report of
which notebooks were rewritten.

This is the one place a source notebook is ever written. Only the compared cells change (their
outputs and execution counts); every other byte of meaning is the source's own. The text is
nbformat's (``nbformat.writes``'s, as executed notebooks are written), to a temporary file in
the source's folder renamed over it, so a reader never sees half a notebook and a failed write
leaves the source as it was. Like a snapshot tool's update switch, a rewritten notebook's test
passes and the terminal summary says which files were rewritten (the names travel on the test
report's ``user_properties``, so pytest-xdist workers' reach the controller).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._reader import Notebook

__all__ = ["REWROTE", "UpdateReport", "write_fresh_outputs"]

#: The ``user_properties`` name of a notebook the test rewrote.
REWROTE = "nbscrap_rewrote"


def write_fresh_outputs(
    source: Path, executed: Notebook, compared: Sequence[tuple[int, int]]
) -> None:
    """Writes ``executed``'s outputs of the ``compared`` (source index, executed index) cells
    into ``source``, atomically (the executed notebooks' own writer: a temporary file beside
    it, renamed over it)."""
    from ._notebook_file import Writer
    from ._run_record import nbformat

    node = json.loads(source.read_text(encoding="utf-8"))
    for index, fresh_index in compared:
        fresh = executed.cells[fresh_index]
        cell = node["cells"][index]
        # A JSON round trip: plain dicts and lists, none of the run's objects shared.
        cell["outputs"] = json.loads(json.dumps(fresh.get("outputs") or []))
        cell["execution_count"] = fresh.get("execution_count")
    Writer(source).final(nbformat.from_dict(node))


class UpdateReport:
    """Collects the notebooks tests rewrote and names them in the terminal summary."""

    def __init__(self) -> None:
        self.rewrote: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == REWROTE and value not in self.rewrote:
                self.rewrote.append(str(value))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from ._text import sanitize  # file names are printed

        if not self.rewrote:
            terminalreporter.write_line("nbscrap: no notebook differed; none rewritten")
            return
        count = len(self.rewrote)
        terminalreporter.write_line(
            f"nbscrap: rewrote {count} notebook{'' if count == 1 else 's'} with fresh outputs:"
        )
        for name in self.rewrote:
            terminalreporter.write_line(f"  {sanitize(name)}")
