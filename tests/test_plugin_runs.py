"""Runs that differ never share an executed-notebook file, and parameter sets never share an id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import write_code_notebook

from pytest_nbscrap._param_sets import param_ids
from pytest_nbscrap._runs import Runner, RunSpec

LONG = "x" * 27


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    out = tmp_path / "out"
    return Runner(lambda: out, root=tmp_path, timeout=300.0)


def test_every_field_of_a_run_makes_its_file_name_unique(runner, tmp_path):
    nbs = tmp_path / "nbs"
    specs = [
        RunSpec(nbs / "n.ipynb", {"s": LONG + "a"}),
        RunSpec(nbs / "n.ipynb", {"s": LONG + "b"}),
        RunSpec(nbs / "n.ipynb", timeout=300.0),
        RunSpec(nbs / "n.ipynb", timeout=5.0),
        RunSpec(tmp_path / "a" / "b.ipynb", timeout=300.0),
        RunSpec(tmp_path / "a__b.ipynb", timeout=300.0),
        RunSpec(nbs / "c.ipynb", {"s": 1}),
        RunSpec(nbs / "c.ipynb", {"s": "1"}),
        RunSpec(nbs / "c[s=1].ipynb", timeout=300.0),
        RunSpec(nbs / "n.ipynb", kernel="python3", timeout=300.0),
        RunSpec(nbs / "n.ipynb", cwd=tmp_path, timeout=300.0),
        RunSpec(nbs / "n.txt", timeout=300.0),
    ]
    names = [runner.output_path(spec).name for spec in specs]
    assert len(set(names)) == len(specs), names


def test_a_plain_run_keeps_its_readable_name_and_others_add_a_hash(runner, tmp_path):
    plain = runner.output_path(RunSpec(tmp_path / "nbs" / "trend.ipynb", timeout=300.0))
    assert plain.name == "nbs__trend.ipynb"
    with_params = runner.output_path(RunSpec(tmp_path / "nbs" / "trend.ipynb", {"s": "AAA"}))
    assert re.fullmatch(r"nbs__trend-[0-9a-f]{8}\[s=AAA\]\.ipynb", with_params.name)


def test_the_same_run_always_gets_the_same_name(runner, tmp_path):
    one = RunSpec(tmp_path / "n.ipynb", {"a": 1, "b": 2}, timeout=300)
    other = RunSpec(tmp_path / "n.ipynb", {"b": 2, "a": 1}, timeout=300.0)
    assert one.key == other.key
    assert runner.output_path(one) == runner.output_path(other)


def test_parameter_set_ids_are_unique_and_readable():
    sets = [{"s": LONG + "a"}, {"s": LONG + "b"}, {"s": 1}, {"s": "1"}, {"s": 2}, {"s": 2}]
    ids = param_ids(sets)
    assert len(set(ids)) == len(ids), ids
    assert ids[4].startswith("s=2")
    assert param_ids([{"s": "A"}, {"s": "B"}]) == ["s=A", "s=B"]


@pytest.mark.kernel
def test_distinct_runs_leave_one_file_each_and_a_failure_names_its_own(pytester):
    source = "import pytest_nbscrap as sb\nsb.glue('s', s)\nassert s != 'fail'"
    write_code_notebook(pytester.path / "nbs" / "n.ipynb", source, params="s = 0")
    write_code_notebook(pytester.path / "a" / "b.ipynb", "x = 1")
    write_code_notebook(pytester.path / "a__b.ipynb", "x = 2")
    write_code_notebook(pytester.path / "nbs" / "c[s=1].ipynb", "x = 3")
    pytester.makepyfile(
        f"""
        import pytest

        pytestmark = pytest.mark.notebook("nbs/n.ipynb")

        @pytest.mark.nb_params({{"s": {LONG + "a"!r}}}, {{"s": {LONG + "b"!r}}})
        def test_long(nb):
            pass

        @pytest.mark.nb_params({{"s": 1}}, {{"s": "1"}})
        def test_typed(scraps):
            assert scraps["s"].data in (1, "1")

        @pytest.mark.notebook("nbs/n.ipynb", timeout=60)
        @pytest.mark.nb_params(s="fail")
        def test_fails(nb):
            pass

        @pytest.mark.nb_params(s="fail")
        def test_fails_too(nb):
            pass
        """
    )
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess("--nbscrap", f"--nbscrap-output-dir={out}", "-v")
    # Collected: n, a/b, a__b, c[s=1]; tests: two long, two typed, two that fail.
    result.assert_outcomes(passed=8, errors=2)
    kept = sorted(path.name for path in out.glob("*.ipynb"))
    assert len(kept) == 10, kept
    # Each failure's "executed notebook:" path is its own run's file.
    shown = re.findall(r"executed notebook: (\S+\.ipynb)", result.stdout.str())
    assert len(set(shown)) == 2, shown


@pytest.mark.kernel
def test_metadata_param_sets_sharing_a_long_prefix_get_distinct_ids(pytester):
    write_code_notebook(
        pytester.path / "nbs" / "m.ipynb",
        "assert s",
        params="s = ''",
        nbscrap={"params": [{"s": LONG + "a"}, {"s": LONG + "b"}, {"s": 1}, {"s": "1"}]},
    )
    result = pytester.runpytest("--nbscrap", "nbs", "--collect-only", "-q")
    ids = re.findall(r"\S+::\S+", result.stdout.str())
    assert len(ids) == 4
    assert len(set(ids)) == 4, ids


def test_equal_metadata_param_sets_are_items_of_their_own(pytester):
    # Named by one rule with the nb_params marker's copies: the bare stem only for one run
    # without parameters (two empty sets were two items both called "m").
    write_code_notebook(pytester.path / "nbs" / "m.ipynb", "x = 1", nbscrap={"params": [{}, {}]})
    result = pytester.runpytest("--nbscrap", "nbs", "--collect-only", "-q")
    ids = re.findall(r"\S+::\S+", result.stdout.str())
    assert len(ids) == 2
    assert len(set(ids)) == 2, ids


def test_a_run_given_more_parameters_keeps_everything_else(tmp_path):
    spec = RunSpec(tmp_path / "n.ipynb", {"a": 1, "b": 2}, "k", 5.0, tmp_path, kernel_by="x")
    assert spec.with_params({"b": 3, "c": 4}) == RunSpec(
        tmp_path / "n.ipynb", {"a": 1, "b": 3, "c": 4}, "k", 5.0, tmp_path
    )
    assert spec.with_params({}).kernel_by == "x"


def test_parameters_python_cannot_write_fail_their_test_alone_in_one_line(pytester):
    write_code_notebook(pytester.path / "n.ipynb", "x = 1", params="s = 0")
    pytester.makepyfile(
        test_bad="""
        import pytest

        def nested(depth):
            value = []
            for _ in range(depth):
                value = [value]
            return value

        @pytest.mark.notebook("n.ipynb")
        @pytest.mark.nb_params({"s": 10 ** 5000}, {"s": nested(3000)}, {"s": 1})
        def test_it(nb):
            assert nb.scraps is not None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    # The run fails in the nb fixture: an error at setup, as for any notebook that cannot run.
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["ERROR *ParameterError*", "ERROR *ParameterError*"])
