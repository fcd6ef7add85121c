"""The example workflow in example_notebooks/, tested the way a user of the plugin would test it.

The source notebook runs once per parameter set for the whole session: the ``nb_params`` tests
and the summary's fixtures below share those runs.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pytest_nbscrap import Notebook
from pytest_nbscrap._fixtures import Runs

pytestmark = pytest.mark.notebook("../example_notebooks/ath_source.ipynb")

EXAMPLES = Path(__file__).resolve().parent.parent / "example_notebooks"
SOURCE = "../example_notebooks/ath_source.ipynb"
SUMMARY = "../example_notebooks/ath_summary.ipynb"
THRESHOLD = 0.05
# Their distances below the all-time high: TSLA 0% (it closed at its high), NFLX 2.9% and
# ORCL 3.5% are close; AAPL at 5.3% just misses, IBM at 22.6% is far off.
SYMBOLS = ("TSLA", "NFLX", "ORCL", "AAPL", "IBM")

each_symbol = pytest.mark.nb_params(
    *({"symbol": symbol} for symbol in SYMBOLS), threshold=THRESHOLD
)


# -- the source notebook, one run per symbol ---------------------------------------------------


@pytest.mark.kernel
@each_symbol
def test_distance_is_how_far_the_last_close_is_below_the_highest(scraps):
    prices = scraps["prices"].data
    distance = scraps["distance"].data
    assert isinstance(distance, float)
    assert 0 <= distance < 1
    assert distance == pytest.approx(1 - prices["close"].iloc[-1] / prices["close"].max())


@pytest.mark.kernel
@each_symbol
def test_close_to_ath_says_whether_the_distance_is_within_the_threshold(scraps):
    assert scraps["close_to_ath"].data is (scraps["distance"].data <= THRESHOLD)


@pytest.mark.kernel
@each_symbol
def test_prices_hold_one_row_per_day_with_the_running_high(scraps):
    prices = scraps["prices"].data
    assert list(prices.columns) == ["date", "close", "ath"]
    assert len(prices) == scraps["length"].data == 250
    assert prices["date"].is_monotonic_increasing
    assert prices["ath"].equals(prices["close"].cummax())


@pytest.mark.kernel
@each_symbol
def test_the_run_names_its_symbol_and_keeps_the_chart_as_a_picture(scraps, nb):
    symbol = nb.parameters["symbol"]
    assert scraps["symbol"].data == symbol
    assert scraps["message"].data.startswith(f"{symbol} closed at ")
    chart = scraps["chart"]
    assert chart.encoder == "display"
    assert chart.data is None
    assert "image/png" in chart.display["data"]


@pytest.mark.kernel
@pytest.mark.nb_params(symbol="TSLA", threshold=THRESHOLD)
def test_the_same_symbol_gives_the_same_prices_in_every_run(run_notebook, scraps):
    # Other parameters, so another run: another kernel process, where hash() would differ.
    again = run_notebook(SOURCE, symbol="TSLA")
    assert again.scraps["distance"].data == scraps["distance"].data
    assert again.scraps["prices"].data.equals(scraps["prices"].data)


# -- the summary over the source runs ----------------------------------------------------------


@pytest.fixture
def source_runs(run_notebooks) -> Runs:
    """The source runs of SYMBOLS in one folder of their own: the same runs the tests above
    use, so none runs twice."""
    return run_notebooks(SOURCE, [{"symbol": symbol} for symbol in SYMBOLS], threshold=THRESHOLD)


@pytest.fixture
def sources(source_runs) -> dict[str, Notebook]:
    return {run.parameters["symbol"]: run for run in source_runs.book.notebooks}


@pytest.fixture
def summary(run_notebook, source_runs) -> Notebook:
    # The same folder in every test, so the summary runs once for all of them.
    return run_notebook(SUMMARY, source_dir=str(source_runs.folder), threshold=THRESHOLD)


@pytest.mark.kernel
def test_summary_lists_exactly_the_symbols_whose_runs_are_within_the_threshold(sources, summary):
    close = {symbol for symbol, run in sources.items() if run.scraps["distance"].data <= THRESHOLD}
    assert 0 < len(close) < len(SYMBOLS), "the chosen symbols should be on both sides"
    assert sorted(summary.scraps["close_symbols"].data) == sorted(close)


@pytest.mark.kernel
def test_summary_table_has_each_symbols_distance_closest_first(sources, summary):
    table = summary.scraps["summary"].data
    assert list(table.columns) == ["symbol", "distance", "close_to_ath"]
    assert sorted(table["symbol"]) == sorted(SYMBOLS)
    assert table["distance"].is_monotonic_increasing
    for row in table.itertuples():
        assert row.distance == sources[row.symbol].scraps["distance"].data
        assert row.close_to_ath == sources[row.symbol].scraps["close_to_ath"].data


@pytest.mark.kernel
def test_summary_shows_the_chart_of_each_close_symbol_under_its_own_name(summary):
    charts = {name for name in summary.scraps if name.startswith("chart_")}
    assert charts == {f"chart_{symbol}" for symbol in summary.scraps["close_symbols"].data}
    for name in charts:
        assert "image/png" in summary.scraps[name].display["data"]


# -- collecting the notebooks, and the main job ------------------------------------------------


@pytest.mark.kernel
def test_nbscrap_runs_both_example_notebooks_as_they_are(pytester):
    # Copied without their outputs folder: the summary must then cope with no source runs.
    shutil.copytree(
        EXAMPLES,
        pytester.path / "example_notebooks",
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
    )
    result = pytester.runpytest_subprocess(
        "--nbscrap", "example_notebooks/", "-v", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["*ath_source PASSED*", "*ath_summary PASSED*"])
    result.assert_outcomes(passed=2)


def run_workflow(*args: str) -> subprocess.CompletedProcess[str]:
    script = EXAMPLES / "run_workflow.py"
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.kernel
def test_the_main_job_runs_sources_then_summary_and_prints_the_table(tmp_path):
    result = run_workflow("--out", str(tmp_path), "IBM", "TSLA")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "sources").iterdir()) == [
        "IBM.ipynb",
        "TSLA.ipynb",
    ]
    assert (tmp_path / "ath_summary.ipynb").is_file()
    lines = result.stdout.splitlines()
    # The sources are one command, as a person would type it, and so is the summary.
    commands = [line for line in lines if line.startswith("$ nbscrap run ")]
    assert len(commands) == 2
    assert f"{tmp_path / 'sources'}/ --grid symbol=IBM,TSLA " in commands[0]
    assert "ath_summary.ipynb" in commands[1]
    assert f"  summary: {tmp_path / 'ath_summary.ipynb'}" in lines
    assert "Within 5% of their all-time high: TSLA" in lines
    table = lines[lines.index("Within 5% of their all-time high: TSLA") + 2 :]
    assert [line.split() for line in table] == [
        ["symbol", "distance", "close_to_ath"],
        ["TSLA", "0.00%", "True"],
        ["IBM", "22.60%", "False"],
    ]


def test_the_main_job_fails_with_one_line_when_it_cannot_write(tmp_path):
    occupied = tmp_path / "a-file"
    occupied.write_text("")
    result = run_workflow("--out", str(occupied), "TSLA")
    assert result.returncode == 1
    assert result.stderr == f"run_workflow: --out {occupied} is a file, not a folder\n"


@pytest.fixture
def workflow() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_workflow", EXAMPLES / "run_workflow.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_main_job_clears_its_own_old_source_runs_but_not_other_files(workflow, tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    workflow.prepare(ours)
    (ours / "sources" / "GONE.ipynb").write_text("{}")
    assert list(workflow.prepare(ours).iterdir()) == []
    theirs.mkdir()
    (theirs / "notes.txt").write_text("")
    with pytest.raises(workflow.JobError, match="holds files this job did not write"):
        workflow.prepare(theirs)


def test_the_main_jobs_output_folder_is_skipped_by_collection(workflow):
    from pytest_nbscrap.plugin import OUTPUT_MARKER

    assert workflow.OUTPUT_MARKER is OUTPUT_MARKER
