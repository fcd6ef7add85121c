"""Hostile paths around the plugin: links planted in the output folder are never followed,
two sessions never share an output folder silently, and a notebook's file name never drives
the terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

FAULTS = Path(__file__).resolve().parent / "notebooks" / "faults"
OSC_52 = "\x1b]52;c;aGVsbG8=\x07"  # a terminal's clipboard write


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout:g} s"
        time.sleep(0.05)


# -- planted links -----------------------------------------------------------------------------


@pytest.mark.kernel
def test_a_dangling_marker_link_is_replaced_not_followed(pytester):
    shutil.copy(FAULTS / "good.ipynb", pytester.path / "good.ipynb")
    out = pytester.path / "out"
    out.mkdir()
    target = pytester.path / "elsewhere" / "planted"
    target.parent.mkdir()
    (out / ".nbscrap-output").symlink_to(target)
    result = pytester.runpytest_subprocess("--nbscrap", f"--nbscrap-output-dir={out}")
    result.assert_outcomes(passed=1)
    assert not target.exists()
    assert not (out / ".nbscrap-output").is_symlink()
    assert (out / ".nbscrap-output").is_file()
    assert (out / "good.ipynb").is_file()


@pytest.mark.kernel
def test_planted_worker_folder_links_do_not_send_notebooks_elsewhere(pytester):
    for name in ("a", "b"):
        shutil.copy(FAULTS / "good.ipynb", pytester.path / f"{name}.ipynb")
    out = pytester.path / "out"
    out.mkdir()
    elsewhere = pytester.path / "elsewhere"
    elsewhere.mkdir()
    for worker in ("gw0", "gw1"):
        (out / worker).symlink_to(elsewhere, target_is_directory=True)
    # The xdist workers of one session also share the controller's locked folder.
    result = pytester.runpytest_subprocess("--nbscrap", f"--nbscrap-output-dir={out}", "-n", "2")
    result.assert_outcomes(passed=2)
    assert list(elsewhere.iterdir()) == []
    kept = sorted(path.relative_to(out).parent.as_posix() for path in out.rglob("*.ipynb"))
    assert len(kept) == 2
    assert all(not (out / folder).is_symlink() for folder in kept)


# -- one session per output folder ---------------------------------------------------------------

WAITING_TEST = """
import os, time
from pathlib import Path

def test_holds_the_folder():
    if not os.environ.get("NBSCRAP_HOLD"):
        return
    Path("started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120
    while not Path("go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def test_a_second_session_on_the_same_output_folder_is_a_usage_error_naming_the_first(pytester):
    pytester.makepyfile(test_waits=WAITING_TEST)
    out = pytester.path / "out"
    first = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--nbscrap-output-dir={out}"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NBSCRAP_HOLD": "1"},
    )
    try:
        wait_for(pytester.path / "started")
        second = pytester.runpytest(f"--nbscrap-output-dir={out}", "-p", "no:cacheprovider")
        assert second.ret == pytest.ExitCode.USAGE_ERROR
        second.stderr.fnmatch_lines(
            [
                f"*--nbscrap-output-dir {out} is in use by another pytest session "
                f"(pid {first.pid}); give each session its own folder*"
            ]
        )
    finally:
        (pytester.path / "go").touch()
        output, _ = first.communicate(timeout=120)
    assert first.returncode == 0, output
    # Once the first session has ended, the folder is free again.
    third = pytester.runpytest(f"--nbscrap-output-dir={out}", "-p", "no:cacheprovider")
    third.assert_outcomes(passed=1)


# -- file names never drive the terminal ---------------------------------------------------------


def test_an_escape_sequence_in_a_notebook_file_name_is_not_in_the_plugins_header(pytester):
    shutil.copy(FAULTS / "not_a_notebook.ipynb", pytester.path / f"bad{OSC_52}.ipynb")
    result = pytester.runpytest("--nbscrap", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    headers = [line for line in result.stdout.lines if line.startswith("_") and "notebook" in line]
    assert len(headers) == 1
    assert "\x1b" not in headers[0]
    assert "\x07" not in headers[0]
