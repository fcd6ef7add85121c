"""Output regression: ``pytest --nbscrap --nbscrap-compare`` against ``pytest --nbval``.

The 8 small pandas notebooks of bench_suite.py, each executed once beforehand (so its outputs
are stored in it, as a team on nbval keeps them), are run and compared with their stored
outputs by both tools, as whole ``python -m pytest`` subprocesses alternating round by round;
a plain ``--nbscrap`` run (no comparison) alternates with them, to show what comparing costs.
Every run must pass with exactly its expected count (8 notebooks; nbval makes one item per code
cell, so 16), or the bench stops. ``run()`` is case (i) of ``run_all.py``; no target.

    python bench/bench_compare.py [--rounds N]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _fixtures import Notes, Row, alternate, rounds_main
from bench_suite import CODE_CELLS, NOTEBOOKS, PytestRun, write_suite

from pytest_nbscrap import execute_notebook

PLAIN = ("--nbscrap", "-p", "no:nbval", "-p", "no:nbmake")
OURS = (*PLAIN, "--nbscrap-compare")
NBVAL = ("--nbval", "-p", "no:nbscrap", "-p", "no:nbmake")


def store_outputs(paths: list[Path], folder: Path) -> None:
    """Executes each notebook once and keeps the executed file in its place."""
    for path in paths:
        executed = folder / f"executed-{path.name}"
        execute_notebook(path, output_path=executed)
        executed.replace(path)


def run(rounds: int = 5) -> tuple[list[Row], Notes]:
    """Case (i): ours against nbval, and against ours without comparing."""
    notes = Notes()
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-compare-") as tmp:
        folder = Path(tmp) / "notebooks"
        store_outputs(write_suite(folder), Path(tmp))

        def make(name: str, args: tuple[str, ...], expected: int) -> PytestRun:
            return PytestRun(name, args, folder, Path(tmp) / f"basetemp-{name}", expected, notes)

        runs = {
            "ours": make("ours", OURS, NOTEBOOKS),
            "nbval": make("nbval", NBVAL, NOTEBOOKS * CODE_CELLS),
            "plain": make("plain", PLAIN, NOTEBOOKS),
        }
        for name, pytest_run in runs.items():
            print(f"  i {name}: {pytest_run.shown().replace(str(tmp), '$TMP')}", flush=True)
        times = alternate(runs, rounds, label="i")
    suite = f"{NOTEBOOKS} small pandas notebooks with stored outputs"
    rows = [
        Row(
            "i",
            "--nbscrap --nbscrap-compare vs --nbval",
            f"{suite}, `pytest --nbscrap --nbscrap-compare` (vs `pytest --nbval`)",
            times["ours"],
            times["nbval"],
            theirs_name="nbval",
        ),
        Row(
            "i",
            "--nbscrap --nbscrap-compare vs --nbscrap",
            f"{suite}: the same (vs `pytest --nbscrap`, no comparison)",
            times["ours"],
            times["plain"],
            theirs_name="--nbscrap",
        ),
    ]
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    return rounds_main(run, __doc__ or "", 5, argv)


if __name__ == "__main__":
    sys.exit(main())
