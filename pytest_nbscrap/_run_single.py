"""One run of ``nbscrap run`` (:mod:`pytest_nbscrap._run_command` parses its command line):
executing a notebook with papermill's options, ``--prepare-only`` and ``--help-notebook``.

What a person sees follows papermill's command line: the executed notebook in OUTPUT (or on
stdout for ``-``), a progress bar over the cells on a terminal, a failure on stderr (here the
text exporter's failure view) with exit status 1, a warning as one line.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._errors import CellExecutionError, UsageError
from ._text import one_line, sanitize

__all__ = ["help_notebook", "run_one"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # a shell's status for a process ended by SIGINT


def _said(message: str, status: int) -> int:
    sys.stderr.write(f"nbscrap run: {one_line(sanitize(message))}\n")
    return status


def run_one(args: argparse.Namespace, values: dict[str, Any], progress: bool) -> int:
    """Runs (or with ``--prepare-only`` prepares) INPUT with ``values``; the exit status."""
    from ._errors import ExecutionError, KernelNotFoundError
    from ._executor import execute_notebook, prepare

    to_stdout = args.output == "-"
    options: dict[str, Any] = {
        "output_path": None if to_stdout else args.output,
        "kernel_name": args.kernel,
        "timeout": args.execution_timeout,
        "cwd": args.cwd,
        "start_timeout": args.start_timeout,
        "log_output": args.log_output,
    }
    with _warnings_as_lines():
        if args.prepare_only:
            plan = prepare(args.input, values, **options)
            _write(plan.nb, None if to_stdout else plan.output_path)
            return EXIT_OK
        bar = _CellBar() if progress else None
        try:
            try:
                notebook = execute_notebook(args.input, values, progress=bar, **options)
            finally:
                if bar is not None:
                    bar.close()  # before anything else is printed below it
        except CellExecutionError as error:
            _print_failure(error)
            if to_stdout and error.notebook is not None:
                _write(error.notebook.node, None)
            return EXIT_FAILED
        except ExecutionError as error:
            if isinstance(error, (KernelNotFoundError, UsageError)):
                raise  # bad input: the one-line usage error, exit status 2
            return _said(f"error: {error}", EXIT_FAILED)
        except KeyboardInterrupt as interrupt:  # Ctrl-C: what was kept, not a traceback
            return _said(str(interrupt) or "interrupted", EXIT_INTERRUPTED)
    if to_stdout:
        _write(notebook.node, None)
    return EXIT_OK


def _write(nb: Any, path: Path | str | None) -> None:
    """The notebook as ``nbformat.writes`` makes it: to ``path`` atomically, else to stdout."""
    import copy

    from ._notebook_file import Writer, file_chunks

    if path is not None:
        try:
            Writer(path).final(nb)
        except OSError as exc:
            said = getattr(exc, "reason", None) or exc.strerror or exc  # a StorageError's reason
            raise UsageError(f"cannot write {path}: {said}") from exc
        return
    for chunk in file_chunks(copy.deepcopy(nb)):
        sys.stdout.write(chunk)
    sys.stdout.write("\n")
    sys.stdout.flush()


def _print_failure(error: CellExecutionError) -> None:
    from ._text import use_color
    from .export import render_failure

    # stderr, as papermill reports it: stdout may be the notebook itself ('-').
    sys.stderr.write(render_failure(error, color=use_color("auto", sys.stderr)))
    sys.stderr.flush()


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """A warning (an unknown parameter) is one line when it happens, before the run, as
    papermill logs it; not Python's two lines with a source line of ours."""

    def show(message: Warning | str, *_: object, **__: object) -> None:
        _said(f"warning: {message}", EXIT_OK)

    with warnings.catch_warnings():  # restores showwarning too
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield


class _CellBar:
    """papermill's progress bar over the cells (tqdm), made once the run knows their number."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="cell", desc="Executing", file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# -- --help-notebook --------------------------------------------------------------------------


def help_notebook(path: str) -> int:
    """papermill's ``display_notebook_help``: each parameter with its type, default and
    comment; exit status 1 when no cell is tagged ``parameters``, as papermill's."""
    from ._conventions import PARAMETERS_TAG, first_tagged
    from ._parameters import PYTHON_KERNELS, declared_parameters
    from ._reader import read_notebook

    notebook = read_notebook(path)
    cells = notebook.node.get("cells", [])
    metadata = notebook.metadata
    language = str(
        (metadata.get("language_info") or {}).get("name")
        or (metadata.get("kernelspec") or {}).get("language")
        or "python"
    )
    out = sys.stdout
    out.write(f"Parameters inferred for notebook {sanitize(path)!r}:\n")
    tagged = first_tagged(cells, PARAMETERS_TAG)
    if tagged < 0:
        out.write("\n  No cell tagged 'parameters'\n")
        return EXIT_FAILED
    source = cells[tagged].get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    declared = declared_parameters(source) if language in PYTHON_KERNELS else None
    if not declared:
        out.write(
            "\n  Can't infer anything about this notebook's parameters. "
            "It may not have any parameter defined.\n"
        )
        return EXIT_OK
    for parameter in declared:
        type_name = parameter.type_name or "Unknown type"
        definition = f"  {parameter.name}: {type_name} (default {parameter.default})"
        # papermill's layout: the comment in a column at 34, or on the next line when the
        # definition is longer than 30 characters.
        if len(definition) > 30:
            line = f"{definition}\n{34 * ' '}{parameter.help}" if parameter.help else definition
        else:
            line = f"{definition:<34}{parameter.help}"
        out.write(sanitize(line).rstrip() + "\n")
    return EXIT_OK
