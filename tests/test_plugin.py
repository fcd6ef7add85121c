"""The pytest plugin, driven through pytester the way users run it."""

from __future__ import annotations

import re

import pytest
from helpers import write_code_notebook

pytestmark = pytest.mark.kernel

COUNTING = (
    "import pytest_nbscrap as sb\n"
    "with open('runs.log', 'a') as log:\n"
    "    log.write(f'{symbol}\\n')\n"
    "sb.glue('symbol', symbol)\n"
    "sb.glue('length', len(symbol))"
)


@pytest.fixture
def counting(pytester):
    """A notebook that records each execution in runs.log beside it and glues its symbol."""
    return write_code_notebook(
        pytester.path / "nbs" / "count.ipynb", COUNTING, params="symbol = 'X'"
    )


def runs_of(pytester):
    return (pytester.path / "nbs" / "runs.log").read_text().split()


def test_markers_are_registered_with_help(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.notebook(path, *, kernel=None, timeout=None, cwd=None):*",
            "@pytest.mark.nb_params(*param_sets, **params):*",
        ]
    )


def test_scraps_fixture_hands_a_test_the_notebooks_values(pytester, counting):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.notebook("nbs/count.ipynb")
        @pytest.mark.nb_params(symbol="XYZ")
        def test_symbol(scraps, nb):
            assert scraps["symbol"].data == "XYZ"
            assert nb.parameters == {"symbol": "XYZ"}
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_several_param_sets_parametrize_with_readable_ids_that_k_selects(pytester, counting):
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.notebook("nbs/count.ipynb")

        @pytest.mark.nb_params({"symbol": "AAA"}, {"symbol": "BBBB"})
        def test_length(scraps, nb):
            assert scraps["length"].data == len(nb.parameters["symbol"])
        """
    )
    collected = pytester.runpytest("--collect-only", "-q")
    collected.stdout.fnmatch_lines(
        ["*test_length[[]symbol=AAA[]]", "*test_length[[]symbol=BBBB[]]"]
    )
    result = pytester.runpytest_subprocess("-k", "BBBB", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    assert runs_of(pytester) == ["BBBB"]


def test_one_execution_per_parameter_set_is_shared_by_every_test(pytester, counting):
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.notebook("nbs/count.ipynb")

        @pytest.mark.nb_params(symbol="A")
        def test_one(scraps):
            assert scraps["symbol"].data == "A"

        @pytest.mark.nb_params(symbol="A")
        def test_two(nb):
            assert nb.scraps["length"].data == 1

        @pytest.mark.nb_params({"symbol": "A"}, {"symbol": "B"})
        def test_three(scraps):
            assert scraps["symbol"].data in "AB"

        def test_four(run_notebook):
            assert run_notebook("nbs/count.ipynb", symbol="B").scraps["symbol"].data == "B"
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=5)
    assert sorted(runs_of(pytester)) == ["A", "B"]


def test_keyword_params_are_merged_into_each_set_and_the_closest_marker_wins(pytester):
    write_code_notebook(
        pytester.path / "nbs" / "two.ipynb",
        "import pytest_nbscrap as sb\nsb.glue('pair', [a, b])",
        params="a = 0\nb = 0",
    )
    pytester.makepyfile(
        """
        import pytest

        pytestmark = [pytest.mark.notebook("nbs/two.ipynb"), pytest.mark.nb_params(a=100)]

        @pytest.mark.nb_params({"a": 1}, {"a": 2}, b=9)
        def test_merged(scraps, nb):
            assert scraps["pair"].data == [nb.parameters["a"], 9]

        def test_module_params(scraps):
            assert scraps["pair"].data == [100, 0]
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=3)


def test_paths_are_relative_to_the_test_files_folder_and_cwd_is_the_notebooks(pytester):
    write_code_notebook(
        pytester.path / "notebooks" / "where.ipynb",
        "import os, pytest_nbscrap as sb\nsb.glue('cwd', os.getcwd())",
    )
    tests = pytester.mkdir("tests")
    (tests / "test_where.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.notebook('../notebooks/where.ipynb')\n"
        "class TestWhere:\n"
        "    def test_cwd(self, scraps):\n"
        f"        assert scraps['cwd'].data == {str(pytester.path / 'notebooks')!r}\n"
    )
    pytester.runpytest_subprocess("tests").assert_outcomes(passed=1)


