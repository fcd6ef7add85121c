"""Output comparison without a kernel: nbval's rules for one cell, the sanitize format, scraps by
value, the markers, and the differences view (golden files in tests/golden/)."""

from __future__ import annotations

import math
import pickle

import pandas as pd
import pytest
from helpers import code_cell, notebook
from test_export_golden import check_golden

from pytest_nbscrap._compare import CompareRules, compare_cell, normalised
from pytest_nbscrap._conventions import output_checked
from pytest_nbscrap._errors import UsageError
from pytest_nbscrap._reader import Notebook
from pytest_nbscrap._regression import OutputMismatchError, compare_notebook
from pytest_nbscrap._sanitize import Sanitizer
from pytest_nbscrap._scrap_compare import scrap_differences
from pytest_nbscrap._scraps import Scrap, Scraps, data_output, display_output_metadata
from pytest_nbscrap.encoders import registry
from pytest_nbscrap.export import mismatch_summary, render_mismatch

RULES = CompareRules()


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def result(text, count=1, **data):
    return {
        "output_type": "execute_result",
        "execution_count": count,
        "metadata": {},
        "data": {"text/plain": text, **data},
    }


def error(ename, evalue, *traceback):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": list(traceback)}


def glued(name, value, encoder="json"):
    payload = registry.lookup(encoder).encode(value)
    data, metadata = data_output(name, payload, encoder)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


# -- one cell, nbval's rules -------------------------------------------------------------------


def test_what_nbval_skips_is_not_compared():
    stored = [
        result("4", count=3, **{"application/vnd.jupyter.widget-view+json": {"model_id": "a"}}),
        error("ValueError", "bad", "Traceback (most recent call last) at 0x1"),
    ]
    fresh = [
        {**result("4", count=9, **{"application/vnd.jupyter.widget-view+json": {"model_id": "b"}})}
        | {"metadata": {"isolated": True}},
        error("ValueError", "bad", "\x1b[31mTraceback\x1b[0m somewhere else"),
    ]
    assert compare_cell(1, "", stored, fresh, RULES) is None


def test_an_errors_name_and_value_are_compared():
    found = compare_cell(2, "f()", [error("ValueError", "bad")], [error("KeyError", "bad")], RULES)
    assert found is not None
    assert (found.number, found.reason) == (2, "different ename")


def test_images_are_compared_only_when_asked():
    stored = [result("<Figure>", **{"image/png": "AAAA"})]
    fresh = [result("<Figure>", **{"image/png": "BBBB"})]
    assert compare_cell(1, "", stored, fresh, RULES) is None
    assert compare_cell(1, "", stored, fresh, CompareRules(images=True)) is not None


def test_a_streams_writes_are_joined_and_its_redraws_resolved():
    stored = [stream("50%\r100%\nab\x08c\n")]
    fresh = [stream("10%\r100%\n"), stream(["a", "c\n"])]
    assert normalised(fresh, RULES) == {"stdout": ["100%\nac\n"]}
    assert compare_cell(1, "", stored, fresh, RULES) is None


def test_outputs_of_different_keys_may_come_in_any_order_but_not_of_one_key():
    assert (
        compare_cell(1, "", [stream("a"), result("1")], [result("1"), stream("a")], RULES) is None
    )
    one, two = result("1"), result("2")
    assert compare_cell(1, "", [one, two], [two, one], RULES) is not None


def test_a_missing_output_is_named():
    found = compare_cell(1, "", [stream("x"), result("1")], [result("1")], RULES)
    assert found is not None
    assert found.reason == "missing output: stdout"


def test_scrap_data_is_left_to_the_scrap_comparison():
    assert compare_cell(1, "", [glued("a", 1)], [glued("a", 2)], RULES) is None


# -- sanitizing --------------------------------------------------------------------------------

NBVAL_FILE = """\
[regex1]
regex: 0x[0-9a-f]+
replace: ADDRESS

[regex2]
regex: \\d{4}-\\d{2}-\\d{2}
replace: DATE
"""


def test_nbvals_sanitize_file_is_read_unchanged(tmp_path):
    path = tmp_path / "sanitize.cfg"
    path.write_text(NBVAL_FILE)
    sanitize = Sanitizer.from_file(path)
    assert sanitize("at 0x7f3a on 2026-12-03") == "at ADDRESS on DATE"
    rules = CompareRules(sanitize=sanitize)
    assert compare_cell(1, "", [stream("at 0x1")], [stream("at 0xbeef")], rules) is None


def test_inline_pairs_take_an_empty_replacement_and_refuse_a_stray_line():
    sanitize = Sanitizer.parse("regex: \\s+$\nreplace:", "ini nbscrap_sanitize", strict=True)
    assert sanitize("a  ") == "a"
    with pytest.raises(UsageError, match=r"ini nbscrap_sanitize: 'regx: a' is not part"):
        Sanitizer.parse("regx: a\nreplace: b", "ini nbscrap_sanitize", strict=True)


def test_a_bad_pattern_or_replacement_names_where_it_came_from(tmp_path):
    with pytest.raises(UsageError, match=r"s\.cfg: regex '\(' is not a regular expression"):
        Sanitizer.parse("regex: (\nreplace: x", "s.cfg")
    with pytest.raises(UsageError, match=r"s\.cfg: replace '\\\\2' does not fit regex"):
        Sanitizer.parse("regex: (a)\nreplace: \\2", "s.cfg")
    with pytest.raises(UsageError, match="Cannot read sanitize file"):
        Sanitizer.from_file(tmp_path / "missing.cfg")


# -- scraps by value ---------------------------------------------------------------------------


def scraps(**values):
    return Scraps((name, Scrap(name, value, "json")) for name, value in values.items())


