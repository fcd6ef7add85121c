"""The example workflow's main job: run the source notebook once per symbol, then the summary.

    python example_notebooks/run_workflow.py [--out DIR] [--threshold T] [--workers N] [SYMBOL ...]

``bash run.sh example`` runs it in the project's own environment. It is two ``nbscrap run``
commands, printed as they run: one runs every symbol's source at once (``--grid``), where the
seed ran ``papermill`` once per symbol in a shell loop, and one runs the summary. Executed
notebooks are written to ``DIR/sources/<SYMBOL>.ipynb`` and ``DIR/ath_summary.ipynb`` (DIR is
``executed/`` at the repository root unless ``--out`` says otherwise); the summary table is
printed last.
"""

# A command-line job: printing is what it is for.
# ruff: noqa: T201

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest_nbscrap as sb
from pytest_nbscrap._settings import OUTPUT_MARKER

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "ath_source.ipynb"
SUMMARY = HERE / "ath_summary.ipynb"
DEFAULT_OUT = HERE.parent / "executed"
SYMBOLS = (
    "AAPL",
    "MSFT",
    "GOOG",
    "AMZN",
    "META",
    "NVDA",
    "TSLA",
    "NFLX",
    "ORCL",
    "IBM",
    "INTC",
    "AMD",
)

# `pytest --nbscrap` never collects a folder holding this marker. Here it also marks the folder
# as this job's, so that a rerun may clear the source notebooks an earlier run left.


class JobError(Exception):
    """The job cannot go on; the message is one line for the user."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run ath_source.ipynb for each symbol, then ath_summary.ipynb over the runs."
    )
    parser.add_argument(
        "symbols", nargs="*", default=list(SYMBOLS), metavar="SYMBOL", help="default: a dozen"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for the executed notebooks (default: executed/ at the repository root)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.05,
        help="a symbol is close to its all-time high when at most this fraction below it",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="source notebooks run at once (default 2)"
    )
    return parser.parse_args(argv)


def prepare(out: Path) -> Path:
    """Makes ``out`` and its ``sources`` folder, emptied of notebooks from an earlier run."""
    if out.exists() and not out.is_dir():
        raise JobError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / OUTPUT_MARKER).exists():
        raise JobError(f"--out {out} holds files this job did not write; give a new folder")
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    (out / OUTPUT_MARKER).touch()
    # The summary reads every notebook in the folder: a symbol left from an earlier run would
    # join this one's table.
    for stale in sources.glob("*.ipynb"):
        stale.unlink()
    return sources


def run(symbols: Sequence[str], out: Path, threshold: float, workers: int) -> sb.Notebook:
    """Runs the sources (``workers`` at a time) and the summary; returns the executed summary."""
    sources = prepare(out)
    if not symbols or any("," in symbol or not symbol for symbol in symbols):
        raise JobError("each SYMBOL must be a non-empty name without a comma")
    print(f"Running {SOURCE.name} for {len(symbols)} symbols into {sources}")
    started = time.perf_counter()
    # One command for every symbol: the runs share a pool of pre-started kernels, `workers` at
    # a time, each written to sources/<SYMBOL>.ipynb.
    nbscrap_run(
        _path(SOURCE),
        _path(sources) + os.sep,  # a folder: one notebook per parameter set in it
        "--grid",
        f"symbol={','.join(symbols)}",
        *("-p", "threshold", str(threshold)),
        *("--jobs", str(workers)),
        *("--name", "{symbol}.ipynb"),
    )
    print(f"  ({time.perf_counter() - started:.1f} s)")
    print(f"Running {SUMMARY.name} over them")
    summary = out / SUMMARY.name
    # A parameter is read in the notebook's own folder: its path is given whole.
    nbscrap_run(
        _path(SUMMARY),
        _path(summary),
        *("-p", "source_dir", str(sources)),
        *("-p", "threshold", str(threshold)),
    )
    return sb.read_notebook(summary)


def nbscrap_run(*args: str) -> None:
    """Runs ``nbscrap run ARGS...`` in this job's interpreter, after printing it as a person
    would type it; its progress bar and table go to this job's terminal."""
    # Flushed: it comes before the command's own output.
    print(f"$ {shlex.join(['nbscrap', 'run', *args])}", flush=True)
    done = subprocess.run([sys.executable, "-m", "pytest_nbscrap", "run", *args], check=False)
    if done.returncode:
        raise JobError(f"nbscrap run {args[0]} failed (exit status {done.returncode})")


def _path(path: Path) -> str:
    """A path for the command line: relative to where the job was started, when it is below."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def report(summary_notebook: sb.Notebook, sources: Path, threshold: float) -> None:
    summary = summary_notebook.scraps["summary"].data
    close = summary_notebook.scraps["close_symbols"].data
    print()
    print("Executed notebooks:")
    print(f"  sources: {sources}/ ({len(summary)} notebooks)")
    print(f"  summary: {summary_notebook.path}")
    print()
    print(f"Within {threshold:.0%} of their all-time high: {', '.join(close) or 'none'}")
    print()
    print(summary.to_string(index=False, formatters={"distance": "{:.2%}".format}))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    try:
        summary_notebook = run(args.symbols, out, args.threshold, args.workers)
    except (JobError, sb.NbScrapError) as error:
        print(f"run_workflow: {error}", file=sys.stderr)
        return 1
    report(summary_notebook, out / "sources", args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
