"""Pooled kernels and overlapped runs change speed only: fresh kernels, same outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

FRESH = (
    "import os\n"
    "assert '_used' not in globals(), 'this kernel ran something before'\n"
    "_used = True\n"
    "with open('pids.log', 'a') as log:\n"
    "    log.write(f'{os.getpid()}\\n')\n"
)


def write(path: Path, *sources: str) -> None:
    cells = [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "metadata": {},
            "source": source,
            "outputs": [],
            "execution_count": None,
        }
        for i, source in enumerate(sources)
    ]
    node = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": KERNELSPEC},
        "cells": cells,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(node))


def kernels_under(folder: Path) -> list[str]:
    """Command lines of live kernel processes whose files lie under ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "ipykernel" in command and str(folder) in command:
            found.append(command)
    return found


@pytest.fixture
def isolated(pytester, monkeypatch):
    """Kernels of the inner run keep their files under this test's own temp folder."""
    tmp = pytester.mkdir("tmp")
    monkeypatch.setenv("TMPDIR", str(tmp))
    return tmp


@pytest.mark.parametrize("options", [[], ["--nbscrap-workers", "2"]], ids=["serial", "workers2"])
def test_every_notebook_gets_a_fresh_kernel_and_none_is_left(pytester, isolated, options):
    for index in range(5):
        write(pytester.path / "nbs" / f"n{index}.ipynb", FRESH)
    result = pytester.runpytest_subprocess("--nbscrap", "nbs", *options)
    result.assert_outcomes(passed=5)
    pids = (pytester.path / "nbs" / "pids.log").read_text().split()
    assert len(pids) == len(set(pids)) == 5
    assert kernels_under(isolated) == []


def test_overlapped_runs_give_the_same_outcomes_as_serial_ones(pytester, isolated):
    for index in range(4):
        write(pytester.path / "nbs" / f"good{index}.ipynb", "import time\ntime.sleep(0.2)\nx = 1")
    write(pytester.path / "nbs" / "bad.ipynb", "x = 1", "raise ValueError('no')")
    write(pytester.path / "nbs" / "slow.ipynb", "import time\ntime.sleep(5)")
    common = ["--nbscrap", "nbs", "-rA", "--nbscrap-timeout", "2", "-p", "no:randomly"]
    serial = pytester.runpytest_subprocess(*common)
    overlapped = pytester.runpytest_subprocess(*common, "--nbscrap-workers", "3")
    both = pytester.runpytest_subprocess(*common, "--nbscrap-workers", "2", "-n", "2")
    expected = {"passed": 4, "failed": 2}
    for result in (serial, overlapped, both):
        result.assert_outcomes(**expected)
        result.stdout.fnmatch_lines(["FAILED nbs/bad.ipynb::bad - ValueError: no (cell 2)"])
        result.stdout.fnmatch_lines(["FAILED nbs/slow.ipynb::slow - *"])
    assert kernels_under(isolated) == []


def test_workers_must_be_a_positive_number(pytester):
    result = pytester.runpytest("--nbscrap", "--nbscrap-workers", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--nbscrap-workers must be 1 or more, not 0*"])


def test_the_output_of_every_run_is_kept_once(pytester, isolated):
    for index in range(4):
        write(pytester.path / "nbs" / f"n{index}.ipynb", "x = 1")
    out = pytester.path / "out"
    pytester.runpytest_subprocess(
        "--nbscrap", "nbs", f"--nbscrap-output-dir={out}", "--nbscrap-workers", "2", "-n", "2"
    ).assert_outcomes(passed=4)
    kept = sorted(path.name for path in out.rglob("*.ipynb"))
    assert kept == ["nbs__n0.ipynb", "nbs__n1.ipynb", "nbs__n2.ipynb", "nbs__n3.ipynb"]
    assert not [path for path in out.rglob("*") if path.name.endswith(".tmp")]
    assert kernels_under(isolated) == []


def test_under_xdist_a_run_that_tests_share_is_executed_once(pytester):
    write(
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


def test_an_execution_session_runs_notebooks_on_fresh_kernels_and_stops_them(tmp_path, monkeypatch):
    from pytest_nbscrap import ExecutionSession, read_notebook
    from pytest_nbscrap._errors import CellExecutionError

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    for index in range(3):
        write(tmp_path / f"n{index}.ipynb", FRESH)
    write(tmp_path / "bad.ipynb", "1 / 0")
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
    assert kernels_under(tmp_path) == []
