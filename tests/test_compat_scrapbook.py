"""Wire compatibility with nteract scrapbook 0.5.0, both ways, on a real kernel.

One notebook glues with scrapbook and is read with ours; one glues with ours and is read with
scrapbook. Each runs once per module through papermill; every test then reads the executed file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from helpers import execute_with_papermill, write_code_notebook

import pytest_nbscrap

# Tests that read an executed notebook are marked `kernel`; the rest build notebooks by hand.
#
# No filterwarnings exception is needed here: with this environment's versions (scrapbook 0.5.0,
# nbformat 5.10+, jsonschema 4.2x) importing scrapbook and reading with it emits no warning, even
# under a bare `-o filterwarnings=error`. The one scrapbook warning the suite knows of, its
# `@deprecated` DeprecationWarning, is only raised by APIs these tests do not call
# (papermill_dataframe, metrics) and is covered in pyproject.toml.

scrapbook = pytest.importorskip("scrapbook", minversion="0.5.0")

FRAME_SOURCE = (
    "pd.DataFrame({'x': [1, 2, 3], 'y': ['a', 'b', None], 'z': [0.5, float('nan'), 2.0]})"
)

# The kernel's default inline backend registers the PNG formatter that glue's display uses.
FIGURE_SOURCE = """\
import matplotlib.pyplot as plt
figure, axes = plt.subplots(figsize=(1, 1))
axes.plot([0, 1], [1, 0])
plt.close(figure)
"""

#: Glued by both notebooks, read by both libraries.
COMMON_VALUES: dict[str, Any] = {
    "an_int": 42,
    "a_float": 2.5,
    "a_bool": True,
    "a_list": [1, "two", 3.0],
    "a_dict": {"a": 1, "b": [1, 2], "c": {"d": "e"}},
}


#: Glued by both notebooks as ``glue(name, value, **kwargs)``: what both libraries must read back.
#: scrapbook 0.5 turns a dict's keys into strings as json.dumps does, and parses a string glued
#: with encoder="json" as JSON text.
SAME_AS_SCRAPBOOK: dict[str, tuple[str, Any]] = {
    "int_keys": (
        "{1: 2, 2.5: 'x', True: 1, None: 3}, encoder=None",
        {"1": 1, "2.5": "x", "null": 3},
    ),
    "json_text": ("'{\"a\": [1, 2]}', encoder='json'", {"a": [1, 2]}),
}


def expected_frame() -> Any:
    import pandas as pd

    return eval(FRAME_SOURCE, {"pd": pd})  # the very source the notebooks run


def execute(tmp_path: Path, name: str, sources: list[str]) -> Path:
    """Writes a notebook of ``sources`` and executes it with papermill; returns the output."""
    source = write_code_notebook(tmp_path / f"{name}.source.ipynb", *sources)
    output = tmp_path / f"{name}.ipynb"
    execute_with_papermill(source, output, cwd=tmp_path)
    return output


def glue_sources(module: str) -> list[str]:
    """The cells of a notebook that glues every kind of scrap with ``module``."""
    return [
        f"import {module} as glue_lib\nimport pandas as pd\nfrom IPython.display import HTML",
        "\n".join(f"glue_lib.glue({name!r}, {value!r})" for name, value in COMMON_VALUES.items()),
        "glue_lib.glue('a_text', 'hello, world')",
        f"glue_lib.glue('a_frame', {FRAME_SOURCE})",
        "glue_lib.glue('an_html', HTML('<b>bold</b>'), encoder='display')",
        FIGURE_SOURCE + "glue_lib.glue('a_figure', figure, encoder='display')",
        "glue_lib.glue('shown', {'k': [1, 2]}, display=True)",
        "\n".join(
            f"glue_lib.glue({name!r}, {args})" for name, (args, _) in SAME_AS_SCRAPBOOK.items()
        ),
    ]


# --- a notebook glued with scrapbook, read with ours ------------------------------------------


@pytest.fixture(scope="module")
def scrapbook_notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return execute(
        tmp_path_factory.mktemp("compat"), "glued_by_scrapbook", glue_sources("scrapbook")
    )


@pytest.fixture(scope="module")
def ours_reading_scrapbook(scrapbook_notebook: Path) -> pytest_nbscrap.Notebook:
    return pytest_nbscrap.read_notebook(scrapbook_notebook)


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "value"), COMMON_VALUES.items())
def test_scrapbook_json_scrap_reads_as_its_value(ours_reading_scrapbook, name, value):
    scrap = ours_reading_scrapbook.scraps[name]
    assert (scrap.data, type(scrap.data), scrap.encoder) == (value, type(value), "json")


@pytest.mark.kernel
def test_scrapbook_display_true_reads_as_one_scrap_with_data_and_display(ours_reading_scrapbook):
    scrap = ours_reading_scrapbook.scraps["shown"]
    assert (scrap.data, scrap.encoder) == ({"k": [1, 2]}, "json")
    assert scrap.display["data"]["text/plain"] == "{'k': [1, 2]}"


@pytest.mark.kernel
def test_scrapbook_itself_loses_the_data_of_a_display_true_scrap(scrapbook_notebook):
    scrap = scrapbook.read_notebook(str(scrapbook_notebook)).scraps["shown"]
    assert (scrap.data, scrap.encoder) == (None, "display")
    assert scrap.display["data"]["text/plain"] == "{'k': [1, 2]}"


@pytest.mark.kernel
def test_ours_reads_the_same_scrap_names_in_the_same_order_as_scrapbook(
    scrapbook_notebook, ours_reading_scrapbook
):
    theirs = scrapbook.read_notebook(str(scrapbook_notebook)).scraps
    assert list(ours_reading_scrapbook.scraps) == list(theirs)


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "expected"), [(n, v) for n, (_, v) in SAME_AS_SCRAPBOOK.items()])
@pytest.mark.parametrize("reader", ["ours", "scrapbook"])
@pytest.mark.parametrize("glued_by", ["scrapbook", "ours"])
def test_non_string_keys_and_json_text_glue_as_in_scrapbook(
    request, glued_by, reader, name, expected
):
    path = request.getfixturevalue(
        "scrapbook_notebook" if glued_by == "scrapbook" else "ours_notebook"
    )
    read = pytest_nbscrap.read_notebook if reader == "ours" else scrapbook.read_notebook
    scrap = read(str(path)).scraps[name]
    assert (scrap.data, scrap.encoder) == (expected, "json")


# --- a notebook glued with ours, read with scrapbook ------------------------------------------

#: Values only ours can glue (scrapbook 0.5 has no encoder for them or mangles them) and what
#: scrapbook must read back.
OURS_ONLY: dict[str, tuple[str, Any]] = {
    "a_nan": ("float('nan')", math.nan),
    "an_inf_in_a_list": ("[1.0, float('-inf')]", [1.0, -math.inf]),
    "a_none": ("None", None),
    "a_numpy_float": ("np.float64(1.5)", 1.5),
    "a_numpy_int": ("np.int64(7)", 7),
    "a_tuple": ("(1, 'b')", [1, "b"]),
}


@pytest.fixture(scope="module")
def ours_notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    extra = "import numpy as np\n" + "\n".join(
        f"glue_lib.glue({name!r}, {source})" for name, (source, _) in OURS_ONLY.items()
    )
    sources = [*glue_sources("pytest_nbscrap"), extra]
    return execute(tmp_path_factory.mktemp("compat"), "glued_by_ours", sources)


@pytest.fixture(scope="module")
def scrapbook_reading_ours(ours_notebook: Path) -> Any:
    return scrapbook.read_notebook(str(ours_notebook))


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "value"), COMMON_VALUES.items())
def test_our_json_scrap_reads_in_scrapbook_as_its_value(scrapbook_reading_ours, name, value):
    scrap = scrapbook_reading_ours.scraps[name]
    assert (scrap.data, scrap.encoder) == (value, "json")
    assert isinstance(scrap.data, type(value))  # scrapbook hands dicts back as NotebookNodes


@pytest.mark.kernel
def test_our_display_true_scrap_reads_in_scrapbook_as_its_display(scrapbook_reading_ours):
    scrap = scrapbook_reading_ours.scraps["shown"]
    assert scrap.display["data"]["text/plain"] == "{'k': [1, 2]}"


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "expected"), [(n, v) for n, (_, v) in OURS_ONLY.items()])
def test_our_extended_json_scrap_reads_in_scrapbook_as_its_value(
    scrapbook_reading_ours, name, expected
):
    scrap = scrapbook_reading_ours.scraps[name]
    assert scrap.encoder == "json"
    assert type(scrap.data) is type(expected)
    assert pytest_nbscrap.Scrap(name, scrap.data) == pytest_nbscrap.Scrap(name, expected)


@pytest.mark.kernel
def test_our_nan_reads_in_scrapbook_as_a_float_nan_not_a_string(scrapbook_reading_ours):
    data = scrapbook_reading_ours.scraps["a_nan"].data
    assert isinstance(data, float)
    assert math.isnan(data)


@pytest.mark.kernel
def test_our_notebook_reads_back_in_ours_with_the_values_scrapbook_sees(
    ours_notebook, scrapbook_reading_ours
):
    ours = pytest_nbscrap.read_notebook(ours_notebook).scraps
    theirs = scrapbook_reading_ours.scraps
    names = [*COMMON_VALUES, "a_text", "a_frame", *OURS_ONLY]
    for name in names:
        assert ours[name] == pytest_nbscrap.Scrap(name, theirs[name].data, theirs[name].encoder)


@pytest.mark.kernel
def test_scrapbook_and_ours_read_the_same_scrap_names_in_the_same_order(
    ours_notebook, scrapbook_reading_ours
):
    ours = pytest_nbscrap.read_notebook(ours_notebook).scraps
    assert list(ours) == list(scrapbook_reading_ours.scraps)


# --- what both libraries read alike, each from the notebook the other glued -----------------


@pytest.fixture(scope="module", params=["ours_reading_scrapbook", "scrapbook_reading_ours"])
def read_back(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


@pytest.mark.kernel
def test_a_text_scrap_reads_as_text(read_back):
    scrap = read_back.scraps["a_text"]
    assert (scrap.data, scrap.encoder) == ("hello, world", "text")


@pytest.mark.kernel
def test_a_dataframe_scrap_reads_as_an_equal_dataframe(read_back):
    import pandas as pd

    scrap = read_back.scraps["a_frame"]
    assert scrap.encoder == "pandas"
    pd.testing.assert_frame_equal(scrap.data, expected_frame())


@pytest.mark.kernel
def test_a_display_only_html_scrap_reads_as_its_display_without_data(read_back):
    scrap = read_back.scraps["an_html"]
    assert (scrap.data, scrap.encoder) == (None, "display")
    assert scrap.display["data"]["text/html"] == "<b>bold</b>"


@pytest.mark.kernel
def test_a_display_only_figure_scrap_reads_with_its_png(read_back):
    scrap = read_back.scraps["a_figure"]
    assert (scrap.data, scrap.encoder) == (None, "display")
    assert scrap.display["data"]["image/png"]


# --- legacy papermill record outputs ----------------------------------------------------------


def legacy_notebook() -> dict[str, Any]:
    """A notebook as papermill 1.x's ``pm.record`` and ``pm.display`` left it."""
    record = {
        "output_type": "display_data",
        "data": {"application/papermill.record+json": {"recorded": {"a": [1, 2]}}},
        "metadata": {},
    }
    shown = {
        "output_type": "display_data",
        "data": {"text/html": "<i>shown</i>", "text/plain": "<IPython.core.display.HTML object>"},
        "metadata": {"papermill": {"name": "displayed"}},
    }
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "source": "pm.record('recorded', {'a': [1, 2]})\npm.display('displayed', HTML('...'))",
        "outputs": [record, shown],
    }
    return {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [cell]}


