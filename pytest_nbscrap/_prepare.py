"""Preparing a run, before any kernel starts: papermill's ``execute.py`` and ``parameterize.py``.

:func:`prepare` reads the notebook, checks everything a run needs (the kernel is installed, the
parameters are JSON values the kernel's language can take, the paths make sense), injects the
parameters cell where papermill puts it, and warns about parameters the notebook does not
define, in the caller's thread, so the warnings point at the caller. What it decides is a
:class:`RunPlan`, which :mod:`pytest_nbscrap._executor` runs.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import nbformat as _nbformat
from nbformat import NotebookNode

from . import _parameters
from ._conventions import (
    INJECTED_PARAMETERS_TAG,
    PAPERMILL_ERROR_TAG,
    PARAMETERS_TAG,
    ExecutionSettings,
    first_tagged,
)
from ._errors import KernelNotFoundError, ParameterError, UnknownParameterWarning, UsageError
from ._kernels import canonical_kernel_name, installed_kernels, kernel_spec
from ._reader import read_notebook
from ._run_record import papermill_node
from ._storage import is_url
from ._validate import PathLike

__all__ = ["STARTUP_TIMEOUT", "CellProgress", "PathLike", "RunOptions", "RunPlan", "prepare"]

STARTUP_TIMEOUT = 60.0
"""Seconds a kernel may take to start and answer by default (papermill's ``start_timeout``)."""

CellProgress = Callable[[int, int], None]
"""Told ``(cells done, cells in all)`` as a run starts and after each cell (a progress bar)."""


# nbformat's functions are unannotated; reached through Any, they are visibly untyped here.
nbformat: Any = _nbformat


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How a notebook is to run: :func:`~pytest_nbscrap._executor.execute_notebook`'s keyword
    options (documented there), held once for every way of starting a run."""

    output_path: PathLike | None = None
    kernel_name: str | None = None
    timeout: float | None = None
    cwd: PathLike | None = None
    start_timeout: float = STARTUP_TIMEOUT
    progress: CellProgress | None = None
    log_output: bool = False
    storage_options: Mapping[str, Any] | None = None
    # Who chose ``kernel_name``, for the KernelNotFoundError (the pytest plugin passes its
    # marker or option).
    kernel_requested_by: str = "kernel_name"

    @classmethod
    def given(cls, keywords: Mapping[str, Any]) -> RunOptions:
        """The options among ``keywords``, an entry point's ``locals()``: a new option is a
        field here and a keyword of each entry point, never a third list of names."""
        names = {field.name for field in fields(cls)}
        return cls(**{name: value for name, value in keywords.items() if name in names})


def prepare(
    path: PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    stacklevel: int = 2,
    **options: Any,
) -> RunPlan:
    """Everything :func:`~pytest_nbscrap._executor.execute_notebook` checks before a kernel
    starts, done now (in the caller's thread, so warnings point at the caller); run it with
    :func:`~pytest_nbscrap._executor.run_prepared`. ``options`` are :class:`RunOptions`'."""
    return RunPlan.build(path, parameters, RunOptions(**options), stacklevel=stacklevel + 1)


@dataclass(frozen=True)
class RunPlan:
    """Everything decided before a kernel starts; ``nb`` is the notebook that will run.

    Nothing here changes once built, except ``nb`` itself, which the run fills in as papermill
    does (its record, the outputs): a plan runs once. A copy would keep the source's stored
    outputs alive beside the run's for as long as it runs.
    """

    shown_path: str
    # A URL (``s3://...``) stays a str: it has no local folder, and is written whole.
    source_path: Path | str
    output_path: Path | str | None
    nb: NotebookNode
    # For each cell of ``nb``: its index in the source notebook (None for the injected cell).
    origins: tuple[int | None, ...]
    kernel_name: str
    cwd: str
    # Seconds per cell: the stricter of the caller's limit and the notebook's own (nbmake's
    # ``metadata.execution.timeout``); None for none. ``timeout_set_by`` says whose it is.
    timeout: float | None
    timeout_set_by: str | None = None
    # nbclient's allow_errors, from ``metadata.execution``: no error stops the run.
    allow_errors: bool = False
    # Seconds the kernel may take to start and answer, and who is told of the cells' progress
    # and of their output (papermill's start_timeout, progress bar and log_output).
    start_timeout: float = STARTUP_TIMEOUT
    progress: CellProgress | None = None
    log_output: bool = False
    # The fsspec client's options for a URL input or output (credentials, an endpoint).
    storage_options: Mapping[str, Any] | None = None

    @classmethod
    def build(
        cls,
        path: PathLike,
        parameters: Mapping[str, Any] | None,
        options: RunOptions,
        *,
        stacklevel: int,
    ) -> RunPlan:
        shown = os.fspath(path)
        source = shown if is_url(shown) else Path(path).absolute()
        notebook = read_notebook(path, storage_options=options.storage_options)
        # Checked first: everything below reads this metadata as the shapes checked here.
        settings = ExecutionSettings.from_metadata(
            shown, notebook.metadata, notebook.node.get("cells", ())
        )
        nb = papermill_node(notebook)
        output = _output_target(shown, source, options.output_path)
        workdir = _working_directory(shown, source, options.cwd)
        origins = _drop_error_markers(nb)
        name, language = _kernel(shown, nb, options.kernel_name, options.kernel_requested_by)
        if parameters:
            values = _parameters.normalized(parameters)
            _check_parameters(shown, values, language)
            origins = _inject(nb, origins, values, name, language)
            _warn_unknown(shown, nb, origins, values, language=language, stacklevel=stacklevel + 1)
        nb.metadata.papermill["input_path"] = str(source)
        nb.metadata.papermill["output_path"] = None if output is None else str(output)
        timeout = options.timeout
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float))
        ):
            raise UsageError(f"{shown}: timeout must be a number of seconds, not {timeout!r}")
        limit = settings.limit(timeout)
        set_by = (
            f"the notebook's {settings.timeout_key}"
            if limit is not None and limit == settings.timeout and limit != timeout
            else None
        )
        start = options.start_timeout
        if isinstance(start, bool) or not isinstance(start, (int, float)) or not start > 0:
            raise UsageError(
                f"{shown}: start_timeout must be a positive number of seconds, not {start!r}"
            )
        return cls(
            shown,
            source,
            output,
            nb,
            origins,
            name,
            workdir,
            limit,
            set_by,
            settings.allow_errors,
            start_timeout=float(start),
            progress=options.progress,
            log_output=options.log_output,
            storage_options=options.storage_options,
        )


