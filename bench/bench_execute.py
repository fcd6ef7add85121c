"""execute_notebook against papermill.execute_notebook on a trivial one-cell notebook.

Both run in this one process, alternating (so drift in machine load hits both alike), each
writing the executed notebook to a temporary folder; one warm-up run each is not counted.
The requirement is a median ratio (ours / papermill) of at most 1.05. ``run()`` is case (g) of
``run_all.py``.

    .venv/bin/python bench/bench_execute.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import papermill
from _fixtures import Notes, Row, alternate, timed

from pytest_nbscrap._executor import execute_notebook

NOTEBOOK = Path(__file__).resolve().parent.parent / "tests" / "notebooks" / "exec" / "trivial.ipynb"
LIMIT = 1.05


def measure(runs: int, label: str = "") -> tuple[list[float], list[float]]:
    """Our times and papermill's, alternating which goes first (so neither always follows the
    other's shutdown), after one uncounted run of each."""
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-") as folder:
        ours_out = str(Path(folder) / "ours.ipynb")
        theirs_out = str(Path(folder) / "papermill.ipynb")

        def ours() -> float:
            return timed(lambda: execute_notebook(NOTEBOOK, output_path=ours_out))

        def theirs() -> float:
            return timed(
                lambda: papermill.execute_notebook(str(NOTEBOOK), theirs_out, progress_bar=False)
            )

        times = alternate({"ours": ours, "papermill": theirs}, runs, warmup=True, label=label)
    return times["ours"], times["papermill"]


def run(rounds: int = 5) -> tuple[list[Row], Notes]:
    """Case (g): one row, ours against papermill."""
    ours_times, theirs_times = measure(rounds, label="g")
    row = Row(
        "g",
        "execute_notebook, one-cell notebook vs papermill",
        "`execute_notebook` on a one-cell notebook (vs `papermill.execute_notebook`)",
        ours_times,
        theirs_times,
        LIMIT,
        theirs_name="papermill",
    )
    return [row], Notes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each (default 9)")
    args = parser.parse_args()
    ours_times, theirs_times = measure(args.runs)
    ratio = statistics.median(ours_times) / statistics.median(theirs_times)
    for name, times in (("pytest_nbscrap", ours_times), ("papermill", theirs_times)):
        print(
            f"{name:>15}: median {statistics.median(times):.3f} s, "
            f"min {min(times):.3f} s, max {max(times):.3f} s ({len(times)} runs)"
        )
    verdict = "ok" if ratio <= LIMIT else f"over the {LIMIT}x limit"
    print(f"{'ratio':>15}: {ratio:.3f} (ours / papermill, medians): {verdict}")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
