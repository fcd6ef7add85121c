from __future__ import annotations

import errno
import json
import pickle
from pathlib import Path

import pytest
from helpers import code_cell, notebook

from pytest_nbscrap import Notebook, NotebookNotFoundError, read_notebook, read_notebooks
from pytest_nbscrap._errors import NotebookReadError, ScrapNotFoundError
from pytest_nbscrap._scraps import data_output


def glued(name, payload, encoder="json"):
    bundle, metadata = data_output(name, payload, encoder)
    return {"output_type": "display_data", "data": bundle, "metadata": metadata}


def executed(**parameters):
    return notebook(
        code_cell("x = 1", metadata={"tags": ["parameters"]}, execution_count=1),
        code_cell(
            ["glue('a', 1)\n", "glue('b', 'two')"],
            outputs=[glued("a", 1), glued("b", "two", "text")],
            execution_count=2,
            metadata={"papermill": {"duration": 0.25}},
        ),
        code_cell("", execution_count=None),
        {"cell_type": "markdown", "source": ["# Title\n", "text"], "metadata": {}},
        papermill={"parameters": parameters},
    )


def write(path, node):
    path.write_text(json.dumps(node))
    return path


def test_read_notebook_exposes_nbformat_fields(tmp_path):
    nb = read_notebook(write(tmp_path / "run.ipynb", executed(symbol="XYZ")))
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.filename == "run.ipynb"
    assert nb.directory == str(tmp_path)
    assert nb.name == "run"
    assert nb.cells[1].source == "glue('a', 1)\nglue('b', 'two')"
    assert nb.cells[3]["source"] == "# Title\ntext"
    assert nb.metadata.papermill.parameters == {"symbol": "XYZ"}


def test_papermill_facts(tmp_path):
    nb = read_notebook(write(tmp_path / "run.ipynb", executed(symbol="XYZ", n=3)))
    assert nb.parameters == {"symbol": "XYZ", "n": 3}
    assert nb.cell_timing == [0.0, 0.25, None, None]
    assert nb.execution_counts == [1, 2, None, None]
    assert nb.parameter_dataframe.to_dict("records") == [
        {"name": "n", "value": 3, "type": "parameter", "filename": "run.ipynb"},
        {"name": "symbol", "value": "XYZ", "type": "parameter", "filename": "run.ipynb"},
    ]


def test_scraps_and_their_dataframe(tmp_path):
    nb = read_notebook(write(tmp_path / "run.ipynb", executed()))
    assert nb.scraps.data_dict == {"a": 1, "b": "two"}
    frame = nb.scrap_dataframe
    assert list(frame.columns) == ["name", "data", "encoder", "display", "filename"]
    assert frame["filename"].tolist() == ["run.ipynb", "run.ipynb"]


def test_papermill_dataframe_works_on_current_pandas(tmp_path):
    nb = read_notebook(write(tmp_path / "run.ipynb", executed(n=3)))
    assert nb.papermill_dataframe[["name", "type"]].values.tolist() == [
        ["n", "parameter"],
        ["a", "record"],
        ["b", "record"],
    ]


def test_read_notebook_accepts_an_in_memory_notebook():
    nb = read_notebook(executed())
    assert nb.path == ""
    assert nb.scraps["a"].data == 1


def test_missing_scrap_lists_the_names_present(tmp_path):
    nb = read_notebook(write(tmp_path / "run.ipynb", executed()))
    with pytest.raises(ScrapNotFoundError, match="the scraps present are: 'a', 'b'"):
        nb.scraps["c"]
    with pytest.raises(ScrapNotFoundError):
        nb.reglue("c")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"nbformat": 4, "cells": [}', "not valid JSON: Expecting value at line 1, column 27"),
        ("[1, 2]", "not a notebook: the top level is a JSON list, not an object"),
        ('{"cells": []}', "not a notebook: it has no 'nbformat' number"),
        ('{"nbformat": 3, "worksheets": []}', "nbformat 3 is not supported"),
        ('{"nbformat": 4, "cells": {}}', "not a notebook: 'cells' is not a list"),
        ('{"nbformat": 4, "cells": [1]}', r"not a notebook: cells\[0\] is not an object"),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "outputs": 5}]}',
            r"cells\[0\].outputs is not a list",
        ),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}',
            r"cells\[0\].source is not text",
        ),
    ],
)
def test_an_unreadable_file_is_one_error_naming_file_and_cause(tmp_path, content, reason):
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    with pytest.raises(NotebookReadError, match=reason) as caught:
        read_notebook(path)
    assert str(caught.value).startswith(f"Cannot read notebook {path}: ")


