"""A suite of 8 small pandas notebooks under pytest: --nbscrap against --nbmake and --nbval-lax.

Writes 8 notebooks (a parameters cell, then a cell that imports pandas, builds a small frame,
groups it and prints the result) into a temporary folder, and times whole ``python -m pytest``
runs over that folder as subprocesses, alternating the tools round by round. Only the plugin
under test collects notebooks: the others are switched off with ``-p no:<name>``. Every run must
exit 0 and report exactly its expected passes (8 notebooks; nbval-lax makes one item per code
cell, so 16), or the bench stops: timing a failing run measures nothing.

Each tool gets its own ``--basetemp`` inside the temporary folder, so the runs neither read nor
clean up anyone else's pytest temporary directories.

    python bench/bench_suite.py [--rounds N] [--xdist]

Without ``--xdist`` this is case (a): ours / nbmake <= 0.67 by default, <= 0.50 with
``--nbscrap-workers 2`` (a row measured only once the option exists). With ``--xdist`` it is
case (b), the same runs under ``-n 2`` (nbval needs ``--dist loadscope`` there: its items are
cells that share one kernel, so they must stay on one worker); (b) has no target of its own.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _fixtures import BenchError, Notes, Row, alternate, report

NOTEBOOKS = 8
CODE_CELLS = 2  # nbval makes one test item per code cell
WORKERS_FLAG = "--nbscrap-workers"
SERIAL_TARGET = 0.67
WORKERS_TARGET = 0.50

# Each tool with the other notebook plugins switched off, so nothing is collected twice.
OURS = ("--nbscrap", "-p", "no:nbval", "-p", "no:nbmake")
NBMAKE = ("--nbmake", "-p", "no:nbscrap", "-p", "no:nbval")
NBVAL = ("--nbval-lax", "-p", "no:nbscrap", "-p", "no:nbmake")

SOURCE = """\
import pandas as pd

regions = ["north", "south", "east", "west"]
frame = pd.DataFrame(
    {
        "region": [regions[k % len(regions)] for k in range(rows)],
        "units": [(k * 7 + seed) % 13 for k in range(rows)],
        "price": [1.5 + (k % 5) for k in range(rows)],
    }
)
frame["revenue"] = frame["units"] * frame["price"]
summary = frame.groupby("region")[["units", "revenue"]].sum()
print(summary)
"""


def write_suite(folder: Path, count: int = NOTEBOOKS) -> list[Path]:
    """``count`` small pandas notebooks, nbformat 4.5 with cell ids, kernelspec python3."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        notebook = new_notebook(
            metadata={
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            }
        )
        notebook.cells = [
            new_markdown_cell(
                f"# Units and revenue by region, store {index}", id=f"s{index}-title"
            ),
            new_code_cell(
                f"rows = 200\nseed = {index}",
                id=f"s{index}-parameters",
                metadata={"tags": ["parameters"]},
            ),
            new_code_cell(SOURCE, id=f"s{index}-summary"),
        ]
        nbformat.validate(notebook)
        path = folder / f"store_{index}.ipynb"
        nbformat.write(notebook, path)
        paths.append(path)
    return paths


def clean_env() -> dict[str, str]:
    """This environment without PYTEST_* variables (PYTEST_ADDOPTS would change every run)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}


def summary_counts(stdout: str) -> dict[str, int]:
    """``{"passed": 8, "warnings": 1}`` from pytest's last (``-q``) summary line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    counts = {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", last)}
    if "warning" in counts:
        counts["warnings"] = counts.pop("warning")
    if "error" in counts:
        counts["errors"] = counts.pop("error")
    return counts


