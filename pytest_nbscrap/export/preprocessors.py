"""Document -> document steps run before the template, each with one job (nbconvert's design).

A preprocessor is any callable taking a :class:`~.model.Document` and returning one; the
classes here are frozen dataclasses so that an exporter's configuration is a plain value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeAlias

from .filters import clip_lines, resolve_overwrites, sanitize, truncate
from .model import Cell, Document, Elided, Output

__all__ = [
    "AnsiColors",
    "DropPapermillMarkers",
    "FocusOnFailure",
    "Preprocessor",
    "TruncateOutputs",
    "TruncateSources",
]

Preprocessor: TypeAlias = Callable[[Document], Document]


@dataclass(frozen=True)
class DropPapermillMarkers:
    """Removes the markdown banner and anchor cells papermill adds to a failed notebook."""

    def __call__(self, document: Document) -> Document:
        kept = tuple(
            item
            for item in document.cells
            if not (isinstance(item, Cell) and item.papermill_marker)
        )
        return replace(document, cells=kept)


@dataclass(frozen=True)
class FocusOnFailure:
    """Keeps the failing cell and ``context`` cells before it; the rest becomes one-line notes.

    A notebook without a failure is left whole.
    """

    context: int = 2

    def __call__(self, document: Document) -> Document:
        position = next(
            (i for i, item in enumerate(document.cells) if isinstance(item, Cell) and item.failed),
            None,
        )
        if document.failure is None or position is None:
            return document
        start = max(position - max(self.context, 0), 0)
        before, after = document.cells[:start], document.cells[position + 1 :]
        shown = document.cells[start : position + 1]
        cells = (
            *((Elided.of(before),) if before else ()),
            *shown,
            *((Elided.of(after),) if after else ()),
        )
        return replace(document, cells=cells)


@dataclass(frozen=True)
class TruncateOutputs:
    """Cuts every output longer than ``max_lines`` lines to its head and tail, with a note,
    and every line (the error's message too) longer than ``max_line_chars`` characters."""

    max_lines: int | None = 20
    max_line_chars: int | None = 1000

    def __call__(self, document: Document) -> Document:
        if self.max_lines is None or self.max_lines <= 0:
            return document
        document = _map_outputs(document, self._output)
        failure = document.failure
        if failure is not None:
            failure = replace(failure, evalue=clip_lines(failure.evalue, self.max_line_chars))
        return replace(document, failure=failure)

    def _output(self, output: Output) -> Output:
        text = clip_lines(truncate(output.text, self.max_lines), self.max_line_chars)
        return replace(output, text=text, evalue=clip_lines(output.evalue, self.max_line_chars))


@dataclass(frozen=True)
class TruncateSources:
    """Shows at most ``max_lines`` lines of a long cell source, each cut to ``max_line_chars``.

    A code cell's line numbers stay true: the failing cell keeps a window around the line that
    raised, other cells their head and tail, and the lines not shown are blanked so that no
    later step copies them. Markdown and raw cells, printed without numbers, keep their head
    and tail with a note of the lines cut, as outputs do. Real notebooks have 50-line cells,
    and three of them would drown the error; a hostile one has a 50 MB line.
    """

    max_lines: int | None = 30
    max_line_chars: int | None = 1000

    def __call__(self, document: Document) -> Document:
        if self.max_lines is None or self.max_lines <= 0:
            return document
        cells = tuple(
            self._cut(item) if isinstance(item, Cell) else item for item in document.cells
        )
        return replace(document, cells=cells)

    def _cut(self, cell: Cell) -> Cell:
        assert self.max_lines is not None
        if cell.cell_type != "code":
            source = truncate(cell.source, max(self.max_lines, 2))
            return replace(cell, source=clip_lines(source, self.max_line_chars))
        ranges = self._ranges(cell)
        source = cell.source if ranges is None else _blank_outside(cell.source, ranges)
        return replace(cell, source=clip_lines(source, self.max_line_chars), shown_lines=ranges)

    def _ranges(self, cell: Cell) -> tuple[tuple[int, int], ...] | None:
        assert self.max_lines is not None
        count = cell.source.count("\n") + 1
        limit = max(self.max_lines, 2)
        if count <= limit:
            return None
        mark = cell.failing_line if cell.failed else None
        if mark is not None and 1 <= mark <= count:
            # More lines before the failing one than after: they lead up to it.
            last = min(count, max(1, mark - limit * 2 // 3) + limit - 1)
            return ((last - limit + 1, last),)
        head = (limit + 1) // 2
        return ((1, head), (count - (limit - head) + 1, count))


def _blank_outside(source: str, ranges: tuple[tuple[int, int], ...]) -> str:
    """``source`` with every line outside the (1-based, inclusive, ordered) ``ranges`` emptied.

    Built from slices and runs of newlines, never a list of every line: a source can be
    millions of lines, and a list of them costs ten times the text.
    """
    total = source.count("\n") + 1
    pieces: list[str] = []
    previous = 0
    for first, last in ranges:
        pieces.append("\n" * (first - 1 if previous == 0 else first - previous))
        end = _line_offset(source, last + 1, total) - 1 if last < total else len(source)
        pieces.append(source[_line_offset(source, first, total) : end])
        previous = last
    pieces.append("\n" * (total - previous))
    return "".join(pieces)


def _line_offset(source: str, number: int, total: int) -> int:
    """Where line ``number`` (1-based) of ``source``'s ``total`` lines starts, found from the
    nearer end."""
    if number - 1 <= total - number + 1:
        position = -1
        for _ in range(number - 1):
            position = source.find("\n", position + 1)
        return position + 1
    position = len(source)
    for _ in range(total - number + 1):
        position = source.rfind("\n", 0, position)
    return position + 1


@dataclass(frozen=True)
class AnsiColors:
    """Keeps (``keep=True``) or strips the outputs' ANSI colours; removes every other control.

    Outputs and sources come from whoever wrote the notebook: cursor movement, screen clears and
    OSC titles or hyperlinks are removed even when colours are kept, and ``\\r`` progress bars
    are reduced to their last frame.
    """

    keep: bool = False

    def __call__(self, document: Document) -> Document:
        document = _map_outputs(document, self._output)
        cells = tuple(
            replace(item, source=self._clean(item.source)) if isinstance(item, Cell) else item
            for item in document.cells
        )
        failure = document.failure
        if failure is not None:
            failure = replace(
                failure,
                ename=self._clean(failure.ename),
                evalue=self._clean(failure.evalue),
                traceback=tuple(self._clean(line) for line in failure.traceback),
            )
        return replace(document, cells=cells, failure=failure)

    def _clean(self, text: str) -> str:
        return sanitize(text, keep_color=self.keep)

    def _output(self, output: Output) -> Output:
        text = resolve_overwrites(output.text) if output.kind == "stream" else output.text
        return replace(
            output,
            text=self._clean(text),
            name=self._clean(output.name),
            ename=self._clean(output.ename),
            evalue=self._clean(output.evalue),
            traceback=tuple(self._clean(line) for line in output.traceback),
        )


def _map_outputs(document: Document, change: Callable[[Output], Output]) -> Document:
    cells = tuple(
        replace(item, outputs=tuple(change(output) for output in item.outputs))
        if isinstance(item, Cell)
        else item
        for item in document.cells
    )
    return replace(document, cells=cells)
