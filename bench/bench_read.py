"""Reading a folder of executed notebooks: pytest-nbscrap against scrapbook 0.5, same process.

Writes 200 executed-style notebooks of 16 scraps each (one a small DataFrame, the rest json and
text) into a temporary folder, then times, in alternating order, each library's
``read_notebooks(folder)`` plus decoding every scrap's data. Each first reads a folder of 4 such
notebooks, uncounted: that pays for importing pandas/pyarrow and scrapbook's jsonschema set-up
without spending a whole scrapbook round on it.

    python bench/bench_read.py [--rounds N] [--notebooks N] [--profile]

The issue's bar: ours takes at most 0.10 of scrapbook's time. ``run()`` is case (e) of
``run_all.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, this folder is on sys.path: the shared helpers import as a top-level module.
from _fixtures import SCRAPS_PER_NOTEBOOK, BenchError, Notes, Row, alternate, write_notebooks

BAR = 0.10
WARMUP_NOTEBOOKS = 4


def read_ours(folder: Path) -> int:
    import pytest_nbscrap

    book = pytest_nbscrap.read_notebooks(folder)
    decoded = 0
    for notebook in book.notebooks:
        for scrap in notebook.scraps.values():
            scrap.data  # noqa: B018 - decoding is what is measured
            decoded += 1
    return decoded


def read_scrapbook(folder: Path) -> int:
    import scrapbook

    book = scrapbook.read_notebooks(str(folder))
    decoded = 0
    for notebook in book.notebooks:
        for scrap in notebook.scraps.values():  # scrapbook decodes every scrap here
            scrap.data  # noqa: B018
            decoded += 1
    return decoded


def check_same_values(folder: Path) -> None:
    """Both libraries must read the same data, or the timing compares different work."""
    import scrapbook

    import pytest_nbscrap
    from pytest_nbscrap._scraps import values_equal

    path = min(folder.glob("*.ipynb"))
    ours = pytest_nbscrap.read_notebook(path).scraps
    theirs = scrapbook.read_notebook(str(path)).scraps
    if list(ours) != list(theirs):
        raise BenchError(f"scrap names differ in {path.name}: {list(ours)} != {list(theirs)}")
    for name, scrap in ours.items():
        if not values_equal(scrap.data, theirs[name].data):
            raise BenchError(f"scrap {name!r} of {path.name} reads differently")


def timed(read: Callable[[Path], int], folder: Path, expected: int) -> float:
    gc.collect()
    start = time.perf_counter()
    decoded = read(folder)
    elapsed = time.perf_counter() - start
    if decoded != expected:
        raise BenchError(f"{read.__name__} decoded {decoded} scraps, expected {expected}")
    return elapsed


def profile(read: Callable[[Path], int], folder: Path, lines: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(read, folder)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def measure(folder: Path, rounds: int, notebooks: int, label: str = "") -> dict[str, list[float]]:
    """Checks both read the same values, then times both, alternating, after a small warm-up."""
    expected = notebooks * SCRAPS_PER_NOTEBOOK
    check_same_values(folder)
    readers = {"pytest-nbscrap": read_ours, "scrapbook 0.5": read_scrapbook}
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-warmup-") as warmup:
        write_notebooks(Path(warmup), WARMUP_NOTEBOOKS)
        for read in readers.values():
            timed(read, Path(warmup), WARMUP_NOTEBOOKS * SCRAPS_PER_NOTEBOOK)
    return alternate(
        {
            label: functools.partial(timed, read, folder, expected)
            for label, read in readers.items()
        },
        rounds,
        label=label,
    )


def what(notebooks: int) -> str:
    return f"{notebooks} notebooks x {SCRAPS_PER_NOTEBOOK} scraps, all decoded"


def run(rounds: int = 5, *, notebooks: int = 200) -> tuple[list[Row], Notes]:
    """Case (e): one row, ours against scrapbook."""
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-") as tmp:
        folder = Path(tmp)
        write_notebooks(folder, notebooks)
        times = measure(folder, rounds, notebooks, label="e")
    readme = (
        f"`read_notebooks`, {notebooks} notebooks \u00d7 {SCRAPS_PER_NOTEBOOK} scraps, all decoded"
    )
    row = Row(
        "e",
        f"read_notebooks, {notebooks} notebooks vs scrapbook",
        f"{readme} (vs scrapbook 0.5)",
        times["pytest-nbscrap"],
        times["scrapbook 0.5"],
        BAR,
        theirs_name="scrapbook",
    )
    return [row], Notes()


def summary(times: list[float]) -> str:
    return (
        f"median {statistics.median(times):.3f} s  min {min(times):.3f} s  max {max(times):.3f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds of each (default 7)")
    parser.add_argument("--notebooks", type=int, default=200, help="notebooks to read (200)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of ours")
    args = parser.parse_args(argv)

    import pandas
    import pyarrow
    import scrapbook

    import pytest_nbscrap

    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-") as tmp:
        folder = Path(tmp)
        write_notebooks(folder, args.notebooks)
        size = sum(path.stat().st_size for path in folder.iterdir()) / 1e6
        print(
            f"{args.notebooks} notebooks x {SCRAPS_PER_NOTEBOOK} scraps ({size:.1f} MB); "
            f"pytest-nbscrap {pytest_nbscrap.__version__}, scrapbook {scrapbook.__version__}, "
            f"pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, "
            f"Python {sys.version.split()[0]}"
        )

        times = measure(folder, args.rounds, args.notebooks)

        for label, measured in times.items():
            print(f"{label:>15}: {summary(measured)}")
        ours = statistics.median(times["pytest-nbscrap"])
        theirs = statistics.median(times["scrapbook 0.5"])
        ratio = ours / theirs
        verdict = "meets" if ratio <= BAR else "MISSES"
        print(f"ratio ours/scrapbook (medians): {ratio:.3f} ({verdict} the {BAR:.2f} bar)")
        print()
        print(f"| read_notebooks, {what(args.notebooks)} | median | ratio |")
        print("|---|---|---|")
        print(f"| scrapbook 0.5 | {theirs:.3f} s | 1 |")
        print(f"| pytest-nbscrap | {ours:.3f} s | {ratio:.3f} |")

        if args.profile:
            print()
            print(profile(read_ours, folder))
    return 0 if ratio <= BAR else 1


if __name__ == "__main__":
    raise SystemExit(main())
