"""``nbscrap run INPUT OUTPUT``: one run with papermill's flags, through the real console script.

Where papermill's meaning is the question (value typing, the order -f, -y, -p and -r apply in,
``--help-notebook``), the same command is given to papermill's own command line and the two
results are compared; ``--prepare-only`` lets papermill answer without starting a kernel.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import default_sigint, run_on_a_terminal, write_code_notebook, write_silent_kernelspec

from pytest_nbscrap import read_notebooks

NBSCRAP = [sys.executable, "-m", "pytest_nbscrap", "run"]
PAPERMILL = [sys.executable, "-m", "papermill"]

PARAMS = """\
symbol = "AAA"  # the ticker
n: int = 1  # how many
rate = 0.5  # type: float   the rate
flag = False
raw = "x"
fromfile = 0
fromyaml = 0
nothing = "set"
offset = "0d"
"""


def nbscrap(
    *argv: object, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NBSCRAP, *map(str, argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A notebook whose parameters cell declares every kind of value, and glues them back."""
    return write_code_notebook(
        tmp_path / "source.ipynb",
        "import os\n"
        "from pytest_nbscrap import glue\n"
        "for key in ('symbol', 'n', 'rate', 'flag', 'raw', 'fromfile', 'fromyaml', 'nothing'):\n"
        "    glue(key, globals()[key])\n"
        "glue('cwd', os.getcwd())",
        "print('the answer is', n * 6)",
        params=PARAMS,
    )