@pytest.mark.parametrize("fixture", ["scraps", "nb"])
def test_asking_for_a_fixture_without_a_notebook_marker_says_what_to_add(pytester, fixture):
    pytester.makepyfile(f"def test_lost({fixture}):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*uses the {fixture!r} fixture but no notebook is named: add @pytest.mark.notebook(*"]
    )


def test_a_notebook_that_fails_errors_the_test_at_setup_with_the_failure_view(pytester):
    write_code_notebook(pytester.path / "nbs" / "bad.ipynb", "x = 1", "print('before')", "1 / 0")
    pytester.makepyfile(
        test_b="""
        import pytest

        @pytest.mark.notebook("nbs/bad.ipynb")
        def test_value(scraps):
            pass
        """
    )
    result = pytester.runpytest_subprocess("--color=no")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*before*",
            "*1 / 0*",
            "*ZeroDivisionError*",
            "ERROR test_b.py::test_value - ZeroDivisionError: division by zero (cell 3)",
        ]
    )
    assert "_pytest" not in result.stdout.str()


def test_an_assertion_in_a_test_looks_like_pytests_own(pytester, counting):
    pytester.makepyfile(
        test_a="""
        import pytest

        @pytest.mark.notebook("nbs/count.ipynb")
        def test_value(scraps):
            assert scraps["length"].data == 99
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*assert 1 == 99*", "FAILED test_a.py::test_value - AssertionError: assert 1 == 99"]
    )


def test_nbscrap_collects_notebooks_as_items_that_pass_or_fail(pytester):
    write_code_notebook(pytester.path / "nbs" / "good.ipynb", "x = 1")
    write_code_notebook(
        pytester.path / "nbs" / "trend.ipynb", "x = 1", "y = 2", "print('x is', x)", "x / 0"
    )
    result = pytester.runpytest_subprocess("--nbscrap", "nbs", "--color=no")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["FAILED nbs/trend.ipynb::trend - ZeroDivisionError: division by zero (cell 4)"]
    )
    output = result.stdout.str()
    assert "x is 1" in output
    assert "\x1b[" not in output


def test_the_failure_view_keeps_colour_when_pytest_colours(pytester):
    write_code_notebook(pytester.path / "nbs" / "trend.ipynb", "x = 1", "x / 0")
    result = pytester.runpytest_subprocess("--nbscrap", "nbs", "--color=yes")
    result.assert_outcomes(failed=1)
    assert "\x1b[" in result.stdout.str()


def test_without_nbscrap_notebooks_are_not_collected(pytester):
    write_code_notebook(pytester.path / "nbs" / "good.ipynb", "x = 1")
    result = pytester.runpytest("nbs")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_checkpoints_hidden_folders_and_other_patterns_are_not_collected(pytester):
    write_code_notebook(pytester.path / "nbs" / "good.ipynb", "x = 1")
    write_code_notebook(
        pytester.path / "nbs" / ".ipynb_checkpoints" / "good-checkpoint.ipynb", "x = 1"
    )
    write_code_notebook(pytester.path / "nbs" / ".hidden" / "secret.ipynb", "x = 1")
    write_code_notebook(pytester.path / "nbs" / "draft_one.ipynb", "x = 1")
    pytester.makeini("[pytest]\nnbscrap_glob = good*.ipynb\n")
    result = pytester.runpytest("--nbscrap", "nbs", "--collect-only", "-q")
    assert re.findall(r"\S+::\S+", result.stdout.str()) == ["nbs/good.ipynb::good"]


def test_notebook_metadata_gives_params_skip_xfail_and_markers(pytester):
    write_code_notebook(
        pytester.path / "nbs" / "multi.ipynb",
        "import pytest_nbscrap as sb\nassert symbol in ('A', 'B')",
        params="symbol = 'X'",
        nbscrap={"params": [{"symbol": "A"}, {"symbol": "B"}], "markers": ["slowish"]},
    )
    write_code_notebook(
        pytester.path / "nbs" / "later.ipynb", "x = 1", nbscrap={"skip": "not ready"}
    )
    write_code_notebook(
        pytester.path / "nbs" / "known.ipynb", "1 / 0", nbscrap={"xfail": "known bug"}
    )
    pytester.makeini("[pytest]\nmarkers =\n    slowish: slow notebooks\n")
    result = pytester.runpytest_subprocess("--nbscrap", "nbs", "-rsx")
    result.assert_outcomes(passed=2, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["*not ready*", "*known bug*"])
    selected = pytester.runpytest_subprocess(
        "--nbscrap", "nbs", "-m", "slowish", "--collect-only", "-q"
    )
    assert re.findall(r"\S+::\S+", selected.stdout.str()) == [
        "nbs/multi.ipynb::multi[symbol=A]",
        "nbs/multi.ipynb::multi[symbol=B]",
    ]


def test_nb_params_added_to_collected_items_are_honoured(pytester, counting):
    pytester.makeconftest(
        """
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.nb_params({"symbol": "P"}, {"symbol": "Q"}))
        """
    )
    result = pytester.runpytest_subprocess("--nbscrap", "nbs", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*count.ipynb::count[[]symbol=P[]] PASSED*", "*count.ipynb::count[[]symbol=Q[]] PASSED*"]
    )
    assert sorted(runs_of(pytester)) == ["P", "Q"]


def test_report_header_says_what_is_in_force(pytester):
    result = pytester.runpytest("--nbscrap", "--nbscrap-timeout", "7", "--collect-only")
    result.stdout.fnmatch_lines(
        [
            "nbscrap: kernel each notebook's own, 7s per cell, 1 worker, unknown parameters warn, "
            "collecting *.ipynb, executed notebooks in /*/nbscrap"
        ]
    )


def test_an_output_dir_that_is_a_file_is_a_usage_error(pytester):
    blocker = pytester.path / "out"
    blocker.write_text("")
    result = pytester.runpytest("--nbscrap", f"--nbscrap-output-dir={blocker}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--nbscrap-output-dir {blocker} is a file, not a folder*"])


def test_executed_notebooks_are_kept_in_the_output_dir_and_sources_untouched(pytester, counting):
    before = counting.read_bytes()
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.notebook("nbs/count.ipynb")
        @pytest.mark.nb_params({"symbol": "A"}, {"symbol": "../../x"})
        def test_run(nb):
            pass
        """
    )
    out = pytester.path / "executed"
    pytester.runpytest_subprocess(f"--nbscrap-output-dir={out}").assert_outcomes(passed=2)
    kept = sorted(path.relative_to(out).as_posix() for path in out.rglob("*.ipynb"))
    assert len(kept) == 2
    assert all("/" not in name for name in kept)
    assert counting.read_bytes() == before


