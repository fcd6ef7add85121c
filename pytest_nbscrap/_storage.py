"""Notebooks at URLs (``s3://``, ``gs://``, ``az://``, ``https://``...), through fsspec.

The one home of "a path or a URL": :func:`is_url` tells them apart by the text alone, so a
local path never imports fsspec and keeps its own code path (``_validate`` reads it, and
``_notebook_file`` writes it atomically through a temporary file). For a URL this module reads
the bytes (one object, or many at once: fsspec runs an async store's requests concurrently),
lists a folder or prefix, writes an object whole (one upload, which object stores make
atomic: a reader never sees half a notebook at the final key), and turns every client's error
into one of ``_errors``'s, naming the URL.

fsspec is a dependency of the package, but it is imported here, lazily, only for a URL.
The clients (s3fs, gcsfs, adlfs, aiohttp) are the optional extras of :data:`EXTRAS`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeGuard

from ._errors import NotebookNotFoundError, StorageAccessError, StorageError, StorageNotFoundError
from ._text import one_line

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "EXTRAS",
    "StorageOptions",
    "is_url",
    "list_notebooks",
    "read_bytes",
    "read_many",
    "upload_folder",
    "url_join",
    "url_name",
    "url_parent",
    "write_bytes",
]

StorageOptions = Mapping[str, Any] | None
"""Keyword arguments for the store's fsspec client (credentials, ``endpoint_url``...)."""

# A scheme of two letters or more: ``C:\\x`` is a Windows path, not a URL.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")

#: Which extra of pytest-nbscrap installs the client of each scheme.
EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "adl": "azure",
    "http": "http",
    "https": "http",
}


def is_url(path: object) -> TypeGuard[str]:
    """Whether ``path`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(path, str) and _URL.match(path) is not None


def url_name(url: str) -> str:
    """The last part of a URL's path (``run.ipynb``), without a query or fragment."""
    return _without_query(url).rstrip("/").rpartition("/")[2]


def url_parent(url: str) -> str:
    """The folder (prefix) a URL is in: ``s3://bucket/runs`` for ``s3://bucket/runs/a.ipynb``."""
    return _without_query(url).rstrip("/").rpartition("/")[0]


def url_join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}"


def _without_query(url: str) -> str:
    return re.split(r"[?#]", url, maxsplit=1)[0]


# -- reading and writing ---------------------------------------------------------------------


def read_bytes(url: str, storage_options: StorageOptions = None) -> bytes:
    """The whole object at ``url``."""
    fs, path = _filesystem(url, storage_options)
    with _mapped(url):
        data: bytes = fs.cat_file(path)
    return data


def read_many(urls: Sequence[str], storage_options: StorageOptions = None) -> list[bytes]:
    """The objects at ``urls`` (all on one store), fetched concurrently where the client is
    async (s3fs, gcsfs, adlfs, http): one batch of requests, not one round trip after another.
    The first that cannot be read raises, naming its URL."""
    if not urls:
        return []
    fs, _ = _filesystem(urls[0], storage_options)
    paths = [_strip(fs, url) for url in urls]
    # cat_ranges, not cat: cat expands glob characters, and '[' is common in our file names.
    with _mapped(urls[0]):
        results = fs.cat_ranges(paths, None, None, on_error="return")
    fetched: list[bytes] = []
    for url, result in zip(urls, results, strict=True):
        if isinstance(result, BaseException):
            raise mapped_error(url, result) from None
        fetched.append(result)
    return fetched


def write_bytes(url: str, data: bytes, storage_options: StorageOptions = None) -> None:
    """Uploads ``data`` to ``url`` in one request: the object appears whole or not at all."""
    fs, path = _filesystem(url, storage_options, writing=True)
    with _mapped(url, writing=True):
        fs.pipe_file(path, data)


def upload_folder(folder: Path, url: str, storage_options: StorageOptions = None) -> int:
    """Uploads every ``.ipynb`` under ``folder`` to the same relative name under ``url``, each
    whole, concurrently where the client is async; the number uploaded."""
    files = sorted(file for file in folder.rglob("*.ipynb") if file.is_file())
    if not files:
        return 0
    fs, root = _filesystem(url, storage_options, writing=True)
    targets = {
        f"{root.rstrip('/')}/{file.relative_to(folder).as_posix()}": file.read_bytes()
        for file in files
    }
    with _mapped(url, writing=True):
        fs.pipe(targets)
    return len(targets)


def list_notebooks(
    url: str, pattern: str, *, recursive: bool, storage_options: StorageOptions = None
) -> list[tuple[str, str]]:
    """What ``read_notebooks`` reads at ``url``: each notebook's name and URL, in order, as
    ``_scrapbook.notebook_files`` lists a local folder (a file is itself; in a folder or prefix,
    the names matching ``pattern`` directly in it, or at any depth with ``recursive``, named
    by their relative path without the suffix; never ``.ipynb_checkpoints``)."""
    fs, root = _filesystem(url, storage_options)
    with _mapped(url):
        kind = _kind(fs, root)
        if kind == "file" and url.endswith("/"):
            # A web server answers a folder's URL with a page (fsspec's http calls it a file):
            # a URL ending in "/" is a folder, whose links are listed.
            kind = "directory"
        if kind == "file":
            return [(PurePosixPath(url_name(url)).stem, url)]
        if kind is None:
            raise StorageNotFoundError.from_url(url, "no such file or folder")
        depth = None if recursive else len(PurePosixPath(pattern).parts)
        found = fs.find(root, maxdepth=depth, withdirs=False)
    files: list[tuple[str, str]] = []
    prefix = root.rstrip("/") + "/"
    for path in sorted(found):
        relative = PurePosixPath(path.removeprefix(prefix))
        if ".ipynb_checkpoints" in relative.parts or not _matches(relative, pattern, recursive):
            continue
        files.append((relative.with_suffix("").as_posix(), url_join(url, relative.as_posix())))
    return files