def test_a_missing_file_and_binary_junk_are_read_errors(tmp_path):
    with pytest.raises(NotebookReadError, match="no such file"):
        read_notebook(tmp_path / "absent.ipynb")
    junk = tmp_path / "junk.ipynb"
    junk.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(NotebookReadError, match="not UTF-8"):
        read_notebook(junk)


def test_read_notebooks_maps_stems_and_skips_checkpoints(tmp_path):
    for name in ["b", "a"]:
        write(tmp_path / f"{name}.ipynb", executed(symbol=name))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write(tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb", executed())
    (tmp_path / "notes.txt").write_text("not a notebook")
    book = read_notebooks(tmp_path)
    assert list(book) == ["a", "b"]
    assert [nb.parameters["symbol"] for nb in book.notebooks] == ["a", "b"]
    assert book.notebook_scraps["a"].data_dict == {"a": 1, "b": "two"}
    assert list(book.scraps) == ["a", "b"]
    assert book.scrap_dataframe["filename"].tolist() == ["a.ipynb", "a.ipynb", "b.ipynb", "b.ipynb"]
    assert book.parameter_dataframe["value"].tolist() == ["a", "b"]


def test_read_notebooks_recursive_names_by_relative_path(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "top.ipynb", executed())
    write(tmp_path / "sub" / "top.ipynb", executed())
    assert list(read_notebooks(tmp_path, recursive=True)) == ["sub/top", "top"]


def test_read_notebooks_reports_a_broken_file_by_name(tmp_path):
    write(tmp_path / "good.ipynb", executed())
    (tmp_path / "bad.ipynb").write_text("{")
    with pytest.raises(NotebookReadError, match=r"bad\.ipynb"):
        read_notebooks(tmp_path)


def test_a_missing_folder_is_a_read_error(tmp_path):
    with pytest.raises(NotebookReadError, match="no such file or folder"):
        read_notebooks(tmp_path / "nowhere")


def test_notebooks_pickle(tmp_path):
    nb = read_notebook(write(tmp_path / "run.ipynb", executed()))
    copy = pickle.loads(pickle.dumps(nb))
    assert copy.path == nb.path
    assert copy.scraps.data_dict == nb.scraps.data_dict


# --- scrapbook's ways in (issue 11, item 10) --------------------------------------------------


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "PathLike"])
def test_notebook_of_a_path_reads_the_file_as_scrapbooks_notebook_does(tmp_path, as_path):
    path = write(tmp_path / "run.ipynb", executed(symbol="x"))
    nb = Notebook(as_path(path))
    assert nb.path == str(path)
    assert nb.scraps.data_dict == {"a": 1, "b": "two"}
    assert nb.parameters == {"symbol": "x"}


def test_notebook_of_a_node_and_a_path_still_works(tmp_path):
    nb = Notebook(executed(), tmp_path / "given.ipynb")
    assert (nb.filename, nb.scraps.data_dict) == ("given.ipynb", {"a": 1, "b": "two"})


def test_notebook_of_a_missing_path_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        Notebook(tmp_path / "absent.ipynb")


def test_a_missing_file_is_also_a_file_not_found_error(tmp_path):
    missing = tmp_path / "absent.ipynb"
    with pytest.raises(NotebookNotFoundError) as caught:
        read_notebook(missing)
    error = caught.value
    assert isinstance(error, NotebookReadError)
    assert isinstance(error, FileNotFoundError)
    assert (error.errno, error.filename) == (errno.ENOENT, str(missing))
    assert str(error) == f"Cannot read notebook {missing}: no such file"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.filename, copy.path) == (
        NotebookNotFoundError,
        str(error),
        str(missing),
        str(missing),
    )


def test_a_missing_folder_is_also_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_notebooks(tmp_path / "nowhere")


def test_reglue_of_a_missing_name_is_caught_as_scrapbooks_value_error(tmp_path):
    nb = read_notebook(write(tmp_path / "run.ipynb", executed()))
    with pytest.raises(ValueError, match="No scrap named 'missing'"):
        nb.reglue("missing")
    with pytest.raises(KeyError):
        nb.reglue("missing")


def test_scrap_not_found_error_pickles_as_both_key_and_value_error():
    error = ScrapNotFoundError.from_names("x", ["a"])
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, KeyError)
    assert isinstance(copy, ValueError)
    assert (str(copy), copy.name, copy.available) == (str(error), "x", ("a",))
