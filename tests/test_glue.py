"""glue() against a real IPython shell's display machinery (no kernel needed)."""

from __future__ import annotations

import math
import warnings

import pandas as pd
import pytest
from helpers import code_cell

from pytest_nbscrap import NoKernelWarning, glue
from pytest_nbscrap._errors import EncoderError, UnknownEncoderError, UsageError
from pytest_nbscrap._glue import reglue_scrap
from pytest_nbscrap._scraps import Scrap, scraps_from_cells


def read(outputs):
    return scraps_from_cells([code_cell(outputs=outputs)])


def test_glue_writes_scrapbooks_wire_format(glued):
    glue("x", [1, 2])
    [output] = glued()
    assert output["data"] == {
        "application/scrapbook.scrap.json+json": {
            "name": "x",
            "data": [1, 2],
            "encoder": "json",
            "version": 1,
        }
    }
    assert output["metadata"] == {"scrapbook": {"name": "x", "data": True, "display": False}}


def test_values_round_trip_through_the_outputs(glued):
    frame = pd.DataFrame({"a": [1.5, float("nan")]})
    glue("n", 3)
    glue("s", "text")
    glue("nan", float("nan"))
    glue("none", None)
    glue("frame", frame)
    scraps = read(glued())
    assert [scraps[name].encoder for name in scraps] == ["json", "text", "json", "json", "pandas"]
    assert scraps["n"].data == 3
    assert scraps["s"].data == "text"
    assert math.isnan(scraps["nan"].data)
    assert scraps["none"].data is None
    pd.testing.assert_frame_equal(scraps["frame"].data, frame)


def test_display_true_stores_data_and_display_and_reads_as_one_scrap(glued):
    glue("x", {"a": 1}, display=True)
    outputs = glued()
    assert [out["metadata"]["scrapbook"] for out in outputs] == [
        {"name": "x", "data": True, "display": False},
        {"name": "x", "data": False, "display": True},
    ]
    scrap = read(outputs)["x"]
    assert scrap.data == {"a": 1}
    assert scrap.display["data"]["text/plain"] == "{'a': 1}"


def test_display_list_is_passed_as_include(glued):
    glue("frame", pd.DataFrame({"a": [1]}), display=["text/html"])
    display = read(glued())["frame"].display
    assert list(display["data"]) == ["text/html"]


def test_encoder_display_keeps_only_what_is_shown(glued):
    glue("shown", "only a picture", encoder="display")
    [output] = glued()
    assert output["metadata"]["scrapbook"] == {"name": "shown", "data": False, "display": True}
    scrap = read([output])["shown"]
    assert (scrap.data, scrap.encoder) == (None, "display")


def test_an_unencodable_value_with_display_falls_back_to_display(glued):
    glue("thing", object(), display=True)
    assert read(glued())["thing"].encoder == "display"


def test_an_unencodable_value_raises_not_implemented_error(glued):
    with pytest.raises(NotImplementedError, match="has no supported encoder registered"):
        glue("thing", object())
    assert glued() == []


def test_an_unknown_encoder_name_is_refused(glued):
    with pytest.raises(UnknownEncoderError, match="'nope'"):
        glue("x", 1, encoder="nope")


def test_a_value_its_encoder_cannot_encode_names_the_scrap(glued):
    with pytest.raises(EncoderError, match="Scrap 'x' cannot be encoded with encoder 'json'"):
        glue("x", object(), encoder="json")


def test_a_name_must_be_a_non_empty_string(glued):
    with pytest.raises(UsageError):
        glue("", 1)


def test_reglue_re_emits_an_undecoded_payload_under_a_new_name(glued):
    glue("frame", pd.DataFrame({"a": [1]}), display=True)
    scrap = read(glued())["frame"]
    reglue_scrap(scrap, "copy")
    copied = read(glued()[2:])["copy"]
    assert copied.payload == scrap.payload
    assert copied.display["data"] == scrap.display["data"]


def test_reglue_unattached_shows_without_storing(glued):
    glue("x", 1, display=True)
    reglue_scrap(read(glued())["x"], unattached=True)
    extra = glued()[2:]
    assert len(extra) == 1
    assert "scrapbook" not in extra[0]["metadata"]


def test_reglue_of_a_built_scrap_encodes_it(glued):
    reglue_scrap(Scrap("x", [1], "json"))
    assert read(glued())["x"].data == [1]


def test_glue_outside_any_shell_warns_and_stores_nothing(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda _cls: False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        glue("x", 1)
    assert [w.category for w in caught] == [NoKernelWarning]
