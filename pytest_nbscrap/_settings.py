"""The plugin's options, read once into a frozen value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    timeout: float | None = DEFAULT_TIMEOUT
    output_dir: Path | None = None
    globs: tuple[str, ...] = (DEFAULT_GLOB,)
    color: bool = False
    workers: int = 1

    def describe(self) -> str:
        """One line for pytest's report header."""
        output = str(self.output_dir) if self.output_dir else "a folder under pytest's basetemp"
        timeout = f"{self.timeout:g}s per cell" if self.timeout else "no timeout"
        kernel = self.kernel or "each notebook's own"
        return f"nbscrap: kernel {kernel}, {timeout}, executed notebooks in {output}"
