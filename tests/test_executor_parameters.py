"""Parameters without a kernel: rendering (exactly papermill's), checking, and inspection."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest
from papermill.translators import translate_parameters

from pytest_nbscrap import UnknownParameterWarning, _parameters
from pytest_nbscrap._errors import ParameterError, UsageError

PAPERMILL_CASES = [
    {"symbol": "AAPL", "days": 3},
    {"text": 'quote " and \\ backslash\nnew line\ttab é ☃'},
    {"flag": True, "off": False, "nothing": None},
    {"ratio": 0.1, "big": 1e300, "tiny": 1e-7, "negative": -2.5},
    {"nan": math.nan, "inf": math.inf, "ninf": -math.inf},
    {"items": [1, "two", [3.0, None], {"k": True}]},
    {"config": {"a": 1, "b": {"c": [1, 2]}, 'q"uote': "x"}},
    {"empty_list": [], "empty_dict": {}, "empty_str": ""},
    {"huge": 10**30},
]


@pytest.mark.parametrize("parameters", PAPERMILL_CASES)
def test_python_rendering_is_papermills(parameters):
    ours = _parameters.render(parameters, "python3", "python")
    assert ours == translate_parameters("python3", "python", parameters, "Parameters")


@pytest.mark.parametrize("parameters", PAPERMILL_CASES)
def test_rendered_python_gives_the_values_back(parameters):
    namespace: dict[str, object] = {}
    exec(_parameters.render(parameters, "python3", "python"), namespace)
    for name, value in parameters.items():
        got = namespace[name]
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(got, float)
            assert math.isnan(got)
        else:
            assert got == value


def test_other_languages_use_papermills_translators():
    rendered = _parameters.render({"n": 1, "name": "x"}, "ir", "R")
    assert rendered == translate_parameters("ir", "R", {"n": 1, "name": "x"}, "Parameters")


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ({1, 2}, "p is of type set; "),
        ((1, 2), "pass a list"),
        (object(), "p is of type object"),
        (b"bytes", "p is of type bytes"),
    ],
)
def test_a_value_that_is_not_json_is_a_problem(value, hint):
    problem = _parameters.find_problem({"p": value}, "python")
    assert problem is not None
    assert problem.name == "p"
    assert hint in problem.reason


def test_a_nested_problem_says_where_it_is():
    problem = _parameters.find_problem({"cfg": {"ok": [1, {"bad": {1}}]}}, "python")
    assert problem is not None
    assert "cfg['ok'][1]['bad'] is of type set" in problem.reason


def test_a_dict_key_that_is_not_a_string_is_a_problem():
    problem = _parameters.find_problem({"cfg": {1: "a"}}, "python")
    assert problem is not None
    assert "has the key 1" in problem.reason


@pytest.mark.parametrize("name", ["1x", "class", "a-b", ""])
def test_a_name_that_is_not_a_variable_is_a_problem(name):
    problem = _parameters.find_problem({name: 1}, "python")
    assert problem is not None
    assert "not a valid variable name" in problem.reason


def test_json_values_are_no_problem():
    for case in PAPERMILL_CASES:
        assert _parameters.find_problem(case, "python") is None


def test_path_objects_are_passed_as_strings():
    assert _parameters.normalized({"data": Path("a") / "b.csv"}) == {"data": "a/b.csv"}


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ('symbol = "A"\ndays = 3  # how many', ("symbol", "days")),
        ("a: int = 1\nb, (c, *d) = 1, (2, 3)\nx = y = 0", ("a", "b", "c", "d", "x", "y")),
        ("%matplotlib inline\nsize = 10", ("size",)),
        ("import os\nroot = os.getcwd()\nn += 1", ("root", "n")),
        ("# nothing here", ()),
    ],
)
def test_defined_parameters_are_the_assigned_names(source, names):
    assert _parameters.defined_parameters(source) == names


def test_defined_parameters_of_unparsable_source_is_unknown():
    assert _parameters.defined_parameters("x = = 1") is None


def test_parameter_error_pickles_with_its_facts():
    error = ParameterError.from_value("nb.ipynb", "p", {1}, "p is a set")
    assert isinstance(error, UsageError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ParameterError
    expected = "nb.ipynb: parameter 'p' = {1} cannot be written into the notebook: p is a set"
    assert str(copy) == str(error) == expected
    assert (copy.path, copy.name, copy.value_repr, copy.reason) == (
        "nb.ipynb",
        "p",
        "{1}",
        "p is a set",
    )


def test_unknown_parameter_warning_pickles_with_its_facts():
    warning = UnknownParameterWarning("message", "nb.ipynb", ("x",), ("a", "b"))
    copy = pickle.loads(pickle.dumps(warning))
    assert (str(copy), copy.path, copy.unknown, copy.defined) == (
        "message",
        "nb.ipynb",
        ("x",),
        ("a", "b"),
    )
