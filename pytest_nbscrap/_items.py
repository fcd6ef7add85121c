"""Notebooks collected as test items (``--nbscrap``), and how notebook failures are reported."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import (
    ExceptionChainRepr,
    ReprEntryNative,
    ReprFileLocation,
    ReprTraceback,
)

from ._errors import (
    CellExecutionError,
    NbScrapError,
    NotebookReadError,
    UnknownParameterWarning,
    UsageError,
)
from ._params import metadata_param_sets, param_ids
from ._runs import Runner, RunSpec
from ._settings import Settings
from ._validate import read_metadata

__all__ = [
    "NotebookFile",
    "REPORTED",
    "NotebookItem",
    "failure_repr",
    "location",
    "runner_key",
    "settings_key",
]

settings_key = pytest.StashKey[Settings]()
runner_key = pytest.StashKey[Runner]()


class NotebookFile(pytest.File):
    """A ``.ipynb`` file: one item, or one per parameter set in its ``metadata.nbscrap``.

    A file that cannot be read still yields one item, which fails with the reason: one broken
    notebook must not stop the session the way a collection error would.
    """

    def collect(self) -> Iterator[NotebookItem]:
        settings = self.config.stash[settings_key]
        try:
            options = _nbscrap_metadata(read_metadata(self.path), str(self.path))
            marks = _metadata_marks(options, str(self.path))
            sets = (
                metadata_param_sets(options["params"], where=str(self.path))
                if "params" in options
                else [{}]
            )
        except NbScrapError as error:
            yield NotebookItem.from_parent(
                self, name=self.path.stem, spec=RunSpec(self.path), error=error
            )
            return
        # The session's limit: the run adds the notebook's own metadata.nbscrap.timeout, and
        # the stricter wins (one rule, in _conventions); a null or 0 there switches none off.
        timeout = settings.timeout
        kernel, kernel_by = settings.kernel, settings.kernel_by
        if options.get("kernel") is not None:
            kernel, kernel_by = options["kernel"], "metadata.nbscrap.kernel"
        for params, id_ in zip(sets, param_ids(sets), strict=True):
            name = f"{self.path.stem}[{id_}]" if params else self.path.stem
            spec = RunSpec(self.path, params, kernel, timeout, kernel_by=kernel_by)
            item = NotebookItem.from_parent(self, name=name, spec=spec)
            for mark in marks:
                item.add_marker(mark)
            yield item


def _nbscrap_metadata(metadata: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    options = metadata.get("nbscrap", {})
    if not isinstance(options, Mapping):
        raise UsageError(f"{where}: metadata.nbscrap must be an object", path=where)
    unknown = set(options) - {"params", "timeout", "kernel", "skip", "xfail", "markers"}
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) in metadata.nbscrap: {', '.join(sorted(unknown))}; "
            "known: params, timeout, kernel, skip, xfail, markers",
            path=where,
        )
    return options


def _metadata_marks(options: Mapping[str, Any], where: str) -> list[pytest.MarkDecorator]:
    """The marks ``metadata.nbscrap`` asks for; a bad one is a :class:`UsageError` of this
    notebook alone, raised at collection, so its item fails and the others still run."""
    from .export.filters import sanitize  # reasons are printed, and come from the notebook

    marks = []
    if options.get("skip"):
        marks.append(pytest.mark.skip(reason=sanitize(str(options["skip"]))))
    if options.get("xfail"):
        marks.append(pytest.mark.xfail(reason=sanitize(str(options["xfail"]))))
    names = options.get("markers", [])
    # A lone string is refused, not split: "slow" would be the markers s, l, o and w.
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise UsageError(
            f'{where}: metadata.nbscrap.markers must be a list of marker names, like ["slow"]',
            path=where,
        )
    for name in names:
        # pytest.mark refuses names starting with "_"; -m can select identifiers only.
        if not name.isidentifier() or name.startswith("_"):
            raise UsageError(
                f"{where}: metadata.nbscrap.markers: {name[:100]!r} is not a marker name "
                "(a Python identifier not starting with '_')",
                path=where,
            )
        try:
            marks.append(getattr(pytest.mark, name))
        except pytest.fail.Exception as refused:  # --strict-markers and an unregistered name
            message = f"{where}: metadata.nbscrap.markers: {refused.msg}"
            raise UsageError(message, path=where) from None
    return marks


class NotebookItem(pytest.Item):
    """Executes one notebook (with one parameter set); passes when no cell fails."""

    def __init__(self, *, spec: RunSpec, error: NbScrapError | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.error = error

    def runtest(self) -> None:
        if self.error is not None:
            raise self.error
        self.config.stash[runner_key].run(self.effective_spec(), location(self))

    def effective_spec(self) -> RunSpec:
        """The run spec, with parameters from an ``nb_params`` marker added after collection."""
        marker = self.get_closest_marker("nb_params")
        if marker is None:
            return self.spec
        from ._params import param_sets

        [params] = param_sets(marker.args, marker.kwargs, where=self.nodeid)[:1]
        return dataclasses.replace(self.spec, params={**self.spec.params, **params})

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, REPORTED):
            return failure_repr(excinfo.value, self.config.stash[settings_key].color)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        # The header pytest prints comes from the file's name: made harmless for a terminal.
        from .export.filters import sanitize

        return self.path, 0, f"notebook {sanitize(self.name)}"


def location(item: pytest.Item) -> tuple[str, int]:
    """The file and line of a test or item: where warnings about its notebook run point."""
    path, line, _ = item.reportinfo()
    return os.fspath(path), (line or 0) + 1


#: Raised for a notebook run, and shown as our failure view rather than a traceback through
#: the plugin: its errors, and the unknown-parameter warning when warnings are errors.
REPORTED = (NbScrapError, UnknownParameterWarning)


def failure_repr(error: NbScrapError | UnknownParameterWarning, color: bool) -> ExceptionChainRepr:
    """pytest's own failure structure around our text, so the one-line summary carries the
    error and cell, and the report crosses pytest-xdist intact."""
    if isinstance(error, CellExecutionError):
        from .export import failure_summary, render_failure

        text = render_failure(error, color=color)
        summary = failure_summary(error, color=color)
        location = ReprFileLocation(str(error.path), error.cell_number or 0, summary)
    else:
        from .export.filters import sanitize

        text = sanitize(str(error))  # it may quote the notebook: a kernel name, a metadata key
        summary = _reason(error)
        location = ReprFileLocation(str(getattr(error, "path", "")), 0, summary)
    entry = ReprEntryNative([text if text.endswith("\n") else text + "\n"])
    return ExceptionChainRepr([(ReprTraceback([entry], None, "native"), location, None)])


def _reason(error: NbScrapError | UnknownParameterWarning) -> str:
    """The summary line of an error that is not a cell's: its type and what went wrong,
    without the notebook's path (the test id names it), so the reason is what fits the line."""
    from .export.filters import clip_lines, sanitize
    from .export.render import SUMMARY_CHARS

    if isinstance(error, NotebookReadError):
        text = error.reason
    else:
        path = getattr(error, "path", None)
        text = str(error).removeprefix(f"{path}: ") if path else str(error)
    line = " ".join(sanitize(text).split())
    named = f"{type(error).__name__}: {line}" if line else type(error).__name__
    return clip_lines(named, SUMMARY_CHARS)
