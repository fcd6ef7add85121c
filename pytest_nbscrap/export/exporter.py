"""The exporter: preprocessors, then a Jinja2 template, then a last safety pass over the text.

Jinja2 is imported when a template is first loaded, not when this module is, so importing the
package (or the pytest plugin) costs nothing until something is rendered.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import UsageError
from . import filters
from .filters import sanitize
from .model import Document
from .preprocessors import Preprocessor

if TYPE_CHECKING:
    import jinja2

    from .._errors import CellExecutionError
    from .model import NotebookLike

__all__ = ["DEFAULT_TEMPLATE", "TEMPLATE_DIR", "Exporter", "Resources"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE = "text.j2"

Resources = dict[str, Any]

_FILTERS = {
    "strip_ansi": filters.strip_ansi,
    "indent": filters.indent,
    "number_lines": filters.number_lines,
    "truncate": filters.truncate,
    "wrap": filters.wrap,
    "colorize": filters.colorize,
}


class Exporter:
    """Renders a notebook as text: ``(text, resources)``, as nbconvert's exporters do.

    ``template`` is a path to a Jinja2 file (it may ``{% extends "text.j2" %}``), or ``None``
    for the default. The returned text ends with one newline and, whatever the template or the
    notebook held, carries no terminal control but SGR colours, and those only with ``color``.
    """

    def __init__(
        self,
        preprocessors: Iterable[Preprocessor] = (),
        *,
        template: str | os.PathLike[str] | None = None,
        color: bool = False,
        width: int = 100,
    ) -> None:
        self.preprocessors = tuple(preprocessors)
        self.template = os.fspath(template) if template is not None else None
        self.color = color
        self.width = width

    def __repr__(self) -> str:
        return (
            f"Exporter(preprocessors={list(self.preprocessors)!r}, template={self.template!r}, "
            f"color={self.color!r}, width={self.width!r})"
        )

    def preprocess(self, document: Document) -> Document:
        for preprocessor in self.preprocessors:
            document = preprocessor(document)
        return document

    def from_document(self, document: Document) -> tuple[str, Resources]:
        document = self.preprocess(document)
        resources: Resources = {
            "color": self.color,
            "width": self.width,
            "template": self.template or DEFAULT_TEMPLATE,
            "failure": document.failure,
            "output_extension": ".txt",
        }
        template = _template(self.template)
        try:
            text = template.render(
                nb=document,
                failure=document.failure,
                color=self.color,
                width=self.width,
                resources=resources,
            )
        except Exception as exc:
            if self.template is None:
                raise  # a bug in the default template is ours, not a usage error
            raise UsageError(
                f"Template {self.template} failed: {type(exc).__name__}: {exc}",
                template=self.template,
            ) from None
        return _tidy(sanitize(text, keep_color=self.color)), resources

    def from_notebook(self, notebook: NotebookLike) -> tuple[str, Resources]:
        """From a path, a notebook dict or a Notebook; raises NotebookReadError if unreadable."""
        return self.from_document(Document.from_notebook(notebook))

    def from_error(self, error: CellExecutionError) -> tuple[str, Resources]:
        return self.from_document(Document.from_error(error))


def _tidy(text: str) -> str:
    """Trailing spaces off every line, no blank lines at either end, one final newline."""
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def _template(path: str | None) -> jinja2.Template:
    if path is None:
        return _load(None, 0)
    try:
        mtime = Path(path).stat().st_mtime_ns
    except OSError as exc:
        raise UsageError(
            f"Cannot read template {path}: {exc.strerror or exc}", template=path
        ) from None
    return _load(path, mtime)


@functools.lru_cache(maxsize=8)
def _load(path: str | None, mtime: int) -> jinja2.Template:  # noqa: ARG001 - mtime keys the cache
    import jinja2

    search = [str(TEMPLATE_DIR)]
    if path is not None:
        # The default folder comes first so that {% extends "text.j2" %} finds ours even when
        # the user's own file has that name; their other includes come from their folder.
        search.append(str(Path(path).resolve().parent))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - plain text for a terminal, not HTML
    )
    environment.filters.update(_FILTERS)
    if path is None:
        return environment.get_template(DEFAULT_TEMPLATE)
    try:
        source = Path(path).read_text(encoding="utf-8")
        return environment.from_string(source)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read template {path}: {exc}", template=path) from None
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f", line {line}" if line else ""
        raise UsageError(
            f"Template {path}{where}: {type(exc).__name__}: {exc}", template=path
        ) from None
