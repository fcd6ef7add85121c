"""Hostile notebooks: reading or rendering one never runs its code, never lets it drive the
terminal, and never lets its names choose where files are written.

Notebooks come from anyone: a colleague, a CI artefact, a download. Everything here is what a
notebook's author controls: outputs, metadata, scrap names, encoder names, parameters.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib
import pickle
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers import code_cell, notebook, write_code_notebook

from pytest_nbscrap import read_notebook
from pytest_nbscrap.__main__ import main as command_line
from pytest_nbscrap._errors import NbScrapError
from pytest_nbscrap._param_sets import safe_name
from pytest_nbscrap._runs import Runner, RunSpec
from pytest_nbscrap._scraps import GLUE_PREFIX, data_output
from pytest_nbscrap.export import render_notebook

TOKEN = "NBSCRAP_HOSTILE_TOKEN"

# -- nothing from the notebook runs ------------------------------------------------------------

_AUDITED: list[tuple[str, str]] | None = None
_WATCHED = {
    "pickle.find_class",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "subprocess.Popen",
    "ctypes.dlopen",
}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _AUDITED is None:
        return
    if event in _WATCHED or (event in ("compile", "exec", "import") and TOKEN in repr(args)):
        _AUDITED.append((event, repr(args)[:200]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one records only when asked


@contextmanager
def audited() -> Iterator[list[tuple[str, str]]]:
    """Records unpickling, process starts, and any compile/exec/import of notebook text."""
    global _AUDITED  # noqa: PLW0603 - the audit hook is process-wide by nature
    events: list[tuple[str, str]] = []
    _AUDITED = events
    try:
        yield events
    finally:
        _AUDITED = None


class _Touch:
    """Unpickling this creates a file: the proof that a payload was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (pathlib.Path.touch, (self.path,))


