"""Every benchmark of the speed issue in one run, side by side, and one table of ratios.

    python bench/run_all.py [--rounds N] [--only a,b,...] [--markdown]

Cases (each also a script of its own in this folder):

  a  8 small pandas notebooks, `pytest --nbscrap` vs `--nbmake` and `--nbval-lax`, plus
     `--nbscrap-workers 2` once that option exists                       (bench_suite.py)
  b  the same under `-n 2`                                              (bench_suite.py --xdist)
  c  a plain pytest run (50 tests, no notebooks), plugin vs `-p no:nbscrap`  (bench_plain.py)
  d  a notebook gluing 6 values, each on its own stack: ours vs scrapbook+papermill (bench_glue.py)
  e  read_notebooks over 200 notebooks vs scrapbook                     (bench_read.py)
  f  a 1M-row DataFrame scrap: glue, encode, read, bytes vs scrapbook   (bench_frame.py)
  g  execute_notebook vs papermill on a one-cell notebook               (bench_execute.py)
  h  12 source runs: nbscrap run --grid vs a papermill loop             (bench_fanout.py)
  i  read_notebooks of 200 notebooks from S3 (moto) vs local disk      (bench_storage.py)
  j  the suite with stored outputs, `--nbscrap --nbscrap-compare` vs `--nbval` (bench_compare.py)
  k  the 8-notebook suite calling a package, with --cov vs without      (bench_coverage.py)

Within a case the contenders alternate round by round (ours, theirs | theirs, ours | ...); a
ratio is ours / theirs of the medians, and each side shows its median [min-max]. Runs that do
not do what they should (a pytest run that is not all passed, a scrap that reads back wrong)
stop their case: the case is reported FAILED, the other cases still run. Results also go to
bench/results/latest.json.

Exit status: 0 when every case ran and met its target, 1 when a target was missed, 2 when a
case failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _fixtures import Notes, Row, load_average, machine, markdown_rows, table_lines

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _suite(xdist: bool) -> Callable[[int], tuple[list[Row], Notes]]:
    def run(rounds: int) -> tuple[list[Row], Notes]:
        return importlib.import_module("bench_suite").run(rounds, xdist=xdist)

    return run


def _module(name: str) -> Callable[[int], tuple[list[Row], Notes]]:
    def run(rounds: int) -> tuple[list[Row], Notes]:
        return importlib.import_module(name).run(rounds)

    return run


# case: (title, runner, default rounds). Modules are imported when their case runs, so
# `--only c` does not pay for papermill or scrapbook.
CASES: dict[str, tuple[str, Callable[[int], tuple[list[Row], Notes]], int]] = {
    "a": ("8-notebook suite under pytest, serial", _suite(xdist=False), 5),
    "b": ("8-notebook suite under pytest, -n 2", _suite(xdist=True), 5),
    "c": ("plain pytest run, plugin installed vs disabled", _module("bench_plain"), 15),
    "d": ("notebook gluing 6 values, ours vs scrapbook", _module("bench_glue"), 5),
    "e": ("read_notebooks over 200 notebooks vs scrapbook", _module("bench_read"), 5),
    "f": ("1M-row DataFrame scrap vs scrapbook", _module("bench_frame"), 5),
    "g": ("execute_notebook vs papermill, one-cell notebook", _module("bench_execute"), 5),
    "h": ("12 source runs: nbscrap run --grid vs a papermill loop", _module("bench_fanout"), 4),
    "i": (
        "read_notebooks of 200 notebooks from S3 (moto) vs local disk",
        _module("bench_storage"),
        5,
    ),
    "j": ("stored outputs compared: --nbscrap-compare vs --nbval", _module("bench_compare"), 5),
    "k": ("8-notebook suite, pytest --nbscrap --cov vs without", _module("bench_coverage"), 5),
}


def parse_cases(text: str | None) -> list[str]:
    if not text:
        return list(CASES)
    chosen = [item.strip().lower() for item in text.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    return [case for case in CASES if case in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="timed rounds for every case (default: 5, and 15 for the short case c)",
    )
    parser.add_argument("--only", help="comma-separated cases to run, e.g. a,c (default: all)")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the rows for the README's table"
    )
    args = parser.parse_args(argv)
    cases = parse_cases(args.only)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")

    command = shlex.join(
        ["python", "bench/run_all.py", *(argv if argv is not None else sys.argv[1:])]
    )
    info = machine()
    started = datetime.now(timezone.utc)
    load_start = load_average()
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    print(f"command: {command}")
    print(
        f"machine: nproc {info['nproc']} (usable {info['cpus_usable']}), {info['platform']}, "
        f"Python {info['python']}"
    )
    print(f"versions: {versions}")
    modified = info["package_files_modified"]
    print(
        f"tree: commit {info['commit']}"
        + (
            f"; package files modified or new: {', '.join(modified)}"
            if modified
            else "; clean package"
        )
    )
    print(f"load average at start (1/5/15 min): {load_start}")

    rows: list[Row] = []
    notes: list[str] = []
    failures: list[dict[str, str]] = []
    seconds: dict[str, float] = {}
    for case in cases:
        title, runner, default_rounds = CASES[case]
        rounds = args.rounds or default_rounds
        print(f"\n({case}) {title}: {rounds} rounds; load average {load_average()}", flush=True)
        start = time.perf_counter()
        try:
            case_rows, case_notes = runner(rounds)
        except Exception as exc:
            traceback.print_exc()
            print(f"({case}) FAILED: {type(exc).__name__}: {exc}", flush=True)
            failures.append({"case": case, "error": f"{type(exc).__name__}: {exc}"})
        else:
            rows.extend(case_rows)
            notes.extend(f"({case}) {note}" for note in case_notes.items)
            print("\n".join(table_lines(case_rows)), flush=True)
        seconds[case] = time.perf_counter() - start
        print(f"({case}) took {seconds[case]:.0f} s", flush=True)

    load_end = load_average()
    total = sum(seconds.values())
    print(f"\n== results: {command}")
    print("ratio = ours / theirs of the medians; met? compares it with the issue's target")
    print("\n".join(table_lines(rows)))
    for failure in failures:
        print(f"  ({failure['case']}) FAILED: {failure['error'].splitlines()[0]}")
    for note in notes:
        print(f"note: {note}")
    print(
        f"load average (1/5/15 min, {info['nproc']} CPUs) at start: {load_start}; end: {load_end}"
    )
    print(f"total {total:.0f} s (" + ", ".join(f"{c} {s:.0f} s" for c, s in seconds.items()) + ")")
    if args.markdown:
        print("\nREADME rows:")
        print("\n".join(markdown_rows(rows)))

    write_results(
        {
            "command": command,
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": seconds,
            "machine": info,
            "load_average_start": load_start,
            "load_average_end": load_end,
            "rows": [row.as_json() for row in rows],
            "failures": failures,
            "notes": notes,
        }
    )
    print(f"written to {RESULTS.relative_to(RESULTS.parent.parent.parent)}")
    if failures:
        return 2
    return 1 if any(row.met is False for row in rows) else 0


def write_results(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
