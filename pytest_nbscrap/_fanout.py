"""``nbscrap run SOURCE OUTDIR/ --grid ... --each ...``: one notebook run once per parameter set,
several at once on pooled, pre-started kernels, into one folder.

The sets: every ``--grid NAME=V1,V2`` is one axis and repeated ``--grid`` is their cartesian
product; ``--each FILE.yaml`` is a list of sets; given both, every ``--each`` set runs with every
grid combination (a name may not come from both). ``-p``/``-r``/``-y``/``-f`` values
(``common``) apply to every run; a set's own value for a name wins over them, as a more specific
value should. Everything that can be wrong with the request (the YAML, a grid, a ``--name``
template, two runs into one file, an OUTDIR that is a file) is a :class:`UsageError` raised
before any kernel starts. Once running, one failing set does not stop the others.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import sys
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import NbScrapError, UsageError
from ._fanout_report import INTERRUPTED, Outcome, finished, not_run, print_table
from ._param_sets import ParamSet, freeze, param_id, param_ids, safe_name
from ._storage import url_join, url_name
from ._text import one_line, sanitize

if TYPE_CHECKING:
    from ._engine import ExecutionSession
    from ._reader import Notebook

__all__ = ["FanOutRequest", "Run", "plan_runs", "run_fanout"]

_SUFFIX = ".ipynb"


@dataclass(frozen=True)
class FanOutRequest:
    """What ``nbscrap run`` was asked for when it runs many notebooks (built by
    :mod:`pytest_nbscrap._run_command`). ``grids`` are the raw ``--grid`` texts; ``progress``
    is already decided (stderr is a terminal and no ``--no-progress-bar``)."""

    # A URL (s3://...) stays a str, as everywhere (``_storage``).
    source: Path | str
    outdir: Path | str
    common: Mapping[str, Any]
    grids: tuple[str, ...]
    each: Path | None
    name: str | None
    jobs: int
    kernel_name: str | None
    timeout: float | None
    start_timeout: float | None
    cwd: Path | None
    progress: bool
    log_output: bool


@dataclass(frozen=True)
class Run:
    """One run of the fan-out: its own parameters (from ``--grid``/``--each``), all the
    parameters it runs with (``common`` under them), and its output file."""

    own: Mapping[str, Any]
    params: Mapping[str, Any]
    output: Path | str


def run_fanout(request: FanOutRequest) -> int:
    """Runs every set of ``request``; exit status 1 if any failed, else 0. Raises
    :class:`UsageError` for a request that cannot work, before anything runs."""
    runs = plan_runs(request)
    _check_common(request)
    try:
        if isinstance(request.outdir, Path):  # a prefix on a store needs no making
            request.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {request.outdir}: {exc.strerror or exc}") from exc
    from ._run_single import EXIT_INTERRUPTED

    try:
        outcomes = _run_all(request, runs)
    except KeyboardInterrupt:  # a second Ctrl-C while the first one's runs were stopping
        sys.stderr.write("nbscrap run: interrupted\n")
        return EXIT_INTERRUPTED
    print_table(outcomes)
    if any(outcome.status == INTERRUPTED for outcome in outcomes):
        sys.stderr.write(
            "nbscrap run: interrupted: the runs not finished were stopped; the notebooks the "
            "table lists are kept\n"
        )
        return EXIT_INTERRUPTED
    return 1 if any(outcome.status != "ok" for outcome in outcomes) else 0


# -- the sets and their files ----------------------------------------------------------------


def plan_runs(request: FanOutRequest) -> list[Run]:
    """Every run of ``request`` with its output file, or the :class:`UsageError` that says why
    the request cannot work. Nothing is written."""
    outdir = request.outdir
    if isinstance(outdir, Path) and outdir.exists() and not outdir.is_dir():
        raise UsageError(f"{request.outdir} is a file, not a folder for the executed notebooks")
    grid = _grid_sets(request.grids)
    each = [{}] if request.each is None else _each_sets(request.each)
    _no_name_twice(grid, each)
    owns: list[ParamSet] = [{**one, **combination} for one in each for combination in grid]
    _no_set_twice(owns)
    everything = [{**request.common, **own} for own in owns]
    names = _names(request, owns, everything)
    runs = [
        Run(own=own, params=params, output=_inside(outdir, name))
        for own, params, name in zip(owns, everything, names, strict=True)
    ]
    _no_file_twice(request, runs)
    return runs


def _inside(folder: Path | str, name: str) -> Path | str:
    return url_join(folder, name) if isinstance(folder, str) else folder / name


def _inside_name(output: Path | str) -> str:
    return url_name(output) if isinstance(output, str) else output.name


def _same(output: Path | str, source: Path | str) -> bool:
    if isinstance(output, Path) and isinstance(source, Path):
        return output.resolve() == source.resolve()
    return output == source


def _grid_sets(grids: Sequence[str]) -> list[ParamSet]:
    """The cartesian product of the ``--grid`` axes (one empty set without any)."""
    from ._run_command import papermill_value

    axes: dict[str, list[Any]] = {}
    for text in grids:
        name, equals, values = text.partition("=")
        name = name.strip()
        if not equals or not name:
            raise UsageError(f"--grid {text!r}: expected NAME=VALUE1,VALUE2,...")
        if not values:
            raise UsageError(f"--grid {text!r}: no values after '='")
        if name in axes:
            raise UsageError(f"--grid {name!r} is given twice; list all its values in one --grid")
        parts = values.split(",")
        if "" in parts:
            # A value with a comma cannot be written here; an empty one is a typo ("A,,B").
            raise UsageError(f"--grid {text!r}: an empty value (use --each for such values)")
        axes[name] = [papermill_value(part) for part in parts]
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())]


def _each_sets(path: Path) -> list[ParamSet]:
    """``--each FILE.yaml``: a non-empty YAML list of mappings with names as keys."""
    from ._run_command import load_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--each {path}: cannot read it: {reason}") from exc
    loaded = load_yaml(text, f"--each {path}")
    if not isinstance(loaded, list) or not loaded:
        raise UsageError(
            f"--each {path}: expected a list of parameter sets (- name: value), got {_kind(loaded)}"
        )
    for index, item in enumerate(loaded, start=1):
        if not isinstance(item, Mapping):
            raise UsageError(
                f"--each {path}: item {index} is {_kind(item)}, not a mapping of parameter "
                "names to values"
            )
        for key in item:
            if not isinstance(key, str):
                raise UsageError(
                    f"--each {path}: item {index} has a name that is not text: {key!r}"
                )
    return [dict(item) for item in loaded]


def _kind(value: Any) -> str:
    if isinstance(value, list) and not value:
        return "an empty list"
    if isinstance(value, Mapping):
        return "a mapping"
    return "nothing" if value is None else f"a {type(value).__name__}"


def _no_name_twice(grid: Sequence[ParamSet], each: Sequence[ParamSet]) -> None:
    both = sorted(set(grid[0]) & {name for one in each for name in one})
    if both:
        raise UsageError(f"{', '.join(map(repr, both))} given by both --grid and --each")


def _no_set_twice(owns: Sequence[ParamSet]) -> None:
    """The same set twice would be the same run twice, into two files named apart only by
    their position: always a mistake in the grid or the YAML."""
    counts = Counter(freeze(own) for own in owns)
    for own in owns:
        if counts[freeze(own)] > 1:
            raise UsageError(f"the parameter set {param_id(own) or '{}'} is given twice")


def _names(
    request: FanOutRequest, owns: Sequence[ParamSet], everything: Sequence[ParamSet]
) -> list[str]:
    """Each run's file name: ``--name`` filled with its parameters, else its own parameters'
    id (as pytest names parametrized runs), else, for one run without any, the source's."""
    if request.name is not None:
        return [_file_name(_filled(request.name, params)) for params in everything]
    if owns == [{}]:
        source = request.source
        return [url_name(source) if isinstance(source, str) else source.name]
    return [_file_name(id_) for id_ in param_ids(owns)]


