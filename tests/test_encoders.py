from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers import code_cell

import pytest_nbscrap as sb
from pytest_nbscrap._errors import EncoderError, NoEncoderError, UsageError
from pytest_nbscrap._scraps import scraps_from_cells
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


def test_a_dict_with_keys_json_cannot_write_is_not_json():
    with pytest.raises(NoEncoderError):
        registry.find({(1, 2): "a"})


def test_a_dict_with_number_bool_and_none_keys_encodes_as_json_dumps_does():
    value = {1: 2, 2.5: "x", False: 1, None: 3, float("nan"): 4}
    assert roundtrip(JsonEncoder(), value) == json.loads(json.dumps(value))


def test_json_text_is_parsed_and_other_text_is_refused_with_a_hint():
    assert roundtrip(JsonEncoder(), '{"a": [1, NaN]}')["a"][0] == 1
    with pytest.raises(ValueError, match=r'not JSON text .*encoder="text"'):
        JsonEncoder().encode("plain words")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_floats_survive_as_floats(value):
    decoded = roundtrip(JsonEncoder(), value)
    assert isinstance(decoded, float)
    assert decoded == value or (math.isnan(decoded) and math.isnan(value))


def test_non_finite_floats_inside_containers_survive():
    decoded = roundtrip(JsonEncoder(), {"a": [1.0, float("nan")], "b": float("-inf")})
    assert math.isnan(decoded["a"][1])
    assert decoded["b"] == -float("inf")


@pytest.mark.parametrize("value", [None, 0, [], {}])
def test_json_values_that_scrapbook_could_not_carry_round_trip(value):
    assert roundtrip(JsonEncoder(), value) == value


@pytest.mark.parametrize("value", ["a string", '{"looks": "like json"}'])
def test_a_string_given_as_json_text_round_trips_as_a_string(value):
    # A str is JSON text to this encoder (as in scrapbook); its payload is JSON text too.
    assert roundtrip(JsonEncoder(), json.dumps(value)) == value


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


# --- scrapbook's registry and encoders (issue 11, item 10) ------------------------------------


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))


class ScrapbookStylePoints:
    """An encoder written for scrapbook 0.5: ``name()`` is a method, encode/decode take and
    return scraps."""

    def name(self):
        return "points"

    def encodable(self, data):
        return isinstance(data, Point)

    def encode(self, scrap, **kwargs):
        return scrap._replace(data=f"{scrap.data.x},{scrap.data.y}")

    def decode(self, scrap, **kwargs):
        x, y = scrap.data.split(",")
        return scrap._replace(data=Point(int(x), int(y)))


class OurStylePoints:
    name = "points"

    def encodable(self, value):
        return isinstance(value, Point)

    def encode(self, value):
        return [value.x, value.y]

    def decode(self, data):
        return Point(*data)


@pytest.fixture(params=[ScrapbookStylePoints, OurStylePoints], ids=["scrapbook-style", "ours"])
def points_encoder(request):
    encoder = request.param()
    registered = sb.encoders.registry.register(encoder)
    yield registered
    sb.encoders.registry.unregister("points")


def test_sb_encoders_registry_register_round_trips_through_glue_and_read(points_encoder, glued):
    assert points_encoder is not None
    sb.glue("where", Point(3, 4))
    sb.glue("again", Point(5, 6), encoder="points")
    [cell_outputs] = [glued()]
    scraps = scraps_from_cells([code_cell(outputs=cell_outputs)])
    assert [scraps[name].encoder for name in scraps] == ["points", "points"]
    assert scraps["where"].data == Point(3, 4)
    assert scraps["again"].data == Point(5, 6)


def test_a_scrapbook_style_encoder_is_found_and_named_by_its_name_method():
    local = EncoderRegistry((TextEncoder(),))
    local.register(ScrapbookStylePoints())
    encoder = local.find(Point(1, 2))
    assert encoder.name == "points"
    assert encoder.decode(encoder.encode(Point(1, 2))) == Point(1, 2)
    assert "points" in local


def test_a_subclass_of_scrapbooks_own_encoder_registers():
    scrapbook_encoders = pytest.importorskip("scrapbook.encoders")

    class Loud(scrapbook_encoders.TextEncoder):
        def name(self):
            return "loud"

        def encodable(self, data):
            return False

        def encode(self, scrap, **kwargs):
            return scrap._replace(data=scrap.data.upper())

    local = EncoderRegistry()
    local.register(Loud())
    loud = local.lookup("loud")
    assert loud is not None
    assert loud.decode(loud.encode("hey")) == "HEY"


def test_a_scrapbook_style_encoder_returning_no_scrap_is_an_error():
    class Broken(ScrapbookStylePoints):
        def encode(self, scrap, **kwargs):
            return "not a scrap"

    local = EncoderRegistry()
    local.register(Broken())
    with pytest.raises(TypeError, match="must return a Scrap"):
        local.lookup("points").encode(Point(1, 2))


def test_deregister_takes_a_scrapbook_style_encoder_or_its_name():
    local = EncoderRegistry()
    local.register(ScrapbookStylePoints())
    assert local.deregister(ScrapbookStylePoints()).name == "points"
    local.register(OurStylePoints())
    assert local.deregister("points").name == "points"
    assert "points" not in local


def test_decoding_a_frame_starts_no_thread():
    # A pyarrow thread still winding down at exit aborts the process (apache/arrow#34314):
    # pd.read_parquet's reader started one even single-threaded; the scrap's reader starts none.
    script = (
        "import os, pandas as pd, pyarrow\n"
        "from pytest_nbscrap.encoders import registry\n"
        "encoder = registry.lookup('pandas')\n"
        "data = encoder.encode(pd.DataFrame({'a': [1, 2], 's': ['x', None]}))\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "frame = encoder.decode(data)\n"
        "print(before, len(os.listdir('/proc/self/task')), list(frame['a']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    before, after, values = result.stdout.split(maxsplit=2)
    assert (after, values.strip()) == (before, "[1, 2]")
