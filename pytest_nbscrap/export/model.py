"""What is rendered, as immutable values: a notebook's cells and, when one failed, the failure.

The model is built first, from an executed notebook or from the execution error, and rendered
second; the pytest plugin, the command line and the library all go through it, so a failure
reads the same everywhere. An execution error's :class:`Failure` is the one the executor built
(see :mod:`pytest_nbscrap._failure`): the model only places it on its cell. Building the model
never imports Jinja2 and never decodes a scrap.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from .._conventions import (
    INJECTED_PARAMETERS_TAG,
    PAPERMILL_ERROR_TAG,
    errors_allowed,
    is_clean_exit,
    rule_for,
)
from .._failure import Failure, failing_line
from .._scraps import GLUE_PREFIX, RECORD_PREFIX

if TYPE_CHECKING:
    from typing import TypeAlias

    from .._errors import CellExecutionError
    from .._reader import Notebook
    from .._regression import Differences

    NotebookLike: TypeAlias = Notebook | Mapping[str, Any] | str | os.PathLike[str]

__all__ = [
    "INJECTED_PARAMETERS_TAG",
    "PAPERMILL_ERROR_TAG",
    "Cell",
    "Difference",
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

# The wire format's MIME keys are _scraps.py's; shown here by name and encoder.
_SCRAP_MIME = re.compile(re.escape(GLUE_PREFIX) + r"\.(?P<encoder>[^+]+)\+json")
_PAPERMILL_RECORD_MIME = f"{RECORD_PREFIX}+json"
_DEFAULT_REPR = re.compile(r"<[\w.]+ object(?: at 0x[0-9a-f]+)?>")


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
class Difference:
    """How a cell's fresh outputs differ from its stored ones, as shown: why, and the lines
    of a diff (``-`` stored, ``+`` fresh, `` `` both, ``...`` lines between hunks)."""

    reason: str
    lines: tuple[str, ...] = ()


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
    allow_errors: bool = False  # the notebook's metadata.execution.allow_errors
    difference: Difference | None = None  # its outputs against the stored ones, when they differ

    @classmethod
    def from_node(
        cls, node: Mapping[str, Any], index: int, number: int | None, *, allow_errors: bool = False
    ) -> Cell:
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
            allow_errors=allow_errors,
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
        """Its error is expected (a tag, an nbval marker or the notebook says so), not a
        failure: the executor's rule."""
        return rule_for(self.tags, self.source, allow_errors=self.allow_errors).may_raise


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
class Document:
    """A notebook ready to render: cells (some maybe elided), its path, and its failure."""

    cells: tuple[Cell | Elided, ...]
    path: str | None = None
    failure: Failure | None = None
    total: int = 0  # the notebook's cells as the user counts them (papermill's are not)
    differences: Differences | None = None  # fresh outputs against stored ones, when they differ

    @classmethod
    def from_node(cls, node: Mapping[str, Any], *, path: str | None = None) -> Document:
        """Reads a notebook dict; the first failing cell (if any) becomes the failure."""
        cells: list[Cell | Elided] = []
        number = 0
        allowed = errors_allowed(node.get("metadata"))
        raw_cells = node.get("cells")
        for index, raw in enumerate(raw_cells if isinstance(raw_cells, list) else ()):
            cell_node = _mapping(raw)
            tags = _list(_mapping(cell_node.get("metadata")).get("tags"))
            counted = PAPERMILL_ERROR_TAG not in tags and INJECTED_PARAMETERS_TAG not in tags
            if counted:
                number += 1
            shown = number if counted else None
            cells.append(Cell.from_node(cell_node, index, shown, allow_errors=allowed))
        document = cls(tuple(cells), path=path, total=number)
        failed = next((cell for cell in document._cells() if _failed(cell, raw_cells)), None)
        if failed is None:
            return document
        return document._with_failure(failed, _failure_of(failed, path), failed)

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

        The failure is the error's, as the executor built it; the notebook supplies the cells
        and their outputs. A timed-out cell or a dead kernel's holds no error output: the
        failure's is shown in it.
        """
        failure = error.failure
        notebook = error.notebook
        document = cls.from_notebook(notebook) if notebook is not None else cls(())
        document = replace(document, path=failure.path or document.path)
        located = document._cell_of(failure)
        cell = located or Cell(
            index=-1,
            number=failure.cell_number,
            cell_type="code",
            source=failure.source.rstrip(),
            execution_count=failure.execution_count,
        )
        if cell.error is None:
            error_output = Output.error(failure.ename, failure.evalue, failure.traceback)
            cell = replace(cell, outputs=(*cell.outputs, error_output))
        return document._with_failure(located, failure, cell)

    def _cells(self) -> Iterable[Cell]:
        return (item for item in self.cells if isinstance(item, Cell))

    def _cell_of(self, failure: Failure) -> Cell | None:
        """The cell a failure is about: by its index in the executed notebook, else by its
        number in the source notebook."""
        if failure.executed_index is not None:
            return next(
                (cell for cell in self._cells() if cell.index == failure.executed_index), None
            )
        if failure.cell_number is not None:
            return next(
                (cell for cell in self._cells() if cell.number == failure.cell_number), None
            )
        return None

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


def _failure_of(cell: Cell, path: str | None) -> Failure:
    """The failure a notebook read on its own shows: its failing cell's error."""
    error = cell.error or Output.error("CellExecutionError", "")
    return Failure(
        ename=error.ename,
        evalue=error.evalue,
        traceback=error.traceback,
        cell_number=cell.number,
        execution_count=cell.execution_count,
        executed_index=cell.index,
        source=cell.source,
        injected=cell.injected,
        path=path,
    )


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


def _node_of(notebook: Any) -> Mapping[str, Any]:
    return {"cells": list(notebook.cells), "metadata": notebook.metadata}