def _filled(template: str, params: Mapping[str, Any]) -> str:
    try:
        return template.format_map(params)
    except KeyError as exc:
        given = ", ".join(sorted(params)) or "none"
        raise UsageError(
            f"--name {template!r} names the parameter {exc.args[0]!r}, which is not given "
            f"(given: {given})"
        ) from None
    except (IndexError, ValueError, AttributeError, TypeError) as exc:
        raise UsageError(f"--name {template!r}: {exc}") from None


def _file_name(text: str) -> str:
    """One safe file name in OUTDIR (no separators, no ``..``), ending in ``.ipynb`` so that
    ``read_notebooks(OUTDIR)`` reads it."""
    stem = text[: -len(_SUFFIX)] if text.endswith(_SUFFIX) else text
    return safe_name(stem) + _SUFFIX


def _no_file_twice(request: FanOutRequest, runs: Sequence[Run]) -> None:
    """Never two runs into one file (compared as a case-insensitive file system would), and
    never a run into its source."""
    owner: dict[str, Run] = {}
    for run in runs:
        key = _inside_name(run.output).casefold()
        if key in owner:
            first = param_id(owner[key].own)
            raise UsageError(
                f"two runs would write {run.output} ({first} and {param_id(run.own)}); "
                "give --name a template that tells them apart"
            )
        owner[key] = run
        if _same(run.output, request.source):
            raise UsageError(f"{run.output} is the source notebook, which is never written")


