"""Shared bench helpers: executed-style notebooks, and the timing and reporting every bench uses.

Executing hundreds of kernels would measure papermill, not reading; the notebooks here are built
with the same output writer ``glue`` uses (``pytest_nbscrap._scraps.data_output``) and look like
papermill's output: kernelspec and papermill metadata, an injected-parameters cell, one glue per
code cell with execution counts, timings and cell ids.

The timing half: :func:`alternate` runs contenders round by round in alternating order, a
:class:`Row` holds one comparison (ours against an anchor, with the issue's target), and
:func:`print_table` / :func:`markdown_rows` print rows the same way for a single bench script and
for ``run_all.py``.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pytest_nbscrap._scraps import data_output
from pytest_nbscrap.encoders import JsonEncoder, PandasEncoder, TextEncoder

SCRAPS_PER_NOTEBOOK = 16


def small_frame(seed: int) -> Any:
    """A 12-row frame of the column kinds a summary notebook usually carries."""
    import pandas as pd

    rng = random.Random(seed)
    rows = 12
    return pd.DataFrame(
        {
            "step": list(range(rows)),
            "value": [rng.uniform(-1, 1) for _ in range(rows)],
            "label": [rng.choice(["up", "down", "flat"]) for _ in range(rows)],
            "ok": [rng.random() > 0.5 for _ in range(rows)],
        }
    )


def scrap_values(seed: int) -> list[tuple[str, Any, str]]:
    """``SCRAPS_PER_NOTEBOOK`` (name, value, encoder): one DataFrame, the rest json and text."""
    rng = random.Random(seed)
    values: list[tuple[str, Any, str]] = [("frame", small_frame(seed), "pandas")]
    for index in range(SCRAPS_PER_NOTEBOOK - 1):
        kind = index % 5
        if kind == 0:
            values.append((f"count_{index}", rng.randint(0, 10_000), "json"))
        elif kind == 1:
            values.append((f"score_{index}", rng.random(), "json"))
        elif kind == 2:
            values.append((f"series_{index}", [rng.random() for _ in range(20)], "json"))
        elif kind == 3:
            summary = {"mean": rng.random(), "n": rng.randint(1, 99), "tags": ["a", "b"]}
            values.append((f"summary_{index}", summary, "json"))
        else:
            values.append((f"note_{index}", f"run {seed} finished step {index}", "text"))
    return values


_ENCODERS = {"json": JsonEncoder(), "text": TextEncoder(), "pandas": PandasEncoder()}


def _cell(
    rng: random.Random, source: str, count: int, outputs: list[dict[str, Any]], tags: list[str]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "papermill": {
            "duration": 0.01,
            "end_time": "2024-05-01T12:00:01.000000",
            "exception": False,
            "start_time": "2024-05-01T12:00:00.990000",
            "status": "completed",
        },
        "tags": tags,
    }
    return {
        "cell_type": "code",
        "execution_count": count,
        "id": uuid.UUID(int=rng.getrandbits(128)).hex[:8],
        "metadata": metadata,
        "outputs": outputs,
        "source": source,
    }


def executed_notebook(seed: int) -> dict[str, Any]:
    """One notebook as papermill would leave it after 16 glue calls."""
    rng = random.Random(seed)
    parameters = {"symbol": f"T{seed:03d}", "window": 20}
    cells = [
        _cell(rng, "import pytest_nbscrap as sb\nimport pandas as pd", 1, [], []),
        _cell(rng, "symbol = 'XYZ'\nwindow = 10", 2, [], ["parameters"]),
        _cell(
            rng,
            "\n".join(f"{key} = {value!r}" for key, value in parameters.items()),
            3,
            [],
            ["injected-parameters"],
        ),
    ]
    for count, (name, value, encoder) in enumerate(scrap_values(seed), start=4):
        data, metadata = data_output(name, _ENCODERS[encoder].encode(value), encoder)
        output = {"output_type": "display_data", "data": data, "metadata": metadata}
        cells.append(_cell(rng, f"sb.glue({name!r}, {name})", count, [output], []))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.0"},
            "papermill": {
                "default_parameters": {},
                "duration": 1.5,
                "environment_variables": {},
                "exception": None,
                "input_path": "source.ipynb",
                "output_path": f"T{seed:03d}.ipynb",
                "parameters": parameters,
                "start_time": "2024-05-01T12:00:00.000000",
                "version": "2.6.0",
            },
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebooks(folder: Path, count: int) -> list[Path]:
    """Writes ``count`` executed-style notebooks into ``folder`` (nbformat's own layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        path = folder / f"run_{seed:03d}.ipynb"
        path.write_text(json.dumps(executed_notebook(seed), indent=1, sort_keys=True) + "\n")
        paths.append(path)
    return paths


# --- timing and reporting ---------------------------------------------------------------------


class BenchError(RuntimeError):
    """A run the benchmark depends on failed: timing it would measure nothing."""


@dataclass
class Row:
    """One comparison: our times against an anchor's, measured in the same alternated rounds.

    ``what`` is the README wording; an empty ``ours`` or ``theirs`` means the row was skipped
    (``note`` says why). ``unit`` is ``"s"`` for times and ``"MB"`` for sizes.
    """

    case: str
    label: str
    what: str
    ours: list[float]
    theirs: list[float]
    target: float | None = None
    unit: str = "s"
    note: str = ""
    ours_name: str = "ours"
    theirs_name: str = "theirs"

    @property
    def skipped(self) -> bool:
        return not self.ours or not self.theirs

    @property
    def ratio(self) -> float | None:
        if self.skipped:
            return None
        return statistics.median(self.ours) / statistics.median(self.theirs)

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if ratio is None or self.target is None:
            return None
        return ratio <= self.target

    def as_json(self) -> dict[str, Any]:
        def side(values: list[float]) -> dict[str, Any] | None:
            if not values:
                return None
            return {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
                "values": values,
            }

        return {
            "case": self.case,
            "label": self.label,
            "what": self.what,
            "unit": self.unit,
            "ours_name": self.ours_name,
            "theirs_name": self.theirs_name,
            "ours": side(self.ours),
            "theirs": side(self.theirs),
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


@dataclass
class Notes:
    """Things a reader of the numbers should know: warnings seen, runs that looked odd."""

    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)


def timed(run: Callable[[], object]) -> float:
    """Seconds ``run()`` takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def alternate(
    contenders: Mapping[str, Callable[[], float]],
    rounds: int,
    *,
    warmup: bool = False,
    label: str = "",
) -> dict[str, list[float]]:
    """Runs each contender once per round and returns the times each reported.

    The order reverses every other round (ours, theirs | theirs, ours | ...), so drift in the
    machine's load, and whatever one run leaves behind for the next, hits all alike. Each
    contender returns its own elapsed time, so the checks it makes on its result stay outside
    the measurement. ``warmup`` runs each once first, uncounted (imports, file caches).
    """
    if warmup:
        for run in contenders.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(rounds):
        order = list(contenders.items())
        if round_ % 2:
            order.reverse()
        for name, run in order:
            times[name].append(run())
        if label:
            done = ", ".join(f"{name} {times[name][-1]:.3f}" for name, _ in order)
            print(f"  {label} round {round_ + 1}/{rounds}: {done}", flush=True)
    return times


def format_value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.2f} s"
    return f"{value:.2f} {unit}"


def format_spread(values: list[float], unit: str) -> str:
    """``median [min-max]``, or the one value when there is only one."""
    if not values:
        return "—"
    middle = format_value(statistics.median(values), unit)
    if len(values) == 1:
        return middle
    low, high = min(values), max(values)
    digits = 3 if unit == "s" and high < 10 else 2
    return f"{middle} [{low:.{digits}f}-{high:.{digits}f}]"


def table_lines(rows: list[Row]) -> list[str]:
    """The comparison table: case | ours | theirs | ratio | target | met?"""
    header = ("case", "ours (median [min-max])", "theirs (median [min-max])", "ratio", "target")
    body = []
    for row in rows:
        ratio = row.ratio
        met = {None: "—", True: "yes", False: "NO"}[row.met]
        if row.skipped:
            met = "skipped"
        body.append(
            (
                f"{row.case} {row.label}",
                format_spread(row.ours, row.unit),
                format_spread(row.theirs, row.unit),
                "—" if ratio is None else f"{ratio:.{3 if row.unit == 's' else 4}f}",
                "—" if row.target is None else f"<= {row.target:g}",
                met,
            )
        )
    cells = [(*header, "met?"), *body]
    widths = [max(len(line[col]) for line in cells) for col in range(len(cells[0]))]
    lines = []
    for index, line in enumerate(cells):
        lines.append(
            " | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        )
        if index == 0:
            lines.append("-+-".join("-" * width for width in widths))
    lines.extend(f"  {row.case} {row.label}: {row.note}" for row in rows if row.note)
    return lines


def print_table(rows: list[Row]) -> None:
    print("\n".join(table_lines(rows)))


def report(rows: list[Row], notes: Notes) -> int:
    """Prints a benchmark's table and notes; the exit status says whether every target was met."""
    print_table(rows)
    for note in notes.items:
        print(f"note: {note}")
    return 0 if all(row.met is not False for row in rows) else 1


def rounds_main(
    run: Callable[[int], tuple[list[Row], Notes]],
    doc: str,
    default_rounds: int,
    argv: list[str] | None = None,
) -> int:
    """The command line of a benchmark whose only option is ``--rounds``: runs it, reports."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=default_rounds,
        help=f"timed rounds of each (default {default_rounds})",
    )
    args = parser.parse_args(argv)
    rows, notes = run(args.rounds)
    return report(rows, notes)


def markdown_rows(rows: list[Row]) -> list[str]:
    """Rows for the README's performance table (``| what | ours | theirs | ratio |``)."""
    lines = ["| what | ours | theirs | ratio |", "|---|---|---|---|"]
    for row in rows:
        if row.skipped:
            continue
        ours = format_value(statistics.median(row.ours), row.unit)
        theirs = format_value(statistics.median(row.theirs), row.unit)
        lines.append(f"| {row.what} | {ours} | {theirs} | {row.ratio:.3f} |")
    return lines


def versions(*names: str) -> dict[str, str]:
    """Installed versions of distributions, by name (``"missing"`` when not installed)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including which commit and whether the tree was dirty."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return "unknown"
        return done.stdout.rstrip("\n")  # porcelain lines start with a space: keep it

    dirty = git("status", "--porcelain", "pytest_nbscrap")
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "commit": git("rev-parse", "--short", "HEAD"),
        "package_files_modified": [line[3:] for line in dirty.splitlines()]
        if dirty != "unknown"
        else "unknown",
        "versions": versions(
            "pytest-nbscrap",
            "pytest",
            "pytest-xdist",
            "nbmake",
            "nbval",
            "scrapbook",
            "papermill",
            "nbclient",
            "ipykernel",
            "pandas",
            "pyarrow",
        ),
    }


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
