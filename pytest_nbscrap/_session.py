"""One test session's notebook state, as one object registered with pytest (like pytest-xdist's
``DSession``): the settings, the runner and its look-ahead, the output folder and its lock, the
report override, the SIGTERM handler, and closing it all when the session ends.

``plugin.pytest_configure`` registers it under :data:`NAME` once the options are accepted; the
fixtures and items find it with :func:`session_of`, so no hook keeps state of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
from collections.abc import Generator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from . import _coverage
from ._errors import UsageError
from ._items import REPORTED, NotebookItem, failure_repr
from ._output import lock_output_dir, own_file, own_folder
from ._param_sets import safe_name
from ._runs import Runner
from ._settings import OUTPUT_MARKER, Settings
from ._sharing import SharedOutcomes

__all__ = ["NAME", "NO_TMPDIR", "NbScrapSession", "session_of"]

#: The name the session object is registered under (xdist's is ``dsession``).
NAME = "nbscrap-session"

NO_TMPDIR = (
    "pytest's tmpdir plugin is off (-p no:tmpdir), so executed notebooks have no default "
    "folder: give --nbscrap-output-dir DIR (or the nbscrap_output_dir ini key)"
)


def session_of(config: pytest.Config) -> NbScrapSession:
    """The session object of ``config``'s pytest session."""
    session = config.pluginmanager.get_plugin(NAME)
    assert isinstance(session, NbScrapSession), "the nbscrap plugin is not configured"
    return session


