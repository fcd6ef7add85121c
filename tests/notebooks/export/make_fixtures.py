"""Writes the exporter's fixture notebooks: sources in ``source/``, papermill runs in ``executed/``.

The executed notebooks are committed so that the golden tests need no kernel and do not change
with the machine; run this again (``python tests/notebooks/export/make_fixtures.py``) only to
refresh them, then review the golden diffs. ``markdown`` and ``hostile`` are written by hand
into ``executed/`` (there is nothing to run, or the outputs cannot come from a real kernel).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SOURCE = HERE / "source"
EXECUTED = HERE / "executed"

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def code(source: str, *tags: str) -> dict[str, Any]:
    metadata = {"tags": list(tags)} if tags else {}
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": metadata,
        "outputs": [],
        "source": source,
    }


def markdown(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def raw(source: str) -> dict[str, Any]:
    return {"cell_type": "raw", "metadata": {}, "source": source}


def notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    numbered = [{"id": f"cell-{index}", **cell} for index, cell in enumerate(cells, 1)]
    return {
        "cells": numbered,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def long_failure() -> dict[str, Any]:
    """35 cells; cell 5 fails inside a function defined in it; the cells before print."""
    cells = [
        markdown("# A long notebook\nIt fails early, in cell 5."),
        code("divisor = 1", "parameters"),
        code('total = 42\nprint("total is", total)'),
        code('values = list(range(5))\nprint("values:", values)'),
        code("def ratio(a, b):\n    return a / b\n\nresult = ratio(total, divisor - 1)"),
    ]
    for number in range(6, 36):
        if number % 5 == 0:
            cells.append(markdown(f"## Step {number}"))
        else:
            cells.append(code(f"step_{number} = {number} * result\nprint(step_{number})"))
    return notebook(*cells)


SOURCES: dict[str, dict[str, Any]] = {
    "clean": notebook(
        markdown("# Prices\nA small notebook that runs cleanly."),
        code('symbol = "ABC"\ndays = 3', "parameters"),
        code("prices = [10.0 + day for day in range(days)]\nprint(symbol, prices)"),
        code("sum(prices) / len(prices)"),
        code('import sys\n\nprint("note: using cached prices", file=sys.stderr)'),
        raw("A raw cell, shown as it is."),
    ),
    "failing": notebook(
        markdown("# Failing\nThe third code cell divides by zero."),
        code("numerator = 1", "parameters"),
        code('print("numerator is", numerator)'),
        code("numerator / 0"),
        code('print("never runs")'),
    ),
    "glued": notebook(
        code("import pytest_nbscrap as sb"),
        code('sb.glue("answer", 42)\nsb.glue("greeting", "hello")'),
        code('sb.glue("shown", [1, 2, 3], display=True)'),
    ),
    "long_failure": long_failure(),
    "truncated": notebook(
        code('for i in range(60):\n    print("line", i)'),
        code(
            "import sys\n\nfor percent in (0, 50, 100):\n"
            '    sys.stdout.write(f"\\rprogress {percent}%")\nprint()'
        ),
        code("list(range(120))"),
        code("def down(n):\n    return down(n - 1) if n else 1 / 0\n\ndown(12)"),
    ),
    "rich": notebook(
        code(
            "import pandas as pd\n"
            "from IPython.display import HTML, display\n\n"
            "import pytest_nbscrap as sb"
        ),
        code('display(HTML("<b>bold</b>"))'),
        code('display({"image/png": "iVBORw0KGgo="}, raw=True)'),
        code('frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})\nframe'),
        code('sb.glue("answer", 42)\nsb.glue("frame", frame, display=True)'),
        code('{"k": [1, 2, 3]}'),
    ),
    "markers": notebook(
        code('print("first")'),
        code("raise ValueError('bad value')"),
        code('print("not run")'),
    ),
}


PARAMETERS: dict[str, dict[str, Any]] = {"clean": {"days": 3}, "long_failure": {"divisor": 1}}


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"name": name, "output_type": "stream", "text": text}


HAND_MADE: dict[str, dict[str, Any]] = {
    "markdown": notebook(
        markdown(
            "# Markdown cells\n\nA paragraph long enough to be wrapped at the rendering width, "
            "because notebook authors write whole paragraphs on one line and a terminal should "
            "still show them readably without horizontal scrolling.\n\n"
            "- a list item\n- another item with `code`\n\n"
            "```python\n"
            "a_fenced_code_line = 'is never wrapped even when it is much longer than "
            "the width of the terminal'\n"
            "```\n\n"
            "| a table | row |\n|---|---|\n| kept | as is |"
        ),
        markdown("A short cell with a [link](https://example.com)."),
        markdown(""),
    ),
    "hostile": notebook(
        {
            **code('print("hello")'),
            "execution_count": 1,
            "outputs": [
                stream(
                    "title\x1b]0;pwned\x07 clear\x1b[2J\x1b[H up\x1b[1A bell\x07 "
                    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ "
                    "\x1b[31mred\x1b[0m c1\x9b2J end\n"
                ),
            ],
        },
        markdown("A markdown cell with a hidden \x1b[2J clear and a \x1b]0;title\x07."),
    ),
}


def main() -> None:
    import papermill

    SOURCE.mkdir(exist_ok=True)
    EXECUTED.mkdir(exist_ok=True)
    os.chdir(HERE)  # papermill records the paths it was given; keep them short and relative
    for name, node in SOURCES.items():
        source = Path("source", f"{name}.ipynb")
        source.write_text(json.dumps(node, indent=1) + "\n", encoding="utf-8")
        parameters = PARAMETERS.get(name, {})
        # Failing is what some of these notebooks are for.
        with contextlib.suppress(papermill.PapermillExecutionError):
            papermill.execute_notebook(
                str(source),
                str(Path("executed", source.name)),
                parameters=parameters,
                progress_bar=False,
            )
    for name, node in HAND_MADE.items():
        target = Path("executed", f"{name}.ipynb")
        target.write_text(json.dumps(node, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