def _output_target(
    shown: str, source: Path | str, output_path: PathLike | None
) -> Path | str | None:
    if output_path is None:
        return None
    if is_url(output_path):
        if output_path == source:
            raise UsageError(
                f"{shown}: output_path is the source notebook itself; executed notebooks are "
                "written elsewhere, the source is never overwritten"
            )
        return output_path
    output = Path(output_path).absolute()
    if output.is_dir():
        raise UsageError(
            f"{shown}: output_path {output} is a folder; give the executed notebook's file name"
        )
    if isinstance(source, Path) and output.exists() and source.exists() and output.samefile(source):
        raise UsageError(
            f"{shown}: output_path is the source notebook itself; executed notebooks are "
            "written elsewhere, the source is never overwritten"
        )
    return output


def _working_directory(shown: str, source: Path | str, cwd: PathLike | None) -> str:
    """``cwd``, else the notebook's folder; a notebook at a URL has none, so its kernel runs
    in the current directory."""
    if cwd is not None:
        folder = Path(cwd).absolute()
    else:
        folder = source.parent if isinstance(source, Path) else Path.cwd()
    if not folder.is_dir():
        raise UsageError(f"{shown}: the working directory {folder} is not a folder")
    return str(folder)


def _drop_error_markers(nb: NotebookNode) -> tuple[int | None, ...]:
    kept = [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if PAPERMILL_ERROR_TAG not in cell.metadata.tags
    ]
    nb.cells = [cell for _, cell in kept]
    return tuple(index for index, _ in kept)


