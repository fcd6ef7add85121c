"""glue, reglue and scraps_report on a real ipykernel, executed through papermill.

Two notebooks run once per module: one glues (``glued``), one reads the executed ``glued``
notebook back and re-emits its scraps (``reglued``). Each test reads one fact from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import KERNELSPEC, code_cell, execute_with_papermill, write_notebook

import pytest_nbscrap

pytestmark = pytest.mark.kernel

HEAVY = ["papermill", "nbformat", "nbclient", "jsonschema", "pandas", "pyarrow"]

GLUED_CELLS = {
    # First, before anything else imports: `sb.glue` is looked up (importing the glue module)
    # before its arguments are evaluated, so the list includes what getting glue loaded.
    "imports": "import sys\nimport pytest_nbscrap as sb\nsb.glue('modules', sorted(sys.modules))",
    "setup": (
        "import pandas as pd\nfrom IPython.display import HTML\n"
        "frame = pd.DataFrame({'x': [1, 2], 'label': ['a', None]})"
    ),
    "frame": "sb.glue('frame', frame)",
    "display_list": "sb.glue('html_only_display', frame, display=['text/html'])",
    "display_dict": "sb.glue('no_html_display', frame, display={'exclude': ['text/html']})",
    "display_true": "sb.glue('shown', [1, 2, 3], display=True)",
    "display_encoder": "sb.glue('html', HTML('<p>only shown</p>'), encoder='display')",
    "first": "sb.glue('replaced', 'first')",
    "second": "sb.glue('replaced', 'second')",
    "no_encoder": (
        "class Opaque:\n    pass\n\n"
        "try:\n    sb.glue('opaque', Opaque())\n"
        "except Exception as exc:\n"
        "    sb.glue('error', {'mro': [c.__name__ for c in type(exc).__mro__], "
        "'message': str(exc)})"
    ),
    # The README's tutorial picks Agg, which registers no PNG formatter with IPython.
    "agg_figure": (
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "figure, axes = plt.subplots(figsize=(1, 1))\naxes.plot([0, 1], [1, 0])\n"
        "sb.glue('agg_chart', figure, encoder='display')\n"
        "sb.glue('agg_shown', figure, display=True)"
    ),
    "figure_no_encoder": (
        "try:\n    sb.glue('chart', figure)\n"
        "except Exception as exc:\n"
        "    sb.glue('figure_error', {'mro': [c.__name__ for c in type(exc).__mro__], "
        "'message': str(exc)})"
    ),
}

REGLUE_CELLS = {
    "read": "import pytest_nbscrap as sb\nsource = sb.read_notebook({glued!r})",
    "frame": "source.reglue('frame')",
    "rename": "source.reglue('shown', 'renamed')",
    "unattached": "source.reglue('html_only_display', unattached=True)",
    "missing": "source.reglue('missing', raise_on_missing=False)",
    "report": "sb.read_notebooks({folder!r}).scraps_report(include_data=True)",
}


def execute(folder: Path, name: str, cells: dict[str, str]) -> pytest_nbscrap.Notebook:
    """Runs ``cells`` (tagged with their keys) as notebook ``folder/name.ipynb``."""
    tagged = [code_cell(source, id=tag, metadata={"tags": [tag]}) for tag, source in cells.items()]
    inputs = folder.parent / f"{folder.name}-inputs"
    source = write_notebook(inputs / f"{name}.ipynb", *tagged, kernelspec=KERNELSPEC)
    output = folder / f"{name}.ipynb"
    execute_with_papermill(source, output, cwd=folder)
    return pytest_nbscrap.read_notebook(output)


def outputs_of(notebook: pytest_nbscrap.Notebook, tag: str) -> list[dict[str, Any]]:
    [cell] = [cell for cell in notebook.cells if tag in cell["metadata"].get("tags", [])]
    return list(cell["outputs"])


@pytest.fixture(scope="module")
def glued(tmp_path_factory: pytest.TempPathFactory) -> pytest_nbscrap.Notebook:
    return execute(tmp_path_factory.mktemp("glued"), "glued", GLUED_CELLS)


@pytest.fixture(scope="module")
def reglued(
    glued: pytest_nbscrap.Notebook, tmp_path_factory: pytest.TempPathFactory
) -> pytest_nbscrap.Notebook:
    cells = {
        tag: source.format(glued=glued.path, folder=glued.directory)
        for tag, source in REGLUE_CELLS.items()
    }
    return execute(tmp_path_factory.mktemp("reglued"), "reglued", cells)


def expected_frame() -> Any:
    import pandas as pd

    return pd.DataFrame({"x": [1, 2], "label": ["a", None]})


# --- import cost ------------------------------------------------------------------------------


def test_importing_the_package_in_a_kernel_loads_no_heavy_dependency(glued):
    loaded = set(glued.scraps["modules"].data)
    assert "pytest_nbscrap._glue" in loaded  # the list was taken after glue was loaded
    assert [name for name in HEAVY if name in loaded] == []


# --- display ----------------------------------------------------------------------------------


def test_display_list_is_passed_as_include(glued):
    display = glued.scraps["html_only_display"].display
    assert set(display["data"]) == {"text/html"}


def test_display_dict_is_passed_as_keyword_arguments(glued):
    display = glued.scraps["no_html_display"].display
    assert set(display["data"]) == {"text/plain"}


def test_display_list_keeps_the_data_too(glued):
    import pandas as pd

    scrap = glued.scraps["html_only_display"]
    assert scrap.encoder == "pandas"
    pd.testing.assert_frame_equal(scrap.data, expected_frame())


def test_display_true_reads_as_one_scrap_with_data_and_display(glued):
    scrap = glued.scraps["shown"]
    assert (scrap.data, scrap.encoder) == ([1, 2, 3], "json")
    assert scrap.display["data"]["text/plain"] == "[1, 2, 3]"


def test_display_true_writes_a_data_output_then_a_display_output(glued):
    tags = [output["metadata"]["scrapbook"] for output in outputs_of(glued, "display_true")]
    assert tags == [
        {"name": "shown", "data": True, "display": False},
        {"name": "shown", "data": False, "display": True},
    ]


def test_display_encoder_writes_no_data_output(glued):
    [output] = outputs_of(glued, "display_encoder")
    assert not [key for key in output["data"] if key.startswith("application/scrapbook")]
    assert output["metadata"]["scrapbook"] == {"name": "html", "data": False, "display": True}


def test_display_encoder_scrap_reads_with_display_and_no_data(glued):
    scrap = glued.scraps["html"]
    assert (scrap.data, scrap.encoder) == (None, "display")
    assert scrap.display["data"]["text/html"] == "<p>only shown</p>"


# --- names ------------------------------------------------------------------------------------


def test_later_glue_of_a_name_replaces_the_earlier_one(glued):
    assert glued.scraps["replaced"].data == "second"


def test_a_replaced_scrap_keeps_one_entry(glued):
    assert list(glued.scraps).count("replaced") == 1


# --- no encoder -------------------------------------------------------------------------------


def test_value_without_encoder_raises_a_not_implemented_error(glued):
    assert "NotImplementedError" in glued.scraps["error"].data["mro"]


def test_value_without_encoder_error_names_its_type_then_the_scrap(glued):
    assert (
        glued.scraps["error"]
        .data["message"]
        .startswith(
            "Scrap of type <class '__main__.Opaque'> has no supported encoder registered"
            " (scrap 'opaque')"
        )
    )


def test_value_without_encoder_stores_nothing(glued):
    assert "opaque" not in glued.scraps


# --- matplotlib figures -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["agg_chart", "agg_shown"])
def test_a_figure_glued_for_display_under_agg_stores_its_png(glued, name):
    import base64

    scrap = glued.scraps[name]
    assert (scrap.encoder, scrap.data) == ("display", None)
    assert base64.b64decode(scrap.display["data"]["image/png"]).startswith(b"\x89PNG")


def test_a_figure_without_an_encoder_raises_scrapbooks_error_in_a_kernel(glued):
    error = glued.scraps["figure_error"].data
    assert "NotImplementedError" in error["mro"]
    assert error["message"].startswith(
        "Scrap of type <class 'matplotlib.figure.Figure'> has no supported encoder registered"
    )
    assert 'encoder="display"' in error["message"]
    assert "chart" not in glued.scraps


# --- reglue -----------------------------------------------------------------------------------


def test_reglue_of_a_dataframe_scrap_keeps_an_equal_dataframe(reglued):
    import pandas as pd

    scrap = reglued.scraps["frame"]
    assert scrap.encoder == "pandas"
    pd.testing.assert_frame_equal(scrap.data, expected_frame())


def test_reglue_with_new_name_stores_the_scrap_under_the_new_name(reglued, glued):
    assert reglued.scraps["renamed"] == glued.scraps["shown"].replace(
        name="renamed", display=reglued.scraps["renamed"].display
    )


def test_reglue_with_new_name_retags_the_display_with_the_new_name(reglued):
    assert reglued.scraps["renamed"].display["metadata"]["scrapbook"]["name"] == "renamed"


def test_reglue_with_new_name_leaves_no_scrap_under_the_old_name(reglued):
    assert "shown" not in reglued.scraps


def test_unattached_reglue_shows_the_display(reglued, glued):
    [output] = outputs_of(reglued, "unattached")
    assert output["data"] == glued.scraps["html_only_display"].display["data"]


def test_unattached_reglue_stores_no_scrap(reglued):
    assert "html_only_display" not in reglued.scraps


def test_reglue_of_a_missing_name_without_raising_shows_a_message(reglued):
    [output] = outputs_of(reglued, "missing")
    assert "No scrap found with name 'missing'" in output["data"]["text/plain"]


# --- scraps_report ----------------------------------------------------------------------------


def report_texts(reglued: pytest_nbscrap.Notebook) -> list[str]:
    texts = []
    for output in outputs_of(reglued, "report"):
        data = output.get("data", {})
        texts.append(data.get("text/markdown") or data.get("text/plain") or output.get("text"))
    return texts


def test_scraps_report_heads_each_notebook_with_its_name(reglued):
    assert report_texts(reglued)[0] == "### glued"


def test_scraps_report_reglues_display_scraps_without_their_data(reglued, glued):
    texts = report_texts(reglued)
    index = texts.index("#### html")
    assert texts[index + 1] == glued.scraps["html"].display["data"]["text/plain"]


def test_scraps_report_with_data_shows_each_data_scrap_under_its_name(reglued):
    texts = report_texts(reglued)
    index = texts.index("#### replaced")
    assert texts[index + 1] == "'second'"


def test_scraps_report_stores_no_scrap(reglued):
    assert set(reglued.scraps) == {"frame", "renamed"}
