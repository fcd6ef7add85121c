"""What a huge output costs in memory: the executed notebook is kept, written and returned
without copies of its text.

The file a run writes is nbformat's own text, streamed; the returned notebook shares the run's
strings. The bound below is measured on a real kernel in a fresh process.
"""

from __future__ import annotations

import copy
import json
import random

import nbformat
import pytest
from helpers import write_code_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pytest_nbscrap._notebook_file import Lines, file_chunks
from pytest_nbscrap._notebook_file import plain as plain_copy


def _rich_notebook() -> nbformat.NotebookNode:
    """Every field nbformat's writer splits, strips or must leave alone."""
    nb = new_notebook(
        cells=[
            new_code_cell(
                "a\nb\r\nc",
                outputs=[
                    new_output("stream", name="stdout", text="x\ny\n"),
                    new_output("stream", name="stderr", text=""),
                    new_output(
                        "display_data",
                        data={
                            "text/plain": "1\n2",
                            "image/png": "AAA\nBBB",
                            "application/json": {"a": [1, 2.5, None, True, {}], "b": []},
                            "image/svg+xml": "<s>\n</s>",
                        },
                        metadata={"k": {"n": float("nan"), "i": float("-inf")}},
                    ),
                    new_output("error", ename="E", evalue="v\nw", traceback=["l1\n", "l2"]),
                ],
            ),
            new_markdown_cell("# t\u2028é\n", attachments={"a.png": {"image/png": "x\ny"}}),
            new_code_cell(""),
        ],
        metadata={
            "orig_nbformat": 3,
            "signature": "s",
            "papermill": {"parameters": {"x": [1, [2, [3, {}]]], "t": (1, 2), "b": b"ab"}},
        },
    )
    nb.cells[0].metadata["trusted"] = True
    return nb


def test_the_streamed_file_is_nbformats_text_exactly():
    nb = _rich_notebook()
    assert "".join(file_chunks(copy.deepcopy(nb))) == nbformat.writes(nb)


def test_multi_line_strings_split_one_line_at_a_time_as_str_splitlines_does():
    rng = random.Random(12)
    alphabet = 'ab \n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029\té"\\\x00'
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert list(Lines(text).lines()) == text.splitlines(True), repr(text)


def test_the_result_is_plain_shares_the_strings_and_no_container():
    nb = _rich_notebook()
    nb.metadata["papermill"]["parameters"].pop("b")  # JSON has no bytes; neither had the result
    plain = plain_copy(nb)
    assert json.dumps(plain) == json.dumps(nb)  # what the JSON round trip gave (NaN included)
    assert type(plain) is dict
    assert type(plain["cells"][0]["outputs"][0]) is dict
    shown = nb.cells[0].outputs[0]
    assert plain["cells"][0]["outputs"][0]["text"] is shown.text  # shared, not copied
    plain["cells"][0]["outputs"].clear()
    plain["metadata"]["papermill"]["parameters"]["x"][1].append(4)
    assert len(nb.cells[0].outputs) == 4
    assert nb.metadata.papermill.parameters.x == [1, [2, [3, {}]]]


_MEGABYTES = 100

# The pytest process writes its own peak at session end. VmHWM, not ru_maxrss: ru_maxrss
# survives exec, so a process forked from a large pytest worker would report that peak.
_PEAK_CONFTEST = """
def pytest_sessionfinish(session):
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open("peak_mb", "w") as stream:
        stream.write(str(peak >> 10))
"""

_TEST = """
import pytest

@pytest.mark.notebook("big.ipynb")
def test_the_last_scrap_is_read(scraps):
    assert scraps["final"].data == "fresh"
"""


@pytest.mark.kernel
def test_a_huge_output_costs_a_few_times_its_size_under_pytest(pytester):
    # Measured with 200 MB (peak of pytest above its empty-session peak): 5.9 times the
    # output before the copies were removed, 2.2 times after; most of what is left is the
    # kernel's one big message arriving (its bytes, then its text).
    source = f"import pytest_nbscrap as sb\nfor _ in range({_MEGABYTES}):\n    print('x' * 2**20)"
    write_code_notebook(pytester.path / "big.ipynb", source + "\nsb.glue('final', 'fresh')")
    pytester.makeconftest(_PEAK_CONFTEST)
    # The baseline: a session that runs nothing (pytest says "no tests ran").
    assert pytester.runpytest_subprocess().ret == pytest.ExitCode.NO_TESTS_COLLECTED
    pytester.makepyfile(test_big=_TEST)
    baseline = int((pytester.path / "peak_mb").read_text())
    result = pytester.runpytest_subprocess("--nbscrap-output-dir=out", "test_big.py", timeout=600)
    result.assert_outcomes(passed=1)
    peak = int((pytester.path / "peak_mb").read_text())
    assert peak - baseline < 4 * _MEGABYTES, (baseline, peak)
    written = nbformat.read(pytester.path / "out" / "big.ipynb", as_version=4)
    assert "".join(o.text for o in written.cells[0].outputs if "text" in o).count("x") == (
        _MEGABYTES * 2**20
    )