def test_xdist_gives_the_same_outcomes_as_a_serial_run(pytester, counting):
    write_code_notebook(pytester.path / "nbs" / "bad.ipynb", "1 / 0")
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.notebook("nbs/count.ipynb")

        @pytest.mark.nb_params({"symbol": "A"}, {"symbol": "B"}, {"symbol": "C"})
        def test_symbol(scraps):
            assert scraps["symbol"].data != "C"
        """
    )
    serial = pytester.runpytest_subprocess("--nbscrap", "--color=no")
    parallel = pytester.runpytest_subprocess("--nbscrap", "-n", "2", "--color=no")
    assert serial.parseoutcomes() == parallel.parseoutcomes()
    serial.assert_outcomes(passed=3, failed=2)
    parallel.assert_outcomes(passed=3, failed=2)
    parallel.stdout.fnmatch_lines(
        ["FAILED nbs/bad.ipynb::bad - ZeroDivisionError: division by zero (cell 1)"]
    )


def test_plays_well_with_lf_junitxml_durations_and_disabling(pytester, counting):
    write_code_notebook(pytester.path / "nbs" / "bad.ipynb", "1 / 0")
    first = pytester.runpytest_subprocess(
        "--nbscrap", "nbs", "--junitxml=report.xml", "--durations=3"
    )
    first.assert_outcomes(passed=1, failed=1)
    assert 'name="bad"' in (pytester.path / "report.xml").read_text()
    again = pytester.runpytest_subprocess("--nbscrap", "nbs", "--lf")
    again.assert_outcomes(failed=1)
    disabled = pytester.runpytest_subprocess("-p", "no:nbscrap", "nbs")
    assert disabled.ret == pytest.ExitCode.NO_TESTS_COLLECTED
