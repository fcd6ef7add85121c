"""Notebooks as plain text for a terminal, on nbconvert's architecture.

A :class:`~.model.Document` (and its :class:`~.model.Failure`) is built from a notebook or an
execution error; preprocessors reshape it; a Jinja2 template renders it; a writer puts the text
somewhere. Importing this package does not import Jinja2.
"""

from __future__ import annotations

from .differences import AttachDifferences, FocusOnDifferences
from .exporter import DEFAULT_TEMPLATE, TEMPLATE_DIR, Exporter, Resources
from .filters import colorize, indent, number_lines, sanitize, strip_ansi, truncate, wrap
from .model import Cell, Difference, Document, Elided, Failure, Output
from .preprocessors import (
    AnsiColors,
    DropPapermillMarkers,
    FocusOnFailure,
    Preprocessor,
    TruncateOutputs,
    TruncateSources,
)
from .render import (
    RenderOptions,
    default_exporter,
    failure_summary,
    mismatch_summary,
    render_failure,
    render_mismatch,
    render_notebook,
)
from .writers import FileWriter, StdoutWriter, StringWriter, Writer

__all__ = [
    # the calls the plugin and the command line make
    "render_failure",
    "failure_summary",
    "render_notebook",
    "render_mismatch",
    "mismatch_summary",
    "RenderOptions",
    "default_exporter",
    # the model
    "Document",
    "Failure",
    "Cell",
    "Output",
    "Elided",
    "Difference",
    # the pipeline
    "Exporter",
    "Resources",
    "DEFAULT_TEMPLATE",
    "TEMPLATE_DIR",
    "Preprocessor",
    "DropPapermillMarkers",
    "FocusOnFailure",
    "TruncateOutputs",
    "TruncateSources",
    "AnsiColors",
    "AttachDifferences",
    "FocusOnDifferences",
    "Writer",
    "StringWriter",
    "StdoutWriter",
    "FileWriter",
    # filters
    "strip_ansi",
    "sanitize",
    "indent",
    "number_lines",
    "truncate",
    "wrap",
    "colorize",
]
