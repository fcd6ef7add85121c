"""The three calls the plugin and the command line make: the failure view, its one-line
summary, and a whole notebook. All share one exporter configuration, :class:`RenderOptions`."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .differences import AttachDifferences, FocusOnDifferences
from .exporter import Exporter
from .filters import clip_lines, colorize, sanitize
from .model import Document, Failure
from .preprocessors import (
    AnsiColors,
    DropPapermillMarkers,
    FocusOnFailure,
    TruncateOutputs,
    TruncateSources,
)

if TYPE_CHECKING:
    from .._errors import CellExecutionError
    from .._regression import Differences, OutputMismatchError
    from .model import NotebookLike

__all__ = [
    "RenderOptions",
    "default_exporter",
    "failure_summary",
    "mismatch_summary",
    "render_failure",
    "render_mismatch",
    "render_notebook",
]

SUMMARY_CHARS = 1000
"""The longest summary line: an error message can be megabytes."""


@dataclass(frozen=True)
class RenderOptions:
    """How a notebook or a failure is rendered; every render call takes these, as a value or
    as keywords (``render_notebook(nb, context=3)``), so that a new option is one field here.

    ``context``: cells shown before a failing one. ``max_output_lines`` applies to each
    output, ``max_source_lines`` to each cell's source (``None`` or 0: no limit); every line
    shown is cut to 1,000 characters. ``template``: a Jinja2 file, or None for the default.
    """

    color: bool = False
    context: int = 2
    max_output_lines: int | None = 20
    max_source_lines: int | None = 30
    template: str | os.PathLike[str] | None = None

    @classmethod
    def given(cls, options: RenderOptions | None, changes: dict[str, Any]) -> RenderOptions:
        """``options`` (the defaults when None) with the keywords a call was given."""
        return replace(options or cls(), **changes)

    def exporter(self) -> Exporter:
        """The exporter everything uses: markers dropped, focus on the failure, colours,
        truncation.

        Sources are cut first, so that no later step copies what is not shown. Outputs'
        colours and ``\\r`` redraws are handled before outputs are cut, so that the line counts
        are those the user sees.
        """
        return Exporter(
            [
                DropPapermillMarkers(),
                FocusOnFailure(context=self.context),
                TruncateSources(max_lines=self.max_source_lines),
                AnsiColors(keep=self.color),
                TruncateOutputs(max_lines=self.max_output_lines),
            ],
            template=self.template,
            color=self.color,
        )

    def differences_exporter(self, differences: Differences) -> Exporter:
        """The exporter of the differences view: the differing cells, each with its diff
        (cut to ``max_output_lines``), the scraps that differ; the rest as :meth:`exporter`."""
        return Exporter(
            [
                AttachDifferences(differences, max_lines=self.max_output_lines),
                DropPapermillMarkers(),
                FocusOnDifferences(),
                TruncateSources(max_lines=self.max_source_lines),
                AnsiColors(keep=self.color),
                TruncateOutputs(max_lines=self.max_output_lines),
            ],
            template=self.template,
            color=self.color,
        )


def default_exporter(options: RenderOptions | None = None, /, **changes: Any) -> Exporter:
    """:meth:`RenderOptions.exporter` of the options given (keywords: RenderOptions' fields)."""
    return RenderOptions.given(options, changes).exporter()


def render_failure(
    error: CellExecutionError, options: RenderOptions | None = None, /, **changes: Any
) -> str:
    """The failure view of an execution error: the error, where it is, the failing cell with
    ``context`` cells before it, what they printed, and the executed notebook's path."""
    text, _ = default_exporter(options, **changes).from_error(error)
    return text


def failure_summary(error: CellExecutionError | Failure, *, color: bool) -> str:
    """One line, ``"ZeroDivisionError: division by zero (cell 5)"``; no escape codes unless
    ``color``."""
    failure = error if isinstance(error, Failure) else error.failure
    line = sanitize(failure.summary(), keep_color=False).replace("\n", " ").replace("\t", " ")
    line = clip_lines(line, SUMMARY_CHARS)
    if color and failure.ename and line.startswith(failure.ename):
        return colorize(failure.ename, "bold red") + line[len(failure.ename) :]
    return line


def render_notebook(
    notebook: NotebookLike | Document, options: RenderOptions | None = None, /, **changes: Any
) -> str:
    """A whole notebook as text, or its failure view when it holds an error.

    ``notebook`` is a path, a notebook dict, a Notebook, or an already built Document; an
    unreadable path raises :class:`~pytest_nbscrap._errors.NotebookReadError`.
    """
    document = notebook if isinstance(notebook, Document) else Document.from_notebook(notebook)
    text, _ = default_exporter(options, **changes).from_document(document)
    return text


def render_mismatch(
    error: OutputMismatchError, options: RenderOptions | None = None, /, **changes: Any
) -> str:
    """The differences view of a notebook whose fresh outputs differ from its stored ones:
    which cells and scraps differ, each differing cell's number, source and diff."""
    notebook = error.notebook
    document = Document.from_notebook(notebook) if notebook is not None else Document(())
    if not document.path:
        document = replace(document, path=error.output_path or None)
    exporter = RenderOptions.given(options, changes).differences_exporter(error.differences)
    text, _ = exporter.from_document(document)
    return text


def mismatch_summary(error: OutputMismatchError) -> str:
    """One line: ``"outputs differ from the stored ones: cells 2, 5; scrap total"``."""
    line = sanitize(error.differences.summary(), keep_color=False).replace("\n", " ")
    return clip_lines(line, SUMMARY_CHARS)
