"""Notebooks at URLs, read and written through the real fsspec clients against real servers on
127.0.0.1 (tests/_servers.py): moto's S3, Azurite's Azure Blob, and http.server. No kernel runs
here (test_storage_run.py has those)."""

from __future__ import annotations

import importlib.util
import json
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest
from _servers import (
    AzureServer,
    HttpServer,
    QuietHandler,
    S3Server,
    closed_port,
    nbscrap,
    serve_folder,
)
from helpers import code_cell, notebook, write_code_notebook

from pytest_nbscrap import (
    NotebookReadError,
    StorageAccessError,
    StorageError,
    StorageNotFoundError,
    read_notebook,
    read_notebooks,
)
from pytest_nbscrap._scrapbook import notebook_files
from pytest_nbscrap._scraps import data_output


def scrap_cell(**scraps: Any) -> dict[str, Any]:
    outputs = []
    for name, value in scraps.items():
        data, metadata = data_output(name, value, "json")
        outputs.append({"output_type": "display_data", "data": data, "metadata": metadata})
    return code_cell("glue(...)", outputs)


def notebook_bytes(**scraps: Any) -> bytes:
    return json.dumps(notebook(scrap_cell(**scraps))).encode()


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text
    return text


# -- reading ---------------------------------------------------------------------------------


def test_read_notebook_from_s3_knows_its_url_and_scraps(s3_server: S3Server):
    bucket = s3_server.bucket()
    s3_server.fs().pipe_file(f"{bucket}/runs/trend[a=1].ipynb", notebook_bytes(distance=12.5))
    url = f"{bucket}/runs/trend[a=1].ipynb"

    nb = read_notebook(url, storage_options=s3_server.options)

    assert (nb.path, nb.filename, nb.directory, nb.name) == (
        url,
        "trend[a=1].ipynb",
        f"{bucket}/runs",
        "trend[a=1]",
    )
    assert nb.scraps["distance"].data == 12.5


# A tree with what a listing must skip: a checkpoint, a text file, a name with brackets.
TREE = {
    "a.ipynb": {"n": 1},
    "b[x=1].ipynb": {"n": 2},
    "notes.txt": None,
    "sub/c.ipynb": {"n": 3},
    "sub/deeper/d.ipynb": {"n": 4},
    ".ipynb_checkpoints/a-checkpoint.ipynb": {"n": 0},
}


def _plant(tree: dict[str, Any], put: Any) -> None:
    for name, scraps in tree.items():
        put(name, b"notes" if scraps is None else notebook_bytes(**scraps))


@pytest.mark.parametrize(
    ("pattern", "recursive"),
    [("*.ipynb", False), ("*.ipynb", True), ("c*", True), ("sub/*.ipynb", False), ("*", False)],
)
def test_read_notebooks_lists_a_prefix_as_it_lists_a_local_folder(
    tmp_path: Path, s3_server: S3Server, pattern: str, recursive: bool
):
    bucket = s3_server.bucket()
    fs = s3_server.fs()

    def put_local(name: str, data: bytes) -> None:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)

    _plant(TREE, put_local)
    _plant(TREE, lambda name, data: fs.pipe_file(f"{bucket}/tree/{name}", data))

    local = [name for name, _ in notebook_files(tmp_path, pattern, recursive=recursive)]
    remote = notebook_files(
        f"{bucket}/tree", pattern, recursive=recursive, storage_options=s3_server.options
    )
    assert [name for name, _ in remote] == local
    if pattern != "*":  # "*" also matches notes.txt, which is no notebook, here and locally
        book = read_notebooks(
            f"{bucket}/tree", pattern, recursive=recursive, storage_options=s3_server.options
        )
        assert {name: nb.scraps["n"].data for name, nb in book.items()} == {
            name: read_notebooks(tmp_path, pattern, recursive=recursive)[name].scraps["n"].data
            for name in local
        }
        assert all(nb.path.startswith(f"{bucket}/tree/") for nb in book.values())


def test_read_notebooks_takes_files_and_prefixes_from_several_stores(
    s3_server: S3Server, tmp_path: Path
):
    first, second = s3_server.bucket(), s3_server.bucket()
    fs = s3_server.fs()
    fs.pipe_file(f"{first}/x.ipynb", notebook_bytes(v=1))
    fs.pipe_file(f"{second}/runs/y.ipynb", notebook_bytes(v=2))
    local = tmp_path / "z.ipynb"
    local.write_bytes(notebook_bytes(v=3))

    book = read_notebooks(
        [f"{first}/x.ipynb", f"{second}/runs", local], storage_options=s3_server.options
    )

    assert {name: nb.scraps["v"].data for name, nb in book.items()} == {"x": 1, "y": 2, "z": 3}


