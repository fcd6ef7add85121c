"""What is rendered, as immutable values: a notebook's cells and, when one failed, the failure.

The model is built first, from an executed notebook or from the execution error, and rendered
second; the pytest plugin, the command line and the library all go through it, so a failure
reads the same everywhere. Building it never imports Jinja2 and never decodes a scrap.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from .._conventions import (
    INJECTED_PARAMETERS_TAG,
    PAPERMILL_ERROR_TAG,
    is_clean_exit,
    rule_for,
)
from .._errors import CellTimeoutError, KernelDiedError
from .filters import strip_ansi

if TYPE_CHECKING:
    from typing import TypeAlias

    from .._errors import CellExecutionError
    from .._reader import Notebook

    NotebookLike: TypeAlias = Notebook | Mapping[str, Any] | str | os.PathLike[str]

__all__ = [
    "INJECTED_PARAMETERS_TAG",
    "PAPERMILL_ERROR_TAG",
    "Cell",
    "Document",
    "Elided",
    "Failure",
    "Output",
    "failing_line",
]

# papermill adds two markdown cells tagged PAPERMILL_ERROR_TAG to a notebook that failed: a
# banner at the top and an anchor just before the failing cell; neither is the user's. Its
# parameter cell (INJECTED_PARAMETERS_TAG) is in the executed notebook only, so it is not
# counted when cells are numbered the way the user sees the source notebook.

_SCRAP_MIME = re.compile(r"application/scrapbook\.scrap\.(?P<encoder>[^+]+)\+json")
_PAPERMILL_RECORD_MIME = "application/papermill.record+json"
_DEFAULT_REPR = re.compile(r"<[\w.]+ object(?: at 0x[0-9a-f]+)?>")

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


def _text(value: Any) -> str:
    """nbformat stores multi-line strings as a string or a list of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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


@dataclass(frozen=True)
class Output:
    """One cell output reduced to what a terminal can show.

    ``kind`` is ``stream``, ``result`` (``execute_result``), ``display``, ``scrap`` (a glued
    value, shown by name), ``error`` or ``other``.
    """

    kind: str
    text: str = ""
    name: str = ""
    execution_count: int | None = None
    ename: str = ""
    evalue: str = ""
    traceback: tuple[str, ...] = ()
    mimetypes: tuple[str, ...] = ()
    encoder: str = ""

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> Output:
        output_type = node.get("output_type")
        if output_type == "stream":
            return cls("stream", _text(node.get("text")).rstrip("\n"), name=str(node.get("name")))
        if output_type == "error":
            return cls.error(
                str(node.get("ename", "")),
                str(node.get("evalue", "")),
                tuple(_text(line) for line in _list(node.get("traceback"))),
            )
        if output_type in ("execute_result", "display_data", "update_display_data"):
            return cls._rich(node, output_type)
        return cls("other", name=str(output_type))

    @classmethod
    def error(cls, ename: str, evalue: str, traceback: Sequence[str] = ()) -> Output:
        text = "\n".join(traceback) if traceback else f"{ename}: {evalue}" if evalue else ename
        return cls(
            "error",
            text.rstrip("\n"),
            ename=ename,
            evalue=evalue,
            traceback=tuple(traceback),
        )

    @classmethod
    def _rich(cls, node: Mapping[str, Any], output_type: str) -> Output:
        data = _mapping(node.get("data"))
        scrapbook = _mapping(_mapping(node.get("metadata")).get("scrapbook"))
        for mime, payload in data.items():
            scrap = _SCRAP_MIME.fullmatch(mime)
            if scrap is not None:
                name = _mapping(payload).get("name", scrapbook.get("name", ""))
                return cls("scrap", name=str(name), encoder=scrap.group("encoder"))
            if mime == _PAPERMILL_RECORD_MIME:
                names = ", ".join(str(key) for key in _mapping(payload))
                return cls("scrap", name=names, encoder="papermill record")
        text = _text(data.get("text/plain")).rstrip("\n")
        if _DEFAULT_REPR.fullmatch(text) and len(data) > 1:
            text = ""  # "<IPython.core.display.HTML object>" says less than the mime types do
        return cls(
            "result" if output_type == "execute_result" else "display",
            text,
            name=str(scrapbook.get("name", "")) if scrapbook.get("display") else "",
            execution_count=_count(node.get("execution_count")),
            mimetypes=tuple(mime for mime in data if text or mime != "text/plain"),
        )


