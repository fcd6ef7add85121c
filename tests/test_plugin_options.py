"""The plugin as a newcomer meets it: typed ini values, the report header and summary, a cell's
pytest.skip, the unknown-parameter warning (and making it an error), and pytest without tmpdir."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import write_code_notebook

pytestmark = pytest.mark.kernel

NOTEBOOK = "import pytest_nbscrap as sb\nsb.glue('symbol', symbol)"


@pytest.fixture
def glues(pytester):
    return write_code_notebook(pytester.path / "nbs" / "g.ipynb", NOTEBOOK, params="symbol = 'X'")


MISSPELLED = """
    import pytest

    @pytest.mark.notebook("nbs/g.ipynb")
    @pytest.mark.nb_params(symbl="AAA")
    def test_misspelled(scraps):
        assert scraps["symbol"].data == "X"
    """


def collected_with(pytester, params):
    """nbs/m.ipynb, whose metadata.nbscrap gives ``params``; its parameters cell defines symbol."""
    write_code_notebook(
        pytester.path / "nbs" / "m.ipynb",
        "x = 1",
        params="symbol = 'X'",
        nbscrap={"params": params},
    )


# -- item 14: pytest.skip in a cell -----------------------------------------------------------


def test_pytest_skip_in_a_cell_skips_the_item_and_the_tests_with_its_reason(pytester):
    write_code_notebook(
        pytester.path / "nbs" / "later.ipynb",
        "import pytest\npytest.skip('no data before Monday')",
        "raise AssertionError('never runs')",
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.notebook("nbs/later.ipynb")
        def test_value(scraps):
            raise AssertionError("never runs")

        @pytest.mark.notebook("nbs/later.ipynb")
        def test_notebook(nb):
            raise AssertionError("never runs")
        """
    )
    result = pytester.runpytest_subprocess("--nbscrap", "-rs")
    result.assert_outcomes(skipped=3)
    output = result.stdout.str()
    assert output.count("no data before Monday") == 3
    assert "never runs" not in output


# -- item 13: the unknown-parameter warning ---------------------------------------------------


def test_the_unknown_parameter_warning_points_at_the_test_that_asked(pytester, glues):
    pytester.makepyfile(test_typo=MISSPELLED)
    result = pytester.runpytest_subprocess("-W", "default")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*/test_typo.py:3: UnknownParameterWarning: *does not define 'symbl'; it defines*"]
    )
    assert "_runs.py" not in result.stdout.str()


def test_a_collected_notebooks_warning_points_at_the_notebook(pytester, glues):
    collected_with(pytester, {"symbl": "A"})
    result = pytester.runpytest_subprocess("--nbscrap", "nbs/m.ipynb", "-W", "default")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*/nbs/m.ipynb:1: UnknownParameterWarning: *'symbl'*"])


@pytest.mark.parametrize(
    "how",
    [
        ("-W", "error::pytest_nbscrap.UnknownParameterWarning"),
        ("--nbscrap-strict-params",),
        ("-o", "nbscrap_strict_params=true"),
    ],
    ids=["-W error", "--nbscrap-strict-params", "ini nbscrap_strict_params"],
)
def test_an_unknown_parameter_can_fail_the_test(pytester, glues, how):
    pytester.makepyfile(test_typo=MISSPELLED)
    result = pytester.runpytest_subprocess(*how)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_misspelled*",
            "*g.ipynb: the parameters cell (cell 1) does not define 'symbl'; it defines 'symbol'*",
            "ERROR test_typo.py::test_misspelled - UnknownParameterWarning: the parameters*",
        ]
    )
    assert "_runs.py" not in result.stdout.str()


def test_strict_params_in_the_ini_file_fails_every_collected_item_that_misspells(pytester, glues):
    collected_with(pytester, [{"symbl": "A"}, {"symbol": "B"}])
    pytester.makeini("[pytest]\nnbscrap_strict_params = true\n")
    result = pytester.runpytest_subprocess("--nbscrap", "nbs/m.ipynb")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED nbs/m.ipynb::m[[]symbl=A[]] - UnknownParameterWarning*"])