def test_read_notebook_and_notebooks_from_azure_blob(azure_server: AzureServer):
    container = azure_server.container()
    fs = azure_server.fs()
    fs.pipe_file(f"{container}/runs/one.ipynb", notebook_bytes(v=1))
    fs.pipe_file(f"{container}/runs/two.ipynb", notebook_bytes(v=2))

    nb = read_notebook(f"{container}/runs/one.ipynb", storage_options=azure_server.options)
    book = read_notebooks(f"{container}/runs", storage_options=azure_server.options)

    assert (nb.filename, nb.directory, nb.scraps["v"].data) == (
        "one.ipynb",
        f"{container}/runs",
        1,
    )
    assert {name: item.scraps["v"].data for name, item in book.items()} == {"one": 1, "two": 2}


def test_read_notebook_and_notebooks_over_http(http_server: HttpServer):
    folder = http_server.root / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.ipynb").write_bytes(notebook_bytes(v=1))
    (folder / "sub" / "two.ipynb").write_bytes(notebook_bytes(v=2))

    nb = read_notebook(f"{http_server.url}/site/one.ipynb")
    flat = read_notebooks(f"{http_server.url}/site/")
    deep = read_notebooks(f"{http_server.url}/site/", recursive=True)

    assert (nb.filename, nb.directory, nb.scraps["v"].data) == (
        "one.ipynb",
        f"{http_server.url}/site",
        1,
    )
    assert list(flat) == ["one"]
    assert {name: item.scraps["v"].data for name, item in deep.items()} == {"one": 1, "sub/two": 2}


class _Gathering(QuietHandler):
    """Holds each notebook request until ``wanted`` are in flight at once (or a bound passes),
    and records the most seen together: a client fetching one after another sees 1."""

    wanted = 4
    lock = threading.Condition()
    in_flight = 0
    most = 0

    def do_GET(self) -> None:
        if self.path.endswith(".ipynb"):
            cls = type(self)
            with cls.lock:
                cls.in_flight += 1
                cls.most = max(cls.most, cls.in_flight)
                cls.lock.notify_all()
                # Waits for the other requests of the batch; the bound only ends the wait of
                # a client that sends them one by one (the failure this test is for).
                cls.lock.wait_for(lambda: cls.in_flight >= cls.wanted, timeout=5)
            try:
                super().do_GET()
            finally:
                with cls.lock:
                    cls.in_flight -= 1
            return
        super().do_GET()


def test_read_notebooks_fetches_a_prefix_concurrently(tmp_path: Path):
    for index in range(_Gathering.wanted):
        (tmp_path / f"n{index}.ipynb").write_bytes(notebook_bytes(v=index))
    with serve_folder(tmp_path, _Gathering) as url:
        book = read_notebooks(f"{url}/")
    assert len(book) == _Gathering.wanted
    assert _Gathering.most == _Gathering.wanted


# -- errors, each one line naming the URL ----------------------------------------------------


def test_a_missing_object_or_bucket_is_a_file_not_found_error_naming_the_url(
    s3_server: S3Server,
):
    bucket = s3_server.bucket()
    for url in (f"{bucket}/nope.ipynb", "s3://no-such-bucket-here/x.ipynb"):
        with pytest.raises(StorageNotFoundError) as caught:
            read_notebook(url, storage_options=s3_server.options)
        assert isinstance(caught.value, FileNotFoundError)
        assert isinstance(caught.value, NotebookReadError)
        assert one_line(caught.value) == f"Cannot read notebook {url}: no such object or bucket"
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        read_notebooks(f"{bucket}/no/prefix", storage_options=s3_server.options)


def test_a_missing_http_page_is_a_file_not_found_error(http_server: HttpServer):
    url = f"{http_server.url}/absent.ipynb"
    with pytest.raises(FileNotFoundError, match=f"Cannot read notebook {url}"):
        read_notebook(url)


def test_access_denied_is_a_permission_error_naming_the_url(azure_server: AzureServer):
    container = azure_server.container()
    azure_server.fs().pipe_file(f"{container}/x.ipynb", notebook_bytes(v=1))
    wrong = azure_server.connection_string(key="d3Jvbmcga2V5IGZvciB0aGUgdGVzdA==")
    url = f"{container}/x.ipynb"
    with pytest.raises(StorageAccessError) as caught:
        read_notebook(url, storage_options={"connection_string": wrong})
    assert isinstance(caught.value, PermissionError)
    assert one_line(caught.value).startswith(f"Cannot read notebook {url}: access denied: ")


