"""Faults: every way a notebook run goes wrong, through the plugin as users run it.

Each bad notebook must be its own failed item with a one-line reason, the good ones must pass,
the session must end in bounded time without an INTERNALERROR, no kernel may be left behind,
and the source notebooks must stay byte-for-byte as they were. Interrupts (Ctrl-C, a killed
pytest-xdist worker) must stop kernels and keep what ran.

pytest runs in a subprocess here (as ``pytester.runpytest_subprocess`` does), started directly
so that a run can be shared by several tests and signalled while it runs. Every kernel it starts
inherits an environment variable naming the run; the process table is searched for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from helpers import (
    KERNELSPEC,
    TAG,
    code_cell,
    default_sigint,
    new_tag,
    tagged,
    write_code_notebook,
    write_notebook,
)

from pytest_nbscrap import read_notebook
from pytest_nbscrap.export import render_notebook

# leftover_kernels: after each test (its own checks done), whatever a run started is killed.
pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("leftover_kernels")]

FAULTS = Path(__file__).resolve().parent / "notebooks" / "faults"


# -- running pytest and watching its kernels --------------------------------------------------


def kernels_of(tag: str) -> list[psutil.Process]:
    """Live processes (kernels, once pytest has ended) of the pytest run named ``tag``."""
    return tagged(lambda found: found == tag)


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]


def environment(tag: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update({TAG: tag, "COLUMNS": "2000"})
    return env


def start_pytest(cwd: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """pytest in its own session (so a signal to its process group hits only it), with Ctrl-C
    handled even if this process was started with SIGINT ignored (a background job)."""
    tag = new_tag()
    process = subprocess.Popen(
        pytest_command(*args),
        cwd=cwd,
        env=environment(tag),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,  # noqa: PLW1509
    )
    return process, tag


def finish(process: subprocess.Popen[str], started: float, timeout: float) -> pytest.RunResult:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"pytest did not end within {timeout:g} s:\n{output}") from None
    return pytest.RunResult(process.returncode, output.splitlines(), [], time.monotonic() - started)


@contextmanager
def pytest_running(cwd: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """:func:`start_pytest`; if the block fails, the run is killed and what it said is shown."""
    process, tag = start_pytest(cwd, *args)
    try:
        yield process, tag
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            print(f"the pytest run was killed; it had said:\n{output}")
        raise


def run_pytest(cwd: Path, *args: str, timeout: float = 300) -> tuple[pytest.RunResult, str]:
    started = time.monotonic()
    with pytest_running(cwd, *args) as (process, tag):
        return finish(process, started, timeout), tag


def digests(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.glob("*.ipynb"))
    }


# -- a folder of good and bad notebooks, run once ---------------------------------------------


@dataclass(frozen=True)
class FaultRun:
    result: pytest.RunResult
    root: Path
    before: dict[str, str]
    after: dict[str, str]
    kernels_left: list[psutil.Process]

    @property
    def text(self) -> str:
        return self.result.stdout.str()


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory) -> FaultRun:
    root = tmp_path_factory.mktemp("faults")
    shutil.copytree(FAULTS, root / "nbs", ignore=shutil.ignore_patterns("*.py"))
    before = digests(root / "nbs")
    result, tag = run_pytest(
        root,
        "--nbscrap",
        "nbs",
        "--nbscrap-timeout=3",
        "--nbscrap-output-dir=out",
        "--color=no",
        "-rA",
    )
    return FaultRun(result, root, before, digests(root / "nbs"), kernels_of(tag))


GOOD = ["good", "good_too", "no_code", "prints_20mb"]

# The one line each bad notebook gets in pytest's short summary.
BAD = {
    "hangs": "CellTimeoutError: Cell execution timed out after 3 s (cell 2)",
    "exits": "KernelDiedError: The kernel died (exit status 1) (cell 2)",
    "segfault": "KernelDiedError: The kernel died (killed by SIGSEGV) (cell 2)",
    "truncated": (
        "NotebookReadError: not valid JSON: Unterminated string starting at line *, column *"
    ),
    "not_a_notebook": "NotebookReadError: not a notebook: it has no 'nbformat' number",
    "nbformat3": "NotebookReadError: nbformat 3 is not supported; upgrade it with `jupyter*",
    "missing_kernel": (
        "KernelNotFoundError: no Jupyter kernel named 'no-such-kernel-nbscrap' is installed "
        "(asked for by the notebook's kernelspec); installed kernels: *"
    ),
    "floods": "ValueError: zzzz*zzz ... * characters cut ... zzz*zzz (cell 3)",
}


def test_the_fault_folder_holds_every_case():
    names = {path.stem for path in FAULTS.glob("*.ipynb")}
    assert names == set(GOOD) | set(BAD)


@pytest.mark.parametrize("name", GOOD)
def test_good_notebooks_pass_beside_the_bad_ones(fault_run, name):
    assert f"PASSED nbs/{name}.ipynb::{name}" in fault_run.text


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_notebook_is_its_own_failure_with_a_one_line_reason(fault_run, name):
    fault_run.result.stdout.fnmatch_lines([f"FAILED nbs/{name}.ipynb::{name} - {BAD[name]}"])


def test_the_session_counts_every_notebook_and_has_no_internal_error(fault_run):
    fault_run.result.assert_outcomes(passed=len(GOOD), failed=len(BAD))
    assert fault_run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert "INTERNALERROR" not in fault_run.text
    assert "error" not in fault_run.result.parseoutcomes()  # no collection error either


def test_the_session_ends_in_bounded_time(fault_run):
    # Twelve notebooks; the one that never ends is stopped by its 3 s timeout.
    assert fault_run.result.duration < 120


def test_no_kernel_is_left_after_the_session(fault_run):
    assert fault_run.kernels_left == []


def test_source_notebooks_are_unchanged(fault_run):
    assert fault_run.after == fault_run.before


def test_a_flood_of_output_does_not_flood_the_terminal(fault_run):
    # prints_20mb and floods print 20 MB each; the failure view cuts lines and long lines.
    assert len(fault_run.text) < 100_000
    # Lines as the report writes them, less pytest's padding to the terminal's width.
    lines = [re.sub(r"[-=_ ]{3,}", " ", line) for line in fault_run.text.splitlines()]
    assert max(map(len, lines)) < 1_200


def test_every_notebook_that_ran_is_kept_and_no_temporary_file_is_left(fault_run):
    kept = sorted(path.name for path in (fault_run.root / "out").iterdir())
    ran = [*GOOD, "hangs", "exits", "segfault", "floods"]
    assert kept == sorted([".nbscrap-output", *(f"nbs__{name}.ipynb" for name in ran)])


def test_what_ran_before_a_kernel_died_is_readable_in_the_kept_notebook(fault_run):
    notebook = read_notebook(fault_run.root / "out" / "nbs__segfault.ipynb")
    assert notebook.scraps.data_dict == {"alive": True}
    assert "KernelDiedError" in render_notebook(notebook)


# -- Ctrl-C and killed workers ----------------------------------------------------------------


@pytest.fixture
def three(tmp_path) -> Path:
    """A good notebook, one that hangs, and another good one, run in that order."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    shutil.copy(FAULTS / "good.ipynb", folder / "a_good.ipynb")
    shutil.copy(FAULTS / "hangs.ipynb", folder / "b_hangs.ipynb")
    shutil.copy(FAULTS / "good_too.ipynb", folder / "c_good.ipynb")
    return tmp_path


