from __future__ import annotations

import pickle

import pytest

from pytest_nbscrap import _errors as errors


def test_every_error_derives_from_one_base():
    classes = [getattr(errors, name) for name in errors.__all__]
    raised = [cls for cls in classes if not issubclass(cls, Warning)]
    assert raised
    assert all(issubclass(cls, errors.NbScrapError) for cls in raised)


def test_the_package_lists_every_error_and_warning_it_has():
    import pytest_nbscrap as sb

    assert set(errors.__all__) <= set(sb.__all__)


def test_missing_scrap_is_a_key_error_that_lists_the_names_present():
    error = errors.ScrapNotFoundError.from_names("c", ["a", "b"])
    assert isinstance(error, KeyError)
    assert str(error) == "No scrap named 'c'; the scraps present are: 'a', 'b'"


def test_no_encoder_is_a_not_implemented_error_with_scrapbooks_message():
    error = errors.NoEncoderError.from_value(object())
    assert isinstance(error, NotImplementedError)
    # scrapbook's sentence first, word for word; then the hint (issue 11, item 13).
    assert str(error).startswith(
        "Scrap of type <class 'object'> has no supported encoder registered. "
    )
    assert 'encoder="display"' in str(error)


@pytest.mark.parametrize(
    "error",
    [
        errors.ScrapNotFoundError.from_names("c", ["a"]),
        errors.UnknownEncoderError.from_scrap("x", "arrow", ["json"]),
        errors.ScrapDecodeError.from_exception("x", "pandas", ValueError("bad parquet")),
        errors.NotebookReadError.from_reason("a.ipynb", "not valid JSON"),
        errors.NoEncoderError.from_value(object()),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_pickle_with_their_message_and_facts(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.details == error.details
