"""Notebook runs for a test session: what to run, where its output goes, one execution each.

Every test and item that needs the same (notebook, parameters, kernel, cwd, timeout) shares one
execution and its outcome, success or error.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import CellExecutionError, NbScrapError
from ._param_sets import freeze, param_id, safe_name, short_hash
from ._reader import Notebook
from ._sharing import SharedOutcomes

if TYPE_CHECKING:
    from ._engine import Engine
    from ._prepare import CellProgress, RunPlan

__all__ = ["RunSpec", "Runner"]


@dataclass(frozen=True)
class RunSpec:
    """One execution of one notebook."""

    path: Path
    params: Mapping[str, Any] = field(default_factory=dict)
    kernel: str | None = None
    timeout: float | None = None
    cwd: Path | None = None
    # Who chose ``kernel``, for the error when no such kernel is installed; not part of the run.
    kernel_by: str = field(default="kernel_name", compare=False)

    @property
    def key(self) -> tuple[str, str, str | None, Any, str | None]:
        cwd = os.fspath(self.cwd) if self.cwd else None
        timeout: Any = self.timeout
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
            timeout = float(timeout)  # 60 and 60.0 alike
        elif timeout is not None:
            # Malformed metadata (a string, a list): still a key; the run reports the value.
            timeout = repr(timeout)
        kernel = (
            self.kernel
            if self.kernel is None or isinstance(self.kernel, str)
            else repr(self.kernel)
        )
        return (os.fspath(self.path), freeze(self.params), kernel, timeout, cwd)

    def with_params(self, params: Mapping[str, Any]) -> RunSpec:
        """The same run with ``params`` laid over its own (a marker's over a notebook's)."""
        return replace(self, params={**self.params, **params})


class RunWatcher(Protocol):
    """Told of runs as they go (the plugin's cell line under ``-v``)."""

    def awaiting(self, spec: RunSpec) -> AbstractContextManager[None]:
        """Around the wait for ``spec``'s outcome."""

    def progress(self, spec: RunSpec) -> CellProgress:
        """What ``spec``'s run tells after each cell."""


class Runner:
    """Runs notebooks for one pytest process and remembers each outcome.

    ``output_dir`` is a callable so the folder is only made once something runs. ``shared``
    lets pytest-xdist workers share runs they both need (see :mod:`._sharing`). Executions go
    through an :class:`~pytest_nbscrap._engine.Engine`: with ``workers`` above one, runs said to
    come next (:meth:`look_ahead`) start while the current one runs; in any case the next
    run's kernel starts early and the last run's kernel stops late.
    """

    def __init__(
        self,
        output_dir: Callable[[], Path],
        *,
        root: Path,
        worker: str | None = None,
        workers: int = 1,
        shared: SharedOutcomes | None = None,
        kernel: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self._output_dir = output_dir
        self._root = root
        # The session's own kernel and timeout: runs with these keep plain file names.
        self._usual = (kernel, None if timeout is None else float(timeout))
        self._worker = worker
        self.workers = max(1, workers)
        self._engine: Engine | None = None  # made on first use: asyncio costs a plain session
        self._outcomes: dict[tuple[Any, ...], _Outcome] = {}
        self._pending: dict[tuple[Any, ...], _Pending] = {}
        # Runs prepared ahead (to start their kernel early), kept for when they are submitted.
        self._prepared: dict[tuple[Any, ...], _Prepared] = {}
        self._shared = shared
        self.watcher: RunWatcher | None = None

    def run(self, spec: RunSpec, where: tuple[str, int] | None = None) -> Notebook:
        """The executed notebook for ``spec``, executing it on first request only.

        A failed execution raises the same error for every test that shares it, and the
        warnings preparing it gave are said again in each, at ``where`` (the file and line
        of the test that asked; by default the caller's line). A cell that called
        ``pytest.skip(reason)`` skips each with that reason.
        """
        outcome = self._outcomes.get(spec.key)
        if outcome is None:
            with self._awaiting(spec):
                outcome = self._outcome(spec)
            self._outcomes[spec.key] = outcome
        for warning in outcome.warned:
            if where is None:
                warnings.warn(warning, stacklevel=2)
            else:
                warnings.warn_explicit(warning, type(warning), *where)
        if isinstance(outcome.result, NbScrapError):
            reason = skip_reason(outcome.result)
            if reason is not None:
                import pytest

                pytest.skip(reason)
            raise outcome.result.with_traceback(None)
        return outcome.result

    def _outcome(self, spec: RunSpec) -> _Outcome:
        pending = self._pending.pop(spec.key, None)
        if pending is not None:
            return pending.outcome()
        if self._shared is not None:
            return self._shared.get_or_run(spec.key, lambda: self._submit(spec).outcome())
        return self._submit(spec).outcome()

    def _awaiting(self, spec: RunSpec) -> AbstractContextManager[None]:
        return contextlib.nullcontext() if self.watcher is None else self.watcher.awaiting(spec)

    def look_ahead(self, upcoming: Sequence[RunSpec]) -> None:
        """Runs that come next, in order: the first ``workers - 1`` start now, alongside the
        current one; the kernel of the one after starts early."""
        fresh = [spec for spec in upcoming if spec.key not in self._outcomes]
        for spec in fresh[: self.workers - 1]:
            if spec.key not in self._pending:
                self._pending[spec.key] = self._submit(spec)
        for spec in fresh[self.workers - 1 : self.workers]:
            if spec.key not in self._pending and spec.key not in self._prepared:
                self._expect(spec)

    def close(self) -> None:
        """Stops whatever still runs (keeping what it executed) and every kernel."""
        for pending in self._pending.values():
            pending.cancel()
        self._pending.clear()
        if self._engine is not None:
            self._engine.close()

    @property
    def has_engine(self) -> bool:
        """Whether a run or a kernel was ever started (the engine is made for the first)."""
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from ._engine import Engine

            self._engine = Engine(workers=self.workers)
        return self._engine

    def _submit(self, spec: RunSpec) -> _Pending:
        prepared = self._prepared.pop(spec.key) if spec.key in self._prepared else None
        plan, warned = prepared or self._prepare(spec)
        if isinstance(plan, NbScrapError):
            return _Pending(plan, warned)
        return _Pending(self.engine.submit(plan), warned, plan)

    def _expect(self, spec: RunSpec) -> None:
        prepared = self._prepared[spec.key] = self._prepare(spec)
        plan = prepared[0]
        if not isinstance(plan, NbScrapError):  # an error is reported when the run is asked for
            self.engine.expect(plan.kernel_name, plan.cwd)

    def _prepare(self, spec: RunSpec) -> _Prepared:
        """The run's plan (or why it cannot run), and the warnings preparing it gave."""
        from ._executor import prepare

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                plan = prepare(
                    spec.path,
                    dict(spec.params),
                    output_path=self.output_path(spec),
                    kernel_name=spec.kernel,
                    timeout=spec.timeout,
                    cwd=spec.cwd,
                    kernel_requested_by=spec.kernel_by,
                    progress=None if self.watcher is None else self.watcher.progress(spec),
                )
            except NbScrapError as error:
                return error, _messages(caught)
        return plan, _messages(caught)

    def output_path(self, spec: RunSpec) -> Path:
        """Where the executed notebook is kept: one flat file per run, never outside the
        output folder, named after the notebook (relative to the root folder, ``/`` as
        ``__``) and its parameters: ``nbs__trend-1a2b3c4d[symbol=AAA].ipynb``.

        That name is shortened and flattened, so it carries a short hash of the run's whole
        key, except for a plain run (no parameters, the session's kernel and timeout, a path
        whose flattening cannot meet another's), which keeps the bare ``nbs__trend.ipynb``.
        """
        try:
            parts = spec.path.relative_to(self._root).with_suffix("").parts
            inside = True
        except ValueError:
            parts, inside = (spec.path.stem,), False
        stem = "__".join(parts)
        _, _, kernel, timeout, cwd = spec.key
        plain = (
            inside
            and spec.path.suffix == ".ipynb"
            and not spec.params
            and (kernel, timeout) == self._usual
            and cwd is None
            and all(_PLAIN_PART.fullmatch(part) for part in parts)
            and not _HASHED.search(stem)
        )
        name = stem if plain else f"{stem}-{short_hash(repr(spec.key))}"
        if spec.params:
            name += f"[{param_id(dict(sorted(spec.params.items())))}]"
        return self.output_folder() / (safe_name(name) + ".ipynb")

    def output_folder(self) -> Path:
        """The folder this process keeps executed notebooks in (made on first use): the
        output folder, or under pytest-xdist this worker's subfolder of it."""
        folder = self._output_dir()
        if self._worker:
            folder = folder / safe_name(self._worker)
        return folder


# A part whose "__"-joined form no other part list can give: underscores only single, inside.
_PLAIN_PART = re.compile(r"[A-Za-z0-9.-]+(?:_[A-Za-z0-9.-]+)*")
# A plain name must not look like a hashed one.
_HASHED = re.compile(r"-[0-9a-f]{8}$")


_Prepared = tuple["RunPlan | NbScrapError", tuple[Warning, ...]]


def _messages(caught: Sequence[warnings.WarningMessage]) -> tuple[Warning, ...]:
    return tuple(
        found.message if isinstance(found.message, Warning) else found.category(found.message)
        for found in caught
    )


@dataclass(frozen=True)
class _Outcome:
    """What a run gave (its executed notebook or its error) and the warnings preparing it
    gave; pickled as it is when pytest-xdist workers share it."""

    result: Notebook | NbScrapError
    warned: tuple[Warning, ...] = ()


def skip_reason(error: NbScrapError) -> str | None:
    """The reason a cell gave ``pytest.skip`` (its exception is named ``Skipped``), or None."""
    if not isinstance(error, CellExecutionError) or error.ename != "Skipped":
        return None
    from ._text import sanitize  # the reason comes from the notebook and is printed

    return sanitize(error.evalue)


class _Pending:
    """A run submitted to the engine (or refused before it started), with the warnings its
    preparation gave, said again in the test that asks for it."""

    def __init__(
        self,
        run: concurrent.futures.Future[Notebook] | NbScrapError,
        warned: tuple[Warning, ...],
        plan: RunPlan | None = None,
    ) -> None:
        self._run = run
        self._warned = warned
        self._plan = plan

    def outcome(self) -> _Outcome:
        warned = self._warned
        if isinstance(self._run, NbScrapError):
            return _Outcome(self._run, warned)
        try:
            return _Outcome(self._run.result(), warned)
        except NbScrapError as error:
            return _Outcome(error, warned)
        except KeyboardInterrupt:
            if self._plan is None:
                raise
            # Ctrl-C reaches this thread, not the engine's, whose close() stops the run and
            # writes what it executed: say where.
            from ._executor import _interrupted

            raise KeyboardInterrupt(_interrupted(self._plan)) from None

    def cancel(self) -> None:
        if not isinstance(self._run, NbScrapError):
            self._run.cancel()
