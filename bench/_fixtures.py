"""Shared bench helpers: executed-style notebooks written in the real scrap wire format.

Executing hundreds of kernels would measure papermill, not reading; these notebooks are built
with the same output writer ``glue`` uses (``pytest_nbscrap.scraps.data_output``) and look like
papermill's output: kernelspec and papermill metadata, an injected-parameters cell, one glue per
code cell with execution counts, timings and cell ids.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from pytest_nbscrap.encoders import JsonEncoder, PandasEncoder, TextEncoder
from pytest_nbscrap.scraps import data_output

SCRAPS_PER_NOTEBOOK = 16


def small_frame(seed: int) -> Any:
    """A 12-row frame of the column kinds a summary notebook usually carries."""
    import pandas as pd

    rng = random.Random(seed)
    rows = 12
    return pd.DataFrame(
        {
            "step": list(range(rows)),
            "value": [rng.uniform(-1, 1) for _ in range(rows)],
            "label": [rng.choice(["up", "down", "flat"]) for _ in range(rows)],
            "ok": [rng.random() > 0.5 for _ in range(rows)],
        }
    )


def scrap_values(seed: int) -> list[tuple[str, Any, str]]:
    """``SCRAPS_PER_NOTEBOOK`` (name, value, encoder): one DataFrame, the rest json and text."""
    rng = random.Random(seed)
    values: list[tuple[str, Any, str]] = [("frame", small_frame(seed), "pandas")]
    for index in range(SCRAPS_PER_NOTEBOOK - 1):
        kind = index % 5
        if kind == 0:
            values.append((f"count_{index}", rng.randint(0, 10_000), "json"))
        elif kind == 1:
            values.append((f"score_{index}", rng.random(), "json"))
        elif kind == 2:
            values.append((f"series_{index}", [rng.random() for _ in range(20)], "json"))
        elif kind == 3:
            summary = {"mean": rng.random(), "n": rng.randint(1, 99), "tags": ["a", "b"]}
            values.append((f"summary_{index}", summary, "json"))
        else:
            values.append((f"note_{index}", f"run {seed} finished step {index}", "text"))
    return values


_ENCODERS = {"json": JsonEncoder(), "text": TextEncoder(), "pandas": PandasEncoder()}


def _cell(
    rng: random.Random, source: str, count: int, outputs: list[dict[str, Any]], tags: list[str]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "papermill": {
            "duration": 0.01,
            "end_time": "2024-05-01T12:00:01.000000",
            "exception": False,
            "start_time": "2024-05-01T12:00:00.990000",
            "status": "completed",
        },
        "tags": tags,
    }
    return {
        "cell_type": "code",
        "execution_count": count,
        "id": uuid.UUID(int=rng.getrandbits(128)).hex[:8],
        "metadata": metadata,
        "outputs": outputs,
        "source": source,
    }


def executed_notebook(seed: int) -> dict[str, Any]:
    """One notebook as papermill would leave it after 16 glue calls."""
    rng = random.Random(seed)
    parameters = {"symbol": f"T{seed:03d}", "window": 20}
    cells = [
        _cell(rng, "import pytest_nbscrap as sb\nimport pandas as pd", 1, [], []),
        _cell(rng, "symbol = 'XYZ'\nwindow = 10", 2, [], ["parameters"]),
        _cell(
            rng,
            "\n".join(f"{key} = {value!r}" for key, value in parameters.items()),
            3,
            [],
            ["injected-parameters"],
        ),
    ]
    for count, (name, value, encoder) in enumerate(scrap_values(seed), start=4):
        data, metadata = data_output(name, _ENCODERS[encoder].encode(value), encoder)
        output = {"output_type": "display_data", "data": data, "metadata": metadata}
        cells.append(_cell(rng, f"sb.glue({name!r}, {name})", count, [output], []))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.0"},
            "papermill": {
                "default_parameters": {},
                "duration": 1.5,
                "environment_variables": {},
                "exception": None,
                "input_path": "source.ipynb",
                "output_path": f"T{seed:03d}.ipynb",
                "parameters": parameters,
                "start_time": "2024-05-01T12:00:00.000000",
                "version": "2.6.0",
            },
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebooks(folder: Path, count: int) -> list[Path]:
    """Writes ``count`` executed-style notebooks into ``folder`` (nbformat's own layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        path = folder / f"run_{seed:03d}.ipynb"
        path.write_text(json.dumps(executed_notebook(seed), indent=1, sort_keys=True) + "\n")
        paths.append(path)
    return paths
