"""``nbscrap run SOURCE OUTDIR/ --grid ... --each ...``: one notebook run once per parameter set.

The kernel tests drive the real console script, one fan-out per fixture shared by the tests
that read it (a few tiny runs each). Bad input starts no kernel: each case is its own
subprocess, which must end with exit status 2, one line on stderr and nothing written.
"""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import default_sigint, write_code_notebook

from pytest_nbscrap import read_notebooks
from pytest_nbscrap._fanout import FanOutRequest, run_fanout

# A ticker notebook: the set {"symbol": "BAD"} fails in its second cell.
PARAMS = "symbol = 'X'\nscale = 1\ntag = 'none'"
BODY = (
    "from pytest_nbscrap import glue\n"
    "print(f'running {symbol}')\n"
    "assert symbol != 'BAD', 'bad symbol'\n"
    "glue('label', f'{symbol}-{scale}-{tag}')"
)


def write_source(folder: Path) -> Path:
    return write_code_notebook(folder / "source.ipynb", BODY, params=PARAMS)


def nbscrap_run(*argv: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_nbscrap", "run", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def table(stdout: str) -> list[list[str]]:
    """The final table's rows (header first), split on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line) for line in stdout.splitlines()]


def labels(outdir: Path) -> dict[str, Any]:
    """The label each notebook in ``outdir`` glued (a failed run glued none)."""
    book = read_notebooks(outdir)
    return {name: nb.scraps["label"].data for name, nb in book.items() if "label" in nb.scraps}


# -- --grid: a cartesian product, with one failing set ---------------------------------------


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("grid")
    write_source(folder)
    argv = shlex.split("--grid symbol=AAA,BAD --grid scale=1,2.5 -p tag common --jobs 2")
    result = nbscrap_run("source.ipynb", "out/", *argv, cwd=folder)
    return {"folder": folder, "outdir": folder / "out", "result": result}


@pytest.mark.kernel
def test_grid_exits_1_when_a_set_fails_and_the_others_still_run(grid):
    assert grid["result"].returncode == 1
    assert sorted(path.name for path in grid["outdir"].iterdir()) == [
        "symbol=AAA,scale=1.ipynb",
        "symbol=AAA,scale=2.5.ipynb",
        "symbol=BAD,scale=1.ipynb",
        "symbol=BAD,scale=2.5.ipynb",
    ]


@pytest.mark.kernel
def test_repeated_grids_are_a_cartesian_product_and_p_values_apply_to_every_run(grid):
    book = read_notebooks(grid["outdir"])
    assert sorted(
        (nb.parameters["symbol"], nb.parameters["scale"], nb.parameters["tag"])
        for nb in book.values()
    ) == [
        ("AAA", 1, "common"),
        ("AAA", 2.5, "common"),
        ("BAD", 1, "common"),
        ("BAD", 2.5, "common"),
    ]
    assert labels(grid["outdir"]) == {
        "symbol=AAA,scale=1": "AAA-1-common",
        "symbol=AAA,scale=2.5": "AAA-2.5-common",
    }


@pytest.mark.kernel
def test_each_failure_is_printed_as_the_failure_view(grid):
    err = grid["result"].stderr
    assert err.count("AssertionError: bad symbol\n  in cell 2 (In [3]) of source.ipynb") == 2
    assert "> 3 | assert symbol != 'BAD', 'bad symbol'" in err
    assert f"executed notebook: {grid['outdir'] / 'symbol=BAD,scale=2.5.ipynb'}\n" in err
    assert "run/s" not in err  # stderr is a pipe here: no progress bar


@pytest.mark.kernel
def test_the_table_lists_each_runs_parameters_status_time_and_output(grid):
    rows = table(grid["result"].stdout)
    assert rows[0] == ["PARAMETERS", "STATUS", "TIME", "OUTPUT"]
    assert [(row[0], row[1], row[3]) for row in rows[1:]] == [
        ("symbol=AAA,scale=1", "ok", "out/symbol=AAA,scale=1.ipynb"),
        ("symbol=AAA,scale=2.5", "ok", "out/symbol=AAA,scale=2.5.ipynb"),
        ("symbol=BAD,scale=1", "failed", "out/symbol=BAD,scale=1.ipynb"),
        ("symbol=BAD,scale=2.5", "failed", "out/symbol=BAD,scale=2.5.ipynb"),
    ]
    assert all(re.fullmatch(r"\d+\.\ds", row[2]) for row in rows[1:])


# -- --each: a YAML list of sets, with --grid and --name -------------------------------------


@pytest.fixture(scope="module")
def each(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("each")
    write_source(folder)
    (folder / "sets.yaml").write_text(
        "- symbol: AAA\n- {symbol: CCC, tag: own}\n", encoding="utf-8"
    )
    argv = shlex.split(
        "--each sets.yaml --grid scale=1,2 -p tag common -p unknown 1 --jobs 2 --log-output"
    )
    result = nbscrap_run(
        "source.ipynb", "runs", *argv, "--name", "{symbol}-{scale}.ipynb", cwd=folder
    )
    return {"folder": folder, "outdir": folder / "runs", "result": result}


@pytest.mark.kernel
def test_each_runs_every_yaml_set_with_every_grid_value(each):
    assert each["result"].returncode == 0, each["result"].stderr
    assert labels(each["outdir"]) == {
        "AAA-1": "AAA-1-common",
        "AAA-2": "AAA-2-common",
        "CCC-1": "CCC-1-own",  # a set's own value wins over -p's
        "CCC-2": "CCC-2-own",
    }


@pytest.mark.kernel
def test_name_template_names_each_output_and_the_table_shows_it(each):
    rows = table(each["result"].stdout)
    assert [(row[0], row[3]) for row in rows[1:]] == [
        ("symbol=AAA,scale=1", str(Path("runs") / "AAA-1.ipynb")),
        ("symbol=AAA,scale=2", str(Path("runs") / "AAA-2.ipynb")),
        ("symbol=CCC,tag=own,scale=1", str(Path("runs") / "CCC-1.ipynb")),
        ("symbol=CCC,tag=own,scale=2", str(Path("runs") / "CCC-2.ipynb")),
    ]


@pytest.mark.kernel
def test_log_output_streams_every_runs_cell_output(each):
    err = each["result"].stderr
    assert all(f"running {symbol}" in err for symbol in ("AAA", "CCC"))


@pytest.mark.kernel
def test_a_kernel_that_does_not_start_fails_its_run_in_one_line(tmp_path):
    write_source(tmp_path)
    argv = shlex.split("--grid symbol=AAA,CCC --jobs 2 --start-timeout 0.001")
    result = nbscrap_run("source.ipynb", "out", *argv, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["symbol=AAA", "symbol=CCC"]
    assert all("did not start" in line for line in lines)
    assert [row[:3] for row in table(result.stdout)[1:]] == [
        ["symbol=AAA", "error", "-"],
        ["symbol=CCC", "error", "-"],
    ]


@pytest.mark.kernel
def test_a_warning_every_run_gives_is_said_once(each):
    warnings = [line for line in each["result"].stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("nbscrap run: warning: ")
    assert "unknown" in warnings[0]


@pytest.mark.kernel
def test_a_set_the_notebook_cannot_take_is_one_line_and_the_others_run(tmp_path):
    write_source(tmp_path)
    # A mapping with a number as a key is YAML, but no JSON value for the kernel.
    (tmp_path / "sets.yaml").write_text("- symbol: AAA\n- symbol: {1: x}\n", encoding="utf-8")
    result = nbscrap_run("source.ipynb", "out", "--each", "sets.yaml", cwd=tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("nbscrap run:")]
    assert len(errors) == 1
    assert errors[0].startswith('nbscrap run: symbol={"1": "x"}: ')
    assert "parameters must be JSON values" in errors[0]
    assert [[row[0], row[1], row[3]] for row in table(result.stdout)[1:]] == [
        ["symbol=AAA", "ok", str(Path("out") / "symbol=AAA.ipynb")],
        ['symbol={"1": "x"}', "error", "-"],  # it never ran: no notebook was written
    ]
    assert labels(tmp_path / "out") == {"symbol=AAA": "AAA-1-none"}


@pytest.mark.kernel
def test_one_run_into_a_folder_keeps_the_source_name(tmp_path):
    write_source(tmp_path)
    result = nbscrap_run("source.ipynb", "out/", "-p", "symbol", "AAA", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert labels(tmp_path / "out") == {"source": "AAA-1-none"}
    assert table(result.stdout)[1][:2] == ["symbol=AAA", "ok"]


@pytest.mark.kernel
def test_ctrl_c_stops_the_runs_keeps_their_notebooks_and_exits_130(tmp_path, leftover_kernels):
    write_code_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)", params="n = 0")
    command = [sys.executable, "-m", "pytest_nbscrap", "run", "slow.ipynb", "out"]
    process = subprocess.Popen(
        [*command, "--grid", "n=1,2,3", "--jobs", "2"],
        cwd=tmp_path,
        preexec_fn=default_sigint,  # noqa: PLW1509
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Two runs have started once the first checkpoint of one is written.
        while not list((tmp_path / "out").glob("*.ipynb")) and process.poll() is None:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        # Generous: stopping means interrupting two runs and the kernels still starting, each
        # slow beside other work; the runs' cells would sleep 60 s.
        out, err = process.communicate(timeout=180)
    finally:
        process.kill()
        process.communicate()  # reaped and its pipes closed even when the bound ran out
    assert process.returncode == 130
    assert err.endswith("the notebooks the table lists are kept\n")
    rows = table(out)[1:]
    assert [row[:3] for row in rows] == [[f"n={n}", "interrupted", "-"] for n in (1, 2, 3)]
    assert rows[2][3] == "-"  # it was waiting for a free worker: it never started
    kept = [Path(row[3]) for row in rows[:2] if row[3] != "-"]
    assert kept
    assert all((tmp_path / path).is_file() for path in kept)
    assert leftover_kernels() == []


# -- what a person sees on a terminal --------------------------------------------------------


@pytest.mark.kernel
def test_progress_bar_counts_the_runs_on_stderr(tmp_path, capsys):
    source = write_source(tmp_path)
    request = FanOutRequest(
        source=source,
        outdir=tmp_path / "out",
        common={},
        grids=("symbol=AAA,CCC",),
        each=None,
        name=None,
        jobs=2,
        kernel_name=None,
        timeout=None,
        start_timeout=None,
        cwd=None,
        progress=True,
        log_output=False,
    )
    assert run_fanout(request) == 0
    err = capsys.readouterr().err
    assert "2/2" in err
    assert "run/s" in err or "s/run" in err


# -- bad input: exit 2, one line, nothing run or written -------------------------------------

BAD_INPUT = {
    "each-not-yaml": (["--each", "sets.yaml"], "- [unclosed\n", "not valid YAML"),
    "each-a-mapping": (["--each", "sets.yaml"], "symbol: AAA\n", "expected a list"),
    "each-empty": (["--each", "sets.yaml"], "[]\n", "got an empty list"),
    "each-item-not-a-mapping": (["--each", "sets.yaml"], "- AAA\n", "item 1 is a str"),
    "each-missing": (["--each", "missing.yaml"], None, "cannot read it"),
    "grid-without-equals": (["--grid", "symbol"], None, "expected NAME=VALUE1,VALUE2"),
    "grid-without-values": (["--grid", "symbol="], None, "no values after '='"),
    "grid-empty-value": (["--grid", "symbol=A,,B"], None, "an empty value"),
    "grid-name-twice": (["--grid", "s=A", "--grid", "s=B"], None, "'s' is given twice"),
    "grid-and-each-name": (
        ["--grid", "symbol=A", "--each", "sets.yaml"],
        "- symbol: B\n",
        "'symbol' given by both --grid and --each",
    ),
    "same-set-twice": (["--grid", "symbol=A,A"], None, "symbol=A is given twice"),
    "name-unknown-parameter": (
        ["--grid", "symbol=A,B", "--name", "{ticker}.ipynb"],
        None,
        "names the parameter 'ticker', which is not given",
    ),
    "name-clash": (
        ["--grid", "symbol=A,B", "--name", "same.ipynb"],
        None,
        "two runs would write",
    ),
    "name-clash-by-case": (
        ["--grid", "symbol=abc,ABC", "--name", "{symbol}.ipynb"],
        None,
        "two runs would write",
    ),
    "name-is-the-source": (
        ["--grid", "symbol=A", "--name", "source.ipynb"],
        None,
        "is the source notebook",
    ),
}


@pytest.mark.parametrize(("argv", "yaml", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_fanout_input_exits_2_with_one_line_and_runs_nothing(tmp_path, argv, yaml, message):
    write_source(tmp_path)
    if yaml is not None:
        (tmp_path / "sets.yaml").write_text(yaml, encoding="utf-8")
    outdir = "." if "source.ipynb" in argv else "out/"
    result = nbscrap_run("source.ipynb", outdir, *argv, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("nbscrap run: error: ")
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.ipynb", "out/"], "Cannot read notebook missing.ipynb: no such file"),
        (["source.ipynb", "out/", "-k", "nosuch"], "no Jupyter kernel named 'nosuch'"),
        (["source.ipynb", "out/", "--cwd", "nosuch"], "is not a folder"),
    ],
    ids=["source-missing", "kernel-missing", "cwd-missing"],
)
def test_what_every_run_shares_is_checked_once_before_any_runs(tmp_path, argv, message):
    write_source(tmp_path)
    result = nbscrap_run(*argv, "--grid", "symbol=A,B", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("nbscrap run: error: ")
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_outdir_that_is_a_file_exits_2_with_one_line(tmp_path):
    write_source(tmp_path)
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    result = nbscrap_run("source.ipynb", "taken", "--grid", "symbol=A,B", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr
        == "nbscrap run: error: taken is a file, not a folder for the executed notebooks\n"
    )
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "a file"