def test_legacy_papermill_record_reads_as_a_json_scrap():
    scrap = pytest_nbscrap.read_notebook(legacy_notebook()).scraps["recorded"]
    assert (scrap.data, scrap.encoder, scrap.display) == ({"a": [1, 2]}, "json", None)


def test_legacy_papermill_display_reads_as_a_display_scrap():
    scrap = pytest_nbscrap.read_notebook(legacy_notebook()).scraps["displayed"]
    assert (scrap.data, scrap.encoder) == (None, "display")
    assert scrap.display["data"]["text/html"] == "<i>shown</i>"


def test_legacy_papermill_notebook_reads_as_scrapbook_reads_it():
    import nbformat

    theirs = scrapbook.read_notebook(nbformat.from_dict(legacy_notebook())).scraps
    ours = pytest_nbscrap.read_notebook(legacy_notebook()).scraps
    assert [(s.name, s.data, s.encoder) for s in ours.values()] == [
        (s.name, s.data, s.encoder) for s in theirs.values()
    ]


# --- reading an in-memory notebook ------------------------------------------------------------


def split_source_notebook() -> dict[str, Any]:
    """A notebook dict as nbformat stores it on disk: source and text split into lines."""
    stream = {"output_type": "stream", "name": "stdout", "text": ["one\n", "two\n"]}
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "source": ["print('one')\n", "print('two')"],
        "outputs": [stream],
    }
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}


def test_scrapbook_reading_a_notebook_node_leaves_it_unchanged():
    import nbformat

    node = nbformat.from_dict(split_source_notebook())
    scrapbook.read_notebook(node).scraps  # noqa: B018 - reading is the point
    assert node == split_source_notebook()


def test_reading_a_notebook_dict_leaves_it_unchanged():
    node = split_source_notebook()
    pytest_nbscrap.read_notebook(node).scraps  # noqa: B018 - reading is the point
    assert node == split_source_notebook()
