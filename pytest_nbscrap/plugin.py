"""The pytest plugin (entry point ``pytest11: nbscrap``): options, markers, the session
object's registration, and collection.

What a session does with notebooks (the runner, its look-ahead, the output folder, reports,
SIGTERM) is its session object's, in ``_session``; the logic lives in plain modules (``_runs``,
``_param_sets``, ``_settings``). Nothing heavy is imported until a notebook actually runs, so a
session that uses none pays nothing for the plugin.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import pytest

from ._compare_options import add_compare_options, compare_settings
from ._fixtures import nb, nbscrap_params, run_notebook, run_notebooks, scraps
from ._items import NotebookFile, NotebookItem
from ._output import check_output_dir, check_output_url
from ._param_sets import nb_param_sets, param_ids
from ._session import NAME, NO_TMPDIR, NbScrapSession, session_of
from ._settings import DEFAULT_GLOB, DEFAULT_TIMEOUT, OUTPUT_MARKER, Settings
from ._storage import is_url

# What a test or conftest may use: the fixtures pytest registers from this module, and the
# file that marks an output folder. pytest finds the hooks by their names, not through here.
__all__ = ["OUTPUT_MARKER", "nb", "nbscrap_params", "run_notebook", "run_notebooks", "scraps"]

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
        "folder for executed notebooks (default: under pytest's basetemp), or a URL "
        "(s3://bucket/runs) they are uploaded to when the session ends; in the ini file, "
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
    add_compare_options(group, parser, option)
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
        output_url=_given_output_url(config),
        globs=tuple(config.getini("nbscrap_glob") or (DEFAULT_GLOB,)),
        color=_use_color(config),
        workers=workers,
        strict_params=bool(value("nbscrap_strict_params")),
        **compare_settings(config, value, given_path),
    )


def _given_output_dir(config: pytest.Config) -> Path | None:
    return given_path(config, "nbscrap_output_dir")


def _given_output_url(config: pytest.Config) -> str | None:
    given, _ = _given(config, "nbscrap_output_dir")
    return given if is_url(given) else None


def given_path(config: pytest.Config, name: str) -> Path | None:
    """A local path option, resolved; ``None`` when unset or a URL (see ``_given_output_url``)."""
    given, base = _given(config, name)
    return (base / given).resolve() if given and not is_url(given) else None


def _given(config: pytest.Config, name: str) -> tuple[str, Path]:
    """An option as given (the command line first, then the ini key) and what it is relative
    to: the option to where pytest started; the ini key, like pytest's own path options, to
    the ini file's folder."""
    given = config.getoption(name)
    base = config.invocation_params.dir
    if not given:
        given = config.getini(name)
        if config.inipath is not None:
            base = config.inipath.parent
    return str(given or ""), base


def _use_color(config: pytest.Config) -> bool:
    """pytest's own decision (``--color``, NO_COLOR, FORCE_COLOR, TERM=dumb, a terminal or not).

    xdist workers write to no terminal, so they take the controller's decision.
    """
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        return bool(worker_input.get("nbscrap_color", False))
    return config.get_terminal_writer().hasmarkup


@pytest.hookimpl(trylast=True)  # after the terminal reporter exists: colour is its decision
def pytest_configure(config: pytest.Config) -> None:
    """Reads and checks the options; a session that can run notebooks then gets its session
    object (which takes the output folder's lock)."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    settings = _read_settings(config)
    if settings.output_dir is not None:
        check_output_dir(settings.output_dir)
    elif settings.collect and not hasattr(config, "_tmp_path_factory"):
        raise pytest.UsageError(NO_TMPDIR)
    if settings.output_url is not None and not hasattr(config, "workerinput"):
        check_output_url(settings.output_url)
    if settings.strict_params:
        # pytest's own warning filters do it: -W and filterwarnings markers still override.
        config.addinivalue_line("filterwarnings", STRICT_PARAMS_FILTER)
    config.pluginmanager.register(NbScrapSession(config, settings), NAME)
    if settings.update:
        from ._update import UpdateReport

        config.pluginmanager.register(UpdateReport(), "nbscrap-update")


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Executed notebooks are outputs, never tests, wherever the output folder is."""
    if collection_path.is_dir() and (collection_path / OUTPUT_MARKER).exists():
        return True
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> NotebookFile | None:
    settings = session_of(parent.config).settings
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
    items[:] = [
        copy
        for item in items
        for copy in (item.per_marker_set() if isinstance(item, NotebookItem) else [item])
    ]
