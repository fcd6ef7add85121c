"""Real object stores on 127.0.0.1 for the storage tests, one of each per test session (per
xdist worker), each on a free port and stopped when the session ends:

- S3: moto's server mode (``python -m moto.server``), talked to by s3fs;
- Azure Blob: Azurite (the npm package, which ``bash run.sh test`` installs under
  ``$VENV/node``; ``NBSCRAP_AZURITE`` may name another ``azurite-blob``), talked to by adlfs;
- HTTP, read-only: ``http.server`` serving a folder, talked to by fsspec's aiohttp client.

A server that cannot start fails the test that needs it, saying how to install it: never a skip.
Loaded as a plugin by conftest.py.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# No test may ever ask a cloud's instance-metadata address for credentials or a region (a
# botocore fallback when a test takes credentials away): only loopback is ever a target.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
S3_KEY = {"key": "testing", "secret": "testing"}

# A server process takes a few seconds to start on a loaded two-core machine; this bounds the
# wait for its port to answer, generously (the usual start takes 1-3 s).
START_WAIT = 90.0


def nbscrap(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``nbscrap ARGV`` in a process of its own, which finds the store through ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_nbscrap", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,  # a bound for a hung client or run; each takes seconds
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused at once)."""
    return free_port()


@contextlib.contextmanager
def _server(
    argv_for: Callable[[int], list[str]], log: Path, name: str, how: str, **kw: Any
) -> Iterator[int]:
    """Starts ``argv_for(port)`` on a free port and yields the port once it listens; stops the
    process at the end. A process that exits at start most likely lost its port to another
    between the probe and its bind: it is started again on another port, twice at most."""
    for _ in range(3):
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(argv_for(port), stdout=out, stderr=subprocess.STDOUT, **kw)
        try:
            if _listening(process, port, name, how):
                yield port
                return
        finally:
            _stop(process)
    pytest.fail(f"{name} exited at start: {log.read_text(errors='replace')[-2000:]}\n{how}")


def _listening(process: subprocess.Popen[bytes], port: int, name: str, how: str) -> bool:
    """Whether ``process`` came to listen on ``port`` (False: it exited first)."""
    deadline = time.monotonic() + START_WAIT
    while process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return process.poll() is None  # still ours: not another process on that port
        if time.monotonic() > deadline:
            pytest.fail(f"{name} did not listen on port {port} within {START_WAIT:g} s\n{how}")
        time.sleep(0.1)  # polling the port while the server starts
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    @property
    def options(self) -> dict[str, Any]:
        """storage_options for s3fs: the endpoint and moto's accepted test credentials."""
        return {"endpoint_url": self.endpoint, **S3_KEY}

    @property
    def env(self) -> dict[str, str]:
        """The environment for a process that finds the server the usual ways: fsspec's own
        config (``FSSPEC_S3_ENDPOINT_URL``) and the AWS variables."""
        return {
            **os.environ,
            "FSSPEC_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def fs(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(client_kwargs={"endpoint_url": self.endpoint}, **S3_KEY)

    def bucket(self) -> str:
        """A new empty bucket; its URL (``s3://name``)."""
        name = f"b-{uuid.uuid4().hex[:16]}"
        self.fs().mkdir(name)
        return f"s3://{name}"


@dataclass(frozen=True)
class AzureServer:
    endpoint: str

    def connection_string(self, key: str = AZURITE_KEY) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={self.endpoint}/{AZURITE_ACCOUNT};"
        )

    @property
    def options(self) -> dict[str, Any]:
        return {"connection_string": self.connection_string()}

    def fs(self) -> Any:
        import adlfs

        return adlfs.AzureBlobFileSystem(connection_string=self.connection_string())

    def container(self) -> str:
        name = f"c-{uuid.uuid4().hex[:16]}"
        self.fs().mkdir(name)
        return f"az://{name}"


@dataclass(frozen=True)
class HttpServer:
    root: Path
    url: str


def azurite_command() -> Path:
    given = os.environ.get("NBSCRAP_AZURITE")
    found = Path(given) if given else Path(sys.prefix) / "node/node_modules/.bin/azurite-blob"
    if not found.exists():
        pytest.fail(
            f"Azurite is not installed ({found} is missing): `bash run.sh test` installs it, or "
            f"run `npm install --prefix {Path(sys.prefix) / 'node'} azurite` (node and npm "
            "must be on PATH), or set NBSCRAP_AZURITE to an azurite-blob command"
        )
    return found


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    log = tmp_path_factory.mktemp("moto") / "moto.log"

    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

    how = "moto's server comes with the test extra: pip install -e '.[test]'"
    with _server(argv, log, "moto", how) as port:
        yield S3Server(f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def azure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzureServer]:
    command = azurite_command()
    folder = tmp_path_factory.mktemp("azurite")  # its working folder (it may write a log)

    def argv(port: int) -> list[str]:
        return [
            str(command),
            "--inMemoryPersistence",
            *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",  # Azurite would otherwise send telemetry off the machine
        ]

    how = f"Azurite: npm install --prefix {Path(sys.prefix) / 'node'} azurite"
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: Azurite needs it (apt-get install nodejs npm)")
    with _server(argv, folder / "azurite.log", "Azurite", how, cwd=folder) as port:
        yield AzureServer(f"http://127.0.0.1:{port}")


class QuietHandler(SimpleHTTPRequestHandler):
    """http.server's handler, without a log line per request on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_folder(
    root: Path, handler: type[SimpleHTTPRequestHandler] = QuietHandler
) -> Iterator[str]:
    """Serves ``root`` read-only on 127.0.0.1 (a thread of this process); yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    root = tmp_path_factory.mktemp("http")
    with serve_folder(root) as url:
        yield HttpServer(root, url)
