"""Run outcomes shared by the pytest-xdist workers of one session, through a folder.

Two workers that need the same run would each execute it; instead, the first takes a file lock
on the run's key, executes, and leaves the outcome beside the lock for the others to load.
The folder is private to this session (its controller makes it under pytest's basetemp), and
only this session writes the outcome files it reads back.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["SharedOutcomes"]

T = TypeVar("T")


class SharedOutcomes:
    """``get_or_run(key, run)``: the outcome another worker left for ``key``, or ``run()``'s."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def available() -> bool:
        return sys.platform != "win32"  # fcntl locks; elsewhere each worker runs its own

    def get_or_run(self, key: tuple[Any, ...], run: Callable[[], T]) -> T:
        import fcntl

        name = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
        self.folder.mkdir(parents=True, exist_ok=True)
        outcome_file = self.folder / f"{name}.outcome"
        with (self.folder / f"{name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if outcome_file.exists():
                loaded: T = pickle.loads(outcome_file.read_bytes())  # noqa: S301 - our own file
                return loaded
            outcome = run()
            temporary = outcome_file.with_name(f".{name}.{uuid.uuid4().hex[:8]}.tmp")
            temporary.write_bytes(pickle.dumps(outcome))
            temporary.replace(outcome_file)
            return outcome
