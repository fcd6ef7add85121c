"""glue() against a real IPython shell's display machinery (no kernel needed)."""

from __future__ import annotations

import base64
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import code_cell

from pytest_nbscrap import NoKernelWarning, glue
from pytest_nbscrap._errors import EncoderError, NoEncoderError, UnknownEncoderError, UsageError
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


# --- matplotlib figures (issue 11, items 6 and 7) ---------------------------------------------


def small_figure():
    from matplotlib.figure import Figure  # no pyplot: no backend is chosen

    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


def test_a_figure_without_an_encoder_raises_scrapbooks_error_naming_the_scrap(glued):
    with pytest.raises(NoEncoderError) as caught:
        glue("chart", small_figure())
    assert isinstance(caught.value, NotImplementedError)
    message = str(caught.value)
    assert message.startswith(
        "Scrap of type <class 'matplotlib.figure.Figure'> has no supported encoder registered"
    )
    assert "'chart'" in message
    assert 'encoder="display"' in message
    assert glued() == []


def test_encoder_display_stores_a_figures_png_without_an_inline_backend(glued):
    # This shell has no inline backend, so IPython's formatters alone give only text/plain.
    glue("chart", small_figure(), encoder="display")
    scrap = read(glued())["chart"]
    assert scrap.encoder == "display"
    assert base64.b64decode(scrap.display["data"]["image/png"]).startswith(b"\x89PNG")
    assert scrap.display["data"]["text/plain"].startswith("<Figure size")


def test_display_true_of_a_figure_keeps_only_its_display_with_png(glued):
    glue("chart", small_figure(), display=True)
    [output] = glued()
    assert output["metadata"]["scrapbook"] == {"name": "chart", "data": False, "display": True}
    assert "image/png" in output["data"]


def test_display_include_without_png_is_respected_for_figures(glued):
    glue("chart", small_figure(), display=["text/plain"])
    assert list(read(glued())["chart"].display["data"]) == ["text/plain"]


def test_display_false_of_an_unencodable_value_raises(glued):
    with pytest.raises(NoEncoderError):
        glue("thing", object(), display=False)
    assert glued() == []


# --- JSON (items 8 and 9) ---------------------------------------------------------------------


def test_a_dict_with_non_string_keys_glues_with_its_keys_as_json_writes_them(glued):
    value = {1: 2, 2.5: "x", False: "no", None: 3, np.int64(7): "seven"}
    glue("counts", value)
    scrap = read(glued())["counts"]
    assert scrap.encoder == "json"
    plain_keys = {(int(key) if isinstance(key, np.integer) else key): v for key, v in value.items()}
    assert scrap.data == json.loads(json.dumps(plain_keys))
    assert scrap.data == {"1": 2, "2.5": "x", "false": "no", "null": 3, "7": "seven"}


def test_value_counts_to_dict_glues(glued):
    counts = pd.Series([3, 1, 3, 2, 3]).value_counts().to_dict()
    glue("counts", counts)
    assert read(glued())["counts"].data == {str(key): item for key, item in counts.items()}


def test_encoder_json_parses_json_text(glued):
    glue("parsed", '{"a": 1}', encoder="json")
    glue("number", "2.5", encoder="json")
    scraps = read(glued())
    assert scraps["parsed"].data == {"a": 1}
    assert scraps["number"].data == 2.5


def test_encoder_json_of_text_that_is_not_json_suggests_encoder_text(glued):
    with pytest.raises(EncoderError, match=r"not JSON.*encoder=\"text\"") as caught:
        glue("words", "plain words", encoder="json")
    assert "'words'" in str(caught.value)
    assert glued() == []


def test_reglue_of_a_json_string_scrap_after_reading_its_data_keeps_it(glued):
    glue("quoted", '"hi"', encoder="json")
    scrap = read(glued())["quoted"]
    assert scrap.data == "hi"
    reglue_scrap(scrap, "again")
    assert read(glued()[1:])["again"].data == "hi"


# --- outside any shell (item 11) --------------------------------------------------------------

NO_SHELL_SCRIPT = """\
import json, sys, warnings
from IPython.core.interactiveshell import InteractiveShell
from pytest_nbscrap import NoKernelWarning, glue

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    glue("shown", {"a": 1}, display=True)
    glue("plain", 1)
    glue("html", "<b>x</b>", encoder="display")
print(json.dumps({
    "warnings": [w.category.__name__ for w in caught],
    "shell": InteractiveShell.initialized(),
}))
"""


def test_glue_outside_a_kernel_is_the_same_after_a_display_glue():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", NO_SHELL_SCRIPT], capture_output=True, text=True, check=True
    )
    *printed, last = done.stdout.splitlines()
    assert printed == []  # nothing was displayed anywhere
    assert json.loads(last) == {"warnings": ["NoKernelWarning"] * 3, "shell": False}