# -- running ---------------------------------------------------------------------------------


def _check_common(request: FanOutRequest) -> None:
    """What every run shares, checked once before any kernel starts: the source can be read,
    the kernel is installed, the working folder exists. Wrong, it is every run's error and
    the command's (exit status 2, as for one run); only a set's own values fail it alone."""
    from ._prepare import prepare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # each run's preparation says them, once
        prepare(request.source, {}, kernel_name=request.kernel_name, cwd=request.cwd)


def _run_all(request: FanOutRequest, runs: Sequence[Run]) -> list[Outcome]:
    """Submits every run, reports each failure as it ends, and returns the outcomes in the
    order of ``runs``."""
    from tqdm import tqdm

    from ._engine import ExecutionSession

    outcomes: dict[int, Outcome] = {}
    shown = _show_all(runs, request.common)
    with (
        # No more workers than runs: each worker keeps a kernel started ahead.
        ExecutionSession(workers=min(request.jobs, len(runs))) as session,
        tqdm(
            total=len(runs),
            unit="run",
            desc="Running",
            file=sys.stderr,
            disable=not request.progress,
        ) as bar,
    ):

        def report(index: int, outcome: Outcome, text: str | None) -> None:
            outcomes[index] = outcome
            if text is not None:
                bar.write(text, file=sys.stderr)
            bar.update(1)

        futures: dict[concurrent.futures.Future[Notebook], int] = {}
        warned: set[str] = set()
        try:
            for index, run in enumerate(runs):
                try:
                    future, warnings_given = _submit(session, request, run)
                except NbScrapError as exc:  # a set the notebook cannot take: it alone fails
                    report(index, *not_run(shown[index], run.output, exc))
                    continue
                futures[future] = index
                # Every set warns alike (a parameter the notebook does not define): said once.
                for message in warnings_given - warned:
                    bar.write(f"nbscrap run: warning: {message}", file=sys.stderr)
                warned |= warnings_given
            for future in concurrent.futures.as_completed(futures):
                index = futures[future]
                report(index, *finished(shown[index], runs[index].output, future))
        except KeyboardInterrupt:
            pass  # Ctrl-C: leaving the session stops what still runs and keeps its notebook
    # After the session closed: an interrupted run's notebook is written by then.
    return [
        outcomes.get(index) or Outcome.of(shown[index], run.output, INTERRUPTED, None)
        for index, run in enumerate(runs)
    ]


def _show_all(runs: Sequence[Run], common: Mapping[str, Any]) -> list[str]:
    """What names each run in the table and messages: its own parameters, or, for a single
    run without any, all it runs with."""
    return [param_id(run.own or common) or "-" for run in runs]


def _submit(
    session: ExecutionSession, request: FanOutRequest, run: Run
) -> tuple[concurrent.futures.Future[Notebook], set[str]]:
    """Starts ``run``; its future, and the warnings preparing it gave, one line each."""
    options: dict[str, Any] = {
        "output_path": run.output,
        "kernel_name": request.kernel_name,
        "timeout": request.timeout,
        "cwd": request.cwd,
    }
    # Only when asked, so that the run options' own defaults stay their one home.
    if request.start_timeout is not None:
        options["start_timeout"] = request.start_timeout
    if request.log_output:
        options["log_output"] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        future = session.submit(request.source, run.params, **options)
    return future, {one_line(sanitize(str(found.message))) for found in caught}