@dataclass
class PytestRun:
    """One pytest command over a folder, checked every time it is timed."""

    name: str
    args: tuple[str, ...]
    folder: Path
    basetemp: Path
    expected: int
    notes: Notes

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pytest",
            *self.args,
            str(self.folder),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={self.basetemp}",
        ]

    def shown(self) -> str:
        """The command as a reader would type it."""
        return " ".join(["python", *self.command[1:]])

    def __call__(self) -> float:
        start = time.perf_counter()
        done = subprocess.run(
            self.command,
            cwd=self.folder.parent,
            env=clean_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        counts = summary_counts(done.stdout)
        unexpected = {
            key: value for key, value in counts.items() if key not in ("passed", "warnings")
        }
        if done.returncode != 0 or counts.get("passed") != self.expected or unexpected:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
            raise BenchError(
                f"{self.name}: `{self.shown()}` exited {done.returncode} with {counts or 'no'} "
                f"counts, expected {self.expected} passed:\n{tail}"
            )
        if counts.get("warnings"):
            self.notes.add(f"{self.name}: pytest reports {counts['warnings']} warning(s)")
        if done.stderr.strip():
            first = done.stderr.strip().splitlines()[0]
            self.notes.add(f"{self.name}: wrote to stderr: {first[:160]}")
        return elapsed


@functools.cache
def has_option(flag: str) -> bool:
    """Whether the installed plugin offers ``flag`` (``pytest --help`` lists it)."""
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-help-") as folder:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--help", "-p", "no:nbmake", "-p", "no:nbval"],
            cwd=folder,
            env=clean_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    return flag in done.stdout


def run(rounds: int = 5, *, xdist: bool = False) -> tuple[list[Row], Notes]:
    """Case (a) (serial) or (b) (``-n 2``): rows comparing our run with nbmake's and nbval's."""
    case = "b" if xdist else "a"
    notes = Notes()
    parallel = ("-n", "2") if xdist else ()
    workers = has_option(WORKERS_FLAG)
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-suite-") as tmp:
        folder = Path(tmp) / "notebooks"
        write_suite(folder)

        def make(name: str, args: tuple[str, ...], expected: int = NOTEBOOKS) -> PytestRun:
            basetemp = Path(tmp) / f"basetemp-{name.replace(' ', '-')}"
            return PytestRun(name, args, folder, basetemp, expected, notes)

        runs = {
            "ours": make("ours", (*OURS, *parallel)),
            "nbmake": make("nbmake", (*NBMAKE, *parallel)),
            "nbval-lax": make(
                "nbval-lax",
                (*NBVAL, *parallel, *(("--dist", "loadscope") if xdist else ())),
                NOTEBOOKS * CODE_CELLS,
            ),
        }
        if workers:
            runs["ours workers 2"] = make("ours workers 2", (*OURS, *parallel, WORKERS_FLAG, "2"))
        for name, pytest_run in runs.items():
            print(f"  {case} {name}: {pytest_run.shown().replace(str(tmp), '$TMP')}", flush=True)
        times = alternate(runs, rounds, label=case)

    n = "-n 2 " if xdist else ""
    suite = f"{NOTEBOOKS} small pandas notebooks"
    rows = [
        Row(
            case,
            f"{n}--nbscrap vs --nbmake",
            f"{suite}, `pytest {n}--nbscrap` (vs `pytest {n}--nbmake`)",
            times["ours"],
            times["nbmake"],
            None if xdist else SERIAL_TARGET,
            theirs_name="nbmake",
        ),
        Row(
            case,
            f"{n}--nbscrap vs --nbval-lax",
            f"{suite}, `pytest {n}--nbscrap` (vs `pytest {n}--nbval-lax`)",
            times["ours"],
            times["nbval-lax"],
            theirs_name="nbval-lax",
            note="nbval-lax under xdist needs `--dist loadscope`" if xdist else "",
        ),
    ]
    label = f"{n}--nbscrap-workers 2 vs --nbmake"
    what = f"{suite}, `pytest {n}--nbscrap --nbscrap-workers 2` (vs `pytest {n}--nbmake`)"
    target = None if xdist else WORKERS_TARGET
    if workers:
        rows.append(
            Row(
                case,
                label,
                what,
                times["ours workers 2"],
                times["nbmake"],
                target,
                theirs_name="nbmake",
            )
        )
    else:
        note = f"skipped: this pytest-nbscrap has no {WORKERS_FLAG} option yet"
        rows.append(Row(case, label, what, [], [], target, note=note, theirs_name="nbmake"))
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each (default 5)")
    parser.add_argument("--xdist", action="store_true", help="run every tool with -n 2 (case b)")
    args = parser.parse_args(argv)
    rows, notes = run(args.rounds, xdist=args.xdist)
    return report(rows, notes)


if __name__ == "__main__":
    raise SystemExit(main())
