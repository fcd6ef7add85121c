"""A notebook gluing 6 values, executed: ``import pytest_nbscrap as sb`` against scrapbook.

The two notebooks are the same but for the import line: they build a small DataFrame and glue
an int, a float, a str, a list, a dict and the frame, one glue per cell. By default each runs
on its tool's own stack, as a user would run it: ours with ``pytest_nbscrap.execute_notebook``,
scrapbook's with ``papermill.execute_notebook`` (scrapbook has no runner of its own).
``--executor papermill`` (or ``ours``) runs both the same way, so only the glue library differs:
its import in the kernel and its glue calls. Alternating, one uncounted warm-up run each. Each
executed notebook is read back and must hold the 6 scraps with the glued values.

    python bench/bench_glue.py [--rounds N] [--executor own|papermill|ours]

The issue's bar: ours / scrapbook <= 0.6.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _fixtures import BenchError, Notes, Row, alternate, report, timed

TARGET = 0.6
FRAME = (
    "import pandas as pd\n\n"
    "frame = pd.DataFrame(\n"
    "    {'region': ['north', 'south', 'east'], 'units': [3, 5, 8], 'revenue': [4.5, 7.5, 12.0]}\n"
    ")"
)
GLUES = (
    ("count", "42"),
    ("ratio", "0.618"),
    ("label", "'north'"),
    ("series", "[1, 2, 3, 5, 8]"),
    ("summary", "{'mean': 2.5, 'n': 4, 'tags': ['a', 'b']}"),
    ("frame", "frame"),
)


def write_notebook(path: Path, module: str) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )
    cells = [new_code_cell(f"import {module} as sb", id="import"), new_code_cell(FRAME, id="frame")]
    cells += [
        new_code_cell(f"sb.glue({name!r}, {value})", id=f"glue-{name}") for name, value in GLUES
    ]
    notebook.cells = cells
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return path


def expected_values() -> dict[str, Any]:
    import pandas as pd

    # The notebook's own cell sources (constants of this module), run here to get the values.
    namespace: dict[str, Any] = {"pd": pd}
    exec(FRAME, namespace)
    return {name: eval(value, namespace) for name, value in GLUES}


def check_scraps(path: Path, library: str) -> None:
    """The executed notebook holds the 6 glued values, read back with our reader."""
    import pytest_nbscrap
    from pytest_nbscrap._scraps import values_equal

    scraps = pytest_nbscrap.read_notebook(path).scraps
    expected = expected_values()
    if list(scraps) != list(expected):
        raise BenchError(f"{library}'s notebook holds scraps {list(scraps)}, not {list(expected)}")
    for name, value in expected.items():
        if not values_equal(scraps[name].data, value):
            raise BenchError(f"{library}'s scrap {name!r} reads back as {scraps[name].data!r}")


def executor(name: str) -> Callable[[Path, Path, Path], object]:
    """``execute(source, output, cwd)`` with papermill's or our ``execute_notebook``."""
    if name == "papermill":
        import papermill

        def with_papermill(source: Path, output: Path, cwd: Path) -> object:
            return papermill.execute_notebook(
                str(source), str(output), progress_bar=False, cwd=str(cwd)
            )

        return with_papermill
    from pytest_nbscrap import execute_notebook

    def with_ours(source: Path, output: Path, cwd: Path) -> object:
        return execute_notebook(source, output_path=output, cwd=cwd)

    return with_ours


def run(rounds: int = 5, *, runner: str = "own") -> tuple[list[Row], Notes]:
    """``runner``: ``own`` runs each notebook with its tool's own stack (ours with our
    ``execute_notebook``, scrapbook's with papermill, its usual runner); ``papermill`` or
    ``ours`` runs both the same way, so only the glue library differs."""
    runners = {
        "ours": executor("ours" if runner == "own" else runner),
        "scrapbook": executor("papermill" if runner == "own" else runner),
    }
    notes = Notes()
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-glue-") as tmp:
        folder = Path(tmp)
        sources = {
            "ours": write_notebook(folder / "glue_ours.ipynb", "pytest_nbscrap"),
            "scrapbook": write_notebook(folder / "glue_scrapbook.ipynb", "scrapbook"),
        }

        def contender(name: str) -> Any:
            source = sources[name]
            output = folder / f"executed_{name}.ipynb"

            def execute() -> float:
                output.unlink(missing_ok=True)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    elapsed = timed(lambda: runners[name](source, output, folder))
                for warning in caught:
                    notes.add(f"{name}: {warning.category.__name__}: {warning.message}")
                check_scraps(output, name)
                return elapsed

            return execute

        shown = {
            "own": "each tool's own stack: ours with pytest_nbscrap.execute_notebook, "
            "scrapbook's with papermill.execute_notebook",
            "papermill": "both with papermill.execute_notebook(notebook, output)",
            "ours": "both with pytest_nbscrap.execute_notebook(notebook, output_path=output)",
        }[runner]
        print(f"  d run with {shown}", flush=True)
        contenders = {"ours": contender("ours"), "scrapbook": contender("scrapbook")}
        session = None
        if runner == "own":
            # What a script running many notebooks uses: the next kernel starts during this run.
            from pytest_nbscrap import ExecutionSession

            session = ExecutionSession()
            runners["session"] = lambda source, output, cwd: session.execute(
                source, output_path=output, cwd=cwd
            )
            sources["session"] = sources["ours"]
            contenders["session"] = contender("session")
        try:
            times = alternate(contenders, rounds, warmup=True, label="d")
        finally:
            if session is not None:
                session.close()
    row = Row(
        "d",
        "notebook gluing 6 values vs scrapbook",
        "a notebook gluing 6 values (int, float, str, list, dict, DataFrame), run "
        + {
            "own": "by each tool's own stack (ours: execute_notebook; scrapbook: papermill)",
            "papermill": "by papermill for both",
            "ours": "by our execute_notebook for both",
        }[runner],
        times["ours"],
        times["scrapbook"],
        TARGET,
        theirs_name="scrapbook",
    )
    rows = [row]
    if "session" in times:
        rows.append(
            Row(
                "d",
                "notebook gluing 6 values, ExecutionSession vs scrapbook",
                "the same notebook run repeatedly through one pytest_nbscrap.ExecutionSession "
                "(its next kernel starts during the current run) vs scrapbook on papermill",
                times["session"],
                times["scrapbook"],
                TARGET,
                theirs_name="scrapbook",
            )
        )
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each (default 5)")
    parser.add_argument(
        "--executor",
        choices=("own", "papermill", "ours"),
        default="own",
        help="own: each tool's own runner (default); papermill/ours: the same for both",
    )
    args = parser.parse_args(argv)
    rows, notes = run(args.rounds, runner=args.executor)
    return report(rows, notes)


if __name__ == "__main__":
    raise SystemExit(main())
