from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from pytest_nbscrap._errors import EncoderError, NoEncoderError, UsageError
from pytest_nbscrap.encoders import (
    EncoderRegistry,
    JsonEncoder,
    PandasEncoder,
    TextEncoder,
    registry,
)


def roundtrip(encoder, value):
    payload = encoder.encode(value)
    json.dumps(payload, allow_nan=False)  # what the kernel will send must be strict JSON
    return encoder.decode(json.loads(json.dumps(payload)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", "text"),
        (1, "json"),
        (1.5, "json"),
        (True, "json"),
        (None, "json"),
        ([1, "a", None], "json"),
        ({"a": [1, 2]}, "json"),
        ((1, 2), "json"),
        (np.int64(3), "json"),
        (np.arange(3), "json"),
        (dt.date(2024, 1, 2), "json"),
        (pd.DataFrame({"a": [1]}), "pandas"),
        (pd.Series([1, 2], name="s"), "pandas"),
    ],
)
def test_the_automatic_encoder_fits_the_value(value, expected):
    assert registry.find(value).name == expected


def test_a_value_no_encoder_accepts_raises_scrapbooks_not_implemented_error():
    with pytest.raises(
        NotImplementedError,
        match=r"Scrap of type <class 'object'> has no supported encoder registered",
    ):
        registry.find(object())


def test_a_dict_with_non_string_keys_is_not_json():
    with pytest.raises(NoEncoderError):
        registry.find({1: "a"})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_floats_survive_as_floats(value):
    decoded = roundtrip(JsonEncoder(), value)
    assert isinstance(decoded, float)
    assert decoded == value or (math.isnan(decoded) and math.isnan(value))


def test_non_finite_floats_inside_containers_survive():
    decoded = roundtrip(JsonEncoder(), {"a": [1.0, float("nan")], "b": float("-inf")})
    assert math.isnan(decoded["a"][1])
    assert decoded["b"] == -float("inf")


@pytest.mark.parametrize("value", [None, "a string", '{"looks": "like json"}', 0, [], {}])
def test_json_values_that_scrapbook_could_not_carry_round_trip(value):
    assert roundtrip(JsonEncoder(), value) == value


def test_numpy_scalars_become_python_numbers():
    decoded = roundtrip(JsonEncoder(), np.float32(1.5))
    assert decoded == 1.5
    assert type(decoded) is float


def test_datetimes_become_iso_strings():
    assert roundtrip(JsonEncoder(), dt.datetime(2024, 1, 2, 3, 4)) == "2024-01-02T03:04:00"


def test_json_decodes_a_plain_string_scrapbook_stored_with_encoder_json():
    assert JsonEncoder().decode("not json at all") == "not json at all"


def test_text_decodes_non_strings_as_their_text():
    assert TextEncoder().decode(12) == "12"


def test_dataframe_round_trips_exactly():
    frame = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [0.5, float("nan"), 2.0],
            "s": ["a", None, "c"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
            "c": pd.Categorical(["x", "y", "x"]),
        }
    )
    pd.testing.assert_frame_equal(roundtrip(PandasEncoder(), frame), frame)


def test_series_comes_back_as_a_one_column_frame():
    series = pd.Series([1, 2], name="s")
    pd.testing.assert_frame_equal(roundtrip(PandasEncoder(), series), series.to_frame())


def test_pandas_rejects_a_payload_that_is_not_base64_parquet():
    with pytest.raises(Exception, match=r"(?i)parquet"):
        PandasEncoder().decode("bm90IHBhcnF1ZXQ=")


class Upper:
    name = "upper"

    def encodable(self, value):
        return isinstance(value, str) and value.isupper()

    def encode(self, value):
        return value.lower()

    def decode(self, data):
        return data.upper()


def test_a_registered_encoder_is_tried_before_the_built_ins():
    local = EncoderRegistry((TextEncoder(),))
    local.register(Upper())
    assert local.find("ABC").name == "upper"
    assert local.find("abc").name == "text"


def test_registering_a_name_twice_needs_replace():
    local = EncoderRegistry((TextEncoder(),))
    with pytest.raises(EncoderError, match="already registered"):
        local.register(TextEncoder())
    local.register(TextEncoder(), replace=True)
    assert list(local) == ["text"]


def test_registering_something_that_is_not_an_encoder_is_refused():
    with pytest.raises(EncoderError, match="is not an encoder"):
        EncoderRegistry().register(object())  # type: ignore[arg-type]


def test_unregister_removes_and_unknown_names_are_a_usage_error():
    local = EncoderRegistry((TextEncoder(),))
    assert local.unregister("text").name == "text"
    assert local.lookup("text") is None
    with pytest.raises(UsageError, match="No encoder named 'text'"):
        local.unregister("text")


def test_entry_point_encoders_are_loaded_on_first_lookup(monkeypatch):
    class FakeEntryPoint:
        def load(self):
            return Upper

    import importlib.metadata

    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda group: [FakeEntryPoint()] if group == "pytest_nbscrap.encoders" else [],
    )
    local = EncoderRegistry((TextEncoder(),))
    assert local.lookup("upper").name == "upper"
