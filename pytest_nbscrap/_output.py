"""The folder of executed notebooks: checked before anything runs, locked for one session, and
the files and folders made inside it never through a symbolic link planted there."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from ._settings import OUTPUT_MARKER

__all__ = ["check_output_dir", "check_output_url", "lock_output_dir", "own_file", "own_folder"]


def check_output_dir(folder: Path) -> None:
    """A usage error, before any notebook runs, when ``folder`` cannot hold executed notebooks."""
    if folder.exists() and not folder.is_dir():
        raise pytest.UsageError(f"--nbscrap-output-dir {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(
            f"--nbscrap-output-dir {folder} cannot be created: {exc.strerror}"
        ) from None
    # os.access says yes to root, and procfs may say yes and then refuse: only a write tells.
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise pytest.UsageError(
            f"--nbscrap-output-dir {folder} is not writable: {exc.strerror}"
        ) from None


def check_output_url(url: str) -> None:
    """A usage error, before any notebook runs, when the store at ``url`` cannot be written
    (no bucket, no credentials, no client): the folder's marker is uploaded to find out."""
    from ._errors import StorageError
    from ._storage import url_join, write_bytes

    try:
        write_bytes(url_join(url, OUTPUT_MARKER), b"")
    except StorageError as exc:
        raise pytest.UsageError(f"--nbscrap-output-dir {url}: {exc}") from None


def own_file(path: Path) -> int:
    """Opens (or creates) ``path`` for reading and writing without following a symbolic link
    planted there: the link is removed and a real file made in its place (the output folder's
    contents are ours; what the link pointed to is left alone)."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP or not path.is_symlink():
            raise
    path.unlink()
    return os.open(path, flags | os.O_EXCL, 0o644)


def own_folder(path: Path) -> None:
    """Makes ``path`` a real folder inside the output folder: a symbolic link planted there
    (which would send executed notebooks elsewhere) is removed, never followed."""
    if path.is_symlink():
        path.unlink()
    try:
        path.mkdir()
    except FileExistsError:
        if not path.is_dir():
            raise


def lock_output_dir(folder: Path) -> int:
    """Takes the output folder for this session: a second session writing into the same folder
    would mix (and overwrite) the first one's notebooks. The lock is on the folder's marker
    file, which holds the holder's pid; pytest-xdist workers write under their controller's
    lock and take none. Released when the file closes, so also when pytest is killed."""
    import fcntl

    marker = own_file(folder / OUTPUT_MARKER)
    try:
        fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(marker, 32, 0).decode("ascii", "replace").strip()
        os.close(marker)
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise pytest.UsageError(
                f"--nbscrap-output-dir {folder} cannot be locked: {exc.strerror}"
            ) from None
        who = f"pid {holder}" if holder.isdigit() else "another process"
        raise pytest.UsageError(
            f"--nbscrap-output-dir {folder} is in use by another pytest session ({who}); "
            "give each session its own folder"
        ) from None
    os.ftruncate(marker, 0)
    os.pwrite(marker, f"{os.getpid()}\n".encode(), 0)
    return marker
