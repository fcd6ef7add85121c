"""Hostile sizes: a small notebook never makes a reader allocate without a bound, never takes
quadratic time, and one broken notebook never stops the others being collected.

Time and memory bounds here are generous (ten to a hundred times what the fixed code needs) so
that a loaded machine does not make them flaky; before the fixes the same inputs took minutes or
gigabytes.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import code_cell, notebook

from pytest_nbscrap._scraps import data_output

# -- a scrap's pandas metadata never sizes an allocation ----------------------------------------


def _parquet_asking_for(where: str, field: str, dtype: str) -> str:
    """A three-row datetime frame whose pandas metadata names ``dtype`` for ``where``'s
    ``field``: 1.6 KB of notebook that once asked ``astype`` for 3 x 2 GB."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    when = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]).as_unit("s")
    table = pa.Table.from_pandas(pd.DataFrame({"when": when}))
    metadata = json.loads(table.schema.metadata[b"pandas"])
    for entry in metadata[where]:
        entry[field] = dtype
    table = table.replace_schema_metadata({b"pandas": json.dumps(metadata).encode()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _scrap_output(name: str, payload: Any, encoder: str) -> dict[str, Any]:
    data, metadata = data_output(name, payload, encoder)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def _in_a_fresh_process(script: str, path: Path) -> list[str]:
    """The lines ``script`` prints, run on ``path`` in a new interpreter: its peak memory and
    limits are its own. The timeout is generous; a hang or a runaway fails the test."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


# The peak resident memory of the process running it (what the scripts below print).
_PEAK = """
import resource, sys


def peak_kb():
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a process forked from a large
    # pytest worker would report the worker's peak as its own.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
"""

# Reads every scrap and prints what each gave, then the peak resident memory, which shows
# whether the 6 GB allocation was attempted. No address-space limit (RLIMIT_AS): pyarrow's
# threads then sometimes fail to start, and the process aborts at exit on a loaded machine.
_READ_UNDER_LIMIT = (
    _PEAK
    + """
from pytest_nbscrap import read_notebook
for name, scrap in read_notebook(sys.argv[1]).scraps.items():
    try:
        print(name, "ok", type(scrap.data).__name__, len(scrap.data))
    except Exception as exc:
        cause = type(exc.__cause__).__name__
        print(name, "failed", type(exc).__name__, cause, str(exc).replace("\\n", " "))
print("peak_mb", peak_kb() // 1024)
"""
)


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("columns", "numpy_type"),
        ("column_indexes", "numpy_type"),
        ("column_indexes", "pandas_type"),
    ],
)
def test_a_scrap_asking_for_a_huge_dtype_fails_alone_quickly_in_bounded_memory(
    tmp_path, where, field
):
    import pandas as pd

    from pytest_nbscrap.encoders import PandasEncoder

    good = PandasEncoder().encode(pd.DataFrame({"x": [1, 2, 3]}))
    hostile = _parquet_asking_for(where, field, "V2000000000")
    path = tmp_path / "bomb.ipynb"
    cells = code_cell(
        outputs=[_scrap_output("bomb", hostile, "pandas"), _scrap_output("good", good, "pandas")]
    )
    path.write_text(json.dumps(notebook(cells)))
    assert path.stat().st_size < 8000

    lines = dict(line.split(" ", 1) for line in _in_a_fresh_process(_READ_UNDER_LIMIT, path))
    assert lines["good"] == "ok DataFrame 3"
    failed = lines["bomb"].split(" ", 3)
    assert failed[:3] == ["failed", "ScrapDecodeError", "ValueError"], lines["bomb"]
    assert "'V2000000000'" in failed[3]
    assert int(lines["peak_mb"]) < 500


def test_an_ordinary_datetime_frame_still_comes_back_with_its_seconds():
    import pandas as pd

    from pytest_nbscrap.encoders import PandasEncoder

    encoder = PandasEncoder()
    frame = pd.DataFrame({"when": pd.to_datetime(["2020-01-01"]).as_unit("s")})
    back = encoder.decode(encoder.encode(frame))
    assert str(back["when"].dtype) == "datetime64[s]"


# -- every pattern run on notebook text is linear -----------------------------------------------

_MEGABYTE_OF_OLD_FRAMES = "<ipython-input-1-ab> in <module>\n" * (1_000_000 // 33)


def _seconds(function: Any, *args: Any) -> float:
    import time

    start = time.monotonic()
    function(*args)
    return time.monotonic() - start


def test_rendering_a_megabyte_of_old_style_frames_takes_seconds_not_minutes():
    # Every header used to scan the rest of the text for its "---->" line: 108 s for 1 MB.
    from pytest_nbscrap.export import render_notebook
    from pytest_nbscrap.export.model import failing_line

    error = {"output_type": "error", "ename": "E", "evalue": "x"}
    cell = code_cell("1/0", [{**error, "traceback": [_MEGABYTE_OF_OLD_FRAMES]}])
    assert _seconds(failing_line, [_MEGABYTE_OF_OLD_FRAMES], 1) < 5
    assert _seconds(render_notebook, notebook(cell)) < 5


@pytest.mark.parametrize(
    "traceback",
    [
        "Cell In[1], line " + "9" * 5000,
        "Input In [1], in <cell line: " + "9" * 5000 + ">",
        "<ipython-input-1-ab> in <module>\n----> " + "9" * 5000 + " f()",
        "Cell In[" + "1" * 5000 + "], line 3",
    ],
)
def test_a_line_number_of_five_thousand_digits_is_no_line(traceback):
    from pytest_nbscrap.export.model import failing_line

    assert failing_line([traceback], 1) is None
    assert failing_line([traceback, "Cell In[1], line 2"], 1) == 2


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b[" + "0" * 1_000_000,  # a CSI that never ends
        "\x1b" + " " * 1_000_000,  # an escape's intermediates that never end
        "\x1b]" + "x" * 1_000_000,  # an OSC without its terminator
        "\x1b[\x1b[" * 300_000,
        "<ipython-input-" + "1" * 1_000_000,
        "Cell In [" + "1" * 1_000_000,
        "-" * 1_000_000 + "\n<ipython-input-1-ab> in <module>\n" + "-" * 1_000_000,
    ],
)
def test_every_pattern_is_linear_on_hostile_text(hostile):
    from pytest_nbscrap.export.filters import sanitize, strip_ansi
    from pytest_nbscrap.export.model import Output, failing_line

    assert _seconds(sanitize, hostile) < 5
    assert _seconds(strip_ansi, hostile) < 5
    assert _seconds(failing_line, [hostile], 1) < 5
    rich = {"output_type": "display_data", "data": {"text/plain": "<" + hostile, "text/html": ""}}
    assert _seconds(Output.from_node, rich) < 5


# -- one notebook never stops the others being collected ---------------------------------------

_HUGE_INT = "9" * 5000


def _plain_notebook(path: Path, source: str, **nbscrap: Any) -> None:
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    metadata: dict[str, Any] = {"kernelspec": kernelspec}
    if nbscrap:
        metadata["nbscrap"] = nbscrap
    node = notebook(code_cell(source, execution_count=None), **metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(node))


def test_reading_a_notebook_with_a_huge_integer_is_one_error_naming_it(tmp_path):
    from pytest_nbscrap import NotebookReadError, read_notebook
    from pytest_nbscrap._validate import read_metadata

    path = tmp_path / "huge.ipynb"
    path.write_text(json.dumps(notebook(code_cell("x = 1"))).replace('"cells"', '"n": 1, "cells"'))
    path.write_text(path.read_text().replace('"n": 1', f'"n": {_HUGE_INT}'))
    for read in (read_notebook, read_metadata):
        with pytest.raises(NotebookReadError, match="more than 4300 digits") as caught:
            read(path)
        assert caught.value.path == str(path)


def test_a_json_scrap_holding_a_huge_integer_fails_alone():
    from pytest_nbscrap import ScrapDecodeError, read_notebook

    outputs = [_scrap_output("huge", f"[{_HUGE_INT}]", "json"), _scrap_output("fine", 1, "json")]
    scraps = read_notebook(notebook(code_cell(outputs=outputs))).scraps
    assert scraps["fine"].data == 1
    with pytest.raises(ScrapDecodeError, match="'huge'"):
        _ = scraps["huge"].data


def test_collection_reads_the_metadata_and_keeps_no_cells(tmp_path):
    from pytest_nbscrap._validate import read_metadata

    path = tmp_path / "nb.ipynb"
    _plain_notebook(path, "x = 1", markers=["slow"])
    assert read_metadata(path) == {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "nbscrap": {"markers": ["slow"]},
    }


@pytest.mark.kernel
def test_one_bad_notebook_fails_alone_and_the_others_are_collected_and_run(pytester):
    nbs = pytester.path / "nbs"
    _plain_notebook(nbs / "a_good.ipynb", "x = 1")
    _plain_notebook(nbs / "huge.ipynb", "x = 1")
    huge = nbs / "huge.ipynb"
    huge.write_text(
        huge.read_text().replace('"nbformat_minor": 5', f'"n": {_HUGE_INT}, "nbformat_minor": 5')
    )
    _plain_notebook(nbs / "underscore.ipynb", "x = 1", markers=["_x"])
    _plain_notebook(nbs / "number.ipynb", "x = 1", markers=5)
    _plain_notebook(nbs / "string.ipynb", "x = 1", markers="slow")
    _plain_notebook(nbs / "unregistered.ipynb", "x = 1", markers=["nosuchmarker"])
    _plain_notebook(nbs / "z_good.ipynb", "x = 1", markers=["slowish"])
    pytester.makeini("[pytest]\nmarkers =\n    slowish: slow notebooks\n")

    result = pytester.runpytest_subprocess("--nbscrap", "nbs", "--strict-markers", "-rf")
    result.assert_outcomes(passed=2, failed=5)
    result.stdout.fnmatch_lines_random(
        [
            "FAILED nbs/huge.ipynb::huge - NotebookReadError: it holds*",
            "FAILED nbs/underscore.ipynb::underscore - UsageError: metadata.nbscrap.ma*",
            "FAILED nbs/number.ipynb::number - UsageError: metadata.nbscrap.ma*",
            "FAILED nbs/string.ipynb::string - UsageError: metadata.nbscrap.ma*",
            "FAILED nbs/unregistered.ipynb::unregistered - UsageError: metadata.nbscrap.ma*",
            "*huge.ipynb: it holds a number of more than 4300 digits",
            "*underscore.ipynb: metadata.nbscrap.markers: '_x' is not a marker name *",
            '*number.ipynb: metadata.nbscrap.markers must be a list of marker names, like ?"slow"?',
            '*string.ipynb: metadata.nbscrap.markers must be a list of marker names, like ?"slow"?',
            "*unregistered.ipynb: *'nosuchmarker' not found in `markers` configuration option",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert "error during collection" not in result.stdout.str()


# -- what is printed is bounded, and costs memory in proportion --------------------------------

# Renders a notebook in a fresh process and prints the text's size, its longest line and the
# process's peak resident memory.
_RENDER_MEASURED = (
    _PEAK
    + """
from pytest_nbscrap.export import render_notebook
text = render_notebook(sys.argv[1])
print(len(text), max(map(len, text.splitlines())), text.count("\\n"))
print(peak_kb() // 1024)
"""
)


def _render_measured(path: Path) -> tuple[int, int, int, int]:
    sizes, peak = _in_a_fresh_process(_RENDER_MEASURED, path)
    chars, longest, lines = map(int, sizes.split())
    return chars, longest, lines, int(peak)


@pytest.mark.parametrize(
    "cell",
    [
        {"cell_type": "markdown", "metadata": {}, "source": "word " * 9_600_000},
        {"cell_type": "markdown", "metadata": {}, "source": "a line of prose\n" * 3_000_000},
        {"cell_type": "raw", "metadata": {}, "source": "x" * 48_000_000},
        code_cell("x = '" + "a" * 48_000_000 + "'"),
        code_cell("x = 1\n" * 8_000_000),
    ],
    ids=["markdown-line", "markdown-lines", "raw-line", "code-line", "code-lines"],
)
def test_rendering_a_48_mb_cell_prints_a_page_in_bounded_memory(tmp_path, cell):
    # Before: the whole cell was printed (48 MB), and a one-line markdown cell peaked at 1 GB.
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps(notebook(cell)))
    chars, longest, lines, peak_mb = _render_measured(path)
    assert chars < 40_000
    assert longest <= 1_100
    assert lines < 40
    assert peak_mb < 600


def test_a_long_markdown_cell_is_cut_to_its_head_and_tail_with_a_note():
    from pytest_nbscrap.export import render_notebook

    source = "\n".join(f"line {number}" for number in range(1, 101))
    text = render_notebook(notebook({"cell_type": "markdown", "metadata": {}, "source": source}))
    assert "line 1\n" in text
    assert "line 100" in text
    assert "line 50\n" not in text
    assert "... 71 lines cut ..." in text


def test_many_small_writes_to_a_stream_are_joined_in_linear_time():
    # Each write used to re-copy the text so far: 200,000 writes took almost five minutes.
    from pytest_nbscrap.export.model import Cell

    writes = [{"output_type": "stream", "name": "stdout", "text": f"{n}\n"} for n in range(200_000)]
    cell = code_cell("print()", [*writes, {"output_type": "stream", "name": "stderr", "text": "e"}])
    start = __import__("time").monotonic()
    built = Cell.from_node(cell, 0, 1)
    # A generous bound with a cause, not a speed target: joined once, this takes about 1 s idle
    # and 9 s beside two CPU hogs; re-copying the text at each write took about 5 minutes.
    assert __import__("time").monotonic() - start < 60
    assert [output.name for output in built.outputs] == ["stdout", "stderr"]
    assert built.outputs[0].text == "\n".join(map(str, range(200_000)))
