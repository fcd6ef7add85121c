"""Pooled kernels and overlapped runs change speed only: fresh kernels, same outcomes."""

from __future__ import annotations

import pytest
from helpers import write_code_notebook

pytestmark = pytest.mark.kernel

FRESH = (
    "import os\n"
    "assert '_used' not in globals(), 'this kernel ran something before'\n"
    "_used = True\n"
    "with open('pids.log', 'a') as log:\n"
    "    log.write(f'{os.getpid()}\\n')\n"
)


@pytest.mark.parametrize("options", [[], ["--nbscrap-workers", "2"]], ids=["serial", "workers2"])
def test_every_notebook_gets_a_fresh_kernel_and_none_is_left(pytester, leftover_kernels, options):
    for index in range(5):
        write_code_notebook(pytester.path / "nbs" / f"n{index}.ipynb", FRESH)
    result = pytester.runpytest_subprocess("--nbscrap", "nbs", *options)
    result.assert_outcomes(passed=5)
    pids = (pytester.path / "nbs" / "pids.log").read_text().split()
    assert len(pids) == len(set(pids)) == 5
    assert leftover_kernels() == []


def test_overlapped_runs_give_the_same_outcomes_as_serial_ones(pytester, leftover_kernels):
    for index in range(4):
        write_code_notebook(
            pytester.path / "nbs" / f"good{index}.ipynb", "import time\ntime.sleep(0.2)\nx = 1"
        )
    write_code_notebook(pytester.path / "nbs" / "bad.ipynb", "x = 1", "raise ValueError('no')")
    write_code_notebook(pytester.path / "nbs" / "slow.ipynb", "import time\ntime.sleep(5)")
    common = ["--nbscrap", "nbs", "-rA", "--nbscrap-timeout", "2", "-p", "no:randomly"]
    serial = pytester.runpytest_subprocess(*common)
    overlapped = pytester.runpytest_subprocess(*common, "--nbscrap-workers", "3")
    both = pytester.runpytest_subprocess(*common, "--nbscrap-workers", "2", "-n", "2")
    expected = {"passed": 4, "failed": 2}
    for result in (serial, overlapped, both):
        result.assert_outcomes(**expected)
        result.stdout.fnmatch_lines(["FAILED nbs/bad.ipynb::bad - ValueError: no (cell 2)"])
        result.stdout.fnmatch_lines(["FAILED nbs/slow.ipynb::slow - *"])
    assert leftover_kernels() == []


def test_workers_must_be_a_positive_number(pytester):
    result = pytester.runpytest("--nbscrap", "--nbscrap-workers", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--nbscrap-workers must be 1 or more, not 0*"])


def test_the_output_of_every_run_is_kept_once(pytester, leftover_kernels):
    for index in range(4):
        write_code_notebook(pytester.path / "nbs" / f"n{index}.ipynb", "x = 1")
    out = pytester.path / "out"
    pytester.runpytest_subprocess(
        "--nbscrap", "nbs", f"--nbscrap-output-dir={out}", "--nbscrap-workers", "2", "-n", "2"
    ).assert_outcomes(passed=4)
    kept = sorted(path.name for path in out.rglob("*.ipynb"))
    assert kept == ["nbs__n0.ipynb", "nbs__n1.ipynb", "nbs__n2.ipynb", "nbs__n3.ipynb"]
    assert not [path for path in out.rglob("*") if path.name.endswith(".tmp")]
    assert leftover_kernels() == []


def test_under_xdist_a_run_that_tests_share_is_executed_once(pytester):
    write_code_notebook(
        pytester.path / "nbs" / "count.ipynb",
        "with open('runs.log', 'a') as log:\n    log.write('run\\n')",
    )
    tests = "\n".join(
        f"@pytest.mark.notebook('nbs/count.ipynb')\ndef test_{index}(nb):\n    pass\n"
        for index in range(6)
    )
    pytester.makepyfile(f"import pytest\n\n{tests}")
    pytester.runpytest_subprocess("-n", "2").assert_outcomes(passed=6)
    assert (pytester.path / "nbs" / "runs.log").read_text().split() == ["run"]


def test_an_execution_session_runs_notebooks_on_fresh_kernels_and_stops_them(
    tmp_path, leftover_kernels
):
    from pytest_nbscrap import ExecutionSession, read_notebook
    from pytest_nbscrap._errors import CellExecutionError

    for index in range(3):
        write_code_notebook(tmp_path / f"n{index}.ipynb", FRESH)
    write_code_notebook(tmp_path / "bad.ipynb", "1 / 0")
    with ExecutionSession(workers=2) as session:
        runs = [
            session.submit(
                tmp_path / f"n{index}.ipynb", output_path=tmp_path / "out" / f"{index}.ipynb"
            )
            for index in range(3)
        ]
        notebooks = [run.result() for run in runs]
        with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
            session.execute(tmp_path / "bad.ipynb")
    assert [nb.path for nb in notebooks] == [str(tmp_path / "out" / f"{i}.ipynb") for i in range(3)]
    assert read_notebook(tmp_path / "out" / "0.ipynb").execution_counts == [1]
    pids = (tmp_path / "pids.log").read_text().split()
    assert len(set(pids)) == 3
    assert leftover_kernels() == []