def kept_hang(out: Path) -> Path | None:
    """The hanging notebook as kept so far (written within seconds of its start)."""
    found = sorted(out.rglob("nbs__b_hangs.ipynb"))
    return found[0] if found else None


def hang_started(out: Path) -> bool:
    """Whether the kept notebook shows the endless cell running (the first cell done)."""
    kept = kept_hang(out)
    return kept is not None and read_notebook(kept).cells[1].metadata.papermill.status == "running"


def interrupted_run(
    three: Path, *args: str, group: bool, signum: int = signal.SIGINT
) -> tuple[pytest.RunResult, str, float]:
    started = time.monotonic()
    arguments = ("--nbscrap", "nbs", "--nbscrap-timeout=0", "--nbscrap-output-dir=out", *args)
    with pytest_running(three, *arguments) as (process, tag):
        wait_for(lambda: hang_started(three / "out"), 90, "the hanging cell to start")
        signalled = time.monotonic()
        if group:  # what a terminal does on Ctrl-C: the whole foreground process group
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        result = finish(process, started, timeout=60)
    return result, tag, time.monotonic() - signalled


def assert_hang_kept_as_interrupted(out: Path) -> None:
    kept = kept_hang(out)
    assert kept is not None
    notebook = read_notebook(kept)
    hang = notebook.cells[1]
    assert hang.metadata.papermill["status"] == "failed"
    assert [(o.output_type, o.ename) for o in hang.outputs] == [("error", "KeyboardInterrupt")]
    assert notebook.cells[2].metadata.papermill["status"] == "pending"
    assert "pid" in notebook.scraps


