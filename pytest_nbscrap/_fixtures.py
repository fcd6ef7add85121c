"""The ``nb``, ``scraps``, ``run_notebook`` and ``run_notebooks`` fixtures, and how markers
become run specs."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ._errors import UsageError
from ._items import REPORTED, location
from ._output import own_folder
from ._param_sets import ParamSet, nb_param_sets, param_ids, safe_name, short_hash
from ._reader import Notebook
from ._runs import Runner, RunSpec
from ._scrapbook import Scrapbook
from ._scraps import Scraps
from ._session import session_of

__all__ = [
    "Runs",
    "nb",
    "nbscrap_params",
    "run_notebook",
    "run_notebooks",
    "scraps",
    "spec_for",
]

RunNotebook = Callable[..., Notebook]


def spec_for(request: pytest.FixtureRequest, params: ParamSet) -> RunSpec:
    """The run a test asks for through its closest ``notebook`` marker."""
    marker = request.node.get_closest_marker("notebook")
    if marker is None:
        pytest.fail(
            f"{request.node.nodeid} uses the {request.fixturename!r} fixture but no notebook is "
            "named: add @pytest.mark.notebook('path/to/notebook.ipynb') to the test, its class, "
            "or its module (pytestmark = pytest.mark.notebook(...))",
            pytrace=False,
        )
    return notebook_marker_spec(marker.args, marker.kwargs, request, params)


def notebook_marker_spec(
    args: tuple[Any, ...], kwargs: dict[str, Any], request: pytest.FixtureRequest, params: ParamSet
) -> RunSpec:
    settings = session_of(request.config).settings
    if len(args) != 1 or not isinstance(args[0], (str, Path)):
        raise UsageError(
            f"{request.node.nodeid}: notebook marker takes one path: "
            "@pytest.mark.notebook('path.ipynb', kernel=None, timeout=None, cwd=None)"
        )
    unknown = set(kwargs) - {"kernel", "timeout", "cwd"}
    if unknown:
        raise UsageError(
            f"{request.node.nodeid}: notebook marker got unknown option(s) "
            f"{', '.join(sorted(unknown))}; it takes kernel, timeout and cwd"
        )
    base = request.path.parent
    cwd = kwargs.get("cwd")
    spec = settings.run_spec(
        (base / args[0]).resolve(),
        params,
        kernel=kwargs.get("kernel"),
        kernel_by="the notebook marker's kernel=",
    )
    return dataclasses.replace(
        spec,
        timeout=kwargs.get("timeout", spec.timeout),
        cwd=(base / cwd).resolve() if cwd is not None else None,
    )


@pytest.fixture
def nbscrap_params(request: pytest.FixtureRequest) -> ParamSet:
    """The parameter set this test runs its notebook with (from ``nb_params``)."""
    if hasattr(request, "param"):
        chosen: ParamSet = request.param
        return chosen
    return nb_param_sets(request.node)[0]


@pytest.fixture
def nb(request: pytest.FixtureRequest, nbscrap_params: ParamSet) -> Notebook:
    """The executed notebook named by the test's ``notebook`` marker, with its ``nb_params``."""
    return _executed(request, nbscrap_params)


@pytest.fixture
def scraps(request: pytest.FixtureRequest, nbscrap_params: ParamSet) -> Scraps:
    """The scraps of the executed notebook (see ``nb``)."""
    # Not through ``nb``: a message about the fixture must name the one the test asked for.
    return _executed(request, nbscrap_params).scraps


def _executed(request: pytest.FixtureRequest, params: ParamSet) -> Notebook:
    runner = session_of(request.config).runner
    return runner.run(spec_for(request, params), location(request.node))


@pytest.fixture
def run_notebook(request: pytest.FixtureRequest) -> RunNotebook:
    """Runs any notebook with parameters: ``run_notebook("path.ipynb", symbol="XYZ")``.

    Paths are relative to the test file's folder; runs are shared like the ``nb`` fixture's.
    """
    session = session_of(request.config)

    def run(path: str | Path, /, **params: Any) -> Notebook:
        spec = session.settings.run_spec((request.path.parent / path).resolve(), params)
        return session.runner.run(spec, _caller())

    return run


