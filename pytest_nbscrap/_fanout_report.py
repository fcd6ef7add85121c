"""What a person reads about a fan-out: each failure as it ends (the text exporter's failure
view, or one line for a run that could not start), and one table at the end, one row per run
in the order of the sets."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import CellExecutionError, NbScrapError
from ._text import one_line, sanitize

if TYPE_CHECKING:
    import concurrent.futures
    from pathlib import Path

    from ._reader import Notebook

__all__ = ["COLUMNS", "INTERRUPTED", "Outcome", "finished", "not_run", "print_table", "rows"]

COLUMNS = ("PARAMETERS", "STATUS", "TIME", "OUTPUT")
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Outcome:
    """How one run went. ``params`` names the run; ``status``: ``ok``, ``failed`` (a cell
    failed; the notebook was kept), ``error`` (it could not run: a value the notebook cannot
    take, a kernel that did not start) or ``interrupted`` (stopped by Ctrl-C). ``seconds``:
    papermill's duration of the run, None when it did not finish; ``output``: the executed
    notebook's path, ``-`` when none was written."""

    params: str
    status: str
    seconds: float | None
    output: str

    @classmethod
    def of(cls, params: str, output: Path | str, status: str, notebook: Notebook | None) -> Outcome:
        seconds = None
        if notebook is not None:
            record = notebook.metadata.get("papermill")
            duration = record.get("duration") if isinstance(record, Mapping) else None
            seconds = float(duration) if isinstance(duration, (int, float)) else None
        if isinstance(output, str):  # a URL: kept whenever the run gave its notebook
            shown = output if notebook is not None else "-"
        else:
            shown = str(output) if output.is_file() else "-"
        return cls(params=params, status=status, seconds=seconds, output=shown)


def finished(
    params: str, output: Path | str, future: concurrent.futures.Future[Notebook]
) -> tuple[Outcome, str | None]:
    """A finished run's outcome, and what to print about it (None when it succeeded)."""
    from .export import render_failure

    try:
        notebook = future.result()
    except CellExecutionError as exc:
        view = render_failure(exc, color=_color())
        return Outcome.of(params, output, "failed", exc.notebook), view
    except Exception as exc:  # a kernel that did not start, a file that could not be written
        return not_run(params, output, exc)
    return Outcome.of(params, output, "ok", notebook), None


def not_run(params: str, output: Path | str, exc: BaseException) -> tuple[Outcome, str]:
    """The outcome of a run that failed before or outside its cells, and its one line."""
    message = str(exc) if isinstance(exc, NbScrapError) else f"{type(exc).__name__}: {exc}"
    line = f"nbscrap run: {params}: {one_line(sanitize(message))}"
    return Outcome.of(params, output, "error", None), line


def _color() -> bool:
    """Colour in the failure view as ``nbscrap render --color auto`` decides, for stderr."""
    from ._text import use_color

    return use_color("auto", sys.stderr)


def rows(outcomes: Sequence[Outcome]) -> list[tuple[str, str, str, str]]:
    """The table's cells: text from parameters and paths made harmless for a terminal."""
    return [
        (
            sanitize(outcome.params),
            outcome.status,
            "-" if outcome.seconds is None else f"{outcome.seconds:.1f}s",
            sanitize(outcome.output),
        )
        for outcome in outcomes
    ]


def print_table(outcomes: Sequence[Outcome]) -> None:
    """The table on stdout, aligned as ``nbscrap scraps`` aligns its own."""
    from ._text import print_table

    print_table(COLUMNS, rows(outcomes))
