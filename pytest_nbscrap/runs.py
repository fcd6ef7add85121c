"""Notebook runs for a test session: what to run, where its output goes, one execution each.

Every test and item that needs the same (notebook, parameters, kernel, cwd, timeout) shares one
execution and its outcome, success or error.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import NbScrapError
from .params import freeze, param_id, safe_name
from .reader import Notebook

__all__ = ["RunSpec", "Runner"]


@dataclass(frozen=True)
class RunSpec:
    """One execution of one notebook."""

    path: Path
    params: Mapping[str, Any] = field(default_factory=dict)
    kernel: str | None = None
    timeout: float | None = None
    cwd: Path | None = None

    @property
    def key(self) -> tuple[str, str, str | None, float | None, str | None]:
        cwd = os.fspath(self.cwd) if self.cwd else None
        return (os.fspath(self.path), freeze(self.params), self.kernel, self.timeout, cwd)

    @property
    def label(self) -> str:
        """The notebook's stem, with its parameters when it has any: ``ath[symbol=AAA]``."""
        return f"{self.path.stem}[{param_id(self.params)}]" if self.params else self.path.stem


Execute = Callable[..., Notebook]


def _execute(*args: Any, **kwargs: Any) -> Notebook:
    from .executor import execute_notebook

    return execute_notebook(*args, **kwargs)


class Runner:
    """Runs notebooks for one pytest process and remembers each outcome.

    ``output_dir`` is a callable so the folder is only made once something runs.
    """

    def __init__(
        self,
        output_dir: Callable[[], Path],
        *,
        root: Path,
        worker: str | None = None,
        execute: Execute = _execute,
    ) -> None:
        self._output_dir = output_dir
        self._root = root
        self._worker = worker
        self._execute = execute
        self._outcomes: dict[tuple[Any, ...], Notebook | NbScrapError] = {}
        self.executions = 0

    def run(self, spec: RunSpec) -> Notebook:
        """The executed notebook for ``spec``, executing it on first request only.

        A failed execution raises the same error for every test that shares it.
        """
        outcome = self._outcomes.get(spec.key)
        if outcome is None:
            outcome = self._run(spec)
            self._outcomes[spec.key] = outcome
        if isinstance(outcome, NbScrapError):
            raise outcome.with_traceback(None)
        return outcome

    def _run(self, spec: RunSpec) -> Notebook | NbScrapError:
        self.executions += 1
        try:
            return self._execute(
                spec.path,
                dict(spec.params),
                output_path=self.output_path(spec),
                kernel_name=spec.kernel,
                timeout=spec.timeout,
                cwd=spec.cwd,
            )
        except NbScrapError as error:
            return error

    def output_path(self, spec: RunSpec) -> Path:
        """Where the executed notebook is kept: one flat file per run, named after the notebook
        (relative to the root folder) and its parameters, never outside the output folder."""
        try:
            relative = spec.path.relative_to(self._root).with_suffix("")
            stem = "__".join(relative.parts)
        except ValueError:
            stem = spec.path.stem
        suffix = f"[{param_id(spec.params)}]" if spec.params else ""
        if spec.kernel or spec.cwd:  # the same notebook and parameters run another way
            suffix += "-" + hashlib.sha256(repr(spec.key).encode()).hexdigest()[:8]
        name = safe_name(f"{stem}{suffix}") + ".ipynb"
        folder = self._output_dir()
        if self._worker:
            folder = folder / safe_name(self._worker)
        return folder / name
