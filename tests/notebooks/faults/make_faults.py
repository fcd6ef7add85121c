"""Writes the fault notebooks beside this file: ``python tests/notebooks/faults/make_faults.py``.

Good notebooks, and one notebook per way a run can go wrong (see tests/test_faults.py).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write(name: str, *sources: str, kernel: str = "python3", markdown: bool = False) -> str:
    cells = []
    for index, source in enumerate(sources):
        cell: dict[str, object] = {
            "cell_type": "markdown" if markdown else "code",
            "id": f"{name}-{index}",
            "metadata": {},
            "source": source.splitlines(keepends=True),
        }
        if not markdown:
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    node = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": kernel},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(node, indent=1, ensure_ascii=False) + "\n"
    (HERE / f"{name}.ipynb").write_text(text, encoding="utf-8")
    return text


def main() -> None:
    glue = "import pytest_nbscrap as sb\n"
    write("good", glue + "sb.glue('answer', 42)")
    write("good_too", "x = sum(range(10))\nassert x == 45")
    write("no_code", "# Only words\n\nNothing to run here.", "More words.", markdown=True)
    write(
        "prints_20mb",
        glue + "sb.glue('before', 1)",
        "print(('x' * 99 + '\\n') * 200_000, end='')",
        "sb.glue('after', 2)",
    )
    # The kernel's pid is glued first, so a test can find the process running this notebook.
    write(
        "hangs",
        "import os\n" + glue + "sb.glue('pid', os.getpid())",
        "import time\nwhile True:\n    time.sleep(0.1)",
        "sb.glue('finished', True)",
    )
    write("exits", glue + "sb.glue('alive', True)", "import os\nos._exit(1)", "sb.glue('no', 1)")
    write(
        "segfault",
        glue + "sb.glue('alive', True)",
        "import ctypes\nctypes.string_at(0)",
        "sb.glue('no', 1)",
    )
    write(
        "floods",
        glue + "sb.glue('before', 1)",
        "print('y' * 20_000_000)",
        "raise ValueError('z' * 1_000_000)",
    )
    write("missing_kernel", "x = 1", kernel="no-such-kernel-nbscrap")
    text = write("truncated", "x = 1", "y = 2")
    (HERE / "truncated.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    not_a_notebook = {"name": "a JSON file", "items": [1, 2, 3]}
    (HERE / "not_a_notebook.ipynb").write_text(json.dumps(not_a_notebook, indent=1) + "\n")
    version_3 = {
        "metadata": {"name": "old"},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "collapsed": False,
                        "input": ["x = 1"],
                        "language": "python",
                        "metadata": {},
                        "outputs": [],
                        "prompt_number": 1,
                    }
                ],
                "metadata": {},
            }
        ],
    }
    (HERE / "nbformat3.ipynb").write_text(json.dumps(version_3, indent=1) + "\n")


if __name__ == "__main__":
    main()
