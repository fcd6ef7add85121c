"""The plugin's options, read once into a frozen value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._compare import CompareRules
from ._runs import RunSpec

__all__ = ["DEFAULT_GLOB", "DEFAULT_TIMEOUT", "OUTPUT_MARKER", "Settings"]

DEFAULT_TIMEOUT = 300.0
DEFAULT_GLOB = "*.ipynb"

#: Marks a folder as holding executed notebooks, so collection skips it on later runs.
OUTPUT_MARKER = ".nbscrap-output"


@dataclass(frozen=True)
class Settings:
    """What the plugin does in this session."""

    collect: bool = False
    kernel: str | None = None
    kernel_by: str = "--nbscrap-kernel"  # or the ini key, when the kernel came from there
    timeout: float | None = DEFAULT_TIMEOUT
    output_dir: Path | None = None
    # --nbscrap-output-dir as a URL: notebooks are written under basetemp, then uploaded.
    output_url: str | None = None
    globs: tuple[str, ...] = (DEFAULT_GLOB,)
    color: bool = False
    workers: int = 1
    strict_params: bool = False
    # --nbscrap-compare: every cell's outputs, and the scraps, against the stored ones (without
    # it, cells marked NBVAL_CHECK_OUTPUT only); --nbscrap-update writes differing sources.
    compare: bool = False
    update: bool = False
    rules: CompareRules = field(default_factory=CompareRules)

    @property
    def given(self) -> bool:
        """Whether any option is other than its default (colour is pytest's, not ours)."""
        return replace(self, color=False, kernel_by=Settings.kernel_by) != Settings()

    def run_spec(
        self, path: Path, params: Mapping[str, Any], *, kernel: Any = None, kernel_by: str = ""
    ) -> RunSpec:
        """A run of ``path`` on the session's kernel, with the session's timeout. A ``kernel``
        (unless None) is one a marker or the notebook's metadata chose instead, and
        ``kernel_by`` says which, for the error when no such kernel is installed."""
        if kernel is None:
            kernel, kernel_by = self.kernel, self.kernel_by
        return RunSpec(path, params, kernel, self.timeout, kernel_by=kernel_by)

    def describe(self, output: str) -> str:
        """One line for pytest's report header: every option in force, then ``output``
        (where the executed notebooks go)."""
        kernel = self.kernel or "each notebook's own"
        timeout = f"{self.timeout:g}s per cell" if self.timeout else "no timeout"
        workers = f"{self.workers} worker{'s' if self.workers > 1 else ''}"
        params = "unknown parameters fail" if self.strict_params else "unknown parameters warn"
        collect = f"collecting {' '.join(self.globs)}" if self.collect else "not collecting"
        if self.compare:
            collect += ", updating stored outputs" if self.update else ", comparing stored outputs"
        return f"nbscrap: kernel {kernel}, {timeout}, {workers}, {params}, {collect}, {output}"
