"""Output regression through the plugin (nbval's job): fresh outputs and scraps against the ones
stored in each notebook, nbval's markers, sanitizing, and ``--nbscrap-update``.

The stored outputs are written into the fixture notebooks; each differs from what its cell
prints now wherever a rule must keep the cell from being compared, so a rule not honoured names
that cell in the failure.
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
from helpers import KERNELSPEC, code_cell, write_code_notebook, write_notebook
from test_compare import error, glued, stream

pytestmark = pytest.mark.kernel


def write(path, *cells):
    """A notebook of ``(source, stored outputs, tags)`` cells, stored as run (counted)."""
    built = [
        code_cell(source, outputs, execution_count=n, metadata={"tags": tags}, id=f"c{n}")
        for n, (source, outputs, tags) in enumerate(cells, start=1)
    ]
    return write_notebook(path, *built, kernelspec=KERNELSPEC)


def stamps(*paths):
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths}


def differ(result, name, what):
    """Whether the failure view of notebook ``name`` says exactly ``what`` differs."""
    pattern = rf"outputs differ from the stored ones: {re.escape(what)}\n  in \S*/{name}\.ipynb"
    return re.search(pattern, result.stdout.str()) is not None


OLD = [stream("old\n")]


@pytest.fixture
def marked(pytester):
    """A notebook whose every marked cell prints something else than is stored (only cell 9,
    unmarked, is compared), one whose check-output cells differ, and one stored unrun."""
    nbs = pytester.path / "nbs"
    markers = write(
        nbs / "markers.ipynb",
        ("print('same')", [stream("same\n")], []),
        ("# NBVAL_IGNORE_OUTPUT\nprint('new')", OLD, []),
        ("print('new')", OLD, ["nbval-ignore-output"]),
        ("# PYTEST_VALIDATE_IGNORE_OUTPUT\nprint('new')", OLD, []),
        ("# NBVAL_SKIP\n1 / 0", OLD, []),
        ("1 / 0", OLD, ["nbval-skip"]),
        ("# NBVAL_RAISES_EXCEPTION\n1 / 0", [error("ZeroDivisionError", "division by zero")], []),
        ("raise ValueError('v')", [error("ValueError", "v", "old")], ["nbval-raises-exception"]),
        ("print('changed')", OLD, []),
    )
    checked = write(
        nbs / "checked.ipynb",
        ("# NBVAL_CHECK_OUTPUT\nprint('new')", OLD, []),
        ("print('new')", OLD, ["nbval-check-output"]),
        ("print('new')", OLD, []),
    )
    bare = write_code_notebook(
        nbs / "bare.ipynb", "print('x')", "import pytest_nbscrap as sb\nsb.glue('v', 1)"
    )
    return markers, checked, bare


def test_nbvals_markers_choose_the_cells_compared_and_nothing_is_written(pytester, marked):
    before = stamps(*marked)
    lax = pytester.runpytest_subprocess("--nbscrap", "nbs")
    lax.assert_outcomes(passed=2, failed=1)
    assert differ(lax, "checked", "cells 1, 2")  # marked check-output: compared under lax too
    full = pytester.runpytest_subprocess("--nbscrap", "--nbscrap-compare", "nbs")
    full.assert_outcomes(passed=1, failed=2)
    assert differ(full, "markers", "cell 9")
    full.stdout.fnmatch_lines(
        ["FAILED nbs/markers.ipynb::markers - outputs differ from the stored ones: cell 9"]
    )
    assert differ(full, "checked", "cells 1, 2, 3")
    full.stdout.fnmatch_lines(
        [
            "cell 9  In [[]7[]]  DIFFERS",  # the fresh count: cells 5 and 6 did not run
            "  1 | print('changed')",
            "  outputs differ from the stored ones (different stdout); - stored, + fresh:",
            "     [[]stdout[]]",
            "    -  old",
            "    +  changed",
        ]
    )
    assert stamps(*marked) == before  # without --nbscrap-update no source is written


def test_sanitizing_with_nbvals_file_and_with_the_ini_pairs(pytester):
    write(
        pytester.path / "nbs" / "ids.ipynb",
        ("print(hex(id(object())))", [stream("0xdeadbeef\n")], []),
        ("import datetime\nprint(datetime.date.today())", [stream("1999-01-01\n")], []),
    )
    pytester.path.joinpath("sanitize.cfg").write_text(
        "[addresses]\nregex: 0x[0-9a-f]+\nreplace: ADDRESS\n"
    )
    by_file = pytester.runpytest_subprocess(
        "--nbscrap", "--nbscrap-compare", "--nbscrap-sanitize-with", "sanitize.cfg", "nbs"
    )
    by_file.assert_outcomes(failed=1)
    assert differ(by_file, "ids", "cell 2")  # cell 1 agreed once sanitized
    pytester.makeini(
        "[pytest]\nnbscrap_sanitize =\n    regex: \\d{4}-\\d{2}-\\d{2}\n    replace: DATE\n"
    )
    by_ini = pytester.runpytest_subprocess("--nbscrap", "--nbscrap-compare", "nbs")
    by_ini.assert_outcomes(failed=1)
    assert differ(by_ini, "ids", "cell 1")


def test_scraps_are_compared_by_value_within_the_tolerance(pytester):
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    write(
        pytester.path / "nbs" / "values.ipynb",
        ("import math\nimport pandas as pd\nimport pytest_nbscrap as sb", [], []),
        ("sb.glue('near', 1.0 + 1e-7)", [glued("near", 1.0)], []),
        ("sb.glue('nan', math.nan)", [glued("nan", math.nan)], []),
        (
            "sb.glue('frame', pd.DataFrame({'x': [1.0, 2.0 + 1e-9]}))",
            [glued("frame", frame, "pandas")],
            [],
        ),
        (
            "sb.glue('moved', pd.DataFrame({'x': [1.0, 3.0]}))",
            [glued("moved", frame, "pandas")],
            [],
        ),
        ("sb.glue('label', 'new')", [glued("label", "old", "text")], []),
        ("sb.glue('far', 2.0)", [glued("far", 1.0)], []),
    )
    pytester.makeini("[pytest]\nnbscrap_rel_tol = 1e-6\n")
    result = pytester.runpytest_subprocess("--nbscrap", "--nbscrap-compare", "nbs")
    result.assert_outcomes(failed=1)
    assert differ(result, "values", "scraps moved, label, far")
    result.stdout.fnmatch_lines(
        [
            "scraps that differ (stored -> fresh)",
            "  moved: DataFrame of shape (2, 1) -> DataFrame of shape (2, 1)",
            '    DataFrame.iloc[[]:, 0[]] (column name="x") are different;*',
            "  label: 'old' -> 'new'",
            "  far: 1.0 -> 2.0",
        ]
    )


def test_update_rewrites_only_the_differing_notebooks_under_xdist(pytester):
    nbs = pytester.path / "nbs"
    changed = write(
        nbs / "changed.ipynb",
        ("print('new')", OLD, []),
        ("# NBVAL_IGNORE_OUTPUT\nprint('fresh')", [stream("kept\n")], []),
    )
    same = write(nbs / "same.ipynb", ("print('same')", [stream("same\n")], []))
    before = stamps(same)
    result = pytester.runpytest_subprocess(
        "-p", "xdist", "-n", "2", "--nbscrap", "--nbscrap-update", "nbs"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["nbscrap: rewrote 1 notebook with fresh outputs:", "  nbs/changed.ipynb"]
    )
    assert stamps(same) == before
    cells = json.loads(changed.read_text())["cells"]
    assert [("".join(c["source"]), "".join(c["outputs"][0]["text"])) for c in cells] == [
        ("print('new')", "new\n"),
        ("# NBVAL_IGNORE_OUTPUT\nprint('fresh')", "kept\n"),  # an ignored cell is not written
    ]
    assert sorted(path.name for path in nbs.iterdir()) == ["changed.ipynb", "same.ipynb"]
    again = pytester.runpytest_subprocess("--nbscrap", "--nbscrap-compare", "nbs")
    again.assert_outcomes(passed=2)


def test_a_bad_sanitize_file_or_tolerance_is_a_usage_error_naming_it(pytester):
    # In process: no notebook is collected, so no kernel starts.
    missing = pytester.runpytest("--nbscrap-sanitize-with", "missing.cfg")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*Cannot read sanitize file *missing.cfg: No such file*"])
    pytester.makeini("[pytest]\nnbscrap_rel_tol = -1\n")
    negative = pytester.runpytest()
    assert negative.ret == pytest.ExitCode.USAGE_ERROR
    negative.stderr.fnmatch_lines(["*nbscrap_rel_tol must be a number of 0 or more*'-1'"])