def test_a_missing_kernel_from_the_marker_or_the_option_names_it(pytester, glues):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.notebook("nbs/g.ipynb", kernel="no-such-kernel-m")
        def test_marker(nb):
            pass

        @pytest.mark.notebook("nbs/g.ipynb")
        def test_option(nb):
            pass
        """
    )
    result = pytester.runpytest("--nbscrap-kernel", "no-such-kernel-o")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*'no-such-kernel-m'*(asked for by the notebook marker's kernel=)*",
            "*'no-such-kernel-o'*(asked for by --nbscrap-kernel)*",
        ]
    )


# -- item 16: typed ini values, and the output folder relative to the ini file ----------------


def test_pytest_9s_native_toml_table_takes_typed_values(pytester, glues):
    (pytester.path / "pyproject.toml").write_text(
        "[tool.pytest]\n"
        "nbscrap = true\n"
        "nbscrap_timeout = 60\n"
        "nbscrap_workers = 2\n"
        "nbscrap_strict_params = false\n"
        'nbscrap_output_dir = "kept"\n'
    )
    result = pytester.runpytest_subprocess("nbs")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "nbscrap: kernel each notebook's own, 60s per cell, 2 workers, unknown parameters "
            f"warn, collecting *.ipynb, executed notebooks in {pytester.path / 'kept'}"
        ]
    )


def test_the_ini_output_dir_is_relative_to_the_ini_files_folder(pytester, glues):
    pytester.makeini("[pytest]\nnbscrap_output_dir = kept\n")
    sub = pytester.mkdir("sub")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sub)
        result = pytester.runpytest_subprocess("--nbscrap", "../nbs")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "kept" / "nbs__g.ipynb").exists()


def test_the_command_line_output_dir_is_relative_to_where_pytest_started(pytester, glues):
    sub = pytester.mkdir("sub")
    pytester.makeini("[pytest]\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sub)
        result = pytester.runpytest_subprocess("--nbscrap", "--nbscrap-output-dir=kept", "../nbs")
    result.assert_outcomes(passed=1)
    assert (sub / "kept" / "nbs__g.ipynb").exists()


# -- item 17: the header and the closing line -------------------------------------------------


def test_the_header_names_the_default_folder_and_every_option(pytester, glues):
    result = pytester.runpytest_subprocess(
        "--nbscrap", "--nbscrap-workers=3", "--nbscrap-strict-params", "--collect-only"
    )
    header = next(line for line in result.outlines if line.startswith("nbscrap:"))
    assert header.startswith(
        "nbscrap: kernel each notebook's own, 300s per cell, 3 workers, unknown parameters "
        "fail, collecting *.ipynb, executed notebooks in /"
    )
    assert header.endswith("/nbscrap")
    assert "basetemp" not in header


def test_a_failing_session_ends_saying_where_the_executed_notebooks_are(pytester, glues):
    write_code_notebook(pytester.path / "nbs" / "bad.ipynb", "1 / 0")
    result = pytester.runpytest_subprocess("--nbscrap", "nbs")
    result.assert_outcomes(passed=1, failed=1)
    header = next(line for line in result.outlines if line.startswith("nbscrap:"))
    folder = header.rsplit("executed notebooks in ", 1)[1]
    # After the failures, before pytest's short summary of them.
    result.stdout.fnmatch_lines(
        ["*ZeroDivisionError*", f"nbscrap: executed notebooks are in {folder}", "*short test*"]
    )
    assert (pytester.path / folder / "nbs__bad.ipynb").exists()


def test_under_xdist_the_header_folder_holds_every_workers_notebooks(pytester, glues):
    write_code_notebook(pytester.path / "nbs" / "bad.ipynb", "1 / 0")
    result = pytester.runpytest_subprocess("--nbscrap", "nbs", "-n", "2")
    result.assert_outcomes(passed=1, failed=1)
    line = next(line for line in result.outlines if line.startswith("nbscrap: kernel"))
    folder = re.search(r"executed notebooks in (\S+)", line)
    assert folder is not None
    kept = sorted(path.name for path in (pytester.path / folder[1]).rglob("*.ipynb"))
    assert kept == ["nbs__bad.ipynb", "nbs__g.ipynb"]
    result.stdout.fnmatch_lines([f"nbscrap: executed notebooks are in {folder[1]}"])


def test_a_passing_session_says_nothing_at_the_end(pytester, glues):
    result = pytester.runpytest_subprocess("--nbscrap", "nbs")
    result.assert_outcomes(passed=1)
    assert "executed notebooks are in" not in result.stdout.str()


# -- item 15: pytest without its tmpdir plugin ------------------------------------------------


def test_without_tmpdir_an_output_dir_is_enough(pytester, glues):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.notebook("nbs/g.ipynb")
        def test_it(scraps):
            assert scraps["symbol"].data == "X"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:tmpdir", "--nbscrap", "--nbscrap-output-dir=out"
    )
    result.assert_outcomes(passed=2)
    assert (pytester.path / "out" / "nbs__g.ipynb").exists()


def test_without_tmpdir_or_an_output_dir_one_line_says_what_to_give(pytester, glues):
    result = pytester.runpytest("-p", "no:tmpdir", "--nbscrap")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *-p no:tmpdir*give --nbscrap-output-dir DIR*"])
    assert "Traceback" not in result.stderr.str()
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.notebook("nbs/g.ipynb")
        def test_it(scraps):
            pass
        """
    )
    fixtures = pytester.runpytest("-p", "no:tmpdir")
    fixtures.assert_outcomes(errors=1)
    fixtures.stdout.fnmatch_lines(["*ERROR at setup of test_it*", "*give --nbscrap-output-dir*"])
    assert "AttributeError" not in fixtures.stdout.str()


# -- item 19: the README's first configuration, as a newcomer copies it ------------------------


def test_the_quickstarts_toml_is_taken_as_written(pytester, glues):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    toml = re.search(r"```toml\n(.*?)```", quickstart, re.S)
    assert toml is not None
    (pytester.path / "pyproject.toml").write_text(toml[1])
    collected = pytester.runpytest_subprocess("nbs")  # nbscrap = true: collected without a flag
    collected.assert_outcomes(passed=1)
    collected.stdout.fnmatch_lines(["nbscrap: *60s per cell*unknown parameters fail*"])
    pytester.makepyfile(test_typo=MISSPELLED)
    pytester.runpytest_subprocess("test_typo.py").assert_outcomes(errors=1)
