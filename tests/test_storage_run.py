"""Notebooks run from and into S3 (moto's server on 127.0.0.1, tests/_servers.py): the library,
``ExecutionSession``, ``nbscrap run`` and ``--nbscrap-output-dir s3://...``. Each test starts
as few kernels as it can."""

from __future__ import annotations

from pathlib import Path

import pytest
from _servers import AzureServer, S3Server, nbscrap
from helpers import write_code_notebook

from pytest_nbscrap import (
    CellExecutionError,
    ExecutionSession,
    execute_notebook,
    read_notebook,
    read_notebooks,
)

pytestmark = pytest.mark.kernel

GLUING = (
    "import os, pandas as pd\n"
    "from pytest_nbscrap import glue\n"
    "glue('doubled', n * 2)\n"
    "glue('frame', pd.DataFrame({'x': [n, n + 1], 'label': ['a', 'b']}))\n"
    "glue('cwd', os.getcwd())"
)


def upload(s3: S3Server, source: Path, url: str) -> str:
    s3.fs().put_file(str(source), url)
    return url


def test_a_notebook_executed_from_s3_into_s3_reads_back_with_scraps_and_parameters(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import pandas as pd

    bucket = s3_server.bucket()
    source = upload(
        s3_server,
        write_code_notebook(tmp_path / "src.ipynb", GLUING, params="n = 1"),
        f"{bucket}/src/trend.ipynb",
    )
    workdir = tmp_path / "here"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # a notebook at a URL has no folder: it runs in the cwd

    ran = execute_notebook(
        source,
        {"n": 20},
        output_path=f"{bucket}/runs/trend-20.ipynb",
        storage_options=s3_server.options,
    )
    book = read_notebooks(f"{bucket}/runs", storage_options=s3_server.options)

    assert ran.path == f"{bucket}/runs/trend-20.ipynb"
    assert list(book) == ["trend-20"]
    nb = book["trend-20"]
    assert (nb.filename, nb.directory) == ("trend-20.ipynb", f"{bucket}/runs")
    assert nb.parameters == {"n": 20}
    assert nb.scraps["doubled"].data == 40
    assert nb.scraps["cwd"].data == str(workdir)
    pd.testing.assert_frame_equal(
        nb.scraps["frame"].data, pd.DataFrame({"x": [20, 21], "label": ["a", "b"]})
    )
    assert nb.metadata.papermill.input_path == source


def test_async_execute_notebook_runs_from_and_into_azure_blob(
    azure_server: AzureServer, tmp_path: Path
):
    import asyncio

    from pytest_nbscrap._executor import async_execute_notebook

    container = azure_server.container()
    source = write_code_notebook(tmp_path / "src.ipynb", GLUING, params="n = 1")
    azure_server.fs().put_file(str(source), f"{container}/src.ipynb")
    output = f"{container}/runs/src.ipynb"

    ran = asyncio.run(
        async_execute_notebook(
            f"{container}/src.ipynb",
            {"n": 4},
            output_path=output,
            cwd=tmp_path,
            storage_options=azure_server.options,
        )
    )

    kept = read_notebook(output, storage_options=azure_server.options)
    assert (ran.path, kept.parameters, kept.scraps["doubled"].data) == (output, {"n": 4}, 8)


def test_execution_session_keeps_a_failed_run_at_its_url(s3_server: S3Server, tmp_path: Path):
    bucket = s3_server.bucket()
    source = upload(
        s3_server,
        write_code_notebook(tmp_path / "fails.ipynb", "x = 1", "1 / 0"),
        f"{bucket}/fails.ipynb",
    )
    output = f"{bucket}/runs/fails.ipynb"

    with ExecutionSession() as session, pytest.raises(CellExecutionError) as caught:
        session.execute(source, output_path=output, storage_options=s3_server.options)

    assert caught.value.output_path == output
    assert str(caught.value).endswith(f"executed notebook: {output}")
    kept = read_notebook(output, storage_options=s3_server.options)
    assert kept.cells[1].outputs[0]["ename"] == "ZeroDivisionError"


def test_nbscrap_run_reads_and_writes_s3_found_through_the_environment(
    s3_server: S3Server, tmp_path: Path
):
    bucket = s3_server.bucket()
    source = upload(
        s3_server,
        write_code_notebook(tmp_path / "src.ipynb", GLUING, params="n = 1"),
        f"{bucket}/src.ipynb",
    )
    # FSSPEC_S3_ENDPOINT_URL and the AWS variables find the store: no storage_options.
    done = nbscrap(
        s3_server.env, "run", source, f"{bucket}/out.ipynb", "-p", "n", "3", "--cwd", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    nb = read_notebook(f"{bucket}/out.ipynb", storage_options=s3_server.options)
    assert (nb.parameters, nb.scraps["doubled"].data) == ({"n": 3}, 6)


def test_pytest_output_dir_on_s3_receives_the_executed_notebooks(
    s3_server: S3Server, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    bucket = s3_server.bucket()
    write_code_notebook(
        pytester.path / "nbs" / "calc.ipynb", "from pytest_nbscrap import glue\nglue('v', 7)"
    )
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)

    result = pytester.runpytest_subprocess(
        "--nbscrap", "--nbscrap-output-dir", f"{bucket}/ci", "nbs"
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*uploaded to {bucket}/ci when the session ends*"])
    book = read_notebooks(f"{bucket}/ci", recursive=True, storage_options=s3_server.options)
    assert [nb.scraps["v"].data for nb in book.values()] == [7]


def test_pytest_xdist_workers_notebooks_reach_the_output_url_once_they_are_done(
    s3_server: S3Server, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    bucket = s3_server.bucket()
    for name in ("one", "two"):
        write_code_notebook(
            pytester.path / f"{name}.ipynb", f"from pytest_nbscrap import glue\nglue('v', {name!r})"
        )
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)

    result = pytester.runpytest_subprocess(
        "-n", "2", "--nbscrap", "--nbscrap-output-dir", f"{bucket}/ci"
    )

    result.assert_outcomes(passed=2)
    book = read_notebooks(f"{bucket}/ci", recursive=True, storage_options=s3_server.options)
    # Each worker's subfolder (gw0/, gw1/) is uploaded as it is laid out locally.
    assert sorted(nb.scraps["v"].data for nb in book.values()) == ["one", "two"]
    assert all(name.startswith("gw") for name in book)


def test_pytest_output_dir_on_a_missing_bucket_is_a_usage_error_before_any_run(
    s3_server: S3Server, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    write_code_notebook(pytester.path / "calc.ipynb", "1")
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)

    result = pytester.runpytest_subprocess(
        "--nbscrap", "--nbscrap-output-dir", "s3://no-such-bucket-here/ci"
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--nbscrap-output-dir s3://no-such-bucket-here/ci: Cannot write notebook*"]
    )


def test_nbscrap_run_grid_writes_its_folder_of_runs_under_an_s3_prefix(
    s3_server: S3Server, tmp_path: Path
):
    bucket = s3_server.bucket()
    source = upload(
        s3_server,
        write_code_notebook(tmp_path / "src.ipynb", GLUING, params="n = 1"),
        f"{bucket}/src.ipynb",
    )
    done = nbscrap(
        s3_server.env,
        *("run", source, f"{bucket}/grid/", "--grid", "n=1,2"),
        *("--cwd", str(tmp_path), "--no-progress-bar"),
    )
    assert done.returncode == 0, done.stderr
    assert f"{bucket}/grid/n=1.ipynb" in done.stdout  # the table names where each run went
    book = read_notebooks(f"{bucket}/grid", storage_options=s3_server.options)
    assert {name: nb.scraps["doubled"].data for name, nb in book.items()} == {
        "n=1": 2,
        "n=2": 4,
    }
