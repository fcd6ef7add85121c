"""The command line, ``python -m pytest_nbscrap render|scraps``.

Usage and listing behaviours run ``main()`` in-process on the committed executed fixtures; the
``kernel`` tests execute real notebooks once per module and run the command in a subprocess.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import code_cell, write_notebook

from pytest_nbscrap.__main__ import main, use_color
from pytest_nbscrap._errors import CellExecutionError

HERE = Path(__file__).parent
EXPORT = HERE / "notebooks" / "export"
EXECUTED = EXPORT / "executed"
SOURCE = EXPORT / "source"
TEMPLATES = EXPORT / "templates"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def scrap_output(name: str, encoder: str, data: Any) -> dict[str, Any]:
    payload = {"name": name, "data": data, "encoder": encoder, "version": 1}
    return {
        "output_type": "display_data",
        "data": {f"application/scrapbook.scrap.{encoder}+json": payload},
        "metadata": {"scrapbook": {"name": name, "data": True, "display": False}},
    }


# -- render ----------------------------------------------------------------------------------


def test_render_prints_a_clean_notebook_and_exits_0(capsys):
    status, out, err = run(capsys, "render", EXECUTED / "clean.ipynb")
    assert (status, err) == (0, "")
    assert out.startswith(f"{EXECUTED / 'clean.ipynb'} (6 cells)\n")


def test_render_prints_the_failure_view_and_exits_1(capsys):
    status, out, _ = run(capsys, "render", EXECUTED / "failing.ipynb")
    assert status == 1
    assert out.startswith("ZeroDivisionError: division by zero\n  in cell 4 (In [3])")


def test_render_context_option_sets_the_cells_shown_before_the_failure(capsys):
    _, out, _ = run(capsys, "render", EXECUTED / "long_failure.ipynb", "--context", "0")
    assert "... cells 1-4 not shown ..." in out


def test_render_max_output_lines_option_truncates(capsys):
    _, out, _ = run(
        capsys, "render", EXECUTED / "truncated.ipynb", "--max-output-lines", "4", "--context", "9"
    )
    assert "    line 1\n    ... 57 lines cut ...\n    line 59\n" in out


def test_render_max_output_lines_0_keeps_everything(capsys):
    _, out, _ = run(
        capsys, "render", EXECUTED / "truncated.ipynb", "--max-output-lines", "0", "--context", "9"
    )
    assert "lines cut" not in out
    assert "    line 30\n" in out


def test_render_max_source_lines_option_shortens_long_cells(capsys, tmp_path):
    source = "\n".join(f"x{i} = {i}" for i in range(50))
    write_notebook(tmp_path / "long.ipynb", code_cell(source, execution_count=None))
    _, out, _ = run(capsys, "render", tmp_path / "long.ipynb", "--max-source-lines", "4")
    assert "  ... 46 lines not shown ..." in out


def test_render_template_option_uses_the_users_template(capsys):
    _, out, _ = run(
        capsys, "render", EXECUTED / "failing.ipynb", "--template", TEMPLATES / "compact.j2"
    )
    assert out.startswith("=== ")
    assert "  stdout| numerator is 1\n" in out


def test_render_broken_template_exits_2_naming_it(capsys):
    status, out, err = run(
        capsys, "render", EXECUTED / "clean.ipynb", "--template", TEMPLATES / "broken.j2"
    )
    assert (status, out) == (2, "")
    assert err.startswith("nbscrap render: error: Template ")
    assert "broken.j2" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("choice", "coloured"), [("always", True), ("never", False), ("auto", False)]
)
def test_render_color_option(capsys, choice, coloured):
    _, out, _ = run(capsys, "render", EXECUTED / "failing.ipynb", "--color", choice)
    assert ("\x1b[" in out) is coloured


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_colour_is_on_for_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color("auto", Terminal())


def test_auto_colour_is_off_with_no_color_set(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", Terminal())


def test_auto_colour_is_off_for_a_pipe(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert not use_color("auto", io.StringIO())


def test_render_missing_notebook_exits_2_with_one_line(capsys, tmp_path):
    status, out, err = run(capsys, "render", tmp_path / "missing.ipynb")
    assert (status, out) == (2, "")
    assert err == f"nbscrap render: error: Cannot read notebook {tmp_path / 'missing.ipynb'}: " \
        "no such file\n"  # fmt: skip


def test_render_not_a_notebook_exits_2_with_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    status, _, err = run(capsys, "render", bad)
    assert status == 2
    assert err.startswith(f"nbscrap render: error: Cannot read notebook {bad}: not valid JSON")
    assert err.count("\n") == 1


# -- usage -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["render"],
        ["render", "x.ipynb", "--context", "-1"],
        ["render", "x.ipynb", "--context", "many"],
        ["render", "x.ipynb", "--color", "sometimes"],
        ["scraps"],
        ["frobnicate"],
    ],
)
def test_bad_usage_exits_2_with_one_line(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert "error:" in err
    assert "--help" in err


@pytest.mark.parametrize("command", [[], ["render"], ["scraps"]])
def test_help_for_each_command(capsys, command):
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0
    assert out.startswith(f"usage: {' '.join(['nbscrap', *command])}")


# -- scraps ----------------------------------------------------------------------------------


def test_scraps_lists_a_notebook_as_a_table(capsys):
    status, out, _ = run(capsys, "scraps", EXECUTED / "glued.ipynb")
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split() == ["NOTEBOOK", "NAME", "ENCODER", "DISPLAY", "DATA"]
    assert [row.split()[1:] for row in rows] == [
        ["answer", "json", "no", "42"],
        ["greeting", "text", "no", "'hello'"],
        ["shown", "json", "yes", "[1,", "2,", "3]"],
    ]


def test_scraps_of_a_folder_lists_each_notebook(capsys):
    _, out, _ = run(capsys, "scraps", EXECUTED)
    notebooks = {line.split()[0] for line in out.splitlines()[1:]}
    assert notebooks == {str(EXECUTED / "glued.ipynb"), str(EXECUTED / "rich.ipynb")}


def test_scraps_show_a_dataframe_by_its_shape(capsys):
    _, out, _ = run(capsys, "scraps", EXECUTED / "rich.ipynb")
    assert "DataFrame 2 x 2" in out


def test_scraps_json_parses_with_one_object_per_scrap(capsys):
    status, out, _ = run(capsys, "scraps", EXECUTED / "glued.ipynb", "--json")
    assert status == 0
    rows = json.loads(out)
    assert [(row["name"], row["data"], row["display"]) for row in rows] == [
        ("answer", 42, False),
        ("greeting", "hello", False),
        ("shown", [1, 2, 3], True),
    ]


def test_scraps_json_gives_data_that_is_not_json_as_its_short_form_only(capsys):
    rows = json.loads(run(capsys, "scraps", EXECUTED / "rich.ipynb", "--json")[1])
    frame = next(row for row in rows if row["name"] == "frame")
    assert (frame["data"], frame["repr"]) == (None, "DataFrame 2 x 2")


def test_corrupt_scrap_is_an_error_in_its_row_not_a_crash(capsys, tmp_path):
    outputs = [
        scrap_output("broken", "pandas", "not parquet"),
        scrap_output("odd", "mystery", 1),
        scrap_output("fine", "json", 1),
    ]
    path = write_notebook(tmp_path / "corrupt.ipynb", code_cell(outputs=outputs))
    status, out, _ = run(capsys, "scraps", path)
    assert status == 0
    rows = {line.split()[1]: line for line in out.splitlines()[1:]}
    assert "<error: ScrapDecodeError: Scrap 'broken'" in rows["broken"]
    assert "<error: UnknownEncoderError: Scrap 'odd'" in rows["odd"]
    assert rows["fine"].endswith("no       1")


def test_corrupt_scrap_in_json_has_an_error_field(capsys, tmp_path):
    path = write_notebook(
        tmp_path / "c.ipynb", code_cell(outputs=[scrap_output("broken", "pandas", "xx")])
    )
    (row,) = json.loads(run(capsys, "scraps", path, "--json")[1])
    assert row["data"] is None
    assert row["error"].startswith("ScrapDecodeError: Scrap 'broken'")


def test_scraps_of_a_notebook_without_any_says_so(capsys, tmp_path):
    _, out, _ = run(capsys, "scraps", write_notebook(tmp_path / "empty.ipynb", code_cell()))
    assert out == "no scraps found\n"


@pytest.mark.parametrize("name", ["missing.ipynb", "missing-folder"])
def test_scraps_unreadable_input_exits_2_with_one_line(capsys, tmp_path, name):
    status, out, err = run(capsys, "scraps", tmp_path / name)
    assert (status, out) == (2, "")
    assert err.startswith("nbscrap scraps: error: Cannot read notebook")
    assert err.count("\n") == 1


# -- the real thing: executed notebooks, the command in a subprocess --------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Runs the source fixtures once: executed files in a folder, and the failures raised."""
    from pytest_nbscrap._executor import execute_notebook

    folder = tmp_path_factory.mktemp("executed")
    errors: dict[str, CellExecutionError] = {}
    # long_failure gets its parameter injected, as when it was run for the committed fixture.
    runs = {"clean": {}, "failing": {}, "glued": {}, "long_failure": {"divisor": 1}}
    for name, parameters in runs.items():
        try:
            execute_notebook(
                SOURCE / f"{name}.ipynb", parameters, output_path=folder / f"{name}.ipynb"
            )
        except CellExecutionError as error:
            errors[name] = error
    return {"folder": folder, "errors": errors}


