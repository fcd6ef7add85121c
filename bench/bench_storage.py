"""Reading 200 executed notebooks from S3 (moto's server on 127.0.0.1) against the same from
local disk, and against reading them from S3 one round trip after another.

Writes 200 executed-style notebooks of 16 scraps each (``_fixtures.write_notebooks``, as
bench_read.py does) into a temporary folder, uploads them under a prefix of a moto server this
script starts (and stops), then times, in alternating rounds, each reader plus decoding every
scrap's data:

- local: ``read_notebooks(folder)``;
- S3: ``read_notebooks("s3://bench/runs", storage_options=...)``: one listing, then every
  object fetched concurrently (fsspec's batch of requests);
- S3 one by one: ``read_notebook(url)`` for each listed URL, in turn.

    .venv/bin/python bench/bench_storage.py [--rounds N] [--notebooks N]

No target is set by the issue: the rows say what a bucket costs over a disk, and what fetching
concurrently saves. ``run()`` is case (i) of ``run_all.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _fixtures import (
    SCRAPS_PER_NOTEBOOK,
    BenchError,
    Notes,
    Row,
    alternate,
    load_average,
    report,
    write_notebooks,
)

PREFIX = "s3://bench/runs"


@contextlib.contextmanager
def moto_server() -> Iterator[dict[str, Any]]:
    """A moto S3 server on a free loopback port; yields the storage_options that reach it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # moto takes a second or two to listen
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError("moto's server did not start (pip install 'moto[server]')")
            time.sleep(0.1)
        yield {"endpoint_url": f"http://127.0.0.1:{port}", "key": "testing", "secret": "testing"}
    finally:
        process.terminate()
        process.wait(30)


def decode_all(book: Any) -> int:
    decoded = 0
    for notebook in book.values():
        for scrap in notebook.scraps.values():
            scrap.data  # noqa: B018 - decoding is part of what is measured
            decoded += 1
    return decoded


def timed(read: Callable[[], int], expected: int) -> float:
    gc.collect()
    start = time.perf_counter()
    decoded = read()
    elapsed = time.perf_counter() - start
    if decoded != expected:
        raise BenchError(f"{read.__name__} decoded {decoded} scraps, expected {expected}")
    return elapsed


def measure(rounds: int, notebooks: int, label: str = "") -> dict[str, list[float]]:
    import s3fs

    import pytest_nbscrap
    from pytest_nbscrap._scrapbook import notebook_files

    expected = notebooks * SCRAPS_PER_NOTEBOOK
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-s3-") as tmp, moto_server() as options:
        folder = Path(tmp)
        write_notebooks(folder, notebooks)
        fs = s3fs.S3FileSystem(
            client_kwargs={"endpoint_url": options["endpoint_url"]},
            key=options["key"],
            secret=options["secret"],
        )
        fs.mkdir("bench")
        fs.put(str(folder) + "/", PREFIX + "/", recursive=True)

        def local() -> int:
            return decode_all(pytest_nbscrap.read_notebooks(folder))

        def s3() -> int:
            return decode_all(pytest_nbscrap.read_notebooks(PREFIX, storage_options=options))

        def s3_one_by_one() -> int:
            listed = notebook_files(PREFIX, storage_options=options)
            book = {
                name: pytest_nbscrap.read_notebook(url, storage_options=options)
                for name, url in listed
            }
            return decode_all(book)

        if sorted(pytest_nbscrap.read_notebooks(PREFIX, storage_options=options)) != sorted(
            pytest_nbscrap.read_notebooks(folder)
        ):
            raise BenchError("the bucket and the folder hold different notebooks")
        return alternate(
            {
                "local": lambda: timed(local, expected),
                "s3": lambda: timed(s3, expected),
                "s3 one by one": lambda: timed(s3_one_by_one, expected),
            },
            rounds,
            warmup=True,  # imports (pandas, pyarrow, s3fs) and the client's first connection
            label=label,
        )


def run(rounds: int = 5, *, notebooks: int = 200) -> tuple[list[Row], Notes]:
    """Case (i): S3 against local disk, and concurrent against one by one."""
    times = measure(rounds, notebooks, label="i")
    what = f"`read_notebooks`, {notebooks} notebooks \u00d7 {SCRAPS_PER_NOTEBOOK} scraps"
    rows = [
        Row(
            "i",
            f"read_notebooks, {notebooks} notebooks, S3 (moto) vs local disk",
            f"{what}, from S3 (moto on loopback; vs the same from local disk)",
            times["s3"],
            times["local"],
            ours_name="S3",
            theirs_name="local",
        ),
        Row(
            "i",
            f"the same from S3, concurrent vs {notebooks} read_notebook calls in turn",
            "the same from S3 (vs `read_notebook` of each URL in turn)",
            times["s3"],
            times["s3 one by one"],
            ours_name="S3 concurrent",
            theirs_name="S3 one by one",
        ),
    ]
    return rows, Notes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--notebooks", type=int, default=200, help="notebooks to read (200)")
    args = parser.parse_args()
    print(f"command: {shlex.join(['python', 'bench/bench_storage.py', *sys.argv[1:]])}")
    print(f"load average at start (1/5/15 min, {os.cpu_count()} CPUs): {load_average()}")
    rows, notes = run(args.rounds, notebooks=args.notebooks)
    print(f"load average at end: {load_average()}")
    return report(rows, notes)


if __name__ == "__main__":
    raise SystemExit(main())
