"""The ``run_notebooks`` fixture: one notebook run for many parameter sets into one folder."""

from __future__ import annotations

import pytest
from helpers import write_code_notebook

COUNTING = (
    "import pytest_nbscrap as sb\n"
    "with open('runs.log', 'a') as log:\n"
    "    log.write(f'{symbol}\\n')\n"
    "sb.glue('symbol', symbol)\n"
    "assert symbol != 'fail', 'told to fail'"
)

SUMMARY = (
    "import pytest_nbscrap as sb\n"
    "book = sb.read_notebooks(source_dir)\n"
    "sb.glue('symbols', [nb.scraps['symbol'].data for nb in book.notebooks])"
)


@pytest.fixture
def counting(pytester):
    """A notebook that records each execution in runs.log beside it, glues its symbol, and
    fails for the symbol 'fail'."""
    return write_code_notebook(
        pytester.path / "nbs" / "count.ipynb", COUNTING, params="symbol = 'X'\nsuffix = ''"
    )


def runs_of(pytester):
    return (pytester.path / "nbs" / "runs.log").read_text().split()


@pytest.mark.kernel
def test_runs_land_in_one_folder_a_summary_reads_and_two_tests_share_them(pytester, counting):
    write_code_notebook(pytester.path / "nbs" / "summary.ipynb", SUMMARY, params="source_dir = ''")
    pytester.makepyfile(
        """
        SETS = [{"symbol": "AAA"}, {"symbol": "BB"}]

        def test_one_file_per_set_named_by_its_id(run_notebooks):
            runs = run_notebooks("nbs/count.ipynb", SETS, suffix="z")
            assert sorted(path.name for path in runs.folder.iterdir()) == [
                "symbol=AAA,suffix=z.ipynb",
                "symbol=BB,suffix=z.ipynb",
            ]
            assert list(runs.book) == ["symbol=AAA,suffix=z", "symbol=BB,suffix=z"]
            assert [nb.parameters for nb in runs.book.notebooks] == [
                {"symbol": "AAA", "suffix": "z"},
                {"symbol": "BB", "suffix": "z"},
            ]
            assert all(nb.path.startswith(str(runs.folder)) for nb in runs.book.notebooks)

        def test_a_summary_over_the_folder_is_one_line(run_notebooks, run_notebook):
            runs = run_notebooks("nbs/count.ipynb", SETS, suffix="z")
            summary = run_notebook("nbs/summary.ipynb", source_dir=str(runs.folder))
            assert summary.scraps["symbols"].data == ["AAA", "BB"]
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=2)
    assert sorted(runs_of(pytester)) == ["AAA", "BB"]


@pytest.mark.kernel
def test_a_failing_set_fails_the_test_with_its_failure_view_after_the_others_ran(
    pytester, counting
):
    pytester.makepyfile(
        test_f="""
        def test_fan_out(run_notebooks):
            run_notebooks("nbs/count.ipynb", [{"symbol": s} for s in ("AAA", "fail", "CC")])
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "AssertionError: told to fail",
            "  in cell 2 (In [[]3[]]) of */nbs/count.ipynb",
            "  executed notebook: *count-*[[]symbol=fail[]].ipynb",
            "FAILED test_f.py::test_fan_out - AssertionError: told to fail (cell 2)",
        ]
    )
    assert runs_of(pytester) == ["AAA", "fail", "CC"]


@pytest.mark.kernel
def test_the_sessions_workers_run_the_sets_at_once(pytester):
    # Each run waits for the other to have started: they only both finish side by side.
    meet = (
        "import pathlib, time\n"
        "pathlib.Path(f'{me}.here').touch()\n"
        "deadline = time.monotonic() + 60\n"
        "while not pathlib.Path(f'{other}.here').exists():\n"
        "    assert time.monotonic() < deadline, 'ran alone'\n"
        "    time.sleep(0.05)"
    )
    write_code_notebook(pytester.path / "nbs" / "meet.ipynb", meet, params="me = ''\nother = ''")
    pytester.makepyfile(
        """
        def test_side_by_side(run_notebooks):
            sets = [{"me": "a", "other": "b"}, {"me": "b", "other": "a"}]
            assert len(run_notebooks("nbs/meet.ipynb", sets).book) == 2
        """
    )
    pytester.runpytest_subprocess("--nbscrap-workers", "2").assert_outcomes(passed=1)


@pytest.mark.kernel
def test_an_unknown_parameter_warns_at_the_line_that_asked(pytester, counting):
    pytester.makepyfile(
        test_typo="""
        def test_typo(run_notebooks):
            run_notebooks("nbs/count.ipynb", [{"symbl": "A"}])
        """
    )
    result = pytester.runpytest_subprocess("-W", "default")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*/test_typo.py:2: UnknownParameterWarning: *does not define 'symbl'; it defines*",
            '    run_notebooks("nbs/count.ipynb", [[]{"symbl": "A"}[]])',
        ]
    )
    assert "_fixtures.py" not in result.stdout.str()


def test_parameter_sets_that_are_not_a_list_of_dicts_fail_with_one_line(pytester):
    write_code_notebook(pytester.path / "nbs" / "count.ipynb", COUNTING, params="symbol = 'X'")
    pytester.makepyfile(
        test_u="""
        def test_a_dict(run_notebooks):
            run_notebooks("nbs/count.ipynb", {"symbol": "A"})

        def test_none(run_notebooks):
            run_notebooks("nbs/count.ipynb", [])

        def test_strings(run_notebooks):
            run_notebooks("nbs/count.ipynb", [{"symbol": "A"}, "B"])
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "test_u.py::test_a_dict: run_notebooks takes a list of parameter sets (dicts), "
            "not dict: run_notebooks('source.ipynb', [[]{'symbol': 'AAA'}, {'symbol': 'BBB'}[]])",
            "test_u.py::test_none: run_notebooks got no parameter sets: *",
            "test_u.py::test_strings: run_notebooks parameter set 2 must be a dict of "
            "parameters, not str: *",
            "FAILED test_u.py::test_a_dict - UsageError: *",
        ]
    )
    assert not (pytester.path / "nbs" / "runs.log").exists()