def _extension_type_parquet(mark: Path) -> str:
    """Parquet whose column claims to be pyarrow's pickled extension type (CVE-2023-47248:
    pyarrow 0.14-14.0.0 unpickled it on read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    field = pa.field(
        "c",
        pa.binary(),
        metadata={
            b"ARROW:extension:name": b"arrow.py_extension_type",
            b"ARROW:extension:metadata": pickle.dumps(_Touch(mark), protocol=4),
        },
    )
    buffer = io.BytesIO()
    pq.write_table(pa.table({"c": pa.array([b"x"])}, schema=pa.schema([field])), buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _raw_scrap(name: str, payload: Any, encoder: str) -> dict[str, Any]:
    data, metadata = data_output(name, payload, encoder)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def trojan_notebook(mark: Path) -> dict[str, Any]:
    """Every place a reader could be tricked into running code, armed to create ``mark``."""
    pickled = base64.b64encode(pickle.dumps(_Touch(mark))).decode("ascii")
    evil_code = f"__import__('pathlib').Path({str(mark)!r}).touch()  # {TOKEN}"
    crafted_encoder = f"__import__('os').system('touch {mark}')  # {TOKEN}"
    outputs = [
        _raw_scrap("pickled", pickled, "pickle"),
        _raw_scrap("crafted", evil_code, crafted_encoder),
        _raw_scrap("pickled_frame", pickled, "pandas"),
        _raw_scrap("extension_frame", _extension_type_parquet(mark), "pandas"),
        _raw_scrap("code_as_json", evil_code, "json"),
        _raw_scrap("template", "{{ cycler.__init__.__globals__.os.system('touch x') }}", "text"),
        _raw_scrap("{{ 7 * 7 }}{% raw %}", 1, "json"),
        {
            "output_type": "display_data",
            "data": {f"{GLUE_PREFIX}.arrow+json": {"name": "arrow", "data": pickled}},
            "metadata": {"scrapbook": {"name": "arrow", "data": True, "display": False}},
        },
        {
            "output_type": "display_data",
            "data": {"application/papermill.record+json": {"record": evil_code}},
            "metadata": {},
        },
        {
            "output_type": "display_data",
            "data": {
                "text/html": f"<script>{evil_code}</script>",
                "application/javascript": evil_code,
                "application/x-python-pickle": pickled,
            },
            "metadata": {"scrapbook": {"name": "shown", "data": False, "display": True}},
        },
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "data": {"text/plain": evil_code},
            "metadata": {},
        },
        {
            "output_type": "error",
            "ename": crafted_encoder,
            "evalue": evil_code,
            "traceback": [evil_code, "{{ 7 * 7 }}"],
        },
    ]
    return notebook(
        code_cell(evil_code, outputs=outputs, metadata={"tags": [evil_code]}),
        {"cell_type": "markdown", "source": f"{{{{ 7 * 7 }}}} {evil_code}", "metadata": {}},
        kernelspec={"name": f"$(touch {mark})", "display_name": evil_code, "language": "python"},
        papermill={"parameters": {"x": evil_code}, "exception": True},
        nbscrap={"params": {"x": evil_code}},
    )


@pytest.fixture
def trojan(tmp_path) -> tuple[Path, Path]:
    mark = tmp_path / "code-ran"
    path = tmp_path / "trojan.ipynb"
    path.write_text(json.dumps(trojan_notebook(mark)), encoding="utf-8")
    return path, mark


def test_the_watch_would_see_a_payload_unpickled_or_notebook_text_evaluated(tmp_path):
    mark = tmp_path / "proof"
    with audited() as events:
        pickle.loads(pickle.dumps(_Touch(mark)))  # the payload is live
        eval(f"'{TOKEN}'")  # and so is an eval of notebook text
    assert mark.exists()
    assert {event for event, _ in events} == {"pickle.find_class", "compile"}


def test_reading_every_scrap_of_a_trojan_notebook_runs_nothing(trojan):
    path, mark = trojan
    with audited() as events:
        notebook_ = read_notebook(path)
        outcomes = {}
        for name, scrap in notebook_.scraps.items():
            try:
                outcomes[name] = scrap.data
            except NbScrapError as error:
                outcomes[name] = type(error).__name__
            repr(scrap)
        with pytest.raises(NbScrapError):  # the table needs every scrap's data
            notebook_.scrap_dataframe  # noqa: B018 - building it is the test
        notebook_.parameters  # noqa: B018
    assert events == []
    assert not mark.exists()
    assert outcomes["pickled"] == "UnknownEncoderError"
    assert outcomes["pickled_frame"] == "ScrapDecodeError"
    assert outcomes["arrow"] == "UnknownEncoderError"
    assert outcomes["code_as_json"].startswith("__import__")  # a string, returned as one


def test_rendering_a_trojan_notebook_runs_nothing_and_shows_templates_as_text(trojan):
    path, mark = trojan
    with audited() as events:
        plain = render_notebook(path)
        coloured = render_notebook(read_notebook(path), color=True)
    assert events == []
    assert not mark.exists()
    assert "{{ 7 * 7 }}" in plain
    assert "49" not in plain
    assert "{{ cycler" not in plain  # a text scrap is shown by name, its data is not decoded
    assert "__import__" in coloured  # shown as text, never run


def test_the_command_line_on_a_trojan_notebook_runs_nothing(trojan, capsys):
    path, mark = trojan
    with audited() as events:
        render_status = command_line(["render", str(path)])
        scraps_status = command_line(["scraps", str(path)])
        json_status = command_line(["scraps", "--json", str(path)])
    assert events == []
    assert not mark.exists()
    assert (render_status, scraps_status, json_status) == (1, 0, 0)  # 1: it holds an error
    assert "UnknownEncoderError" in capsys.readouterr().out


# -- terminal control --------------------------------------------------------------------------

SEQUENCES = {
    "clear screen": "\x1b[2J",
    "cursor home": "\x1b[H",
    "cursor up": "\x1b[10A",
    "erase line": "\x1b[2K",
    "alternate screen": "\x1b[?1049h",
    "window title (OSC 0)": "\x1b]0;pwned title\x07",
    "hyperlink (OSC 8)": "\x1b]8;;https://evil.example/\x1b\\",
    "hyperlink end": "\x1b]8;;\x1b\\",
    "clipboard (OSC 52)": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "device control (DCS)": "\x1bP+q544e\x1b\\",
    "full reset": "\x1bc",
    "bell": "\x07",
    "8-bit CSI": "\x9b2J",
    "8-bit OSC": "\x9d0;title\x9c",
    "NUL": "\x00",
    "backspace": "\x08",
    "carriage return": "\r",
}
ALL = "".join(f"[{name}:{sequence}]" for name, sequence in SEQUENCES.items())
COLOUR = "\x1b[31mred\x1b[0m"
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def controls_left(text: str, *, colour: bool) -> list[str]:
    """Control characters other than newline and tab, once colour (if allowed) is set aside."""
    if colour:
        text = _SGR.sub("", text)
    return sorted({repr(char) for char in _CONTROL.findall(text)})


def shouting_notebook() -> dict[str, Any]:
    """Terminal control in every text a notebook carries."""
    text = f"before {ALL} {COLOUR} after"
    return notebook(
        code_cell(f"x = 1  # {text}", execution_count=1),
        code_cell(
            f"print('{text}')",
            outputs=[
                {"output_type": "stream", "name": "stdout", "text": f"{text}\n"},
                {"output_type": "stream", "name": "stderr", "text": text},
                {
                    "output_type": "execute_result",
                    "execution_count": 2,
                    "data": {"text/plain": text},
                    "metadata": {},
                },
                {
                    "output_type": "display_data",
                    "data": {"text/plain": text},
                    "metadata": {"scrapbook": {"name": text, "data": False, "display": True}},
                },
                _raw_scrap(text, 1, "json"),
                {
                    "output_type": "error",
                    "ename": f"Error{ALL}",
                    "evalue": text,
                    "traceback": [text, f"\x1b[0;31m{ALL}ValueError\x1b[0m: {text}"],
                },
            ],
            execution_count=2,
            metadata={"tags": [text]},
        ),
        {"cell_type": "markdown", "source": f"# {text}", "metadata": {}},
        {"cell_type": "raw", "source": text, "metadata": {}},
    )


@pytest.mark.parametrize("colour", [False, True], ids=["colour off", "colour on"])
def test_rendering_neutralises_every_terminal_control_but_colour(colour):
    text = render_notebook(shouting_notebook(), color=colour)
    assert controls_left(text, colour=colour) == []
    assert "before" in text
    assert "after" in text
    assert "pwned title" not in text  # an OSC payload is dropped with its sequence
    assert ("\x1b[31m" in text) is colour  # colour is kept only when asked for


@pytest.mark.parametrize("colour", [False, True], ids=["colour off", "colour on"])
def test_rendering_a_failure_from_a_path_neutralises_terminal_control(tmp_path, colour):
    path = tmp_path / f"x{SEQUENCES['bell']}y.ipynb"
    path.write_text(json.dumps(shouting_notebook()), encoding="utf-8")
    text = render_notebook(path, color=colour)
    assert controls_left(text, colour=colour) == []


def test_the_scraps_listing_neutralises_terminal_control(tmp_path, capsys):
    path = tmp_path / "shouting.ipynb"
    path.write_text(json.dumps(shouting_notebook()), encoding="utf-8")
    assert command_line(["scraps", str(path)]) == 0
    assert controls_left(capsys.readouterr().out, colour=False) == []


@pytest.fixture
def shouting_folder(pytester) -> Path:
    """Notebooks whose outputs, errors, metadata and parameters carry terminal control."""
    folder = pytester.path / "nbs"
    folder.mkdir()
    shouting = f"before {ALL} {COLOUR} after"
    write_code_notebook(
        folder / "prints.ipynb",
        f"print({shouting!r})\nimport sys\nprint({shouting!r}, file=sys.stderr)",
        f"raise ValueError({shouting!r})",
    )
    write_code_notebook(
        folder / "kernel.ipynb",
        "x = 1",
        kernelspec={"name": f"nope{ALL}", "display_name": "x", "language": "python"},
    )
    write_code_notebook(
        folder / "params.ipynb",
        "symbol = 'A'",
        "assert False, symbol",
        nbscrap={"params": [{"symbol": SEQUENCES["clear screen"] + "../../escape"}]},
    )
    write_code_notebook(folder / "later.ipynb", "x = 1", nbscrap={"skip": f"not now{ALL}"})
    write_code_notebook(folder / "keys.ipynb", "x = 1", nbscrap={f"key{ALL}": 1})
    return pytester.path


@pytest.mark.kernel
@pytest.mark.parametrize("colour", ["no", "yes"])
def test_the_plugins_reports_neutralise_terminal_control(shouting_folder, pytester, colour):
    out = shouting_folder / "out"
    result = pytester.runpytest_subprocess(
        "--nbscrap", "nbs", f"--color={colour}", f"--nbscrap-output-dir={out}", "-rA", "-v"
    )
    result.assert_outcomes(failed=4, skipped=1)
    report = result.stdout.str() + result.stderr.str()
    assert controls_left(report, colour=colour == "yes") == []  # sources show them escaped
    result.stdout.fnmatch_lines(
        ["nbs/params.ipynb::params[[]symbol=\\x1b[[]2J../../escape[]] *FAILED*"]
    )


@pytest.mark.kernel
def test_a_parameter_naming_a_path_writes_only_inside_the_output_folder(shouting_folder, pytester):
    out = shouting_folder / "out"
    pytester.runpytest_subprocess("--nbscrap", "nbs", f"--nbscrap-output-dir={out}")
    written = {
        path.relative_to(shouting_folder).as_posix()
        for path in shouting_folder.rglob("*.ipynb")
        if not path.is_relative_to(shouting_folder / "nbs")
    }
    assert len(written) == 2  # prints and params ran; the others never started a kernel
    assert all(name.startswith("out/") and name.count("/") == 1 for name in written)


# -- names never choose where files go ---------------------------------------------------------

HOSTILE_NAMES = [
    "../../x",
    "/etc/passwd",
    "..",
    ".",
    "a/../../b",
    "x\x00y",
    "\\..\\..\\windows",
    "~/.bashrc",
    "-rf",
    "CON",
    "é" * 300,
    "x" * 1000,
    "\x1b]0;title\x07",
    "",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_name_is_one_harmless_file_name(name):
    cleaned = safe_name(name)
    assert cleaned
    assert "/" not in cleaned
    assert "\\" not in cleaned
    assert "\x00" not in cleaned
    assert ".." not in cleaned
    assert not cleaned.startswith(".")
    assert len(cleaned.encode()) <= 100


HOSTILE_WORKER = "../gw0"


@pytest.fixture
def runner(tmp_path) -> Iterator[Runner]:
    root = tmp_path / "project"
    (root / "nbs").mkdir(parents=True)
    out = tmp_path / "out"
    out.mkdir()
    runner = Runner(lambda: out, root=root, worker=HOSTILE_WORKER)
    yield runner
    runner.close()


@pytest.fixture
def folder(tmp_path) -> Path:
    """Where the runner keeps notebooks: a folder of its own inside the output folder."""
    return tmp_path / "out" / safe_name(HOSTILE_WORKER)


def assert_inside(path: Path, folder: Path) -> None:
    assert path.parent == folder
    folder.mkdir(exist_ok=True)
    assert path.resolve().parent == folder.resolve()
    assert len(path.name.encode()) <= 255
    path.touch()  # a valid file name on this system
    assert path.exists()


@pytest.mark.parametrize("value", HOSTILE_NAMES)
def test_a_parameter_value_never_leaves_the_output_folder(runner, folder, tmp_path, value):
    spec = RunSpec(tmp_path / "project" / "nbs" / "nb.ipynb", {"symbol": value})
    assert_inside(runner.output_path(spec), folder)


@pytest.mark.parametrize("key", [name for name in HOSTILE_NAMES if name])
def test_a_parameter_name_never_leaves_the_output_folder(runner, folder, tmp_path, key):
    spec = RunSpec(tmp_path / "project" / "nbs" / "nb.ipynb", {key: 1})
    assert_inside(runner.output_path(spec), folder)


@pytest.mark.parametrize(
    "where",
    ["nbs/..__..__x.ipynb", "nbs/-rf.ipynb", "nbs/.hidden.ipynb", "../../outside/nb.ipynb"],
)
def test_a_notebook_name_never_leaves_the_output_folder(runner, folder, tmp_path, where):
    spec = RunSpec(tmp_path / "project" / where, {"a": "../b"}, kernel="../k", cwd=Path(".."))
    assert_inside(runner.output_path(spec), folder)


def test_a_hostile_worker_name_is_one_folder_inside_the_output_folder(folder, tmp_path):
    assert folder.parent == tmp_path / "out"


def test_different_hostile_values_never_share_an_output_file(runner, tmp_path):
    source = tmp_path / "project" / "nbs" / "nb.ipynb"
    paths = {runner.output_path(RunSpec(source, {"symbol": name})) for name in HOSTILE_NAMES}
    assert len(paths) == len(HOSTILE_NAMES)
