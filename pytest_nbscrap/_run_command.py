"""``nbscrap run``: papermill's command line, same flags and same meaning.

``nbscrap run INPUT OUTPUT -p NAME VALUE ...`` runs one notebook as ``papermill`` would, so a shell
loop over ``papermill`` keeps working with ``nbscrap run`` in its place. ``--grid``/``--each``, or
an OUTPUT that is a folder, hand the run over to :mod:`pytest_nbscrap._fanout` (many runs at
once on pooled kernels). Flags follow papermill's ``cli.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._errors import UsageError
from ._text import one_line

__all__ = ["add_parser", "execute", "load_yaml", "papermill_value", "parameters", "whole_number"]


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


def add_parser(commands: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Registers ``run`` on the ``nbscrap`` sub-command table (``add_subparsers``' result);
    :func:`execute` carries it out."""
    run: argparse.ArgumentParser = commands.add_parser(
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
    # papermill's four ways to give parameters: each may be repeated, and all are kept in order.
    for flags, metavar, help in (
        (
            ("-p", "--parameters"),
            ("NAME", "VALUE"),
            "a parameter; VALUE is read as papermill reads it (True/False/None, int, float, "
            "else a string)",
        ),
        (("-r", "--parameters-raw"), ("NAME", "VALUE"), "a parameter whose VALUE stays a string"),
        (("-y", "--parameters-yaml"), "YAML", "parameters as a YAML mapping"),
        (("-f", "--parameters-file"), "FILE", "parameters from a YAML file holding a mapping"),
    ):
        nargs = 2 if isinstance(metavar, tuple) else None
        values.add_argument(
            *flags, nargs=nargs, action="append", default=[], metavar=metavar, help=help
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
        metavar="N",
        help="notebooks run at once (default: 1)",
    )
    many.add_argument(
        "--name",
        metavar="TEMPLATE",
        help="each output's file name, e.g. '{symbol}.ipynb' (default: the parameters' id)",
    )
    return run


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


# -- parameters -------------------------------------------------------------------------------

#: Marks a word after -p or -r that begins with "-": argparse would take it for a flag, where
#: papermill (click) takes the two words after -p, whatever they are. No argument holds a NUL.
_MARK = "\0"
_PAIRS = frozenset({"-p", "--parameters", "-r", "--parameters-raw"})


def taken_as_values(argv: Sequence[str]) -> list[str]:
    """``argv`` with the NAME and VALUE after each -p and -r kept as words, not flags
    (``-p offset -5d``); :func:`parameters` reads them back unmarked."""
    words = list(argv)
    if words[:1] != ["run"]:
        return words
    index = 1
    while index < len(words) and words[index] != "--":
        if words[index] not in _PAIRS:
            index += 1
            continue
        for at in range(index + 1, min(index + 3, len(words))):
            if words[at].startswith("-") and len(words[at]) > 1:
                words[at] = _MARK + words[at]
        index += 3
    return words


def _unmarked(word: str) -> str:
    return word.removeprefix(_MARK)


def load_yaml(text: str, where: str) -> Any:
    """YAML as papermill reads it (safe, and dates stay text: a date is no JSON value);
    :class:`UsageError` naming ``where`` and the problem's place when it does not parse."""
    import yaml

    class NoDates(yaml.SafeLoader):
        """papermill's ``NoDatesSafeLoader``."""

    NoDates.yaml_implicit_resolvers = {
        first: [rule for rule in rules if rule[0] != "tag:yaml.org,2002:timestamp"]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        return yaml.load(text, Loader=NoDates)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise UsageError(f"{where}: not valid YAML: {one_line(str(problem), 200)}{at}") from exc
    except (RecursionError, ValueError) as exc:  # nesting too deep, an int too long
        raise UsageError(f"{where}: not readable YAML: {type(exc).__name__}") from exc


def _yaml_mapping(text: str, where: str) -> dict[str, Any]:
    loaded = load_yaml(text, where)
    if loaded is None:  # an empty file or string: no parameters, as papermill reads it
        return {}
    if not isinstance(loaded, dict):
        kind = "a list" if isinstance(loaded, list) else f"a {type(loaded).__name__}"
        raise UsageError(f"{where}: expected a mapping of parameter names to values, got {kind}")
    return loaded


def parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The -f, -y, -p and -r values, each kind applied after the one before, as papermill
    applies them (whatever their order on the command line)."""
    values: dict[str, Any] = {}
    for file in args.parameters_file:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise UsageError(f"-f {file}: cannot read it: {reason}") from exc
        values.update(_yaml_mapping(text, f"-f {file}"))
    for text in args.parameters_yaml:
        values.update(_yaml_mapping(text, f"-y {text!r}"))
    for name, value in args.parameters:
        values[_unmarked(name)] = papermill_value(_unmarked(value))
    for name, value in args.parameters_raw:
        values[_unmarked(name)] = _unmarked(value)
    return values


# -- the command ------------------------------------------------------------------------------


def execute(args: argparse.Namespace) -> int:
    values = parameters(args)
    if args.help_notebook:
        from ._run_single import help_notebook

        return help_notebook(args.input)
    if args.output is None:
        raise UsageError("OUTPUT is missing: give the executed notebook's path, or '-' for stdout")
    progress = args.progress_bar is not False and _terminal(sys.stderr)
    if args.progress_bar is None and args.log_output:
        progress = False  # papermill's default: the log, or the bar, not both interleaved
    if args.grid or args.each or args.output.endswith(("/", os.sep)) or Path(args.output).is_dir():
        return _fan_out(args, values, progress)
    for flag, given in (("--jobs", args.jobs is not None), ("--name", args.name is not None)):
        if given:
            raise UsageError(
                f"{flag} is for many runs: give --grid or --each, or a folder as OUTPUT"
            )
    from ._run_single import run_one

    return run_one(args, values, progress)


def _fan_out(args: argparse.Namespace, values: dict[str, Any], progress: bool) -> int:
    from ._fanout import FanOutRequest, run_fanout
    from ._storage import is_url

    if args.output == "-" or args.prepare_only:
        flag = "'-' as OUTPUT" if args.output == "-" else "--prepare-only"
        raise UsageError(f"{flag} is for one run; many runs write a folder of notebooks")
    request = FanOutRequest(
        source=args.input if is_url(args.input) else Path(args.input),
        outdir=args.output if is_url(args.output) else Path(args.output),
        common=values,
        grids=tuple(args.grid),
        each=None if args.each is None else Path(args.each),
        name=args.name,
        jobs=args.jobs or 1,
        kernel_name=args.kernel,
        timeout=args.execution_timeout,
        start_timeout=args.start_timeout,
        cwd=None if args.cwd is None else Path(args.cwd),
        progress=progress,
        log_output=args.log_output,
    )
    return run_fanout(request)


def _terminal(stream: Any) -> bool:
    is_tty = getattr(stream, "isatty", None)
    return bool(is_tty and is_tty())
