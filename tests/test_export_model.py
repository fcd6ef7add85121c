"""The failure model: which cell failed, how it is numbered, and what the error says.

Notebooks here are small hand-made dicts; the executed fixtures are in
``tests/notebooks/export/executed`` (see ``make_fixtures.py`` there).
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import code_cell, notebook

from pytest_nbscrap._errors import (
    CellExecutionError,
    CellTimeoutError,
    KernelDiedError,
    NotebookReadError,
)
from pytest_nbscrap._reader import read_notebook
from pytest_nbscrap.export import (
    Cell,
    Document,
    Elided,
    Failure,
    TruncateSources,
    failure_summary,
    render_notebook,
)
from pytest_nbscrap.export.model import failing_line

EXECUTED = Path(__file__).parent / "notebooks" / "export" / "executed"

# IPython 9's traceback of `x / 0` in the cell run as In [4], colours included.
TRACEBACK = [
    "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
    "\x1b[31mZeroDivisionError\x1b[39m                         Traceback (most recent call last)",
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[4]\x1b[39m\x1b[32m, line 2\x1b[39m\n"
    "\x1b[32m      1\x1b[39m x = 1\n\x1b[32m----> \x1b[39m\x1b[32m2\x1b[39m x / 0\n",
    "\x1b[31mZeroDivisionError\x1b[39m: division by zero",
]


def code(source: str, *outputs: dict[str, Any], count: int | None = None, tags=()):
    return code_cell(source, list(outputs), execution_count=count, metadata={"tags": list(tags)})


def markdown(source: str, tags=()):
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)}, "source": source}


def error(ename="ZeroDivisionError", evalue="division by zero", traceback=TRACEBACK):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}


def stream(text: str, name: str = "stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def papermill_failure():
    """What papermill writes: banner, injected parameters, anchor before the failing cell."""
    return notebook(
        markdown("<span>An Exception was encountered</span>", tags=["papermill-error-cell-tag"]),
        code("x = 1", count=1, tags=["parameters"]),
        code("# Parameters\nx = 2\n", count=2, tags=["injected-parameters"]),
        code("print(x)", stream("2\n"), count=3),
        markdown("<span>Execution stopped here</span>", tags=["papermill-error-cell-tag"]),
        code("x = 1\nx / 0", error(), count=4),
        code("print('never')"),
    )


def test_cells_are_numbered_as_in_the_source_notebook():
    document = Document.from_node(papermill_failure())
    numbers = [cell.number for cell in document.cells if isinstance(cell, Cell)]
    assert numbers == [None, 1, None, 2, None, 3, 4]


def test_total_counts_the_users_cells_only():
    assert Document.from_node(papermill_failure()).total == 4


def test_failure_names_the_failing_cell_by_its_number():
    failure = Document.from_node(papermill_failure()).failure
    assert failure is not None
    assert (failure.cell_number, failure.execution_count) == (3, 4)


def test_failure_carries_the_error():
    failure = Failure.from_notebook(papermill_failure())
    assert failure is not None
    assert (failure.ename, failure.evalue) == ("ZeroDivisionError", "division by zero")
    assert failure.traceback == tuple(TRACEBACK)


def test_failure_finds_the_line_that_raised():
    failure = Failure.from_notebook(papermill_failure())
    assert failure is not None
    assert failure.failing_line == 2


def test_clean_notebook_has_no_failure():
    assert Failure.from_notebook(notebook(code("1", count=1))) is None


def test_clean_sys_exit_is_not_a_failure():
    exited = code("import sys; sys.exit(0)", error("SystemExit", "0", []), count=1)
    assert Failure.from_notebook(notebook(exited)) is None


def test_expected_error_in_a_raises_exception_cell_is_not_a_failure():
    expected = code("1/0", error(), count=1, tags=["raises-exception"])
    assert Failure.from_notebook(notebook(expected)) is None


def test_sys_exit_none_is_not_a_failure_as_the_executor_decides():
    exited = code("import sys; sys.exit(None)", error("SystemExit", "None", []), count=1)
    assert Failure.from_notebook(notebook(exited)) is None


def test_an_error_the_notebook_allows_is_not_a_failure_as_the_executor_decides():
    # nbclient's notebook-wide allow_errors: the executor lets every cell raise, so does the model.
    node = notebook(code("1/0", error(), count=1))
    node["metadata"] = {"execution": {"allow_errors": True}}
    assert Failure.from_notebook(node) is None
    node["metadata"] = {"execution": {"allow_errors": "yes"}}  # malformed: allows nothing
    assert Failure.from_notebook(node) is not None


@pytest.mark.parametrize(
    ("source", "tags"),
    [("1/0", ["nbval-raises-exception"]), ("# NBVAL_RAISES_EXCEPTION\n1/0", [])],
    ids=["nbval tag", "nbval marker"],
)
def test_an_error_nbval_expects_is_not_a_failure(source, tags):
    expected = code(source, error(), count=1, tags=tags)
    assert Failure.from_notebook(notebook(expected)) is None


def test_papermill_exception_flag_without_error_output_is_a_failure():
    cell = code("boom()", count=1)
    cell["metadata"]["papermill"] = {"exception": True}
    failure = Failure.from_notebook(notebook(cell))
    assert failure is not None
    assert failure.cell_number == 1


def test_failure_in_the_injected_parameters_cell_says_so():
    bad = code("x = undefined", error("NameError", "name 'undefined' is not defined", []),
               count=1, tags=["injected-parameters"])  # fmt: skip
    failure = Failure.from_notebook(notebook(bad))
    assert failure is not None
    assert failure.summary() == (
        "NameError: name 'undefined' is not defined (injected-parameters cell)"
    )


def test_summary_is_one_line_naming_the_error_and_the_cell():
    failure = Failure.from_notebook(papermill_failure())
    assert failure is not None
    assert failure.summary() == "ZeroDivisionError: division by zero (cell 3)"


def test_summary_keeps_the_first_line_of_a_multi_line_message():
    cell = code("f()", error("ValueError", "first line\nsecond line", []), count=1)
    failure = Failure.from_notebook(notebook(cell))
    assert failure is not None
    assert failure.summary() == "ValueError: first line (cell 1)"


def test_consecutive_writes_to_a_stream_are_merged():
    cell = Cell.from_node(code("", stream("a\n"), stream("b\n"), stream("c\n", "stderr")), 0, 1)
    assert [(out.name, out.text) for out in cell.outputs] == [("stdout", "a\nb"), ("stderr", "c")]


def test_glued_scrap_output_is_shown_by_name_and_encoder():
    payload = {"name": "answer", "data": 42, "encoder": "json", "version": 1}
    glued = {
        "output_type": "display_data",
        "data": {"application/scrapbook.scrap.json+json": payload},
        "metadata": {"scrapbook": {"name": "answer", "data": True, "display": False}},
    }
    (output,) = Cell.from_node(code("", glued), 0, 1).outputs
    assert (output.kind, output.name, output.encoder) == ("scrap", "answer", "json")


def test_rich_output_without_text_lists_its_mime_types():
    image = {"output_type": "display_data", "data": {"image/png": "iVBO"}, "metadata": {}}
    (output,) = Cell.from_node(code("", image), 0, 1).outputs
    assert (output.text, output.mimetypes) == ("", ("image/png",))


def test_elided_cells_are_described_by_their_numbers():
    assert Elided(3, 1, 2).description == "cells 1-2"
    assert Elided(1, 7, 7).description == "cell 7"
    assert Elided(1).description == "1 cell"


@pytest.mark.parametrize(
    ("traceback", "count", "line"),
    [
        (TRACEBACK, 4, 2),
        (["Input In [5], in <cell line: 4>()\n      3 y = 2\n----> 4 f()"], 5, 4),
        (["<ipython-input-5-0123abcd> in <module>\n      2 y = 2\n----> 3 f()\n"], 5, 3),
        # The function was defined in an earlier cell: the failing cell's own frame counts.
        (["Cell In[7], line 1\n----> 1 f()", "Cell In[2], line 3, in f()"], 7, 1),
        (["Cell In[2], line 3, in f()"], 7, None),
        (["SyntaxError: invalid syntax"], 1, None),
    ],
)
def test_failing_line_is_read_from_ipython_tracebacks(traceback, count, line):
    assert failing_line(traceback, count) == line


def executor_error(notebook_node: dict[str, Any], executed_index: int, cell_index: int, **more):
    """The failure the executor builds for a cell of ``notebook_node``, and that notebook."""
    nb = read_notebook(notebook_node)
    cell = nb.cells[executed_index]
    outputs = [out for out in cell.get("outputs", []) if out["output_type"] == "error"]
    failure = Failure(
        path="project/analysis.ipynb",
        output_path="/runs/analysis.ipynb",
        cell_number=cell_index + 1,
        executed_index=executed_index,
        execution_count=cell.get("execution_count"),
        source=cell["source"],
        ename=outputs[0]["ename"] if outputs else "CellTimeoutError",
        evalue=outputs[0]["evalue"] if outputs else "",
        traceback=tuple(outputs[0]["traceback"]) if outputs else (),
    )
    return replace(failure, **more), nb


def test_failure_from_an_executor_error_uses_its_paths():
    facts = executor_error(papermill_failure(), executed_index=5, cell_index=2)
    failure = Failure.from_error(CellExecutionError.from_failure(*facts))
    assert (failure.path, failure.output_path) == ("project/analysis.ipynb", "/runs/analysis.ipynb")
    assert (failure.cell_number, failure.failing_line) == (3, 2)


def test_failure_from_a_timeout_shows_where_the_interrupt_found_the_cell():
    interrupted = error("KeyboardInterrupt", "", ["Cell In[2], line 1\n----> 1 sleep(60)"])
    node = notebook(
        code("print(1)", stream("1\n"), count=1), code("sleep(60)", interrupted, count=2)
    )
    facts = executor_error(node, executed_index=1, cell_index=1, kind="timeout", timeout=2.0)
    facts = (
        replace(facts[0], ename="CellTimeoutError", evalue="Cell execution timed out after 2 s"),
        facts[1],
    )
    document = Document.from_error(CellTimeoutError.from_failure(*facts))
    assert document.failure is not None
    assert (
        document.failure.summary()
        == "CellTimeoutError: Cell execution timed out after 2 s (cell 2)"
    )
    assert document.failure.failing_line == 1
    failed = [cell for cell in document.cells if isinstance(cell, Cell) and cell.failed]
    assert [out.ename for out in failed[0].outputs] == ["KeyboardInterrupt"]


def test_failure_from_a_dead_kernel_shows_the_error_in_its_cell():
    node = notebook(code("import os; os._exit(1)", count=1))
    facts = executor_error(node, executed_index=0, cell_index=0, kind="died", exit_code=1,
                           kernel_output="kernel said goodbye")  # fmt: skip
    facts = (
        replace(facts[0], ename="KernelDiedError", evalue="The kernel died (exit status 1)",
                traceback=("kernel said goodbye",)),
        facts[1],
    )  # fmt: skip
    document = Document.from_error(KernelDiedError.from_failure(*facts))
    (cell,) = document.cells
    assert isinstance(cell, Cell)
    assert cell.failed
    assert [(out.kind, out.text) for out in cell.outputs] == [("error", "kernel said goodbye")]


def test_failure_from_an_error_without_a_notebook_shows_its_facts():
    failure = Failure(
        path="a.ipynb",
        cell_number=3,
        execution_count=2,
        source="raise ValueError('bad')",
        ename="ValueError",
        evalue="bad",
        traceback=(),
    )
    error_ = CellExecutionError.from_failure(failure, None)
    document = Document.from_error(error_)
    assert document.failure is not None
    assert document.failure.summary() == "ValueError: bad (cell 3)"
    assert [cell.source for cell in document.cells if isinstance(cell, Cell)] == [
        "raise ValueError('bad')"
    ]


def test_failure_summary_without_colour_has_no_escape_codes():
    facts = executor_error(papermill_failure(), executed_index=5, cell_index=2)
    summary = failure_summary(CellExecutionError.from_failure(*facts), color=False)
    assert summary == "ZeroDivisionError: division by zero (cell 3)"


def test_failure_summary_with_colour_paints_the_error_name():
    facts = executor_error(papermill_failure(), executed_index=5, cell_index=2)
    summary = failure_summary(CellExecutionError.from_failure(*facts), color=True)
    assert summary == "\x1b[1;31mZeroDivisionError\x1b[0m: division by zero (cell 3)"


def test_document_and_failure_pickle():
    document = Document.from_node(papermill_failure())
    assert pickle.loads(pickle.dumps(document)) == document


def test_document_from_a_missing_path_raises_notebook_read_error(tmp_path):
    with pytest.raises(NotebookReadError, match="no such file"):
        Document.from_notebook(tmp_path / "missing.ipynb")


def test_document_from_a_path_keeps_the_path():
    path = EXECUTED / "clean.ipynb"
    assert Document.from_notebook(path).path == str(path)


def long_cell_notebook(failing_line_number: int | None):
    source = "\n".join(f"x{i} = {i}" for i in range(1, 61))
    traceback = [f"Cell In[2], line {failing_line_number}\n"] if failing_line_number else []
    return notebook(
        code(source, stream("printed\n"), count=1),
        code(source, error("ValueError", "bad", traceback), count=2),
    )


def test_long_failing_cell_shows_a_window_around_the_line_that_raised():
    document = TruncateSources(10)(Document.from_node(long_cell_notebook(40)))
    context, failed = document.cells
    assert isinstance(failed, Cell)
    assert failed.shown_lines == ((34, 43),)
    assert isinstance(context, Cell)
    assert context.shown_lines == ((1, 5), (56, 60))


def test_long_failing_cell_without_a_known_line_shows_head_and_tail():
    document = TruncateSources(10)(Document.from_node(long_cell_notebook(None)))
    assert [cell.shown_lines for cell in document.cells if isinstance(cell, Cell)] == [
        ((1, 5), (56, 60)),
        ((1, 5), (56, 60)),
    ]


def test_failing_line_near_the_end_keeps_a_full_window():
    document = TruncateSources(10)(Document.from_node(long_cell_notebook(60)))
    assert [cell.shown_lines for cell in document.cells if isinstance(cell, Cell)][1] == ((51, 60),)


def test_rendered_long_cells_keep_the_failing_line_and_true_numbers():
    text = render_notebook(long_cell_notebook(40), max_source_lines=10)
    assert "> 40 | x40 = 40" in text
    assert "     ... 33 lines not shown ...\n  34 | x34 = 34" in text
    assert len(text.splitlines()) < 40


def test_importing_the_exporter_and_the_command_line_does_not_import_jinja2():
    import subprocess
    import sys

    code_ = (
        "import sys, pytest_nbscrap.export, pytest_nbscrap.__main__\n"
        "heavy = {'jinja2', 'pandas', 'papermill', 'nbclient', 'nbformat'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code_], check=True, timeout=60)