def _kind(fs: AbstractFileSystem, path: str) -> str | None:
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return None
    return "file" if info.get("type") == "file" else "directory"


def _matches(relative: PurePosixPath, pattern: str, recursive: bool) -> bool:
    # pathlib's rules: glob(pattern) matches a relative path part for part; rglob(pattern)
    # matches its trailing parts at any depth (PurePath.match compares from the right).
    if not recursive and len(relative.parts) != len(PurePosixPath(pattern).parts):
        return False
    return relative.match(pattern)


def _strip(fs: AbstractFileSystem, url: str) -> str:
    stripped: str = fs._strip_protocol(url)
    return stripped


# -- the client and its errors ---------------------------------------------------------------


def _filesystem(
    url: str, storage_options: StorageOptions, *, writing: bool = False
) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem for ``url`` and the path on it; a missing client is a
    :class:`StorageError` that says which extra installs it."""
    import fsspec

    scheme = url.partition("://")[0].lower()
    try:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    except ImportError:
        extra = EXTRAS.get(scheme)
        install = f"pip install 'pytest-nbscrap[{extra}]'" if extra else "install its fsspec client"
        reason = f"the client for {scheme}:// URLs is not installed; {install}"
        raise StorageError.from_reason(url, reason, writing=writing) from None
    except ValueError as exc:  # fsspec's "Protocol not known"
        raise StorageError.from_reason(url, one_line(str(exc)), writing=writing) from None
    except TypeError as exc:  # a storage option the client does not take
        raise StorageError.from_reason(
            url, f"bad storage_options: {one_line(str(exc))}", writing=writing
        ) from None
    return fs, path


@contextlib.contextmanager
def _mapped(url: str, *, writing: bool = False) -> Iterator[None]:
    try:
        yield
    except (StorageError, NotebookNotFoundError):
        raise
    except Exception as exc:
        raise mapped_error(url, exc, writing=writing) from None


# Error names of the clients (botocore, azure-core, aiohttp) that mean "who are you?":
# matched by name, so that mapping an error never imports a client that is not installed.
_NO_CREDENTIALS = frozenset(
    {"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"}
)
_UNREACHABLE = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ServiceRequestError",
        "ClientConnectorError",
        "ServerTimeoutError",
        "TimeoutError",
        "FSTimeoutError",
    }
)
_DENIED_WORDS = ("AuthorizationFailure", "AuthenticationFailed", "AccessDenied", "Forbidden")

_CREDENTIALS_HELP = {
    "s3": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or pass "
    "storage_options={'key': ..., 'secret': ...}; storage_options={'anon': True} for a public "
    "bucket",
    "gs": "set GOOGLE_APPLICATION_CREDENTIALS, or pass storage_options={'token': ...}",
    "az": "set AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT_NAME and "
    "AZURE_STORAGE_ACCOUNT_KEY), or pass storage_options={'connection_string': ...}",
}


def mapped_error(url: str, exc: BaseException, *, writing: bool = False) -> StorageError:
    """``exc``, raised by a store's client for ``url``, as one of our errors: a missing object
    or bucket is also a FileNotFoundError, access denied a PermissionError, and the rest an
    OSError, each one line naming the URL."""
    names = {kind.__name__ for kind in type(exc).__mro__}
    said = one_line(str(exc) or type(exc).__name__, 300)
    if isinstance(exc, FileNotFoundError) or "ResourceNotFoundError" in names:
        reason = "no such bucket or folder to write into" if writing else "no such object or bucket"
        return StorageNotFoundError.from_url(url, reason, writing=writing)
    if isinstance(exc, PermissionError) or any(word in said for word in _DENIED_WORDS):
        return StorageAccessError.from_reason(url, f"access denied: {said}", writing=writing)
    if names & _NO_CREDENTIALS:
        scheme = url.partition("://")[0].lower()
        family = {"s3a": "s3", "gcs": "gs", "abfs": "az", "abfss": "az", "adl": "az"}
        hint = _CREDENTIALS_HELP.get(
            family.get(scheme, scheme), "pass credentials in storage_options"
        )
        return StorageError.from_reason(
            url, f"no credentials found ({said}); {hint}", writing=writing
        )
    if names & _UNREACHABLE or isinstance(exc, (ConnectionError, TimeoutError)):
        return StorageError.from_reason(
            url, f"the store cannot be reached: {said}", writing=writing
        )
    return StorageError.from_reason(url, f"{type(exc).__name__}: {said}", writing=writing)
