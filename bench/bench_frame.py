"""A 1M-row DataFrame scrap: glue time, read time and bytes, pytest-nbscrap against scrapbook 0.5.

The frame has 1,000,000 rows of int64, float64, a string column with 5 distinct values and a
datetime. Everything runs in this one process, alternating, one uncounted warm-up round each:

- glue: each library's ``glue("frame", frame)`` in an in-process IPython shell whose display
  outputs are captured (``IPython.utils.capture.capture_output``): everything ``glue`` does in a
  kernel except sending the message, which costs both the same for the same bytes.
- encode: only the encoding and the output it becomes, as the two ``glue`` functions build it:
  ours ``data_output(name, PandasEncoder().encode(frame), "pandas")``, scrapbook's
  ``_prepare_ipy_data_format(name, scrap_to_payload(registry.encode(Scrap(...))), "pandas")``.
- read: ``read_notebook(path).scraps["frame"].data`` on a notebook holding the captured output
  (written with nbformat, as papermill writes), each library reading the file its own glue made.
  Ours must give back a frame equal to the original.
- bytes: the stored payload (base64 Parquet) and the notebook file, in MB (1e6 bytes).

    python bench/bench_frame.py [--rounds N] [--rows N]

The issue's bars: times <= 1.1x scrapbook's, bytes <= 1.0x.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _fixtures import BenchError, Notes, Row, alternate, report, timed

ROWS = 1_000_000
TIME_TARGET = 1.1
BYTES_TARGET = 1.0
NAME = "frame"


def big_frame(rows: int = ROWS) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "value": rng.standard_normal(rows),
            "region": rng.choice(["north", "south", "east", "west", "centre"], rows),
            "when": pd.date_range("2024-01-01", periods=rows, freq="min"),
        }
    )


def captured_glue(glue: Callable[[str, Any], None], frame: Any) -> list[tuple[dict, dict]]:
    """The (data, metadata) outputs ``glue`` displays, captured in an in-process shell."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output() as captured:
        glue(NAME, frame)
    return [(output.data, output.metadata) for output in captured.outputs]


def glue_ours(frame: Any) -> list[tuple[dict, dict]]:
    import pytest_nbscrap

    return captured_glue(pytest_nbscrap._glue, frame)


def glue_scrapbook(frame: Any) -> list[tuple[dict, dict]]:
    import scrapbook

    with warnings.catch_warnings():
        # scrapbook warns "No kernel detected" outside ipykernel; the glue itself is unchanged.
        warnings.filterwarnings("ignore", message="No kernel detected")
        return captured_glue(scrapbook.glue, frame)


def encode_ours(frame: Any) -> tuple[dict, dict]:
    from pytest_nbscrap._scraps import data_output
    from pytest_nbscrap.encoders import PandasEncoder

    return data_output(NAME, PandasEncoder().encode(frame), "pandas")


def encode_scrapbook(frame: Any) -> tuple[dict, dict]:
    from scrapbook.api import _prepare_ipy_data_format, encoder_registry
    from scrapbook.scraps import Scrap, scrap_to_payload

    encoded = encoder_registry.encode(Scrap(NAME, frame, "pandas"))
    return _prepare_ipy_data_format(NAME, scrap_to_payload(encoded), "pandas")


def payload_of(outputs: list[tuple[dict, dict]]) -> str:
    if len(outputs) != 1:
        raise BenchError(f"glue made {len(outputs)} outputs, expected 1")
    data, _ = outputs[0]
    (value,) = data.values()
    return str(value["data"])