def _caller() -> tuple[str, int]:
    """The test line that called a fixture's function: warnings about its runs point there."""
    frame = sys._getframe(2)
    return frame.f_code.co_filename, frame.f_lineno


@dataclasses.dataclass(frozen=True)
class Runs:
    """What ``run_notebooks`` gives back: ``folder`` holds one executed notebook per parameter
    set and nothing else, named by the set's id (``symbol=AAA.ipynb``, as pytest ids a
    parametrized test), so a summary notebook can read the folder; ``book`` holds those
    notebooks, in the order of the sets."""

    folder: Path
    book: Scrapbook


RunNotebooks = Callable[..., Runs]


@pytest.fixture
def run_notebooks(request: pytest.FixtureRequest) -> RunNotebooks:
    """Runs one notebook once per parameter set into one folder:
    ``runs = run_notebooks("source.ipynb", [{"symbol": s} for s in symbols])``.

    The runs go ``--nbscrap-workers`` at a time; keyword params are merged into every set (as
    ``nb_params``'s are). Each run is shared like the ``nb`` fixture's, so two tests asking
    for the same notebook and sets run it once. A set whose run fails does not stop the
    others: once all have run, the first failure (in the sets' order) fails the test.
    """
    session = session_of(request.config)

    def run(path: str | Path, param_sets: Iterable[Mapping[str, Any]], /, **params: Any) -> Runs:
        where = _caller()
        sets = _fan_out_sets(param_sets, params, request.node.nodeid)
        full = (request.path.parent / path).resolve()
        specs = [session.settings.run_spec(full, each) for each in sets]
        notebooks = _run_all(session.runner, specs, where)
        # The folder is named by every run it holds: other sets never share it.
        name = f"{full.stem}-runs-{short_hash(repr([spec.key for spec in specs]))}"
        folder = session.runner.output_folder() / safe_name(name)
        files = [safe_name(id_) + ".ipynb" for id_ in param_ids(sets)]
        return _gather(folder, dict(zip(files, notebooks, strict=True)))

    return run


def _fan_out_sets(given: Any, params: Mapping[str, Any], where: str) -> list[ParamSet]:
    usage = "run_notebooks('source.ipynb', [{'symbol': 'AAA'}, {'symbol': 'BBB'}])"
    if isinstance(given, (Mapping, str, bytes)) or not isinstance(given, Iterable):
        raise UsageError(
            f"{where}: run_notebooks takes a list of parameter sets (dicts), "
            f"not {type(given).__name__}: {usage}"
        )
    sets = list(given)
    if not sets:
        raise UsageError(f"{where}: run_notebooks got no parameter sets: {usage}")
    for index, item in enumerate(sets):
        if not isinstance(item, Mapping):
            raise UsageError(
                f"{where}: run_notebooks parameter set {index + 1} must be a dict of "
                f"parameters, not {type(item).__name__}: {usage}"
            )
    return [{**item, **params} for item in sets]


def _run_all(runner: Runner, specs: Sequence[RunSpec], where: tuple[str, int]) -> list[Notebook]:
    """Each spec's notebook, the runs started ``runner.workers`` at a time (its look-ahead,
    as for collected items); one that fails or skips is raised once all have run."""
    notebooks: list[Notebook] = []
    first: BaseException | None = None
    for index, spec in enumerate(specs):
        runner.look_ahead(specs[index + 1 :])
        try:
            notebooks.append(runner.run(spec, where))
        except (*REPORTED, pytest.skip.Exception) as error:
            first = first or error
    if first is not None:
        raise first
    return notebooks


def _gather(folder: Path, files: Mapping[str, Notebook]) -> Runs:
    """Copies each executed notebook into ``folder`` under its name there and reads the
    copies back. The folder's name comes from every run, and the files' from the sets, so a
    session that reuses an output folder finds only the same names in it."""
    own_folder(folder)
    for name, notebook in files.items():
        # Written beside and renamed over: a reader never sees half a file, and a link
        # planted at the name is replaced, not followed.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        os.close(handle)
        shutil.copyfile(notebook.path, temporary)
        Path(temporary).replace(folder / name)
    book = Scrapbook((Path(name).stem, Notebook.from_path(folder / name)) for name in files)
    return Runs(folder, book)
