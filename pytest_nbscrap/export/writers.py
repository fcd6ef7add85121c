"""Where rendered text goes: a string, a stream (stdout by default) or a file."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

__all__ = ["FileWriter", "StdoutWriter", "StringWriter", "Writer"]


class Writer(Protocol):
    def write(self, text: str) -> object: ...


@dataclass(frozen=True)
class StringWriter:
    """Returns the text: for callers that put it somewhere themselves (pytest's report)."""

    def write(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class StdoutWriter:
    """Writes to ``stream``, or to whatever ``sys.stdout`` is at the time of writing."""

    stream: TextIO | None = None

    def write(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(text)
        stream.flush()


@dataclass(frozen=True)
class FileWriter:
    """Writes UTF-8 text to ``path`` (its folder is created) and returns the path."""

    path: str | os.PathLike[str]

    def write(self, text: str) -> Path:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
