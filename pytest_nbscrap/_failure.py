"""One failed cell, as one frozen value: built where the failure happens, read everywhere else.

The executor builds it while the kernel can still be asked about the failure, and completes it
with where the run was (the paths, the cell as the user numbers it); ``CellExecutionError``
carries it (it pickles, so it crosses pytest-xdist workers); the exporter only reads it, as
structlog's renderers read an event that was extracted once. A failure found in a notebook read
on its own (``nbscrap render``) is the same value, built from the cell that holds the error.
Only ``re`` is imported: this is read wherever an error is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._text import strip_ansi

if TYPE_CHECKING:
    from ._errors import CellExecutionError
    from .export.model import NotebookLike

__all__ = ["Failure", "FailureKind", "failing_line"]

FailureKind = Literal["error", "timeout", "died", "lost"]

# How IPython names the frame of the cell itself, newest format first:
# IPython >= 8.5 "Cell In[5], line 4"; 8.0-8.4 "Input In [5], in <cell line: 4>()";
# older "<ipython-input-5-0123abcd> in <module>" followed, lines later, by the "----> 4 ..."
# arrow line. Tracebacks come from the notebook: every pattern starts with a literal and has
# no nested or lazy repetition, so a search is linear in the text; the old format's two lines
# are paired by a walk over the lines, not by a pattern spanning them (that was quadratic).
_CELL_FRAMES = (
    re.compile(r"Cell In ?\[(?P<count>\d*)\], line (?P<line>\d+)"),
    re.compile(r"Input In ?\[(?P<count>\d*)\], in <cell line: (?P<line>\d+)>"),
)
_OLD_CELL_FRAME = re.compile(r"<ipython-input-(?P<count>\d+)-[0-9a-f]+> in <module>")
_OLD_ARROW = re.compile(r"-+> ?(?P<line>\d+)")  # matched at a line's start only
# A number longer than this is no line or execution count; int() of 5,000 digits even raises.
_MAX_DIGITS = 9


@dataclass(frozen=True)
class Failure:
    """Which cell failed and how: every fact an error message, a failure view and its summary
    line need.

    ``kind`` says what happened: the cell raised (``error``), ran past its ``timeout``, its
    kernel ``died`` (``exit_code``, ``kernel_output``), or its output was ``lost`` after
    ``waited`` seconds. ``cell_number`` counts cells as the user sees the source notebook (None
    for the injected-parameters cell); ``executed_index`` indexes the executed notebook's cells.
    ``source`` is the cell's source as it ran; a rendering shows the document's cell, not this.
    """

    ename: str
    evalue: str
    traceback: tuple[str, ...] = ()
    kind: FailureKind = "error"
    cell_number: int | None = None
    execution_count: int | None = None
    executed_index: int | None = None
    source: str = ""
    injected: bool = False
    path: str | None = None
    output_path: str | None = None
    save_error: str | None = None  # why the executed notebook could not be written
    timeout: float | None = None
    timeout_set_by: str | None = None
    exit_code: int | None = None
    kernel_output: str = ""
    waited: float = 0

    @property
    def cell_index(self) -> int | None:
        """The cell's 0-based index in the source notebook (None for the injected cell)."""
        return None if self.cell_number is None else self.cell_number - 1

    @property
    def failing_line(self) -> int | None:
        """The line of the cell that raised, read from the traceback (None if unknown)."""
        return failing_line(self.traceback, self.execution_count)

    @property
    def plain_traceback(self) -> str:
        """The traceback as one text without terminal escapes (colours included)."""
        return strip_ansi("\n".join(self.traceback))

    @property
    def headline(self) -> str:
        """``"ZeroDivisionError: division by zero"``: the error's name and its first line."""
        lines = self.evalue.strip().splitlines()
        return f"{self.ename}: {lines[0]}" if lines else self.ename or "Error"

    @property
    def where(self) -> str:
        """``"cell 5 (In [4])"``: the cell as the user finds it in the notebook."""
        if self.injected:
            place = "the injected-parameters cell"
        elif self.cell_number is not None:
            place = f"cell {self.cell_number}"
        else:
            place = "an unknown cell"
        if self.execution_count is not None:
            place += f" (In [{self.execution_count}])"
        return place

    @property
    def note(self) -> str | None:
        """Says what happened when the error's own message does not (the executor's does)."""
        if self.evalue:
            return None
        if self.kind == "timeout":
            limit = f" of {self.timeout:g} seconds" if self.timeout is not None else ""
            return f"the cell ran longer than the timeout{limit} and was interrupted"
        if self.kind == "died":
            return "the kernel died while running this cell"
        return None

    def summary(self) -> str:
        """One line: ``"ZeroDivisionError: division by zero (cell 5)"``."""
        if self.injected:
            return f"{self.headline} (injected-parameters cell)"
        if self.cell_number is None:
            return self.headline
        return f"{self.headline} (cell {self.cell_number})"

    @classmethod
    def from_notebook(cls, notebook: NotebookLike) -> Failure | None:
        """The first failure held in an executed notebook, or ``None`` for a clean one."""
        from .export.model import Document  # the model of a notebook is the exporter's

        return Document.from_notebook(notebook).failure

    @staticmethod
    def from_error(error: CellExecutionError) -> Failure:
        """The failure an execution error carries."""
        return error.failure


def failing_line(traceback: Sequence[str], execution_count: int | None) -> int | None:
    """The line of the cell that raised, read from an IPython traceback (``None`` if unknown).

    The first frame of the failing cell's own execution count is the cell's line; later frames
    of other counts are functions defined in earlier cells.
    """
    plain = strip_ansi("\n".join(traceback))
    for pattern in _CELL_FRAMES:
        frames = ((match.group("count"), match.group("line")) for match in pattern.finditer(plain))
        found = _own_frame(frames, execution_count)
        if found is not None:
            return found
    return _own_frame(_old_frames(plain), execution_count)


def _old_frames(plain: str) -> Iterator[tuple[str, str]]:
    """(count, line) of each old-style frame: a header, then the first arrow line after it."""
    count: str | None = None
    for line in plain.split("\n"):
        arrow = _OLD_ARROW.match(line) if count is not None else None
        if count is not None and arrow is not None:
            yield count, arrow.group("line")
            count = None
            continue
        header = _OLD_CELL_FRAME.search(line) if count is None else None
        if header is not None:
            count = header.group("count")


def _own_frame(frames: Iterable[tuple[str, str]], execution_count: int | None) -> int | None:
    for count, line in frames:
        if len(count) > _MAX_DIGITS or len(line) > _MAX_DIGITS:
            continue
        if execution_count is None or not count or int(count) == execution_count:
            return int(line)
    return None
