"""Stress: many notebooks, a long notebook, a big scrap. Every run must pass, in bounded memory.

Each run is a pytest subprocess whose conftest writes its own peak resident set size (and that
of its largest child, a kernel) when it ends; the figures are printed (``-s`` shows them) and
checked against generous bounds, so that a leak or a quadratic copy shows up here first.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers import write_code_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

RSS_CONFTEST = """
import json
import resource


def peak_kb():
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a process forked from a large
    # pytest worker would report the worker's peak as its own.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


# At session finish, not unconfigure: an xdist worker is torn down right after its session
# ends, and a file written in pytest_unconfigure may never be written.
def pytest_sessionfinish(session):
    config = session.config
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    usage = {
        "self": peak_kb(),
        # The kernels' own peaks; each includes what pytest held when it forked them.
        "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }
    with open(f"rss-{worker}.json", "w") as stream:
        json.dump(usage, stream)
"""


def peak_rss_mb(folder: Path) -> dict[str, dict[str, float]]:
    """Peak RSS in MB of each pytest process of the run (``main``, ``gw0``, ...), its own and
    its largest child's."""
    peaks = {}
    for path in sorted(folder.glob("rss-*.json")):
        usage = json.loads(path.read_text())
        peaks[path.stem.removeprefix("rss-")] = {k: v / 1024 for k, v in usage.items()}
    return peaks


def report(what: str, seconds: float, peaks: dict[str, dict[str, float]]) -> None:
    shown = ", ".join(
        f"{name} {usage['self']:.0f} MB (largest child {usage['children']:.0f} MB)"
        for name, usage in peaks.items()
    )
    print(f"\n{what}: {seconds:.1f} s; peak RSS: {shown}")


@pytest.fixture
def measured(pytester):
    pytester.makeconftest(RSS_CONFTEST)
    return pytester


NOTEBOOKS = 200


def test_two_hundred_notebooks_under_xdist(measured):
    for index in range(NOTEBOOKS):
        write_code_notebook(
            measured.path / "nbs" / f"nb{index:03d}.ipynb",
            f"import pytest_nbscrap as sb\nsb.glue('index', {index})",
        )
    start = time.monotonic()
    result = measured.runpytest_subprocess(
        "--nbscrap", "nbs", "-n", "2", "--nbscrap-output-dir=out", "-q", timeout=900
    )
    seconds = time.monotonic() - start
    result.assert_outcomes(passed=NOTEBOOKS)
    assert len(list((measured.path / "out").rglob("*.ipynb"))) == NOTEBOOKS
    peaks = peak_rss_mb(measured.path)
    report(f"{NOTEBOOKS} notebooks, -n 2", seconds, peaks)
    assert set(peaks) == {"main", "gw0", "gw1"}
    assert all(usage["self"] < 500 for usage in peaks.values())


CELLS = 1000


def test_a_thousand_cell_notebook(measured):
    cells = ["import pytest_nbscrap as sb\ntotal = 0"]
    cells += [f"total += {index}\nprint({index})" for index in range(CELLS - 2)]
    cells += [f"assert total == {sum(range(CELLS - 2))}\nsb.glue('total', total)"]
    write_code_notebook(measured.path / "nbs" / "long.ipynb", *cells)
    start = time.monotonic()
    result = measured.runpytest_subprocess(
        "--nbscrap", "nbs", "--nbscrap-output-dir=out", timeout=600
    )
    seconds = time.monotonic() - start
    result.assert_outcomes(passed=1)
    kept = json.loads((measured.path / "out" / "nbs__long.ipynb").read_text())
    assert len(kept["cells"]) == CELLS
    assert all(cell["execution_count"] == index + 1 for index, cell in enumerate(kept["cells"]))
    peaks = peak_rss_mb(measured.path)
    report(f"one notebook of {CELLS} cells", seconds, peaks)
    assert peaks["main"]["self"] < 500


ROWS = 1_000_000

FRAME_SOURCE = f"""
import numpy as np
import pandas as pd
import pytest_nbscrap as sb

rows = {ROWS}
frame = pd.DataFrame({{
    "id": np.arange(rows, dtype="int64"),
    "value": np.linspace(0.0, 1.0, rows),
    "label": pd.Series(np.where(np.arange(rows) % 3 == 0, "fizz", "buzz"), dtype="category"),
    "when": pd.date_range("2020-01-01", periods=rows, freq="s"),
}})
sb.glue("frame", frame)
sb.glue("checksum", float(frame["value"].sum()))
sb.glue("dtypes", {{name: str(dtype) for name, dtype in frame.dtypes.items()}})
"""

FRAME_TEST = f"""
import pandas as pd
import pytest


@pytest.mark.notebook("nbs/frame.ipynb")
def test_the_frame_comes_back(scraps):
    frame = scraps["frame"].data
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape == ({ROWS}, 4)
    assert frame["id"].iloc[-1] == {ROWS - 1}
    assert frame["value"].sum() == pytest.approx(scraps["checksum"].data)
    assert {{name: str(dtype) for name, dtype in frame.dtypes.items()}} == scraps["dtypes"].data
"""


def test_a_million_row_dataframe_scrap(measured):
    write_code_notebook(measured.path / "nbs" / "frame.ipynb", FRAME_SOURCE)
    measured.makepyfile(test_frame=FRAME_TEST)
    start = time.monotonic()
    result = measured.runpytest_subprocess("--nbscrap-output-dir=out", timeout=600)
    seconds = time.monotonic() - start
    result.assert_outcomes(passed=1)
    size = (measured.path / "out" / "nbs__frame.ipynb").stat().st_size / 2**20
    peaks = peak_rss_mb(measured.path)
    report(f"a {ROWS:,}-row DataFrame scrap ({size:.0f} MB notebook)", seconds, peaks)
    assert peaks["main"]["self"] < 1_500
