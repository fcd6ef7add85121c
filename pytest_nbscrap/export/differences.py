"""The preprocessors of the differences view: fresh outputs against the stored ones.

:class:`AttachDifferences` places a comparison's result on the document (each differing cell
gets its expected-against-got diff); :class:`FocusOnDifferences` keeps the differing cells and
folds the others into one-line notes. The template's ``differences_header``, ``difference``
and ``scrap_differences`` blocks print them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .filters import clip_lines, sanitize
from .model import Cell, Difference, Document, Elided

if TYPE_CHECKING:
    from .._compare import CellDifference
    from .._regression import Differences

__all__ = ["AttachDifferences", "FocusOnDifferences", "diff_lines"]


def diff_lines(
    expected: str, got: str, *, max_lines: int | None = 40, max_line_chars: int = 1000
) -> tuple[str, ...]:
    """A unified diff of two outputs without its file headers, hunks joined by ``...``, cut
    to ``max_lines`` lines (None or 0: all) of at most ``max_line_chars`` characters."""
    lines: list[str] = []
    diff = difflib.unified_diff(expected.split("\n"), got.split("\n"), n=3, lineterm="")
    for line in diff:
        if line.startswith(("---", "+++")) and not lines:
            continue  # the two file headers come first, before any hunk
        if line.startswith("@@"):
            if lines:
                lines.append("...")
            continue
        # The diff colours its own lines: the outputs' colours and controls are taken out.
        lines.append(clip_lines(sanitize(line, keep_color=False), max_line_chars))
    if max_lines and len(lines) > max_lines:
        cut = len(lines) - max_lines
        lines = [*lines[:max_lines], f"... {cut} more diff line{'s' if cut > 1 else ''} ..."]
    return tuple(lines)


@dataclass(frozen=True)
class AttachDifferences:
    """Puts ``differences`` on the document and each differing cell's diff on that cell
    (cells are found by their number; one the document lacks is added, from its source)."""

    differences: Differences
    max_lines: int | None = 40

    def __call__(self, document: Document) -> Document:
        by_number: dict[int | None, CellDifference] = {
            cell.number: cell for cell in self.differences.cells
        }
        cells: list[Cell | Elided] = []
        placed = set()
        for item in document.cells:
            found = by_number.get(item.number) if isinstance(item, Cell) else None
            if isinstance(item, Cell) and found is not None:
                cells.append(replace(item, difference=self._difference(found)))
                placed.add(found.number)
            else:
                cells.append(item)
        for found in self.differences.cells:
            if found.number not in placed:
                shown = Cell(-1, found.number, "code", found.source.rstrip())
                cells.append(replace(shown, difference=self._difference(found)))
        return replace(document, cells=tuple(cells), differences=self.differences)

    def _difference(self, cell: CellDifference) -> Difference:
        return Difference(
            cell.reason, diff_lines(cell.expected, cell.got, max_lines=self.max_lines)
        )


@dataclass(frozen=True)
class FocusOnDifferences:
    """Keeps the cells that differ; each run of other cells becomes one :class:`Elided`."""

    def __call__(self, document: Document) -> Document:
        if document.differences is None:
            return document
        cells: list[Cell | Elided] = []
        run: list[Cell | Elided] = []
        for item in document.cells:
            if isinstance(item, Cell) and item.difference is not None:
                if run:
                    cells.append(Elided.of(run))
                    run = []
                cells.append(item)
            else:
                run.append(item)
        if run:
            cells.append(Elided.of(run))
        return replace(document, cells=tuple(cells))