def test_missing_credentials_say_what_to_set(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    bucket = s3_server.bucket()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    url = f"{bucket}/x.ipynb"
    options = {"endpoint_url": s3_server.endpoint, "skip_instance_cache": True}
    with pytest.raises(StorageError) as caught:
        read_notebook(url, storage_options=options)
    text = one_line(caught.value)
    assert text.startswith(f"Cannot read notebook {url}: no credentials found")
    assert "AWS_ACCESS_KEY_ID" in text


def test_an_unreachable_endpoint_fails_within_the_client_timeout():
    url = "s3://bucket/x.ipynb"
    options = {
        "endpoint_url": f"http://127.0.0.1:{closed_port()}",
        "key": "testing",
        "secret": "testing",
        "config_kwargs": {"connect_timeout": 2, "retries": {"max_attempts": 1}},
    }
    with pytest.raises(StorageError) as caught:
        read_notebook(url, storage_options=options)
    assert one_line(caught.value).startswith(
        f"Cannot read notebook {url}: the store cannot be reached: "
    )


def test_a_url_whose_client_is_not_installed_names_the_extra():
    # gcsfs is kept out of the test extra so that this client is really missing.
    assert importlib.util.find_spec("gcsfs") is None
    with pytest.raises(StorageError) as caught:
        read_notebook("gs://bucket/x.ipynb")
    assert one_line(caught.value) == (
        "Cannot read notebook gs://bucket/x.ipynb: the client for gs:// URLs is not installed; "
        "pip install 'pytest-nbscrap[gcs]'"
    )


def test_remote_bytes_are_checked_as_a_local_file_is(s3_server: S3Server):
    bucket = s3_server.bucket()
    s3_server.fs().pipe_file(f"{bucket}/bad.ipynb", b'{"cells": [}')
    with pytest.raises(NotebookReadError, match=rf"^Cannot read notebook {bucket}/bad.ipynb: not"):
        read_notebook(f"{bucket}/bad.ipynb", storage_options=s3_server.options)


def test_storage_errors_pickle_with_their_kind_and_message(s3_server: S3Server):
    with pytest.raises(StorageNotFoundError) as caught:
        read_notebook(f"{s3_server.bucket()}/x.ipynb", storage_options=s3_server.options)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (type(copy), str(copy), copy.url) == (
        StorageNotFoundError,
        str(caught.value),
        caught.value.url,
    )


# -- writing ---------------------------------------------------------------------------------


def test_a_notebook_written_to_a_url_is_the_local_file_s_exact_text(
    s3_server: S3Server, tmp_path: Path
):
    import nbformat

    from pytest_nbscrap._notebook_file import Writer

    cells = [scrap_cell(v=1), code_cell("print('é')\n" * 3)]
    nb = nbformat.from_dict(notebook(*({**cell, "id": f"c{i}"} for i, cell in enumerate(cells))))
    bucket = s3_server.bucket()
    Writer(tmp_path / "local.ipynb").final(nb)
    Writer(f"{bucket}/out/remote.ipynb", s3_server.options).final(nb)
    assert (
        s3_server.fs().cat_file(f"{bucket}/out/remote.ipynb")
        == (tmp_path / "local.ipynb").read_bytes()
    )


def test_writing_to_a_missing_bucket_says_so(s3_server: S3Server):
    import nbformat

    from pytest_nbscrap._notebook_file import Writer

    url = "s3://no-such-bucket-here/out.ipynb"
    with pytest.raises(StorageError, match=f"^Cannot write notebook {url}: "):
        Writer(url, s3_server.options).final(nbformat.from_dict(notebook()))


# -- the command line, finding the store the usual ways (fsspec's config, AWS variables) -----


def test_nbscrap_scraps_and_render_read_urls(s3_server: S3Server):
    bucket = s3_server.bucket()
    fs = s3_server.fs()
    fs.pipe_file(f"{bucket}/runs/one.ipynb", notebook_bytes(speed=3))

    listed = nbscrap(s3_server.env, "scraps", f"{bucket}/runs", "--json")
    rendered = nbscrap(s3_server.env, "render", f"{bucket}/runs/one.ipynb")
    missing = nbscrap(s3_server.env, "scraps", f"{bucket}/runs/none.ipynb")

    assert (listed.returncode, listed.stderr) == (0, ""), listed.stderr
    rows = json.loads(listed.stdout)
    assert [(row["name"], row["data"], row["notebook"]) for row in rows] == [
        ("speed", 3, f"{bucket}/runs/one.ipynb")
    ]
    assert (rendered.returncode, rendered.stderr) == (0, ""), rendered.stderr
    assert rendered.stdout.startswith(f"{bucket}/runs/one.ipynb (1 cell)\n")
    assert missing.returncode != 0
    assert (
        f"Cannot read notebook {bucket}/runs/none.ipynb: no such file or folder" in missing.stderr
    )


def test_nbscrap_run_prepare_only_reads_and_writes_urls(s3_server: S3Server, tmp_path: Path):
    bucket = s3_server.bucket()
    fs = s3_server.fs()
    source = write_code_notebook(tmp_path / "src.ipynb", "print(n)", params="n = 1")
    fs.put_file(str(source), f"{bucket}/src.ipynb")

    done = nbscrap(
        s3_server.env,
        "run",
        f"{bucket}/src.ipynb",
        f"{bucket}/out/prepared.ipynb",
        "-p",
        "n",
        "5",
        "--prepare-only",
    )

    assert done.returncode == 0, done.stderr
    nb = read_notebook(f"{bucket}/out/prepared.ipynb", storage_options=s3_server.options)
    assert nb.parameters == {"n": 5}
    assert nb.metadata.papermill.input_path == f"{bucket}/src.ipynb"