def write_notebook(path: Path, outputs: list[tuple[dict, dict]]) -> Path:
    """A notebook whose one cell holds ``outputs``, written with nbformat (as papermill does)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    notebook = new_notebook(
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )
    glue_cell = new_code_cell(f"sb.glue({NAME!r}, frame)", id="glue", execution_count=1)
    glue_cell.outputs = [
        new_output("display_data", data=data, metadata=metadata) for data, metadata in outputs
    ]
    # One cell, the same source for both: the files differ only in what each glue wrote.
    notebook.cells = [glue_cell]
    nbformat.write(notebook, path)
    return path


def read_ours(path: Path) -> Any:
    import pytest_nbscrap

    return pytest_nbscrap.read_notebook(path).scraps[NAME].data


def read_scrapbook(path: Path) -> Any:
    import scrapbook

    return scrapbook.read_notebook(str(path)).scraps[NAME].data


def run(rounds: int = 5, *, rows: int = ROWS) -> tuple[list[Row], Notes]:
    notes = Notes()
    frame = big_frame(rows)
    dtypes = ", ".join(f"{name} {dtype}" for name, dtype in frame.dtypes.items())
    print(f"  f frame: {rows:,} rows; {dtypes}", flush=True)

    made: dict[str, list[tuple[dict, dict]]] = {}

    def glue_timer(name: str, glue: Callable[[Any], list[tuple[dict, dict]]]) -> Any:
        def measure() -> float:
            start = time.perf_counter()
            outputs = glue(frame)
            elapsed = time.perf_counter() - start
            made[name] = outputs
            return elapsed

        return measure

    def encode_timer(encode: Callable[[Any], tuple[dict, dict]]) -> Callable[[], float]:
        return lambda: timed(lambda: encode(frame))

    glue_times = alternate(
        {
            "ours": glue_timer("ours", glue_ours),
            "scrapbook": glue_timer("scrapbook", glue_scrapbook),
        },
        rounds,
        warmup=True,
        label="f glue",
    )
    encode_times = alternate(
        {"ours": encode_timer(encode_ours), "scrapbook": encode_timer(encode_scrapbook)},
        rounds,
        warmup=True,
        label="f encode",
    )

    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-frame-") as tmp:
        paths = {
            "ours": write_notebook(Path(tmp) / "ours.ipynb", made["ours"]),
            "scrapbook": write_notebook(Path(tmp) / "scrapbook.ipynb", made["scrapbook"]),
        }
        from pytest_nbscrap._scraps import values_equal

        if not values_equal(read_ours(paths["ours"]), frame):
            raise BenchError("our reader gives back a different frame than was glued")
        theirs = read_scrapbook(paths["scrapbook"])
        if not values_equal(theirs, frame):
            differs = [
                f"{column} {frame[column].dtype}->{theirs[column].dtype}"
                for column in frame.columns
                if column not in theirs or str(theirs[column].dtype) != str(frame[column].dtype)
            ]
            notes.add(
                "scrapbook reads the frame back different from the original "
                f"({', '.join(differs) or 'values differ'})"
            )

        def read_timer(read: Callable[[Path], Any], path: Path) -> Callable[[], float]:
            return lambda: timed(lambda: read(path))

        read_times = alternate(
            {
                "ours": read_timer(read_ours, paths["ours"]),
                "scrapbook": read_timer(read_scrapbook, paths["scrapbook"]),
            },
            rounds,
            warmup=True,
            label="f read",
        )
        file_bytes = {name: path.stat().st_size for name, path in paths.items()}
    payload_bytes = {name: len(payload_of(outputs)) for name, outputs in made.items()}
    for what, sizes in (("payload", payload_bytes), ("notebook file", file_bytes)):
        if sizes["ours"] != sizes["scrapbook"]:
            notes.add(
                f"{what}: ours {sizes['ours']:,} bytes, scrapbook {sizes['scrapbook']:,} bytes"
            )

    size = f"a {rows:,}-row DataFrame scrap"
    short = f"{rows / 1e6:g}M-row frame" if rows >= 1e6 else f"{rows:,}-row frame"

    def row(
        label: str, what: str, times: dict[str, list[float]], target: float, unit: str = "s"
    ) -> Row:
        return Row(
            "f",
            label,
            f"{size}: {what} (vs scrapbook 0.5)",
            times["ours"],
            times["scrapbook"],
            target,
            unit,
            theirs_name="scrapbook",
        )

    rows_out = [
        row(f"glue {short} (glue() in-process)", "`glue`", glue_times, TIME_TARGET),
        row(f"encode {short} (encoder + output)", "encoding", encode_times, TIME_TARGET),
        row(f"read {short} (read + decode)", "read and decode", read_times, TIME_TARGET),
        row(
            "bytes: payload",
            "stored payload size",
            {name: [value / 1e6] for name, value in payload_bytes.items()},
            BYTES_TARGET,
            "MB",
        ),
        row(
            "bytes: notebook file",
            "notebook file size",
            {name: [value / 1e6] for name, value in file_bytes.items()},
            BYTES_TARGET,
            "MB",
        ),
    ]
    return rows_out, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each (default 5)")
    parser.add_argument("--rows", type=int, default=ROWS, help=f"frame rows (default {ROWS:,})")
    args = parser.parse_args(argv)
    rows, notes = run(args.rounds, rows=args.rows)
    return report(rows, notes)


if __name__ == "__main__":
    raise SystemExit(main())