@dataclass(frozen=True)
class Cell:
    """A cell as shown: ``number`` counts cells the way the user sees the source notebook.

    ``index`` is the position in the notebook as stored (papermill's cells included); the
    injected-parameters cell and papermill's marker cells have no ``number``.
    """

    kind: ClassVar[str] = "cell"

    index: int
    number: int | None
    cell_type: str
    source: str
    execution_count: int | None = None
    outputs: tuple[Output, ...] = ()
    tags: tuple[str, ...] = ()
    failed: bool = False
    failing_line: int | None = None
    shown_lines: tuple[tuple[int, int], ...] | None = None  # all of them when None

    @classmethod
    def from_node(cls, node: Mapping[str, Any], index: int, number: int | None) -> Cell:
        metadata = _mapping(node.get("metadata"))
        tags = tuple(tag for tag in _list(metadata.get("tags")) if isinstance(tag, str))
        outputs = (Output.from_node(_mapping(out)) for out in _list(node.get("outputs")))
        return cls(
            index=index,
            number=number,
            cell_type=str(node.get("cell_type", "raw")),
            source=_text(node.get("source")).rstrip(),
            execution_count=_count(node.get("execution_count")),
            outputs=_merge_streams(outputs),
            tags=tags,
        )

    @property
    def injected(self) -> bool:
        return INJECTED_PARAMETERS_TAG in self.tags

    @property
    def papermill_marker(self) -> bool:
        return PAPERMILL_ERROR_TAG in self.tags

    @property
    def error(self) -> Output | None:
        """The cell's error output, when it raised one that counts as a failure."""
        found = next(
            (
                output
                for output in self.outputs
                if output.kind == "error" and not is_clean_exit(output.ename, output.evalue)
            ),
            None,
        )
        # may_raise reads every line of the source: asked only of a cell that has an error.
        return None if found is None or self.may_raise else found

    @property
    def may_raise(self) -> bool:
        """Its error is expected (a tag or nbval marker says so), not a failure."""
        return rule_for(self.tags, self.source).may_raise


def _merge_streams(outputs: Iterable[Output]) -> tuple[Output, ...]:
    """Joins consecutive writes to one stream, as Jupyter shows them.

    Each run of writes is joined once: adding one write at a time re-copied the text so far,
    and 200,000 small writes took minutes.
    """
    merged: list[Output] = []
    run: list[Output] = []

    def close_run() -> None:
        if len(run) > 1:
            merged[-1] = replace(run[0], text="\n".join(write.text for write in run))
        run.clear()

    for output in outputs:
        if run and output.kind == "stream" and output.name == run[0].name:
            run.append(output)
            continue
        close_run()
        merged.append(output)
        if output.kind == "stream":
            run.append(output)
    close_run()
    return tuple(merged)


@dataclass(frozen=True)
class Elided:
    """Cells left out of a focused rendering, shown as one line."""

    kind: ClassVar[str] = "elided"

    count: int
    first: int | None = None
    last: int | None = None

    @property
    def description(self) -> str:
        """``"cells 1-3"``, ``"cell 7"``, or ``"2 cells"`` when the cells have no number."""
        if self.first is None or self.last is None:
            return f"{self.count} cell" + ("" if self.count == 1 else "s")
        if self.first == self.last:
            return f"cell {self.first}"
        return f"cells {self.first}-{self.last}"

    @classmethod
    def of(cls, cells: Sequence[Cell | Elided]) -> Elided:
        count = sum(item.count if isinstance(item, Elided) else 1 for item in cells)
        numbers = [
            number
            for item in cells
            for number in ((item.first, item.last) if isinstance(item, Elided) else (item.number,))
            if number is not None
        ]
        return cls(count, min(numbers, default=None), max(numbers, default=None))


