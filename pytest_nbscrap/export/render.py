"""The three calls the plugin and the command line make: the failure view, its one-line
summary, and a whole notebook. All share one exporter configuration."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

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
    from .model import NotebookLike

__all__ = ["default_exporter", "failure_summary", "render_failure", "render_notebook"]

SUMMARY_CHARS = 1000
"""The longest summary line: an error message can be megabytes."""


def default_exporter(
    *,
    color: bool,
    context: int = 2,
    max_output_lines: int | None = 20,
    max_source_lines: int | None = 30,
    template: str | os.PathLike[str] | None = None,
) -> Exporter:
    """The exporter everything uses: markers dropped, focus on the failure, colours, truncation.

    Sources are cut first, so that no later step copies what is not shown. Outputs' colours
    and ``\r`` redraws are handled before outputs are cut, so that the line counts are those
    the user sees. ``max_output_lines`` applies to each output, ``max_source_lines`` to each
    cell's source (``None`` or 0: no limit); every line shown is cut to 1,000 characters.
    """
    return Exporter(
        [
            DropPapermillMarkers(),
            FocusOnFailure(context=context),
            TruncateSources(max_lines=max_source_lines),
            AnsiColors(keep=color),
            TruncateOutputs(max_lines=max_output_lines),
        ],
        template=template,
        color=color,
    )


def render_failure(
    error: CellExecutionError,
    *,
    color: bool,
    context: int = 2,
    max_output_lines: int | None = 20,
    max_source_lines: int | None = 30,
    template: str | os.PathLike[str] | None = None,
) -> str:
    """The failure view of an execution error: the error, where it is, the failing cell with
    ``context`` cells before it, what they printed, and the executed notebook's path."""
    exporter = default_exporter(
        color=color,
        context=context,
        max_output_lines=max_output_lines,
        max_source_lines=max_source_lines,
        template=template,
    )
    text, _ = exporter.from_error(error)
    return text


def failure_summary(error: CellExecutionError | Failure, *, color: bool) -> str:
    """One line, ``"ZeroDivisionError: division by zero (cell 5)"``; no escape codes unless
    ``color``."""
    failure = error if isinstance(error, Failure) else Failure.from_error(error)
    line = sanitize(failure.summary(), keep_color=False).replace("\n", " ").replace("\t", " ")
    line = clip_lines(line, SUMMARY_CHARS)
    if color and failure.ename and line.startswith(failure.ename):
        return colorize(failure.ename, "bold red") + line[len(failure.ename) :]
    return line


def render_notebook(
    notebook: NotebookLike | Document,
    *,
    color: bool = False,
    context: int = 2,
    max_output_lines: int | None = 20,
    max_source_lines: int | None = 30,
    template: str | os.PathLike[str] | None = None,
) -> str:
    """A whole notebook as text, or its failure view when it holds an error.

    ``notebook`` is a path, a notebook dict, a Notebook, or an already built Document; an
    unreadable path raises :class:`~pytest_nbscrap._errors.NotebookReadError`.
    """
    document = notebook if isinstance(notebook, Document) else Document.from_notebook(notebook)
    exporter = default_exporter(
        color=color,
        context=context,
        max_output_lines=max_output_lines,
        max_source_lines=max_source_lines,
        template=template,
    )
    text, _ = exporter.from_document(document)
    return text