@pytest.mark.slow
def test_ctrl_c_stops_the_session_promptly_and_says_what_was_kept(three):
    result, tag, seconds = interrupted_run(three, "--color=no", group=False)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*KeyboardInterrupt: */nbs/b_hangs.ipynb: interrupted; "
            "what ran is kept in */out/nbs__b_hangs.ipynb*"
        ]
    )
    assert "Task was destroyed" not in result.stdout.str()  # nothing left pending at exit
    assert seconds < 30
    assert kernels_of(tag) == []
    assert_hang_kept_as_interrupted(three / "out")
    assert not (three / "out" / "nbs__c_good.ipynb").exists()  # the session stopped there


@pytest.mark.slow
def test_ctrl_c_under_xdist_stops_every_worker_and_keeps_what_ran(three):
    result, tag, seconds = interrupted_run(three, "-n", "2", "--color=no", group=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "INTERNALERROR" not in result.stdout.str()
    assert seconds < 30
    assert kernels_of(tag) == []
    assert_hang_kept_as_interrupted(three / "out")


# The hanging notebook, but its first cell also starts a process of its own.
CHILD = "import subprocess\nchild = subprocess.Popen(['sleep', '1000'])\n"


@pytest.fixture
def three_with_a_child(three) -> Path:
    path = three / "nbs" / "b_hangs.ipynb"
    node = json.loads(path.read_text(encoding="utf-8"))
    node["cells"][0]["source"] = [CHILD, *node["cells"][0]["source"]]
    path.write_text(json.dumps(node), encoding="utf-8")
    return three


def sleeping(tag: str) -> list[psutil.Process]:
    return [process for process in kernels_of(tag) if process.name() == "sleep"]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_sigterm_stops_the_session_like_ctrl_c(three_with_a_child, workers, monkeypatch):
    tmp = three_with_a_child / "tmp"  # where the kernels' work folders go
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    result, tag, seconds = interrupted_run(
        three_with_a_child, *workers, "--color=no", group=bool(workers), signum=signal.SIGTERM
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    assert "INTERNALERROR" not in result.stdout.str()
    assert seconds < 30
    assert kernels_of(tag) == []  # the kernels, and the process the notebook started
    assert_hang_kept_as_interrupted(three_with_a_child / "out")
    assert list(tmp.glob("nbscrap-*")) == []


@pytest.mark.slow
def test_pytest_killed_with_sigkill_leaves_no_kernel_and_no_process_it_started(
    three_with_a_child,
):
    out = three_with_a_child / "out"
    arguments = ("--nbscrap", "nbs", "--nbscrap-timeout=0", "--nbscrap-output-dir=out")
    with pytest_running(three_with_a_child, *arguments) as (process, tag):
        wait_for(lambda: hang_started(out), 90, "the hanging cell to start")
        assert len(sleeping(tag)) == 1
        process.kill()  # pytest only: its kernel and the kernel's child are left to themselves
        process.communicate()
    # ipykernel polls for its parent each second; the watcher acts at once.
    wait_for(lambda: kernels_of(tag) == [], 15, "the kernel and its child to exit")


@pytest.mark.slow
def test_a_killed_xdist_worker_leaves_no_kernel_and_keeps_what_ran(three):
    started = time.monotonic()
    out = three / "out"
    arguments = ("--nbscrap", "nbs", "--nbscrap-timeout=0", "--nbscrap-output-dir=out")
    with pytest_running(three, *arguments, "-n", "2", "--color=no") as (process, tag):
        wait_for(lambda: hang_started(out), 90, "the hanging cell to start")
        kept = kept_hang(out)
        assert kept is not None
        kernel = psutil.Process(read_notebook(kept).scraps["pid"].data)
        worker = kernel.parent()
        assert worker is not None
        worker.kill()
        result = finish(process, started, timeout=120)
    result.stdout.fnmatch_lines(
        ["FAILED nbs/b_hangs.ipynb::b_hangs - worker 'gw*' crashed while running*"]
    )
    result.assert_outcomes(passed=2, failed=1)
    # The orphaned kernel notices its parent is gone (ipykernel polls each second).
    wait_for(lambda: kernels_of(tag) == [], 15, "the orphaned kernel to exit")
    notebook = read_notebook(kept)
    assert "pid" in notebook.scraps
    assert notebook.cells[1].metadata.papermill["status"] == "running"


# -- an output folder that cannot be used ------------------------------------------------------


def unusable_folders(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Folders that refuse writes even to root (tests may run as root, where permission bits
    do not stop a write): a file, a path through a file, and places in /proc and /sys."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    return {
        "a file": (blocker, "is a file, not a folder"),
        "under a file": (blocker / "out", "cannot be created: Not a directory"),
        "new under /proc": (Path("/proc/nbscrap-out"), "cannot be created"),
        "new under /sys": (Path("/sys/nbscrap-out"), "cannot be created"),
        "a /proc folder": (Path("/proc/self/fdinfo"), "is not writable"),
    }


@pytest.mark.parametrize(
    "case", ["a file", "under a file", "new under /proc", "new under /sys", "a /proc folder"]
)
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_unusable_output_folder_is_a_usage_error_before_anything_runs(pytester, case, workers):
    folder, message = unusable_folders(pytester.path)[case]
    if not folder.parent.exists():
        pytest.skip(f"{folder.parent} does not exist here")
    shutil.copy(FAULTS / "good.ipynb", pytester.path / "good.ipynb")
    result = pytester.runpytest_subprocess("--nbscrap", f"--nbscrap-output-dir={folder}", *workers)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--nbscrap-output-dir */* {message}*"])
    assert "passed" not in result.stdout.str()


# -- parallel runs -------------------------------------------------------------------------------

NOTEBOOKS = 20


def write_numbered_notebook(path: Path, index: int) -> None:
    """Writes notebook ``index``: even ones run with two parameter sets, and set 'B' of every fourth
    one fails. Each execution appends one line to runs.log beside it."""
    params: dict[str, object] = {"symbol": "A"}
    metadata: dict[str, object] = {"kernelspec": KERNELSPEC}
    if index % 2 == 0:
        metadata["nbscrap"] = {"params": [{"symbol": "A"}, {"symbol": "B"}]}
    source = (
        "import os\n"
        "import pytest_nbscrap as sb\n"
        f"with open('runs.log', 'a') as log:\n"
        f"    log.write(f'nb{index:02d} {{symbol}} {{os.getpid()}}\\n')\n"
        "sb.glue('symbol', symbol)\n"
        f"assert not ({index % 4 == 0} and symbol == 'B'), 'set B fails here'"
    )
    parameters = code_cell(
        "\n".join(f"{k} = {v!r}" for k, v in params.items()),
        id="params",
        metadata={"tags": ["parameters"]},
        execution_count=None,
    )
    body = code_cell(source, id="body", execution_count=None)
    write_notebook(path, parameters, body, **metadata)


def outcomes_by_item(result: pytest.RunResult) -> dict[str, str]:
    outcomes = {}
    for line in result.outlines:
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR"):
            outcomes[rest.split(" - ")[0]] = word
    return outcomes


@dataclass(frozen=True)
class Runs:
    result: pytest.RunResult
    outputs: list[Path]
    log: list[str]
    tag: str


@pytest.fixture(scope="module")
def twenty(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("twenty")
    (root / "nbs").mkdir()
    for index in range(NOTEBOOKS):
        write_numbered_notebook(root / "nbs" / f"nb{index:02d}.ipynb", index)
    return root


def run_twenty(root: Path, name: str, *args: str) -> Runs:
    log = root / "nbs" / "runs.log"
    log.unlink(missing_ok=True)
    out = root / name
    result, tag = run_pytest(
        root, "--nbscrap", "nbs", f"--nbscrap-output-dir={out}", "-rA", "--color=no", *args
    )
    outputs = sorted(out.rglob("*.ipynb"))
    return Runs(result, outputs, sorted(log.read_text().splitlines()), tag)


@pytest.fixture(scope="module")
def serial(twenty) -> Runs:
    return run_twenty(twenty, "serial")


@pytest.fixture(scope="module")
def parallel(twenty, serial) -> Runs:  # after the serial run: they share runs.log
    return run_twenty(twenty, "parallel", "-n", "2")


ITEMS = NOTEBOOKS + NOTEBOOKS // 2  # the even notebooks run twice
FAILURES = NOTEBOOKS // 4


@pytest.mark.slow
def test_serial_run_of_twenty_notebooks_with_parameter_sets(serial):
    serial.result.assert_outcomes(passed=ITEMS - FAILURES, failed=FAILURES)
    serial.result.stdout.fnmatch_lines(
        ["FAILED nbs/nb00.ipynb::nb00[[]symbol=B[]] - AssertionError: set B fails here (cell 2)"]
    )


@pytest.mark.slow
def test_xdist_gives_the_same_outcome_for_every_item(serial, parallel):
    assert "INTERNALERROR" not in parallel.result.stdout.str()
    assert len(outcomes_by_item(serial.result)) == ITEMS
    assert outcomes_by_item(parallel.result) == outcomes_by_item(serial.result)


@pytest.mark.slow
def test_xdist_executes_each_run_exactly_once(serial, parallel):
    def runs(log: list[str]) -> list[str]:
        return sorted(line.rsplit(" ", 1)[0] for line in log)

    assert len(parallel.log) == ITEMS
    assert runs(parallel.log) == runs(serial.log)
    assert len(set(runs(parallel.log))) == ITEMS
    workers = {line.rsplit(" ", 1)[1] for line in parallel.log}
    assert len(workers) > 1  # both workers ran notebooks


@pytest.mark.slow
def test_xdist_keeps_every_executed_notebook_once_each_in_its_workers_folder(serial, parallel):
    def names(paths: list[Path]) -> list[str]:
        return sorted(path.name for path in paths)

    assert len(serial.outputs) == ITEMS
    assert names(parallel.outputs) == names(serial.outputs)  # nothing missing, none twice
    assert {path.parent.name for path in parallel.outputs} == {"gw0", "gw1"}
    for path in parallel.outputs:
        notebook = read_notebook(path)
        assert notebook.metadata.papermill["output_path"] == str(path)
        symbol = notebook.scraps["symbol"].data
        assert path.name.endswith(f"[symbol={symbol}].ipynb") or symbol == "A"


@pytest.mark.slow
def test_no_kernel_is_left_after_serial_or_parallel_runs(serial, parallel):
    assert kernels_of(serial.tag) == []
    assert kernels_of(parallel.tag) == []


# -- kernels that lose their TCP ports to another process -------------------------------------

PORT_TAKEN = "zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:36019')"


def flaky_starts(monkeypatch, outputs: list[str]) -> list[str]:
    """Kernel starts that fail with each of ``outputs`` in turn, then succeed."""
    from pytest_nbscrap import _kernels

    attempts: list[str] = []

    async def start_once(cls, kernel_name, cwd, startup_timeout):
        attempts.append(kernel_name)
        if len(attempts) <= len(outputs):
            said = outputs[len(attempts) - 1]
            raise _kernels.KernelStartError("RuntimeError: the kernel died", said)
        return "a kernel"

    monkeypatch.setattr(_kernels.KernelHandle, "_start_once", classmethod(start_once))
    return attempts


def start_kernel() -> object:
    import asyncio

    from pytest_nbscrap._kernels import KernelHandle

    return asyncio.run(KernelHandle.start("python3", ".", startup_timeout=1))


def test_a_kernel_that_lost_a_port_to_another_process_is_started_again(monkeypatch):
    attempts = flaky_starts(monkeypatch, [PORT_TAKEN, PORT_TAKEN])
    assert start_kernel() == "a kernel"
    assert len(attempts) == 3


def test_a_kernel_start_that_keeps_losing_ports_gives_up_with_the_kernels_words(monkeypatch):
    from pytest_nbscrap._kernels import KernelStartError

    attempts = flaky_starts(monkeypatch, [PORT_TAKEN] * 5)
    with pytest.raises(KernelStartError) as caught:
        start_kernel()
    assert len(attempts) == 3
    assert "Address already in use" in caught.value.output


def test_other_kernel_start_failures_are_not_retried(monkeypatch):
    from pytest_nbscrap._kernels import KernelStartError

    attempts = flaky_starts(monkeypatch, ["ModuleNotFoundError: No module named 'ipykernel'"])
    with pytest.raises(KernelStartError):
        start_kernel()
    assert len(attempts) == 1


@pytest.mark.kernel
def test_a_normal_exit_after_a_run_leaves_no_watcher_and_no_resource_warning(tmp_path):
    notebook_path = write_code_notebook(tmp_path / "nb.ipynb", "1 + 1")
    script = (
        "import os, sys\n"
        "from pytest_nbscrap import execute_notebook\n"
        f"execute_notebook({str(notebook_path)!r})\n"
        "from pytest_nbscrap._kernels import _ORPHANS\n"
        "print(_ORPHANS._watcher.pid)\n"
    )
    # -X dev shows every ResourceWarning, also those at interpreter exit.
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "ResourceWarning" not in result.stderr
    watcher = int(result.stdout.split()[-1])
    assert not psutil.pid_exists(watcher) or psutil.Process(watcher).status() == "zombie"
