"""execute_notebook against papermill.execute_notebook on a trivial one-cell notebook.

Both run in this one process, alternating (so drift in machine load hits both alike), each
writing the executed notebook to a temporary folder; one warm-up run each is not counted.
The requirement is a median ratio (ours / papermill) of at most 1.05.

    .venv/bin/python bench/bench_execute.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import papermill

from pytest_nbscrap.executor import execute_notebook

NOTEBOOK = Path(__file__).resolve().parent.parent / "tests" / "notebooks" / "exec" / "trivial.ipynb"
LIMIT = 1.05


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each (default 9)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-") as folder:
        ours_out = str(Path(folder) / "ours.ipynb")
        theirs_out = str(Path(folder) / "papermill.ipynb")

        def ours() -> object:
            return execute_notebook(NOTEBOOK, output_path=ours_out)

        def theirs() -> object:
            return papermill.execute_notebook(str(NOTEBOOK), theirs_out, progress_bar=False)

        ours()
        theirs()
        ours_times: list[float] = []
        theirs_times: list[float] = []
        for index in range(args.runs):
            # Alternate which goes first, so neither always follows the other's shutdown.
            pair = [(ours, ours_times), (theirs, theirs_times)]
            for run, times in pair if index % 2 == 0 else reversed(pair):
                times.append(timed(run))

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