class NbScrapSession:
    """What one pytest process needs to run notebooks; its hooks are this object's methods."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._folder: Path | None = None  # found on first need: the default makes basetemp
        self._lock: int | None = None
        self._terminate: _TerminateAsInterrupt | None = None
        self._positions: dict[str, int] = {}
        self._uploaded = 0  # executed notebooks uploaded to the output URL
        self._coverage_lost: list[_coverage.Finished] = []  # this process's and its workers'
        # pytest-xdist workers share one output folder: each writes into its own subfolder,
        # under their controller's lock.
        self._is_worker = hasattr(config, "workerinput")
        self._worker_input: dict[str, Any] = getattr(config, "workerinput", None) or {}
        if settings.output_dir is not None and not self._is_worker and SharedOutcomes.available():
            self._lock = lock_output_dir(settings.output_dir)
        shared = self._worker_input.get("nbscrap_shared")
        self.runner = Runner(
            self._output_dir,
            root=config.rootpath,
            worker=self._worker_input.get("workerid"),
            workers=settings.workers,
            shared=SharedOutcomes(Path(shared)) if shared else None,
            kernel=settings.kernel,
            timeout=settings.timeout,
        )

    def output_folder(self) -> Path:
        """Where executed notebooks go: the given folder, else ``<basetemp>/nbscrap`` (under
        pytest-xdist, the controller's)."""
        if self._folder is None:
            factory = getattr(self.config, "_tmp_path_factory", None)
            if self.settings.output_dir is not None:
                self._folder = self.settings.output_dir
            elif "nbscrap_output" in self._worker_input:
                self._folder = Path(self._worker_input["nbscrap_output"])
            elif factory is not None:
                self._folder = factory.getbasetemp() / "nbscrap"
            else:
                raise UsageError(NO_TMPDIR)
        return self._folder

    def _output_dir(self) -> Path:
        # The runner's folder, made on first use, so sessions that run no notebook create no
        # folder. The folder itself may be a link (the user's choice); links planted inside it
        # are not followed.
        folder = self.output_folder()
        folder.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            os.close(own_file(folder / OUTPUT_MARKER))
        if "workerid" in self._worker_input:  # the Runner's subfolder for this worker
            own_folder(folder / safe_name(self._worker_input["workerid"]))
        return folder

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: hands each worker the controller's colour decision, its output folder
        (each worker writes into a subfolder of it), and a folder where workers share the runs
        they both need (so a run is executed once per session)."""
        node.workerinput["nbscrap_color"] = self.settings.color
        factory = getattr(self.config, "_tmp_path_factory", None)
        if factory is not None or self.settings.output_dir is not None:
            node.workerinput["nbscrap_output"] = str(self.output_folder())
        if SharedOutcomes.available() and factory is not None:
            node.workerinput["nbscrap_shared"] = str(factory.getbasetemp() / "nbscrap-shared")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._terminate = _TerminateAsInterrupt.install(self)
        self._show_cells()

    def _show_cells(self) -> None:
        """Under ``-v`` on a terminal, the running cell of the awaited notebook (an xdist
        worker's output is not the terminal; without markup, escapes would show)."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or self._is_worker or self.config.option.verbose <= 0:
            return
        if reporter.isatty and reporter.hasmarkup:
            from ._cell_line import CellLine

            self.runner.watcher = CellLine(partial(self._write_past_capture, reporter))

    def _write_past_capture(self, reporter: Any, text: str) -> None:
        # While a test runs, pytest captures the terminal's file descriptors; the test's thread
        # is waiting for its run meanwhile, so nothing else writes while capture is off.
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write(text, flush=True)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """Stops every kernel as the tests end, inside pytest-cov's wrapper of this hook (the
        innermost wrapper ends first): a measured kernel saves its data as it exits, and
        pytest-cov combines the data files right after the loop."""
        try:
            return (yield)
        finally:
            self._close()
            self._coverage_finished(_coverage.finish())

    def _coverage_finished(self, finished: _coverage.Finished) -> None:
        if self._is_worker:  # the controller says it, once for all workers
            output = self.config.workeroutput  # type: ignore[attr-defined]
            output["nbscrap_coverage"] = {"measured": finished.measured, "lost": finished.lost}
            return
        self._coverage_lost.append(finished)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        sent = getattr(node, "workeroutput", {}).get("nbscrap_coverage")
        if sent:
            self._coverage_lost.append(_coverage.counts(sent))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Stops every kernel and keeps what still ran, while the session still may: an xdist
        worker is torn down right after its session ends, racing ``pytest_unconfigure``.
        Then (the controller, its workers done) uploads the executed notebooks to the URL
        ``--nbscrap-output-dir`` gave."""
        self._close()
        if self.settings.output_url is not None and not self._is_worker:
            self._upload(session)

    def _upload(self, session: pytest.Session) -> None:
        """Each executed notebook is uploaded whole (one request each, concurrently): a
        notebook at the URL is never half-written. A failed upload fails the session."""
        from ._errors import StorageError
        from ._storage import upload_folder

        url = self.settings.output_url
        if url is None or self._folder is None or not self._folder.is_dir():
            return  # no notebook ran: the folder was never made
        try:
            self._uploaded = upload_folder(self._folder, url)
        except StorageError as exc:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"nbscrap: executed notebooks not uploaded: {exc}", red=True)
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """No kernel outlives the session, whatever ended it (also when no session ran)."""
        self._close()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _close(self) -> None:
        self.runner.close()
        if self._terminate is not None:
            self._terminate.uninstall()
            self._terminate = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """Tells the runner which notebook runs come next, so their kernels (or, with
        ``--nbscrap-workers``, the runs themselves) can start while this item runs."""
        if not isinstance(item, NotebookItem):
            return
        if self._is_worker:
            # An xdist worker knows only the next item it was sent.
            following = [nextitem] if nextitem is not None else []
        else:
            items = item.session.items
            position = self._position(item)
            following = items[position + 1 : position + 1 + self.runner.workers]
        upcoming = [
            other for other in following if isinstance(other, NotebookItem) and other.error is None
        ]
        self.runner.look_ahead([other.effective_spec() for other in upcoming])

    def _position(self, item: pytest.Item) -> int:
        items = item.session.items
        if len(self._positions) != len(items):
            self._positions = {other.nodeid: index for index, other in enumerate(items)}
        return self._positions.get(item.nodeid, len(items))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        """A test whose notebook failed to run shows the notebook failure, not fixture internals."""
        report = yield
        error = call.excinfo.value if call.excinfo is not None else None
        if report.failed and isinstance(error, REPORTED) and not isinstance(item, NotebookItem):
            report.longrepr = failure_repr(error, self.settings.color)
        return report

    def pytest_report_header(self, config: pytest.Config) -> str | None:
        """Every option in force, and the real output folder, when the session uses the
        plugin's options (a session that only uses the fixtures with no option gives none)."""
        if not self.settings.given:
            return None
        return self.settings.describe(self._folder_text())

    def _folder_text(self) -> str:
        try:
            folder = str(self.output_folder())
        except UsageError:
            return "no folder for executed notebooks (give --nbscrap-output-dir)"
        if self.settings.output_url is not None:
            folder += f", uploaded to {self.settings.output_url} when the session ends"
        if self.config.pluginmanager.has_plugin("dsession"):  # the pytest-xdist controller
            return f"executed notebooks in {folder} (a subfolder per xdist worker)"
        return f"executed notebooks in {folder}"

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        """A session with failures says, last, where the executed notebooks are to look at;
        one whose measured kernels died before saving says that once."""
        lost = sum(self._coverage_lost, _coverage.Finished()).message()
        if lost is not None:
            terminalreporter.write_line(lost)
        if not (terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")):
            return
        if self._folder is None and self.settings.output_dir is None:
            return  # no notebook ran here: the default folder was never asked for
        try:
            folder = self.output_folder()
        except UsageError:
            return
        if self._uploaded:
            terminalreporter.write_line(
                f"nbscrap: executed notebooks are in {self.settings.output_url}"
            )
        elif folder.is_dir() and next(folder.rglob("*.ipynb"), None) is not None:
            terminalreporter.write_line(f"nbscrap: executed notebooks are in {folder}")


@dataclasses.dataclass(frozen=True)
class _TerminateAsInterrupt:
    """SIGTERM (a CI timeout, ``kill``, a container stopping) does what Ctrl-C does once this
    session has started a kernel (or is the pytest-xdist controller): the running notebook is
    stopped and kept, every kernel and what it started is stopped, their work folders removed.
    Without it, pytest dies at once and leaves the kernels' children running. Before any
    kernel (and in a process forked from this one, such as a multiprocessing child) SIGTERM
    does what it did before."""

    session: NbScrapSession
    pid: int
    previous: Any

    def __call__(self, signum: int, frame: Any) -> None:
        # The pytest-xdist controller starts no kernel, but its workers do: it must stop them
        # as on Ctrl-C, not die and leave them talking to nobody.
        controller = self.session.config.pluginmanager.has_plugin("dsession")
        if os.getpid() == self.pid and (self.session.runner.has_engine or controller):
            raise KeyboardInterrupt(f"terminated (signal {signum})")
        if callable(self.previous):
            self.previous(signum, frame)
            return
        signal.signal(signum, self.previous if self.previous is not None else signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # what the signal would have done, now done

    @staticmethod
    def install(session: NbScrapSession) -> _TerminateAsInterrupt | None:
        """The handler now in place, or None where none may be set."""
        if threading.current_thread() is not threading.main_thread():
            return None  # only the main thread may set a handler
        previous = signal.getsignal(signal.SIGTERM)
        if previous == signal.SIG_IGN:
            return None  # whoever started pytest asked for SIGTERM to be ignored
        handler = _TerminateAsInterrupt(session, os.getpid(), previous)
        signal.signal(signal.SIGTERM, handler)
        return handler

    def uninstall(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = self.previous  # read first: the check below narrows ``self`` for mypy
        if signal.getsignal(signal.SIGTERM) is self:  # nobody replaced it since
            signal.signal(signal.SIGTERM, previous)