@pytest.fixture
def yaml_file(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text("fromfile: 3\nsymbol: FROMFILE\nraw: fromfile\nwhen: 2024-01-02\n")
    return path


def flags(yaml_file: Path) -> list[str]:
    """Every kind of parameter, naming some names twice: which wins is papermill's order."""
    return [
        # Given first on the line, applied last: -r after -p after -y after -f.
        "-r", "raw", "7",
        "-p", "n", "7",
        "-p", "flag", "True",
        "-p", "nothing", "None",
        "-p", "rate", "1e3",
        "-p", "raw", "8",
        "-y", "fromyaml: 2\nsymbol: FROMYAML",
        "-f", str(yaml_file),
        "-p", "symbol", "ABC",
        "-p", "offset", "-5d",  # a value, though it begins with "-", as papermill takes it
    ]  # fmt: skip


def injected(path: Path) -> tuple[str, dict[str, object]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return source, nb["metadata"]["papermill"]["parameters"]


# -- papermill's meaning, compared with papermill ------------------------------------------------


def test_parameters_are_typed_and_ordered_as_papermills_command_line(tmp_path, source, yaml_file):
    ours = nbscrap(source, "ours.ipynb", "--prepare-only", *flags(yaml_file), cwd=tmp_path)
    subprocess.run(
        [*PAPERMILL, source, "theirs.ipynb", "--prepare-only", *flags(yaml_file)],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert ours.returncode == 0, ours.stderr
    assert injected(tmp_path / "ours.ipynb") == injected(tmp_path / "theirs.ipynb")
    _, values = injected(tmp_path / "ours.ipynb")
    assert values == {
        "fromfile": 3,
        "symbol": "ABC",
        "raw": "7",
        "when": "2024-01-02",  # papermill's YAML keeps dates as text
        "fromyaml": 2,
        "n": 7,
        "flag": True,
        "nothing": None,
        "rate": 1000.0,
        "offset": "-5d",
    }


def test_prepare_only_writes_the_parameterized_notebook_without_running_it(tmp_path, source):
    result = nbscrap(source, "out.ipynb", "--prepare-only", "-p", "n", "2", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    nb = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))
    assert [cell["execution_count"] for cell in nb["cells"]] == [None, None, None, None]
    assert injected(tmp_path / "out.ipynb")[0].endswith("n = 2\n")
    assert nb["metadata"]["papermill"]["parameters"] == {"n": 2}


def test_help_notebook_lists_the_parameters_as_papermill_does(tmp_path, source):
    ours = nbscrap("--help-notebook", source, cwd=tmp_path)
    theirs = subprocess.run(
        [*PAPERMILL, "--help-notebook", source],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert ours.returncode == 0, ours.stderr
    # papermill prints its usage line first; the parameters after it are what is compared.
    assert ours.stdout == theirs.stdout.split("\n", 2)[2]
    assert "  rate: float (default 0.5)       the rate\n" in ours.stdout


def test_help_notebook_without_a_parameters_cell_exits_1_as_papermill(tmp_path):
    path = write_code_notebook(tmp_path / "plain.ipynb", "x = 1")
    result = nbscrap("--help-notebook", path, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.endswith("\n  No cell tagged 'parameters'\n")


# -- running -----------------------------------------------------------------------------------


@pytest.mark.kernel
def test_run_executes_with_every_flag_and_reads_back_with_its_parameters(
    tmp_path, source, yaml_file
):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (tmp_path / "runs").mkdir()
    result = nbscrap(
        source,
        "runs/out.ipynb",
        *flags(yaml_file),
        "-k",
        "python3",
        "--cwd",
        workdir,
        "--execution-timeout",
        "60",
        "--start-timeout",
        "30",
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    # The one parameter the notebook does not define is one line, as papermill logs it.
    assert result.stderr == (
        f"nbscrap run: warning: {source}: the parameters cell (cell 1) does not define 'when'; "
        "it defines 'symbol', 'n', 'rate', 'flag', 'raw', 'fromfile', 'fromyaml', 'nothing', "
        "'offset'. "
        "The value is injected anyway\n"
    )
    book = read_notebooks(tmp_path / "runs")
    (notebook,) = book.values()
    assert notebook.parameters["symbol"] == "ABC"
    scraps = {name: scrap.data for name, scrap in notebook.scraps.items()}
    assert scraps == {
        "symbol": "ABC",
        "n": 7,
        "rate": 1000.0,
        "flag": True,
        "raw": "7",
        "fromfile": 3,
        "fromyaml": 2,
        "nothing": None,
        "cwd": str(workdir),
    }
    assert "the answer is 42" in json.dumps(notebook.node["cells"][-1]["outputs"])


@pytest.mark.kernel
def test_dash_writes_the_notebook_to_stdout_and_log_output_streams_cells_to_stderr(
    tmp_path, source
):
    result = nbscrap(source, "-", "--log-output", "-p", "n", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    nb = json.loads(result.stdout)
    assert nb["metadata"]["papermill"]["parameters"] == {"n": 2}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["source.ipynb"]
    lines = result.stderr.splitlines()
    assert lines[0] == "Executing Cell 1---------------------------------------"
    start = lines.index("Executing Cell 4---------------------------------------")
    assert lines[start : start + 3] == [
        "Executing Cell 4---------------------------------------",
        "the answer is 12",
        "Ending Cell 4------------------------------------------",
    ]


@pytest.mark.kernel
def test_a_failing_notebook_shows_its_failure_view_and_exits_1(tmp_path):
    path = write_code_notebook(tmp_path / "fails.ipynb", "x = 1", "1 / 0", params="n = 1")
    before = path.read_bytes()
    result = nbscrap(path, "out.ipynb", "-p", "n", "2", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("ZeroDivisionError: division by zero\n")
    assert f"executed notebook: {tmp_path / 'out.ipynb'}" in result.stderr
    nb = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))
    assert nb["cells"][-1]["outputs"][0]["ename"] == "ZeroDivisionError"
    assert path.read_bytes() == before


@pytest.mark.kernel
def test_execution_timeout_limits_each_cell(tmp_path):
    path = write_code_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(120)")
    result = nbscrap(path, "out.ipynb", "--execution-timeout", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("CellTimeoutError: Cell execution timed out after 1 s\n")


@pytest.mark.kernel
def test_ctrl_c_says_what_was_kept_in_one_line_and_exits_130(tmp_path):
    path = write_code_notebook(
        tmp_path / "sleeps.ipynb", "import time\nprint('sleeping', flush=True)\ntime.sleep(120)"
    )
    with subprocess.Popen(
        [*NBSCRAP, path, "out.ipynb", "--log-output"],
        cwd=tmp_path,
        preexec_fn=default_sigint,  # noqa: PLW1509
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:  # --log-output says when the cell is running
            # A line of its own on an idle machine; not to rely on that, a part will do.
            if "sleeping" in line:
                process.send_signal(signal.SIGINT)
                break
        rest = process.stderr.read()
        status = process.wait(timeout=60)
    assert status == 130, rest
    assert rest.splitlines()[-1] == (
        f"nbscrap run: {path}: interrupted; what ran is kept in {tmp_path / 'out.ipynb'}"
    )
    assert "Traceback" not in rest
    nb = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))
    assert nb["cells"][0]["outputs"][0]["text"] == ["sleeping\n"]


@pytest.fixture
def silent_kernel(tmp_path: Path) -> dict[str, str]:
    """The environment of an installed kernel that starts a process but never answers."""
    write_silent_kernelspec(tmp_path)
    return {**os.environ, "JUPYTER_PATH": str(tmp_path)}


@pytest.mark.kernel
def test_start_timeout_bounds_the_wait_for_the_kernel(tmp_path, source, silent_kernel):
    args = (source, "out.ipynb", "-k", "silent", "--start-timeout", "1")
    result = nbscrap(*args, cwd=tmp_path, env=silent_kernel)
    assert result.returncode == 1
    assert result.stderr.startswith("nbscrap run: error: ")
    assert "kernel 'silent' did not start: " in result.stderr
    assert "did not answer within 1 s" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def on_a_terminal(*argv: object, cwd: Path) -> tuple[int, str]:
    """Runs the command with stderr on a pseudo-terminal; its status and what the terminal got."""
    return run_on_a_terminal([*NBSCRAP, *map(str, argv)], cwd=cwd, stream="stderr")


@pytest.mark.kernel
def test_a_progress_bar_over_the_cells_on_a_terminal(tmp_path, source):
    status, seen = on_a_terminal(source, "out.ipynb", cwd=tmp_path)
    assert status == 0, seen
    assert "Executing: 100%" in seen
    assert "3/3 " in seen  # the parameters cell and two more: nothing is injected


@pytest.mark.kernel
def test_no_progress_bar_on_a_terminal_with_no_progress_bar(tmp_path, source):
    status, seen = on_a_terminal(source, "out.ipynb", "--no-progress-bar", cwd=tmp_path)
    assert (status, seen) == (0, "")


@pytest.mark.kernel
def test_progress_bar_brings_the_bar_back_beside_log_output(tmp_path, source):
    # As in papermill, --log-output alone drops the bar; --progress-bar asks for it anyway.
    alone = on_a_terminal(source, "out.ipynb", "--log-output", cwd=tmp_path)
    both = on_a_terminal(source, "out.ipynb", "--log-output", "--progress-bar", cwd=tmp_path)
    assert alone[0] == both[0] == 0, (alone, both)
    assert "Executing: 100%" not in alone[1]
    assert "Executing: 100%" in both[1]


# -- bad input: one line, exit status 2 --------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["{src}", "o.ipynb", "--bogus"], "unrecognized arguments: --bogus"),
        (["{src}", "o.ipynb", "-p", "n"], "argument -p/--parameters: expected 2 arguments"),
        (["{src}", "o.ipynb", "-y", "a: ["], "-y 'a: [': not valid YAML: "),
        (["{src}", "o.ipynb", "-y", "[1, 2]"], "expected a mapping of parameter names"),
        (["{src}", "o.ipynb", "-f", "{tmp}/missing.yaml"], "cannot read it: No such file"),
        (["{src}", "o.ipynb", "-f", "{tmp}/list.yaml"], "got a list"),
        (["{tmp}/missing.ipynb", "o.ipynb"], "Cannot read notebook"),
        (["{src}"], "OUTPUT is missing"),
        ([], "the following arguments are required: INPUT"),
        (["{src}", "o.ipynb", "--name", "{{n}}.ipynb"], "--name is for many runs"),
        (["{src}", "-", "--grid", "n=1,2"], "'-' as OUTPUT is for one run"),
        (["{src}", "o.ipynb", "--execution-timeout", "soon"], "expected a number of seconds"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, source, argv, says):
    (tmp_path / "list.yaml").write_text("- n: 1\n")
    values = [arg.format(src=source, tmp=tmp_path) for arg in argv]
    result = nbscrap(*values, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("nbscrap run: error: ")
    assert says in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "o.ipynb").exists()
