"""``nbscrap run``: papermill's command line, same flags and same meaning.

``nbscrap run INPUT OUTPUT -p NAME VALUE ...`` runs one notebook as ``papermill`` would, so a shell
loop over ``papermill`` keeps working with ``nbscrap run`` in its place. ``--grid``/``--each``, or
an OUTPUT that is a folder, hand the run over to :mod:`pytest_nbscrap._fanout` (many runs at
once on pooled kernels). Flags follow papermill's ``cli.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["add_parser", "papermill_value", "whole_number"]


def papermill_value(text: str) -> Any:
    """A ``-p`` value as papermill's ``_resolve_type`` reads it: ``True``, ``False``, ``None``,
    then whatever ``int()`` accepts, then whatever ``float()`` accepts, else the text itself.

    The same casts, so the same edge cases: ``" 7 "`` and ``"1_000"`` are ints, ``"nan"`` and
    ``"1e3"`` floats, ``"true"`` a string.
    """
    if text == "True":
        return True
    if text == "False":
        return False
    if text == "None":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Registers ``run`` on the ``nbscrap`` sub-command table (``add_subparsers``' result)."""
    run = commands.add_parser(
        "run",
        help="run a notebook with parameters, as papermill does (or many: --grid, --each)",
        description="Run INPUT with parameters injected after its cell tagged 'parameters' and "
        "save the executed notebook to OUTPUT ('-': stdout), with papermill's flags. With --grid "
        "or --each, or when OUTPUT is a folder (ends with '/'), run one notebook per parameter "
        "set into that folder. Exits 1 when a notebook fails, 2 on bad usage.",
    )
    run.add_argument("input", metavar="INPUT", help="the source .ipynb (never written)")
    run.add_argument(
        "output",
        metavar="OUTPUT",
        nargs="?",
        help="the executed notebook's path, '-' for stdout, or a folder for many runs",
    )
    run.add_argument(
        "--help-notebook",
        action="store_true",
        help="list INPUT's parameters (name, type, default, comment) and exit",
    )
    values = run.add_argument_group("parameters (applied in papermill's order: -f, -y, -p, -r)")
    values.add_argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter; VALUE is read as papermill reads it (True/False/None, int, float, "
        "else a string)",
    )
    values.add_argument(
        "-r",
        "--parameters-raw",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter whose VALUE stays a string",
    )
    values.add_argument(
        "-y",
        "--parameters-yaml",
        action="append",
        default=[],
        metavar="YAML",
        help="parameters as a YAML mapping",
    )
    values.add_argument(
        "-f",
        "--parameters-file",
        action="append",
        default=[],
        metavar="FILE",
        help="parameters from a YAML file holding a mapping",
    )
    execution = run.add_argument_group("execution")
    execution.add_argument(
        "-k", "--kernel", metavar="NAME", help="the kernel to run (default: the notebook's)"
    )
    execution.add_argument(
        "--cwd", metavar="DIR", help="the working directory of the kernel (default: INPUT's folder)"
    )
    execution.add_argument(
        "--execution-timeout",
        type=_seconds,
        metavar="S",
        help="seconds each cell may run (default: forever)",
    )
    execution.add_argument(
        "--start-timeout",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="seconds the kernel may take to start (default: 60)",
    )
    execution.add_argument(
        "--prepare-only",
        action="store_true",
        help="write the notebook with its parameters injected, without running it",
    )
    execution.add_argument(
        "--prepare-execute", dest="prepare_only", action="store_false", help=argparse.SUPPRESS
    )
    shown = run.add_argument_group("what is shown")
    shown.add_argument(
        "--log-output",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="stream each cell's output to stderr as it arrives",
    )
    shown.add_argument(
        "--progress-bar",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar on stderr (default: when stderr is a terminal)",
    )
    many = run.add_argument_group("many runs (OUTPUT is a folder)")
    many.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="run once per value; repeat for every combination (values read as -p's)",
    )
    many.add_argument(
        "--each", metavar="FILE.yaml", help="run once per parameter set of a YAML list"
    )
    many.add_argument(
        "--jobs",
        type=whole_number(1),
        default=1,
        metavar="N",
        help="notebooks run at once (default: 1)",
    )
    many.add_argument(
        "--name",
        metavar="TEMPLATE",
        help="each output's file name, e.g. '{symbol}.ipynb' (default: the parameters' id)",
    )
    run.set_defaults(run=_run)


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return number


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number of at least ``minimum`` (every sub-command's)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"expected {minimum} or more, got {number}")
        return number

    return parse


def _run(args: argparse.Namespace) -> int:
    raise NotImplementedError("nbscrap run: being built (issue 14)")
