"""Property-based tests: glue -> read gives the value back, and no notebook breaks the reader.

glue() runs against IPython's display machinery in this process (no kernel): the outputs it
publishes are put in a notebook, sent through strict JSON as a kernel and nbformat would, and
read back. The second half feeds the reader mutated and random notebooks: whatever the file
holds, the only errors are ``NbScrapError`` subclasses with a message.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import code_cell, notebook
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_nbscrap import glue, read_notebook
from pytest_nbscrap._errors import NbScrapError, NotebookReadError
from pytest_nbscrap._reader import Notebook
from pytest_nbscrap._scraps import Scrap, data_output
from pytest_nbscrap.export import render_notebook

SETTINGS = settings(
    max_examples=200,
    deadline=None,  # the first parquet round trip imports pyarrow
    suppress_health_check=[HealthCheck.too_slow],
)
FRAME_SETTINGS = settings(SETTINGS, max_examples=100)


@contextmanager
def capturing() -> Iterator[list[dict[str, Any]]]:
    """The ``glued`` fixture's capture as a context manager, usable inside a hypothesis test."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    outputs: list[dict[str, Any]] = []
    with capture_output() as captured:
        yield outputs
    outputs.extend(
        {"output_type": "display_data", "data": out.data, "metadata": out.metadata}
        for out in captured.outputs
    )


def glue_and_read(name: str, value: Any, **options: Any) -> Scrap:
    with capturing() as outputs:
        glue(name, value, **options)
    # What a kernel sends and nbformat writes: strict JSON (no NaN), UTF-8.
    text = json.dumps(notebook(code_cell("glue(...)", outputs)), allow_nan=False)
    return read_notebook(json.loads(text.encode("utf-8").decode("utf-8"))).scraps[name]


