"""Golden renderings: the exporter's text for the executed fixtures, kept in ``tests/golden/``.

The fixtures are papermill runs committed under ``tests/notebooks/export/executed`` (no kernel
needed here). After an intended change of the rendering, regenerate the expected files with
``NBSCRAP_UPDATE_GOLDEN=1 pytest tests/test_export_golden.py`` and review the diff.
Colour renderings are kept with ESC written as ``\\x1b`` so the files stay readable.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from pytest_nbscrap._errors import CellExecutionError, UsageError
from pytest_nbscrap._reader import read_notebook
from pytest_nbscrap.export import (
    Document,
    DropPapermillMarkers,
    Exporter,
    Failure,
    FileWriter,
    StdoutWriter,
    StringWriter,
    failure_summary,
    render_failure,
    render_notebook,
)

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
EXECUTED = HERE / "notebooks" / "export" / "executed"
TEMPLATES = HERE / "notebooks" / "export" / "templates"
UPDATE = os.environ.get("NBSCRAP_UPDATE_GOLDEN") == "1"
SGR = re.compile(r"\x1b\[[0-9;:]*m")


def fixture(name: str) -> Document:
    """An executed fixture, named by its file name so renderings do not depend on the cwd."""
    node = json.loads((EXECUTED / f"{name}.ipynb").read_text(encoding="utf-8"))
    return Document.from_node(node, path=f"{name}.ipynb")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    shown = text.replace("\x1b", "\\x1b") if name.endswith(".ansi.txt") else text
    if UPDATE:
        path.write_text(shown, encoding="utf-8")
    assert shown == path.read_text(encoding="utf-8")


def long_failure_error() -> CellExecutionError:
    """The error the executor raises for ``long_failure``, from the executed notebook."""
    nb = read_notebook(EXECUTED / "long_failure.ipynb")
    index, cell = next(
        (i, c)
        for i, c in enumerate(nb.cells)
        if any(o.output_type == "error" for o in c.get("outputs", []))
    )
    error = next(o for o in cell.outputs if o.output_type == "error")
    failure = Failure(
        path="notebooks/long_failure.ipynb",
        output_path="/tmp/nbscrap-runs/long_failure.ipynb",
        cell_number=5,
        executed_index=index,
        execution_count=cell.execution_count,
        source="".join(cell.source),
        ename=error.ename,
        evalue=error.evalue,
        traceback=tuple(error.traceback),
    )
    return CellExecutionError.from_failure(failure, nb)


# -- golden renderings -----------------------------------------------------------------------


def test_clean_notebook_renders_whole():
    check_golden("clean.txt", render_notebook(fixture("clean"), color=False))


def test_failure_in_a_long_notebook_shows_context_and_elides_the_rest():
    check_golden("long_failure.txt", render_notebook(fixture("long_failure"), color=False))


def test_long_outputs_are_truncated_with_a_note():
    text = render_notebook(fixture("truncated"), color=False, context=3, max_output_lines=10)
    check_golden("truncated.txt", text)


def test_rich_outputs_render_by_their_text_form():
    check_golden("rich.txt", render_notebook(fixture("rich"), color=False))


def test_markdown_cells_are_wrapped_except_code_and_tables():
    check_golden("markdown.txt", render_notebook(fixture("markdown"), color=False))


def test_failure_without_colour():
    check_golden("failure_plain.txt", render_notebook(fixture("failing"), color=False))


def test_failure_with_colour_keeps_traceback_colours_and_highlights_the_line():
    check_golden("failure_color.ansi.txt", render_notebook(fixture("failing"), color=True))


def test_papermill_marker_cells_are_dropped():
    text = render_notebook(fixture("markers"), color=False, context=10)
    check_golden("markers.txt", text)


def test_user_template_extends_the_default():
    template = TEMPLATES / "compact.j2"
    text = render_notebook(fixture("failing"), color=False, context=10, template=template)
    check_golden("user_template.txt", text)


def test_render_failure_of_an_execution_error():
    check_golden("long_failure_error.txt", render_failure(long_failure_error(), color=False))


# -- properties the goldens rely on ----------------------------------------------------------


def test_failure_of_35_cell_notebook_in_cell_5_fits_60_lines_with_every_fact():
    text = render_failure(long_failure_error(), color=False)
    lines = text.splitlines()
    assert len(lines) <= 60
    assert "ZeroDivisionError: division by zero" in lines[0]  # the error, first
    assert "in cell 5 (In [5]) of notebooks/long_failure.ipynb" in text  # the cell number
    assert "executed notebook: /tmp/nbscrap-runs/long_failure.ipynb" in text  # where it is
    assert "> 4 | result = ratio(total, divisor - 1)" in text  # its source, line marked
    assert "    values: [0, 1, 2, 3, 4]" in text  # what the previous cell printed
    assert "Cell In[5], line 2, in ratio(a, b)" in text  # the traceback
    assert "... cells 6-35 not shown ..." in text


def test_marker_cells_would_show_without_the_preprocessor():
    # The fixture really holds papermill's marker cells; the default pipeline drops them.
    raw, _ = Exporter([], color=False).from_document(fixture("markers"))
    assert "An Exception was encountered" in raw
    assert "An Exception was encountered" not in render_notebook(fixture("markers"))
    dropped, _ = Exporter([DropPapermillMarkers()]).from_document(fixture("markers"))
    assert "An Exception was encountered" not in dropped


@pytest.mark.parametrize("name", sorted(path.stem for path in EXECUTED.glob("*.ipynb")))
def test_no_escape_codes_anywhere_without_colour(name):
    assert "\x1b" not in render_notebook(fixture(name), color=False)


def test_no_escape_codes_in_failure_views_without_colour():
    error = long_failure_error()
    assert "\x1b" not in render_failure(error, color=False)
    assert "\x1b" not in failure_summary(error, color=False)


@pytest.mark.parametrize("color", [True, False])
def test_terminal_control_from_outputs_never_reaches_the_terminal(color):
    text = render_notebook(fixture("hostile"), color=color)
    assert "title clear up bell link red c1 end" in SGR.sub("", text)
    assert "\x1b" not in SGR.sub("", text)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", SGR.sub("", text))


def test_colour_is_kept_from_the_traceback():
    text = render_notebook(fixture("failing"), color=True)
    assert "\x1b[31mZeroDivisionError\x1b[39m" in text


def test_user_template_file_must_exist(tmp_path):
    with pytest.raises(UsageError, match="Cannot read template"):
        render_notebook(fixture("clean"), template=tmp_path / "missing.j2")


def test_broken_user_template_is_a_usage_error_naming_the_file():
    with pytest.raises(UsageError, match=r"broken\.j2"):
        render_notebook(fixture("clean"), template=TEMPLATES / "broken.j2")


def test_user_template_with_an_unknown_name_is_a_usage_error(tmp_path):
    template = tmp_path / "typo.j2"
    template.write_text("{{ nb.paht }}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="paht"):
        render_notebook(fixture("clean"), template=template)


# -- exporter and writers --------------------------------------------------------------------


def test_exporter_returns_text_and_resources():
    text, resources = Exporter([], color=False).from_document(fixture("failing"))
    assert text.endswith("\n")
    assert resources["failure"].cell_number == 4
    assert resources["output_extension"] == ".txt"


def test_exporter_reads_a_path():
    text, _ = Exporter().from_notebook(EXECUTED / "clean.ipynb")
    assert text.startswith(f"{EXECUTED / 'clean.ipynb'} (6 cells)")


def test_string_writer_returns_the_text():
    assert StringWriter().write("x\n") == "x\n"


def test_stdout_writer_writes_to_stdout(capsys):
    StdoutWriter().write("x\n")
    assert capsys.readouterr().out == "x\n"


def test_file_writer_writes_utf8_and_creates_the_folder(tmp_path):
    path = FileWriter(tmp_path / "out" / "nb.txt").write("café\n")
    assert path.read_text(encoding="utf-8") == "café\n"