@dataclass(frozen=True)
class Failure:
    """Which cell failed and how: the facts a failure rendering and its summary line need."""

    ename: str
    evalue: str
    traceback: tuple[str, ...] = ()
    cell_number: int | None = None
    execution_count: int | None = None
    source: str = ""
    failing_line: int | None = None
    injected: bool = False
    path: str | None = None
    output_path: str | None = None
    note: str | None = None
    outputs: tuple[Output, ...] = ()

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

    def summary(self) -> str:
        """One line: ``"ZeroDivisionError: division by zero (cell 5)"``."""
        if self.injected:
            return f"{self.headline} (injected-parameters cell)"
        if self.cell_number is None:
            return self.headline
        return f"{self.headline} (cell {self.cell_number})"

    @classmethod
    def from_cell(cls, cell: Cell, *, path: str | None = None) -> Failure:
        error = cell.error or Output.error("CellExecutionError", "")
        return cls(
            ename=error.ename,
            evalue=error.evalue,
            traceback=error.traceback,
            cell_number=cell.number,
            execution_count=cell.execution_count,
            source=cell.source,
            failing_line=failing_line(error.traceback, cell.execution_count),
            injected=cell.injected,
            path=path,
            outputs=cell.outputs,
        )

    @classmethod
    def from_notebook(cls, notebook: NotebookLike) -> Failure | None:
        """The first failure held in an executed notebook, or ``None`` for a clean one."""
        return Document.from_notebook(notebook).failure

    @classmethod
    def from_error(cls, error: CellExecutionError) -> Failure:
        """The failure an execution error describes, completed from its executed notebook."""
        failure = Document.from_error(error).failure
        assert failure is not None  # from_error always sets one
        return failure


@dataclass(frozen=True)
class Document:
    """A notebook ready to render: cells (some maybe elided), its path, and its failure."""

    cells: tuple[Cell | Elided, ...]
    path: str | None = None
    failure: Failure | None = None
    total: int = 0  # the notebook's cells as the user counts them (papermill's are not)

    @classmethod
    def from_node(cls, node: Mapping[str, Any], *, path: str | None = None) -> Document:
        """Reads a notebook dict; the first failing cell (if any) becomes the failure."""
        cells: list[Cell | Elided] = []
        number = 0
        raw_cells = node.get("cells")
        for index, raw in enumerate(raw_cells if isinstance(raw_cells, list) else ()):
            cell_node = _mapping(raw)
            tags = _list(_mapping(cell_node.get("metadata")).get("tags"))
            counted = PAPERMILL_ERROR_TAG not in tags and INJECTED_PARAMETERS_TAG not in tags
            if counted:
                number += 1
            cells.append(Cell.from_node(cell_node, index, number if counted else None))
        document = cls(tuple(cells), path=path, total=number)
        failed = next((cell for cell in document._cells() if _failed(cell, raw_cells)), None)
        if failed is None:
            return document
        return document._with_failure(failed, Failure.from_cell(failed, path=path), failed)

    @classmethod
    def from_notebook(cls, notebook: NotebookLike) -> Document:
        """From a path, a notebook dict, or a :class:`~pytest_nbscrap._reader.Notebook`."""
        if isinstance(notebook, Mapping):
            return cls.from_node(notebook)
        if isinstance(notebook, (str, os.PathLike)):
            from .._reader import read_notebook

            read = read_notebook(notebook)
            return cls.from_node(_node_of(read), path=read.path or os.fspath(notebook))
        return cls.from_node(_node_of(notebook), path=getattr(notebook, "path", None) or None)

    @classmethod
    def from_error(cls, error: CellExecutionError) -> Document:
        """The executed-so-far notebook of an execution error, its failing cell marked.

        The error's facts win over what the notebook holds (a timed-out cell has no error
        output); the notebook supplies the context cells and the outputs.
        """
        notebook = getattr(error, "notebook", None)
        path = _str_or_none(getattr(error, "path", None))
        document = cls.from_notebook(notebook) if notebook is not None else cls(())
        document = replace(document, path=path or document.path)
        ename = str(getattr(error, "ename", "") or type(error).__name__)
        located = _locate(document, error, ename)
        count = _count(getattr(error, "execution_count", None))
        source = _text(getattr(error, "source", "")).rstrip()
        cell = located or Cell(
            index=-1,
            number=_count(getattr(error, "cell_number", None)),
            cell_type="code",
            source=source,
            execution_count=count,
        )
        count = count if count is not None else cell.execution_count
        traceback = tuple(str(line) for line in getattr(error, "traceback", None) or ())
        evalue = str(getattr(error, "evalue", "") or "")
        if cell.error is None:
            # A timeout or a dead kernel leaves no error output; show the error where it happened.
            cell = replace(cell, outputs=(*cell.outputs, Output.error(ename, evalue, traceback)))
        own = cell.error
        failure = Failure(
            ename=ename,
            evalue=evalue or (own.evalue if own else ""),
            traceback=traceback or (own.traceback if own else ()),
            cell_number=cell.number,
            execution_count=count,
            source=cell.source or source,
            injected=cell.injected,
            path=path or document.path,
            output_path=_str_or_none(getattr(error, "output_path", None)),
            note=_note(error, evalue),
            outputs=cell.outputs,
        )
        failure = replace(failure, failing_line=failing_line(failure.traceback, count))
        return document._with_failure(located, failure, cell)

    def _cells(self) -> Iterable[Cell]:
        return (item for item in self.cells if isinstance(item, Cell))

    def _with_failure(self, original: Cell | None, failure: Failure, shown: Cell) -> Document:
        """Marks ``shown`` as the failing cell in place of ``original`` (appended if absent)."""
        marked = replace(shown, failed=True, failing_line=failure.failing_line)
        cells: list[Cell | Elided] = []
        for item in self.cells:
            if item is original:
                cells.append(marked)
            elif isinstance(item, Cell) and item.failed:
                cells.append(replace(item, failed=False, failing_line=None))
            else:
                cells.append(item)
        if not any(item is original for item in self.cells):
            cells.append(marked)
        return replace(self, cells=tuple(cells), failure=failure)