def _kernel(
    shown: str, nb: NotebookNode, kernel_name: str | None, kernel_requested_by: str
) -> tuple[str, str]:
    """The kernel to run (checked to be installed, named as jupyter_client runs it) and the
    notebook's language. ``kernel_requested_by`` says who gave ``kernel_name``."""
    if kernel_name:
        name, requested_by = kernel_name, kernel_requested_by
    elif (nb.metadata.get("kernelspec") or {}).get("name"):
        name, requested_by = nb.metadata.kernelspec.name, "the notebook's kernelspec"
    else:
        # nbclient's choice too: a notebook without a kernelspec runs on the default kernel.
        name, requested_by = "python3", "default (the notebook has no kernelspec)"
    spec = kernel_spec(name)
    if spec is None:
        raise KernelNotFoundError.from_names(shown, name, installed_kernels(), requested_by)
    language = (
        (nb.metadata.get("language_info") or {}).get("name")
        or (nb.metadata.get("kernelspec") or {}).get("language")
        or spec.language
    )
    return canonical_kernel_name(name), str(language)


def _check_parameters(shown: str, values: Mapping[str, Any], language: str) -> None:
    problem = _parameters.find_problem(values, language)
    if problem is not None:
        raise ParameterError.from_value(shown, problem.name, problem.value, problem.reason)


def _inject(
    nb: NotebookNode,
    origins: tuple[int | None, ...],
    values: dict[str, Any],
    kernel_name: str,
    language: str,
) -> tuple[int | None, ...]:
    """Adds the injected-parameters cell where papermill puts it; returns the new origins."""
    cell = nbformat.v4.new_code_cell(source=_parameters.render(values, kernel_name, language))
    cell.metadata["tags"] = [INJECTED_PARAMETERS_TAG]
    cell.metadata["papermill"] = {}
    injected = first_tagged(nb.cells, INJECTED_PARAMETERS_TAG)
    tagged = first_tagged(nb.cells, PARAMETERS_TAG)
    if injected >= 0:  # a notebook papermill already ran: replace its injected cell
        before, after = injected, injected + 1
    elif tagged >= 0:
        before = after = tagged + 1
    else:
        before = after = 0
    nb.cells = [*nb.cells[:before], cell, *nb.cells[after:]]
    nb.metadata.papermill["parameters"] = values
    return (*origins[:before], None, *origins[after:])


def _warn_unknown(
    shown: str,
    nb: NotebookNode,
    origins: tuple[int | None, ...],
    values: Mapping[str, Any],
    *,
    language: str,
    stacklevel: int,
) -> None:
    """Warns about parameters the parameters cell does not define, as papermill logs them."""
    names = ", ".join(repr(name) for name in values)
    tagged = first_tagged(nb.cells, PARAMETERS_TAG)
    if tagged < 0:
        message = (
            f"{shown} has no cell tagged 'parameters', so its parameters are injected at the "
            f"top of the notebook: {names}"
        )
        warnings.warn(
            UnknownParameterWarning(message, shown, tuple(values), None), stacklevel=stacklevel
        )
        return
    if language not in _parameters.PYTHON_KERNELS:
        return  # papermill can only inspect Python parameters cells
    defined = _parameters.defined_parameters(nb.cells[tagged].source)
    unknown = tuple(name for name in values if defined is not None and name not in defined)
    if defined is None or not unknown:
        return
    number = (origins[tagged] or 0) + 1
    listed = ", ".join(repr(name) for name in defined) or "nothing"
    message = (
        f"{shown}: the parameters cell (cell {number}) does not define "
        f"{', '.join(repr(name) for name in unknown)}; it defines {listed}. "
        "The value is injected anyway"
    )
    warnings.warn(UnknownParameterWarning(message, shown, unknown, defined), stacklevel=stacklevel)
