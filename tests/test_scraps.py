from __future__ import annotations

import pickle

import pandas as pd
import pytest
from helpers import code_cell

from pytest_nbscrap._errors import ScrapDecodeError, UnknownEncoderError
from pytest_nbscrap._scraps import Scrap, Scraps, data_output, scraps_from_cells


def data(name, payload, encoder="json"):
    bundle, metadata = data_output(name, payload, encoder)
    return {"output_type": "display_data", "data": bundle, "metadata": metadata}


def display(name, text):
    return {
        "output_type": "display_data",
        "data": {"text/plain": text},
        "metadata": {"scrapbook": {"name": name, "data": False, "display": True}},
    }


def test_scrap_repr_reads_like_its_constructor():
    assert repr(Scrap("x", 1, "json")) == "Scrap(name='x', data=1, encoder='json', display=None)"


def test_scrap_is_immutable():
    scrap = Scrap("x", 1, "json")
    with pytest.raises(AttributeError):
        scrap.data = 2  # type: ignore[misc]


def test_scrap_unpacks_like_scrapbooks_namedtuple():
    name, value, encoder, shown = Scrap("x", 1, "json")
    assert (name, value, encoder, shown) == ("x", 1, "json", None)


def test_scraps_repr_lists_items():
    scraps = Scraps([("x", Scrap("x", 1, "json"))])
    assert repr(scraps) == "Scraps([('x', Scrap(name='x', data=1, encoder='json', display=None))])"


def test_wire_format_is_scrapbooks():
    bundle, metadata = data_output("x", 1, "json")
    assert bundle == {
        "application/scrapbook.scrap.json+json": {
            "name": "x",
            "data": 1,
            "encoder": "json",
            "version": 1,
        }
    }
    assert metadata == {"scrapbook": {"name": "x", "data": True, "display": False}}


def test_data_is_decoded_only_when_asked_for():
    scrap = scraps_from_cells([code_cell(outputs=[data("x", "[1, 2]")])])["x"]
    assert not scrap.decoded
    assert scrap.data == [1, 2]
    assert scrap.decoded


def test_data_and_display_of_one_glue_merge_into_one_scrap():
    scraps = scraps_from_cells([code_cell(outputs=[data("x", 1), display("x", "1")])])
    assert scraps["x"].data == 1
    assert scraps["x"].encoder == "json"
    assert scraps["x"].display["data"] == {"text/plain": "1"}


def test_a_later_glue_of_a_name_replaces_the_earlier_one():
    cells = [
        code_cell(outputs=[data("x", 1), display("x", "1")]),
        code_cell(outputs=[data("x", 2)]),
    ]
    scrap = scraps_from_cells(cells)["x"]
    assert (scrap.data, scrap.display) == (2, None)


def test_a_display_only_glue_after_a_data_glue_replaces_it():
    scraps = scraps_from_cells(
        [code_cell(outputs=[data("x", 1)]), code_cell(outputs=[display("x", "fig")])]
    )
    assert scraps["x"].encoder == "display"
    assert scraps["x"].data is None


def test_legacy_papermill_records_read_as_scraps():
    output = {
        "output_type": "display_data",
        "data": {"application/papermill.record+json": {"answer": 42}},
        "metadata": {},
    }
    scrap = scraps_from_cells([code_cell(outputs=[output])])["answer"]
    assert (scrap.data, scrap.encoder) == (42, "json")


def test_an_unknown_encoder_fails_alone_and_only_when_its_data_is_read():
    cells = [code_cell(outputs=[data("odd", "xyz", "arrow"), data("fine", 1)])]
    scraps = scraps_from_cells(cells)
    assert scraps["fine"].data == 1
    assert scraps["odd"].encoder == "arrow"
    with pytest.raises(UnknownEncoderError, match="Scrap 'odd' uses encoder 'arrow'"):
        scraps["odd"].data  # noqa: B018


def test_a_corrupt_payload_names_scrap_and_encoder():
    scraps = scraps_from_cells([code_cell(outputs=[data("frame", "bm90IHBhcnF1ZXQ=", "pandas")])])
    with pytest.raises(
        ScrapDecodeError, match="Scrap 'frame' cannot be decoded with encoder 'pandas'"
    ):
        scraps["frame"].data  # noqa: B018
    assert "undecodable" in repr(scraps["frame"])


def test_outputs_that_are_not_scraps_are_ignored():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "hi"},
        {"output_type": "display_data", "data": {"text/plain": "1"}, "metadata": {}},
        {
            "output_type": "display_data",
            "data": {"application/scrapbook.scrap.json+json": "junk"},
            "metadata": {},
        },
    ]
    assert (
        scraps_from_cells([code_cell(outputs=outputs), {"cell_type": "markdown", "source": ""}])
        == {}
    )


def test_scraps_views_and_dicts():
    scraps = scraps_from_cells(
        [code_cell(outputs=[data("a", 1), data("b", 2), display("b", "2"), display("c", "c")])]
    )
    assert scraps.data_dict == {"a": 1, "b": 2}
    assert list(scraps.display_dict) == ["b", "c"]
    assert list(scraps.dataframe.columns) == ["name", "data", "encoder", "display"]


def test_equality_is_nan_and_frame_aware():
    frame = pd.DataFrame({"a": [1.0, float("nan")]})
    assert Scrap("f", frame.copy(), "pandas") == Scrap("f", frame, "pandas")
    assert Scrap("n", float("nan"), "json") == Scrap("n", float("nan"), "json")
    assert Scrap("n", 1, "json") != Scrap("n", 2, "json")


def test_undecoded_scraps_pickle_without_decoding():
    scrap = scraps_from_cells([code_cell(outputs=[data("x", "[1]")])])["x"]
    copy = pickle.loads(pickle.dumps(scrap))
    assert not copy.decoded
    assert copy.data == [1]
