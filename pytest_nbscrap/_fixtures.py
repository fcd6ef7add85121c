"""The ``nb``, ``scraps`` and ``run_notebook`` fixtures, and how markers become run specs."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ._errors import UsageError
from ._items import location
from ._param_sets import ParamSet, nb_param_sets
from ._reader import Notebook
from ._runs import RunSpec
from ._scraps import Scraps
from ._session import session_of

__all__ = ["nb", "nbscrap_params", "run_notebook", "scraps", "spec_for"]

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
        caller = sys._getframe(1)  # warnings about this run point at the line that asked
        return session.runner.run(spec, (caller.f_code.co_filename, caller.f_lineno))

    return run
