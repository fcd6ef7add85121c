"""Under ``pytest -v`` on a terminal: which cell of the notebook a test waits for is running.

It is shown at the end of the test's own line (after pytest's ``path::name``) and erased before
pytest writes the result there, so a long notebook is seen to make progress and the log reads
as it always does. Only the run the test is waiting for is shown: look-ahead runs report too,
but a line is one test's.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._text import sanitize

if TYPE_CHECKING:
    from ._prepare import CellProgress
    from ._runs import RunSpec

__all__ = ["CellLine"]

# The cursor is kept where pytest left it: each update is written after a save and undone by a
# restore, so pytest's own next write lands where it expects, over an erased rest of line.
_SAVE, _RESTORE, _ERASE = "\x1b7", "\x1b8", "\x1b[K"


class CellLine:
    """Progress of the awaited run, written with ``write`` (the terminal reporter's).

    The progress is told on the engine's thread while the test's thread waits for the run, so
    the terminal is written by one thread at a time: nothing is written once the wait is over.
    """

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._awaited: tuple[Any, ...] | None = None
        self._shown = False

    @contextlib.contextmanager
    def awaiting(self, spec: RunSpec) -> Iterator[None]:
        """While the test's thread waits for ``spec``'s run; the line is clean afterwards."""
        with self._lock:
            self._awaited = spec.key
        try:
            yield
        finally:
            with self._lock:
                self._awaited = None
                if self._shown:
                    self._write(_ERASE)
                    self._shown = False

    def progress(self, spec: RunSpec) -> CellProgress:
        """What ``spec``'s run tells after each cell: ``(cells done, cells in all)``."""
        key, name = spec.key, sanitize(spec.path.name)

        def told(done: int, total: int) -> None:
            with self._lock:
                if self._awaited != key or done >= total:
                    return
                self._write(f"{_SAVE}{_ERASE} {name}: cell {done + 1}/{total}{_RESTORE}")
                self._shown = True

        return told
