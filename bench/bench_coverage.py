"""What measuring the code notebooks run costs: ``pytest --nbscrap --cov=PKG`` against the same
run without ``--cov``.

Writes 8 small pandas notebooks (case a's) beside a tiny package that each one calls, and times
whole ``python -m pytest`` runs over that folder as subprocesses, alternating round by round:

    pytest --nbscrap --cov=storepkg --cov-report=term notebooks/
    pytest --nbscrap notebooks/

Every run must report 8 passed; a measured run must also report the package's every line run
(its two functions are each called by the notebooks), or the bench stops: a measurement that
measured nothing costs nothing. There is no target: the row says what coverage costs.

    .venv/bin/python bench/bench_coverage.py [--rounds N]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _fixtures import BenchError, Notes, Row, alternate, report
from bench_suite import NOTEBOOKS, OURS, clean_env, summary_counts, write_suite

PACKAGE = """\
def revenue(units, price):
    return units * price


def top_region(summary):
    return summary["revenue"].idxmax()
"""
# Each notebook's last cell calls both functions, so a measured run covers every line.
CALLS = (
    "import storepkg\n"
    "frame['revenue'] = storepkg.revenue(frame['units'], frame['price'])\n"
    "print(storepkg.top_region(frame.groupby('region')[['revenue']].sum()))"
)
COVERED = re.compile(r"storepkg[/\\]__init__\.py\s+(\d+)\s+0\s+100%")


def write_project(folder: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell

    for path in write_suite(folder):
        notebook = nbformat.read(path, as_version=4)
        notebook.cells.append(new_code_cell(CALLS, id=f"{path.stem}-calls"))
        nbformat.write(notebook, path)
    package = folder / "storepkg"
    package.mkdir()
    (package / "__init__.py").write_text(PACKAGE)


def contender(folder: Path, basetemp: Path, args: tuple[str, ...]) -> Callable[[], float]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        *OURS,
        *args,
        str(folder),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={basetemp}",
    ]
    measured = bool(args)

    def run() -> float:
        start = time.perf_counter()
        # PYTHONPATH: the measuring process imports nothing of the package; its kernels do.
        env = {**clean_env(), "PYTHONPATH": str(folder)}
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - start
        counts = summary_counts(done.stdout)
        if done.returncode != 0 or counts.get("passed") != NOTEBOOKS:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise BenchError(f"`{' '.join(command)}` exited {done.returncode}:\n{tail}")
        if measured and not COVERED.search(done.stdout):
            raise BenchError(f"the measured run did not cover storepkg:\n{done.stdout[-2000:]}")
        return elapsed

    return run


def run(rounds: int = 5) -> tuple[list[Row], Notes]:
    notes = Notes()
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-coverage-") as tmp:
        folder = Path(tmp) / "notebooks"
        write_project(folder)
        runs = {
            "with --cov": contender(
                folder, Path(tmp) / "bt-cov", ("--cov=storepkg", "--cov-report=term")
            ),
            "without": contender(folder, Path(tmp) / "bt-plain", ()),
        }
        times = alternate(runs, rounds, label="i")
    row = Row(
        "i",
        "--nbscrap --cov vs --nbscrap",
        f"{NOTEBOOKS} small pandas notebooks calling a package, `pytest --nbscrap --cov=PKG` "
        "(vs `pytest --nbscrap`)",
        times["with --cov"],
        times["without"],
        ours_name="with --cov",
        theirs_name="without",
    )
    return [row], notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each (default 5)")
    args = parser.parse_args(argv)
    rows, notes = run(args.rounds)
    return report(rows, notes)


if __name__ == "__main__":
    raise SystemExit(main())
