"""The command line: ``python -m pytest_nbscrap`` (or ``nbscrap``) ``render``, ``scraps`` and
``run`` (its own module, :mod:`pytest_nbscrap._run_command`).

Exit status: 0 on success, 1 when a rendered notebook holds an error, 2 on bad usage or
unreadable input, always with one line on stderr that says what is wrong (no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import reprlib
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from . import _run_command
from ._errors import NbScrapError, NotebookReadError
from ._text import one_line, print_table, sanitize, use_color

T = TypeVar("T")

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

_DATA_WIDTH = 40
# The data column is last: it is the one whose width varies most (an error reads in full).
_COLUMNS = ("NOTEBOOK", "NAME", "ENCODER", "DISPLAY", "DATA")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        parsed, extras = super().parse_known_args(*args, **kwargs)
        if extras and " " in self.prog:
            # A sub-command's unknown flag is its own error (`nbscrap run: error: ...`, with its
            # --help); argparse would hand it up to the top parser, which names only `nbscrap`.
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line on ``argv`` (``sys.argv[1:]`` by default); returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(
            _run_command.taken_as_values(sys.argv[1:] if argv is None else argv)
        )
    except SystemExit as exit_:  # --help and usage errors; a return value is easier to test
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    _tolerant(sys.stdout)
    _tolerant(sys.stderr)
    try:
        status: int = args.run(args)
    except NbScrapError as exc:
        return _fail(args.command, "error", str(exc))
    except BrokenPipeError:
        # The reader went away (`nbscrap render x | head`): not an error worth a traceback.
        # Point stdout at devnull so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        # Bad input is turned into NotebookReadError where it is read (see _reading); what
        # still gets here is our bug. One line still, but saying so and naming the place, so
        # that a report is actionable without asking for the traceback.
        return _fail(
            args.command, "internal error", f"{_described(exc)} ({_where(exc)}; please report)"
        )
    return status


def _fail(command: str, kind: str, message: str) -> int:
    """The one line on stderr for a failure; whatever came from a file is made harmless."""
    sys.stderr.write(f"nbscrap {command}: {kind}: {one_line(sanitize(message))}\n")
    return EXIT_USAGE


#: What reading hostile input can raise past the reader's own checks: an integer too long to
#: convert (ValueError), text that is no text (UnicodeError), nesting too deep (RecursionError),
#: a file that vanished or is a folder (OSError), sizes beyond memory (MemoryError).
_BAD_INPUT = (ValueError, RecursionError, OSError, MemoryError)


@contextlib.contextmanager
def _reading(path: str) -> Iterator[None]:
    """Errors that the content of ``path`` caused become our one-line NotebookReadError."""
    try:
        yield
    except NbScrapError:
        raise
    except BrokenPipeError:
        raise  # our stdout, not the file
    except _BAD_INPUT as exc:
        raise NotebookReadError.from_reason(path, _described(exc)) from exc


def _described(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _where(exc: BaseException) -> str:
    """The innermost place in this package that the error passed through."""
    package = Path(__file__).parent
    place = "pytest_nbscrap"
    for frame, line in traceback.walk_tb(exc.__traceback__):
        file = Path(frame.f_code.co_filename)
        if file.is_relative_to(package):
            place = f"{file.relative_to(package.parent).as_posix()}:{line}"
    return place


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nbscrap",
        description="Run notebooks with parameters, render executed notebooks as text and list "
        "the scraps they hold.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    render = commands.add_parser(
        "render",
        help="print a notebook as text (the failure view when it holds an error)",
        description="Print a notebook as plain text. When it holds an error, print the failure "
        "view instead: the error, the failing cell with a few cells of context before it, and "
        "what they printed. Exits 1 when the notebook holds an error.",
    )
    render.add_argument("notebook", metavar="NOTEBOOK", help="an .ipynb file")
    for flag, default, help in (
        ("--context", 2, "cells shown before a failing cell (default: 2)"),
        (
            "--max-output-lines",
            20,
            "longer outputs keep their first and last lines (default: 20; 0: no limit)",
        ),
        (
            "--max-source-lines",
            30,
            "longer cells show N lines, around the failing line if any (default: 30; 0: all)",
        ),
    ):
        render.add_argument(flag, type=_non_negative, default=default, metavar="N", help=help)
    render.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text (default: auto, when stdout is a terminal and NO_COLOR is unset)",
    )
    render.add_argument(
        "--template",
        metavar="FILE",
        help='a Jinja2 template; it may {%% extends "text.j2" %%} and override its blocks',
    )
    render.set_defaults(run=_render)

    scraps = commands.add_parser(
        "scraps",
        help="list the scraps of notebooks or folders of notebooks",
        description="List the scraps glued in notebooks: notebook, name, encoder, a short form "
        "of the data, and whether a display was glued too. A folder lists its notebooks.",
    )
    scraps.add_argument("paths", nargs="+", metavar="PATH", help="an .ipynb file or a folder")
    scraps.add_argument("--json", action="store_true", help="print a JSON list instead")
    scraps.set_defaults(run=_scraps)

    _run_command.add_parser(commands).set_defaults(run=_run_command.execute)
    return parser


_non_negative = _run_command.whole_number(0)


# -- render ----------------------------------------------------------------------------------


def _render(args: argparse.Namespace) -> int:
    from .export import Document, RenderOptions, StdoutWriter, render_notebook

    options = RenderOptions(
        color=use_color(args.color),
        context=args.context,
        max_output_lines=args.max_output_lines or None,
        max_source_lines=args.max_source_lines or None,
        template=args.template,
    )
    with _reading(args.notebook):
        # Read here, not by render_notebook: the exit status says whether it holds a failure.
        document = Document.from_notebook(args.notebook)
        text = render_notebook(document, options)
    StdoutWriter().write(text)
    return EXIT_FAILED if document.failure is not None else EXIT_OK


# -- scraps ----------------------------------------------------------------------------------


def _scraps(args: argparse.Namespace) -> int:
    unread: list[str] = []
    rows = list(_scrap_rows(args.paths, unread))
    # A notebook that cannot be read is one line on stderr; the others are still listed.
    status = EXIT_USAGE if unread else EXIT_OK
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return status
    if not rows:
        if not unread:
            sys.stdout.write("no scraps found\n")
        return status
    table = [
        (
            row["notebook"],
            row["name"],
            row["encoder"],
            "yes" if row["display"] else "no",
            row["repr"],
        )
        for row in rows
    ]
    print_table(_COLUMNS, table)
    return status


def _scrap_rows(paths: Sequence[str], unread: list[str]) -> Iterator[dict[str, Any]]:
    """The rows of every scrap in ``paths``; a notebook that cannot be read is said on stderr
    and added to ``unread``, and the others are still read."""
    from ._reader import read_notebook
    from ._scrapbook import notebook_files

    def read(path: str, reader: Callable[[str], T]) -> T | None:
        try:
            with _reading(path):
                return reader(path)
        except NbScrapError as exc:
            _fail("scraps", "error", str(exc))
            unread.append(path)
            return None

    for path in paths:
        for _, file in read(path, notebook_files) or []:
            notebook = read(os.fspath(file), read_notebook)
            if notebook is None:
                continue
            for scrap in notebook.scraps.values():
                row: dict[str, Any] = {
                    "notebook": sanitize(notebook.path or path),
                    "name": sanitize(str(scrap.name)),
                    "encoder": sanitize(str(scrap.encoder)),
                    "data": None,
                    "repr": "",
                    "display": scrap.display is not None,
                    "error": None,
                }
                try:
                    data = scrap.data
                except Exception as exc:  # a corrupt scrap is a row of the listing, not a crash
                    row["error"] = one_line(sanitize(f"{type(exc).__name__}: {exc}"))
                    row["repr"] = f"<error: {row['error']}>"
                else:
                    row["data"] = data if _is_json(data) else None
                    row["repr"] = _short(data)
                yield row


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


_REPR = reprlib.Repr()
_REPR.maxstring = _DATA_WIDTH
_REPR.maxother = _DATA_WIDTH
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6


def _short(value: Any) -> str:
    """A one-line form of a value that never asks a big object for its whole repr."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and not isinstance(value, (str, bytes)):
        text = f"{type(value).__name__} {' x '.join(map(str, shape))}"
    else:
        text = _REPR.repr(value)
    return one_line(sanitize(text), _DATA_WIDTH)


# -- helpers ---------------------------------------------------------------------------------


def _tolerant(stream: object) -> None:
    """Characters the terminal cannot encode become escapes rather than a crash."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")


if __name__ == "__main__":
    sys.exit(main())
