"""The pytest plugin (entry point ``pytest11: nbscrap``): options, markers and hooks, kept thin.

The logic lives in plain modules (``runs``, ``params``, ``settings``); nothing heavy is imported
until a notebook actually runs, so a session that uses none pays nothing for the plugin.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import os
import signal
import tempfile
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ._errors import UsageError
from ._fixtures import nb, nb_param_sets, nbscrap_params, run_notebook, scraps
from ._items import (
    REPORTED,
    NotebookFile,
    NotebookItem,
    failure_repr,
    runner_key,
    settings_key,
)
from ._params import param_ids, safe_name
from ._runs import Runner
from ._settings import DEFAULT_GLOB, DEFAULT_TIMEOUT, OUTPUT_MARKER, Settings
from ._sharing import SharedOutcomes

# What a test or conftest may use: the fixtures pytest registers from this module, and the
# file that marks an output folder. pytest finds the hooks by their names, not through here.
__all__ = ["OUTPUT_MARKER", "nb", "nbscrap_params", "run_notebook", "scraps"]

MARKERS = (
    "notebook(path, *, kernel=None, timeout=None, cwd=None): the notebook whose execution the "
    "`nb` and `scraps` fixtures give this test; a relative path is taken from the test file's "
    "folder. Applies to a function, a class, or a module (pytestmark).",
    "nb_params(*param_sets, **params): parameters for the notebook; several dicts parametrize "
    "the test, one run each; keyword params are merged into every set. The closest marker wins.",
)


# Typed ini values (pytest 8.4+): a TOML number or bool is taken as one, as pytest 9's native
# [tool.pytest] table requires; older pytest gets strings, converted in _read_settings.
_INT, _FLOAT = ("int", "float") if pytest.version_tuple >= (8, 4) else ("string", "string")

#: What pytest's own ``filterwarnings`` gets from ``nbscrap_strict_params``.
STRICT_PARAMS_FILTER = "error::pytest_nbscrap.UnknownParameterWarning"

NO_TMPDIR = (
    "pytest's tmpdir plugin is off (-p no:tmpdir), so executed notebooks have no default "
    "folder: give --nbscrap-output-dir DIR (or the nbscrap_output_dir ini key)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nbscrap", "notebooks as tests (pytest-nbscrap)")

    def option(flag: str, ini: str, help: str, ini_type: str = "string", **kwargs: Any) -> None:
        group.addoption(flag, dest=ini, help=f"{help} [ini: {ini}]", **kwargs)
        parser.addini(ini, help=help, type=ini_type, default=None)  # type: ignore[arg-type]

    option(
        "--nbscrap",
        "nbscrap",
        "collect *.ipynb files as tests",
        "bool",
        action="store_true",
        default=None,
    )
    option(
        "--nbscrap-kernel",
        "nbscrap_kernel",
        "kernel for every notebook (default: each notebook's own)",
    )
    option(
        "--nbscrap-timeout",
        "nbscrap_timeout",
        f"seconds a cell may run; 0 for none (default {DEFAULT_TIMEOUT:g})",
        _FLOAT,
        type=float,
    )
    option(
        "--nbscrap-output-dir",
        "nbscrap_output_dir",
        "folder for executed notebooks (default: under pytest's basetemp); in the ini file, "
        "relative to the ini file's folder",
    )
    option(
        "--nbscrap-workers",
        "nbscrap_workers",
        "notebooks run at once in this pytest process (default 1); combines with xdist's -n",
        _INT,
        type=int,
    )
    option(
        "--nbscrap-strict-params",
        "nbscrap_strict_params",
        "a parameter the notebook's parameters cell does not define fails the test, instead "
        f"of an UnknownParameterWarning (the same as filterwarnings = {STRICT_PARAMS_FILTER})",
        "bool",
        action="store_true",
        default=None,
    )
    parser.addini(
        "nbscrap_glob",
        help=f"file patterns collected with --nbscrap (default {DEFAULT_GLOB})",
        type="args",
    )


def _read_settings(config: pytest.Config) -> Settings:
    def value(name: str) -> Any:
        given = config.getoption(name)
        return given if given is not None else config.getini(name)

    timeout = value("nbscrap_timeout")
    timeout = DEFAULT_TIMEOUT if timeout in (None, "") else float(timeout)
    workers = value("nbscrap_workers")
    try:
        workers = int(workers) if workers not in (None, "") else 1
    except ValueError:
        raise pytest.UsageError(
            f"nbscrap_workers must be a whole number, not {workers!r}"
        ) from None
    if workers < 1:
        raise pytest.UsageError(f"--nbscrap-workers must be 1 or more, not {workers}")
    kernel = value("nbscrap_kernel") or None
    kernel_by = "--nbscrap-kernel"
    if kernel and config.getoption("nbscrap_kernel") is None:
        kernel_by = "the nbscrap_kernel ini key"
    return Settings(
        collect=bool(value("nbscrap")),
        kernel=kernel,
        kernel_by=kernel_by,
        timeout=timeout or None,
        output_dir=_given_output_dir(config),
        globs=tuple(config.getini("nbscrap_glob") or (DEFAULT_GLOB,)),
        color=_use_color(config),
        workers=workers,
        strict_params=bool(value("nbscrap_strict_params")),
    )


def _given_output_dir(config: pytest.Config) -> Path | None:
    """The option is relative to where pytest started; the ini key, like pytest's own path
    options, to the ini file's folder."""
    given = config.getoption("nbscrap_output_dir")
    base = config.invocation_params.dir
    if not given:
        given = config.getini("nbscrap_output_dir")
        if config.inipath is not None:
            base = config.inipath.parent
    return (base / given).resolve() if given else None


