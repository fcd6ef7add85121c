"""Coverage of the code notebooks run: a package's lines count when a notebook's kernel runs
them, under pytest-cov (serially, ``-n 2``, ``--nbscrap-workers 2``) and ``coverage run``."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import write_code_notebook

# One function per way of being run; each line that matters names itself in a comment.
CALC = """\
def from_collected(x):
    return x * 2  # collected


def from_fixture(x):
    if x > 0:  # branch
        return "positive"  # fixture
    return "not positive"  # branch not taken


def never(x):
    return x * 3  # never


def before_timeout():
    return "ran"  # timeout


def before_death():
    return "ran"  # death
"""

# What a measuring process says when it thinks no kernel ran the package.
PARENT_WARNINGS = ("never imported", "module-not-imported", "no-data-collected", "No data was")


def line(tag: str) -> int:
    return next(n for n, text in enumerate(CALC.splitlines(), 1) if text.endswith(f"# {tag}"))


# What each run collects: the notebooks in nbs/ and the test file, not the fixture's notebook
# (collected, it would count for the fixture).
TARGETS = ("nbs", "test_fixture_run.py")


@pytest.fixture
def project(pytester, monkeypatch):
    """A src-layout package (so ``--cov=mypkg`` names a module, not a folder), a collected
    notebook calling one function, and a test running another notebook through a fixture."""
    package = pytester.path / "src" / "mypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "calc.py").write_text(CALC)
    (package / "skipped.py").write_text("def unused():\n    return 1\n")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path / "src"))
    write_code_notebook(
        pytester.path / "nbs" / "collected.ipynb",
        "from mypkg import calc\nassert calc.from_collected(2) == 4",
    )
    write_code_notebook(
        pytester.path / "fixture_run.ipynb",
        "import pytest_nbscrap as sb\nfrom mypkg import calc\n"
        "sb.glue('sign', calc.from_fixture(1))",
    )
    pytester.makepyfile(
        test_fixture_run="""
        def test_through_a_fixture(run_notebook):
            assert run_notebook("fixture_run.ipynb").scraps["sign"].data == "positive"
        """
    )
    return pytester


def measured(report: Path) -> dict[str, object]:
    files = json.loads(report.read_text())["files"]
    (calc,) = [name for name in files if name.endswith("calc.py")]
    return files[calc]


def assert_counted(result, pytester, report: Path) -> dict[str, object]:
    """The lines run by the collected and the fixture's notebooks count, never()'s do not,
    the measuring process does not say the package went unimported, and the kernels' data
    files were all combined."""
    calc = measured(report)
    assert {line("collected"), line("fixture")} <= set(calc["executed_lines"])
    assert line("never") in calc["missing_lines"]
    said = "\n".join(result.outlines + result.errlines)
    assert [warning for warning in PARENT_WARNINGS if warning in said] == []
    assert sorted(path.name for path in pytester.path.glob(".coverage.*")) == []
    return calc


@pytest.mark.kernel
def test_pytest_cov_counts_notebook_lines_keeps_a_timed_out_kernels_and_says_what_was_lost(
    project,
):
    write_code_notebook(
        project.path / "nbs" / "slow.ipynb",
        "from mypkg import calc\ncalc.before_timeout()",
        "import time\ntime.sleep(60)",
        nbscrap={"timeout": 2},
    )
    write_code_notebook(
        project.path / "nbs" / "dies.ipynb",
        "import os, signal\nfrom mypkg import calc\ncalc.before_death()\n"
        "os.kill(os.getpid(), signal.SIGKILL)",
    )
    result = project.runpytest_subprocess(
        "--nbscrap",
        "--cov=mypkg",
        "--cov-branch",
        "--cov-report=term-missing",
        "--cov-report=json:cov.json",
        *TARGETS,
    )
    result.assert_outcomes(passed=2, failed=2)
    calc = assert_counted(result, project, project.path / "cov.json")
    # The kernel stopped at the timeout saved what it ran; the one killed outright did not,
    # and the session says so once.
    assert line("timeout") in calc["executed_lines"]
    assert line("death") in calc["missing_lines"]
    assert [line("branch"), line("branch not taken")] in calc["missing_branches"]
    lost = [text for text in result.outlines if text.startswith("nbscrap: coverage:")]
    assert len(lost) == 1
    result.stdout.fnmatch_lines(
        ["nbscrap: coverage: 1 of * measured notebook kernels was killed before saving*"]
    )
    result.stdout.fnmatch_lines(["*src/mypkg/calc.py*"])


@pytest.mark.kernel
@pytest.mark.parametrize("spread", [["-n", "2"], ["--nbscrap-workers", "2"]])
def test_pytest_cov_counts_notebook_lines_run_in_parallel(project, spread):
    result = project.runpytest_subprocess(
        "--nbscrap", "--cov=mypkg", "--cov-report=json:cov.json", *spread, *TARGETS
    )
    result.assert_outcomes(passed=2)
    assert_counted(result, project, project.path / "cov.json")


PROJECT_CONFIG = """
[tool.coverage.run]
source = ["src/mypkg"]
omit = ["src/mypkg/skipped.py"]
relative_files = true
branch = true
"""


@pytest.mark.kernel
@pytest.mark.parametrize("entry", ["pytest-cov", "coverage run"])
def test_the_projects_own_coverage_config_holds_in_kernels(project, entry):
    """Source, omit, relative paths and branches from pyproject.toml, for kernels that run in
    another folder (nbs/) than the measuring process."""
    project.path.joinpath("pyproject.toml").write_text(PROJECT_CONFIG)
    if entry == "pytest-cov":
        result = project.runpytest_subprocess(
            "--nbscrap", "--cov", "--cov-report=json:cov.json", *TARGETS
        )
    else:
        coverage = (sys.executable, "-m", "coverage")
        result = project.run(*coverage, "run", "-m", "pytest", "--nbscrap", *TARGETS)
        # Without -p, coverage run keeps one data file: the kernels' data is in it already,
        # for any reader (older coverage's reports did not combine by themselves).
        assert sorted(path.name for path in project.path.glob(".coverage.*")) == []
        assert project.run(*coverage, "json", "-o", "cov.json").ret == 0
    result.assert_outcomes(passed=2)
    calc = assert_counted(result, project, project.path / "cov.json")
    files = json.loads(project.path.joinpath("cov.json").read_text())["files"]
    assert sorted(files) == ["src/mypkg/__init__.py", "src/mypkg/calc.py"]
    assert [line("branch"), line("branch not taken")] in calc["missing_branches"]


@pytest.mark.kernel
def test_without_coverage_a_kernel_starts_as_before(pytester):
    """No coverage in the kernel, no configuration in its environment, no extra argument."""
    write_code_notebook(
        pytester.path / "plain.ipynb",
        textwrap.dedent(
            """\
            import os, sys
            assert "coverage" not in sys.modules
            assert "COVERAGE_PROCESS_CONFIG" not in os.environ
            assert sys.argv[1:] == ["-f", sys.argv[2], "--HistoryManager.hist_file=:memory:"]
            """
        ),
    )
    pytester.runpytest_subprocess("--nbscrap", "-p", "no:cov").assert_outcomes(passed=1)