def test_numbers_agree_within_the_relative_tolerance_and_nan_with_nan():
    stored = scraps(a=1.0, b=math.nan, c=10, d="text")
    fresh = scraps(a=1.0 + 1e-7, b=math.nan, c=10, d="text")
    assert scrap_differences(stored, fresh, 1e-6) == ()
    (changed,) = scrap_differences(stored, fresh, 1e-9)
    assert (changed.name, changed.expected, changed.got) == ("a", "1.0", "1.0000001")


def test_text_and_json_agree_only_exactly():
    stored = scraps(t="abc", j={"x": [1, 2]})
    fresh = scraps(t="abd", j={"x": [1, 2.0000001]})
    assert [found.name for found in scrap_differences(stored, fresh, 1e-3)] == ["t", "j"]


def test_frames_agree_through_pandas_testing_with_the_tolerance():
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    near = frame.assign(x=[1.0, 2.0 + 1e-8])
    stored = Scraps(f=Scrap("f", frame, "pandas"))
    assert scrap_differences(stored, Scraps(f=Scrap("f", near, "pandas")), 1e-6) == ()
    far = frame.assign(x=[1.0, 3.0])
    (changed,) = scrap_differences(stored, Scraps(f=Scrap("f", far, "pandas")), 1e-6)
    assert changed.name == "f"
    assert 'column name="x"' in changed.reason
    assert changed.expected == "DataFrame of shape (2, 2)"


def test_a_display_scrap_is_compared_by_its_text():
    def shown(text):
        output = {"output_type": "display_data", "data": {"text/plain": text, "image/png": "A"}}
        output["metadata"] = display_output_metadata("d", {})
        return Scraps(d=Scrap("d", None, "display", output))

    assert scrap_differences(shown("chart"), shown("chart"), 1e-9) == ()
    (changed,) = scrap_differences(shown("chart"), shown("other"), 1e-9)
    assert (changed.expected, changed.got) == ("display 'chart'", "display 'other'")


def test_a_scrap_missing_or_new_is_a_difference():
    found = scrap_differences(scraps(old=1), scraps(new=2), 1e-9)
    assert [(d.name, d.expected, d.got) for d in found] == [
        ("old", "1", "(not glued)"),
        ("new", "(not stored)", "2"),
    ]


# -- which cells are compared ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "tags", "by_default", "checked"),
    [
        ("# NBVAL_IGNORE_OUTPUT\nx", [], True, False),
        ("#PYTEST_VALIDATE_IGNORE_OUTPUT", [], True, False),
        ("x", ["nbval-ignore-output"], True, False),
        ("  #  NBVAL_CHECK_OUTPUT  \nx", [], False, True),
        ("x", ["nbval-check-output"], False, True),
        ("# NBVAL_CHECK_OUTPUT", ["nbval-ignore-output"], False, True),  # the comment wins
        ("x  # NBVAL_IGNORE_OUTPUT", [], True, True),  # not a whole comment line
        ("x", [], True, True),
        ("x", [], False, False),
    ],
)
def test_nbvals_output_markers(source, tags, by_default, checked):
    cell = code_cell(source, metadata={"tags": tags})
    assert output_checked(cell, by_default=by_default) is checked


def test_cells_are_matched_past_the_injected_cell_and_a_cell_stored_unrun_is_not_compared():
    stored = notebook(
        code_cell("print(1)", [stream("1\n")], id="a"),
        code_cell("print(2)", [], execution_count=None, id="b"),
    )
    injected = code_cell("x = 1", metadata={"tags": ["injected-parameters"]}, id="p")
    fresh = notebook(
        injected,
        code_cell("print(1)", [stream("1\n")], id="a"),
        code_cell("print(2)", [stream("2\n")], id="b"),
    )
    comparison = compare_notebook(
        Notebook.from_node(stored, "nb.ipynb"),
        Notebook.from_node(fresh),
        RULES,
        every_cell=True,
        scraps=True,
    )
    assert not comparison.differences
    assert comparison.compared == ((0, 1),)


# -- the differences view ----------------------------------------------------------------------


def mismatch():
    """A notebook whose cell 2 prints something else and whose scrap changed."""
    cells = [
        code_cell("import pytest_nbscrap as sb", [], id="a"),
        code_cell("for n in range(3):\n    print(n)", [stream("0\n1\n2\n")], id="b"),
        code_cell("sb.glue('total', 6.0)\n3.0", [glued("total", 3.0), result("3.0")], id="c"),
        code_cell("print('unchanged')", [stream("unchanged\n")], id="d"),
    ]
    fresh_cells = [
        cells[0],
        {**cells[1], "outputs": [stream("0\n1\n3\n")]},
        {**cells[2], "outputs": [glued("total", 6.5), result("3.0")]},
        cells[3],
    ]
    stored = Notebook.from_node(notebook(*cells), "nbs/report.ipynb")
    fresh = Notebook.from_node(notebook(*fresh_cells), "/tmp/nbscrap/nbs__report.ipynb")
    rules = CompareRules()
    comparison = compare_notebook(stored, fresh, rules, every_cell=True, scraps=True)
    return OutputMismatchError.from_differences(comparison.differences, fresh, fresh.path)


def test_the_differences_view_shows_each_differing_cell_and_scrap():
    error = mismatch()
    check_golden("differences.txt", render_mismatch(error))
    check_golden("differences_color.ansi.txt", render_mismatch(error, color=True))
    assert mismatch_summary(error) == "outputs differ from the stored ones: cell 2; scrap total"


def test_the_mismatch_error_pickles_with_its_differences():
    error = mismatch()
    copy = pickle.loads(pickle.dumps(error))
    assert copy.differences == error.differences
    assert render_mismatch(copy) == render_mismatch(error)