def _failed(cell: Cell, raw_cells: Any) -> bool:
    """A cell failed if it holds an error output, or papermill marked it as raising."""
    if cell.papermill_marker:
        return False
    if cell.error is not None:
        return True
    if not isinstance(raw_cells, list):
        return False
    papermill = _mapping(_mapping(_mapping(raw_cells[cell.index]).get("metadata")).get("papermill"))
    return papermill.get("exception") is True and not cell.may_raise


def _locate(document: Document, error: CellExecutionError, ename: str) -> Cell | None:
    """The executed cell an error is about.

    By the executor's index into the executed notebook when it gives one; else the failing
    cell the notebook itself shows; else by the cell's number in the source notebook.
    """
    cells = list(document._cells())
    executed = _count(getattr(error, "executed_index", None))
    if executed is not None:
        found = next((cell for cell in cells if cell.index == executed), None)
        if found is not None:
            return found
    shown = document.failure
    if shown is not None and shown.ename == ename:
        return next(cell for cell in cells if cell.failed)
    number = _count(getattr(error, "cell_number", None))
    if number is None:
        index = _count(getattr(error, "cell_index", None))
        number = index + 1 if index is not None else None
    if number is not None:
        found = next((cell for cell in cells if cell.number == number), None)
        if found is not None:
            return found
    return next((cell for cell in cells if cell.failed), None)


def _note(error: CellExecutionError, evalue: str) -> str | None:
    """Says what happened when the error's own message does not (the executor's usually does)."""
    if evalue:
        return None
    if isinstance(error, CellTimeoutError):
        timeout = getattr(error, "timeout", None)
        limit = f" of {timeout:g} seconds" if isinstance(timeout, (int, float)) else ""
        return f"the cell ran longer than the timeout{limit} and was interrupted"
    if isinstance(error, KernelDiedError):
        return "the kernel died while running this cell"
    return None


def _node_of(notebook: Any) -> Mapping[str, Any]:
    return {"cells": list(notebook.cells), "metadata": notebook.metadata}


def _str_or_none(value: Any) -> str | None:
    return os.fspath(value) if isinstance(value, (str, os.PathLike)) and value else None