def _use_color(config: pytest.Config) -> bool:
    """pytest's own decision (``--color``, NO_COLOR, FORCE_COLOR, TERM=dumb, a terminal or not).

    xdist workers write to no terminal, so they take the controller's decision.
    """
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        return bool(worker_input.get("nbscrap_color", False))
    return config.get_terminal_writer().hasmarkup


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: hands each worker the controller's colour decision, its output folder
    (each worker writes into a subfolder of it), and a folder where workers share the runs
    they both need (so a run is executed once per session)."""
    config = node.config
    node.workerinput["nbscrap_color"] = config.stash[settings_key].color
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None or config.stash[settings_key].output_dir is not None:
        node.workerinput["nbscrap_output"] = str(_output_folder(config))
    if SharedOutcomes.available() and factory is not None:
        node.workerinput["nbscrap_shared"] = str(factory.getbasetemp() / "nbscrap-shared")


def _output_folder(config: pytest.Config) -> Path:
    """Where executed notebooks go: the given folder, else ``<basetemp>/nbscrap`` (under
    pytest-xdist, the controller's). Found on first need: the default makes pytest's basetemp."""
    folder = config.stash.get(_folder_key, None)
    if folder is None:
        settings = config.stash[settings_key]
        worker_input = getattr(config, "workerinput", None) or {}
        factory = getattr(config, "_tmp_path_factory", None)
        if settings.output_dir is not None:
            folder = settings.output_dir
        elif "nbscrap_output" in worker_input:
            folder = Path(worker_input["nbscrap_output"])
        elif factory is not None:
            folder = factory.getbasetemp() / "nbscrap"
        else:
            raise UsageError(NO_TMPDIR)
        config.stash[_folder_key] = folder
    return folder


_folder_key = pytest.StashKey[Path]()


def _check_output_dir(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise pytest.UsageError(f"--nbscrap-output-dir {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(
            f"--nbscrap-output-dir {folder} cannot be created: {exc.strerror}"
        ) from None
    # os.access says yes to root, and procfs may say yes and then refuse: only a write tells.
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise pytest.UsageError(
            f"--nbscrap-output-dir {folder} is not writable: {exc.strerror}"
        ) from None


def _own_file(path: Path) -> int:
    """Opens (or creates) ``path`` for reading and writing without following a symbolic link
    planted there: the link is removed and a real file made in its place (the output folder's
    contents are ours; what the link pointed to is left alone)."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP or not path.is_symlink():
            raise
    path.unlink()
    return os.open(path, flags | os.O_EXCL, 0o644)


def _own_folder(path: Path) -> None:
    """Makes ``path`` a real folder inside the output folder: a symbolic link planted there
    (which would send executed notebooks elsewhere) is removed, never followed."""
    if path.is_symlink():
        path.unlink()
    try:
        path.mkdir()
    except FileExistsError:
        if not path.is_dir():
            raise


def _lock_output_dir(folder: Path) -> int:
    """Takes the output folder for this session: a second session writing into the same folder
    would mix (and overwrite) the first one's notebooks. The lock is on the folder's marker
    file, which holds the holder's pid; pytest-xdist workers write under their controller's
    lock and take none. Released when the file closes, so also when pytest is killed."""
    import fcntl

    marker = _own_file(folder / OUTPUT_MARKER)
    try:
        fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(marker, 32, 0).decode("ascii", "replace").strip()
        os.close(marker)
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise pytest.UsageError(
                f"--nbscrap-output-dir {folder} cannot be locked: {exc.strerror}"
            ) from None
        who = f"pid {holder}" if holder.isdigit() else "another process"
        raise pytest.UsageError(
            f"--nbscrap-output-dir {folder} is in use by another pytest session ({who}); "
            "give each session its own folder"
        ) from None
    os.ftruncate(marker, 0)
    os.pwrite(marker, f"{os.getpid()}\n".encode(), 0)
    return marker


_lock_key = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)  # after the terminal reporter exists: colour is its decision
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    settings = _read_settings(config)
    if settings.output_dir is not None:
        _check_output_dir(settings.output_dir)
        if not hasattr(config, "workerinput") and SharedOutcomes.available():
            config.stash[_lock_key] = _lock_output_dir(settings.output_dir)
    elif settings.collect and not hasattr(config, "_tmp_path_factory"):
        raise pytest.UsageError(NO_TMPDIR)
    if settings.strict_params:
        # pytest's own warning filters do it: -W and filterwarnings markers still override.
        config.addinivalue_line("filterwarnings", STRICT_PARAMS_FILTER)
    config.stash[settings_key] = settings

    # pytest-xdist workers share one output folder: each writes into its own subfolder.
    worker_input = getattr(config, "workerinput", None) or {}

    def output_dir() -> Path:
        # Made on first use, so sessions that run no notebook create no folder. The folder
        # itself may be a link (the user's choice); links planted inside it are not followed.
        folder = _output_folder(config)
        folder.mkdir(parents=True, exist_ok=True)
        if _lock_key not in config.stash:
            os.close(_own_file(folder / OUTPUT_MARKER))
        if "workerid" in worker_input:  # the Runner's subfolder for this worker
            _own_folder(folder / safe_name(worker_input["workerid"]))
        return folder

    shared = worker_input.get("nbscrap_shared")
    config.stash[runner_key] = Runner(
        output_dir,
        root=config.rootpath,
        worker=worker_input.get("workerid"),
        workers=settings.workers,
        shared=SharedOutcomes(Path(shared)) if shared else None,
        kernel=settings.kernel,
        timeout=settings.timeout,
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    _TerminateAsInterrupt.install(session.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stops every kernel and keeps what still ran, while the session still may: an xdist
    worker is torn down right after its session ends, racing ``pytest_unconfigure``."""
    _close_runner(session.config)
    _TerminateAsInterrupt.uninstall(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """No kernel outlives the session, whatever ended it (also when no session ran)."""
    _close_runner(config)
    _TerminateAsInterrupt.uninstall(config)
    lock = config.stash.get(_lock_key, None)
    if lock is not None:
        del config.stash[_lock_key]
        os.close(lock)


@dataclasses.dataclass(frozen=True)
class _TerminateAsInterrupt:
    """SIGTERM (a CI timeout, ``kill``, a container stopping) does what Ctrl-C does once this
    session has started a kernel (or is the pytest-xdist controller): the running notebook is
    stopped and kept, every kernel and what it started is stopped, their work folders removed.
    Without it, pytest dies at once and leaves the kernels' children running. Before any
    kernel (and in a process forked from this one, such as a multiprocessing child) SIGTERM
    does what it did before."""

    config: pytest.Config
    pid: int
    previous: Any

    def __call__(self, signum: int, frame: Any) -> None:
        runner = self.config.stash.get(runner_key, None)
        kernels = runner is not None and runner.kernels_started > 0
        # The pytest-xdist controller starts no kernel, but its workers do: it must stop them
        # as on Ctrl-C, not die and leave them talking to nobody.
        controller = self.config.pluginmanager.has_plugin("dsession")
        if os.getpid() == self.pid and (kernels or controller):
            raise KeyboardInterrupt(f"terminated (signal {signum})")
        if callable(self.previous):
            self.previous(signum, frame)
            return
        signal.signal(signum, self.previous if self.previous is not None else signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # what the signal would have done, now done

    @staticmethod
    def install(config: pytest.Config) -> None:
        if threading.current_thread() is not threading.main_thread() or _term_key in config.stash:
            return  # only the main thread may set a handler
        previous = signal.getsignal(signal.SIGTERM)
        if previous == signal.SIG_IGN:
            return  # whoever started pytest asked for SIGTERM to be ignored
        handler = _TerminateAsInterrupt(config, os.getpid(), previous)
        signal.signal(signal.SIGTERM, handler)
        config.stash[_term_key] = handler

    @staticmethod
    def uninstall(config: pytest.Config) -> None:
        handler = config.stash.get(_term_key, None)
        if handler is None or threading.current_thread() is not threading.main_thread():
            return
        del config.stash[_term_key]
        previous = handler.previous
        if signal.getsignal(signal.SIGTERM) is handler:  # nobody replaced it since
            signal.signal(signal.SIGTERM, previous)


_term_key = pytest.StashKey["_TerminateAsInterrupt"]()


def _close_runner(config: pytest.Config) -> None:
    runner = config.stash.get(runner_key, None)
    if runner is not None:
        runner.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Tells the runner which notebook runs come next, so their kernels (or, with
    ``--nbscrap-workers``, the runs themselves) can start while this item runs."""
    runner = item.config.stash[runner_key]
    if not isinstance(item, NotebookItem):
        return
    if hasattr(item.config, "workerinput"):
        # An xdist worker knows only the next item it was sent.
        following = [nextitem] if nextitem is not None else []
    else:
        items = item.session.items
        position = _positions(item.session).get(item.nodeid, len(items))
        following = items[position + 1 : position + 1 + runner.workers]
    upcoming = [
        other for other in following if isinstance(other, NotebookItem) and other.error is None
    ]
    runner.look_ahead([other.effective_spec() for other in upcoming])


def _positions(session: pytest.Session) -> dict[str, int]:
    positions: dict[str, int] | None = session.stash.get(_positions_key, None)
    if positions is None or len(positions) != len(session.items):
        positions = {item.nodeid: index for index, item in enumerate(session.items)}
        session.stash[_positions_key] = positions
    return positions


_positions_key = pytest.StashKey[dict[str, int]]()


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Executed notebooks are outputs, never tests, wherever the output folder is."""
    if collection_path.is_dir() and (collection_path / OUTPUT_MARKER).exists():
        return True
    return None


def pytest_report_header(config: pytest.Config) -> str | None:
    """Every option in force, and the real output folder, when the session uses the plugin's
    options (a session that only uses the fixtures with no option gives no header line)."""
    settings = config.stash[settings_key]
    if not settings.given:
        return None
    return settings.describe(_folder_text(config))


def _folder_text(config: pytest.Config) -> str:
    try:
        folder = str(_output_folder(config))
    except UsageError:
        return "no folder for executed notebooks (give --nbscrap-output-dir)"
    if config.pluginmanager.has_plugin("dsession"):  # the pytest-xdist controller
        return f"executed notebooks in {folder} (a subfolder per xdist worker)"
    return f"executed notebooks in {folder}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """A session with failures says, last, where the executed notebooks are to look at."""
    if not (terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")):
        return
    folder = config.stash.get(_folder_key, None)
    if folder is None and config.stash[settings_key].output_dir is None:
        return  # no notebook ran here: the default folder was never asked for
    try:
        folder = _output_folder(config)
    except UsageError:
        return
    if folder.is_dir() and next(folder.rglob("*.ipynb"), None) is not None:
        terminalreporter.write_line(f"nbscrap: executed notebooks are in {folder}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> NotebookFile | None:
    settings = parent.config.stash[settings_key]
    if not settings.collect or not any(
        fnmatch.fnmatch(file_path.name, glob) for glob in settings.globs
    ):
        return None
    if _excluded(file_path, parent.config, settings):
        return None
    file: NotebookFile = NotebookFile.from_parent(parent, path=file_path)
    return file


def _excluded(path: Path, config: pytest.Config, settings: Settings) -> bool:
    """Checkpoints, hidden folders and our own output are never collected."""
    relative = path.relative_to(config.rootpath) if path.is_relative_to(config.rootpath) else path
    if any(part == ".ipynb_checkpoints" or part.startswith(".") for part in relative.parts[:-1]):
        return True
    output = settings.output_dir
    return output is not None and path.is_relative_to(output)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Several ``nb_params`` sets parametrize the test, with readable ids."""
    if "nbscrap_params" not in metafunc.fixturenames:
        return
    sets = nb_param_sets(metafunc.definition)
    if len(sets) > 1:
        metafunc.parametrize("nbscrap_params", sets, ids=param_ids(sets), indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A collected notebook given several ``nb_params`` sets after collection runs once per set."""
    expanded: list[pytest.Item] = []
    for item in items:
        if isinstance(item, NotebookItem) and item.error is None:
            sets = nb_param_sets(item)
            if len(sets) > 1:
                expanded.extend(_item_per_set(item, sets))
                continue
        expanded.append(item)
    items[:] = expanded


def _item_per_set(item: NotebookItem, sets: list[dict[str, Any]]) -> list[NotebookItem]:
    copies = []
    merged_sets = [{**item.spec.params, **params} for params in sets]
    for merged, id_ in zip(merged_sets, param_ids(merged_sets), strict=True):
        spec = dataclasses.replace(item.spec, params=merged)
        parent = item.parent
        assert parent is not None  # a collected item always has its file as parent
        copy = NotebookItem.from_parent(parent, name=f"{item.path.stem}[{id_}]", spec=spec)
        for marker in item.own_markers:
            if marker.name != "nb_params":
                copy.own_markers.append(marker)
                copy.keywords[marker.name] = marker
        copies.append(copy)
    return copies


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    """A test whose notebook failed to run shows the notebook failure, not fixture internals."""
    report = yield
    error = call.excinfo.value if call.excinfo is not None else None
    if report.failed and isinstance(error, REPORTED) and not isinstance(item, NotebookItem):
        report.longrepr = failure_repr(error, item.config.stash[settings_key].color)
    return report
