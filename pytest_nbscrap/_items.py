"""Notebooks collected as test items (``--nbscrap``), and how notebook failures are reported."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from ._param_sets import ParamSet, item_names, metadata_param_sets, nb_param_sets
from ._regression import OutputMismatchError
from ._runs import RunSpec
from ._validate import read_metadata

if TYPE_CHECKING:
    from ._session import NbScrapSession

__all__ = ["NotebookFile", "REPORTED", "NotebookItem", "failure_repr", "location"]


def _session(config: pytest.Config) -> NbScrapSession:
    from ._session import session_of  # that module imports this one

    return session_of(config)


class NotebookFile(pytest.File):
    """A ``.ipynb`` file: one item, or one per parameter set in its ``metadata.nbscrap``.

    A file that cannot be read still yields one item, which fails with the reason: one broken
    notebook must not stop the session the way a collection error would.
    """

    def collect(self) -> Iterator[NotebookItem]:
        settings = _session(self.config).settings
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
        spec = settings.run_spec(
            self.path, {}, kernel=options.get("kernel"), kernel_by="metadata.nbscrap.kernel"
        )
        yield from NotebookItem.per_set(self, spec, sets, [mark.mark for mark in marks])


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
    from ._text import sanitize  # reasons are printed, and come from the notebook

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

    @classmethod
    def per_set(
        cls, parent: pytest.Collector, spec: RunSpec, sets: list[ParamSet], marks: list[pytest.Mark]
    ) -> list[NotebookItem]:
        """One item per parameter set (laid over ``spec``'s own), each with ``marks``."""
        specs = [spec.with_params(params) for params in sets]
        names = item_names(spec.path.stem, [one.params for one in specs])
        items = []
        for name, one in zip(names, specs, strict=True):
            item: NotebookItem = cls.from_parent(parent, name=name, spec=one)
            for mark in marks:
                item.own_markers.append(mark)
                item.keywords[mark.name] = mark
            items.append(item)
        return items

    def per_marker_set(self) -> list[NotebookItem]:
        """This item once per set of an ``nb_params`` marker added after collection (itself
        when it has one set or none), keeping its other markers."""
        sets = nb_param_sets(self) if self.error is None else []
        if len(sets) < 2:
            return [self]
        assert self.parent is not None  # a collected item always has its file as parent
        marks = [mark for mark in self.own_markers if mark.name != "nb_params"]
        return self.per_set(self.parent, self.spec, sets, marks)

    def runtest(self) -> None:
        if self.error is not None:
            raise self.error
        session = _session(self.config)
        executed = session.runner.run(self.effective_spec(), location(self))
        from ._regression import check_stored

        if check_stored(self.path, executed, session.settings):
            from ._update import REWROTE

            root = self.config.rootpath
            shown = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
            self.user_properties.append((REWROTE, str(shown)))

    def effective_spec(self) -> RunSpec:
        """The run spec, with parameters from an ``nb_params`` marker added after collection."""
        return self.spec.with_params(nb_param_sets(self)[0])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, REPORTED):
            return failure_repr(excinfo.value, _session(self.config).settings.color)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        # The header pytest prints comes from the file's name: made harmless for a terminal.
        from ._text import sanitize

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
    elif isinstance(error, OutputMismatchError):
        from .export import mismatch_summary, render_mismatch

        text = render_mismatch(error, color=color)
        first = error.differences.cells[0].number if error.differences.cells else 0
        location = ReprFileLocation(str(error.path), first, mismatch_summary(error))
    else:
        from ._text import sanitize

        text = sanitize(str(error))  # it may quote the notebook: a kernel name, a metadata key
        summary = _reason(error)
        location = ReprFileLocation(str(getattr(error, "path", "")), 0, summary)
    entry = ReprEntryNative([text if text.endswith("\n") else text + "\n"])
    return ExceptionChainRepr([(ReprTraceback([entry], None, "native"), location, None)])


def _reason(error: NbScrapError | UnknownParameterWarning) -> str:
    """The summary line of an error that is not a cell's: its type and what went wrong,
    without the notebook's path (the test id names it), so the reason is what fits the line."""
    from ._text import clip_lines, one_line, sanitize
    from .export.render import SUMMARY_CHARS

    if isinstance(error, NotebookReadError):
        text = error.reason
    else:
        path = getattr(error, "path", None)
        text = str(error).removeprefix(f"{path}: ") if path else str(error)
    line = one_line(sanitize(text))
    named = f"{type(error).__name__}: {line}" if line else type(error).__name__
    return clip_lines(named, SUMMARY_CHARS)