def same(left: Any, right: Any) -> bool:
    """Equal values of the same types; NaN equals NaN, and -0.0 is not 0.0."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return left == right and math.copysign(1, left) == math.copysign(1, right)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)
    return bool(left == right)


names = st.text(min_size=1, max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


# -- glue -> read ---------------------------------------------------------------------------


# A top-level str given to the json encoder is JSON text (as in scrapbook): glued as its text.
def as_glued(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, str) else value


@SETTINGS
@given(name=names, value=json_values)
@example(name="x", value=float("nan"))
@example(name="x", value=[float("inf"), -float("inf"), -0.0, None])
@example(name="ünï €ødé 名前 🙂", value={"": None, "nan": float("nan")})
def test_json_encoder_round_trips_every_json_value(name, value):
    scrap = glue_and_read(name, as_glued(value), encoder="json")
    assert scrap.name == name
    assert scrap.encoder == "json"
    assert same(scrap.data, value)


@SETTINGS
@given(name=names, value=json_values)
def test_json_text_glued_with_the_json_encoder_reads_back_as_its_value(name, value):
    assert same(glue_and_read(name, json.dumps(value), encoder="json").data, value)


@SETTINGS
@given(name=names, value=json_values.filter(lambda value: not isinstance(value, str)))
def test_automatic_encoder_round_trips_json_values(name, value):
    assert same(glue_and_read(name, value).data, value)


@SETTINGS
@given(name=names, value=st.text())
@example(name="t", value="")
@example(name="t", value="line\r\nnext\x00\x1b[2J\u2028")
def test_text_encoder_round_trips_every_string(name, value):
    scrap = glue_and_read(name, value)
    assert scrap.encoder == "text"
    assert scrap.data == value


@SETTINGS
@given(name=names, value=json_values)
def test_a_displayed_scrap_keeps_its_data_and_its_display(name, value):
    scrap = glue_and_read(name, as_glued(value), encoder="json", display=True)
    assert same(scrap.data, value)
    assert scrap.display is not None
    assert "text/plain" in scrap.display["data"]


@SETTINGS
@given(name=names, value=st.integers() | st.text(), encoder=st.sampled_from(["display"]))
def test_the_display_encoder_keeps_what_is_shown_and_no_data(name, value, encoder):
    scrap = glue_and_read(name, value, encoder=encoder)
    assert scrap.data is None
    assert scrap.display is not None


INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def numbers(dtype: str) -> st.SearchStrategy[Any]:
    info = np.iinfo(dtype)
    return st.integers(int(info.min), int(info.max))


def floats(width: int) -> st.SearchStrategy[float]:
    return st.floats(width=width)  # NaN and infinities included


DATES = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 1, 1))
DELTAS = st.timedeltas(min_value=-dt.timedelta(days=10**5), max_value=dt.timedelta(days=10**5))

# (dtype, values): every column kind the pandas encoder promises to carry.
COLUMN_KINDS: list[tuple[str, Callable[[], st.SearchStrategy[Any]]]] = [
    *[(dtype, lambda dtype=dtype: numbers(dtype)) for dtype in INT_DTYPES],
    ("float16", lambda: floats(16)),
    ("float32", lambda: floats(32)),
    ("float64", lambda: floats(64)),
    ("bool", st.booleans),
    ("Int64", lambda: st.none() | numbers("int64")),
    ("UInt8", lambda: st.none() | numbers("uint8")),
    ("boolean", lambda: st.none() | st.booleans()),
    ("Float64", lambda: st.none() | st.floats(allow_nan=False)),
    ("str", lambda: st.none() | st.text(max_size=10)),
    ("string", lambda: st.none() | st.text(max_size=10)),
    ("category", lambda: st.none() | st.sampled_from(["a", "b", "ç", "🙂"])),
    ("category", lambda: st.none() | st.integers(-3, 3)),
    ("datetime64[s]", lambda: st.none() | DATES),
    ("datetime64[ms]", lambda: st.none() | DATES),
    ("datetime64[us]", lambda: st.none() | DATES),
    ("datetime64[ns]", lambda: st.none() | DATES),
    ("datetime64[us, UTC]", lambda: st.none() | DATES),
    ("timedelta64[s]", lambda: st.none() | DELTAS),
    ("timedelta64[ns]", lambda: st.none() | DELTAS),
    ("object", lambda: st.binary(max_size=8)),
]


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 5))
    index_kind = draw(st.sampled_from(["range", "text", "named-int"]))
    if index_kind == "range":
        index = pd.RangeIndex(rows)
    elif index_kind == "text":
        index = pd.Index(draw(st.lists(st.text(max_size=5), min_size=rows, max_size=rows)))
    else:
        values = draw(st.lists(st.integers(-100, 100), min_size=rows, max_size=rows))
        index = pd.Index(values, dtype="int64", name=draw(st.text(min_size=1, max_size=5)))
    columns = draw(st.lists(names, max_size=4, unique=True))
    frame = pd.DataFrame(index=index)
    for column in columns:
        dtype, values = draw(st.sampled_from(COLUMN_KINDS))
        data = draw(st.lists(values(), min_size=rows, max_size=rows))
        if dtype.startswith("datetime64") and "UTC" in dtype:
            series = pd.Series(pd.to_datetime(data), index=index).dt.tz_localize("UTC")
            series = series.astype(dtype)
        elif dtype == "object":
            series = pd.Series(data, index=index, dtype=object)
        else:
            series = pd.Series(data, index=index, dtype=dtype)
        frame[column] = series
    return frame


@FRAME_SETTINGS
@given(name=names, frame=frames())
@example(name="empty", frame=pd.DataFrame())
@example(name="rows, no columns", frame=pd.DataFrame(index=pd.RangeIndex(3)))
@example(name="columns, no rows", frame=pd.DataFrame({"a": pd.Series([], dtype="float32")}))
def test_pandas_encoder_round_trips_frames(name, frame):
    scrap = glue_and_read(name, frame)
    assert scrap.encoder == "pandas"
    pd.testing.assert_frame_equal(scrap.data, frame, check_index_type="equiv")
    assert scrap == Scrap(name, frame, "pandas")


def test_a_series_comes_back_as_its_one_column_frame():
    series = pd.Series([1.5, float("nan"), float("inf")], name="values")
    pd.testing.assert_frame_equal(glue_and_read("s", series).data, series.to_frame())


# -- whatever a notebook file holds, the reader fails cleanly -----------------------------


def executed_notebook() -> dict[str, Any]:
    """An executed notebook with every kind of output and scrap the reader knows."""
    frame_payload = _pandas_payload()
    return notebook(
        code_cell("symbol = 'X'", metadata={"tags": ["parameters"]}, execution_count=1),
        code_cell(
            "symbol = 'Y'",
            metadata={"tags": ["injected-parameters"], "papermill": {"duration": 0.5}},
            execution_count=2,
        ),
        code_cell(
            ["glue('n', 1)\n", "glue('t', 'x')"],
            outputs=[
                _glued("n", 1, "json"),
                _glued("t", "x", "text"),
                _glued("f", frame_payload, "pandas"),
                _glued("nan", "NaN", "json"),
                {
                    "output_type": "display_data",
                    "data": {"text/plain": "shown", "text/html": "<b>shown</b>"},
                    "metadata": {"scrapbook": {"name": "t", "data": False, "display": True}},
                },
                {
                    "output_type": "display_data",
                    "data": {"application/papermill.record+json": {"legacy": [1, 2]}},
                    "metadata": {},
                },
                {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\r\n"]},
                {
                    "output_type": "execute_result",
                    "execution_count": 3,
                    "data": {"text/plain": ["3"]},
                    "metadata": {},
                },
            ],
            execution_count=3,
            metadata={"papermill": {"duration": 0.25, "status": "completed"}},
        ),
        {"cell_type": "markdown", "source": ["# Title\n", "words"], "metadata": {}},
        code_cell(
            "1 / 0",
            outputs=[
                {
                    "output_type": "error",
                    "ename": "ZeroDivisionError",
                    "evalue": "division by zero",
                    "traceback": ["\x1b[31mCell In[4], line 1\x1b[0m", "ZeroDivisionError"],
                }
            ],
            execution_count=4,
            metadata={"papermill": {"exception": True, "status": "failed"}},
        ),
        {"cell_type": "raw", "source": "raw", "metadata": {}},
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        papermill={"parameters": {"symbol": "Y"}, "exception": True},
    )


def _glued(name: str, payload: Any, encoder: str) -> dict[str, Any]:
    data, metadata = data_output(name, payload, encoder)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def _pandas_payload() -> str:
    from pytest_nbscrap.encoders import PandasEncoder

    return str(PandasEncoder().encode(pd.DataFrame({"a": [1, 2]})))


BASE = executed_notebook()
leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
any_json = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``node``."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from places(value, (*path, index))


def mutate(node: Any, data: st.DataObject) -> Any:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        path = data.draw(st.sampled_from(list(places(node))), label="where")
        action = data.draw(st.sampled_from(["replace", "delete", "wrap"]), label="how")
        if not path:
            node = data.draw(any_json) if action == "replace" else [node]
            continue
        *parents, last = path
        container = node
        for key in parents:
            container = container[key]
        if action == "delete":
            del container[last]
        elif action == "wrap":
            container[last] = [container[last]]
        else:
            container[last] = data.draw(any_json, label="value")
    return node


def assert_clean(action: Callable[[], Any]) -> Any:
    """Runs ``action``; the only error allowed is an NbScrapError that says something."""
    try:
        return action()
    except NbScrapError as error:
        message = str(error)
    assert message.strip(), "an error without a message"
    assert "\n" not in message, "an error message on several lines"
    return None


def exercise(notebook_: Notebook) -> None:
    """Everything a user reads from a notebook, and both renderings."""
    for read in (
        lambda: notebook_.nbformat,
        lambda: notebook_.nbformat_minor,
        lambda: notebook_.cells,
        lambda: notebook_.metadata,
        lambda: notebook_.parameters,
        lambda: notebook_.cell_timing,
        lambda: notebook_.execution_counts,
        lambda: repr(notebook_),
    ):
        assert_clean(read)
    scraps = assert_clean(lambda: notebook_.scraps)
    for scrap in (scraps or {}).values():
        assert_clean(lambda scrap=scrap: scrap.data)
        assert isinstance(repr(scrap), str)  # repr never raises, even for a corrupt scrap
    assert_clean(lambda: notebook_.scrap_dataframe)
    for color in (False, True):
        text = assert_clean(lambda color=color: render_notebook(notebook_, color=color))
        assert text is None or isinstance(text, str)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def from_text(folder: Path, text: str | bytes) -> None:
    path = folder / "fuzzed.ipynb"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    notebook_ = assert_clean(lambda: read_notebook(path))
    if notebook_ is not None:
        exercise(notebook_)
    assert_clean(lambda: render_notebook(path))


def test_the_unmutated_notebook_reads_and_renders_cleanly():
    notebook_ = read_notebook(copy.deepcopy(BASE))
    assert notebook_.scraps.data_dict["n"] == 1
    assert notebook_.execution_counts == [1, 2, 3, None, 4, None]
    exercise(notebook_)


@SETTINGS
@given(data=st.data())
def test_mutated_notebooks_fail_only_with_nbscrap_errors(folder, data):
    node = mutate(copy.deepcopy(BASE), data)
    from_text(folder, json.dumps(node))
    notebook_ = assert_clean(lambda: read_notebook(node if isinstance(node, dict) else {"x": node}))
    if notebook_ is not None:
        exercise(notebook_)
    # A dict is rendered as it is, without the reader's checks.
    if isinstance(node, dict):
        assert_clean(lambda: render_notebook(node))


@SETTINGS
@given(data=st.data())
def test_cut_and_spliced_notebook_text_fails_only_with_nbscrap_errors(folder, data):
    text = json.dumps(BASE, indent=1)
    start = data.draw(st.integers(0, len(text)), label="start")
    end = data.draw(st.integers(start, min(len(text), start + 50)), label="end")
    inserted = data.draw(st.text(max_size=5), label="inserted")
    from_text(folder, text[:start] + inserted + text[end:])


@SETTINGS
@given(node=any_json)
def test_random_json_fails_only_with_nbscrap_errors(folder, node):
    from_text(folder, json.dumps(node))


@SETTINGS
@given(raw=st.binary(max_size=200))
@example(raw=b"\xff\xfe{}")
@example(raw=b"[" * 100_000)
@example(raw=b'{"nbformat": 4, "cells": [], "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}")
def test_random_bytes_fail_only_with_nbscrap_errors(folder, raw):
    from_text(folder, raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nbformat_minor", "five"),
        ("nbformat_minor", [5]),
        ("nbformat", True),
        ("metadata", {"papermill": {"parameters": "not a dict"}}),
    ],
)
def test_odd_top_level_fields_read_cleanly(folder, field, value):
    node = copy.deepcopy(BASE)
    node[field] = value
    from_text(folder, json.dumps(node))


@pytest.mark.parametrize("depth", [500, 990, 50_000])
def test_deeply_nested_metadata_is_a_read_error_not_a_recursion_error(folder, depth):
    nested = "[" * depth + "]" * depth
    text = '{"nbformat": 4, "cells": [], "metadata": {"x": ' + nested + "}}"
    from_text(folder, text)
    with pytest.raises(NotebookReadError, match="nested too deep"):
        read_notebook(folder / "fuzzed.ipynb").metadata  # noqa: B018 - reading it is the test