def nbscrap(*argv: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_nbscrap", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.mark.kernel
def test_cli_renders_a_real_failure(executed):
    result = nbscrap("render", "failing.ipynb", cwd=executed["folder"])
    assert (result.returncode, result.stderr) == (1, "")
    text = result.stdout
    assert text.startswith("ZeroDivisionError: division by zero\n")
    assert "in cell 4 (In [3]) of failing.ipynb" in text
    assert "> 1 | numerator / 0" in text
    assert "    numerator is 1\n" in text
    assert "\x1b" not in text  # stdout is a pipe: no colour


@pytest.mark.kernel
def test_cli_renders_a_real_clean_notebook(executed):
    result = nbscrap("render", "clean.ipynb", cwd=executed["folder"])
    assert result.returncode == 0
    assert "    ABC [10.0, 11.0, 12.0]\n" in result.stdout


@pytest.mark.kernel
def test_cli_lists_the_scraps_of_a_folder_of_real_notebooks(executed):
    result = nbscrap("scraps", ".", cwd=executed["folder"])
    assert result.returncode == 0
    names = [line.split()[1] for line in result.stdout.splitlines()[1:]]
    assert names == ["answer", "greeting", "shown"]


@pytest.mark.kernel
def test_cli_scraps_json_parses(executed):
    result = nbscrap("scraps", "glued.ipynb", "--json", cwd=executed["folder"])
    assert result.returncode == 0
    assert {row["name"]: row["data"] for row in json.loads(result.stdout)} == {
        "answer": 42,
        "greeting": "hello",
        "shown": [1, 2, 3],
    }


@pytest.mark.kernel
@pytest.mark.parametrize("command", ["render", "scraps"])
def test_cli_unreadable_input_exits_2_with_one_line_and_no_traceback(executed, command):
    (executed["folder"] / "broken.ipynb").write_text("{", encoding="utf-8")
    result = nbscrap(command, "broken.ipynb", cwd=executed["folder"])
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"nbscrap {command}: error: Cannot read notebook broken.ipynb")
    assert result.stderr.count("\n") == 1


@pytest.mark.kernel
def test_real_failure_of_35_cells_in_cell_5_fits_60_lines_with_every_fact(executed):
    from pytest_nbscrap.export import failure_summary, render_failure

    error = executed["errors"]["long_failure"]
    text = render_failure(error, color=False)
    assert len(text.splitlines()) <= 60
    assert "in cell 5 (In [5])" in text
    assert "> 4 | result = ratio(total, divisor - 1)" in text
    assert "    values: [0, 1, 2, 3, 4]\n" in text
    assert "ZeroDivisionError: division by zero" in text.splitlines()[-3]
    assert f"executed notebook: {executed['folder'] / 'long_failure.ipynb'}" in text
    assert failure_summary(error, color=False) == "ZeroDivisionError: division by zero (cell 5)"
