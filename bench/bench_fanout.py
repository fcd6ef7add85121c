"""The seed's twelve-symbol loop with papermill's command line against one ``nbscrap run --grid``.

Both run the example's source notebook (``example_notebooks/ath_source.ipynb``) once per symbol
of the example's dozen, as subprocesses, alternating round by round:

    for s in AAPL MSFT ...; do papermill -p symbol $s ath_source.ipynb out/$s.ipynb; done
    nbscrap run ath_source.ipynb out/ --grid symbol=AAPL,MSFT,... --jobs 2

The loop is run by bash as the seed wrote it (a fresh interpreter, papermill's import and a cold
kernel per symbol); ``nbscrap run`` is one process running the sets two at a time on pooled,
pre-started kernels. Each side writes into an empty folder of its own every round, and every
run must leave twelve notebooks whose ``distance`` scrap reads back, or the bench stops: timing
a failing run measures nothing. The target (issue 14, "Speed") is a median ratio of at most 0.3
on a two-core machine.

    .venv/bin/python bench/bench_fanout.py [--rounds N] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _fixtures import BenchError, Notes, Row, alternate, load_average, report, timed

from pytest_nbscrap import read_notebooks

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "example_notebooks"))
# The example's dozen symbols, the ones its main job runs: the seed's loop.
from run_workflow import SOURCE, SYMBOLS  # noqa: E402 - found through the path above

TARGET = 0.3
BIN = Path(sys.executable).parent  # this environment's papermill and nbscrap scripts


def papermill_loop(out: Path) -> list[str]:
    """The seed's shell loop, word for word but for the paths."""
    loop = (
        f"for s in {' '.join(SYMBOLS)}; do "
        f'papermill -p symbol "$s" {shlex.quote(str(SOURCE))} {shlex.quote(str(out))}/"$s".ipynb; '
        "done"
    )
    return ["bash", "-c", loop]


def nbscrap_grid(out: Path, jobs: int) -> list[str]:
    grid = f"symbol={','.join(SYMBOLS)}"
    return ["nbscrap", "run", str(SOURCE), f"{out}/", "--grid", grid, "--jobs", str(jobs)]


def contender(command: Callable[[Path], list[str]], folder: Path, name: str) -> Callable[[], float]:
    """A run of ``command`` into a new folder each time, timed; its outputs checked after."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    count = 0

    def run() -> float:
        nonlocal count
        count += 1
        out = folder / f"{name}-{count}"
        out.mkdir()
        argv = command(out)
        seconds = timed(
            lambda: check(
                subprocess.run(argv, env=env, capture_output=True, text=True, check=False), argv
            )
        )
        book = read_notebooks(out)
        distances = [notebook.scraps["distance"].data for notebook in book.notebooks]
        if len(distances) != len(SYMBOLS) or not all(0 <= value < 1 for value in distances):
            raise BenchError(f"{name} left {len(book)} notebooks in {out}, not {len(SYMBOLS)}")
        return seconds

    return run


def check(done: subprocess.CompletedProcess[str], argv: list[str]) -> None:
    if done.returncode:
        raise BenchError(f"{shlex.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")


def measure(rounds: int, jobs: int, label: str = "") -> tuple[list[float], list[float]]:
    """Our times and the papermill loop's, alternating which goes first."""
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-fanout-") as name:
        folder = Path(name)
        times = alternate(
            {
                "nbscrap run --grid": contender(
                    lambda out: nbscrap_grid(out, jobs), folder, "nbscrap"
                ),
                "papermill loop": contender(papermill_loop, folder, "papermill"),
            },
            rounds,
            label=label,
        )
    return times["nbscrap run --grid"], times["papermill loop"]


def run(rounds: int = 4, jobs: int = 2) -> tuple[list[Row], Notes]:
    """One row: one ``nbscrap run --grid`` against the papermill loop, twelve symbols."""
    ours, theirs = measure(rounds, jobs, label="fan-out")
    row = Row(
        "h",
        f"12 source runs, nbscrap run --grid --jobs {jobs} vs a papermill CLI loop",
        f"the seed's 12 source runs: one `nbscrap run --grid symbol=... --jobs {jobs}` "
        "(vs a shell loop of `papermill -p symbol $s`)",
        ours,
        theirs,
        TARGET,
        ours_name="nbscrap run --grid",
        theirs_name="papermill loop",
    )
    return [row], Notes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=4, help="timed rounds of each, alternated (default 4)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="nbscrap run --jobs (default 2)")
    args = parser.parse_args()
    if args.rounds < 1 or args.jobs < 1:
        parser.error("--rounds and --jobs must be at least 1")
    print(f"command: {shlex.join(['python', 'bench/bench_fanout.py', *sys.argv[1:]])}")
    print(f"ours:   {shlex.join(nbscrap_grid(Path('out'), args.jobs))}")
    print(f"theirs: {papermill_loop(Path('out'))[-1]}")
    print(f"load average at start (1/5/15 min, {os.cpu_count()} CPUs): {load_average()}")
    rows, notes = run(args.rounds, args.jobs)
    print(f"load average at end: {load_average()}")
    return report(rows, notes)


if __name__ == "__main__":
    sys.exit(main())
