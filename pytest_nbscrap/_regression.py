"""A fresh run against the notebook it ran from: which cells are compared, and what differs.

Cells are matched source to executed leaving out the injected-parameters cell (papermill adds
it, see ``_prepare._inject``) and papermill's error markers, by cell id where both have ids and
by position otherwise. A code cell is compared when nbval would compare it: its markers say so
or ``every_cell`` (``--nbscrap-compare``) does (:func:`._conventions.output_checked`), it runs
(not skipped), and its stored copy ran (nbval's rule: a cell stored unrun, without outputs, is
not compared, so a notebook stored without outputs passes on outputs). With ``scraps``, the
scraps the compared cells glued are compared by value (:mod:`._scrap_compare`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._compare import CellDifference, CompareRules, compare_cell
from ._conventions import (
    CHECK_OUTPUT_SPELLINGS,
    INJECTED_PARAMETERS_TAG,
    PAPERMILL_ERROR_TAG,
    SKIP_EXECUTION_TAG,
    cell_rule,
    output_checked,
)
from ._errors import NbScrapError
from ._scrap_compare import ScrapDifference, scrap_differences
from ._scraps import scraps_from_cells

if TYPE_CHECKING:
    from pathlib import Path

    from ._reader import Notebook
    from ._settings import Settings

__all__ = [
    "Comparison",
    "Differences",
    "OutputMismatchError",
    "check_stored",
    "compare_notebook",
]


@dataclass(frozen=True)
class Differences:
    """What a fresh run of the notebook at ``path`` changed: cells, then scraps."""

    path: str
    cells: tuple[CellDifference, ...] = ()
    scraps: tuple[ScrapDifference, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.cells or self.scraps)

    def summary(self) -> str:
        """``"outputs differ from the stored ones: cells 2, 5; scraps total"``."""
        parts = []
        if self.cells:
            noun = "cell" if len(self.cells) == 1 else "cells"
            parts.append(f"{noun} {', '.join(str(cell.number) for cell in self.cells)}")
        if self.scraps:
            noun = "scrap" if len(self.scraps) == 1 else "scraps"
            parts.append(f"{noun} {', '.join(scrap.name for scrap in self.scraps)}")
        return f"outputs differ from the stored ones: {'; '.join(parts)}"


@dataclass(frozen=True)
class Comparison:
    """The differences, and the cells compared as (source index, executed index) pairs: the
    cells whose fresh outputs ``--nbscrap-update`` writes back."""

    differences: Differences
    compared: tuple[tuple[int, int], ...] = ()


def _tags(cell: Mapping[str, Any]) -> list[Any]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    return tags if isinstance(tags, list) else []


def _users(cells: Sequence[Mapping[str, Any]]) -> list[int]:
    """The indexes of the user's own cells: papermill's injected and marker cells left out."""
    return [
        index
        for index, cell in enumerate(cells)
        if not {INJECTED_PARAMETERS_TAG, PAPERMILL_ERROR_TAG} & set(_tags(cell))
    ]


def _matched(
    source: Sequence[Mapping[str, Any]], executed: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int | None]]:
    """(source index, executed index or None) for each of the user's source cells."""
    ours, theirs = _users(source), _users(executed)
    by_id = {executed[index].get("id"): index for index in theirs if executed[index].get("id")}
    pairs: list[tuple[int, int | None]] = []
    for position, index in enumerate(ours):
        cell_id = source[index].get("id")
        if cell_id and cell_id in by_id:
            pairs.append((index, by_id[cell_id]))
        else:
            pairs.append((index, theirs[position] if position < len(theirs) else None))
    return pairs


def _compared(cell: Mapping[str, Any], every_cell: bool) -> bool:
    if cell.get("cell_type") != "code" or SKIP_EXECUTION_TAG in _tags(cell):
        return False
    if cell_rule(cell).skip or not output_checked(cell, by_default=every_cell):
        return False
    outputs = cell.get("outputs")
    return cell.get("execution_count") is not None or bool(outputs)


def compare_notebook(
    source: Notebook, executed: Notebook, rules: CompareRules, *, every_cell: bool, scraps: bool
) -> Comparison:
    """What differs between the outputs stored in ``source`` and the fresh ``executed`` ones."""
    stored_cells, fresh_cells = source.cells, executed.cells
    cells: list[CellDifference] = []
    compared: list[tuple[int, int]] = []
    for number, (index, fresh_index) in enumerate(_matched(stored_cells, fresh_cells), start=1):
        stored = stored_cells[index]
        if fresh_index is None or not _compared(stored, every_cell):
            continue
        compared.append((index, fresh_index))
        source_text = stored.get("source", "")
        if isinstance(source_text, list):
            source_text = "".join(source_text)
        difference = compare_cell(
            number,
            str(source_text),
            stored.get("outputs") or [],
            fresh_cells[fresh_index].get("outputs") or [],
            rules,
        )
        if difference is not None:
            cells.append(difference)
    scrap_found: tuple[ScrapDifference, ...] = ()
    if scraps:
        scrap_found = scrap_differences(
            scraps_from_cells(stored_cells[index] for index, _ in compared),
            scraps_from_cells(fresh_cells[index] for _, index in compared),
            rules.rel_tol,
        )
    differences = Differences(source.path, tuple(cells), scrap_found)
    return Comparison(differences, tuple(compared))


def check_stored(source: Path, executed: Notebook, settings: Settings) -> bool:
    """The check a collected notebook gets after its run: the cells it compares (every one
    with ``--nbscrap-compare``, else those marked check-output) against ``source``'s stored
    outputs. Differences raise :class:`OutputMismatchError`, or with ``--nbscrap-update`` are
    written into ``source``; returns whether it was rewritten."""
    from ._reader import read_notebook

    if not settings.compare and not any(
        marker in source.read_text(encoding="utf-8", errors="replace")
        for marker in CHECK_OUTPUT_SPELLINGS
    ):
        return False  # nothing to compare: a plain run reads no source again
    comparison = compare_notebook(
        read_notebook(source),
        executed,
        settings.rules,
        every_cell=settings.compare,
        scraps=settings.compare,
    )
    if not comparison.differences:
        return False
    if settings.update:
        from ._update import write_fresh_outputs

        write_fresh_outputs(source, executed, comparison.compared)
        return True
    raise OutputMismatchError.from_differences(comparison.differences, executed, executed.path)


class OutputMismatchError(NbScrapError):
    """A notebook ran, but its fresh outputs or scraps differ from those stored in it.

    Part of ``_errors``' hierarchy, kept beside the comparison it reports (``_errors`` is at
    its size limit). It pickles as every NbScrapError does: its facts are frozen values and the
    executed notebook, which crosses pytest-xdist workers as CellExecutionError's does.
    """

    path: str
    differences: Differences
    notebook: Notebook | None
    output_path: str

    @classmethod
    def from_differences(
        cls, differences: Differences, notebook: Notebook | None = None, output_path: str = ""
    ) -> OutputMismatchError:
        return cls(
            f"{differences.path}: {differences.summary()}",
            path=differences.path,
            differences=differences,
            notebook=notebook,
            output_path=output_path,
        )
