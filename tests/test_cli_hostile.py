"""The command line on hostile input: every failure is one line on stderr and exit status 2,
and nothing from a file or its name reaches the terminal as a control sequence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import code_cell, write_notebook

from pytest_nbscrap.__main__ import main
from pytest_nbscrap._scraps import data_output

OSC_52 = "\x1b]52;c;aGVsbG8=\x07"  # a terminal's clipboard write


def no_control(text: str) -> bool:
    return "\x1b" not in text and "\x07" not in text


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def error_cell(*traceback: str, count: int = 1) -> dict[str, Any]:
    error = {
        "output_type": "error",
        "ename": "ValueError",
        "evalue": "x",
        "traceback": [*traceback],
    }
    return code_cell("x = 1\n", [error], execution_count=count)


HUGE = "9" * 5000  # over Python's 4,300-digit limit for int(str)


def hostile_notebooks(folder: Path) -> dict[str, Path]:
    huge_integer = folder / "huge_integer.ipynb"
    huge_integer.write_text(
        '{"cells": [{"cell_type": "code", "execution_count": ' + HUGE + ', "metadata": {}, '
        '"outputs": [], "source": ""}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        encoding="utf-8",
    )
    return {
        "a 5,000-digit line number": write_notebook(
            folder / "huge_line.ipynb", error_cell(f"Cell In[1], line {HUGE}", "ValueError: x")
        ),
        "a 5,000-digit execution count in a traceback": write_notebook(
            folder / "huge_count.ipynb", error_cell(f"Cell In[{HUGE}], line 1", "ValueError: x")
        ),
        "a 5,000-digit integer in the JSON": huge_integer,
    }


CASES = [
    "a 5,000-digit line number",
    "a 5,000-digit execution count in a traceback",
    "a 5,000-digit integer in the JSON",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["render", "scraps"])
def test_hostile_input_is_one_line_and_exit_2(capsys, tmp_path, case, command):
    path = hostile_notebooks(tmp_path)[case]
    status, _, err = run(capsys, command, path)
    if "JSON" not in case:
        # A traceback's line numbers are only read to point at a line: one of 5,000 digits
        # points at none, and the notebook is shown (render exits 1: it holds an error).
        assert (status, err) == ({"render": 1, "scraps": 0}[command], "")
        return
    assert status == 2
    assert err.startswith(f"nbscrap {command}: error: Cannot read notebook {path}: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_folder_with_a_hostile_notebook_is_one_line_and_exit_2(capsys, tmp_path):
    hostile_notebooks(tmp_path)
    status, _, err = run(capsys, "scraps", tmp_path)
    assert status == 2
    bad = tmp_path / "huge_integer.ipynb"
    assert err.startswith(f"nbscrap scraps: error: Cannot read notebook {bad}: ")
    assert err.count("\n") == 1


def glued_output(name: str, value: Any) -> dict[str, Any]:
    data, metadata = data_output(name, value, "json")
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def test_the_other_notebooks_of_a_folder_are_still_listed(capsys, tmp_path):
    hostile_notebooks(tmp_path)
    write_notebook(tmp_path / "z_good.ipynb", code_cell(outputs=[glued_output("answer", 42)]))
    status, out, err = run(capsys, "scraps", tmp_path / "missing.ipynb", tmp_path)
    assert status == 2
    assert [line.split(": error: ")[0] for line in err.splitlines()] == ["nbscrap scraps"] * 2
    assert "answer" in out
    assert "42" in out


@pytest.mark.parametrize("command", ["render", "scraps"])
def test_in_a_subprocess_there_is_no_traceback_either(tmp_path, command):
    path = hostile_notebooks(tmp_path)["a 5,000-digit integer in the JSON"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest_nbscrap", command, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"nbscrap {command}: error: Cannot read notebook")


def test_a_lone_surrogate_in_a_source_and_an_error_is_printed_escaped(tmp_path):
    path = tmp_path / "surrogate.ipynb"
    path.write_text(
        '{"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": '
        '[{"output_type": "error", "ename": "E", "evalue": "\\ud800", "traceback": ["\\ud800"]}]'
        ', "source": "x = \\"\\ud800\\"\\n"}], "metadata": {}, "nbformat": 4, '
        '"nbformat_minor": 5}',
        encoding="utf-8",
    )
    for command in ("render", "scraps"):
        result = subprocess.run(
            [sys.executable, "-m", "pytest_nbscrap", command, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == (1 if command == "render" else 0)
        assert result.stderr == ""
    assert "\\ud800" in result.stdout or "no scraps found" in result.stdout


def test_an_unexpected_error_of_ours_is_one_line_naming_where_it_happened(
    capsys, monkeypatch, tmp_path
):
    from pytest_nbscrap import export

    def broken(*args: object, **kwargs: object) -> object:
        raise TypeError("a bug")

    monkeypatch.setattr(export.Document, "from_notebook", broken)
    path = write_notebook(tmp_path / "fine.ipynb")
    status, _, err = run(capsys, "render", path)
    assert status == 2
    assert err.startswith("nbscrap render: internal error: TypeError: a bug (")
    assert "tests/test_cli_hostile.py" not in err  # only our package's places are named
    assert err.endswith("please report)\n")
    assert err.count("\n") == 1


# -- escape sequences in file names ------------------------------------------------------------


def test_an_escape_sequence_in_a_file_name_never_reaches_the_terminal(capsys, tmp_path):
    broken = tmp_path / f"bad{OSC_52}name.ipynb"
    broken.write_text("{", encoding="utf-8")
    status, _, err = run(capsys, "render", broken)
    assert status == 2
    assert no_control(err)
    assert "badname.ipynb" in err
    status, _, err = run(capsys, "scraps", broken)
    assert status == 2
    assert no_control(err)


def test_an_escape_sequence_in_a_file_name_is_not_printed_by_render(capsys, tmp_path):
    good = write_notebook(tmp_path / f"good{OSC_52}.ipynb", error_cell("ValueError: x"))
    status, out, err = run(capsys, "render", good)
    assert status == 1
    assert no_control(out + err)
